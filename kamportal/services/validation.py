"""Checks shared by every domain: emails, phone numbers, countries, currencies, zones,
choices, required text, web links and amounts of money."""

from __future__ import annotations

import enum
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TypeVar
from urllib.parse import urlsplit

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

from kamportal.errors import ValidationError
from kamportal.models.types import minor_unit
from kamportal.services import clock

E = TypeVar("E", bound=enum.Enum)
# What a money column (Numeric(14, 3)) holds: 11 digits before the decimal point.
LARGEST_AMOUNT = Decimal(10) ** 11


def choice(enum_type: type[E], value: object, *, field: str, message: str) -> E:
    """`value` as a member of `enum_type`; refuses anything else with `message`."""
    try:
        return enum_type(value)
    except ValueError:
        raise ValidationError(message, field=field) from None


def required_text(value: str | None, *, field: str, message: str) -> str:
    """`value` stripped; refuses a blank one with `message`."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise ValidationError(message, field=field)
    return cleaned


def amount_of(value: object, currency: str, *, field: str, positive: bool = True) -> Decimal:
    """An amount of `currency` as a Decimal at the currency's minor unit (never a float);
    refuses what is not a number, a float, more decimals than the currency has, and (when
    `positive`) zero or less."""
    if isinstance(value, float) or value is None or isinstance(value, bool):
        raise ValidationError("Give an amount.", field=field)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError("Give an amount, e.g. 1250.50.", field=field) from None
    unit = minor_unit(currency)
    if not amount.is_finite() or amount != amount.quantize(unit, rounding=ROUND_HALF_EVEN):
        raise ValidationError(
            f"{currency} amounts have at most {-unit.as_tuple().exponent} decimals.", field=field
        )
    if positive and amount <= 0:
        raise ValidationError("The amount must be more than zero.", field=field)
    if abs(amount) >= LARGEST_AMOUNT:
        raise ValidationError("That amount is too large.", field=field)
    return amount.quantize(unit)


def email_address(value: str | None, *, field: str = "email") -> str | None:
    """A normalized email address, or None for blank; refuses a malformed one."""
    if not value or not value.strip():
        return None
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValidationError(f"Not a valid email address: {error}", field=field) from error


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
