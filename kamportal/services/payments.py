"""Payments (R5-R7) and finance's queue. Money is never wrong: every amount is a Decimal
at its currency's minor unit, with its currency.

R5: a payment issue goes to finance, who agree a new payment channel.
R6: finance records a payment at the premises with its receipt.
R7: the ACM reports a wire transfer; finance confirms it; one unconfirmed 4 days after it
was reported is flagged to finance and the ACM.
Online: finance marks an invoice paid online, or the billing system (WHMCS) found it paid.
A payment confirmed in the portal is added in the billing system too; once its confirmed
payments cover it, the invoice is paid (and so is its renewal, services/renewals.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.orm import joinedload

from kamportal import clock, i18n
from kamportal.billing import BillingAdapter, billing_adapter
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    Client,
    Invoice,
    InvoiceStatus,
    Money,
    OutboxMessage,
    Payment,
    PaymentIssue,
    PaymentIssueStatus,
    PaymentMethod,
    PaymentStatus,
    Role,
    TimelineKind,
    User,
)
from kamportal.services import (
    access,
    accounts,
    churn,
    events,
    notifications,
    paging,
    timeline,
    validation,
)
from kamportal.services.invoices import INVOICE_FIELDS, amounts_due, days_overdue
from kamportal.services.renewals import client_today, settle_renewal

# R7: a reported wire transfer is tracked this long before it is flagged.
WIRE_WAIT = timedelta(days=4)
# R7: a wire may arrive a while before the invoice or the report (the client paid ahead).
WIRE_EARLY = timedelta(days=30)
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


def draft_wire_acknowledgment(
    invoice: Invoice, *, actor: User, amount: object, reference: str = "", note: str = ""
) -> outbox.Draft:
    """R7: the email the client gets when this wire transfer is reported, for a preview.
    The wire is reported to compose it, so the caller rolls back: nothing is kept.

    Raises as `report_wire_transfer`, and RuleViolation("R7") when no contact of the client
    has an email address."""
    payment = report_wire_transfer(
        invoice, actor=actor, amount=amount, reference=reference, note=note
    )
    message = outbox.find_by_key(_wire_message_key(payment))
    if message is None:
        raise RuleViolation("R7", "No contact of this client has an email address: add one.")
    return outbox.draft_of(message)


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
        key=_wire_message_key(payment),
        subject=i18n.translated(
            client.language,
            "Your wire transfer for invoice %(number)s – %(code)s",
            number=invoice.number,
            code=client.store_code,
        ),
        template="wire_reported.txt",
        invoice=invoice,
        payment=payment,
        confirm_days=WIRE_WAIT.days,
        actor=actor,
    )


def _wire_message_key(payment: Payment) -> str:
    return f"payment-{payment.id}-reported"


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
    # The day typed is finance's (no later than their today); the invoice's dates are the
    # client's.
    today = clock.today(actor.timezone)
    reported_on = client_today(invoice.client, at=payment.reported_at)
    earliest = min(invoice.issued_on, reported_on) - WIRE_EARLY
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
        paid_on=client_today(invoice.client),
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
    settle_renewal(invoice, actor=actor, at=now)
    events.invoice_paid.send(invoice, actor=actor, at=now)


def late_wire_clause(now: datetime) -> ColumnElement[bool]:
    """R7 in SQL: a wire transfer reported 4 days or more before `now` and still not
    confirmed (flagged by the sweep, or about to be)."""
    return and_(
        Payment.method == PaymentMethod.WIRE.value,
        Payment.status == PaymentStatus.REPORTED.value,
        Payment.reported_at <= now - WIRE_WAIT,
    )


def flag_late_wire_transfers(*, now: datetime) -> list[Payment]:
    """R7, a sweep: wire transfers still unconfirmed 4 days after they were reported are
    flagged, once each; finance and the ACM are told by email. Returns those flagged now.

    A few statements whatever the backlog: the flags, emails, timeline events and
    notifications are written in bulk, and each email is composed by its delivery job
    (`late_wire_email`)."""
    late = list(
        db.session.scalars(
            select(Payment)
            .where(late_wire_clause(now))
            .where(Payment.flagged_at.is_(None))
            .options(joinedload(Payment.invoice).joinedload(Invoice.client).joinedload(Client.acm))
            .order_by(Payment.reported_at, Payment.id)
        )
    )
    if not late:
        return []
    finance = accounts.emails_of(Role.FINANCE)
    for payment in late:
        payment.flagged_at = now
    messages = outbox.queue_emails_composed_later(
        [
            outbox.LaterEmail(
                key=_flag_key(payment),
                compose=LATE_WIRE_EMAIL,
                params={"payment_id": payment.id},
                client_id=payment.invoice.client_id,
            )
            for payment in late
            if finance or payment.invoice.client.acm is not None
        ]
    )
    timeline.record_many(
        TimelineKind.PAYMENT_FLAGGED,
        (
            timeline.Entry(
                payment.invoice.client_id,
                f"Wire transfer of {payment.money} for invoice {payment.invoice.label}, "
                f"reported {payment.reported_at:%d %b %Y}, still not confirmed: finance and "
                "the ACM are told (R7)",
                {"invoice_id": payment.invoice_id, "payment_id": payment.id},
                outbox_message_id=messages.get(_flag_key(payment)),
            )
            for payment in late
        ),
        actor=None,
        at=now,
    )
    notifications.notify_many(
        notifications.users_with(Role.FINANCE),
        kind=notifications.WIRE_FLAGGED,
        notes=[
            notifications.Note(
                text=f"Wire transfer for {payment.invoice.client.store_code} "
                f"{payment.invoice.number} still not confirmed after 4 days",
                link=notifications.link_to("finance.queue"),
                key=_flag_key(payment),
            )
            for payment in late
        ],
    )
    db.session.flush()
    return late


def _flag_key(payment: Payment) -> str:
    return f"payment-{payment.id}-flagged"


# R7: what composes the email about a late wire transfer, when its delivery job sends it.
LATE_WIRE_EMAIL = "kamportal.services.payments:late_wire_email"


def late_wire_email(payment_id: int) -> outbox.Draft:
    """R7: the email telling finance and the ACM that a wire transfer is still not
    confirmed, composed by its delivery job. Raises LookupError for a payment gone,
    ValueError when nobody is left to tell."""
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise LookupError(f"payment {payment_id} is gone")
    invoice = payment.invoice
    client = invoice.client
    acm = client.acm
    return outbox.draft_email(
        to=accounts.emails_of(Role.FINANCE) + ([acm.email] if acm is not None else []),
        subject=f"Wire transfer not confirmed after 4 days – {client.store_code} {invoice.number}",
        body=outbox.render_email(
            "wire_flagged.txt", client=client, invoice=invoice, payment=payment, acm=acm
        ),
        client=client,
        actor=None,
    )


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


# --- Reading -----------------------------------------------------------------------------------


# R10: finance's queue shows the installments due within this many of the client's days.
INSTALLMENTS_AHEAD = timedelta(days=7)


def days_waiting(payment: Payment, *, now: datetime) -> int:
    """R7: whole days since the payment was reported (a wire's age, in real hours)."""
    return (now - payment.reported_at).days


@dataclass(frozen=True)
class FinanceQueue:
    """Finance's landing page (R5-R7, R10) at `now`."""

    wires: list[Payment]  # reported, waiting for confirmation; flagged ones first
    premises: list[Invoice]  # to be paid at the premises: finance records the receipt
    issues: list[PaymentIssue]
    # Unpaid installments due within a week of the client's today, or overdue.
    installments: list[Invoice]
    ages: dict[int, int]  # each wire's days waiting, by payment id
    overdue: dict[int, bool]  # each installment overdue on the client's calendar, by id


# The sections of finance's queue, in the page's order.
FINANCE_SECTIONS = ("wires", "premises", "issues", "refunds", "installments")


def _wires_query() -> Select[tuple[Payment]]:
    """R7: the wire transfers reported and waiting for finance, the flagged ones first,
    then the oldest."""
    return (
        select(Payment)
        .where(Payment.method == PaymentMethod.WIRE.value)
        .where(Payment.status == PaymentStatus.REPORTED.value)
        .options(
            joinedload(Payment.invoice).joinedload(Invoice.client),
            # Only the name is shown: not the roles (a statement a section).
            joinedload(Payment.reported_by),
        )
        .order_by(Payment.flagged_at.is_(None), Payment.reported_at, Payment.id)
    )


def _premises_query() -> Select[tuple[Invoice]]:
    """R6: the unpaid invoices the client pays at the premises, the soonest due first."""
    return (
        select(Invoice)
        .where(Invoice.status == InvoiceStatus.UNPAID.value)
        .where(Invoice.method == PaymentMethod.PREMISES.value)
        .options(joinedload(Invoice.client))
        .order_by(Invoice.due_on, Invoice.id)
    )


def _issues_query() -> Select[tuple[PaymentIssue]]:
    """R5: the open payment issues, the oldest first."""
    return (
        select(PaymentIssue)
        .where(PaymentIssue.status == PaymentIssueStatus.OPEN.value)
        .options(
            joinedload(PaymentIssue.invoice).joinedload(Invoice.client),
            joinedload(PaymentIssue.raised_by),
        )
        .order_by(PaymentIssue.raised_at, PaymentIssue.id)
    )


def _installments_query(now: datetime) -> Select[tuple[Invoice]]:
    """R10: the unpaid installments due within a week of their client's today at `now`, or
    overdue, the soonest due first. Reads the zones of the clients with unpaid
    installments (one query) to hold each to its client's today, in SQL, so the list can
    be paged and counted."""
    unpaid = and_(Invoice.status == InvoiceStatus.UNPAID.value, Invoice.parent_id.is_not(None))
    zones = db.session.scalars(
        select(Client.timezone)
        .join(Invoice, Invoice.client_id == Client.id)
        .where(unpaid)
        .distinct()
    )
    zones_by_last_day: dict[date, list[str]] = {}
    for zone in zones:
        last_day = clock.today(zone, at=now) + INSTALLMENTS_AHEAD
        zones_by_last_day.setdefault(last_day, []).append(zone)
    return (
        select(Invoice)
        .join(Invoice.client)
        .where(unpaid)
        .where(
            or_(
                false(),
                *(
                    and_(Client.timezone.in_(same_day), Invoice.due_on <= last_day)
                    for last_day, same_day in zones_by_last_day.items()
                ),
            )
        )
        .options(joinedload(Invoice.client))
        .order_by(Invoice.due_on, Invoice.id)
    )


def finance_queue(*, now: datetime) -> FinanceQueue:
    """What waits for finance at `now`, whole (the CSV export): wire transfers to confirm,
    payments at the premises to record, open payment issues, and installments due within
    a week of their client's today or overdue."""
    wires = list(db.session.scalars(_wires_query()))
    installments = list(db.session.scalars(_installments_query(now)))
    return FinanceQueue(
        wires,
        list(db.session.scalars(_premises_query())),
        list(db.session.scalars(_issues_query())),
        installments,
        ages={w.id: days_waiting(w, now=now) for w in wires},
        overdue={i.id: days_overdue(i, at=now) > 0 for i in installments},
    )


def finance_queue_pages(
    *,
    now: datetime,
    pages: dict[str, int],
    per_page: int,
    sections: Iterable[str] = FINANCE_SECTIONS,
) -> dict[str, Pagination]:
    """A page of each of `sections` of finance's queue at `now` (`pages[section]`, the first
    if not given), in the order of `finance_queue`, plus the refunds requested: one
    statement for their totals, one for each page's rows (and one for the installments'
    zones), whatever the portfolio."""
    queries = {
        "wires": _wires_query,
        "premises": _premises_query,
        "issues": _issues_query,
        "refunds": churn.refunds_requested_query,
        "installments": lambda: _installments_query(now),
    }
    return paging.pages_of({name: queries[name]() for name in sections}, pages, per_page=per_page)
