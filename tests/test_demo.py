"""The demo portfolio as `flask kam seed-demo` leaves it: believable, and idempotent.

The module seeds the demo once (`seeded`, on the module's own app and database): every test
here reads it, with the clock frozen where it was seeded. A test that seeds again does so
without committing, and whatever a test changes is rolled back after it; a test that
commits fails. What needs a database of its own (the commands, the running clock, a failed
seed, the same demo for a seed) is in test_demo_seeding.py."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from kamportal import clock, demo, queue
from kamportal.demo import store_figures as demo_figures
from kamportal.demo.common import SeedReport
from kamportal.demo.seed import HEALTH_HISTORY_DAYS
from kamportal.extensions import db as _db
from kamportal.models import (
    IN_LAUNCH,
    AccountPlan,
    ActionItem,
    AuditEvent,
    ChecklistItem,
    Client,
    ClientHealth,
    ClientReport,
    Complaint,
    ComplaintStatus,
    Contact,
    ContactHandover,
    ContractException,
    ContractUsage,
    CustomizationAttachment,
    CustomizationRequest,
    CustomizationStage,
    CustomizationStatus,
    DeliveryStatus,
    Escalation,
    EscalationStatus,
    EscalationStep,
    HealthBand,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    KycQuestionnaire,
    KycStatus,
    LifecycleStatus,
    Meeting,
    Minutes,
    Money,
    NoReplyLadder,
    NotSellingAlert,
    Opportunity,
    OpportunityKind,
    OpportunityStage,
    OutboxMessage,
    Payment,
    PaymentIssue,
    PaymentIssueStatus,
    PaymentMethod,
    PaymentStatus,
    Plan,
    Quotation,
    QuotationStatus,
    Recommendation,
    Renewal,
    RenewalStage,
    ResolutionKind,
    Role,
    StepKind,
    StoreDay,
    Suggestion,
    SupportTicket,
    Team,
    Ticket,
    TimelineEvent,
    TimelineKind,
    UsageKind,
    User,
    UserRole,
    WelcomeEmail,
)
from kamportal.services import (
    access,
    account_plans,
    accounts,
    contact_log,
    contract_limits,
    customizations,
    day,
    delivery,
    discounts,
    escalations,
    kyc,
    not_selling,
    onboarding,
    opportunities,
    payments,
    quotations,
    store_management,
    support_tickets,
    team_view,
)
from kamportal.services.calendar import calendar_for_client
from kamportal.services.kyc_questions import QUESTIONS
from kamportal.services.launch_checklists import CHECKLISTS, LMS, TEST_PAYMENTS_DISABLED, UAT
from tests.conftest import FROZEN_AT, app_on_its_own_database

# Enough stores for every demo ACM to have clients for all their escalations.
PORTFOLIO = 60
# Besides the portfolio, one client at each stage of the onboarding (O1, O2, L1-L5).
LAUNCH_STORIES = len(demo.LAUNCH_STORIES)


def table_counts(db) -> dict[str, int]:
    models = (
        Team,
        User,
        Client,
        ClientReport,
        Contact,
        TimelineEvent,
        AuditEvent,
        Meeting,
        Minutes,
        NoReplyLadder,
        Escalation,
        EscalationStep,
        Complaint,
        OutboxMessage,
        Renewal,
        Invoice,
        InvoiceLine,
        Quotation,
        Payment,
        PaymentIssue,
        WelcomeEmail,
        KycQuestionnaire,
        ChecklistItem,
        ContractUsage,
        ContractException,
        CustomizationRequest,
        CustomizationAttachment,
        SupportTicket,
        Ticket,
        StoreDay,
        Recommendation,
        Suggestion,
    )
    counts = {
        m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in models
    }
    counts["checklist items ticked"] = db.session.scalar(select(func.count(ChecklistItem.done_at)))
    return counts


@pytest.fixture(scope="module")
def app(database_template, tmp_path_factory) -> Iterator[Flask]:
    """The module's app and database, for every test here (and so `db`, `client`)."""
    with app_on_its_own_database(database_template, tmp_path_factory.mktemp("demo")) as app:
        yield app


@pytest.fixture(scope="module")
def seed_report(app) -> SeedReport:
    clock.freeze(FROZEN_AT)
    try:
        report = demo.seed_demo(clients=PORTFOLIO)
        _db.session.commit()
    finally:
        clock.unfreeze()
    return report


@pytest.fixture
def seeded(seed_report, db, frozen_clock) -> Iterator[SeedReport]:
    """The module's demo portfolio, the clock frozen where it was seeded (`FROZEN_AT`).
    What the test changes is rolled back after it; a test that commits fails, as it would
    change the portfolio the next tests read."""
    commits: list[Session] = []
    committed = commits.append
    event.listen(Session, "after_commit", committed)
    try:
        yield seed_report
    finally:
        db.session.remove()
        event.remove(Session, "after_commit", committed)
    assert not commits, "a test of the shared demo committed: give it a database of its own"


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
    for role in (Role.FINANCE, Role.PRODUCT, Role.COMMERCIAL, Role.STORE_MANAGER, Role.ADMIN):
        users = [u for u in db.session.scalars(select(User)) if u.has_role(role)]
        assert len(users) == 1, role
    assert seeded.users == len(demo.demo_logins()) == 20
    for login in demo.demo_logins():
        assert accounts.authenticate(login.email, demo.DEMO_PASSWORD) is not None


def test_clients_span_statuses_time_zones_currencies_and_plans(db, seeded):
    clients = list(db.session.scalars(select(Client)))
    assert len(clients) == seeded.clients == PORTFOLIO + LAUNCH_STORIES
    statuses = Counter(c.status for c in clients)
    assert len(statuses) >= 3
    assert statuses.most_common(1)[0][0] == LifecycleStatus.LIVE
    assert len({c.timezone for c in clients}) >= 4
    assert len({c.country for c in clients}) >= 4
    assert len({c.currency for c in clients}) >= 3
    assert len({c.plan for c in clients}) >= 2
    assert {c.language for c in clients} == {"ar", "en"}
    acms = {u.id for u in db.session.scalars(select(User)) if u.has_role(Role.ACM)}
    taken_over = set(
        db.session.scalars(
            select(Escalation.client_id).where(
                Escalation.resolution == ResolutionKind.TAKEN_OVER.value
            )
        )
    )
    now = clock.now()
    # A renewal date already passed is still on its ACM's list: that term's renewal is open.
    followed = {
        (renewal.client_id, renewal.due_on)
        for renewal in db.session.scalars(select(Renewal))
        if renewal.renewal_stage.is_open
    }
    for client in clients:
        # A leader manages the clients they took over (E3); ACMs manage all the others.
        assert client.acm_id in acms or (
            client.id in taken_over and client.acm.team.leader_id == client.acm_id
        )
        assert client.subscribed_at < now
        assert client.subscribed_at.tzinfo is not None
        assert client.recurring_amount > 0
        # Rounded to the currency's minor unit: three decimals for KWD, two for EGP.
        assert Money(client.recurring_amount, client.currency).amount == client.recurring_amount
        if client.lifecycle is LifecycleStatus.CHURNED:
            assert client.renewal_date is None
        else:
            assert client.renewal_date >= now.date() or (client.id, client.renewal_date) in followed


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
    """Rule F1 counts an answered call, a held meeting or an email sent (the welcome email
    too, O2) as contact."""
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
            if e.kind in (TimelineKind.EMAIL_SENT.value, TimelineKind.WELCOME_EMAIL_SENT.value)
            or (e.kind == TimelineKind.CALL.value and e.detail["outcome"] == "answered")
        ]
        assert client.last_contact_at == max(contacts, default=None), client.store_code


