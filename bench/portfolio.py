"""Fill a scratch PostgreSQL database with a portfolio at the real size, in minutes.

Run: python -m bench.portfolio [--clients 50400] [--seed 2026] [--check]
with BENCH_DATABASE_URL naming a scratch database (emptied first). See bench/README.md.

PostgreSQL only: rows go in through COPY (psycopg 3), with every id computed up front so
that children name their parents without a round trip, and the sequences set afterwards.
There is no SQLite fallback: `bench.client_pages` seeds SQLite through the demo.

At the default size: 50,400 clients in 50 teams of 10 ACMs (500 ACMs, each team with its
leader), a few admins and finance users, about 2.1 million timeline events and 300,000
meetings, with the renewals, invoices, payments, escalations, complaints, launch
checklists, minutes and contacts in the same proportions. `--clients N` scales all of it.
The distributions are the demo's (kamportal/demo): markets, lifecycle statuses, plans,
prices, names, the weekly contact (F1, F2, G5, G6). Store names past the demo's 3,150
take a number ("Nile Threads 2"). Every user signs in with the demo's password.

What the demo also seeds and this does not: store figures (F4), the health history (P2:
only today's score and 30-day GMV are on each client), customizations, support tickets,
account plans, opportunities, reports, outbox messages and the audit log.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time as timer
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from flask_migrate import upgrade
from sqlalchemy import Engine, func, select

from bench.client_pages import build_app, reset_schema, signed_in
from kamportal import clock
from kamportal.config import DEMO_PASSWORD
from kamportal.demo.clients import (
    ACM_NOTES,
    AT_RISK_REASONS,
    CALL_NOTES,
    CHURN_REASONS,
    CLIENT_REQUESTS,
    HISTORY_DAYS,
    VOICEMAIL_NOTES,
    WHATSAPP_MESSAGES,
    draw_subscription,
)
from kamportal.demo.common import NO_ANSWER_NOTES, anniversary, slug
from kamportal.demo.markets import (
    MARKETS,
    NAMES,
    Market,
    make_contacts,
    store_code,
    store_names,
    yearly_price,
)
from kamportal.demo.meetings import ACTIONS, AGREED_POINTS
from kamportal.demo.onboarding import kyc_answers
from kamportal.demo.people import STAFF, STAFF_DOMAIN, TEAMS, TeamSpec
from kamportal.extensions import db
from kamportal.models import (
    CallOutcome,
    Client,
    LifecycleStatus,
    Plan,
    Role,
    TimelineKind,
    User,
    UserRole,
)
from kamportal.services import accounts, contact_log
from kamportal.services.launch_checklists import CHECKLISTS

DEFAULT_CLIENTS = 50_400
DEFAULT_SEED = 2026
# The real size's shape: 500 ACMs of about 100 clients, in teams of 10 with a leader; 4
# admins and 4 finance users (the issue's mixed load), a store manager per ~4,000 clients.
CLIENTS_PER_ACM = 100.8
ACMS_PER_TEAM = 10
ADMINS_AT_FULL_SIZE = 4
FINANCE_AT_FULL_SIZE = 4
CLIENTS_PER_STORE_MANAGER = 4_200
# Clients generated and written together: bounds the memory, one COPY per table each.
CHUNK = 2_000

# A held meeting some weeks instead of the weekly call (G2), by lifecycle status.
MEETING_WEEK = {
    LifecycleStatus.ONBOARDING: 0.6,
    LifecycleStatus.LAUNCHING: 0.55,
    LifecycleStatus.LIVE: 0.45,
    LifecycleStatus.AT_RISK: 0.5,
    LifecycleStatus.CHURNED: 0.4,
}
# The client writes of its own some weeks (G6): a little more often than in the demo, so
# that the timelines reach the real size's 2.1 million events (about 42 a client).
CLIENT_EMAIL_WEEK = 0.15
CLIENT_WHATSAPP_WEEK = 0.07
# Escalations (E1) and complaints (E3): about the demo's share (21 in 3,150 clients), more
# on clients at risk.
ESCALATION_SHARE = {LifecycleStatus.LIVE: 0.005, LifecycleStatus.AT_RISK: 0.02}
COMPLAINT_SHARE = {
    LifecycleStatus.LIVE: 0.003,
    LifecycleStatus.AT_RISK: 0.015,
    LifecycleStatus.CHURNED: 0.03,
}
# The stage an open renewal reached (R1-R3), and how the invoiced ones are being paid.
OPEN_RENEWAL_STAGES = {"due": 30, "notified": 25, "confirmed": 15, "invoiced": 30}
# P2: the 30-day GMV in the reference currency (USD) of live stores: a log-uniform spread
# over the bands 0-1,000 / -10,000 / -50,000 / more.
GMV_RANGE_USD = (150, 120_000)

LADDER = ("call", "email", "whatsapp", "leader")
ESCALATION_SAID = (
    "I want to speak to your manager about the delays.",
    "Please give us another account manager.",
    "We will not deal with this ACM any more.",
)
TRIGGER_OF_SAID = ("asked_for_manager", "asked_to_change_acm", "refuses_acm")
COMPLAINT_SAID = {
    "complaint": "The store was down during our campaign.",
    "cancellation": "We want to cancel the subscription at the end of the term.",
    "refund": "We were charged twice for the renewal.",
}


# -- writing rows: COPY ---------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value).translate(_ESCAPES)
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    return str(value)


class Load:
    """The rows of a chunk of the portfolio, by table, written with one COPY per table in
    the order of the foreign keys. Ids are handed out here, from each table's highest."""

    def __init__(self, connection) -> None:
        self.connection = connection  # psycopg's
        self.tables = {t.name: t for t in db.metadata.sorted_tables}
        self.columns = {name: [c.name for c in t.columns] for name, t in self.tables.items()}
        self.defaults = {
            name: {c.name: _python_default(c) for c in t.columns} for name, t in self.tables.items()
        }
        self.pending: dict[str, list[str]] = defaultdict(list)
        self.counts: Counter[str] = Counter()
        self.last_ids: dict[str, int] = {}
        with connection.cursor() as cursor:
            for name, table in self.tables.items():
                if "id" in table.columns:
                    cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{name}"')
                    self.last_ids[name] = cursor.fetchone()[0]

    def new_id(self, table: str) -> int:
        self.last_ids[table] += 1
        return self.last_ids[table]

    def add(self, table: str, **values: Any) -> int:
        """Queue a row; returns its id (0 for a table without one)."""
        if table in self.last_ids and "id" not in values:
            values["id"] = self.new_id(table)
        defaults = self.defaults[table]
        self.pending[table].append(
            "\t".join(
                _copy_text(values[c] if c in values else defaults[c]) for c in self.columns[table]
            )
        )
        return values.get("id", 0)

    def event(
        self,
        client_id: int,
        kind: TimelineKind,
        actor_id: int | None,
        at: datetime,
        summary: str,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """A timeline event, in the shapes services/timeline.py records."""
        return self.add(
            "timeline_events",
            client_id=client_id,
            kind=kind.value,
            actor_id=actor_id,
            at=at,
            summary=summary[:500],
            detail=detail or {},
            outbox_message_id=None,
        )

    def write(self) -> None:
        with self.connection.cursor() as cursor:
            for table in self.tables:
                lines = self.pending.pop(table, None)
                if not lines:
                    continue
                columns = ", ".join(f'"{c}"' for c in self.columns[table])
                with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                    for start in range(0, len(lines), 5_000):
                        copy.write("\n".join(lines[start : start + 5_000]) + "\n")
                self.counts[table] += len(lines)
        self.connection.commit()

    def set_sequences(self) -> None:
        with self.connection.cursor() as cursor:
            for table, last in self.last_ids.items():
                if last:
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", (f'"{table}"', last)
                    )
        self.connection.commit()


