"""Minutes of meeting without HTTP: owed after a held meeting or an answered call (G5),
sent through the outbox with the G1 CCs or marked "no requests", onboarding points (O3),
action items until done, and the lists of the ACM's day."""

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from kamportal import clock
from kamportal.errors import DomainError, RuleViolation, ValidationError
from kamportal.models import (
    ActionItem,
    CallOutcome,
    Meeting,
    MeetingStatus,
    MeetingType,
    Minutes,
    MinutesStatus,
    OutboxMessage,
    Role,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import contact_log
from kamportal.services import minutes as minutes_service
from kamportal.services.minutes import ActionItemInput


@pytest.fixture
def team_setup(make_portfolio):
    portfolio = make_portfolio(
        team={"name": "Cairo", "shared_mailbox": "cairo-kam@kam.example"}, client=False
    )
    return portfolio.team, portfolio.leader, portfolio.acm


_uids = itertools.count(1)


@pytest.fixture
def make_meeting(db):
    def make(client, *, organizer, kind=MeetingType.WEEKLY, **fields) -> Meeting:
        now = clock.now()
        values = {
            "client": client,
            "organizer": organizer,
            "kind": kind.value,
            "starts_at": now - timedelta(hours=1),
            "duration_minutes": 30,
            "zoom_link": "https://zoom.us/j/123456789",
            "status": MeetingStatus.HELD.value,
            "uid": f"meeting-{next(_uids)}@kam.example",
            "created_at": now,
            "updated_at": now,
        }
        values.update(fields)
        meeting = Meeting(**values)
        db.session.add(meeting)
        db.session.commit()
        return meeting

    return make


def timeline_kinds(db, client) -> list[str]:
    return list(
        db.session.scalars(
            select(TimelineEvent.kind)
            .where(TimelineEvent.client_id == client.id)
            .order_by(TimelineEvent.id)
        )
    )


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def item(description="Send the product sheet", owner="client", days=3, team=None):
    return ActionItemInput(
        description=description,
        owner=owner,
        due_on=clock.now().date() + timedelta(days=days),
        owner_team=team,
    )


def test_answered_call_owes_minutes_to_the_caller_G5(
    db, make_client, make_contact, team_setup, frozen_clock
):
    _, _, acm = team_setup
    client = make_client(acm=acm)
    contact = make_contact(client)
    event = contact_log.log_call(client, actor=acm, contact=contact, outcome=CallOutcome.ANSWERED)
    db.session.commit()
    owed = db.session.scalars(select(Minutes)).all()
    assert len(owed) == 1
    assert owed[0].call_event_id == event.id
    assert owed[0].owner_id == acm.id
    assert owed[0].status == MinutesStatus.OWED
    assert owed[0].owed_since == clock.now()


@pytest.mark.parametrize("outcome", [o for o in CallOutcome if o is not CallOutcome.ANSWERED])
def test_unanswered_call_owes_no_minutes_G5(
    db, make_client, make_contact, team_setup, frozen_clock, outcome
):
    _, _, acm = team_setup
    client = make_client(acm=acm)
    contact_log.log_call(client, actor=acm, contact=make_contact(client), outcome=outcome)
    db.session.commit()
    assert count(db, Minutes) == 0


def test_held_meeting_owes_minutes_to_its_organizer_once_G5(
    db, make_client, make_user, team_setup, make_meeting, frozen_clock
):
    team, _, acm = team_setup
    organizer = make_user(Role.ACM, team=team)
    client = make_client(acm=acm)
    meeting = make_meeting(client, organizer=organizer)
    first = minutes_service.owe_for_meeting(meeting, at=clock.now())
    clock.advance(timedelta(hours=2))
    again = minutes_service.owe_for_meeting(meeting, at=clock.now())
    db.session.commit()
    assert again.id == first.id
    assert count(db, Minutes) == 1
    assert first.owner_id == organizer.id
    assert first.meeting_id == meeting.id
    assert first.owed_since == clock.now() - timedelta(hours=2)


def test_owing_for_the_same_call_twice_gives_one_minutes_G5(
    db, make_client, make_contact, team_setup, frozen_clock
):
    _, _, acm = team_setup
    client = make_client(acm=acm)
    event = contact_log.log_call(
        client, actor=acm, contact=make_contact(client), outcome=CallOutcome.ANSWERED
    )
    again = minutes_service.owe_for_call(client, event, owner=acm, at=clock.now())
    db.session.commit()
    assert count(db, Minutes) == 1
    assert again.call_event_id == event.id


def test_sending_minutes_emails_the_chosen_contacts_with_g1_ccs_and_the_timeline_G5_G1(
    db, make_client, make_contact, team_setup, make_meeting, frozen_clock
):
    _, leader, acm = team_setup
    client = make_client(acm=acm)
    owner = make_contact(client, name="Mona Adel", email="mona@nile.example")
    make_contact(client, name="Not chosen", email="other@nile.example")
    no_email = make_contact(client, name="Phone only", email=None)
    minutes = minutes_service.owe_for_meeting(make_meeting(client, organizer=acm), at=clock.now())
    message = minutes_service.send_minutes(
        minutes,
        actor=acm,
        agreed_points="- New banners by Thursday\n\n- Weekly call on Sundays at 11:00",
        action_items=[
            item("Send the banner texts", "client", 2),
            item("", "acm", 1),  # blank rows are ignored
            item("Design the banners", "other_team", 4, team="Design"),
        ],
        recipients=[owner, no_email],
    )
    db.session.commit()
    assert message.to_addrs == ["mona@nile.example"]
    assert set(message.cc_addrs) == {acm.email, leader.email, "cairo-kam@kam.example"}
    assert "New banners by Thursday" in message.body
    assert "Weekly call on Sundays at 11:00" in message.body
    assert "Design the banners" in message.body and "Design team" in message.body
    assert "G5" not in message.body and "rule" not in message.body  # what clients see
    assert minutes.status == MinutesStatus.SENT
    assert minutes.outbox_message_id == message.id
    assert minutes.decided_by_id == acm.id and minutes.decided_at == clock.now()
    assert minutes.agreed_points == "New banners by Thursday\nWeekly call on Sundays at 11:00"
    assert [i.description for i in minutes.action_items] == [
        "Send the banner texts",
        "Design the banners",
    ]
    event = db.session.scalar(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.MINUTES_SENT)
    )
    assert event.outbox_message_id == message.id
    assert "Mona Adel" in event.summary


