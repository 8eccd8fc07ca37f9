"""Users and teams: sign-in, creation, roles, deactivation (admin pages and the CLI)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from datetime import time
from typing import NotRequired, TypedDict, Unpack

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from zxcvbn import zxcvbn

from kamportal import clock
from kamportal.config import DEMO_PASSWORD
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.models import Client, Role, Team, User, UserRole
from kamportal.models.accounts import SUPPORT_SLA_FIELDS, WEEKDAY_NAMES
from kamportal.services import events, not_selling, sessions, timeline, validation

_STRONG = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
_CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)  # tests only (PASSWORD_HASH_CHEAP)
# Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASHES = {id(h): h.hash("not-a-real-password") for h in (_STRONG, _CHEAP)}

MIN_PASSWORD_LENGTH = 10
# zxcvbn's estimate, 0 to 4: 3 is "safely unguessable" (about 10^8 guesses and more): the
# common-password lists, words, names, dates, keyboard runs and sequences score below.
MIN_PASSWORD_SCORE = 3
# Words anyone guessing a password of this portal would try first.
_PORTAL_WORDS = ("kam", "kamportal", "portal", "expandcart", "expand", "cart", "demo")


# The shape of an address only: intranet domains (corp.local) are fine, so no DNS-minded
# validator that refuses special-use names.
def _hasher() -> PasswordHasher:
    return _CHEAP if current_app.config.get("PASSWORD_HASH_CHEAP") else _STRONG


def hash_password(password: str) -> str:
    """The password's hash, as stored. A new password is checked first:
    `check_new_password`."""
    return _hasher().hash(password)


def check_new_password(password: str, *, email: str, name: str) -> None:
    """Refuse a password that is short, common or easy to guess (zxcvbn's estimate, which
    knows the common and breached-password lists, words, names, dates and patterns; the
    user's own name and email and this portal's words count as known), and the demo's
    published password anywhere but the demo (KAM_ENV=development).

    Raises ValidationError (field "password") saying why.
    """
    if password == DEMO_PASSWORD:
        if current_app.config["ENV_NAME"] == "development":
            return
        raise ValidationError(
            "This is the demo's published password: choose another.", field="password"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    squeezed = _squeeze(password)
    for own in (_squeeze(email.partition("@")[0]), _squeeze(name)):
        if len(own) >= 5 and own in squeezed:  # shorter ones: zxcvbn knows them
            raise ValidationError(
                "A password must not contain the user's name or email address.",
                field="password",
            )
    own_words = [w for w in re.split(r"[\W_]+", f"{email} {name}".lower()) if len(w) > 2]
    known = [*_PORTAL_WORDS, DEMO_PASSWORD, email, name, *own_words]
    estimate = zxcvbn(password, user_inputs=known)
    if estimate["score"] < MIN_PASSWORD_SCORE:
        feedback = estimate["feedback"]
        why = [feedback["warning"]] if feedback["warning"] else []
        advice = feedback["suggestions"] or ["Use three or four uncommon words."]
        raise ValidationError(
            " ".join(["This password is too easy to guess.", *why, *advice]), field="password"
        )


def _squeeze(text: str) -> str:
    """Lower case, letters and digits only: "Mona.Adel" and "mona adel" are one."""
    return re.sub(r"[\W_]+", "", text.lower())


def normalize_email(email: str) -> str:
    return email.strip().lower()


def emails_of(role: Role) -> list[str]:
    """The addresses of the active users holding `role` (whom a staff notice goes to)."""
    return list(
        db.session.scalars(
            select(User.email)
            .where(User.active.is_(True))
            .where(User.role_rows.any(UserRole.role == role.value))
            .order_by(User.email)
        )
    )


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
    """Create a user with `roles`; the email must be free (case-insensitive).

    Raises ValidationError for a taken email, an empty name, no role, an unknown timezone,
    a password `check_new_password` refuses, or a bad phone number or booking link.
    """
    wanted = {Role(r) for r in roles}
    email = _free_email(email)
    _check_profile(name=name, roles=wanted, timezone=timezone)
    check_new_password(password, email=email, name=name)
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        team=team,
        timezone=timezone,
        phone=validation.phone_number(phone, country=team.country if team else None),
        booking_link=_checked_link(booking_link),
        active=True,
        created_at=clock.now(),
    )
    db.session.add(user)
    set_roles(user, wanted)
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


# --- Admin: users ---------------------------------------------------------------------------


def list_users(
    *,
    role: Role | None = None,
    team: Team | None = None,
    no_team: bool = False,
    active: bool | None = None,
) -> list[User]:
    """Users by name; optionally only those with `role`, in `team` (or none), active or not."""
    query = (
        select(User)
        .options(selectinload(User.team), selectinload(User.role_rows))
        .order_by(User.name, User.id)
    )
    if role is not None:
        query = query.where(User.role_rows.any(UserRole.role == role.value))
    if no_team:
        query = query.where(User.team_id.is_(None))
    elif team is not None:
        query = query.where(User.team_id == team.id)
    if active is not None:
        query = query.where(User.active.is_(active))
    return list(db.session.scalars(query))


def update_user(
    user: User,
    *,
    actor: User | None,
    name: str,
    roles: Iterable[Role],
    team: Team | None,
    timezone: str,
    phone: str | None,
    booking_link: str | None,
    email: str | None = None,
) -> User:
    """Change a user's profile, roles and team (`email=None` keeps the email).

    Raises ValidationError for a taken email, an empty name, no role, an unknown timezone,
    a bad phone or link, an admin dropping their own admin role, or dropping the leader role
    of someone who still leads a team.
    """
    # Everything is checked before anything changes: a refusal leaves the user as it was.
    before = user_snapshot(user)
    wanted = {Role(r) for r in roles}
    new_email = user.email if email is None else _free_email(email, exclude=user)
    _check_profile(name=name, roles=wanted, timezone=timezone)
    if actor is not None and actor.id == user.id and Role.ADMIN not in wanted:
        # Otherwise the last admin could lock everyone out of these pages.
        raise ValidationError("You cannot remove your own admin role.", field="roles")
    if Role.LEADER in user.roles and Role.LEADER not in wanted:
        _refuse_if_leading(user, "take the leader role away", field="roles")
    new_phone = validation.phone_number(phone, country=team.country if team else None)
    new_link = _checked_link(booking_link)
    user.email = new_email
    user.name = name.strip()
    user.timezone = timezone
    user.team = team
    user.phone = new_phone
    user.booking_link = new_link
    set_roles(user, wanted)
    db.session.flush()
    after = user_snapshot(user)
    if after != before:
        timeline.audit(actor, "user.update", user, before=before, after=after)
    if before.get("team_id") != after.get("team_id"):
        # The ACM's clients are counted on the new team's calendar now.
        events.calendar_changed.send(
            user,
            clients=list(db.session.scalars(select(Client).where(Client.acm_id == user.id))),
            actor=actor,
            reason=f"{user.name} moved to " + (team.name if team else "no team"),
        )
    return user


def deactivate_user(user: User, *, actor: User | None) -> User:
    """Stop `user` signing in and end every sign-in of theirs (an open page goes to the
    sign-in page on its next request). Raises ValidationError for the actor themselves and
    for the leader of a team (give the team another leader first: G1 copies the leader)."""
    if actor is not None and actor.id == user.id:
        raise ValidationError("You cannot deactivate your own account.")
    if not user.active:
        return user
    _refuse_if_leading(user, "deactivate them")
    before = user_snapshot(user)
    user.active = False
    sessions.end_all(user, reason=sessions.DEACTIVATED)
    db.session.flush()
    timeline.audit(actor, "user.deactivate", user, before=before, after=user_snapshot(user))
    return user


def activate_user(user: User, *, actor: User | None) -> User:
    """Let a deactivated user sign in again (with their old password)."""
    if user.active:
        return user
    before = user_snapshot(user)
    user.active = True
    db.session.flush()
    timeline.audit(actor, "user.activate", user, before=before, after=user_snapshot(user))
    return user


def reset_password(user: User, *, actor: User | None, new_password: str) -> User:
    """Give `user` a new password chosen by an admin; the old one stops working at once
    and every open session of the user ends.

    Raises ValidationError (field "password") for a password `check_new_password` refuses.
    The audit event records that it happened, never the password or its hash.
    """
    check_new_password(new_password, email=user.email, name=user.name)
    user.password_hash = hash_password(new_password)
    sessions.end_all(user, reason=sessions.PASSWORD_RESET)
    db.session.flush()
    timeline.audit(actor, "user.password_reset", user)
    return user


def _free_email(email: str, *, exclude: User | None = None) -> str:
    email = normalize_email(validation.email_address(email) or "")
    if not email:
        raise ValidationError("An email address is needed.", field="email")
    query = select(func.count()).select_from(User).where(User.email == email)
    if exclude is not None:
        query = query.where(User.id != exclude.id)
    if db.session.scalar(query):
        raise ValidationError("A user with this email already exists.", field="email")
    return email


def _check_profile(*, name: str, roles: set[Role], timezone: str) -> None:
    if not name or not name.strip():
        raise ValidationError("A name is required.", field="name")
    if not roles:
        raise ValidationError("Choose at least one role.", field="roles")
    validation.timezone_name(timezone)


def _checked_link(link: str | None) -> str | None:
    return validation.web_link(
        link,
        field="booking_link",
        message="A booking link is a web address starting with https://.",
    )


def _refuse_if_leading(user: User, doing: str, *, field: str | None = None) -> None:
    led = list(db.session.scalars(select(Team.name).where(Team.leader_id == user.id)))
    if led:
        raise ValidationError(
            f"{user.name} leads {', '.join(sorted(led))}: give the team another leader "
            f"before you {doing}.",
            field=field,
        )


# --- Admin: teams ---------------------------------------------------------------------------


TEAM_FIELDS = (
    "name",
    "country",
    "timezone",
    "working_days",
    "workday_starts",
    "workday_ends",
    "shared_mailbox",
    "leader_id",
    "confirmation_lead_hours",
    "followup_email_auto",
    "no_reply_whatsapp_after_hours",
    "escalation_whatsapp_after_hours",
    "escalation_leader_after_hours",
    "invoice_reminder_days",
    *SUPPORT_SLA_FIELDS.values(),
    "not_selling_days",
    "not_selling_drop_percent",
)

# F3: a confirmation never goes later than this many hours before the meeting.
MIN_CONFIRMATION_LEAD_HOURS = 4
# Cadence settings beyond a fortnight are typing mistakes, not choices.
MAX_CADENCE_HOURS = 336
# R4: an unpaid invoice's reminders go every this many days, within these bounds.
REMINDER_DAYS = range(1, 31)


def team_snapshot(team: Team) -> dict:
    return timeline.snapshot(team, TEAM_FIELDS)


def list_teams() -> list[Team]:
    query = select(Team).options(selectinload(Team.leader), selectinload(Team.members))
    return list(db.session.scalars(query.order_by(Team.name)))


def eligible_leaders() -> list[User]:
    """The users a team may have as leader: active and holding the leader role."""
    return list_users(role=Role.LEADER, active=True)


class TeamSettings(TypedDict):
    """What an admin sets on a team (the team form, the CLI, demo data)."""

    name: str
    country: str
    timezone: str
    working_days: Iterable[int]
    workday_starts: time
    workday_ends: time
    shared_mailbox: NotRequired[str | None]
    leader: NotRequired[User | None]
    # The cadence (F2, F3, E2); left out, a new team gets the defaults and an edit keeps them.
    confirmation_lead_hours: NotRequired[int]
    followup_email_auto: NotRequired[bool]
    no_reply_whatsapp_after_hours: NotRequired[int]
    escalation_whatsapp_after_hours: NotRequired[int]
    escalation_leader_after_hours: NotRequired[int]
    invoice_reminder_days: NotRequired[int]
    support_sla_highest_hours: NotRequired[int]
    support_sla_high_hours: NotRequired[int]
    support_sla_medium_hours: NotRequired[int]
    support_sla_low_hours: NotRequired[int]
    support_sla_lowest_hours: NotRequired[int]
    not_selling_days: NotRequired[int]
    not_selling_drop_percent: NotRequired[int]


def create_team(*, actor: User | None, **settings: Unpack[TeamSettings]) -> Team:
    """Create a team with its working week, hours and country (business hours and holidays
    follow them), its leader (CC'd on client email, G1) and shared mailbox.

    Raises ValidationError: see `update_team`.
    """
    team = Team()
    _apply_team(team, settings)
    db.session.add(team)
    db.session.flush()
    timeline.audit(actor, "team.create", team, after=team_snapshot(team))
    return team


# The team settings a pending deadline is counted with: its calendar, and its waits.
TEAM_CALENDAR_FIELDS = (
    "country",
    "timezone",
    "working_days",
    "workday_starts",
    "workday_ends",
    "no_reply_whatsapp_after_hours",
    "escalation_whatsapp_after_hours",
    "escalation_leader_after_hours",
)


def update_team(team: Team, *, actor: User | None, **settings: Unpack[TeamSettings]) -> Team:
    """Change a team's name, calendar, mailbox or leader. A change of its calendar (country,
    zone, week, hours) or of its waits counts its clients' pending deadlines again.

    Raises ValidationError for a taken name (case-insensitive), an unknown country or time
    zone, no working day, hours that do not start before they end, a malformed mailbox, a
    leader who is inactive or does not hold the leader role, or a cadence out of range;
    RuleViolation("F3") for a confirmation lead time under 4 hours.
    """
    before = team_snapshot(team)
    _apply_team(team, settings)
    db.session.flush()
    after = team_snapshot(team)
    if after != before:
        timeline.audit(actor, "team.update", team, before=before, after=after)
    changed = [f for f in TEAM_CALENDAR_FIELDS if before.get(f) != after.get(f)]
    if changed:
        events.calendar_changed.send(
            team,
            team=team,
            actor=actor,
            reason=f"team {team.name} changed its "
            + ", ".join(f.replace("_", " ") for f in changed),
        )
    return team


def week_order(days: Iterable[int]) -> tuple[int, ...]:
    """ISO weekdays in the team's week order: the week starts after its longest break, so
    Sunday to Thursday is (7, 1, 2, 3, 4) and Monday to Friday (1, 2, 3, 4, 5)."""
    chosen = set(days)
    if not chosen or len(chosen) == 7:
        return tuple(sorted(chosen))

    def gap_before(day: int) -> int:
        gap, previous = 0, (day - 2) % 7 + 1
        while previous not in chosen:
            gap, previous = gap + 1, (previous - 2) % 7 + 1
        return gap

    starts = [d for d in sorted(chosen) if (d - 2) % 7 + 1 not in chosen]
    first = max(starts, key=gap_before)
    return tuple(d for d in ((first - 1 + i) % 7 + 1 for i in range(7)) if d in chosen)


def describe_week(days: Iterable[int], names: Mapping[int, str] = WEEKDAY_NAMES) -> str:
    """'Sun to Thu' with a dash for a run of days, else the days listed ('Sun, Tue, Thu');
    `names` by ISO weekday (a client's language: `i18n.weekday_names`)."""
    ordered = week_order(days)
    if not ordered:
        return "—"
    contiguous = all(b == a % 7 + 1 for a, b in itertools.pairwise(ordered))
    if len(ordered) > 2 and contiguous:
        return f"{names[ordered[0]]}–{names[ordered[-1]]}"
    return ", ".join(names[d] for d in ordered)


def _apply_team(team: Team, settings: TeamSettings) -> None:
    name = settings["name"]
    country = settings["country"]
    timezone = settings["timezone"]
    working_days = settings["working_days"]
    workday_starts = settings["workday_starts"]
    workday_ends = settings["workday_ends"]
    shared_mailbox = settings.get("shared_mailbox")
    leader = settings.get("leader")
    name = (name or "").strip()
    if not name:
        raise ValidationError("A team needs a name.", field="name")
    query = select(func.count()).select_from(Team).where(func.lower(Team.name) == name.lower())
    if team.id is not None:
        query = query.where(Team.id != team.id)
    if db.session.scalar(query):
        raise ValidationError("A team with this name already exists.", field="name")
    country = validation.country_code(country)
    timezone = validation.timezone_name(timezone)
    days = {int(d) for d in working_days}
    if not days:
        raise ValidationError("Choose at least one working day.", field="working_days")
    if not days <= set(WEEKDAY_NAMES):
        raise ValidationError("Working days are ISO weekdays, 1 to 7.", field="working_days")
    if workday_starts is None or workday_ends is None or workday_starts >= workday_ends:
        raise ValidationError("The working day must start before it ends.", field="workday_ends")
    shared_mailbox = _checked_mailbox(shared_mailbox)
    if leader is not None and not (leader.active and leader.has_role(Role.LEADER)):
        raise ValidationError(
            f"{leader.name} cannot lead a team: a leader must be active and hold the "
            "team leader role.",
            field="leader",
        )
    cadence = _checked_cadence(settings)
    # Everything is checked before anything changes: a refusal leaves the team as it was.
    for attribute, value in cadence.items():
        setattr(team, attribute, value)
    team.name = name
    team.country = country
    team.timezone = timezone
    team.working_days = ",".join(str(d) for d in week_order(days))
    team.workday_starts = workday_starts
    team.workday_ends = workday_ends
    team.shared_mailbox = shared_mailbox
    team.leader = leader


# The waits in business hours, each at least 1, with what a shorter one is told.
WAITS_OF_AT_LEAST_AN_HOUR = {
    # F2
    "no_reply_whatsapp_after_hours": "Wait at least 1 business hour before the WhatsApp reminder.",
    # E2
    "escalation_whatsapp_after_hours": "Wait at least 1 business hour after the email before "
    "the escalation WhatsApp (E2).",
    "escalation_leader_after_hours": "Wait at least 1 business hour after the WhatsApp before "
    "the escalation goes to the team leader (E2).",
}


def _checked_cadence(settings: TeamSettings) -> dict[str, int | bool]:
    """The cadence settings given, checked: F3's lead time in whole hours, at least 4;
    F2's business hours before the WhatsApp and E2's waits of the escalation ladder, at least
    1 each; every wait at most `MAX_CADENCE_HOURS`."""
    cadence: dict[str, int | bool] = {}
    if "confirmation_lead_hours" in settings:
        lead = _whole_hours(settings["confirmation_lead_hours"], "confirmation_lead_hours")
        if lead < MIN_CONFIRMATION_LEAD_HOURS:
            raise RuleViolation(
                "F3",
                "A meeting confirmation goes at least 4 hours before the meeting.",
                field="confirmation_lead_hours",
            )
        cadence["confirmation_lead_hours"] = lead
    if "followup_email_auto" in settings:
        cadence["followup_email_auto"] = bool(settings["followup_email_auto"])
    for name, too_short in WAITS_OF_AT_LEAST_AN_HOUR.items():
        if name in settings:
            wait = _whole_hours(settings[name], name)
            if wait < 1:
                raise ValidationError(too_short, field=name)
            cadence[name] = wait
    whole_numbers = {
        "invoice_reminder_days": (
            REMINDER_DAYS,
            "Remind every 1 to 30 days until the invoice is paid (R4).",
        ),
        "not_selling_days": (
            not_selling.DAYS_RANGE,
            "A store is not selling after 1 to 60 days without an order (F4).",
        ),
        "not_selling_drop_percent": (
            not_selling.DROP_PERCENT_RANGE,
            "A GMV drop of 1 to 99 % against the 4 weeks before raises the alert (F4).",
        ),
    }
    for name, (allowed, message) in whole_numbers.items():
        if name in settings:
            number = settings[name]
            if isinstance(number, bool) or not isinstance(number, int) or number not in allowed:
                raise ValidationError(message, field=name)
            cadence[name] = number
    for priority, name in SUPPORT_SLA_FIELDS.items():
        if name in settings:
            hours = _whole_hours(settings[name], name)
            if hours < 1:
                raise ValidationError(
                    f"Give the support team at least 1 hour on a {priority} ticket (G4).",
                    field=name,
                )
            cadence[name] = hours
    return cadence


def _whole_hours(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("Give a whole number of hours.", field=field)
    if value > MAX_CADENCE_HOURS:
        raise ValidationError(f"At most {MAX_CADENCE_HOURS} hours.", field=field)
    return value


def _checked_mailbox(mailbox: str | None) -> str | None:
    mailbox = validation.email_address(
        mailbox,
        field="shared_mailbox",
        message="The shared mailbox is not a valid email address.",
    )
    return normalize_email(mailbox) if mailbox else None
