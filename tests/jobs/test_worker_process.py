"""The production path: a separate `flask kam worker` process, started as the README says,
builds its app from the environment and delivers what the web app queued."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import redis
from sqlalchemy import select

from kamportal import queue
from kamportal.config import ROOT
from kamportal.models import DeliveryStatus, OutboxMessage, Role
from kamportal.services import contact_log
from tests.conftest import REDIS_URL, service_missing

WORKER_REDIS_URL = REDIS_URL or "redis://127.0.0.1:6379/3"


def test_a_worker_process_delivers_a_client_email_once_G1(
    app, db, make_team, make_user, make_client, make_contact, smtp_server
):
    app.config["REDIS_URL"] = WORKER_REDIS_URL
    queue.init_app(app)
    try:
        queue.backend(app).connection.flushdb()
    except redis.exceptions.ConnectionError as error:
        service_missing(f"Redis at {WORKER_REDIS_URL} ({error.__class__.__name__})")

    team = make_team(shared_mailbox="team@kam.example")
    leader = make_user(Role.LEADER, team=team)
    team.leader = leader
    acm = make_user(Role.ACM, team=team)
    db.session.commit()
    client = make_client(acm=acm)
    contact = make_contact(client, email="owner@store.example")
    contact_log.email_contact(
        client, actor=acm, contact=contact, subject="Welcome", body="Hello", key="w-1"
    )
    db.session.commit()
    assert queue.job_status("outbox-1") is not None  # enqueued on Redis after the commit

    environment = {
        **os.environ,
        "KAM_ENV": "production",
        "SECRET_KEY": "worker-test-secret",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": WORKER_REDIS_URL,
        "MAIL_TRANSPORT": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_server.port),
        "FLASK_APP": "wsgi",
    }
    flask = Path(sys.executable).with_name("flask")
    for _ in range(2):  # a second worker finds nothing left to send
        result = subprocess.run(
            [str(flask), "kam", "worker", "--burst"],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]

    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    assert email["Subject"] == "Welcome"
    assert set(email["Cc"].split(", ")) == {acm.email, leader.email, "team@kam.example"}
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.status)) == DeliveryStatus.SENT
    queue.backend(app).connection.flushdb()
