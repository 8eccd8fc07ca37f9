"""Business hours (F2, E2, O2) at and around every boundary: the end of the week, the end of
the day, public and admin holidays, a moved holiday, DST changes, Sun-Thu and Mon-Fri."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from kamportal.errors import ValidationError
from kamportal.models import AuditEvent, CalendarDay, Role
from kamportal.services import calendar
from kamportal.services.calendar import BusinessCalendar

CAIRO = ZoneInfo("Africa/Cairo")
NEW_YORK = ZoneInfo("America/New_York")
DUBAI = ZoneInfo("Asia/Dubai")


def cairo(*args) -> datetime:
    return datetime(*args, tzinfo=CAIRO).astimezone(UTC)


def new_york(*args) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK).astimezone(UTC)


def sun_thu_cairo(**extra) -> BusinessCalendar:
    return BusinessCalendar(
        zone="Africa/Cairo",
        working_weekdays=frozenset({7, 1, 2, 3, 4}),
        opens=time(9),
        closes=time(17),
        country="EG",
        **extra,
    )


def mon_fri_new_york() -> BusinessCalendar:
    return BusinessCalendar(
        zone="America/New_York",
        working_weekdays=frozenset({1, 2, 3, 4, 5}),
        opens=time(9),
        closes=time(17),
        country="US",
    )


# --- the working week ---------------------------------------------------------------------


def test_a_wait_from_thursday_afternoon_in_a_sun_thu_team_resumes_on_sunday():
    """F2: Thu 16:00 + 4 business hours = 1 hour on Thursday, 3 on Sunday (Fri-Sat off)."""
    cal = sun_thu_cairo()
    thursday = cairo(2026, 11, 19, 16, 0)
    assert cal.add_business_hours(thursday, 4) == cairo(2026, 11, 22, 12, 0)
    assert cal.business_hours_between(thursday, cairo(2026, 11, 22, 12, 0)) == 4.0


def test_subtracting_business_hours_walks_back_over_the_weekend():
    """The reverse of adding: Sunday 12:00 - 4 business hours = Thursday 16:00."""
    cal = sun_thu_cairo()
    sunday = cairo(2026, 11, 22, 12, 0)
    assert cal.subtract_business_hours(sunday, 4) == cairo(2026, 11, 19, 16, 0)
    # From outside working time it counts back from the last closing.
    saturday = cairo(2026, 11, 21, 20, 0)
    assert cal.subtract_business_hours(saturday, 1) == cairo(2026, 11, 19, 16, 0)
    for hours in (0.5, 8, 13, 48):
        start = cal.subtract_business_hours(sunday, hours)
        assert cal.add_business_hours(start, hours) == sunday
    with pytest.raises(ValueError):
        cal.subtract_business_hours(sunday, -1)


def test_a_friday_evening_start_counts_from_the_next_opening():
    cal = sun_thu_cairo()
    friday_evening = cairo(2026, 11, 20, 19, 30)
    assert not cal.is_working_time(friday_evening)
    assert cal.next_opening(friday_evening) == cairo(2026, 11, 22, 9, 0)
    assert cal.add_business_hours(friday_evening, 24) == cairo(2026, 11, 24, 17, 0)


def test_a_mon_fri_team_skips_saturday_and_sunday():
    cal = mon_fri_new_york()
    friday = new_york(2026, 11, 13, 15, 0)
    assert cal.add_business_hours(friday, 3) == new_york(2026, 11, 16, 10, 0)


def test_the_day_boundaries_are_exact():
    """Opening is working time, closing is not; a wait ending at closing ends then."""
    cal = sun_thu_cairo()
    assert cal.is_working_time(cairo(2026, 11, 23, 9, 0))
    assert not cal.is_working_time(cairo(2026, 11, 23, 8, 59, 59))
    assert cal.is_working_time(cairo(2026, 11, 23, 16, 59, 59))
    assert not cal.is_working_time(cairo(2026, 11, 23, 17, 0))
    assert cal.add_business_hours(cairo(2026, 11, 23, 9, 0), 8) == cairo(2026, 11, 23, 17, 0)
    assert cal.add_business_hours(cairo(2026, 11, 23, 17, 0), 0.5) == cairo(2026, 11, 24, 9, 30)
    assert cal.add_business_hours(cairo(2026, 11, 23, 7, 0), 1) == cairo(2026, 11, 23, 10, 0)
    assert cal.next_opening(cairo(2026, 11, 23, 12, 0)) == cairo(2026, 11, 23, 12, 0)
    assert cal.next_opening(cairo(2026, 11, 23, 17, 0)) == cairo(2026, 11, 24, 9, 0)


def test_48_business_hours_span_six_working_days():
    """O2: 48 business hours of 8-hour days from a Sunday opening end on the next Sunday."""
    cal = sun_thu_cairo()
    assert cal.add_business_hours(cairo(2026, 11, 22, 9, 0), 48) == cairo(2026, 11, 29, 17, 0)


def test_business_hours_between_counts_only_opening_hours():
    cal = sun_thu_cairo()
    assert cal.business_hours_between(cairo(2026, 11, 19, 8, 0), cairo(2026, 11, 22, 10, 30)) == (
        8 + 1.5
    )
    assert cal.business_hours_between(cairo(2026, 11, 20, 8), cairo(2026, 11, 21, 20)) == 0.0
    assert cal.business_hours_between(cairo(2026, 11, 23, 12), cairo(2026, 11, 23, 11)) == 0.0


def test_naive_datetimes_and_negative_hours_are_refused():
    cal = sun_thu_cairo()
    with pytest.raises(ValueError, match="aware"):
        cal.add_business_hours(datetime(2026, 11, 23, 9), 1)
    with pytest.raises(ValueError, match="negative"):
        cal.add_business_hours(cairo(2026, 11, 23, 9), -1)
    with pytest.raises(ValueError, match="open before"):
        BusinessCalendar(zone="UTC", working_weekdays=frozenset({1}), opens=time(9), closes=time(9))


# --- holidays -----------------------------------------------------------------------------


def test_an_egyptian_public_holiday_is_not_a_business_day():
    """Coptic Christmas, Wed 7 Jan 2026: Wed 16:00 + 2 hours ends Thursday 10:00."""
    cal = sun_thu_cairo()
    assert not cal.is_business_day(date(2026, 1, 7))
    assert cal.add_business_hours(cairo(2026, 1, 6, 16, 0), 2) == cairo(2026, 1, 8, 10, 0)


def test_a_uae_public_holiday_is_skipped():
    """UAE National Day, Wed 2 and Thu 3 Dec 2026, in a Mon-Fri Dubai team: Tue 17:00
    + 2 hours = 1 hour on Tuesday, 1 on Friday."""
    cal = BusinessCalendar(
        zone="Asia/Dubai",
        working_weekdays=frozenset({1, 2, 3, 4, 5}),
        opens=time(9),
        closes=time(18),
        country="AE",
    )
    assert not cal.is_business_day(date(2026, 12, 2))
    assert not cal.is_business_day(date(2026, 12, 3))
    start = datetime(2026, 12, 1, 17, 0, tzinfo=DUBAI)
    assert cal.add_business_hours(start, 2) == datetime(2026, 12, 4, 10, 0, tzinfo=DUBAI)


def test_an_admin_holiday_is_skipped():
    cal = sun_thu_cairo(extra_holidays=frozenset({date(2026, 11, 24)}))
    assert cal.add_business_hours(cairo(2026, 11, 23, 16, 0), 2) == cairo(2026, 11, 25, 10, 0)
    assert not cal.is_working_time(cairo(2026, 11, 24, 12, 0))


def test_a_moved_holiday_makes_the_public_holiday_a_working_day_and_the_new_day_off():
    """Coptic Christmas (Wed 7 Jan) moved to Thu 8 Jan: Wednesday is worked, Thursday not."""
    cal = sun_thu_cairo(
        extra_working_days=frozenset({date(2026, 1, 7)}),
        extra_holidays=frozenset({date(2026, 1, 8)}),
    )
    assert cal.is_working_time(cairo(2026, 1, 7, 12, 0))
    assert cal.add_business_hours(cairo(2026, 1, 7, 16, 0), 2) == cairo(2026, 1, 11, 10, 0)


def test_an_admin_working_day_on_a_weekend_counts():
    """A Saturday the admin makes a working day (a holiday's bridge worked back)."""
    cal = sun_thu_cairo(extra_working_days=frozenset({date(2026, 11, 21)}))
    assert cal.add_business_hours(cairo(2026, 11, 19, 16, 0), 2) == cairo(2026, 11, 21, 10, 0)


# --- DST ------------------------------------------------------------------------------------


def test_a_wait_across_the_new_york_spring_change_counts_real_hours():
    """8 Mar 2026: EST (UTC-5) to EDT (UTC-4). Fri 16:00 EST + 2 h = Mon 10:00 EDT."""
    cal = mon_fri_new_york()
    friday = new_york(2026, 3, 6, 16, 0)
    assert friday == datetime(2026, 3, 6, 21, 0, tzinfo=UTC)
    end = cal.add_business_hours(friday, 2)
    assert end == new_york(2026, 3, 9, 10, 0)
    assert end == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert cal.business_hours_between(friday, end) == 2.0


def test_a_wait_across_the_new_york_autumn_change():
    """1 Nov 2026: EDT back to EST. Fri 16:30 EDT + 1 h = Mon 9:30 EST (14:30 UTC)."""
    cal = mon_fri_new_york()
    end = cal.add_business_hours(new_york(2026, 10, 30, 16, 30), 1)
    assert end == datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


def test_cairo_summer_time_moves_the_opening_in_utc():
    """Egypt observes DST again from 2023: from the last Friday of April (24 Apr 2026)
    Cairo is UTC+3, so a Sunday opening at 9:00 is 06:00 UTC, not 07:00."""
    cal = sun_thu_cairo()
    thursday = cairo(2026, 4, 23, 16, 0)
    assert thursday == datetime(2026, 4, 23, 14, 0, tzinfo=UTC)
    end = cal.add_business_hours(thursday, 3)
    assert end == cairo(2026, 4, 26, 11, 0)
    assert end == datetime(2026, 4, 26, 8, 0, tzinfo=UTC)
    assert cal.business_hours_between(thursday, end) == 3.0


def test_cairo_winter_time_on_the_last_thursday_of_october():
    """Cairo leaves DST at the end of Thu 29 Oct 2026: Thu 16:00 (UTC+3) + 2 h ends
    Sun 10:00 at UTC+2."""
    cal = sun_thu_cairo()
    end = cal.add_business_hours(cairo(2026, 10, 29, 16, 0), 2)
    assert end == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


# --- from the database ----------------------------------------------------------------------


def test_calendar_for_a_team_reads_its_week_hours_and_the_countrys_admin_days(
    db, make_team, frozen_clock
):
    team = make_team(
        country="EG",
        timezone="Africa/Cairo",
        working_days="7,1,2,3,4",
        workday_starts=time(8, 30),
        workday_ends=time(16, 30),
    )
    calendar.set_calendar_day("EG", date(2026, 11, 24), is_holiday=True, name="Extra", actor=None)
    calendar.set_calendar_day("SA", date(2026, 11, 25), is_holiday=True, name="Not EG", actor=None)
    cal = calendar.calendar_for(team)
    assert cal.opens == time(8, 30) and cal.working_weekdays == {7, 1, 2, 3, 4}
    assert cal.extra_holidays == {date(2026, 11, 24)}
    assert cal.add_business_hours(cairo(2026, 11, 23, 16, 0), 1) == cairo(2026, 11, 25, 9, 0)


def test_admin_days_are_audited_and_removable(db, make_user, frozen_clock):
    admin = make_user(Role.ADMIN)
    day = calendar.set_calendar_day(
        "eg", date(2026, 1, 7), is_holiday=False, name="Coptic Christmas moved", actor=admin
    )
    entries = {e.day: e for e in calendar.country_calendar("EG", [2026])}
    assert entries[date(2026, 1, 7)].source == "Working day (public holiday moved)"
    assert entries[date(2026, 1, 7)].public_name == "Coptic Christmas Day"
    calendar.remove_calendar_day(day, actor=admin)
    assert db.session.get(CalendarDay, day.id) is None
    actions = db.session.scalars(
        db.select(AuditEvent.action).where(AuditEvent.object_type == "calendarday")
    ).all()
    assert actions == ["calendar.add_working_day", "calendar.remove_day"]


@pytest.mark.parametrize(
    ("day", "holiday", "name", "field", "message"),
    [
        (None, True, "x", "day", "Choose a day"),
        (date(2026, 11, 24), True, " ", "name", "Say what"),
        (date(2026, 1, 7), True, "Again", "day", "already a public holiday"),
    ],
)
def test_bad_admin_days_are_refused(db, frozen_clock, day, holiday, name, field, message):
    with pytest.raises(ValidationError, match=message) as refused:
        calendar.set_calendar_day("EG", day, is_holiday=holiday, name=name, actor=None)
    assert refused.value.field == field


def test_a_day_is_set_once_per_country(db, frozen_clock):
    calendar.set_calendar_day("EG", date(2026, 11, 24), is_holiday=True, name="A", actor=None)
    with pytest.raises(ValidationError, match="already set"):
        calendar.set_calendar_day("EG", date(2026, 11, 24), is_holiday=False, name="B", actor=None)


# --- whole business days (P5) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # Thursday: the day itself not counted; Sun, Mon, Tue, Wed, Thu.
        (cairo(2026, 11, 19, 10, 0), 5, cairo(2026, 11, 26, 17, 0)),
        # Friday and Saturday are off: the same five days.
        (cairo(2026, 11, 20, 10, 0), 5, cairo(2026, 11, 26, 17, 0)),
        # Sunday one minute before closing: Mon to Thu, then Sunday again.
        (cairo(2026, 11, 22, 16, 59), 5, cairo(2026, 11, 29, 17, 0)),
        # Before opening on Wednesday: the next day closes it.
        (cairo(2026, 11, 25, 8, 0), 1, cairo(2026, 11, 26, 17, 0)),
        # Just after midnight on Thursday: Thursday is still the day of the change.
        (cairo(2026, 11, 26, 0, 1), 1, cairo(2026, 11, 29, 17, 0)),
    ],
)
def test_whole_business_days_end_at_the_close_of_the_last_one_P5(start, days, due):
    assert sun_thu_cairo().end_of_business_days(start, days) == due


def test_whole_business_days_skip_holidays_P5():
    thursday_off = sun_thu_cairo(extra_holidays=frozenset({date(2026, 11, 26)}))
    assert thursday_off.end_of_business_days(cairo(2026, 11, 22, 12, 0), 4) == cairo(
        2026, 11, 29, 17, 0
    )


def test_whole_business_days_are_at_least_one():
    with pytest.raises(ValueError, match="at least one"):
        sun_thu_cairo().end_of_business_days(cairo(2026, 11, 22, 12, 0), 0)
