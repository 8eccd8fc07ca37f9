from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from kamportal.blueprints.forms import Form
from kamportal.blueprints.options import (
    country_options,
    currency_options,
    options,
    timezone_options,
)
from kamportal.models import CallOutcome, LifecycleStatus, Plan
from kamportal.services.clients import LANGUAGES


class ClientForm(Form):
    store_name = StringField("Store name", validators=[DataRequired(), Length(max=200)])
    store_code = StringField("Store code", validators=[DataRequired(), Length(max=40)])
    plan = SelectField("Plan", choices=options((p.value, p.label) for p in Plan))
    has_store_manager = BooleanField("Plan includes an Online Store Manager")
    status = SelectField("Lifecycle", choices=options((s.value, s.label) for s in LifecycleStatus))
    acm = SelectField("Account manager", coerce=int, validate_choice=False)
    country = SelectField("Country")
    timezone = SelectField("Time zone")
    industry = StringField("Industry", validators=[Optional(), Length(max=120)])
    language = SelectField("Language", choices=options(LANGUAGES.items()))
    subscribed_on = DateField("Subscribed on", validators=[Optional()])
    renewal_date = DateField("Renewal date", validators=[Optional()])
    # Typed as text, as every amount: the service reads it at the currency's minor unit.
    recurring_amount = StringField("Recurring amount", validators=[Optional(), Length(max=30)])
    currency = SelectField("Currency")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_options()
        self.timezone.choices = [SelectChoice("", "— Choose a time zone —"), *timezone_options()]
        self.currency.choices = currency_options()


class ReassignForm(Form):
    acm = SelectField("New account manager", coerce=int, validate_choice=False)
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=500)])


class ContactForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = StringField("Role", validators=[Optional(), Length(max=120)])
    email = EmailField(
        "Email", validators=[Optional(), Email("Not a valid email address."), Length(max=254)]
    )
    phone = StringField("Phone", validators=[Optional(), Length(max=32)])
    whatsapp = StringField("WhatsApp", validators=[Optional(), Length(max=32)])
    is_primary = BooleanField("Primary contact")
    is_decision_maker = BooleanField("Decision maker")


# The client page shows the log forms side by side: fields of the same name get their own
# ids, so each label points at its own field (names, what the server reads, stay the same).


class CallForm(Form):
    contact = SelectField("Contact", id="call-contact", coerce=int, validate_choice=False)
    outcome = RadioField(
        "Outcome",
        choices=options((o.value, o.label) for o in CallOutcome),
        validators=[DataRequired("Choose how the call went.")],
    )
    notes = TextAreaField("Notes", id="call-notes", validators=[Optional(), Length(max=2000)])


class EmailLogForm(Form):
    direction = RadioField(
        "Direction", choices=options([("sent", "Sent"), ("received", "Received")]), default="sent"
    )
    contact = SelectField("Contact", id="email-log-contact", coerce=int, validate_choice=False)
    subject = StringField(
        "Subject", id="email-log-subject", validators=[DataRequired(), Length(max=300)]
    )
    notes = TextAreaField("Notes", id="email-log-notes", validators=[Optional(), Length(max=2000)])


class WhatsAppForm(Form):
    contact = SelectField("From", id="whatsapp-contact", coerce=int, validate_choice=False)
    message = TextAreaField(
        "Message received", id="whatsapp-message", validators=[DataRequired(), Length(max=2000)]
    )


class WhatsAppReplyForm(Form):
    contact = HiddenField(
        id="whatsapp-reply-contact", validators=[DataRequired("Choose the contact to answer.")]
    )
    key = HiddenField(id="whatsapp-reply-key", validators=[DataRequired(), Length(max=100)])


class NoteForm(Form):
    text = TextAreaField("Note", id="note-text", validators=[DataRequired(), Length(max=2000)])


class EmailContactForm(Form):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)])
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=20000)])
    # Generated with the form: a double submit queues one email.
    key = HiddenField(id="email-key", validators=[DataRequired(), Length(max=100)])


class ImportForm(Form):
    """A CSV of clients or of contacts: read and checked by the service, whatever it holds."""

    kind = RadioField(
        "The file holds",
        choices=options([("clients", "Clients to register"), ("contacts", "Contacts of clients")]),
        default="clients",
    )
    file = FileField("CSV file")


class StartImportForm(Form):
    """Import a checked file, every row."""
