"""Discounts (R9): the ACM asks commercial to approve a discount on a client's renewal or
customization fees; commercial approves or rejects it; only an approved one goes on an
invoice, once (its line: `discount_line`, used by services/invoices.py).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from kamportal import clock, i18n
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.models import (
    Client,
    DiscountCovers,
    Quotation,
    QuotationStatus,
    TimelineKind,
    User,
)
from kamportal.models.types import minor_unit
from kamportal.services import access, notifications, timeline, validation

# --- R9: discounts from an approved quotation -------------------------------------------------


def request_discount(
    client: Client, *, actor: User, description: str, discount: object
) -> Quotation:
    """R9: ask commercial to approve a discount for the client (on its renewal or
    customization fees), in the client's currency.

    Raises NotAllowed, ValidationError without a description or a positive amount."""
    access.check_works_on(actor, client)
    description = validation.required_text(
        description, field="description", message="Say what the discount is for."
    )
    amount = validation.amount_of(discount, client.currency, field="discount")
    quotation = Quotation(
        client=client,
        description=description,
        discount=amount,
        currency=client.currency,
        status=QuotationStatus.REQUESTED.value,
        requested_by=actor,
        requested_at=clock.now(),
    )
    db.session.add(quotation)
    db.session.flush()
    timeline.record(
        client,
        TimelineKind.DISCOUNT_REQUESTED,
        actor=actor,
        summary=f"Discount of {quotation.money} asked of commercial: {description} (R9)",
        detail={"quotation_id": quotation.id},
    )
    notifications.discount_awaits_commercial(quotation, client)
    timeline.audit(
        actor,
        "quotation.request",
        quotation,
        after=timeline.snapshot(quotation, ("client_id", "discount", "currency", "status")),
    )
    return quotation


def decide_discount(quotation: Quotation, *, actor: User, approve: bool, note: str = "") -> None:
    """R9: commercial approves or rejects a requested discount; only an approved one may go
    on an invoice.

    Raises NotAllowed for anyone but commercial (or an admin), RuleViolation("R9") once
    decided, ValidationError for a rejection without a note."""
    access.check_decides_discounts(actor)
    if quotation.quotation_status is not QuotationStatus.REQUESTED:
        raise RuleViolation("R9", "This discount is decided already.")
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError("Say why the discount is rejected.", field="note")
    status = QuotationStatus.APPROVED if approve else QuotationStatus.REJECTED
    quotation.status = status.value
    quotation.decided_by = actor
    quotation.decided_at = clock.now()
    quotation.decision_note = note or None
    timeline.record(
        quotation.client,
        TimelineKind.DISCOUNT_DECIDED,
        actor=actor,
        summary=f"Discount of {quotation.discount_text} {status.label.lower()} by commercial"
        + (f": {note}" if note else "")
        + " (R9)",
        detail={"quotation_id": quotation.id, "status": status},
    )
    timeline.audit(actor, f"quotation.{status.value}", quotation, after={"note": note})
    db.session.flush()


def discount_line(
    quotation: Quotation | None,
    client: Client,
    currency: str,
    *,
    fee: Decimal = Decimal(0),
    renewal: Decimal = Decimal(0),
) -> Decimal:
    """R9: the (negative) amount of `quotation`'s discount on an invoice of `client` in
    `currency` whose customization fees sum to `fee` and renewal to `renewal`; zero
    without one. A percent is of the lines the discount covers (the fee, or the fee and the
    renewal invoiced with it: R8), rounded to the currency's minor unit; an amount is taken
    as it is. A stand-alone (legacy) discount is its amount.

    Raises RuleViolation("R9") for a quotation of another client or currency, not approved
    by commercial, on an invoice already, a customization's discount without its fee, or
    an amount above the lines it covers."""
    if quotation is None:
        return Decimal(0)
    if quotation.client_id != client.id or quotation.currency != currency:
        raise RuleViolation(
            "R9", "This quotation is for another client or currency.", field="quotation"
        )
    if quotation.quotation_status is not QuotationStatus.APPROVED:
        raise RuleViolation(
            "R9",
            "A discount needs a quotation approved by commercial; this one is "
            f"{quotation.quotation_status.label.lower()}.",
            field="quotation",
        )
    if quotation.used_on_invoice_id is not None:
        raise RuleViolation("R9", "This discount is on an invoice already.", field="quotation")
    if quotation.request_id is None:
        return -(quotation.discount or Decimal(0))
    if fee <= 0:
        raise RuleViolation(
            "R9", "This discount goes on the invoice of its customization fee.", field="quotation"
        )
    covered = fee + (renewal if quotation.covers is DiscountCovers.FEE_AND_RENEWAL else 0)
    if quotation.discount_percent is not None:
        share = covered * quotation.discount_percent / 100
        return -share.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)
    amount = quotation.discount or Decimal(0)
    if amount > covered:
        raise RuleViolation(
            "R9", f"The discount is more than {quotation.covers.label}.", field="quotation"
        )
    return -amount


def discount_line_text(quotation: Quotation, client: Client, *, with_renewal: bool) -> str:
    """The discount's line as the client reads it on the invoice (R9), in the client's
    language: what it was taken from on this invoice (a discount that may cover the renewal
    covers only the fee of an invoice without one)."""
    with i18n.client_language(client.language):
        if quotation.request_id is None:
            return gettext("Discount: %(description)s", description=quotation.description)
        discount = quotation.discount_text
        if with_renewal and quotation.covers is DiscountCovers.FEE_AND_RENEWAL:
            return gettext(
                "Discount (%(discount)s) on the customization fee and the renewal invoiced with it",
                discount=discount,
            )
        return gettext("Discount (%(discount)s) on the customization fee", discount=discount)


# --- Reading -----------------------------------------------------------------------------------


def discount_queue(*, recent: int = 50) -> tuple[list[Quotation], list[Quotation]]:
    """R9, commercial's queue: the discounts waiting for a decision, the longest waiting
    first, and the `recent` latest decided, the newest first."""
    requested = list(
        db.session.scalars(
            select(Quotation)
            .where(Quotation.status == QuotationStatus.REQUESTED.value)
            .options(
                joinedload(Quotation.client),
                joinedload(Quotation.requested_by),
                joinedload(Quotation.request),
            )
            .order_by(Quotation.requested_at, Quotation.id)
        )
    )
    decided = list(
        db.session.scalars(
            select(Quotation)
            .where(
                Quotation.status.in_(
                    [QuotationStatus.APPROVED.value, QuotationStatus.REJECTED.value]
                )
            )
            .options(
                joinedload(Quotation.client),
                joinedload(Quotation.requested_by),
                joinedload(Quotation.decided_by),
            )
            .order_by(Quotation.decided_at.desc(), Quotation.id.desc())
            .limit(recent)
        )
    )
    return requested, decided
