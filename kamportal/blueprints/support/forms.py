"""The form of a support ticket escalated from the client page (G4)."""

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from kamportal.blueprints.forms import Form
from kamportal.blueprints.options import options
from kamportal.services.support_tickets import DESCRIPTION_MAX
from kamportal.tickets import PRIORITIES, SUMMARY_MAX


class SupportTicketForm(Form):
    """G4: the technical problem in a line, in detail, and how urgent it is."""

    summary = StringField(
        "Summary",
        validators=[DataRequired("Say what the problem is in a line."), Length(max=SUMMARY_MAX)],
    )
    description = TextAreaField(
        "Description",
        validators=[
            DataRequired("Describe the problem: what happens, where, since when."),
            Length(max=DESCRIPTION_MAX),
        ],
    )
    priority = SelectField(
        "Priority", choices=options((p, p) for p in PRIORITIES), default="Medium"
    )
    # Made when the form is opened: sent again, it finds the ticket it opened.
    key = HiddenField(validators=[Length(max=100)])
