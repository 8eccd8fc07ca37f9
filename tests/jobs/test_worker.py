"""The job processes as production runs them (README, Processes; jobs/worker.py): a
redis-server the test starts and stops, `flask kam worker` and `flask kam cron` in
processes of their own, killed with SIGKILL where the test is about a crash.

The worker's timings are shortened with its options so that each test takes seconds; the
README says what a crash costs with the defaults.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq import Worker
from rq.job import JobStatus
from rq.scheduler import RQScheduler
from sqlalchemy import select

from kamportal import queue
from kamportal.jobs import outbox as outbox_jobs
from kamportal.messaging import outbox
from kamportal.models import DeliveryStatus, OutboxMessage
from kamportal.services import contact_log
from tests.conftest import free_port, wait_until
from tests.jobs import sample_jobs
from tests.processes import JobProcess, production_environment

# A heartbeat a second that lapses 2 s later, maintenance every second, a wait for jobs of
# 1 s (worker TTL 16 s less RQ's 15).
FAST = [
    "--job-monitoring-interval=1",
    "--heartbeat-grace=2",
    "--maintenance-interval=1",
    "--worker-ttl=16",
]
SCHEDULER_LOCK = RQScheduler.get_locking_key(queue.QUEUE_NAME)


@pytest.fixture
def own_redis(app, redis_server) -> Iterator[redis.Redis]:
    """The app's queue on the test's redis-server (the app's own is put back after)."""
    saved = app.config["REDIS_URL"], app.extensions["kam_queue"]
    app.config["REDIS_URL"] = redis_server.url
    queue.init_app(app)
    yield queue.backend(app).connection
    app.config["REDIS_URL"], app.extensions["kam_queue"] = saved


@pytest.fixture
def start_process(app, own_redis, tmp_path) -> Iterator[Callable[..., JobProcess]]:
    """`start_process("worker", "--burst", mail_port=...)`: `flask kam worker --burst` in
    production settings, on the test's database and redis-server."""
    started: list[JobProcess] = []

    def start(*args: str, mail_port: int | None = None) -> JobProcess:
        environment = production_environment(app, mail_port=mail_port)
        process = JobProcess(list(args), environment, tmp_path / f"{args[0]}-{len(started)}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        if process.alive:
            process.kill()
        # Shown when the test failed.
        print(f"--- flask kam {' '.join(process.args)}\n{process.output()[-4000:]}")


def _let_the_dead_schedulers_lock_lapse(connection: redis.Redis) -> None:
    """A killed worker's scheduler keeps its lock for RQ's fixed 60 s (README, Processes);
    the test lets that time pass at once rather than wait."""
    assert connection.pexpire(SCHEDULER_LOCK, 1)


def test_the_worker_builds_the_app_once_and_runs_each_job_in_a_fork_of_it(
    app, own_redis, start_process, make_team
):
    """Building the app in every job took 0.5-0.9 s a job: the worker builds it once and
    each job's fork inherits it, with database connections of its own."""
    make_team()
    for n in range(3):
        queue.enqueue(sample_jobs.note_process, f"job-{n}", job_id=f"sample-process-{n}")

    worker = start_process("worker", "--burst")

    assert worker.wait() == 0, worker.output()[-3000:]
    runs = sample_jobs.runs(app)
    assert sorted(run["label"] for run in runs) == ["job-0", "job-1", "job-2"]
    # Each job in a fork of its own (a crash or a hang takes only that fork down)...
    horses = {run["pid"] for run in runs}
    assert len(horses) == 3
    assert worker.pid not in horses
    # ...with the app the worker built before forking, its database answering.
    assert {run["app_built_in"] for run in runs} == {worker.pid}
    assert {run["teams"] for run in runs} == {1}


def test_the_cron_process_outlives_a_redis_restart_and_the_sweeps_resume(
    app, redis_server, start_process
):
    """`rq cron` exited at the first Redis error and every sweep stopped until someone
    restarted it: `flask kam cron` waits for Redis and carries on."""
    worker = start_process("worker", *FAST)
    cron = start_process("cron", "--config=tests.jobs.sample_cron")
    wait_until(lambda: "swept" in sample_jobs.labels(app), seconds=120, what="a first sweep")

    _restart_redis_under(cron, redis_server, once_it_logs="Redis unreachable")

    # Two: at most one could be a job taken before the stop and finished after.
    wait_until(
        lambda: sample_jobs.labels(app).count("swept") >= 2,
        seconds=60,
        what="sweeps after the restart",
    )
    assert cron.alive and worker.alive
    assert cron.stop() == 0
    assert worker.stop() == 0


def test_a_worker_that_loses_redis_in_the_middle_of_a_job_carries_on_when_it_is_back(
    app, redis_server, start_process
):
    """RQ's worker quits when Redis fails it during a job, and every job then waited for
    a supervisor: `flask kam worker` waits for Redis and starts again."""
    worker = start_process("worker", *FAST)
    queue.enqueue(sample_jobs.linger, "long", 6, job_id="sample-linger")
    wait_until(lambda: "long-started" in sample_jobs.labels(app), seconds=60, what="the job")

    # The worker's heartbeat, each second, meets the refusal.
    _restart_redis_under(worker, redis_server, once_it_logs="Redis lost in the middle of a job")

    queue.enqueue(sample_jobs.record, "after", job_id="sample-after")
    wait_until(lambda: "after" in sample_jobs.labels(app), seconds=60, what="a job after")
    assert "Redis is back" in worker.output()
    assert worker.alive
    assert worker.stop() == 0


def _restart_redis_under(process: JobProcess, redis_server, *, once_it_logs: str) -> None:
    """Stop Redis, wait until `process` logs `once_it_logs` (still alive), then start an
    empty Redis on the same port."""
    redis_server.stop()
    wait_until(
        lambda: not process.alive or once_it_logs in process.output(),
        seconds=30,
        what=f"flask kam {process.args[0]} meeting the refused connection",
    )
    assert process.alive, process.output()[-3000:]
    redis_server.start()


def test_a_worker_process_delivers_a_client_email_once_G1(
    app, db, start_process, make_portfolio, smtp_server
):
    """The production path: `flask kam worker`, started as the README says, builds its app
    from the environment and delivers what the web app queued; a second finds nothing left."""
    portfolio = make_portfolio(
        team={"shared_mailbox": "team@kam.example"}, contact={"email": "owner@store.example"}
    )
    contact_log.email_contact(
        portfolio.client,
        actor=portfolio.acm,
        contact=portfolio.contact,
        subject="Welcome",
        body="Hello",
        key="w-1",
    )
    db.session.commit()
    assert queue.job_status("outbox-1") is not None  # enqueued on Redis after the commit

    for _ in range(2):  # a second worker finds nothing left to send
        worker = start_process("worker", "--burst", mail_port=smtp_server.port)
        assert worker.wait() == 0, worker.output()[-2000:]

    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    assert email["Subject"] == "Welcome"
    assert set(email["Cc"].split(", ")) == {
        portfolio.acm.email,
        portfolio.leader.email,
        "team@kam.example",
    }
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.status)) == DeliveryStatus.SENT


