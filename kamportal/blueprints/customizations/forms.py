"""Forms of customization requests (C1, C3): the ACM's request, product's decision, the
ACM's answer to a hold."""

from flask_wtf.file import MultipleFileField
from wtforms import DateField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from kamportal.blueprints.forms import A_YEAR, NONE, DateWithin, Form
from kamportal.blueprints.options import options
from kamportal.services.customizations import ATTACHMENTS_ACCEPTED, DECISIONS


class RequestForm(Form):
    """C1: a title, the scope of work in three parts, the date wanted, attachments."""

    title = StringField(
        "Title", validators=[DataRequired("Give the request a title."), Length(max=200)]
    )
    end_result = TextAreaField(
        "The end result, in detail",
        validators=[DataRequired("Describe the end result in detail."), Length(max=10000)],
    )
    users = TextAreaField(
        "Who will use it",
        validators=[DataRequired("Say who will use it."), Length(max=2000)],
    )
    done_when = TextAreaField(
        "How the client will know it is done",
        validators=[DataRequired("Say how the client will know it is done."), Length(max=5000)],
    )
    wanted_by = DateField(
        "Wanted by",
        validators=[
            DataRequired("Give the date the client wants it by."),
            DateWithin(past=NONE, future=2 * A_YEAR, message="A date from today on, please."),
        ],
    )
    attachments = MultipleFileField("Attachments", description=ATTACHMENTS_ACCEPTED)


class DecisionForm(Form):
    """C3: accepted, rejected or on hold; a reason for rejecting or holding."""

    decision = RadioField(
        "Decision",
        choices=options(DECISIONS.items()),
        validators=[DataRequired("Accept, reject or put it on hold.")],
    )
    reason = TextAreaField("Reason, or what you need", validators=[Optional(), Length(max=5000)])


class HoldAnswerForm(Form):
    """C3: what product asked for, from the ACM."""

    answer = TextAreaField(
        "Your answer", validators=[DataRequired("Give what product asked for."), Length(max=5000)]
    )
