"""Admin forms for users and teams. They check shape; the accounts service checks the rules."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
    URLField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    StopValidation,
)
from wtforms.widgets import CheckboxInput, ListWidget

from kamportal.blueprints.forms import A_YEAR, DateWithin, Form
from kamportal.blueprints.options import country_options, timezone_options
from kamportal.extensions import db
from kamportal.models import TEAM_RULES, Role, Team, User
from kamportal.models.accounts import SUPPORT_SLA_FIELDS, WEEKDAY_NAMES
from kamportal.services import accounts

NO_TEAM = 0
NO_LEADER = 0


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (roles, working days) instead of a multi-select box."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def at_least_one(message: str):
    """Like DataRequired for a checkbox group, without the `required` flag that would put
    `required` on every box (a browser would then demand them all)."""

    def check(form: Form, field: SelectMultipleField) -> None:
        if not field.data:
            raise StopValidation(message)

    return check


def role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, role.label) for role in Role]


def team_choices() -> list[SelectChoice]:
    return [SelectChoice(NO_TEAM, "— No team —")] + [
        SelectChoice(t.id, t.name) for t in accounts.list_teams()
    ]


class _ProfileFields(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    roles = MultiCheckboxField(
        "Roles", choices=[], validators=[at_least_one("Choose at least one role.")]
    )
    team = SelectField("Team", coerce=int, choices=[])
    # The service names a bad zone or country better than "Not a valid choice".
    timezone = SelectField("Time zone", choices=[], default="UTC", validate_choice=False)
    phone = StringField("Phone", validators=[Optional(), Length(max=32)])
    booking_link = URLField("Booking link", validators=[Optional(), Length(max=500)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.roles.choices = role_choices()
        self.team.choices = team_choices()
        self.timezone.choices = timezone_options()

    @property
    def chosen_roles(self) -> list[Role]:
        return [Role(r) for r in self.roles.data or []]

    def chosen_team(self) -> Team | None:
        return db.session.get(Team, self.team.data) if self.team.data else None

    def profile(self) -> dict:
        """The keyword arguments the accounts service takes."""
        return {
            "name": self.name.data,
            "email": self.email.data,
            "roles": self.chosen_roles,
            "team": self.chosen_team(),
            "timezone": self.timezone.data,
            "phone": self.phone.data,
            "booking_link": self.booking_link.data,
        }


class UserCreateForm(_ProfileFields):
    password = PasswordField(
        "Initial password",
        validators=[DataRequired(), Length(min=accounts.MIN_PASSWORD_LENGTH, max=200)],
    )


class UserEditForm(_ProfileFields):
    @classmethod
    def for_user(cls, user: User) -> UserEditForm:
        form = cls(obj=user)
        if not form.is_submitted():
            form.roles.data = sorted(r.value for r in user.roles)
            form.team.data = user.team_id or NO_TEAM
        return form


class PasswordResetForm(Form):
    password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=accounts.MIN_PASSWORD_LENGTH, max=200)],
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("password", "The two passwords differ.")],
    )


class UserFilterForm(Form):
    """The users list filters: read from the query string, no CSRF (a GET changes nothing)."""

    class Meta:
        csrf = False

    role = SelectField("Role", choices=[], validators=[Optional()])
    team = SelectField("Team", choices=[], validators=[Optional()])
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("", "Active and inactive"),
            SelectChoice("active", "Active"),
            SelectChoice("inactive", "Inactive"),
        ],
        validators=[Optional()],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice("", "Any role"), *role_choices()]
        self.team.choices = [SelectChoice("", "Any team"), SelectChoice("none", "No team")] + [
            SelectChoice(str(t.id), t.name) for t in accounts.list_teams()
        ]

    def criteria(self) -> dict:
        """Keyword arguments for `accounts.list_users`; unknown values are ignored."""
        valid = self.validate()
        role = self.role.data if valid else ""
        team = self.team.data if valid else ""
        status = self.status.data if valid else ""
        return {
            "role": Role(role) if role else None,
            "no_team": team == "none",
            "team": db.session.get(Team, int(team)) if team and team != "none" else None,
            "active": {"active": True, "inactive": False}.get(status or ""),
        }


def _sla_hours(priority: str) -> IntegerField:
    return IntegerField(
        f"Support SLA, {priority} tickets, hours",
        validators=[InputRequired()],
        default=getattr(TEAM_RULES, SUPPORT_SLA_FIELDS[priority]),
    )


class TeamForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    country = SelectField("Country", choices=[], validators=[DataRequired()], validate_choice=False)
    timezone = SelectField(
        "Time zone", choices=[], validators=[DataRequired()], validate_choice=False
    )
    working_days = MultiCheckboxField(
        "Working days",
        coerce=int,
        choices=[SelectChoice(day, name) for day, name in WEEKDAY_NAMES.items()],
        validators=[at_least_one("Choose at least one working day.")],
        default=list(TEAM_RULES.working_weekdays),
    )
    workday_starts = TimeField(
        "Day starts", validators=[DataRequired()], default=TEAM_RULES.workday_starts
    )
    workday_ends = TimeField(
        "Day ends", validators=[DataRequired()], default=TEAM_RULES.workday_ends
    )
    shared_mailbox = EmailField("Shared mailbox", validators=[Optional(), Length(max=254)])
    leader = SelectField("Leader", coerce=int, choices=[])
    # The cadence (F2, F3, E2, R4): the service checks the ranges and names the rule.
    confirmation_lead_hours = IntegerField(
        "Meeting confirmation, hours before",
        validators=[InputRequired()],
        default=TEAM_RULES.confirmation_lead_hours,
    )
    followup_email_auto = BooleanField(
        "Send the follow-up email after an unanswered call",
        default=TEAM_RULES.followup_email_auto,
    )
    no_reply_whatsapp_after_hours = IntegerField(
        "WhatsApp reminder after, business hours without a reply",
        validators=[InputRequired()],
        default=TEAM_RULES.no_reply_whatsapp_after_hours,
    )
    escalation_whatsapp_after_hours = IntegerField(
        "Escalation: WhatsApp after, business hours without a reply",
        validators=[InputRequired()],
        default=TEAM_RULES.escalation_whatsapp_after_hours,
    )
    escalation_leader_after_hours = IntegerField(
        "Escalation: to the leader after, business hours without a reply",
        validators=[InputRequired()],
        default=TEAM_RULES.escalation_leader_after_hours,
    )
    invoice_reminder_days = IntegerField(
        "Invoice reminders, every … days",
        validators=[InputRequired()],
        default=TEAM_RULES.invoice_reminder_days,
    )
    # F4: when a store is not selling.
    not_selling_days = IntegerField(
        "Not selling after, days without an order",
        validators=[InputRequired()],
        default=TEAM_RULES.not_selling_days,
    )
    not_selling_drop_percent = IntegerField(
        "Not selling when GMV drops by more than, %",
        validators=[InputRequired()],
        default=TEAM_RULES.not_selling_drop_percent,
    )
    # G4: the support SLA by ticket priority, in calendar hours.
    support_sla_highest_hours = _sla_hours("Highest")
    support_sla_high_hours = _sla_hours("High")
    support_sla_medium_hours = _sla_hours("Medium")
    support_sla_low_hours = _sla_hours("Low")
    support_sla_lowest_hours = _sla_hours("Lowest")

    def __init__(self, *args, current_leader: User | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_options()
        self.timezone.choices = timezone_options()
        leaders = accounts.eligible_leaders()
        if current_leader is not None and current_leader not in leaders:
            leaders.append(current_leader)
        self.leader.choices = [SelectChoice(NO_LEADER, "— No leader —")] + [
            SelectChoice(u.id, u.name) for u in leaders
        ]

    @classmethod
    def for_team(cls, team: Team) -> TeamForm:
        form = cls(obj=team, current_leader=team.leader)
        if not form.is_submitted():
            form.working_days.data = list(team.working_weekdays)
            form.leader.data = team.leader_id or NO_LEADER
        return form

    def settings(self) -> dict:
        """The keyword arguments `accounts.create_team` / `update_team` take."""
        return {
            "name": self.name.data,
            "country": self.country.data,
            "timezone": self.timezone.data,
            "working_days": self.working_days.data or [],
            "workday_starts": self.workday_starts.data,
            "workday_ends": self.workday_ends.data,
            "shared_mailbox": self.shared_mailbox.data,
            "leader": db.session.get(User, self.leader.data) if self.leader.data else None,
            "confirmation_lead_hours": self.confirmation_lead_hours.data,
            "followup_email_auto": bool(self.followup_email_auto.data),
            "no_reply_whatsapp_after_hours": self.no_reply_whatsapp_after_hours.data,
            "escalation_whatsapp_after_hours": self.escalation_whatsapp_after_hours.data,
            "escalation_leader_after_hours": self.escalation_leader_after_hours.data,
            "invoice_reminder_days": self.invoice_reminder_days.data,
            "not_selling_days": self.not_selling_days.data,
            "not_selling_drop_percent": self.not_selling_drop_percent.data,
            **{name: self[name].data for name in SUPPORT_SLA_FIELDS.values()},
        }


class CalendarDayForm(Form):
    """A day an admin sets for a country: a holiday, or a working day (a holiday moved)."""

    country = StringField("Country", validators=[DataRequired(), Length(max=2)])
    day = DateField(
        "Day",
        validators=[
            DataRequired(),
            DateWithin(
                past=3 * A_YEAR, future=3 * A_YEAR, message="A day within three years of today."
            ),
        ],
    )
    name = StringField("What it is", validators=[DataRequired(), Length(max=120)])
    kind = SelectField(
        "Set it as",
        choices=[
            SelectChoice("holiday", "A holiday (no business hours)"),
            SelectChoice("working", "A working day (e.g. a public holiday moved)"),
        ],
        default="holiday",
    )
