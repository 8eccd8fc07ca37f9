"""F6: the store-manager duties, owed once per period on the client's calendar, and the
data-entry requests, due within their size's SLA in business hours."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.errors import NotAllowed, ValidationError
from kamportal.models import Role, TimelineEvent, TimelineKind
from kamportal.services import calendar, store_management
from kamportal.services.store_management import DAILY, MONTHLY, WEEKLY, period_start

CAIRO = ZoneInfo("Africa/Cairo")


def cairo(*args) -> datetime:
    return datetime(*args, tzinfo=CAIRO).astimezone(UTC)


@pytest.fixture
def world(make_portfolio, make_user, frozen_clock, db):
    """Monday 23 Nov 2026, 11:00 in Cairo; a Sun-Thu Cairo team; a client with an Online
    Store Manager, Sara."""
    frozen_clock(cairo(2026, 11, 23, 11, 0))
    portfolio = make_portfolio(
        team={"name": "Cairo"}, client={"timezone": "Africa/Cairo", "has_store_manager": True}
    )
    sara = make_user(Role.STORE_MANAGER, name="Sara Store")
    store_management.assign_store_manager(portfolio.client, sara, actor=portfolio.leader)
    db.session.commit()
    return SimpleNamespace(**{**vars(portfolio), "more": sara})


@pytest.mark.parametrize(
    ("frequency", "today", "week_starts", "start"),
    [
        (DAILY, date(2026, 11, 23), 7, date(2026, 11, 23)),
        (WEEKLY, date(2026, 11, 23), 7, date(2026, 11, 22)),  # Monday: the week began Sunday
        (WEEKLY, date(2026, 11, 22), 7, date(2026, 11, 22)),  # Sunday starts it
        (WEEKLY, date(2026, 11, 21), 7, date(2026, 11, 15)),  # Saturday ends the last
        (WEEKLY, date(2026, 11, 22), 1, date(2026, 11, 16)),  # a Mon-Fri team: Monday
        (MONTHLY, date(2026, 11, 30), 7, date(2026, 11, 1)),
        (MONTHLY, date(2026, 12, 1), 7, date(2026, 12, 1)),
    ],
)
def test_each_duty_is_owed_once_per_period_of_its_frequency_F6(
    frequency, today, week_starts, start
):
    assert period_start(frequency, today, week_starts=week_starts) == start


def owed(world, at: datetime) -> set[str]:
    [card] = store_management.cards([world.client], now=at)
    return {state.duty.key for state in card.owed}


def test_a_duty_done_leaves_what_is_owed_until_its_next_period_F6(db, world):
    sara = world.more
    assert "customer_care" in owed(world, clock.now())
    store_management.mark_done(world.client, "customer_care", actor=sara, note="12 inquiries")
    store_management.mark_done(world.client, "seo_catalogue", actor=sara)
    db.session.commit()
    assert {"customer_care", "seo_catalogue"}.isdisjoint(owed(world, clock.now()))
    # Just before midnight in Cairo the day's duty is still done; at midnight it is owed.
    assert "customer_care" not in owed(world, cairo(2026, 11, 23, 23, 59))
    assert "customer_care" in owed(world, cairo(2026, 11, 24, 0, 0))
    # The weekly one stays done until the team's week starts again on Sunday.
    assert "seo_catalogue" not in owed(world, cairo(2026, 11, 28, 12, 0))
    assert "seo_catalogue" in owed(world, cairo(2026, 11, 29, 0, 0))
    event = db.session.scalar(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.STORE_DUTY_DONE.value)
    )
    assert "12 inquiries" in event.summary


def test_daily_duties_are_not_owed_on_a_day_off_F6(db, world):
    friday = cairo(2026, 11, 27, 12, 0)
    keys = owed(world, friday)
    assert "customer_care" not in keys and "seo_catalogue" in keys


def test_a_duty_is_done_once_a_period_and_only_by_the_store_manager_F6(db, world):
    store_management.mark_done(world.client, "store_settings", actor=world.more)
    db.session.commit()
    with pytest.raises(ValidationError, match="done for this period already"):
        store_management.mark_done(world.client, "store_settings", actor=world.more)
    with pytest.raises(NotAllowed):
        store_management.mark_done(world.client, "customer_care", actor=world.acm)
    with pytest.raises(ValidationError, match="Choose a duty owed now") as unknown:
        store_management.mark_done(world.client, "sweep_floor", actor=world.more)
    assert unknown.value.field == "duty"


def test_only_a_duty_owed_now_is_marked_done_F6(db, world, frozen_clock):
    frozen_clock(cairo(2026, 11, 27, 12, 0))  # Friday: the Cairo team's day off
    with pytest.raises(ValidationError, match="not owed today") as day_off:
        store_management.mark_done(world.client, "customer_care", actor=world.more)
    assert day_off.value.field == "duty"
    store_management.mark_done(world.client, "seo_catalogue", actor=world.more)  # weekly
    world.client.has_store_manager = False
    with pytest.raises(ValidationError, match="no Online Store Manager"):
        store_management.mark_done(world.client, "store_settings", actor=world.more)


def test_a_data_entry_request_is_due_within_its_sizes_sla_in_business_hours_F6(db, world):
    # Monday 11:00, 24 business hours (9:00-17:00): Mon 6 h, Tue 8, Wed 8, Thu 2 → Thu 11:00.
    entry = store_management.log_request(
        world.client, actor=world.acm, description="Add 30 products to Summer", size="medium"
    )
    db.session.commit()
    assert entry.due_at == cairo(2026, 11, 26, 11, 0)
    large = store_management.log_request(
        world.client, actor=world.more, description="The whole catalogue", size="large"
    )
    expected = calendar.calendar_for_client(world.client).add_business_hours(clock.now(), 72)
    assert large.due_at == expected


@pytest.mark.config(DATA_ENTRY_SLA_HOURS="small=2,medium=4,large=8")
def test_the_sla_is_a_setting_F6(db, world):
    entry = store_management.log_request(
        world.client, actor=world.acm, description="Fix two prices", size="small"
    )
    assert entry.due_at == cairo(2026, 11, 23, 13, 0)


def test_a_request_is_late_after_its_due_time_and_done_once_F6(db, world):
    entry = store_management.log_request(
        world.client, actor=world.acm, description="Fix two prices", size="small"
    )
    db.session.commit()
    # 8 business hours from Monday 11:00: 6 on Monday, 2 on Tuesday.
    assert entry.due_at == cairo(2026, 11, 24, 11, 0)
    in_time = store_management.log_request(
        world.client, actor=world.acm, description="Fix a third price", size="small"
    )
    clock.freeze(in_time.due_at)
    store_management.finish_request(in_time, actor=world.more)
    clock.freeze(cairo(2026, 11, 24, 11, 0) + timedelta(seconds=1))
    store_management.finish_request(entry, actor=world.more)
    db.session.commit()
    summaries = db.session.scalars(
        select(TimelineEvent.summary)
        .where(TimelineEvent.kind == TimelineKind.DATA_ENTRY_DONE.value)
        .order_by(TimelineEvent.id)
    ).all()
    assert summaries == ["Data-entry request done in time", "Data-entry request done late"]
    with pytest.raises(ValidationError, match="done already"):
        store_management.finish_request(entry, actor=world.more)
    assert store_management.open_requests([world.client]) == []


@pytest.mark.parametrize(
    ("description", "size", "field"),
    [("", "small", "description"), ("x\x00", "small", "description"), ("x", "huge", "size")],
)
def test_a_bad_request_is_refused_F6(db, world, description, size, field):
    with pytest.raises(ValidationError) as refused:
        store_management.log_request(
            world.client, actor=world.acm, description=description, size=size
        )
    assert refused.value.field == field


def test_only_the_leader_or_an_admin_assigns_a_store_manager_F6(db, world, make_user, make_client):
    other = make_user(Role.STORE_MANAGER, name="Omar Store")
    with pytest.raises(NotAllowed):
        store_management.assign_store_manager(world.client, other, actor=world.acm)
    with pytest.raises(ValidationError, match="Choose a store manager"):
        store_management.assign_store_manager(world.client, world.acm, actor=world.leader)
    plain = make_client(acm=world.acm)
    with pytest.raises(ValidationError, match="no Online Store Manager"):
        store_management.assign_store_manager(plain, other, actor=world.leader)
    store_management.assign_store_manager(world.client, other, actor=world.leader)
    assert world.client.store_manager == other


def test_a_holiday_added_moves_a_requests_due_time_F6(db, world):
    entry = store_management.log_request(
        world.client, actor=world.acm, description="Add 30 products", size="medium"
    )
    db.session.commit()
    calendar.set_calendar_day(
        "EG", date(2026, 11, 24), is_holiday=True, name="Office closed", actor=None
    )
    db.session.commit()
    assert entry.due_at == cairo(2026, 11, 29, 11, 0)  # Tuesday off: Thursday, then Sunday
