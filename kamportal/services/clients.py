"""The client registry: clients, contacts, and contact logged from the client page.

Every change lands on the client's timeline (P6) and, for records, in the audit log.
Who may do what is decided in services/access.py; these functions assume the caller
checked it, except reassignment, which checks the leader rule itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from kamportal import clock
from kamportal.errors import NotAllowed, ValidationError
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.messaging.whatsapp import render_template as render_whatsapp
from kamportal.models import (
    CallOutcome,
    Client,
    Contact,
    LifecycleStatus,
    Meeting,
    MeetingStatus,
    Minutes,
    MinutesStatus,
    OutboxMessage,
    Plan,
    Team,
    TimelineEvent,
    TimelineKind,
    User,
)
from kamportal.services import (
    access,
    cadence,
    deadlines,
    escalations,
    followups,
    onboarding,
    search,
    timeline,
    validation,
)
from kamportal.services import minutes as minutes_service

PROFILE_FIELDS = (
    "store_name",
    "store_code",
    "plan",
    "has_store_manager",
    "country",
    "timezone",
    "industry",
    "language",
    "status",
    "subscribed_at",
    "renewal_date",
    "recurring_amount",
    "currency",
)
CONTACT_FIELDS = ("name", "email", "phone", "whatsapp", "role", "is_primary", "is_decision_maker")
LANGUAGES = {"ar": "Arabic", "en": "English", "fr": "French"}
PLANS = frozenset(p.value for p in Plan)
STATUSES = frozenset(s.value for s in LifecycleStatus)


# --- The client list ---------------------------------------------------------------------

SORTS = {
    "name": Client.store_name,
    "code": Client.store_code,
    "status": Client.status,
    "last_contact": Client.last_contact_at,
    "renewal": Client.renewal_date,
}


@dataclass(frozen=True)
class ClientFilters:
    """What the client list is asked for; also the query string it pushes to the URL."""

    q: str = ""
    status: str = ""
    acm_id: int | None = None
    country: str = ""
    plan: str = ""
    sort: str = "name"
    direction: str = "asc"
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> ClientFilters:
        sort = args.get("sort", "name")
        direction = args.get("direction", "asc")
        return cls(
            q=validation.query_text(args.get("q")),
            status=args.get("status", "") if args.get("status") in STATUSES else "",
            acm_id=validation.query_number(args.get("acm"), default=None),
            country=validation.query_text(args.get("country"), max_length=2).upper(),
            plan=args.get("plan", "") if args.get("plan") in PLANS else "",
            sort=sort if sort in SORTS else "name",
            direction=direction if direction in ("asc", "desc") else "asc",
            page=validation.query_number(args.get("page"), default=1) or 1,
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """The non-default parameters, with `changes` applied (links for sort and pages)."""
        values = {
            "q": self.q,
            "status": self.status,
            "acm": self.acm_id,
            "country": self.country,
            "plan": self.plan,
            "sort": self.sort,
            "direction": self.direction,
            "page": self.page,
        }
        values.update(changes)
        defaults = {"sort": "name", "direction": "asc", "page": 1}
        return {k: v for k, v in values.items() if v not in (None, "") and defaults.get(k) != v}


def client_list_query(viewer: User, filters: ClientFilters) -> Select[tuple[Client]]:
    """The clients `viewer` may see, filtered and sorted (one query, ACMs joined)."""
    query = (
        select(Client).options(joinedload(Client.acm)).where(access.visible_clients_clause(viewer))
    )
    if filters.q:
        query = query.where(
            or_(
                search.contains(Client.store_name, filters.q),
                search.contains(Client.store_code, filters.q),
                Client.contacts.any(
                    or_(
                        search.contains(Contact.name, filters.q),
                        search.contains(Contact.email, filters.q),
                        search.contains(Contact.phone, filters.q),
                    )
                ),
            )
        )
    if filters.status:
        query = query.where(Client.status == filters.status)
    if filters.acm_id:
        query = query.where(Client.acm_id == filters.acm_id)
    if filters.country:
        query = query.where(Client.country == filters.country)
    if filters.plan:
        query = query.where(Client.plan == filters.plan)
    column = SORTS[filters.sort]
    if filters.direction == "asc":
        ordered = column.asc().nulls_first()
    else:
        ordered = column.desc().nulls_last()
    return query.order_by(ordered, Client.id)


def search_clients(viewer: User, filters: ClientFilters, *, per_page: int) -> Pagination:
    return db.paginate(
        client_list_query(viewer, filters), page=filters.page, per_page=per_page, error_out=False
    )


def load_client(client_id: int) -> Client | None:
    """A client with what its page shows, loaded in a fixed number of queries."""
    return db.session.scalar(
        select(Client)
        .where(Client.id == client_id)
        .options(
            joinedload(Client.acm).joinedload(User.team).joinedload(Team.leader),
            selectinload(Client.contacts),
        )
    )


def timeline_page(client: Client, *, page: int, per_page: int) -> Pagination:
    """The client's timeline, newest first (P6)."""
    query = (
        select(TimelineEvent)
        .where(TimelineEvent.client_id == client.id)
        .options(selectinload(TimelineEvent.actor), selectinload(TimelineEvent.outbox_message))
        .order_by(TimelineEvent.at.desc(), TimelineEvent.id.desc())
    )
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)


