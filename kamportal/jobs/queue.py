"""The job queue: RQ on Redis in production, an embedded in-process queue otherwise.

With REDIS_URL set, jobs go to Redis and run on `rq worker --with-scheduler`; periodic
sweeps run from `rq cron kamportal.jobs.cron`. Without it (`make demo`), jobs go to an
in-process Redis (fakeredis) and a worker thread runs them, scheduled and periodic ones
included: the same RQ code paths, no server to install.

Jobs are enqueued after the database commit that makes them needed
(`enqueue_after_commit`), under deterministic ids so a reschedule can replace one and a
reconciler can re-create one that Redis lost.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import fakeredis
from flask import Flask, current_app, has_app_context
from redis import Redis
from rq import Queue, Retry, SimpleWorker
from rq.cron import CronScheduler
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler
from rq.timeouts import TimerDeathPenalty
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

QUEUE_NAME = "kamportal"
# Transient failures (SMTP down, provider busy): retry with growing waits, then fail visibly.
DEFAULT_RETRY = Retry(max=4, interval=[10, 60, 300, 900])
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_PENDING_KEY = "kam_jobs_after_commit"

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class QueueBackend:
    """One app's queue: a Redis connection (real or in-process) and, when embedded, its worker."""

    connection: Redis
    embedded: bool
    worker: EmbeddedWorker | None = None

    @property
    def queue(self) -> Queue:
        return Queue(QUEUE_NAME, connection=self.connection)


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    if url:
        backend = QueueBackend(Redis.from_url(url), embedded=False)
    else:
        backend = QueueBackend(fakeredis.FakeRedis(server=fakeredis.FakeServer()), embedded=True)
    app.extensions["kam_queue"] = backend


def backend(app: Flask | None = None) -> QueueBackend:
    return (app or current_app).extensions["kam_queue"]


def get_queue(app: Flask | None = None) -> Queue:
    return backend(app).queue


def _check_job_id(job_id: str) -> str:
    if not _JOB_ID.match(job_id):
        raise ValueError(f"job id {job_id!r}: letters, digits, '-' and '_' only")
    return job_id


def enqueue(
    func: str | Callable[..., Any],
    *args: Any,
    job_id: str,
    at: datetime | None = None,
    retry: Retry | None = DEFAULT_RETRY,
    app: Flask | None = None,
) -> Job:
    """Enqueue now, or at the aware instant `at`. The same `job_id` replaces a waiting job."""
    queue = get_queue(app)
    _check_job_id(job_id)
    cancel(job_id, app=app)
    options: dict[str, Any] = {"job_id": job_id, "retry": retry, "failure_ttl": 30 * 86400}
    if at is None:
        return queue.enqueue(func, *args, **options)
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("enqueue at a naive datetime: RQ would read it as server-local time")
    return queue.enqueue_at(at, func, *args, **options)


def cancel(job_id: str, *, app: Flask | None = None) -> bool:
    """Withdraw a waiting or scheduled job; True if there was one."""
    queue = get_queue(app)
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return False
    if job.is_started:
        return False  # running now: it re-reads the database and sees it is no longer wanted
    job.delete()
    return True


def scheduled_at(job_id: str, *, app: Flask | None = None) -> datetime | None:
    """When a scheduled job will be enqueued, or None if it is not scheduled."""
    queue = get_queue(app)
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return None
    return ScheduledJobRegistry(queue=queue).get_scheduled_time(job)


@dataclass
class _PendingJob:
    func: str | Callable[..., Any]
    args: tuple[Any, ...]
    job_id: str
    at: datetime | None
    retry: Retry | None = field(default=DEFAULT_RETRY)


def enqueue_after_commit(
    session: Session,
    func: str | Callable[..., Any],
    *args: Any,
    job_id: str,
    at: datetime | None = None,
    retry: Retry | None = DEFAULT_RETRY,
) -> None:
    """Enqueue once `session` commits; nothing is enqueued if it rolls back.

    The job then always finds the rows it needs. If Redis is unreachable at that moment
    the commit still stands and the reconciler sweep enqueues the job later.
    """
    _check_job_id(job_id)
    session.info.setdefault(_PENDING_KEY, {})[job_id] = _PendingJob(func, args, job_id, at, retry)


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    pending: dict[str, _PendingJob] = session.info.pop(_PENDING_KEY, {})
    for job in pending.values():
        try:
            enqueue(job.func, *job.args, job_id=job.job_id, at=job.at, retry=job.retry)
        except Exception:
            log.exception("could not enqueue %s; the reconciler will retry", job.job_id)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, previous_transaction) -> None:
    session.info.pop(_PENDING_KEY, None)


# The app used by `rq worker` processes, created on first use from the environment.
_worker_app: Flask | None = None


def _app_for_job() -> Flask:
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _worker_app is None:
        from kamportal import create_app

        _worker_app = create_app()
    return _worker_app


def job(func: Callable[P, R]) -> Callable[P, R]:
    """Run an RQ entry point in its own app context and database session.

    A fresh context gives the job its own session, so it re-reads what the request
    committed. On error the session rolls back and the exception reaches RQ (retries).
    """

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        from kamportal.extensions import db

        with _app_for_job().app_context():
            try:
                return func(*args, **kwargs)
            except BaseException:
                db.session.rollback()
                raise

    return run


class EmbeddedWorker:
    """Runs queued, scheduled and periodic jobs in a thread of the web process.

    RQ's own scheduler runs in a child process, which cannot see an in-process Redis,
    so one thread drives the scheduler, the cron entries and a SimpleWorker in turn.
    """

    def __init__(self, app: Flask, *, poll_seconds: float = 0.5) -> None:
        self.app = app
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        """Move due scheduled jobs and cron entries onto the queue, then run the queue dry."""
        conn = backend(self.app).connection
        queue = get_queue(self.app)
        scheduler = RQScheduler([queue], connection=conn)
        scheduler.acquire_locks()
        scheduler.enqueue_scheduled_jobs()
        scheduler.release_locks()
        if self._cron is not None:
            self._cron.enqueue_jobs()
        worker = SimpleWorker([queue], connection=conn)
        worker.death_penalty_class = TimerDeathPenalty
        with self.app.app_context():
            worker.work(burst=True, logging_level="WARNING")

    def start(self, *, with_cron: bool = True) -> None:
        self._cron = None
        if with_cron:
            from kamportal.jobs import cron

            self._cron = CronScheduler(connection=backend(self.app).connection)
            for entry in cron.entries():
                self._cron.register(**entry)
        self._thread = threading.Thread(target=self._loop, name="kam-embedded-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("embedded worker pass failed")
            self._stop.wait(self.poll_seconds)

    _cron: CronScheduler | None = None


def start_embedded_worker(app: Flask) -> EmbeddedWorker:
    """Start the in-process worker (`make demo`); only for the embedded queue."""
    current = backend(app)
    if not current.embedded:
        raise RuntimeError("REDIS_URL is set: run `rq worker --with-scheduler` instead")
    worker = EmbeddedWorker(app)
    worker.start()
    current.worker = worker
    return worker


def run_worker_burst(app: Flask) -> None:
    """Run every job that is due now, on either backend, then return (tests, CLI)."""
    if backend(app).embedded:
        EmbeddedWorker(app).run_once()
        return
    queue = get_queue(app)
    worker = SimpleWorker([queue], connection=queue.connection)
    with app.app_context():
        worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
