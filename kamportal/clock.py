"""The portal's one source of time.

Everything asks `now()` (aware UTC) instead of `datetime.now()`, so tests can freeze and
move time at the boundaries of the timed rules (4 hours, 48 business hours, 30 days).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_frozen_at: datetime | None = None


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    if _frozen_at is not None:
        return _frozen_at
    return datetime.now(UTC)


def freeze(at: datetime) -> None:
    """Stop the clock at `at` (tests and demo data only)."""
    global _frozen_at
    if at.tzinfo is None:
        raise ValueError("freeze() takes an aware datetime")
    _frozen_at = at.astimezone(UTC)


def frozen_at() -> datetime | None:
    """Where the clock is frozen, or None while it runs (to put it back after a replay)."""
    return _frozen_at


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward."""
    if _frozen_at is None:
        raise RuntimeError("advance() needs a frozen clock")
    freeze(_frozen_at + delta)
    return now()


def unfreeze() -> None:
    global _frozen_at
    _frozen_at = None


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone name, sorted, without the legacy aliases that confuse a picker."""
    legacy = ("Etc/", "SystemV/", "US/", "posixrules", "Factory", "localtime")
    return tuple(sorted(n for n in available_timezones() if not n.startswith(legacy)))


# In the zone database, but not places: the system's own setting, a placeholder zone, and
# the folders of POSIX-style and leap-second variants.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(
        name
        for name in available_timezones()
        if name not in _NOT_PLACES and not name.startswith(("posix/", "right/"))
    )


def is_timezone(name: object) -> bool:
    """`name` is an IANA zone of a place (Africa/Cairo), as people choose one: looked up in
    the known names first, so no odd text reaches the zone files."""
    if not isinstance(name, str) or name not in _known_zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def in_zone(at: datetime, zone: str) -> datetime:
    """`at` as wall-clock time in `zone`."""
    return at.astimezone(ZoneInfo(zone))


def today(zone: str, *, at: datetime | None = None) -> date:
    """The date it is in `zone` now (or at the instant `at`): "today" for a person or a
    client, on their own calendar. Never `now().date()`, which is UTC's date."""
    return in_zone(now() if at is None else at, zone).date()


# No place's clock is further ahead of UTC than the Line Islands' (UTC+14).
_FURTHEST_AHEAD = timedelta(hours=14)


def latest_today(*, at: datetime | None = None) -> date:
    """The latest date it is anywhere on Earth now (or at `at`): a query's bound before
    each row is held to its own zone's today."""
    return ((now() if at is None else at) + _FURTHEST_AHEAD).date()


def days_since(at: datetime | None) -> int | None:
    if at is None:
        return None
    return (now() - at).days


def span(delta: timedelta) -> str:
    """A duration as people say it: "45 min", "5 h", "3 days 2 h"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        unit = "day" if days == 1 else "days"
        return f"{days} {unit} {hours} h" if hours else f"{days} {unit}"
    return f"{hours} h" if hours else f"{minutes} min"
