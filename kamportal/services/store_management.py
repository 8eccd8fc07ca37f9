"""The Online Store Manager (F6): for clients whose plan includes one, the seed's
store-manager duties as recurring activities, each owed once per period of its frequency,
and the client's data-entry requests, each due within the SLA of its size.

A duty's period is the client's day, week or month: the week starts on the first working
day of the client's team week (Sunday for a Sunday-Thursday team, Monday otherwise), and a
daily duty is owed on business days only. Marking a duty owed done records it for its
current period, once. A data-entry request is due DATA_ENTRY_SLA_HOURS[size] business
hours after it was logged, on the client's team calendar (recounted when it changes); late
after that until done.

Who: a client's store manager (a user with the store_manager role, assigned by the
client's team leader or an admin) does the duties and the requests; the client's ACM and
leader see them and log requests the client sends them; admins everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, select, true

from kamportal import clock
from kamportal.config import data_entry_sla_hours
from kamportal.errors import NotAllowed, ValidationError
from kamportal.extensions import db
from kamportal.models import (
    Client,
    DataEntryRequest,
    DutyDone,
    EntrySize,
    LifecycleStatus,
    Role,
    TimelineKind,
    User,
)
from kamportal.services import access, calendar, notifications, timeline, validation

DAILY, WEEKLY, MONTHLY = "daily", "weekly", "monthly"
FREQUENCY_LABELS = {DAILY: "Every day", WEEKLY: "Every week", MONTHLY: "Every month"}
TEXT_MAX = 2000


@dataclass(frozen=True)
class Duty:
    key: str
    title: str
    frequency: str


# The seed's "Store Manager Activities", each with how often it is owed. Data-entry
# requests are not a duty: each is a request with its own SLA.
DUTIES = (
    Duty(
        "customer_care",
        "Customers' pre- and post-sales inquiries, order tracking and complaints",
        DAILY,
    ),
    Duty("store_operations", "Store operations: stock levels, new orders, returns", DAILY),
    Duty(
        "merchant_requests",
        "Merchants' inquiries, requests and complaints (multi-vendor stores)",
        DAILY,
    ),
    Duty(
        "internal_alignment",
        "Align with the ACM, professional services and other teams on the client's requests",
        WEEKLY,
    ),
    Duty(
        "external_communication",
        "Speak to outside parties on the client's behalf, as the subscription allows",
        WEEKLY,
    ),
    Duty("seo_catalogue", "An SEO-friendly catalogue: products, descriptions, categories", WEEKLY),
    Duty(
        "brand_reputation",
        "Brand integrity and reputation online: monitor and enforce the policies",
        WEEKLY,
    ),
    Duty("vendor_relationships", "Account and vendor relationships, day to day", WEEKLY),
    Duty(
        "sop_review",
        "Store activities by the client's SOPs; repeating problems to permanent fixes",
        WEEKLY,
    ),
    Duty("consultation", "Advise the client on running the store day to day", WEEKLY),
    Duty("store_settings", "General store settings: maintenance and adjustments", MONTHLY),
    Duty("cltv_strategy", "Strategies to raise the store customers' lifetime value", MONTHLY),
    Duty(
        "performance_practices",
        "Best practice for the store's performance and speed (plugins, apps)",
        MONTHLY,
    ),
    Duty(
        "industry_trends",
        "The store's industry trends and competitors, shared with the client",
        MONTHLY,
    ),
)
DUTIES_BY_KEY = {duty.key: duty for duty in DUTIES}


# --- Periods --------------------------------------------------------------------------------


def period_start(frequency: str, today: date, *, week_starts: int) -> date:
    """The first day of the period of `frequency` that `today` falls in; `week_starts` is
    an ISO weekday (7: Sunday)."""
    if frequency == DAILY:
        return today
    if frequency == WEEKLY:
        return today - timedelta(days=(today.isoweekday() - week_starts) % 7)
    return today.replace(day=1)


def week_starts(business: calendar.BusinessCalendar) -> int:
    """Sunday for a team working on Sunday, Monday otherwise."""
    return 7 if 7 in business.working_weekdays else 1


def owed_period(duty: Duty, today: date, business: calendar.BusinessCalendar) -> date | None:
    """The first day of the period `duty` is owed for on `today`, or None when it is not
    owed that day (a daily duty on a day off)."""
    if duty.frequency == DAILY and not business.is_business_day(today):
        return None
    return period_start(duty.frequency, today, week_starts=week_starts(business))


# --- Who ------------------------------------------------------------------------------------


def managed_clause(user: User) -> ColumnElement[bool]:
    """The clients whose store-manager work `user` sees on their page: a store manager's
    own, every store-managed client for an admin."""
    live = and_(Client.has_store_manager.is_(True), Client.status != LifecycleStatus.CHURNED.value)
    if user.has_role(Role.ADMIN):
        return and_(live, true())
    return and_(live, Client.store_manager_id == user.id)


def can_see_store_work(user: User, client: Client) -> bool:
    return client.store_manager_id == user.id or access.can_see_client(user, client)


def check_does_duties(user: User, client: Client) -> None:
    """Duties are done by the client's store manager (or an admin)."""
    if not (client.store_manager_id == user.id or user.has_role(Role.ADMIN)):
        raise NotAllowed("Only the client's store manager marks its duties done.")


