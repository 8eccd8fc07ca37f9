"""Minutes of meeting over HTTP (G5, O3): the client page's panel, the form and its 422s,
"no requests", action items done in place, and an email that really arrives."""

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kamportal import clock
from kamportal.models import (
    ActionItem,
    Meeting,
    MeetingStatus,
    MeetingType,
    Minutes,
    MinutesStatus,
    OutboxMessage,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import minutes as minutes_service
from kamportal.services.minutes import ActionItemInput

HTMX = {"HX-Request": "true"}
_uids = itertools.count(1)
# The form's action items are due on fixed dates: today is the clock's 23 Nov 2026.
pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
def owed(db, make_client, make_contact):
    """Minutes owed after a held meeting of `acm`'s client, with one contact attending."""

    def make(acm, *, kind=MeetingType.WEEKLY):
        client = make_client(acm=acm, store_name="Nile Threads")
        contact = make_contact(client, name="Sara", email="sara@nile.example")
        now = clock.now()
        meeting = Meeting(
            client=client,
            organizer=acm,
            kind=kind.value,
            starts_at=now - timedelta(hours=2),
            zoom_link="https://zoom.us/j/123456789",
            status=MeetingStatus.HELD.value,
            uid=f"bp-meeting-{next(_uids)}@kam.example",
            created_at=now,
            updated_at=now,
            attendees=[contact],
        )
        db.session.add(meeting)
        db.session.flush()
        minutes = minutes_service.owe_for_meeting(meeting, at=now - timedelta(hours=1))
        db.session.commit()
        return minutes, client, contact

    return make


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def form_data(contact, **fields) -> dict:
    data = {
        "agreed_points": "Banners by Thursday\nWeekly call on Sundays at 11:00",
        "recipients": [contact.id],
        "action_items-0-description": "Send the banner texts",
        "action_items-0-owner": "client",
        "action_items-0-due_on": "2026-11-26",
        "action_items-1-description": "Design the banners",
        "action_items-1-owner": "other_team",
        "action_items-1-owner_team": "Design",
        "action_items-1-due_on": "2026-11-29",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def test_client_page_lists_owed_minutes_with_how_long_and_a_link_G5(
    login_as, cairo, owed, frozen_clock
):
    _, _, acm, _ = cairo
    minutes, client, _ = owed(acm)
    clock.advance(timedelta(hours=2))
    page = login_as(acm).get(f"/clients/{client.id}?tab=meetings").get_data(as_text=True)
    assert 'id="client-minutes"' in page
    assert "owed for 3 hours" in page
    assert f'href="/minutes/{minutes.id}"' in page
    assert "No requests" in page


def test_the_form_sends_the_minutes_and_the_email_arrives_with_points_and_actions_G5_G1(
    login_as, cairo, owed, db, run_jobs, smtp_server, frozen_clock
):
    _, leader, acm, _ = cairo
    minutes, client, contact = owed(acm)
    http = login_as(acm)
    page = http.get(f"/minutes/{minutes.id}").get_data(as_text=True)
    assert 'name="action_items-4-due_on"' in page  # five rows
    assert "checked" in page and "sara@nile.example" in page  # the attendee is chosen
    response = http.post(f"/minutes/{minutes.id}", data=form_data(contact))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/clients/{client.id}?tab=meetings"
    http.post(f"/minutes/{minutes.id}", data=form_data(contact))  # a double click sends once
    run_jobs()

    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    assert email["To"] == "sara@nile.example"
    assert set(email["Cc"].split(", ")) == {acm.email, leader.email, "cairo-kam@kam.example"}
    assert email["Subject"].startswith("Minutes: Weekly follow-up meeting on")
    body = email.get_content()
    assert "Banners by Thursday" in body and "Weekly call on Sundays at 11:00" in body
    assert "Send the banner texts" in body and "Due: 26 Nov 2026" in body
    assert "Design the banners" in body and "Design team" in body
    assert "G5" not in body and "rule" not in body  # what clients see
    db.session.expire_all()
    assert db.session.get(Minutes, minutes.id).status == MinutesStatus.SENT
    assert count(db, ActionItem) == 2
    panel = http.get(f"/clients/{client.id}?tab=meetings").get_data(as_text=True)
    assert "No minutes owed." in panel and "Design the banners" in panel


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"recipients": None}, "Choose at least one of the client"),
        ({"action_items-0-due_on": ""}, "An action needs a due date."),
        ({"action_items-0-due_on": "2026-11-22"}, "Due today or later"),
        ({"action_items-0-due_on": "2029-11-23"}, "Due today or later"),
        ({"action_items-0-due_on": "9999-12-31"}, "Give a date from 1 Jan 2000"),
        ({"agreed_points": "  "}, "write at least one"),
        ({"action_items-1-owner_team": ""}, "Say which team owns the action."),
    ],
)
def test_the_form_refuses_bad_minutes_with_422_and_field_errors_G5(
    login_as, cairo, owed, db, fields, error
):
    _, _, acm, _ = cairo
    minutes, _, contact = owed(acm)
    response = login_as(acm).post(f"/minutes/{minutes.id}", data=form_data(contact, **fields))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error in page and 'class="error"' in page
    assert count(db, OutboxMessage) == 0
    assert count(db, ActionItem) == 0


