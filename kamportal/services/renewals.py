"""Renewals, invoices and payments (R1-R10). Money is never wrong: every amount is a
Decimal at its currency's minor unit, with its currency.

R1: a daily sweep opens one renewal per subscription term due within 30 days.
R2: the ACM notifies the client (email, G1 CCs) and records the date and amount confirmed.
R3: the invoice comes from the billing system, through the billing adapter (the portal's
own numbering, or WHMCS); R8: renewal and customization fees on one invoice; R9: a discount
line only from a quotation commercial approved.
R4: an unpaid invoice is followed until paid: reminders at the team's interval.
R5: a payment issue goes to finance, who agree a new payment channel.
R6: finance records a payment at the premises with its receipt.
R7: the ACM reports a wire transfer; finance confirms it; one unconfirmed 4 days after it
was reported is flagged to finance and the ACM.
R10: an invoice split into installment invoices whose amounts sum exactly to its total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import joinedload, selectinload

from kamportal import clock
from kamportal.billing import BillingAdapter, InvoiceDraft, InvoiceLineDraft, billing_adapter
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    Client,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LifecycleStatus,
    LineKind,
    Money,
    OutboxMessage,
    Payment,
    PaymentIssue,
    PaymentIssueStatus,
    PaymentMethod,
    PaymentStatus,
    Quotation,
    QuotationStatus,
    Renewal,
    RenewalStage,
    Role,
    TimelineKind,
    User,
    UserRole,
)
from kamportal.models.types import minor_unit
from kamportal.services import access, timeline, validation

# R1: a subscription due within this many days has its renewal opened.
RENEWAL_WINDOW = timedelta(days=30)
# R7: a reported wire transfer is tracked this long before it is flagged.
WIRE_WAIT = timedelta(days=4)
# R7: a wire may arrive a while before the invoice or the report (the client paid ahead).
WIRE_EARLY = timedelta(days=30)
# The reminder interval (R4) of a client whose ACM has no team (the Team column's default).
DEFAULT_REMINDER_DAYS = 3
RENEWAL_FIELDS = ("stage", "due_on", "agreed_on", "amount", "currency", "lost_reason")
INVOICE_FIELDS = ("number", "status", "total", "currency", "due_on", "method")
PAYMENT_FIELDS = (
    "invoice_id",
    "method",
    "amount",
    "currency",
    "status",
    "reference",
    "reported_amount",
    "received_on",
    "rejection_reason",
)


def _term_after(day: date) -> date:
    """The same day a year later (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


# --- R1: the renewal pipeline ------------------------------------------------------------------


def open_due_renewals(*, today: date) -> list[Renewal]:
    """R1, the daily sweep: open a renewal for every subscription whose renewal date is at
    most 30 days after `today` (or already past) and whose term has none yet; it then
    shows on its ACM's list and day. Idempotent: once per term (a unique constraint backs
    it). Churned clients and those without a recurring amount are left out. The caller
    commits; returns the renewals opened."""
    already = exists().where(
        and_(Renewal.client_id == Client.id, Renewal.due_on == Client.renewal_date)
    )
    due = db.session.scalars(
        select(Client)
        .where(Client.renewal_date.is_not(None))
        .where(Client.renewal_date <= today + RENEWAL_WINDOW)
        .where(Client.recurring_amount.is_not(None))
        .where(Client.status != LifecycleStatus.CHURNED.value)
        .where(~already)
        .order_by(Client.renewal_date, Client.id)
    )
    now = clock.now()
    opened = []
    for client in due:
        renewal = Renewal(
            client=client,
            due_on=client.renewal_date,
            amount=Money(client.recurring_amount, client.currency).amount,
            currency=client.currency,
            stage=RenewalStage.DUE.value,
            opened_at=now,
        )
        db.session.add(renewal)
        db.session.flush()
        timeline.record(
            client,
            TimelineKind.RENEWAL_OPENED,
            actor=None,
            summary=f"Renewal due on {renewal.due_on:%d %b %Y}: {renewal.money} (R1)",
            detail={"renewal_id": renewal.id, "due_on": renewal.due_on},
            at=now,
        )
        timeline.audit(
            None, "renewal.open", renewal, after=timeline.snapshot(renewal, RENEWAL_FIELDS)
        )
        opened.append(renewal)
    return opened


def _check_stage(renewal: Renewal, allowed: bool) -> None:
    if not allowed:
        raise RuleViolation(
            "R2", f"This renewal is {renewal.renewal_stage.label.lower()}: it cannot do that now."
        )


def _on_timeline(
    renewal: Renewal,
    kind: TimelineKind,
    *,
    actor: User | None,
    summary: str,
    message: OutboxMessage | None = None,
) -> None:
    timeline.record(
        renewal.client,
        kind,
        actor=actor,
        summary=summary,
        detail={"renewal_id": renewal.id},
        outbox_message=message,
    )


def notify_client(renewal: Renewal, *, actor: User) -> OutboxMessage:
    """R2: email the client its renewal date and amount (G1 CCs); the renewal is then
    "client notified". Sending again returns the same message (one notice per term).

    Raises NotAllowed for someone who does not work on the client, RuleViolation("R2")
    for a renewal past that stage or a client without an email address."""
    client = renewal.client
    access.check_works_on(actor, client)
    _check_stage(renewal, renewal.renewal_stage.may_notify)
    contact = client.reachable_contact("email")
    if contact is None:
        raise RuleViolation("R2", "No contact of this client has an email address: add one.")
    message = outbox.email_client(
        client,
        contact,
        key=f"renewal-{renewal.id}-notice",
        subject=f"Your subscription renewal on {renewal.due_on:%d %B %Y} – {client.store_code}",
        template="renewal_notice.txt",
        renewal=renewal,
        actor=actor,
    )
    with timeline.audited(actor, "renewal.notify", renewal, RENEWAL_FIELDS):
        renewal.stage = RenewalStage.NOTIFIED.value
        renewal.notified_at = clock.now()
        renewal.notice_message = message
    _on_timeline(
        renewal,
        TimelineKind.RENEWAL_NOTIFIED,
        actor=actor,
        summary=f"Renewal notice to {contact.name}: {renewal.money} on "
        f"{renewal.due_on:%d %b %Y} (R2)",
        message=message,
    )
    db.session.flush()
    return message


# R2: how far the renewal date the client agrees may move from the term's date.
AGREED_EARLIEST = timedelta(days=60)
AGREED_LATEST = timedelta(days=366)


def confirm_renewal(
    renewal: Renewal, *, actor: User, agreed_on: date | None, amount: object
) -> None:
    """R2: the client confirmed the renewal date and the recurring amount (which may differ
    from the subscription's; the next terms keep the new amount).

    Raises NotAllowed, RuleViolation("R2") once invoiced, paid or lost, ValidationError
    without a date or with an amount that is not a positive amount of its currency."""
    access.check_works_on(actor, renewal.client)
    _check_stage(renewal, renewal.renewal_stage.may_confirm)
    if agreed_on is None:
        raise ValidationError("Give the renewal date the client confirmed.", field="agreed_on")
    earliest, latest = renewal.due_on - AGREED_EARLIEST, renewal.due_on + AGREED_LATEST
    validation.date_between(
        agreed_on,
        field="agreed_on",
        earliest=earliest,
        latest=latest,
        message=(
            f"This term renews on {renewal.due_on:%d %b %Y}: the date agreed falls from "
            f"{earliest:%d %b %Y} to {latest:%d %b %Y}."
        ),
    )
    amount = validation.amount_of(amount, renewal.currency, field="amount")
    with timeline.audited(actor, "renewal.confirm", renewal, RENEWAL_FIELDS):
        renewal.agreed_on = agreed_on
        renewal.amount = amount
        renewal.stage = RenewalStage.CONFIRMED.value
        renewal.confirmed_at = clock.now()
        renewal.confirmed_by = actor
    renewal.client.recurring_amount = amount
    _on_timeline(
        renewal,
        TimelineKind.RENEWAL_CONFIRMED,
        actor=actor,
        summary=f"Renewal confirmed by the client: {renewal.money} on {agreed_on:%d %b %Y} (R2)",
    )
    db.session.flush()


def mark_lost(renewal: Renewal, *, actor: User, reason: str) -> None:
    """The client will not renew: the renewal is lost, with the reason.

    Raises NotAllowed, RuleViolation("R2") once paid or lost, ValidationError without a
    reason."""
    access.check_works_on(actor, renewal.client)
    _check_stage(renewal, renewal.renewal_stage.is_open)
    reason = validation.required_text(reason, field="reason", message="Say why it is lost.")
    with timeline.audited(actor, "renewal.lose", renewal, RENEWAL_FIELDS):
        renewal.stage = RenewalStage.LOST.value
        renewal.lost_at = clock.now()
        renewal.lost_reason = reason
    _on_timeline(
        renewal,
        TimelineKind.RENEWAL_LOST,
        actor=actor,
        summary=f"Renewal of {renewal.due_on:%d %b %Y} lost: {reason}",
    )
    db.session.flush()


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
        summary=f"Discount of {quotation.money} {status.label.lower()} by commercial"
        + (f": {note}" if note else "")
        + " (R9)",
        detail={"quotation_id": quotation.id, "status": status},
    )
    timeline.audit(actor, f"quotation.{status.value}", quotation, after={"note": note})
    db.session.flush()


