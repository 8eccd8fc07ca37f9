"""Meeting confirmations end to end (rule F3): a real RQ worker (Redis with REDIS_URL, else
the embedded queue) and a real SMTP server (aiosmtpd), on the controlled clock, which RQ's
scheduler reads too (`queue_clock`): a confirmation's time comes when the test moves the
clock there."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from icalendar import Calendar

from kamportal import clock, queue
from kamportal.jobs import meetings as meeting_jobs
from kamportal.services import meetings
from tests.conftest import wait_until

ZOOM = "https://zoom.us/j/81234567890"


@pytest.fixture
def world(make_portfolio, queue_clock):
    # A 4-hour lead: a meeting 4 h + a few seconds ahead is confirmed a few seconds from now.
    return make_portfolio(
        team={"confirmation_lead_hours": 4},
        leader=False,
        acm={"email": "mona@kam.example", "name": "Mona"},
        client={"timezone": "Africa/Cairo"},
        contact={"name": "Omar", "email": "omar@store.example"},
    )


def _schedule(w, starts_at, **extra):
    return meetings.schedule_meeting(
        w.client,
        actor=w.acm,
        kind="weekly",
        starts_at=starts_at,
        duration_minutes=30,
        zoom_link=ZOOM,
        agenda="Catalogue review",
        attendees=[w.contact],
        **extra,
    )


def _soon(seconds: float) -> datetime:
    return clock.now() + timedelta(hours=4, seconds=seconds)


def _invite(email) -> Calendar:
    (part,) = [p for p in email.iter_attachments() if p.get_content_type() == "text/calendar"]
    return part, Calendar.from_ical(part.get_content())


def test_f3_confirmation_arrives_once_at_its_time_with_a_parseable_invite(
    app, db, smtp_server, run_jobs, world
):
    meeting = _schedule(world, _soon(3))
    db.session.commit()
    due = meeting.confirmation_due_at
    assert due == clock.now() + timedelta(seconds=3)
    run_jobs()
    clock.advance(timedelta(seconds=2.9))
    run_jobs()
    assert smtp_server.messages == []  # not before its time

    clock.advance(timedelta(seconds=0.1))
    wait_until(lambda: smtp_server.messages, seconds=10, what="the confirmation", each=run_jobs)
    run_jobs()
    run_jobs()

    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    assert email["To"] == "omar@store.example"
    assert email["Subject"].startswith("Confirmed: Weekly follow-up meeting")
    body = email.get_body(("plain",)).get_content()
    assert "(Africa/Cairo)" in body and ZOOM in body and "Catalogue review" in body
    part, calendar = _invite(email)
    assert part.get_param("method") == "REQUEST"
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == meeting.uid
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == meeting.starts_at
    assert event.decoded("DTEND") == meeting.ends_at
    assert str(event["ORGANIZER"]) == "mailto:mona@kam.example"
    attendees = event.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert [str(a) for a in attendees] == ["mailto:omar@store.example"]
    assert attendees[0].params["CN"] == "Omar"
    db.session.expire_all()
    assert meeting.confirmed_sequence == 0 and meeting.confirmed_at == due


def test_f3_reschedule_sends_one_updated_invite_and_not_the_old_one(
    app, db, smtp_server, run_jobs, world
):
    meeting = _schedule(world, _soon(2))
    db.session.commit()
    old_start = meeting.starts_at
    meetings.reschedule_meeting(meeting, actor=world.acm, starts_at=_soon(4), duration_minutes=45)
    db.session.commit()
    assert queue.job_status(meetings.confirm_job_id(meeting.id, 0)) is None

    clock.advance(timedelta(seconds=2))  # the old confirmation's time: nothing
    run_jobs()
    assert smtp_server.messages == []
    clock.advance(timedelta(seconds=2))
    wait_until(lambda: smtp_server.messages, seconds=10, what="the confirmation", each=run_jobs)
    clock.advance(timedelta(seconds=1))
    run_jobs()

    # One invite, for the new time: the client never got the old one, so nothing "moved".
    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    assert email["Subject"].startswith("Confirmed:")
    body = email.get_body(("plain",)).get_content()
    assert "Was: " not in body
    assert old_start != meeting.starts_at
    _, calendar = _invite(email)
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == meeting.uid and int(event["SEQUENCE"]) == 1


def test_f3_cancel_sends_a_cancellation_and_withdraws_the_confirmation(
    app, db, smtp_server, run_jobs, world
):
    meeting = _schedule(world, _soon(2))
    db.session.commit()
    meetings.cancel_meeting(meeting, actor=world.acm, reason="Client travelling")
    db.session.commit()

    wait_until(lambda: smtp_server.messages, seconds=10, what="the cancellation", each=run_jobs)
    clock.advance(timedelta(seconds=3))  # past the withdrawn confirmation's time
    run_jobs()

    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    assert email["Subject"].startswith("Cancelled:")
    part, calendar = _invite(email)
    assert part.get_param("method") == "CANCEL"
    assert str(calendar["METHOD"]) == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == meeting.uid and int(event["SEQUENCE"]) == 1
    assert str(event["STATUS"]) == "CANCELLED"


def test_f3_running_the_confirmation_twice_sends_once(app, db, smtp_server, run_jobs, world):
    meeting = _schedule(world, _soon(-600), short_notice_reason="Launch blocker")
    db.session.commit()
    run_jobs()
    queue.enqueue(meetings.CONFIRM_JOB, meeting.id, 0, job_id=f"meeting-{meeting.id}-again")
    run_jobs()

    assert meeting_jobs.send_confirmation(meeting.id, 0) == "skipped"
    run_jobs()
    assert len(smtp_server.messages) == 1
    assert queue.get_queue(app).fetch_job(f"meeting-{meeting.id}-again").return_value() == (
        "skipped"
    )


def test_f3_reconcile_recreates_a_lost_confirmation(app, db, run_jobs, world):
    meeting = _schedule(world, clock.now() + timedelta(days=2))
    db.session.commit()
    job_id = meetings.confirm_job_id(meeting.id, 0)
    assert queue.cancel(job_id)  # Redis lost it

    assert meeting_jobs.reconcile_confirmations() == 1
    assert queue.scheduled_at(job_id) == meeting.confirmation_due_at
    assert meeting_jobs.reconcile_confirmations() == 0


def test_f3_reconcile_sends_one_whose_time_passed_while_no_worker_ran(
    app, db, smtp_server, run_jobs, world
):
    meeting = _schedule(world, clock.now() + timedelta(days=2))
    db.session.commit()
    # The confirmation's time came and went with Redis empty.
    queue.cancel(meetings.confirm_job_id(meeting.id, 0))
    meeting.confirmation_due_at = clock.now() - timedelta(hours=1)
    db.session.commit()

    assert meeting_jobs.reconcile_confirmations() == 1
    wait_until(lambda: smtp_server.messages, seconds=10, what="the confirmation", each=run_jobs)
    assert meeting_jobs.reconcile_confirmations() == 0
    run_jobs()
    assert len(smtp_server.messages) == 1


def test_f3_reconcile_leaves_past_meetings_alone(app, db, run_jobs, world):
    meeting = _schedule(world, _soon(-600), short_notice_reason="Now or never")
    db.session.commit()
    queue.cancel(meetings.confirm_job_id(meeting.id, 0))
    meeting.starts_at = clock.now() - timedelta(minutes=5)
    db.session.commit()
    assert meeting_jobs.reconcile_confirmations() == 0
