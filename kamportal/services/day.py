"""The ACM's day: what one user owes today, each item with its rule and since when.

Plain data for the day page, built straight from the models: today's meetings in the
user's time zone (F3), escalations where the user acts next (E2, E3), welcome emails owed
(O2), renewals waiting for the ACM and invoices past due (R1-R4), minutes owed (G5),
no-reply follow-ups owed after an unanswered call (F2), WhatsApp requests not answered
(G6), clients overdue or due soon for their weekly contact (F1), action items due (G5),
confirmations that failed to send (F3), support tickets past their SLA (G4),
customizations in delivery: late milestones, acceptance to obtain, closure owed (C7), and
stores not selling whose reasons are owed (F4).

The whole day first asks, in one statement, which sections find anything
(`sections_holding`); only those are read, each in one or two queries with its rows
eager-loaded, whatever the portfolio size, and those that grow with time a page at a
time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.orm import contains_eager, joinedload

from kamportal import clock, database
from kamportal.clock import span
from kamportal.extensions import db
from kamportal.models import (
    AccountPlan,
    ActionItem,
    Client,
    ClientReport,
    ContactHandover,
    CustomizationRequest,
    CustomizationStage,
    DeliveryStatus,
    Escalation,
    EscalationStatus,
    Invoice,
    InvoiceStatus,
    LadderStep,
    LifecycleStatus,
    Meeting,
    MeetingStatus,
    Minutes,
    NoReplyLadder,
    OutboxMessage,
    Renewal,
    RenewalStage,
    ReportStatus,
    SupportTicket,
    TimelineEvent,
    User,
    WelcomeEmail,
)
from kamportal.services import (
    access,
    cadence,
    concept_documents,
    contact_log,
    customization_rejection,
    customizations,
    delivery,
    handovers,
    invoices,
    meetings,
    not_selling,
    onboarding,
    paging,
    quotations,
)
from kamportal.services import followups as followups_service
from kamportal.services import minutes as minutes_service
from kamportal.services.calendar import CalendarCache


@dataclass(frozen=True)
class DayItem:
    """One thing on the day: the rule it comes from, the client, and since when it is owed
    (`since` is an instant; `due_on` a date, for action items). `kind` names the item:
    meeting, confirmation, escalation, renewal, invoice, welcome, minutes, no_reply,
    whatsapp, overdue, due_soon, action, support, customization, rejection, concept,
    milestone, acceptance, closure, not_selling, handover, plan_review or client_report;
    where each one's task is done is said in blueprints/day/links.py."""

    kind: str
    rule: str
    title: str
    client: Client
    since: datetime | None = None
    due_on: date | None = None
    note: str = ""
    meeting: Meeting | None = None
    escalation: Escalation | None = None
    customization: CustomizationRequest | None = None

    support_ticket: SupportTicket | None = None
    # How long it has been owed ("3 days 2 h"), or how long is left for what is not yet due.
    age: str = ""
    # Past its due time or day: a welcome email; an unpaid invoice (the client's calendar,
    # R4); an action item (the user's).
    overdue: bool = False
    # Until when something out works (a concept document's link, C5).
    until: datetime | None = None
    # The not-selling alert the item is about (F4).
    alert_id: int | None = None
    # The monthly report to send (P4).
    client_report: ClientReport | None = None
    # What the item's task works on, loaded by the section's own query: the minutes to
    # write (G5), the action item to follow (G5), the renewal (R2, R3), the invoice (R4).
    minutes: Minutes | None = None
    action_item: ActionItem | None = None
    renewal: Renewal | None = None
    invoice: Invoice | None = None


@dataclass(frozen=True)
class Section:
    """A section's items: all of them, or (read a page at a time in SQL) the items of page
    `page` with how many it holds in all (`total`)."""

    name: str
    heading: str
    items: list[DayItem] = field(default_factory=list)
    total: int | None = None
    page: int | None = None


def _section(name: str, items: list[DayItem], read: _Read | None = None) -> Section:
    heading = SECTIONS[name].heading
    if read is None or read.page is None:
        return Section(name, heading, items)
    return Section(name, heading, items, total=read.total, page=read.page)


# A section of the day shows this many items at a time, the most urgent (the longest owed,
# the soonest due) first: a busy portfolio owes hundreds, and no list grows with it.
SECTION_SIZE = 10


@dataclass(frozen=True)
class _Read:
    """What a section's query gave: its rows (an entity alone, or a tuple), all of them
    (`page` None) or one page's, with how many there are in all."""

    rows: list[Any]
    total: int | None = None
    page: int | None = None