# --- R3, R8, R9: invoices ----------------------------------------------------------------------


@dataclass(frozen=True)
class Fee:
    """A customization fee to invoice with the renewal (R8)."""

    description: str
    amount: object


def _discount_line(quotation: Quotation | None, client: Client, currency: str) -> Decimal:
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
    return -quotation.discount


def issue_invoice(
    client: Client,
    *,
    actor: User,
    due_on: date | None,
    renewal: Renewal | None = None,
    fees: list[Fee] | tuple[Fee, ...] = (),
    quotation: Quotation | None = None,
    adapter: BillingAdapter | None = None,
) -> Invoice:
    """R3: create the invoice through the billing adapter: the renewal's amount (R8: with
    customization fees on the same invoice), less an approved discount (R9). The portal's
    own invoices are emailed to the client (G1 CCs); WHMCS emails its own. The renewal is
    then "invoiced".

    Refused, with nothing written: NotAllowed; RuleViolation("R3") for a renewal not
    confirmed yet or already invoiced, ("R9") for a discount not approved, used, or of
    another client; ValidationError for no due date, a bad fee, nothing to invoice or a
    total of zero or less; BillingError when the billing system refuses (the caller rolls
    back)."""
    access.check_works_on(actor, client)
    if renewal is not None:
        if renewal.client_id != client.id:
            raise ValidationError("This renewal is another client's.", field="renewal")
        if not renewal.renewal_stage.may_invoice:
            raise RuleViolation(
                "R3", "Confirm the renewal date and amount with the client first (R2)."
            )
    if due_on is None:
        raise ValidationError("Give the invoice's due date.", field="due_on")
    currency = renewal.currency if renewal is not None else client.currency
    lines: list[tuple[LineKind, str, Decimal]] = []
    if renewal is not None:
        term = renewal.agreed_on or renewal.due_on
        lines.append(
            (LineKind.RENEWAL, f"Subscription renewal from {term:%d %b %Y}", renewal.amount)
        )
    for fee in fees:
        description = validation.required_text(
            fee.description, field="fees", message="Describe each customization fee."
        )
        lines.append(
            (
                LineKind.CUSTOMIZATION,
                description,
                validation.amount_of(fee.amount, currency, field="fees"),
            )
        )
    if not lines:
        raise ValidationError("Nothing to invoice: a renewal or a customization fee.")
    discount = _discount_line(quotation, client, currency)
    if quotation is not None:
        lines.append((LineKind.DISCOUNT, f"Discount: {quotation.description}", discount))
    total = sum((amount for _, _, amount in lines), Decimal(0))
    if total <= 0:
        raise ValidationError("The invoice's total must be more than zero.", field="quotation")
    invoice = _new_invoice(
        client,
        actor=actor,
        currency=currency,
        due_on=due_on,
        lines=lines,
        quotation=quotation,
        adapter=adapter,
    )
    if quotation is not None:
        quotation.used_on_invoice_id = invoice.id
    if renewal is not None:
        with timeline.audited(actor, "renewal.invoice", renewal, RENEWAL_FIELDS):
            renewal.stage = RenewalStage.INVOICED.value
            renewal.invoice = invoice
    db.session.flush()
    return invoice


