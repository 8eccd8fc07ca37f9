"""Pending business-hour deadlines follow their calendar (Time; O2, E2, F2): a holiday an
admin adds, moves or removes, or a team's zone, week, hours or waits changed, counts
again the welcome email's due time, the escalation's next step and the no-reply WhatsApp
still pending; the moved steps' jobs are scheduled again under their ids; the recount is
on each client's timeline and in the audit log. What is not pending stays as it is."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kamportal import clock, queue
from kamportal.models import (
    AuditEvent,
    CallOutcome,
    Escalation,
    NoReplyLadder,
    Role,
    TimelineEvent,
    TimelineKind,
    WelcomeEmail,
)
from kamportal.services import accounts, calendar, clients, contact_log, escalations
from tests.conftest import registered_client

CAIRO = ZoneInfo("Africa/Cairo")
# Thursday 26 Nov 2026, 15:00 in Cairo: two business hours left in a Sun-Thu week.
THURSDAY_AFTERNOON = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
# + 4 business hours (E2's WhatsApp wait, F2's wait): 2 on Thursday, 2 on Sunday.
SUNDAY_11_CAIRO = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
MONDAY_11_CAIRO = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SUNDAY = date(2026, 11, 29)


def cairo(*args: int) -> datetime:
    return datetime(*args, tzinfo=CAIRO).astimezone(UTC)


@pytest.fixture
def world(make_portfolio, make_user, make_client, make_contact, db, frozen_clock):
    """A Cairo team (Sun-Thu 9-17) with, on Thursday afternoon, an escalation waiting on
    its WhatsApp step, a no-reply ladder waiting on its WhatsApp, and a welcome email owed.
    """
    frozen_clock(THURSDAY_AFTERNOON)
    portfolio = make_portfolio(
        team={
            "name": "Cairo",
            "escalation_whatsapp_after_hours": 4,
            "escalation_leader_after_hours": 8,
            "no_reply_whatsapp_after_hours": 4,
            "followup_email_auto": True,
        },
        leader=False,
        acm={"name": "Mona Adel"},
        client={"store_name": "Escalated"},
        contact={"email": "karim@store.example", "is_primary": True},
    )
    team, acm, escalated = portfolio.team, portfolio.acm, portfolio.client
    admin = make_user(Role.ADMIN, name="Adam Admin")
    escalation = escalations.raise_escalation(
        escalated, actor=acm, trigger="asked_for_manager", said="Your manager.", channel="call"
    )
    escalations.log_escalation_call(escalation, actor=acm, outcome="no_answer")

    unanswered = make_client(acm=acm, store_name="Unanswered")
    contact = make_contact(unanswered, email="nadia@store.example")
    contact_log.log_call(unanswered, actor=acm, contact=contact, outcome=CallOutcome.NO_ANSWER)

    onboarding = registered_client(
        actor=acm, store_name="Onboarding", store_code="ONB01", subscribed_at=THURSDAY_AFTERNOON
    )
    db.session.commit()
    ladder = db.session.scalars(select(NoReplyLadder)).one()
    welcome = db.session.scalars(select(WelcomeEmail)).one()
    assert escalation.step_due_at == SUNDAY_11_CAIRO
    assert ladder.whatsapp_due_at == SUNDAY_11_CAIRO
    # 48 business hours: 2 on Thursday, 40 in the next week, 6 on Sunday 6 Dec.
    assert welcome.due_at == cairo(2026, 12, 6, 15, 0)
    return {
        "team": team,
        "acm": acm,
        "admin": admin,
        "escalation": escalation,
        "ladder": ladder,
        "welcome": welcome,
        "clients": (escalated, unanswered, onboarding),
    }


def recounts(db, client) -> list[TimelineEvent]:
    return list(
        db.session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.client_id == client.id)
            .where(TimelineEvent.kind == TimelineKind.DEADLINE_RECOUNTED.value)
            .order_by(TimelineEvent.id)
        )
    )


def recount_audits(db) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "deadlines.recount")
            .order_by(AuditEvent.id)
        )
    )


def due_times(world) -> tuple[datetime, datetime, datetime]:
    return (
        world["escalation"].step_due_at,
        world["ladder"].whatsapp_due_at,
        world["welcome"].due_at,
    )


def team_settings(team, **changes) -> dict:
    settings = {
        "name": team.name,
        "country": team.country,
        "timezone": team.timezone,
        "working_days": team.working_weekdays,
        "workday_starts": team.workday_starts,
        "workday_ends": team.workday_ends,
        "leader": team.leader,
    }
    return settings | changes


def test_a_holiday_added_on_the_due_day_moves_every_pending_deadline(app, world, db):
    """Time: an admin declares Sunday a holiday; the E2 step and the F2 WhatsApp due on it
    move to Monday, the welcome email a business day later (O2)."""
    escalation, ladder = world["escalation"], world["ladder"]
    calendar.set_calendar_day(
        "EG", SUNDAY, is_holiday=True, name="Office closed", actor=world["admin"]
    )
    db.session.commit()

    assert due_times(world) == (MONDAY_11_CAIRO, MONDAY_11_CAIRO, cairo(2026, 12, 7, 15, 0))
    # The jobs are scheduled again at the new time, under the same ids.
    assert queue.scheduled_at(f"escalation-{escalation.id}-whatsapp", app=app) == MONDAY_11_CAIRO
    assert queue.scheduled_at(f"ladder-{ladder.id}-whatsapp", app=app) == MONDAY_11_CAIRO

    escalated, unanswered, onboarding = world["clients"]
    [moved] = recounts(db, escalated)
    assert moved.actor_id == world["admin"].id
    assert moved.summary_parts == [
        f"Escalation #{escalation.id}: the WhatsApp step (E2) now due ",
        MONDAY_11_CAIRO,
        " instead of ",
        SUNDAY_11_CAIRO,
        ": 29 Nov 2026 made a holiday in EG (Office closed)",
    ]
    assert recounts(db, unanswered)[0].summary_parts[1] == MONDAY_11_CAIRO
    assert recounts(db, onboarding)[0].summary_parts[1] == cairo(2026, 12, 7, 15, 0)
    [audit] = recount_audits(db)
    assert audit.actor_id == world["admin"].id and audit.object_type == "calendarday"
    assert {line["what"] for line in audit.after["moved"]} == {"welcome", "escalation", "whatsapp"}


def test_removing_the_holiday_moves_them_back(app, world, db):
    day = calendar.set_calendar_day("EG", SUNDAY, is_holiday=True, name="Closed", actor=None)
    db.session.commit()
    calendar.remove_calendar_day(day, actor=world["admin"])
    db.session.commit()
    assert due_times(world) == (SUNDAY_11_CAIRO, SUNDAY_11_CAIRO, cairo(2026, 12, 6, 15, 0))
    job = f"escalation-{world['escalation'].id}-whatsapp"
    assert queue.scheduled_at(job, app=app) == SUNDAY_11_CAIRO
    assert len(recount_audits(db)) == 2


def test_a_holiday_that_covers_no_pending_hour_moves_nothing(app, world, db):
    """A day after every deadline, or a holiday of another country: nothing to recount,
    and nothing recorded."""
    before = due_times(world)
    calendar.set_calendar_day("EG", date(2026, 12, 20), is_holiday=True, name="X", actor=None)
    calendar.set_calendar_day("SA", SUNDAY, is_holiday=True, name="Riyadh closed", actor=None)
    db.session.commit()
    assert due_times(world) == before
    assert recount_audits(db) == []
    assert all(recounts(db, client) == [] for client in world["clients"])


def test_a_working_day_set_on_a_weekend_brings_the_deadlines_forward(app, world, db):
    """Time: Friday 27 Nov made a working day: 2 of the 4 hours are worked then."""
    calendar.set_calendar_day(
        "EG", date(2026, 11, 27), is_holiday=False, name="Working Friday", actor=None
    )
    db.session.commit()
    friday_11_cairo = cairo(2026, 11, 27, 11, 0)
    assert due_times(world)[:2] == (friday_11_cairo, friday_11_cairo)
    job = f"ladder-{world['ladder'].id}-whatsapp"
    assert queue.scheduled_at(job, app=app) == friday_11_cairo


def test_the_teams_zone_changed_moves_the_deadlines(app, world, db):
    """Time: the team now works 9-17 in London: Thursday 13:00 UTC is 13:00 there, so the
    4 business hours end at 17:00 London the same day."""
    team = world["team"]
    accounts.update_team(
        team, actor=world["admin"], **team_settings(team, timezone="Europe/London")
    )
    db.session.commit()
    london_17 = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
    assert due_times(world)[:2] == (london_17, london_17)
    job = f"escalation-{world['escalation'].id}-whatsapp"
    assert queue.scheduled_at(job, app=app) == london_17
    [audit] = recount_audits(db)
    assert audit.object_type == "team" and "timezone" in audit.after["reason"]


def test_the_teams_week_hours_and_waits_changed_move_the_deadlines(world, db):
    """Mon-Fri: Friday is worked (Fri 11:00); then 9-18 hours, 3 hours left on Thursday
    (Fri 10:00); then a 6-hour WhatsApp wait for E2 (Fri 12:00) while F2's 4 hours stay."""
    team, admin = world["team"], world["admin"]
    accounts.update_team(team, actor=admin, **team_settings(team, working_days=[1, 2, 3, 4, 5]))
    db.session.commit()
    assert due_times(world)[:2] == (cairo(2026, 11, 27, 11, 0), cairo(2026, 11, 27, 11, 0))

    accounts.update_team(
        team, actor=admin, **team_settings(team, workday_starts=time(9), workday_ends=time(18))
    )
    db.session.commit()
    assert due_times(world)[:2] == (cairo(2026, 11, 27, 10, 0), cairo(2026, 11, 27, 10, 0))

    accounts.update_team(
        team, actor=admin, **team_settings(team, escalation_whatsapp_after_hours=6)
    )
    db.session.commit()
    assert due_times(world)[:2] == (cairo(2026, 11, 27, 12, 0), cairo(2026, 11, 27, 10, 0))


