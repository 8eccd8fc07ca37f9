"""Forms of upsell and cross-sell opportunities (P3): the opportunity, a move of its stage,
and the scope of work a won customization starts its request with (C1). Amounts are typed
as text: the service reads them at the currency's minor unit and says what is wrong."""

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from kamportal.blueprints.customizations.forms import RequestForm
from kamportal.blueprints.forms import Form
from kamportal.blueprints.options import currency_options, options
from kamportal.models import OpportunityKind


class OpportunityForm(Form):
    """P3: what the client could buy, for how much, and when it should close."""

    kind = SelectField(
        "Kind",
        choices=options((kind.value, kind.label) for kind in OpportunityKind),
        validators=[DataRequired("Choose what the client could buy.")],
    )
    title = StringField(
        "Title", validators=[DataRequired("Give the opportunity a title."), Length(max=200)]
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    amount = StringField("Amount", validators=[DataRequired("Give an amount."), Length(max=20)])
    currency = SelectField("Currency", validators=[DataRequired("Choose a currency.")])
    expected_close_on = DateField(
        "Expected close date", validators=[DataRequired("Give the date it should close.")]
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_options()


class StageForm(Form):
    """P3: where the opportunity moves; a reason when it is lost."""

    stage = SelectField("Move to", validators=[DataRequired("Choose a stage.")])
    reason = TextAreaField("Why it was lost", validators=[Optional(), Length(max=2000)])


class ScopeForm(RequestForm):
    """C1: the scope of work of the customization a won opportunity starts (its title is
    the opportunity's)."""

    title = None
