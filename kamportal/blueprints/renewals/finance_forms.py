"""Forms of finance's queue (R5, R6) and commercial's discount queue (R9).

Amounts are plain text fields: the services read them as Decimal at the currency's minor
unit and say clearly what is wrong (a float, too many decimals, nothing)."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional

from kamportal.blueprints.options import options
from kamportal.models import PaymentMethod

# R5: the channels finance may agree; installments are a plan the ACM makes (R10).
AGREED_CHANNELS = (PaymentMethod.ONLINE, PaymentMethod.WIRE, PaymentMethod.PREMISES)
DECISIONS = ("approve", "reject")


class PremisesPaymentForm(FlaskForm):
    """R6: what the client paid at the premises and the receipt handed over."""

    amount = StringField("Amount received")
    receipt_number = StringField("Receipt number", validators=[Length(max=60)])


class ResolveIssueForm(FlaskForm):
    """R5: the payment channel agreed with the client, and a note."""

    # Unchecked here: the service names the channel to choose.
    new_method = SelectField(
        "New payment channel",
        choices=options(
            [("", "— Choose the channel agreed —"), *((m.value, m.label) for m in AGREED_CHANNELS)]
        ),
        validate_choice=False,
    )
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])


class DiscountDecisionForm(FlaskForm):
    """R9: approve in one click, or reject with a note (the button sends `decision`)."""

    decision = StringField(
        "Decision", validators=[AnyOf(DECISIONS, message="Approve or reject the discount.")]
    )
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])
