"""Minutes of meeting (MOM), rules G5 and O3.

Minutes are owed after a held meeting or an answered call (G5). The ACM either sends them
to the client's contacts, confirming the agreed points and the action items, or marks the
contact a regular follow-up in which the client had no requests; either choice is on the
client's timeline. Owed minutes and open action items are listed until dealt with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from kamportal import clock, i18n
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    ActionItem,
    Client,
    Contact,
    Meeting,
    MeetingType,
    Minutes,
    MinutesStatus,
    OutboxMessage,
    TimelineEvent,
    TimelineKind,
    User,
)
from kamportal.models.meetings import ActionOwner
from kamportal.services import timeline

# O3: what the onboarding meeting agrees (seed 000), offered for the ACM to complete.
ONBOARDING_POINTS = (
    "LMS service roadmap:",
    "Weekly meeting or call (day and time):",
    "Communication channels:",
)


# --- Owing minutes (G5) ------------------------------------------------------------------

# G5 gives no deadline: minutes owed this long are late on the leader's view.
LATE_AFTER = timedelta(days=1)


def owe_for_meeting(meeting: Meeting, *, at: datetime) -> Minutes:
    """G5: minutes are owed by the meeting's organizer once it is held.

    Idempotent: a meeting owes one set of minutes; calling again returns it unchanged."""
    return _owe(
        Minutes.meeting_id == meeting.id,
        at=at,
        client_id=meeting.client_id,
        owner_id=meeting.organizer_id,
        meeting_id=meeting.id,
    )


def owe_for_call(
    client: Client, call_event: TimelineEvent, *, owner: User, at: datetime
) -> Minutes:
    """G5: an answered call owes minutes, by the ACM who made it.

    Idempotent: a call event owes one set of minutes; calling again returns it unchanged."""
    if call_event.id is None:
        db.session.flush()
    return _owe(
        Minutes.call_event_id == call_event.id,
        at=at,
        client_id=client.id,
        owner_id=owner.id,
        call_event_id=call_event.id,
    )


def _owe(already: ColumnElement[bool], *, at: datetime, **source: int | None) -> Minutes:
    existing = db.session.scalar(select(Minutes).where(already))
    if existing is not None:
        return existing
    minutes = Minutes(**source, owed_since=at, status=MinutesStatus.OWED.value, agreed_points="")
    db.session.add(minutes)
    db.session.flush()
    return minutes


# --- Writing them ------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionItemInput:
    """An action agreed in the minutes, as the form gives it."""

    description: str
    owner: str
    due_on: date | None
    owner_team: str | None = None


def is_onboarding(minutes: Minutes) -> bool:
    return minutes.meeting is not None and minutes.meeting.kind == MeetingType.ONBOARDING.value


def default_agreed_points(minutes: Minutes) -> str:
    """What the form offers: the minutes' own points, or for an onboarding meeting (O3)
    the seed's agreed points for the ACM to complete."""
    if minutes.agreed_points:
        return minutes.agreed_points
    if is_onboarding(minutes):
        return "\n".join(ONBOARDING_POINTS)
    return ""


def subject_of(minutes: Minutes) -> str:
    """What the minutes are of: "Onboarding meeting on 23 Nov 2026", "Call on ..."."""
    if minutes.meeting is not None:
        at = minutes.meeting.starts_at
        what = MeetingType(minutes.meeting.kind).title
    else:
        at = minutes.call_event.at if minutes.call_event is not None else minutes.owed_since
        what = "Call"
    local = clock.in_zone(at, minutes.client.timezone)
    return f"{what} on {local:%-d %b %Y}"


def _about_for_client(minutes: Minutes) -> str:
    """`subject_of` in the locale of the render (the client's language)."""
    if minutes.meeting is not None:
        at = minutes.meeting.starts_at
        what = i18n.meeting_title(MeetingType(minutes.meeting.kind))
    else:
        at = minutes.call_event.at if minutes.call_event is not None else minutes.owed_since
        what = gettext("call")
    what = what[:1].upper() + what[1:]
    return gettext(
        "%(what)s on %(day)s",
        what=what,
        day=i18n.short_date(clock.in_zone(at, minutes.client.timezone)),
    )


