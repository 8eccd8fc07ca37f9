"""Client meetings on Zoom (rule G2) and their confirmation email (rule F3).

F3 lives here: `confirmation_time` says when the confirmation goes, `check_notice` refuses
a meeting booked less than 4 hours ahead without a reason, and `queue_confirmation` writes
the email with its iCalendar invite. The job that calls it at the right time is
`jobs/meetings.py`. Every change raises the meeting's iCalendar SEQUENCE, lands on the
client's timeline and in the audit log (P6); services flush, the caller commits.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask_babel import gettext
from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import joinedload

from kamportal import clock, i18n, queue
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    Client,
    Contact,
    DeliveryStatus,
    OutboxMessage,
    TimelineEvent,
    TimelineKind,
    User,
    rules_of,
)
from kamportal.models.meetings import Meeting, MeetingStatus, MeetingType
from kamportal.services import cadence, handovers, timeline

# F3: the confirmation goes at least this long before the meeting; a meeting booked with
# less notice needs a reason.
MINIMUM_NOTICE = timedelta(hours=4)
DURATIONS = (15, 30, 45, 60, 90, 120)
CONFIRM_JOB = "kamportal.jobs.meetings.send_confirmation"
AUDIT_FIELDS = (
    "kind",
    "starts_at",
    "duration_minutes",
    "zoom_link",
    "agenda",
    "status",
    "recording_link",
    "sequence",
    "short_notice_reason",
    "confirmation_due_at",
    "cancel_reason",
)

# Zoom meeting paths: /j/<id> (join), /w/<id> (webinar), /s/<id> (start), /my/<personal>.
_ZOOM_PATH = re.compile(r"/(?:j|w|s)/\d{9,12}/?|/my/[A-Za-z0-9._-]{1,64}/?")


# --- F3 as plain functions ---------------------------------------------------------------


def confirmation_time(starts_at: datetime, *, now: datetime, lead_hours: int) -> datetime:
    """Rule F3: when the confirmation of a meeting starting at `starts_at` goes out.

    `lead_hours` before the start, but not before `now`, and never later than 4 hours
    before the start. A meeting less than 4 hours away (short notice) is confirmed at once.
    """
    latest = starts_at - MINIMUM_NOTICE
    if latest <= now:
        return now
    return min(max(starts_at - timedelta(hours=lead_hours), now), latest)


def is_short_notice(starts_at: datetime, *, now: datetime) -> bool:
    """Rule F3: a meeting starting less than 4 hours from `now` (exactly 4 hours is fine)."""
    return starts_at - now < MINIMUM_NOTICE


def check_notice(starts_at: datetime, *, now: datetime, reason: str | None) -> str | None:
    """Rule F3: the short-notice reason to keep, or None when the notice is enough.

    Raises RuleViolation("F3") for a meeting less than 4 hours ahead without a reason."""
    if not is_short_notice(starts_at, now=now):
        return None
    reason = (reason or "").strip()
    if not reason:
        left = max(starts_at - now, timedelta())
        hours, rest = divmod(int(left.total_seconds()) // 60, 60)
        raise RuleViolation(
            "F3",
            f"A meeting needs at least 4 hours' notice; this one starts in {hours} h {rest:02d}"
            " min. Give the reason it cannot wait, or choose a later time.",
            field="short_notice_reason",
        )
    return reason


def lead_hours_for(organizer: User | None) -> int:
    """The team's confirmation lead time (F3), 24 hours without a team."""
    team = organizer.team if organizer is not None else None
    return rules_of(team).confirmation_lead_hours


