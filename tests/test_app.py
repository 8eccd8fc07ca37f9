"""Start-up settings: refusing an unsafe configuration, and where htmx comes from."""

import base64
import hashlib
import subprocess
import sys

import pytest
from sqlalchemy import insert, select, text, union_all

from kamportal import create_app, database
from kamportal.config import (
    HTMX_CDN_URL,
    HTMX_SRI,
    HTMX_VERSION,
    ROOT,
    Config,
    ConfigError,
    TestConfig,
)
from kamportal.models import Client, Role, Team
from tests.conftest import DATABASE_URL


def test_production_refuses_to_start_without_a_secret_key():
    class NoSecret(Config):
        SECRET_KEY = None

    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app(NoSecret)


def _run_wsgi(code: str, *, secret_key: str) -> subprocess.CompletedProcess[str]:
    """`python -c code` in a production environment on an in-memory database."""
    env = {"PATH": "/usr/bin:/bin", "KAM_ENV": "production", "DATABASE_URL": "sqlite://"}
    env["SECRET_KEY"] = secret_key
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_wsgi_entry_point_exits_with_the_message_when_secret_key_is_missing():
    # An empty SECRET_KEY also keeps a developer's .env from filling it in.
    result = _run_wsgi("import wsgi", secret_key="")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_wsgi_app_freezes_its_own_objects_out_of_the_garbage_collector():
    """A full collection walked the app's 250,000 objects at some request's expense (100 ms
    every few dozen requests): gunicorn's app is frozen once built."""
    result = _run_wsgi("import gc, wsgi; print(gc.get_freeze_count())", secret_key="s" * 48)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 100_000


def test_the_vendored_htmx_file_matches_the_pinned_sri_hash():
    vendored = ROOT / "kamportal" / "static" / "vendor" / f"htmx-{HTMX_VERSION}.min.js"
    digest = base64.b64encode(hashlib.sha384(vendored.read_bytes()).digest()).decode()
    assert f"sha384-{digest}" == HTMX_SRI


def test_htmx_from_the_cdn_is_pinned_with_its_sri_hash_and_allowed_by_the_csp():
    class CdnConfig(TestConfig):
        HTMX_SOURCE = "cdn"
        SQLALCHEMY_DATABASE_URI = "sqlite://"
        REDIS_URL = None

    app = create_app(CdnConfig)
    response = app.test_client().get("/login")
    page = response.get_data(as_text=True)
    assert f'src="{HTMX_CDN_URL}" integrity="{HTMX_SRI}" crossorigin="anonymous"' in page
    # The one file is allowed, not every script on the CDN's host.
    policy = response.headers["Content-Security-Policy"]
    assert f"script-src 'self' {HTMX_CDN_URL};" in policy
    assert "https://cdn.jsdelivr.net;" not in policy
    assert "https://cdn.jsdelivr.net " not in policy


def test_htmx_local_serves_the_vendored_copy_and_the_csp_allows_only_self(client):
    response = client.get("/login")
    page = response.get_data(as_text=True)
    assert f'src="/static/vendor/htmx-{HTMX_VERSION}.min.js" integrity="{HTMX_SRI}"' in page
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]
    assert client.get(f"/static/vendor/htmx-{HTMX_VERSION}.min.js").status_code == 200


def test_an_unknown_htmx_source_is_refused():
    class Wrong(TestConfig):
        HTMX_SOURCE = "somewhere"

    with pytest.raises(ConfigError, match="HTMX_SOURCE"):
        create_app(Wrong)


def test_health_check_answers_without_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_every_event_is_heard_once_the_app_is_made(app):
    """services/events.py: a reply stops F2's ladders and pauses an escalation's; an
    unanswered call goes to the escalation ladder's choice; a calendar change to the
    deadlines' recount. The app imports the listeners, so a job or the CLI hears them."""
    from kamportal.services import events

    assert events.listening() == {
        "client-replied": 2,
        "call-unanswered": 1,
        "calendar-changed": 1,
        "invoice-paid": 1,
        "cancellation-confirmed": 1,
    }


def test_each_connection_has_the_portals_settings(db):
    """SQLite checks foreign keys; PostgreSQL runs without JIT or parallel workers and
    reads at random as cheaply as in sequence (POSTGRES_OPTIONS, bench/README.md)."""
    if db.engine.dialect.name == "postgresql":
        assert db.session.scalar(text("SHOW jit")) == "off"
        assert db.session.scalar(text("SHOW random_page_cost")) == "1.1"
        assert db.session.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"
    else:
        assert db.session.scalar(text("PRAGMA foreign_keys")) == 1


