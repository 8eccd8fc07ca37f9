"""Forms of the quotation (C4, R9) and its invoice (C6, R8): product's period,
commercial's price (with an approved discount, if any), the ACM's discount request and the
invoice. Amounts and percentages are typed as text: the services read them as Decimal and
say what is wrong."""

from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from kamportal.blueprints.forms import A_YEAR, NONE, DateWithin, Form
from kamportal.blueprints.options import options
from kamportal.models import DiscountCovers
from kamportal.services import validation

COVERS = options((c.value, c.label.capitalize()) for c in DiscountCovers)


class PeriodForm(Form):
    """C4: product's estimated period, in days."""

    days = IntegerField("Estimated period (days)", validators=[InputRequired("Give the days.")])


class _DiscountFields(Form):
    discount_percent = StringField("Discount (%)", validators=[Optional(), Length(max=10)])
    discount_amount = StringField("or discount amount", validators=[Optional(), Length(max=20)])
    covers = RadioField("The discount covers", choices=COVERS, default=DiscountCovers.FEE.value)


class PriceForm(_DiscountFields):
    """C4: commercial's price and its currency; R9: an approved discount, if any."""

    amount = StringField("Price", validators=[DataRequired("Give the price."), Length(max=20)])
    currency = SelectField("Currency", validate_choice=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency.choices = options(validation.currency_choices())


class DiscountRequestForm(_DiscountFields):
    """R9: the ACM asks commercial for a discount on the quotation."""


class CustomizationInvoiceForm(Form):
    """C6, R8: the invoice's due date, with the renewal or not."""

    due_on = DateField(
        "Due date",
        validators=[
            DataRequired("Give the due date."),
            DateWithin(past=NONE, future=A_YEAR, message="A due date from today to a year on."),
        ],
    )
    with_renewal = BooleanField("On one invoice with the confirmed renewal (R8)")
