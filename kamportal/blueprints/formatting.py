"""Jinja filters: instants in the reader's time zone, money, countries, ages; a page's
headings."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pycountry
from flask import Flask
from flask_login import current_user
from markupsafe import Markup, escape

from kamportal import clock, i18n
from kamportal.models import HealthBand, TimelineEvent
from kamportal.models.types import Money
from kamportal.services import rules, snapshots


def viewer_zone() -> str:
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return "UTC"


def local(at: datetime | None, zone: str | None = None, fmt: str = "%d %b %Y %H:%M") -> str:
    """`at` in `zone` (default: the reader's), with the zone's abbreviation."""
    if at is None:
        return "—"
    shown = clock.in_zone(at, zone or viewer_zone())
    return f"{shown.strftime(fmt)} {shown.tzname()}"


def summary(event: TimelineEvent, zone: str | None = None) -> str:
    """A timeline event's summary with each of its instants in `zone` (the reader's)."""
    return "".join(
        part if isinstance(part, str) else local(part, zone) for part in event.summary_parts
    )


def iso_local(at: datetime | None, zone: str | None = None) -> str:
    if at is None:
        return ""
    return clock.in_zone(at, zone or viewer_zone()).isoformat()


def day(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else "—"


def money(amount: Money | Decimal | None, currency: str | None = None) -> str:
    """In the page's or the email's locale: English for staff, the client's for them."""
    return i18n.money(amount, currency)


def country_name(code: str | None) -> str:
    if not code:
        return "—"
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


def ago(at: datetime | None) -> str:
    """'today', '1 day ago', '12 days ago' (relative to the portal clock)."""
    days = clock.days_since(at)
    if days is None:
        return "never"
    if days <= 0:
        return "today"
    return "1 day ago" if days == 1 else f"{days} days ago"


def hours(value: float | None) -> str:
    """A number of (business) hours as people say it: "45 min", "3 h", "26 h 30 min"."""
    if value is None:
        return "—"
    whole, minutes = divmod(max(round(value * 60), 0), 60)
    if not whole:
        return f"{minutes} min"
    return f"{whole} h {minutes} min" if minutes else f"{whole} h"


_HEADING = re.compile(r"<(/?)h([1-6])\b", re.IGNORECASE)


def outlined(content: str, title: str) -> Markup:
    """A page's content whose headings start at one h1 and go down a level at a time, for
    whoever finds their way by headings. A page without an h1 of its own (a form made for a
    section of a larger page, shown alone where scripts are off) is named by its title in an
    h1 only screen readers read, its headings raised so the first is an h2."""
    content = str(content)  # plain text from here on: the page's own HTML, unescaped
    levels = [int(m.group(2)) for m in _HEADING.finditer(content) if not m.group(1)]
    if 1 in levels:
        return Markup(content)
    shift = levels[0] - 2 if levels else 0

    def raised(match: re.Match[str]) -> str:
        return f"<{match.group(1)}h{max(2, int(match.group(2)) - shift)}"

    heading = f'<h1 class="visually-hidden">{escape(title)}</h1>\n'
    return Markup(heading + (_HEADING.sub(raised, content) if shift > 0 else content))


def register(app: Flask) -> None:
    app.add_template_filter(outlined)
    app.add_template_filter(local)
    app.add_template_filter(iso_local)
    app.add_template_filter(summary)
    app.add_template_filter(day)
    app.add_template_filter(money)
    app.add_template_filter(country_name)
    app.add_template_filter(ago)
    app.add_template_filter(hours)
    app.add_template_global(HealthBand.of, "health_band")
    app.add_template_global(rules.meaning, "rule_meaning")
    app.add_template_global(snapshots.REFRESHED_EVERY // timedelta(minutes=1), "snapshot_minutes")
