"""Meetings and minutes (G2, F3, G5): a client's held meetings with their minutes (sent,
owed, or no requests), upcoming ones with their confirmation state, and two on each ACM's
day."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kamportal.demo.common import SeedReport
from kamportal.demo.people import People
from kamportal.extensions import db
from kamportal.models import (
    ActionItem,
    ActionOwner,
    Client,
    LifecycleStatus,
    Meeting,
    MeetingStatus,
    MeetingType,
    Minutes,
    MinutesStatus,
    TimelineKind,
    User,
)

MEETING_PROBABILITY = {
    LifecycleStatus.ONBOARDING: 0.9,
    LifecycleStatus.LAUNCHING: 0.8,
    LifecycleStatus.LIVE: 0.6,
    LifecycleStatus.AT_RISK: 0.7,
}
AGREED_POINTS = (
    "Banner refresh for the season agreed; the client sends the new photos.",
    "Shipping rates to be reviewed with the courier; we share the comparison.",
    "The abandoned-cart app goes live this week.",
    "Product descriptions: the client's team rewrites the top 20 sellers.",
    "Weekly call kept on Tuesdays at 11:00 client time.",
)
ACTIONS = (
    ("Send the courier rate comparison", ActionOwner.ACM),
    ("Share the new product photos", ActionOwner.CLIENT),
    ("Fix the checkout translation", ActionOwner.OTHER_TEAM),
    ("Enable the abandoned-cart emails", ActionOwner.ACM),
)


def seed_meetings(
    client: Client, seed: int, now: datetime, people: People, report: SeedReport
) -> list[dict[str, Any]]:
    """A client's meetings: held ones with their minutes (sent, owed, or no requests),
    and upcoming ones with their confirmation state (F3). Returns timeline rows."""
    rng = random.Random(f"{seed}:meetings:{client.store_code}")
    status = LifecycleStatus(client.status)
    if status not in MEETING_PROBABILITY or rng.random() > MEETING_PROBABILITY[status]:
        return []
    acm = db.session.get(User, client.acm_id)
    contact = next((c for c in client.contacts if c.is_primary), client.contacts[0])
    rows: list[dict[str, Any]] = []

    def meeting(kind: MeetingType, starts_at: datetime) -> Meeting:
        created = min(starts_at - timedelta(days=rng.uniform(2, 6)), now - timedelta(hours=1))
        created = max(created, client.created_at + timedelta(minutes=30))
        due = min(max(starts_at - timedelta(hours=24), created), starts_at - timedelta(hours=4))
        confirmed = due <= now
        item = Meeting(
            client_id=client.id,
            organizer_id=acm.id,
            kind=kind.value,
            starts_at=starts_at,
            duration_minutes=rng.choice((30, 45, 60)),
            zoom_link=f"https://zoom.us/j/{rng.randint(10**9, 10**10 - 1)}",
            agenda=f"{kind.label} with {client.store_name}",
            status=MeetingStatus.SCHEDULED.value,
            uid=f"{uuid.UUID(int=rng.getrandbits(128))}@kamportal",
            sequence=0,
            confirmation_due_at=due,
            confirmed_sequence=0 if confirmed else None,
            confirmed_at=due if confirmed else None,
            created_at=created,
            updated_at=created,
            attendees=[contact],
        )
        db.session.add(item)
        rows.append(_row(client, TimelineKind.MEETING_SCHEDULED, acm, created, item))
        report.meetings += 1
        return item

    # Held meetings of the last weeks, each with its minutes (G5).
    for weeks_ago in sorted(rng.sample(range(0, 6), k=rng.randint(1, 3)), reverse=True):
        starts_at = _office_start(
            rng, client, now - timedelta(days=7 * weeks_ago + rng.uniform(1, 5))
        )
        if not client.created_at + timedelta(days=1) < starts_at < now - timedelta(hours=2):
            continue
        kind = (
            MeetingType.ONBOARDING if status is LifecycleStatus.ONBOARDING else MeetingType.WEEKLY
        )
        held = meeting(kind, starts_at)
        held.status = MeetingStatus.HELD.value
        held.recording_link = f"https://zoom.us/rec/share/{rng.getrandbits(64):x}"
        rows.append(_row(client, TimelineKind.MEETING_HELD, acm, held.ends_at, held))
        if client.last_contact_at is None or held.ends_at > client.last_contact_at:
            client.last_contact_at = held.ends_at
        rows += _minutes(rng, client, acm, held, now, report)

    # An upcoming meeting for some, and a few today so the ACM's day has them.
    if rng.random() < 0.45:
        ahead = timedelta(hours=rng.uniform(3, 10 * 24)) if rng.random() < 0.8 else timedelta(0)
        starts_at = _office_start(rng, client, now + ahead)
        if starts_at > now + timedelta(hours=4):
            kind = (
                MeetingType.ONBOARDING
                if status is LifecycleStatus.ONBOARDING
                else MeetingType.WEEKLY
            )
            meeting(kind, starts_at)
    return rows


def seed_todays_meetings(
    clients: list[Client], now: datetime, report: SeedReport
) -> list[dict[str, Any]]:
    """Two meetings on each ACM's day, at 11:00 and 15:00 where the ACM is: the day page
    shows them with the client's local time (one may already wait to be marked held)."""
    rows: list[dict[str, Any]] = []
    by_acm: dict[int, list[Client]] = {}
    for client in clients:
        if client.status in (LifecycleStatus.LIVE, LifecycleStatus.ONBOARDING):
            by_acm.setdefault(client.acm_id, []).append(client)
    for acm_id, theirs in by_acm.items():
        acm = db.session.get(User, acm_id)
        today = now.astimezone(ZoneInfo(acm.timezone)).date()
        for client, hour in zip(theirs[:2], (11, 15), strict=False):
            starts_at = datetime.combine(today, time(hour), ZoneInfo(acm.timezone)).astimezone(UTC)
            created = max(starts_at - timedelta(days=3), client.created_at + timedelta(minutes=30))
            if created >= now:
                continue
            due = max(starts_at - timedelta(hours=24), created)
            contact = next((c for c in client.contacts if c.is_primary), client.contacts[0])
            meeting = Meeting(
                client_id=client.id,
                organizer_id=acm.id,
                kind=MeetingType.WEEKLY.value,
                starts_at=starts_at,
                duration_minutes=30,
                zoom_link=f"https://zoom.us/j/{5550000000 + client.id}",
                agenda=f"Weekly follow-up with {client.store_name}",
                status=MeetingStatus.SCHEDULED.value,
                uid=f"demo-today-{client.store_code.lower()}@kamportal",
                sequence=0,
                confirmation_due_at=due,
                confirmed_sequence=0 if due <= now else None,
                confirmed_at=due if due <= now else None,
                created_at=created,
                updated_at=created,
                attendees=[contact],
            )
            db.session.add(meeting)
            report.meetings += 1
            rows.append(_row(client, TimelineKind.MEETING_SCHEDULED, acm, created, meeting))
    db.session.flush()
    return rows


