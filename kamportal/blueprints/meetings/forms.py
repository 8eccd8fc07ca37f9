"""Forms of the meetings pages (G2, F3)."""

from wtforms import (
    DateField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
    TimeField,
    URLField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional

from kamportal.blueprints.forms import A_DAY, A_YEAR, DateWithin, Form
from kamportal.blueprints.options import options
from kamportal.models.meetings import MeetingType
from kamportal.services.meetings import DURATIONS


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class MeetingTimeForm(Form):
    """When and how: the date and time are typed in the client's time zone."""

    # The client's today may be the typist's yesterday: the service refuses a past instant.
    date = DateField(
        "Date",
        validators=[
            DataRequired("Give the date."),
            DateWithin(past=A_DAY, future=A_YEAR, message="A meeting within the next year."),
        ],
    )
    time = TimeField("Time", validators=[DataRequired("Give the time.")])
    duration_minutes = SelectField(
        "Duration",
        coerce=int,
        choices=options((d, f"{d} min") for d in DURATIONS),
        default=30,
    )
    zoom_link = URLField(
        "Zoom link", validators=[DataRequired("A meeting needs its Zoom link."), Length(max=500)]
    )
    agenda = TextAreaField("Agenda", validators=[Optional(), Length(max=5000)])
    attendees = CheckboxesField("Attendees", coerce=int, validate_choice=False)
    # F3: only for a meeting less than 4 hours ahead.
    short_notice_reason = TextAreaField(
        "Reason for the short notice", validators=[Optional(), Length(max=1000)]
    )


class ScheduleForm(MeetingTimeForm):
    kind = SelectField(
        "Kind", choices=options((t.value, t.label) for t in MeetingType), default="weekly"
    )


class CancelForm(Form):
    reason = TextAreaField(
        "Reason", validators=[DataRequired("Say why it is cancelled."), Length(max=1000)]
    )


class HeldForm(Form):
    recording_link = URLField(
        "Recording link",
        validators=[DataRequired("A held meeting needs its recording link."), Length(max=500)],
    )


class NoShowForm(Form):
    """A button: the CSRF token only."""