def test_seeding_again_adds_nothing(db, seeded):
    assert (seeded.escalations, seeded.complaints) == (
        db.session.scalar(select(func.count()).select_from(Escalation)),
        db.session.scalar(select(func.count()).select_from(Complaint)),
    )
    before = table_counts(db)
    again = demo.seed_demo(clients=PORTFOLIO)
    assert again.nothing_added
    assert table_counts(db) == before


def test_more_clients_later_adds_only_the_missing_stores(db, seeded):
    codes = set(db.session.scalars(select(Client.store_code)))
    report = demo.seed_demo(clients=PORTFOLIO + 5)
    assert (report.clients, report.users, report.teams) == (5, 0, 0)
    assert codes < set(db.session.scalars(select(Client.store_code)))


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


# --- Escalations and complaints (E1, E2, E3) -------------------------------------------------


def standing(escalation: Escalation) -> str:
    """Where an open escalation stands, as its ACM and leader see it."""
    if escalation.waiting_for_leader:
        return "leader"
    if escalation.paused_at is not None:
        return "paused"
    return escalation.current_step


def proofs(escalation: Escalation, kind: StepKind) -> list[EscalationStep]:
    return [s for s in escalation.steps if s.kind is kind]


def sent(message: OutboxMessage | None, channel: str) -> bool:
    return (
        message is not None
        and message.channel == channel
        and message.delivery_status is DeliveryStatus.SENT
        and message.created_at <= message.sent_at <= clock.now()
        and bool(message.provider_message_id)
    )


def events_of(db, escalation: Escalation, kind: TimelineKind) -> list[TimelineEvent]:
    return list(
        db.session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.client_id == escalation.client_id)
            .where(TimelineEvent.kind == kind.value)
        )
    )


def escalations_by(db, status: EscalationStatus) -> list[Escalation]:
    return list(db.session.scalars(select(Escalation).where(Escalation.status == status.value)))


def test_open_escalations_stand_at_every_step_of_the_ladder_with_their_proofs_E2(db, seeded):
    now = clock.now()
    open_ones = escalations_by(db, EscalationStatus.OPEN)
    by_standing: dict[str, list[Escalation]] = {}
    for escalation in open_ones:
        by_standing.setdefault(standing(escalation), []).append(escalation)
    assert set(by_standing) == {"call", "email", "whatsapp", "paused", "leader"}

    for escalation in open_ones:
        assert escalation.said and escalation.raised_at <= now
        assert proofs(escalation, StepKind.RAISED)
        assert all(step.at <= now for step in escalation.steps)
        assert any(
            event.detail["escalation_id"] == escalation.id
            for event in events_of(db, escalation, TimelineKind.ESCALATION_RAISED)
        )
    for escalation in by_standing["call"]:  # just raised: the ACM must call
        assert not proofs(escalation, StepKind.CALL) and escalation.step_due_at is None
    for escalation in by_standing["email"] + by_standing["whatsapp"]:
        (call,) = proofs(escalation, StepKind.CALL)
        assert call.call_event.detail["outcome"] == "no_answer"
        (email,) = proofs(escalation, StepKind.EMAIL)
        assert sent(email.outbox_message, "email")
        # In the client's language (the demo has Arabic and English clients).
        assert email.outbox_message.subject.startswith(
            {"ar": "حاولنا الاتصال بكم", "en": "We tried to call you"}[escalation.client.language]
        )
        assert email.outbox_message.to_addrs == [escalation.client.reachable_contact("email").email]
        # The next step is still ahead, and its job waits for it.
        assert escalation.step_due_at > now
        job = escalations.step_job_id(escalation.id, escalation.step.following)
        assert abs(queue.scheduled_at(job) - escalation.step_due_at) <= timedelta(seconds=1)
    for escalation in by_standing["whatsapp"]:
        (whatsapp,) = proofs(escalation, StepKind.WHATSAPP)
        assert sent(whatsapp.outbox_message, "whatsapp")
        assert whatsapp.at >= proofs(escalation, StepKind.EMAIL)[0].at
    replies = {TimelineKind.EMAIL_RECEIVED.value, TimelineKind.WHATSAPP_RECEIVED.value}
    for escalation in by_standing["paused"]:
        assert proofs(escalation, StepKind.PAUSED)
        reply = db.session.scalar(
            select(TimelineEvent)
            .where(TimelineEvent.client_id == escalation.client_id)
            .where(TimelineEvent.at == escalation.paused_at)
            .where(TimelineEvent.kind.in_(replies))
        )
        assert reply is not None
    assert {e.current_step for e in by_standing["paused"]} == {"email", "whatsapp"}
    for escalation in by_standing["leader"]:
        (to_leader,) = proofs(escalation, StepKind.LEADER)
        assert sent(to_leader.outbox_message, "email")
        assert to_leader.outbox_message.to_addrs == [escalation.client.acm.team.leader.email]
        assert escalation.step_due_at is None


def test_ended_escalations_show_every_way_one_ends_E3(db, seeded):
    now = clock.now()
    ended = escalations_by(db, EscalationStatus.RESOLVED)
    assert {e.resolution for e in ended} == {k.value for k in ResolutionKind}
    resolvers = {(e.resolution, e.resolved_by.has_role(Role.LEADER)) for e in ended}
    assert ("resolved", False) in resolvers  # by the ACM, with the client
    assert ("resolved", True) in resolvers  # by the leader's decision
    for escalation in ended:
        assert escalation.resolved_at <= now and escalation.resolution_note
        assert escalation.step_due_at is None and not escalation.waiting_for_leader
        assert escalation.steps[-1].kind is StepKind.RESOLVED
        team = escalation.raised_by.team
        if escalation.resolved_by.has_role(Role.LEADER):
            assert escalation.resolved_by == team.leader
            assert proofs(escalation, StepKind.LEADER)
            assert sent(proofs(escalation, StepKind.RESOLVED)[0].outbox_message, "email")
        if escalation.resolution == ResolutionKind.RESOLVED:
            assert escalation.client.acm == escalation.raised_by
        else:  # the client moved, on its timeline
            moves = events_of(db, escalation, TimelineKind.CLIENT_REASSIGNED)
            assert escalation.resolved_at in {event.at for event in moves}
        if escalation.resolution == ResolutionKind.REASSIGNED:
            assert escalation.client.acm not in (escalation.raised_by, team.leader)
            assert escalation.client.acm.team == team
        elif escalation.resolution == ResolutionKind.TAKEN_OVER:
            assert escalation.client.acm == team.leader
        actions = set(
            db.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type == "escalation")
                .where(AuditEvent.object_id == escalation.id)
            )
        )
        assert "escalation.raise" in actions
        assert actions & {"escalation.resolve", "escalation.decide"}


def test_every_acm_sees_an_open_escalation_and_every_leader_one_to_decide_E3(db, seeded):
    for login in demo.demo_logins():
        user = accounts.find_user_by_email(login.email)
        if login.role == Role.ACM:
            assert any(e.client.acm == user for e in escalations.escalation_queue(user)), login
        elif login.role == Role.LEADER:
            queue_ = escalations.escalation_queue(user)
            assert queue_ and queue_[0].waiting_for_leader, login


def test_every_leader_lands_on_a_team_with_late_items(db, seeded):
    """Issue 14: each demo leader's team shows late items for the rules every team has
    (F1, G5, E2), and the whole demo some late welcome (O2), invoice (R4), wire (R7) and
    store not selling (F4). The demo has no missed confirmation (F3)."""
    seen: dict[str, int] = dict.fromkeys(team_view.LATE_RULES, 0)
    for login in demo.demo_logins():
        if login.role != Role.LEADER:
            continue
        [team] = team_view.teams_of(accounts.find_user_by_email(login.email))
        counts = team_view.late_counts(team_view.Scope((team.id,)), now=clock.now())
        for rule in ("F1", "G5", "E2"):
            assert sum(counts[rule].values()) > 0, (login, rule)
        for rule, per_acm in counts.items():
            seen[rule] += sum(per_acm.values())
    assert all(seen[rule] for rule in ("O2", "R4", "R7", "F4")), seen