# --- Creating and editing clients --------------------------------------------------------


@dataclass
class ClientProfile:
    """A client's editable fields, as the form gives them."""

    store_name: str
    store_code: str
    plan: str
    country: str
    timezone: str
    currency: str
    language: str = "en"
    industry: str | None = None
    has_store_manager: bool = False
    status: str = LifecycleStatus.ONBOARDING.value
    subscribed_at: datetime | None = None
    renewal_date: date | None = None
    # As typed ("1,250.50") or a Decimal; the profile check reads it at the currency's unit.
    recurring_amount: Decimal | str | None = None


def subscription_from_date(
    day: date | None, zone: str, *, client: Client | None = None
) -> datetime | None:
    """The subscription instant of a date typed in the client form: the start of that day
    in the client's zone `zone`. The date the form showed (the stored subscription's date
    in the client's zone) keeps the stored instant, its time of day included, so saving
    the form unchanged changes nothing. None for no date or an unknown zone (the profile
    check refuses the zone)."""
    current = client.subscribed_at if client is not None else None
    if current is not None and day == clock.in_zone(current, client.timezone).date():
        return current
    if day is None or not clock.is_timezone(zone or ""):
        return None
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))


def _clean_profile(profile: ClientProfile, *, client_id: int | None) -> dict[str, Any]:
    store_code = validation.code(profile.store_code, field="store_code", what="store code")
    taken = db.session.scalar(select(Client.id).where(func.upper(Client.store_code) == store_code))
    if taken is not None and taken != client_id:
        raise ValidationError(f"Store code {store_code} is already used.", field="store_code")
    if profile.plan not in PLANS:
        raise ValidationError("Choose a plan.", field="plan")
    if profile.status not in STATUSES:
        raise ValidationError("Choose a lifecycle status.", field="status")
    if profile.language not in LANGUAGES:
        raise ValidationError("Choose a language.", field="language")
    currency = validation.currency_code(profile.currency)
    amount = None
    if profile.recurring_amount not in (None, ""):
        amount = validation.amount_of(
            profile.recurring_amount, currency, field="recurring_amount", positive=False
        )
        if amount < 0:
            raise ValidationError(
                "The recurring amount cannot be negative.", field="recurring_amount"
            )
    _check_subscription_dates(profile.subscribed_at, profile.renewal_date, profile.timezone)
    return {
        "store_name": profile.store_name.strip(),
        "store_code": store_code,
        "plan": profile.plan,
        "country": validation.country_code(profile.country),
        "timezone": validation.timezone_name(profile.timezone),
        "currency": currency,
        "language": profile.language,
        "industry": (profile.industry or "").strip() or None,
        "has_store_manager": bool(profile.has_store_manager),
        "status": profile.status,
        "subscribed_at": profile.subscribed_at,
        "renewal_date": profile.renewal_date,
        "recurring_amount": amount,
    }


