"""Forms of finance's queue (R5-R7).

Amounts are plain text fields: the services read them as Decimal at the currency's minor
unit and say clearly what is wrong (a float, too many decimals, nothing)."""

from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from kamportal.blueprints.forms import Form
from kamportal.blueprints.options import options
from kamportal.models import PaymentMethod
from kamportal.services.churn import REFUND_DECISIONS

# R5: the channels finance may agree; installments are a plan the ACM makes (R10).
AGREED_CHANNELS = (PaymentMethod.ONLINE, PaymentMethod.WIRE, PaymentMethod.PREMISES)


class ConfirmWireForm(Form):
    """R7: what finance saw arrive, and the day: they count, whatever was reported."""

    received_amount = StringField("Amount received", validators=[Length(max=30)])
    received_on = DateField("Received on", validators=[DataRequired("Give the day it arrived.")])


class RejectWireForm(Form):
    """R7: no such transfer arrived (or not as reported): why, for the account manager."""

    reason = TextAreaField(
        "Why",
        validators=[DataRequired("Say what finance found, or did not."), Length(max=1000)],
    )


class PremisesPaymentForm(Form):
    """R6: what the client paid at the premises and the receipt handed over."""

    amount = StringField("Amount received")
    receipt_number = StringField("Receipt number", validators=[Length(max=60)])


class ResolveIssueForm(Form):
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


class RefundDecisionForm(Form):
    """A refund request: refunded or declined, with a note."""

    decision = RadioField(
        "Decision",
        choices=options(REFUND_DECISIONS.items()),
        validators=[DataRequired("Choose refunded or declined.")],
    )
    note = TextAreaField("Note", validators=[DataRequired("Write a note."), Length(max=2000)])