def test_a_team_change_that_is_not_its_calendar_moves_nothing(world, db):
    team = world["team"]
    accounts.update_team(
        team, actor=world["admin"], **team_settings(team, shared_mailbox="cairo@kam.example")
    )
    db.session.commit()
    assert recount_audits(db) == []


def test_a_paused_or_stopped_ladder_is_not_pending_and_stays(world, db):
    """An escalation paused by a reply counts its wait afresh when it resumes; a no-reply
    ladder the client answered has nothing pending."""
    escalation = world["escalation"]
    escalated, unanswered, _ = world["clients"]
    escalations.pause_on_client_reply(escalated, at=clock.now(), reason="email received")
    contact_log.log_email(
        unanswered, actor=world["acm"], contact=None, direction="received", subject="Re: call"
    )
    db.session.commit()
    calendar.set_calendar_day("EG", SUNDAY, is_holiday=True, name="Closed", actor=None)
    db.session.commit()
    assert escalation.step_due_at == SUNDAY_11_CAIRO  # paused: counted afresh on resume
    assert recounts(db, escalated) == [] and recounts(db, unanswered) == []
    assert [line["what"] for line in recount_audits(db)[0].after["moved"]] == ["welcome"]

    clock.advance(timedelta(minutes=5))
    escalations.resume_ladder(escalation, actor=world["acm"], note="No reply after all")
    db.session.commit()
    # 5 minutes into Thursday's 2 hours left, then Monday (Sunday is a holiday now).
    assert escalation.step_due_at == cairo(2026, 11, 30, 11, 5)


