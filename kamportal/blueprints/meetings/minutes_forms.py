"""The minutes form (G5, O3): agreed points, a fixed number of action-item rows, recipients."""

from wtforms import (
    DateField,
    FieldList,
    FormField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from kamportal.blueprints.forms import A_YEAR, NONE, DateWithin, Form, Subform
from kamportal.blueprints.options import options
from kamportal.models.meetings import ActionOwner

# Enough for one meeting's actions; blank rows are ignored.
ACTION_ITEM_ROWS = 5


class ActionItemForm(Subform):
    """One row; a subform, so no CSRF token of its own."""

    description = StringField("Action", validators=[Optional(), Length(max=500)])
    # Checked by the service for the rows filled in; a blank row may carry anything.
    owner = SelectField(
        "Owner", choices=options((o.value, o.label) for o in ActionOwner), validate_choice=False
    )
    owner_team = StringField("Team (if another team)", validators=[Optional(), Length(max=120)])
    due_on = DateField(
        "Due on",
        validators=[
            Optional(),
            DateWithin(
                past=NONE, future=2 * A_YEAR, message="Due today or later, within two years."
            ),
        ],
    )


class MinutesForm(Form):
    agreed_points = TextAreaField(
        "Agreed points (one a line)", validators=[Optional(), Length(max=5000)]
    )
    action_items = FieldList(
        FormField(ActionItemForm), min_entries=ACTION_ITEM_ROWS, max_entries=ACTION_ITEM_ROWS
    )
    recipients = SelectMultipleField(
        "Send to",
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
