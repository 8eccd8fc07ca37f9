"""Churn: what a cancellation or a refund recorded in the complaint process (E3) changes.

- A cancellation the client confirms after complaint handling (the complaint moved to
  "cancellation confirmed") churns the client: its open renewal is lost with the reason,
  the client is churned with when and why, both on the timeline and audited. Recording a
  cancellation only opens complaint handling: the seed sends the request there first,
  where the client may still be kept.
- A refund request carries an amount in the client's currency and waits in finance's
  queue until finance marks it refunded or declined, with a note.
- Churned clients leave the active lists and the forecast; `monthly_churn` counts them
  per month (in the viewer's zone) and currency, with the recurring amount lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.orm import joinedload

from kamportal import clock
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.models import (
    Client,
    Complaint,
    ComplaintKind,
    LifecycleStatus,
    RefundStatus,
    Renewal,
    RenewalStage,
    TimelineKind,
    User,
)
from kamportal.services import access, events, renewals, timeline, validation

CHURN_FIELDS = ("status", "churned_at", "churn_reason")
REFUND_FIELDS = ("refund_amount", "refund_currency", "refund_status", "refund_note")
REFUND_DECISIONS = {
    RefundStatus.REFUNDED.value: "Refunded",
    RefundStatus.DECLINED.value: "Declined",
}


def churn_client(client: Client, *, actor: User, reason: str) -> None:
    """The client left: its open renewal is lost with `reason` and the client is churned
    (when and why). Nothing again for a client churned already."""
    if client.status == LifecycleStatus.CHURNED.value:
        return
    for renewal in _open_renewals(client):
        renewals.mark_lost(renewal, actor=actor, reason=reason)
    now = clock.now()
    with timeline.audited(actor, "client.churn", client, CHURN_FIELDS):
        client.status = LifecycleStatus.CHURNED.value
        client.churned_at = now
        client.churn_reason = reason
        client.updated_at = now
    timeline.record(
        client,
        TimelineKind.CLIENT_CHURNED,
        actor=actor,
        summary=f"Client churned: {reason}",
        detail={"reason": reason},
        at=now,
    )
    db.session.flush()


def _open_renewals(client: Client) -> list[Renewal]:
    closed = (RenewalStage.PAID.value, RenewalStage.LOST.value)
    return list(
        db.session.scalars(
            select(Renewal)
            .where(Renewal.client_id == client.id, Renewal.stage.not_in(closed))
            .order_by(Renewal.due_on)
        )
    )


@events.cancellation_confirmed.connect
def _cancellation_confirmed(complaint: Complaint, *, actor: User, note: str, **_: object) -> None:
    churn_client(
        complaint.client, actor=actor, reason=f"Cancellation #{complaint.id} confirmed: {note}"
    )


# --- Refund requests --------------------------------------------------------------------------


def refund_amount(client: Client, kind: ComplaintKind, value: object) -> Decimal | None:
    """The amount a refund request asks for, in the client's currency; None for the other
    kinds. Raises ValidationError (field "refund_amount") when a refund has none."""
    if kind is not ComplaintKind.REFUND:
        return None
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError("Give the amount to refund.", field="refund_amount")
    return validation.amount_of(value, client.currency, field="refund_amount")


def refunds_requested_query() -> Select[tuple[Complaint]]:
    """Finance's "Refunds requested": the refunds not decided yet, oldest first."""
    return (
        select(Complaint)
        .where(Complaint.refund_status == RefundStatus.REQUESTED.value)
        .options(
            joinedload(Complaint.client),
            joinedload(Complaint.raised_by),
        )
        .order_by(Complaint.raised_at, Complaint.id)
    )


def refunds_requested() -> list[Complaint]:
    """Finance's "Refunds requested", whole (the CSV export)."""
    return list(db.session.scalars(refunds_requested_query()))


def decide_refund(complaint: Complaint, *, actor: User, decision: str, note: str) -> None:
    """Finance marks a refund request refunded or declined, with a note.

    Raises NotAllowed for anyone but finance (or an admin), RuleViolation("E3") once
    decided, ValidationError for another decision or no note."""
    access.check_handles_payments(actor)
    if complaint.refund_status != RefundStatus.REQUESTED.value:
        raise RuleViolation("E3", "This refund is decided already.")
    if decision not in REFUND_DECISIONS:
        raise ValidationError("Choose refunded or declined.", field="decision")
    note = validation.required_text(note, field="note", message="Write a note.")
    status = RefundStatus(decision)
    now = clock.now()
    with timeline.audited(actor, "refund.decide", complaint, REFUND_FIELDS):
        complaint.refund_status = status.value
        complaint.refund_decided_at = now
        complaint.refund_decided_by = actor
        complaint.refund_note = note
    timeline.record(
        complaint.client,
        TimelineKind.REFUND_DECIDED,
        actor=actor,
        summary=f"Refund #{complaint.id} of {complaint.refund}: {status.label.lower()}: {note}",
        detail={"complaint_id": complaint.id, "refund_status": status},
        at=now,
    )
    db.session.flush()


# --- The monthly churn figure -----------------------------------------------------------------


@dataclass
class ChurnMonth:
    """One month of churn: clients churned and their recurring amount, per currency."""

    month: date  # the month's first day, in the viewer's zone
    count: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def _month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def monthly_churn(
    viewer: User,
    months: int = 12,
    *,
    now: datetime | None = None,
    within: ColumnElement[bool] | None = None,
) -> list[ChurnMonth]:
    """Churn over the last `months` months (this one included), oldest first: per month of
    the viewer's zone, the clients `viewer` may see (narrowed to `within`, a clause on
    Client: one team's) that churned then, and their recurring amount per currency (a
    client without one counts, for no amount)."""
    now = now or clock.now()
    zone = viewer.timezone or "UTC"
    today = clock.today(zone, at=now)
    result = [ChurnMonth(_month_start(today, back)) for back in range(months - 1, -1, -1)]
    by_month = {m.month: m for m in result}
    since = datetime.combine(result[0].month, datetime.min.time(), tzinfo=ZoneInfo(zone))
    rows = db.session.execute(
        select(Client.churned_at, Client.currency, Client.recurring_amount)
        .where(Client.status == LifecycleStatus.CHURNED.value)
        .where(Client.churned_at >= since)
        .where(access.visible_clients_clause(viewer))
        .where(true() if within is None else within)
    )
    for churned_at, currency, amount in rows:
        local = clock.in_zone(churned_at, zone).date()
        month = by_month.get(local.replace(day=1))
        if month is None:
            continue
        month.count += 1
        month.counts[currency] = month.counts.get(currency, 0) + 1
        month.amounts[currency] = month.amounts.get(currency, Decimal(0)) + (amount or 0)
    return result