def test_complaints_cancellations_and_refunds_are_queued_in_every_status_E3(db, seeded):
    complaints = list(db.session.scalars(select(Complaint)))
    # A confirmed cancellation churns its client (services/churn.py): the demo keeps its
    # portfolio whole and confirms none.
    assert {c.status for c in complaints} == {
        s.value for s in ComplaintStatus if s is not ComplaintStatus.CONFIRMED
    }
    assert len({c.kind for c in complaints}) == 3
    assert len({c.client.acm.team_id for c in complaints}) == 3
    for complaint in complaints:
        assert complaint.said and complaint.raised_at <= clock.now()
        if complaint.status == ComplaintStatus.OPEN:
            assert complaint.note is None
        else:
            assert complaint.note
        assert (complaint.closed_at is not None) == (complaint.status == ComplaintStatus.CLOSED)
    for leader in db.session.scalars(select(User).join(Team, Team.leader_id == User.id)):
        waiting = escalations.complaint_queue(leader)
        assert waiting and all(c.status != ComplaintStatus.CLOSED for c in waiting)


# --- Renewals, invoices and payments (R1-R10) ------------------------------------------------


def renewals_at(db, stage: RenewalStage) -> list[Renewal]:
    return list(db.session.scalars(select(Renewal).where(Renewal.stage == stage.value)))


def events_about(db, client_id: int, kind: TimelineKind, **detail) -> list[TimelineEvent]:
    """The client's timeline events of `kind` whose detail has the values given."""
    return [
        event
        for event in db.session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.client_id == client_id)
            .where(TimelineEvent.kind == kind.value)
            .order_by(TimelineEvent.at, TimelineEvent.id)
        )
        if all(event.detail.get(key) == value for key, value in detail.items())
    ]


def audited(db, action: str, obj) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action)
            .where(AuditEvent.object_type == type(obj).__name__.lower())
            .where(AuditEvent.object_id == obj.id)
        )
    )


def emailed_to_client(message: OutboxMessage | None, client: Client) -> bool:
    return sent(message, "email") and message.to_addrs == [client.reachable_contact("email").email]


def test_renewals_stand_at_every_stage_each_opened_by_the_sweep_within_30_days_R1_R2(db, seeded):
    now = clock.now()
    all_renewals = list(db.session.scalars(select(Renewal)))
    assert seeded.renewals == len(all_renewals)
    assert {r.stage for r in all_renewals} == {stage.value for stage in RenewalStage}
    for renewal in all_renewals:
        # R1: opened by the sweep (no one), once the renewal date came within 30 days.
        assert renewal.due_on - timedelta(days=30) <= renewal.opened_at.date()
        assert renewal.opened_at <= now
        (opened,) = audited(db, "renewal.open", renewal)
        assert opened.actor_id is None
        assert events_about(
            db, renewal.client_id, TimelineKind.RENEWAL_OPENED, renewal_id=renewal.id
        )
        events = events_about(db, renewal.client_id, TimelineKind.RENEWAL_NOTIFIED)
        assert all(opened.at <= event.at <= now for event in events)
    for renewal in renewals_at(db, RenewalStage.DUE):  # nothing done yet
        assert renewal.notice_message is None and renewal.confirmed_at is None
    for renewal in db.session.scalars(
        select(Renewal).where(Renewal.stage != RenewalStage.DUE.value)
    ):
        # R2: every renewal the ACM took up began with the notice to the client.
        assert renewal.opened_at < renewal.notified_at <= now
        assert emailed_to_client(renewal.notice_message, renewal.client)
        (notified,) = events_about(
            db, renewal.client_id, TimelineKind.RENEWAL_NOTIFIED, renewal_id=renewal.id
        )
        assert notified.outbox_message == renewal.notice_message
    confirmed = [
        r
        for r in all_renewals
        if r.renewal_stage in (RenewalStage.CONFIRMED, RenewalStage.INVOICED, RenewalStage.PAID)
    ]
    assert renewals_at(db, RenewalStage.CONFIRMED)
    for renewal in confirmed:
        assert renewal.notified_at < renewal.confirmed_at <= now
        assert renewal.confirmed_by == renewal.client.acm and renewal.agreed_on
    # R2: some clients confirmed another amount than their subscription's.
    changes = [audited(db, "renewal.confirm", renewal)[0] for renewal in confirmed]
    assert any(a.before["amount"] != a.after["amount"] for a in changes)
    assert any(a.before["amount"] == a.after["amount"] for a in changes)


def test_paid_renewals_move_to_the_next_term_and_lost_ones_say_why(db, seeded):
    now = clock.now()
    paid = renewals_at(db, RenewalStage.PAID)
    assert len(paid) >= 2
    for renewal in paid:
        assert renewal.invoice.invoice_status is InvoiceStatus.PAID
        assert renewal.invoice.paid_at == renewal.paid_at <= now
        client = renewal.client
        assert client.renewal_date == renewal.due_on.replace(year=renewal.due_on.year + 1)
        assert client.recurring_amount == renewal.amount
        assert events_about(db, client.id, TimelineKind.RENEWAL_PAID, renewal_id=renewal.id)
    lost = renewals_at(db, RenewalStage.LOST)
    assert lost
    for renewal in lost:
        assert renewal.lost_reason and renewal.lost_at <= now
        assert renewal.invoice is None
        (event,) = events_about(
            db, renewal.client_id, TimelineKind.RENEWAL_LOST, renewal_id=renewal.id
        )
        assert renewal.lost_reason in event.summary


def test_invoices_carry_fees_and_approved_discounts_and_are_reminded_until_paid_R3_R4_R8_R9(
    db, seeded
):
    now = clock.now()
    invoices = list(db.session.scalars(select(Invoice)))
    assert seeded.invoices == len(invoices)
    for invoice in invoices:
        assert invoice.number and invoice.issued_at <= now
        assert invoice.total == sum(line.amount for line in invoice.lines) > 0
        assert Money(invoice.total, invoice.currency).amount == invoice.total
        # R3: the portal's own invoice, emailed to the client.
        (issued,) = events_about(
            db, invoice.client_id, TimelineKind.INVOICE_ISSUED, invoice_id=invoice.id
        )
        assert emailed_to_client(issued.outbox_message, invoice.client)
    kinds = [{line.kind for line in invoice.lines} for invoice in invoices]
    assert {"renewal", "customization"} in kinds  # R8: one invoice with both

    # R9: discounts come from customizations' quotations: asked by the ACM, decided by
    # commercial, the approved ones on the invoice of their fee.
    quotations = list(db.session.scalars(select(Quotation)))
    assert {q.status for q in quotations} == {s.value for s in QuotationStatus}
    for quotation in quotations:
        assert quotation.request is not None and quotation.price > 0
        if quotation.quotation_status is QuotationStatus.NONE:
            assert quotation.requested_at is None and not quotation.has_discount
            continue
        assert quotation.requested_by == quotation.client.acm
        if quotation.quotation_status is QuotationStatus.REQUESTED:
            assert quotation.decided_at is None and quotation.used_on_invoice_id is None
            continue
        assert quotation.decided_by.has_role(Role.COMMERCIAL)
        assert quotation.requested_at < quotation.decided_at <= now
        if quotation.quotation_status is QuotationStatus.REJECTED:
            assert quotation.decision_note and quotation.used_on_invoice_id is None
    discounted = [
        (invoice, line) for invoice in invoices for line in invoice.lines if line.kind == "discount"
    ]
    assert discounted
    for invoice, line in discounted:
        quotation = line.quotation
        assert quotation.quotation_status is QuotationStatus.APPROVED
        assert quotation.used_on_invoice_id == invoice.id
        covered = sum(
            (
                li.amount
                for li in invoice.lines
                if li.kind == "customization"
                or (li.kind == "renewal" and quotation.covers.value == "fee_and_renewal")
            ),
            Decimal(0),
        )
        share = covered * quotation.discount_percent / 100
        assert line.amount == -Money(share, invoice.currency).amount
    # The seed's example: a customization invoiced with the renewal, 30% off both (R8, R9).
    assert any(
        {li.kind for li in invoice.lines} == {"renewal", "customization", "discount"}
        for invoice, _ in discounted
    )

    # R4: unpaid invoices are reminded at the team's interval, none once paid.
    renewal_invoices = [invoice for invoice in invoices if invoice.parent_id is None]
    unpaid = [i for i in renewal_invoices if i.invoice_status is InvoiceStatus.UNPAID]
    assert any(i.reminders_sent for i in unpaid) and not all(i.reminders_sent for i in unpaid)
    for invoice in invoices:
        reminders = events_about(
            db, invoice.client_id, TimelineKind.INVOICE_REMINDER, invoice_id=invoice.id
        )
        assert len(reminders) == invoice.reminders_sent
        interval = timedelta(days=invoice.client.acm.team.invoice_reminder_days)
        since = invoice.issued_at
        for reminder in reminders:
            assert reminder.at - since >= interval
            assert emailed_to_client(reminder.outbox_message, invoice.client)
            since = reminder.at
        if invoice.paid_at is not None:
            assert all(reminder.at < invoice.paid_at for reminder in reminders)


