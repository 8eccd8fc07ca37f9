"""Users and teams: sign-in, creation, roles, deactivation (admin pages and the CLI)."""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select

from kamportal.errors import ValidationError
from kamportal.extensions import db
from kamportal.models import Role, Team, User, UserRole
from kamportal.services import clock, timeline

_STRONG = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
_CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)  # tests only (PASSWORD_HASH_CHEAP)
# Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASHES = {id(h): h.hash("not-a-real-password") for h in (_STRONG, _CHEAP)}

MIN_PASSWORD_LENGTH = 10


def _hasher() -> PasswordHasher:
    return _CHEAP if current_app.config.get("PASSWORD_HASH_CHEAP") else _STRONG


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    return _hasher().hash(password)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None. Rehashes old parameters."""
    user = find_user_by_email(email)
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash if user else _DUMMY_HASHES[id(hasher)], password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = clock.now()
    return user


def create_user(
    *,
    email: str,
    name: str,
    password: str,
    roles: Iterable[Role],
    actor: User | None,
    team: Team | None = None,
    timezone: str = "UTC",
    phone: str | None = None,
    booking_link: str | None = None,
) -> User:
    """Create a user with `roles`; the email must be free (case-insensitive)."""
    email = normalize_email(email)
    if db.session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise ValidationError("A user with this email already exists.", field="email")
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        team=team,
        timezone=timezone,
        phone=phone or None,
        booking_link=booking_link or None,
        active=True,
        created_at=clock.now(),
    )
    db.session.add(user)
    set_roles(user, roles)
    db.session.flush()
    timeline.audit(actor, "user.create", user, after=user_snapshot(user))
    return user


def set_roles(user: User, roles: Iterable[Role]) -> None:
    wanted = {Role(r) for r in roles}
    user.role_rows = [row for row in user.role_rows if Role(row.role) in wanted] + [
        UserRole(role=r.value) for r in sorted(wanted - user.roles)
    ]


def user_snapshot(user: User) -> dict:
    return {
        "email": user.email,
        "name": user.name,
        "roles": sorted(r.value for r in user.roles),
        "team_id": user.team_id,
        "active": user.active,
        "timezone": user.timezone,
        "phone": user.phone,
        "booking_link": user.booking_link,
    }