def _clean_points(minutes: Minutes, agreed_points: str) -> list[str]:
    points = [line.strip().lstrip("-*").strip() for line in agreed_points.splitlines()]
    points = [p for p in points if p]
    if not points:
        raise RuleViolation(
            "G5", "Minutes confirm the agreed points: write at least one.", field="agreed_points"
        )
    if is_onboarding(minutes):
        blank = [p for p in points if p in ONBOARDING_POINTS]
        if blank:
            raise RuleViolation(
                "O3",
                f"Complete \u201c{blank[0].rstrip(':')}\u201d or remove the line.",
                field="agreed_points",
            )
    return points


def _clean_items(items: Iterable[ActionItemInput]) -> list[ActionItemInput]:
    owners = {o.value for o in ActionOwner}
    cleaned = []
    for index, item in enumerate(items):
        description = item.description.strip()
        if not description:
            continue
        if item.owner not in owners:
            raise ValidationError(
                "Choose who owns the action.", field=f"action_items-{index}-owner"
            )
        team = (item.owner_team or "").strip() or None
        if item.owner == ActionOwner.OTHER_TEAM and not team:
            raise ValidationError(
                "Say which team owns the action.", field=f"action_items-{index}-owner_team"
            )
        if item.due_on is None:
            raise ValidationError(
                "An action needs a due date.", field=f"action_items-{index}-due_on"
            )
        cleaned.append(
            ActionItemInput(
                description=description[:500],
                owner=item.owner,
                due_on=item.due_on,
                owner_team=team if item.owner == ActionOwner.OTHER_TEAM else None,
            )
        )
    return cleaned


def _clean_recipients(minutes: Minutes, recipients: Iterable[Contact]) -> list[Contact]:
    chosen = [c for c in recipients if c.client_id == minutes.client_id and c.email]
    if not chosen:
        raise ValidationError(
            "Choose at least one of the client's contacts with an email.", field="recipients"
        )
    return chosen


def draft_minutes(
    minutes: Minutes,
    *,
    actor: User,
    agreed_points: str,
    action_items: Sequence[ActionItemInput],
    recipients: Iterable[Contact],
) -> outbox.Draft:
    """The email `send_minutes` would send, composed, the minutes left as they are (a
    preview). Refuses what `send_minutes` refuses, and minutes already sent."""
    if minutes.status == MinutesStatus.SENT:
        raise RuleViolation("G5", "These minutes were already sent.")
    _check_sendable(minutes)
    points = _clean_points(minutes, agreed_points)
    items = _clean_items(action_items)
    contacts = _clean_recipients(minutes, recipients)
    return _draft(minutes, actor=actor, points=points, items=items, contacts=contacts)


def _check_sendable(minutes: Minutes) -> None:
    if minutes.status == MinutesStatus.NO_REQUESTS:
        raise RuleViolation("G5", "These minutes were marked a follow-up with no requests.")


def _draft(
    minutes: Minutes,
    *,
    actor: User,
    points: list[str],
    items: list[ActionItemInput],
    contacts: list[Contact],
) -> outbox.Draft:
    """The minutes' email: the agreed points, the action items already on the minutes and
    `items` (those being added), in the client's language (G1 CCs)."""
    every_item = [*minutes.action_items, *items]
    with i18n.client_language(minutes.client.language):
        about = _about_for_client(minutes)
        subject = gettext("Minutes: %(about)s", about=about)
        body = outbox.render_email(
            "minutes.txt",
            minutes=minutes,
            client=minutes.client,
            points=points,
            items=sorted(every_item, key=lambda i: (i.due_on, i.description)),
            contacts=contacts,
            actor=actor,
            about=about,
        )
    return outbox.client_draft(
        minutes.client,
        to=[c.email for c in contacts if c.email],
        subject=subject,
        body=body,
        actor=actor,
    )


