"""The client registry: clients, their profile and contacts, and reassignment. What is
said with a client (calls, emails, WhatsApp, notes) is the contact log's
(services/contact_log.py).

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
from sqlalchemy import CTE, ColumnElement, Select, false, func, or_, select, union
from sqlalchemy.orm import joinedload, selectinload

from kamportal import clock, database
from kamportal.errors import NotAllowed, ValidationError
from kamportal.extensions import db
from kamportal.models import (
    Client,
    Contact,
    HealthBand,
    LifecycleStatus,
    Meeting,
    MeetingStatus,
    Minutes,
    MinutesStatus,
    Plan,
    Team,
    TimelineEvent,
    TimelineKind,
    User,
)
from kamportal.services import (
    access,
    events,
    gmv_bands,
    handovers,
    onboarding,
    search,
    timeline,
    validation,
)

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
# The client list's status filter: none (the default) leaves churned clients out; "all"
# shows them too.
ALL_STATUSES = "all"
LIST_STATUSES = STATUSES | {ALL_STATUSES}


# --- The client list ---------------------------------------------------------------------

SORTS = {
    "name": Client.store_name,
    "code": Client.store_code,
    "status": Client.status,
    "industry": Client.industry,
    "country": Client.country,
    "plan": Client.plan,
    "health": Client.health_score,
    "gmv": Client.gmv_30d_ref,
    "last_contact": Client.last_contact_at,
    "renewal": Client.renewal_date,
}
# P2: the health filter's choices besides the bands: clients the sweep has not scored yet;
# and the GMV band filter's: stores with no GMV known in the reference currency.
NOT_SCORED = "none"
NO_GMV = "none"
HEALTH_CHOICES = frozenset(band.value for band in HealthBand) | {NOT_SCORED}


@dataclass(frozen=True)
class ClientFilters:
    """What the client list is asked for; also the query string it pushes to the URL."""

    q: str = ""
    status: str = ""
    # The account manager: chosen by id (a link from the team page), or typed, any part of
    # the name (the filter's type-ahead, or its plain text box without JavaScript).
    acm_id: int | None = None
    acm_name: str = ""
    country: str = ""
    plan: str = ""
    industry: str = ""
    health: str = ""
    gmv: str = ""
    sort: str = "name"
    direction: str = "asc"
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> ClientFilters:
        sort = args.get("sort", "name")
        direction = args.get("direction", "asc")
        acm = validation.query_text(args.get("acm"), max_length=120)
        return cls(
            q=validation.query_text(args.get("q")),
            status=args.get("status", "") if args.get("status") in LIST_STATUSES else "",
            acm_id=validation.query_number(acm, default=None) if acm.isdigit() else None,
            acm_name="" if acm.isdigit() else acm,
            country=validation.query_text(args.get("country"), max_length=2).upper(),
            plan=args.get("plan", "") if args.get("plan") in PLANS else "",
            industry=validation.query_text(args.get("industry"), max_length=120),
            health=args.get("health", "") if args.get("health") in HEALTH_CHOICES else "",
            gmv=_gmv_choice(args.get("gmv")),
            sort=sort if sort in SORTS else "name",
            direction=direction if direction in ("asc", "desc") else "asc",
            page=validation.query_number(args.get("page"), default=1) or 1,
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """The non-default parameters, with `changes` applied (links for sort and pages)."""
        values = {
            "q": self.q,
            "status": self.status,
            "acm": self.acm_id or self.acm_name,
            "country": self.country,
            "plan": self.plan,
            "industry": self.industry,
            "health": self.health,
            "gmv": self.gmv,
            "sort": self.sort,
            "direction": self.direction,
            "page": self.page,
        }
        values.update(changes)
        defaults = {"sort": "name", "direction": "asc", "page": 1}
        return {k: v for k, v in values.items() if v not in (None, "") and defaults.get(k) != v}

    @property
    def too_short(self) -> bool:
        """The search text is too short to look for (it would read every client)."""
        return 0 < len(self.q) < search.MIN_LENGTH


def _gmv_choice(value: str | None) -> str:
    """The GMV band filter as asked: a band's number, NO_GMV, or "" (any). A number past
    the last band filters nothing (`_segment_clauses`)."""
    if value == NO_GMV:
        return NO_GMV
    number = validation.query_number(value, default=None, high=100)
    return "" if number is None else str(number)


def _segment_clauses(filters: ClientFilters) -> list[ColumnElement[bool]]:
    """P2: the segmentation filters (industry, health band, GMV band) as clauses."""
    clauses: list[ColumnElement[bool]] = []
    if filters.industry:
        clauses.append(Client.industry == filters.industry)
    if filters.health == NOT_SCORED:
        clauses.append(Client.health_score.is_(None))
    elif filters.health:
        band = HealthBand(filters.health)
        clauses.append(Client.health_score.between(band.lowest, band.highest))
    if filters.gmv == NO_GMV:
        clauses.append(Client.gmv_30d_ref.is_(None))
    elif (band := gmv_bands.band(int(filters.gmv or 0))) is not None:
        clauses.append(Client.gmv_30d_ref >= band.low)
        if band.high is not None:
            clauses.append(Client.gmv_30d_ref < band.high)
    return clauses


def industries(viewer: User) -> list[str]:
    """The industries of the clients `viewer` may see, for the client list's filter: off
    the industry index a value at a time for an admin (every client), over their own
    clients for anyone else."""
    reach = access.reach_of(viewer)
    if reach.everyone:
        return database.each_value(Client.industry)
    return list(
        db.session.scalars(
            select(Client.industry)
            .where(reach.clients_clause(), Client.industry.is_not(None))
            .distinct()
            .order_by(Client.industry)
        )
    )


def _list_clauses(viewer: User, filters: ClientFilters) -> list[ColumnElement[bool]]:
    """The client list's filters, the search text aside: what `viewer` may see, as asked."""
    clauses = [access.visible_clients_clause(viewer)]
    if not filters.status:
        clauses.append(Client.status != LifecycleStatus.CHURNED.value)
    elif filters.status != ALL_STATUSES:
        clauses.append(Client.status == filters.status)
    if filters.acm_id:
        clauses.append(Client.acm_id == filters.acm_id)
    elif filters.acm_name:
        clauses.append(
            Client.acm_id.in_(select(User.id).where(search.contains(User.name, filters.acm_name)))
        )
    if filters.country:
        clauses.append(Client.country == filters.country)
    if filters.plan:
        clauses.append(Client.plan == filters.plan)
    return clauses + _segment_clauses(filters)


