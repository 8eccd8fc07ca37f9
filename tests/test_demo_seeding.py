"""`flask kam seed-demo`, `demo-logins`, `serve` and `sweep`, and what seeding does to a
database of its own: with the running clock, failing partway, the same demo for a seed.
Each test here has its own database (the `app` fixture); what a seeded demo holds is read
in test_demo.py, seeded once."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from kamportal import clock, demo, queue
from kamportal.models import (
    AuditEvent,
    ChecklistItem,
    Client,
    ContractUsage,
    DeliveryStatus,
    Escalation,
    EscalationStatus,
    KycQuestionnaire,
    OutboxMessage,
    Payment,
    Renewal,
    Team,
    TimelineEvent,
    WelcomeEmail,
)
from kamportal.services import escalations
from tests.test_demo import LAUNCH_STORIES, PORTFOLIO, escalations_by, table_counts

CLIENTS = 30


def test_cli_seeds_once_and_prints_every_demo_login(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["kam", "seed-demo", "--clients", "10"])
    assert result.exit_code == 0, result.output
    assert f"{10 + LAUNCH_STORIES} clients" in result.output
    assert " renewals, " in result.output and " invoices." in result.output
    assert "welcome emails sent and " in result.output and " stores launched." in result.output
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


def kyc_link_bases(db) -> set[str]:
    """Where the KYC links of the demo's emails point (O1): the part before `/kyc/`."""
    bodies = db.session.scalars(
        select(OutboxMessage.body).where(OutboxMessage.body.contains("/kyc/"))
    )
    return {re.search(r"(\S+)/kyc/", body)[1] for body in bodies}


def test_seed_demo_builds_its_links_on_the_address_the_demo_is_served_at(app, db):
    """`make demo` seeds with the address it serves (`--url`): the KYC links open there."""
    result = app.test_cli_runner().invoke(
        args=["kam", "seed-demo", "--clients", "0", "--url", "http://127.0.0.1:8080/"]
    )
    assert result.exit_code == 0, result.output
    assert kyc_link_bases(db) == {"http://127.0.0.1:8080"}
    assert app.config["PUBLIC_URL"] is None  # put back after seeding


@pytest.mark.config(PUBLIC_URL="https://kam.example.com")
def test_public_url_when_set_wins_over_the_demo_servers_address(app, db):
    result = app.test_cli_runner().invoke(
        args=["kam", "seed-demo", "--clients", "0", "--url", "http://127.0.0.1:8080"]
    )
    assert result.exit_code == 0, result.output
    assert kyc_link_bases(db) == {"https://kam.example.com"}


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "ftp://127.0.0.1", "http://"])
def test_seed_demo_refuses_an_address_that_is_not_a_web_address(app, db, url):
    result = app.test_cli_runner().invoke(args=["kam", "seed-demo", "--url", url])
    assert result.exit_code == 2 and "Invalid value for '--url'" in result.output
    assert table_counts(db)["users"] == 0


