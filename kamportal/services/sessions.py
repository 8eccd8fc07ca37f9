"""Sign-ins kept on the server: one record per sign-in, named by both the session cookie
and the "keep me signed in" cookie (Flask-Login's user id), so that signing out ends every
copy of either, and a password reset or a deactivation ends all of a user's sign-ins.

Another browser signed in as the same user is another sign-in: signing out here leaves it
signed in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from kamportal import clock
from kamportal.extensions import db
from kamportal.models import User, UserSession
from kamportal.services import validation

# Why a sign-in ended (UserSession.end_reason).
SIGNED_OUT = "signed out"
PASSWORD_RESET = "password reset"
DEACTIVATED = "deactivated"

# A user's sign-ins expired longer ago than this are deleted when they next sign in.
KEPT_AFTER_EXPIRY = timedelta(days=90)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def lifetime(*, remember: bool) -> timedelta:
    """How long a sign-in lasts: REMEMBER_DAYS when the user asked to be kept signed in
    (the remember cookie lasts as long), otherwise SESSION_HOURS."""
    config = current_app.config
    return config["REMEMBER_COOKIE_DURATION"] if remember else config["PERMANENT_SESSION_LIFETIME"]


def start(user: User, *, remember: bool) -> UserSession:
    """Record a new sign-in of `user`; from here `user.get_id()` names it for the cookies.

    The secret the cookies carry is random; only its hash is stored."""
    now = clock.now()
    secret = secrets.token_urlsafe(32)
    record = UserSession(
        user=user,
        secret_hash=_digest(secret),
        remembered=remember,
        created_at=now,
        expires_at=now + lifetime(remember=remember),
    )
    db.session.add(record)
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.expires_at < now - KEPT_AFTER_EXPIRY
        )
    )
    db.session.flush()
    user.sign_in_cookie_id = f"{record.id}:{secret}"
    return record


def signed_in_user(cookie_id: str) -> User | None:
    """The user of the open sign-in `cookie_id` names ("<sign-in id>:<secret>"), or None:
    an unknown sign-in, a wrong secret, one ended or expired, or a deactivated user.
    One query, the user's roles joined in (every page reads them)."""
    sign_in_id, _, secret = cookie_id.partition(":")
    if not (sign_in_id.isascii() and sign_in_id.isdigit() and secret):
        return None
    if int(sign_in_id) > validation.LARGEST_INTEGER:
        return None
    row = (
        db.session.execute(
            select(UserSession, User)
            .join(UserSession.user)
            .options(joinedload(User.role_rows))
            .where(UserSession.id == int(sign_in_id))
        )
        .unique()
        .first()
    )
    if row is None:
        return None
    record, user = row
    if not hmac.compare_digest(record.secret_hash, _digest(secret)):
        return None
    if not record.is_open(clock.now()) or not user.active:
        return None
    user.sign_in_cookie_id = cookie_id
    return user


def end(user: User) -> None:
    """Sign out: end the sign-in this request runs under, for every copy of its cookies.
    The user's other sign-ins (another browser) go on."""
    if user.sign_in_cookie_id is None:
        return
    record = db.session.get(UserSession, int(user.sign_in_cookie_id.partition(":")[0]))
    if record is not None and record.ended_at is None:
        record.ended_at = clock.now()
        record.end_reason = SIGNED_OUT
        db.session.flush()
    user.sign_in_cookie_id = None


def end_all(user: User, *, reason: str) -> int:
    """End every open sign-in of `user` (a password reset, a deactivation); how many."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=clock.now(), end_reason=reason)
    )
    return result.rowcount