def _found(viewer: User, filters: ClientFilters) -> CTE:
    """The clients the search text finds among the list's filters, with their sort key:
    by store name or code, or by a contact's name, email or phone (issue 17: one set of
    ids for the page and the count; each part an index can answer, trigram indexes on
    PostgreSQL, rather than a contacts lookup per client)."""
    clauses = _list_clauses(viewer, filters)
    key = SORTS[filters.sort].label("sort_key")
    by_store = select(Client.id, key).where(
        or_(
            search.contains(Client.store_name, filters.q),
            search.contains(Client.store_code, filters.q),
        ),
        *clauses,
    )
    by_contact = (
        select(Client.id, key)
        .join(Contact, Contact.client_id == Client.id)
        .where(
            or_(
                search.contains(Contact.name, filters.q),
                search.contains(Contact.email, filters.q),
                search.contains(Contact.phone, filters.q),
            ),
            *clauses,
        )
    )
    return union(by_store, by_contact).cte("found")


def _order(key: Any, client_id: Any, filters: ClientFilters) -> tuple[Any, ...]:
    """The list's order: by `key` in the direction asked, a client with no value (never
    contacted, not scored) counting as the smallest; then by id the same way, so that each
    order is one an index walks (ix_clients_store_name, ix_clients_last_contact_order)."""
    nullable = SORTS[filters.sort].expression.nullable
    if filters.direction == "asc":
        return (key.asc().nulls_first() if nullable else key.asc(), client_id.asc())
    return (key.desc().nulls_last() if nullable else key.desc(), client_id.desc())


def client_list_query(viewer: User, filters: ClientFilters) -> Select[tuple[Client]]:
    """The clients `viewer` may see, filtered and sorted (one query, ACMs joined). A search
    text shorter than search.MIN_LENGTH finds nothing."""
    query = select(Client).options(joinedload(Client.acm)).where(*_list_clauses(viewer, filters))
    if filters.too_short:
        query = query.where(false())
    elif filters.q:
        query = query.where(Client.id.in_(select(_found(viewer, filters).c.id)))
    return query.order_by(*_order(SORTS[filters.sort], Client.id, filters))


class ClientPage(Pagination):
    """A page of the client list and how many clients the list holds in all."""

    def _query_items(self) -> list[Any]:
        items, self._total = self._query_args["fetch"](
            offset=(self.page - 1) * self.per_page, limit=self.per_page
        )
        return items

    def _query_count(self) -> int:
        if self._total is None:
            self._total = self._query_args["count_all"]()
        return self._total


