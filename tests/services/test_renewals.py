"""Renewals, invoices and payments without HTTP (R1-R10): the 30-day window at its edges
and once per term, the notice and the confirmation, invoices from the billing adapter
with fees and an approved discount only, wire transfers and their 4-day window, payments
at the premises, payment issues, installments that sum exactly, reminders until paid, the
forecast and finance's queue. Money is Decimal at the currency's minor unit throughout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.billing import BillingError
from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.models import (
    AuditEvent,
    Channel,
    Invoice,
    InvoiceStatus,
    OutboxMessage,
    PaymentMethod,
    PaymentStatus,
    Renewal,
    RenewalStage,
    Role,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import renewals
from kamportal.services.renewals import Fee
from tests.billing.conftest import whmcs_server  # noqa: F401 (a fixture)

# Monday 23 Nov 2026, 09:00 UTC (the frozen clock's default).
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def world(make_team, make_user, make_client, make_contact, db, frozen_clock):
    frozen_clock(NOW)
    team = make_team(name="Cairo", shared_mailbox="cairo-kam@kam.example", invoice_reminder_days=3)
    leader = make_user(Role.LEADER, team=team, name="Layla Nour", email="leader@kam.example")
    team.leader = leader
    acm = make_user(Role.ACM, team=team, name="Mona Adel", email="mona@kam.example")
    other_acm = make_user(Role.ACM, team=make_team(name="Dubai"), email="omar@kam.example")
    finance = make_user(Role.FINANCE, name="Heba Finance", email="finance@kam.example")
    commercial = make_user(Role.COMMERCIAL, name="Hany Commercial")
    client = make_client(
        acm=acm,
        store_name="Nile Crafts",
        store_code="NILE01",
        renewal_date=TODAY + timedelta(days=20),
        recurring_amount=Decimal("12000.00"),
        currency="EGP",
    )
    make_contact(client, name="Karim Said", email="karim@nile.example", is_primary=True)
    db.session.commit()
    return {
        "team": team,
        "leader": leader,
        "acm": acm,
        "other_acm": other_acm,
        "finance": finance,
        "commercial": commercial,
        "client": client,
    }


def opened(db) -> Renewal:
    [renewal] = renewals.open_due_renewals(today=TODAY)
    db.session.commit()
    return renewal


def confirmed(world, db, amount="12000.00") -> Renewal:
    renewal = opened(db)
    renewals.notify_client(renewal, actor=world["acm"])
    renewals.confirm_renewal(renewal, actor=world["acm"], agreed_on=renewal.due_on, amount=amount)
    db.session.commit()
    return renewal


def invoiced(world, db, **kwargs):
    renewal = confirmed(world, db)
    invoice = renewals.issue_invoice(
        world["client"],
        actor=world["acm"],
        renewal=renewal,
        due_on=renewal.due_on,
        **kwargs,
    )
    db.session.commit()
    return renewal, invoice


def emails(db) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == Channel.EMAIL.value)
            .order_by(OutboxMessage.id)
        )
    )


def kinds(db, client) -> list[str]:
    return list(
        db.session.scalars(
            select(TimelineEvent.kind)
            .where(TimelineEvent.client_id == client.id)
            .order_by(TimelineEvent.id)
        )
    )


# --- R1: the 30-day window, once per term -----------------------------------------------------


@pytest.mark.parametrize(
    ("days_ahead", "opens"),
    [(-3, True), (0, True), (29, True), (30, True), (31, False), (60, False)],
)
def test_a_renewal_opens_30_days_ahead_and_not_a_day_sooner(world, db, days_ahead, opens):
    """R1: the window's edge is the 30th day."""
    world["client"].renewal_date = TODAY + timedelta(days=days_ahead)
    db.session.commit()
    found = renewals.open_due_renewals(today=TODAY)
    assert bool(found) is opens
    if opens:
        [renewal] = found
        assert renewal.due_on == TODAY + timedelta(days=days_ahead)
        assert renewal.money.amount == Decimal("12000.00") and renewal.currency == "EGP"
        assert renewal.renewal_stage is RenewalStage.DUE
        assert kinds(db, world["client"])[-1] == TimelineKind.RENEWAL_OPENED.value


