"""P4's pages: the monthly report (its metrics, the ACM's commentary and proposals with
their errors in place, the PDF, sending it once), the client page's panel with the
history, and the day's section."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from kamportal import clock
from kamportal.models import ClientReport, OutboxMessage, ReportStatus, Role
from kamportal.services import client_reports
from tests.services.test_client_reports import CAIRO_OPENS
from tests.services.test_store_trends import sold


@pytest.fixture
def world(make_portfolio, frozen_clock, db):
    frozen_clock(CAIRO_OPENS + timedelta(hours=1))
    cairo = make_portfolio(
        team={"name": "Cairo"},
        acm={"name": "Mona Adel"},
        client={"store_name": "Nile Crafts", "store_code": "NILE01"},
        contact={"name": "Karim Said", "email": "karim@nile.example", "is_primary": True},
    )
    sold(db, cairo.client, {date(2026, 10, d): (2, "150.00") for d in range(1, 32)})
    [report] = client_reports.draft_reports(clock.now())
    db.session.commit()
    return cairo.as_dict(report=report)


def url(report: ClientReport, *more: str) -> str:
    return "/".join([f"/reports/{report.id}", *more])


def test_the_report_page_shows_the_metrics_and_the_form(world, login_as):
    page = login_as(world["acm"]).get(url(world["report"])).get_data(as_text=True)
    assert "Monthly report: October 2026" in page
    assert "EGP4,650.00" in page and "62" in page and "31 of 31" in page
    assert 'id="client-report-form"' in page and "Send to the client" in page
    assert f'href="{url(world["report"], "report.pdf")}"' in page


def test_saving_in_place_and_field_errors_never_a_500(world, login_as, db):
    http = login_as(world["acm"])
    headers = {"HX-Request": "true"}
    nul = http.post(
        url(world["report"]), data={"commentary": "a\x00b", "proposals": "x"}, headers=headers
    )
    assert nul.status_code == 422
    body = nul.get_data(as_text=True)
    assert body.lstrip().startswith("<form") and "invisible" in body
    long = http.post(
        url(world["report"]),
        data={"commentary": "x" * (client_reports.TEXT_MAX + 1), "proposals": ""},
        headers=headers,
    )
    assert long.status_code == 422 and "4000 characters" in long.get_data(as_text=True)

    saved = http.post(
        url(world["report"]),
        data={"commentary": "A good month.", "proposals": "More photos."},
        headers=headers,
    )
    assert saved.status_code == 200 and "client-report-changed" in saved.headers["HX-Trigger"]
    db.session.expire_all()
    report = db.session.get(ClientReport, world["report"].id)
    assert (report.commentary, report.proposals) == ("A good month.", "More photos.")


def test_sending_twice_sends_once_and_a_refusal_says_why(world, login_as, db):
    http = login_as(world["acm"])
    refused = http.post(url(world["report"], "send"))
    assert refused.status_code == 422
    assert "Not sent: Write your commentary" in refused.get_data(as_text=True)

    http.post(url(world["report"]), data={"commentary": "Good.", "proposals": ""})
    refused = http.post(url(world["report"], "send"))
    assert "Write next month" in refused.get_data(as_text=True)
    assert "Good.</textarea>" in refused.get_data(as_text=True)  # as saved, still there
    http.post(url(world["report"]), data={"commentary": "Good.", "proposals": "More."})
    first = http.post(url(world["report"], "send"))
    second = http.post(url(world["report"], "send"))
    assert first.status_code == second.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    db.session.expire_all()
    assert db.session.get(ClientReport, world["report"].id).status == ReportStatus.SENT.value
    page = http.get(url(world["report"])).get_data(as_text=True)
    assert "Download the PDF as sent" in page and 'id="client-report-form"' not in page


def test_the_pdf_opens_for_the_acm_and_no_one_outside_the_client(world, login_as):
    response = login_as(world["acm"]).get(url(world["report"], "report.pdf"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert "monthly-report-NILE01-2026-10.pdf" in response.headers["Content-Disposition"]
    assert login_as(Role.ACM).get(url(world["report"], "report.pdf")).status_code == 404


def test_the_client_page_lists_each_month_with_its_status_and_pdf(
    world, login_as, make_client_report
):
    client = world["client"]
    older = make_client_report(
        client, month=date(2026, 9, 1), status="sent", sent_at=clock.now() - timedelta(days=29)
    )
    page = login_as(world["acm"]).get(f"/clients/{client.id}?tab=renewals").get_data(as_text=True)
    panel = page[page.index('id="client-reports-panel"') :]
    panel = panel[: panel.index("</section>")]
    assert panel.index("October 2026") < panel.index("September 2026")
    assert "Draft" in panel and "Sent" in panel
    assert f'href="/reports/{older.id}/report.pdf" download' in panel


def test_the_day_links_the_draft_to_send(world, login_as):
    page = login_as(world["acm"]).get("/day/").get_data(as_text=True)
    section = page[page.index('id="day-client_reports"') :]
    section = section[: section.index("</section>")]
    assert "Monthly report of October 2026: review and send" in section
    assert f'href="/reports/{world["report"].id}"' in section
