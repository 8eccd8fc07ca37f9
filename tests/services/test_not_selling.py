"""Not selling (F4), without HTTP: the sweep at and around its thresholds, on each store's
own calendar; one alert per episode; clearing when the store sells again; the reasons and
actions the ACM owes, and the day that shows them until recorded."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.extensions import db as _db
from kamportal.models import (
    LifecycleStatus,
    NotSellingAlert,
    StoreDay,
    TimelineEvent,
    TimelineKind,
)
from kamportal.models.types import utc
from kamportal.services import accounts, day, not_selling
from tests.blueprints.test_query_counts import counting_queries
from tests.services.test_accounts import team_settings

# Noon UTC on 10 Dec: 10 Dec in Cairo (UTC+2) and in Los Angeles (UTC-8); yesterday is 9 Dec.
NOW = utc(2026, 12, 10, 12, 0)
YESTERDAY = date(2026, 12, 9)


@pytest.fixture
def world(make_portfolio, frozen_clock):
    frozen_clock(NOW)
    return make_portfolio(
        team={"not_selling_days": 7, "not_selling_drop_percent": 50},
        client={"store_code": "CAIRO1", "timezone": "Africa/Cairo"},
    )


def sell(client, first: date, last: date, *, orders=5, gmv="100.00") -> None:
    """The store's figures from `first` to `last`: the same orders and GMV each day."""
    day_ = first
    while day_ <= last:
        _db.session.merge(
            StoreDay(
                id=_id_of(client, day_),
                client_id=client.id,
                day=day_,
                orders=orders,
                gmv=Decimal(gmv),
                currency=client.currency,
                source="demo",
                updated_at=clock.now(),
            )
        )
        day_ += timedelta(days=1)
    _db.session.commit()


def _id_of(client, day_: date) -> int | None:
    return _db.session.scalar(
        select(StoreDay.id).where(StoreDay.client_id == client.id, StoreDay.day == day_)
    )


def sweep():
    result = not_selling.sweep(clock.now())
    _db.session.commit()
    return result


def alerts_of(client) -> list[NotSellingAlert]:
    return list(
        _db.session.scalars(
            select(NotSellingAlert)
            .where(NotSellingAlert.client_id == client.id)
            .order_by(NotSellingAlert.id)
        )
    )


def set_team(world, **thresholds) -> None:
    for name, value in thresholds.items():
        setattr(world.team, name, value)
    _db.session.commit()


# --- no orders for N days -------------------------------------------------------------------


@pytest.mark.parametrize(("silent_days", "raised"), [(6, False), (7, True), (8, True)])
def test_no_orders_raises_on_the_nth_silent_day_F4(world, silent_days, raised):
    # A high drop threshold keeps the GMV rule out of it: only the silence counts.
    set_team(world, not_selling_drop_percent=99)
    last_sale = YESTERDAY - timedelta(days=silent_days)
    sell(world.client, YESTERDAY - timedelta(days=59), last_sale)
    sell(world.client, last_sale + timedelta(days=1), YESTERDAY, orders=0, gmv="0")
    assert sweep().raised == int(raised)
    alerts = alerts_of(world.client)
    if raised:
        [alert] = alerts
        assert alert.cause == "no_orders"
        assert alert.since_day == last_sale + timedelta(days=1)
        assert f"No orders for {silent_days} days" in alert.detail
    else:
        assert alerts == []


def test_days_without_figures_count_as_days_without_orders_F4(world):
    set_team(world, not_selling_drop_percent=99)
    sell(world.client, YESTERDAY - timedelta(days=40), YESTERDAY - timedelta(days=7))
    assert sweep().raised == 1
    assert alerts_of(world.client)[0].cause == "no_orders"