def send_minutes(
    minutes: Minutes,
    *,
    actor: User,
    agreed_points: str,
    action_items: Sequence[ActionItemInput],
    recipients: Iterable[Contact],
) -> OutboxMessage:
    """G5: email the minutes to the chosen contacts through the outbox (G1 CCs added there),
    confirming the agreed points and the action items with owner and due date; the minutes
    are then sent, on the timeline with the message.

    Idempotent: minutes already sent return their message, nothing sent twice. Raises
    RuleViolation (G5/O3) without agreed points, or with an onboarding point left blank;
    ValidationError for an action without owner or due date, or without a recipient;
    RuleViolation (G5) for minutes marked "no requests"."""
    if minutes.status == MinutesStatus.SENT and minutes.outbox_message is not None:
        return minutes.outbox_message
    _check_sendable(minutes)
    points = _clean_points(minutes, agreed_points)
    items = _clean_items(action_items)
    contacts = _clean_recipients(minutes, recipients)
    draft = _draft(minutes, actor=actor, points=points, items=items, contacts=contacts)
    now = clock.now()
    for item in items:
        minutes.action_items.append(
            ActionItem(
                client_id=minutes.client_id,
                description=item.description,
                owner=item.owner,
                owner_team=item.owner_team,
                due_on=item.due_on,
            )
        )
    minutes.agreed_points = "\n".join(points)
    message = outbox.queue_draft(draft, key=f"minutes-{minutes.id}")
    minutes.status = MinutesStatus.SENT.value
    minutes.decided_by = actor
    minutes.decided_at = now
    minutes.outbox_message = message
    db.session.flush()
    timeline.record(
        minutes.client,
        TimelineKind.MINUTES_SENT,
        actor=actor,
        summary=f"Minutes sent to {', '.join(c.name for c in contacts)}: {subject_of(minutes)}",
        detail={
            "minutes_id": minutes.id,
            "contact_ids": [c.id for c in contacts],
            "agreed_points": points,
            "action_item_ids": [i.id for i in minutes.action_items],
        },
        outbox_message=message,
        at=now,
    )
    timeline.audit(
        actor,
        "minutes.send",
        minutes,
        after={"status": minutes.status, "outbox_message_id": message.id},
    )
    return message


def mark_no_requests(minutes: Minutes, *, actor: User) -> Minutes:
    """G5: the ACM marks the contact a regular follow-up in which the client had no
    requests; the choice is recorded and nothing is sent.

    Idempotent once marked. Raises RuleViolation (O3) for an onboarding meeting, whose
    minutes are always sent, and (G5) for minutes already sent."""
    if minutes.status == MinutesStatus.NO_REQUESTS:
        return minutes
    if minutes.status == MinutesStatus.SENT:
        raise RuleViolation("G5", "These minutes were already sent.")
    if is_onboarding(minutes):
        raise RuleViolation("O3", "The onboarding meeting always needs minutes sent.")
    minutes.status = MinutesStatus.NO_REQUESTS.value
    minutes.decided_by = actor
    minutes.decided_at = clock.now()
    timeline.record(
        minutes.client,
        TimelineKind.MINUTES_NO_REQUESTS,
        actor=actor,
        summary=f"{subject_of(minutes)}: regular follow-up, the client had no requests",
        detail={"minutes_id": minutes.id},
        at=minutes.decided_at,
    )
    timeline.audit(actor, "minutes.no_requests", minutes, after={"status": minutes.status})
    db.session.flush()
    return minutes


def complete_action_item(item: ActionItem, *, actor: User) -> ActionItem:
    """An action item is done: it leaves the lists, and the timeline says who closed it.

    Idempotent: an item already done keeps its first completion."""
    if item.done_at is not None:
        return item
    item.done_at = clock.now()
    item.done_by_id = actor.id
    owner = item.owner_team or ActionOwner(item.owner).label
    timeline.record(
        item.client,
        TimelineKind.ACTION_DONE,
        actor=actor,
        summary=f"Action done ({owner}): {item.description}",
        detail={"action_item_id": item.id, "minutes_id": item.minutes_id},
        at=item.done_at,
    )
    timeline.audit(actor, "action_item.done", item, after={"done_at": item.done_at})
    db.session.flush()
    return item


