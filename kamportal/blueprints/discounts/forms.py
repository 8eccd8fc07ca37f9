"""Forms of commercial's discount queue (R9)."""

from wtforms import StringField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional

from kamportal.blueprints.forms import Form

DECISIONS = ("approve", "reject")


class DiscountDecisionForm(Form):
    """R9: approve in one click, or reject with a note (the button sends `decision`)."""

    decision = StringField(
        "Decision", validators=[AnyOf(DECISIONS, message="Approve or reject the discount.")]
    )
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])