@pytest.fixture
def stalling_smtp() -> Iterator[StallingSMTP]:
    server = StallingSMTP()
    server.controller.start()
    yield server
    server.controller.stop()


class StallingSMTP:
    """An SMTP server that takes a message in and never answers: a send under way."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.started = 0
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        self.started += 1
        await asyncio.sleep(600)
        return "451 Try again later"


def _delivery(db, message_id: int):
    """(status, attempts, last_error) of outbox message `message_id`, as committed."""
    row = db.session.execute(
        select(OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.last_error).where(
            OutboxMessage.id == message_id
        )
    ).one()
    db.session.rollback()
    return DeliveryStatus(row.status), row.attempts, row.last_error


def test_a_delivery_cut_short_by_a_killed_worker_fails_soon_and_is_never_sent_again(
    app, db, own_redis, start_process, stalling_smtp
):
    """A worker killed mid-send left the message "sending" for 13 minutes. It is failed,
    for a person to check, once the dead delivery's heartbeat lapses and the outbox sweep
    runs; RQ's retry of the abandoned job finds it claimed and sends nothing (the outbox
    is at-most-once: nobody knows whether the first send went out)."""
    message = outbox.queue_email(
        key="cut-short", to=["owner@store.example"], subject="Welcome", body="Hello"
    )
    db.session.commit()
    worker = start_process("worker", *FAST, mail_port=stalling_smtp.port)
    wait_until(lambda: stalling_smtp.started == 1, seconds=120, what="the delivery under way")
    assert _delivery(db, message.id)[:2] == (DeliveryStatus.SENDING, 1)

    worker.kill()
    _let_the_dead_schedulers_lock_lapse(own_redis)
    start_process("worker", *FAST, mail_port=stalling_smtp.port)  # as its supervisor would

    def swept() -> bool:
        # The outbox sweep, which `flask kam cron` enqueues each minute: here, continuously.
        if queue.job_status("test-outbox-sweep") not in {JobStatus.QUEUED, JobStatus.STARTED}:
            queue.enqueue(outbox_jobs.reconcile, job_id="test-outbox-sweep", retry=None)
        return _delivery(db, message.id)[0] is DeliveryStatus.FAILED

    wait_until(swept, seconds=60, what="the cut-short delivery failed")
    delivery_job = outbox.delivery_job_id(message.id)
    wait_until(
        lambda: queue.job_status(delivery_job) is JobStatus.FINISHED,
        seconds=60,
        what="RQ's retry of the abandoned delivery job",
    )

    status, attempts, last_error = _delivery(db, message.id)
    assert (status, attempts) == (DeliveryStatus.FAILED, 1)
    assert "interrupted" in last_error
    assert stalling_smtp.started == 1  # never sent again automatically


def test_scheduled_jobs_run_soon_after_a_killed_workers_scheduler_lock_lapses(
    app, own_redis, start_process
):
    """Scheduled jobs waited for the dead scheduler's lock, then for a worker's
    maintenance (every 10 minutes in RQ): confirmations went minutes late. The lock still
    lasts RQ's 60 s; the next worker takes the scheduling over at its next maintenance."""
    worker = start_process("worker", *FAST)
    # The worker takes the lock, then forks its scheduler: killed in between, the scheduler
    # would be born after the kill, live on and schedule the job below.
    wait_until(
        lambda: own_redis.exists(SCHEDULER_LOCK) and "Scheduler for" in worker.output(),
        seconds=120,
        what="the scheduler's lock and process",
    )
    worker.kill()
    at = datetime.now(UTC) + timedelta(seconds=1)
    queue.enqueue(sample_jobs.record, "confirmation", job_id="sample-confirmation", at=at)
    replacement = start_process("worker", *FAST)
    wait_until(
        lambda: any(w.pid == replacement.pid for w in Worker.all(connection=own_redis)),
        seconds=120,
        what="the replacement worker registered",
    )
    # Its maintenance (every second) ran twice or more: a real worker reads the wall clock.
    wait_until(
        lambda: _worker_alive_for(own_redis, replacement.pid) >= 3,
        seconds=30,
        what="three seconds of the replacement's heartbeats",
    )
    assert own_redis.pttl(SCHEDULER_LOCK) > 0  # the dead scheduler's lock still holds...
    assert sample_jobs.labels(app) == []  # ...and the job waits

    _let_the_dead_schedulers_lock_lapse(own_redis)

    wait_until(
        lambda: sample_jobs.labels(app) == ["confirmation"], seconds=30, what="the scheduled job"
    )
    assert sample_jobs.runs(app)[0]["at"] >= at.timestamp()