def _new_invoice(
    client: Client,
    *,
    actor: User,
    currency: str,
    due_on: date,
    lines: list[tuple[LineKind, str, Decimal]],
    quotation: Quotation | None = None,
    parent: Invoice | None = None,
    installment: tuple[int, int] | None = None,
    adapter: BillingAdapter | None = None,
) -> Invoice:
    """Write the invoice, have the billing system number it (and, for WHMCS, create and
    email it), then email the portal's own invoice; timeline and audit."""
    adapter = adapter or billing_adapter()
    now = clock.now()
    invoice = Invoice(
        client=client,
        parent=parent,
        installment_no=installment[0] if installment else None,
        installment_count=installment[1] if installment else None,
        currency=currency,
        total=sum((amount for _, _, amount in lines), Decimal(0)),
        issued_on=now.date(),
        due_on=due_on,
        status=InvoiceStatus.UNPAID.value,
        method=PaymentMethod.ONLINE.value,
        issued_at=now,
        issued_by=actor,
        billing_system=adapter.name,
    )
    for position, (kind, description, amount) in enumerate(lines, start=1):
        invoice.lines.append(
            InvoiceLine(
                position=position,
                kind=kind.value,
                description=description,
                amount=amount,
                quotation=quotation if kind is LineKind.DISCOUNT else None,
            )
        )
    db.session.add(invoice)
    db.session.flush()
    ref = adapter.create_invoice(
        InvoiceDraft(
            portal_id=invoice.id,
            issued_on=invoice.issued_on,
            due_on=due_on,
            currency=currency,
            lines=tuple(InvoiceLineDraft(d, a) for _, d, a in lines),
            billing_account_id=client.billing_account_id,
        )
    )
    invoice.number = ref.number
    invoice.external_id = ref.external_id
    message = None
    if adapter.name == "portal":
        message = _email_invoice(invoice, actor=actor, template="invoice.txt", key="issued")
    timeline.record(
        client,
        TimelineKind.INVOICE_ISSUED,
        actor=actor,
        summary=f"Invoice {invoice.label}: {invoice.money}, due {due_on:%d %b %Y} (R3)",
        detail={"invoice_id": invoice.id, "billing_system": adapter.name},
        outbox_message=message,
        at=now,
    )
    timeline.audit(
        actor, "invoice.issue", invoice, after=timeline.snapshot(invoice, INVOICE_FIELDS)
    )
    db.session.flush()
    return invoice


def _email_invoice(
    invoice: Invoice, *, actor: User | None, template: str, key: str
) -> OutboxMessage | None:
    """The invoice (or a reminder of it) emailed to the client, G1 CCs; None if no contact
    has an email address (the timeline then shows no message)."""
    client = invoice.client
    contact = client.reachable_contact("email")
    if contact is None:
        return None
    subject = {
        "invoice.txt": f"Invoice {invoice.number} – {client.store_code}",
        "invoice_reminder.txt": f"Reminder: invoice {invoice.number} – {client.store_code}",
    }[template]
    return outbox.email_client(
        client,
        contact,
        key=f"invoice-{invoice.id}-{key}",
        subject=subject,
        template=template,
        invoice=invoice,
        actor=actor,
    )


# --- R10: installments -------------------------------------------------------------------------


def installment_amounts(total: Decimal, currency: str, parts: int) -> list[Decimal]:
    """R10: `total` in `parts` installments at the currency's minor unit, summing exactly
    to it: equal parts rounded down, the remainder on the first."""
    if parts < 2:
        raise ValidationError("An installment plan has at least 2 installments.", field="due_dates")
    unit = minor_unit(currency)
    share = (total / parts).quantize(unit, rounding=ROUND_DOWN)
    if share <= 0:
        raise ValidationError("Too many installments for this total.", field="due_dates")
    amounts = [share] * parts
    amounts[0] = total - share * (parts - 1)
    return amounts


def split_into_installments(
    invoice: Invoice,
    *,
    actor: User,
    due_dates: list[date],
    adapter: BillingAdapter | None = None,
) -> list[Invoice]:
    """R10: replace an unpaid invoice by a plan of installment invoices, one per due date
    (in order, none in the past), whose amounts sum exactly to its total; each is then
    followed until paid (R4). The invoice is kept, marked split.

    Raises NotAllowed, RuleViolation("R10") for an invoice not unpaid, an installment
    itself, or with a payment reported; ValidationError for fewer than 2 dates, dates out
    of order or past."""
    access.check_works_on(actor, invoice.client)
    if invoice.invoice_status is not InvoiceStatus.UNPAID or invoice.parent_id is not None:
        raise RuleViolation("R10", "Only an unpaid invoice can be split into installments.")
    if invoice.payments:
        raise RuleViolation("R10", "A payment is recorded on this invoice: it cannot be split.")
    today = clock.now().date()
    if any(d is None for d in due_dates):
        raise ValidationError("Give every installment's due date.", field="due_dates")
    if sorted(set(due_dates)) != list(due_dates):
        raise ValidationError(
            "Give the due dates in order, one per installment.", field="due_dates"
        )
    if due_dates and due_dates[0] < today:
        raise ValidationError("An installment cannot fall due in the past.", field="due_dates")
    amounts = installment_amounts(invoice.total, invoice.currency, len(due_dates))
    with timeline.audited(actor, "invoice.split", invoice, INVOICE_FIELDS):
        invoice.status = InvoiceStatus.SPLIT.value
        invoice.method = PaymentMethod.INSTALLMENTS.value
    plan = [
        _new_invoice(
            invoice.client,
            actor=actor,
            currency=invoice.currency,
            due_on=due_on,
            lines=[
                (
                    LineKind.INSTALLMENT,
                    f"Installment {n} of {len(due_dates)} of invoice {invoice.number}",
                    amount,
                )
            ],
            parent=invoice,
            installment=(n, len(due_dates)),
            adapter=adapter,
        )
        for n, (due_on, amount) in enumerate(zip(due_dates, amounts, strict=True), start=1)
    ]
    timeline.record(
        invoice.client,
        TimelineKind.INVOICE_SPLIT,
        actor=actor,
        summary=f"Invoice {invoice.number} ({invoice.money}) split into {len(plan)} "
        "installments: " + ", ".join(f"{i.money} due {i.due_on:%d %b %Y}" for i in plan) + " (R10)",
        detail={"invoice_id": invoice.id, "installments": [i.id for i in plan]},
    )
    db.session.flush()
    return plan


# --- Payments (R5, R6, R7) ---------------------------------------------------------------------


def _check_payable(invoice: Invoice, rule: str) -> None:
    if invoice.invoice_status is not InvoiceStatus.UNPAID:
        raise RuleViolation(
            rule, f"This invoice is {invoice.invoice_status.label.lower()}: nothing to pay on it."
        )