def _python_default(column) -> Any:
    default = column.default
    if default is None or not hasattr(default, "arg"):
        return None
    if default.is_callable:
        return default.arg(None)
    value = default.arg
    return value.value if hasattr(value, "value") and isinstance(value, str) else value


# -- the people -----------------------------------------------------------------------------


@dataclass
class Team:
    id: int
    name: str
    spec: TeamSpec  # the demo team it is modelled on: country, zone, week, hours
    zone: ZoneInfo
    leader_id: int = 0
    leader_name: str = ""
    leader_email: str = ""
    acms: list[tuple[int, str, str]] = field(default_factory=list)  # id, name, email
    acm_weights: list[float] = field(default_factory=list)

    def office_time(self, rng: random.Random, around: datetime) -> datetime:
        """A moment in the team's working hours on the working day at or before `around`."""
        day = around.astimezone(self.zone).date()
        while day.isoweekday() not in self.spec.weekdays:
            day -= timedelta(days=1)
        open_minutes = (self.spec.ends.hour - self.spec.starts.hour) * 60 - 30
        local = datetime.combine(day, self.spec.starts, self.zone) + timedelta(
            minutes=rng.randrange(open_minutes)
        )
        return local.astimezone(UTC)


@dataclass
class Staff:
    teams: list[Team]
    teams_of_spec: dict[str, list[Team]]
    finance_ids: list[int]
    store_manager_ids: list[int]


def seed_people(load: Load, clients: int, rng: random.Random, now: datetime) -> Staff:
    """Teams modelled on the demo's three (by their markets' share of the clients), each with
    a leader and its ACMs; admins, finance, product, commercial and store managers. One
    password hash for all: the demo's password."""
    password_hash = accounts.hash_password(DEMO_PASSWORD)
    acm_count = max(2, round(clients / CLIENTS_PER_ACM))
    team_count = max(1, round(acm_count / ACMS_PER_TEAM))
    emails: set[str] = set()
    email_of: dict[int, str] = {}

    def user(name: str, role: Role, zone: str, team_id: int | None, email: str = "") -> int:
        local = email or f"{slug(name.split()[0])}.{slug(name.split(' ', 1)[1])}"
        address = f"{local}@{STAFF_DOMAIN}"
        n = 1
        while address in emails:
            n += 1
            address = f"{local}{n}@{STAFF_DOMAIN}"
        emails.add(address)
        user_id = load.add(
            "users",
            email=address,
            name=name,
            password_hash=password_hash,
            active=True,
            timezone=zone,
            team_id=team_id,
            phone=None,
            booking_link=(
                f"https://meetings.{STAFF_DOMAIN}/{address.partition('@')[0].replace('.', '-')}"
                if role in (Role.ACM, Role.LEADER)
                else None
            ),
            created_at=now - timedelta(days=HISTORY_DAYS + 1),
        )
        load.add("user_roles", user_id=user_id, role=role.value)
        email_of[user_id] = address
        return user_id

    def person_name(spec: TeamSpec) -> str:
        firsts, lasts = NAMES["egyptian" if spec.country == "EG" else "gulf"]
        return f"{rng.choice(firsts)} {rng.choice(lasts)}"

    # The demo's teams serve the markets' clients: as many teams of each as its share.
    share = Counter()
    for market in MARKETS:
        share[market.team] += market.weight
    specs = _apportion([(spec, share[spec.name]) for spec in TEAMS], team_count)
    teams: list[Team] = []
    for spec in specs:
        number = sum(t.spec is spec for t in teams) + 1
        name = f"{spec.name} {number:02d}"
        team = Team(load.new_id("teams"), name, spec, ZoneInfo(spec.timezone))
        load.add(
            "teams",
            id=team.id,
            name=name,
            leader_id=None,  # set once its leader exists
            country=spec.country,
            timezone=spec.timezone,
            working_days=spec.working_days,
            workday_starts=spec.starts,
            workday_ends=spec.ends,
            shared_mailbox=f"{slug(name)}.team@{STAFF_DOMAIN}",
        )
        teams.append(team)
    load.write()
    for n, team in enumerate(teams):
        team.leader_name = person_name(team.spec)
        team.leader_id = user(team.leader_name, Role.LEADER, team.spec.timezone, team.id)
        team.leader_email = email_of[team.leader_id]
        for _ in range(acm_count // team_count + (n < acm_count % team_count)):
            name = person_name(team.spec)
            acm_id = user(name, Role.ACM, team.spec.timezone, team.id)
            team.acms.append((acm_id, name, email_of[acm_id]))
            # Portfolios differ: the busiest ACM has about a third more than the average.
            team.acm_weights.append(rng.uniform(0.7, 1.3))
    finance_ids: list[int] = []
    store_manager_ids: list[int] = []
    admins = max(1, round(ADMINS_AT_FULL_SIZE * clients / DEFAULT_CLIENTS))
    finance = max(1, round(FINANCE_AT_FULL_SIZE * clients / DEFAULT_CLIENTS))
    store_managers = max(1, round(clients / CLIENTS_PER_STORE_MANAGER))
    wanted = {
        Role.ADMIN: admins,
        Role.FINANCE: finance,
        Role.PRODUCT: 1,
        Role.COMMERCIAL: 1,
        Role.STORE_MANAGER: store_managers,
    }
    for role, count in wanted.items():
        demo_person = next(p for p in STAFF if p.role is role)
        for n in range(count):
            # The first of each role is the demo's (admin@kam.example signs in as in the demo).
            name = demo_person.name if n == 0 else person_name(TEAMS[0])
            email = demo_person.email.partition("@")[0] if n == 0 else ""
            user_id = user(name, role, demo_person.timezone, None, email)
            if role is Role.FINANCE:
                finance_ids.append(user_id)
            if role is Role.STORE_MANAGER:
                store_manager_ids.append(user_id)
    load.write()
    with load.connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE teams SET leader_id = %s WHERE id = %s", [(t.leader_id, t.id) for t in teams]
        )
    load.connection.commit()
    teams_of_spec: dict[str, list[Team]] = defaultdict(list)
    for team in teams:
        teams_of_spec[team.spec.name].append(team)
    return Staff(teams, teams_of_spec, finance_ids, store_manager_ids)


def _apportion(weighted: list[tuple[Any, int]], count: int) -> list[Any]:
    """`count` picks, each item as many times as its share of the weights (largest
    remainders), the heaviest first."""
    total = sum(w for _, w in weighted)
    exact = [(item, count * w / total) for item, w in weighted]
    picks = {id(item): int(share) for item, share in exact}
    rest = sorted(exact, key=lambda e: e[1] - int(e[1]), reverse=True)
    for item, _ in rest[: count - sum(picks.values())]:
        picks[id(item)] += 1
    return [item for item, _ in weighted for _ in range(picks[id(item)])]


# -- the clients ----------------------------------------------------------------------------


@dataclass
class Contact:
    id: int
    name: str
    email: str
    phone: str
    whatsapp: str | None


