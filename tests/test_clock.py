"""The portal's clock: "today" is a date in a zone, never UTC's by default."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from kamportal import clock


def test_today_is_the_date_in_the_zone_asked(frozen_clock):
    """At 23:30 UTC on 12 Dec it is the 13th in Cairo, the 12th in UTC and Los Angeles."""
    frozen_clock(datetime(2026, 12, 12, 23, 30, tzinfo=UTC))
    assert clock.today("Africa/Cairo") == date(2026, 12, 13)
    assert clock.today("UTC") == date(2026, 12, 12)
    assert clock.today("America/Los_Angeles") == date(2026, 12, 12)
    earlier = datetime(2026, 12, 12, 21, 59, tzinfo=UTC)  # 23:59 in Cairo
    assert clock.today("Africa/Cairo", at=earlier) == date(2026, 12, 12)


def test_no_place_is_later_than_the_latest_today(frozen_clock):
    """The latest date anywhere bounds each zone's today (the Line Islands: UTC+14)."""
    at = frozen_clock(datetime(2026, 12, 12, 10, 0, tzinfo=UTC))
    assert clock.latest_today() == date(2026, 12, 13)
    assert clock.today("Pacific/Kiritimati") == clock.latest_today()
    for hour in range(24):
        instant = at + timedelta(hours=hour)
        assert max(clock.today(z, at=instant) for z in clock.timezone_names()) <= (
            clock.latest_today(at=instant)
        )
