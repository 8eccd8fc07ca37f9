"""The admin's business calendar per country (F2, E2, O2) through HTTP: public holidays of
this year and next, adding a holiday, moving one (public holiday worked + new day off),
removing a day, 422 on bad input, audited; admins only."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from kamportal import queue
from kamportal.models import AuditEvent, CalendarDay, Escalation, Role
from kamportal.services import escalations

HTMX = {"HX-Request": "true"}


@pytest.fixture
def admin_client(login_as):
    return login_as(Role.ADMIN)


def days(db) -> list[tuple[str, date, bool]]:
    rows = db.session.execute(
        select(CalendarDay.country, CalendarDay.day, CalendarDay.is_holiday).order_by(
            CalendarDay.day
        )
    )
    return [tuple(row) for row in rows]


def test_the_page_lists_the_countrys_public_holidays_this_year_and_next(admin_client, frozen_clock):
    page = admin_client.get("/admin/calendar?country=EG").get_data(as_text=True)
    assert "Business calendar: Egypt" in page
    assert "Wed 07 Jan 2026" in page and "Coptic Christmas Day" in page
    assert "Thu 07 Jan 2027" in page
    assert "Mark as working day" in page


def test_an_admin_adds_a_holiday_and_it_is_audited(admin_client, frozen_clock, db):
    response = admin_client.post(
        "/admin/calendar/days",
        data={"country": "EG", "day": "2026-11-24", "name": "Office closed", "kind": "holiday"},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'id="calendar-panel"' in body
    assert "Office closed" in body and "Holiday added by an admin" in body
    assert days(db) == [("EG", date(2026, 11, 24), True)]
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "calendarday"))
    assert (event.action, event.actor_id) == ("calendar.add_holiday", admin_client.user.id)


def test_moving_a_public_holiday_marks_it_worked_and_adds_the_new_day(
    admin_client, frozen_clock, db
):
    admin_client.post(
        "/admin/calendar/days",
        data={"country": "EG", "day": "2026-01-07", "name": "Coptic Christmas", "kind": "working"},
    )
    response = admin_client.post(
        "/admin/calendar/days",
        data={"country": "EG", "day": "2026-01-08", "name": "Coptic Christmas", "kind": "holiday"},
    )
    assert response.status_code == 303
    assert days(db) == [("EG", date(2026, 1, 7), False), ("EG", date(2026, 1, 8), True)]
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Working day (public holiday moved)" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"day": "2026-01-07", "name": "Again", "kind": "holiday"}, "already a public holiday"),
        ({"day": "", "name": "No day", "kind": "holiday"}, "This field is required"),
        ({"day": "2026-11-24", "name": "", "kind": "holiday"}, "This field is required"),
        ({"day": "2026-11-24", "name": "X", "country": "XX"}, "Choose a country"),
    ],
)
def test_bad_days_are_refused_with_422(admin_client, frozen_clock, db, data, message):
    response = admin_client.post(
        "/admin/calendar/days", data={"country": "EG", **data}, headers=HTMX
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert days(db) == []


def test_an_admin_removes_a_day(admin_client, frozen_clock, db):
    admin_client.post(
        "/admin/calendar/days",
        data={"country": "SA", "day": "2026-11-24", "name": "Closed", "kind": "holiday"},
    )
    [day] = db.session.scalars(select(CalendarDay)).all()
    response = admin_client.post(f"/admin/calendar/days/{day.id}/delete", headers=HTMX)
    assert response.status_code == 200
    assert "Closed" not in response.get_data(as_text=True)
    assert days(db) == []
    assert admin_client.post("/admin/calendar/days/999/delete").status_code == 404


@pytest.mark.parametrize("role", [Role.ACM, Role.LEADER, Role.FINANCE])
def test_only_admins_reach_the_calendar(login_as, frozen_clock, db, role):
    http = login_as(role)
    assert http.get("/admin/calendar").status_code == 403
    data = {"country": "EG", "day": "2026-11-24", "name": "X", "kind": "holiday"}
    assert http.post("/admin/calendar/days", data=data).status_code == 403
    assert days(db) == []


def test_a_holiday_added_over_a_pending_step_moves_it_and_the_timeline_says_so(
    login_as, frozen_clock, db, make_portfolio, app
):
    """Time, E2: the admin declares Sunday 29 Nov a holiday in Egypt; the escalation's
    WhatsApp step due that day moves to Monday, its job with it, and the client's
    timeline says so in the reader's zone (the admin's: UTC)."""
    frozen_clock(datetime(2026, 11, 26, 13, 0, tzinfo=UTC))  # Thursday 15:00 in Cairo
    portfolio = make_portfolio(
        team={"escalation_whatsapp_after_hours": 4},
        leader=False,
        contact={"email": "karim@store.example", "is_primary": True},
    )
    acm, client = portfolio.acm, portfolio.client
    escalation = escalations.raise_escalation(
        client, actor=acm, trigger="asked_for_manager", said="Your manager.", channel="call"
    )
    escalations.log_escalation_call(escalation, actor=acm, outcome="no_answer")
    db.session.commit()
    assert escalation.step_due_at == datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    admin_client = login_as(Role.ADMIN)

    response = admin_client.post(
        "/admin/calendar/days",
        data={"country": "EG", "day": "2026-11-29", "name": "Office closed", "kind": "holiday"},
        headers=HTMX,
    )
    assert response.status_code == 200
    db.session.expire_all()
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert db.session.get(Escalation, escalation.id).step_due_at == monday
    assert queue.scheduled_at(f"escalation-{escalation.id}-whatsapp", app=app) == monday
    page = admin_client.get(f"/clients/{client.id}").get_data(as_text=True)
    assert "Due time recounted" in page
    assert "now due 30 Nov 2026 09:00 UTC instead of 29 Nov 2026 09:00 UTC" in page