@dataclass
class Store:
    """One client as it is being generated; its row is written once its story is told."""

    index: int
    id: int
    rng: random.Random
    name: str
    code: str
    industry: str
    market: Market
    team: Team
    acm_id: int
    acm_name: str
    acm_email: str
    now: datetime
    status: LifecycleStatus
    plan: Plan
    store_manager: bool
    subscribed_at: datetime
    renewal_date: date | None
    amount: Decimal
    created_at: datetime
    churned_at: datetime | None
    contacts: list[Contact] = field(default_factory=list)
    last_contact_at: datetime | None = None
    updated_at: datetime | None = None
    lms_started_at: datetime | None = None

    @property
    def is_new(self) -> bool:
        return self.status in (LifecycleStatus.ONBOARDING, LifecycleStatus.LAUNCHING)

    @property
    def primary(self) -> Contact:
        return self.contacts[0]

    def contacted(self, at: datetime) -> None:
        """F1: an answered call, an email sent or a held meeting."""
        if self.last_contact_at is None or at > self.last_contact_at:
            self.last_contact_at = at


@dataclass
class Context:
    seed: int
    now: datetime
    staff: Staff
    names: list[tuple[str, str]]
    # Two meetings on each ACM's day, as the demo has (F3).
    todays_meetings: Counter[int] = field(default_factory=Counter)


def plan_store(ctx: Context, load: Load, index: int) -> Store:
    """A client as the demo draws one: market, status, plan, subscription and price, its
    team (one serving the market) and ACM, its contacts."""
    rng = random.Random(f"{ctx.seed}:client:{index}")
    now = ctx.now
    industry, base = ctx.names[index % len(ctx.names)]
    round_no = index // len(ctx.names)
    name = base if round_no == 0 else f"{base} {round_no + 1}"
    drawn = draw_subscription(rng, now)
    market, status, plan = drawn.market, drawn.status, drawn.plan
    store_manager, subscribed_at = drawn.store_manager, drawn.subscribed_at
    renewal, churned_at = drawn.renewal, drawn.churned_at
    teams = ctx.staff.teams_of_spec.get(market.team) or ctx.staff.teams
    team = rng.choice(teams)
    acm_id, acm_name, acm_email = rng.choices(team.acms, weights=team.acm_weights)[0]
    golive = datetime.combine((now - timedelta(days=HISTORY_DAYS)).date(), time(7), UTC)
    is_new = status in (LifecycleStatus.ONBOARDING, LifecycleStatus.LAUNCHING)
    created_at = (
        min(subscribed_at + timedelta(hours=rng.uniform(0.5, 3)), now - timedelta(minutes=5))
        if is_new
        else golive + timedelta(seconds=index % 86_400)
    )
    store = Store(
        index=index,
        id=load.new_id("clients"),
        rng=rng,
        name=name,
        code=store_code(name, index),
        industry=industry,
        market=market,
        team=team,
        acm_id=acm_id,
        acm_name=acm_name,
        acm_email=acm_email,
        now=now,
        status=status,
        plan=plan,
        store_manager=store_manager,
        subscribed_at=subscribed_at,
        renewal_date=renewal,
        amount=yearly_price(rng, plan, store_manager, market),
        created_at=created_at,
        churned_at=churned_at,
    )
    seed_contacts(load, store)
    return store


def seed_contacts(load: Load, store: Store) -> None:
    """The owner and 0-2 colleagues, drawn by the demo's own `make_contacts`."""
    for drawn in make_contacts(store.rng, store.market, f"{slug(store.name)}.example"):
        contact_id = load.add(
            "contacts",
            client_id=store.id,
            name=drawn.name,
            email=drawn.email,
            phone=drawn.phone,
            whatsapp=drawn.whatsapp,
            role=drawn.role,
            is_primary=drawn.is_primary,
            is_decision_maker=drawn.is_decision_maker,
        )
        store.contacts.append(
            Contact(contact_id, drawn.name, drawn.email, drawn.phone, drawn.whatsapp)
        )


def write_client(load: Load, ctx: Context, store: Store) -> None:
    """The client's row, once its story set its last contact (F1); P2's score and GMV as
    the health sweep keeps them."""
    rng, status = store.rng, store.status
    health_score = gmv = gmv_ref = None
    if status is not LifecycleStatus.CHURNED:
        mean, spread = {
            LifecycleStatus.ONBOARDING: (82, 8),
            LifecycleStatus.LAUNCHING: (72, 10),
            LifecycleStatus.LIVE: (74, 14),
            LifecycleStatus.AT_RISK: (42, 15),
        }[status]
        health_score = max(0, min(100, round(rng.gauss(mean, spread))))
    if status in (LifecycleStatus.LIVE, LifecycleStatus.AT_RISK):
        low, high = GMV_RANGE_USD
        usd = Decimal(round(low * (high / low) ** rng.random()))
        if status is LifecycleStatus.AT_RISK:
            usd = (usd / 3).quantize(Decimal(1))
        gmv_ref = usd
        gmv = (usd * store.market.usd_rate).quantize(Decimal("0.01"))
    store_manager_id = rng.choice(ctx.staff.store_manager_ids) if store.store_manager else None
    load.add(
        "clients",
        id=store.id,
        store_name=store.name,
        store_code=store.code,
        plan=store.plan.value,
        has_store_manager=store.store_manager,
        store_manager_id=store_manager_id,
        country=store.market.country,
        timezone=rng.choice(store.market.timezones),
        industry=store.industry,
        language="ar" if rng.random() < store.market.arabic_share else "en",
        status=status.value,
        acm_id=store.acm_id,
        subscribed_at=store.subscribed_at,
        renewal_date=store.renewal_date,
        recurring_amount=store.amount,
        currency=store.market.currency,
        integration_id=None,
        billing_account_id=None,
        last_contact_at=store.last_contact_at,
        lms_started_at=store.lms_started_at,
        launched_at=None,
        churned_at=store.churned_at,
        churn_reason=rng.choice(CHURN_REASONS) if store.churned_at else None,
        health_score=health_score,
        health_at=ctx.now if health_score is not None else None,
        gmv_30d=gmv,
        gmv_30d_ref=gmv_ref,
        created_at=store.created_at,
        updated_at=store.updated_at or store.created_at,
    )


# -- the timeline: a week of contact at a time ----------------------------------------------


def seed_timeline(load: Load, ctx: Context, store: Store) -> None:
    """The client's history as the demo tells it: created with its contacts, then a week of
    contact at a time (F1, F2, G5, G6) counted back from now (or the churn), some weeks a
    held meeting instead of the call (G2); the status changes of at-risk and churned ones."""
    rng, now = store.rng, ctx.now
    created = store.created_at
    new = store.is_new
    how = "registered" if new else "imported"
    first_actor = store.acm_id if new else None
    load.event(
        store.id,
        TimelineKind.CLIENT_CREATED,
        first_actor,
        created,
        f"{store.name} ({store.code}) {how}, ACM {store.acm_name}",
    )
    for n, contact in enumerate(store.contacts):
        load.event(
            store.id,
            TimelineKind.CONTACT_ADDED,
            first_actor,
            created + timedelta(seconds=n + 1),
            f"Contact added: {contact.name}",
            {"contact_id": contact.id},
        )
    quiet_from: datetime | None = None
    if store.status is LifecycleStatus.AT_RISK:
        since = store.team.office_time(rng, now - timedelta(days=rng.uniform(10, 60)))
        _status_change(load, store, since, LifecycleStatus.LIVE, LifecycleStatus.AT_RISK)
        if rng.random() < 0.45:
            quiet_from = now - timedelta(days=rng.uniform(8, 30))
    elif store.status is LifecycleStatus.CHURNED and store.churned_at is not None:
        since = store.team.office_time(rng, store.churned_at - timedelta(days=rng.uniform(20, 60)))
        _status_change(load, store, since, LifecycleStatus.LIVE, LifecycleStatus.AT_RISK)
        _status_change(
            load, store, store.churned_at, LifecycleStatus.AT_RISK, LifecycleStatus.CHURNED
        )
    elif store.status is LifecycleStatus.LIVE and rng.random() < 0.12:
        quiet_from = now - timedelta(days=rng.uniform(8, 25))  # F1: overdue for the weekly call

    weekly_from = seed_launch(load, ctx, store) if new else created
    end = store.churned_at or now
    cursor = end - timedelta(days=rng.uniform(0.1, 4.5))
    latest = True
    while cursor > weekly_from + timedelta(days=2):
        _week(load, ctx, store, cursor, quiet_from, latest)
        cursor -= timedelta(days=7)
        latest = False
    if store.churned_at is not None:
        load.event(
            store.id,
            TimelineKind.NOTE,
            store.acm_id,
            store.churned_at + timedelta(minutes=30),
            f"Client did not renew ({rng.choice(CHURN_REASONS)}); recorded in the "
            "complaint-handling process.",
        )
    if store.status is not LifecycleStatus.CHURNED:
        seed_upcoming_meetings(load, ctx, store)


