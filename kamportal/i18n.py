"""What a client receives or opens speaks the client's language ("What clients see"):
the locale of a client-facing render, chosen explicitly from the client's `language`, never
from a browser; dates, numbers and money formatted for it. Staff pages stay English.

The messages are in `kamportal/translations/<language>/LC_MESSAGES/messages.po`, compiled
to `.mo` at install (`make translations` extracts and updates them, see the README)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import NamedTuple

from babel.core import Locale
from babel.dates import format_date, format_datetime, get_day_names
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)
from flask import Flask, g
from flask_babel import Babel, force_locale, get_locale, gettext, refresh

from kamportal import clock
from kamportal.models.meetings import MeetingType
from kamportal.models.types import Money

DEFAULT_LANGUAGE = "en"
TRANSLATIONS = Path(__file__).parent / "translations"

babel = Babel()


def N_(text: str) -> str:
    """Marks a text kept in English in data (a KYC question, an LMS step) that clients read
    in their language: `make translations` extracts it, the page or email translates it
    where it is shown (`_(text)`)."""
    return text


@cache
def catalog_languages() -> frozenset[str]:
    """The languages with a message catalog, English (the source) included."""
    found = {p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")}
    return frozenset(found | {DEFAULT_LANGUAGE})


def language_of(language: str | None) -> str:
    """The language a client with `language` is written to: theirs when it has a catalog,
    else English (French is a client's choice without one yet)."""
    return language if language in catalog_languages() else DEFAULT_LANGUAGE


@contextmanager
def client_language(language: str | None) -> Iterator[str]:
    """Everything rendered or formatted inside speaks `language` (a client's `language`):
    emails from jobs and services, public pages from their routes."""
    chosen = language_of(language)
    with force_locale(chosen):
        yield chosen


def translated(language: str | None, message: str, **variables: object) -> str:
    """`message` (a literal: `make translations` extracts it) in `language`, with its
    `%(name)s` variables: a client email's subject."""
    with client_language(language):
        return gettext(message, **variables)


def meeting_title(meeting_type: MeetingType) -> str:
    """A meeting as the client reads it in a sentence ("our onboarding meeting"); one of no
    particular kind is just a "meeting" (F3, G5)."""
    return {
        MeetingType.ONBOARDING: gettext("onboarding meeting"),
        MeetingType.WEEKLY: gettext("weekly follow-up meeting"),
        MeetingType.QBR: gettext("quarterly business review meeting"),
        MeetingType.HANDOVER: gettext("hand-over meeting"),
        MeetingType.OTHER: gettext("meeting"),
    }[meeting_type]


def speak_to(language: str | None) -> None:
    """The rest of this request (a page a client opens by an emailed link) speaks
    `language`, the client's: the page, its form's messages, its `dir`."""
    g.client_language = language_of(language)
    refresh()


def _page_locale() -> str | None:
    # A staff page never sets it: English, whatever the browser asks for.
    return g.get("client_language")


def _locale() -> Locale:
    return get_locale() or Locale.parse(DEFAULT_LANGUAGE)


def page_language() -> str:
    """ "ar" / "en": the language of the render (a page's `lang`, a PDF's)."""
    return str(_locale().language)


def text_direction() -> str:
    """ "rtl" for a right-to-left locale (Arabic), else "ltr": the page's `dir`."""
    return "rtl" if _locale().character_order == "right-to-left" else "ltr"


def long_date(value: date | datetime | None) -> str:
    """ "5 December 2026" / "5 ديسمبر 2026"."""
    return format_date(value, "d MMMM y", locale=_locale()) if value else ""


def short_date(value: date | datetime | None) -> str:
    """ "5 Dec 2026", for lists."""
    return format_date(value, "d MMM y", locale=_locale()) if value else ""


def month_year(value: date | None) -> str:
    """ "December 2026"."""
    return format_date(value, "MMMM y", locale=_locale()) if value else ""


def month_name(value: date) -> str:
    """ "December"."""
    return format_date(value, "MMMM", locale=_locale())


def change_percent(value: Decimal | float) -> str:
    """A month-on-month change in percent, signed: "+12.5%", "-3.0%"."""
    return format_percent(Decimal(str(value)) / 100, "+#,##0.0%;-#,##0.0%", locale=_locale())


def local_time(at: datetime | None, zone: str) -> str:
    """The instant `at` in `zone` for a client: "5 December 2026, 14:00"."""
    if at is None:
        return ""
    return format_datetime(clock.in_zone(at, zone), "d MMMM y, HH:mm", locale=_locale())


def short_time(at: datetime) -> str:
    """ "Sat 5 Dec 2026 14:00": an instant already in its reader's zone, in a subject."""
    return format_datetime(at, "EEE d MMM y HH:mm", locale=_locale())


def weekday_time(at: datetime, zone: str) -> str:
    """ "Saturday 5 December 2026, 14:00": a meeting's start as its attendee reads it (F3)."""
    return format_datetime(clock.in_zone(at, zone), "EEEE d MMMM y, HH:mm", locale=_locale())


def weekday_names() -> dict[int, str]:
    """The days of the week by ISO number (1 = Monday), as the locale abbreviates them."""
    names = get_day_names("abbreviated", locale=_locale())
    return {day: names[day - 1] for day in range(1, 8)}


def country(code: str) -> str:
    """A country by its ISO code, named in the locale: "Egypt" / "مصر"."""
    return _locale().territories.get(code, code)


def number(value: int | Decimal | float) -> str:
    return format_decimal(value, locale=_locale())


def money(amount: Money | Decimal | None, currency: str | None = None) -> str:
    """An amount in its currency for the locale: "SAR 1,150.00" / "‏1,150.00 ر.س.‏"."""
    if isinstance(amount, Money):
        amount, currency = amount.amount, amount.currency
    if amount is None or not currency:
        return "—"
    locale = _locale()
    layout = _money_layout(currency, locale)
    value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    if layout is None or not value.is_finite():
        return format_currency(amount, currency, locale=locale)
    return layout.apply(value)


class _MoneyLayout(NamedTuple):
    """What Babel's `format_currency` reads for one currency in one locale, read once: a
    page of a few hundred amounts would otherwise parse the same locale data for each."""

    prefixes: tuple[str, str]  # positive, negative; the currency's symbol in place
    suffixes: tuple[str, str]
    quantum: Decimal  # the currency's minor unit (0.01; 0.001 for KWD; 1 for JPY)
    min_digits: int
    grouping: tuple[int, int]
    group: str
    decimal: str

    def apply(self, value: Decimal) -> str:
        """`value` as `format_currency(value, currency, locale=locale)` writes it: the same
        steps (sign, normalize, round half even to the minor unit, group the digits)."""
        negative = int(value.is_signed())
        whole, _, fraction = f"{abs(value).normalize().quantize(self.quantum):f}".partition(".")
        whole = whole.rjust(self.min_digits, "0")
        size, grouped = self.grouping[0], ""
        while len(whole) > size:
            grouped = self.group + whole[-size:] + grouped
            whole = whole[:-size]
            size = self.grouping[1]
        number = whole + grouped + (self.decimal + fraction if fraction else "")
        return self.prefixes[negative] + number + self.suffixes[negative]


@cache
def _money_layout(currency: str, locale: Locale) -> _MoneyLayout | None:
    """None for a pattern this shortcut does not follow (scaled, scientific, significant
    digits, the currency's plural name, quoted text): `format_currency` writes those."""
    pattern = locale.currency_formats["standard"]
    if pattern.scale or pattern.exp_prec or "@" in pattern.pattern or "¤¤¤" in pattern.pattern:
        return None
    symbol = get_currency_symbol(currency, locale)

    def placed(affix: str) -> str:
        return affix.replace("¤¤", currency.upper()).replace("¤", symbol)

    prefixes = tuple(placed(a) for a in pattern.prefix)
    suffixes = tuple(placed(a) for a in pattern.suffix)
    group = get_group_symbol(locale, numbering_system="latn")
    decimal = get_decimal_symbol(locale, numbering_system="latn")
    if any("'" in text for text in (*prefixes, *suffixes, group, decimal)):
        return None
    return _MoneyLayout(
        prefixes=(prefixes[0], prefixes[1]),
        suffixes=(suffixes[0], suffixes[1]),
        quantum=Decimal(10) ** -get_currency_precision(currency),
        min_digits=pattern.int_prec[0],
        grouping=pattern.grouping,
        group=group,
        decimal=decimal,
    )


def init_app(app: Flask) -> None:
    """Flask-Babel with English as every page's locale (no selector reads a browser), the
    gettext calls in templates, and the formatting filters."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=_page_locale)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    for fn in (long_date, short_date, month_year, local_time, weekday_time, number):
        app.add_template_filter(fn)
    app.add_template_global(text_direction)
    app.add_template_global(page_language)
