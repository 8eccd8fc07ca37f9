"""Forms of the ACM's side of renewals and invoices (R2-R4, R5, R7-R10). Amounts are typed
as text: the services read them as Decimal at the currency's minor unit and say what is
wrong."""

from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from kamportal.blueprints.forms import A_YEAR, NONE, DateWithin, Form


def _amount(label: str, *, required: bool = True, description: str = "") -> StringField:
    validators = [DataRequired("Give an amount.")] if required else [Optional()]
    return StringField(label, validators=[*validators, Length(max=20)], description=description)


class NoticeForm(Form):
    """R2: the renewal notice (a button)."""


class ConfirmForm(Form):
    """R2: what the client confirmed."""

    agreed_on = DateField("Renewal date", validators=[DataRequired("Give the date.")])
    amount = _amount("Recurring amount", description="As the client confirmed it.")


class InvoiceForm(Form):
    """R3, R8, R9: the renewal, customization fees on the same invoice, an approved
    discount."""

    due_on = DateField(
        "Due date",
        validators=[
            DataRequired("Give the due date."),
            DateWithin(past=NONE, future=A_YEAR, message="A due date from today to a year on."),
        ],
    )
    fee_1 = StringField("Customization fee", validators=[Optional(), Length(max=300)])
    fee_1_amount = _amount("Its amount", required=False)
    fee_2 = StringField("Another customization fee", validators=[Optional(), Length(max=300)])
    fee_2_amount = _amount("Its amount", required=False)
    quotation = SelectField(
        "Discount",
        coerce=int,
        validate_choice=False,
        description="Only discounts commercial approved can be applied (R9).",
    )

    def fee_rows(self) -> list[tuple[str, str]]:
        """The fee rows the ACM filled in (a description or an amount)."""
        rows = [
            (self.fee_1.data or "", self.fee_1_amount.data or ""),
            (self.fee_2.data or "", self.fee_2_amount.data or ""),
        ]
        return [(d, a) for d, a in rows if d.strip() or a.strip()]


class LostForm(Form):
    reason = TextAreaField("Why", validators=[DataRequired("Say why."), Length(max=1000)])


class WireForm(Form):
    """R7: the client says it sent a wire transfer."""

    amount = _amount("Amount sent")
    reference = StringField(
        "Bank reference",
        validators=[Optional(), Length(max=120)],
        description="If the client gave one.",
    )
    note = TextAreaField("Note", validators=[Optional(), Length(max=1000)])


class PaymentIssueForm(Form):
    """R5: a payment issue handed to finance."""

    note = TextAreaField(
        "What is the issue", validators=[DataRequired("Say what the issue is."), Length(max=2000)]
    )


class InstallmentsForm(Form):
    """R10: the plan: how many, the first due date, and the days between them."""

    count = IntegerField(
        "Installments",
        validators=[InputRequired("How many?"), NumberRange(2, 12, "From 2 to 12.")],
        default=3,
    )
    first_due_on = DateField(
        "First due date",
        validators=[
            DataRequired("Give the date."),
            DateWithin(past=NONE, future=A_YEAR, message="A due date from today to a year on."),
        ],
    )
    every_days = IntegerField(
        "Days between them",
        validators=[InputRequired("Give the days."), NumberRange(1, 366, "From 1 to 366 days.")],
        default=30,
    )