def _status_change(
    load: Load, store: Store, at: datetime, old: LifecycleStatus, new: LifecycleStatus
) -> None:
    reason = store.rng.choice(AT_RISK_REASONS) if new is LifecycleStatus.AT_RISK else ""
    actor = store.team.leader_id if new is LifecycleStatus.CHURNED else store.acm_id
    because = f": {reason}" if reason else ""
    detail: dict[str, Any] = {"changes": {"status": {"from": old.value, "to": new.value}}}
    if reason:
        detail["reason"] = reason
    load.event(
        store.id,
        TimelineKind.CLIENT_UPDATED,
        actor,
        at,
        f"Status changed from {old.label} to {new.label}{because}",
        detail,
    )
    store.updated_at = max(store.updated_at or at, at)


def _week(
    load: Load,
    ctx: Context,
    store: Store,
    until: datetime,
    quiet_from: datetime | None,
    latest: bool,
) -> None:
    """The week that ends at `until`: the weekly call or a held meeting, what follows an
    unanswered call (F2), the client's own emails and WhatsApp messages (G6), a note."""
    rng, now = store.rng, ctx.now
    at = store.team.office_time(rng, until)
    if at > now:
        at = store.team.office_time(rng, until - timedelta(days=1))
    start = until - timedelta(days=7)
    at_risk = store.status is LifecycleStatus.AT_RISK
    contactable = quiet_from is None or at < quiet_from
    contacts = store.contacts
    contact = contacts[0] if len(contacts) == 1 or rng.random() < 0.8 else rng.choice(contacts)
    skipped = not latest and rng.random() < (0.25 if at_risk else 0.05)
    phase = store.status if store.status in CALL_NOTES else LifecycleStatus.AT_RISK

    if contactable and not skipped and at < now - timedelta(hours=2):
        if rng.random() < MEETING_WEEK[store.status]:
            seed_held_meeting(load, ctx, store, until)
        else:
            _weekly_call(load, store, at, contact, phase, at_risk)
    if rng.random() < CLIENT_EMAIL_WEEK:
        asked = min(start + timedelta(hours=rng.uniform(0, 120)), now - timedelta(minutes=30))
        subject = rng.choice(CLIENT_REQUESTS)
        _email_received(load, store, asked, contact, subject)
        answered = asked + timedelta(hours=rng.uniform(0.5, 4))
        if contactable and answered < now and rng.random() < 0.85:
            _email_sent(load, store, answered, contact, f"Re: {subject}")
    if contact.whatsapp and rng.random() < CLIENT_WHATSAPP_WEEK:
        asked = min(start + timedelta(hours=rng.uniform(0, 120)), now - timedelta(minutes=30))
        message = rng.choice(WHATSAPP_MESSAGES)
        load.event(
            store.id,
            TimelineKind.WHATSAPP_RECEIVED,
            store.acm_id,
            asked,
            f"WhatsApp from {contact.name}: {message}",
            {"message": message, "contact_id": contact.id},
        )
        replied = asked + timedelta(minutes=rng.randint(5, 90))
        if contactable and replied < now:  # G6: answered, and redirected to email
            _whatsapp_sent(load, store, replied, contact, "redirect_to_email", "G6")
    if rng.random() < 0.08:
        noted = store.team.office_time(rng, start + timedelta(days=rng.uniform(0, 5)))
        if noted < now:
            load.event(
                store.id, TimelineKind.NOTE, store.acm_id, noted, rng.choice(ACM_NOTES[phase])
            )


def _weekly_call(
    load: Load,
    store: Store,
    at: datetime,
    contact: Contact,
    phase: LifecycleStatus,
    at_risk: bool,
) -> None:
    rng = store.rng
    weights = (45, 40, 15) if at_risk else (68, 22, 10)
    outcome = rng.choices(list(CallOutcome), weights=weights)[0]
    if outcome is CallOutcome.ANSWERED:
        _call(load, store, at, contact, outcome, rng.choice(CALL_NOTES[phase]))
        if rng.random() < 0.35:  # minutes of a call with requests (G5)
            _email_sent(
                load,
                store,
                at + timedelta(minutes=rng.randint(30, 150)),
                contact,
                f"Minutes of our call – {at:%d %b}",
                "G5",
            )
        return
    notes = NO_ANSWER_NOTES if outcome is CallOutcome.NO_ANSWER else VOICEMAIL_NOTES
    _call(load, store, at, contact, outcome, rng.choice(notes))
    # F2: not answered → email; no reply at all → WhatsApp to check the email.
    _email_sent(
        load,
        store,
        at + timedelta(minutes=rng.randint(10, 60)),
        contact,
        "We tried to call you today",
        "F2",
    )
    reply = rng.random()
    if reply < 0.55:
        _email_received(
            load,
            store,
            at + timedelta(hours=rng.uniform(2, 26)),
            contact,
            "Re: We tried to call you today",
        )
    elif reply < 0.85 and contact.whatsapp:
        nudge = store.team.office_time(rng, at + timedelta(days=rng.uniform(1, 2)))
        if nudge > at:
            _whatsapp_sent(load, store, nudge, contact, "check_your_email", "F2")


def _call(
    load: Load, store: Store, at: datetime, contact: Contact, outcome: CallOutcome, notes: str
) -> int:
    if outcome is CallOutcome.ANSWERED:
        store.contacted(at)
    return load.event(
        store.id,
        TimelineKind.CALL,
        store.acm_id,
        at,
        f"Call with {contact.name}: {outcome.label}. {notes}",
        {
            "outcome": outcome.value,
            "phone": contact.phone,
            "notes": notes,
            "contact_id": contact.id,
        },
    )


def _email_sent(
    load: Load, store: Store, at: datetime, contact: Contact, subject: str, rule: str = ""
) -> None:
    if at > store.now:
        return
    team = store.team
    detail: dict[str, Any] = {
        "subject": subject,
        "to": [contact.email],
        # G1: the ACM, the leader and the team's mailbox in copy.
        "cc": [store.acm_email, team.leader_email, f"{slug(team.name)}.team@{STAFF_DOMAIN}"],
        "contact_id": contact.id,
    }
    if rule:
        detail["rule"] = rule
    store.contacted(at)
    load.event(
        store.id,
        TimelineKind.EMAIL_SENT,
        store.acm_id,
        at,
        f"Email to {contact.name}: {subject}",
        detail,
    )


