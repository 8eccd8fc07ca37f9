"""Invoices (R3, R4, R8, R10). Money is never wrong: every amount is a Decimal at its
currency's minor unit, with its currency.

R3: the invoice comes from the billing system, through the billing adapter (the portal's
own numbering, or WHMCS); R8: renewal and customization fees on one invoice; R9: a discount
line only from a quotation commercial approved (services/discounts.py).
R4: an unpaid invoice is followed until paid: reminders at the team's interval.
R10: an invoice split into installment invoices whose amounts sum exactly to its total.
How an invoice is paid (R5-R7) is services/payments.py.

An invoice's dates are days of the client's calendar (services/renewals.client_today): it
is issued on the client's today and overdue from the client's day after its due date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from flask_babel import gettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from kamportal import clock, database, i18n
from kamportal.billing import BillingAdapter, InvoiceDraft, InvoiceLineDraft, billing_adapter
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    Client,
    Contact,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
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
    Team,
    TimelineKind,
    User,
    rules_of,
)
from kamportal.models.types import minor_unit
from kamportal.services import access, paging, timeline, validation
from kamportal.services.discounts import discount_line, discount_line_text
from kamportal.services.renewals import (
    RENEWAL_FIELDS,
    RenewalStanding,
    client_today,
    renewal_standing,
)

# The reminder interval (R4) of a client whose ACM has no team (the Team column's default).
INVOICE_FIELDS = ("number", "status", "total", "currency", "due_on", "method")


# --- R3, R8, R9: invoices ----------------------------------------------------------------------


@dataclass(frozen=True)
class Fee:
    """A customization fee to invoice with the renewal (R8)."""

    description: str
    amount: object


def issue_invoice(
    client: Client,
    *,
    actor: User,
    due_on: date | None,
    renewal: Renewal | None = None,
    fees: list[Fee] | tuple[Fee, ...] = (),
    quotation: Quotation | None = None,
    currency: str | None = None,
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
    currency = renewal.currency if renewal is not None else currency or client.currency
    lines: list[tuple[LineKind, str, Decimal]] = []
    if renewal is not None:
        term = renewal.agreed_on or renewal.due_on
        lines.append((LineKind.RENEWAL, renewal_line_text(client, term), renewal.amount))
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
    discount = discount_line(
        quotation,
        client,
        currency,
        fee=sum((a for k, _, a in lines if k is LineKind.CUSTOMIZATION), Decimal(0)),
        renewal=sum((a for k, _, a in lines if k is LineKind.RENEWAL), Decimal(0)),
    )
    if quotation is not None:
        with_renewal = any(kind is LineKind.RENEWAL for kind, _, _ in lines)
        lines.append(
            (
                LineKind.DISCOUNT,
                discount_line_text(quotation, client, with_renewal=with_renewal),
                discount,
            )
        )
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


def draft_invoice_email(
    client: Client,
    *,
    actor: User,
    due_on: date | None,
    renewal: Renewal | None = None,
    fees: list[Fee] | tuple[Fee, ...] = (),
    quotation: Quotation | None = None,
) -> outbox.Draft:
    """R3: the email the client gets when this invoice is issued, for a preview
    (`draft_issued_email`)."""
    return draft_issued_email(
        lambda adapter: issue_invoice(
            client,
            actor=actor,
            due_on=due_on,
            renewal=renewal,
            fees=fees,
            quotation=quotation,
            adapter=adapter,
        )
    )


def draft_issued_email(issue: Callable[[BillingAdapter], Invoice]) -> outbox.Draft:
    """R3: the email the client gets with the invoice `issue` creates through the adapter
    it is given, for a preview. The invoice is issued to compose it, so the caller rolls
    back: nothing is kept, and the number shown may be another invoice's by the time it is
    issued.

    Raises as `issue` does, and RuleViolation("R3") when the billing system emails its
    invoices itself (WHMCS, not asked: an invoice created there is not undone by a rollback)
    or no contact of the client has an email address."""
    adapter = billing_adapter()
    if not _portal_emails(adapter):
        raise RuleViolation(
            "R3",
            f"The billing system ({adapter.name.upper()}) emails the invoice to the client "
            "itself when the invoice is created: the portal sends no email, so there is none "
            "to preview.",
        )
    invoice = issue(adapter)
    message = outbox.find_by_key(_message_key(invoice, "issued"))
    if message is None:
        raise RuleViolation("R3", "No contact of this client has an email address: add one.")
    return outbox.draft_of(message)


def _portal_emails(adapter: BillingAdapter) -> bool:
    """R3: the portal emails the invoices it numbers itself; WHMCS emails its own."""
    return adapter.name == "portal"


def renewal_line_text(client: Client, term: date) -> str:
    """The renewal's line as the client reads it on the invoice, in the client's language."""
    with i18n.client_language(client.language):
        return gettext("Subscription renewal from %(day)s", day=i18n.short_date(term))


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
        issued_on=client_today(client, at=now),
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
    if _portal_emails(adapter):
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
    draft = _invoice_draft(invoice, actor=actor, template=template)
    if draft is None:
        return None
    return outbox.queue_draft(draft, key=_message_key(invoice, key))


def _message_key(invoice: Invoice, key: str) -> str:
    return f"invoice-{invoice.id}-{key}"


def draft_reminder(invoice: Invoice) -> outbox.Draft:
    """R4: the reminder the sweep would send next for `invoice`, composed and not queued (a
    preview). Raises RuleViolation("R4") for an invoice no longer unpaid, or a client
    without an email address."""
    if invoice.invoice_status is not InvoiceStatus.UNPAID:
        raise RuleViolation("R4", "Only an unpaid invoice is reminded.")
    draft = _invoice_draft(invoice, actor=None, template="invoice_reminder.txt")
    if draft is None:
        raise RuleViolation("R4", "No contact of this client has an email address: add one.")
    return draft


def _invoice_draft(invoice: Invoice, *, actor: User | None, template: str) -> outbox.Draft | None:
    client = invoice.client
    contact = client.reachable_contact("email")
    if contact is None:
        return None
    subject = {
        "invoice.txt": i18n.translated(
            client.language,
            "Invoice %(number)s – %(code)s",
            number=invoice.number,
            code=client.store_code,
        ),
        "invoice_reminder.txt": i18n.translated(
            client.language,
            "Reminder: invoice %(number)s – %(code)s",
            number=invoice.number,
            code=client.store_code,
        ),
    }[template]
    return outbox.draft_client_email(
        client,
        contact,
        subject=subject,
        template=template,
        invoice=invoice,
        actor=actor,
    )


# --- R10: installments -------------------------------------------------------------------------


def _split_refusal(invoice: Invoice) -> str | None:
    """R10: why `invoice` cannot be split into installments, or None if it can."""
    if invoice.invoice_status is not InvoiceStatus.UNPAID or invoice.parent_id is not None:
        return "Only an unpaid invoice can be split into installments."
    if invoice.payments:
        return "A payment is recorded on this invoice: it cannot be split."
    return None


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
    of order or before the client's today."""
    access.check_works_on(actor, invoice.client)
    refusal = _split_refusal(invoice)
    if refusal is not None:
        raise RuleViolation("R10", refusal)
    today = client_today(invoice.client)
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