def _record_payment(
    invoice: Invoice,
    *,
    actor: User | None,
    method: PaymentMethod,
    amount: Decimal,
    status: PaymentStatus,
    reference: str | None = None,
    receipt_number: str | None = None,
    note: str | None = None,
) -> Payment:
    now = clock.now()
    payment = Payment(
        invoice=invoice,
        method=method.value,
        amount=amount,
        currency=invoice.currency,
        status=status.value,
        reference=reference,
        receipt_number=receipt_number,
        note=note,
        reported_by=actor,
        reported_at=now,
        confirmed_by=actor if status is PaymentStatus.CONFIRMED else None,
        confirmed_at=now if status is PaymentStatus.CONFIRMED else None,
    )
    db.session.add(payment)
    db.session.flush()
    timeline.audit(
        actor, "payment.record", payment, after=timeline.snapshot(payment, PAYMENT_FIELDS)
    )
    return payment


def report_wire_transfer(
    invoice: Invoice, *, actor: User, amount: object, reference: str = "", note: str = ""
) -> Payment:
    """R7: the client says it sent a wire transfer; it waits for finance to see it arrive
    (flagged if still unconfirmed 4 days later). The client is told that finance confirms
    it when it arrives, which can take up to 4 days (the seed).

    Raises NotAllowed, RuleViolation("R7") for an invoice not unpaid or a wire already
    reported and still waiting (the same amount and reference), ValidationError for an
    amount that is not a positive amount of the invoice's currency or is more than the
    invoice owes beside the wires already waiting."""
    access.check_works_on(actor, invoice.client)
    _check_payable(invoice, "R7")
    amount = validation.amount_of(amount, invoice.currency, field="amount")
    reference = (reference or "").strip() or None
    waiting = _wires_waiting(invoice)
    for earlier in waiting:
        if earlier.amount == amount and _same_reference(earlier.reference, reference):
            raise RuleViolation(
                "R7",
                f"This wire transfer of {earlier.money} was reported on "
                f"{earlier.reported_at:%d %b %Y} and waits for finance: it is not reported "
                "twice.",
                field="amount",
            )
    _check_within_owed(invoice, amount, waiting)
    payment = _record_payment(
        invoice,
        actor=actor,
        method=PaymentMethod.WIRE,
        amount=amount,
        status=PaymentStatus.REPORTED,
        reference=reference,
        note=(note or "").strip() or None,
    )
    payment.reported_amount = amount
    invoice.method = PaymentMethod.WIRE.value
    timeline.record(
        invoice.client,
        TimelineKind.PAYMENT_REPORTED,
        actor=actor,
        summary=f"Wire transfer of {payment.money} reported for invoice {invoice.label}; "
        "finance confirms it when it arrives, within 4 days (R7)",
        detail={"invoice_id": invoice.id, "payment_id": payment.id},
        outbox_message=_tell_client_of_wire(payment, actor=actor),
    )
    db.session.flush()
    return payment


def _wires_waiting(invoice: Invoice) -> list[Payment]:
    return [
        p
        for p in invoice.payments
        if p.payment_method is PaymentMethod.WIRE and p.payment_status is PaymentStatus.REPORTED
    ]


def _same_reference(one: str | None, other: str | None) -> bool:
    """Two bank references name the same transfer, whatever their case and spacing (no
    reference matches no reference: the same amount then is the same report)."""
    return "".join((one or "").split()).upper() == "".join((other or "").split()).upper()


def wire_room(invoice: Invoice) -> Decimal:
    """R7: how much more may be reported by wire: what the invoice owes, less the wires
    already reported and waiting for finance."""
    return amounts_due([invoice])[invoice.id] - sum(
        (p.amount for p in _wires_waiting(invoice)), Decimal(0)
    )


def _check_within_owed(invoice: Invoice, amount: Decimal, waiting: list[Payment]) -> None:
    room = wire_room(invoice)
    if amount <= room:
        return
    owes = f"The invoice owes {Money(amounts_due([invoice])[invoice.id], invoice.currency)}"
    pending = sum((p.amount for p in waiting), Decimal(0))
    if pending:
        owes += (
            f", and {Money(pending, invoice.currency)} of it is reported and waiting for finance"
        )
    if room <= 0:
        raise ValidationError(f"{owes}: nothing more can be reported.", field="amount")
    raise ValidationError(
        f"{owes}: report at most {Money(room, invoice.currency)}.", field="amount"
    )


def _tell_client_of_wire(payment: Payment, *, actor: User) -> OutboxMessage | None:
    """The client is told its wire transfer is noted and that its confirmation can take up
    to 4 days (G1 CCs); None if no contact has an email address."""
    invoice = payment.invoice
    client = invoice.client
    contact = client.reachable_contact("email")
    if contact is None:
        return None
    return outbox.email_client(
        client,
        contact,
        key=f"payment-{payment.id}-reported",
        subject=f"Your wire transfer for invoice {invoice.number} – {client.store_code}",
        template="wire_reported.txt",
        invoice=invoice,
        payment=payment,
        confirm_days=WIRE_WAIT.days,
        actor=actor,
    )


def confirm_payment(
    payment: Payment,
    *,
    actor: User,
    received_amount: object,
    received_on: date | None,
    adapter: BillingAdapter | None = None,
) -> None:
    """R7: finance saw the wire transfer arrive: it records the amount and the day received
    (which count, whatever was reported); the invoice is paid once its confirmed payments
    cover it.

    Raises NotAllowed for anyone but finance (or an admin), RuleViolation("R7") if it is
    confirmed or rejected already or its invoice was paid another way, ValidationError for
    an amount that is not a positive amount of the invoice's currency or more than the
    invoice owes, or a day before the invoice or after today; BillingError when WHMCS
    refuses the payment."""
    access.check_handles_payments(actor)
    _check_waiting(payment)
    invoice = payment.invoice
    _check_payable(invoice, "R7")
    amount = validation.amount_of(received_amount, payment.currency, field="received_amount")
    owed = amounts_due([invoice])[invoice.id]
    if amount > owed:
        raise ValidationError(
            f"The invoice owes {Money(owed, invoice.currency)}: record at most that (an "
            "excess is refunded or credited in the billing system).",
            field="received_amount",
        )
    if received_on is None:
        raise ValidationError("Give the day the money arrived.", field="received_on")
    today = clock.in_zone(clock.now(), actor.timezone).date()
    earliest = min(invoice.issued_on, payment.reported_at.date()) - WIRE_EARLY
    validation.date_between(
        received_on,
        field="received_on",
        earliest=earliest,
        latest=today,
        message=f"The day it arrived: from {earliest:%d %b %Y} to today.",
    )
    with timeline.audited(actor, "payment.confirm", payment, PAYMENT_FIELDS):
        payment.amount = amount
        payment.received_on = received_on
        payment.status = PaymentStatus.CONFIRMED.value
        payment.confirmed_by = actor
        payment.confirmed_at = clock.now()
    reported = ""
    if payment.reported_amount is not None and payment.reported_amount != amount:
        reported = f" (reported: {payment.reported_money})"
    _received(
        payment,
        actor=actor,
        summary=f"{payment.payment_method.label} of {payment.money} received on "
        f"{received_on:%d %b %Y}{reported}, confirmed by finance for invoice {invoice.label}",
        adapter=adapter,
    )


