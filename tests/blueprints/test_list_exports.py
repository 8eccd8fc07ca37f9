"""Lists out (issue 16): each staff list as a CSV file with the page's filters and
visibility, streamed, for Excel (a byte-order mark, Arabic intact, no formula run)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

from kamportal import clock
from kamportal.csv_files import BOM
from kamportal.models import Role
from kamportal.services import list_exports, payments
from tests.blueprints.test_query_counts import counting_queries
from tests.services.renewal_world import NOW, invoiced, world  # noqa: F401


def read(response) -> list[dict[str, str]]:
    """The download's rows by column, after checking it is a streamed UTF-8 CSV with a BOM."""
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    body = response.get_data()
    assert body.startswith(BOM.encode("utf-8"))
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_a_filtered_client_list_exports_only_those_clients_every_page(
    app, login_as, cairo, make_client
):
    """P2: the export holds what the filters keep, past the page size, Arabic intact."""
    app.config["CLIENTS_PER_PAGE"] = 2
    _, leader, acm, other = cairo
    for n in range(3):
        make_client(acm=acm, store_name=f"متجر النيل {n}", plan="enterprise")
    make_client(acm=other, store_name="Sphinx Shoes")
    make_client(acm=acm, store_name="Gone Store", status="churned")
    response = login_as(leader).get(f"/clients/export.csv?acm={acm.id}&sort=name")
    rows = read(response)
    assert [r["store_name"] for r in rows] == [f"متجر النيل {n}" for n in range(3)]
    assert {r["account_manager"] for r in rows} == {"Ahmed ACM"}
    today = clock.today(leader.timezone).isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="clients-{today}.csv"'


def test_an_acm_exports_only_their_own_clients(login_as, cairo, make_client):
    _, _, acm, other = cairo
    make_client(acm=acm, store_name="Pyramid Spices")
    make_client(acm=other, store_name="Sphinx Shoes")
    rows = read(login_as(acm).get(f"/clients/export.csv?acm={other.id}"))
    assert rows == []
    assert [r["store_name"] for r in read(login_as(acm).get("/clients/export.csv"))] == [
        "Pyramid Spices"
    ]


def test_cells_that_excel_would_run_are_made_text_and_money_is_a_plain_number(
    login_as, cairo, make_client
):
    _, _, acm, _ = cairo
    make_client(
        acm=acm,
        store_name='=HYPERLINK("http://evil.example")',
        industry="+1 fashion",
        recurring_amount=Decimal("12500.50"),
        currency="EGP",
    )
    [row] = read(login_as(acm).get("/clients/export.csv"))
    assert row["store_name"] == '\'=HYPERLINK("http://evil.example")'
    assert row["industry"] == "'+1 fashion"
    assert (row["recurring_amount"], row["currency"]) == ("12500.50", "EGP")


def test_the_client_list_page_links_its_export_with_its_filters(login_as, cairo):
    _, _, acm, _ = cairo
    page = login_as(acm).get("/clients/?plan=enterprise&q=nile").get_data(as_text=True)
    assert "/clients/export.csv?q=nile&amp;plan=enterprise" in page


def test_an_export_reads_in_chunks_not_row_by_row(app, login_as, cairo, make_client, monkeypatch):
    """More rows in the same chunks cost no more queries; each further chunk at most one
    (its ACMs' roles), never one a row."""
    _, leader, acm, _ = cairo
    http = login_as(leader)
    engine = app.extensions["sqlalchemy"].engine

    def queries_for(count: int, chunk: int) -> int:
        monkeypatch.setattr(list_exports, "CHUNK", chunk)
        for _ in range(count):
            make_client(acm=acm)
        with counting_queries(engine) as statements:
            rows = read(http.get("/clients/export.csv?status=all"))
        assert len(rows) >= count
        return len(statements)

    few = queries_for(3, chunk=100)
    assert queries_for(40, chunk=100) == few
    assert queries_for(0, chunk=10) <= few + 43 // 10


def test_renewals_and_unpaid_invoices_export_as_the_page_lists_them(
    world,  # noqa: F811
    db,
    login_as,
):
    """R1, R4: the renewal under way and its unpaid invoice; another team's ACM has none."""
    renewal, invoice = invoiced(world, db)
    http = login_as(world["acm"])
    [row] = read(http.get("/renewals/renewals.csv"))
    assert (row["store_code"], row["renewal_date"], row["amount"], row["currency"]) == (
        "NILE01",
        renewal.due_on.isoformat(),
        "12000.00",
        "EGP",
    )
    assert row["days_left"] == "20"
    [row] = read(http.get("/renewals/unpaid-invoices.csv"))
    assert (row["invoice"], row["total"], row["currency"], row["days_overdue"]) == (
        invoice.label,
        "12000.00",
        "EGP",
        "0",
    )
    other = login_as(world["other_acm"])
    assert read(other.get("/renewals/renewals.csv")) == []
    assert read(other.get("/renewals/unpaid-invoices.csv")) == []


def test_the_forecast_exports_per_horizon_team_and_currency(world, db, login_as):  # noqa: F811
    invoiced(world, db)
    rows = read(login_as(world["finance"]).get("/renewals/forecast.csv"))
    assert [(r["due_within_days"], r["team"], r["currency"], r["confirmed"]) for r in rows] == [
        (str(days), "Cairo", "EGP", "12000.00") for days in (30, 60, 90)
    ]


def test_finance_exports_its_queue_with_a_section_per_row(world, db, login_as):  # noqa: F811
    """R7: a wire reported waits for finance; it is in the export, flagged once 4 days old."""
    _, invoice = invoiced(world, db)
    payments.report_wire_transfer(
        invoice,
        actor=world["acm"],
        amount=Decimal("12000.00"),
        reference="TRX-1",
    )
    db.session.commit()
    [row] = read(login_as(world["finance"]).get("/finance/queue.csv"))
    assert (row["section"], row["store_code"], row["amount"], row["currency"]) == (
        "wire transfer to confirm",
        "NILE01",
        "12000.00",
        "EGP",
    )
    assert row["since"].startswith(NOW.date().isoformat())


def test_the_leaders_late_items_export_every_one_of_the_team(
    login_as, cairo, make_client, frozen_clock
):
    """F1: clients not contacted for over a week; the export holds them all."""
    frozen_clock(NOW)
    _, leader, acm, other = cairo
    make_client(acm=acm, store_name="سوق القاهرة", last_contact_at=NOW - timedelta(days=20))
    make_client(acm=other, store_name="Late Too", last_contact_at=NOW - timedelta(days=15))
    make_client(acm=acm, store_name="On Time", last_contact_at=NOW - timedelta(days=1))
    http = login_as(leader)
    rows = read(http.get("/team/late/F1/export.csv"))
    assert [r["store_name"] for r in rows] == ["سوق القاهرة", "Late Too"]
    assert {r["rule"] for r in rows} == {"F1"}
    only_acm = read(http.get(f"/team/late/F1/export.csv?acm={acm.id}"))
    assert [r["store_name"] for r in only_acm] == ["سوق القاهرة"]
    assert http.get("/team/late/X9/export.csv").status_code == 404


def test_roles_without_the_list_are_refused_its_export(login_as, make_user):
    assert login_as(Role.FINANCE).get("/clients/export.csv").status_code == 403
    assert login_as(Role.ACM).get("/finance/queue.csv").status_code == 403
    assert login_as(Role.ACM).get("/team/late/F1/export.csv").status_code == 403
