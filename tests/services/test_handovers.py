"""P5: a change of the client's point of contact owes a hand-over meeting with the new
one, within HANDOVER_BUSINESS_DAYS business days on the client's team calendar, until a
hand-over meeting is held; shown on the ACM's day, late from its due time."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.models import ContactHandover, TimelineEvent, TimelineKind
from kamportal.services import calendar, clients, day, meetings

CAIRO = ZoneInfo("Africa/Cairo")
ZOOM = "https://us02web.zoom.us/j/81234567890?pwd=abc"


def cairo(*args) -> datetime:
    return datetime(*args, tzinfo=CAIRO).astimezone(UTC)


@pytest.fixture
def world(make_portfolio, frozen_clock):
    """Monday 23 Nov 2026, 11:00 in Cairo; a Sun-Thu Cairo team (9:00-17:00), a client
    whose point of contact is Old Point."""
    frozen_clock(cairo(2026, 11, 23, 11, 0))
    return make_portfolio(
        team={"name": "Cairo"},
        client={"timezone": "Africa/Cairo"},
        contact={"name": "Old Point", "email": "old@store.example", "is_primary": True},
    )


def change_point_of_contact(db, world):
    new = clients.add_contact(
        world.client,
        clients.ContactDetails(name="New Point", email="new@store.example", is_primary=True),
        actor=world.acm,
    )
    db.session.commit()
    return new


def handover_items(world):
    return day.handovers_owed(world.acm, now=clock.now()).items


def hold_meeting(db, world, *, kind: str, starts_at: datetime, contact):
    meeting = meetings.schedule_meeting(
        world.client,
        actor=world.acm,
        kind=kind,
        starts_at=starts_at,
        duration_minutes=30,
        zoom_link=ZOOM,
        agenda="Hand-over",
        attendees=[contact],
    )
    db.session.commit()
    clock.freeze(starts_at + timedelta(minutes=40))
    meetings.mark_held(meeting, actor=world.acm, recording_link="https://zoom.us/rec/share/x")
    db.session.commit()
    return meeting


def test_a_new_point_of_contact_owes_a_hand_over_within_five_business_days_P5(db, world):
    change_point_of_contact(db, world)
    handover = db.session.scalar(select(ContactHandover))
    # Monday's change not counted: Tue, Wed, Thu, Sun, Mon (Fri and Sat off).
    assert handover.due_at == cairo(2026, 11, 30, 17, 0)
    assert (handover.from_name, handover.to_name) == ("Old Point", "New Point")
    event = db.session.scalar(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.CONTACT_UPDATED.value)
    )
    assert "a hand-over meeting is owed by" in event.summary
    [item] = handover_items(world)
    assert item.rule == "P5" and not item.overdue
    assert item.title == "Hand-over meeting with New Point (was Old Point)"
    assert item.note == "Book a hand-over meeting"


@pytest.mark.config(HANDOVER_BUSINESS_DAYS=2)
def test_the_number_of_business_days_is_a_setting_P5(db, world):
    change_point_of_contact(db, world)
    assert db.session.scalar(select(ContactHandover.due_at)) == cairo(2026, 11, 25, 17, 0)


def test_the_hand_over_is_late_from_its_due_time_not_a_second_before_P5(db, world):
    change_point_of_contact(db, world)
    due = cairo(2026, 11, 30, 17, 0)
    clock.freeze(due - timedelta(seconds=1))
    assert not handover_items(world)[0].overdue
    clock.freeze(due)
    assert handover_items(world)[0].overdue


def test_a_booked_hand_over_meeting_shows_on_the_day_P5(db, world):
    new = change_point_of_contact(db, world)
    meeting = meetings.schedule_meeting(
        world.client,
        actor=world.acm,
        kind="handover",
        starts_at=cairo(2026, 11, 25, 12, 0),
        duration_minutes=30,
        zoom_link=ZOOM,
        agenda="Meet the team",
        attendees=[new],
    )
    db.session.commit()
    [item] = handover_items(world)
    assert item.note == "Booked" and item.meeting == meeting


def test_holding_the_hand_over_meeting_ends_what_is_owed_P5(db, world):
    new = change_point_of_contact(db, world)
    meeting = hold_meeting(
        db, world, kind="handover", starts_at=cairo(2026, 11, 25, 12, 0), contact=new
    )
    handover = db.session.scalar(select(ContactHandover))
    assert handover.held_at == meeting.starts_at and handover.meeting_id == meeting.id
    assert handover_items(world) == []


def test_another_kind_of_meeting_does_not_end_it_P5(db, world):
    new = change_point_of_contact(db, world)
    hold_meeting(db, world, kind="weekly", starts_at=cairo(2026, 11, 25, 12, 0), contact=new)
    assert len(handover_items(world)) == 1


def test_a_hand_over_meeting_before_the_change_does_not_count_P5(db, world):
    clock.freeze(cairo(2026, 11, 22, 10, 0))
    meeting = meetings.schedule_meeting(
        world.client,
        actor=world.acm,
        kind="handover",
        starts_at=cairo(2026, 11, 22, 15, 0),
        duration_minutes=60,
        zoom_link=ZOOM,
        agenda="Earlier",
        attendees=[world.contact],
        short_notice_reason="The client asked for today",
    )
    db.session.commit()
    clock.freeze(cairo(2026, 11, 22, 15, 30))
    change_point_of_contact(db, world)  # during the meeting, after it started
    clock.freeze(cairo(2026, 11, 22, 16, 10))
    meetings.mark_held(meeting, actor=world.acm, recording_link="https://zoom.us/rec/share/x")
    db.session.commit()
    assert len(handover_items(world)) == 1


def test_a_holiday_added_in_the_window_moves_the_due_time_and_says_so_P5(db, world):
    change_point_of_contact(db, world)
    calendar.set_calendar_day(
        "EG", date(2026, 11, 26), is_holiday=True, name="Office closed", actor=world.leader
    )
    db.session.commit()
    assert db.session.scalar(select(ContactHandover.due_at)) == cairo(2026, 12, 1, 17, 0)
    recounted = db.session.scalar(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.DEADLINE_RECOUNTED.value)
    )
    assert recounted.summary.startswith("Hand-over meeting with the new point of contact (P5)")


def test_the_first_contact_of_a_client_owes_no_hand_over_P5(db, make_portfolio, frozen_clock):
    portfolio = make_portfolio(client=True)
    clients.add_contact(
        portfolio.client,
        clients.ContactDetails(name="First", email="first@store.example"),
        actor=portfolio.acm,
    )
    db.session.commit()
    assert db.session.scalar(select(ContactHandover)) is None


def test_another_acms_day_does_not_show_it_P5(db, world, make_user):
    change_point_of_contact(db, world)
    stranger = make_user(team=world.team)
    assert day.handovers_owed(stranger, now=clock.now()).items == []


def test_the_day_links_to_the_meeting_form_opened_on_a_hand_over_P5(db, world, login_as):
    change_point_of_contact(db, world)
    http = login_as(world.acm)
    page = http.get("/day/").get_data(as_text=True)
    link = f"/clients/{world.client.id}/meetings/new?kind=handover"
    assert "Hand-over meetings owed" in page and link in page
    form = http.get(link).get_data(as_text=True)
    assert '<option selected value="handover">' in form or ('value="handover" selected' in form)