def test_onboarding_form_offers_the_seed_points_O3(login_as, cairo, owed):
    _, _, acm, _ = cairo
    minutes, _, contact = owed(acm, kind=MeetingType.ONBOARDING)
    http = login_as(acm)
    page = http.get(f"/minutes/{minutes.id}").get_data(as_text=True)
    assert "LMS service roadmap:" in page
    assert "Weekly meeting or call (day and time):" in page
    assert "Communication channels:" in page
    assert f"/minutes/{minutes.id}/no-requests" not in page  # O3: always sent
    untouched = "LMS service roadmap:\nWeekly meeting or call (day and time):\n"
    response = http.post(f"/minutes/{minutes.id}", data=form_data(contact, agreed_points=untouched))
    assert response.status_code == 422
    assert "Complete" in response.get_data(as_text=True)


def test_no_requests_is_recorded_from_the_panel_and_nothing_is_sent_G5(login_as, cairo, owed, db):
    _, _, acm, _ = cairo
    minutes, client, _ = owed(acm)
    response = login_as(acm).post(f"/minutes/{minutes.id}/no-requests", headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'id="client-minutes"' in body and "No minutes owed." in body
    assert "timeline-changed" in response.headers["HX-Trigger"]
    db.session.expire_all()
    assert db.session.get(Minutes, minutes.id).status == MinutesStatus.NO_REQUESTS
    assert count(db, OutboxMessage) == 0
    assert db.session.scalar(
        select(TimelineEvent.kind).where(TimelineEvent.client_id == client.id)
    ) == (TimelineKind.MINUTES_NO_REQUESTS)


def test_onboarding_minutes_cannot_be_marked_no_requests_O3(login_as, cairo, owed, db):
    _, _, acm, _ = cairo
    minutes, _, _ = owed(acm, kind=MeetingType.ONBOARDING)
    response = login_as(acm).post(f"/minutes/{minutes.id}/no-requests", headers=HTMX)
    assert response.status_code == 422
    assert "onboarding meeting always needs minutes" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Minutes, minutes.id).status == MinutesStatus.OWED


def test_no_requests_without_htmx_redirects_to_the_client_page_G5(login_as, cairo, owed):
    _, _, acm, _ = cairo
    minutes, client, _ = owed(acm)
    response = login_as(acm).post(f"/minutes/{minutes.id}/no-requests")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/clients/{client.id}?tab=meetings#client-minutes"


def test_done_swaps_the_action_item_row_in_place(login_as, cairo, owed, db, frozen_clock):
    _, _, acm, _ = cairo
    minutes, client, contact = owed(acm)
    minutes_service.send_minutes(
        minutes,
        actor=acm,
        agreed_points="Launch",
        action_items=[ActionItemInput("Upload the products", "client", clock.now().date())],
        recipients=[contact],
    )
    db.session.commit()
    item = db.session.scalar(select(ActionItem))
    http = login_as(acm)
    assert f'id="action-item-{item.id}"' in http.get(f"/clients/{client.id}?tab=meetings").get_data(
        as_text=True
    )
    response = http.post(f"/action-items/{item.id}/done", headers=HTMX)
    assert response.status_code == 200
    row = response.get_data(as_text=True)
    assert f'<tr id="action-item-{item.id}">' in row and "Done 23 Nov 2026" in row
    assert "<form" not in row
    db.session.expire_all()
    assert db.session.get(ActionItem, item.id).done_by_id == acm.id
    assert "No open action items." in http.get(f"/clients/{client.id}?tab=meetings").get_data(
        as_text=True
    )


def test_another_acms_minutes_and_items_are_hidden_404(login_as, cairo, owed, db):
    _, _, acm, other = cairo
    minutes, client, contact = owed(acm)
    minutes_service.send_minutes(
        minutes,
        actor=acm,
        agreed_points="Launch",
        action_items=[ActionItemInput("Upload the products", "client", clock.now().date())],
        recipients=[contact],
    )
    db.session.commit()
    second, _, _ = owed(acm)
    item = db.session.scalar(select(ActionItem))
    http = login_as(other)
    assert http.get(f"/minutes/{second.id}").status_code == 404
    assert http.post(f"/minutes/{second.id}", data=form_data(contact)).status_code == 404
    assert http.post(f"/minutes/{second.id}/no-requests").status_code == 404
    assert http.post(f"/action-items/{item.id}/done", headers=HTMX).status_code == 404
    assert http.get(f"/minutes/client/{client.id}", headers=HTMX).status_code == 404
    db.session.expire_all()
    assert db.session.get(Minutes, second.id).status == MinutesStatus.OWED
    assert db.session.get(ActionItem, item.id).done_at is None


def test_the_teams_leader_may_send_the_minutes_G5(login_as, cairo, owed, db):
    _, leader, acm, _ = cairo
    minutes, _, contact = owed(acm)
    response = login_as(leader).post(f"/minutes/{minutes.id}", data=form_data(contact))
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Minutes, minutes.id).decided_by_id == leader.id


def test_the_panel_refreshes_after_an_answered_call_is_logged_G5(
    login_as, cairo, make_client, make_contact, frozen_clock
):
    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    contact = make_contact(client, name="Sara")
    http = login_as(acm)
    logged = http.post(
        f"/clients/{client.id}/calls",
        data={"contact": contact.id, "outcome": "answered", "notes": ""},
        headers=HTMX,
    )
    assert "timeline-changed" in logged.headers["HX-Trigger"]
    panel = http.get(f"/minutes/client/{client.id}", headers=HTMX).get_data(as_text=True)
    assert "Call on 23 Nov 2026" in panel
    assert "owed for less than an hour" in panel