def test_wire_transfers_wait_four_days_then_are_flagged_once_to_finance_and_the_acm_R7(db, seeded):
    now = clock.now()
    wires = list(
        db.session.scalars(select(Payment).where(Payment.method == PaymentMethod.WIRE.value))
    )
    reported = [w for w in wires if w.payment_status is PaymentStatus.REPORTED]
    waiting = [w for w in reported if w.flagged_at is None]
    flagged = [w for w in wires if w.flagged_at is not None]
    confirmed = [w for w in wires if w.payment_status is PaymentStatus.CONFIRMED]
    assert waiting and confirmed
    assert len([w for w in flagged if w in reported]) >= 2  # finance still has to see them
    finance = {u.email for u in db.session.scalars(select(User)) if u.has_role(Role.FINANCE)}
    for wire in wires:
        assert wire.reported_by == wire.invoice.client.acm and wire.reference
        assert wire.amount == wire.invoice.total and wire.reported_at <= now
    for wire in waiting:
        assert now - wire.reported_at < timedelta(days=4)
        assert not events_about(
            db, wire.invoice.client_id, TimelineKind.PAYMENT_FLAGGED, payment_id=wire.id
        )
    for wire in flagged:
        assert wire.reported_at + timedelta(days=4) <= wire.flagged_at <= now
        assert wire.confirmed_at is None or wire.confirmed_at > wire.flagged_at
        (flag,) = events_about(
            db, wire.invoice.client_id, TimelineKind.PAYMENT_FLAGGED, payment_id=wire.id
        )
        assert sent(flag.outbox_message, "email")
        assert set(flag.outbox_message.to_addrs) == finance | {wire.invoice.client.acm.email}
        # R4: a wire waiting for finance is not chased with reminders.
        reminders = events_about(
            db, wire.invoice.client_id, TimelineKind.INVOICE_REMINDER, invoice_id=wire.invoice_id
        )
        assert all(reminder.at < wire.reported_at for reminder in reminders)
    for wire in confirmed:
        assert wire.confirmed_by.has_role(Role.FINANCE)
        assert wire.reported_at < wire.confirmed_at <= now
        assert wire.invoice.invoice_status is InvoiceStatus.PAID


def test_payments_at_the_premises_and_payment_issues_go_through_finance_R5_R6(db, seeded):
    now = clock.now()
    at_premises = list(
        db.session.scalars(select(Payment).where(Payment.method == PaymentMethod.PREMISES.value))
    )
    assert at_premises
    for payment in at_premises:
        assert payment.receipt_number and payment.confirmed_by.has_role(Role.FINANCE)
        assert payment.confirmed_at <= now
        assert payment.invoice.invoice_status is InvoiceStatus.PAID
        assert payment.amount == payment.invoice.total
    # Finance's to record: the client said it pays at the premises.
    assert db.session.scalar(
        select(Invoice)
        .where(Invoice.status == InvoiceStatus.UNPAID.value)
        .where(Invoice.method == PaymentMethod.PREMISES.value)
    )
    issues = list(db.session.scalars(select(PaymentIssue)))
    assert {i.status for i in issues} == {s.value for s in PaymentIssueStatus}
    for issue in issues:
        assert issue.note and issue.raised_by == issue.invoice.client.acm
        assert issue.raised_at <= now
        if issue.issue_status is PaymentIssueStatus.RESOLVED:
            assert issue.resolved_by.has_role(Role.FINANCE)
            assert issue.raised_at < issue.resolved_at <= now
            assert issue.new_method and issue.invoice.method == issue.new_method
        else:
            assert issue.invoice.invoice_status is InvoiceStatus.UNPAID


def test_an_installment_plan_sums_exactly_to_its_invoice_first_paid_one_overdue_R10(db, seeded):
    today = clock.now().date()
    (split,) = db.session.scalars(
        select(Invoice).where(Invoice.status == InvoiceStatus.SPLIT.value)
    )
    plan = split.installments
    assert len(plan) >= 3
    assert sum(installment.total for installment in plan) == split.total
    assert {installment.currency for installment in plan} == {split.currency}
    assert [i.installment_no for i in plan] == list(range(1, len(plan) + 1))
    first, *rest = plan
    assert first.invoice_status is InvoiceStatus.PAID
    assert all(i.invoice_status is InvoiceStatus.UNPAID for i in rest)
    assert any(i.due_on < today for i in rest)  # overdue
    assert rest[-1].due_on > today  # still ahead
    renewal = db.session.scalar(select(Renewal).where(Renewal.invoice_id == split.id))
    assert renewal.renewal_stage is RenewalStage.INVOICED  # until every installment is paid


def test_finance_has_work_in_every_section_of_its_queue(db, seeded):
    queue_ = payments.finance_queue(now=clock.now())
    assert queue_.wires and queue_.premises and queue_.issues and queue_.installments
    # Flagged wires come first (R7).
    flags = [wire.flagged_at is not None for wire in queue_.wires]
    assert flags[0] and flags == sorted(flags, reverse=True)


def test_every_acm_has_renewals_and_every_team_several_stages(db, seeded):
    stages: dict[str, set[str]] = {}
    for renewal in db.session.scalars(select(Renewal)):
        stages.setdefault(renewal.client.acm.team.name, set()).add(renewal.stage)
    assert set(stages) == {"Cairo", "Riyadh", "Dubai"}
    assert all(len(team_stages) >= 4 for team_stages in stages.values()), stages
    for login in demo.demo_logins():
        if login.role == Role.ACM:
            user = accounts.find_user_by_email(login.email)
            assert db.session.scalar(
                select(func.count())
                .select_from(Renewal)
                .join(Renewal.client)
                .where(Client.acm_id == user.id)
            ), login


# --- Onboarding and launch (O1, O2, L1-L5) ---------------------------------------------------


def launch_events(db, client: Client, kind: TimelineKind) -> list[TimelineEvent]:
    return list(
        db.session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.client_id == client.id, TimelineEvent.kind == kind.value)
            .order_by(TimelineEvent.at, TimelineEvent.id)
        )
    )


def managers(db, client: Client) -> set[int]:
    """The ACMs who managed `client`: its ACM, and any it was reassigned from (E3)."""
    moves = launch_events(db, client, TimelineKind.CLIENT_REASSIGNED)
    return {client.acm_id} | {event.detail["from_acm_id"] for event in moves}


