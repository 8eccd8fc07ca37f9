"""`flask kam seed-demo`, `demo-logins` and `sweep`: a believable, idempotent demo portfolio."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from sqlalchemy import func, select

from kamportal import demo
from kamportal.jobs import queue
from kamportal.models import (
    ActionItem,
    AuditEvent,
    Client,
    Contact,
    DeliveryStatus,
    LifecycleStatus,
    Meeting,
    Minutes,
    Money,
    OutboxMessage,
    Role,
    Team,
    TimelineEvent,
    TimelineKind,
    User,
)
from kamportal.services import accounts, clock

CLIENTS = 30


def table_counts(db) -> dict[str, int]:
    models = (Team, User, Client, Contact, TimelineEvent, AuditEvent)
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in models}


@pytest.fixture
def seeded(db, frozen_clock):
    report = demo.seed_demo(clients=CLIENTS)
    db.session.commit()
    return report


def test_three_teams_each_with_a_leader_a_mailbox_and_four_acms(db, seeded):
    teams = {t.name: t for t in db.session.scalars(select(Team))}
    assert set(teams) == {"Cairo", "Riyadh", "Dubai"}
    assert teams["Cairo"].working_days == "7,1,2,3,4"
    assert teams["Riyadh"].working_days == "7,1,2,3,4"
    assert teams["Dubai"].working_days == "1,2,3,4,5"
    assert (teams["Cairo"].country, teams["Cairo"].timezone) == ("EG", "Africa/Cairo")
    for team in teams.values():
        assert team.shared_mailbox
        assert team.leader is not None and team.leader.roles == {Role.LEADER}
        assert team.leader.team is team
        acms = [u for u in team.members if u.has_role(Role.ACM)]
        assert len(acms) == 4
        for user in [team.leader, *acms]:
            assert user.booking_link and user.booking_link.startswith("https://")
            assert user.timezone == team.timezone
            assert phonenumbers.is_valid_number(phonenumbers.parse(user.phone))


def test_one_user_for_each_other_role_and_the_demo_password_signs_in(db, seeded):
    for role in (Role.FINANCE, Role.PRODUCT, Role.COMMERCIAL, Role.ADMIN):
        users = [u for u in db.session.scalars(select(User)) if u.has_role(role)]
        assert len(users) == 1, role
    assert seeded.users == len(demo.demo_logins()) == 19
    for login in demo.demo_logins():
        assert accounts.authenticate(login.email, demo.DEMO_PASSWORD) is not None


def test_clients_span_statuses_time_zones_currencies_and_plans(db, seeded):
    clients = list(db.session.scalars(select(Client)))
    assert len(clients) == seeded.clients == CLIENTS
    statuses = Counter(c.status for c in clients)
    assert len(statuses) >= 3
    assert statuses.most_common(1)[0][0] == LifecycleStatus.LIVE
    assert len({c.timezone for c in clients}) >= 4
    assert len({c.country for c in clients}) >= 4
    assert len({c.currency for c in clients}) >= 3
    assert len({c.plan for c in clients}) >= 2
    assert {c.language for c in clients} == {"ar", "en"}
    acms = {u.id for u in db.session.scalars(select(User)) if u.has_role(Role.ACM)}
    now = clock.now()
    for client in clients:
        assert client.acm_id in acms
        assert client.subscribed_at < now
        assert client.subscribed_at.tzinfo is not None
        assert client.recurring_amount > 0
        # Rounded to the currency's minor unit: three decimals for KWD, two for EGP.
        assert Money(client.recurring_amount, client.currency).amount == client.recurring_amount
        if client.lifecycle is LifecycleStatus.CHURNED:
            assert client.renewal_date is None
        else:
            assert client.renewal_date > now.date() - timedelta(days=1)


def test_every_client_has_one_primary_decision_maker_reachable_at_its_domain(db, seeded):
    for client in db.session.scalars(select(Client)):
        assert 1 <= len(client.contacts) <= 3
        primaries = [c for c in client.contacts if c.is_primary]
        assert len(primaries) == 1
        assert primaries[0].is_decision_maker
        domains = {c.email.partition("@")[2] for c in client.contacts}
        assert len(domains) == 1 and domains.pop().endswith(".example")
        for contact in client.contacts:
            number = phonenumbers.parse(contact.phone)
            assert phonenumbers.is_valid_number(number), contact.phone
            assert contact.phone == phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164
            )


def test_timelines_are_in_the_past_and_last_contact_is_the_latest_call_meeting_or_email(db, seeded):
    """Rule F1 counts an answered call, a held meeting or an email sent as contact."""
    now = clock.now()
    kinds = Counter(db.session.scalars(select(TimelineEvent.kind)))
    for kind in ("call", "email_sent", "email_received", "whatsapp_received", "note"):
        assert kinds[kind] > 0, kind
    assert seeded.events == sum(kinds.values())
    outcomes = Counter(
        e.detail["outcome"]
        for e in db.session.scalars(
            select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.CALL.value)
        )
    )
    assert set(outcomes) == {"answered", "no_answer", "voicemail"}
    for client in db.session.scalars(select(Client)):
        events = list(
            db.session.scalars(select(TimelineEvent).where(TimelineEvent.client_id == client.id))
        )
        assert events, client.store_code
        assert all(e.at <= now and e.at >= client.created_at for e in events)
        held = [
            m.ends_at
            for m in db.session.scalars(
                select(Meeting).where(Meeting.client_id == client.id, Meeting.status == "held")
            )
        ]
        contacts = held + [
            e.at
            for e in events
            if e.kind == TimelineKind.EMAIL_SENT.value
            or (e.kind == TimelineKind.CALL.value and e.detail["outcome"] == "answered")
        ]
        assert client.last_contact_at == max(contacts, default=None), client.store_code


def test_seeding_twice_adds_nothing(db, seeded):
    before = table_counts(db)
    again = demo.seed_demo(clients=CLIENTS)
    db.session.commit()
    assert again.nothing_added
    assert table_counts(db) == before


def test_more_clients_later_adds_only_the_missing_stores(db, seeded):
    codes = set(db.session.scalars(select(Client.store_code)))
    report = demo.seed_demo(clients=CLIENTS + 5)
    db.session.commit()
    assert (report.clients, report.users, report.teams) == (5, 0, 0)
    assert codes < set(db.session.scalars(select(Client.store_code)))


def test_cli_seeds_once_and_prints_every_demo_login(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["kam", "seed-demo", "--clients", "10"])
    assert result.exit_code == 0, result.output
    assert "10 clients" in result.output
    counts = table_counts(db)

    result = runner.invoke(args=["kam", "seed-demo", "--clients", "10"])
    assert result.exit_code == 0, result.output
    assert "nothing added" in result.output
    assert table_counts(db) == counts

    result = runner.invoke(args=["kam", "demo-logins"])
    assert result.exit_code == 0, result.output
    for login in demo.demo_logins():
        assert login.email in result.output
    assert demo.DEMO_PASSWORD in result.output


def test_demo_logins_before_seeding_says_what_to_run(app, db):
    result = app.test_cli_runner().invoke(args=["kam", "demo-logins"])
    assert result.exit_code != 0
    assert "seed-demo" in result.output


@pytest.mark.config(ENV_NAME="production")
def test_seed_demo_refuses_to_run_in_production(app, db):
    result = app.test_cli_runner().invoke(args=["kam", "seed-demo", "--clients", "1"])
    assert result.exit_code != 0
    assert "production" in result.output
    assert table_counts(db)["users"] == 0


def test_sweep_requeues_a_pending_message_whose_job_was_lost(app, db):
    message = OutboxMessage(
        idempotency_key="sweep-test",
        channel="email",
        to_addrs=["client@store.example"],
        subject="Hello",
        body="Hello",
        status=DeliveryStatus.PENDING.value,
        created_at=clock.now() - timedelta(minutes=10),
    )
    db.session.add(message)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["kam", "sweep"])

    assert result.exit_code == 0, result.output
    assert "kamportal.jobs.outbox.reconcile: 1" in result.output
    db.session.expire_all()
    if queue.backend(app).embedded:
        assert db.session.get(OutboxMessage, message.id).status == DeliveryStatus.SENT.value
    else:
        assert queue.get_queue().fetch_job(f"outbox-{message.id}") is not None


def test_demo_has_meetings_past_and_future_with_minutes_owed_and_sent_G5_F3(db, seeded):
    now = clock.now()
    meetings = list(db.session.scalars(select(Meeting)))
    assert seeded.meetings == len(meetings) > 0
    held = [m for m in meetings if m.status == "held"]
    upcoming = [m for m in meetings if m.status == "scheduled"]
    assert held and upcoming
    assert all(m.starts_at < now and m.recording_link for m in held)  # G2
    # Upcoming, or today's and waiting to be marked held.
    assert all(m.starts_at > now - timedelta(hours=16) for m in upcoming)
    # F3: every upcoming meeting has its confirmation time, never later than 4 hours before.
    assert all(m.starts_at - m.confirmation_due_at >= timedelta(hours=4) for m in upcoming)
    # Each ACM's day has meetings (11:00 and 15:00 where the ACM is).
    assert any(
        m.starts_at.astimezone(ZoneInfo(m.organizer.timezone)).date()
        == now.astimezone(ZoneInfo(m.organizer.timezone)).date()
        for m in upcoming
    )
    statuses = Counter(db.session.scalars(select(Minutes.status)))
    assert statuses["owed"] and statuses["sent"], statuses
    assert db.session.scalar(select(func.count()).select_from(ActionItem)) > 0
