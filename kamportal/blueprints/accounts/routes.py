"""Admin pages: users (create, roles, team, deactivate, reset password) and teams (leader,
working calendar, shared mailbox). Every route here is for admins only."""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user

from kamportal.blueprints.accounts import bp
from kamportal.blueprints.accounts.forms import (
    PasswordResetForm,
    TeamForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from kamportal.blueprints.web import (
    allow,
    apply_domain_error,
    form_invalid,
    fragment,
    is_htmx,
    render,
)
from kamportal.errors import DomainError
from kamportal.extensions import db
from kamportal.models import Role, Team, User
from kamportal.services import accounts


def _me() -> User:
    """The signed-in admin as a model object (services store it as the audit actor)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


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
    if form.validate_on_submit():
        try:
            user = accounts.create_user(actor=_me(), password=form.password.data, **form.profile())
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"{user.name} can now sign in as {user.email}.", "success")
            return redirect(url_for("accounts.users"), 303)
    if form.is_submitted():
        return form_invalid("accounts/user_form.html", form=form, user=None)
    return render("accounts/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserEditForm.for_user(user)
    if form.validate_on_submit():
        try:
            accounts.update_user(user, actor=_me(), **form.profile())
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"{user.name} saved.", "success")
            return redirect(url_for("accounts.users"), 303)
    if form.is_submitted():
        return form_invalid("accounts/user_form.html", form=form, user=user)
    return render("accounts/user_form.html", form=form, user=user)


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@allow(Role.ADMIN)
def deactivate_user(user_id: int):
    user = db.get_or_404(User, user_id)
    try:
        accounts.deactivate_user(user, actor=_me())
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
    accounts.activate_user(user, actor=_me())
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
    if form.validate_on_submit():
        try:
            accounts.reset_password(user, actor=_me(), new_password=form.password.data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"{user.name}'s password is reset. Give it to them in person.", "success")
            return redirect(url_for("accounts.users"), 303)
    if form.is_submitted():
        return form_invalid("accounts/password_form.html", form=form, user=user)
    return render("accounts/password_form.html", form=form, user=user)


@bp.route("/teams")
@allow(Role.ADMIN)
def teams():
    return render("accounts/teams.html", teams=accounts.list_teams(), week=accounts.describe_week)


@bp.route("/teams/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def new_team():
    form = TeamForm()
    if form.validate_on_submit():
        try:
            team = accounts.create_team(actor=_me(), **form.settings())
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"Team {team.name} created.", "success")
            return redirect(url_for("accounts.teams"), 303)
    if form.is_submitted():
        return form_invalid("accounts/team_form.html", form=form, team=None)
    return render("accounts/team_form.html", form=form, team=None)


@bp.route("/teams/<int:team_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit_team(team_id: int):
    team = db.get_or_404(Team, team_id)
    form = TeamForm.for_team(team)
    if form.validate_on_submit():
        try:
            accounts.update_team(team, actor=_me(), **form.settings())
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"Team {team.name} saved.", "success")
            return redirect(url_for("accounts.teams"), 303)
    if form.is_submitted():
        return form_invalid("accounts/team_form.html", form=form, team=team)
    return render("accounts/team_form.html", form=form, team=team)
