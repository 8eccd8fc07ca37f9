"""Fixtures for every test: the app on SQLite or PostgreSQL, the queue embedded or on Redis,
callable factories, a controlled clock, a real SMTP server, signed-in clients.

The database is whatever DATABASE_URL says (PostgreSQL in CI's second run), else a SQLite
file per test copied from one migrated template. The queue is Redis when REDIS_URL is set,
else the embedded in-process queue. With CI=true, a configured service that cannot be
reached fails the run instead of skipping.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.routing import Rule

from kamportal import clock, create_app
from kamportal.config import TestConfig
from kamportal.extensions import db as _db
from kamportal.models import Client, ClientReport, Contact, LifecycleStatus, Plan, Role, Team, User
from kamportal.services import accounts
from tests.tickets.fake_jira import FakeJira

IN_CI = os.environ.get("CI", "").lower() == "true"
DATABASE_URL = os.environ.get("DATABASE_URL")
REDIS_URL = os.environ.get("REDIS_URL")
PASSWORD = "correct horse battery"
# Where `frozen_clock` stops the portal clock: Monday 23 Nov 2026, 09:00 UTC.
FROZEN_AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _reuse_url_builders() -> None:
    """Each test builds its own app, and werkzeug compiles a URL builder from Python source
    for each of the app's two hundred routes: about 130 ms an app, minutes over the suite.
    A builder's code depends only on the rule's parts and defaults (it reads the rule's
    converters from the rule it is bound to when called), so the suite compiles each once.
    """
    compile_builder = Rule._compile_builder
    compiled: dict[tuple, Callable] = {}

    def compile_once(rule: Rule, append_unknown: bool = True) -> Callable:
        defaults = tuple(
            sorted((name, repr(value)) for name, value in (rule.defaults or {}).items())
        )
        key = (rule.rule, tuple(rule._trace), defaults, append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(rule, append_unknown)
        return compiled[key]

    Rule._compile_builder = compile_once


_reuse_url_builders()


def service_missing(what: str) -> None:
    """A service the run needs is not there: fail in CI, skip elsewhere."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI (CI=true) but is not available")
    pytest.skip(f"{what} not available")


def _sqlalchemy_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _upgrade(url: str) -> None:
    class MigrateConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        REDIS_URL = None

    from flask_migrate import upgrade

    app = create_app(MigrateConfig)
    with app.app_context():
        upgrade()
        _db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory) -> str:
    """Migrate once per run: PostgreSQL from an empty schema, or a SQLite template file."""
    if DATABASE_URL:
        url = _sqlalchemy_url(DATABASE_URL)
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        except Exception as error:
            service_missing(f"PostgreSQL at DATABASE_URL ({error.__class__.__name__})")
        finally:
            engine.dispose()
        _upgrade(url)
        return url
    path = tmp_path_factory.mktemp("template") / "template.db"
    _upgrade(f"sqlite:///{path}")
    return str(path)


def _test_config(database_template: str, tmp_path: Path, overrides: dict) -> type[TestConfig]:
    if DATABASE_URL:
        url = database_template
    else:
        target = tmp_path / "test.db"
        shutil.copyfile(database_template, target)
        url = f"sqlite:///{target}"

    redis_url = REDIS_URL

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        REDIS_URL = redis_url
        ATTACHMENTS_DIR = str(tmp_path / "attachments")

    for name, value in overrides.items():
        setattr(Config, name, value)
    return Config


class CSRFClient(FlaskClient):
    """A test client that behaves like a browser against a server.

    Each request runs in its own app context, as in production: the test's long-lived
    context would otherwise share `g` (the signed-in user, the CSRF token) and the
    database session between requests and clients. It sends the CSRF token a browser
    would: read from a page once, then sent as the X-CSRFToken header (as htmx does)."""

    csrf_token: str | None = None

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return self._open(*args, **kwargs)

    def _open(self, *args, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        if method not in {"GET", "HEAD", "OPTIONS"} and kwargs.pop("csrf", True):
            if self.csrf_token is None:
                # The start page when signed in, else the sign-in page it redirects to.
                page = super().open("/", method="GET", follow_redirects=True)
                match = re.search(r'"X-CSRFToken": "([^"]+)"', page.get_data(as_text=True))
                assert match, "no CSRF token on the page"
                self.csrf_token = match.group(1)
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token)
            kwargs["headers"] = headers
        response = super().open(*args, **kwargs)
        path = urlsplit(str(args[0] if args else kwargs.get("path", "/"))).path
        if method == "POST" and path in {"/login", "/logout"} and response.status_code == 302:
            # Signing in or out starts a new session with a new CSRF token, which a browser
            # reads from the page it goes to next.
            self.csrf_token = None
        return response


