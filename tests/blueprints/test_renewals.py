"""The ACM's side of renewals through HTTP (R1-R5, R7-R10): the client page's renewal
panel, each action's form opened in it and sent from it (the panel swapped again), bad
input answered with the form and its errors (422) and nothing changed, the list of
renewals and unpaid invoices, and the renewal forecast per team and currency."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kamportal.jobs import snapshots as snapshot_jobs
from kamportal.models import Invoice, InvoiceStatus, OutboxMessage, Quotation, Role, Team
from kamportal.services import discounts, invoices, payments, renewals
from kamportal.services.invoices import Fee
from tests.blueprints.test_finance import row, section, text_of
from tests.conftest import sign_in
from tests.services.renewal_world import NOW, TODAY, confirmed, invoiced, opened, world  # noqa: F401

HTMX = {"HX-Request": "true"}


def text(response) -> str:
    return response.get_data(as_text=True)


def panel_of(page: str) -> str:
    start = page.index('id="renewal-panel"')
    return page[start : page.index("</section>", start)]


def swapped_panel(response) -> str:
    assert response.status_code == 200, text(response)[:500]
    assert response.headers["HX-Retarget"] == "#renewal-panel"
    assert "timeline-changed" in json.loads(response.headers["HX-Trigger"])
    return text(response)


def test_the_panel_shows_the_subscription_and_the_renewal_under_way(
    world,  # noqa: F811
    db,
    login_as,
):
    http = login_as(world["acm"])
    client_page = f"/clients/{world['client'].id}?tab=renewals"
    panel = panel_of(text(http.get(client_page)))
    assert "EGP12,000.00 a term" in panel
    assert "No renewal under way" in panel
    opened(db)
    panel = panel_of(text(http.get(client_page)))
    assert "Renewal of" in panel and "Notify the client" in panel
    assert 'data-stage="due"' in panel


def test_notify_confirm_and_invoice_from_the_panel(world, db, login_as):  # noqa: F811
    """R2 then R3 with R8: each form opens in the panel and the panel follows."""
    renewal = opened(db)
    http = login_as(world["acm"])
    form = text(http.get(f"/renewals/{renewal.id}/notice", headers=HTMX))
    assert 'id="renewal-notice-form"' in form and "<html" not in form
    panel = swapped_panel(http.post(f"/renewals/{renewal.id}/notice", headers=HTMX))
    assert 'data-stage="notified"' in panel and "Notice sent" in panel
    [notice] = db.session.scalars(select(OutboxMessage)).all()
    assert notice.to_addrs == ["karim@nile.example"]

    refused = http.post(
        f"/renewals/{renewal.id}/confirm",
        data={"agreed_on": renewal.due_on.isoformat(), "amount": "12000.555"},
        headers=HTMX,
    )
    assert refused.status_code == 422
    assert "EGP amounts have at most 2 decimals." in text(refused)
    db.session.expire_all()
    assert db.session.get(type(renewal), renewal.id).stage == "notified"

    swapped_panel(
        http.post(
            f"/renewals/{renewal.id}/confirm",
            data={"agreed_on": renewal.due_on.isoformat(), "amount": "12500"},
            headers=HTMX,
        )
    )
    panel = swapped_panel(
        http.post(
            f"/renewals/{renewal.id}/invoice",
            data={
                "due_on": renewal.due_on.isoformat(),
                "fee_1": "Custom checkout page",
                "fee_1_amount": "3000",
                "quotation": "0",
            },
            headers=HTMX,
        )
    )
    invoice = db.session.scalars(select(Invoice)).one()
    assert invoice.total == Decimal("15500.00")
    assert invoice.number in panel and "EGP15,500.00" in panel
    assert 'data-stage="invoiced"' in panel


def test_a_fee_without_an_amount_is_refused_with_nothing_invoiced(world, db, login_as):  # noqa: F811
    renewal = confirmed(world, db)
    response = login_as(world["acm"]).post(
        f"/renewals/{renewal.id}/invoice",
        data={"due_on": renewal.due_on.isoformat(), "fee_1": "Banner", "quotation": "0"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "Give an amount" in text(response)
    assert db.session.scalars(select(Invoice)).all() == []


def test_only_an_approved_discount_is_offered_on_the_invoice(world, db, login_as):  # noqa: F811
    """R9: a stand-alone discount asked before quotations (legacy); once commercial
    approves it, the invoice form offers it."""
    renewal = confirmed(world, db)
    http = login_as(world["acm"])
    discounts.request_discount(
        world["client"], actor=world["acm"], description="Loyalty", discount="1000"
    )
    db.session.commit()
    panel = text(http.get(f"/clients/{world['client'].id}?tab=renewals"))
    assert "Loyalty: −EGP1,000.00" in panel and "Requested" in panel
    assert f"/clients/{world['client'].id}/discounts/new" not in panel
    form = text(http.get(f"/renewals/{renewal.id}/invoice", headers=HTMX))
    assert "Loyalty" not in form
    quotation = db.session.scalars(select(Quotation)).one()
    discounts.decide_discount(quotation, actor=world["commercial"], approve=True)
    db.session.commit()
    form = text(http.get(f"/renewals/{renewal.id}/invoice", headers=HTMX))
    assert f'value="{quotation.id}"' in form and "Loyalty: −EGP1,000.00" in form
    swapped_panel(
        http.post(
            f"/renewals/{renewal.id}/invoice",
            data={"due_on": renewal.due_on.isoformat(), "quotation": str(quotation.id)},
            headers=HTMX,
        )
    )
    assert db.session.scalars(select(Invoice)).one().total == Decimal("11000.00")


def test_a_wire_and_a_payment_issue_are_handed_to_finance(world, db, login_as):  # noqa: F811
    """R7 and R5 from the invoice's row; the ACM sees the status, finance decides."""
    _, invoice = invoiced(world, db)
    http = login_as(world["acm"])
    panel = swapped_panel(
        http.post(
            f"/invoices/{invoice.id}/wire",
            data={"amount": "12000.00", "reference": "CIB 7781"},
            headers=HTMX,
        )
    )
    assert "Wire transfer EGP12,000.00: Waiting for finance" in panel
    panel = swapped_panel(
        http.post(
            f"/invoices/{invoice.id}/payment-issue",
            data={"note": "The bank rejected the transfer."},
            headers=HTMX,
        )
    )
    assert "Payment issue with finance" in panel
    assert len(payments.finance_queue(now=NOW).issues) == 1