def test_make_demo_serves_and_builds_its_links_on_the_port_given():
    """`PORT=8080 make demo`: the links are seeded on that address, the server listens there
    and prints the logins; by default 127.0.0.1:5000."""
    root = Path(__file__).resolve().parents[1]

    def planned(*assignments: str) -> list[str]:
        done = subprocess.run(
            ["make", "-n", "demo", *assignments], cwd=root, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return [line for line in done.stdout.splitlines() if "flask kam" in line]

    assert [line.split("flask ", 1)[1] for line in planned("PORT=8080")] == [
        "kam seed-demo --url http://127.0.0.1:8080",
        "kam serve --host 127.0.0.1 --port 8080 --demo-logins",
    ]
    assert [line.split("flask ", 1)[1] for line in planned()] == [
        "kam seed-demo --url http://127.0.0.1:5000",
        "kam serve --host 127.0.0.1 --port 5000 --demo-logins",
    ]
    # On every interface, this machine reaches it (and its links) on 127.0.0.1.
    assert "--url http://127.0.0.1:5000" in planned("HOST=0.0.0.0")[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_prints_the_demo_logins_last_once_the_server_is_up(app, db):
    """`flask kam serve --demo-logins` (what `make demo` runs) on the port given: the
    worker's start-up messages come first, then the address, then the logins table, and
    nothing after it but the requests served."""
    demo.seed_demo(clients=3)
    db.session.commit()
    port = free_port()
    env = {
        **os.environ,
        "KAM_ENV": "development",
        "FLASK_APP": "wsgi",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "test-serve",
    }
    env.pop("REDIS_URL", None)  # the embedded queue, as `make demo` has
    env.pop("PUBLIC_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "kam", "serve", "--port", str(port), "--demo-logins"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watchdog = threading.Timer(120, server.kill)
    watchdog.start()
    lines: list[str] = []
    try:
        last_login = demo.demo_logins()[-1].email
        for line in server.stdout:
            lines.append(line.rstrip("\n"))
            if last_login in line:
                break
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as health:
            assert health.status == 200
        for line in server.stdout:
            lines.append(line.rstrip("\n"))
            if "GET /healthz" in line:
                break
    finally:
        watchdog.cancel()
        server.terminate()
        server.wait(timeout=30)
    output = "\n".join(lines)
    address = lines.index(f"KAM Portal on http://127.0.0.1:{port} (Ctrl-C to stop)")
    heading = lines.index("Demo logins:")
    table = lines[heading + 1 :]
    assert address == heading - 1, output
    # The header, its rule, a row per demo user, then only the request served.
    assert len(table) == len(demo.demo_logins()) + 3, output
    assert "GET /healthz" in table[-1] and last_login in table[-2], output
    assert not [line for line in lines[address:] if "enqueued" in line or "rq." in line]


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


def test_with_the_running_clock_the_worker_sends_nothing_again_and_steps_wait_their_time_E2(
    app, db, run_jobs
):
    started = datetime.now(UTC)
    demo.seed_demo(clients=PORTFOLIO)
    db.session.commit()
    # The clock runs again, as it did before seeding.
    assert started <= clock.now() <= datetime.now(UTC)
    # Whatever the replays did happened before the real now.
    for column in (TimelineEvent.at, AuditEvent.at, Renewal.opened_at, Payment.reported_at):
        latest = db.session.scalar(select(func.max(column)))
        assert latest is not None and latest <= datetime.now(UTC), column

    def state() -> tuple[dict, dict]:
        db.session.expire_all()
        ladder = {
            e.id: (e.status, e.current_step, e.paused_at, e.waiting_for_leader, e.step_due_at)
            for e in db.session.scalars(select(Escalation))
        }
        messages = {
            m.id: (m.status, m.attempts, m.sent_at)
            for m in db.session.scalars(select(OutboxMessage))
        }
        return ladder, messages

    before = state()
    assert before[1] and all(status == "sent" for status, _, _ in before[1].values())
    run_jobs()
    assert state() == before
    waiting = [
        e
        for e in escalations_by(db, EscalationStatus.OPEN)
        if e.step_due_at is not None and e.paused_at is None
    ]
    assert {e.current_step for e in waiting} == {"email", "whatsapp"}
    for escalation in waiting:
        assert escalation.step_due_at > started
        job = escalations.step_job_id(escalation.id, escalation.step.following)
        assert abs(queue.scheduled_at(job) - escalation.step_due_at) <= timedelta(seconds=1)


def test_a_failed_seed_puts_the_portal_clock_back(db, frozen_clock, monkeypatch):
    frozen = clock.now()

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(escalations, "record_complaint", fail)
    with pytest.raises(RuntimeError):
        demo.seed_demo(clients=PORTFOLIO)
    assert clock.now() == frozen


def wipe(db) -> None:
    """Empty this test's database, the audit log's append-only guard set aside."""
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(table.name for table in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        db.session.execute(text("DROP TRIGGER audit_events_no_delete"))
        db.session.execute(Team.__table__.update().values(leader_id=None))
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()
    db.session.expunge_all()


def fingerprint(db) -> dict[str, list]:
    """What the demo holds, by store code (ids and the KYC links' random nonces aside)."""
    codes = {id_: code for id_, code in db.session.execute(select(Client.id, Client.store_code))}
    return {
        "clients": sorted(
            (c.store_code, c.status, c.acm.email, c.last_contact_at, c.lms_started_at)
            for c in db.session.scalars(select(Client))
        ),
        "events": sorted(
            (codes[e.client_id], e.kind, e.at, e.summary)
            for e in db.session.scalars(select(TimelineEvent))
        ),
        "welcome": sorted(
            (codes[w.client_id], w.due_at, w.sent_at)
            for w in db.session.scalars(select(WelcomeEmail))
        ),
        "kyc": sorted(
            (codes[q.client_id], q.link_expires_at, q.submitted_at, sorted(q.answers.items()))
            for q in db.session.scalars(select(KycQuestionnaire))
        ),
        "ticks": sorted(
            (codes[i.client_id], i.checklist, i.item_key, i.done_at, i.note or "", i.evidence)
            for i in db.session.scalars(select(ChecklistItem))
            if i.done
        ),
        "usage": sorted(
            (codes[u.client_id], u.kind, u.quantity, u.recorded_at)
            for u in db.session.scalars(select(ContractUsage))
        ),
    }


def test_the_demo_is_the_same_for_a_seed(db, frozen_clock):
    demo.seed_demo(clients=CLIENTS)
    db.session.commit()
    first = fingerprint(db)

    wipe(db)
    assert db.session.scalar(select(func.count()).select_from(Client)) == 0

    demo.seed_demo(clients=CLIENTS)
    db.session.commit()
    assert fingerprint(db) == first