def test_sending_minutes_twice_sends_once_G5(
    db, make_client, make_contact, team_setup, make_meeting, frozen_clock
):
    _, _, acm = team_setup
    client = make_client(acm=acm)
    contact = make_contact(client)
    minutes = minutes_service.owe_for_meeting(make_meeting(client, organizer=acm), at=clock.now())
    for _ in range(2):
        message = minutes_service.send_minutes(
            minutes,
            actor=acm,
            agreed_points="Launch on Monday",
            action_items=[item()],
            recipients=[contact],
        )
    db.session.commit()
    assert count(db, OutboxMessage) == 1
    assert count(db, ActionItem) == 1
    assert timeline_kinds(db, client).count(TimelineKind.MINUTES_SENT) == 1
    assert minutes.outbox_message_id == message.id


@pytest.mark.parametrize(
    ("points", "items", "with_recipient", "field"),
    [
        ("  \n ", [], True, "agreed_points"),
        ("Launch", [], False, "recipients"),
        ("Launch", [ActionItemInput("Call back", "client", None)], True, "action_items-0-due_on"),
        ("Launch", [ActionItemInput("Call back", "nobody", date(2026, 12, 1))], True, None),
        (
            "Launch",
            [ActionItemInput("", "acm", None), ActionItemInput("Fix", "other_team", date.today())],
            True,
            "action_items-1-owner_team",
        ),
    ],
)
def test_minutes_are_refused_without_points_recipient_or_due_date_G5(
    db, make_client, make_contact, team_setup, make_meeting, points, items, with_recipient, field
):
    _, _, acm = team_setup
    client = make_client(acm=acm)
    contact = make_contact(client)
    minutes = minutes_service.owe_for_meeting(make_meeting(client, organizer=acm), at=clock.now())
    with pytest.raises(DomainError) as raised:
        minutes_service.send_minutes(
            minutes,
            actor=acm,
            agreed_points=points,
            action_items=items,
            recipients=[contact] if with_recipient else [],
        )
    if field:
        assert raised.value.field == field
    assert minutes.status == MinutesStatus.OWED
    assert count(db, OutboxMessage) == 0