def test_an_invoice_is_split_into_installments_from_the_panel(world, db, login_as):  # noqa: F811
    """R10: 3 installments 30 days apart, summing exactly to the invoice."""
    _, invoice = invoiced(world, db)
    http = login_as(world["acm"])
    refused = http.post(
        f"/invoices/{invoice.id}/installments",
        data={"count": "1", "first_due_on": TODAY.isoformat(), "every_days": "30"},
        headers=HTMX,
    )
    assert refused.status_code == 422 and "From 2 to 12." in text(refused)
    panel = swapped_panel(
        http.post(
            f"/invoices/{invoice.id}/installments",
            data={"count": "3", "first_due_on": TODAY.isoformat(), "every_days": "30"},
            headers=HTMX,
        )
    )
    plan = db.session.scalars(
        select(Invoice).where(Invoice.parent_id == invoice.id).order_by(Invoice.installment_no)
    ).all()
    assert [i.due_on for i in plan] == [TODAY + timedelta(days=d) for d in (0, 30, 60)]
    assert sum(i.total for i in plan) == invoice.total
    assert "installment 3 of 3" in panel and "Split into installments" in panel
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).invoice_status is InvoiceStatus.SPLIT


def test_someone_elses_client_is_hidden_and_other_roles_refused(world, db, login_as):  # noqa: F811
    renewal, invoice = invoiced(world, db)
    stranger = login_as(world["other_acm"])
    for url in (
        f"/renewals/{renewal.id}/notice",
        f"/renewals/{renewal.id}/lost",
        f"/invoices/{invoice.id}/wire",
        f"/clients/{world['client'].id}/renewal-panel",
    ):
        assert stranger.get(url, headers=HTMX).status_code == 404
    assert login_as(world["finance"]).get(f"/invoices/{invoice.id}/wire").status_code == 403
    assert "Nile Crafts" not in text(stranger.get("/renewals/"))