def _worker_alive_for(connection: redis.Redis, pid: int) -> float:
    """Seconds from the start of worker `pid` to its last heartbeat; a worker runs its due
    maintenance right after a heartbeat."""
    (worker,) = [w for w in Worker.all(connection=connection) if w.pid == pid]
    return (worker.last_heartbeat - worker.birth_date).total_seconds()


def _queue_on(app, monkeypatch, redis_url: str | None) -> None:
    """The app's queue on `redis_url` (embedded if None) for this test only."""
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.extensions, "kam_queue", app.extensions["kam_queue"])
    queue.init_app(app)


@pytest.mark.parametrize("command", ["worker", "cron"])
def test_the_job_processes_are_refused_without_redis(app, monkeypatch, command):
    """Without REDIS_URL the queue is in-process: `flask kam serve` runs it."""
    _queue_on(app, monkeypatch, None)

    result = app.test_cli_runner().invoke(args=["kam", command])

    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.output


def test_the_worker_exits_with_an_error_when_redis_cannot_be_reached(app, monkeypatch):
    """So that its supervisor starts it again (README, Processes)."""
    monkeypatch.setattr(queue, "_worker_app", None)
    monkeypatch.setattr(queue, "_worker_app_pid", None)
    _queue_on(app, monkeypatch, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there

    result = app.test_cli_runner().invoke(args=["kam", "worker", "--burst"])

    assert result.exit_code == 1
    assert "Redis" in result.output