def _clean_postgres() -> None:
    """Empty the tables a test wrote to and restart the sequences it moved: what a TRUNCATE
    of every table would leave, at a fraction of its cost (TRUNCATE makes new files for
    each table and index, held or empty; a test leaves a few rows in a few tables). The
    audit log refuses DELETE (its append-only guard), so it alone is truncated."""
    tables = _db.metadata.sorted_tables
    holding = " UNION ALL ".join(
        f"SELECT '{table.name}' WHERE EXISTS (SELECT 1 FROM {table.name})" for table in tables
    )
    with _db.engine.begin() as conn:
        written = set(conn.execute(text(holding)).scalars())
        if "teams" in written:
            conn.execute(Team.__table__.update().values(leader_id=None))
        for table in reversed(tables):
            if table.name == "audit_events" and table.name in written:
                conn.execute(text("TRUNCATE audit_events"))
            elif table.name in written:
                conn.execute(table.delete())
        moved = conn.execute(
            text(
                "SELECT sequencename FROM pg_sequences"
                " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
            )
        ).scalars()
        for sequence in moved.all():
            conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


@pytest.fixture
def app_settings() -> dict:
    """Settings a test module gives all its apps by overriding this fixture (settings that
    depend on another fixture, such as a server it starts); they win over the marker's."""
    return {}


@contextmanager
def app_on_its_own_database(
    database_template: str, tmp_path: Path, overrides: dict | None = None
) -> Iterator[Flask]:
    """An app on a database of its own (a copy of the SQLite template; PostgreSQL emptied
    afterwards) and an empty queue, inside its app context: the `app` fixture's, and a
    module's that builds its world once."""
    app = create_app(_test_config(database_template, tmp_path, overrides or {}))
    app.test_client_class = CSRFClient
    from kamportal import queue

    if REDIS_URL:
        try:
            queue.backend(app).connection.flushdb()
        except Exception as error:
            service_missing(f"Redis at REDIS_URL ({error.__class__.__name__})")
    with app.app_context():
        yield app
        _db.session.remove()
        if DATABASE_URL:
            _clean_postgres()
        _db.engine.dispose()
    if REDIS_URL:
        queue.backend(app).connection.flushdb()


@pytest.fixture
def app(database_template, tmp_path, request, app_settings) -> Iterator[Flask]:
    """The app; `@pytest.mark.config(NAME=value)` overrides settings for one test."""
    marker = request.node.get_closest_marker("config")
    overrides = {**(marker.kwargs if marker else {}), **app_settings}
    with app_on_its_own_database(database_template, tmp_path, overrides) as app:
        yield app


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def frozen_clock() -> Iterator[Callable[..., datetime]]:
    """Freeze the portal clock: `frozen_clock(datetime(...))`; `clock.advance` moves it."""

    def freeze(at: datetime) -> datetime:
        clock.freeze(at)
        return clock.now()

    freeze(FROZEN_AT)
    yield freeze
    clock.unfreeze()


@pytest.fixture
def queue_clock(frozen_clock, monkeypatch) -> Callable[..., datetime]:
    """The frozen portal clock, read also by RQ's scheduler in this process's worker passes
    (`run_jobs`, `EmbeddedWorker.run_once`): a scheduled job is due when the portal clock
    reaches its time, moved with `clock.advance`, instead of waiting for the wall clock.
    A worker in a process of its own (`flask kam worker`) still reads the wall clock."""
    import rq.scheduler

    monkeypatch.setattr(rq.scheduler, "current_timestamp", lambda: int(clock.now().timestamp()))
    return frozen_clock