def _office_start(rng: random.Random, client: Client, around: datetime) -> datetime:
    """A round start between 10:00 and 16:00 where the client is, on the day of `around`."""
    local = around.astimezone(ZoneInfo(client.timezone))
    start = datetime.combine(local.date(), time(rng.randint(10, 15), rng.choice((0, 30))))
    return start.replace(tzinfo=ZoneInfo(client.timezone)).astimezone(UTC)


def _minutes(
    rng: random.Random,
    client: Client,
    acm: User,
    meeting: Meeting,
    now: datetime,
    report: SeedReport,
) -> list[dict[str, Any]]:
    owed_since = meeting.ends_at
    minutes = Minutes(client_id=client.id, owner_id=acm.id, meeting=meeting, owed_since=owed_since)
    db.session.add(minutes)
    report.minutes += 1
    recent = now - owed_since < timedelta(days=4)
    if recent and rng.random() < 0.6:
        return []  # still owed: on the ACM's day
    decided = min(owed_since + timedelta(hours=rng.uniform(1, 20)), now)
    minutes.decided_by_id = acm.id
    minutes.decided_at = decided
    if rng.random() < 0.3:
        minutes.status = MinutesStatus.NO_REQUESTS.value
        return [_row(client, TimelineKind.MINUTES_NO_REQUESTS, acm, decided, meeting)]
    minutes.status = MinutesStatus.SENT.value
    minutes.agreed_points = "\n".join(rng.sample(AGREED_POINTS, k=2))
    for description, owner in rng.sample(ACTIONS, k=rng.randint(0, 2)):
        due_on = (decided + timedelta(days=rng.randint(2, 12))).date()
        done = due_on < now.date() and rng.random() < 0.6
        minutes.action_items.append(
            ActionItem(
                client_id=client.id,
                description=description,
                owner=owner.value,
                owner_team="Design" if owner is ActionOwner.OTHER_TEAM else None,
                due_on=due_on,
                done_at=datetime.combine(due_on, time(12), UTC) if done else None,
                done_by_id=acm.id if done else None,
            )
        )
    return [_row(client, TimelineKind.MINUTES_SENT, acm, decided, meeting)]


def _row(
    client: Client, kind: TimelineKind, acm: User, at: datetime, meeting: Meeting
) -> dict[str, Any]:
    local = meeting.starts_at.astimezone(ZoneInfo(client.timezone))
    label = meeting.meeting_type.label
    summary = {
        TimelineKind.MEETING_SCHEDULED: f"{label} scheduled for {local:%d %b %H:%M}",
        TimelineKind.MEETING_HELD: f"{label} held; recording stored",
        TimelineKind.MINUTES_SENT: f"Minutes of the {local:%d %b} meeting sent",
        TimelineKind.MINUTES_NO_REQUESTS: "Regular follow-up, the client had no requests",
    }[kind]
    return {
        "client_id": client.id,
        "kind": kind.value,
        "actor_id": acm.id,
        "at": at,
        "summary": summary,
        "detail": {"source": "demo"},
        "outbox_message_id": None,
    }
