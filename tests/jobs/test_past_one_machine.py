"""Past one machine (README, production): two web processes and two workers on one
PostgreSQL and one Redis, as two hosts behind a load balancer would run them.

The ACM's requests go to either web process (a load balancer's choice), sessions included;
every email is delivered exactly once to a real SMTP server, whichever process queued it,
whichever worker took it, and whichever worker's scheduler moved a scheduled confirmation
onto the queue (F3).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from rq import Worker
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import select

from kamportal import clock, queue
from kamportal.models import DeliveryStatus, OutboxMessage
from kamportal.models.meetings import Meeting
from tests.conftest import DATABASE_URL, PASSWORD, REDIS_URL, free_port, wait_until
from tests.processes import JobProcess, Process, WebProcess, production_environment

pytestmark = pytest.mark.skipif(
    not (DATABASE_URL and REDIS_URL),
    reason="several machines share one PostgreSQL and one Redis; the embedded run has neither",
)

ZOOM = "https://zoom.us/j/81234567890"
CAIRO = ZoneInfo("Africa/Cairo")
CLIENTS = 4
EMAILS = 12


@pytest.fixture
def start(tmp_path) -> Iterator[Callable[[Process], Process]]:
    """Keep each process started, stop it after the test and show its output on failure."""
    started: list[Process] = []

    def keep(process: Process) -> Process:
        started.append(process)
        return process

    yield keep
    for process in started:
        if process.alive:
            process.kill()
        print(f"--- {' '.join(process.command)}\n{process.output()[-4000:]}")


def _csrf(page: str) -> str:
    match = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _meeting_start() -> tuple[str, str]:
    """The first whole minute, in Cairo, at least 4 hours and 5 seconds from now: its
    confirmation is due 4 hours before (the team's lead time), within the next minute."""
    at = (clock.now() + timedelta(hours=4, seconds=65)).astimezone(CAIRO)
    at = at.replace(second=0, microsecond=0)
    return at.date().isoformat(), at.strftime("%H:%M")


def test_two_web_processes_and_two_workers_deliver_each_email_exactly_once_G1_F3(
    app, db, make_portfolio, make_client, make_contact, smtp_server, start, tmp_path
):
    portfolio = make_portfolio(
        team={"confirmation_lead_hours": 4, "shared_mailbox": "team@kam.example"},
        acm={"timezone": "Africa/Cairo"},
        client={"timezone": "Africa/Cairo"},
        contact={"email": "owner0@store.example", "is_primary": True},
    )
    # (client id, contact id): the requests go from threads, which read no record.
    clients = [(portfolio.client.id, portfolio.contact.id)]
    for n in range(1, CLIENTS):
        client = make_client(acm=portfolio.acm, timezone="Africa/Cairo")
        clients.append((client.id, make_contact(client, email=f"owner{n}@store.example").id))
    environment = production_environment(app, mail_port=smtp_server.port)
    webs = [
        start(WebProcess(free_port(), environment, tmp_path / f"web-{n}.log")) for n in range(2)
    ]
    for n in range(2):
        start(JobProcess(["worker"], environment, tmp_path / f"worker-{n}.log"))
    http = httpx.Client(timeout=60, follow_redirects=False)

    def answers(web: WebProcess) -> bool:
        try:
            return http.get(f"{web.url}/login").status_code == 200
        except httpx.TransportError:
            return False

    for web in webs:
        wait_until(lambda web=web: answers(web), seconds=60, what=f"gunicorn on {web.url}")
    connection = queue.backend(app).connection
    wait_until(lambda: len(Worker.all(connection=connection)) == 2, seconds=60, what="2 workers")

    # Signed in on one, the session holds on the other (one secret key, sessions shared).
    token = _csrf(http.get(f"{webs[0].url}/login").text)
    signed_in = http.post(
        f"{webs[0].url}/login",
        data={"email": portfolio.acm.email, "password": PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert signed_in.status_code == 302, signed_in.text[:500]
    token = _csrf(http.get(f"{webs[1].url}/").text)

    def email(n: int, web: WebProcess) -> int:
        client, contact = clients[n % CLIENTS]
        return http.post(
            f"{web.url}/clients/{client}/contacts/{contact}/email",
            data={"subject": f"Burst {n}", "body": "Hello from your ACM.", "key": f"burst-{n}"},
            headers={"X-CSRFToken": token},
        ).status_code

    day, time = _meeting_start()

    def schedule(n: int, web: WebProcess) -> int:
        client, contact = clients[n]
        return http.post(
            f"{web.url}/clients/{client}/meetings/new",
            data={
                "kind": "weekly",
                "date": day,
                "time": time,
                "duration_minutes": "30",
                "zoom_link": ZOOM,
                "agenda": f"Catalogue review {n}",
                "attendees": [str(contact)],
            },
            headers={"X-CSRFToken": token},
        ).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        sent = list(pool.map(lambda n: email(n, webs[n % 2]), range(EMAILS)))
        scheduled = list(pool.map(lambda n: schedule(n, webs[n % 2]), range(CLIENTS)))
    # A double submit the load balancer sends to the other process: the same email.
    again = email(0, webs[1])
    assert sent == [303] * EMAILS and scheduled == [303] * CLIENTS and again == 303

    def delivered() -> bool:
        db.session.rollback()
        statuses = db.session.scalars(select(OutboxMessage.status)).all()
        return len(statuses) == EMAILS + CLIENTS and set(statuses) == {DeliveryStatus.SENT}

    wait_until(delivered, seconds=180, what="every email delivered")

    def drained() -> bool:
        registries = (ScheduledJobRegistry, StartedJobRegistry)
        return queue.get_queue(app).count == 0 and not any(
            registry(queue=queue.get_queue(app)).get_job_ids() for registry in registries
        )

    wait_until(drained, seconds=60, what="nothing left on the queue")

    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    booked = db.session.scalars(select(Meeting)).all()
    assert len(booked) == CLIENTS and {m.confirmed_sequence for m in booked} == {0}
    # Each confirmation waited for its time on the queue (a scheduler moved it), F3.
    assert all(m.confirmation_due_at > m.created_at for m in booked)
    assert sorted(
        m.idempotency_key for m in messages if m.idempotency_key.startswith("meeting-")
    ) == sorted(f"meeting-{m.id}-confirm-0" for m in booked)
    received = Counter(email["Message-ID"] for email in smtp_server.messages)
    assert len(smtp_server.messages) == EMAILS + CLIENTS
    assert set(received.values()) == {1}
    assert set(received) == {m.provider_message_id for m in messages}
    subjects = Counter(email["Subject"] for email in smtp_server.messages)
    assert all(subjects[f"Burst {n}"] == 1 for n in range(EMAILS))
    for email_sent in smtp_server.messages:  # G1: the leader and the team's mailbox in CC
        assert {portfolio.leader.email, "team@kam.example"} <= set(email_sent["Cc"].split(", "))