# How far ahead a subscription may start (a contract signed for a later date), and a
# renewal date may lie after it (the longest term sold).
SUBSCRIPTION_AHEAD = timedelta(days=366)
LONGEST_TERM = timedelta(days=5 * 366)


def _check_subscription_dates(
    subscribed_at: datetime | None, renewal_date: date | None, zone: str
) -> None:
    """A subscription from 2000 to a year from now; a renewal after it, within five years."""
    subscribed_on = None
    if subscribed_at is not None:
        subscribed_on = (
            clock.in_zone(subscribed_at, zone).date()
            if clock.is_timezone(zone)
            else subscribed_at.date()
        )
        validation.date_between(
            subscribed_on,
            field="subscribed_on",
            latest=clock.now().date() + SUBSCRIPTION_AHEAD,
            message="A subscription date from 2000 to a year from now.",
        )
    if renewal_date is not None:
        earliest = subscribed_on + timedelta(days=1) if subscribed_on else None
        validation.date_between(
            renewal_date,
            field="renewal_date",
            earliest=earliest or validation.EARLIEST_DATE,
            latest=(subscribed_on or clock.now().date()) + LONGEST_TERM,
            message=(
                "The renewal date comes after the subscription date, within five years of it."
                if subscribed_on
                else "The renewal date falls within five years from now."
            ),
        )


def _check_assignable(actor: User, acm: User | None) -> None:
    if acm is None:
        raise ValidationError("Choose the client's account manager.", field="acm")
    if acm.id not in {u.id for u in access.assignable_acms(actor)}:
        raise ValidationError("You cannot give a client to this account manager.", field="acm")


def create_client(profile: ClientProfile, *, actor: User, acm: User | None) -> Client:
    """Register a client with its ACM (P6: timeline and audit record it).

    Raises ValidationError for a taken store code, an unknown zone, country or currency,
    or an ACM the actor may not assign."""
    values = _clean_profile(profile, client_id=None)
    _check_assignable(actor, acm)
    now = clock.now()
    client = Client(**values, acm=acm, created_at=now, updated_at=now)
    db.session.add(client)
    db.session.flush()
    timeline.record(
        client,
        TimelineKind.CLIENT_CREATED,
        actor=actor,
        summary=f"{client.store_name} ({client.store_code}) registered, ACM {acm.name}",
    )
    timeline.audit(actor, "client.create", client, after=timeline.snapshot(client, PROFILE_FIELDS))
    onboarding.client_registered(client)
    return client


def update_client(client: Client, profile: ClientProfile, *, actor: User) -> dict[str, tuple]:
    """Change a client's profile; returns the changed fields (nothing recorded if none)."""
    before = timeline.snapshot(client, PROFILE_FIELDS)
    values = _clean_profile(profile, client_id=client.id)
    onboarding.check_status_change(client, values["status"])
    for name, value in values.items():
        setattr(client, name, value)
    onboarding.status_changed(client, previous_status=before["status"], actor=actor)
    after = timeline.snapshot(client, PROFILE_FIELDS)
    changed = timeline.changes(before, after)
    if changed:
        client.updated_at = clock.now()
        labels = ", ".join(name.replace("_", " ") for name in changed)
        timeline.record(
            client,
            TimelineKind.CLIENT_UPDATED,
            actor=actor,
            summary=f"Profile updated: {labels}",
            detail={"changes": {k: {"from": v[0], "to": v[1]} for k, v in changed.items()}},
        )
        timeline.audit(actor, "client.update", client, before=before, after=after)
        onboarding.plan_changed(client, previous_plan=before["plan"])
        if "subscribed_at" in changed and client.subscribed_at is not None:
            onboarding.reschedule_welcome(client, subscribed_at=client.subscribed_at)
        if "timezone" in changed or "country" in changed:
            # Without a team, the client's own zone and country make its calendar.
            deadlines.recount_for_clients(
                [client],
                actor=actor,
                reason="the client's time zone or country changed",
                subject=client,
            )
    return changed