def test_the_sweep_opens_a_term_once_whatever_the_runs(world, db, make_client):
    """R1: once per term; churned clients and those without an amount are left out."""
    make_client(acm=world["acm"], status="churned", renewal_date=TODAY)
    make_client(acm=world["acm"], renewal_date=TODAY, recurring_amount=None)
    assert len(renewals.open_due_renewals(today=TODAY)) == 1
    assert renewals.open_due_renewals(today=TODAY) == []
    assert renewals.open_due_renewals(today=TODAY + timedelta(days=5)) == []
    db.session.commit()
    assert len(db.session.scalars(select(Renewal)).all()) == 1


def test_a_paid_renewal_moves_the_subscription_to_its_next_term(world, db):
    """R1: paying closes the term; the next one opens 30 days before its own date."""
    renewal, invoice = invoiced(world, db)
    renewals.record_online_payment(invoice, actor=world["finance"], reference="PAY-1")
    db.session.commit()
    client = world["client"]
    assert renewal.renewal_stage is RenewalStage.PAID
    assert client.renewal_date == renewal.due_on.replace(year=renewal.due_on.year + 1)
    assert renewals.open_due_renewals(today=TODAY) == []
    next_window = client.renewal_date - timedelta(days=30)
    assert renewals.open_due_renewals(today=next_window - timedelta(days=1)) == []
    [following] = renewals.open_due_renewals(today=next_window)
    assert following.due_on == client.renewal_date


# --- R2: notice and confirmation --------------------------------------------------------------


def test_the_notice_gives_the_date_and_amount_with_the_leader_in_cc(world, db):
    renewal = opened(db)
    message = renewals.notify_client(renewal, actor=world["acm"])
    db.session.commit()
    assert message.to_addrs == ["karim@nile.example"]
    assert {"leader@kam.example", "cairo-kam@kam.example"} <= set(message.cc_addrs)  # G1
    assert "EGP12,000.00" in message.body
    assert renewal.due_on.strftime("%-d %B %Y") in message.body
    assert renewal.renewal_stage is RenewalStage.NOTIFIED
    assert renewals.notify_client(renewal, actor=world["acm"]).id == message.id  # once
    assert len(emails(db)) == 1


def test_no_notice_without_an_email_address_or_for_someone_elses_client(world, db):
    renewal = opened(db)
    with pytest.raises(NotAllowed):
        renewals.notify_client(renewal, actor=world["other_acm"])
    for contact in world["client"].contacts:
        contact.email = None
    with pytest.raises(RuleViolation) as refused:
        renewals.notify_client(renewal, actor=world["acm"])
    assert refused.value.rule == "R2"
    assert renewal.renewal_stage is RenewalStage.DUE


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (12000.5, "Give an amount."),
        ("12000.005", "at most 2 decimals"),
        ("0", "more than zero"),
        ("twelve", "Give an amount"),
    ],
)
def test_a_confirmed_amount_is_an_exact_amount_of_the_currency(world, db, amount, message):
    renewal = opened(db)
    with pytest.raises(ValidationError) as refused:
        renewals.confirm_renewal(renewal, actor=world["acm"], agreed_on=TODAY, amount=amount)
    assert message in refused.value.message and refused.value.field == "amount"
    assert renewal.renewal_stage is RenewalStage.DUE


def test_the_confirmation_records_the_date_and_the_new_amount(world, db):
    renewal = confirmed(world, db, amount="13500.50")
    assert renewal.renewal_stage is RenewalStage.CONFIRMED
    assert renewal.amount == Decimal("13500.50") and renewal.agreed_on == renewal.due_on
    assert world["client"].recurring_amount == Decimal("13500.50")
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "renewal.confirm" in actions


# --- R3, R8, R9: invoices ---------------------------------------------------------------------


def test_no_invoice_before_the_client_confirmed(world, db):
    renewal = opened(db)
    with pytest.raises(RuleViolation) as refused:
        renewals.issue_invoice(
            world["client"], actor=world["acm"], renewal=renewal, due_on=renewal.due_on
        )
    assert refused.value.rule == "R3"


