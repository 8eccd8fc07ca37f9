"""The leader's view (issue 14): each rule's late count at its boundary, per ACM and only
the team's, the drill-down listing exactly what is counted, health bands, workload, the
12 weeks of trends and the team's monthly churn."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from kamportal import clock
from kamportal.models import (
    CallOutcome,
    ClientHealth,
    DeliveryStatus,
    Escalation,
    EscalationStatus,
    Invoice,
    LadderStep,
    Meeting,
    Minutes,
    MinutesStatus,
    NotSellingAlert,
    OutboxMessage,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Role,
    StoreDay,
    TimelineEvent,
    TimelineKind,
    WelcomeEmail,
)
from kamportal.services import churn, contact_log, snapshots, team_view
from kamportal.services.team_view import Scope

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=clock.UTC)  # Thursday, 12:00 in Cairo


@pytest.fixture
def teams(db, make_portfolio, make_user, make_client, frozen_clock):
    """Cairo: a leader and two ACMs (Amal with one client, Bassem with one); Dubai: an ACM
    with one client. Everything on time."""
    frozen_clock(NOW)
    cairo = make_portfolio(team={"name": "Cairo"}, acm={"name": "Amal"})
    bassem = make_user(Role.ACM, team=cairo.team, name="Bassem")
    dubai = make_portfolio(team={"name": "Dubai"}, acm={"name": "Dana"})
    for client in (cairo.client, dubai.client):
        client.last_contact_at = NOW - timedelta(days=1)
    db.session.commit()
    return {
        "cairo": cairo,
        "dubai": dubai,
        "amal": cairo.acm,
        "bassem": bassem,
        "bassem_client": make_client(acm=bassem, last_contact_at=NOW - timedelta(days=1)),
    }


def counts(world, rule: str, *, at: datetime = NOW) -> dict[int, int]:
    scope = Scope((world["cairo"].team.id,))
    return team_view.late_counts(scope, now=at)[rule]


def listed(world, rule: str, acm=None, *, at: datetime = NOW) -> list:
    scope = Scope((world["cairo"].team.id,), acm.id if acm else None)
    return [item.record for item in team_view.late_items(rule, scope, now=at).items]


def test_f1_a_client_is_late_a_week_after_its_last_contact(db, teams):
    amal_client = teams["cairo"].client
    amal_client.last_contact_at = NOW - timedelta(days=7)
    teams["dubai"].client.last_contact_at = NOW - timedelta(days=8)  # another team's
    db.session.commit()

    assert counts(teams, "F1") == {teams["amal"].id: 1}
    assert counts(teams, "F1", at=NOW - timedelta(seconds=1)) == {}
    assert listed(teams, "F1", teams["amal"]) == [amal_client]
    assert listed(teams, "F1", teams["bassem"]) == []


def test_g5_minutes_are_late_once_owed_for_more_than_a_day(db, teams):
    minutes = Minutes(
        client_id=teams["bassem_client"].id,
        owner_id=teams["bassem"].id,
        owed_since=NOW - timedelta(days=1),
        status=MinutesStatus.OWED.value,
    )
    sent = Minutes(
        client_id=teams["bassem_client"].id,
        owner_id=teams["bassem"].id,
        owed_since=NOW - timedelta(days=5),
        status=MinutesStatus.SENT.value,
    )
    db.session.add_all([minutes, sent])
    db.session.commit()

    assert counts(teams, "G5") == {teams["bassem"].id: 1}
    assert counts(teams, "G5", at=NOW - timedelta(seconds=1)) == {}
    assert listed(teams, "G5", teams["bassem"]) == [minutes]


def test_o2_a_welcome_email_is_late_past_its_48_business_hours(db, teams):
    client = teams["cairo"].client
    welcome = WelcomeEmail(client_id=client.id, subscribed_at=NOW - timedelta(days=4), due_at=NOW)
    db.session.add(welcome)
    db.session.add(
        WelcomeEmail(
            client_id=teams["dubai"].client.id,
            subscribed_at=NOW - timedelta(days=9),
            due_at=NOW - timedelta(days=5),
        )
    )
    db.session.commit()

    assert counts(teams, "O2") == {teams["amal"].id: 1}
    assert counts(teams, "O2", at=NOW - timedelta(seconds=1)) == {}
    welcome.sent_at = NOW
    db.session.commit()
    assert counts(teams, "O2") == {}


def _meeting(client, acm, *, starts_at: datetime, **fields) -> Meeting:
    meeting = Meeting(
        client_id=client.id,
        organizer_id=acm.id,
        kind="weekly",
        starts_at=starts_at,
        zoom_link="https://zoom.us/j/1234567890",
        uid=f"m-{client.id}-{starts_at.timestamp()}",
        confirmation_due_at=starts_at - timedelta(hours=4),
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )
    return meeting


def test_f3_a_confirmation_is_late_when_due_and_not_sent_or_when_its_email_failed(db, teams):
    client, amal = teams["cairo"].client, teams["amal"]
    unsent = _meeting(client, amal, starts_at=NOW + timedelta(hours=4))
    confirmed = _meeting(client, amal, starts_at=NOW + timedelta(hours=3), confirmed_sequence=0)
    failed = _meeting(client, amal, starts_at=NOW + timedelta(days=2), confirmed_sequence=0)
    db.session.add_all([unsent, confirmed, failed])
    db.session.flush()
    message = OutboxMessage(
        idempotency_key="confirm-failed",
        channel="email",
        client_id=client.id,
        to_addrs=["x@client.example"],
        subject="Confirmation",
        body="b",
        status=DeliveryStatus.FAILED.value,
        created_at=NOW,
    )
    db.session.add(message)
    db.session.flush()
    db.session.add(
        TimelineEvent(
            client_id=client.id,
            kind=TimelineKind.MEETING_CONFIRMED.value,
            at=NOW,
            summary="Confirmation sent",
            detail={"meeting_id": failed.id, "sequence": 0},
            outbox_message_id=message.id,
        )
    )
    db.session.commit()

    assert counts(teams, "F3") == {amal.id: 2}
    assert set(listed(teams, "F3", amal)) == {unsent, failed}
    assert counts(teams, "F3", at=NOW - timedelta(seconds=1)) == {amal.id: 1}


def _escalation(client, **fields) -> Escalation:
    values = {
        "client_id": client.id,
        "raised_at": NOW - timedelta(days=3),
        "trigger": "asked_for_manager",
        "said": "x",
        "channel": "call",
        "status": EscalationStatus.OPEN.value,
        "current_step": LadderStep.EMAIL.value,
        "step_started_at": NOW - timedelta(days=2),
    }
    return Escalation(**{**values, **fields})


def test_e2_an_escalation_waits_once_its_step_is_due_or_the_leader_must_decide(
    db, teams, make_client
):
    client, amal = teams["cairo"].client, teams["amal"]
    due = _escalation(client, step_due_at=NOW)
    leader = _escalation(
        teams["bassem_client"], current_step=LadderStep.LEADER.value, waiting_for_leader=True
    )
    paused = _escalation(make_client(acm=amal), step_due_at=NOW - timedelta(hours=5), paused_at=NOW)
    resolved = _escalation(
        make_client(acm=amal), step_due_at=NOW, status=EscalationStatus.RESOLVED.value
    )
    db.session.add_all([due, leader, paused, resolved])
    db.session.commit()

    assert counts(teams, "E2") == {teams["amal"].id: 1, teams["bassem"].id: 1}
    assert counts(teams, "E2", at=NOW - timedelta(seconds=1)) == {teams["bassem"].id: 1}
    assert listed(teams, "E2", teams["amal"]) == [due]


def _invoice(client, due_on: date, **fields) -> Invoice:
    return Invoice(
        client_id=client.id,
        currency="EGP",
        total=Decimal("1000.00"),
        issued_on=due_on - timedelta(days=14),
        due_on=due_on,
        issued_at=NOW - timedelta(days=14),
        **fields,
    )


def test_r4_an_invoice_is_late_from_the_clients_midnight_after_its_due_date(db, teams):
    client = teams["cairo"].client  # Cairo: 2 h ahead of UTC in December
    invoice = _invoice(client, date(2026, 12, 2))
    db.session.add_all([invoice, _invoice(client, date(2026, 12, 3))])
    db.session.add(_invoice(client, date(2026, 11, 1), status="paid"))
    db.session.commit()

    assert counts(teams, "R4") == {teams["amal"].id: 1}
    # 23:59 in Cairo on the due date, then the next midnight.
    assert counts(teams, "R4", at=datetime(2026, 12, 2, 21, 59, tzinfo=clock.UTC)) == {}
    at_midnight = datetime(2026, 12, 2, 22, 0, tzinfo=clock.UTC)
    assert counts(teams, "R4", at=at_midnight) == {teams["amal"].id: 1}
    assert listed(teams, "R4", teams["amal"]) == [invoice]


def test_r7_a_wire_transfer_is_late_four_days_after_it_was_reported(db, teams):
    client = teams["bassem_client"]
    invoice = _invoice(client, date(2026, 12, 20))
    db.session.add(invoice)
    db.session.flush()

    def wire(reported_at: datetime, status: str = PaymentStatus.REPORTED.value) -> Payment:
        return Payment(
            invoice_id=invoice.id,
            method=PaymentMethod.WIRE.value,
            amount=Decimal("500.00"),
            currency="EGP",
            status=status,
            reported_at=reported_at,
        )

    late = wire(NOW - timedelta(days=4))
    db.session.add_all(
        [late, wire(NOW - timedelta(days=9), PaymentStatus.CONFIRMED.value), wire(NOW)]
    )
    db.session.commit()

    assert counts(teams, "R7") == {teams["bassem"].id: 1}
    assert counts(teams, "R7", at=NOW - timedelta(seconds=1)) == {}
    assert listed(teams, "R7", teams["bassem"]) == [late]


def test_f4_a_not_selling_alert_counts_until_its_reasons_are_recorded(db, teams):
    client = teams["cairo"].client
    alert = NotSellingAlert(client_id=client.id, raised_at=NOW, cause="no_orders", detail="x")
    cleared = NotSellingAlert(
        client_id=client.id,
        raised_at=NOW - timedelta(days=9),
        cause="gmv_drop",
        detail="x",
        cleared_at=NOW,
    )
    recorded = NotSellingAlert(
        client_id=client.id, raised_at=NOW, cause="no_orders", detail="x", recorded_at=NOW
    )
    db.session.add_all([alert, cleared, recorded])
    db.session.add(
        NotSellingAlert(client_id=teams["dubai"].client.id, raised_at=NOW, cause="x", detail="x")
    )
    db.session.commit()

    assert counts(teams, "F4") == {teams["amal"].id: 2}
    assert listed(teams, "F4") == [cleared, alert]


def test_an_admin_counts_per_team_and_a_leader_sees_only_their_teams(db, teams, make_user):
    for client in (teams["cairo"].client, teams["dubai"].client, teams["bassem_client"]):
        client.last_contact_at = None
    db.session.commit()
    cairo, dubai = teams["cairo"].team, teams["dubai"].team

    by_team = team_view.late_counts(Scope((cairo.id, dubai.id), by_team=True), now=NOW)
    assert by_team["F1"] == {cairo.id: 2, dubai.id: 1}
    assert team_view.teams_of(teams["cairo"].leader) == [cairo]
    assert team_view.teams_of(make_user(Role.ADMIN)) == [cairo, dubai]
    assert team_view.teams_of(teams["amal"]) == []
    assert [m.name for m in team_view.members((cairo.id,))] == ["Amal", "Bassem"]


def test_health_bands_and_workload_per_acm(db, teams, make_client):
    amal = teams["amal"]
    for score in (70, 69, 40, 39, None):
        make_client(acm=amal, health_score=score)
    make_client(acm=amal, health_score=10, status="churned")
    make_client(acm=amal, status="launching")
    scope = Scope((teams["cairo"].team.id,))

    bands = team_view.health_bands(scope)
    assert bands[amal.id] == {"green": 1, "amber": 2, "red": 1, "not_scored": 3}
    load = team_view.workload(scope, now=NOW)
    assert (load[amal.id].clients, load[amal.id].launching) == (7, 1)
    assert load[teams["bassem"].id].clients == 1


def test_trends_count_per_week_of_the_leaders_calendar(db, teams):
    client = teams["cairo"].client
    today = clock.today("Africa/Cairo", at=NOW)
    db.session.add_all(
        [
            ClientHealth(client_id=client.id, day=today, score=30, computed_at=NOW),
            ClientHealth(
                client_id=client.id, day=today - timedelta(days=1), score=50, computed_at=NOW
            ),
            ClientHealth(
                client_id=client.id, day=today - timedelta(days=7), score=80, computed_at=NOW
            ),
            StoreDay(
                client_id=client.id,
                day=today - timedelta(days=2),
                orders=5,
                gmv=Decimal(50),
                currency="EGP",
                source="demo",
                updated_at=NOW,
            ),
            TimelineEvent(
                client_id=client.id,
                kind=TimelineKind.CALL.value,
                at=NOW,
                summary="Call",
                detail={"outcome": "answered"},
            ),
            TimelineEvent(
                client_id=client.id,
                kind=TimelineKind.CALL.value,
                at=NOW,
                summary="Call",
                detail={"outcome": "no_answer"},
            ),
            TimelineEvent(
                client_id=teams["dubai"].client.id,
                kind=TimelineKind.EMAIL_SENT.value,
                at=NOW,
                summary="Email",
                detail={},
            ),
            _escalation(client, raised_at=NOW - timedelta(days=8)),
        ]
    )
    db.session.commit()

    weeks = team_view.trends((teams["cairo"].team.id,), zone="Africa/Cairo", now=NOW).weeks
    assert len(weeks) == 12 and weeks[-1].last == today
    this, last = weeks[-1], weeks[-2]
    assert (this.average_health, this.clients_in_red) == (Decimal(40), 1)
    assert (this.contacts, this.orders, this.escalations) == (1, 5, 0)
    assert (last.average_health, last.clients_in_red, last.escalations) == (Decimal(80), 0, 1)
    assert weeks[0].average_health is None


def test_the_sweep_keeps_each_teams_trends_in_its_leaders_zone(db, teams):
    """Issue 17: the 12 weeks are the sweep's in the leader's zone while fresh (a call made
    since shows at the next sweep); read in another zone, or stale, they are summed live."""
    cairo = teams["cairo"]
    cairo.leader.timezone = "Africa/Cairo"
    cairo.client.health_score = None
    db.session.add_all(
        [
            ClientHealth(client_id=cairo.client.id, day=NOW.date(), score=61, computed_at=NOW),
            _escalation(cairo.client, raised_at=NOW - timedelta(days=20)),
        ]
    )
    db.session.commit()
    team_view.keep_team_trends(now=NOW)
    live = team_view.trends((cairo.team.id,), zone="Africa/Cairo", now=NOW)
    kept, as_of = team_view.team_trends(cairo.team.id, zone="Africa/Cairo", now=NOW)
    assert as_of == NOW and kept == live
    assert kept.weeks[-1].average_health == Decimal(61) and kept.weeks[-3].escalations == 1

    contact_log.log_call(
        cairo.client, actor=cairo.acm, contact=None, outcome=CallOutcome.ANSWERED, notes="Hello"
    )
    db.session.commit()
    kept, _ = team_view.team_trends(cairo.team.id, zone="Africa/Cairo", now=NOW)
    assert kept.weeks[-1].contacts == live.weeks[-1].contacts
    elsewhere, as_of = team_view.team_trends(cairo.team.id, zone="Asia/Tokyo", now=NOW)
    assert as_of is None and elsewhere.weeks[-1].contacts == live.weeks[-1].contacts + 1
    stale = NOW + snapshots.FRESH_FOR + timedelta(seconds=1)
    _, as_of = team_view.team_trends(cairo.team.id, zone="Africa/Cairo", now=stale)
    assert as_of is None
    team_view.keep_team_trends(now=NOW)
    kept, _ = team_view.team_trends(cairo.team.id, zone="Africa/Cairo", now=NOW)
    assert kept.weeks[-1].contacts == live.weeks[-1].contacts + 1


def test_the_monthly_churn_narrows_to_one_team(db, teams):
    leader = teams["cairo"].leader
    churn.churn_client(teams["cairo"].client, actor=leader, reason="Closed")
    admin_view = teams["dubai"].client
    churn.churn_client(admin_view, actor=teams["dubai"].leader, reason="Closed")
    db.session.commit()

    cairo_only = team_view.team_clients_clause((teams["cairo"].team.id,))
    months = churn.monthly_churn(leader, months=1, within=cairo_only)
    assert months[0].count == 1
    dubai_only = team_view.team_clients_clause((teams["dubai"].team.id,))
    assert churn.monthly_churn(leader, months=1, within=dubai_only)[0].count == 0


def test_the_contacts_made_are_read_off_their_index_on_postgresql(db, teams):
    """Issue 14 at 50,000 clients: F1's contacts made (contact_log's clause, the one
    definition) are what the partial index of contacts holds, so the weekly contacts are
    read off that index alone, in a prepared statement's generic plan too (the clause's
    constants are written into the statement)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a partial index of PostgreSQL's")
    clause = contact_log.contact_made_clause().compile(
        dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    assert not clause.params
    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    connection.exec_driver_sql(
        "PREPARE weekly_contacts(integer, timestamptz) AS SELECT count(*) FROM timeline_events"
        f" WHERE client_id = $1 AND at >= $2 AND ({clause})"
    )
    since = (NOW - timedelta(weeks=12)).isoformat()
    explained = f"EXPLAIN EXECUTE weekly_contacts({teams['cairo'].client.id}, '{since}')"
    plan = "\n".join(row[0] for row in connection.exec_driver_sql(explained))
    connection.exec_driver_sql("DEALLOCATE weekly_contacts")
    db.session.rollback()
    assert "ix_timeline_events_contacts" in plan