def reassign_client(client: Client, *, actor: User, new_acm: User | None, reason: str) -> None:
    """Move a client to another ACM of the team (leader or admin only). Its open work
    follows: upcoming meetings (their confirmations then show the new ACM, F3) and owed
    minutes (G5).

    Raises NotAllowed if the actor does not lead the client's team, ValidationError if the
    new ACM is not one the actor may assign, or is the current one."""
    if not access.can_reassign_client(actor, client):
        raise NotAllowed("Only the client's team leader or an admin can reassign it.")
    _check_assignable(actor, new_acm)
    if client.acm_id == new_acm.id:
        raise ValidationError(f"{new_acm.name} already manages this client.", field="acm")
    if not reason.strip():
        raise ValidationError("Say why the client is reassigned.", field="reason")
    previous = client.acm
    client.acm = new_acm
    db.session.flush()
    # O2, E2, F2: what is pending is counted on the new team's calendar.
    deadlines.recount_for_clients(
        [client], actor=actor, reason=f"reassigned to {new_acm.name}", subject=client
    )
    client.updated_at = clock.now()
    moved = _hand_over_open_work(client, new_acm)
    timeline.record(
        client,
        TimelineKind.CLIENT_REASSIGNED,
        actor=actor,
        summary=f"Reassigned from {previous.name if previous else 'nobody'} to {new_acm.name}"
        + (
            f"; {moved['meetings']} upcoming meeting(s) and {moved['minutes']} owed minutes"
            " moved too"
            if any(moved.values())
            else ""
        ),
        detail={
            "from_acm_id": previous.id if previous else None,
            "to_acm_id": new_acm.id,
            "reason": reason.strip(),
            "moved": moved,
        },
    )
    timeline.audit(
        actor,
        "client.reassign",
        client,
        before={"acm_id": previous.id if previous else None},
        after={"acm_id": new_acm.id, "reason": reason.strip()},
    )


def _hand_over_open_work(client: Client, new_acm: User) -> dict[str, int]:
    upcoming = list(
        db.session.scalars(
            select(Meeting).where(
                Meeting.client_id == client.id, Meeting.status == MeetingStatus.SCHEDULED.value
            )
        )
    )
    owed = list(
        db.session.scalars(
            select(Minutes).where(
                Minutes.client_id == client.id, Minutes.status == MinutesStatus.OWED.value
            )
        )
    )
    for meeting in upcoming:
        meeting.organizer_id = new_acm.id
    for minutes in owed:
        minutes.owner_id = new_acm.id
    return {"meetings": len(upcoming), "minutes": len(owed)}


# --- Contacts ----------------------------------------------------------------------------


@dataclass
class ContactDetails:
    name: str
    email: str | None = None
    phone: str | None = None
    whatsapp: str | None = None
    role: str | None = None
    is_primary: bool = False
    is_decision_maker: bool = False


def _clean_contact(
    client: Client, details: ContactDetails, *, contact: Contact | None = None
) -> dict[str, Any]:
    name = details.name.strip()
    if not name:
        raise ValidationError("A contact needs a name.", field="name")
    email = validation.email_address(details.email)
    if email and any(
        c.email and c.email.lower() == email.lower() and c is not contact for c in client.contacts
    ):
        raise ValidationError(f"{email} is already a contact of this client.", field="email")
    phone = validation.phone_number(details.phone, country=client.country, field="phone")
    whatsapp = validation.phone_number(details.whatsapp, country=client.country, field="whatsapp")
    if not (email or phone or whatsapp):
        raise ValidationError("Give at least an email or a phone number.", field="email")
    return {
        "name": name,
        "email": email,
        "phone": phone,
        "whatsapp": whatsapp,
        "role": (details.role or "").strip() or None,
        "is_primary": bool(details.is_primary),
        "is_decision_maker": bool(details.is_decision_maker),
    }


def _make_only_primary(client: Client, contact: Contact, actor: User) -> None:
    """One primary contact per client; a change of point of contact is recorded (P5)."""
    previous = [c for c in client.contacts if c.is_primary and c is not contact]
    for other in previous:
        other.is_primary = False
    if previous:
        timeline.record(
            client,
            TimelineKind.CONTACT_UPDATED,
            actor=actor,
            summary=f"Point of contact changed from {previous[0].name} to {contact.name}",
            detail={"from_contact_id": previous[0].id, "to_contact_id": contact.id},
        )


