"""Jira Cloud (TICKETS_ADAPTER=jira): tickets are Jira issues, created, commented, moved and
read through Jira's REST API v3 (developer.atlassian.com/cloud/jira/platform/rest/v3).

Basic auth with an Atlassian account's email and an API token; JSON in and out; text
fields (a description, a comment) in the Atlassian Document Format. An error answer is
`{"errorMessages": [...], "errors": {"field": "message"}}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from kamportal.config import ConfigError
from kamportal.tickets import (
    PURPOSE_LABEL,
    TicketDraft,
    TicketError,
    TicketRef,
    TicketStatus,
    check_attachment,
    check_draft,
    split_key,
)

API_PATH = "/rest/api/3"
REQUIRED_SETTINGS = ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN")
# The link between a customization ticket and its approval ticket (C6): Jira's default type.
LINK_TYPE = "Relates"
# A change Jira may have made before the answer was lost must not be made twice blindly.
_MAYBE_DONE = " It may have gone through: check in Jira before trying again."
# An issue with a purpose label is looked for before it is created (`open_once`).
_FOUND_AGAIN = " It may have been created: trying again finds it rather than open a second."


class JiraTickets:
    """A client of Jira Cloud's REST API; one short-lived HTTP connection per call, so one
    adapter serves every thread and every forked worker."""

    name = "jira"

    def __init__(
        self,
        url: str,
        *,
        email: str,
        api_token: str,
        issue_type: str = "Task",
        timeout: float = 15.0,
    ) -> None:
        self.base_url = url.strip().rstrip("/")
        self.issue_type = issue_type
        self.timeout = timeout
        self._auth = (email, api_token)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> JiraTickets:
        """The adapter for the app's settings; ConfigError names what is missing or wrong."""
        missing = [name for name in REQUIRED_SETTINGS if not config.get(name)]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            raise ConfigError(
                f"TICKETS_ADAPTER is 'jira' but {', '.join(missing)} {verb} not set. Set "
                "JIRA_URL to the Jira site (https://<site>.atlassian.net), JIRA_EMAIL and "
                "JIRA_API_TOKEN to an Atlassian account's email and API token, or set "
                "TICKETS_ADAPTER=portal."
            )
        url = str(config["JIRA_URL"])
        if not url.startswith(("https://", "http://")):
            raise ConfigError(f"JIRA_URL must start with https://, not {url!r}")
        timeout = float(config.get("JIRA_TIMEOUT") or 15)
        if timeout <= 0:
            raise ConfigError(f"JIRA_TIMEOUT must be a number of seconds above 0, not {timeout}")
        return cls(
            url,
            email=str(config["JIRA_EMAIL"]),
            api_token=str(config["JIRA_API_TOKEN"]),
            issue_type=str(config.get("JIRA_ISSUE_TYPE") or "Task"),
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"JiraTickets({self.base_url!r})"

    def browse_url(self, key: str) -> str:
        return f"{self.base_url}/browse/{quote(key)}"

    def create_issue(self, draft: TicketDraft) -> TicketRef:
        """Create the issue in `draft.project`, of JIRA_ISSUE_TYPE, with its labels and
        priority; returns its key and browse URL. Raises TicketError before any call for a
        draft no adapter accepts, and for anything Jira refuses or fails."""
        draft = check_draft(draft)
        fields: dict[str, Any] = {
            "project": {"key": draft.project},
            "issuetype": {"name": self.issue_type},
            "summary": draft.summary,
            "labels": list(draft.labels),
        }
        if draft.description:
            fields["description"] = adf(draft.description)
        if draft.priority:
            fields["priority"] = {"name": draft.priority}
        lost = (
            _FOUND_AGAIN if any(PURPOSE_LABEL.fullmatch(x) for x in draft.labels) else _MAYBE_DONE
        )
        answer = self._call(
            "POST", "/issue", what="create the issue", body={"fields": fields}, maybe_done=lost
        )
        key = answer.get("key") if isinstance(answer, dict) else None
        if not isinstance(key, str) or not key:
            raise TicketError("Jira said the issue was created but did not say its key." + lost)
        return TicketRef(key=key, url=self.browse_url(key))

    def find_by_label(self, label: str) -> TicketRef | None:
        """The first issue created with `label`, by a JQL search (the enhanced search, which
        returns ids only unless asked for fields). Its index may lag a creation by seconds;
        the portal's retries come later than that."""
        quoted = (label or "").replace("\\", "\\\\").replace('"', '\\"')
        answer = self._call(
            "POST",
            "/search/jql",
            what=f"search for the issue labelled {label}",
            body={
                "jql": f'labels = "{quoted}" ORDER BY created ASC',
                "fields": ["created"],
                "maxResults": 1,
            },
        )
        issues = answer.get("issues") if isinstance(answer, dict) else None
        if not isinstance(issues, list):
            raise TicketError(f"Jira did not list the issues labelled {label}.")
        if not issues:
            return None
        key = issues[0].get("key") if isinstance(issues[0], dict) else None
        if not isinstance(key, str) or not key:
            raise TicketError(f"Jira found an issue labelled {label} but did not say its key.")
        return TicketRef(key=key, url=self.browse_url(key))

    def comment(self, key: str, text: str) -> None:
        if not (text or "").strip():
            raise TicketError("A comment needs some text.")
        self._call(
            "POST",
            f"{_issue_path(key)}/comment",
            what=f"comment on {key}",
            body={"body": adf(text)},
            maybe_done=_MAYBE_DONE,
        )

    def transition(self, key: str, status: str) -> None:
        """Move issue `key` along the workflow transition named `status`, or leading to the
        status named `status` (any case); an issue in that status already stays. TicketError
        names the transitions there are."""
        path = f"{_issue_path(key)}/transitions"
        answer = self._call("GET", path, what=f"read the transitions of {key}")
        transitions = answer.get("transitions") if isinstance(answer, dict) else None
        if not isinstance(transitions, list):
            raise TicketError(f"Jira did not list the transitions of {key}.")
        wanted = (status or "").casefold()
        chosen, names = None, []
        for transition in transitions:
            if not isinstance(transition, dict):
                continue
            to = transition.get("to") if isinstance(transition.get("to"), dict) else {}
            target = str(to.get("name") or transition.get("name") or "")
            names.append(target)
            if wanted in (target.casefold(), str(transition.get("name") or "").casefold()):
                chosen = transition
                break
        if chosen is None:
            if self.status(key).name.casefold() == wanted:
                return  # moved by an earlier call whose answer was lost
            can = ", ".join(n for n in names if n) or "none"
            raise TicketError(f"Jira cannot move {key} to {status!r} now (it can go to: {can}).")
        self._call(
            "POST",
            path,
            what=f"move {key} to {status}",
            body={"transition": {"id": str(chosen.get("id"))}},
            maybe_done=_MAYBE_DONE,
        )

    def link(self, key: str, related_key: str) -> None:
        """Link the two issues with Jira's "Relates" link type (Jira keeps one link of a
        type between two issues, so linking again changes nothing)."""
        split_key(key)
        split_key(related_key)
        self._call(
            "POST",
            "/issueLink",
            what=f"link {key} to {related_key}",
            body={
                "type": {"name": LINK_TYPE},
                "inwardIssue": {"key": key.strip()},
                "outwardIssue": {"key": related_key.strip()},
            },
            maybe_done=_MAYBE_DONE,
        )

    def attach(self, key: str, filename: str, content_type: str, data: bytes) -> bool:
        """Upload the file to issue `key` (multipart, field "file"; Jira wants its XSRF
        check turned off for it), after reading the issue's attachments: a file of that
        name there already (uploaded by a call whose answer was lost) is not sent again."""
        name = check_attachment(filename, content_type, data)
        path = _issue_path(key)
        answer = self._call(
            "GET", path, what=f"read the attachments of {key}", params={"fields": "attachment"}
        )
        fields = answer.get("fields") if isinstance(answer, dict) else None
        attached = fields.get("attachment") if isinstance(fields, dict) else None
        if not isinstance(attached, list):
            raise TicketError(f"Jira did not list the attachments of {key}.")
        if any(isinstance(a, dict) and a.get("filename") == name for a in attached):
            return False
        self._call(
            "POST",
            f"{path}/attachments",
            what=f"attach {name} to {key}",
            files={"file": (name, data, content_type)},
            headers={"X-Atlassian-Token": "no-check"},
            maybe_done=" It may have been attached: trying again looks before sending it twice.",
        )
        return True

    def status(self, key: str) -> TicketStatus:
        answer = self._call(
            "GET", _issue_path(key), what=f"read the status of {key}", params={"fields": "status"}
        )
        fields = answer.get("fields") if isinstance(answer, dict) else None
        status = fields.get("status") if isinstance(fields, dict) else None
        name = status.get("name") if isinstance(status, dict) else None
        if not isinstance(name, str) or not name:
            raise TicketError(f"Jira did not say the status of {key}.")
        category = status.get("statusCategory") if isinstance(status, dict) else None
        done = isinstance(category, dict) and category.get("key") == "done"
        return TicketStatus(name=name, done=done)

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        headers: dict[str, str] | None = None,
        maybe_done: str = "",
    ) -> Any:
        """Jira's answer (parsed JSON; None for an empty one), or TicketError saying what
        went wrong. `what` completes "Jira could not ..."; `maybe_done`, for a call that
        changes Jira, says what to do about a change a lost answer may hide."""
        url = self.base_url + API_PATH + path
        try:
            with httpx.Client(timeout=self.timeout, auth=self._auth) as http:
                response = http.request(
                    method,
                    url,
                    json=body,
                    params=params,
                    files=files,
                    headers={"Accept": "application/json", **(headers or {})},
                )
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise TicketError(
                f"Could not reach Jira at {self.base_url} to {what} ({error}). Nothing was "
                "changed: try again later, or ask an administrator to check JIRA_URL."
            ) from error
        except httpx.TimeoutException as error:
            raise TicketError(
                f"Jira did not answer within {self.timeout:g} seconds when asked to {what}."
                + maybe_done
            ) from error
        except httpx.HTTPError as error:
            raise TicketError(
                f"The connection to Jira failed while asking it to {what} "
                f"({error.__class__.__name__}: {error})." + maybe_done
            ) from error

        if not response.is_success:
            raise TicketError(
                _refusal(response, what) + (maybe_done if response.status_code >= 500 else "")
            )
        if not response.content.strip():
            return None
        try:
            return json.loads(response.text)
        except ValueError:
            raise TicketError(
                f"Jira gave an answer the portal cannot read when asked to {what}: "
                f"{_excerpt(response.text)!r}." + maybe_done
            ) from None