def check_handles_requests(user: User, client: Client) -> None:
    """Data-entry requests: logged and done by the store manager, logged by the ACM too."""
    if not (client.store_manager_id == user.id or access.can_work_on_client(user, client)):
        raise NotAllowed("You do not work on this client.")


def store_managers() -> list[User]:
    return notifications.users_with(Role.STORE_MANAGER)


def assign_store_manager(client: Client, manager: User | None, *, actor: User) -> None:
    """The client's team leader or an admin names its store manager (or none)."""
    if not access.can_reassign_client(actor, client):
        raise NotAllowed("Only the client's team leader or an admin assigns its store manager.")
    if not client.has_store_manager:
        raise ValidationError("This client's plan has no Online Store Manager.")
    if manager is not None and not (manager.active and manager.has_role(Role.STORE_MANAGER)):
        raise ValidationError("Choose a store manager.", field="store_manager_id")
    if manager is not None and manager.id == client.store_manager_id:
        raise ValidationError(
            f"{manager.name} is its store manager already.", field="store_manager_id"
        )
    client.store_manager = manager
    client.store_manager_id = manager.id if manager is not None else None
    timeline.record(
        client,
        TimelineKind.STORE_MANAGER_ASSIGNED,
        actor=actor,
        summary=f"Store manager: {manager.name}" if manager else "Store manager removed",
        detail={"store_manager_id": manager.id if manager else None},
    )


# --- Duties ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DutyState:
    """A duty of a client in its current period: done (with the record) or owed."""

    client: Client
    duty: Duty
    period_start: date
    done: DutyDone | None

    @property
    def owed(self) -> bool:
        return self.done is None


def duty_states(clients: list[Client], *, now: datetime) -> list[DutyState]:
    """Every duty of these clients in its current period (daily ones on business days
    only), in two queries whatever their number: the calendars, then what is done."""
    calendar_of = calendar.CalendarCache()
    wanted: list[tuple[Client, Duty, date]] = []
    for client in clients:
        business = calendar_of(client)
        today = clock.today(client.timezone, at=now)
        for duty in DUTIES:
            if (start := owed_period(duty, today, business)) is not None:
                wanted.append((client, duty, start))
    if not wanted:
        return []
    done = {
        (row.client_id, row.duty, row.period_start): row
        for row in db.session.scalars(
            select(DutyDone).where(
                DutyDone.client_id.in_({client.id for client, _, _ in wanted}),
                DutyDone.period_start >= min(start for _, _, start in wanted),
            )
        )
    }
    return [
        DutyState(client, duty, start, done.get((client.id, duty.key, start)))
        for client, duty, start in wanted
    ]


def mark_done(client: Client, duty_key: str, *, actor: User, note: str = "") -> DutyDone:
    """F6: a duty owed now is done for its current period, once."""
    check_does_duties(actor, client)
    if not client.has_store_manager:
        raise ValidationError("This client's plan has no Online Store Manager.")
    duty = DUTIES_BY_KEY.get(duty_key)
    if duty is None:
        raise ValidationError("Choose a duty owed now.", field="duty")
    text = validation.typed_text(note, field="note", max_length=TEXT_MAX).strip()
    now = clock.now()
    start = owed_period(
        duty, clock.today(client.timezone, at=now), calendar.calendar_for_client(client)
    )
    if start is None:
        raise ValidationError(
            f"“{duty.title}” is not owed today: not a business day.", field="duty"
        )
    already = db.session.scalar(
        select(DutyDone.id).where(
            DutyDone.client_id == client.id,
            DutyDone.duty == duty.key,
            DutyDone.period_start == start,
        )
    )
    if already is not None:
        raise ValidationError(f"“{duty.title}” is done for this period already.", field="duty")
    row = DutyDone(
        client=client,
        duty=duty.key,
        period_start=start,
        done_at=now,
        done_by_id=actor.id,
        note=text or None,
    )
    db.session.add(row)
    timeline.record(
        client,
        TimelineKind.STORE_DUTY_DONE,
        actor=actor,
        summary=f"Store-manager duty done: {duty.title}" + (f" ({text})" if text else ""),
        detail={"duty": duty.key, "period_start": start.isoformat()},
        at=now,
    )
    return row


