"""Admin pages: users (create, roles, team, deactivate, reset password) and teams (leader,
working calendar, shared mailbox). Every route here is for admins only."""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for

from kamportal.blueprints.accounts import bp
from kamportal.blueprints.accounts.forms import (
    PasswordResetForm,
    TeamForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from kamportal.blueprints.web import (
    acting_user,
    allow,
    fragment,
    is_htmx,
    render,
    save_form,
    saved,
)
from kamportal.errors import DomainError
from kamportal.extensions import db
from kamportal.models import Role, Team, User
from kamportal.services import accounts


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
    try:
        accounts.deactivate_user(user, actor=acting_user())
    except DomainError as error:
        flash(error.message, "error")
        return _user_changed(user, status=422)
    db.session.commit()
    flash(f"{user.name} is deactivated and can no longer sign in.", "success")
    return _user_changed(user)


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@allow(Role.ADMIN)
def activate_user(user_id: int):
    user = db.get_or_404(User, user_id)
    accounts.activate_user(user, actor=acting_user())
    db.session.commit()
    flash(f"{user.name} can sign in again.", "success")
    return _user_changed(user)


def _user_changed(user: User, *, status: int = 200) -> Response:
    """HTMX: the user's row, swapped in place. A plain form post: back to the list."""
    if not is_htmx():
        return redirect(url_for("accounts.users"), 303)
    return fragment("accounts/_user_row.html", user=user, status=status)


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
    team = db.get_or_404(Team, team_id)
    form = TeamForm.for_team(team)
    return save_form(
        form,
        lambda: accounts.update_team(team, actor=acting_user(), **form.settings()),
        template="accounts/team_form.html",
        done=lambda team: saved(f"Team {team.name} saved.", "accounts.teams"),
        team=team,
    )
