"""Forms of the escalation pages (E1, E2, E3) and the complaint queue (E3)."""

from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from kamportal.blueprints.forms import Form
from kamportal.blueprints.options import options
from kamportal.models import (
    CallOutcome,
    ComplaintKind,
    ComplaintStatus,
    ContactChannel,
    EscalationTrigger,
)
from kamportal.services.escalations import DECISIONS


def _channel() -> SelectField:
    return SelectField(
        "Through",
        choices=options((c.value, c.label) for c in ContactChannel),
        default=ContactChannel.CALL.value,
    )


def _said() -> TextAreaField:
    return TextAreaField(
        "What the client said",
        validators=[DataRequired("Write what the client said."), Length(max=5000)],
    )


class RaiseForm(Form):
    """E1: what the client asked, through which channel, in their words."""

    trigger = RadioField(
        "The client",
        choices=options((t.value, t.label) for t in EscalationTrigger),
        validators=[DataRequired("Choose what the client asked.")],
    )
    channel = _channel()
    said = _said()


class ComplaintForm(Form):
    """E3: a complaint, cancellation or refund request, for the complaint-handling queue."""

    kind = RadioField(
        "Kind",
        choices=options((k.value, k.label) for k in ComplaintKind),
        validators=[DataRequired("Choose complaint, cancellation or refund.")],
    )
    channel = _channel()
    said = _said()
    # A refund's amount, in the client's currency; the service reads and bounds it.
    refund_amount = StringField("Amount to refund", validators=[Length(max=30)])


class EscalationCallForm(Form):
    """E2 step 1 (G3): the outcome of the ACM's call."""

    contact = SelectField("Contact", coerce=int, validate_choice=False)
    outcome = RadioField(
        "Outcome",
        choices=options((o.value, o.label) for o in CallOutcome),
        validators=[DataRequired("Choose how the call went.")],
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])


class NoteForm(Form):
    """Resolve, send to the leader, resume: a note says why."""

    note = TextAreaField("Note", validators=[DataRequired("Write a note."), Length(max=2000)])


class DecisionForm(Form):
    """E3: the leader's decision, with the note that goes to the client."""

    decision = RadioField(
        "Decision",
        choices=options(DECISIONS.items()),
        validators=[DataRequired("Choose resolved, reassign or take over.")],
    )
    acm = SelectField("New account manager", coerce=int, validate_choice=False)
    note = TextAreaField(
        "Note to the client",
        validators=[DataRequired("Write the note to the client."), Length(max=2000)],
    )


class ComplaintUpdateForm(Form):
    status = SelectField("Status", choices=options((s.value, s.label) for s in ComplaintStatus))
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])
