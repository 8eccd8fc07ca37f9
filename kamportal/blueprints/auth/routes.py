from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, url_for
from flask_login import current_user, login_user, logout_user

from kamportal.blueprints.auth import bp
from kamportal.blueprints.auth.forms import LoginForm
from kamportal.blueprints.web import public, render, signed_in
from kamportal.extensions import db, limiter
from kamportal.services import accounts


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _is_safe_next(target: str | None) -> bool:
    if not target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            target = request.args.get("next")
            return redirect(target if _is_safe_next(target) else url_for("home.index"))
        form.form_errors.append("Wrong email or password, or the account is deactivated.")
        return render("auth/login.html", form=form, status=401)
    status = 422 if form.errors else 200
    return render("auth/login.html", form=form, status=status)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
