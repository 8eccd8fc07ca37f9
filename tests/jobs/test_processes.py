"""The job processes as production runs them (README, Processes): a redis-server the test
starts and stops, `flask kam worker` and `flask kam cron` in processes of their own, killed
with SIGKILL where the test is about a crash.

The worker's timings are shortened with its options so that each test takes seconds; the
README says what a crash costs with the defaults.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from rq import Worker
from rq.job import JobStatus
from rq.scheduler import RQScheduler
from sqlalchemy import select

from kamportal import queue
from kamportal.config import ROOT
from kamportal.jobs import outbox as outbox_jobs
from kamportal.messaging import outbox
from kamportal.models import DeliveryStatus, OutboxMessage
from tests.conftest import free_port, service_missing
from tests.jobs import sample_jobs

REDIS_SERVER = shutil.which("redis-server")
FLASK = Path(sys.executable).with_name("flask")
# A heartbeat a second that lapses 2 s later, maintenance every second, a wait for jobs of
# 1 s (worker TTL 16 s less RQ's 15).
FAST = [
    "--job-monitoring-interval=1",
    "--heartbeat-grace=2",
    "--maintenance-interval=1",
    "--worker-ttl=16",
]
SCHEDULER_LOCK = RQScheduler.get_locking_key(queue.QUEUE_NAME)


class RedisServer:
    """A redis-server of the test's own on a free port, without persistence: stopped and
    started again, it comes back empty, as a Redis restarted without its data would."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    if REDIS_SERVER is None:
        service_missing("redis-server (the Redis server program)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_redis(app, redis_server) -> Iterator[redis.Redis]:
    """The app's queue on the test's redis-server (the app's own is put back after)."""
    saved = app.config["REDIS_URL"], app.extensions["kam_queue"]
    app.config["REDIS_URL"] = redis_server.url
    queue.init_app(app)
    yield queue.backend(app).connection
    app.config["REDIS_URL"], app.extensions["kam_queue"] = saved


def _session_pids(session: int) -> list[int]:
    """The processes of session `session` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (command) state ppid pgrp session ...: the command may hold spaces.
        fields = stat.rpartition(")")[2].split()
        if int(fields[3]) == session:
            pids.append(int(entry.name))
    return pids


class JobProcess:
    """A `flask kam ...` process in a session of its own, its output kept in a file."""

    def __init__(self, args: list[str], environment: dict[str, str], log: Path) -> None:
        self.args = args
        self.log = log
        with log.open("w") as out:
            self.popen = subprocess.Popen(
                [str(FLASK), "kam", *args],
                cwd=ROOT,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait(self, timeout: float = 120) -> int:
        return self.popen.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL every process of its session, as a crash would: the worker, the
        scheduler it forked and the work horse running a job (a process group of its own)."""
        for pid in _session_pids(self.popen.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM, as a supervisor stops it; its exit status."""
        self.popen.terminate()
        try:
            return self.popen.wait(timeout=30)
        finally:
            if self.alive:
                self.kill()


@pytest.fixture
def start_process(app, own_redis, tmp_path) -> Iterator[Callable[..., JobProcess]]:
    """`start_process("worker", "--burst", mail_port=...)`: `flask kam worker --burst` in
    production settings, on the test's database and redis-server."""
    started: list[JobProcess] = []

    def start(*args: str, mail_port: int | None = None) -> JobProcess:
        environment = {
            **os.environ,
            "KAM_ENV": "production",
            "SECRET_KEY": "job-process-test-secret",
            "FLASK_APP": "wsgi",
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
            "MAIL_TRANSPORT": "smtp",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(mail_port or free_port()),
            "MAIL_TIMEOUT": "120",
        }
        process = JobProcess(list(args), environment, tmp_path / f"{args[0]}-{len(started)}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        if process.alive:
            process.kill()
        # Shown when the test failed.
        print(f"--- flask kam {' '.join(process.args)}\n{process.output()[-4000:]}")


def _wait_until(condition: Callable[[], bool], seconds: float, what: str) -> float:
    """Poll `condition` until it holds; the seconds it took. Fails after `seconds`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            pytest.fail(f"not seen within {seconds} s: {what}")
        time.sleep(0.1)
    return time.monotonic() - started


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
    _wait_until(lambda: "swept" in sample_jobs.labels(app), 120, "a first sweep")

    redis_server.stop()
    _wait_until(
        lambda: not cron.alive or "Redis unreachable" in cron.output(),
        30,
        "the cron process meeting the refused connection",
    )
    assert cron.alive, cron.output()[-3000:]
    redis_server.start()  # the same port, empty

    # Two: at most one could be a job taken before the stop and finished after.
    _wait_until(lambda: sample_jobs.labels(app).count("swept") >= 2, 60, "sweeps after the restart")
    assert cron.alive and worker.alive
    assert cron.stop() == 0
    assert worker.stop() == 0


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
    _wait_until(lambda: stalling_smtp.started == 1, 120, "the delivery under way")
    assert _delivery(db, message.id)[:2] == (DeliveryStatus.SENDING, 1)

    worker.kill()
    _let_the_dead_schedulers_lock_lapse(own_redis)
    start_process("worker", *FAST, mail_port=stalling_smtp.port)  # as its supervisor would

    def swept() -> bool:
        # The outbox sweep, which `flask kam cron` enqueues each minute: here, continuously.
        if queue.job_status("test-outbox-sweep") not in {JobStatus.QUEUED, JobStatus.STARTED}:
            queue.enqueue(outbox_jobs.reconcile, job_id="test-outbox-sweep", retry=None)
        return _delivery(db, message.id)[0] is DeliveryStatus.FAILED

    _wait_until(swept, 60, "the cut-short delivery failed")
    delivery_job = outbox.delivery_job_id(message.id)
    _wait_until(
        lambda: queue.job_status(delivery_job) is JobStatus.FINISHED,
        60,
        "RQ's retry of the abandoned delivery job",
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
    _wait_until(lambda: bool(own_redis.exists(SCHEDULER_LOCK)), 120, "the scheduler's lock")
    worker.kill()
    at = datetime.now(UTC) + timedelta(seconds=1)
    queue.enqueue(sample_jobs.record, "confirmation", job_id="sample-confirmation", at=at)
    replacement = start_process("worker", *FAST)
    _wait_until(
        lambda: any(w.pid == replacement.pid for w in Worker.all(connection=own_redis)),
        120,
        "the replacement worker registered",
    )
    time.sleep(3)  # its maintenance ran twice or more meanwhile
    assert own_redis.pttl(SCHEDULER_LOCK) > 0  # the dead scheduler's lock still holds...
    assert sample_jobs.labels(app) == []  # ...and the job waits

    _let_the_dead_schedulers_lock_lapse(own_redis)

    _wait_until(lambda: sample_jobs.labels(app) == ["confirmation"], 30, "the scheduled job")
    assert sample_jobs.runs(app)[0]["at"] >= at.timestamp()


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
