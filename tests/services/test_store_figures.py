"""Store figures in (F4), without HTTP: rows read field by field, written once per store
and day whichever door they came through, and only by who may write the store."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kamportal.models import Integration, Role, StoreDay
from kamportal.models.types import utc
from kamportal.services import store_figures
from tests.blueprints.test_query_counts import counting_queries

# 23:30 UTC on 1 Dec: already 2 Dec in Cairo, still 1 Dec in Los Angeles.
NOW = utc(2026, 12, 1, 23, 30)


@pytest.fixture
def world(make_portfolio, make_client, db, frozen_clock):
    frozen_clock(NOW)
    portfolio = make_portfolio(client={"store_code": "CAIRO1", "timezone": "Africa/Cairo"})
    la = make_client(
        acm=portfolio.acm,
        store_code="LA1",
        timezone="America/Los_Angeles",
        country="US",
        currency="USD",
    )
    platform = Integration(
        name="Platform", token_prefix="kam_x", token_hash="0" * 64, created_at=NOW
    )
    db.session.add(platform)
    db.session.flush()
    portfolio.client.integration_id = la.integration_id = platform.id
    db.session.commit()
    return portfolio, la, platform


def row(code="CAIRO1", day="2026-12-02", orders="12", gmv="3450.50", **more):
    return {"store_code": code, "day": day, "orders": orders, "gmv": gmv, **more}


def test_a_good_row_is_read_in_the_stores_currency_and_calendar_F4(world):
    portfolio, la, platform = world
    [cairo, los_angeles] = store_figures.check_rows(
        [row(), row("la1", "2026-12-01", 3, 99.5, currency="usd")], integration=platform
    )
    assert cairo.errors == {} and los_angeles.errors == {}
    assert (cairo.figures.client, cairo.figures.day) == (portfolio.client, date(2026, 12, 2))
    assert (cairo.figures.orders, cairo.figures.gmv) == (12, Decimal("3450.50"))
    assert los_angeles.figures.client == la and los_angeles.figures.gmv == Decimal("99.50")


@pytest.mark.parametrize(
    ("bad", "field", "says"),
    [
        ({"store_code": ""}, "store_code", "Give the store"),
        ({"store_code": "NOPE"}, "store_code", "No store NOPE"),
        ({"day": "02/12/2026"}, "day", "YYYY-MM-DD"),
        ({"day": "2026-12-03"}, "day", "today at the latest"),  # Cairo's tomorrow
        ({"day": "9999-12-31"}, "day", "today at the latest"),
        ({"day": "2020-01-01"}, "day", "last three years"),
        ({"day": "2026-02-30"}, "day", "YYYY-MM-DD"),
        ({"orders": "1e30"}, "orders", "whole number"),
        ({"orders": "-1"}, "orders", "whole number"),
        ({"orders": "12.5"}, "orders", "whole number"),
        ({"orders": True}, "orders", "whole number"),
        ({"orders": 10**9}, "orders", "Give a number from 0"),
        ({"gmv": "1e30"}, "gmv", ""),
        ({"gmv": "-5"}, "gmv", ""),
        ({"gmv": "12.345"}, "gmv", "decimals"),
        ({"gmv": None}, "gmv", "amount"),
        ({"gmv": "12\x00"}, "gmv", ""),
        ({"currency": "USD"}, "currency", "EGP"),
    ],
)
def test_a_bad_field_is_named_with_what_is_wrong_F4(world, bad, field, says):
    _, _, platform = world
    [checked] = store_figures.check_rows([row(**bad)], integration=platform)
    assert checked.figures is None
    assert field in checked.errors and says in checked.errors[field]


def test_los_angeles_today_is_still_the_first_F4(world):
    _, _, platform = world
    [checked] = store_figures.check_rows([row("LA1", "2026-12-02")], integration=platform)
    assert "today at the latest" in checked.errors["day"]


def test_a_row_that_is_not_an_object_is_refused_as_a_row(world):
    _, _, platform = world
    [checked] = store_figures.check_rows(["CAIRO1,2026-12-02"], integration=platform)
    assert checked.errors == {"row": "Each row is an object of fields."}


def test_an_integration_writes_only_its_own_stores_and_not_once_revoked_F4(world, make_client, db):
    portfolio, _, platform = world
    other = make_client(acm=portfolio.acm, store_code="OTHER1")
    [refused] = store_figures.check_rows([row("OTHER1")], integration=platform)
    # A store of another integration reads as one that does not exist.
    assert refused.errors["store_code"] == "No store OTHER1 that you may write."
    assert other.integration_id is None
    platform.revoked_at = NOW
    [revoked] = store_figures.check_rows([row()], integration=platform)
    assert "store_code" in revoked.errors


def test_a_person_writes_the_stores_they_work_on_F4(world, make_user):
    portfolio, _, _ = world
    [own] = store_figures.check_rows([row()], actor=portfolio.acm)
    assert own.errors == {}
    stranger = make_user(Role.ACM)
    [other] = store_figures.check_rows([row()], actor=stranger)
    assert "store_code" in other.errors
    admin = make_user(Role.ADMIN)
    [any_store] = store_figures.check_rows([row()], actor=admin)
    assert any_store.errors == {}


def test_upsert_adds_replaces_and_sends_twice_harmlessly_F4(world, db, frozen_clock):
    _, _, platform = world
    good = [
        c.figures
        for c in store_figures.check_rows([row(), row("LA1", "2026-12-01")], integration=platform)
    ]
    assert store_figures.upsert(good, source="api", integration=platform) == (
        store_figures.Written(2, 0, 0)
    )
    db.session.commit()
    assert store_figures.upsert(good, source="api", integration=platform).unchanged == 2
    frozen_clock(NOW + timedelta(hours=1))
    again = [
        c.figures
        for c in store_figures.check_rows(
            [row(orders="13"), row(orders="14")], integration=platform
        )
    ]
    # The last of two rows for the same day wins.
    assert store_figures.upsert(again, source="csv") == store_figures.Written(0, 1, 0)
    db.session.commit()
    days = list(db.session.scalars(select(StoreDay).order_by(StoreDay.day)))
    assert [(d.day, d.orders, d.source) for d in days] == [
        (date(2026, 12, 1), 12, "api"),
        (date(2026, 12, 2), 14, "csv"),
    ]
    assert days[1].updated_at == NOW + timedelta(hours=1) and days[1].integration_id is None


def test_a_thousand_rows_take_a_few_statements_F4(world, db):
    _, _, platform = world
    first = date(2026, 12, 2) - timedelta(days=999)
    rows = [row(day=(first + timedelta(days=n)).isoformat()) for n in range(1000)]
    with counting_queries(db.engine) as statements:
        checked = store_figures.check_rows(rows, integration=platform)
        written = store_figures.upsert([c.figures for c in checked], source="csv")
    assert written.added == 1000
    assert len(statements) <= 10