def starts_at_from_local(
    day: date, at: time, zone: str, *, field: str = "time", current: datetime | None = None
) -> datetime:
    """The UTC instant of wall-clock `day` `at` in `zone` (the client's: the form's input).

    Raises ValidationError for a time the clocks skip (spring forward). A time that happens
    twice (fall back) is the first of the two, except that the wall-clock time of
    `current` (the meeting being edited) is `current` itself: a meeting at the second
    01:30 of a fall-back night stays there when only its agenda changes."""
    if current is not None:
        # To the minute, as the form shows it.
        shown = clock.in_zone(current, zone)
        if (shown.date(), shown.hour, shown.minute) == (day, at.hour, at.minute):
            return current.astimezone(UTC)
    local = datetime.combine(day, at, tzinfo=ZoneInfo(zone))
    instant = local.astimezone(UTC)
    back = instant.astimezone(ZoneInfo(zone))
    if (back.date(), back.time().replace(tzinfo=None)) != (day, at.replace(tzinfo=None)):
        raise ValidationError(
            f"{at:%H:%M} does not exist on {day:%d %b %Y} in {zone}: the clocks skip it.",
            field=field,
        )
    return instant


def clean_zoom_link(value: str | None, *, field: str = "zoom_link") -> str:
    """Rule G2: a Zoom meeting link (https, zoom.us or a subdomain, a meeting path).

    Raises ValidationError otherwise."""
    link = (value or "").strip()
    if not link:
        raise ValidationError("A meeting needs its Zoom link (rule G2).", field=field)
    parts = urlsplit(link)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.username or parts.password or parts.port:
        raise ValidationError("The Zoom link must start with https://.", field=field)
    if host != "zoom.us" and not host.endswith(".zoom.us"):
        raise ValidationError("The link must be a zoom.us meeting link.", field=field)
    if not _ZOOM_PATH.fullmatch(parts.path):
        raise ValidationError(
            "This is not a Zoom meeting link: it should look like https://zoom.us/j/12345678901.",
            field=field,
        )
    return link


def clean_recording_link(value: str | None, *, field: str = "recording_link") -> str:
    """Rule G2: the recording's https link, required once a meeting is held."""
    link = (value or "").strip()
    if not link:
        raise ValidationError("A held meeting needs its recording link (rule G2).", field=field)
    parts = urlsplit(link)
    if parts.scheme != "https" or not parts.hostname:
        raise ValidationError("The recording link must be an https:// address.", field=field)
    return link


# --- Reading -----------------------------------------------------------------------------


def client_meetings(client: Client, *, now: datetime, recent: int = 5) -> dict[str, list[Meeting]]:
    """The client's upcoming scheduled meetings (soonest first) and its `recent` latest
    others (held, cancelled, no-show, or scheduled and past), for the client page."""
    # One query, however many meetings (the client page's query budget).
    rows = list(
        db.session.scalars(
            select(Meeting)
            .where(Meeting.client_id == client.id)
            .options(joinedload(Meeting.attendees))
            .order_by(Meeting.starts_at)
        ).unique()
    )
    upcoming = [m for m in rows if m.status == MeetingStatus.SCHEDULED and m.ends_at > now]
    past = [m for m in rows if m not in upcoming]
    return {"upcoming": upcoming, "recent": list(reversed(past))[:recent]}


@dataclass(frozen=True)
class ConfirmationState:
    label: str
    # "ok", "due", "late" or "none": what the page highlights.
    level: str
    at: datetime | None = None


def confirmation_state(meeting: Meeting, *, now: datetime) -> ConfirmationState:
    """Rule F3: where the confirmation of `meeting`'s current version stands."""
    if meeting.confirmed_sequence is not None and meeting.confirmed_sequence == meeting.sequence:
        return ConfirmationState("Confirmation sent", "ok", meeting.confirmed_at)
    if meeting.status != MeetingStatus.SCHEDULED:
        if meeting.confirmed_at is not None:
            return ConfirmationState("Confirmation sent", "ok", meeting.confirmed_at)
        return ConfirmationState("No confirmation sent", "none")
    due = meeting.confirmation_due_at
    update = meeting.confirmed_sequence is not None
    if due is not None and due > now:
        return ConfirmationState("Updated invite due" if update else "Confirmation due", "due", due)
    return ConfirmationState("Confirmation not sent yet", "late", due)