def test_the_list_shows_renewals_to_see_through_and_unpaid_invoices(
    world,  # noqa: F811
    db,
    login_as,
    make_client,
):
    _, invoice = invoiced(world, db)
    other = make_client(
        acm=world["acm"], store_name="Delta Dates", renewal_date=TODAY + timedelta(days=3)
    )
    renewals.open_due_renewals(now=NOW)
    db.session.commit()
    page = text(login_as(world["acm"]).get("/renewals/"))
    renewals_table = page[page.index('id="open-renewals"') : page.index('id="unpaid-invoices"')]
    assert "Delta Dates" in renewals_table and "in 3 d" in renewals_table
    assert "Nile Crafts" in renewals_table and "Invoiced" in renewals_table
    invoices_table = page[page.index('id="unpaid-invoices"') :]
    assert invoice.number in invoices_table and other.store_name not in invoices_table


def test_the_leader_sees_the_teams_renewals(world, db, login_as):  # noqa: F811
    opened(db)
    assert "Nile Crafts" in text(login_as(world["leader"]).get("/renewals/"))


def test_the_acms_day_shows_the_renewal_steps_and_unpaid_invoices_with_their_age(
    world,  # noqa: F811
    db,
    login_as,
    frozen_clock,
):
    """R1-R4 on the day: the next step of each renewal, then each unpaid invoice with its
    age, marked overdue once past its due date; gone once paid."""
    renewal = opened(db)
    http = login_as(world["acm"])
    day = text(http.get("/day/items/renewals", headers=HTMX))
    assert "Renewal due: notify the client" in day and "Nile Crafts" in day
    renewals.notify_client(renewal, actor=world["acm"])
    renewals.confirm_renewal(renewal, actor=world["acm"], agreed_on=TODAY, amount="12000")
    invoice = invoices.issue_invoice(
        world["client"], actor=world["acm"], renewal=renewal, due_on=TODAY + timedelta(days=2)
    )
    db.session.commit()
    frozen_clock(NOW + timedelta(days=1))
    sign_in(http, world["acm"])  # the next day: a new sign-in
    day = text(http.get("/day/items/renewals", headers=HTMX))
    assert f"Invoice {invoice.number} unpaid" in day and "issued 1 day ago" in day
    assert "(overdue)" not in day and "Renewal due" not in day
    frozen_clock(NOW + timedelta(days=3))
    sign_in(http, world["acm"])
    day = text(http.get("/day/items/renewals", headers=HTMX))
    assert "issued 3 days ago" in day and "(overdue)" in day
    other_day = text(login_as(world["other_acm"]).get("/day/items/renewals", headers=HTMX))
    assert "Nothing here." in other_day
    payments.record_online_payment(invoice, actor=world["finance"])
    db.session.commit()
    assert "Nothing here." in text(http.get("/day/items/renewals", headers=HTMX))


# --- The forecast (R1, R2) ---------------------------------------------------------------------


def forecast_rows(page: str, section_id: str = "forecast-teams") -> dict[tuple[str, str], tuple]:
    """(team, currency) -> (confirmed, at risk) within 30, then 60, then 90 days, as shown;
    the totals ("forecast-totals") have team ""."""
    table = section(page, section_id)
    found = {}
    for team, currency, cells in re.findall(
        r'<tr data-team="([^"]*)" data-currency="(\w+)">(.*?)</tr>', table, re.S
    ):
        found[(team, currency)] = tuple(re.findall(r"<td>([^<]*)</td>", cells)[2:])
    return found