# --- Lists (the client page, the ACM's day) ----------------------------------------------


def owed_for(minutes: Minutes) -> timedelta:
    """How long the minutes have been owed, now."""
    return max(clock.now() - minutes.owed_since, timedelta(0))


def owed_label(minutes: Minutes) -> str:
    """ "owed for 5 hours", "owed for 2 days": under two days in hours, then in days."""
    hours = int(owed_for(minutes).total_seconds() // 3600)
    if hours < 1:
        return "owed for less than an hour"
    if hours < 48:
        return f"owed for {hours} hour{'s' if hours != 1 else ''}"
    return f"owed for {hours // 24} days"


def owed_clause() -> ColumnElement[bool]:
    """G5: minutes neither sent nor marked a regular follow-up without requests."""
    return Minutes.status == MinutesStatus.OWED.value


def late_clause(now: datetime) -> ColumnElement[bool]:
    """G5 sets no deadline; the minutes confirm what was agreed, so they are late once
    owed for LATE_AFTER (a day) or more at `now`."""
    return and_(owed_clause(), Minutes.owed_since <= now - LATE_AFTER)


def _owed_query():
    return (
        select(Minutes)
        .where(owed_clause())
        .options(
            joinedload(Minutes.client),
            joinedload(Minutes.meeting),
            joinedload(Minutes.call_event),
        )
        .order_by(Minutes.owed_since, Minutes.id)
    )


def _open_items_query():
    return (
        select(ActionItem)
        .where(ActionItem.done_at.is_(None))
        .options(joinedload(ActionItem.client))
        .order_by(ActionItem.due_on, ActionItem.id)
    )


def owed_minutes_for(user: User) -> list[Minutes]:
    """The minutes `user` owes (G5), oldest first, clients loaded (one query)."""
    return list(db.session.scalars(_owed_query().where(Minutes.owner_id == user.id)))


def open_action_items_for(user: User, *, due_by: date | None = None) -> list[ActionItem]:
    """Open action items on the clients `user` manages, soonest due first (all owners:
    the ACM follows up the client's and other teams' actions too); `due_by` keeps those
    due on or before that day. Clients loaded (one query)."""
    query = _open_items_query().where(
        ActionItem.client_id.in_(select(Client.id).where(Client.acm_id == user.id))
    )
    if due_by is not None:
        query = query.where(ActionItem.due_on <= due_by)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class ClientMinutes:
    owed: list[Minutes]
    open_items: list[ActionItem]


def minutes_of_client(client: Client) -> ClientMinutes:
    """The client page's panel: owed minutes (oldest first) and open action items (soonest
    due first), in one query, so the client page does not grow with the portfolio."""
    open_item = and_(ActionItem.minutes_id == Minutes.id, ActionItem.done_at.is_(None))
    rows = db.session.execute(
        select(Minutes, ActionItem)
        .outerjoin(ActionItem, open_item)
        .where(
            Minutes.client_id == client.id,
            or_(Minutes.status == MinutesStatus.OWED.value, ActionItem.id.is_not(None)),
        )
        .options(joinedload(Minutes.meeting), joinedload(Minutes.call_event))
        .order_by(Minutes.owed_since, Minutes.id)
    ).all()
    owed = list({m.id: m for m, _ in rows if m.status == MinutesStatus.OWED.value}.values())
    items = sorted({i.id: i for _, i in rows if i is not None}.values(), key=_due_order)
    return ClientMinutes(owed=owed, open_items=items)


def _due_order(item: ActionItem) -> tuple[date, int]:
    return (item.due_on, item.id)


def load_minutes(minutes_id: int) -> Minutes | None:
    """Minutes with what the form and the email show."""
    return db.session.scalar(
        select(Minutes)
        .where(Minutes.id == minutes_id)
        .options(
            joinedload(Minutes.client).selectinload(Client.contacts),
            joinedload(Minutes.meeting),
            joinedload(Minutes.call_event),
            selectinload(Minutes.action_items),
        )
    )