def search_clients(viewer: User, filters: ClientFilters, *, per_page: int) -> ClientPage:
    """A page of the client list (P2). Without search text: the page read in the list's
    order and a count. With it: the page and the count in one statement, over the ids the
    text finds. A text shorter than search.MIN_LENGTH runs no query and finds nothing."""
    if filters.too_short:
        return ClientPage(
            page=1, per_page=per_page, error_out=False, fetch=lambda **_: ([], 0), count_all=int
        )
    if not filters.q:
        clauses = _list_clauses(viewer, filters)

        def fetch(*, offset: int, limit: int) -> tuple[list[Client], None]:
            query = (
                select(Client)
                .options(joinedload(Client.acm))
                .where(*clauses)
                .order_by(*_order(SORTS[filters.sort], Client.id, filters))
                .offset(offset)
                .limit(limit)
            )
            return list(db.session.scalars(query)), None

        def count() -> int:
            return db.session.scalar(select(func.count()).select_from(Client).where(*clauses))

        return ClientPage(
            page=filters.page, per_page=per_page, error_out=False, fetch=fetch, count_all=count
        )

    found = _found(viewer, filters)
    total = select(func.count()).select_from(found).scalar_subquery()

    def fetch_found(*, offset: int, limit: int) -> tuple[list[Client], int | None]:
        page_ids = (
            select(found.c.id, found.c.sort_key)
            .order_by(*_order(found.c.sort_key, found.c.id, filters))
            .offset(offset)
            .limit(limit)
            .subquery()
        )
        rows = db.session.execute(
            select(Client, total)
            .options(joinedload(Client.acm))
            .join(page_ids, page_ids.c.id == Client.id)
            .order_by(*_order(page_ids.c.sort_key, page_ids.c.id, filters))
        ).all()
        # Past the last page there is no row to carry the total: counted apart then.
        return [client for client, _ in rows], (rows[0][1] if rows else None)

    def count_found() -> int:
        return db.session.scalar(select(func.count()).select_from(found))

    return ClientPage(
        page=filters.page,
        per_page=per_page,
        error_out=False,
        fetch=fetch_found,
        count_all=count_found,
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


def check_profile(profile: ClientProfile) -> None:
    """The checks `create_client` makes of a new client's profile, nothing written (a CSV
    import's preview). Raises ValidationError as `create_client` would."""
    _clean_profile(profile, client_id=None)


# How far ahead a subscription may start (a contract signed for a later date), and a
# renewal date may lie after it (the longest term sold).
SUBSCRIPTION_AHEAD = timedelta(days=366)
LONGEST_TERM = timedelta(days=5 * 366)


def _check_subscription_dates(
    subscribed_at: datetime | None, renewal_date: date | None, zone: str
) -> None:
    """A subscription from 2000 to a year from now; a renewal after it, within five years."""
    # The client's calendar; UTC's while the zone typed is refused on its own field.
    zone = zone if clock.is_timezone(zone) else "UTC"
    today = clock.today(zone)
    subscribed_on = None
    if subscribed_at is not None:
        subscribed_on = clock.today(zone, at=subscribed_at)
        validation.date_between(
            subscribed_on,
            field="subscribed_on",
            latest=today + SUBSCRIPTION_AHEAD,
            message="A subscription date from 2000 to a year from now.",
        )
    if renewal_date is not None:
        earliest = subscribed_on + timedelta(days=1) if subscribed_on else None
        validation.date_between(
            renewal_date,
            field="renewal_date",
            earliest=earliest or validation.EARLIEST_DATE,
            latest=(subscribed_on or today) + LONGEST_TERM,
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


def _churn_dates(client: Client, *, previous_status: str) -> None:
    """A client marked churned by hand counts in the monthly churn from now (a confirmed
    cancellation says why: services/churn.py); one brought back is churned no more."""
    churned = LifecycleStatus.CHURNED.value
    if client.status == churned and previous_status != churned:
        client.churned_at = clock.now()
        client.churn_reason = client.churn_reason or "Marked churned on the client's profile"
    elif client.status != churned and previous_status == churned:
        client.churned_at = None
        client.churn_reason = None


def update_client(client: Client, profile: ClientProfile, *, actor: User) -> dict[str, tuple]:
    """Change a client's profile; returns the changed fields (nothing recorded if none)."""
    before = timeline.snapshot(client, PROFILE_FIELDS)
    values = _clean_profile(profile, client_id=client.id)
    onboarding.check_status_change(client, values["status"])
    for name, value in values.items():
        setattr(client, name, value)
    onboarding.status_changed(client, previous_status=before["status"], actor=actor)
    _churn_dates(client, previous_status=before["status"])
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
            events.calendar_changed.send(
                client,
                clients=[client],
                actor=actor,
                reason="the client's time zone or country changed",
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
    events.calendar_changed.send(
        client, clients=[client], actor=actor, reason=f"reassigned to {new_acm.name}"
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


def check_contact(client: Client, details: ContactDetails) -> None:
    """The checks `add_contact` makes, nothing written (a CSV import's preview). Raises
    ValidationError as `add_contact` would."""
    _clean_contact(client, details)


def _make_only_primary(client: Client, contact: Contact, actor: User) -> None:
    """One primary contact per client; a change of point of contact is recorded (P5)."""
    previous = [c for c in client.contacts if c.is_primary and c is not contact]
    for other in previous:
        other.is_primary = False
    if previous:
        handover = handovers.owe_handover(client, previous[0], contact, actor=actor, at=clock.now())
        timeline.record(
            client,
            TimelineKind.CONTACT_UPDATED,
            actor=actor,
            summary=(
                f"Point of contact changed from {previous[0].name} to {contact.name}; "
                "a hand-over meeting is owed by ",
                handover.due_at,
            ),
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
