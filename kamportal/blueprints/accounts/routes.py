"""Admin pages: users (create, roles, team, deactivate, reset password), teams (leader,
working calendar, shared mailbox, cadence) and each country's holidays (the business
calendar of F2, E2, O2). Every route here is for admins only."""

from __future__ import annotations

from flask import Response, flash, request, url_for
from sqlalchemy.orm import selectinload

from kamportal import clock
from kamportal.blueprints.accounts import bp
from kamportal.blueprints.accounts.forms import (
    CalendarDayForm,
    PasswordResetForm,
    TeamForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    in_place,
    press,
    render,
    save_form,
    saved,
)
from kamportal.errors import DomainError
from kamportal.extensions import db
from kamportal.models import CalendarDay, Role, Team, User
from kamportal.services import accounts, validation
from kamportal.services import calendar as business_calendar


@bp.route("/users")
@allow(Role.ADMIN)
def users():
    filters = UserFilterForm(request.args)
    found = accounts.list_users(**filters.criteria())
    return render("accounts/users.html", "accounts/_users_table.html", filters=filters, users=found)


@bp.route("/users/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def new_user():
    form = UserCreateForm()
    return save_form(
        form,
        lambda: accounts.create_user(
            actor=acting_user(), password=form.password.data, **form.profile()
        ),
        template="accounts/user_form.html",
        done=lambda user: saved(f"{user.name} can now sign in as {user.email}.", "accounts.users"),
        user=None,
    )


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserEditForm.for_user(user)
    return save_form(
        form,
        lambda: accounts.update_user(user, actor=acting_user(), **form.profile()),
        template="accounts/user_form.html",
        done=lambda user: saved(f"{user.name} saved.", "accounts.users"),
        user=user,
    )


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@allow(Role.ADMIN)
def deactivate_user(user_id: int):
    user = db.get_or_404(User, user_id)
    return press(
        lambda: accounts.deactivate_user(user, actor=acting_user()),
        done=lambda _: _user_row(user, f"{user.name} is deactivated and can no longer sign in."),
        refused=lambda: _user_row(user, status=422),
    )


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@allow(Role.ADMIN)
def activate_user(user_id: int):
    user = db.get_or_404(User, user_id)
    return press(
        lambda: accounts.activate_user(user, actor=acting_user()),
        done=lambda _: _user_row(user, f"{user.name} can sign in again."),
        refused=lambda: _user_row(user, status=422),
    )


def _user_row(user: User, message: str | None = None, *, status: int = 200) -> Response:
    """HTMX: the user's row, swapped in place. A plain form post: back to the list."""
    if message:
        flash(message, "success")
    return in_place(
        "accounts/_user_row.html", location=url_for("accounts.users"), status=status, user=user
    )


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@allow(Role.ADMIN)
def reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    form = PasswordResetForm()
    return save_form(
        form,
        lambda: accounts.reset_password(user, actor=acting_user(), new_password=form.password.data),
        template="accounts/password_form.html",
        done=lambda user: saved(
            f"{user.name}'s password is reset. Give it to them in person.", "accounts.users"
        ),
        user=user,
    )


@bp.route("/teams")
@allow(Role.ADMIN)
def teams():
    return render("accounts/teams.html", teams=accounts.list_teams(), week=accounts.describe_week)


@bp.route("/teams/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def new_team():
    form = TeamForm()
    return save_form(
        form,
        lambda: accounts.create_team(actor=acting_user(), **form.settings()),
        template="accounts/team_form.html",
        done=lambda team: saved(f"Team {team.name} created.", "accounts.teams"),
        team=None,
    )


@bp.route("/teams/<int:team_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit_team(team_id: int):
    team = db.get_or_404(
        Team, team_id, options=[selectinload(Team.members).selectinload(User.role_rows)]
    )
    form = TeamForm.for_team(team)
    return save_form(
        form,
        lambda: accounts.update_team(team, actor=acting_user(), **form.settings()),
        template="accounts/team_form.html",
        done=lambda team: saved(f"Team {team.name} saved.", "accounts.teams"),
        team=team,
    )


# --- The business calendar of each country (F2, E2, O2) ----------------------------------------


def _calendar_country(requested: str | None) -> str:
    """The country asked for, else the first team's, else Egypt."""
    try:
        return validation.country_code(requested or "")
    except DomainError:
        teams = accounts.list_teams()
        return teams[0].country if teams else "EG"


def _calendar_context(country: str, form: CalendarDayForm | None = None) -> dict:
    year = clock.now().year
    if form is None:
        form = CalendarDayForm(formdata=None, country=country)
    return {
        "country": country,
        "years": (year, year + 1),
        "entries": business_calendar.country_calendar(country, (year, year + 1)),
        "countries": sorted({t.country for t in accounts.list_teams()} | {country}),
        "form": form,
    }


def _calendar_panel(country: str, message: str | None = None, *, status: int = 200) -> Response:
    """After a change: the panel (form and days) in place (HTMX), or back to the page."""
    if message:
        flash(message, "success")
    return in_place(
        "accounts/_calendar_panel.html",
        location=url_for("accounts.calendar", country=country),
        status=status,
        **_calendar_context(country),
    )


@bp.route("/calendar")
@allow(Role.ADMIN)
def calendar():
    """A country's public holidays for this year and next, merged with the admin's days."""
    country = _calendar_country(request.args.get("country"))
    return render(
        "accounts/calendar.html", "accounts/_calendar_panel.html", **_calendar_context(country)
    )


@bp.route("/calendar/days", methods=["POST"])
@allow(Role.ADMIN)
def add_calendar_day():
    """Add a holiday, or make a day a working day (moving a public holiday), for a country."""
    form = CalendarDayForm()
    country = _calendar_country(form.country.data)
    return answer(
        form,
        lambda: business_calendar.set_calendar_day(
            form.country.data,
            form.day.data,
            is_holiday=form.kind.data == "holiday",
            name=form.name.data,
            actor=acting_user(),
        ),
        done=lambda day: _calendar_panel(country, f"{_what_day(day)} in {day.country}."),
        page="accounts/calendar.html",
        partial="accounts/_calendar_panel.html",
        **_calendar_context(country, form),
    )


def _what_day(day: CalendarDay) -> str:
    return f"{day.day:%a %d %b %Y} is now {'a holiday' if day.is_holiday else 'a working day'}"


@bp.route("/calendar/days/<int:day_id>/delete", methods=["POST"])
@allow(Role.ADMIN)
def remove_calendar_day(day_id: int):
    """Drop an admin's day: the public holidays and the weekend apply again."""
    day = db.get_or_404(CalendarDay, day_id)
    country = day.country
    return press(
        lambda: business_calendar.remove_calendar_day(day, actor=acting_user()),
        done=lambda _: _calendar_panel(country, "The day follows the public calendar again."),
        refused=lambda: _calendar_panel(country, status=422),
    )