def done_since(clients: list[Client], since: datetime) -> list[DutyDone]:
    """The duties done on these clients since `since`, the latest first."""
    if not clients:
        return []
    return list(
        db.session.scalars(
            select(DutyDone)
            .where(DutyDone.client_id.in_([c.id for c in clients]), DutyDone.done_at >= since)
            .order_by(DutyDone.done_at.desc())
        )
    )


# --- Data-entry requests --------------------------------------------------------------------


def sla_hours(size: EntrySize) -> int:
    return data_entry_sla_hours(current_app.config["DATA_ENTRY_SLA_HOURS"])[size.value]


def due_at(received_at: datetime, size: EntrySize, business: calendar.BusinessCalendar) -> datetime:
    return business.add_business_hours(received_at, sla_hours(size))


def log_request(client: Client, *, actor: User, description: str, size: str) -> DataEntryRequest:
    """F6: the client asked its store manager for data entry; due within its size's SLA."""
    check_handles_requests(actor, client)
    if not client.has_store_manager:
        raise ValidationError("This client's plan has no Online Store Manager.")
    text = validation.typed_text(
        description, field="description", multiline=True, max_length=TEXT_MAX
    ).strip()
    if not text:
        raise ValidationError("Say what the client asked to be entered.", field="description")
    entry_size = validation.choice(
        EntrySize, size, field="size", message="Choose how big the request is."
    )
    now = clock.now()
    request = DataEntryRequest(
        client=client,
        description=text,
        size=entry_size.value,
        received_at=now,
        due_at=due_at(now, entry_size, calendar.calendar_for_client(client)),
        logged_by_id=actor.id,
    )
    db.session.add(request)
    db.session.flush()
    timeline.record(
        client,
        TimelineKind.DATA_ENTRY_LOGGED,
        actor=actor,
        summary=(f"Data-entry request ({entry_size.value}), due ", request.due_at),
        detail={"request_id": request.id},
        at=now,
    )
    return request


def finish_request(request: DataEntryRequest, *, actor: User, note: str = "") -> DataEntryRequest:
    check_handles_requests(actor, request.client)
    if request.done_at is not None:
        raise ValidationError("This request is done already.")
    text = validation.typed_text(note, field="note", max_length=TEXT_MAX).strip()
    now = clock.now()
    request.done_at, request.done_by_id, request.note = now, actor.id, text or None
    timeline.record(
        request.client,
        TimelineKind.DATA_ENTRY_DONE,
        actor=actor,
        summary="Data-entry request done" + (" late" if now > request.due_at else " in time"),
        detail={"request_id": request.id},
        at=now,
    )
    return request


def open_requests(clients: list[Client]) -> list[DataEntryRequest]:
    """These clients' data-entry requests not done yet, the earliest due first."""
    if not clients:
        return []
    return list(
        db.session.scalars(
            select(DataEntryRequest)
            .where(
                DataEntryRequest.client_id.in_([c.id for c in clients]),
                DataEntryRequest.done_at.is_(None),
            )
            .order_by(DataEntryRequest.due_at, DataEntryRequest.id)
        )
    )


def pending_requests() -> list[DataEntryRequest]:
    """Every open data-entry request with its client (for the calendar recount)."""
    return list(
        db.session.scalars(
            select(DataEntryRequest)
            .join(DataEntryRequest.client)
            .where(DataEntryRequest.done_at.is_(None))
            .order_by(DataEntryRequest.id)
        )
    )


def request_of(request_id: int) -> DataEntryRequest | None:
    return db.session.get(DataEntryRequest, request_id)


# --- The store manager's page and the client page's panel ----------------------------------


@dataclass(frozen=True)
class StoreCard:
    """One client's store-manager work now: its duties this period, its open data-entry
    requests, and what was done in the last week."""

    client: Client
    duties: list[DutyState]
    requests: list[DataEntryRequest]
    done: list[DutyDone]

    @property
    def owed(self) -> list[DutyState]:
        return [state for state in self.duties if state.owed]


RECENT = timedelta(days=7)


def cards(clients: list[Client], *, now: datetime) -> list[StoreCard]:
    """A card per client, in a fixed number of queries whatever their number."""
    states = duty_states(clients, now=now)
    requests = open_requests(clients)
    done = done_since(clients, now - RECENT)
    return [
        StoreCard(
            client,
            [s for s in states if s.client is client],
            [r for r in requests if r.client_id == client.id],
            [d for d in done if d.client_id == client.id],
        )
        for client in clients
    ]


def managed_clients_page(user: User, *, page: int, per_page: int):
    """The clients on `user`'s store-manager page, by name, a page at a time."""
    return db.paginate(
        select(Client).where(managed_clause(user)).order_by(Client.store_name, Client.id),
        page=page,
        per_page=per_page,
        error_out=False,
    )