# --- Changing meetings -------------------------------------------------------------------


def _clean_attendees(client: Client, attendees: Iterable[Contact]) -> list[Contact]:
    chosen: dict[int, Contact] = {}
    for contact in attendees:
        if contact is None or contact.client_id != client.id:
            raise ValidationError("Attendees must be contacts of this client.", field="attendees")
        if not contact.email:
            raise ValidationError(
                f"{contact.name} has no email address: the confirmation could not reach them.",
                field="attendees",
            )
        chosen[contact.id] = contact
    if not chosen:
        raise ValidationError("Choose who attends from the client's contacts.", field="attendees")
    return sorted(chosen.values(), key=lambda c: c.name)


def _clean_kind(kind: str) -> str:
    try:
        return MeetingType(kind).value
    except ValueError:
        raise ValidationError("Choose the kind of meeting.", field="kind") from None


def _clean_duration(minutes: int | None) -> int:
    if minutes is None or not 5 <= minutes <= 480:
        raise ValidationError(
            "A meeting lasts between 5 minutes and 8 hours.", field="duration_minutes"
        )
    return minutes


def _clean_start(starts_at: datetime, *, now: datetime) -> datetime:
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        raise ValueError("starts_at must be an aware datetime")
    # Whole seconds, as iCalendar carries them.
    starts_at = starts_at.astimezone(UTC).replace(microsecond=0)
    if starts_at <= now:
        raise ValidationError("This time has passed; choose one ahead.", field="time")
    return starts_at


def confirm_job_id(meeting_id: int, sequence: int) -> str:
    """The job that confirms version `sequence` of meeting `meeting_id` (house style, Jobs)."""
    return f"meeting-{meeting_id}-confirm-{sequence}"


def _plan_confirmation(meeting: Meeting, *, now: datetime, at_once: bool) -> None:
    """Set when the current version is confirmed and enqueue its job after the commit."""
    due = (
        now
        if at_once
        else confirmation_time(
            meeting.starts_at, now=now, lead_hours=lead_hours_for(meeting.organizer)
        )
    )
    meeting.confirmation_due_at = due
    queue.enqueue_after_commit(
        db.session,
        CONFIRM_JOB,
        meeting.id,
        meeting.sequence,
        job_id=confirm_job_id(meeting.id, meeting.sequence),
        at=due if due > now else None,
    )


def _withdraw_confirmation(meeting: Meeting, sequence: int) -> None:
    # Withdrawn at once: should the transaction roll back, the reconciler re-creates it
    # (and the job itself sends nothing for a version that is no longer current).
    queue.cancel(confirm_job_id(meeting.id, sequence))


def schedule_meeting(
    client: Client,
    *,
    actor: User,
    kind: str,
    starts_at: datetime,
    duration_minutes: int,
    zoom_link: str,
    agenda: str,
    attendees: Iterable[Contact],
    short_notice_reason: str | None = None,
) -> Meeting:
    """Schedule a Zoom meeting with the client (G2) and plan its confirmation (F3).

    The organizer is the client's ACM (the actor when the client has none). The
    confirmation goes at the team's lead time, never later than 4 hours before; a meeting
    less than 4 hours ahead needs `short_notice_reason`, is confirmed at once and the
    exception goes on the timeline. Raises RuleViolation("F3") for short notice without a
    reason, ValidationError for a bad Zoom link, kind, duration, past time or attendees.
    """
    now = clock.now()
    values = {
        "kind": _clean_kind(kind),
        "starts_at": _clean_start(starts_at, now=now),
        "duration_minutes": _clean_duration(duration_minutes),
        "zoom_link": clean_zoom_link(zoom_link),
        "agenda": (agenda or "").strip(),
    }
    people = _clean_attendees(client, attendees)
    reason = check_notice(values["starts_at"], now=now, reason=short_notice_reason)
    meeting = Meeting(
        client=client,
        organizer=client.acm or actor,
        **values,
        attendees=people,
        status=MeetingStatus.SCHEDULED.value,
        uid=f"{uuid.uuid4()}@kamportal",
        sequence=0,
        short_notice_reason=reason,
        created_at=now,
        updated_at=now,
    )
    db.session.add(meeting)
    db.session.flush()
    timeline.record(
        client,
        TimelineKind.MEETING_SCHEDULED,
        actor=actor,
        summary=(
            f"{meeting.meeting_type.label} meeting scheduled for ",
            meeting.starts_at,
            f", {meeting.duration_minutes} min",
        ),
        detail={"meeting_id": meeting.id, "sequence": meeting.sequence},
        at=now,
    )
    if reason:
        _record_short_notice(meeting, actor=actor, reason=reason, now=now)
    _plan_confirmation(meeting, now=now, at_once=reason is not None)
    _audit(actor, "meeting.schedule", meeting, before=None)
    return meeting


