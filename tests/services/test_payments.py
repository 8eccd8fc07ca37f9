"""Payments without HTTP (R5-R7): wire transfers and their 4-day window, what finance
received rather than what was reported, payments at the premises, payment issues settled
on a new channel, and finance's queue. Money is Decimal at the currency's minor unit
throughout."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.models import (
    AuditEvent,
    DeliveryStatus,
    InvoiceStatus,
    PaymentMethod,
    PaymentStatus,
    RenewalStage,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import invoices, payments
from kamportal.services.invoices import Fee
from tests.services import renewal_world
from tests.services.renewal_world import NOW, TODAY, emails, invoiced, kinds

# Monday 23 Nov 2026, 09:00 UTC: Mona Adel (ACM, team Cairo, led by Layla Nour) looks after
# Nile Crafts (NILE01, 12000 EGP a year, due in 20 days); Heba Finance; Hany Commercial;
# Omar, an ACM of team Dubai (tests/services/renewal_world.py).
world = renewal_world.world


# --- R7: wire transfers -----------------------------------------------------------------------


def test_finance_confirms_a_wire_and_only_finance(world, db):
    renewal, invoice = invoiced(world, db)
    payment = payments.report_wire_transfer(
        invoice, actor=world["acm"], amount="12000.00", reference="CIB 778812"
    )
    db.session.commit()
    assert invoice.payment_method is PaymentMethod.WIRE
    assert invoice.invoice_status is InvoiceStatus.UNPAID
    for who in (world["acm"], world["leader"], world["commercial"]):
        with pytest.raises(NotAllowed):
            payments.confirm_payment(payment, actor=who, received_amount="12000", received_on=TODAY)
    payments.confirm_payment(
        payment, actor=world["finance"], received_amount="12000", received_on=TODAY
    )
    db.session.commit()
    assert invoice.invoice_status is InvoiceStatus.PAID
    assert renewal.renewal_stage is RenewalStage.PAID
    assert payment.confirmed_by == world["finance"]
    with pytest.raises(RuleViolation):
        payments.confirm_payment(
            payment, actor=world["finance"], received_amount="12000", received_on=TODAY
        )
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert {"payment.confirm", "invoice.paid", "renewal.paid"} <= set(actions)


def test_a_wire_reported_is_at_most_what_the_invoice_owes_R7(world, db):
    """A wire of EGP 9,999,999,999 on an invoice of 12,000 is refused, and so is more than
    what is left once the wires already waiting are counted; nothing is written."""
    _, invoice = invoiced(world, db)
    with pytest.raises(ValidationError, match=r"owes EGP12,000.00: report at most EGP12,000.00"):
        payments.report_wire_transfer(invoice, actor=world["acm"], amount="9,999,999,999")
    db.session.rollback()
    payments.report_wire_transfer(invoice, actor=world["acm"], amount="5,000", reference="A-1")
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        payments.report_wire_transfer(invoice, actor=world["acm"], amount="7000.01")
    assert refused.value.field == "amount"
    assert refused.value.message == (
        "The invoice owes EGP12,000.00, and EGP5,000.00 of it is reported and waiting for "
        "finance: report at most EGP7,000.00."
    )
    db.session.rollback()
    # The rest, as a second transfer, is fine.
    payments.report_wire_transfer(invoice, actor=world["acm"], amount="7000", reference="A-2")
    db.session.commit()
    with pytest.raises(ValidationError, match="nothing more can be reported"):
        payments.report_wire_transfer(invoice, actor=world["acm"], amount="1")
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
    payments.report_wire_transfer(invoice, actor=world["acm"], amount="6000", reference=first)
    db.session.commit()
    with pytest.raises(RuleViolation) as refused:
        payments.report_wire_transfer(
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
    payment = payments.report_wire_transfer(
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
    payment = payments.report_wire_transfer(invoice, actor=world["acm"], amount="12000")
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
            payments.confirm_payment(payment, actor=finance, **given)
        assert (refused.value.field, why in refused.value.message) == (field, True), given
        db.session.rollback()
    assert payment.payment_status is PaymentStatus.REPORTED

    payments.confirm_payment(
        payment, actor=finance, received_amount="11,500", received_on=TODAY - timedelta(days=2)
    )
    db.session.commit()
    assert (payment.amount, payment.reported_amount) == (Decimal("11500.00"), Decimal("12000"))
    assert payment.received_on == TODAY - timedelta(days=2)
    assert invoice.invoice_status is InvoiceStatus.UNPAID
    assert invoices.amounts_due([invoice])[invoice.id] == Decimal("500.00")
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
    payment = payments.report_wire_transfer(invoice, actor=world["acm"], amount="12000")
    db.session.commit()
    for who in (world["acm"], world["leader"]):
        with pytest.raises(NotAllowed):
            payments.reject_wire_report(payment, actor=who, reason="Not in the account")
    with pytest.raises(ValidationError) as refused:
        payments.reject_wire_report(payment, actor=world["finance"], reason="  ")
    assert refused.value.field == "reason"
    db.session.rollback()
    # While the wire waits, no reminder goes (R4).
    assert invoices.send_invoice_reminders(now=NOW + timedelta(days=40)) == []
    db.session.rollback()

    payments.reject_wire_report(
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
        payments.confirm_payment(
            payment, actor=world["finance"], received_amount="12000", received_on=TODAY
        )
    db.session.rollback()
    assert payments.flag_late_wire_transfers(now=NOW + timedelta(days=9)) == []
    assert invoices.send_invoice_reminders(now=NOW + timedelta(days=40)) == [invoice]
    again = payments.report_wire_transfer(invoice, actor=world["acm"], amount="12000")
    assert again.payment_status is PaymentStatus.REPORTED


def test_a_wire_unconfirmed_for_4_days_is_flagged_once(world, db, run_jobs):
    """R7: at 4 days after it was reported, not a minute before; finance and the ACM are
    told once (the delivery job composes the email); a confirmed one is never flagged."""
    _, invoice = invoiced(world, db)
    payment = payments.report_wire_transfer(invoice, actor=world["acm"], amount="12000")
    db.session.commit()
    reported = payment.reported_at
    assert payments.flag_late_wire_transfers(now=reported + timedelta(days=4, minutes=-1)) == []
    assert payments.flag_late_wire_transfers(now=reported + timedelta(days=4)) == [payment]
    db.session.commit()
    assert payment.flagged_at == reported + timedelta(days=4)
    run_jobs()
    db.session.expire_all()
    notice = emails(db)[-1]
    assert notice.delivery_status is DeliveryStatus.SENT
    assert set(notice.to_addrs) == {"finance@kam.example", "mona@kam.example"}
    assert "NILE01" in notice.subject
    assert payments.flag_late_wire_transfers(now=reported + timedelta(days=9)) == []
    assert kinds(db, world["client"]).count(TimelineKind.PAYMENT_FLAGGED.value) == 1
    # Flagged or not, finance can still confirm it.
    payments.confirm_payment(
        payment, actor=world["finance"], received_amount="12000", received_on=TODAY
    )
    assert invoice.invoice_status is InvoiceStatus.PAID


def test_a_wire_is_not_confirmed_on_an_invoice_paid_another_way(world, db):
    """R7: the client paid at the premises meanwhile; the wire cannot pay it twice."""
    _, invoice = invoiced(world, db)
    wire = payments.report_wire_transfer(invoice, actor=world["acm"], amount="12000")
    payments.record_premises_payment(
        invoice, actor=world["finance"], amount="12000", receipt_number="CAI-1"
    )
    with pytest.raises(RuleViolation) as refused:
        payments.confirm_payment(
            wire, actor=world["finance"], received_amount="12000", received_on=TODAY
        )
    assert refused.value.rule == "R7"
    assert wire.payment_status.value == "reported"


# --- R6: at the premises ----------------------------------------------------------------------


def test_finance_records_a_payment_at_the_premises_with_its_receipt(world, db):
    _, invoice = invoiced(world, db)
    with pytest.raises(NotAllowed):
        payments.record_premises_payment(
            invoice, actor=world["acm"], amount="12000", receipt_number="R-1"
        )
    with pytest.raises(ValidationError) as refused:
        payments.record_premises_payment(
            invoice, actor=world["finance"], amount="12000", receipt_number=" "
        )
    assert refused.value.field == "receipt_number"
    part = payments.record_premises_payment(
        invoice, actor=world["finance"], amount="5000", receipt_number="CAI-0091"
    )
    assert invoice.invoice_status is InvoiceStatus.UNPAID  # 7000 still owed
    payments.record_premises_payment(
        invoice, actor=world["finance"], amount="7000.00", receipt_number="CAI-0092"
    )
    db.session.commit()
    assert invoice.invoice_status is InvoiceStatus.PAID
    assert part.receipt_number == "CAI-0091"


# --- R5: payment issues -----------------------------------------------------------------------


def test_a_payment_issue_goes_to_finance_who_agree_a_new_channel(world, db):
    _, invoice = invoiced(world, db)
    issue = payments.raise_payment_issue(
        invoice, actor=world["acm"], note="Card declined twice; wants to pay in cash."
    )
    with pytest.raises(RuleViolation):
        payments.raise_payment_issue(invoice, actor=world["acm"], note="again")
    assert payments.finance_queue(now=NOW).issues == [issue]
    with pytest.raises(NotAllowed):
        payments.resolve_payment_issue(issue, actor=world["acm"], new_method="premises")
    with pytest.raises(ValidationError):
        payments.resolve_payment_issue(issue, actor=world["finance"], new_method="barter")
    payments.resolve_payment_issue(
        issue, actor=world["finance"], new_method="premises", note="Cairo office, Sunday."
    )
    db.session.commit()
    assert invoice.payment_method is PaymentMethod.PREMISES
    queue = payments.finance_queue(now=NOW)
    assert queue.issues == [] and queue.premises == [invoice]


# --- Reading: finance's queue ------------------------------------------------------------------


def test_finance_sees_wires_waiting_flagged_ones_first(world, db, make_client, make_contact):
    _, first = invoiced(world, db)
    older = payments.report_wire_transfer(first, actor=world["acm"], amount="12000")
    db.session.commit()
    clock.advance(timedelta(days=2))
    other = make_client(acm=world["acm"], currency="EGP")
    make_contact(other, email="x@other.example")
    second = invoices.issue_invoice(
        other, actor=world["acm"], fees=[Fee("Banner", "900")], due_on=TODAY + timedelta(days=9)
    )
    newer = payments.report_wire_transfer(second, actor=world["acm"], amount="900")
    db.session.commit()
    assert payments.finance_queue(now=NOW).wires == [older, newer]
    payments.flag_late_wire_transfers(now=newer.reported_at + timedelta(days=4))
    assert payments.finance_queue(now=NOW).wires == [older, newer]
    assert older.flagged_at is not None and newer.flagged_at is not None
