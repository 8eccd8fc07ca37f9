"""The weekly cadence (F1): overdue and due-soon lists at the 7-day boundary, what each
user sees, and the sweep that records a lapse on the timeline once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kamportal import clock
from kamportal.jobs.cadence import sweep_overdue
from kamportal.models import LifecycleStatus, Role, TimelineEvent, TimelineKind
from kamportal.services import cadence, meetings


def overdue_events(db, client) -> list[TimelineEvent]:
    return list(
        db.session.scalars(
            select(TimelineEvent)
            .where(
                TimelineEvent.client_id == client.id,
                TimelineEvent.kind == TimelineKind.FOLLOWUP_OVERDUE.value,
            )
            .order_by(TimelineEvent.id)
        )
    )


def test_f1_a_client_is_overdue_at_exactly_seven_days_and_not_a_minute_before(
    frozen_clock, make_user, make_client
):
    now = frozen_clock(clock.now())
    acm = make_user(Role.ACM)
    almost = make_client(acm, last_contact_at=now - timedelta(days=6, hours=23, minutes=59))
    lapsed = make_client(acm, last_contact_at=now - timedelta(days=7))

    assert cadence.overdue_clients(acm, now=now) == [lapsed]
    assert cadence.due_at(lapsed) == now
    assert cadence.due_soon_clients(acm, now=now) == [almost]
    assert cadence.due_at(almost) == now + timedelta(minutes=1)

    later = clock.advance(timedelta(minutes=1))
    assert cadence.overdue_clients(acm, now=later) == [lapsed, almost]
    assert cadence.due_soon_clients(acm, now=later) == []


def test_f1_due_soon_starts_two_days_before_the_week_runs_out(frozen_clock, make_user, make_client):
    now = clock.now()
    acm = make_user(Role.ACM)
    make_client(acm, last_contact_at=now - timedelta(days=4, hours=23))
    soon = make_client(acm, last_contact_at=now - timedelta(days=5))

    assert cadence.due_soon_clients(acm, now=now) == [soon]
    assert cadence.overdue_clients(acm, now=now) == []


def test_f1_a_live_client_never_contacted_is_overdue_since_it_was_created(
    frozen_clock, make_user, make_client
):
    acm = make_user(Role.ACM)
    created = clock.now() - timedelta(days=1)
    never = make_client(acm, last_contact_at=None, created_at=created)

    assert cadence.overdue_clients(acm, now=clock.now()) == [never]
    assert cadence.due_at(never) == created


def test_f1_live_and_at_risk_clients_are_held_to_the_weekly_cadence(
    frozen_clock, make_user, make_client, db
):
    """F1: every live client, at-risk ones included (they need contact most); clients being
    onboarded or launched, and churned ones, are not."""
    now = clock.now()
    acm = make_user(Role.ACM)
    held = (LifecycleStatus.LIVE, LifecycleStatus.AT_RISK)
    for status in LifecycleStatus:
        if status not in held:
            make_client(acm, status=status.value, last_contact_at=now - timedelta(days=30))
            make_client(acm, status=status.value, last_contact_at=now - timedelta(days=6))
    live = make_client(acm, store_name="A live", last_contact_at=now - timedelta(days=30))
    at_risk = make_client(
        acm,
        store_name="B at risk",
        status=LifecycleStatus.AT_RISK.value,
        last_contact_at=now - timedelta(days=30),
    )
    at_risk_soon = make_client(
        acm, status=LifecycleStatus.AT_RISK.value, last_contact_at=now - timedelta(days=6)
    )

    assert cadence.overdue_clients(acm, now=now) == [live, at_risk]
    assert cadence.due_soon_clients(acm, now=now) == [at_risk_soon]
    assert cadence.record_overdue(now) == 2
    db.session.commit()
    assert overdue_events(db, live) and overdue_events(db, at_risk)


def test_f1_each_user_sees_the_overdue_clients_they_may_see(
    frozen_clock, db, make_team, make_user, make_client
):
    now = clock.now()
    team, other_team = make_team(), make_team()
    leader = make_user(Role.LEADER, team=team)
    team.leader = leader
    db.session.commit()
    mona = make_user(Role.ACM, team=team)
    karim = make_user(Role.ACM, team=team)
    stranger = make_user(Role.ACM, team=other_team)
    admin = make_user(Role.ADMIN)
    finance = make_user(Role.FINANCE, team=team)
    old = now - timedelta(days=8)
    monas = make_client(mona, last_contact_at=old)
    karims = make_client(karim, last_contact_at=old - timedelta(hours=1))
    strangers = make_client(stranger, last_contact_at=old - timedelta(hours=2))

    assert cadence.overdue_clients(mona, now=now) == [monas]
    assert cadence.overdue_clients(karim, now=now) == [karims]
    assert cadence.overdue_clients(leader, now=now) == [karims, monas]
    assert cadence.overdue_clients(stranger, now=now) == [strangers]
    assert cadence.overdue_clients(admin, now=now) == [strangers, karims, monas]
    assert cadence.overdue_clients(finance, now=now) == []


def test_f1_the_sweep_records_a_lapse_once_not_daily(frozen_clock, db, make_user, make_client):
    now = clock.now()
    acm = make_user(Role.ACM)
    last = now - timedelta(days=7)
    lapsed = make_client(acm, last_contact_at=last)
    make_client(acm, last_contact_at=now - timedelta(days=6, hours=23, minutes=59))

    assert sweep_overdue() == 1
    assert sweep_overdue() == 0
    clock.advance(timedelta(hours=5))
    assert sweep_overdue() == 1  # the other client's week ran out meanwhile
    clock.advance(timedelta(days=1))
    assert sweep_overdue() == 0

    (event,) = overdue_events(db, lapsed)
    assert event.at == now
    assert event.actor_id is None
    assert event.detail["last_contact_at"] == last.isoformat()
    assert event.detail["overdue_since"] == now.isoformat()
    # The last contact is kept as an instant: each reader sees it in their own zone.
    assert event.summary_parts == ["Weekly follow-up overdue: no contact since ", last, " (F1)"]


def test_f1_a_new_contact_then_a_new_lapse_records_a_second_event(
    frozen_clock, db, make_user, make_client
):
    first_contact = clock.now() - timedelta(days=10)
    acm = make_user(Role.ACM)
    client = make_client(acm, last_contact_at=first_contact)
    assert sweep_overdue() == 1

    contacted = clock.advance(timedelta(days=1))
    client.last_contact_at = contacted
    db.session.commit()
    assert sweep_overdue() == 0
    clock.advance(timedelta(days=6, hours=23))
    assert sweep_overdue() == 0
    lapsed_at = clock.advance(timedelta(hours=1))
    assert sweep_overdue() == 1
    assert sweep_overdue() == 0

    first, second = overdue_events(db, client)
    assert first.detail["last_contact_at"] == first_contact.isoformat()
    assert second.at == lapsed_at
    assert second.detail["last_contact_at"] == contacted.isoformat()
    assert second.detail["overdue_since"] == (contacted + cadence.WEEK).isoformat()


def test_f1_the_sweep_records_a_client_never_contacted_once(
    frozen_clock, db, make_user, make_client
):
    client = make_client(make_user(Role.ACM), last_contact_at=None)
    assert sweep_overdue() == 1
    clock.advance(timedelta(days=3))
    assert sweep_overdue() == 0
    (event,) = overdue_events(db, client)
    assert event.detail["last_contact_at"] is None
    assert "never contacted" in event.summary


def test_f1_a_lapse_written_while_a_meeting_ran_does_not_hide_the_next_one(
    frozen_clock, db, make_user, make_client, make_contact
):
    """F1: a meeting counts as contact from its start, and is marked held later; a lapse
    the sweep wrote in between belongs to the lapse the meeting ended, not the next one."""
    acm = make_user(Role.ACM)
    start = clock.now()  # Monday 23 Nov 2026, 09:00 UTC
    client = make_client(acm, last_contact_at=start - timedelta(days=7, hours=2))
    contact = make_contact(client)
    meeting = _meeting(client, acm, contact, start + timedelta(days=1))
    db.session.commit()

    clock.advance(timedelta(days=1, minutes=30))  # the meeting began 30 minutes ago
    assert sweep_overdue() == 1  # the lapse before the meeting
    clock.advance(timedelta(minutes=30))
    meetings.mark_held(meeting, actor=acm, recording_link="https://zoom.us/rec/play/1")
    db.session.commit()
    assert client.last_contact_at == meeting.starts_at

    clock.advance(timedelta(days=6, hours=22, minutes=59))  # a minute before the week runs out
    assert sweep_overdue() == 0
    lapsed_at = clock.advance(timedelta(minutes=1))
    assert sweep_overdue() == 1
    assert sweep_overdue() == 0
    assert overdue_events(db, client)[-1].at == lapsed_at


def test_f1_a_weekly_meeting_marked_held_late_each_week_records_each_weeks_lapse(
    frozen_clock, db, make_user, make_client, make_contact
):
    """F1: a weekly meeting in the same slot, each week just after the week ran out, marked
    held an hour after it began: the hourly sweep records each week's lapse once."""
    acm = make_user(Role.ACM)
    slot = clock.now() + timedelta(days=1, minutes=30)  # Tuesdays 09:30 UTC
    client = make_client(acm, last_contact_at=slot - timedelta(days=7))
    contact = make_contact(client)
    weekly = [_meeting(client, acm, contact, slot + timedelta(weeks=week)) for week in range(4)]
    db.session.commit()

    lapses = []
    for week, meeting in enumerate(weekly):
        frozen_clock(meeting.starts_at - timedelta(minutes=31))
        assert sweep_overdue() == 0, f"week {week}: the week has not run out"
        lapses.append(frozen_clock(meeting.starts_at + timedelta(minutes=30)))  # 10:00 sweep
        assert sweep_overdue() == 1, f"week {week}: its lapse"
        assert sweep_overdue() == 0
        frozen_clock(meeting.starts_at + timedelta(hours=1))
        meetings.mark_held(meeting, actor=acm, recording_link="https://zoom.us/rec/play/1")
        db.session.commit()
        frozen_clock(meeting.starts_at + timedelta(hours=1, minutes=30))
        assert sweep_overdue() == 0, f"week {week}: contacted since"
    assert [event.at for event in overdue_events(db, client)] == lapses


def _meeting(client, acm, contact, starts_at):
    """A weekly meeting booked now, with enough notice (F3)."""
    return meetings.schedule_meeting(
        client,
        actor=acm,
        kind="weekly",
        starts_at=starts_at,
        duration_minutes=60,
        zoom_link="https://zoom.us/j/12345678901",
        agenda="Weekly review",
        attendees=[contact],
    )
