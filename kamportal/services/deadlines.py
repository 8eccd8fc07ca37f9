"""Deadlines counted in business hours, recounted when their calendar changes (Time).

O2's welcome email, E2's next step of the escalation ladder, F2's WhatsApp reminder,
P5's hand-over meeting, F6's data-entry requests and P4's monthly report drafts are stored
as instants counted on a business calendar (PENDING): the team's week, hours and zone
(and its waits, for E2 and F2), its country's public holidays and the days an admin adds
or moves for that country. When that calendar changes, each deadline still pending is
counted again from where it started, on the calendar as it is now (one recount, for a
team, a country or some clients); the job of a step that moved is enqueued again under
its deterministic id, which replaces the old one, and the move lands on the client's
timeline and in the audit log. The services that change a calendar say so after the
change is flushed (`events.calendar_changed`: calendar.set_calendar_day /
remove_calendar_day, accounts.update_team / update_user, clients.reassign_client /
update_client), and this module counts again.

The step jobs check their due time against the calendar again when they wake
(`escalations.run_due_step`, `followups.send_due_whatsapp`), so a job scheduled before a
change never runs early, even if a recount was missed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kamportal.extensions import db
from kamportal.models import Client, LadderStep, Team, TimelineKind, User
from kamportal.services import (
    calendar,
    client_reports,
    escalations,
    events,
    followups,
    handovers,
    onboarding,
    store_management,
    timeline,
)

log = logging.getLogger(__name__)

_WELCOME = "Welcome email (O2)"
_F2 = "WhatsApp reminder after the unanswered call (F2)"
_P5 = "Hand-over meeting with the new point of contact (P5)"
_F6 = "Data-entry request to the store manager (F6)"
_P4 = "Monthly report to send (P4)"
_STEP_NAMES = {LadderStep.WHATSAPP: "WhatsApp", LadderStep.LEADER: "leader"}


@dataclass(frozen=True)
class Moved:
    """One pending deadline the recount moved: what (`welcome`, `escalation`, `whatsapp`,
    `handover`, `data_entry`, `client_report`),
    the row's id, its due time before and after, and how the timeline names it."""

    what: str
    record_id: int
    client: Client
    before: datetime
    after: datetime
    label: str

    def audit_line(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "id": self.record_id,
            "client_id": self.client.id,
            "from": self.before,
            "to": self.after,
        }


def recount_for_team(team: Team, *, actor: User | None, reason: str) -> list[Moved]:
    """The team's week, hours, zone, country or waits changed: recount its clients'."""
    return _recount(
        lambda client, business: client.acm is not None and client.acm.team_id == team.id,
        actor=actor,
        reason=reason,
        subject=team,
    )


def recount_for_country(
    country: str, *, actor: User | None, reason: str, subject: Any
) -> list[Moved]:
    """A day of `country` was made a holiday or a working day, or given back to the public
    calendar: recount every deadline counted on that country's holidays."""
    return _recount(
        lambda client, business: business.country == country,
        actor=actor,
        reason=reason,
        subject=subject,
    )


def recount_for_clients(
    clients: Iterable[Client], *, actor: User | None, reason: str, subject: Any
) -> list[Moved]:
    """These clients are counted on another calendar now (another team, or their own zone
    and country without one): recount theirs."""
    ids = {client.id for client in clients}
    if not ids:
        return []
    return _recount(
        lambda client, business: client.id in ids, actor=actor, reason=reason, subject=subject
    )


@dataclass(frozen=True)
class Pending:
    """One kind of pending deadline: its rows still pending, the due time it would have on
    a calendar, the one it has, how to move it, and how the timeline names it."""

    what: str
    rows: Callable[[], Iterable[Any]]
    due: Callable[[Any, calendar.BusinessCalendar], datetime]
    current: Callable[[Any], datetime]
    move: Callable[[Any, datetime], None]
    label: Callable[[Any], str]


def _set_due_at(row: Any, due: datetime) -> None:
    row.due_at = due


def _escalation_label(escalation: Any) -> str:
    return f"Escalation #{escalation.id}: the {_STEP_NAMES[escalation.step.following]} step (E2)"


PENDING = (
    Pending(
        "welcome",
        onboarding.welcomes_owed,
        lambda welcome, business: onboarding.welcome_due_at(welcome.subscribed_at, business),
        lambda welcome: welcome.due_at,
        _set_due_at,
        lambda _: _WELCOME,
    ),
    Pending(
        "escalation",
        escalations.waiting_on_timed_step,
        escalations.step_due_at,
        lambda escalation: escalation.step_due_at,
        escalations.move_step,
        _escalation_label,
    ),
    Pending(
        "whatsapp",
        followups.waiting_ladders,
        followups.whatsapp_due_at,
        lambda ladder: ladder.whatsapp_due_at,
        followups.move_whatsapp,
        lambda _: _F2,
    ),
    Pending(
        "handover",
        handovers.owed,
        lambda handover, business: handovers.due_at(handover.changed_at, business),
        lambda handover: handover.due_at,
        _set_due_at,
        lambda _: _P5,
    ),
    Pending(
        "data_entry",
        store_management.pending_requests,
        lambda request, business: store_management.due_at(
            request.received_at, request.entry_size, business
        ),
        lambda request: request.due_at,
        _set_due_at,
        lambda _: _F6,
    ),
    Pending(
        "client_report",
        client_reports.drafts_owed,
        lambda report, business: client_reports.due_at(report.drafted_at, business),
        lambda report: report.due_at,
        _set_due_at,
        lambda _: _P4,
    ),
)


def _recount(
    applies: Callable[[Client, calendar.BusinessCalendar], bool],
    *,
    actor: User | None,
    reason: str,
    subject: Any,
) -> list[Moved]:
    """Count again every pending deadline whose client `applies`; record what moved.
    Flushes; the caller commits, which enqueues the moved steps' jobs."""
    calendar_of = calendar.CalendarCache()
    moved: list[Moved] = []

    for pending in PENDING:
        for row in pending.rows():
            business = calendar_of(row.client)
            if not applies(row.client, business):
                continue
            before, due = pending.current(row), pending.due(row, business)
            if due != before:
                moved.append(
                    Moved(pending.what, row.id, row.client, before, due, pending.label(row))
                )
                pending.move(row, due)

    for item in moved:
        timeline.record(
            item.client,
            TimelineKind.DEADLINE_RECOUNTED,
            actor=actor,
            summary=(
                f"{item.label} now due ",
                item.after,
                " instead of ",
                item.before,
                f": {reason}",
            ),
            detail={
                "deadline": item.what,
                "id": item.record_id,
                "from": item.before,
                "to": item.after,
            },
        )
    if moved:
        timeline.audit(
            actor,
            "deadlines.recount",
            subject,
            after={"reason": reason, "moved": [item.audit_line() for item in moved]},
        )
        db.session.flush()
        log.info("%s: %d pending deadline(s) recounted", reason, len(moved))
    return moved


@events.calendar_changed.connect
def _calendar_changed(
    subject: Any,
    *,
    actor: User | None,
    reason: str,
    team: Team | None = None,
    country: str | None = None,
    clients: Iterable[Client] | None = None,
) -> None:
    """A business calendar changed (services/events.py): count its pending deadlines again,
    for a team, a country, or some clients."""
    if team is not None:
        recount_for_team(team, actor=actor, reason=reason)
    elif country is not None:
        recount_for_country(country, actor=actor, reason=reason, subject=subject)
    else:
        recount_for_clients(clients or (), actor=actor, reason=reason, subject=subject)
