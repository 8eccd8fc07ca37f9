"""A fake Jira Cloud, served for real on 127.0.0.1 so the real HTTP client talks to it.

It speaks the REST API v3 calls the portal uses: POST /rest/api/3/issue, POST
/rest/api/3/issue/{key}/comment, GET and POST /rest/api/3/issue/{key}/transitions, GET
/rest/api/3/issue/{key}?fields=status (or attachment), POST
/rest/api/3/issue/{key}/attachments (multipart, field "file", with the header
`X-Atlassian-Token: no-check`), POST /rest/api/3/issueLink and POST /rest/api/3/search/jql
(the JQL `labels = "..."`), with basic auth (email and API token), JSON bodies and Jira's
error answers (`{"errorMessages": [...], "errors": {...}}`). Issues live in memory, their
links in `links`, the files attached to each in `attachments(key)`; `requests` keeps every
request's method, path, JSON body and the names of the files it sent. `misbehave()` makes
the next request (or the next one to a path ending so) answer badly, or do its work and
lose the answer.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.local_server import LocalServer

API = "/rest/api/3"
TROUBLES = ("http500", "not_json", "slow", "status", "lost", "lost_504")
# The search the portal makes (`find_by_label`), the only JQL the fake reads.
LABEL_JQL = re.compile(r'labels = "((?:[^"\\]|\\.)*)"(?: ORDER BY created ASC)?')
# Jira's default workflow: each status, its category, and where it can go.
WORKFLOW = {
    "To Do": ("new", ("In Progress", "Done")),
    "In Progress": ("indeterminate", ("To Do", "Done")),
    "Done": ("done", ("To Do",)),
}
TRANSITION_IDS = {"To Do": "11", "In Progress": "21", "Done": "31"}
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")


@dataclass
class FakeAttachment:
    id: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class FakeIssue:
    key: str
    id: str
    fields: dict[str, Any]
    status: str = "To Do"
    comments: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)


@dataclass
class FakeRequest:
    method: str
    path: str
    body: Any
    query: dict[str, str]
    files: tuple[str, ...] = ()


@dataclass
class _Trouble:
    kind: str
    path_end: str | None
    method: str | None
    seconds: float
    status: int
    body: Any


class FakeJira(LocalServer):
    """The fake server: `start()` serves it; `issues` what it holds, by key; `projects`
    the project keys it knows."""

    thread_name = "fake-jira"

    def __init__(
        self,
        *,
        email: str = "portal@example.com",
        api_token: str = "fake-api-token",
        projects: tuple[str, ...] = ("SUP", "SAL", "CUST"),
    ) -> None:
        super().__init__()
        self.email = email
        self.api_token = api_token
        self.projects = set(projects)
        self.issues: dict[str, FakeIssue] = {}
        self.requests: list[FakeRequest] = []
        # (link type, inward key, outward key), each once, as Jira keeps them.
        self.links: list[tuple[str, str, str]] = []
        self._numbers: dict[str, int] = {}
        self._troubles: list[_Trouble] = []
        self._lock = threading.Lock()

    def misbehave(
        self,
        kind: str,
        *,
        path_end: str | None = None,
        method: str | None = None,
        seconds: float = 2.0,
        status: int = 500,
        body: Any = None,
    ) -> None:
        """Make the next request (with `method`, to a path ending in `path_end`, if given)
        answer badly, once: "http500" an HTML 500 page; "not_json" an HTML page with status
        200; "slow" the normal answer after `seconds`; "status" the JSON `body` with
        `status`. The answer lost: "lost" does the work, then drops the connection without
        a word; "lost_504" does it, then answers a proxy's 504 page."""
        if kind not in TROUBLES:
            raise ValueError(f"unknown trouble {kind!r}; one of {TROUBLES}")
        with self._lock:
            self._troubles.append(_Trouble(kind, path_end, method, seconds, status, body))

    def set_status(self, key: str, status: str) -> None:
        """Someone moved the issue in Jira."""
        with self._lock:
            self.issues[key].status = status

    def attachments(self, key: str) -> list[FakeAttachment]:
        """The files attached to issue `key`, in the order they came."""
        with self._lock:
            return list(self.issues[key].attachments)

    def last(self, method: str, path_end: str) -> FakeRequest:
        with self._lock:
            return next(
                r
                for r in reversed(self.requests)
                if r.method == method and r.path.endswith(path_end)
            )

    # --- the API -------------------------------------------------------------------------

    def wsgi(self, environ, start_response):
        request = Request(environ)
        body = request.get_json(silent=True) if request.data else None
        with self._lock:
            self.requests.append(
                FakeRequest(
                    request.method,
                    request.path,
                    body,
                    request.args.to_dict(),
                    tuple(f.filename or "" for f in request.files.values()),
                )
            )
            trouble = self._take_trouble(request.method, request.path)
        response = self._respond(request, body, trouble)
        if trouble is not None and trouble.kind == "lost":
            # The work is done; the answer never leaves: the client sees the connection end.
            start_response("200 OK", [])
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            return [b""]
        if trouble is not None and trouble.kind == "lost_504":
            response = Response(
                "<html><body><h1>504 Gateway Time-out</h1></body></html>",
                status=504,
                mimetype="text/html",
            )
        return response(environ, start_response)

    def _respond(self, request: Request, body: Any, trouble: _Trouble | None) -> Response:
        path = request.path
        if trouble is not None and trouble.kind == "slow":
            self._stopping.wait(trouble.seconds)
        elif trouble is not None and trouble.kind not in ("lost", "lost_504"):
            return _trouble_response(trouble)
        if not self._authorized(request.headers.get("Authorization", "")):
            return Response("Client must be authenticated to access this resource.", status=401)
        if request.data and body is None:
            return _error(400, ["Unexpected character in the request body."])
        if path.endswith("/attachments") and request.headers.get("X-Atlassian-Token") != "no-check":
            return Response("XSRF check failed", status=403, mimetype="text/plain")
        with self._lock:
            return self._route(
                request.method, path, body or {}, request.args.to_dict(), request.files
            )

    def _authorized(self, header: str) -> bool:
        expected = base64.b64encode(f"{self.email}:{self.api_token}".encode()).decode()
        return header == f"Basic {expected}"

    def _take_trouble(self, method: str, path: str) -> _Trouble | None:
        for i, trouble in enumerate(self._troubles):
            if trouble.path_end is not None and not path.endswith(trouble.path_end):
                continue
            if trouble.method is None or trouble.method == method:
                return self._troubles.pop(i)
        return None

    def _route(
        self, method: str, path: str, body: dict, query: dict[str, str], files: Any = None
    ) -> Response:
        if method == "POST" and path == f"{API}/issue":
            return self._create(body)
        if method == "POST" and path == f"{API}/issueLink":
            return self._link(body)
        if method == "POST" and path == f"{API}/search/jql":
            return self._search(body)
        match = re.fullmatch(rf"{API}/issue/([^/]+)(/comment|/transitions|/attachments)?", path)
        if match is None:
            return _error(404, ["Not found."])
        issue = self.issues.get(match.group(1))
        if issue is None:
            return _error(404, ["Issue does not exist or you do not have permission to see it."])
        tail = match.group(2)
        if tail is None and method == "GET":
            return _json(self._issue_json(issue, query.get("fields")))
        if tail == "/comment" and method == "POST":
            if not isinstance(body.get("body"), dict) or body["body"].get("type") != "doc":
                return _error(400, [], {"comment": "Comment body can not be empty!"})
            issue.comments.append(body["body"])
            return _json({"id": str(len(issue.comments)), "body": body["body"]}, status=201)
        if tail == "/transitions" and method == "GET":
            return _json({"transitions": self._transitions(issue)})
        if tail == "/transitions" and method == "POST":
            wanted = (body.get("transition") or {}).get("id")
            target = next((t for t in self._transitions(issue) if t["id"] == wanted), None)
            if target is None:
                return _error(400, [f"Transition id '{wanted}' is not valid for this issue."])
            issue.status = target["to"]["name"]
            return Response(status=204)
        if tail == "/attachments" and method == "POST":
            return self._attach(issue, files)
        return _error(405, ["Method not allowed."])

    def _attach(self, issue: FakeIssue, files: Any) -> Response:
        """Jira takes every file sent as "file", a name already there too (it keeps both)."""
        sent = files.getlist("file") if files is not None else []
        if not sent:
            return _error(400, ["No file was attached: send it as the multipart field 'file'."])
        added = []
        for upload in sent:
            attachment = FakeAttachment(
                id=str(20000 + sum(len(i.attachments) for i in self.issues.values())),
                filename=upload.filename or "",
                content_type=upload.mimetype or "application/octet-stream",
                data=upload.read(),
            )
            issue.attachments.append(attachment)
            added.append(_attachment_json(attachment))
        return _json(added)

    def _create(self, body: dict) -> Response:
        fields = body.get("fields")
        if not isinstance(fields, dict):
            return _error(400, ["No fields given."])
        errors = {}
        project = (fields.get("project") or {}).get("key")
        if project not in self.projects:
            errors["project"] = "valid project is required"
        if not str(fields.get("summary") or "").strip():
            errors["summary"] = "You must specify a summary of the issue."
        priority = (fields.get("priority") or {}).get("name")
        if priority is not None and priority not in PRIORITIES:
            errors["priority"] = "Specify a valid 'id' or 'name' for Priority"
        labels = fields.get("labels", [])
        if not isinstance(labels, list) or any(" " in str(label) for label in labels):
            errors["labels"] = "The label must not contain spaces."
        description = fields.get("description")
        if description is not None and (
            not isinstance(description, dict) or description.get("type") != "doc"
        ):
            errors["description"] = "Operation value must be an Atlassian Document."
        if errors:
            return _error(400, [], errors)
        number = self._numbers[project] = self._numbers.get(project, 0) + 1
        key = f"{project}-{number}"
        issue = self.issues[key] = FakeIssue(
            key=key, id=str(10000 + len(self.issues)), fields=fields
        )
        return _json({"id": issue.id, "key": key, "self": key}, status=201)

    def _search(self, body: dict) -> Response:
        """The enhanced search: ids only, unless fields are asked for (then the key too)."""
        match = LABEL_JQL.fullmatch(str(body.get("jql") or "").strip())
        if match is None:
            return _error(400, [f"The fake reads only a label search, not {body.get('jql')!r}."])
        label = re.sub(r"\\(.)", r"\1", match.group(1))
        found = [i for i in self.issues.values() if label in i.fields.get("labels", [])]
        found = found[: int(body.get("maxResults") or 50)]
        if not body.get("fields"):
            return _json({"issues": [{"id": i.id} for i in found], "isLast": True})
        issues = [{"id": i.id, "key": i.key, "fields": {}} for i in found]
        return _json({"issues": issues, "isLast": True})

    def _link(self, body: dict) -> Response:
        kind = (body.get("type") or {}).get("name")
        keys = [(body.get(end) or {}).get("key") for end in ("inwardIssue", "outwardIssue")]
        if kind != "Relates":
            return _error(404, [f"No issue link type with name '{kind}' found."])
        if any(key not in self.issues for key in keys):
            return _error(404, ["Issue does not exist or you do not have permission to see it."])
        link = (kind, keys[0], keys[1])
        if link not in self.links:
            self.links.append(link)
        return Response(status=201)

    def _issue_json(self, issue: FakeIssue, fields: str | None) -> dict[str, Any]:
        category, _ = WORKFLOW[issue.status]
        status = {"name": issue.status, "statusCategory": {"key": category}}
        attached = [_attachment_json(a) for a in issue.attachments]
        return {"key": issue.key, "fields": {"status": status, "attachment": attached}}

    def _transitions(self, issue: FakeIssue) -> list[dict[str, Any]]:
        _, onward = WORKFLOW[issue.status]
        return [{"id": TRANSITION_IDS[name], "name": name, "to": {"name": name}} for name in onward]


def _attachment_json(attachment: FakeAttachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "mimeType": attachment.content_type,
        "size": len(attachment.data),
    }


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _error(status: int, messages: list[str], errors: dict[str, str] | None = None) -> Response:
    return _json({"errorMessages": messages, "errors": errors or {}}, status=status)


def _trouble_response(trouble: _Trouble) -> Response:
    if trouble.kind == "http500":
        return Response(
            "<html><body><h1>500 Internal Server Error</h1></body></html>",
            status=500,
            mimetype="text/html",
        )
    if trouble.kind == "not_json":
        return Response(
            "<html><body>Jira is down for maintenance</body></html>",
            status=200,
            mimetype="text/html",
        )
    return _json(trouble.body, status=trouble.status)
