"""Tickets, behind an adapter (C2, C6, G4): the approval of a customization request, the
customization itself, and a client's technical problem escalated to the support team.

TICKETS_ADAPTER chooses the adapter: "portal" (the default) keeps tickets in the portal,
numbered per project ("SUP-1"); "jira" creates them in Jira Cloud. Adapters take plain
data (a `TicketDraft`, a key), never models, so that a service, a job or the CLI can call
them; a failure is a `TicketError` whose message an ACM can act on.

Every ticket the portal opens carries a label naming what it is for, one ticket per
label ("kam-customization-12-approval"): `open_once` asks for it before creating, so a
ticket created by a call whose answer was lost is found, not opened again, by the retry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from flask import Flask, current_app

from kamportal.config import (
    TICKET_PROJECT_SETTINGS,
    ConfigError,
    check_project_key,
    chosen_adapter,
)
from kamportal.errors import DomainError

# Jira's default priorities, highest first: the ones a ticket may carry.
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
SUMMARY_MAX = 255
FILENAME_MAX = 255
# A label names the one ticket the portal opens for a purpose; Jira takes up to 255
# characters without spaces, this keeps it plain enough to quote in JQL.
PURPOSE_LABEL = re.compile(r"kam-[A-Za-z0-9_-]{1,200}")
# A new ticket's status in Jira's default workflow (and the portal's): until the first sync
# says otherwise.
NEW_STATUS = "To Do"


@dataclass(frozen=True)
class TicketDraft:
    """A ticket the portal wants opened: its project, what it is about, its labels and
    priority (one of PRIORITIES, or None for the project's default)."""

    project: str
    summary: str
    description: str
    labels: tuple[str, ...] = ()
    priority: str | None = None


@dataclass(frozen=True)
class TicketRef:
    """Where an opened ticket lives: its key ("SUP-12") and the page to browse it (None
    for the portal's own tickets, which have no page of their own)."""

    key: str
    url: str | None


@dataclass(frozen=True)
class TicketStatus:
    """A ticket's status as the ticket system names it, and whether it is done (Jira's
    "done" status category: resolved, closed, won't do...)."""

    name: str
    done: bool


class TicketError(DomainError):
    """The ticket system refused, failed or could not be reached; the message says what
    happened in words an ACM can act on."""


class TicketAdapter(Protocol):
    name: str

    def create_issue(self, draft: TicketDraft) -> TicketRef:
        """Open the ticket; raises TicketError."""
        ...

    def find_by_label(self, label: str) -> TicketRef | None:
        """The ticket carrying `label` (the first opened, should there be several), or
        None; raises TicketError when the ticket system cannot say."""
        ...

    def comment(self, key: str, text: str) -> None:
        """Add a comment to ticket `key`; raises TicketError."""
        ...

    def transition(self, key: str, status: str) -> None:
        """Move ticket `key` to the status named `status`; raises TicketError."""
        ...

    def status(self, key: str) -> TicketStatus:
        """Ticket `key`'s status now; raises TicketError."""
        ...

    def link(self, key: str, related_key: str) -> None:
        """Link ticket `key` to ticket `related_key` (C6: the customization ticket to its
        approval ticket); linking them again changes nothing. Raises TicketError."""
        ...

    def attach(self, key: str, filename: str, content_type: str, data: bytes) -> bool:
        """Attach the file `data` to ticket `key` as `filename` (C6: the paid invoice),
        unless a file of that name is there already (attached by a call whose answer was
        lost): True when attached now, False when it was there. Raises TicketError."""
        ...


def ticket_adapter(app: Flask | None = None) -> TicketAdapter:
    """The app's adapter, chosen by TICKETS_ADAPTER ("portal", the default, or "jira"),
    built once per app (app.extensions).

    Raises ConfigError for an unknown adapter, or for "jira" without JIRA_URL, JIRA_EMAIL
    and JIRA_API_TOKEN.
    """
    app = app or current_app
    return chosen_adapter(  # type: ignore[return-value]
        app.extensions, app.config, "TICKETS_ADAPTER", _BUILDERS, key="kam_tickets"
    )


def ticket_project(kind: str, app: Flask | None = None) -> str:
    """The project key tickets of `kind` ("approval", "customization" or "support") go to,
    as the settings say (SAL, CUST and SUP by default)."""
    setting = TICKET_PROJECT_SETTINGS[kind]
    return check_project_key(setting, (app or current_app).config.get(setting))


def check_draft(draft: TicketDraft) -> TicketDraft:
    """The draft, trimmed, once every adapter would accept it; TicketError if not."""
    summary = " ".join((draft.summary or "").split())
    if not summary:
        raise TicketError("A ticket needs a summary.", field="summary")
    if len(summary) > SUMMARY_MAX:
        raise TicketError(f"Keep the summary under {SUMMARY_MAX} characters.", field="summary")
    if draft.priority is not None and draft.priority not in PRIORITIES:
        raise TicketError(
            f"{draft.priority!r} is not a priority: choose {', '.join(PRIORITIES)}.",
            field="priority",
        )
    for label in draft.labels:
        # Jira refuses a label with a space in it.
        if not label or any(c.isspace() for c in label):
            raise TicketError(f"{label!r} is not a label: one word, without spaces.")
    try:
        check_project_key("project", draft.project)
    except ConfigError as error:
        raise TicketError(f"{draft.project!r} is not a project key.") from error
    return TicketDraft(
        project=draft.project,
        summary=summary,
        description=(draft.description or "").strip(),
        labels=tuple(dict.fromkeys(draft.labels)),
        priority=draft.priority,
    )


def check_attachment(filename: str, content_type: str, data: bytes) -> str:
    """`filename`, trimmed, once every adapter would take the file; TicketError if not."""
    name = (filename or "").strip()
    if not name or len(name) > FILENAME_MAX or any(c in name for c in "/\\\0") or name[0] == ".":
        raise TicketError(f"{filename!r} is not a name a ticket's file can have.")
    if not (content_type or "").strip() or "/" not in content_type:
        raise TicketError(f"{content_type!r} is not a file type.")
    if not data:
        raise TicketError(f"{name} is empty: there is nothing to attach.")
    return name


def open_once(adapter: TicketAdapter, draft: TicketDraft, label: str) -> TicketRef:
    """The ticket for `label`'s purpose: the one the ticket system holds already (opened
    by an earlier call whose answer was lost), else `draft` opened with `label` added.
    Raises TicketError, before any call for a label that is not a purpose label; a
    failed search opens nothing."""
    if not PURPOSE_LABEL.fullmatch(label or ""):
        raise TicketError(f"{label!r} is not a label the portal gives its tickets.")
    found = adapter.find_by_label(label)
    if found is not None:
        return found
    return adapter.create_issue(replace(draft, labels=(*draft.labels, label)))


def split_key(key: str) -> tuple[str, int]:
    """ "SUP-12" as ("SUP", 12); TicketError for anything that is not a ticket key."""
    project, _, number = (key or "").strip().rpartition("-")
    if not project or not number.isdigit() or int(number) <= 0:
        raise TicketError(f"{key!r} is not a ticket key (e.g. SUP-12).")
    try:
        check_project_key("project", project)
    except ConfigError as error:
        raise TicketError(f"{key!r} is not a ticket key (e.g. SUP-12).") from error
    return project, int(number)


def _portal_tickets(config: Mapping) -> TicketAdapter:
    from kamportal.tickets.portal import PortalTickets

    return PortalTickets()


def _jira_tickets(config: Mapping) -> TicketAdapter:
    from kamportal.tickets.jira import JiraTickets

    return JiraTickets.from_config(config)


_BUILDERS = {"portal": _portal_tickets, "jira": _jira_tickets}