EGP_WITHIN_30 = ("EGP12,000.00", "EGP2,000.00")
NOTHING = ("—", "—")


@pytest.fixture
def portfolio(world, db, make_client):  # noqa: F811
    """Confirmed: Nile Crafts 12000 EGP in 20 days. At risk: 2000 EGP in 10 days (opened,
    not confirmed), 1500 USD in 45 days (not opened yet), and Omar's (team Dubai) 900 USD
    in 80 days."""
    renewal = renewals.open_due_renewals(now=NOW)[0]
    renewals.confirm_renewal(renewal, actor=world["acm"], agreed_on=renewal.due_on, amount="12000")
    for acm, days, amount, currency in [
        (world["acm"], 10, "2000", "EGP"),
        (world["acm"], 45, "1500", "USD"),
        (world["other_acm"], 80, "900", "USD"),
    ]:
        make_client(
            acm=acm,
            renewal_date=TODAY + timedelta(days=days),
            recurring_amount=Decimal(amount),
            currency=currency,
        )
    renewals.open_due_renewals(now=NOW)
    db.session.commit()


def test_the_forecast_totals_confirmed_and_at_risk_per_team_and_currency(
    world,  # noqa: F811
    login_as,
    portfolio,
):
    response = login_as(world["finance"]).get("/renewals/forecast")
    assert response.status_code == 200
    page = text_of(response)
    assert "Confirmed" in page and "At risk" in page and "not confirmed yet" in page
    assert forecast_rows(page) == {
        ("Cairo", "EGP"): EGP_WITHIN_30 * 3,
        ("Cairo", "USD"): (*NOTHING, "$0.00", "$1,500.00", "$0.00", "$1,500.00"),
        ("Dubai", "USD"): (*NOTHING, *NOTHING, "$0.00", "$900.00"),
    }
    # Per currency over every team, never across currencies.
    assert forecast_rows(page, "forecast-totals") == {
        ("", "EGP"): EGP_WITHIN_30 * 3,
        ("", "USD"): (*NOTHING, "$0.00", "$1,500.00", "$0.00", "$2,400.00"),
    }


def test_a_lost_renewal_is_left_out_of_the_forecast(
    world,  # noqa: F811
    db,
    login_as,
    portfolio,
    make_client,
):
    client = make_client(
        acm=world["acm"], renewal_date=TODAY + timedelta(days=15), recurring_amount=Decimal(5000)
    )
    [renewal] = renewals.open_due_renewals(now=NOW)
    assert renewal.client_id == client.id
    renewals.mark_lost(renewal, actor=world["acm"], reason="Closing the store.")
    db.session.commit()
    page = text_of(login_as(world["finance"]).get("/renewals/forecast"))
    assert forecast_rows(page)[("Cairo", "EGP")][:2] == EGP_WITHIN_30
    assert forecast_rows(page, "forecast-totals")[("", "EGP")][:2] == EGP_WITHIN_30


def test_an_acm_forecasts_only_their_clients(world, login_as, portfolio):  # noqa: F811
    page = text_of(login_as(world["acm"]).get("/renewals/forecast"))
    assert set(forecast_rows(page)) == {("Cairo", "EGP"), ("Cairo", "USD")}
    assert forecast_rows(page, "forecast-totals")[("", "USD")][-1] == "$1,500.00"
    other = text_of(login_as(world["other_acm"]).get("/renewals/forecast"))
    dubai = (*NOTHING, *NOTHING, "$0.00", "$900.00")
    assert forecast_rows(other) == {("Dubai", "USD"): dubai}
    assert forecast_rows(other, "forecast-totals") == {("", "USD"): dubai}