# --- R4: following up until paid -------------------------------------------------------------


def _reminder_days(client: Client) -> int:
    team = client.acm.team if client.acm is not None else None
    return rules_of(team).invoice_reminder_days


# R4: what composes a reminder, when its delivery job sends it.
REMINDER_EMAIL = "kamportal.services.invoices:reminder_email"


def reminder_email(invoice_id: int) -> outbox.Draft:
    """R4: the reminder of invoice `invoice_id` as it goes, composed by its delivery job
    (the sweep queues thousands). Raises LookupError for an invoice gone, RuleViolation("R4")
    when no contact of the client has an email address any more."""
    client = joinedload(Invoice.client)
    invoice = db.session.get(
        Invoice,
        invoice_id,
        options=[
            client.joinedload(Client.acm).joinedload(User.team).joinedload(Team.leader),
            client.selectinload(Client.contacts),
        ],
    )
    if invoice is None:
        raise LookupError(f"invoice {invoice_id} is gone")
    draft = _invoice_draft(invoice, actor=None, template="invoice_reminder.txt")
    if draft is None:
        raise RuleViolation("R4", "No contact of this client has an email address: add one.")
    return draft


def send_invoice_reminders(*, now: datetime) -> list[Invoice]:
    """R4, a sweep: every unpaid invoice gets a reminder email each time the team's
    interval has passed since it was issued or last reminded, until it is paid; the first
    no earlier than one interval before it falls due (an installment due in three months
    waits). Not chased: a wire transfer waiting for finance, a payment issue finance has.
    Idempotent within an interval (one message key per reminder). Returns the invoices
    reminded.

    A few statements whatever the backlog: the reminders, their timeline events and the
    invoices' counts are written in bulk, and each email is composed by its delivery job
    (`reminder_email`); a client without an email address gets the timeline event only."""
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
    # Whom the email goes to is its delivery's business; here only whether anyone can get it.
    reachable = exists().where(
        and_(
            Contact.client_id == Invoice.client_id, Contact.email.is_not(None), Contact.email != ""
        )
    )
    candidates = db.session.execute(
        select(Invoice, reachable)
        .where(Invoice.status == InvoiceStatus.UNPAID.value)
        .where(~waiting_wire)
        .where(~with_finance)
        .options(joinedload(Invoice.client).joinedload(Client.acm).joinedload(User.team))
        .order_by(Invoice.due_on, Invoice.id)
    )
    reminded, emailed = [], set()
    for invoice, by_email in candidates.tuples():
        interval = timedelta(days=_reminder_days(invoice.client))
        since = invoice.last_reminder_at or invoice.issued_at
        if now - since < interval or invoice.due_on > client_today(
            invoice.client, at=now + interval
        ):
            continue
        reminded.append(invoice)
        if by_email:
            emailed.add(invoice.id)
    if not reminded:
        return []
    # Counted a thousand to a statement; the invoices in memory follow (synchronize_session).
    ids = [invoice.id for invoice in reminded]
    for start in range(0, len(ids), 1000):
        db.session.execute(
            update(Invoice)
            .where(Invoice.id.in_(ids[start : start + 1000]))
            .values(reminders_sent=Invoice.reminders_sent + 1, last_reminder_at=now)
            .execution_options(synchronize_session="evaluate")
        )
    messages = outbox.queue_emails_composed_later(
        [
            outbox.LaterEmail(
                key=_reminder_key(invoice),
                compose=REMINDER_EMAIL,
                params={"invoice_id": invoice.id},
                client_id=invoice.client_id,
            )
            for invoice in reminded
            if invoice.id in emailed
        ]
    )
    timeline.record_many(
        TimelineKind.INVOICE_REMINDER,
        (
            timeline.Entry(
                invoice.client_id,
                f"Reminder {invoice.reminders_sent} of invoice {invoice.label}, "
                f"{invoice.money} due {invoice.due_on:%d %b %Y} (R4)",
                {"invoice_id": invoice.id, "reminder": invoice.reminders_sent},
                outbox_message_id=messages.get(_reminder_key(invoice)),
            )
            for invoice in reminded
        ),
        actor=None,
        at=now,
    )
    db.session.flush()
    return reminded