def reject_wire_report(payment: Payment, *, actor: User, reason: str) -> None:
    """R7: finance found no such transfer (or not as reported): the report counts for
    nothing, the ACM is told why, and the invoice is followed up again (R4).

    Raises NotAllowed for anyone but finance (or an admin), RuleViolation("R7") if it is
    confirmed or rejected already, ValidationError without a reason."""
    access.check_handles_payments(actor)
    _check_waiting(payment)
    reason = validation.required_text(
        reason, field="reason", message="Say why: what finance found, or did not."
    )
    with timeline.audited(actor, "payment.reject", payment, PAYMENT_FIELDS):
        payment.status = PaymentStatus.REJECTED.value
        payment.rejected_by = actor
        payment.rejected_at = clock.now()
        payment.rejection_reason = reason
    invoice = payment.invoice
    client = invoice.client
    message = None
    if client.acm is not None:
        message = outbox.queue_email(
            key=f"payment-{payment.id}-rejected",
            to=[client.acm.email],
            subject=f"Wire transfer not found by finance – {client.store_code} {invoice.number}",
            body=outbox.render_email(
                "wire_rejected.txt", client=client, invoice=invoice, payment=payment
            ),
            client=client,
            actor=actor,
        )
    timeline.record(
        client,
        TimelineKind.PAYMENT_REJECTED,
        actor=actor,
        summary=f"Wire transfer of {payment.money} reported for invoice {invoice.label} "
        f"rejected by finance: {reason} (R7)",
        detail={"invoice_id": invoice.id, "payment_id": payment.id},
        outbox_message=message,
    )
    db.session.flush()


def _check_waiting(payment: Payment) -> None:
    if payment.payment_status is not PaymentStatus.REPORTED:
        raise RuleViolation(
            "R7", f"This payment is {payment.payment_status.label.lower()} already."
        )


def record_premises_payment(
    invoice: Invoice,
    *,
    actor: User,
    amount: object,
    receipt_number: str,
    adapter: BillingAdapter | None = None,
) -> Payment:
    """R6: the client paid at the premises; finance records the amount and the receipt
    number given.

    Raises NotAllowed for anyone but finance (or an admin), RuleViolation("R6") for an
    invoice not unpaid, ValidationError without a receipt number or a positive amount."""
    access.check_handles_payments(actor)
    _check_payable(invoice, "R6")
    amount = validation.amount_of(amount, invoice.currency, field="amount")
    receipt = validation.required_text(
        receipt_number, field="receipt_number", message="Give the receipt number handed over."
    )
    payment = _record_payment(
        invoice,
        actor=actor,
        method=PaymentMethod.PREMISES,
        amount=amount,
        status=PaymentStatus.CONFIRMED,
        receipt_number=receipt,
    )
    invoice.method = PaymentMethod.PREMISES.value
    _received(
        payment,
        actor=actor,
        summary=f"Paid at the premises: {payment.money}, receipt {receipt}, invoice "
        f"{invoice.label} (R6)",
        adapter=adapter,
    )
    return payment


def record_online_payment(
    invoice: Invoice,
    *,
    actor: User | None,
    reference: str = "",
    adapter: BillingAdapter | None = None,
) -> Payment:
    """Paid online: marked by finance, or found paid in the billing system (`actor` None).
    For a WHMCS invoice finance marks paid, the payment is added there too.

    Raises NotAllowed for a person who is not finance (or an admin), RuleViolation("R3")
    for an invoice not unpaid, BillingError when WHMCS refuses."""
    if actor is not None:
        access.check_handles_payments(actor)
    _check_payable(invoice, "R3")
    due = Money(invoice.total - _confirmed_total(invoice), invoice.currency).amount
    payment = _record_payment(
        invoice,
        actor=actor,
        method=PaymentMethod.ONLINE,
        amount=due,
        status=PaymentStatus.CONFIRMED,
        reference=(reference or "").strip() or None,
    )
    _received(
        payment,
        actor=actor,
        summary=f"Paid online: {payment.money} for invoice {invoice.label}",
        adapter=adapter,
        # Found paid in the billing system (no actor): it knows already.
        tell_billing=actor is not None,
    )
    return payment


def sync_with_billing(invoice: Invoice, *, adapter: BillingAdapter | None = None) -> bool:
    """R3/R4: ask the billing system whether an unpaid invoice it holds was paid online;
    records the payment if so. Returns True when it found it paid. BillingError when the
    billing system cannot answer."""
    if invoice.invoice_status is not InvoiceStatus.UNPAID or not invoice.external_id:
        return False
    status = (adapter or billing_adapter()).get_invoice(invoice.external_id)
    if not status.paid:
        return False
    record_online_payment(invoice, actor=None, reference=f"billing:{invoice.external_id}")
    return True


# The billing system's name for how a payment recorded in the portal came in (WHMCS wants
# the system name of one of its payment gateways; "mailin" is its offline payment).
BILLING_GATEWAYS = {
    PaymentMethod.WIRE: "banktransfer",
    PaymentMethod.PREMISES: "mailin",
    PaymentMethod.ONLINE: "mailin",
}


def _received(
    payment: Payment,
    *,
    actor: User | None,
    summary: str,
    adapter: BillingAdapter | None,
    tell_billing: bool = True,
) -> None:
    """A confirmed payment takes effect: the billing system is told (WHMCS), the timeline
    says so, and the invoice is settled once its confirmed payments cover it."""
    if tell_billing:
        _tell_billing(payment, adapter=adapter)
    invoice = payment.invoice
    timeline.record(
        invoice.client,
        TimelineKind.PAYMENT_CONFIRMED,
        actor=actor,
        summary=summary,
        detail={"invoice_id": invoice.id, "payment_id": payment.id},
    )
    _settle(invoice, actor=actor)