def wait_until(
    condition: Callable[[], object],
    *,
    seconds: float,
    what: str,
    each: Callable[[], object] | None = None,
) -> float:
    """Poll `condition` until it holds, calling `each` (a worker pass, say) before each look;
    the seconds it took. Fails the test, naming `what`, after `seconds`. For what another
    process or thread does; a test's own scheduled time is the controlled clock's."""
    started = time.monotonic()
    while True:
        if each is not None:
            each()
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > seconds:
            pytest.fail(f"not seen within {seconds} s: {what}")
        time.sleep(0.05)


_counter = itertools.count(1)


@pytest.fixture
def make_team(db) -> Callable[..., Team]:
    def make(**fields) -> Team:
        n = next(_counter)
        values = {
            "name": f"Team {n}",
            "country": "EG",
            "timezone": "Africa/Cairo",
            "working_days": "7,1,2,3,4",
        }
        values.update(fields)
        team = Team(**values)
        db.session.add(team)
        db.session.commit()
        return team

    return make


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    def make(*roles: Role | str, team: Team | None = None, **fields) -> User:
        n = next(_counter)
        user = accounts.create_user(
            email=fields.pop("email", f"user{n}@kam.example"),
            name=fields.pop("name", f"User {n}"),
            password=fields.pop("password", PASSWORD),
            roles=[Role(r) for r in (roles or (Role.ACM,))],
            team=team,
            actor=None,
            **fields,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_client(db) -> Callable[..., Client]:
    def make(acm: User | None = None, **fields) -> Client:
        n = next(_counter)
        now = clock.now()
        values = {
            "store_name": f"Store {n}",
            "store_code": f"ST{n:05d}",
            "plan": Plan.ENTERPRISE.value,
            "country": "EG",
            "timezone": "Africa/Cairo",
            # English by default, so that a test reads the English of what the client
            # receives; the client's language has its own tests (test_client_languages).
            "language": "en",
            "status": LifecycleStatus.LIVE.value,
            "acm": acm,
            "currency": "EGP",
            "recurring_amount": Decimal("12000.00"),
            "created_at": now,
            "updated_at": now,
        }
        values.update(fields)
        client = Client(**values)
        db.session.add(client)
        db.session.commit()
        return client

    return make


@pytest.fixture
def make_contact(db) -> Callable[..., Contact]:
    def make(client: Client, **fields) -> Contact:
        n = next(_counter)
        values = {
            "name": f"Contact {n}",
            "email": f"contact{n}@client.example",
            "phone": "+201001234567",
            "whatsapp": "+201001234567",
            "is_primary": False,
        }
        values.update(fields)
        contact = Contact(client=client, **values)
        db.session.add(contact)
        db.session.commit()
        return contact

    return make


@pytest.fixture
def make_client_report(db) -> Callable[..., ClientReport]:
    """`make_client_report(client, month=..., status=...)`: a monthly report (P4) as the
    sweep drafts it, October 2026's by default, without figures. Committed."""

    def make(client: Client, **fields) -> ClientReport:
        now = clock.now()
        values = {
            "month": date(2026, 10, 1),
            "currency": client.currency,
            "days_in_month": 31,
            "days_with_figures": 0,
            "commentary": "",
            "proposals": "",
            "status": "draft",
            "drafted_at": now,
            "due_at": now,
        }
        values.update(fields)
        report = ClientReport(client_id=client.id, **values)
        db.session.add(report)
        db.session.commit()
        return report

    return make


@dataclass(frozen=True)
class Portfolio:
    """An ACM's portfolio as most tests need it: the ACM, their team and its leader (None
    where the team has none), a client of the ACM's and that client's contact (None where
    none was asked for)."""

    team: Team
    leader: User | None
    acm: User
    client: Client | None
    contact: Contact | None

    def as_dict(self, **more: object) -> dict:
        """The records by name, with `more`: what a module's fixture hands its tests."""
        return {**vars(self), **more}


@pytest.fixture
def make_portfolio(db, make_team, make_user, make_client, make_contact) -> Callable[..., Portfolio]:
    """`make_portfolio(team={...}, acm={...}, client={...})`: a team led by a leader, an
    ACM in it and a client of that ACM, each dict the fields of that record (a name, a
    timezone, the team's waits...). `leader`, `client` and `contact` take fields or a bool:
    no leader with `leader=False`, no client with `client=False`, the client's contact with
    `contact=True`. `roles` are the ACM's (an ACM by default). Committed."""

    def make(
        *,
        team: dict | None = None,
        leader: dict | bool = True,
        acm: dict | None = None,
        roles: tuple[Role | str, ...] = (Role.ACM,),
        client: dict | bool = True,
        contact: dict | bool = False,
    ) -> Portfolio:
        the_team = make_team(**(team or {}))
        the_leader = None
        if leader is not False:
            the_leader = make_user(Role.LEADER, team=the_team, **_fields(leader))
            the_team.leader = the_leader
            db.session.commit()
        the_acm = make_user(*roles, team=the_team, **(acm or {}))
        the_client = None if client is False else make_client(acm=the_acm, **_fields(client))
        the_contact = None
        if contact is not False:
            if the_client is None:
                raise ValueError("a contact needs a client")
            the_contact = make_contact(the_client, **_fields(contact))
        return Portfolio(the_team, the_leader, the_acm, the_client, the_contact)

    return make


def _fields(wanted: dict | bool) -> dict:
    return wanted if isinstance(wanted, dict) else {}


def registered_client(*, actor: User, acm: User | None = None, **fields) -> Client:
    """A client registered through the service, as the client form does: on the Enterprise
    plan and onboarding unless `fields` say otherwise, so its onboarding starts (its
    welcome email owed, O2; its launch checklists, L1). Committed."""
    from kamportal.services import clients as client_records

    values = {
        "store_name": "Desert Rose",
        "store_code": "ROSE01",
        "plan": Plan.ENTERPRISE.value,
        "country": "EG",
        "timezone": "Africa/Cairo",
        "currency": "EGP",
        "status": LifecycleStatus.ONBOARDING.value,
    }
    values.update(fields)
    client = client_records.create_client(
        client_records.ClientProfile(**values), actor=actor, acm=acm or actor
    )
    _db.session.commit()
    return client


def sign_in(http: FlaskClient, user: User, password: str = PASSWORD):
    response = http.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def login_as(app, make_user, make_team) -> Callable[..., FlaskClient]:
    """`login_as(Role.LEADER)` or `login_as(user)`: a test client signed in as that user.

    A role alone makes a user of that role in a fresh team (a leader leads it)."""

    def login(who: Role | str | User, http: FlaskClient | None = None) -> FlaskClient:
        if isinstance(who, User):
            user = who
        else:
            role = Role(who)
            team = make_team()
            user = make_user(role, team=team)
            if role is Role.LEADER:
                team.leader = user
                _db.session.commit()
        http = http or app.test_client()
        sign_in(http, user)
        http.user = user  # type: ignore[attr-defined]
        return http

    return login


@pytest.fixture
def run_jobs(app) -> Callable[[], None]:
    """Run every due job with a real RQ worker in burst mode (Redis or embedded)."""
    from kamportal import queue

    def run() -> None:
        queue.run_worker_burst(app)

    return run


@pytest.fixture
def jira_server() -> Iterator[FakeJira]:
    """A fake Jira Cloud served on 127.0.0.1 (tests/tickets/fake_jira.py)."""
    fake = FakeJira()
    fake.start()
    yield fake
    fake.stop()


def jira_settings(fake: FakeJira) -> dict:
    """The settings pointing an app at `fake` (TICKETS_ADAPTER=jira): a module's
    `app_settings`."""
    return {
        "TICKETS_ADAPTER": "jira",
        "JIRA_URL": fake.url,
        "JIRA_EMAIL": fake.email,
        "JIRA_API_TOKEN": fake.api_token,
    }


@pytest.fixture
def on_jira(app, jira_server) -> FakeJira:
    """The app, already built, pointed at the fake Jira for one test."""
    app.config.update(jira_settings(jira_server))
    app.extensions.pop("kam_tickets", None)
    return jira_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPSink:
    """A real SMTP server (aiosmtpd) on a free local port, keeping what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(app) -> Iterator[SMTPSink]:
    sink = SMTPSink()
    sink.controller.start()
    app.config.update(MAIL_TRANSPORT="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port)
    app.extensions.pop("kam_email_transport", None)
    yield sink
    sink.controller.stop()


class RedisServer:
    """A real redis-server of its own on a free local port, without persistence; `stop()`
    takes it away mid-test (Redis down)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        if shutil.which("redis-server") is None:
            service_missing("redis-server")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        connection = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                connection.ping()
                connection.close()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    service_missing(f"redis-server on port {self.port}")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()