def test_a_store_just_connected_or_not_live_raises_nothing_F4(world, make_client):
    set_team(world, not_selling_drop_percent=99)
    # Figures for 6 days only, none with orders: not yet the 7 days looked at.
    sell(world.client, YESTERDAY - timedelta(days=5), YESTERDAY, orders=0, gmv="0")
    onboarding = make_client(acm=world.acm, status=LifecycleStatus.ONBOARDING.value)
    sell(onboarding, YESTERDAY - timedelta(days=30), YESTERDAY, orders=0, gmv="0")
    no_figures = make_client(acm=world.acm)
    assert sweep().raised == 0
    assert alerts_of(world.client) == alerts_of(onboarding) == alerts_of(no_figures) == []


def test_today_is_not_counted_until_it_is_over_F4(world):
    set_team(world, not_selling_drop_percent=99)
    sell(world.client, YESTERDAY - timedelta(days=40), YESTERDAY - timedelta(days=6))
    sell(world.client, YESTERDAY - timedelta(days=5), YESTERDAY + timedelta(days=1), orders=0)
    assert sweep().raised == 0  # yesterday is the 6th silent day; today is not over


@pytest.mark.parametrize(
    ("zone", "midnight_utc"),
    [
        # The store's midnight starting 10 Dec, the 8th day after its last sale on 2 Dec.
        ("Africa/Cairo", utc(2026, 12, 9, 22, 0)),
        ("America/Los_Angeles", utc(2026, 12, 10, 8, 0)),
    ],
)
def test_the_silence_is_counted_on_the_stores_calendar_across_its_midnight_F4(
    world, make_client, frozen_clock, zone, midnight_utc
):
    set_team(world, not_selling_drop_percent=99)
    store = make_client(acm=world.acm, timezone=zone, currency="USD", country="US")
    sell(store, date(2026, 10, 1), date(2026, 12, 2))
    frozen_clock(midnight_utc - timedelta(minutes=1))
    assert sweep().raised == 0  # the store's yesterday is 8 Dec: 6 silent days
    frozen_clock(midnight_utc)
    assert sweep().raised == 1  # 9 Dec is over: 7 silent days
    assert alerts_of(store)[0].since_day == date(2026, 12, 3)


# --- GMV down more than X % ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_day_gmv", "raised"),
    [("50.00", False), ("49.99", True), ("50.01", False)],
    ids=["exactly-50", "just-above-50", "just-below-50"],
)
def test_gmv_drop_raises_only_beyond_the_teams_percent_F4(world, last_day_gmv, raised):
    # The 4 weeks before: 100 a day, a weekly average of 700. The last 7 days: 6 x 50 and
    # the last day's, so 350 is exactly half.
    week_starts = YESTERDAY - timedelta(days=6)
    sell(world.client, week_starts - timedelta(days=40), week_starts - timedelta(days=1))
    sell(world.client, week_starts, YESTERDAY - timedelta(days=1), gmv="50.00")
    sell(world.client, YESTERDAY, YESTERDAY, gmv=last_day_gmv)
    assert sweep().raised == int(raised)
    if raised:
        [alert] = alerts_of(world.client)
        assert alert.cause == "gmv_drop"
        assert alert.baseline_gmv == Decimal("700.000")
        assert alert.since_day == week_starts
        assert "down 50%" in alert.detail and "700.00" in alert.detail


def test_gmv_drop_needs_the_whole_four_weeks_of_figures_F4(world):
    week_starts = YESTERDAY - timedelta(days=6)
    sell(world.client, week_starts - timedelta(days=20), week_starts - timedelta(days=1))
    sell(world.client, week_starts, YESTERDAY, gmv="1.00")
    assert sweep().raised == 0


def test_the_teams_percent_is_the_threshold_F4(world):
    set_team(world, not_selling_drop_percent=20)
    week_starts = YESTERDAY - timedelta(days=6)
    sell(world.client, week_starts - timedelta(days=28), week_starts - timedelta(days=1))
    sell(world.client, week_starts, YESTERDAY, gmv="79.00")  # 21 % down
    assert sweep().raised == 1


# --- one alert per episode, clearing -------------------------------------------------------