@pytest.fixture
def many_teams(world, db, make_team, make_user, make_client):  # noqa: F811
    """`make(n)`: n more teams, each with an ACM and a client renewing in 40 days: 100 EGP
    each, and also 7 USD for every third team."""

    def make(n: int) -> None:
        for i in range(n):
            acm = make_user(Role.ACM, team=make_team(name=f"Team {i:02d}"))
            for currency, amount in [("EGP", "100")] + ([("USD", "7")] if i % 3 == 0 else []):
                make_client(
                    acm=acm,
                    renewal_date=TODAY + timedelta(days=40),
                    recurring_amount=Decimal(amount),
                    currency=currency,
                )
        db.session.commit()

    return make


def test_the_forecast_pages_its_teams_and_totals_every_team_on_each_page(
    world,  # noqa: F811
    login_as,
    many_teams,
):
    """30 teams and Cairo (Dubai has nothing due): 25 teams a page, each team on one page
    only with all its currencies; the totals above are every team's, on every page."""
    many_teams(30)
    http = login_as(world["finance"])
    first = text_of(http.get("/renewals/forecast"))
    second = text_of(http.get("/renewals/forecast?page=2"))
    teams = [team for team, _ in forecast_rows(first)] + [t for t, _ in forecast_rows(second)]
    assert len(set(teams)) == 31
    assert sorted(set(forecast_rows(first)) | set(forecast_rows(second))) == sorted(
        [("Cairo", "EGP")]
        + [(f"Team {i:02d}", "EGP") for i in range(30)]
        + [(f"Team {i:02d}", "USD") for i in range(0, 30, 3)]
    )
    assert not {t for t, _ in forecast_rows(first)} & {t for t, _ in forecast_rows(second)}
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    totals = {
        # Nile Crafts' 12,000 (not opened yet) and the 30 teams' 100 each, in 40 days.
        ("", "EGP"): ("EGP0.00", "EGP12,000.00") + ("EGP0.00", "EGP15,000.00") * 2,
        ("", "USD"): (*NOTHING, "$0.00", "$70.00", "$0.00", "$70.00"),
    }
    assert forecast_rows(first, "forecast-totals") == totals
    assert forecast_rows(second, "forecast-totals") == totals
    # A pager's swap gets the teams alone; a page out of range or not a number, none or the
    # first.
    swapped = text_of(http.get("/renewals/forecast?page=2", headers=HTMX))
    assert swapped.lstrip().startswith('<section class="card" id="forecast-teams">')
    assert forecast_rows(swapped) == forecast_rows(second)
    assert 'id="forecast-totals"' not in swapped
    assert forecast_rows(text_of(http.get("/renewals/forecast?page=9"))) == {}
    assert forecast_rows(text_of(http.get("/renewals/forecast?page=x"))) == forecast_rows(first)
    assert forecast_rows(text_of(http.get("/renewals/forecast?page=0"))) == forecast_rows(first)


