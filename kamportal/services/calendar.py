"""Business hours: the one calendar every timed rule counts in.

F2 (the WhatsApp after a team-set number of business hours without a reply), E2 (each
step of the escalation ladder waits business hours) and O2 (the welcome email within 48
business hours) all ask a `BusinessCalendar`. It follows the team's working week
(Sunday-Thursday or Monday-Friday), its working hours in its time zone, the public
holidays of its country (the `holidays` package; Islamic holidays there are estimates)
and the days an admin sets for that country (`CalendarDay`): a holiday added, or a
working day where the weekend or the public-holiday list says otherwise (a holiday moved).

All instants in and out are aware UTC; the arithmetic is done on each day's opening
interval converted to UTC, so a DST change moves the interval's UTC bounds and nothing
else: a business hour is always a real hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_package
from sqlalchemy import select

from kamportal import clock
from kamportal.errors import ValidationError
from kamportal.extensions import db
from kamportal.models import CalendarDay, Client, Team, User
from kamportal.models.accounts import TEAM_RULES
from kamportal.services import events, timeline, validation

# A calendar with no working day at all would never open: stop looking after this long.
_SEARCH_DAYS = 3 * 366


@lru_cache(maxsize=256)
def public_holidays(country: str, year: int) -> dict[date, str]:
    """The public holidays of `country` (ISO alpha-2) in `year`, from the `holidays`
    package; empty for a country it does not know."""
    try:
        found = holidays_package.country_holidays(country, years=year)
    except NotImplementedError:
        return {}
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class BusinessCalendar:
    """A team's business hours as plain data (no database), so every boundary is testable.

    `extra_holidays` and `extra_working_days` are the admin's days for the country; a day
    in `extra_working_days` is worked even on a weekend or a public holiday.
    """

    zone: str
    working_weekdays: frozenset[int]
    opens: time
    closes: time
    country: str | None = None
    extra_holidays: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.opens < self.closes:
            raise ValueError("a working day must open before it closes")
        if not set(self.working_weekdays) <= set(range(1, 8)):
            raise ValueError("working weekdays are ISO weekdays, 1 to 7")
        ZoneInfo(self.zone)

    # --- days ------------------------------------------------------------------------------

    def is_public_holiday(self, day: date) -> bool:
        return self.country is not None and day in public_holidays(self.country, day.year)

    def is_business_day(self, day: date) -> bool:
        """A working weekday that is no holiday, or a day the admin made a working day."""
        if day in self.extra_working_days:
            return True
        if day in self.extra_holidays or self.is_public_holiday(day):
            return False
        return day.isoweekday() in self.working_weekdays

    def opening_hours(self, day: date) -> tuple[datetime, datetime] | None:
        """When business day `day` opens and closes, in UTC; None on a day off."""
        if not self.is_business_day(day):
            return None
        tz = ZoneInfo(self.zone)
        return (
            datetime.combine(day, self.opens, tzinfo=tz).astimezone(UTC),
            datetime.combine(day, self.closes, tzinfo=tz).astimezone(UTC),
        )

    def _windows_from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The opening intervals of the business days from `at`'s local day onwards."""
        day = at.astimezone(ZoneInfo(self.zone)).date()
        for offset in range(_SEARCH_DAYS):
            window = self.opening_hours(day + timedelta(days=offset))
            if window is not None:
                yield window
        raise ValueError("this calendar has no business day within three years")

    # --- instants --------------------------------------------------------------------------

    def is_working_time(self, at: datetime) -> bool:
        """True if `at` falls within opening hours (opening included, closing excluded)."""
        at = _utc(at)
        window = self.opening_hours(at.astimezone(ZoneInfo(self.zone)).date())
        return window is not None and window[0] <= at < window[1]

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself during working time, else when business next opens after it."""
        at = _utc(at)
        for opens, closes in self._windows_from(at):
            if at < opens:
                return opens
            if at < closes:
                return at
        raise AssertionError("unreachable")  # pragma: no cover

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The instant `hours` business hours after `start` (F2, E2, O2).

        A start outside working time counts from the next opening. A wait that ends
        exactly at closing ends then, not at the next opening. Raises ValueError for
        negative hours or a naive `start`.
        """
        if hours < 0:
            raise ValueError("business hours to add cannot be negative")
        start = _utc(start)
        remaining = timedelta(hours=hours)
        for opens, closes in self._windows_from(start):
            begin = max(start, opens)
            if begin >= closes:
                continue
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
        raise AssertionError("unreachable")  # pragma: no cover

    def end_of_business_days(self, start: datetime, days: int) -> datetime:
        """The closing time of the `days`-th business day after `start`'s local day, the
        day of `start` itself not counted (P5's hand-over). Raises ValueError for
        days < 1."""
        if days < 1:
            raise ValueError("count at least one business day")
        start = _utc(start)
        first = start.astimezone(ZoneInfo(self.zone)).date()
        later = (
            closes
            for opens, closes in self._windows_from(start)
            if opens.astimezone(ZoneInfo(self.zone)).date() > first
        )
        for _ in range(days - 1):
            next(later)
        return next(later)

    def subtract_business_hours(self, end: datetime, hours: float) -> datetime:
        """The instant `hours` business hours before `end`, to the second: the reverse of
        `add_business_hours` (the demo replays past ladders with it)."""
        if hours < 0:
            raise ValueError("business hours to subtract cannot be negative")
        end = _utc(end)
        remaining = timedelta(hours=hours)
        day = end.astimezone(ZoneInfo(self.zone)).date()
        for offset in range(_SEARCH_DAYS):
            window = self.opening_hours(day - timedelta(days=offset))
            if window is None or window[0] >= end:
                continue
            opens, closes = window
            last = min(closes, end)
            if remaining <= last - opens:
                return (last - remaining).replace(microsecond=0)
            remaining -= last - opens
        raise ValueError("this calendar has no business day within three years")

    def business_hours_between(self, start: datetime, end: datetime) -> float:
        """How many business hours lie between `start` and `end` (0 if `end` is not later)."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return 0.0
        total = timedelta()
        for opens, closes in self._windows_from(start):
            if opens >= end:
                break
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta():
                total += overlap
        return total / timedelta(hours=1)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business-hour arithmetic takes aware datetimes")
    return at.astimezone(UTC)


def admin_days(country: str) -> list[CalendarDay]:
    """The days an admin set for `country`, by date."""
    return list(
        db.session.scalars(
            select(CalendarDay).where(CalendarDay.country == country).order_by(CalendarDay.day)
        )
    )


def _calendar(
    *,
    zone: str,
    weekdays: Iterable[int],
    opens: time,
    closes: time,
    country: str | None,
    days: list[CalendarDay] | None = None,
) -> BusinessCalendar:
    if days is None:
        days = admin_days(country) if country else []
    return BusinessCalendar(
        zone=zone,
        working_weekdays=frozenset(weekdays),
        opens=opens,
        closes=closes,
        country=country,
        extra_holidays=frozenset(d.day for d in days if d.is_holiday),
        extra_working_days=frozenset(d.day for d in days if not d.is_holiday),
    )


def calendar_for(team: Team, *, days: list[CalendarDay] | None = None) -> BusinessCalendar:
    """The business calendar of `team`: its week, hours and zone, its country's public
    holidays and the admin's days for that country (one query, none when `days` are
    given)."""
    return _calendar(
        zone=team.timezone,
        weekdays=team.working_weekdays,
        opens=team.workday_starts,
        closes=team.workday_ends,
        country=team.country,
        days=days,
    )


def _team_of(client: Client) -> Team | None:
    return client.acm.team if client.acm is not None else None


def calendar_for_client(
    client: Client, *, days: list[CalendarDay] | None = None
) -> BusinessCalendar:
    """The calendar of `client`'s ACM's team; for a client without one, Monday-Friday
    9:00-17:00 in the client's zone, with the client's country's holidays. `days`: the
    admin's days of that calendar's country, when the caller has them already."""
    team = _team_of(client)
    if team is not None:
        return calendar_for(team, days=days)
    return _calendar(
        zone=client.timezone,
        weekdays=TEAM_RULES.working_weekdays,
        opens=TEAM_RULES.workday_starts,
        closes=TEAM_RULES.workday_ends,
        country=client.country,
        days=days,
    )


class CalendarCache:
    """`calendar_for_client` for many clients at once (a queue, a list): one calendar, and
    one query for its admin days, per team rather than per client; `for_clients` loads
    the admin days of every calendar its clients need in one query beforehand."""

    def __init__(self, days_by_country: dict[str, list[CalendarDay]] | None = None) -> None:
        self._known: dict[tuple, BusinessCalendar] = {}
        self._days_by_country = days_by_country

    @classmethod
    def for_clients(cls, clients: Iterable[Client]) -> CalendarCache:
        """A cache holding the admin days of the countries of `clients`' calendars (one
        query). Load the clients with their ACMs' teams (`Client.acm`, `User.team`), or
        each team is read on its own."""
        countries = set()
        for client in clients:
            team = _team_of(client)
            countries.add(team.country if team is not None else client.country)
        countries.discard(None)
        found: dict[str, list[CalendarDay]] = {country: [] for country in countries}
        if countries:
            for day in db.session.scalars(
                select(CalendarDay)
                .where(CalendarDay.country.in_(sorted(countries)))
                .order_by(CalendarDay.day)
            ):
                found[day.country].append(day)
        return cls(found)

    def __call__(self, client: Client) -> BusinessCalendar:
        team = _team_of(client)
        key = ("team", team.id) if team is not None else ("client", client.timezone, client.country)
        if key not in self._known:
            country = team.country if team is not None else client.country
            days = None
            if self._days_by_country is not None and country in self._days_by_country:
                days = self._days_by_country[country]
            self._known[key] = calendar_for_client(client, days=days)
        return self._known[key]


# --- Admin: the days of a country -------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEntry:
    """One line of a country's calendar page: a public holiday, an admin day, or both."""

    day: date
    name: str
    public_name: str | None
    admin_day: CalendarDay | None

    @property
    def is_holiday(self) -> bool:
        return self.admin_day.is_holiday if self.admin_day is not None else True

    @property
    def source(self) -> str:
        if self.admin_day is None:
            return "Public holiday"
        if self.admin_day.is_holiday:
            return "Holiday added by an admin"
        if self.public_name:
            return "Working day (public holiday moved)"
        return "Working day set by an admin"