def _reminder_key(invoice: Invoice) -> str:
    return _message_key(invoice, f"reminder-{invoice.reminders_sent}")


# --- Reading -----------------------------------------------------------------------------------


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


def days_overdue(invoice: Invoice, *, at: datetime | None = None) -> int:
    """R4: how many of the client's days an unpaid invoice is past its due date, now (or
    at `at`): 0 on the due date and before, 1 from the client's next midnight; 0 for an
    invoice no longer unpaid."""
    if invoice.invoice_status is not InvoiceStatus.UNPAID:
        return 0
    return max((client_today(invoice.client, at=at) - invoice.due_on).days, 0)


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """R4 in SQL (on a query joined to Client): an unpaid invoice past its due date on its
    client's calendar at `now`, as `days_overdue` counts it. Reads the clients' zones (one
    query), to compare each invoice with its client's today."""
    zones_by_today: dict[date, list[str]] = {}
    for zone in database.each_value(Client.timezone):
        zones_by_today.setdefault(clock.today(zone, at=now), []).append(zone)
    return and_(
        Invoice.status == InvoiceStatus.UNPAID.value,
        or_(
            false(),
            *(
                and_(Client.timezone.in_(same_day), Invoice.due_on < today)
                for today, same_day in zones_by_today.items()
            ),
        ),
    )