def test_another_clients_contact_is_never_a_recipient_G5(
    db, make_client, make_contact, team_setup, make_meeting
):
    _, _, acm = team_setup
    client = make_client(acm=acm)
    stranger = make_contact(make_client(acm=acm))
    minutes = minutes_service.owe_for_meeting(make_meeting(client, organizer=acm), at=clock.now())
    with pytest.raises(ValidationError) as raised:
        minutes_service.send_minutes(
            minutes, actor=acm, agreed_points="x", action_items=[], recipients=[stranger]
        )
    assert raised.value.field == "recipients"


def test_no_requests_is_recorded_and_nothing_is_sent_G5(
    db, make_client, make_contact, team_setup, frozen_clock
):
    _, _, acm = team_setup
    client = make_client(acm=acm)
    contact_log.log_call(client, actor=acm, contact=make_contact(client), outcome="answered")
    minutes = db.session.scalar(select(Minutes))
    minutes_service.mark_no_requests(minutes, actor=acm)
    minutes_service.mark_no_requests(minutes, actor=acm)
    db.session.commit()
    assert minutes.status == MinutesStatus.NO_REQUESTS
    assert minutes.decided_by_id == acm.id and minutes.decided_at == clock.now()
    assert count(db, OutboxMessage) == 0
    assert timeline_kinds(db, client) == [TimelineKind.CALL, TimelineKind.MINUTES_NO_REQUESTS]
    assert minutes_service.owed_minutes_for(acm) == []
    with pytest.raises(RuleViolation):
        minutes_service.send_minutes(
            minutes, actor=acm, agreed_points="x", action_items=[], recipients=[]
        )


def test_onboarding_minutes_offer_the_seed_points_and_must_be_completed_O3(
    db, make_client, make_contact, team_setup, make_meeting
):
    _, _, acm = team_setup
    client = make_client(acm=acm)
    contact = make_contact(client)
    onboarding = minutes_service.owe_for_meeting(
        make_meeting(client, organizer=acm, kind=MeetingType.ONBOARDING), at=clock.now()
    )
    weekly = minutes_service.owe_for_meeting(make_meeting(client, organizer=acm), at=clock.now())
    offered = minutes_service.default_agreed_points(onboarding)
    assert "LMS service roadmap" in offered
    assert "Weekly meeting or call (day and time)" in offered
    assert "Communication channels" in offered
    assert minutes_service.default_agreed_points(weekly) == ""
    with pytest.raises(RuleViolation) as raised:
        minutes_service.send_minutes(
            onboarding, actor=acm, agreed_points=offered, action_items=[], recipients=[contact]
        )
    assert raised.value.rule == "O3" and "LMS service roadmap" in raised.value.message
    with pytest.raises(RuleViolation) as raised:
        minutes_service.mark_no_requests(onboarding, actor=acm)
    assert raised.value.rule == "O3"
    completed = (
        "LMS service roadmap: products by 1 Dec, payment and shipping by 8 Dec\n"
        "Weekly meeting or call (day and time): Sundays at 11:00 Cairo time\n"
        "Communication channels: email, calls from the portal"
    )
    message = minutes_service.send_minutes(
        onboarding, actor=acm, agreed_points=completed, action_items=[], recipients=[contact]
    )
    assert "Sundays at 11:00 Cairo time" in message.body
    assert message.subject.startswith("Minutes: Onboarding meeting on")


