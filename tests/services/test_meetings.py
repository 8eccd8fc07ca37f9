"""Meetings without HTTP (rules G2, F3): the 4-hour boundary, the lead time, DST, zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from kamportal import clock, queue
from kamportal.errors import RuleViolation, ValidationError
from kamportal.messaging import outbox
from kamportal.models import AuditEvent, TimelineEvent, TimelineKind
from kamportal.models.meetings import MeetingStatus, Minutes
from kamportal.services import meetings

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ZOOM = "https://us02web.zoom.us/j/81234567890?pwd=abc"


@pytest.fixture
def world(frozen_clock, make_portfolio):
    return make_portfolio(
        leader=False,
        acm={"email": "mona@kam.example", "name": "Mona", "timezone": "UTC"},
        client={"timezone": "Africa/Cairo"},
        contact={"name": "Omar Owner", "email": "omar@store.example"},
    )


def _schedule(w, starts_at, **changes):
    values = {
        "actor": w.acm,
        "kind": "weekly",
        "starts_at": starts_at,
        "duration_minutes": 30,
        "zoom_link": ZOOM,
        "agenda": "Catalogue review",
        "attendees": [w.contact],
    }
    values.update(changes)
    return meetings.schedule_meeting(w.client, **values)


def _events(db, kind: TimelineKind) -> list[TimelineEvent]:
    return list(db.session.scalars(select(TimelineEvent).where(TimelineEvent.kind == kind.value)))


# --- confirmation_time (F3) ----------------------------------------------------------------


def test_f3_confirmation_goes_at_the_lead_time():
    starts = NOW + timedelta(days=3)
    assert meetings.confirmation_time(starts, now=NOW, lead_hours=24) == starts - timedelta(
        hours=24
    )
    assert meetings.confirmation_time(starts, now=NOW, lead_hours=48) == starts - timedelta(
        hours=48
    )


def test_f3_confirmation_is_never_before_now():
    starts = NOW + timedelta(hours=10)
    assert meetings.confirmation_time(starts, now=NOW, lead_hours=24) == NOW


def test_f3_confirmation_is_never_later_than_4_hours_before():
    starts = NOW + timedelta(days=2)
    assert meetings.confirmation_time(starts, now=NOW, lead_hours=1) == starts - timedelta(hours=4)


def test_f3_confirmation_of_a_meeting_exactly_4_hours_ahead_goes_now():
    starts = NOW + timedelta(hours=4)
    assert meetings.confirmation_time(starts, now=NOW, lead_hours=24) == NOW
    assert not meetings.is_short_notice(starts, now=NOW)
    assert meetings.is_short_notice(starts - timedelta(minutes=1), now=NOW)


# --- The 4-hour boundary ------------------------------------------------------------------


def test_f3_meeting_exactly_4_hours_ahead_is_allowed(world, db):
    meeting = _schedule(world, NOW + timedelta(hours=4))
    db.session.commit()
    assert meeting.short_notice_reason is None
    assert meeting.confirmation_due_at == NOW
    assert _events(db, TimelineKind.SHORT_NOTICE) == []


def test_f3_meeting_3h59_ahead_is_refused_without_a_reason(world, db):
    with pytest.raises(RuleViolation) as refused:
        _schedule(world, NOW + timedelta(hours=3, minutes=59))
    assert refused.value.rule == "F3"
    assert refused.value.field == "short_notice_reason"
    assert "4 hours" in refused.value.message and "3 h 59 min" in refused.value.message
    with pytest.raises(RuleViolation):
        _schedule(world, NOW + timedelta(hours=3, minutes=59), short_notice_reason="   ")


def test_f3_meeting_3h59_ahead_with_a_reason_is_confirmed_at_once(world, db, app):
    meeting = _schedule(
        world, NOW + timedelta(hours=3, minutes=59), short_notice_reason="Launch blocker"
    )
    db.session.commit()
    assert meeting.short_notice_reason == "Launch blocker"
    assert meeting.confirmation_due_at == NOW
    (event,) = _events(db, TimelineKind.SHORT_NOTICE)
    assert "Launch blocker" in event.summary and event.detail["meeting_id"] == meeting.id
    # At once: queued now, not scheduled.
    job_id = meetings.confirm_job_id(meeting.id, 0)
    assert queue.job_status(job_id).value == "queued"


def test_a_meeting_in_the_past_is_refused(world):
    with pytest.raises(ValidationError, match="passed"):
        _schedule(world, NOW - timedelta(minutes=1), short_notice_reason="x")


# --- Lead time ----------------------------------------------------------------------------


def test_f3_confirmation_is_scheduled_24_hours_before_by_default(world, db):
    starts = NOW + timedelta(days=3)
    meeting = _schedule(world, starts)
    db.session.commit()
    assert meeting.confirmation_due_at == starts - timedelta(hours=24)
    assert queue.scheduled_at(meetings.confirm_job_id(meeting.id, 0)) == starts - timedelta(
        hours=24
    )


def test_f3_confirmation_follows_the_team_lead_time(world, db):
    world.team.confirmation_lead_hours = 48
    db.session.commit()
    starts = NOW + timedelta(days=5)
    meeting = _schedule(world, starts)
    db.session.commit()
    assert meeting.confirmation_due_at == starts - timedelta(hours=48)


def test_f3_a_team_lead_time_under_4_hours_still_confirms_4_hours_before(world, db):
    world.team.confirmation_lead_hours = 2
    db.session.commit()
    starts = NOW + timedelta(days=1)
    assert _schedule(world, starts).confirmation_due_at == starts - timedelta(hours=4)


# --- DST and zones --------------------------------------------------------------------------


def test_f3_start_across_new_york_dst_end(world, db, frozen_clock):
    """09:00 on Sunday 1 Nov 2026 in New York is EST (UTC-5), the day before was EDT: the
    form's wall-clock time becomes the right instant, and the lead time is 24 real hours
    (10:00 EDT the day before)."""
    frozen_clock(datetime(2026, 10, 28, 12, 0, tzinfo=UTC))
    world.client.timezone = "America/New_York"
    db.session.commit()
    starts = meetings.starts_at_from_local(date(2026, 11, 1), time(9, 0), "America/New_York")
    assert starts == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
    meeting = _schedule(world, starts)
    due = clock.in_zone(meeting.confirmation_due_at, "America/New_York")
    assert (due.hour, due.tzname()) == (10, "EDT")
    assert meeting.starts_at - meeting.confirmation_due_at == timedelta(hours=24)


def test_f3_start_across_cairo_dst_end(world, db, frozen_clock):
    """Egypt leaves summer time at midnight ending Thursday 29 Oct 2026: 10:00 on Friday the
    30th is EET (UTC+2), the 4-hour boundary counted in real hours."""
    frozen_clock(datetime(2026, 10, 29, 20, 0, tzinfo=UTC))  # 23:00 EEST
    starts = meetings.starts_at_from_local(date(2026, 10, 30), time(1, 30), "Africa/Cairo")
    # 01:30 EET = 23:30 UTC: 3 h 30 ahead in real time, though 2 h 30 on the wall clock.
    assert starts == datetime(2026, 10, 29, 23, 30, tzinfo=UTC)
    with pytest.raises(RuleViolation, match="3 h 30 min"):
        _schedule(world, starts)
    later = meetings.starts_at_from_local(date(2026, 10, 30), time(10, 0), "Africa/Cairo")
    assert later == datetime(2026, 10, 30, 8, 0, tzinfo=UTC)
    assert _schedule(world, later).confirmation_due_at == datetime(2026, 10, 29, 20, 0, tzinfo=UTC)


def test_a_wall_clock_time_the_clocks_skip_is_refused():
    with pytest.raises(ValidationError, match="does not exist"):
        meetings.starts_at_from_local(date(2026, 3, 8), time(2, 30), "America/New_York")


def test_f3_email_shows_the_client_and_the_acm_zones(world, db):
    world.acm.timezone = "Asia/Riyadh"
    world.client.timezone = "America/New_York"
    db.session.commit()
    starts = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    meeting = _schedule(world, starts)
    db.session.commit()
    message = meetings.queue_confirmation(meeting, sequence=0)
    assert "Wednesday 25 November 2026, 10:00 EST (America/New_York)" in message.body
    assert "Wednesday 25 November 2026, 18:00 +03 (Asia/Riyadh), Mona's time" in message.body
    assert ZOOM in message.body and "Catalogue review" in message.body
    assert message.to_addrs == ["omar@store.example"]
    assert "mona@kam.example" in message.cc_addrs  # G1, through the outbox


# --- Validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "",
        "http://zoom.us/j/81234567890",
        "https://zoom.us.evil.example/j/81234567890",
        "https://evilzoom.us/j/81234567890",
        "https://zoom.us/",
        "https://zoom.us/j/abc",
        "https://user@zoom.us/j/81234567890",
        "https://meet.google.com/abc-defg-hij",
    ],
)
def test_g2_zoom_link_is_required_and_validated(link):
    with pytest.raises(ValidationError) as refused:
        meetings.clean_zoom_link(link)
    assert refused.value.field == "zoom_link"


@pytest.mark.parametrize(
    "link",
    [
        "https://zoom.us/j/81234567890",
        "https://us02web.zoom.us/j/81234567890?pwd=abc",
        "https://acme.zoom.us/my/mona.acm",
        "https://zoom.us/w/812345678",
    ],
)
def test_g2_zoom_meeting_links_are_accepted(link):
    assert meetings.clean_zoom_link(link) == link


def test_attendees_must_be_the_clients_contacts_with_an_email(world, make_client, make_contact):
    other = make_contact(make_client(acm=world.acm))
    with pytest.raises(ValidationError, match="contacts of this client"):
        _schedule(world, NOW + timedelta(days=2), attendees=[other])
    no_email = make_contact(world.client, email=None)
    with pytest.raises(ValidationError, match="no email"):
        _schedule(world, NOW + timedelta(days=2), attendees=[no_email])
    with pytest.raises(ValidationError, match="Choose who attends"):
        _schedule(world, NOW + timedelta(days=2), attendees=[])


# --- Changes -------------------------------------------------------------------------------


def test_schedule_records_timeline_and_audit(world, db):
    meeting = _schedule(world, NOW + timedelta(days=2))
    db.session.commit()
    assert meeting.sequence == 0 and meeting.uid.endswith("@kamportal")
    assert meeting.organizer == world.acm and meeting.status == MeetingStatus.SCHEDULED
    (event,) = _events(db, TimelineKind.MEETING_SCHEDULED)
    # The start is kept as an instant: each reader sees it in their own zone.
    assert event.summary_parts == [
        "Weekly follow-up meeting scheduled for ",
        meeting.starts_at,
        ", 30 min",
    ]
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "meeting.schedule"))
    assert audit.object_id == meeting.id


def test_f3_reschedule_raises_sequence_and_replaces_the_confirmation(world, db):
    starts = NOW + timedelta(days=3)
    meeting = _schedule(world, starts)
    db.session.commit()
    uid = meeting.uid
    meetings.reschedule_meeting(
        meeting, actor=world.acm, starts_at=starts + timedelta(days=1), duration_minutes=45
    )
    db.session.commit()
    assert meeting.sequence == 1 and meeting.uid == uid
    assert queue.job_status(meetings.confirm_job_id(meeting.id, 0)) is None
    assert queue.scheduled_at(meetings.confirm_job_id(meeting.id, 1)) == starts
    (event,) = _events(db, TimelineKind.MEETING_RESCHEDULED)
    assert event.detail["changed"] == ["starts_at", "duration_minutes"]
    # The client was never told the first time: the first email is a plain confirmation.
    message = meetings.queue_confirmation(meeting, sequence=1)
    assert message.subject.startswith("Confirmed:")
    assert "Was:" not in message.body and "have changed" not in message.body
    with pytest.raises(ValidationError, match="Nothing changed"):
        meetings.reschedule_meeting(
            meeting, actor=world.acm, starts_at=meeting.starts_at, duration_minutes=45
        )


def test_f3_reschedule_of_a_confirmed_meeting_sends_the_update_at_once(world, db):
    meeting = _schedule(world, NOW + timedelta(hours=20))
    db.session.commit()
    assert meetings.queue_confirmation(meeting, sequence=0) is not None
    db.session.commit()
    meetings.reschedule_meeting(
        meeting, actor=world.acm, starts_at=NOW + timedelta(days=4), duration_minutes=30
    )
    db.session.commit()
    assert meeting.confirmation_due_at == NOW
    update = meetings.queue_confirmation(meeting, sequence=1)
    assert update.subject.startswith("Moved:")
    assert "Was: Tuesday 24 November 2026, 07:00 EET" in update.body
    assert "Now: Friday 27 November 2026, 11:00 EET" in update.body


def test_f3_rescheduling_to_under_4_hours_needs_a_reason(world, db):
    meeting = _schedule(world, NOW + timedelta(days=1))
    db.session.commit()
    with pytest.raises(RuleViolation):
        meetings.reschedule_meeting(
            meeting, actor=world.acm, starts_at=NOW + timedelta(hours=2), duration_minutes=30
        )


def test_f3_cancel_withdraws_the_confirmation_and_sends_a_cancellation(world, db):
    meeting = _schedule(world, NOW + timedelta(days=3))
    db.session.commit()
    with pytest.raises(ValidationError, match="why"):
        meetings.cancel_meeting(meeting, actor=world.acm, reason=" ")
    message = meetings.cancel_meeting(meeting, actor=world.acm, reason="Client travelling")
    db.session.commit()
    assert meeting.status == MeetingStatus.CANCELLED and meeting.sequence == 1
    assert queue.job_status(meetings.confirm_job_id(meeting.id, 0)) is None
    assert meetings.queue_confirmation(meeting, sequence=0) is None
    assert meetings.queue_confirmation(meeting, sequence=1) is None
    ics = Calendar.from_ical(message.attachments[0]["content"])
    assert str(ics["METHOD"]) == "CANCEL"
    (event,) = ics.walk("VEVENT")
    assert str(event["UID"]) == meeting.uid and int(event["SEQUENCE"]) == 1
    assert "Client travelling" in message.body
    assert outbox.find_by_key(f"meeting-{meeting.id}-cancel-1") is message


def test_g2_mark_held_needs_the_recording_link_and_owes_minutes(world, db, frozen_clock):
    meeting = _schedule(world, NOW + timedelta(days=1))
    db.session.commit()
    with pytest.raises(ValidationError, match="not started"):
        meetings.mark_held(meeting, actor=world.acm, recording_link="https://zoom.us/rec/1")
    clock.advance(timedelta(days=1, minutes=30))
    with pytest.raises(ValidationError, match="recording link"):
        meetings.mark_held(meeting, actor=world.acm, recording_link="")
    meetings.mark_held(meeting, actor=world.acm, recording_link="https://zoom.us/rec/share/x")
    db.session.commit()
    assert meeting.status == MeetingStatus.HELD and meeting.sequence == 1
    assert meeting.recording_link == "https://zoom.us/rec/share/x"
    assert world.client.last_contact_at == meeting.starts_at
    minutes = db.session.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id))
    assert minutes is not None and minutes.owner_id == world.acm.id
    assert len(_events(db, TimelineKind.MEETING_HELD)) == 1
    with pytest.raises(ValidationError, match="Only a scheduled"):
        meetings.mark_no_show(meeting, actor=world.acm)


def test_mark_no_show(world, db, frozen_clock):
    meeting = _schedule(world, NOW + timedelta(days=1))
    db.session.commit()
    clock.advance(timedelta(days=1, minutes=15))
    meetings.mark_no_show(meeting, actor=world.acm)
    db.session.commit()
    assert meeting.status == MeetingStatus.NO_SHOW and meeting.sequence == 1
    assert len(_events(db, TimelineKind.MEETING_NO_SHOW)) == 1
    assert world.client.last_contact_at is None


def test_f3_confirmation_state(world, db, frozen_clock):
    meeting = _schedule(world, NOW + timedelta(days=3))
    db.session.commit()
    assert meetings.confirmation_state(meeting, now=NOW).level == "due"
    clock.advance(timedelta(days=2, hours=1))
    assert meetings.confirmation_state(meeting, now=clock.now()).level == "late"
    meetings.queue_confirmation(meeting, sequence=0)
    assert meetings.confirmation_state(meeting, now=clock.now()).label == "Confirmation sent"