def test_the_portals_invoice_is_numbered_emailed_and_the_renewal_invoiced(world, db):
    """R3 with the portal's own billing; R8: the fees on the same invoice."""
    renewal, invoice = invoiced(
        world,
        db,
        fees=[Fee("Custom checkout page", "3000.00"), Fee("Arabic invoice template", "500.25")],
    )
    assert invoice.number == f"INV-{TODAY.year}-{invoice.id:06d}"
    assert [(line.kind, line.amount) for line in invoice.lines] == [
        ("renewal", Decimal("12000.00")),
        ("customization", Decimal("3000.00")),
        ("customization", Decimal("500.25")),
    ]
    assert invoice.total == Decimal("15500.25") and invoice.currency == "EGP"
    assert renewal.renewal_stage is RenewalStage.INVOICED and renewal.invoice == invoice
    sent = emails(db)[-1]
    assert sent.subject == f"Invoice {invoice.number} – NILE01"
    assert "EGP15,500.25" in sent.body and "leader@kam.example" in sent.cc_addrs


def test_a_discount_needs_a_quotation_commercial_approved(world, db):
    """R9: requested or rejected is refused; approved goes on once, as a negative line."""
    renewal = confirmed(world, db)
    quotation = renewals.request_discount(
        world["client"], actor=world["acm"], description="Loyalty, 3rd year", discount="1200"
    )
    db.session.commit()

    def issue():
        return renewals.issue_invoice(
            world["client"],
            actor=world["acm"],
            renewal=renewal,
            due_on=renewal.due_on,
            quotation=quotation,
        )

    with pytest.raises(RuleViolation) as refused:
        issue()
    assert refused.value.rule == "R9" and "approved by commercial" in refused.value.message
    with pytest.raises(NotAllowed):
        renewals.decide_discount(quotation, actor=world["acm"], approve=True)
    renewals.decide_discount(quotation, actor=world["commercial"], approve=True)
    db.session.commit()
    invoice = issue()
    db.session.commit()
    assert [(line.kind, line.amount) for line in invoice.lines] == [
        ("renewal", Decimal("12000.00")),
        ("discount", Decimal("-1200.00")),
    ]
    assert invoice.total == Decimal("10800.00")
    assert quotation.used_on_invoice_id == invoice.id
    with pytest.raises(RuleViolation):
        renewals.issue_invoice(
            world["client"],
            actor=world["acm"],
            fees=[Fee("Banner", "100")],
            due_on=TODAY,
            quotation=quotation,
        )


def test_a_rejected_discount_needs_a_reason_and_stays_off_invoices(world, db):
    quotation = renewals.request_discount(
        world["client"], actor=world["acm"], description="Asked for 50%", discount="6000"
    )
    with pytest.raises(ValidationError):
        renewals.decide_discount(quotation, actor=world["commercial"], approve=False)
    renewals.decide_discount(
        quotation, actor=world["commercial"], approve=False, note="Above policy."
    )
    with pytest.raises(RuleViolation):
        renewals.decide_discount(quotation, actor=world["commercial"], approve=True)
    with pytest.raises(RuleViolation):
        renewals.issue_invoice(
            world["client"],
            actor=world["acm"],
            fees=[Fee("Banner", "100")],
            due_on=TODAY,
            quotation=quotation,
        )


# --- R7: wire transfers -----------------------------------------------------------------------


def test_finance_confirms_a_wire_and_only_finance(world, db):
    renewal, invoice = invoiced(world, db)
    payment = renewals.report_wire_transfer(
        invoice, actor=world["acm"], amount="12000.00", reference="CIB 778812"
    )
    db.session.commit()
    assert invoice.payment_method is PaymentMethod.WIRE
    assert invoice.invoice_status is InvoiceStatus.UNPAID
    for who in (world["acm"], world["leader"], world["commercial"]):
        with pytest.raises(NotAllowed):
            renewals.confirm_payment(payment, actor=who, received_amount="12000", received_on=TODAY)
    renewals.confirm_payment(
        payment, actor=world["finance"], received_amount="12000", received_on=TODAY
    )
    db.session.commit()
    assert invoice.invoice_status is InvoiceStatus.PAID
    assert renewal.renewal_stage is RenewalStage.PAID
    assert payment.confirmed_by == world["finance"]
    with pytest.raises(RuleViolation):
        renewals.confirm_payment(
            payment, actor=world["finance"], received_amount="12000", received_on=TODAY
        )
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert {"payment.confirm", "invoice.paid", "renewal.paid"} <= set(actions)