def test_the_forecast_page_stays_small_with_60_teams(app, db, world, login_as, many_teams):  # noqa: F811
    many_teams(60)
    response = login_as(world["finance"]).get("/renewals/forecast")
    assert response.status_code == 200
    assert len(response.data) <= 30 * 1024, len(response.data)
    teams = db.session.scalar(select(func.count()).select_from(Team))
    pages = -(-teams // app.config["LIST_PER_PAGE"])
    assert teams > 60 and f"Page 1 of {pages}" in text_of(response)


def test_finance_reads_the_sweeps_forecast_as_of_when_it_summed_it(
    world,  # noqa: F811
    db,
    login_as,
    portfolio,
    make_client,
):
    """Issue 17: the forecast over every client is the sweep's, told as of when; an ACM's
    own is summed for the page."""
    snapshot_jobs.refresh_platform_figures()
    make_client(
        acm=world["acm"],
        renewal_date=TODAY + timedelta(days=5),
        recurring_amount=Decimal("777"),
        currency="USD",
    )
    page = text_of(login_as(world["finance"]).get("/renewals/forecast"))
    assert "Figures as of 09:00 " in page and "summed again every 5 minutes." in page
    assert forecast_rows(page, "forecast-totals")[("", "USD")][-1] == "$2,400.00"
    mine = text_of(login_as(world["acm"]).get("/renewals/forecast"))
    assert "Figures as of" not in mine
    assert forecast_rows(mine, "forecast-totals")[("", "USD")][-1] == "$2,277.00"


def test_product_and_commercial_have_no_forecast(world, login_as):  # noqa: F811
    assert login_as(Role.PRODUCT).get("/renewals/forecast").status_code == 403
    assert login_as(world["commercial"]).get("/renewals/forecast").status_code == 403


# --- "Today" on the client's calendar, read at 01:30 in Cairo ---------------------------------

# 23:30 UTC on 12 Dec 2026 is 01:30 on the 13th in Cairo: UTC's date is still the 12th.
CAIRO_0130 = datetime(2026, 12, 12, 23, 30, tzinfo=UTC)


def test_at_0130_in_cairo_a_renewal_due_that_day_says_today_and_yesterdays_invoice_is_late(
    world,  # noqa: F811
    db,
    login_as,
    frozen_clock,
):
    """R1, R4 (the issue's example): Nile Crafts (Cairo) renews on 13 Dec. At 01:30 on the
    13th in Cairo the panel and the list say "today", not "in 1 day", and an invoice due on
    the 12th is overdue there, though UTC's date is still the 12th."""
    renewal = opened(db)
    assert renewal.due_on == date(2026, 12, 13)
    invoice = invoices.issue_invoice(
        world["client"], actor=world["acm"], fees=[Fee("Banner", "150")], due_on=date(2026, 12, 12)
    )
    world["acm"].timezone = "Africa/Cairo"
    db.session.commit()
    client_page = f"/clients/{world['client'].id}?tab=renewals"

    frozen_clock(CAIRO_0130 - timedelta(hours=2))  # 23:30 on the 12th in Cairo
    http = login_as(world["acm"])
    panel = panel_of(text(http.get(client_page)))
    assert 'data-days-left="1"' in panel and "in 1 day" in panel
    assert "Overdue" not in panel

    frozen_clock(CAIRO_0130)
    panel = panel_of(text(http.get(client_page)))
    assert 'data-days-left="0"' in panel and "today" in panel and "in 1 day" not in panel
    assert "Overdue" in row(panel, f"invoice-{invoice.id}")
    listing = text(http.get("/renewals/"))
    renewal_row = row(listing, f"renewal-{renewal.id}")
    assert 'data-days-left="0"' in renewal_row and "today" in renewal_row
    assert "1 d overdue" in row(listing, f"invoice-{invoice.id}")


def test_the_panel_offers_what_each_invoice_allows(world, db, login_as):  # noqa: F811
    """R5, R7, R10, read from the service: an unpaid invoice offers a wire, a payment issue
    and installments; with an issue open, no second issue; with a wire reported, no
    installments; a paid one nothing."""
    _, invoice = invoiced(world, db)
    http = login_as(world["acm"])
    client_page = f"/clients/{world['client'].id}?tab=renewals"

    def actions() -> set[str]:
        cells = row(panel_of(text(http.get(client_page))), f"invoice-{invoice.id}")
        return {a for a in ("Wire sent", "Payment issue", "Installments") if f">{a}</a>" in cells}

    assert actions() == {"Wire sent", "Payment issue", "Installments"}
    payments.raise_payment_issue(invoice, actor=world["acm"], note="No card.")
    db.session.commit()
    assert actions() == {"Wire sent", "Installments"}
    payments.report_wire_transfer(invoice, actor=world["acm"], amount="100")
    db.session.commit()
    assert actions() == {"Wire sent"}
    payments.record_online_payment(invoice, actor=world["finance"], reference="PAY-1")
    db.session.commit()
    assert actions() == set()
