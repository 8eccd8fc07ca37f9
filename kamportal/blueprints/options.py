"""Option lists shared by the forms of every blueprint (WTForms SelectChoice)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wtforms import SelectChoice

from kamportal import clock
from kamportal.services import validation


def options(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """(value, label) pairs as select options."""
    return [SelectChoice(value, label) for value, label in pairs]


def timezone_options() -> list[SelectChoice]:
    return [SelectChoice(name) for name in clock.timezone_names()]


def country_options() -> list[SelectChoice]:
    return [SelectChoice("", "— Choose a country —"), *options(validation.country_choices())]


def currency_options() -> list[SelectChoice]:
    return options(validation.currency_choices())