def test_a_wire_reported_is_at_most_what_the_invoice_owes_R7(world, db):
    """A wire of EGP 9,999,999,999 on an invoice of 12,000 is refused, and so is more than
    what is left once the wires already waiting are counted; nothing is written."""
    _, invoice = invoiced(world, db)
    with pytest.raises(ValidationError, match=r"owes EGP12,000.00: report at most EGP12,000.00"):
        renewals.report_wire_transfer(invoice, actor=world["acm"], amount="9,999,999,999")
    db.session.rollback()
    renewals.report_wire_transfer(invoice, actor=world["acm"], amount="5,000", reference="A-1")
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        renewals.report_wire_transfer(invoice, actor=world["acm"], amount="7000.01")
    assert refused.value.field == "amount"
    assert refused.value.message == (
        "The invoice owes EGP12,000.00, and EGP5,000.00 of it is reported and waiting for "
        "finance: report at most EGP7,000.00."
    )
    db.session.rollback()
    # The rest, as a second transfer, is fine.
    renewals.report_wire_transfer(invoice, actor=world["acm"], amount="7000", reference="A-2")
    db.session.commit()
    with pytest.raises(ValidationError, match="nothing more can be reported"):
        renewals.report_wire_transfer(invoice, actor=world["acm"], amount="1")
    db.session.rollback()
    assert [p.amount for p in invoice.payments] == [Decimal("5000.00"), Decimal("7000.00")]


@pytest.mark.parametrize(
    ("first", "second"),
    [(None, None), ("CIB 778812", "cib778812"), ("CIB 778812", " CIB  778812 ")],
)
def test_the_same_wire_is_not_reported_twice_R7(world, db, first, second):
    """The Back button or a colleague: the same amount and reference (however typed), while
    the first report waits for finance, is refused."""
    _, invoice = invoiced(world, db)
    renewals.report_wire_transfer(invoice, actor=world["acm"], amount="6000", reference=first)
    db.session.commit()
    with pytest.raises(RuleViolation) as refused:
        renewals.report_wire_transfer(
            invoice, actor=world["leader"], amount="6,000.00", reference=second
        )
    assert refused.value.rule == "R7" and refused.value.field == "amount"
    assert "reported on 23 Nov 2026 and waits for finance" in refused.value.message
    db.session.rollback()
    assert len(invoice.payments) == 1


def test_the_client_is_told_a_wire_can_take_4_days_to_confirm_R7_G1(world, db):
    """The seed: a client paying by wire is told confirmation can take up to 4 days; G1
    copies the ACM's leader and the team's mailbox; the email names no rule."""
    _, invoice = invoiced(world, db)
    before = len(emails(db))
    payment = renewals.report_wire_transfer(
        invoice, actor=world["acm"], amount="12,000.00", reference="CIB 1"
    )
    db.session.commit()
    [notice] = emails(db)[before:]
    assert notice.to_addrs == ["karim@nile.example"]
    assert {"leader@kam.example", "cairo-kam@kam.example"} <= set(notice.cc_addrs)
    assert notice.subject == f"Your wire transfer for invoice {invoice.number} – NILE01"
    assert "EGP12,000.00" in notice.body and "up to 4 days" in notice.body
    assert "R7" not in notice.body and "rule" not in notice.body.lower()
    reported = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.PAYMENT_REPORTED.value)
    ).one()
    assert reported.outbox_message_id == notice.id
    assert payment.reported_amount == Decimal("12000.00")


def test_finance_records_what_arrived_and_when_not_what_was_reported_R7(world, db):
    """Reported 12,000; 11,500 arrived on the 21st: that counts, the invoice owes 500; more
    than owed, a day before the invoice's month or after today are refused."""
    _, invoice = invoiced(world, db)
    payment = renewals.report_wire_transfer(invoice, actor=world["acm"], amount="12000")
    db.session.commit()
    finance = world["finance"]
    refusals = [
        ({"received_amount": "12000.01", "received_on": TODAY}, "received_amount", "at most"),
        ({"received_amount": "0", "received_on": TODAY}, "received_amount", "more than zero"),
        ({"received_amount": "1e30", "received_on": TODAY}, "received_amount", "figures"),
        ({"received_amount": "11500", "received_on": None}, "received_on", "the day"),
        (
            {"received_amount": "11500", "received_on": TODAY + timedelta(days=1)},
            "received_on",
            "to today",
        ),
        (
            {"received_amount": "11500", "received_on": TODAY - timedelta(days=31)},
            "received_on",
            "from 24 Oct 2026 to today",
        ),
    ]
    for given, field, why in refusals:
        with pytest.raises(ValidationError) as refused:
            renewals.confirm_payment(payment, actor=finance, **given)
        assert (refused.value.field, why in refused.value.message) == (field, True), given
        db.session.rollback()
    assert payment.payment_status is PaymentStatus.REPORTED

    renewals.confirm_payment(
        payment, actor=finance, received_amount="11,500", received_on=TODAY - timedelta(days=2)
    )
    db.session.commit()
    assert (payment.amount, payment.reported_amount) == (Decimal("11500.00"), Decimal("12000"))
    assert payment.received_on == TODAY - timedelta(days=2)
    assert invoice.invoice_status is InvoiceStatus.UNPAID
    assert renewals.amounts_due([invoice])[invoice.id] == Decimal("500.00")
    confirmed_event = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.PAYMENT_CONFIRMED.value)
    ).one()
    assert "EGP11,500.00 received on 21 Nov 2026 (reported: EGP12,000.00)" in (
        confirmed_event.summary
    )