def _tell_billing(payment: Payment, *, adapter: BillingAdapter | None) -> None:
    """A payment confirmed in the portal on an invoice the billing system holds (WHMCS) is
    added there too, so it stops chasing the client. The portal's own invoices have
    nothing to tell."""
    invoice = payment.invoice
    if not invoice.external_id:
        return
    reference = payment.reference or payment.receipt_number
    (adapter or billing_adapter()).add_payment(
        invoice.external_id,
        amount=Money(payment.amount, payment.currency).amount,
        transaction_id=f"kam-{payment.id}" + (f" {reference}" if reference else ""),
        gateway=BILLING_GATEWAYS[payment.payment_method],
        paid_on=clock.now().date(),
    )


def invoices_held_by_billing() -> list[int]:
    """The unpaid invoices the billing system holds (WHMCS), for the sync sweep."""
    return list(
        db.session.scalars(
            select(Invoice.id)
            .where(Invoice.status == InvoiceStatus.UNPAID.value)
            .where(Invoice.external_id.is_not(None))
            .order_by(Invoice.id)
        )
    )


def amounts_due(invoices: list[Invoice]) -> dict[int, Decimal]:
    """What each invoice still owes (its total less the payments confirmed on it), by
    invoice id, in one query for a whole list (whose payments are not loaded)."""
    received: dict[int, Decimal] = dict.fromkeys((i.id for i in invoices), Decimal(0))
    if invoices:
        rows = db.session.execute(
            select(Payment.invoice_id, Payment.amount)
            .where(Payment.invoice_id.in_(list(received)))
            .where(Payment.status == PaymentStatus.CONFIRMED.value)
        )
        for invoice_id, amount in rows:
            received[invoice_id] += amount
    return {i.id: Money(i.total - received[i.id], i.currency).amount for i in invoices}


def _confirmed_total(invoice: Invoice) -> Decimal:
    return sum(
        (p.amount for p in invoice.payments if p.payment_status is PaymentStatus.CONFIRMED),
        Decimal(0),
    )


def _settle(invoice: Invoice, *, actor: User | None) -> None:
    """Once confirmed payments cover the invoice: paid; a plan whose installments are all
    paid pays its invoice; a paid renewal invoice pays the renewal, and the subscription
    moves to its next term."""
    if _confirmed_total(invoice) < invoice.total:
        db.session.flush()
        return
    _mark_paid(invoice, actor=actor)
    parent = invoice.parent
    if parent is not None and all(
        i.invoice_status is InvoiceStatus.PAID for i in parent.installments
    ):
        _mark_paid(parent, actor=actor)
    db.session.flush()


def _mark_paid(invoice: Invoice, *, actor: User | None) -> None:
    now = clock.now()
    with timeline.audited(actor, "invoice.paid", invoice, INVOICE_FIELDS):
        invoice.status = InvoiceStatus.PAID.value
        invoice.paid_at = now
    timeline.record(
        invoice.client,
        TimelineKind.INVOICE_PAID,
        actor=actor,
        summary=f"Invoice {invoice.label} paid: {invoice.money}",
        detail={"invoice_id": invoice.id},
        at=now,
    )
    renewal = db.session.scalar(select(Renewal).where(Renewal.invoice_id == invoice.id))
    if renewal is None:
        return
    with timeline.audited(actor, "renewal.paid", renewal, RENEWAL_FIELDS):
        renewal.stage = RenewalStage.PAID.value
        renewal.paid_at = now
    client = renewal.client
    if client.renewal_date == renewal.due_on:
        client.renewal_date = _term_after(renewal.due_on)
    _on_timeline(
        renewal,
        TimelineKind.RENEWAL_PAID,
        actor=actor,
        summary=f"Renewal of {renewal.due_on:%d %b %Y} paid; next renewal "
        f"{client.renewal_date:%d %b %Y}",
    )


def _finance_addresses() -> list[str]:
    return list(
        db.session.scalars(
            select(User.email)
            .where(User.active.is_(True))
            .where(User.role_rows.any(UserRole.role == Role.FINANCE.value))
            .order_by(User.email)
        )
    )


def flag_late_wire_transfers(*, now: datetime) -> list[Payment]:
    """R7, a sweep: wire transfers still unconfirmed 4 days after they were reported are
    flagged, once each; finance and the ACM are told by email. Returns those flagged now."""
    late = list(
        db.session.scalars(
            select(Payment)
            .where(Payment.method == PaymentMethod.WIRE.value)
            .where(Payment.status == PaymentStatus.REPORTED.value)
            .where(Payment.flagged_at.is_(None))
            .where(Payment.reported_at <= now - WIRE_WAIT)
            .options(joinedload(Payment.invoice).joinedload(Invoice.client))
            .order_by(Payment.reported_at, Payment.id)
        )
    )
    finance = _finance_addresses()
    for payment in late:
        payment.flagged_at = now
        invoice = payment.invoice
        client = invoice.client
        acm = client.acm
        recipients = finance + ([acm.email] if acm is not None else [])
        message = None
        if recipients:
            message = outbox.queue_email(
                key=f"payment-{payment.id}-flagged",
                to=recipients,
                subject=f"Wire transfer not confirmed after 4 days – {client.store_code} "
                f"{invoice.number}",
                body=outbox.render_email(
                    "wire_flagged.txt", client=client, invoice=invoice, payment=payment, acm=acm
                ),
                client=client,
                actor=None,
            )
        timeline.record(
            client,
            TimelineKind.PAYMENT_FLAGGED,
            actor=None,
            summary=f"Wire transfer of {payment.money} for invoice {invoice.label}, reported "
            f"{payment.reported_at:%d %b %Y}, still not confirmed: finance and the ACM are "
            "told (R7)",
            detail={"invoice_id": invoice.id, "payment_id": payment.id},
            outbox_message=message,
            at=now,
        )
    db.session.flush()
    return late


def raise_payment_issue(invoice: Invoice, *, actor: User, note: str) -> PaymentIssue:
    """R5: the client cannot pay as invoiced; the ACM hands it to finance with a note.

    Raises NotAllowed, RuleViolation("R5") for an invoice not unpaid or with an issue
    open already, ValidationError without a note."""
    access.check_works_on(actor, invoice.client)
    _check_payable(invoice, "R5")
    note = validation.required_text(note, field="note", message="Say what the issue is.")
    open_issue = db.session.scalar(
        select(PaymentIssue.id)
        .where(PaymentIssue.invoice_id == invoice.id)
        .where(PaymentIssue.status == PaymentIssueStatus.OPEN.value)
    )
    if open_issue is not None:
        raise RuleViolation("R5", "Finance has this invoice's payment issue already.")
    issue = PaymentIssue(
        invoice=invoice,
        note=note,
        status=PaymentIssueStatus.OPEN.value,
        raised_by=actor,
        raised_at=clock.now(),
    )
    db.session.add(issue)
    db.session.flush()
    timeline.record(
        invoice.client,
        TimelineKind.PAYMENT_ISSUE,
        actor=actor,
        summary=f"Payment issue on invoice {invoice.label} handed to finance: {note} (R5)",
        detail={"invoice_id": invoice.id, "issue_id": issue.id},
    )
    timeline.audit(actor, "payment_issue.raise", issue, after={"note": note})
    return issue