@dataclass(frozen=True)
class InvoiceStanding:
    """An invoice as the pages show it: how late it is on the client's calendar (R4), its
    open payment issue, and what the ACM may do on it now: report a wire (R7), hand a
    payment issue to finance (R5), split it into installments (R10). The services refuse
    the rest."""

    invoice: Invoice
    days_overdue: int
    open_issue: PaymentIssue | None
    may_report_wire: bool
    may_raise_issue: bool
    may_split: bool

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0


def invoice_standing(
    invoice: Invoice, *, open_issue: PaymentIssue | None = None, at: datetime | None = None
) -> InvoiceStanding:
    """Where `invoice` stands now (or at `at`); `open_issue` is its open payment issue."""
    unpaid = invoice.invoice_status is InvoiceStatus.UNPAID
    return InvoiceStanding(
        invoice=invoice,
        days_overdue=days_overdue(invoice, at=at),
        open_issue=open_issue,
        may_report_wire=unpaid,
        may_raise_issue=unpaid and open_issue is None,
        may_split=_split_refusal(invoice) is None,
    )


@dataclass(frozen=True)
class ClientBilling:
    """The client page's renewal panel: the renewal under way (where it stands), the latest
    invoices (where each stands, with its payments and open payment issue), the discounts
    asked of commercial."""

    renewal: RenewalStanding | None
    invoices: list[InvoiceStanding]
    quotations: list[Quotation]

    @property
    def usable_discounts(self) -> list[Quotation]:
        """R9: the stand-alone discounts approved and not on an invoice yet (a customization
        quotation's discount goes on the invoice issued from its request)."""
        return [
            q
            for q in self.quotations
            if q.quotation_status is QuotationStatus.APPROVED
            and q.used_on_invoice_id is None
            and q.request_id is None
        ]


def client_billing(client: Client, *, invoices: int = 10) -> ClientBilling:
    """The renewal panel of `client` now: its open renewal, its latest `invoices` and its
    latest discounts (R1-R10)."""
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
            .where(Quotation.status != QuotationStatus.NONE.value)
            .options(joinedload(Quotation.request))
            .order_by(Quotation.requested_at.desc(), Quotation.id.desc())
            .limit(10)
        )
    )
    open_issues = {i.invoice_id: i for i in issues}
    now = clock.now()
    return ClientBilling(
        renewal_standing(renewal, at=now) if renewal is not None else None,
        [invoice_standing(i, open_issue=open_issues.get(i.id), at=now) for i in latest],
        quotations,
    )


def standings(invoices: list[Invoice], *, at: datetime | None = None) -> list[InvoiceStanding]:
    """Where each of `invoices` stands now (or at `at`), their payment issues aside."""
    return [invoice_standing(i, at=at) for i in invoices]


def unpaid_invoices_query(viewer: User) -> Select[tuple[Invoice]]:
    """R4: unpaid invoices `viewer` may see (finance: all), the longest due first, with
    their clients; their payments are loaded apart (in chunks when the rows are)."""
    query = select(Invoice).where(Invoice.status == InvoiceStatus.UNPAID.value)
    return (
        paging.to_visible_clients(query, Invoice.client, access.visible_invoices_clause(viewer))
        .options(joinedload(Invoice.client), selectinload(Invoice.payments))
        .order_by(Invoice.due_on, Invoice.id)
    )


def unpaid_invoices(viewer: User) -> list[Invoice]:
    """R4: unpaid invoices `viewer` may see (finance: all), the longest due first."""
    return list(db.session.scalars(unpaid_invoices_query(viewer)))


def unpaid_invoices_page(viewer: User, *, page: int, per_page: int) -> Pagination:
    """One page of `unpaid_invoices` (the longest due on the first), and how many there
    are (three queries: the count, the rows with their clients, their payments)."""
    return db.paginate(unpaid_invoices_query(viewer), page=page, per_page=per_page, error_out=False)
