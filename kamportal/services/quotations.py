"""The quotation of an accepted customization request (C4), its discount (R9) and its
invoice (C6, R8).

C4: a request product accepted is being priced (stage PRICING): product estimates the
period, commercial sets the price, in either order; with both the quotation is ready and
the request moves on to its concept document (CONCEPT). Commercial's price makes the
request's `Quotation`; commercial may give it an approved discount while pricing.

R9: the ACM asks for a discount on the quotation (a percent of the lines it covers, or an
amount; covering the customization fee alone, or the fee and the renewal invoiced with
it); commercial approves or rejects it (services/discounts.decide_discount). Only an
approved discount goes on the invoice, once.

C6, R8: once the client approved the concept document (INVOICING) the ACM issues the
invoice through the billing adapter: the fee alone, or one invoice with the client's
confirmed renewal; the request then waits for the payment (PAYMENT).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from kamportal import clock
from kamportal.billing import BillingAdapter
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    Client,
    CustomizationRequest,
    CustomizationStage,
    DiscountCovers,
    Invoice,
    Quotation,
    QuotationStatus,
    Renewal,
    RenewalStage,
    TimelineKind,
    User,
)
from kamportal.services import (
    access,
    customizations,
    invoices,
    notifications,
    timeline,
    validation,
)
from kamportal.services.customizations import REQUEST_FIELDS

# C4: the longest period product may estimate, in days.
MAX_PERIOD_DAYS = 730
QUOTATION_FIELDS = (
    "price",
    "period_days",
    "currency",
    "discount",
    "discount_percent",
    "discount_covers",
    "status",
)
PRICING_FIELDS = (*REQUEST_FIELDS, "estimated_days", "price", "price_currency", "invoice_id")


def quotation_of(request: CustomizationRequest) -> Quotation | None:
    return db.session.scalar(select(Quotation).where(Quotation.request_id == request.id))


def _check_pricing(request: CustomizationRequest) -> None:
    customizations.check_stage(
        request,
        CustomizationStage.PRICING,
        rule="C4",
        refusal="The period and the price are set while the request is being priced.",
    )


# --- C4: product's period, commercial's price -----------------------------------------------------


def estimate_period(request: CustomizationRequest, *, actor: User, days: object) -> None:
    """C4: product estimates how many days the customization takes; with commercial's
    price the quotation is ready.

    Raises NotAllowed for anyone but product (or an admin), RuleViolation("C4") unless
    the request is being priced, ValidationError for a period not 1-730 days."""
    access.check_decides_customizations(actor)
    _check_pricing(request)
    if not isinstance(days, int) or isinstance(days, bool):
        raise ValidationError("Give the period in days.", field="days")
    days = validation.whole_number(days, field="days", low=1, high=MAX_PERIOD_DAYS)
    now = clock.now()
    with timeline.audited(actor, "customization.estimate", request, PRICING_FIELDS):
        request.estimated_days = days
        request.estimated_at = now
        request.estimated_by = actor
    timeline.record(
        request.client,
        TimelineKind.CUSTOMIZATION_ESTIMATED,
        actor=actor,
        summary=f"Customization {request.reference}: product estimates {days} days (C4)",
        detail={"request_id": request.id, "days": days},
        at=now,
    )
    _ready_if_complete(request, actor=actor)


def set_price(
    request: CustomizationRequest,
    *,
    actor: User,
    amount: object,
    currency: str | None = None,
    discount_percent: object = None,
    discount_amount: object = None,
    covers: str = DiscountCovers.FEE.value,
) -> Quotation:
    """C4: commercial prices the customization (in the client's currency unless another is
    given), and may give an approved discount (R9) with it: a percent or an amount, not
    both. With product's period the quotation is ready.

    Raises NotAllowed for anyone but commercial (or an admin), RuleViolation("C4") unless
    the request is being priced, ValidationError for a bad amount, currency or discount."""
    access.check_prices_customizations(actor)
    _check_pricing(request)
    currency = validation.currency_code(currency or request.client.currency)
    price = validation.amount_of(amount, currency, field="price")
    discount = _discount(
        price, currency, percent=discount_percent, amount=discount_amount, covers=covers
    )
    now = clock.now()
    quotation = quotation_of(request)
    if quotation is None:
        quotation = Quotation(
            client_id=request.client_id,
            request_id=request.id,
            description=f"{request.reference}: {request.title}"[:300],
            price=price,
            currency=currency,
            status=QuotationStatus.NONE.value,
        )
        db.session.add(quotation)
    with timeline.audited(actor, "customization.price", request, PRICING_FIELDS):
        request.price = price
        request.price_currency = currency
        request.priced_at = now
        request.priced_by_id = actor.id
        quotation.price = price
        quotation.currency = currency
        if discount is not None:
            _set_discount(quotation, *discount)
            quotation.status = QuotationStatus.APPROVED.value
            quotation.requested_by_id = quotation.decided_by_id = actor.id
            quotation.requested_at = quotation.decided_at = now
    db.session.flush()
    given = f", discount {quotation.discount_text} approved" if discount is not None else ""
    timeline.record(
        request.client,
        TimelineKind.CUSTOMIZATION_PRICED,
        actor=actor,
        summary=f"Customization {request.reference}: priced {quotation.price_money}{given} (C4)",
        detail={"request_id": request.id, "quotation_id": quotation.id},
        at=now,
    )
    _ready_if_complete(request, actor=actor)
    return quotation


def _ready_if_complete(request: CustomizationRequest, *, actor: User) -> None:
    """C4: with the period and the price both set, the quotation is ready: the request
    moves on to its concept document."""
    if not request.quotation_ready:
        db.session.flush()
        return
    quotation = quotation_of(request)
    assert quotation is not None  # the price made it
    with timeline.audited(actor, "quotation.ready", quotation, QUOTATION_FIELDS):
        quotation.period_days = request.estimated_days
    with timeline.audited(actor, "customization.quotation_ready", request, PRICING_FIELDS):
        request.stage = CustomizationStage.CONCEPT.value
    timeline.record(
        request.client,
        TimelineKind.QUOTATION_READY,
        actor=actor,
        summary=f"Customization {request.reference}: quotation ready, "
        f"{quotation.price_money} over {quotation.period_days} days (C4)",
        detail={"request_id": request.id, "quotation_id": quotation.id},
    )
    db.session.flush()


# --- R9: the quotation's discount -----------------------------------------------------------------


def _discount(
    fee, currency: str, *, percent: object, amount: object, covers: object
) -> tuple[object, object, DiscountCovers] | None:
    """A discount as given (percent, amount, what it covers), checked; None for none."""
    percent = None if percent in (None, "") else percent
    amount = None if amount in (None, "") else amount
    if percent is None and amount is None:
        return None
    if percent is not None and amount is not None:
        raise ValidationError("A percentage or an amount, not both.", field="discount_amount")
    covers = validation.choice(
        DiscountCovers, covers, field="covers", message="Say what the discount covers."
    )
    if percent is not None:
        return validation.percent_of(percent, field="discount_percent"), None, covers
    amount = validation.amount_of(amount, currency, field="discount_amount")
    if covers is DiscountCovers.FEE and fee is not None and amount >= fee:
        raise ValidationError(
            "A discount on the fee alone must be less than the fee.", field="discount_amount"
        )
    return None, amount, covers


def _set_discount(quotation: Quotation, percent, amount, covers: DiscountCovers) -> None:
    quotation.discount_percent = percent
    quotation.discount = amount
    quotation.discount_covers = covers.value
    quotation.decision_note = None


def request_discount(
    request: CustomizationRequest,
    *,
    actor: User,
    percent: object = None,
    amount: object = None,
    covers: str = DiscountCovers.FEE.value,
) -> Quotation:
    """R9: the ACM asks commercial for a discount on the request's quotation (again after
    a rejection), before the invoice.

    Raises NotAllowed for someone who does not work on the client, RuleViolation("R9")
    without a quotation, once invoiced, or with a discount asked or approved already;
    ValidationError for no discount, both kinds, or a bad percent or amount."""
    access.check_works_on(actor, request.client)
    quotation = quotation_of(request)
    if quotation is None:
        raise RuleViolation("R9", "Commercial has not priced this request yet.")
    if request.invoice_id is not None or quotation.used_on_invoice_id is not None:
        raise RuleViolation("R9", "This request is invoiced already.")
    if quotation.quotation_status in (QuotationStatus.REQUESTED, QuotationStatus.APPROVED):
        raise RuleViolation(
            "R9", f"A discount is {quotation.quotation_status.label.lower()} already."
        )
    discount = _discount(
        quotation.price, quotation.currency, percent=percent, amount=amount, covers=covers
    )
    if discount is None:
        raise ValidationError("Give a percentage or an amount.", field="discount_percent")
    now = clock.now()
    with timeline.audited(actor, "quotation.request", quotation, QUOTATION_FIELDS):
        _set_discount(quotation, *discount)
        quotation.status = QuotationStatus.REQUESTED.value
        quotation.requested_by_id = actor.id
        quotation.requested_at = now
        quotation.decided_by_id = None
        quotation.decided_at = None
    timeline.record(
        request.client,
        TimelineKind.DISCOUNT_REQUESTED,
        actor=actor,
        summary=f"Discount of {quotation.discount_text} on {quotation.covers.label} of "
        f"{request.reference} asked of commercial (R9)",
        detail={"quotation_id": quotation.id, "request_id": request.id},
        at=now,
    )
    notifications.discount_awaits_commercial(quotation, request.client)
    return quotation


# --- C6, R8: the invoice --------------------------------------------------------------------------


def renewal_to_invoice_with(client: Client) -> Renewal | None:
    """R8: the client's renewal that may be invoiced now (confirmed, not invoiced)."""
    return db.session.scalar(
        select(Renewal)
        .where(Renewal.client_id == client.id)
        .where(Renewal.stage == RenewalStage.CONFIRMED.value)
        .order_by(Renewal.due_on)
        .limit(1)
    )