def add_contact(client: Client, details: ContactDetails, *, actor: User) -> Contact:
    """Add a contact; phone numbers are stored in E.164, read in the client's country.

    Raises ValidationError (with the field) for a malformed email or phone number."""
    values = _clean_contact(client, details)
    if not client.contacts:
        values["is_primary"] = True
    contact = Contact(client=client, **values)
    db.session.add(contact)
    db.session.flush()
    if contact.is_primary:
        _make_only_primary(client, contact, actor)
    timeline.record(
        client,
        TimelineKind.CONTACT_ADDED,
        actor=actor,
        summary=f"Contact added: {contact.name}" + (f", {contact.role}" if contact.role else ""),
        detail={"contact_id": contact.id},
    )
    timeline.audit(
        actor, "contact.create", contact, after=timeline.snapshot(contact, CONTACT_FIELDS)
    )
    return contact


def update_contact(contact: Contact, details: ContactDetails, *, actor: User) -> None:
    client = contact.client
    before = timeline.snapshot(contact, CONTACT_FIELDS)
    values = _clean_contact(client, details, contact=contact)
    was_primary = contact.is_primary
    for name, value in values.items():
        setattr(contact, name, value)
    if contact.is_primary and not was_primary:
        _make_only_primary(client, contact, actor)
    after = timeline.snapshot(contact, CONTACT_FIELDS)
    changed = timeline.changes(before, after)
    if changed:
        timeline.record(
            client,
            TimelineKind.CONTACT_UPDATED,
            actor=actor,
            summary=f"Contact updated: {contact.name} ({', '.join(changed)})",
            detail={"contact_id": contact.id},
        )
        timeline.audit(actor, "contact.update", contact, before=before, after=after)


def contact_of(client: Client, contact_id: int | None) -> Contact | None:
    """One of `client`'s contacts (never another client's)."""
    if contact_id is None:
        return None
    return next((c for c in client.contacts if c.id == contact_id), None)


# --- Logging contact (G3, G6, F1) --------------------------------------------------------


def log_call(
    client: Client,
    *,
    actor: User,
    contact: Contact | None,
    outcome: CallOutcome,
    notes: str = "",
    no_reply_ladder: bool = True,
) -> TimelineEvent:
    """Rule G3: a call placed from the portal, with its outcome and notes.

    An unanswered call starts F2's no-reply ladder unless `no_reply_ladder` is False (an
    escalation's call, which the escalation ladder follows up, E2) or an escalation's
    ladder already waits on the client's reply to its email."""
    outcome = CallOutcome(outcome)
    at = clock.now()
    who = contact.name if contact else "the client"
    event = timeline.record(
        client,
        TimelineKind.CALL,
        actor=actor,
        summary=f"Call with {who}: {outcome.label}"
        + (f". {notes.strip()}" if notes.strip() else ""),
        detail={
            "outcome": outcome.value,
            "contact_id": contact.id if contact else None,
            "phone": contact.phone if contact else None,
            "notes": notes.strip(),
        },
        at=at,
    )
    if outcome is CallOutcome.ANSWERED:
        cadence.record_contact(client, at)
        minutes_service.owe_for_call(client, event, owner=actor, at=at)  # G5
    # F2: an unanswered call starts the no-reply ladder (a voicemail is no answer, as in
    # E2); an answered one is a reply.
    if outcome in (CallOutcome.NO_ANSWER, CallOutcome.VOICEMAIL) and no_reply_ladder:
        _follow_up_unanswered_call(client, event, actor=actor)
    elif outcome is CallOutcome.ANSWERED:
        followups.stop_ladders_on_reply(client, at=at, reason="Call answered", actor=actor)
        escalations.pause_on_client_reply(client, at=at, reason="Call answered", actor=actor)
    return event


