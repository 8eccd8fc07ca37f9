"""The job queue with real parts: RQ workers on a real Redis and on the embedded queue.

Every test that takes `mode` runs twice: on the embedded queue (fakeredis, driven by
`EmbeddedWorker.run_once`) and on a real Redis (REDIS_URL, else db 2 on localhost, driven
by `run_worker_burst`). House style, "Jobs (RQ)" and "Known pitfalls".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from flask import Flask
from rq.job import JobStatus
from rq.registry import FinishedJobRegistry, ScheduledJobRegistry

from kamportal import clock, queue
from kamportal.jobs import cron
from kamportal.models import Team
from tests.conftest import service_missing, wait_until
from tests.jobs import sample_jobs

HOUR = timedelta(hours=1)
REDIS_TEST_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/2"


def _use_queue(app: Flask, redis_url: str | None) -> None:
    app.config["REDIS_URL"] = redis_url
    queue.init_app(app)


@pytest.fixture(params=["embedded", "redis"])
def mode(request, app) -> Iterator[str]:
    """The queue backend of this run of the test: "embedded" or "redis"."""
    if request.param == "embedded":
        _use_queue(app, None)
        yield request.param
        return
    _use_queue(app, REDIS_TEST_URL)
    connection = queue.backend(app).connection
    try:
        connection.flushdb()
    except redis.exceptions.ConnectionError as error:
        service_missing(f"Redis at {REDIS_TEST_URL} ({error.__class__.__name__})")
    yield request.param
    connection.flushdb()


@pytest.fixture
def run_pass(app, mode) -> Callable[[], None]:
    """One worker pass: due scheduled jobs are enqueued, then every queued job runs."""
    if mode == "embedded":
        return queue.EmbeddedWorker(app).run_once
    return lambda: queue.run_worker_burst(app)


def test_scheduled_job_runs_at_its_time_and_not_before(app, run_pass, queue_clock):
    """A job scheduled ~2 s ahead runs once, at its instant, on both backends; RQ's
    scheduler reads the controlled clock."""
    # A fraction of .9 s: RQ keeps schedules in whole seconds rounded down, so without the
    # rounding up in `enqueue` this job would run up to 0.9 s early.
    at = clock.now() + timedelta(seconds=2.9)
    queue.enqueue(sample_jobs.record, "later", job_id="sample-later", at=at)
    assert queue.job_status("sample-later") is JobStatus.SCHEDULED
    assert queue.scheduled_at("sample-later") >= at

    run_pass()
    clock.advance(timedelta(seconds=2.95))  # past `at`, before its whole second
    run_pass()
    assert sample_jobs.runs(app) == []
    clock.advance(timedelta(seconds=0.05))
    run_pass()

    assert sample_jobs.labels(app) == ["later"]
    assert queue.job_status("sample-later") is JobStatus.FINISHED
    assert queue.scheduled_at("sample-later") is None


def test_embedded_worker_thread_runs_jobs_and_sweeps_by_itself(app, queue_clock):
    """`make demo`'s worker thread runs an immediate job, a scheduled one and the cron
    sweeps without help, and stops when asked."""
    _use_queue(app, None)
    worker = queue.start_embedded_worker(app, cron_entries=cron.entries(), poll_seconds=0.1)
    try:
        assert worker.running
        queue.enqueue(sample_jobs.record, "soon", job_id="sample-soon", at=clock.now() + HOUR)
        queue.enqueue(sample_jobs.record, "now", job_id="sample-now")
        wait_until(lambda: sample_jobs.labels(app), seconds=6, what="the job enqueued now")
        clock.advance(HOUR)
        wait_until(lambda: len(sample_jobs.labels(app)) == 2, seconds=6, what="the scheduled job")
    finally:
        worker.stop()

    assert not worker.running
    assert sample_jobs.labels(app) == ["now", "soon"]
    finished = FinishedJobRegistry(queue=queue.get_queue(app))
    swept = [job.func_name for job in map(queue.get_queue(app).fetch_job, finished.get_job_ids())]
    assert "kamportal.jobs.outbox.reconcile" in swept


def test_embedded_worker_is_refused_on_redis(app, mode):
    if mode == "redis":
        with pytest.raises(RuntimeError, match="REDIS_URL"):
            queue.start_embedded_worker(app)
    else:
        queue.start_embedded_worker(app).stop()


def test_same_job_id_replaces_the_waiting_job(app, run_pass):
    """A reschedule under the same deterministic id: only the newest job runs."""
    now = datetime.now(UTC)
    queue.enqueue(
        sample_jobs.record, "first", job_id="sample-meeting-1", at=now + timedelta(hours=1)
    )
    moved = now.replace(microsecond=0) + timedelta(hours=2)
    queue.enqueue(sample_jobs.record, "moved", job_id="sample-meeting-1", at=moved)
    registry = ScheduledJobRegistry(queue=queue.get_queue(app))
    assert registry.get_job_ids() == ["sample-meeting-1"]
    assert queue.scheduled_at("sample-meeting-1") == moved

    queue.enqueue(sample_jobs.record, "now", job_id="sample-meeting-1")
    assert queue.scheduled_at("sample-meeting-1") is None
    assert registry.count == 0
    run_pass()
    run_pass()

    assert sample_jobs.labels(app) == ["now"]


def test_cancel_withdraws_waiting_jobs(app, run_pass):
    queue.enqueue(sample_jobs.record, "queued", job_id="sample-queued")
    # Already due: without the cancel, the next pass would run it.
    due = datetime.now(UTC) - timedelta(seconds=1)
    queue.enqueue(sample_jobs.record, "scheduled", job_id="sample-scheduled", at=due)

    assert queue.cancel("sample-queued") is True
    assert queue.cancel("sample-scheduled") is True
    assert queue.cancel("sample-scheduled") is False
    assert queue.cancel("sample-never-enqueued") is False
    assert queue.job_status("sample-queued") is None
    assert queue.scheduled_at("sample-scheduled") is None
    run_pass()

    assert sample_jobs.labels(app) == []


def test_cancel_leaves_a_running_job_alone(app, run_pass):
    """A job cannot be withdrawn while it runs: it re-reads the database instead."""
    queue.enqueue(sample_jobs.cancel_itself, job_id="sample-running")
    run_pass()

    assert sample_jobs.labels(app) == ["withdrawn=False"]
    assert queue.job_status("sample-running") is JobStatus.FINISHED


def test_naive_datetime_is_refused_and_changes_nothing(app, db, mode):
    """RQ would read a naive datetime as server-local time (Known pitfalls)."""
    at = datetime.now(UTC) + timedelta(hours=1)
    queue.enqueue(sample_jobs.record, "kept", job_id="sample-naive", at=at)

    with pytest.raises(ValueError, match="naive"):
        queue.enqueue(sample_jobs.record, "x", job_id="sample-naive", at=datetime.now())
    with pytest.raises(ValueError, match="naive"):
        queue.enqueue_after_commit(
            db.session, sample_jobs.record, "x", job_id="sample-naive", at=datetime.now()
        )
    db.session.commit()

    assert queue.job_status("sample-naive") is JobStatus.SCHEDULED
    assert queue.scheduled_at("sample-naive") is not None


@pytest.mark.parametrize(
    "job_id", ["", "meeting 1", "meeting:1", "meeting/1", "meeting-1\n", "réunion-1", "a.b"]
)
def test_job_ids_with_other_characters_are_refused(app, db, mode, job_id):
    """Job ids: letters, digits, `-` and `_` only (house style, Jobs)."""
    with pytest.raises(ValueError, match="job id"):
        queue.enqueue(sample_jobs.record, "x", job_id=job_id)
    with pytest.raises(ValueError, match="job id"):
        queue.enqueue_after_commit(db.session, sample_jobs.record, "x", job_id=job_id)

    assert queue.get_queue(app).count == 0


def _write_something(db, name: str) -> None:
    db.session.add(Team(name=name, country="EG", timezone="Africa/Cairo"))
    db.session.flush()


def test_enqueue_after_commit_waits_for_the_commit(app, db, run_pass):
    _write_something(db, "Commit team")
    queue.enqueue_after_commit(db.session, sample_jobs.record, "committed", job_id="sample-commit")
    db.session.flush()
    assert queue.job_status("sample-commit") is None

    db.session.commit()

    assert queue.job_status("sample-commit") is JobStatus.QUEUED
    run_pass()
    assert sample_jobs.labels(app) == ["committed"]


def test_enqueue_after_commit_enqueues_nothing_after_a_rollback(app, db, run_pass):
    _write_something(db, "Rollback team")
    queue.enqueue_after_commit(db.session, sample_jobs.record, "lost", job_id="sample-rollback")
    db.session.rollback()
    _write_something(db, "Later team")
    db.session.commit()
    run_pass()

    assert queue.job_status("sample-rollback") is None
    assert sample_jobs.labels(app) == []


def test_enqueue_after_commit_waits_for_the_outermost_commit(app, db, run_pass):
    """A released savepoint enqueues nothing yet; a rolled-back one withdraws its own jobs."""
    _write_something(db, "Outer team")
    queue.enqueue_after_commit(db.session, sample_jobs.record, "outer", job_id="sample-outer")
    with db.session.begin_nested():
        _write_something(db, "Kept team")
        queue.enqueue_after_commit(db.session, sample_jobs.record, "kept", job_id="sample-kept")
    assert queue.job_status("sample-kept") is None
    savepoint = db.session.begin_nested()
    _write_something(db, "Dropped team")
    queue.enqueue_after_commit(db.session, sample_jobs.record, "dropped", job_id="sample-drop")
    savepoint.rollback()
    assert queue.job_status("sample-outer") is None

    db.session.commit()
    run_pass()

    assert sorted(sample_jobs.labels(app)) == ["kept", "outer"]
    assert queue.job_status("sample-drop") is None


def test_a_reconciler_schedules_what_is_ahead_and_runs_what_is_due_one_failure_apart(
    app, db, frozen_clock
):
    """The reconcilers' one helper: a job due later is scheduled again at its time; the due
    ones run here, each committed on its own, so the one that fails holds back no other
    and the sweep still fails, naming it."""
    from sqlalchemy import select

    from kamportal import clock

    now = clock.now()
    ran = []

    def run(job: queue.Owed) -> None:
        (n,) = job.args
        if n == 2:
            raise ValueError("broken")
        db.session.add(Team(name=f"T{n}", country="EG", timezone="Africa/Cairo"))
        ran.append(n)

    due = now - timedelta(minutes=1)
    owed = [queue.Owed(f"owed-{n}", "tests.jobs.sample_jobs.record", (n,), due) for n in (1, 2, 3)]
    later = queue.Owed(
        "owed-4", "tests.jobs.sample_jobs.record", ("later",), now + timedelta(hours=1)
    )
    with pytest.raises(RuntimeError, match="owed-2"):
        queue.reconcile([*owed, later], now=now, run_due=run, session=db.session, what="tests")
    assert ran == [1, 3]
    assert sorted(db.session.scalars(select(Team.name))) == ["T1", "T3"]
    assert queue.scheduled_at("owed-4") == later.due_at
    # Run again: the job ahead is left as it is, scheduled once.
    assert queue.reconcile([later], now=now, what="tests") == 0