def test_finance_rejects_a_wire_that_never_came_with_a_reason_R7(world, db):
    """The report counts for nothing: the ACM is told why, the invoice is reminded again
    (R4), it is never flagged, and the wire can be reported afresh."""
    _, invoice = invoiced(world, db)
    payment = renewals.report_wire_transfer(invoice, actor=world["acm"], amount="12000")
    db.session.commit()
    for who in (world["acm"], world["leader"]):
        with pytest.raises(NotAllowed):
            renewals.reject_wire_report(payment, actor=who, reason="Not in the account")
    with pytest.raises(ValidationError) as refused:
        renewals.reject_wire_report(payment, actor=world["finance"], reason="  ")
    assert refused.value.field == "reason"
    db.session.rollback()
    # While the wire waits, no reminder goes (R4).
    assert renewals.send_invoice_reminders(now=NOW + timedelta(days=40)) == []
    db.session.rollback()

    renewals.reject_wire_report(
        payment, actor=world["finance"], reason="Nothing from this client since October."
    )
    db.session.commit()
    assert payment.payment_status is PaymentStatus.REJECTED
    assert payment.rejected_by == world["finance"]
    told = emails(db)[-1]
    assert told.to_addrs == ["mona@kam.example"]
    assert "Nothing from this client since October." in told.body
    assert kinds(db, world["client"])[-1] == TimelineKind.PAYMENT_REJECTED.value
    with pytest.raises(RuleViolation):
        renewals.confirm_payment(
            payment, actor=world["finance"], received_amount="12000", received_on=TODAY
        )
    db.session.rollback()
    assert renewals.flag_late_wire_transfers(now=NOW + timedelta(days=9)) == []
    assert renewals.send_invoice_reminders(now=NOW + timedelta(days=40)) == [invoice]
    again = renewals.report_wire_transfer(invoice, actor=world["acm"], amount="12000")
    assert again.payment_status is PaymentStatus.REPORTED


def test_a_wire_unconfirmed_for_4_days_is_flagged_once(world, db):
    """R7: at 4 days after it was reported, not a minute before; finance and the ACM are
    told once; a confirmed one is never flagged."""
    _, invoice = invoiced(world, db)
    payment = renewals.report_wire_transfer(invoice, actor=world["acm"], amount="12000")
    db.session.commit()
    reported = payment.reported_at
    assert renewals.flag_late_wire_transfers(now=reported + timedelta(days=4, minutes=-1)) == []
    assert renewals.flag_late_wire_transfers(now=reported + timedelta(days=4)) == [payment]
    db.session.commit()
    assert payment.flagged_at == reported + timedelta(days=4)
    notice = emails(db)[-1]
    assert set(notice.to_addrs) == {"finance@kam.example", "mona@kam.example"}
    assert "NILE01" in notice.subject
    assert renewals.flag_late_wire_transfers(now=reported + timedelta(days=9)) == []
    assert kinds(db, world["client"]).count(TimelineKind.PAYMENT_FLAGGED.value) == 1
    # Flagged or not, finance can still confirm it.
    renewals.confirm_payment(
        payment, actor=world["finance"], received_amount="12000", received_on=TODAY
    )
    assert invoice.invoice_status is InvoiceStatus.PAID


# --- R6: at the premises ----------------------------------------------------------------------