def test_a_client_moved_to_a_team_on_another_calendar_is_counted_on_it(
    world, db, make_team, make_user
):
    """E2 and F2 too, not only O2: the reassigned client's pending steps follow the new
    team's calendar (London, Mon-Fri 9-17)."""
    london = make_team(
        name="London",
        country="GB",
        timezone="Europe/London",
        working_days="1,2,3,4,5",
        no_reply_whatsapp_after_hours=4,
        escalation_whatsapp_after_hours=4,
    )
    new_acm = make_user(Role.ACM, team=london, name="Liam Smith")
    escalated, unanswered, _ = world["clients"]
    clients.reassign_client(escalated, actor=world["admin"], new_acm=new_acm, reason="UK office")
    db.session.commit()
    london_17 = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
    assert world["escalation"].step_due_at == london_17
    assert world["ladder"].whatsapp_due_at == SUNDAY_11_CAIRO  # another client

    # An ACM moving team takes their clients to the new team's calendar.
    acm = world["acm"]
    accounts.update_user(
        acm,
        actor=world["admin"],
        name=acm.name,
        roles=acm.roles,
        team=london,
        timezone=acm.timezone,
        phone=acm.phone,
        booking_link=acm.booking_link,
    )
    db.session.commit()
    assert world["ladder"].whatsapp_due_at == london_17
    assert recounts(db, unanswered)[0].actor_id == world["admin"].id


def test_the_reconciler_schedules_a_recounted_step_at_its_new_time(app, world, db):
    """The recount's job is what Redis holds; the reconciler agrees with it."""
    escalation = world["escalation"]
    calendar.set_calendar_day("EG", SUNDAY, is_holiday=True, name="Closed", actor=None)
    db.session.commit()
    assert escalations.steps_to_reconcile() == [
        (escalation.id, escalation.step.following, MONDAY_11_CAIRO)
    ]
    assert db.session.get(Escalation, escalation.id).step_due_at == MONDAY_11_CAIRO