def test_one_alert_per_episode_whatever_the_runs_F4(world, frozen_clock):
    set_team(world, not_selling_drop_percent=99)
    sell(world.client, YESTERDAY - timedelta(days=40), YESTERDAY - timedelta(days=8))
    assert sweep().raised == 1
    assert sweep().raised == 0
    frozen_clock(NOW + timedelta(days=3))
    assert sweep() == not_selling.SweepResult(0, 0)
    assert len(alerts_of(world.client)) == 1


def test_an_order_clears_the_alert_and_a_new_silence_is_a_new_episode_F4(world, frozen_clock, db):
    set_team(world, not_selling_drop_percent=99)
    sell(world.client, YESTERDAY - timedelta(days=40), YESTERDAY - timedelta(days=8))
    sweep()
    # The store sells again today (its calendar): cleared at the next run, not waiting
    # for the day to be over.
    sell(world.client, YESTERDAY + timedelta(days=1), YESTERDAY + timedelta(days=1), orders=1)
    frozen_clock(NOW + timedelta(hours=1))
    assert sweep() == not_selling.SweepResult(0, 1)
    [alert] = alerts_of(world.client)
    assert alert.cleared_at == NOW + timedelta(hours=1)
    kinds = db.session.scalars(
        select(TimelineEvent.kind)
        .where(TimelineEvent.client_id == world.client.id)
        .order_by(TimelineEvent.id)
    ).all()
    assert kinds[-2:] == [TimelineKind.NOT_SELLING_RAISED, TimelineKind.NOT_SELLING_CLEARED]
    # Then silent again for 7 whole days of its calendar: a new episode.
    frozen_clock(NOW + timedelta(days=7))
    assert sweep().raised == 0
    frozen_clock(NOW + timedelta(days=8))
    assert sweep().raised == 1
    first, second = alerts_of(world.client)
    assert first.cleared_at is not None and second.cleared_at is None
    assert second.since_day == YESTERDAY + timedelta(days=2)


def test_a_late_figure_with_orders_for_a_silent_day_clears_the_alert_F4(world):
    set_team(world, not_selling_drop_percent=99)
    sell(world.client, YESTERDAY - timedelta(days=40), YESTERDAY - timedelta(days=8))
    sweep()
    sell(world.client, YESTERDAY - timedelta(days=3), YESTERDAY - timedelta(days=3), orders=2)
    assert sweep().cleared == 1


def test_a_gmv_drop_clears_once_back_within_the_percent_of_its_baseline_F4(world, frozen_clock):
    week_starts = YESTERDAY - timedelta(days=6)
    sell(world.client, week_starts - timedelta(days=28), week_starts - timedelta(days=1))
    sell(world.client, week_starts, YESTERDAY, gmv="40.00")  # 280: 60 % down
    assert sweep().raised == 1
    # A week later the last 7 days make 349.93, still under half the 700 it fell from.
    sell(world.client, YESTERDAY + timedelta(days=1), YESTERDAY + timedelta(days=7), gmv="49.99")
    frozen_clock(NOW + timedelta(days=7))
    assert sweep() == not_selling.SweepResult(0, 0)
    # The next day brings them to 350.01.
    sell(world.client, YESTERDAY + timedelta(days=8), YESTERDAY + timedelta(days=8), gmv="50.08")
    frozen_clock(NOW + timedelta(days=8))
    assert sweep().cleared == 1


def test_the_sweep_takes_a_few_statements_whatever_the_stores_F4(world, make_client, db):
    set_team(world, not_selling_drop_percent=99)
    for zone in ("Africa/Cairo", "America/Los_Angeles", "Asia/Dubai", "Pacific/Kiritimati"):
        for _ in range(3):
            store = make_client(acm=world.acm, timezone=zone)
            sell(store, YESTERDAY - timedelta(days=40), YESTERDAY - timedelta(days=9))
    with counting_queries(db.engine) as counted:
        not_selling.sweep(clock.now())
    # Reads: the open alerts, the zones, one aggregate per distinct "yesterday" (Kiritimati,
    # UTC+14, is a day ahead), the stores to raise; whatever the number of stores.
    reads = [statement for statement in counted if statement.lstrip().startswith("SELECT")]
    assert len(reads) <= 5, reads
    assert len(alerts_of(store)) == 1


