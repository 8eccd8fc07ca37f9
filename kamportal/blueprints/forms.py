"""The base of every form: the one place that cleans and bounds what is typed.

Each field of a `Form` (or of a `Subform`, a row inside one) is guarded by its kind, before
its own validators run, so that no value reaches a service or the database that either
would choke on (PostgreSQL refuses NUL in text; an id past 2**31 overflows; `1e30` does not
fit the books; year 9999 does not fit a time zone):

- text: no NUL or other control character, single-line text no line break either, and at
  most `DEFAULT_MAX_LENGTH` characters unless the field sets its own `Length`;
- whole numbers, and choices coerced to ids: what an integer column holds;
- decimals: finite numbers the books can hold;
- dates: from 2000 to 2099; `DateWithin` narrows a field to a window around the typist's
  today (a due date cannot be in the past).

The rules themselves are in `services/validation.py`; this module applies them to fields.
A guard's refusal is the field's error, shown beside it, and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import wtforms
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    Field,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectFieldBase,
    StringField,
    TextAreaField,
)
from wtforms.meta import DefaultMeta
from wtforms.validators import Length, StopValidation

from kamportal import clock
from kamportal.errors import ValidationError
from kamportal.services import validation

# Windows for `DateWithin`.
NONE = timedelta(0)
A_DAY = timedelta(days=1)
A_YEAR = timedelta(days=366)

# The longest text a field takes without a `Length` of its own.
DEFAULT_MAX_LENGTH = {TextAreaField: 20000, StringField: 500}

Guard = Callable[[Any, Field], None]


def _refuse(check: Callable[[], object]) -> None:
    try:
        check()
    except ValidationError as error:
        raise StopValidation(error.message) from None


def _has_length(field: Field) -> bool:
    return any(isinstance(v, Length) and v.max not in (None, -1) for v in field.validators)


def _text_guard(field: Field) -> Guard:
    multiline = isinstance(field, TextAreaField)
    limit = (
        None
        if _has_length(field)
        else DEFAULT_MAX_LENGTH[TextAreaField if multiline else StringField]
    )

    def guard(form: Any, field: Field) -> None:
        for value in field.raw_data or ():
            if isinstance(value, str):
                _refuse(
                    lambda v=value: validation.typed_text(v, multiline=multiline, max_length=limit)
                )

    return guard


def _integer_guard(form: Any, field: Field) -> None:
    values = field.data if isinstance(field.data, (list, tuple)) else [field.data]
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            _refuse(lambda v=value: validation.whole_number(v))


def _decimal_guard(form: Any, field: Field) -> None:
    value = field.data
    if isinstance(value, Decimal) and (
        not value.is_finite() or abs(value) >= validation.LARGEST_AMOUNT
    ):
        raise StopValidation("Give a number in figures, e.g. 1,250.50.")


def _date_guard(form: Any, field: Field) -> None:
    if isinstance(field.data, date):
        _refuse(lambda: validation.date_between(field.data))


def guard_for(field: Field) -> Guard | None:
    """The guard a field of this kind gets, or None (check boxes, subforms)."""
    if isinstance(field, (BooleanField, FormField, FieldList)):
        return None
    if isinstance(field, DateField):
        return _date_guard
    if isinstance(field, IntegerField):
        return _integer_guard
    if isinstance(field, DecimalField):
        return _decimal_guard
    if isinstance(field, SelectFieldBase):
        # A choice is text, or an id once coerced: both guards apply.
        text = _text_guard(field)

        def choice_guard(form: Any, field: Field) -> None:
            text(form, field)
            _integer_guard(form, field)

        return choice_guard
    if isinstance(field, (StringField, HiddenField, PasswordField, EmailField)):
        return _text_guard(field)
    return None


class GuardedMeta(DefaultMeta):
    """Binds every field with its guard first: a hostile value stops there."""

    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
        field = super().bind_field(form, unbound_field, options)
        guard = guard_for(field)
        if guard is not None:
            field.validators = [guard, *field.validators]
        return field


class Form(FlaskForm):
    """Every page form: CSRF-protected, every field guarded."""

    class Meta(GuardedMeta, FlaskForm.Meta):
        pass

    def hidden_tag(self, *fields: Field | str) -> Markup:
        """The form's hidden fields (its CSRF token), without ids: a page shows several
        forms, and an id is one element's on the page."""
        chosen = [getattr(self, f, None) if isinstance(f, str) else f for f in fields or self]
        return Markup(
            "\n".join(
                str(f(id=False))
                for f in chosen
                if f is not None and isinstance(f.widget, wtforms.widgets.HiddenInput)
            )
        )


class ActionForm(Form):
    """A button that changes something: nothing typed, the CSRF token only."""


class Subform(wtforms.Form):
    """A row inside a form (a `FormField`): guarded, without a CSRF token of its own."""

    class Meta(GuardedMeta):
        pass


def viewer_today() -> date:
    """Today for the signed-in person, in their time zone (UTC on a public page): what every
    page and form of the web layer means by "today"."""
    zone = current_user.timezone if current_user and current_user.is_authenticated else "UTC"
    return clock.today(zone)


class DateWithin:
    """A date from `past` before the typist's today to `future` after it: `past=0` refuses
    any day gone (a due date), a window both ways an absurd year (a holiday)."""

    def __init__(self, *, past: timedelta, future: timedelta, message: str | None = None) -> None:
        self.past = past
        self.future = future
        self.message = message

    def __call__(self, form: Any, field: Field) -> None:
        if not isinstance(field.data, date):
            return
        today = viewer_today()
        earliest = max(today - self.past, validation.EARLIEST_DATE)
        latest = min(today + self.future, validation.LATEST_DATE)
        _refuse(
            lambda: validation.date_between(
                field.data, earliest=earliest, latest=latest, message=self.message
            )
        )