def _refusal(response: httpx.Response, what: str) -> str:
    """What Jira's error answer says, in words an ACM can act on."""
    code = response.status_code
    if code == 401:
        return (
            f"Jira refused the portal's credentials when asked to {what} (HTTP 401): ask an "
            "administrator to check JIRA_EMAIL and JIRA_API_TOKEN."
        )
    reasons = _error_messages(response.text)
    said = f": {'; '.join(reasons)}" if reasons else ""
    if code == 403:
        return (
            f"Jira's account for the portal may not {what} (HTTP 403){said}. Ask a Jira "
            "administrator for the permission."
        )
    if code == 404:
        return f"Jira could not {what}: not found, or not visible to the portal's account{said}."
    phrase = httpx.codes.get_reason_phrase(code)
    return f"Jira could not {what} (HTTP {code} {phrase}){said}."


def _error_messages(text: str) -> list[str]:
    """The messages of Jira's error answer: `errorMessages`, then each field's error."""
    try:
        answer = json.loads(text)
    except ValueError:
        return []
    if not isinstance(answer, dict):
        return []
    messages = [str(m) for m in answer.get("errorMessages") or [] if str(m).strip()]
    errors = answer.get("errors")
    if isinstance(errors, dict):
        messages += [f"{field}: {message}" for field, message in errors.items()]
    return messages


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document: a paragraph per blank-line
    separated block, its lines kept with hard breaks."""
    content = []
    for block in text.strip().split("\n\n"):
        lines = [line for line in block.strip().splitlines()]
        if not any(line.strip() for line in lines):
            continue
        nodes: list[dict[str, Any]] = []
        for n, line in enumerate(lines):
            if n:
                nodes.append({"type": "hardBreak"})
            if line:
                nodes.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def _issue_path(key: str) -> str:
    split_key(key)  # refuses anything that is not a key before it goes into a URL
    return f"/issue/{quote(key.strip())}"


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"