# --- the reasons and actions the ACM owes ---------------------------------------------------


@pytest.fixture
def alert(world):
    set_team(world, not_selling_drop_percent=99)
    sell(world.client, YESTERDAY - timedelta(days=40), YESTERDAY - timedelta(days=8))
    sweep()
    return alerts_of(world.client)[0]


def test_the_alert_is_on_the_day_until_the_reasons_are_recorded_F4(world, alert, db):
    [item] = day.not_selling_owed(world.acm, now=clock.now()).items
    assert (item.rule, item.client, item.alert_id) == ("F4", world.client, alert.id)
    not_selling.record_reasons(
        alert, actor=world.acm, reasons="Out of stock", actions="Restock by Sunday"
    )
    db.session.commit()
    assert day.not_selling_owed(world.acm, now=clock.now()).items == []
    assert not_selling.client_alerts(world.client) == [alert]  # open until it sells
    assert (alert.reasons, alert.actions, alert.recorded_by) == (
        "Out of stock",
        "Restock by Sunday",
        world.acm,
    )


@pytest.mark.parametrize(
    ("reasons", "actions", "field"),
    [
        ("", "Restock", "reasons"),
        ("Out of stock", "  ", "actions"),
        ("Out\x00of stock", "Restock", "reasons"),
        ("x" * (not_selling.TEXT_MAX + 1), "Restock", "reasons"),
    ],
)
def test_reasons_and_actions_are_both_required_and_bounded_F4(
    world, alert, reasons, actions, field
):
    with pytest.raises(ValidationError) as refused:
        not_selling.record_reasons(alert, actor=world.acm, reasons=reasons, actions=actions)
    assert refused.value.field == field
    assert alert.recorded_at is None


def test_reasons_are_recorded_once_and_only_by_who_works_on_the_client_F4(
    world, alert, make_portfolio
):
    other = make_portfolio(client=False)
    with pytest.raises(NotAllowed):
        not_selling.record_reasons(alert, actor=other.acm, reasons="x", actions="y")
    not_selling.record_reasons(alert, actor=world.leader, reasons="x", actions="y")
    with pytest.raises(RuleViolation) as refused:
        not_selling.record_reasons(alert, actor=world.acm, reasons="a", actions="b")
    assert refused.value.rule == "F4"


def test_a_cleared_alert_still_owes_its_reasons_F4(world, alert, frozen_clock):
    sell(world.client, YESTERDAY + timedelta(days=1), YESTERDAY + timedelta(days=1), orders=1)
    assert sweep().cleared == 1
    [item] = day.not_selling_owed(world.acm, now=clock.now()).items
    assert item.overdue is False  # selling again, the reasons still owed
    assert not_selling.client_alerts(world.client) == [alert]


# --- the team's thresholds ----------------------------------------------------------------


def test_a_new_team_gets_the_default_thresholds_F4(db):
    team = accounts.create_team(actor=None, **team_settings())
    assert (team.not_selling_days, team.not_selling_drop_percent) == (7, 50)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("not_selling_days", 0),
        ("not_selling_days", 61),
        ("not_selling_drop_percent", 0),
        ("not_selling_drop_percent", 100),
        ("not_selling_days", True),
    ],
)
def test_the_thresholds_are_bounded_F4(db, name, value):
    with pytest.raises(ValidationError) as refused:
        accounts.create_team(actor=None, **team_settings(**{name: value}))
    assert refused.value.field == name


def test_the_thresholds_can_be_changed_F4(db):
    team = accounts.create_team(actor=None, **team_settings())
    accounts.update_team(
        team, actor=None, **team_settings(not_selling_days=60, not_selling_drop_percent=99)
    )
    assert (team.not_selling_days, team.not_selling_drop_percent) == (60, 99)