def _email_received(load: Load, store: Store, at: datetime, contact: Contact, subject: str) -> None:
    if at > store.now:
        return
    load.event(
        store.id,
        TimelineKind.EMAIL_RECEIVED,
        store.acm_id,
        at,
        f"Email from {contact.name}: {subject}",
        {"subject": subject, "from": contact.email, "contact_id": contact.id},
    )


def _whatsapp_sent(
    load: Load, store: Store, at: datetime, contact: Contact, template: str, rule: str
) -> None:
    if at > store.now:
        return
    ask = (
        "please check your email"
        if template == "check_your_email"
        else "please send requests by email"
    )
    load.event(
        store.id,
        TimelineKind.WHATSAPP_SENT,
        store.acm_id,
        at,
        f"WhatsApp to {contact.name}: {ask} ({rule})",
        {"template": template, "to": contact.whatsapp, "contact_id": contact.id},
    )


# -- meetings and minutes (G2, F3, G5) -------------------------------------------------------


def _meeting(
    load: Load,
    ctx: Context,
    store: Store,
    kind: str,
    starts_at: datetime,
    status: str = "scheduled",
) -> int:
    """A meeting with the client's primary contact, scheduled a few days ahead, its
    confirmation sent 24 hours before (F3) when that moment passed."""
    rng, now = store.rng, ctx.now
    created = min(starts_at - timedelta(days=rng.uniform(2, 6)), now - timedelta(hours=1))
    created = max(created, store.created_at + timedelta(minutes=30))
    due = min(max(starts_at - timedelta(hours=24), created), starts_at - timedelta(hours=4))
    confirmed = due <= now
    meeting_id = load.new_id("meetings")
    label = "Onboarding" if kind == "onboarding" else "Weekly follow-up"
    load.add(
        "meetings",
        id=meeting_id,
        client_id=store.id,
        organizer_id=store.acm_id,
        kind=kind,
        starts_at=starts_at,
        duration_minutes=rng.choice((30, 45, 60)),
        zoom_link=f"https://zoom.us/j/{rng.randint(10**9, 10**10 - 1)}",
        agenda=f"{label} with {store.name}",
        status=status,
        recording_link=(
            f"https://zoom.us/rec/share/{rng.getrandbits(64):x}" if status == "held" else None
        ),
        uid=f"bench-{meeting_id}@kamportal",
        sequence=0,
        confirmation_due_at=due,
        confirmed_sequence=0 if confirmed else None,
        confirmed_at=due if confirmed else None,
        cancel_reason="The client asked to move it to next week."
        if status == "cancelled"
        else None,
        created_at=created,
        updated_at=created,
    )
    load.add("meeting_attendees", meeting_id=meeting_id, contact_id=store.primary.id)
    load.event(
        store.id,
        TimelineKind.MEETING_SCHEDULED,
        store.acm_id,
        created,
        f"{label} meeting scheduled for {starts_at:%d %b %H:%M} UTC",
        {"meeting_id": meeting_id},
    )
    return meeting_id


def _meeting_start(store: Store, around: datetime) -> datetime:
    """A round start between 10:00 and 16:00 in the team's zone, on a working day."""
    rng, zone = store.rng, store.team.zone
    day = around.astimezone(zone).date()
    while day.isoweekday() not in store.team.spec.weekdays:
        day -= timedelta(days=1)
    local = datetime.combine(day, time(rng.randint(10, 15), rng.choice((0, 30))), zone)
    return local.astimezone(UTC)


def seed_held_meeting(load: Load, ctx: Context, store: Store, until: datetime) -> None:
    """A meeting of the week ending `until`: mostly held, with its minutes owed, sent or
    marked a follow-up without requests (G5); now and then cancelled or a no-show."""
    rng, now = store.rng, ctx.now
    starts_at = _meeting_start(store, until - timedelta(days=rng.uniform(0, 4)))
    if not store.created_at + timedelta(days=1) < starts_at < now - timedelta(hours=2):
        return
    kind = "onboarding" if store.status is LifecycleStatus.ONBOARDING else "weekly"
    outcome = rng.random()
    status = "held" if outcome < 0.9 else ("cancelled" if outcome < 0.96 else "no_show")
    meeting_id = _meeting(load, ctx, store, kind, starts_at, status)
    ends_at = starts_at + timedelta(minutes=45)
    if status == "cancelled":
        load.event(
            store.id,
            TimelineKind.MEETING_CANCELLED,
            store.acm_id,
            starts_at - timedelta(hours=rng.uniform(3, 20)),
            "Meeting cancelled: the client asked to move it to next week",
            {"meeting_id": meeting_id},
        )
        return
    if status == "no_show":
        load.event(
            store.id,
            TimelineKind.MEETING_NO_SHOW,
            store.acm_id,
            ends_at,
            "The client did not join the meeting",
            {"meeting_id": meeting_id},
        )
        return
    store.contacted(ends_at)
    load.event(
        store.id,
        TimelineKind.MEETING_HELD,
        store.acm_id,
        ends_at,
        "Meeting held; recording stored",
        {"meeting_id": meeting_id},
    )
    seed_minutes(load, ctx, store, meeting_id, ends_at)


def seed_minutes(
    load: Load, ctx: Context, store: Store, meeting_id: int, owed_since: datetime
) -> None:
    """G5: the minutes a held meeting owes, with their action items once sent."""
    rng, now = store.rng, ctx.now
    recent = now - owed_since < timedelta(days=4)
    if recent and rng.random() < 0.6:
        load.add(
            "minutes",
            client_id=store.id,
            owner_id=store.acm_id,
            meeting_id=meeting_id,
            owed_since=owed_since,
            status="owed",
        )
        return
    decided = min(owed_since + timedelta(hours=rng.uniform(1, 20)), now)
    if rng.random() < 0.3:
        load.add(
            "minutes",
            client_id=store.id,
            owner_id=store.acm_id,
            meeting_id=meeting_id,
            owed_since=owed_since,
            status="no_requests",
            decided_by_id=store.acm_id,
            decided_at=decided,
        )
        load.event(
            store.id,
            TimelineKind.MINUTES_NO_REQUESTS,
            store.acm_id,
            decided,
            "Regular follow-up, the client had no requests",
            {"meeting_id": meeting_id},
        )
        return
    minutes_id = load.add(
        "minutes",
        client_id=store.id,
        owner_id=store.acm_id,
        meeting_id=meeting_id,
        owed_since=owed_since,
        status="sent",
        agreed_points="\n".join(rng.sample(AGREED_POINTS, k=2)),
        decided_by_id=store.acm_id,
        decided_at=decided,
    )
    for description, owner in rng.sample(ACTIONS, k=rng.randint(0, 2)):
        due_on = (decided + timedelta(days=rng.randint(2, 12))).date()
        done = due_on < now.date() and rng.random() < 0.6
        load.add(
            "action_items",
            minutes_id=minutes_id,
            client_id=store.id,
            description=description,
            owner=owner.value,
            owner_team="Design" if owner.value == "other_team" else None,
            due_on=due_on,
            done_at=datetime.combine(due_on, time(12), UTC) if done else None,
            done_by_id=store.acm_id if done else None,
        )
    store.contacted(decided)
    load.event(
        store.id,
        TimelineKind.MINUTES_SENT,
        store.acm_id,
        decided,
        f"Minutes of the {owed_since:%d %b} meeting sent",
        {"meeting_id": meeting_id},
    )