def resolve_payment_issue(
    issue: PaymentIssue, *, actor: User, new_method: str, note: str = ""
) -> None:
    """R5: finance agreed a new payment channel with the client; the invoice is followed
    on it.

    Raises NotAllowed for anyone but finance (or an admin), RuleViolation("R5") once
    resolved, ValidationError for an unknown channel."""
    access.check_handles_payments(actor)
    if issue.issue_status is not PaymentIssueStatus.OPEN:
        raise RuleViolation("R5", "This payment issue is resolved already.")
    method = validation.choice(
        PaymentMethod, new_method, field="new_method", message="Choose the payment channel agreed."
    )
    if method is PaymentMethod.INSTALLMENTS:
        raise ValidationError(
            "Installments are a plan the ACM makes (R10): choose how the client pays.",
            field="new_method",
        )
    issue.status = PaymentIssueStatus.RESOLVED.value
    issue.new_method = method.value
    issue.resolution_note = (note or "").strip() or None
    issue.resolved_by = actor
    issue.resolved_at = clock.now()
    issue.invoice.method = method.value
    timeline.record(
        issue.invoice.client,
        TimelineKind.PAYMENT_ISSUE_RESOLVED,
        actor=actor,
        summary=f"Finance agreed a new payment channel for invoice {issue.invoice.label}: "
        f"{method.label}"
        + (f". {issue.resolution_note}" if issue.resolution_note else "")
        + " (R5)",
        detail={"invoice_id": issue.invoice_id, "issue_id": issue.id, "method": method},
    )
    timeline.audit(actor, "payment_issue.resolve", issue, after={"new_method": method.value})
    db.session.flush()


# --- R4: following up until paid -------------------------------------------------------------


def _reminder_days(client: Client) -> int:
    team = client.acm.team if client.acm is not None else None
    return team.invoice_reminder_days if team is not None else DEFAULT_REMINDER_DAYS


def send_invoice_reminders(*, now: datetime) -> list[Invoice]:
    """R4, a sweep: every unpaid invoice gets a reminder email each time the team's
    interval has passed since it was issued or last reminded, until it is paid; the first
    no earlier than one interval before it falls due (an installment due in three months
    waits). Not chased: a wire transfer waiting for finance, a payment issue finance has.
    Idempotent within an interval (one message key per reminder). Returns the invoices
    reminded."""
    waiting_wire = exists().where(
        and_(
            Payment.invoice_id == Invoice.id,
            Payment.status == PaymentStatus.REPORTED.value,
        )
    )
    with_finance = exists().where(
        and_(
            PaymentIssue.invoice_id == Invoice.id,
            PaymentIssue.status == PaymentIssueStatus.OPEN.value,
        )
    )
    candidates = db.session.scalars(
        select(Invoice)
        .where(Invoice.status == InvoiceStatus.UNPAID.value)
        .where(~waiting_wire)
        .where(~with_finance)
        .options(joinedload(Invoice.client).joinedload(Client.acm))
        .order_by(Invoice.due_on, Invoice.id)
    )
    reminded = []
    for invoice in candidates:
        interval = timedelta(days=_reminder_days(invoice.client))
        since = invoice.last_reminder_at or invoice.issued_at
        if now - since < interval or invoice.due_on > (now + interval).date():
            continue
        invoice.reminders_sent += 1
        invoice.last_reminder_at = now
        message = _email_invoice(
            invoice,
            actor=None,
            template="invoice_reminder.txt",
            key=f"reminder-{invoice.reminders_sent}",
        )
        timeline.record(
            invoice.client,
            TimelineKind.INVOICE_REMINDER,
            actor=None,
            summary=f"Reminder {invoice.reminders_sent} of invoice {invoice.label}, "
            f"{invoice.money} due {invoice.due_on:%d %b %Y} (R4)",
            detail={"invoice_id": invoice.id, "reminder": invoice.reminders_sent},
            outbox_message=message,
            at=now,
        )
        reminded.append(invoice)
    db.session.flush()
    return reminded


# --- Reading -----------------------------------------------------------------------------------


def open_renewals(viewer: User) -> list[Renewal]:
    """R1: the renewals still to see through on the clients `viewer` may see, soonest
    first."""
    return list(
        db.session.scalars(
            select(Renewal)
            .join(Renewal.client)
            .where(Renewal.stage.not_in([RenewalStage.PAID.value, RenewalStage.LOST.value]))
            .where(access.visible_clients_clause(viewer))
            .options(joinedload(Renewal.client).joinedload(Client.acm), joinedload(Renewal.invoice))
            .order_by(Renewal.due_on, Renewal.id)
        )
    )


@dataclass(frozen=True)
class ClientBilling:
    """The client page's renewal panel: the renewal under way, the latest invoices (with
    their payments and open payment issues), the discounts asked of commercial."""

    renewal: Renewal | None
    invoices: list[Invoice]
    open_issues: dict[int, PaymentIssue]  # by invoice id
    quotations: list[Quotation]

    @property
    def usable_discounts(self) -> list[Quotation]:
        """R9: approved and not on an invoice yet."""
        return [
            q
            for q in self.quotations
            if q.quotation_status is QuotationStatus.APPROVED and q.used_on_invoice_id is None
        ]


def client_billing(client: Client, *, invoices: int = 10) -> ClientBilling:
    renewal = db.session.scalar(
        select(Renewal)
        .where(Renewal.client_id == client.id)
        .where(Renewal.stage.not_in([RenewalStage.PAID.value, RenewalStage.LOST.value]))
        .order_by(Renewal.due_on)
        .limit(1)
    )
    latest = list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.client_id == client.id)
            .options(selectinload(Invoice.payments), selectinload(Invoice.lines))
            .order_by(Invoice.issued_at.desc(), Invoice.id.desc())
            .limit(invoices)
        )
    )
    issues = (
        db.session.scalars(
            select(PaymentIssue)
            .where(PaymentIssue.invoice_id.in_([i.id for i in latest]))
            .where(PaymentIssue.status == PaymentIssueStatus.OPEN.value)
        )
        if latest
        else []
    )
    quotations = list(
        db.session.scalars(
            select(Quotation)
            .where(Quotation.client_id == client.id)
            .order_by(Quotation.requested_at.desc(), Quotation.id.desc())
            .limit(10)
        )
    )
    return ClientBilling(renewal, latest, {i.invoice_id: i for i in issues}, quotations)