def country_calendar(country: str, years: Iterable[int]) -> list[CalendarEntry]:
    """The public holidays of `country` in `years` merged with the admin's days, by date."""
    years = list(years)
    public: dict[date, str] = {}
    for year in years:
        public.update(public_holidays(country, year))
    admin = {d.day: d for d in admin_days(country) if d.day.year in years}
    return [
        CalendarEntry(
            day=day,
            name=admin[day].name if day in admin else public[day],
            public_name=public.get(day),
            admin_day=admin.get(day),
        )
        for day in sorted(public.keys() | admin.keys())
    ]


CALENDAR_DAY_FIELDS = ("country", "day", "is_holiday", "name")


def set_calendar_day(
    country: str, day: date | None, *, is_holiday: bool, name: str, actor: User | None
) -> CalendarDay:
    """Make `day` a holiday (`is_holiday`) or a working day for every team of `country`.

    Moving a public holiday is two days: the public holiday set as a working day, and the
    new day set as a holiday. Audited. The deadlines still pending on the country's
    calendar are counted again (services/deadlines.py). Raises ValidationError for an
    unknown country, no day or name, a day already set (remove it first), or a holiday on
    a public holiday.
    """
    country = validation.country_code(country)
    name = (name or "").strip()
    if day is None:
        raise ValidationError("Choose a day.", field="day")
    if not name:
        raise ValidationError("Say what the day is (e.g. “Eid al-Fitr, moved”).", field="name")
    existing = db.session.scalar(
        select(CalendarDay).where(CalendarDay.country == country, CalendarDay.day == day)
    )
    if existing is not None:
        raise ValidationError(
            f"{day:%d %b %Y} is already set ({existing.name}); remove it first.", field="day"
        )
    public = public_holidays(country, day.year).get(day)
    if is_holiday and public:
        raise ValidationError(
            f"{day:%d %b %Y} is already a public holiday ({public}).", field="day"
        )
    calendar_day = CalendarDay(
        country=country,
        day=day,
        is_holiday=is_holiday,
        name=name[:120],
        created_by_id=actor.id if actor else None,
        created_at=clock.now(),
    )
    db.session.add(calendar_day)
    db.session.flush()
    timeline.audit(
        actor,
        "calendar.add_holiday" if is_holiday else "calendar.add_working_day",
        calendar_day,
        after=timeline.snapshot(calendar_day, CALENDAR_DAY_FIELDS),
    )
    made = "a holiday" if is_holiday else "a working day"
    _recount(calendar_day, actor=actor, reason=f"{day:%d %b %Y} made {made} in {country} ({name})")
    return calendar_day


def remove_calendar_day(calendar_day: CalendarDay, *, actor: User | None) -> None:
    """Drop an admin's day: the public calendar and the weekend apply again. Audited; the
    deadlines still pending on the country's calendar are counted again."""
    timeline.audit(
        actor,
        "calendar.remove_day",
        calendar_day,
        before=timeline.snapshot(calendar_day, CALENDAR_DAY_FIELDS),
    )
    db.session.delete(calendar_day)
    db.session.flush()
    _recount(
        calendar_day,
        actor=actor,
        reason=f"{calendar_day.day:%d %b %Y} in {calendar_day.country} follows the public "
        f"calendar again ({calendar_day.name} removed)",
    )


def _recount(calendar_day: CalendarDay, *, actor: User | None, reason: str) -> None:
    events.calendar_changed.send(
        calendar_day, country=calendar_day.country, actor=actor, reason=reason
    )