def test_finance_records_a_payment_at_the_premises_with_its_receipt(world, db):
    _, invoice = invoiced(world, db)
    with pytest.raises(NotAllowed):
        renewals.record_premises_payment(
            invoice, actor=world["acm"], amount="12000", receipt_number="R-1"
        )
    with pytest.raises(ValidationError) as refused:
        renewals.record_premises_payment(
            invoice, actor=world["finance"], amount="12000", receipt_number=" "
        )
    assert refused.value.field == "receipt_number"
    part = renewals.record_premises_payment(
        invoice, actor=world["finance"], amount="5000", receipt_number="CAI-0091"
    )
    assert invoice.invoice_status is InvoiceStatus.UNPAID  # 7000 still owed
    renewals.record_premises_payment(
        invoice, actor=world["finance"], amount="7000.00", receipt_number="CAI-0092"
    )
    db.session.commit()
    assert invoice.invoice_status is InvoiceStatus.PAID
    assert part.receipt_number == "CAI-0091"


# --- R5: payment issues -----------------------------------------------------------------------


def test_a_payment_issue_goes_to_finance_who_agree_a_new_channel(world, db):
    _, invoice = invoiced(world, db)
    issue = renewals.raise_payment_issue(
        invoice, actor=world["acm"], note="Card declined twice; wants to pay in cash."
    )
    with pytest.raises(RuleViolation):
        renewals.raise_payment_issue(invoice, actor=world["acm"], note="again")
    assert renewals.finance_queue(today=TODAY).issues == [issue]
    with pytest.raises(NotAllowed):
        renewals.resolve_payment_issue(issue, actor=world["acm"], new_method="premises")
    with pytest.raises(ValidationError):
        renewals.resolve_payment_issue(issue, actor=world["finance"], new_method="barter")
    renewals.resolve_payment_issue(
        issue, actor=world["finance"], new_method="premises", note="Cairo office, Sunday."
    )
    db.session.commit()
    assert invoice.payment_method is PaymentMethod.PREMISES
    queue = renewals.finance_queue(today=TODAY)
    assert queue.issues == [] and queue.premises == [invoice]


# --- R10: installments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "currency", "parts", "expected"),
    [
        ("1000.00", "USD", 3, ["333.34", "333.33", "333.33"]),
        ("100.000", "KWD", 3, ["33.334", "33.333", "33.333"]),
        ("12000.00", "EGP", 4, ["3000.00"] * 4),
        ("0.05", "USD", 4, ["0.02", "0.01", "0.01", "0.01"]),
        ("1000", "JPY", 3, ["334", "333", "333"]),
    ],
)
def test_installments_sum_exactly_at_the_currencys_minor_unit(total, currency, parts, expected):
    amounts = renewals.installment_amounts(Decimal(total), currency, parts)
    assert [str(a) for a in amounts] == expected
    assert sum(amounts) == Decimal(total)


def test_an_invoice_splits_into_installments_each_followed_until_paid(world, db):
    """R10: the plan replaces the invoice; when every installment is paid, so is it and
    the renewal."""
    renewal, invoice = invoiced(world, db)
    dates = [TODAY + timedelta(days=d) for d in (5, 40, 70)]
    with pytest.raises(ValidationError):
        renewals.split_into_installments(invoice, actor=world["acm"], due_dates=dates[:1])
    with pytest.raises(ValidationError):
        renewals.split_into_installments(invoice, actor=world["acm"], due_dates=dates[::-1])
    with pytest.raises(ValidationError):
        renewals.split_into_installments(
            invoice, actor=world["acm"], due_dates=[TODAY - timedelta(days=1), *dates]
        )
    plan = renewals.split_into_installments(invoice, actor=world["acm"], due_dates=dates)
    db.session.commit()
    assert invoice.invoice_status is InvoiceStatus.SPLIT
    assert [i.total for i in plan] == [Decimal("4000.00")] * 3
    assert [i.due_on for i in plan] == dates
    assert plan[0].label == f"{plan[0].number} (installment 1 of 3)"
    assert len({i.number for i in plan}) == 3
    with pytest.raises(RuleViolation):
        renewals.split_into_installments(plan[0], actor=world["acm"], due_dates=dates)
    assert renewals.finance_queue(today=TODAY).installments == [plan[0]]

    for n, installment in enumerate(plan):
        renewals.record_online_payment(installment, actor=world["finance"], reference=f"P{n}")
        db.session.commit()
        paid = n == len(plan) - 1
        assert (invoice.invoice_status is InvoiceStatus.PAID) is paid
        assert (renewal.renewal_stage is RenewalStage.PAID) is paid


