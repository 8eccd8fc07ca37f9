"""The renewal, invoice and payment sweeps on a real RQ worker (Redis or the embedded
queue), as cron runs them: the R1 sweep opens a term once, the R4 reminder and the R7 flag
reach a real SMTP server, each once however often the sweeps run. (The billing sync:
tests/jobs/test_payments.py.)"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kamportal import queue
from kamportal.jobs import cron
from kamportal.jobs import invoices as invoice_jobs
from kamportal.jobs import payments as payment_jobs
from kamportal.jobs import renewals as renewal_jobs
from kamportal.models import Renewal, Role
from kamportal.services import invoices, payments
from kamportal.services.invoices import Fee

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(make_portfolio, make_user, frozen_clock):
    frozen_clock(NOW)
    portfolio = make_portfolio(
        team={"invoice_reminder_days": 2},
        leader={"email": "leader@kam.example"},
        acm={"email": "mona@kam.example"},
        client={
            "renewal_date": NOW.date() + timedelta(days=30),
            "recurring_amount": Decimal("900"),
        },
        contact={"email": "karim@store.example", "is_primary": True},
    )
    make_user(Role.FINANCE, email="finance@kam.example")
    return portfolio.as_dict()


def sweep(run_jobs) -> None:
    for func in (
        renewal_jobs.open_due_renewals,
        invoice_jobs.send_invoice_reminders,
        payment_jobs.flag_late_wire_transfers,
    ):
        queue.enqueue(func, job_id=f"test-{func.__name__.replace('_', '-')}")
    run_jobs()


def test_the_sweeps_are_on_cron():
    funcs = {entry["func"] for entry in cron.entries()}
    assert {
        renewal_jobs.open_due_renewals,
        invoice_jobs.send_invoice_reminders,
        payment_jobs.flag_late_wire_transfers,
        payment_jobs.sync_with_billing,
    } <= funcs


def test_the_sweeps_open_remind_and_flag_once_each(
    app, db, world, frozen_clock, run_jobs, smtp_server
):
    sweep(run_jobs)
    sweep(run_jobs)
    db.session.expire_all()
    [renewal] = db.session.scalars(select(Renewal)).all()  # R1: once per term

    invoice = invoices.issue_invoice(
        world["client"], actor=world["acm"], fees=[Fee("Banner", "150.00")], due_on=NOW.date()
    )
    db.session.commit()
    run_jobs()  # the invoice email
    assert [m["Subject"] for m in smtp_server.messages] == [
        f"Invoice {invoice.number} – {world['client'].store_code}"
    ]

    frozen_clock(NOW + timedelta(days=2))
    sweep(run_jobs)
    sweep(run_jobs)
    reminders = [m for m in smtp_server.messages if m["Subject"].startswith("Reminder:")]
    assert len(reminders) == 1  # R4: once per interval
    assert reminders[0]["To"] == "karim@store.example"
    assert "leader@kam.example" in reminders[0]["Cc"]

    payments.report_wire_transfer(invoice, actor=world["acm"], amount="150")
    db.session.commit()
    frozen_clock(NOW + timedelta(days=6))
    sweep(run_jobs)
    sweep(run_jobs)
    flagged = [m for m in smtp_server.messages if "not confirmed after 4 days" in m["Subject"]]
    assert len(flagged) == 1  # R7: once
    assert set(flagged[0]["To"].split(", ")) == {"finance@kam.example", "mona@kam.example"}
    # A wire waiting for finance is not chased with reminders.
    assert len([m for m in smtp_server.messages if m["Subject"].startswith("Reminder:")]) == 1
    assert renewal.due_on == NOW.date() + timedelta(days=30)


def test_the_hourly_sweep_opens_each_renewal_at_the_clients_own_midnight(
    db, world, make_client, frozen_clock, run_jobs
):
    """R1 on the client's calendar: two clients renewing on 24 Dec 2026, one in Dubai
    (UTC+4), one in Los Angeles (UTC-8): the sweep run just after midnight of 24 Nov at
    each client's opens that client's renewal, and the other's not before its own."""
    due = datetime(2026, 12, 24).date()
    east = make_client(acm=world["acm"], timezone="Asia/Dubai", renewal_date=due)
    west = make_client(acm=world["acm"], timezone="America/Los_Angeles", renewal_date=due)
    dubai_midnight = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    los_angeles_midnight = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)

    def opened_now() -> set[int]:
        queue.enqueue(renewal_jobs.open_due_renewals, job_id="test-open-due-renewals")
        run_jobs()
        db.session.expire_all()
        return {r.client_id for r in db.session.scalars(select(Renewal))} - {world["client"].id}

    frozen_clock(dubai_midnight - timedelta(minutes=1))
    assert opened_now() == set()
    frozen_clock(dubai_midnight + timedelta(minutes=1))
    assert opened_now() == {east.id}
    frozen_clock(los_angeles_midnight - timedelta(minutes=1))
    assert opened_now() == {east.id}
    frozen_clock(los_angeles_midnight + timedelta(minutes=1))
    assert opened_now() == {east.id, west.id}
