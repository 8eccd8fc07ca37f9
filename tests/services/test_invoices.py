"""Invoices without HTTP (R3, R4, R8, R10): invoices from the billing adapter (the portal's
own or WHMCS) with fees on the same invoice, installments that sum exactly, reminders
until paid, and who sees which invoices. Money is Decimal at the currency's minor unit
throughout."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kamportal import database
from kamportal.billing import BillingError
from kamportal.errors import ReusedMessageKey, RuleViolation, ValidationError
from kamportal.messaging import outbox
from kamportal.models import (
    Client,
    DeliveryStatus,
    Invoice,
    InvoiceStatus,
    RenewalStage,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import day, invoices, payments, renewals
from kamportal.services.invoices import Fee
from tests.billing.conftest import whmcs_server  # noqa: F401 (a fixture)
from tests.blueprints.test_query_counts import counting_queries
from tests.services import renewal_world
from tests.services.renewal_world import NOW, TODAY, confirmed, emails, invoiced, opened

# Monday 23 Nov 2026, 09:00 UTC: Mona Adel (ACM, team Cairo, led by Layla Nour) looks after
# Nile Crafts (NILE01, 12000 EGP a year, due in 20 days); Heba Finance; Hany Commercial;
# Omar, an ACM of team Dubai (tests/services/renewal_world.py).
world = renewal_world.world


# --- R3, R8: invoices --------------------------------------------------------------------------


def test_no_invoice_before_the_client_confirmed(world, db):
    renewal = opened(db)
    with pytest.raises(RuleViolation) as refused:
        invoices.issue_invoice(
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
    invoice = invoices.issue_invoice(
        world["client"], actor=world["acm"], renewal=renewal, due_on=renewal.due_on
    )
    db.session.commit()
    assert invoice.billing_system == "whmcs" and invoice.external_id
    created = whmcs_server.last("CreateInvoice")
    assert created["userid"] == "7" and created["itemamount1"] == "12000.00"
    assert len(emails(db)) == emails_before  # WHMCS sends it

    wire = payments.report_wire_transfer(
        invoice, actor=world["acm"], amount="12000", reference="CIB 1"
    )
    payments.confirm_payment(
        wire, actor=world["finance"], received_amount="12000", received_on=TODAY
    )
    db.session.commit()
    added = whmcs_server.last("AddInvoicePayment")
    assert added["invoiceid"] == invoice.external_id and added["gateway"] == "banktransfer"
    assert added["amount"] == "12000.00" and "CIB 1" in added["transid"]
    assert invoice.invoice_status is InvoiceStatus.PAID

    whmcs_server.misbehave("error", action="CreateInvoice", message="Client ID Not Found")
    with pytest.raises(BillingError, match="Client ID Not Found"):
        invoices.issue_invoice(
            world["client"], actor=world["acm"], fees=[Fee("Banner", "100")], due_on=TODAY
        )
    db.session.rollback()
    assert db.session.scalars(select(Invoice)).all() == [invoice]


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
    amounts = invoices.installment_amounts(Decimal(total), currency, parts)
    assert [str(a) for a in amounts] == expected
    assert sum(amounts) == Decimal(total)


def test_an_invoice_splits_into_installments_each_followed_until_paid(world, db):
    """R10: the plan replaces the invoice; when every installment is paid, so is it and
    the renewal."""
    renewal, invoice = invoiced(world, db)
    dates = [TODAY + timedelta(days=d) for d in (5, 40, 70)]
    with pytest.raises(ValidationError):
        invoices.split_into_installments(invoice, actor=world["acm"], due_dates=dates[:1])
    with pytest.raises(ValidationError):
        invoices.split_into_installments(invoice, actor=world["acm"], due_dates=dates[::-1])
    with pytest.raises(ValidationError):
        invoices.split_into_installments(
            invoice, actor=world["acm"], due_dates=[TODAY - timedelta(days=1), *dates]
        )
    plan = invoices.split_into_installments(invoice, actor=world["acm"], due_dates=dates)
    db.session.commit()
    assert invoice.invoice_status is InvoiceStatus.SPLIT
    assert [i.total for i in plan] == [Decimal("4000.00")] * 3
    assert [i.due_on for i in plan] == dates
    assert plan[0].label == f"{plan[0].number} (installment 1 of 3)"
    assert len({i.number for i in plan}) == 3
    with pytest.raises(RuleViolation):
        invoices.split_into_installments(plan[0], actor=world["acm"], due_dates=dates)
    assert payments.finance_queue(now=NOW).installments == [plan[0]]

    for n, installment in enumerate(plan):
        payments.record_online_payment(installment, actor=world["finance"], reference=f"P{n}")
        db.session.commit()
        paid = n == len(plan) - 1
        assert (invoice.invoice_status is InvoiceStatus.PAID) is paid
        assert (renewal.renewal_stage is RenewalStage.PAID) is paid


# --- R4: reminders until paid -----------------------------------------------------------------


def test_reminders_go_at_the_teams_interval_until_paid(world, db, run_jobs):
    renewal = confirmed(world, db)
    invoice = invoices.issue_invoice(
        world["client"], actor=world["acm"], renewal=renewal, due_on=TODAY + timedelta(days=4)
    )
    db.session.commit()
    issued = invoice.issued_at
    assert invoices.send_invoice_reminders(now=issued + timedelta(days=3, minutes=-1)) == []
    assert invoices.send_invoice_reminders(now=issued + timedelta(days=3)) == [invoice]
    assert invoices.send_invoice_reminders(now=issued + timedelta(days=3, hours=5)) == []
    db.session.commit()
    run_jobs()  # the delivery job composes the reminder as it sends it
    db.session.expire_all()
    reminder = emails(db)[-1]
    assert reminder.delivery_status is DeliveryStatus.SENT
    assert reminder.subject == f"Reminder: invoice {invoice.number} – NILE01"
    assert "leader@kam.example" in reminder.cc_addrs
    assert "is due by" in reminder.body
    assert invoices.send_invoice_reminders(now=issued + timedelta(days=6)) == [invoice]
    assert invoice.reminders_sent == 2
    payments.record_online_payment(invoice, actor=world["finance"])
    assert invoices.send_invoice_reminders(now=issued + timedelta(days=30)) == []


def test_a_reminder_is_composed_as_it_goes_to_the_address_of_then_r4(world, db, run_jobs):
    """R4: the sweep queues each reminder and its delivery composes it (issue 17), so an
    address corrected in between is the one it goes to; the timeline shows it sent."""
    _, invoice = invoiced(world, db)
    assert invoices.send_invoice_reminders(now=NOW + timedelta(days=17)) == [invoice]
    db.session.commit()
    world["contact"].email = "karim.said@nile.example"
    db.session.commit()

    run_jobs()

    db.session.expire_all()
    reminder = emails(db)[-1]
    assert reminder.idempotency_key == f"invoice-{invoice.id}-reminder-1"
    assert reminder.to_addrs == ["karim.said@nile.example"]
    assert reminder.delivery_status is DeliveryStatus.SENT
    event = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.INVOICE_REMINDER.value)
    ).one()
    assert event.outbox_message == reminder


def test_r4_sweep_statements_do_not_grow_with_the_backlog(world, db, make_client, make_contact):
    """R4 (issue 17): a 5,000-invoice backlog took 25,000 statements, five an invoice; the
    reminders, their timeline events and the counts are now written in bulk."""

    def statements(count: int) -> int:
        for _ in range(count):
            client = make_client(acm=world["acm"])
            make_contact(client)
            invoices.issue_invoice(
                client, actor=world["acm"], due_on=TODAY, fees=[Fee("Logo design", "500")]
            )
        db.session.commit()
        with counting_queries(db.engine) as run:
            reminded = invoices.send_invoice_reminders(now=NOW + timedelta(days=4))
        db.session.commit()
        assert len(reminded) == count
        return len(run)

    assert statements(2) == statements(6)
    assert len(emails(db)) == 2 * 8  # each invoice, then its reminder


def test_a_reminder_key_used_for_another_email_is_refused_r4(world, db):
    """The outbox's idempotency holds for emails queued in bulk: the same key again is the
    same message, the same key for another is refused, never dropped."""
    _, invoice = invoiced(world, db)
    reminder = outbox.LaterEmail(
        key="invoice-reminder-test",
        compose=invoices.REMINDER_EMAIL,
        params={"invoice_id": invoice.id},
        client_id=invoice.client_id,
    )
    first = outbox.queue_emails_composed_later([reminder])
    assert outbox.queue_emails_composed_later([reminder]) == first
    other = replace(reminder, params={"invoice_id": invoice.id + 1})
    with pytest.raises(ReusedMessageKey):
        outbox.queue_emails_composed_later([other])
    with pytest.raises(ValueError):
        outbox.queue_emails_composed_later([replace(reminder, compose="os:system")])


def test_a_wire_waiting_for_finance_is_not_chased(world, db):
    _, invoice = invoiced(world, db)
    payments.report_wire_transfer(invoice, actor=world["acm"], amount="12000")
    assert invoices.send_invoice_reminders(now=NOW + timedelta(days=10)) == []


def test_no_reminder_before_the_last_interval_ahead_of_the_due_date_r4(world, db):
    """R4: an invoice due in 20 days is first reminded 3 days (the interval) before."""
    _, invoice = invoiced(world, db)  # due in 20 days
    assert invoices.send_invoice_reminders(now=NOW + timedelta(days=16)) == []
    assert invoices.send_invoice_reminders(now=NOW + timedelta(days=17)) == [invoice]


def test_an_invoice_finance_has_a_payment_issue_for_is_not_chased_r4_r5(world, db):
    _, invoice = invoiced(world, db)
    issue = payments.raise_payment_issue(invoice, actor=world["acm"], note="Card refused.")
    assert invoices.send_invoice_reminders(now=NOW + timedelta(days=25)) == []
    payments.resolve_payment_issue(issue, actor=world["finance"], new_method="wire")
    assert invoices.send_invoice_reminders(now=NOW + timedelta(days=25)) == [invoice]


# --- Reading: lists ----------------------------------------------------------------------------


def test_an_acm_sees_only_their_clients_invoices_and_finance_sees_all(
    world, db, make_client, make_contact
):
    _, invoice = invoiced(world, db)
    assert invoices.unpaid_invoices(world["acm"]) == [invoice]
    assert invoices.unpaid_invoices(world["other_acm"]) == []
    assert invoices.unpaid_invoices(world["finance"]) == [invoice]
    assert renewals.open_renewals(world["other_acm"]) == []


# --- An invoice's dates are the client's (R3, R4) ---------------------------------------------


def _fee_invoice(world, make_client, zone: str, due_on: date) -> Invoice:
    client = make_client(acm=world["acm"], timezone=zone)
    invoice = invoices.issue_invoice(
        client, actor=world["acm"], fees=[Fee("Banner", "150.00")], due_on=due_on
    )
    return invoice


@pytest.mark.parametrize(
    ("zone", "midnight"),
    [
        # 1 Dec 00:00 in Cairo (UTC+2) and in Los Angeles (UTC-8).
        ("Africa/Cairo", datetime(2026, 11, 30, 22, 0, tzinfo=UTC)),
        ("America/Los_Angeles", datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
    ],
)
def test_an_invoice_is_overdue_from_the_clients_day_after_its_due_date(
    world, db, make_client, zone, midnight
):
    """R4: due on 30 Nov, an invoice is not overdue at 23:59 of the 30th at the client's,
    and is from 00:00 of 1 Dec there, whatever the UTC date."""
    invoice = _fee_invoice(world, make_client, zone, date(2026, 11, 30))
    before = midnight - timedelta(minutes=1)
    assert invoices.days_overdue(invoice, at=before) == 0
    assert not invoices.invoice_standing(invoice, at=before).overdue
    assert invoices.days_overdue(invoice, at=midnight) == 1
    assert invoices.invoice_standing(invoice, at=midnight + timedelta(minutes=1)).overdue
    assert invoices.days_overdue(invoice, at=midnight + timedelta(days=3)) == 4


def test_the_pages_count_each_invoice_overdue_on_its_own_clients_calendar_R4(
    world, db, make_client
):
    """R4 in SQL, as the leader's view and the day count it: due on 30 Nov, at 22:00 UTC
    that day an invoice is overdue in Cairo and Tokyo (already 1 Dec there), not in Los
    Angeles; the clients' zones are read once, each zone once."""
    due = date(2026, 11, 30)
    zones = ["Africa/Cairo", "America/Los_Angeles", "Asia/Tokyo", "Africa/Cairo"]
    issued = [_fee_invoice(world, make_client, zone, due) for zone in zones]
    db.session.flush()
    at = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)

    assert database.each_value(Client.timezone) == [
        "Africa/Cairo",
        "America/Los_Angeles",
        "Asia/Tokyo",
    ]
    overdue = db.session.scalars(
        select(Invoice).join(Client).where(invoices.overdue_clause(at)).order_by(Invoice.id)
    ).all()
    assert overdue == [issued[0], issued[2], issued[3]]
    a_minute_before = at - timedelta(minutes=1)
    assert db.session.scalars(
        select(Invoice).join(Client).where(invoices.overdue_clause(a_minute_before))
    ).all() == [issued[2]]