# --- R4: reminders until paid -----------------------------------------------------------------


def test_reminders_go_at_the_teams_interval_until_paid(world, db):
    renewal = confirmed(world, db)
    invoice = renewals.issue_invoice(
        world["client"], actor=world["acm"], renewal=renewal, due_on=TODAY + timedelta(days=4)
    )
    db.session.commit()
    issued = invoice.issued_at
    assert renewals.send_invoice_reminders(now=issued + timedelta(days=3, minutes=-1)) == []
    assert renewals.send_invoice_reminders(now=issued + timedelta(days=3)) == [invoice]
    assert renewals.send_invoice_reminders(now=issued + timedelta(days=3, hours=5)) == []
    db.session.commit()
    reminder = emails(db)[-1]
    assert reminder.subject == f"Reminder: invoice {invoice.number} – NILE01"
    assert "leader@kam.example" in reminder.cc_addrs
    assert renewals.send_invoice_reminders(now=issued + timedelta(days=6)) == [invoice]
    assert invoice.reminders_sent == 2
    renewals.record_online_payment(invoice, actor=world["finance"])
    assert renewals.send_invoice_reminders(now=issued + timedelta(days=30)) == []


def test_a_wire_waiting_for_finance_is_not_chased(world, db):
    _, invoice = invoiced(world, db)
    renewals.report_wire_transfer(invoice, actor=world["acm"], amount="12000")
    assert renewals.send_invoice_reminders(now=NOW + timedelta(days=10)) == []


# --- Reading: lists, finance's queue, the forecast --------------------------------------------


def test_an_acm_sees_only_their_clients_invoices_and_finance_sees_all(
    world, db, make_client, make_contact
):
    _, invoice = invoiced(world, db)
    assert renewals.unpaid_invoices(world["acm"]) == [invoice]
    assert renewals.unpaid_invoices(world["other_acm"]) == []
    assert renewals.unpaid_invoices(world["finance"]) == [invoice]
    assert renewals.open_renewals(world["other_acm"]) == []


def test_finance_sees_wires_waiting_flagged_ones_first(world, db, make_client, make_contact):
    _, first = invoiced(world, db)
    older = renewals.report_wire_transfer(first, actor=world["acm"], amount="12000")
    db.session.commit()
    clock.advance(timedelta(days=2))
    other = make_client(acm=world["acm"], currency="EGP")
    make_contact(other, email="x@other.example")
    second = renewals.issue_invoice(
        other, actor=world["acm"], fees=[Fee("Banner", "900")], due_on=TODAY + timedelta(days=9)
    )
    newer = renewals.report_wire_transfer(second, actor=world["acm"], amount="900")
    db.session.commit()
    assert renewals.finance_queue(today=TODAY).wires == [older, newer]
    renewals.flag_late_wire_transfers(now=newer.reported_at + timedelta(days=4))
    assert renewals.finance_queue(today=TODAY).wires == [older, newer]
    assert older.flagged_at is not None and newer.flagged_at is not None


def test_the_forecast_splits_confirmed_from_at_risk_per_team_and_currency(world, db, make_client):
    confirmed(world, db)  # 12000 EGP, due in 20 days, confirmed
    make_client(
        acm=world["acm"],
        renewal_date=TODAY + timedelta(days=10),
        recurring_amount=Decimal("2000"),
        currency="EGP",
    )  # due soon, not confirmed
    make_client(
        acm=world["acm"],
        renewal_date=TODAY + timedelta(days=45),
        recurring_amount=Decimal("1500"),
        currency="USD",
    )  # not opened yet
    make_client(
        acm=world["other_acm"],
        renewal_date=TODAY + timedelta(days=80),
        recurring_amount=Decimal("900"),
        currency="USD",
    )
    renewals.open_due_renewals(today=TODAY)
    db.session.commit()
    rows = {
        (r.team, r.currency, r.days): (r.confirmed, r.at_risk)
        for r in renewals.forecast(world["finance"], today=TODAY)
    }
    assert rows[("Cairo", "EGP", 30)] == (Decimal("12000.00"), Decimal("2000.00"))
    assert rows[("Cairo", "EGP", 90)] == (Decimal("12000.00"), Decimal("2000.00"))
    assert ("Cairo", "USD", 30) not in rows
    assert rows[("Cairo", "USD", 60)] == (Decimal(0), Decimal("1500.00"))
    assert rows[("Dubai", "USD", 90)] == (Decimal(0), Decimal("900.00"))
    # An ACM's forecast holds only their clients.
    mine = {(r.team, r.currency) for r in renewals.forecast(world["acm"], today=TODAY)}
    assert mine == {("Cairo", "EGP"), ("Cairo", "USD")}


