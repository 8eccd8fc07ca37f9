"""Checks shared by every domain: what typed text, whole numbers, dates and amounts of money
may be, emails, phone numbers, countries, currencies, zones, choices, web links.

These are the rules of input; `blueprints/forms.py` applies them to every form field, and a
service applies them to what reaches it another way (a job, the CLI, an import)."""

from __future__ import annotations

import enum
import re
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TypeVar
from urllib.parse import urlsplit

import phonenumbers
import pycountry
from babel.numbers import NumberFormatError, parse_decimal
from email_validator import EmailNotValidError, validate_email

from kamportal import clock
from kamportal.errors import ValidationError
from kamportal.models.types import minor_unit

E = TypeVar("E", bound=enum.Enum)
# What a money column (Numeric(14, 3)) holds: 11 digits before the decimal point.
LARGEST_AMOUNT = Decimal(10) ** 11
# What an integer column holds (PostgreSQL's integer): ids, counts, hours, days.
LARGEST_INTEGER = 2**31 - 1
# The dates the portal deals with: subscriptions, renewals, invoices, meetings, holidays.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)
# Amounts are read as the portal's staff write them: 1,250.50 (Babel's English).
MONEY_LOCALE = "en"

# Characters nobody types on purpose: NUL (PostgreSQL refuses it in text) and the other C0
# and C1 controls, and the Unicode non-characters. Multi-line text keeps tab and line breaks.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_CONTROL_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
# Store codes and the like: what reads the same in every script and every system.
_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]*")
# Arabic-Indic and Eastern Arabic-Indic digits and Arabic separators, as typed on Arabic
# keyboards, read as the digits and separators they are.
_ARABIC_NUMERALS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬", "01234567890123456789.,")
_GROUP_SPACES = re.compile(r"(?<=\d)[ \u00a0\u202f'](?=\d{3}\b)")
_AMOUNT = re.compile(r"[+-]?[\d.,]*\d[\d.,]*")


def choice(enum_type: type[E], value: object, *, field: str, message: str) -> E:
    """`value` as a member of `enum_type`; refuses anything else with `message`."""
    try:
        return enum_type(value)
    except ValueError:
        raise ValidationError(message, field=field) from None


def typed_text(
    value: str | None,
    *,
    field: str | None = None,
    multiline: bool = False,
    max_length: int | None = None,
) -> str:
    """`value` if it is text a person could have typed: no NUL or other control character
    (tab and line breaks only in multi-line text), at most `max_length` characters."""
    text = value or ""
    if (_CONTROL if multiline else _CONTROL_ONE_LINE).search(text):
        kind = "control character (such as NUL)" if multiline else "line break or control character"
        raise ValidationError(
            f"This text has an invisible {kind} in it: type it again without.", field=field
        )
    if max_length is not None and len(text) > max_length:
        raise ValidationError(f"At most {max_length} characters, please.", field=field)
    return text


def code(value: str | None, *, field: str, what: str, max_length: int = 40) -> str:
    """An identifier such as a store code, upper-cased: Latin letters, digits, `-` and `_`,
    starting with a letter or digit; refuses spaces, markup, other scripts and invisible
    characters, which would not read the same everywhere the code is typed or printed."""
    text = (value or "").strip().upper()
    if not text:
        raise ValidationError(f"A {what} is needed.", field=field)
    if len(text) > max_length or not _CODE.fullmatch(text):
        raise ValidationError(
            f"A {what} has at most {max_length} Latin letters, digits, '-' or '_' "
            "(e.g. CAIRO-001).",
            field=field,
        )
    return text


def is_code(text: str) -> bool:
    """Whether `text` has the shape of a code (see `code`), as it is."""
    return _CODE.fullmatch(text) is not None


def whole_number(
    value: int | None,
    *,
    field: str | None = None,
    low: int = -LARGEST_INTEGER,
    high: int = LARGEST_INTEGER,
) -> int | None:
    """`value` if it is within `low`..`high` (by default, what an integer column holds)."""
    if value is not None and not low <= value <= high:
        raise ValidationError(f"Give a number from {low:,} to {high:,}.", field=field)
    return value


def date_between(
    value: date | None,
    *,
    field: str | None = None,
    earliest: date = EARLIEST_DATE,
    latest: date = LATEST_DATE,
    message: str | None = None,
) -> date | None:
    """`value` if it falls within `earliest`..`latest` (by default, the years the portal
    deals with); None passes."""
    if value is not None and not earliest <= value <= latest:
        raise ValidationError(
            message or f"Give a date from {_day(earliest)} to {_day(latest)}.", field=field
        )
    return value


def query_text(value: str | None, *, max_length: int = 100) -> str:
    """What a search box or a filter asked for, safe to search with: invisible characters
    dropped, cut to `max_length`. A query string changes nothing: it is cleaned, not refused."""
    return _CONTROL_ONE_LINE.sub("", value or "").strip()[:max_length]


