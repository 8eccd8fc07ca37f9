"""P4: the monthly client report: drafted on the first working day of the month on the
client's team calendar (once per client and month), its metrics from the store's days of
the month that ended, owed on the ACM's day, sent once with its PDF (G1 CCs).

November 2026 starts on a Sunday: a Sunday-Thursday team (Cairo, 09:00 = 07:00 UTC) drafts
October's reports that morning, a Monday-Friday team (Dubai, 09:00 = 05:00 UTC) on Monday
the 2nd."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from kamportal import clock
from kamportal.errors import RuleViolation, ValidationError
from kamportal.jobs import client_reports as report_jobs
from kamportal.jobs import cron
from kamportal.models import ClientReport, OutboxMessage, ReportStatus, TimelineEvent
from kamportal.services import calendar, client_reports, day
from tests.client_view import readable
from tests.messaging.test_client_messages import internal_words
from tests.services.test_store_trends import sold

CAIRO_OPENS = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)  # Sunday 1 Nov, 09:00 in Cairo
DUBAI_OPENS = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)  # Monday 2 Nov, 09:00 in Dubai
OCTOBER = date(2026, 10, 1)


@pytest.fixture
def cairo(make_portfolio, frozen_clock):
    frozen_clock(CAIRO_OPENS - timedelta(days=3))
    return make_portfolio(
        team={"name": "Cairo", "shared_mailbox": "cairo@kam.example"},
        leader={"email": "leader@kam.example"},
        acm={"name": "Mona Adel", "email": "mona@kam.example"},
        client={"store_name": "Nile Crafts", "store_code": "NILE01"},
        contact={"name": "Karim Said", "email": "karim@nile.example", "is_primary": True},
    )


@pytest.fixture
def dubai(make_portfolio, cairo):
    return make_portfolio(
        team={
            "name": "Dubai",
            "country": "AE",
            "timezone": "Asia/Dubai",
            "working_days": "1,2,3,4,5",
        },
        client={"country": "AE", "timezone": "Asia/Dubai", "currency": "AED"},
    )


def reports(db) -> list[ClientReport]:
    return list(db.session.scalars(select(ClientReport).order_by(ClientReport.id)))


def sweep(db, at: datetime) -> list[ClientReport]:
    clock.freeze(at)
    drafted = client_reports.draft_reports(clock.now())
    db.session.commit()
    return drafted


def test_drafts_come_at_the_opening_of_the_teams_first_working_day_P4(db, cairo, dubai):
    """Sunday-Thursday against Monday-Friday: the day before nothing, a minute before the
    opening nothing, at the opening October's report of the team's clients."""
    assert sweep(db, CAIRO_OPENS - timedelta(days=1)) == []
    assert sweep(db, CAIRO_OPENS - timedelta(minutes=1)) == []

    [report] = sweep(db, CAIRO_OPENS)
    assert (report.client, report.month) == (cairo.client, OCTOBER)
    assert report.report_status is ReportStatus.DRAFT

    # Dubai's week starts on Monday: its Sunday 1 November is a weekend.
    assert sweep(db, DUBAI_OPENS - timedelta(minutes=1)) == []
    [later] = sweep(db, DUBAI_OPENS)
    assert (later.client, later.month) == (dubai.client, OCTOBER)


def test_a_holiday_on_the_first_moves_the_drafts_to_the_next_working_day_P4(db, cairo):
    calendar.set_calendar_day("EG", date(2026, 11, 1), is_holiday=True, name="Closed", actor=None)
    db.session.commit()

    assert sweep(db, CAIRO_OPENS) == []
    [report] = sweep(db, CAIRO_OPENS + timedelta(days=1))
    assert report.month == OCTOBER


def test_a_store_whose_month_is_not_over_in_its_zone_waits_for_its_midnight_P4(
    db, cairo, make_client
):
    """Its team opened, but in Honolulu it is still 31 October: its last day is not whole."""
    far = make_client(acm=cairo.acm, timezone="Pacific/Honolulu", country="US", currency="USD")
    assert [r.client for r in sweep(db, CAIRO_OPENS)] == [cairo.client]
    [report] = sweep(db, datetime(2026, 11, 1, 10, 0, tzinfo=UTC))  # midnight in Honolulu
    assert report.client == far


def test_two_sweeps_draft_one_report_per_client_and_month_P4(db, cairo):
    """The hourly job (cron) drafts once; running again, or days later, drafts nothing."""
    assert report_jobs.draft_monthly_reports in {entry["func"] for entry in cron.entries()}
    clock.freeze(CAIRO_OPENS + timedelta(hours=2))
    assert report_jobs.draft_monthly_reports() == 1
    assert report_jobs.draft_monthly_reports() == 0
    clock.freeze(CAIRO_OPENS + timedelta(days=10))
    assert report_jobs.draft_monthly_reports() == 0
    assert len(reports(db)) == 1
    drafted = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == "client_report_drafted")
    ).all()
    assert len(drafted) == 1


def test_only_live_and_at_risk_clients_get_a_report_P4(db, cairo, make_client):
    at_risk = make_client(acm=cairo.acm, status="at_risk")
    make_client(acm=cairo.acm, status="onboarding")
    make_client(acm=cairo.acm, status="churned")
    assert {r.client for r in sweep(db, CAIRO_OPENS)} == {cairo.client, at_risk}


def test_metrics_count_the_days_of_the_month_on_the_stores_calendar_P4(db, cairo):
    """The 1st and the 31st count; 30 September and 1 November do not; a day sent in
    another currency cannot be added. Month on month compares the average day."""
    sold(
        db,
        cairo.client,
        {
            date(2026, 9, 15): (4, "300.00"),
            date(2026, 9, 30): (6, "500.00"),
            date(2026, 10, 1): (10, "1000.00"),
            date(2026, 10, 15): (0, "0.00"),
            date(2026, 10, 31): (5, "500.50"),
            date(2026, 11, 1): (99, "9999.00"),
        },
    )
    sold(db, cairo.client, {date(2026, 10, 20): (50, "5000.00")}, currency="USD")

    [report] = sweep(db, CAIRO_OPENS)

    assert (report.days_with_figures, report.days_in_month) == (3, 31)
    assert (report.gmv, report.orders, report.days_with_orders) == (Decimal("1500.50"), 15, 2)
    # October's average day 500.17 against September's 400.00.
    assert report.gmv_change == Decimal("25.0")
    assert [(m.label, m.value) for m in client_reports.headline(report)] == [
        ("Revenue (sales)", "EGP1,500.50"),
        ("Change on the month before", "+25.0%"),
        ("Orders", "15"),
        ("Average order value", "EGP100.03"),
        ("Days with orders", "2 of 31"),
    ]
    assert client_reports.figures_note(report) == (
        "Sales figures reached us for 3 of the 31 days of October; the metrics cover those days."
    )


def test_a_store_without_figures_gets_a_report_saying_so_not_zeros_P4(db, cairo):
    [report] = sweep(db, CAIRO_OPENS)

    assert not report.has_figures
    assert (report.gmv, report.orders, report.gmv_change) == (None, None, None)
    assert client_reports.headline(report) == []
    note = "No sales figures reached us for October 2026, so this report has no metrics."
    assert client_reports.figures_note(report) == note
    assert note in " ".join(text_of(client_reports.pdf_of(report)).split())


def test_no_month_before_to_compare_says_so_P4(db, cairo):
    sold(db, cairo.client, {date(2026, 10, 5): (3, "90.00")})
    [report] = sweep(db, CAIRO_OPENS)
    change = client_reports.headline(report)[1]
    assert (change.value, change.note) == ("—", "no sales in September to compare with")


def test_a_draft_is_owed_on_the_acms_day_late_after_three_business_days_P4(db, cairo):
    """Drafted Sunday 1 November: due by Wednesday's closing (17:00 in Cairo), then late;
    sending takes it off."""
    [report] = sweep(db, CAIRO_OPENS)
    assert report.due_at == datetime(2026, 11, 4, 15, 0, tzinfo=UTC)

    [item] = day.client_reports_owed(cairo.acm, now=report.due_at - timedelta(minutes=1)).items
    assert (item.rule, item.client_report, item.overdue) == ("P4", report, False)
    [item] = day.client_reports_owed(cairo.acm, now=report.due_at).items
    assert item.overdue
    assert day.client_reports_owed(cairo.leader, now=report.due_at).items == []

    written(db, report, cairo.acm)
    client_reports.send_report(report, actor=cairo.acm)
    db.session.commit()
    assert day.client_reports_owed(cairo.acm, now=report.due_at).items == []


def written(db, report, actor) -> ClientReport:
    client_reports.update_report(
        report,
        actor=actor,
        commentary="A strong month: the autumn sale doubled the orders of its week.",
        proposals="Add a bundle offer and a WhatsApp button on the product pages.",
    )
    db.session.commit()
    return report


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_sending_emails_the_pdf_with_the_g1_ccs_once_P4(db, cairo, smtp_server, run_jobs):
    sold(db, cairo.client, {date(2026, 10, d): (d, f"{d * 100}.00") for d in range(1, 32)})
    [report] = sweep(db, CAIRO_OPENS + timedelta(hours=1))
    written(db, report, cairo.acm)

    first = client_reports.send_report(report, actor=cairo.acm)
    db.session.commit()
    again = client_reports.send_report(report, actor=cairo.acm)  # a second click
    db.session.commit()
    run_jobs()
    run_jobs()

    assert first.id == again.id
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    [email] = smtp_server.messages
    assert email["To"] == "karim@nile.example"
    cc = {address.strip() for address in email["Cc"].split(",")}
    assert cc == {"mona@kam.example", "leader@kam.example", "cairo@kam.example"}
    assert email["Subject"] == "Your monthly report for October 2026 – Nile Crafts"
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == "monthly-report-NILE01-2026-10.pdf"
    pdf = attachment.get_content()
    text = " ".join(text_of(pdf).split())
    for words in (
        "Monthly report – October 2026",
        "Nile Crafts",
        "EGP49,600.00",
        "A strong month",
        "Add a bundle offer",
        "Mona Adel, your account manager",
    ):
        assert words in text
    body = email.get_body(("plain",)).get_content()
    assert "Revenue (sales): EGP" in body
    assert internal_words(text) == [] and internal_words(readable(body)) == []
    # The PDF kept is the one that went.
    db.session.expire_all()
    report = db.session.get(ClientReport, report.id)
    assert report.report_status is ReportStatus.SENT
    assert report.sent_by == cairo.acm and report.outbox_message_id == first.id
    assert client_reports.pdf_of(report) == pdf
    assert cairo.client.last_contact_at == report.sent_at
    sent = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == "client_report_sent")
    ).all()
    assert [event.outbox_message_id for event in sent] == [first.id]


def test_sending_needs_the_commentary_proposals_and_an_email_address_P4(db, cairo, make_portfolio):
    [report] = sweep(db, CAIRO_OPENS)
    with pytest.raises(RuleViolation, match="commentary"):
        client_reports.send_report(report, actor=cairo.acm)
    client_reports.update_report(report, actor=cairo.acm, commentary="Good.", proposals="")
    with pytest.raises(RuleViolation, match="proposals"):
        client_reports.send_report(report, actor=cairo.acm)
    db.session.rollback()

    lonely = make_portfolio(client={"store_name": "No Mail"})
    [other] = sweep(db, CAIRO_OPENS + timedelta(minutes=5))
    assert other.client == lonely.client
    written(db, other, lonely.acm)
    with pytest.raises(ValidationError, match="email address"):
        client_reports.send_report(other, actor=lonely.acm)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_sent_report_no_longer_changes_and_text_is_bounded_P4(db, cairo, make_user):
    [report] = sweep(db, CAIRO_OPENS)
    with pytest.raises(ValidationError, match="control character"):
        client_reports.update_report(report, actor=cairo.acm, commentary="a\x00b", proposals="")
    with pytest.raises(ValidationError, match="At most"):
        client_reports.update_report(
            report, actor=cairo.acm, commentary="x" * (client_reports.TEXT_MAX + 1), proposals=""
        )
    written(db, report, cairo.acm)
    client_reports.send_report(report, actor=cairo.acm)
    db.session.commit()
    with pytest.raises(RuleViolation, match="no longer changes"):
        client_reports.update_report(report, actor=cairo.acm, commentary="x", proposals="y")


def test_the_pdf_of_a_draft_is_the_same_bytes_each_time_P4(db, cairo):
    """The preview is what would go: the document is dated the day it was drafted."""
    [report] = sweep(db, CAIRO_OPENS)
    first = client_reports.pdf_of(report)
    clock.advance(timedelta(hours=3))
    assert client_reports.pdf_of(report) == first


def test_a_missed_day_is_caught_up_within_the_due_days_and_not_after_P4(db, cairo, make_client):
    """The sweep did not run on the 1st: Tuesday's run drafts; a client that goes live
    after the drafts' three business days waits for November's report."""
    [report] = sweep(db, CAIRO_OPENS + timedelta(days=2))
    assert report.month == OCTOBER
    make_client(acm=cairo.acm)
    assert sweep(db, datetime(2026, 11, 4, 15, 0, tzinfo=UTC)) == []
    assert sweep(db, datetime(2026, 11, 20, 9, 0, tzinfo=UTC)) == []


def test_a_holiday_added_after_drafting_moves_the_due_time_and_says_so_P4(db, cairo):
    """Drafted Sunday 1 November at the opening, due Wednesday at closing; Monday made a
    holiday afterwards: due Thursday (the Time rule's recount)."""
    [report] = sweep(db, CAIRO_OPENS)
    assert report.due_at == datetime(2026, 11, 4, 15, 0, tzinfo=UTC)  # Wed 17:00 in Cairo
    calendar.set_calendar_day("EG", date(2026, 11, 2), is_holiday=True, name="Closed", actor=None)
    db.session.commit()
    db.session.refresh(report)
    assert report.due_at == datetime(2026, 11, 5, 15, 0, tzinfo=UTC)
    recounted = db.session.scalar(
        select(TimelineEvent).where(TimelineEvent.kind == "deadline_recounted")
    )
    assert recounted.summary.startswith("Monthly report to send (P4) now due")