def test_a_request_that_wrote_without_committing_changes_nothing(app, db):
    """What a request flushed and did not commit is undone when it ends, as before reads
    ended with a commit (PostgreSQL): only a transaction that wrote nothing is committed."""
    from kamportal.models import Team

    for ends_on_error in (False, True):
        name = f"Never saved {ends_on_error}"
        try:
            with app.app_context():  # a request's own context, and session
                db.session.add(Team(name=name, country="EG", timezone="Africa/Cairo"))
                db.session.flush()
                if ends_on_error:
                    raise RuntimeError("the request failed")
        except RuntimeError:
            pass
        with app.app_context():
            assert db.session.scalar(select(Team).where(Team.name == name)) is None


@pytest.mark.skipif(not (DATABASE_URL or "").startswith("postgres"), reason="psycopg's")
def test_statements_stay_prepared_from_one_request_to_the_next(app, db):
    """A request that only read ends with COMMIT on PostgreSQL, not ROLLBACK (which makes
    psycopg drop what it prepared): a statement asked in every request is prepared on its
    connection from the sixth time on, and stays so."""

    for _ in range(7):
        with app.app_context():  # a request's own context, and session
            db.session.scalars(select(Client.id).where(Client.id == 1)).all()
            # A SELECT WITH a query before it only reads too (issue 17), and so does a
            # UNION of SELECTs over it (the leader's view's counts).
            database.each_value(Client.timezone)
            ids = select(Client.id.label("id")).cte("ids")
            db.session.execute(union_all(select(ids.c.id), select(ids.c.id))).all()
    with app.app_context():
        prepared = db.session.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any("FROM clients" in statement for statement in prepared), prepared
    assert any(statement.startswith("WITH RECURSIVE") for statement in prepared), prepared
    assert any(statement.startswith("WITH ids") for statement in prepared), prepared


@pytest.mark.skipif(not (DATABASE_URL or "").startswith("postgres"), reason="psycopg's")
def test_no_page_drops_what_the_day_prepared(app, db, make_team, make_user, make_client, login_as):
    """Issue 17: each page a leader opens between two of their days ends as a read, so the
    day's statements stay prepared on the connection: the leader's view's counts (a UNION
    over the team's clients found once) ended with ROLLBACK, and every statement psycopg
    had prepared was dropped with it."""
    team = make_team()
    leader = make_user(Role.LEADER, team=team)
    team.leader = leader
    make_client(make_user(Role.ACM, team=team))
    db.session.commit()
    http = login_as(leader)
    for _ in range(6):
        assert http.get("/day/").status_code == 200
    for page in ("/team/", "/clients/", "/escalations/", "/renewals/", "/day/"):
        assert http.get(page).status_code == 200
        with app.app_context():
            prepared = db.session.scalars(
                text("SELECT statement FROM pg_prepared_statements")
            ).all()
        assert any(s.startswith("SELECT EXISTS") for s in prepared), page


@pytest.mark.skipif(not (DATABASE_URL or "").startswith("postgres"), reason="psycopg's")
def test_a_select_with_a_write_before_it_is_rolled_back_at_the_end_of_the_request(app, db):
    added = (
        insert(Team)
        .values(name="Written in a WITH", country="EG", timezone="Africa/Cairo")
        .returning(Team.id)
        .cte("added")
    )
    with app.app_context():
        assert db.session.scalar(select(added.c.id)) is not None
    with app.app_context():
        assert db.session.scalar(select(Team).where(Team.name == "Written in a WITH")) is None


@pytest.mark.skipif(not (DATABASE_URL or "").startswith("postgres"), reason="PostgreSQL's")
def test_the_day_is_planned_once_and_its_plan_kept_from_one_request_to_the_next(app, db, login_as):
    """Issue 17: the day asks PostgreSQL to keep one plan per statement for its transaction
    (a SET LOCAL, which still lets the request end with COMMIT and its statements stay
    prepared): from the sixth request on, its question of which sections hold anything
    runs on the plan made once, never planned again for the request's values."""
    http = login_as(Role.ACM)
    for _ in range(8):
        assert http.get("/day/").status_code == 200
    with app.app_context():
        plans = db.session.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE 'SELECT EXISTS%'"
            )
        ).all()
    assert plans and all(generic >= 1 and custom == 0 for generic, custom in plans), plans
    # Everything else is planned for each request's values (POSTGRES_OPTIONS).
    with app.app_context():
        assert db.session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