def test_action_items_stay_open_until_done_G5(
    db, make_client, make_contact, team_setup, make_meeting, frozen_clock
):
    _, _, acm = team_setup
    client = make_client(acm=acm)
    minutes = minutes_service.owe_for_meeting(make_meeting(client, organizer=acm), at=clock.now())
    minutes_service.send_minutes(
        minutes,
        actor=acm,
        agreed_points="Launch",
        action_items=[item("Later", days=10), item("Soon", days=1), item("Next", days=4)],
        recipients=[make_contact(client)],
    )
    db.session.commit()
    assert [i.description for i in minutes_service.open_action_items_for(acm)] == [
        "Soon",
        "Next",
        "Later",
    ]
    due_by = clock.now().date() + timedelta(days=4)
    soon, next_, _ = minutes_service.open_action_items_for(acm)
    assert minutes_service.open_action_items_for(acm, due_by=due_by) == [soon, next_]
    minutes_service.complete_action_item(soon, actor=acm)
    minutes_service.complete_action_item(soon, actor=acm)
    db.session.commit()
    assert soon.done_at == clock.now() and soon.done_by_id == acm.id
    assert minutes_service.minutes_of_client(client).open_items == [next_, _]
    assert timeline_kinds(db, client).count(TimelineKind.ACTION_DONE) == 1


def test_owed_minutes_are_listed_oldest_first_with_how_long_owed_G5(
    db, make_client, make_contact, make_user, team_setup, make_meeting, frozen_clock
):
    team, _, acm = team_setup
    other = make_user(Role.ACM, team=team)
    first_client, second_client = make_client(acm=acm), make_client(acm=acm)
    contact_log.log_call(
        second_client, actor=acm, contact=make_contact(second_client), outcome="answered"
    )
    clock.advance(timedelta(minutes=30))
    newest = minutes_service.owe_for_meeting(
        make_meeting(first_client, organizer=acm), at=clock.now()
    )
    minutes_service.owe_for_meeting(make_meeting(first_client, organizer=other), at=clock.now())
    db.session.commit()
    owed = minutes_service.owed_minutes_for(acm)
    assert [m.client_id for m in owed] == [second_client.id, first_client.id]
    assert owed[1].id == newest.id
    assert minutes_service.owed_label(owed[0]) == "owed for less than an hour"
    clock.advance(timedelta(hours=5))
    assert minutes_service.owed_label(owed[0]) == "owed for 5 hours"
    assert minutes_service.owed_for(owed[0]) == timedelta(hours=5, minutes=30)
    clock.advance(timedelta(days=3))
    assert minutes_service.owed_label(owed[0]) == "owed for 3 days"


def test_owed_minutes_and_action_items_load_in_one_query_each(
    db, make_client, make_contact, team_setup, make_meeting, frozen_clock
):
    from sqlalchemy import event

    _, _, acm = team_setup
    for _ in range(3):
        client = make_client(acm=acm)
        contact_log.log_call(client, actor=acm, contact=make_contact(client), outcome="answered")
        minutes = minutes_service.owe_for_meeting(
            make_meeting(client, organizer=acm), at=clock.now()
        )
        minutes_service.send_minutes(
            minutes,
            actor=acm,
            agreed_points="x",
            action_items=[item()],
            recipients=client.contacts,
        )
    db.session.commit()
    db.session.expire_all()
    db.session.refresh(acm)
    statements: list[str] = []

    def count_statement(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count_statement)
    try:
        owed = minutes_service.owed_minutes_for(acm)
        items = minutes_service.open_action_items_for(acm)
        names = [m.client.store_name for m in owed] + [i.client.store_name for i in items]
        labels = [minutes_service.subject_of(m) for m in owed]
    finally:
        event.remove(db.engine, "before_cursor_execute", count_statement)
    assert len(owed) == 3 and len(items) == 3 and len(names) == 6 and len(labels) == 3
    assert len(statements) == 2, statements