def test_enterprise_clients_in_onboarding_are_owed_their_welcome_a_handful_still_due_O2(db, seeded):
    now = clock.now()
    welcomes = {w.client_id: w for w in db.session.scalars(select(WelcomeEmail))}
    for client in db.session.scalars(select(Client).where(Client.status.in_(IN_LAUNCH))):
        if client.plan == Plan.ENTERPRISE:
            assert client.id in welcomes, client.store_code
    owed = [w for w in welcomes.values() if w.sent_at is None]
    # A handful still owed on the day: some due within hours, some overdue.
    assert seeded.welcome_owed == len(owed) and 4 <= len(owed) <= 8
    standings = [
        onboarding.welcome_standing(w, calendar_for_client(w.client), now=now) for w in owed
    ]
    assert any(not s.overdue and s.hours_left <= 8 for s in standings)
    assert len([s for s in standings if s.overdue]) >= 2
    sent_ones = [w for w in welcomes.values() if w.sent_at is not None]
    assert seeded.welcome_sent == len(sent_ones) > 0
    for welcome in welcomes.values():
        client = welcome.client
        assert client.plan == Plan.ENTERPRISE
        # Due 48 business hours after the subscription, on the ACM's team's calendar.
        calendar = calendar_for_client(client)
        assert welcome.due_at == onboarding.welcome_due_at(welcome.subscribed_at, calendar)
        if welcome.sent_at is None:
            assert client.status == LifecycleStatus.ONBOARDING
            continue
        # Sent on time, by the ACM, from the portal (G1 CCs), on the timeline.
        assert client.created_at < welcome.sent_at <= min(welcome.due_at, now)
        assert welcome.sent_by_id in managers(db, client)
        message = welcome.outbox_message
        assert sent(message, "email")
        welcome_to = {"ar": "مرحبًا بكم في ExpandCart", "en": "Welcome to ExpandCart"}
        assert message.subject == f"{welcome_to[client.language]} – {client.store_code}"
        assert welcome.sent_by.booking_link in message.body
        assert client.acm.team.leader.email in message.cc_addrs
        (event,) = launch_events(db, client, TimelineKind.WELCOME_EMAIL_SENT)
        assert event.at == welcome.sent_at and event.outbox_message == message


def kyc_stage(questionnaire: KycQuestionnaire, now: datetime) -> str:
    if questionnaire.submitted_at is not None:
        return "by the ACM" if questionnaire.submitted_by_id else "by the client"
    if questionnaire.link_revoked_at is not None:
        return "revoked"
    if questionnaire.link_expires_at <= now:
        return "expired"
    return questionnaire.status.value


def test_kyc_questionnaires_stand_at_every_stage_of_the_link_O1(app, db, seeded):
    now = clock.now()
    questionnaires = list(db.session.scalars(select(KycQuestionnaire)))
    stages = Counter(kyc_stage(q, now) for q in questionnaires)
    assert set(stages) == {
        KycStatus.SENT.value,  # not opened
        KycStatus.STARTED.value,
        "by the client",
        "by the ACM",
        "expired",
        "revoked",
    }, stages
    assert seeded.kyc_submitted == stages["by the client"] + stages["by the ACM"]
    required = {key for key, question in QUESTIONS.items() if not question.optional}
    for questionnaire in questionnaires:
        client = questionnaire.client
        stage = kyc_stage(questionnaire, now)
        # O1: the link went by email (G1 CCs) from the portal, to the contact, and expires.
        assert client.created_at < questionnaire.link_sent_at < now
        assert questionnaire.link_sent_by_id in managers(db, client)
        assert questionnaire.link_expires_at > questionnaire.link_sent_at
        (link_sent,) = launch_events(db, client, TimelineKind.KYC_LINK_SENT)
        assert sent(link_sent.outbox_message, "email")
        assert link_sent.outbox_message.to_addrs == [questionnaire.link_sent_to]
        assert f"{demo.DEMO_PUBLIC_URL}/kyc/" in link_sent.outbox_message.body
        assert set(questionnaire.answers) <= set(QUESTIONS)
        if stage in (KycStatus.SENT.value, KycStatus.STARTED.value):
            assert kyc.open_link(kyc.token_for(questionnaire)) is questionnaire
            answered = set(questionnaire.answers)
            if stage == KycStatus.SENT.value:
                assert not answered
            else:  # some answers saved, some questions still open
                assert answered and not required <= answered
        elif stage == "expired":
            with pytest.raises(kyc.LinkRefused) as refused:
                kyc.open_link(kyc.token_for(questionnaire))
            assert refused.value.reason == "expired"
        elif stage == "revoked":
            assert questionnaire.link_nonce is None and not questionnaire.answers
            (revoked,) = launch_events(db, client, TimelineKind.KYC_LINK_REVOKED)
            assert revoked.at == questionnaire.link_revoked_at
            assert launch_events(db, client, TimelineKind.NOTE)  # why, in the ACM's words
        else:
            assert required <= set(questionnaire.answers)
            assert questionnaire.link_sent_at < questionnaire.submitted_at <= now
            (submitted,) = launch_events(db, client, TimelineKind.KYC_SUBMITTED)
            assert submitted.at == questionnaire.submitted_at
        if stage == "by the ACM":  # during a call with the client
            assert questionnaire.submitted_by_id in managers(db, client)
            calls = [
                call
                for call in launch_events(db, client, TimelineKind.CALL)
                if call.detail["outcome"] == "answered"
                and timedelta(0) <= questionnaire.submitted_at - call.at <= timedelta(hours=2)
            ]
            assert calls, client.store_code
    # Seeding built the links on the demo server's address, and put the setting back.
    assert app.config["PUBLIC_URL"] is None


def test_launch_checklists_follow_each_clients_status_ticked_by_the_acm_L1_L3_L4(db, seeded):
    now = clock.now()
    total = sum(len(definition.items) for definition in CHECKLISTS.values())
    items: dict[int, list[ChecklistItem]] = {}
    for item in db.session.scalars(select(ChecklistItem)):
        items.setdefault(item.client_id, []).append(item)
    launching_progress = []
    for client in db.session.scalars(select(Client)):
        theirs = items.get(client.id, [])
        if client.status not in IN_LAUNCH and client.launched_at is None:
            assert not theirs, client.store_code  # came to the portal live
            continue
        assert len(theirs) == total, client.store_code
        ticked = [item for item in theirs if item.done]
        lms_ticked = sorted(
            (item for item in ticked if item.checklist == LMS.key), key=lambda i: i.done_at
        )
        if client.status == LifecycleStatus.ONBOARDING:
            assert not lms_ticked and client.lms_started_at is None
        else:
            # L1: ticking the first LMS step started the launch.
            assert lms_ticked[0].item_key == LMS.items[0].key
            assert lms_ticked[0].done_at == client.lms_started_at
            (started,) = launch_events(db, client, TimelineKind.LMS_STARTED)
            assert started.at == client.lms_started_at
        if client.status == LifecycleStatus.LAUNCHING:
            launching_progress.append(len(lms_ticked))
        weekdays = client.acm.team.working_weekdays
        for item in ticked:
            assert client.created_at < item.done_at < now
            assert item.done_by_id in managers(db, client)
            assert item.done_at.astimezone(ZoneInfo(client.acm.team.timezone)).isoweekday() in (
                weekdays
            )
            assert all(link.startswith("https://") for link in item.evidence)
    ticks = [item for theirs in items.values() for item in theirs if item.done]
    assert seeded.checklist_ticks == len(ticks)
    assert [item for item in ticks if item.note] and [item for item in ticks if item.evidence]
    # Launching clients are partway through the LMS steps.
    assert any(0 < done < len(LMS.items) for done in launching_progress), launching_progress


