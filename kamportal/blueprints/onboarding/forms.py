"""Forms of the onboarding pages that are not the KYC questionnaire's or the launch's."""

from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from kamportal.blueprints.forms import Form


class WelcomeForm(Form):
    """O2: the welcome email as the ACM reviewed it (the subject is the rule's)."""

    body = TextAreaField(
        "Message",
        validators=[DataRequired("The email needs a message."), Length(max=20_000)],
        description="Composed from your profile, the team's hours and the LMS roadmap; "
        "edit what you need, keep every item of the rule.",
    )
