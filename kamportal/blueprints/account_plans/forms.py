"""The account plan's forms (P1): one per part of the plan, each saving a version."""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from kamportal.blueprints.forms import Form
from kamportal.blueprints.options import options
from kamportal.models import GoalStatus, Influence
from kamportal.services.account_plans import TEXT_MAX


class SummaryForm(Form):
    value_proposition = TextAreaField("Value proposition", validators=[Length(max=TEXT_MAX)])
    roadmap = TextAreaField("Roadmap", validators=[Length(max=TEXT_MAX)])


class GoalForm(Form):
    """A SMART goal: what, measured how, to what target, by when; and how it goes."""

    title = StringField("Goal", validators=[DataRequired("Say what the goal is."), Length(max=200)])
    metric = StringField(
        "Metric", validators=[DataRequired("Say how it is measured."), Length(max=200)]
    )
    target = StringField(
        "Target", validators=[DataRequired("Give the target to reach."), Length(max=200)]
    )
    due_on = DateField("Due by", validators=[InputRequired("Give the date it is due by.")])
    status = SelectField("Status", choices=options((s.value, s.label) for s in GoalStatus))


class StakeholderForm(Form):
    contact_id = SelectField("Contact", coerce=int, validate_choice=False)
    influence = SelectField("Influence", choices=options((i.value, i.label) for i in Influence))


class ReviewForm(Form):
    notes = TextAreaField(
        "What the review found and decided",
        validators=[DataRequired("Say what the review found and decided."), Length(max=TEXT_MAX)],
    )