def test_stores_launch_with_the_uat_complete_or_by_the_leaders_override_L5(db, seeded):
    launched = list(db.session.scalars(select(Client).where(Client.launched_at.is_not(None))))
    assert seeded.launched == len(launched) >= 2
    overrides = []
    for client in launched:
        assert client.status == LifecycleStatus.LIVE
        assert client.lms_started_at < client.launched_at < clock.now()
        (event,) = launch_events(db, client, TimelineKind.STORE_LAUNCHED)
        assert event.at == client.launched_at
        still_open = {o.definition.key: o.items for o in onboarding.launch_open(client)}
        reason = event.detail["override_reason"]
        (audit,) = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "client", AuditEvent.object_id == client.id)
            .where(AuditEvent.action.in_(["client.launch", "client.launch_override"]))
        )
        if reason is None:
            assert not still_open and event.actor == client.acm
            assert audit.action == "client.launch"
        else:
            overrides.append(client)
            # Only the team leader overrides, with a reason; the LMS steps and the
            # pre-launch checks were done and test payments disabled: the UAT was open.
            assert set(still_open) == {UAT.key} and event.detail["open"] == {
                UAT.key: list(still_open[UAT.key])
            }
            assert event.actor == client.acm.team.leader == audit.actor
            assert audit.action == "client.launch_override" and reason in event.summary
            uat_open = {item.key for item in UAT.items if item.text in still_open[UAT.key]}
            assert TEST_PAYMENTS_DISABLED not in uat_open
    assert len(overrides) == 1
    # One store has its LMS steps, pre-launch checks and UAT complete and waits to be
    # launched (L1, L4, L5).
    ready = [
        client
        for client in db.session.scalars(
            select(Client).where(Client.status == LifecycleStatus.LAUNCHING.value)
        )
        if not onboarding.launch_open(client)
    ]
    assert ready


def test_contract_usage_stays_within_its_limits_near_200_products_one_exception_L2(db, seeded):
    now = clock.now()
    usage = list(db.session.scalars(select(ContractUsage)))
    kinds = {u.kind for u in usage}
    assert {k.value for k in (UsageKind.LOGO, UsageKind.SLIDES, UsageKind.PRODUCTS)} <= kinds
    assert UsageKind.CATEGORIES.value in kinds
    for row in usage:
        client = db.session.get(Client, row.client_id)
        assert row.during_lms and row.recorded_by_id in managers(db, client)
        assert client.lms_started_at < row.recorded_at < now
    products = {}
    for client in {db.session.get(Client, row.client_id) for row in usage}:
        for standing in contract_limits.standings(client):
            if standing.applies:
                assert standing.used <= standing.allowance, (client.store_code, standing)
            if standing.limit.key == "products_lms":
                products[client.id] = standing
    # Near the 200 products of the launch, without an exception.
    assert any(180 <= s.used <= 200 and not s.extra for s in products.values())
    (exception,) = db.session.scalars(select(ContractException))
    client = db.session.get(Client, exception.client_id)
    assert exception.granted_by == client.acm.team.leader and exception.reason
    assert exception.limit_key == "products_lms" and exception.granted_at < now
    standing = products[client.id]
    assert 200 < standing.used <= standing.allowance == 200 + exception.extra
    (event,) = launch_events(db, client, TimelineKind.CONTRACT_EXCEPTION)
    assert exception.reason in event.summary


# --- Follow-ups (F2) -------------------------------------------------------------------------


def test_each_acm_has_an_unanswered_call_to_follow_up_on_their_day_F2(db, seeded):
    """This morning's unanswered call, through the service: where the team leaves the
    follow-up email to a button, it is owed on the ACM's day; where the team sends it at
    once, it went, and the WhatsApp waits for the team's hours."""
    now = clock.now()
    acms = [u for u in db.session.scalars(select(User)) if u.has_role(Role.ACM)]
    for acm in acms:
        ladders = list(
            db.session.scalars(
                select(NoReplyLadder)
                .join(Client, Client.id == NoReplyLadder.client_id)
                .where(Client.acm_id == acm.id)
            )
        )
        assert len(ladders) == 1, acm.email
        [ladder] = ladders
        assert ladder.started_at == now - demo.UNANSWERED_CALL_AGO
        owed = day.no_reply_followups(acm, now=now).items
        if acm.team.followup_email_auto:
            assert ladder.email_message_id is not None and ladder.whatsapp_due_at > now
        else:
            assert [item.client for item in owed] == [ladder.client]
            assert owed[0].title == "Call not answered: send the follow-up email"


def test_product_lands_on_requests_waiting_one_breached_one_rejected_one_on_hold_C2_C3(db, seeded):
    now = clock.now()
    waiting = customizations.product_queue(now=now)
    teams = len(db.session.scalars(select(Team)).all())
    assert seeded.customizations == len(demo.CUSTOMIZATION_STORIES) * teams
    # Two stories a team, and the customization each team won from an opportunity (P3).
    assert len(waiting) == 3 * teams
    breached = [q for q in waiting if q.clock.overdue]
    assert breached and all(q.request.breach_flagged_at is not None for q in breached)
    assert all(q.request.breach_flagged_at is None for q in waiting if not q.clock.overdue)
    # The breach went to product and the team's leader, once (C2).
    for queued in breached:
        [event] = db.session.scalars(
            select(TimelineEvent).where(
                TimelineEvent.client_id == queued.request.client_id,
                TimelineEvent.kind == TimelineKind.CUSTOMIZATION_BREACHED.value,
            )
        ).all()
        leader = queued.request.client.acm.team.leader
        assert leader.email in event.outbox_message.to_addrs
    statuses = Counter(db.session.scalars(select(CustomizationRequest.status)))
    assert statuses[CustomizationStatus.REJECTED.value] == teams
    assert statuses[CustomizationStatus.ON_HOLD.value] == teams
    rejected = db.session.scalars(
        select(CustomizationRequest).where(
            CustomizationRequest.status == CustomizationStatus.REJECTED.value
        )
    ).all()
    assert all(r.decision_reason and r.decided_by.has_role(Role.PRODUCT) for r in rejected)
    # Attachments are kept where the setting says, under generated names (C1).
    attachment = db.session.scalars(select(CustomizationAttachment)).first()
    assert attachment.filename == "mock-up.pdf"
    assert customizations.attachment_path(attachment).read_bytes().startswith(b"%PDF-")
    # The ACM owes the answer to the hold on their day (C3).
    on_hold = next(
        r for r in db.session.scalars(select(CustomizationRequest)) if r.status == "on_hold"
    )
    section = day.section(on_hold.client.acm, "customizations", now=now)
    assert any(item.customization == on_hold and item.rule == "C3" for item in section.items)


def test_customizations_at_every_stage_commercial_and_product_have_work_C4_C7(db, seeded):
    """Every stage of the process has requests; product has periods to estimate and
    commercial prices and a discount to decide; the paid ones have their customization
    ticket; one is delivered, accepted by the client, closed, with its survey answered."""
    now = clock.now()
    teams = len(db.session.scalars(select(Team)).all())
    stages = Counter(db.session.scalars(select(CustomizationRequest.stage)))
    assert set(stages) == {stage.value for stage in CustomizationStage}
    assert len(quotations.to_estimate()) == teams and len(quotations.to_price()) == teams
    _, decided = discounts.discount_queue()
    waiting = db.session.scalars(
        select(Quotation).where(Quotation.status == QuotationStatus.REQUESTED.value)
    ).all()
    assert len(waiting) == teams and decided
    requests = db.session.scalars(select(CustomizationRequest)).all()
    for request in requests:
        assert request.approval_ticket_key.startswith("SAL-")
        paid = request.stage in ("delivery", "closing", "closed")
        assert (request.customization_ticket_key is not None) == paid
        assert (request.invoice_attached_at is not None) == paid
        assert (request.paid_at is not None) == paid
    # The ACM owes the concept documents and the invoices on their day (C5, C6).
    concept = next(r for r in requests if r.stage == "concept")
    assert any(
        i.customization == concept
        for i in day.section(concept.client.acm, "concepts", now=now).items
    )
    invoicing = next(r for r in requests if r.stage == "invoicing")
    owed = day.section(invoicing.client.acm, "customization_invoices", now=now).items
    assert any(item.customization == invoicing for item in owed)
    # In delivery: a milestone done, one late on the ACM's day (C7).
    delivering = next(r for r in requests if r.stage == "delivery")
    progress = delivery.request_progress(delivering, at=now)
    assert progress.done >= 1 and progress.late >= 1
    late = day.section(delivering.client.acm, "delivery", now=now).items
    assert any(item.customization == delivering for item in late)
    # Delivered: accepted by the client's link, closed, the survey on the client page.
    for closed in (r for r in requests if r.stage == "closed"):
        assert closed.accepted_via == "link" and closed.accepted_name
        assert closed.accepted_at < closed.closed_at < closed.survey_answered_at <= now
        assert closed.survey_score == 5 and closed.survey_comment
        assert all(m.status == "done" for m in closed.milestones)
        assert closed.concept.approved_via == "link" and closed.concept.approved_name