def test_an_invoice_is_issued_on_the_clients_date(world, db, make_client, frozen_clock):
    """R3: at 21:30 UTC on 23 Nov it is already the 24th in Dubai, still the 23rd in Los
    Angeles: each client's invoice carries its own date."""
    frozen_clock(datetime(2026, 11, 23, 21, 30, tzinfo=UTC))
    due = date(2026, 12, 20)
    assert _fee_invoice(world, make_client, "Asia/Dubai", due).issued_on == date(2026, 11, 24)
    assert _fee_invoice(world, make_client, "America/Los_Angeles", due).issued_on == date(
        2026, 11, 23
    )


def test_a_paid_invoice_is_never_overdue_and_offers_nothing(world, db):
    """R4, R5, R7, R10: once paid, an invoice is not late and the panel offers no action on
    it."""
    _, invoice = invoiced(world, db)
    payments.record_online_payment(invoice, actor=world["finance"], reference="PAY-1")
    standing = invoices.invoice_standing(invoice, at=NOW + timedelta(days=400))
    assert standing.days_overdue == 0
    assert not (standing.may_report_wire or standing.may_raise_issue or standing.may_split)


def test_an_installment_is_not_due_in_the_past_of_the_clients_calendar(
    world, db, make_client, frozen_clock
):
    """R10: at 23:30 UTC on 23 Nov, the 24th in Dubai: an installment due on the 23rd is
    in the past for the Dubai client, though not for UTC."""
    frozen_clock(datetime(2026, 11, 23, 23, 30, tzinfo=UTC))
    invoice = _fee_invoice(world, make_client, "Asia/Dubai", date(2026, 12, 20))
    with pytest.raises(ValidationError):
        invoices.split_into_installments(
            invoice, actor=world["acm"], due_dates=[date(2026, 11, 23), date(2026, 12, 23)]
        )
    plan = invoices.split_into_installments(
        invoice, actor=world["acm"], due_dates=[date(2026, 11, 24), date(2026, 12, 24)]
    )
    assert [i.issued_on for i in plan] == [date(2026, 11, 24)] * 2


def test_the_acms_day_says_an_invoice_is_overdue_from_the_clients_next_day(world, db):
    """R4 on the day page: Mona's day (her zone UTC) marks Nile Crafts' invoice due on 30
    Nov overdue from midnight in Cairo (22:00 UTC), not from UTC's midnight."""
    invoice = invoices.issue_invoice(
        world["client"], actor=world["acm"], fees=[Fee("Banner", "150")], due_on=date(2026, 11, 30)
    )
    db.session.commit()
    cairo_midnight = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)

    def overdue(at: datetime) -> bool:
        [item] = [i for i in day.renewals_owed(world["acm"], now=at).items if i.kind == "invoice"]
        assert item.due_on == invoice.due_on
        return item.overdue

    assert not overdue(cairo_midnight - timedelta(minutes=1))
    assert overdue(cairo_midnight)