def _audit(actor: User, action: str, meeting: Meeting, *, before: dict | None) -> None:
    timeline.audit(
        actor, action, meeting, before=before, after=timeline.snapshot(meeting, AUDIT_FIELDS)
    )


def _record_short_notice(meeting: Meeting, *, actor: User, reason: str, now: datetime) -> None:
    left = int((meeting.starts_at - now).total_seconds() // 60)
    timeline.record(
        meeting.client,
        TimelineKind.SHORT_NOTICE,
        actor=actor,
        summary=f"Booked {left // 60} h {left % 60:02d} min ahead (under F3's 4 hours): {reason}"
        " — confirmation sent at once",
        detail={"meeting_id": meeting.id, "sequence": meeting.sequence, "reason": reason},
        at=now,
    )


def _scheduled(meeting: Meeting, verb: str) -> None:
    if meeting.status != MeetingStatus.SCHEDULED:
        raise ValidationError(
            f"Only a scheduled meeting can be {verb}; "
            f"this one is {meeting.meeting_status.label.lower()}."
        )


def reschedule_meeting(
    meeting: Meeting,
    *,
    actor: User,
    starts_at: datetime,
    duration_minutes: int,
    zoom_link: str | None = None,
    agenda: str | None = None,
    attendees: Iterable[Contact] | None = None,
    short_notice_reason: str | None = None,
) -> Meeting:
    """Move or change a scheduled meeting (F3: the confirmation changes with it).

    SEQUENCE is raised; the pending confirmation is withdrawn and one for the new version
    planned. When the client already holds an invite for the old version, the updated
    one goes at once, so their calendar never shows a wrong time; otherwise at the lead
    time. Arguments left None keep their value. Raises as `schedule_meeting`, and
    ValidationError when the meeting is not scheduled or nothing changes.
    """
    _scheduled(meeting, "rescheduled")
    now = clock.now()
    client = meeting.client
    before = timeline.snapshot(meeting, AUDIT_FIELDS)
    new = {
        "starts_at": _clean_start(starts_at, now=now),
        "duration_minutes": _clean_duration(duration_minutes),
        "zoom_link": meeting.zoom_link if zoom_link is None else clean_zoom_link(zoom_link),
        "agenda": meeting.agenda if agenda is None else agenda.strip(),
    }
    people = meeting.attendees if attendees is None else _clean_attendees(client, attendees)
    old = {name: getattr(meeting, name) for name in new}
    changed = [name for name in new if new[name] != old[name]]
    if {c.id for c in people} != {c.id for c in meeting.attendees}:
        changed.append("attendees")
    if not changed:
        raise ValidationError("Nothing changed.")
    # F3 applies to the new time only when the time moves.
    reason = None
    if new["starts_at"] != old["starts_at"]:
        reason = check_notice(new["starts_at"], now=now, reason=short_notice_reason)
    previous_sequence = meeting.sequence
    already_invited = meeting.confirmed_sequence is not None
    for name, value in new.items():
        setattr(meeting, name, value)
    meeting.attendees = list(people)
    meeting.sequence = previous_sequence + 1
    meeting.updated_at = now
    if "starts_at" in changed:
        # The reason belongs to the booking of this time; history keeps the earlier ones.
        meeting.short_notice_reason = reason
    _withdraw_confirmation(meeting, previous_sequence)
    db.session.flush()
    summary = (
        ("Meeting moved from ", old["starts_at"], " to ", meeting.starts_at)
        if "starts_at" in changed
        else ("Meeting of ", meeting.starts_at, " changed")
    )
    timeline.record(
        client,
        TimelineKind.MEETING_RESCHEDULED,
        actor=actor,
        summary=(*summary, f" ({', '.join(c.replace('_', ' ') for c in changed)})"),
        detail={
            "meeting_id": meeting.id,
            "sequence": meeting.sequence,
            "changed": changed,
            "from": {
                "starts_at": old["starts_at"],
                "duration_minutes": old["duration_minutes"],
            },
            "to": {
                "starts_at": meeting.starts_at,
                "duration_minutes": meeting.duration_minutes,
            },
        },
        at=now,
    )
    if reason:
        _record_short_notice(meeting, actor=actor, reason=reason, now=now)
    _plan_confirmation(meeting, now=now, at_once=reason is not None or already_invited)
    _audit(actor, "meeting.reschedule", meeting, before=before)
    return meeting


def cancel_meeting(meeting: Meeting, *, actor: User, reason: str) -> OutboxMessage:
    """Cancel a scheduled meeting (F3): the pending confirmation is withdrawn and a
    cancellation (iCalendar METHOD:CANCEL, same UID, raised SEQUENCE) goes to the attendees
    at once. Returns the cancellation email. Raises ValidationError without a reason or
    for a meeting that is not scheduled."""
    _scheduled(meeting, "cancelled")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why the meeting is cancelled.", field="reason")
    now = clock.now()
    before = timeline.snapshot(meeting, AUDIT_FIELDS)
    previous_sequence = meeting.sequence
    meeting.status = MeetingStatus.CANCELLED.value
    meeting.cancel_reason = reason
    meeting.sequence = previous_sequence + 1
    meeting.confirmation_due_at = None
    meeting.updated_at = now
    _withdraw_confirmation(meeting, previous_sequence)
    db.session.flush()
    message = _queue_meeting_email(meeting, kind="cancel", now=now)
    timeline.record(
        meeting.client,
        TimelineKind.MEETING_CANCELLED,
        actor=actor,
        summary=("Meeting of ", meeting.starts_at, f" cancelled: {reason}"),
        detail={"meeting_id": meeting.id, "sequence": meeting.sequence, "reason": reason},
        outbox_message=message,
        at=now,
    )
    _audit(actor, "meeting.cancel", meeting, before=before)
    return message


def _started(meeting: Meeting, now: datetime, verb: str) -> None:
    if meeting.starts_at > now:
        raise ValidationError(f"The meeting has not started yet; it cannot be marked {verb}.")


def mark_held(meeting: Meeting, *, actor: User, recording_link: str) -> Meeting:
    """Rule G2: the meeting took place; its recording link is stored. Minutes are then
    owed (G5) and the client counts as contacted (F1). Raises ValidationError without an
    https recording link, for a meeting not scheduled, or one that has not started."""
    from kamportal.services import minutes

    _scheduled(meeting, "marked held")
    now = clock.now()
    _started(meeting, now, "held")
    link = clean_recording_link(recording_link)
    before = timeline.snapshot(meeting, AUDIT_FIELDS)
    meeting.status = MeetingStatus.HELD.value
    meeting.recording_link = link
    _closed(meeting, now)
    client = meeting.client
    timeline.record(
        client,
        TimelineKind.MEETING_HELD,
        actor=actor,
        summary=(
            f"{meeting.meeting_type.label} meeting of ",
            meeting.starts_at,
            f" held; recording: {link}",
        ),
        detail={"meeting_id": meeting.id, "recording_link": link},
        at=now,
    )
    cadence.record_contact(client, meeting.starts_at)
    minutes.owe_for_meeting(meeting, at=now)
    handovers.meeting_held(meeting)
    _audit(actor, "meeting.held", meeting, before=before)
    return meeting


def mark_no_show(meeting: Meeting, *, actor: User) -> Meeting:
    """The client did not come. Raises ValidationError for a meeting not scheduled, or one
    that has not started."""
    _scheduled(meeting, "marked a no-show")
    now = clock.now()
    _started(meeting, now, "a no-show")
    before = timeline.snapshot(meeting, AUDIT_FIELDS)
    meeting.status = MeetingStatus.NO_SHOW.value
    _closed(meeting, now)
    timeline.record(
        meeting.client,
        TimelineKind.MEETING_NO_SHOW,
        actor=actor,
        summary=("The client did not attend the meeting of ", meeting.starts_at),
        detail={"meeting_id": meeting.id},
        at=now,
    )
    _audit(actor, "meeting.no_show", meeting, before=before)
    return meeting


def _closed(meeting: Meeting, now: datetime) -> None:
    previous_sequence = meeting.sequence
    meeting.sequence = previous_sequence + 1
    meeting.confirmation_due_at = None
    meeting.updated_at = now
    _withdraw_confirmation(meeting, previous_sequence)
    db.session.flush()


# --- The confirmation (F3) ---------------------------------------------------------------


def queue_confirmation(meeting: Meeting, *, sequence: int) -> OutboxMessage | None:
    """Rule F3: write the confirmation of version `sequence` of `meeting` to the outbox.

    Nothing (None) when the meeting was cancelled or closed, moved since (another
    sequence), already confirmed for this sequence, or already started. Otherwise the
    email to the attendees (G1 CCs added by the outbox) with the time in the client's and
    the ACM's zones, the Zoom link, the agenda, what changed, and an iCalendar REQUEST;
    the meeting records the confirmation, and so does the timeline.
    """
    now = clock.now()
    if (
        meeting.status != MeetingStatus.SCHEDULED
        or meeting.sequence != sequence
        or meeting.confirmed_sequence == sequence
        or meeting.starts_at <= now
    ):
        return None
    message = _queue_meeting_email(meeting, kind="confirm", now=now)
    meeting.confirmed_sequence = sequence
    meeting.confirmed_at = now
    timeline.record(
        meeting.client,
        TimelineKind.MEETING_CONFIRMED,
        actor=None,
        summary=(
            "Confirmation (F3) of the meeting of ",
            meeting.starts_at,
            " sent to " + ", ".join(c.name for c in meeting.attendees),
        ),
        detail={"meeting_id": meeting.id, "sequence": sequence},
        outbox_message=message,
        at=now,
    )
    db.session.flush()
    return message


def _previous_start(meeting: Meeting) -> dict | None:
    """What the client was last told (or first agreed), when the time moved since: the
    "from" of the first move after the last confirmation."""
    events = db.session.scalars(
        select(TimelineEvent)
        .where(TimelineEvent.client_id == meeting.client_id)
        .where(TimelineEvent.kind == TimelineKind.MEETING_RESCHEDULED.value)
        .order_by(TimelineEvent.at, TimelineEvent.id)
    )
    if meeting.confirmed_sequence is None:
        return None  # nothing was told yet: the first email is a plain confirmation
    since = meeting.confirmed_sequence
    for event in events:
        detail = event.detail or {}
        if (
            detail.get("meeting_id") == meeting.id
            and detail.get("sequence", 0) > since
            and "starts_at" in detail.get("changed", [])
        ):
            start = datetime.fromisoformat(detail["from"]["starts_at"])
            if start != meeting.starts_at:
                return {"starts_at": start, "duration_minutes": detail["from"]["duration_minutes"]}
            return None
    return None


def _zone_times(at: datetime, *, client: Client, acm: User | None) -> list[dict]:
    zones = [(gettext("your time"), client.timezone)]
    if acm is not None and acm.timezone != client.timezone:
        zones.append((gettext("%(name)s's time", name=acm.name), acm.timezone))
    return [
        {
            "who": who,
            "zone": zone,
            "text": f"{i18n.weekday_time(at, zone)} {clock.in_zone(at, zone).tzname()} ({zone})",
        }
        for who, zone in zones
    ]


def draft_confirmation(meeting: Meeting) -> outbox.Draft:
    """F3: the confirmation the attendees get of the meeting as it stands now (its time,
    Zoom link, agenda, what changed since they were last told, the invite), composed and
    not queued (a preview). Raises RuleViolation("F3") for a meeting no longer scheduled
    or started, and when no attendee has an email address."""
    if meeting.status != MeetingStatus.SCHEDULED or meeting.starts_at <= clock.now():
        raise RuleViolation("F3", "Only a meeting still ahead is confirmed.")
    if not any(c.email for c in meeting.attendees):
        raise RuleViolation("F3", "No attendee has an email address: add one.")
    return _meeting_draft(meeting, kind="confirm", now=clock.now())


def _queue_meeting_email(meeting: Meeting, *, kind: str, now: datetime) -> OutboxMessage:
    """The confirmation (`kind` "confirm") or cancellation ("cancel") email of the meeting's
    current sequence, through the outbox (`_meeting_draft`)."""
    return outbox.queue_draft(
        _meeting_draft(meeting, kind=kind, now=now),
        key=f"meeting-{meeting.id}-{kind}-{meeting.sequence}",
    )


def _meeting_draft(meeting: Meeting, *, kind: str, now: datetime) -> outbox.Draft:
    """The confirmation or cancellation email of the meeting's current sequence, in the
    client's language, with its iCalendar attachment."""
    client = meeting.client
    with i18n.client_language(client.language):
        subject, body, method = _meeting_email(meeting, kind=kind)
    attachment = outbox.Attachment(
        filename="invite.ics" if method == "REQUEST" else "cancel.ics",
        content_type=f"text/calendar; method={method}",
        content=invitation(meeting, method=method, now=now),
    )
    return outbox.client_draft(
        client,
        to=[c.email for c in meeting.attendees if c.email],
        subject=f"{subject} – {client.store_name}",
        body=body,
        actor=meeting.organizer,
        attachments=[attachment],
    )


def _meeting_email(meeting: Meeting, *, kind: str) -> tuple[str, str, str]:
    """The subject, body and iCalendar method of the meeting's email, in the locale of the
    render."""
    client = meeting.client
    acm = meeting.organizer
    previous = _previous_start(meeting) if kind == "confirm" else None
    title = i18n.meeting_title(meeting.meeting_type)
    context = {
        "meeting": meeting,
        "meeting_title": title,
        "client": client,
        "acm": acm,
        "times": _zone_times(meeting.starts_at, client=client, acm=acm),
        "previous": None
        if previous is None
        else _zone_times(previous["starts_at"], client=client, acm=acm),
        "attendees": meeting.attendees,
    }
    local = clock.in_zone(meeting.starts_at, client.timezone)
    when = f"{i18n.short_time(local)} {local.tzname()}"
    title = title[:1].upper() + title[1:]  # a subject starts with a capital
    if kind == "cancel":
        subject = gettext("Cancelled: %(meeting)s, %(when)s", meeting=title, when=when)
        return subject, outbox.render_email("meeting_cancellation.txt", **context), "CANCEL"
    if previous:
        subject = gettext("Moved: %(meeting)s, %(when)s", meeting=title, when=when)
    elif meeting.confirmed_sequence is not None:
        subject = gettext("Updated: %(meeting)s, %(when)s", meeting=title, when=when)
    else:
        subject = gettext("Confirmed: %(meeting)s, %(when)s", meeting=title, when=when)
    return subject, outbox.render_email("meeting_confirmation.txt", **context), "REQUEST"


def invitation(meeting: Meeting, *, method: str, now: datetime) -> str:
    """The meeting as an iCalendar file (F3): METHOD REQUEST or CANCEL, the meeting's stable
    UID and current SEQUENCE, start and end in UTC, the ACM as organizer."""
    calendar = Calendar()
    calendar.add("prodid", "-//KAM Portal//Meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(UTC))
    event.add("dtend", meeting.ends_at.astimezone(UTC))
    event.add("summary", f"{meeting.meeting_type.title} – {meeting.client.store_name}")
    event.add("location", meeting.zoom_link)
    event.add("url", meeting.zoom_link)
    event.add("description", f"Zoom: {meeting.zoom_link}\n\n{meeting.agenda}".strip())
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organizer = meeting.organizer
    if organizer is not None:
        address = vCalAddress(f"mailto:{organizer.email}")
        address.params["cn"] = vText(organizer.name)
        event.add("organizer", address)
    for contact in meeting.attendees:
        if not contact.email:
            continue
        address = vCalAddress(f"mailto:{contact.email}")
        address.params["cn"] = vText(contact.name)
        address.params["role"] = vText("REQ-PARTICIPANT")
        address.params["rsvp"] = vText("TRUE")
        event.add("attendee", address)
    calendar.add_component(event)
    return calendar.to_ical().decode()


# --- Reconciling (F3) ----------------------------------------------------------------------


def unconfirmed_clause() -> ColumnElement[bool]:
    """Rule F3 in SQL: a scheduled meeting whose current version was not confirmed (the
    reconciler and the ACM's day ask the same question)."""
    return and_(
        Meeting.status == MeetingStatus.SCHEDULED.value,
        Meeting.confirmation_due_at.is_not(None),
        or_(Meeting.confirmed_sequence.is_(None), Meeting.confirmed_sequence != Meeting.sequence),
    )


def confirmation_event_clause() -> ColumnElement[bool]:
    """F3: a MEETING_CONFIRMED timeline event of the meeting's current version (its detail
    carries the meeting's id and sequence), to join or test a meeting against."""
    return and_(
        TimelineEvent.client_id == Meeting.client_id,
        TimelineEvent.kind == TimelineKind.MEETING_CONFIRMED.value,
        TimelineEvent.detail["meeting_id"].as_integer() == Meeting.id,
        TimelineEvent.detail["sequence"].as_integer() == Meeting.sequence,
    )


def confirmation_missed_clause(now: datetime) -> ColumnElement[bool]:
    """F3 in SQL: a scheduled meeting whose confirmation did not go out: due (4 hours
    before) and not sent for its current version, or its email failed in the outbox."""
    failed = (
        select(TimelineEvent.id)
        .join(OutboxMessage, OutboxMessage.id == TimelineEvent.outbox_message_id)
        .where(confirmation_event_clause(), OutboxMessage.status == DeliveryStatus.FAILED.value)
        .correlate(Meeting)
        .exists()
    )
    return and_(
        Meeting.status == MeetingStatus.SCHEDULED.value,
        or_(and_(unconfirmed_clause(), Meeting.confirmation_due_at <= now), failed),
    )


def confirmations_owed(*, now: datetime) -> list[Meeting]:
    """Scheduled meetings still ahead whose current version is not confirmed yet."""
    return list(
        db.session.scalars(
            select(Meeting)
            .where(unconfirmed_clause(), Meeting.starts_at > now)
            .order_by(Meeting.confirmation_due_at)
        )
    )