def seed_upcoming_meetings(load: Load, ctx: Context, store: Store) -> None:
    """An upcoming meeting for some clients, and two on each ACM's day (11:00 and 15:00
    where the ACM is) for live and onboarding clients, as the demo has them."""
    rng, now = store.rng, ctx.now
    kind = "onboarding" if store.status is LifecycleStatus.ONBOARDING else "weekly"
    if rng.random() < 0.45:
        starts_at = _meeting_start(store, now + timedelta(hours=rng.uniform(24, 10 * 24)))
        if starts_at > now + timedelta(hours=4):
            _meeting(load, ctx, store, kind, starts_at)
    if store.status in (LifecycleStatus.LIVE, LifecycleStatus.ONBOARDING):
        slot = ctx.todays_meetings[store.acm_id]
        if slot < 2:
            today = now.astimezone(store.team.zone).date()
            starts_at = datetime.combine(today, time((11, 15)[slot]), store.team.zone)
            if starts_at.astimezone(UTC) - timedelta(days=3) > store.created_at:
                ctx.todays_meetings[store.acm_id] += 1
                _meeting(load, ctx, store, kind, starts_at.astimezone(UTC))


# -- onboarding and launch (O1, O2, L1-L5) ---------------------------------------------------

_CHECKLIST_ITEMS = [
    (definition.key, position, item)
    for definition in CHECKLISTS.values()
    for position, item in enumerate(definition.items)
]
# The share of each checklist ticked while launching (L1, L3-L5); onboarding ticks LMS only.
LAUNCHING_TICKS = {
    "lms": (0.5, 1.0),
    "foundation": (0.3, 1.0),
    "google_shopping": (0.0, 0.6),
    "pre_launch": (0.0, 0.5),
    "uat": (0.0, 0.3),
}


def seed_launch(load: Load, ctx: Context, store: Store) -> datetime:
    """A new store's onboarding: its welcome email (O2, Enterprise), KYC link and answers
    (O1), onboarding meeting (O3), its checklists (every item, some ticked) and, once
    launching, the LMS start (L1). Returns when the weekly contact starts."""
    rng, now = store.rng, ctx.now
    team = store.team
    welcome = min(
        store.created_at + timedelta(hours=rng.uniform(1, 20)), now - timedelta(minutes=3)
    )
    if store.plan is Plan.ENTERPRISE:
        sent = welcome if rng.random() < 0.9 or now - store.created_at > timedelta(days=2) else None
        load.add(
            "welcome_emails",
            client_id=store.id,
            subscribed_at=store.subscribed_at,
            # 48 business hours: six working days of eight hours.
            due_at=store.subscribed_at + timedelta(days=8),
            sent_at=sent,
            sent_by_id=store.acm_id if sent else None,
        )
        if sent:
            _email_sent(load, store, sent, store.primary, f"Welcome to KAM, {store.name}", "O2")
    kyc_at = min(welcome + timedelta(minutes=rng.randint(10, 60)), now - timedelta(minutes=1))
    answered = kyc_at + timedelta(hours=rng.uniform(18, 72))
    submitted = answered if answered < now else None
    client_facts = SimpleNamespace(country=store.market.country, industry=store.industry)
    load.add(
        "kyc_questionnaires",
        client_id=store.id,
        answers=kyc_answers(rng, client_facts) if submitted else {},  # type: ignore[arg-type]
        link_nonce=f"{rng.getrandbits(128):032x}",
        link_sent_to=store.primary.email,
        link_sent_at=kyc_at,
        link_expires_at=kyc_at + timedelta(days=14),
        link_sent_by_id=store.acm_id,
        updated_at=submitted,
        submitted_at=submitted,
    )
    if kyc_at < now:
        load.event(
            store.id,
            TimelineKind.KYC_LINK_SENT,
            store.acm_id,
            kyc_at,
            f"KYC link sent to {store.primary.name}",
            {"to": store.primary.email},
        )
    if submitted:
        load.event(
            store.id, TimelineKind.KYC_SUBMITTED, None, submitted, "KYC questionnaire submitted"
        )
    meeting_at = team.office_time(store.rng, welcome + timedelta(days=rng.uniform(2, 5)))
    weekly_from = store.created_at
    if meeting_at < now - timedelta(hours=2):
        _call(
            load,
            store,
            meeting_at,
            store.primary,
            CallOutcome.ANSWERED,
            "Onboarding meeting: agreed the LMS roadmap, a weekly call, and email as the "
            "official channel.",
        )
        weekly_from = meeting_at
    ticked_from = store.created_at
    if store.status is LifecycleStatus.LAUNCHING:
        lms = min(meeting_at + timedelta(days=rng.uniform(1, 3)), now - timedelta(hours=1))
        store.lms_started_at = ticked_from = lms
        load.event(store.id, TimelineKind.LMS_STARTED, store.acm_id, lms, "Launch (LMS) started")
        _status_change(load, store, lms, LifecycleStatus.ONBOARDING, LifecycleStatus.LAUNCHING)
    shares = {
        key: (rng.uniform(*span) if store.status is LifecycleStatus.LAUNCHING else 0.0)
        for key, span in LAUNCHING_TICKS.items()
    }
    if store.status is LifecycleStatus.ONBOARDING:
        shares["lms"] = rng.uniform(0, 0.3)
    for checklist, position, item in _CHECKLIST_ITEMS:
        ticked = rng.random() < shares.get(checklist, 0.0)
        done_at = ticked_from + (now - ticked_from) * rng.random() if ticked else None
        load.add(
            "checklist_items",
            client_id=store.id,
            checklist=checklist,
            item_key=item.key,
            position=position,
            section=item.section or None,
            text=item.text,
            done_at=done_at,
            done_by_id=store.acm_id if ticked else None,
            evidence=[],
            updated_at=done_at,
            updated_by_id=store.acm_id if ticked else None,
        )
    return weekly_from


# -- renewals, invoices and payments (R1-R7) -------------------------------------------------


def seed_renewals(load: Load, ctx: Context, store: Store) -> None:
    """The renewal R1 opened 30 days ahead, at the stage it reached; last term's renewal if
    it fell in the portal's months (paid, or overdue for some clients at risk); the renewal
    a churned client lost."""
    rng, today = store.rng, ctx.now.date()
    if store.status is LifecycleStatus.CHURNED and store.churned_at is not None:
        due_on = store.churned_at.date()
        renewal_id = _renewal(load, ctx, store, due_on, "lost")
        load.event(
            store.id,
            TimelineKind.RENEWAL_LOST,
            store.acm_id,
            store.churned_at,
            "Renewal lost: the client did not renew",
            {"renewal_id": renewal_id},
        )
        return
    if store.status not in (LifecycleStatus.LIVE, LifecycleStatus.AT_RISK):
        return
    assert store.renewal_date is not None
    last_term = anniversary(store.renewal_date, -1)
    if today - timedelta(days=HISTORY_DAYS - 30) <= last_term < today:
        overdue = store.status is LifecycleStatus.AT_RISK and rng.random() < 0.3
        _renewal(load, ctx, store, last_term, "invoiced" if overdue else "paid")
    if store.renewal_date <= today + timedelta(days=30):
        stage = _weighted(rng, OPEN_RENEWAL_STAGES)
        _renewal(load, ctx, store, store.renewal_date, stage)