def issue_invoice(
    request: CustomizationRequest,
    *,
    actor: User,
    due_on: date | None,
    with_renewal: bool = False,
    adapter: BillingAdapter | None = None,
) -> Invoice:
    """C6: the ACM invoices the customization fee through the billing adapter, alone or
    (R8) on one invoice with the client's confirmed renewal, less the quotation's approved
    discount (R9); the request then waits for the payment.

    Raises NotAllowed, RuleViolation("C6") before the concept document is approved or once
    invoiced, ("R8") without a renewal to invoice or in another currency, ("R9") while the
    discount waits for commercial; and what services/invoices.issue_invoice raises."""
    access.check_works_on(actor, request.client)
    customizations.check_stage(
        request,
        CustomizationStage.INVOICING,
        rule="C6",
        refusal="The invoice is issued once, after the client approved the concept document.",
    )
    quotation = quotation_of(request)
    if quotation is None or quotation.price is None:
        raise RuleViolation("C6", f"{request.reference} has no quotation.")
    if quotation.quotation_status is QuotationStatus.REQUESTED:
        raise RuleViolation("R9", "Commercial has not decided the discount yet.")
    renewal = None
    if with_renewal:
        renewal = renewal_to_invoice_with(request.client)
        if renewal is None:
            raise RuleViolation(
                "R8", "No confirmed renewal to invoice with it.", field="with_renewal"
            )
        if renewal.currency != quotation.currency:
            raise RuleViolation(
                "R8",
                f"The renewal is in {renewal.currency}, the customization in "
                f"{quotation.currency}: invoice it alone.",
                field="with_renewal",
            )
    invoice = invoices.issue_invoice(
        request.client,
        actor=actor,
        due_on=due_on,
        renewal=renewal,
        fees=[invoices.Fee(f"Customization: {request.title}"[:300], quotation.price)],
        quotation=quotation if quotation.quotation_status is QuotationStatus.APPROVED else None,
        currency=quotation.currency,
        adapter=adapter,
    )
    with timeline.audited(actor, "customization.invoice", request, PRICING_FIELDS):
        request.invoice_id = invoice.id
        request.stage = CustomizationStage.PAYMENT.value
    timeline.record(
        request.client,
        TimelineKind.CUSTOMIZATION_INVOICED,
        actor=actor,
        summary=f"Customization {request.reference} invoiced: {invoice.label}, {invoice.money}"
        + (" with the renewal (R8)" if renewal is not None else "")
        + " (C6)",
        detail={"request_id": request.id, "invoice_id": invoice.id},
    )
    db.session.flush()
    return invoice