def _read(query: Select, page: int | None) -> _Read:
    """`query`'s rows: all of them (`page` None), or page `page` of SECTION_SIZE, counted
    in the same statement (`count(*) OVER ()`: only the page's rows are loaded). A page
    past the last is the last (one statement more, to count)."""
    alone = len(query.column_descriptions) == 1
    if page is None:
        return _Read([row[0] if alone else tuple(row) for row in db.session.execute(query)])
    page = max(page, 1)
    counted = query.add_columns(func.count().over())
    rows = db.session.execute(counted.limit(SECTION_SIZE).offset((page - 1) * SECTION_SIZE)).all()
    if not rows and page > 1:
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        if total:
            return _read(query, -(-total // SECTION_SIZE))
    total = rows[0][-1] if rows else 0
    return _Read([row[0] if alone else tuple(row[:-1]) for row in rows], total, page)


@dataclass(frozen=True)
class SectionPage(paging.PageSteps):
    """One page of a section's items, the pager's way (`page`, `pages`, `has_next`...),
    with how many the section holds in all (`total`). A page past the last is the last."""

    section: Section
    asked: int = 1
    per_page: int = SECTION_SIZE

    @property
    def name(self) -> str:
        return self.section.name

    @property
    def heading(self) -> str:
        return self.section.heading

    @property
    def total(self) -> int:
        if self.section.total is not None:
            return self.section.total
        return len(self.section.items)

    @property
    def page(self) -> int:
        if self.section.page is not None:
            return self.section.page
        return min(max(self.asked, 1), self.pages)

    @property
    def items(self) -> list[DayItem]:
        if self.section.page is not None:
            return self.section.items
        start = (self.page - 1) * self.per_page
        return self.section.items[start : start + self.per_page]


def local_day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC instants of `day`'s local midnight and the next, in `zone` (DST-aware)."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return clock.in_zone(start, "UTC"), clock.in_zone(end, "UTC")


# --- What the day's queries compare to, by name ---------------------------------------------
# Each value a query of the day compares to is a named parameter carrying its value: the
# user and whose clients they see (named by access.Reach and access.own_clients_clause),
# `now` and what follows from it in the user's zone (named here). The sections read with
# the values they were built with; the day's question, built once per process for each
# shape of reach, is asked with this request's (`sections_holding`).


def _parameters(user: User, now: datetime, reach: access.Reach) -> dict[str, Any]:
    """The values of the day's named parameters for `user` at `now`."""
    today = clock.today(user.timezone, at=now)
    start, end = local_day_bounds(today, user.timezone)
    return {
        **reach.parameters(),
        "day_now": now,
        "day_today": today,
        "day_start": start,
        "day_end": end,
        "day_overdue_before": cadence.overdue_before(now),
        "day_due_soon_before": cadence.due_soon_before(now),
    }


def _named(name: str, value: Any, like: Any) -> BindParameter:
    """Parameter `name` of `_parameters`, holding `value`, of the type of column `like`."""
    return bindparam(name, value, type_=like.type)


def _yours(
    reach: access.Reach, ids: Select[tuple[int]], person: ColumnElement[int | None]
) -> ColumnElement[bool]:
    """The WHERE clause of a section's query: of its items (`ids`, selected with the query's
    joins and conditions), those the user runs (`person`) or on a client they manage, and
    never on a client they may no longer see (one reassigned to another ACM): the day's
    own access rule.

    Those on the clients they manage, and (a UNION of ids) those they run on the other
    clients they see: each part served by its own index (the client's ACM, the person).
    Their OR, over two tables, made the planner read every meeting, minutes and action
    item at 50k clients. An ACM sees no other clients: theirs is the first part alone,
    with no UNION."""
    user = access.user_parameter(reach.user_id)
    own = Client.acm_id == user if reach.own else None
    others = reach.others_clause()
    runs = None if others is None else and_(person == user, others)
    if own is not None and runs is not None:
        return ids.selected_columns[0].in_(union(ids.where(own), ids.where(runs)))
    only = own if own is not None else runs if runs is not None else false()
    return and_(ids.whereclause, only)


def _meetings_today_query(user: User, now: datetime, reach: access.Reach) -> Select:
    start, end = local_day_bounds(clock.today(user.timezone, at=now), user.timezone)
    todays = (
        select(Meeting.id)
        .join(Meeting.client)
        .where(
            Meeting.status == MeetingStatus.SCHEDULED.value,
            Meeting.starts_at >= _named("day_start", start, Meeting.starts_at),
            Meeting.starts_at < _named("day_end", end, Meeting.starts_at),
        )
    )
    return (
        select(Meeting)
        .join(Meeting.client)
        .options(contains_eager(Meeting.client))
        .where(_yours(reach, todays, Meeting.organizer_id))
        .order_by(Meeting.starts_at, Meeting.id)
    )


def meetings_today(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """The user's scheduled meetings starting between their local midnight and the next;
    each names whether its confirmation (F3) went out."""
    read = _read(_meetings_today_query(user, now, reach or access.reach_of(user)), page)
    items = []
    for meeting in read.rows:
        confirmed = meeting.confirmed_sequence == meeting.sequence
        items.append(
            DayItem(
                kind="meeting",
                rule="F3",
                title=meeting.meeting_type.label,
                client=meeting.client,
                since=meeting.starts_at,
                note="Confirmation sent" if confirmed else "Confirmation not sent yet",
                meeting=meeting,
            )
        )
    return _section("meetings", items, read)


def _escalations_query(user: User, now: datetime, reach: access.Reach) -> Select:
    acm_acts = and_(
        Client.acm_id == access.user_parameter(user.id),
        Escalation.waiting_for_leader.is_(False),
        or_(Escalation.current_step == LadderStep.CALL.value, Escalation.paused_at.is_not(None)),
    )
    conditions = [acm_acts]
    led = reach.led_clause()
    if led is not None:
        conditions.append(and_(Escalation.waiting_for_leader.is_(True), led))
    return (
        select(Escalation)
        .join(Escalation.client)
        .options(contains_eager(Escalation.client))
        .where(
            Escalation.status == EscalationStatus.OPEN.value,
            or_(*conditions),
            reach.clients_clause(),
        )
        .order_by(Escalation.waiting_for_leader.desc(), Escalation.step_started_at, Escalation.id)
    )


def escalations_to_act_on(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """Open escalations where `user` acts next: as the client's ACM, at the call step or
    once a client reply paused the ladder (E2); as the team's leader, those waiting for
    their decision (E3). The leader's first, then the longest waiting."""
    read = _read(_escalations_query(user, now, reach or access.reach_of(user)), page)
    items = []
    for escalation in read.rows:
        if escalation.waiting_for_leader:
            rule, title, since = "E3", "Escalation waiting for your decision", None
        elif escalation.paused_at is not None:
            rule, title, since = "E2", "Escalation paused: the client replied", escalation.paused_at
        else:
            rule, title, since = "E2", "Escalation: call the client", None
        since = since or escalation.step_started_at
        items.append(
            DayItem(
                "escalation",
                rule,
                title,
                escalation.client,
                since=since,
                note=escalation.escalation_trigger.label,
                escalation=escalation,
                age=span(now - since),
            )
        )
    return _section("escalations", items, read)


# What the ACM does next on a renewal (R2, R3), by stage: the rule, the item, since when.
_RENEWAL_NEXT = {
    RenewalStage.DUE.value: ("R2", "Renewal due: notify the client", "opened_at"),
    RenewalStage.NOTIFIED.value: ("R2", "Renewal: record the client's confirmation", "notified_at"),
    RenewalStage.CONFIRMED.value: ("R3", "Renewal confirmed: create the invoice", "confirmed_at"),
}


def _renewals_queries(user: User) -> tuple[Select, Select]:
    """The renewals waiting for the ACM (R1-R3), and the unpaid invoices (R4)."""
    waiting = (
        select(Renewal)
        .join(Renewal.client)
        .options(contains_eager(Renewal.client))
        .where(
            access.own_clients_clause(user),
            Renewal.stage.in_(list(_RENEWAL_NEXT)),
        )
        .order_by(Renewal.due_on, Renewal.id)
    )
    unpaid = (
        select(Invoice)
        .join(Invoice.client)
        .options(contains_eager(Invoice.client))
        .where(
            access.own_clients_clause(user),
            Invoice.status == InvoiceStatus.UNPAID.value,
        )
        .order_by(Invoice.due_on, Invoice.id)
    )
    return waiting, unpaid


def renewals_owed(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """The user's clients' renewals waiting for the ACM (R1-R3: notify, confirm, invoice),
    soonest due first, then their unpaid invoices with their age (R4: followed until
    paid), the longest due first."""
    waiting, unpaid = _renewals_queries(user)
    items = []
    for renewal in db.session.scalars(waiting):
        rule, title, since_field = _RENEWAL_NEXT[renewal.stage]
        since = getattr(renewal, since_field) or renewal.opened_at
        items.append(
            DayItem(
                "renewal",
                rule,
                title,
                renewal.client,
                since=since,
                due_on=renewal.due_on,
                note=str(renewal.money),
                renewal=renewal,
            )
        )
    for invoice in db.session.scalars(unpaid):
        items.append(
            DayItem(
                "invoice",
                "R4",
                f"Invoice {invoice.label} unpaid",
                invoice.client,
                since=invoice.issued_at,
                due_on=invoice.due_on,
                note=str(invoice.money),
                age=span(now - invoice.issued_at),
                overdue=invoices.days_overdue(invoice, at=now) > 0,
                invoice=invoice,
            )
        )
    return _section("renewals", items)


def _welcome_query(user: User, now: datetime, reach: access.Reach) -> Select:
    return (
        select(WelcomeEmail)
        .join(WelcomeEmail.client)
        .options(contains_eager(WelcomeEmail.client).joinedload(Client.acm).joinedload(User.team))
        .where(
            onboarding.welcome_owed_clause(),
            reach.managed_or_led_clause(),
        )
        .order_by(WelcomeEmail.due_at, WelcomeEmail.id)
    )


def welcome_emails_owed(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """Welcome emails not sent yet (O2): the user's clients', and as a team's leader the
    team's, soonest due first, each with the business hours left or past on the team's
    calendar."""
    read = _read(_welcome_query(user, now, reach or access.reach_of(user)), page)
    calendars = CalendarCache()
    items = []
    for welcome in read.rows:
        client = welcome.client
        standing = onboarding.welcome_standing(welcome, calendars(client), now=now)
        others = client.acm is not None and client.acm_id != user.id
        items.append(
            DayItem(
                "welcome",
                "O2",
                "Welcome email overdue" if standing.overdue else "Welcome email due",
                client,
                since=welcome.due_at,
                note=f"ACM {client.acm.name}" if others else "",
                age=standing.hours_text,
                overdue=standing.overdue,
            )
        )
    return _section("welcome", items, read)


def _minutes_query(user: User, now: datetime, reach: access.Reach) -> Select:
    owed = select(Minutes.id).join(Minutes.client).where(minutes_service.owed_clause())
    return (
        select(Minutes)
        .join(Minutes.client)
        .options(contains_eager(Minutes.client), joinedload(Minutes.meeting))
        .where(_yours(reach, owed, Minutes.owner_id))
        .order_by(Minutes.owed_since, Minutes.id)
    )


def owed_minutes(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """Minutes the user owes (G5), longest owed first."""
    read = _read(_minutes_query(user, now, reach or access.reach_of(user)), page)
    items = [
        DayItem(
            kind="minutes",
            rule="G5",
            title=(
                f"Minutes of the {minutes.meeting.meeting_type.label.lower()} meeting"
                if minutes.meeting is not None
                else "Minutes of the call"
            ),
            client=minutes.client,
            since=minutes.owed_since,
            meeting=minutes.meeting,
            age=span(now - minutes.owed_since),
            minutes=minutes,
        )
        for minutes in read.rows
    ]
    return _section("minutes", items, read)


def _no_reply_query(user: User, now: datetime) -> Select:
    return (
        select(NoReplyLadder)
        .join(NoReplyLadder.client)
        .options(
            contains_eager(NoReplyLadder.client).selectinload(Client.contacts),
            joinedload(NoReplyLadder.contact),
        )
        .where(
            access.own_clients_clause(user),
            Client.status != LifecycleStatus.CHURNED.value,
            NoReplyLadder.stopped_at.is_(None),
            NoReplyLadder.whatsapp_message_id.is_(None),
            or_(
                NoReplyLadder.email_message_id.is_(None),
                NoReplyLadder.whatsapp_due_at
                <= _named("day_now", now, NoReplyLadder.whatsapp_due_at),
            ),
        )
    )


def no_reply_followups(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """The no-reply follow-ups the user owes on their clients (F2): after an unanswered
    call (a voicemail included), the follow-up email not sent yet, since the call; once it
    went, the WhatsApp reminder past its due time and not sent, since then. A ladder the
    client's reply (on any channel) or a missing WhatsApp number stopped, or done, is not
    owed; nor one of a churned client. The longest owed first."""
    items = []
    for ladder in db.session.scalars(_no_reply_query(user, now)):
        called = ladder.contact.name if ladder.contact else "the client"
        if ladder.email_message_id is None:
            to = followups_service.email_recipient(ladder)
            note = f"Called {called}" + ("" if to else "; no contact has an email address: add one")
            title, since = "Call not answered: send the follow-up email", ladder.started_at
        else:
            to = followups_service.whatsapp_recipient(ladder)
            note = (
                f"Asks {to.name} to check the follow-up email"
                if to
                else "No contact has a WhatsApp number"
            )
            title, since = "No reply: the WhatsApp reminder is due", ladder.whatsapp_due_at
        items.append(
            DayItem(
                "no_reply",
                "F2",
                title,
                ladder.client,
                since=since,
                note=note,
                age=span(now - since),
            )
        )
    items.sort(key=lambda item: (item.since, item.client.id))
    return _section("no_reply", items)


def _whatsapp_query(user: User, now: datetime, reach: access.Reach) -> Select:
    return (
        contact_log.unanswered_whatsapp_query()
        .options(joinedload(Client.acm))
        .where(reach.managed_or_led_clause())
        .order_by(TimelineEvent.at, TimelineEvent.id)
    )


def whatsapp_requests(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """WhatsApp requests logged and not answered yet with the template reply that
    redirects to email (G6): the user's clients', and as a team's leader the team's (with
    their ACM), the longest waiting first, with their age."""
    read = _read(_whatsapp_query(user, now, reach or access.reach_of(user)), page)
    items = []
    for request, client in read.rows:
        message = (request.detail or {}).get("message", "")
        others = client.acm is not None and client.acm_id != user.id
        note = f"“{message[:120]}”" if message else ""
        if others:
            note = f"{note} · ACM {client.acm.name}" if note else f"ACM {client.acm.name}"
        items.append(
            DayItem(
                "whatsapp",
                "G6",
                "WhatsApp request not answered",
                client,
                since=request.at,
                note=note,
                age=span(now - request.at),
            )
        )
    return _section("whatsapp", items, read)


def _followups_query(user: User, now: datetime) -> Select:
    contacted = Client.last_contact_at
    overdue_by = _named("day_overdue_before", cadence.overdue_before(now), contacted)
    soon_by = _named("day_due_soon_before", cadence.due_soon_before(now), contacted)
    # The longest without contact first: those never contacted, then those whose week ran
    # out, then those whose week runs out soon.
    return (
        select(Client)
        .where(
            Client.acm_id == access.user_parameter(user.id),
            or_(cadence.overdue_since(overdue_by), cadence.due_soon_between(overdue_by, soon_by)),
        )
        .order_by(Client.last_contact_at.asc().nulls_first(), Client.store_name, Client.id)
    )


def followups(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """The user's own live and at-risk clients overdue for their weekly contact, then those
    due soon (F1); one query for both, a page at a time: an ACM may owe dozens."""
    read = _read(_followups_query(user, now), page)
    items = []
    for client in read.rows:
        since = cadence.due_at(client)
        if since <= now:
            items.append(
                DayItem(
                    "overdue",
                    "F1",
                    "Weekly contact overdue",
                    client,
                    since=since,
                    age=span(now - since),
                    overdue=True,
                )
            )
        else:
            items.append(
                DayItem(
                    "due_soon",
                    "F1",
                    "Weekly contact due soon",
                    client,
                    since=since,
                    age=span(since - now),
                )
            )
    return _section("followups", items, read)


def _actions_query(user: User, now: datetime, reach: access.Reach) -> Select:
    today = clock.today(user.timezone, at=now)
    due = (
        select(ActionItem.id)
        .join(ActionItem.minutes)
        .join(ActionItem.client)
        .where(
            ActionItem.done_at.is_(None),
            ActionItem.due_on <= _named("day_today", today, ActionItem.due_on),
        )
    )
    return (
        select(ActionItem)
        .join(ActionItem.minutes)
        .join(ActionItem.client)
        .options(contains_eager(ActionItem.client))
        .where(_yours(reach, due, Minutes.owner_id))
        .order_by(ActionItem.due_on, ActionItem.id)
    )


def actions_due(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """Action items agreed in minutes (G5), due by the user's today and not done, from the
    user's minutes or on the user's clients."""
    today = clock.today(user.timezone, at=now)
    read = _read(_actions_query(user, now, reach or access.reach_of(user)), page)
    items = []
    for action in read.rows:
        owner = action.action_owner.label
        if action.owner_team:
            owner = f"{owner}: {action.owner_team}"
        items.append(
            DayItem(
                "action",
                "G5",
                action.description,
                action.client,
                due_on=action.due_on,
                note=owner,
                overdue=action.due_on < today,
                action_item=action,
            )
        )
    return _section("actions", items, read)


def _confirmations_queries(user: User, now: datetime, reach: access.Reach) -> tuple[Select, Select]:
    """The user's meetings due to be confirmed and not confirmed, and those whose
    confirmation failed to send (F3)."""
    due = (
        select(Meeting.id)
        .join(Meeting.client)
        .where(
            meetings.unconfirmed_clause(),
            Meeting.confirmation_due_at <= _named("day_now", now, Meeting.confirmation_due_at),
        )
    )
    unsent = (
        select(Meeting)
        .join(Meeting.client)
        .options(contains_eager(Meeting.client))
        .where(_yours(reach, due, Meeting.organizer_id))
    )
    scheduled = (
        select(Meeting.id)
        .join(Meeting.client)
        .where(Meeting.status == MeetingStatus.SCHEDULED.value)
    )
    failed = (
        select(Meeting, OutboxMessage.created_at)
        .join(TimelineEvent, meetings.confirmation_event_clause())
        .join(OutboxMessage, OutboxMessage.id == TimelineEvent.outbox_message_id)
        .join(Meeting.client)
        .options(contains_eager(Meeting.client))
        .where(
            OutboxMessage.status == DeliveryStatus.FAILED.value,
            _yours(reach, scheduled, Meeting.organizer_id),
        )
    )
    return unsent, failed


def failed_confirmations(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """The user's scheduled meetings whose confirmation (F3) did not go out: due and not
    confirmed for the current sequence, or its email failed in the outbox.

    The outbox side reads the MEETING_CONFIRMED timeline event that carries the message,
    with the meeting's id and sequence in its detail: only the current version counts."""
    unsent, failed = _confirmations_queries(user, now, reach or access.reach_of(user))
    since: dict[int, tuple[Meeting, datetime, str]] = {}
    for meeting in db.session.scalars(unsent):
        since[meeting.id] = (meeting, meeting.confirmation_due_at, "Due and not sent")
    for meeting, failed_at in db.session.execute(failed):
        if meeting.id not in since:
            since[meeting.id] = (meeting, failed_at, "The email failed to send")
    items = [
        DayItem(
            "confirmation",
            "F3",
            f"Confirmation of the {meeting.meeting_type.label.lower()} meeting",
            meeting.client,
            since=at,
            note=note,
            meeting=meeting,
            age=span(now - at),
        )
        for meeting, at, note in sorted(since.values(), key=lambda row: (row[1], row[0].id))
    ]
    return _section("confirmations", items)


def customizations_owed(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """The user's clients' customization requests: awaiting product's decision, with its
    48-hour clock (C2), or on hold until the ACM answers what product asked (C3)."""
    items = []
    for request in customizations.awaiting_of(user):
        decision_clock = customizations.decision_clock(request, now=now)
        if decision_clock is not None:
            title = f"Customization {request.reference}: awaiting product's decision"
            rule, since, note = "C2", request.clock_started_at, decision_clock.text
            overdue = decision_clock.overdue
        else:
            title = f"Customization {request.reference} on hold: answer product"
            rule, since, note = (
                "C3",
                request.decided_at or request.opened_at,
                request.decision_reason or "",
            )
            overdue = False
        items.append(
            DayItem(
                "customization",
                rule,
                title,
                request.client,
                since=since,
                note=note,
                customization=request,
                age=span(now - since),
                overdue=overdue,
            )
        )
    return _section("customizations", items)


def customization_invoices_owed(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """C6: the user's clients' customization requests whose concept document the client
    approved: the invoice is owed."""
    items = [
        DayItem(
            "customization",
            "C6",
            f"Customization {request.reference}: issue the invoice",
            request.client,
            since=request.opened_at,
            customization=request,
        )
        for request in quotations.invoices_owed_by(user)
    ]
    return _section("customization_invoices", items)


def _support_query(user: User, now: datetime, reach: access.Reach) -> Select:
    past_sla = (
        select(SupportTicket.id)
        .join(SupportTicket.client)
        .where(
            SupportTicket.closed_at.is_(None),
            SupportTicket.sla_due_at <= _named("day_now", now, SupportTicket.sla_due_at),
        )
    )
    return (
        select(SupportTicket)
        .join(SupportTicket.client)
        .options(contains_eager(SupportTicket.client))
        .where(_yours(reach, past_sla, SupportTicket.opened_by_id))
        .order_by(SupportTicket.sla_due_at, SupportTicket.id)
    )


def support_tickets_past_sla(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """G4: the user's clients' support tickets still open after their SLA ran out, the
    longest past it first."""
    read = _read(_support_query(user, now, reach or access.reach_of(user)), page)
    items = [
        DayItem(
            "support",
            "G4",
            f"Support ticket {ticket.ticket_key} past its SLA",
            ticket.client,
            since=ticket.sla_due_at,
            note=f"{ticket.priority} · {ticket.status} · {ticket.summary}",
            support_ticket=ticket,
            age=span(now - ticket.sla_due_at),
            overdue=True,
        )
        for ticket in read.rows
    ]
    return _section("support", items, read)


def rejections_owed(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """C3: the user's clients' rejected customization requests whose reason is not sent to
    the client yet, the oldest decision first."""
    items = [
        DayItem(
            "rejection",
            "C3",
            f"Customization {request.reference} rejected: send the reason to the client",
            request.client,
            since=request.decided_at,
            note=request.decision_reason or "",
            customization=request,
            age=span(now - (request.decided_at or now)),
        )
        for request in customization_rejection.owed_of(user)
    ]
    return _section("rejections", items)


def concept_documents_owed(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """C5: the user's clients' concept documents to write, to send (or send again: changed,
    withdrawn or expired), or sent and waiting for the client, with the link's expiry."""
    items = []
    for owed in concept_documents.owed_by(user, now=now):
        request, standing = owed.request, owed.standing
        concept = request.concept
        since = (
            standing.link.sent_at
            if standing.state == "sent" and standing.link is not None
            else concept.updated_at
            if concept is not None
            else request.estimated_at or request.priced_at or request.opened_at
        )
        items.append(
            DayItem(
                "concept",
                "C5",
                f"Concept document of {request.reference}",
                request.client,
                since=since,
                note=standing.label,
                customization=request,
                age=span(now - since),
                overdue=standing.state == "expired",
                until=standing.expires_at if standing.state in ("sent", "expired") else None,
            )
        )
    return _section("concepts", items)


def customization_delivery(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """C7: the user's clients' customizations in delivery: each milestone late (not done,
    due before the client's today), since the client's midnight after its due date; the
    client's acceptance to obtain once every milestone is done; the closure owed once the
    client accepted. The longest owed first."""
    items = []
    for delivering in delivery.delivering_of(user, now=now):
        request, progress = delivering.request, delivering.progress
        client = request.client
        if request.stage == CustomizationStage.CLOSING.value and request.accepted_at:
            items.append(
                DayItem(
                    "closure",
                    "C7",
                    f"Customization {request.reference} accepted: close it",
                    client,
                    since=request.accepted_at,
                    note="Closing sends the satisfaction survey",
                    customization=request,
                    age=span(now - request.accepted_at),
                )
            )
        elif progress.all_done:
            since = max(m.done_at or request.opened_at for m in request.milestones)
            link = delivering.acceptance_link
            note = "Send the acceptance link, or record the client's acceptance"
            if link is not None and link.used_at is None and link.revoked_at is None:
                expired = now >= link.expires_at
                note = "Acceptance link sent: " + (
                    "expired, send a new one" if expired else "waiting for the client"
                )
            items.append(
                DayItem(
                    "acceptance",
                    "C7",
                    f"Customization {request.reference}: every milestone done, obtain acceptance",
                    client,
                    since=since,
                    note=note,
                    customization=request,
                    age=span(now - since),
                )
            )
        else:
            for milestone in request.milestones:
                if not delivery.is_late(milestone, progress.today):
                    continue
                since = delivery.late_since(milestone, client)
                owner = milestone.owner.name if milestone.owner else "no owner"
                items.append(
                    DayItem(
                        "milestone",
                        "C7",
                        f"Milestone late: {milestone.title}",
                        client,
                        since=since,
                        due_on=milestone.due_on,
                        note=f"{request.reference} · owner: {owner}",
                        customization=request,
                        age=span(now - since),
                        overdue=True,
                    )
                )
    items.sort(key=lambda item: (item.since, item.client.id))
    return _section("delivery", items)


def not_selling_owed(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """F4: the user's clients' not-selling alerts whose reasons and actions are not
    recorded yet, the oldest first (cleared ones too: the reasons are still owed)."""
    items = [
        DayItem(
            "not_selling",
            "F4",
            f"Not selling: {not_selling.CAUSE_LABELS.get(alert.cause, alert.cause)}",
            alert.client,
            since=alert.raised_at,
            note=alert.detail,
            age=span(now - alert.raised_at),
            overdue=alert.cleared_at is None,
            alert_id=alert.id,
        )
        for alert in not_selling.owed_of(user)
    ]
    return _section("not_selling", items)


def _handovers_query(user: User) -> Select:
    return (
        select(ContactHandover)
        .join(ContactHandover.client)
        .options(contains_eager(ContactHandover.client))
        .where(
            ContactHandover.held_at.is_(None),
            Client.status != LifecycleStatus.CHURNED.value,
            access.own_clients_clause(user),
        )
        .order_by(ContactHandover.due_at, ContactHandover.id)
    )


def handovers_owed(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """P5: hand-over meetings owed on the user's clients since their point of contact
    changed, the earliest due first; each says whether the meeting is booked."""
    owed = list(db.session.scalars(_handovers_query(user)))
    booked = handovers.booked_meetings([handover.client_id for handover in owed])
    items = []
    for handover in owed:
        meeting = booked.get(handover.client_id)
        late = now >= handover.due_at
        items.append(
            DayItem(
                "handover",
                "P5",
                f"Hand-over meeting with {handover.to_name} (was {handover.from_name})",
                handover.client,
                since=handover.due_at,
                note="Booked" if meeting is not None else "Book a hand-over meeting",
                meeting=meeting,
                age=span(now - handover.due_at) if late else span(handover.due_at - now),
                overdue=late,
            )
        )
    return _section("handovers", items)


def _plan_reviews_query(user: User, now: datetime) -> Select:
    return (
        select(AccountPlan)
        .join(AccountPlan.client)
        .options(contains_eager(AccountPlan.client))
        .where(
            AccountPlan.next_review_on
            <= _named("day_today", clock.today(user.timezone, at=now), AccountPlan.next_review_on),
            Client.status != LifecycleStatus.CHURNED.value,
            access.own_clients_clause(user),
        )
        .order_by(AccountPlan.next_review_on, AccountPlan.id)
    )


def plan_reviews_owed(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """P1: the quarterly reviews of the user's clients' account plans due by their today,
    the longest due first."""
    today = clock.today(user.timezone, at=now)
    read = _read(_plan_reviews_query(user, now), page)
    items = [
        DayItem(
            "plan_review",
            "P1",
            "Quarterly account plan review",
            plan.client,
            due_on=plan.next_review_on,
            overdue=plan.next_review_on < today,
        )
        for plan in read.rows
    ]
    return _section("plan_reviews", items, read)


def _client_reports_query(user: User) -> Select:
    return (
        select(ClientReport)
        .join(ClientReport.client)
        .options(contains_eager(ClientReport.client))
        .where(
            ClientReport.status == ReportStatus.DRAFT.value,
            Client.status != LifecycleStatus.CHURNED.value,
            access.own_clients_clause(user),
        )
        .order_by(ClientReport.due_at, ClientReport.id)
    )


def client_reports_owed(
    user: User, *, now: datetime, reach: access.Reach | None = None, page: int | None = None
) -> Section:
    """P4: the user's clients' monthly reports drafted and not sent yet, the earliest due
    first; late from their due time (DUE_BUSINESS_DAYS business days after drafting)."""
    read = _read(_client_reports_query(user), page)
    items = []
    for report in read.rows:
        late = now >= report.due_at
        items.append(
            DayItem(
                "client_report",
                "P4",
                f"Monthly report of {report.month:%B %Y}: review and send",
                report.client,
                since=report.due_at,
                note="Commentary written" if report.commentary else "Commentary to write",
                age=span(now - report.due_at) if late else span(report.due_at - now),
                overdue=late,
                client_report=report,
            )
        )
    return _section("client_reports", items, read)


@dataclass(frozen=True)
class DaySection:
    """A section of the day: its heading, how it is built (`build`, taking whose clients
    the user sees, `reach`, and the page to read) and the queries it reads (`reads`):
    asked first, for every section at once, whether they find anything. A section whose
    queries find nothing is not built: most sections of most days are empty, and each
    would cost a round trip or more."""

    heading: str
    build: Callable[..., Section]
    reads: Callable[[User, datetime, access.Reach], Sequence[Select]]


SECTIONS: dict[str, DaySection] = {
    "escalations": DaySection(
        "Escalations",
        escalations_to_act_on,
        lambda user, now, reach: [_escalations_query(user, now, reach)],
    ),
    "welcome": DaySection(
        "Welcome emails",
        welcome_emails_owed,
        lambda user, now, reach: [_welcome_query(user, now, reach)],
    ),
    "meetings": DaySection(
        "Today's meetings",
        meetings_today,
        lambda user, now, reach: [_meetings_today_query(user, now, reach)],
    ),
    "renewals": DaySection(
        "Renewals and unpaid invoices",
        renewals_owed,
        lambda user, now, reach: _renewals_queries(user),
    ),
    "customizations": DaySection(
        "Customization requests",
        customizations_owed,
        lambda user, now, reach: [customizations.awaiting_query(user)],
    ),
    "confirmations": DaySection(
        "Confirmations not sent",
        failed_confirmations,
        lambda user, now, reach: _confirmations_queries(user, now, reach),
    ),
    "minutes": DaySection(
        "Minutes owed", owed_minutes, lambda user, now, reach: [_minutes_query(user, now, reach)]
    ),
    "no_reply": DaySection(
        "No-reply follow-ups",
        no_reply_followups,
        lambda user, now, reach: [_no_reply_query(user, now)],
    ),
    "whatsapp": DaySection(
        "WhatsApp requests to answer",
        whatsapp_requests,
        lambda user, now, reach: [_whatsapp_query(user, now, reach)],
    ),
    "followups": DaySection(
        "Weekly follow-ups", followups, lambda user, now, reach: [_followups_query(user, now)]
    ),
    "actions": DaySection(
        "Action items due", actions_due, lambda user, now, reach: [_actions_query(user, now, reach)]
    ),
    "support": DaySection(
        "Support tickets past their SLA",
        support_tickets_past_sla,
        lambda user, now, reach: [_support_query(user, now, reach)],
    ),
    "rejections": DaySection(
        "Rejections to send",
        rejections_owed,
        lambda user, now, reach: [customization_rejection.owed_query(user)],
    ),
    "customization_invoices": DaySection(
        "Customization invoices owed",
        customization_invoices_owed,
        lambda user, now, reach: [quotations.invoices_owed_query(user)],
    ),
    "concepts": DaySection(
        "Concept documents owed",
        concept_documents_owed,
        lambda user, now, reach: [concept_documents.owed_query(user)],
    ),
    "delivery": DaySection(
        "Customizations in delivery",
        customization_delivery,
        lambda user, now, reach: [delivery.delivering_query(user)],
    ),
    "not_selling": DaySection(
        "Stores not selling",
        not_selling_owed,
        lambda user, now, reach: [not_selling.owed_query(user)],
    ),
    "handovers": DaySection(
        "Hand-over meetings owed", handovers_owed, lambda user, now, reach: [_handovers_query(user)]
    ),
    "plan_reviews": DaySection(
        "Account plan reviews due",
        plan_reviews_owed,
        lambda user, now, reach: [_plan_reviews_query(user, now)],
    ),
    "client_reports": DaySection(
        "Monthly reports to send",
        client_reports_owed,
        lambda user, now, reach: [_client_reports_query(user)],
    ),
}


def _question(user: User, now: datetime, reach: access.Reach) -> Select:
    """Which sections find something: an EXISTS per query (each stops at its first row)."""
    asked = {
        name: or_(*(query.exists() for query in part.reads(user, now, reach)))
        for name, part in SECTIONS.items()
    }
    return select(*(held.label(name) for name, held in asked.items()))


def _shape(user: User, reach: access.Reach) -> tuple[Any, ...]:
    """What the day's question is built on besides its named values (`_parameters`): the
    user's roles, and whose clients they see, every client or not, theirs or not, a team's
    or not. Two users of one shape are asked the same question with their own values."""
    return (
        user.roles,
        reach.everyone,
        reach.own,
        bool(reach.led_acm_ids),
        bool(reach.others_ids()),
        bool(reach.managed_or_led_ids()),
    )


# The day's question for each shape, built once per process: 20 queries and their EXISTS,
# some 250 KB of objects, built and keyed for SQLAlchemy's cache on every request took a
# quarter of the busiest ACM's day (bench/README.md).
_QUESTIONS: dict[tuple[Any, ...], Select] = {}


def sections_holding(user: User, *, now: datetime, reach: access.Reach) -> set[str]:
    """The names of the sections whose queries find something for `user` at `now`, asked
    in one statement."""
    shape = _shape(user, reach)
    question = _QUESTIONS.get(shape)
    if question is None:
        question = _QUESTIONS[shape] = _question(user, now, reach)
    found = db.session.execute(question, _parameters(user, now, reach)).one()
    return {name for name, held in found._mapping.items() if held}


def section(user: User, name: str, *, now: datetime, page: int | None = None) -> Section:
    """One section of `user`'s day, by name (KeyError for an unknown one): all its items,
    or those of page `page`."""
    database.plan_once()
    return SECTIONS[name].build(user, now=now, page=page)


def day_of(user: User, *, now: datetime, pages: dict[str, int] | None = None) -> list[SectionPage]:
    """Every section of `user`'s day, in page order, each at its page of `pages` (the
    first by default); whose clients they see is resolved once for them all, and which
    sections hold anything asked once."""
    database.plan_once()
    reach = access.reach_of(user)
    holding = sections_holding(user, now=now, reach=reach)
    pages = pages or {}
    return [
        SectionPage(
            part.build(user, now=now, reach=reach, page=pages.get(name, 1))
            if name in holding
            else _section(name, []),
            asked=pages.get(name, 1),
        )
        for name, part in SECTIONS.items()
    ]
