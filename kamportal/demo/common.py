"""What several of the demo's stories share: the seed's report, the replay of the past
through the real services (the portal clock moved, then put back; the messages of the past
left as their delivery job would have), an ACM's clients for a story, and small helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, event, func, select

from kamportal import clock
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    Channel,
    Client,
    DeliveryStatus,
    Escalation,
    LifecycleStatus,
    OutboxMessage,
    TimelineEvent,
    User,
)
from kamportal.services import escalations
from kamportal.services import minutes as minutes_service
from kamportal.services.calendar import BusinessCalendar

# The ACM's notes on a call not answered: the portfolio's timelines and the escalations'.
NO_ANSWER_NOTES = ("No answer.", "No answer; the line was busy.", "No answer after two tries.")


@dataclass
class SeedReport:
    teams: int = 0
    users: int = 0
    clients: int = 0
    contacts: int = 0
    events: int = 0
    meetings: int = 0
    minutes: int = 0
    escalations: int = 0
    complaints: int = 0
    renewals: int = 0
    invoices: int = 0
    # Onboarding and launch (O1, O2, L1-L5): welcome emails sent and still owed, KYC links
    # sent and questionnaires submitted, checklist items ticked, stores launched.
    welcome_sent: int = 0
    welcome_owed: int = 0
    kyc_links: int = 0
    kyc_submitted: int = 0
    checklist_ticks: int = 0
    launched: int = 0
    # Customization requests (C1-C7), at every stage of the process.
    customizations: int = 0
    # G4: technical problems escalated to the support team.
    support_tickets: int = 0
    # F4: the live and at-risk stores' daily figures.
    store_days: int = 0
    # F4: stores found not selling by the sweep, their reasons owed on the ACM's day.
    not_selling: int = 0
    # F6: store-manager duties done and data-entry requests.
    store_duties: int = 0
    data_entry_requests: int = 0
    # P1: account plans written.
    account_plans: int = 0
    # P5: points of contact that changed hands, a hand-over meeting owed.
    handovers: int = 0
    # P2: the clients' daily health scores, today's and 12 weeks of history.
    health_days: int = 0
    # F5: apps and marketing actions suggested to live clients.
    suggestions: int = 0
    # P3: upsell and cross-sell opportunities, at every stage of the pipeline.
    opportunities: int = 0
    # P4: last month's reports, most sent, the rest owed on the ACMs' day.
    client_reports: int = 0

    @property
    def nothing_added(self) -> bool:
        return not any(vars(self).values())


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def anniversary(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@contextmanager
def replaying_the_past() -> Iterator[list[Any]]:
    """Yield the list of every row added meanwhile; once the replay is done, flush and
    mark its messages delivered (`_delivered`). The portal clock, which the caller moves,
    is put back as it was (frozen in tests, running in a real demo), even on error."""
    added: list[Any] = []
    session = db.session()

    def collect(_session: Any, row: Any) -> None:
        added.append(row)

    frozen_at = clock.frozen_at()
    # The sweeps queue their emails in bulk, outside the session's rows (R4, R7): the
    # messages of the replay are also those written past the last one before it.
    last_message = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    event.listen(session, "transient_to_pending", collect)
    try:
        yield added
        db.session.flush()
        queued = {row.id: row for row in added if isinstance(row, OutboxMessage)}
        queued |= {
            message.id: message
            for message in db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.id > last_message)
            )
        }
        _delivered(sorted(queued.values(), key=lambda message: message.id))
    finally:
        event.remove(session, "transient_to_pending", collect)
        if frozen_at is None:
            clock.unfreeze()
        else:
            clock.freeze(frozen_at)


def acm_clients(
    acm: User, statuses: tuple[LifecycleStatus, ...], *, without: ColumnElement[bool]
) -> list[Client]:
    """The ACM's clients in `statuses` for which `without` does not hold, at-risk ones
    first, then in the order they came into the portal."""
    return list(
        db.session.scalars(
            select(Client)
            .where(Client.acm_id == acm.id)
            .where(Client.status.in_([s.value for s in statuses]))
            .where(~without)
            .order_by(Client.status != LifecycleStatus.AT_RISK.value, Client.id)
        )
    )


def take_client(
    candidates: list[Client], *, before: datetime, whatsapp: bool = False
) -> Client | None:
    """The first candidate in the portal a day before `before` (with a WhatsApp number if
    asked), taken off the list."""
    for client in candidates:
        if client.created_at > before - timedelta(days=1):
            continue
        if whatsapp and client.reachable_contact("whatsapp") is None:
            continue
        candidates.remove(client)
        return client
    return None


@dataclass
class Replay:
    """The portal clock at a past instant, moved forward in the team's business hours."""

    calendar: BusinessCalendar
    at: datetime

    def go(self, at: datetime) -> None:
        self.at = at
        clock.freeze(at)

    def wait(self, hours: float) -> None:
        self.go(self.calendar.add_business_hours(self.at, hours))

    def run_step(self, escalation: Escalation, step: str) -> None:
        """A timed step (E2), as its job runs it: a moment after it came due."""
        self.go(escalation.step_due_at.replace(microsecond=0) + timedelta(seconds=2))
        outcome = escalations.run_due_step(escalation.id, step)
        if outcome != "done":
            raise RuntimeError(f"demo escalation #{escalation.id}: {step} step {outcome}")


def _delivered(messages: list[OutboxMessage]) -> None:
    """What the delivery job would have recorded a few seconds after each was queued; the
    job, enqueued at the commit, then finds it sent and sends nothing."""
    for message in messages:
        if message.delivery_status is not DeliveryStatus.PENDING:
            continue
        if outbox.composed_later(message):
            outbox.compose(message)
        message.status = DeliveryStatus.SENT.value
        message.attempts = 1
        message.sent_at = message.created_at + timedelta(seconds=3)
        message.provider_message_id = (
            outbox.build_email(message)["Message-ID"]
            if message.channel == Channel.EMAIL.value
            else f"demo-wa-{message.id}"
        )


def send_call_minutes(
    client: Client, call: TimelineEvent, acm: User, agreed_points: str | None
) -> None:
    """G5: the minutes the ACM's answered `call` owes, sent to the client with
    `agreed_points`, or (None) marked a follow-up without requests."""
    owed = minutes_service.owe_for_call(client, call, owner=acm, at=call.at)
    if agreed_points is None:
        minutes_service.mark_no_requests(owed, actor=acm)
        return
    minutes_service.send_minutes(
        owed,
        actor=acm,
        agreed_points=agreed_points,
        action_items=[],
        recipients=[client.reachable_contact("email")],
    )