def draft_invoice_email(
    request: CustomizationRequest, *, actor: User, due_on: date | None, with_renewal: bool = False
) -> outbox.Draft:
    """C6, R3: the email the client gets with this request's invoice, for a preview; the
    caller rolls back (`invoices.draft_issued_email`). Raises as `issue_invoice`."""
    return invoices.draft_issued_email(
        lambda adapter: issue_invoice(
            request, actor=actor, due_on=due_on, with_renewal=with_renewal, adapter=adapter
        )
    )


# --- Reading --------------------------------------------------------------------------------------


def _pricing(missing) -> list[CustomizationRequest]:
    return list(
        db.session.scalars(
            select(CustomizationRequest)
            .where(CustomizationRequest.stage == CustomizationStage.PRICING.value)
            .where(missing.is_(None))
            .options(joinedload(CustomizationRequest.client))
            .order_by(CustomizationRequest.decided_at, CustomizationRequest.id)
        )
    )


def to_estimate() -> list[CustomizationRequest]:
    """C4, product's queue: accepted requests without a period, the longest accepted first."""
    return _pricing(CustomizationRequest.estimated_days)


def to_price() -> list[CustomizationRequest]:
    """C4, commercial's queue: accepted requests without a price, the longest accepted first."""
    return _pricing(CustomizationRequest.price)


def invoices_owed_query(user: User) -> Select[tuple[CustomizationRequest]]:
    """C6, the ACM's day: their clients' requests whose invoice is owed."""
    return (
        select(CustomizationRequest)
        .join(CustomizationRequest.client)
        .where(access.own_clients_clause(user))
        .where(CustomizationRequest.stage == CustomizationStage.INVOICING.value)
        .options(joinedload(CustomizationRequest.client))
        .order_by(CustomizationRequest.opened_at, CustomizationRequest.id)
    )


def invoices_owed_by(user: User) -> list[CustomizationRequest]:
    """The requests of `invoices_owed_query`."""
    return list(db.session.scalars(invoices_owed_query(user)))