def unpaid_invoices(viewer: User) -> list[Invoice]:
    """R4: unpaid invoices `viewer` may see (finance: all), the longest due first."""
    return list(
        db.session.scalars(
            select(Invoice)
            .join(Invoice.client)
            .where(Invoice.status == InvoiceStatus.UNPAID.value)
            .where(access.visible_invoices_clause(viewer))
            .options(joinedload(Invoice.client), joinedload(Invoice.payments))
            .order_by(Invoice.due_on, Invoice.id)
        ).unique()
    )


@dataclass(frozen=True)
class FinanceQueue:
    """Finance's landing page (R5-R7, R10)."""

    wires: list[Payment]  # reported, waiting for confirmation; flagged ones first
    premises: list[Invoice]  # to be paid at the premises: finance records the receipt
    issues: list[PaymentIssue]
    installments: list[Invoice]  # unpaid installments due within a week, or overdue


def finance_queue(*, today: date) -> FinanceQueue:
    wires = list(
        db.session.scalars(
            select(Payment)
            .where(Payment.method == PaymentMethod.WIRE.value)
            .where(Payment.status == PaymentStatus.REPORTED.value)
            .options(
                joinedload(Payment.invoice).joinedload(Invoice.client),
                joinedload(Payment.reported_by),
            )
            .order_by(Payment.flagged_at.is_(None), Payment.reported_at, Payment.id)
        )
    )
    premises = list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.status == InvoiceStatus.UNPAID.value)
            .where(Invoice.method == PaymentMethod.PREMISES.value)
            .options(joinedload(Invoice.client))
            .order_by(Invoice.due_on, Invoice.id)
        )
    )
    issues = list(
        db.session.scalars(
            select(PaymentIssue)
            .where(PaymentIssue.status == PaymentIssueStatus.OPEN.value)
            .options(
                joinedload(PaymentIssue.invoice).joinedload(Invoice.client),
                joinedload(PaymentIssue.raised_by),
            )
            .order_by(PaymentIssue.raised_at, PaymentIssue.id)
        )
    )
    installments = list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.status == InvoiceStatus.UNPAID.value)
            .where(Invoice.parent_id.is_not(None))
            .where(Invoice.due_on <= today + timedelta(days=7))
            .options(joinedload(Invoice.client))
            .order_by(Invoice.due_on, Invoice.id)
        )
    )
    return FinanceQueue(wires, premises, issues, installments)


@dataclass(frozen=True)
class ForecastRow:
    """Renewal amounts due within `days` (30, 60 or 90) for one team and currency: those
    the clients confirmed (R2, or invoiced or paid) and those not confirmed yet."""

    team: str
    currency: str
    days: int
    confirmed: Decimal
    at_risk: Decimal


FORECAST_HORIZONS = (30, 60, 90)
_CONFIRMED = (RenewalStage.CONFIRMED.value, RenewalStage.INVOICED.value, RenewalStage.PAID.value)


def forecast(viewer: User, *, today: date) -> list[ForecastRow]:
    """The renewal forecast: what falls due in the next 30/60/90 days (cumulative), per
    team and currency, confirmed against at risk, over the clients `viewer` may see
    (finance: all). A term not opened yet (31-90 days out)
    counts at its subscription's amount, not confirmed; a lost one not at all."""
    horizon = today + timedelta(days=FORECAST_HORIZONS[-1])
    terms: list[tuple[str, str, date, Decimal, bool]] = []
    opened = db.session.execute(
        select(Renewal, Client)
        .join(Renewal.client)
        .where(Renewal.due_on >= today, Renewal.due_on <= horizon)
        .where(access.visible_invoices_clause(viewer))
        .options(joinedload(Client.acm))
    )
    seen = set()
    for renewal, client in opened:
        seen.add((client.id, renewal.due_on))
        if renewal.renewal_stage is RenewalStage.LOST:
            continue
        terms.append(
            (
                _team_name(client),
                renewal.currency,
                renewal.due_on,
                renewal.amount,
                renewal.stage in _CONFIRMED,
            )
        )
    upcoming = db.session.scalars(
        select(Client)
        .where(Client.renewal_date >= today, Client.renewal_date <= horizon)
        .where(Client.recurring_amount.is_not(None))
        .where(Client.status != LifecycleStatus.CHURNED.value)
        .where(access.visible_invoices_clause(viewer))
        .options(joinedload(Client.acm))
    )
    for client in upcoming:
        if (client.id, client.renewal_date) not in seen:
            terms.append(
                (
                    _team_name(client),
                    client.currency,
                    client.renewal_date,
                    client.recurring_amount,
                    False,
                )
            )
    rows: dict[tuple[str, str, int], list[Decimal]] = {}
    for team, currency, due_on, amount, confirmed in terms:
        for days in FORECAST_HORIZONS:
            if due_on <= today + timedelta(days=days):
                totals = rows.setdefault((team, currency, days), [Decimal(0), Decimal(0)])
                totals[0 if confirmed else 1] += amount
    return [
        ForecastRow(team, currency, days, confirmed, at_risk)
        for (team, currency, days), (confirmed, at_risk) in sorted(rows.items())
    ]


def _team_name(client: Client) -> str:
    team = client.acm.team if client.acm is not None else None
    return team.name if team is not None else "No team"


def discount_queue(*, recent: int = 50) -> tuple[list[Quotation], list[Quotation]]:
    """R9, commercial's queue: the discounts waiting for a decision, the longest waiting
    first, and the `recent` latest decided, the newest first."""
    requested = list(
        db.session.scalars(
            select(Quotation)
            .where(Quotation.status == QuotationStatus.REQUESTED.value)
            .options(joinedload(Quotation.client), joinedload(Quotation.requested_by))
            .order_by(Quotation.requested_at, Quotation.id)
        )
    )
    decided = list(
        db.session.scalars(
            select(Quotation)
            .where(Quotation.status != QuotationStatus.REQUESTED.value)
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
