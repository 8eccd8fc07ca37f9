"""Forms of the launch page: a checklist item's tick, note and evidence (L1, L3-L5), the
launch itself and a leader's override (L5), and the contract's limits (L2). Numbers are
typed as text: the services read them and say what is wrong."""

from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from kamportal.blueprints.forms import Form
from kamportal.blueprints.options import options
from kamportal.models import UsageKind
from kamportal.services.contract_limits import LIMITS, MAX_QUANTITY
from kamportal.services.onboarding import MAX_EVIDENCE_LINKS, MAX_NOTE_LENGTH


def _quantity(label: str, message: str) -> StringField:
    return StringField(
        label,
        validators=[DataRequired(message), Length(max=10)],
        render_kw={"type": "number", "min": 1, "max": MAX_QUANTITY},
    )


class TickForm(Form):
    """Tick (`done` sent) or untick (`done` absent) one checklist item."""

    done = BooleanField("Done")


class ItemDetailsForm(Form):
    """A checklist item's note and its evidence links, one per line (L1)."""

    note = TextAreaField(
        "Note",
        validators=[Optional(), Length(max=MAX_NOTE_LENGTH)],
        description="What was agreed with the client.",
    )
    evidence = TextAreaField(
        "Evidence links",
        validators=[Optional()],
        description=f"One web address a line (emails, screenshots, tickets); at most "
        f"{MAX_EVIDENCE_LINKS}.",
    )


class OverrideForm(Form):
    """L5: the team leader launches before the launch checklists are complete, saying
    why."""

    override_reason = TextAreaField(
        "Why launch now",
        validators=[
            DataRequired("Say why the store launches before its launch checklists are complete."),
            Length(max=2000),
        ],
        description="Recorded on the timeline and in the audit log.",
    )


class UsageForm(Form):
    """L2: what the launch delivered."""

    kind = SelectField(
        "Delivered",
        choices=options([("", "— Choose —"), *((k.value, k.label) for k in UsageKind)]),
        validators=[DataRequired("Choose what was delivered.")],
    )
    quantity = _quantity("Quantity", "Give a quantity.")
    note = StringField("Note", validators=[Optional(), Length(max=300)])


class ExceptionForm(Form):
    """L2: an exception agreed with the client, on one limit."""

    limit = SelectField(
        "Limit",
        choices=options([("", "— Choose —"), *((lim.key, lim.label) for lim in LIMITS)]),
        validators=[DataRequired("Choose the limit.")],
    )
    extra = _quantity("How many more", "Give how many more.")
    reason = TextAreaField(
        "What was agreed, and why",
        validators=[
            DataRequired("Say what was agreed with the client, and why."),
            Length(max=2000),
        ],
    )
