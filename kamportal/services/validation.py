"""Checks shared by every domain: emails, phone numbers, countries, currencies, zones."""

from __future__ import annotations

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

from kamportal.errors import ValidationError
from kamportal.services import clock


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