def test_each_teams_first_acm_has_support_tickets_one_past_its_sla_on_their_day_G4(db, seeded):
    """Technical problems escalated to the support team with the Enterprise label, the
    portal's own tickets: one past its SLA shows on the ACM's day, one within it does not."""
    now = clock.now()
    tickets = list(db.session.scalars(select(SupportTicket).order_by(SupportTicket.id)))
    teams = db.session.scalar(select(func.count()).select_from(Team))
    assert seeded.support_tickets == len(tickets) == 2 * teams
    labels = db.session.scalars(select(Ticket.labels).where(Ticket.project == "SUP")).all()
    # Enterprise (G4), then the label each is opened once by.
    assert labels and all(
        found[0] == "Enterprise" and found[1].startswith("kam-support-") and len(found) == 2
        for found in labels
    )
    for ticket in tickets:
        assert ticket.ticket_key.startswith("SUP-") and ticket.url is None
        assert ticket.sla_due_at == support_tickets.sla_due(
            ticket.client, ticket.priority, ticket.opened_at
        )
    past = [t for t in tickets if t.past_sla(now)]
    assert {t.priority for t in past} == {"High"} and len(past) == teams
    assert all(t.sla_flagged_at == now for t in past)
    for ticket in past:
        on_day = day.support_tickets_past_sla(ticket.client.acm, now=now).items
        assert [item.support_ticket for item in on_day] == [ticket]


def test_the_store_manager_has_the_store_managed_clients_duties_and_requests_F6(db, seeded):
    """Every live client whose plan includes an Online Store Manager has one; duties done
    this period on some; a data-entry request past its SLA and one within it."""
    now = clock.now()
    managed = list(
        db.session.scalars(
            select(Client).where(
                Client.has_store_manager.is_(True), Client.status == LifecycleStatus.LIVE.value
            )
        )
    )
    assert managed and all(c.store_manager is not None for c in managed)
    cards = store_management.cards(managed, now=now)
    assert seeded.store_duties > 0
    assert any(len(card.owed) < len(card.duties) for card in cards)
    requests = [r for card in cards for r in card.requests]
    assert seeded.data_entry_requests == len(requests) == 2
    assert sorted(now > r.due_at for r in requests) == [False, True]


def test_account_plans_are_versioned_and_one_review_a_team_is_overdue_P1(db, seeded):
    """Plans written part by part over the last months: versions with what changed, goals
    and stakeholders; a review recorded on one, another's review overdue on its ACM's day."""
    now = clock.now()
    plans = list(db.session.scalars(select(AccountPlan).order_by(AccountPlan.id)))
    assert seeded.account_plans == len(plans) > 0
    for plan in plans:
        content = account_plans.content_of(plan)
        assert len(content["goals"]) == 3 and content["stakeholders"]
        assert plan.versions_saved == len(plan.versions) >= 5
        assert all(version.changes for version in plan.versions)
    # A plan older than a quarter and a month was reviewed when its review came.
    for plan in plans:
        assert bool(plan.reviews) == (plan.created_at + timedelta(days=122) < now)
    overdue = [p for p in plans if p.next_review_on < clock.today(p.client.timezone, at=now)]
    assert overdue
    for plan in overdue:
        items = day.plan_reviews_owed(plan.client.acm, now=now).items
        assert plan.client in [item.client for item in items]


def test_each_team_owes_hand_overs_one_late_on_its_acms_day_P5(db, seeded):
    """Points of contact that changed hands: a hand-over meeting owed within the week and
    one late, on the ACM's day; the new primary contact is the only one."""
    now = clock.now()
    handovers = list(db.session.scalars(select(ContactHandover).order_by(ContactHandover.id)))
    # Two a team, as far as its live clients nothing was emailed to have two contacts (the
    # small portfolio of these tests has two such clients).
    assert seeded.handovers == len(handovers) >= 2
    assert any(h.due_at <= now for h in handovers) and any(h.due_at > now for h in handovers)
    for handover in handovers:
        assert handover.client.primary_contact.name == handover.to_name != handover.from_name
        items = day.handovers_owed(handover.client.acm, now=now).items
        assert handover.client in [item.client for item in items]


def test_opportunities_stand_at_every_stage_in_their_clients_currencies_P3(db, seeded):
    """Each team's live clients have opportunities at every stage of the pipeline, in their
    currency, some past their close date; the lost ones say why; a customization won
    started its request, waiting for product (C1, C2)."""
    teams = len(db.session.scalars(select(Team)).all())
    found = db.session.scalars(select(Opportunity)).all()
    assert seeded.opportunities == len(found) == len(demo.OPPORTUNITY_STORIES) * teams
    assert {o.stage for o in found} == {stage.value for stage in OpportunityStage}
    assert {o.kind for o in found} == {kind.value for kind in OpportunityKind}
    for opportunity in found:
        client = opportunity.client
        assert client.status == LifecycleStatus.LIVE.value
        assert opportunity.currency == client.currency
        assert (opportunity.lost_reason is not None) == (opportunity.stage == "lost")
    started = [o for o in found if o.customization_request is not None]
    assert len(started) == teams
    for opportunity in started:
        request = opportunity.customization_request
        assert opportunity.stage == "won" and request.title == opportunity.title
        assert request.status == CustomizationStatus.AWAITING_DECISION.value
        assert request.approval_ticket_key.startswith("SAL-")
    leader = found[0].client.acm.team.leader
    today = clock.today(leader.timezone)
    forecast = opportunities.forecast(leader, opportunities.PipelineFilter(), today=today)
    assert any(cell.month is None for cell in forecast)  # overdue ones
    assert any(cell.month is not None for cell in forecast)


def test_last_months_reports_are_mostly_sent_one_owed_on_each_acms_day_P4(db, seeded):
    """October's reports, drafted on each team's first working day of November (Sunday 1st
    in Cairo and Riyadh, Monday 2nd in Dubai) through the sweep: most sent with their PDF a
    day later, each ACM's last one owed on their day, late, every other one written."""
    now = clock.now()
    reports = list(db.session.scalars(select(ClientReport).order_by(ClientReport.id)))
    assert seeded.client_reports == len(reports) > 0
    assert {r.month for r in reports} == {date(2026, 10, 1)}
    sent = [r for r in reports if r.status == "sent"]
    owed = [r for r in reports if r.status == "draft"]
    assert len(sent) > len(owed) > 0
    for report in sent:
        assert report.drafted_at < report.sent_at < now
        assert report.outbox_message.attachments[0]["content_type"] == "application/pdf"
        assert report.commentary and report.proposals
    assert any(r.commentary for r in owed) and any(not r.commentary for r in owed)
    for report in owed:
        acm = report.client.acm
        items = day.client_reports_owed(acm, now=now).items
        assert report in [item.client_report for item in items]
        assert all(item.overdue for item in items)
    # A store whose figures start after October says so rather than showing zeros.
    assert all(r.has_figures == (r.gmv is not None) for r in reports)


