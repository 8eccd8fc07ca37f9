import hashlib
import math
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Response, current_app, flash, redirect, request, session, url_for
from flask_limiter import RequestLimit, RouteLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from kamportal.blueprints.auth import bp
from kamportal.blueprints.auth.forms import LoginForm
from kamportal.blueprints.web import acting_user, press, public, render, signed_in, submit
from kamportal.errors import ValidationError
from kamportal.extensions import limiter
from kamportal.models import User
from kamportal.services import accounts, sessions

# --- Throttling: failed sign-ins only, per account and per address ---------------------------


def _failures_per_account() -> str:
    return current_app.config["LOGIN_FAILURES_PER_ACCOUNT"]


def _failures_per_address() -> str:
    return current_app.config["LOGIN_FAILURES_PER_ADDRESS"]


def _account() -> str:
    """The account tried: the email typed, as sign-in reads it (hashed, so the counters
    keep no address), whether or not such a user exists."""
    email = accounts.normalize_email(request.form.get("email", ""))
    return "account-" + hashlib.sha256(email.encode()).hexdigest()


def _address() -> str:
    return "address-" + get_remote_address()


def _failed(response: Response) -> bool:
    """Only a refused password counts (401); a sign-in, or a form sent half-empty, not."""
    return response.status_code == 401


def _throttled(limit: RequestLimit) -> Response:
    """The sign-in page again, saying for how long, with status 429."""
    try:
        # The limiter's windows run on the wall clock (time.time), not the portal's clock.
        seconds = max(1, math.ceil(limit.window.reset_time - time.time()))
        minutes = math.ceil(seconds / 60)
        wait = f"Try again in {minutes} minute{'s' if minutes > 1 else ''}."
    except Exception:  # the counters' storage failing here must not hide the page
        seconds, wait = 60, "Try again later."
    form = LoginForm()
    form.form_errors.append(
        f"Too many failed sign-ins for this account or from this address. {wait}"
    )
    response = render("auth/login.html", form=form, status=429)
    response.headers["Retry-After"] = str(seconds)
    return response


def _throttle(limit_value: Callable[[], str], key_func: Callable[[], str]) -> RouteLimit:
    """Count the failed sign-ins (only) under `key_func`'s key; over `limit_value`, even
    the right password gets `_throttled`'s answer."""
    return limiter.limit(
        limit_value,
        key_func=key_func,
        methods=["POST"],
        deduct_when=_failed,
        on_breach=_throttled,
    )


def _is_safe_next(target: str | None) -> bool:
    if not target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/")


@bp.route("/login", methods=["GET", "POST"])
@_throttle(_failures_per_account, _account)
@_throttle(_failures_per_address, _address)
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if (signed := submit(form, lambda: _sign_in(form))) is not None:
        # A new session: nothing of the one before the sign-in carries over (its CSRF
        # token included: the next page has a new one).
        session.clear()
        remember = bool(form.remember.data)
        login_user(signed.result, remember=remember)  # the cookie lasts REMEMBER_COOKIE_DURATION
        target = request.args.get("next")
        return redirect(target if _is_safe_next(target) else url_for("home.index"))
    # A refused password: 401, which the throttle counts.
    status = 401 if form.form_errors else 422 if form.errors else 200
    return render("auth/login.html", form=form, status=status)


def _sign_in(form: LoginForm) -> User:
    """The active user with the password typed starts a session; anyone else is refused,
    with one message whatever was wrong (it tells no one which accounts exist)."""
    user = accounts.authenticate(form.email.data, form.password.data)
    if user is None:
        raise ValidationError("Wrong email or password, or the account is deactivated.")
    sessions.start(user, remember=bool(form.remember.data))
    return user


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    def done(_) -> Response:
        session.clear()
        logout_user()
        flash("You are signed out.", "info")
        return redirect(url_for("auth.login"))

    return press(
        lambda: sessions.end(acting_user()),
        done=done,
        refused=lambda: redirect(url_for("home.index")),
    )