def _renewal(load: Load, ctx: Context, store: Store, due_on: date, stage: str) -> int:
    rng, now = store.rng, ctx.now
    # R1's sweep opens it 30 days ahead, at ten past the hour.
    opened = min(
        datetime.combine(due_on - timedelta(days=30), time(8, 10), UTC), now - timedelta(hours=1)
    )
    steps = ("due", "notified", "confirmed", "invoiced", "paid")
    reached = steps.index(stage) if stage in steps else 0
    moments = sorted(opened + (now - opened) * rng.random() for _ in range(4))
    notified_at, confirmed_at, invoiced_at, paid_at = moments
    invoice_id = None
    if stage in ("invoiced", "paid"):
        invoice_id = _invoice(
            load, ctx, store, due_on, invoiced_at, paid_at if stage == "paid" else None
        )
    renewal_id = load.add(
        "renewals",
        client_id=store.id,
        due_on=due_on,
        amount=store.amount,
        currency=store.market.currency,
        stage=stage,
        opened_at=opened,
        notified_at=notified_at if reached >= 1 else None,
        agreed_on=due_on if reached >= 2 else None,
        confirmed_at=confirmed_at if reached >= 2 else None,
        confirmed_by_id=store.acm_id if reached >= 2 else None,
        invoice_id=invoice_id,
        paid_at=paid_at if stage == "paid" else None,
        lost_at=store.churned_at if stage == "lost" else None,
        lost_reason=rng.choice(CHURN_REASONS) if stage == "lost" else None,
    )
    detail = {"renewal_id": renewal_id}
    load.event(
        store.id,
        TimelineKind.RENEWAL_OPENED,
        None,
        opened,
        f"Renewal due on {due_on:%d %b %Y}",
        detail,
    )
    if reached >= 1:
        load.event(
            store.id,
            TimelineKind.RENEWAL_NOTIFIED,
            store.acm_id,
            notified_at,
            "Renewal notice sent",
            detail,
        )
    if reached >= 2:
        load.event(
            store.id,
            TimelineKind.RENEWAL_CONFIRMED,
            store.acm_id,
            confirmed_at,
            "Renewal date and amount confirmed",
            detail,
        )
    if stage == "paid":
        load.event(store.id, TimelineKind.RENEWAL_PAID, None, paid_at, "Renewal paid", detail)
    return renewal_id