def orders_between(days: dict[date, int], yesterday: date, first: int, last: int) -> int:
    """The orders from `first` to `last` days before `yesterday`."""
    return sum(days.get(yesterday - timedelta(days=n), 0) for n in range(first, last + 1))


def test_live_and_at_risk_stores_have_180_days_of_figures_in_every_shape_F4(db, seeded):
    """Steady, growing, falling, stopped (no orders for the last 10 days or more) and
    recovering stores, each with the figures of its shape; onboarding stores have none."""
    figures: dict[int, dict[date, int]] = {}
    for client_id, day_, orders in db.session.execute(
        select(StoreDay.client_id, StoreDay.day, StoreDay.orders)
    ):
        figures.setdefault(client_id, {})[day_] = orders
    assert seeded.store_days == sum(len(days) for days in figures.values())
    stores = db.session.scalars(select(Client).order_by(Client.id)).all()
    dealt = demo_figures.shapes_of(stores, demo.DEFAULT_SEED)
    shapes: Counter[str] = Counter()
    for client in stores:
        days = figures.get(client.id, {})
        if client.status not in (LifecycleStatus.LIVE, LifecycleStatus.AT_RISK):
            assert not days, client.status
            continue
        yesterday = clock.today(client.timezone) - timedelta(days=1)
        assert max(days) == yesterday and min(days) >= yesterday - timedelta(days=179)
        assert 170 <= len(days) <= 180  # a day missing now and then
        total = partial(orders_between, days, yesterday)
        shape = dealt[client.id]
        shapes[shape] += 1
        early, late = total(150, 179), total(0, 29)
        if shape == "stopped":
            assert total(0, 9) == 0 < total(30, 59)
        elif shape == "growing":
            assert late > 1.5 * early
        elif shape == "falling":
            assert 0 < late < 0.7 * total(90, 119)
        elif shape == "recovering":
            lowest = min(total(n, n + 6) for n in range(35, 70))
            assert lowest < 0.35 * early / 30 * 7 and total(0, 13) > 0.8 * early / 30 * 14
        else:
            assert 0.75 * early <= late <= 1.25 * early
    assert set(shapes) == set(demo_figures.SHAPES), shapes
    assert shapes.most_common(1)[0][0] == "steady"


def test_the_stores_that_stopped_or_fell_are_not_selling_on_their_acms_day_F4(db, seeded):
    """The sweep ran as cron would: the stopped stores (and the falling ones past the
    team's share) have an open alert, their reasons owed on their ACM's day."""
    alerts = db.session.scalars(select(NotSellingAlert)).all()
    assert seeded.not_selling == len(alerts) > 0
    assert {alert.cause for alert in alerts} == {"no_orders", "gmv_drop"}
    for alert in alerts:
        assert alert.cleared_at is None and alert.recorded_at is None
        assert alert in not_selling.owed_of(alert.client.acm)
    assert not_selling.sweep(clock.now()).raised == 0  # one alert per episode


def test_every_client_not_churned_has_its_health_and_12_weeks_of_it_P2(db, seeded):
    """The sweep ran for today and for each of the 12 weeks before: every client that has
    not churned has a score with its reasons, a day's row for each day, and the bands all
    show up in the portfolio."""
    clients = db.session.scalars(select(Client).where(Client.status != "churned")).all()
    assert all(c.health_score is not None and c.health_at == clock.now() for c in clients)
    days = db.session.execute(
        select(ClientHealth.client_id, func.count()).group_by(ClientHealth.client_id)
    ).all()
    assert {count for _, count in days} == {HEALTH_HISTORY_DAYS + 1}
    assert seeded.health_days == len(clients) * (HEALTH_HISTORY_DAYS + 1)
    assert {HealthBand.of(c.health_score) for c in clients} == set(HealthBand)
    assert any(c.gmv_30d_ref is not None for c in clients)


def test_live_clients_were_suggested_apps_and_actions_with_every_answer_and_outcome_F5(db, seeded):
    """Each ACM suggested apps and marketing actions to their first live clients over the
    last weeks: some installed or done, some declined with the client's reason, some still
    open; each on the client's timeline, by the client's ACM, in the past."""
    made = db.session.scalars(select(Suggestion)).all()
    assert seeded.suggestions == len(made) > 0
    assert {s.outcome for s in made} == {"installed", "done", "declined", "open"}
    assert {s.answer for s in made} == {"interested", "thinking", "not_interested", None}
    assert {s.channel for s in made} >= {"meeting", "call", "email"}
    acms = {user for user in db.session.scalars(select(User)) if user.has_role(Role.ACM)}
    assert {s.suggested_by for s in made} == acms
    for suggestion in made:
        assert suggestion.client.status == LifecycleStatus.LIVE.value
        assert suggestion.suggested_by == suggestion.client.acm
        assert suggestion.suggested_at < clock.now()
        assert suggestion.recommendation.active
        if suggestion.outcome == "declined":
            assert suggestion.decline_reason
        if suggestion.outcome == "installed":
            assert suggestion.recommendation.kind == "app"
        kinds = db.session.scalars(
            select(TimelineEvent.kind)
            .where(
                TimelineEvent.client_id == suggestion.client_id,
                TimelineEvent.detail["suggestion_id"].as_integer() == suggestion.id,
            )
            .order_by(TimelineEvent.at, TimelineEvent.id)
        ).all()
        assert kinds[0] == TimelineKind.SUGGESTION_MADE.value
        assert (TimelineKind.SUGGESTION_CLOSED.value in kinds) == (not suggestion.is_open)
    # The catalogue is the seed's, every entry offered.
    assert db.session.scalar(select(func.count()).select_from(Recommendation)) == 25


def test_whatsapp_requests_are_answered_but_a_few_still_wait_on_their_days_G6(db, seeded):
    """The demo's timelines go in in bulk: its open WhatsApp requests are those the
    timeline says are unanswered, and there are some, each on its ACM's day."""
    requests = select(func.count()).where(
        TimelineEvent.kind == TimelineKind.WHATSAPP_RECEIVED.value
    )
    truth = set(
        db.session.scalars(
            select(TimelineEvent.id).where(contact_log._unanswered_on_the_timeline())
        )
    )
    open_ids = set(
        db.session.scalars(select(TimelineEvent.id).where(contact_log.whatsapp_unanswered_clause()))
    )
    assert open_ids == truth
    assert 0 < len(open_ids) < db.session.scalar(requests)
    waiting = db.session.get(TimelineEvent, min(open_ids))
    acm = db.session.get(Client, waiting.client_id).acm
    assert day.section(acm, "whatsapp", now=clock.now()).items


def test_the_day_skips_only_sections_that_hold_nothing(db, seeded):
    """Issue 17: the day asks first, in one statement, which sections find anything, and
    builds only those. Over the whole demo portfolio, for every ACM, leader and admin, a
    section said to hold nothing has no item; one said to hold something has, but for the
    customizations in delivery (C7), which lists only what is late or next of them."""
    now = clock.now()
    people = db.session.scalars(
        select(User).where(
            User.active.is_(True),
            User.role_rows.any(
                UserRole.role.in_([Role.ACM.value, Role.LEADER.value, Role.ADMIN.value])
            ),
        )
    ).all()
    sections_seen_holding = set()
    for user in people:
        holding = day.sections_holding(user, now=now, reach=access.reach_of(user))
        for name in day.SECTIONS:
            items = day.section(user, name, now=now).items
            if items or name != "delivery":
                assert (name in holding) == bool(items), (user.email, name)
        sections_seen_holding |= holding
    # The portfolio exercises most sections, so the check above means something.
    assert len(sections_seen_holding) >= len(day.SECTIONS) - 3, sections_seen_holding