def _follow_up_unanswered_call(client: Client, event: TimelineEvent, *, actor: User) -> None:
    """F2's ladder for an unanswered call, unless an escalation's ladder already told the
    client we tried to call and waits on them (E2): one "we tried to call you" email."""
    escalation = escalations.ladder_under_way(client)
    if escalation is None:
        followups.start_ladder(client, event, actor=actor)
        return
    timeline.record(
        client,
        TimelineKind.LADDER_STOPPED,
        actor=actor,
        summary=f"No follow-up email for this call: escalation #{escalation.id} is following "
        "up the client already (E2)",
        detail={"escalation_id": escalation.id},
        at=event.at,
    )


def log_email(
    client: Client,
    *,
    actor: User,
    contact: Contact | None,
    direction: str,
    subject: str,
    notes: str = "",
) -> TimelineEvent:
    """An email sent or received outside the portal, recorded on the timeline."""
    if direction not in ("sent", "received"):
        raise ValidationError("Choose sent or received.", field="direction")
    if not subject.strip():
        raise ValidationError("Give the email's subject.", field="subject")
    at = clock.now()
    who = contact.name if contact else "the client"
    sent = direction == "sent"
    event = timeline.record(
        client,
        TimelineKind.EMAIL_SENT if sent else TimelineKind.EMAIL_RECEIVED,
        actor=actor,
        summary=f"Email {'to' if sent else 'from'} {who}: {subject.strip()}",
        detail={"contact_id": contact.id if contact else None, "notes": notes.strip()},
        at=at,
    )
    if sent:
        cadence.record_contact(client, at)
    else:
        followups.stop_ladders_on_reply(client, at=at, reason="Email received", actor=actor)  # F2
        escalations.pause_on_client_reply(client, at=at, reason="Email received", actor=actor)
    return event


def log_whatsapp_request(
    client: Client, *, actor: User, contact: Contact | None, message: str
) -> TimelineEvent:
    """Rule G6: a request that arrived by WhatsApp is logged, and must be answered."""
    if not message.strip():
        raise ValidationError("Paste or summarise the message.", field="message")
    who = contact.name if contact else "the client"
    event = timeline.record(
        client,
        TimelineKind.WHATSAPP_RECEIVED,
        actor=actor,
        summary=f"WhatsApp from {who}: {message.strip()}",
        detail={"contact_id": contact.id if contact else None, "message": message.strip()},
    )
    followups.stop_ladders_on_reply(client, at=event.at, reason="WhatsApp received", actor=actor)
    escalations.pause_on_client_reply(  # E2
        client, at=event.at, reason="WhatsApp received", actor=actor
    )
    return event


# G6: the WhatsApp template that answers a request and sends the client to email.
REDIRECT_TEMPLATE = "redirect_to_email"


def whatsapp_redirect_params(client: Client, contact: Contact) -> dict[str, str]:
    acm_email = client.acm.email if client.acm else ""
    return {"name": contact.name.split()[0], "acm_email": acm_email}


def whatsapp_redirect_preview(client: Client, contact: Contact) -> str:
    """The G6 template reply, as the client will read it."""
    return render_whatsapp(REDIRECT_TEMPLATE, whatsapp_redirect_params(client, contact))


def reply_to_whatsapp_with_email_redirect(
    client: Client, *, actor: User, contact: Contact, key: str
) -> OutboxMessage:
    """Rule G6: answer a WhatsApp request with the template that redirects to email."""
    if not contact.whatsapp:
        raise ValidationError(f"{contact.name} has no WhatsApp number.", field="contact")
    message = outbox.queue_whatsapp(
        key=key,
        to=contact.whatsapp,
        template=REDIRECT_TEMPLATE,
        params=whatsapp_redirect_params(client, contact),
        client=client,
        actor=actor,
    )
    if not _already_on_timeline(message):
        timeline.record(
            client,
            TimelineKind.WHATSAPP_SENT,
            actor=actor,
            summary=f"WhatsApp reply to {contact.name}: please send requests by email (G6)",
            detail={"contact_id": contact.id, "template": REDIRECT_TEMPLATE},
            outbox_message=message,
        )
    return message