def _invoice(
    load: Load,
    ctx: Context,
    store: Store,
    due_on: date,
    issued_at: datetime,
    paid_at: datetime | None,
) -> int:
    """The renewal's invoice (R3) with its line; paid online, by wire or at the premises,
    or unpaid: reminded (R4) when overdue, a wire waiting for finance (R7, flagged after 4
    days), a payment issue with finance (R5)."""
    rng = store.rng
    now = ctx.now
    finance_id = rng.choice(ctx.staff.finance_ids)
    method = rng.choices(("online", "wire", "premises"), weights=(70, 22, 8))[0]
    invoice_id = load.new_id("invoices")
    overdue_days = (now.date() - due_on).days
    reminders = max(0, overdue_days // 3) if paid_at is None and overdue_days > 0 else 0
    load.add(
        "invoices",
        id=invoice_id,
        number=f"INV-{issued_at.year}-{invoice_id:06d}",
        client_id=store.id,
        currency=store.market.currency,
        total=store.amount,
        issued_on=issued_at.date(),
        due_on=max(due_on, issued_at.date()),
        status="paid" if paid_at else "unpaid",
        method=method,
        issued_at=issued_at,
        issued_by_id=store.acm_id,
        paid_at=paid_at,
        reminders_sent=reminders,
        last_reminder_at=now - timedelta(days=overdue_days % 3, hours=2) if reminders else None,
    )
    load.add(
        "invoice_lines",
        invoice_id=invoice_id,
        position=1,
        kind="renewal",
        description=f"{store.plan.label} plan, renewal from {due_on:%d %b %Y}",
        amount=store.amount,
    )
    detail = {"invoice_id": invoice_id}
    load.event(
        store.id,
        TimelineKind.INVOICE_ISSUED,
        store.acm_id,
        issued_at,
        f"Invoice INV-{issued_at.year}-{invoice_id:06d} issued",
        detail,
    )
    if paid_at is not None:
        load.add(
            "payments",
            invoice_id=invoice_id,
            method=method,
            amount=store.amount,
            currency=store.market.currency,
            status="confirmed",
            reported_amount=store.amount if method == "wire" else None,
            received_on=paid_at.date() if method != "online" else None,
            reference=f"PAY-{invoice_id:06d}",
            receipt_number=f"R-{invoice_id:06d}" if method == "premises" else None,
            reported_by_id=store.acm_id if method == "wire" else finance_id,
            reported_at=paid_at - timedelta(days=rng.uniform(0, 2))
            if method == "wire"
            else paid_at,
            confirmed_by_id=finance_id if method != "online" else None,
            confirmed_at=paid_at,
        )
        load.event(store.id, TimelineKind.INVOICE_PAID, None, paid_at, "Invoice paid", detail)
        return invoice_id
    if method == "wire" and rng.random() < 0.6:
        reported = issued_at + (now - issued_at) * rng.random()
        load.add(
            "payments",
            invoice_id=invoice_id,
            method="wire",
            amount=store.amount,
            currency=store.market.currency,
            status="reported",
            reported_amount=store.amount,
            reference=f"WIRE-{invoice_id:06d}",
            reported_by_id=store.acm_id,
            reported_at=reported,
            flagged_at=reported + timedelta(days=4) if now - reported > timedelta(days=4) else None,
        )
        load.event(
            store.id,
            TimelineKind.PAYMENT_REPORTED,
            store.acm_id,
            reported,
            "Wire transfer reported",
            detail,
        )
    elif rng.random() < 0.08:
        raised = issued_at + (now - issued_at) * rng.random()
        load.add(
            "payment_issues",
            invoice_id=invoice_id,
            note="The client's card is refused; asks to pay by wire transfer.",
            status="open",
            raised_by_id=store.acm_id,
            raised_at=raised,
        )
        load.event(
            store.id,
            TimelineKind.PAYMENT_ISSUE,
            store.acm_id,
            raised,
            "Payment issue handed to finance",
            detail,
        )
    return invoice_id


# -- escalations and complaints (E1-E3) ------------------------------------------------------


def seed_escalations(load: Load, ctx: Context, store: Store) -> None:
    """Now and then an escalation (E1) up its ladder (E2), open or resolved (E3), and a
    complaint, cancellation or refund request in the complaint-handling queue (E3)."""
    rng, now = store.rng, ctx.now
    if rng.random() < ESCALATION_SHARE.get(store.status, 0.0):
        _escalation(load, ctx, store)
    if rng.random() < COMPLAINT_SHARE.get(store.status, 0.0):
        kind = rng.choices(("complaint", "cancellation", "refund"), weights=(50, 25, 25))[0]
        raised = store.team.office_time(
            rng, (store.churned_at or now) - timedelta(days=rng.uniform(1, 30))
        )
        status = rng.choices(("open", "in_progress", "closed"), weights=(40, 30, 30))[0]
        refund = kind == "refund"
        refund_status = (
            rng.choice(("requested", "requested", "refunded", "declined")) if refund else None
        )
        load.add(
            "complaints",
            client_id=store.id,
            kind=kind,
            said=COMPLAINT_SAID[kind],
            channel=rng.choice(("call", "email", "whatsapp")),
            raised_by_id=store.acm_id,
            raised_at=raised,
            status=status,
            closed_at=raised + timedelta(days=2) if status == "closed" else None,
            refund_amount=(store.amount / 4).quantize(Decimal("0.01")) if refund else None,
            refund_currency=store.market.currency if refund else None,
            refund_status=refund_status,
            refund_decided_at=raised + timedelta(days=1)
            if refund_status not in (None, "requested")
            else None,
            refund_decided_by_id=(
                rng.choice(ctx.staff.finance_ids)
                if refund_status not in (None, "requested")
                else None
            ),
        )
        load.event(
            store.id,
            TimelineKind.COMPLAINT_RECORDED,
            store.acm_id,
            raised,
            f"{kind.capitalize()} recorded: {COMPLAINT_SAID[kind]}",
        )


def _escalation(load: Load, ctx: Context, store: Store) -> None:
    rng, now = store.rng, ctx.now
    team = store.team
    pick = rng.randrange(3)
    raised = min(
        team.office_time(rng, now - timedelta(days=rng.uniform(0.5, 20))), now - timedelta(hours=1)
    )
    resolved = rng.random() < 0.45
    reached = rng.choices(range(4), weights=(30, 25, 20, 25))[0]
    escalation_id = load.new_id("escalations")
    step_at = raised
    waiting_for_leader = False
    step_due_at = None
    history: list[tuple[str, datetime, int | None]] = [("raised", raised, store.acm_id)]
    for step in LADDER[: reached + 1]:
        if step == "call":
            continue
        step_at = min(step_at + timedelta(hours=rng.uniform(4, 10)), now - timedelta(minutes=10))
        history.append((step, step_at, None))
    current = LADDER[reached]
    if not resolved:
        if current == "leader":
            waiting_for_leader = True
        elif current in ("email", "whatsapp"):
            step_due_at = now + timedelta(hours=rng.uniform(0.5, 4))
    resolved_at = min(step_at + timedelta(hours=rng.uniform(2, 30)), now) if resolved else None
    load.add(
        "escalations",
        id=escalation_id,
        client_id=store.id,
        raised_by_id=store.acm_id,
        raised_at=raised,
        trigger=TRIGGER_OF_SAID[pick],
        said=ESCALATION_SAID[pick],
        channel=rng.choice(("call", "email", "whatsapp", "meeting")),
        status="resolved" if resolved else "open",
        current_step=current,
        step_started_at=step_at,
        step_due_at=step_due_at,
        waiting_for_leader=waiting_for_leader,
        resolved_at=resolved_at,
        resolved_by_id=team.leader_id if resolved else None,
        resolution=rng.choice(("resolved", "reassigned", "taken_over")) if resolved else None,
        resolution_note="Agreed a plan with the client and the leader." if resolved else None,
    )
    detail = {"escalation_id": escalation_id}
    for step, at, actor in history:
        load.add("escalation_steps", escalation_id=escalation_id, step=step, at=at, actor_id=actor)
        kind = {
            "raised": TimelineKind.ESCALATION_RAISED,
            "leader": TimelineKind.ESCALATION_TO_LEADER,
        }.get(step, TimelineKind.ESCALATION_STEP)
        load.event(store.id, kind, actor, at, f"Escalation: {step}", detail)
    if resolved_at is not None:
        load.add(
            "escalation_steps",
            escalation_id=escalation_id,
            step="resolved",
            at=resolved_at,
            actor_id=team.leader_id,
        )
        load.event(
            store.id,
            TimelineKind.ESCALATION_RESOLVED,
            team.leader_id,
            resolved_at,
            "Escalation resolved",
            detail,
        )


# -- the whole portfolio ---------------------------------------------------------------------

FAMILIES: tuple[Callable[[Load, Context, Store], None], ...] = (
    seed_timeline,  # with the meetings, minutes and the launch of new stores
    seed_renewals,
    seed_escalations,
)


def generate(
    engine: Engine, *, clients: int = DEFAULT_CLIENTS, seed: int = DEFAULT_SEED, out=print
) -> Counter[str]:
    """Add a portfolio of `clients` to the migrated (empty) database of `engine`, in the
    current app context; returns the rows written per table."""
    now = clock.now()
    rng = random.Random(f"{seed}:people")
    with engine.connect() as connection:
        load = Load(connection.connection.driver_connection)
        staff = seed_people(load, clients, rng, now)
        ctx = Context(seed=seed, now=now, staff=staff, names=store_names(seed))
        started = timer.perf_counter()
        for first in range(0, clients, CHUNK):
            stores = [plan_store(ctx, load, i) for i in range(first, min(first + CHUNK, clients))]
            for store in stores:
                for family in FAMILIES:
                    family(load, ctx, store)
                write_client(load, ctx, store)
            load.write()
            done = min(first + CHUNK, clients)
            out(f"  {done:>6} clients, {timer.perf_counter() - started:6.1f} s")
        load.set_sequences()
        load.connection.commit()
    # Written by COPY, past the ORM that keeps them: G6's open requests from the timeline.
    load.counts["open_whatsapp_requests"] = contact_log.rebuild_open_whatsapp_requests()
    db.session.commit()
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    return load.counts


def _weighted(rng: random.Random, weights: dict) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _at_hour(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(rng.randint(6, 15), rng.randrange(60)), UTC)


# -- the check: every role's main pages answer ----------------------------------------------


def main_pages(client_id: int) -> dict[Role, list[str]]:
    """The pages each role starts from, on a client of the busiest ACM."""
    registry = [
        "/",
        "/day/",
        "/clients/",
        f"/clients/{client_id}",
        "/escalations/",
        "/renewals/",
        "/renewals/forecast",
    ]
    return {
        Role.ACM: registry,
        Role.LEADER: [*registry, "/team/"],
        Role.ADMIN: [*registry, "/finance/", "/team/"],
        Role.FINANCE: ["/", "/renewals/forecast", "/finance/"],
    }


def check_pages(app, sign_in: Callable[[Any, User], Any]) -> list[tuple[str, str, int]]:
    """Sign in as the busiest ACM, their leader, an admin and finance and get each one's
    main pages; returns (role, page, status) for each."""
    with app.app_context():
        busiest = db.session.execute(
            select(Client.acm_id).group_by(Client.acm_id).order_by(func.count().desc()).limit(1)
        ).scalar_one()
        acm = db.session.get(User, busiest)
        client_id = db.session.scalar(
            select(Client.id).where(Client.acm_id == acm.id).order_by(Client.id).limit(1)
        )

        def first_of(role: Role) -> User:
            return db.session.scalar(
                select(User)
                .where(User.role_rows.any(UserRole.role == role.value))
                .order_by(User.id)
                .limit(1)
            )

        users = {
            Role.ACM: acm,
            Role.LEADER: acm.team.leader,
            Role.ADMIN: first_of(Role.ADMIN),
            Role.FINANCE: first_of(Role.FINANCE),
        }
        db.session.expunge_all()
    answers = []
    for role, pages in main_pages(client_id).items():
        http = sign_in(app, users[role])
        for page in pages:
            answers.append((role.value, page, http.get(page).status_code))
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--check", action="store_true", help="then get every role's main pages")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        parser.error("BENCH_DATABASE_URL must name a scratch PostgreSQL database")
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    reset_schema(url)
    app = build_app(url)
    with app.app_context():
        upgrade()
        started = timer.perf_counter()
        counts = generate(db.engine, clients=args.clients, seed=args.seed)
        elapsed = timer.perf_counter() - started
        db.engine.dispose()
    print(f"\n{args.clients} clients (seed {args.seed}) in {elapsed:.0f} s\n")
    print("| table | rows |\n|---|---|")
    for table, rows in sorted(counts.items(), key=lambda c: -c[1]):
        print(f"| {table} | {rows:,} |")
    if args.check:
        failed = 0
        for role, page, status in check_pages(app, signed_in):
            print(f"{status} {role:8} {page}")
            failed += status != 200
        if failed:
            raise SystemExit(f"{failed} pages did not answer 200")


if __name__ == "__main__":
    main()