def test_a_wire_is_not_confirmed_on_an_invoice_paid_another_way(world, db):
    """R7: the client paid at the premises meanwhile; the wire cannot pay it twice."""
    _, invoice = invoiced(world, db)
    wire = renewals.report_wire_transfer(invoice, actor=world["acm"], amount="12000")
    renewals.record_premises_payment(
        invoice, actor=world["finance"], amount="12000", receipt_number="CAI-1"
    )
    with pytest.raises(RuleViolation) as refused:
        renewals.confirm_payment(
            wire, actor=world["finance"], received_amount="12000", received_on=TODAY
        )
    assert refused.value.rule == "R7"
    assert wire.payment_status.value == "reported"


@pytest.mark.parametrize("amount", ["100000000000", "250000000000.50"])
def test_an_amount_too_large_for_the_books_is_refused(world, db, amount):
    renewal = opened(db)
    with pytest.raises(ValidationError, match="too large"):
        renewals.confirm_renewal(renewal, actor=world["acm"], agreed_on=TODAY, amount=amount)


def test_on_whmcs_the_invoice_is_created_there_and_payments_are_added_to_it(
    world,
    db,
    whmcs_server,  # noqa: F811
):
    """R3 through WHMCS: WHMCS numbers and emails the invoice (no portal email); a wire
    finance confirms (R7) is added to it, so WHMCS stops chasing the client. A refusal
    from WHMCS leaves nothing written."""
    world["client"].billing_account_id = "7"
    renewal = confirmed(world, db)
    emails_before = len(emails(db))
    invoice = renewals.issue_invoice(
        world["client"], actor=world["acm"], renewal=renewal, due_on=renewal.due_on
    )
    db.session.commit()
    assert invoice.billing_system == "whmcs" and invoice.external_id
    created = whmcs_server.last("CreateInvoice")
    assert created["userid"] == "7" and created["itemamount1"] == "12000.00"
    assert len(emails(db)) == emails_before  # WHMCS sends it

    wire = renewals.report_wire_transfer(
        invoice, actor=world["acm"], amount="12000", reference="CIB 1"
    )
    renewals.confirm_payment(
        wire, actor=world["finance"], received_amount="12000", received_on=TODAY
    )
    db.session.commit()
    added = whmcs_server.last("AddInvoicePayment")
    assert added["invoiceid"] == invoice.external_id and added["gateway"] == "banktransfer"
    assert added["amount"] == "12000.00" and "CIB 1" in added["transid"]
    assert invoice.invoice_status is InvoiceStatus.PAID

    whmcs_server.misbehave("error", action="CreateInvoice", message="Client ID Not Found")
    with pytest.raises(BillingError, match="Client ID Not Found"):
        renewals.issue_invoice(
            world["client"], actor=world["acm"], fees=[Fee("Banner", "100")], due_on=TODAY
        )
    db.session.rollback()
    assert db.session.scalars(select(Invoice)).all() == [invoice]


def test_no_reminder_before_the_last_interval_ahead_of_the_due_date_r4(world, db):
    """R4: an invoice due in 20 days is first reminded 3 days (the interval) before."""
    _, invoice = invoiced(world, db)  # due in 20 days
    assert renewals.send_invoice_reminders(now=NOW + timedelta(days=16)) == []
    assert renewals.send_invoice_reminders(now=NOW + timedelta(days=17)) == [invoice]


def test_an_invoice_finance_has_a_payment_issue_for_is_not_chased_r4_r5(world, db):
    _, invoice = invoiced(world, db)
    issue = renewals.raise_payment_issue(invoice, actor=world["acm"], note="Card refused.")
    assert renewals.send_invoice_reminders(now=NOW + timedelta(days=25)) == []
    renewals.resolve_payment_issue(issue, actor=world["finance"], new_method="wire")
    assert renewals.send_invoice_reminders(now=NOW + timedelta(days=25)) == [invoice]