def whatsapp_unanswered_clause() -> ColumnElement[bool]:
    """G6: a timeline event that is a WhatsApp request not answered yet: no template reply
    redirecting to email went after it to the contact who wrote (to any contact, for a
    request logged without one)."""
    reply = aliased(TimelineEvent)
    asked_by = TimelineEvent.detail["contact_id"].as_integer()
    return and_(
        TimelineEvent.kind == TimelineKind.WHATSAPP_RECEIVED.value,
        ~exists().where(
            reply.client_id == TimelineEvent.client_id,
            reply.kind == TimelineKind.WHATSAPP_SENT.value,
            reply.detail["template"].as_string() == REDIRECT_TEMPLATE,
            or_(
                reply.at > TimelineEvent.at,
                and_(reply.at == TimelineEvent.at, reply.id > TimelineEvent.id),
            ),
            or_(asked_by.is_(None), reply.detail["contact_id"].as_integer() == asked_by),
        ),
    )


@dataclass(frozen=True)
class UnansweredWhatsApp:
    """A WhatsApp request not answered yet (G6); whom the template reply may go to (the
    contact who wrote if they have a WhatsApp number, else every contact who has one) and
    the reply as the first of them reads it."""

    request: TimelineEvent
    asked_by: Contact | None
    answer_to: tuple[Contact, ...]
    preview: str

    @property
    def message(self) -> str:
        return (self.request.detail or {}).get("message", "")


def unanswered_whatsapp_requests(client: Client) -> list[UnansweredWhatsApp]:
    """The client's WhatsApp requests not answered yet (G6), oldest first."""
    requests = db.session.scalars(
        select(TimelineEvent)
        .where(TimelineEvent.client_id == client.id, whatsapp_unanswered_clause())
        .order_by(TimelineEvent.at, TimelineEvent.id)
    )
    found = []
    for request in requests:
        asked_by = contact_of(client, (request.detail or {}).get("contact_id"))
        if asked_by is not None and asked_by.whatsapp:
            answer_to: tuple[Contact, ...] = (asked_by,)
        else:
            answer_to = tuple(c for c in client.contacts if c.whatsapp)
        preview = whatsapp_redirect_preview(client, answer_to[0]) if answer_to else ""
        found.append(UnansweredWhatsApp(request, asked_by, answer_to, preview))
    return found


def add_note(client: Client, *, actor: User, text: str) -> TimelineEvent:
    if not text.strip():
        raise ValidationError("A note cannot be empty.", field="text")
    return timeline.record(client, TimelineKind.NOTE, actor=actor, summary=text.strip())


def email_contact(
    client: Client, *, actor: User, contact: Contact, subject: str, body: str, key: str
) -> OutboxMessage:
    """Email a contact through the outbox (G1 CCs added there); on the timeline at once,
    its delivery status shown as the job sends it. The same `key` sends once."""
    if not contact.email:
        raise ValidationError(f"{contact.name} has no email address.", field="contact")
    if not subject.strip():
        raise ValidationError("An email needs a subject.", field="subject")
    if not body.strip():
        raise ValidationError("An email needs a message.", field="body")
    message = outbox.queue_client_email(
        client,
        key=key,
        to=[contact.email],
        subject=subject.strip(),
        body=body.strip() + "\n",
        actor=actor,
    )
    if not _already_on_timeline(message):
        at = clock.now()
        timeline.record(
            client,
            TimelineKind.EMAIL_SENT,
            actor=actor,
            summary=f"Email to {contact.name}: {subject.strip()}",
            detail={"contact_id": contact.id},
            outbox_message=message,
            at=at,
        )
        cadence.record_contact(client, at)
    return message


def _already_on_timeline(message: OutboxMessage) -> bool:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(TimelineEvent)
            .where(TimelineEvent.outbox_message_id == message.id)
        )
        > 0
    )


def retry_message(client: Client, message_id: int, *, actor: User) -> OutboxMessage:
    """Send again a message to `client` whose delivery failed (a person asked for it).

    Raises ValidationError if it is not this client's, or has not failed."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.client_id != client.id:
        raise ValidationError("There is no such message for this client.")
    if not outbox.retry(message):
        raise ValidationError("Only a message that failed to send can be sent again.")
    timeline.audit(actor, "outbox.retry", message, after={"status": message.status})
    return message