def query_number(
    value: str | None, *, default: int | None, low: int = 1, high: int = LARGEST_INTEGER
) -> int | None:
    """A page number or an id from a query string; `default` when it is not a whole number
    within `low`..`high`."""
    try:
        number = int(value or "")
    except ValueError:
        return default
    return number if low <= number <= high else default


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def required_text(value: str | None, *, field: str, message: str) -> str:
    """`value` stripped; refuses a blank one with `message`."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise ValidationError(message, field=field)
    return cleaned


def amount_of(value: object, currency: str, *, field: str, positive: bool = True) -> Decimal:
    """An amount of `currency` as a Decimal at the currency's minor unit (never a float).

    Text is read as people type money: `1250.50`, `1,250.50`, `1 250.50`, with the currency's
    code before or after, in Arabic-Indic digits too. Refuses what is not a plain number
    (exponents, `Infinity`, `NaN`), misplaced thousands separators (`1.250,50`), more
    decimals than the currency has, more than the books hold, and (when `positive`) zero or
    less; never rounds."""
    if isinstance(value, (float, bool)) or value is None:
        raise ValidationError("Give an amount.", field=field)
    amount = value if isinstance(value, Decimal) else _parsed_amount(str(value), currency, field)
    if not amount.is_finite():
        raise ValidationError("Give an amount, e.g. 1,250.50.", field=field)
    if abs(amount) >= LARGEST_AMOUNT:
        raise ValidationError("That amount is too large.", field=field)
    unit = minor_unit(currency)
    if amount != amount.quantize(unit, rounding=ROUND_HALF_EVEN):
        raise ValidationError(
            f"{currency} amounts have at most {-unit.as_tuple().exponent} decimals.", field=field
        )
    if positive and amount <= 0:
        raise ValidationError("The amount must be more than zero.", field=field)
    return amount.quantize(unit)


def percent_of(value: object, *, field: str) -> Decimal:
    """A percentage strictly between 0 and 100, with at most 2 decimals (a discount, R9)."""
    if isinstance(value, (float, bool)) or value is None:
        raise ValidationError("Give a percentage.", field=field)
    try:
        percent = value if isinstance(value, Decimal) else Decimal(str(value).strip().rstrip("%"))
    except InvalidOperation:
        raise ValidationError("Give a percentage, e.g. 30.", field=field) from None
    if not percent.is_finite() or not 0 < percent < 100:
        raise ValidationError("A percentage more than 0 and less than 100.", field=field)
    if percent != percent.quantize(Decimal("0.01")):
        raise ValidationError("A percentage has at most 2 decimals.", field=field)
    return percent.quantize(Decimal("0.01"))


def _parsed_amount(text: str, currency: str, field: str) -> Decimal:
    text = text.translate(_ARABIC_NUMERALS).strip()
    code = currency.upper()
    if text.upper().startswith(code):
        text = text[len(code) :].strip()
    elif text.upper().endswith(code):
        text = text[: -len(code)].strip()
    text = _GROUP_SPACES.sub(",", text).removeprefix("+")
    if not text:
        raise ValidationError("Give an amount.", field=field)
    if not _AMOUNT.fullmatch(text):
        raise ValidationError("Give an amount in figures, e.g. 1,250.50.", field=field)
    try:
        return parse_decimal(text, locale=MONEY_LOCALE, strict=True)
    except (NumberFormatError, InvalidOperation):
        raise ValidationError(
            "Write the amount as 1,250.50: commas between thousands, a point before the decimals.",
            field=field,
        ) from None


def email_address(
    value: str | None, *, field: str = "email", message: str = "Not a valid email address."
) -> str | None:
    """A normalized email address, or None for blank; refuses a malformed one (control
    characters, markup and right-to-left overrides included) with `message` and the reason."""
    if not value or not value.strip():
        return None
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValidationError(f"{message} {error}", field=field) from error


def phone_number(value: str | None, *, country: str | None, field: str = "phone") -> str | None:
    """A phone number in E.164 (+201001234567), read in `country` when it has no +prefix."""
    if not value or not value.strip():
        return None
    try:
        parsed = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(
            "Not a phone number. Use the international form, e.g. +20 100 123 4567.", field=field
        ) from error
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(
            "This phone number is not valid for its country. Check the digits and the prefix.",
            field=field,
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def country_code(value: str, *, field: str = "country") -> str:
    code = (value or "").strip().upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValidationError("Choose a country (ISO 3166 code, e.g. EG).", field=field)
    return code


def currency_code(value: str, *, field: str = "currency") -> str:
    code = (value or "").strip().upper()
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValidationError("Choose a currency (ISO 4217 code, e.g. EGP).", field=field)
    return code


def timezone_name(value: str, *, field: str = "timezone") -> str:
    name = (value or "").strip()
    if not clock.is_timezone(name):
        raise ValidationError("Choose a time zone (IANA name, e.g. Africa/Cairo).", field=field)
    return name


def country_choices() -> list[tuple[str, str]]:
    return sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda c: c[1])


def currency_choices() -> list[tuple[str, str]]:
    return sorted((c.alpha_3, f"{c.alpha_3} — {c.name}") for c in pycountry.currencies)


def web_link(value: str | None, *, field: str, message: str) -> str | None:
    """An http(s) address with a host, at most 500 characters; None when blank."""
    link = (value or "").strip()
    if not link:
        return None
    parts = urlsplit(link)
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(link) > 500:
        raise ValidationError(message, field=field)
    return link
