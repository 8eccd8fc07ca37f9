"""Forms of a customization's delivery (C7): a milestone added or changed, the acceptance
the ACM records with its evidence, and the client's two pages: the acceptance (their
name) and the satisfaction survey (a score 1-5 and a comment)."""

from flask_babel import lazy_gettext
from flask_wtf.file import FileField
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from kamportal.blueprints.forms import Form
from kamportal.blueprints.options import options
from kamportal.models import MilestoneStatus
from kamportal.services.customizations import ATTACHMENTS_ACCEPTED
from kamportal.services.delivery import MAX_COMMENT, MILESTONE_KINDS, SURVEY_SCORES

# The owner select's "nobody yet" (choices are set per request, by the route).
NO_OWNER = 0


class MilestoneForm(Form):
    """C7: a milestone's due date, owner and status, changed in its row."""

    due_on = DateField("Due", validators=[DataRequired("Give the date it is due.")])
    owner_id = SelectField("Owner", coerce=int, validate_choice=False, default=NO_OWNER)
    status = SelectField(
        "Status",
        choices=options((s.value, s.label) for s in MilestoneStatus),
        validators=[DataRequired("Planned, in progress or done.")],
    )


class NewMilestoneForm(Form):
    """C7: a milestone added during delivery."""

    title = StringField(
        "Milestone", validators=[DataRequired("Name the milestone."), Length(max=200)]
    )
    kind = SelectField("Kind", choices=options(MILESTONE_KINDS.items()), default="basic")
    due_on = DateField("Due", validators=[DataRequired("Give the date it is due.")])
    owner_id = SelectField("Owner", coerce=int, validate_choice=False, default=NO_OWNER)


class AcceptanceRecordForm(Form):
    """C7: the client's acceptance as the ACM records it: the evidence."""

    note = TextAreaField(
        "How the client accepted",
        validators=[DataRequired("Say how the client accepted (the evidence)."), Length(max=5000)],
    )
    evidence = FileField("Evidence (optional)", description=ATTACHMENTS_ACCEPTED)


class ClientAcceptanceForm(Form):
    """C7: the client accepts the delivery by typing their name."""

    name = StringField(
        lazy_gettext("Your full name"),
        validators=[DataRequired(lazy_gettext("Type your full name to accept.")), Length(max=200)],
    )


class SurveyForm(Form):
    """C7: the satisfaction survey: a score from 1 to 5 and a comment."""

    score = RadioField(
        lazy_gettext("How satisfied are you with the work?"),
        choices=options((str(n), str(n)) for n in SURVEY_SCORES),
        validators=[DataRequired(lazy_gettext("Choose a score from 1 to 5."))],
    )
    comment = TextAreaField(
        lazy_gettext("Anything you would like to tell us (optional)"),
        validators=[Optional(), Length(max=MAX_COMMENT)],
    )
