"""The job queue: RQ on Redis in production, an embedded in-process queue otherwise.

With REDIS_URL set, jobs go to Redis and run on `flask kam worker` (an RQ worker with its
scheduler, jobs/worker.py); periodic sweeps are enqueued by `flask kam cron` from
`kamportal.jobs.cron`. Without it (`make demo`), jobs go to an in-process Redis
(fakeredis) and a worker thread runs them, scheduled and periodic ones included: the same
RQ code paths, no server to install.

Jobs are enqueued after the database commit that makes them needed
(`enqueue_after_commit`), under deterministic ids so a reschedule can replace one and a
reconciler can re-create one that Redis lost.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import fakeredis
from flask import Flask, current_app, has_app_context
from redis import Redis
from rq import Queue, Retry, SimpleWorker
from rq.cron import CronScheduler
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from rq.timeouts import TimerDeathPenalty
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

log = logging.getLogger(__name__)

QUEUE_NAME = "kamportal"
# Transient failures (SMTP down, provider busy): retry with growing waits, then fail visibly.
DEFAULT_RETRY = Retry(max=4, interval=[10, 60, 300, 900])
_JOB_ID = re.compile(r"[A-Za-z0-9_-]+")
_PENDING_KEY = "kam_jobs_after_commit"
# How long a failed job's record is kept, for a person to look at.
FAILURE_TTL = 30 * 86400
# Jobs enqueued, or looked up, together in one round trip to Redis.
ENQUEUE_BATCH = 500
# Statuses of a job that will still run (or is running): the others are history.
_WAITING = frozenset({JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED})

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
    """Give `app` its queue: Redis at REDIS_URL, else a fresh in-process (embedded) one."""
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
    if not _JOB_ID.fullmatch(job_id):
        raise ValueError(f"job id {job_id!r}: letters, digits, '-' and '_' only")
    return job_id


def _run_at(at: datetime) -> datetime:
    """`at` in UTC, rounded up to the second.

    RQ reads a naive datetime as server-local time, so one is refused. It also stores the
    schedule in whole seconds rounded down, which would run a job up to a second early.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("enqueue at a naive datetime: RQ would read it as server-local time")
    at = at.astimezone(UTC)
    if at.microsecond:
        at = at.replace(microsecond=0) + timedelta(seconds=1)
    return at


def job_status(job_id: str, *, app: Flask | None = None) -> JobStatus | None:
    """What RQ knows of job `job_id` (queued, scheduled, started, finished, failed...), or None."""
    try:
        return Job.fetch(job_id, connection=get_queue(app).connection).get_status()
    except (NoSuchJobError, InvalidJobOperation):
        return None


def enqueue(
    func: str | Callable[..., Any],
    *args: Any,
    job_id: str,
    at: datetime | None = None,
    retry: Retry | None = DEFAULT_RETRY,
    app: Flask | None = None,
) -> Job:
    """Enqueue `func(*args)` now, or at the aware instant `at` (never earlier), as `job_id`.

    A job of the same id still waiting is replaced (a reschedule); one running now is not
    interrupted, so a job must re-read the database and return early when no longer wanted.
    Raises ValueError for a job id with characters other than letters, digits, `-`, `_`,
    or a naive `at`, before anything is changed.
    """
    _check_job_id(job_id)
    run_at = None if at is None else _run_at(at)
    queue = get_queue(app)
    cancel(job_id, app=app)
    options: dict[str, Any] = {"job_id": job_id, "retry": retry, "failure_ttl": FAILURE_TTL}
    if run_at is None:
        return queue.enqueue(func, *args, **options)
    return queue.enqueue_at(run_at, func, *args, **options)


def cancel(job_id: str, *, app: Flask | None = None) -> bool:
    """Withdraw job `job_id` if it is still waiting (queued or scheduled); True if it was.

    A running job is left alone (it re-reads the database and sees it is no longer wanted);
    the record of a finished or failed one is deleted, so the id starts afresh.
    """
    queue = get_queue(app)
    try:
        job = Job.fetch(job_id, connection=queue.connection)
        status = job.get_status()
    except (NoSuchJobError, InvalidJobOperation):
        return False
    if status is JobStatus.STARTED:
        return False
    job.delete()
    return status in _WAITING


# A job in one of these states will still run, or is running.
WILL_RUN = _WAITING | {JobStatus.STARTED}


@dataclass(frozen=True)
class Owed:
    """A job the database says is owed (the reconcilers' unit): its deterministic id, what
    to run, and when; `due_at` None means "whenever its queue gets to it"."""

    job_id: str
    func: str
    args: tuple[Any, ...]
    due_at: datetime | None = None


def reconcile(
    owed: Iterable[Owed],
    *,
    now: datetime,
    run_due: Callable[[Owed], object] | None = None,
    session: Any = None,
    what: str = "jobs",
) -> int:
    """Re-create what Redis lost, or what no worker ran; returns how many it acted on.

    A job due later is scheduled again at its time unless it will still run. One already
    due runs now unless a worker is at it (queued or running; a job still "scheduled" past
    its time waits for a scheduler that did not run): in this process through `run_due`,
    each committed on `session` on its own, so one that fails holds back no other (the
    sweep raises once the rest are done), or else enqueued now. One due "whenever" is
    enqueued unless it will still run (its retry may be scheduled). Idempotent: the cron
    sweeps call it every few minutes.

    What Redis knows of the jobs is read a few hundred at a time (after an outage thousands
    may be owed), and read again just before acting on one.
    """
    owed = list(owed)
    seen = job_statuses([job.job_id for job in owed])
    acted, failed = 0, []
    for job in owed:
        if _needs_nothing(job, seen[job.job_id], now):
            continue
        status = job_status(job.job_id)
        if _needs_nothing(job, status, now):
            continue
        if job.due_at is None or job.due_at > now:
            if status in WILL_RUN:
                continue
            enqueue(job.func, *job.args, job_id=job.job_id, at=job.due_at)
        elif run_due is None:
            enqueue(job.func, *job.args, job_id=job.job_id)
        else:
            try:
                run_due(job)
                session.commit()
            except Exception:
                session.rollback()
                log.exception("%s: the due job could not run", job.job_id)
                failed.append(job.job_id)
                continue
        acted += 1
    if acted:
        log.info("%s %s enqueued again or run", acted, what)
    if failed:
        raise RuntimeError(f"{what} {failed}: the due job could not run")
    return acted


def _needs_nothing(job: Owed, status: JobStatus | None, now: datetime) -> bool:
    """Whether owed `job`, whose job is at `status`, will run without the reconciler."""
    if job.due_at is None or job.due_at > now:
        return status in WILL_RUN
    return status in (JobStatus.QUEUED, JobStatus.STARTED)


def job_statuses(job_ids: list[str], *, app: Flask | None = None) -> dict[str, JobStatus | None]:
    """`job_status` of each of `job_ids`, a few hundred in one round trip to Redis."""
    connection = get_queue(app).connection
    statuses: dict[str, JobStatus | None] = {}
    for start in range(0, len(job_ids), ENQUEUE_BATCH):
        batch = job_ids[start : start + ENQUEUE_BATCH]
        for job_id, job in zip(batch, Job.fetch_many(batch, connection=connection), strict=True):
            statuses[job_id] = None if job is None else job.get_status(refresh=False)
    return statuses


def scheduled_at(job_id: str, *, app: Flask | None = None) -> datetime | None:
    """When scheduled job `job_id` will be enqueued (aware UTC), or None if not scheduled."""
    try:
        return ScheduledJobRegistry(queue=get_queue(app)).get_scheduled_time(job_id)
    except NoSuchJobError:
        return None


@dataclass(frozen=True)
class _PendingJob:
    func: str | Callable[..., Any]
    args: tuple[Any, ...]
    job_id: str
    at: datetime | None
    retry: Retry | None
    # The savepoint it was registered in, if any: rolling that back withdraws it.
    savepoint: SessionTransaction | None
    # Its id was never used (a new row's): no job to replace, so it goes in a batch.
    new: bool = False


def enqueue_after_commit(
    session: Session | scoped_session[Session],
    func: str | Callable[..., Any],
    *args: Any,
    job_id: str,
    at: datetime | None = None,
    retry: Retry | None = DEFAULT_RETRY,
) -> None:
    """Enqueue (as `enqueue`) once `session`'s transaction commits; nothing if it rolls back.

    The job then always finds the rows it needs. Only the outermost commit enqueues; a job
    registered inside a savepoint that rolls back is dropped. If Redis is unreachable at
    that moment the commit still stands and a reconciler sweep enqueues the job later.
    Raises ValueError now, not at commit, for a bad job id or a naive `at`.
    """
    _check_job_id(job_id)
    if at is not None:
        _run_at(at)
    if isinstance(session, scoped_session):
        session = session()
    pending = _PendingJob(func, args, job_id, at, retry, session.get_nested_transaction())
    session.info.setdefault(_PENDING_KEY, []).append(pending)


def enqueue_new_after_commit(
    session: Session | scoped_session[Session],
    func: str,
    calls: Iterable[tuple[str, tuple[Any, ...]]],
    *,
    retry: Retry | None = DEFAULT_RETRY,
) -> None:
    """Enqueue `func(*args)` now for each `(job_id, args)` of `calls` once `session`'s
    transaction commits, as `enqueue_after_commit` does, in a few round trips to Redis.

    For ids never used before (a job per row a sweep just wrote): there is no waiting job
    of the same id to replace, so none is looked for. Raises ValueError for a bad job id.
    """
    if isinstance(session, scoped_session):
        session = session()
    savepoint = session.get_nested_transaction()
    session.info.setdefault(_PENDING_KEY, []).extend(
        _PendingJob(func, args, _check_job_id(job_id), None, retry, savepoint, new=True)
        for job_id, args in calls
    )


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    # after_commit also fires when a savepoint is released: the outer transaction may still
    # roll back, so wait for the outermost commit.
    if session.in_nested_transaction():
        return
    pending: list[_PendingJob] = session.info.pop(_PENDING_KEY, [])
    # The last registration of an id wins, as a second `enqueue` would replace the first.
    jobs = list({job.job_id: job for job in pending}.values())
    for job in jobs:
        if job.new:
            continue
        try:
            enqueue(job.func, *job.args, job_id=job.job_id, at=job.at, retry=job.retry)
        except Exception:
            log.exception("could not enqueue %s; the reconciler will retry", job.job_id)
    new = [job for job in jobs if job.new]
    for start in range(0, len(new), ENQUEUE_BATCH):
        batch = new[start : start + ENQUEUE_BATCH]
        try:
            get_queue().enqueue_many(
                [
                    Queue.prepare_data(
                        job.func,
                        job.args,
                        job_id=job.job_id,
                        retry=job.retry,
                        failure_ttl=FAILURE_TTL,
                    )
                    for job in batch
                ]
            )
        except Exception:
            log.exception(
                "could not enqueue %s and %s more; the reconciler will retry",
                batch[0].job_id,
                len(batch) - 1,
            )


@event.listens_for(Session, "after_soft_rollback")
def _forget_savepoint_jobs(session: Session, previous_transaction: SessionTransaction) -> None:
    pending: list[_PendingJob] | None = session.info.get(_PENDING_KEY)
    if previous_transaction.nested and pending:
        pending[:] = [j for j in pending if not _within(j.savepoint, previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without its commit having enqueued them (rolled back
    # or closed): forget them.
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


# How a worker process builds its app: set by the package (kamportal/__init__.py), which
# every job's import loads first. `flask kam worker` builds it once, before it forks a
# work horse per job, and every horse inherits it (jobs/worker.py); elsewhere it is built
# on the first job.
app_factory: Callable[[], Flask] | None = None
_worker_app: Flask | None = None
_worker_app_pid: int | None = None


def use_worker_app(app: Flask) -> None:
    """Run jobs outside a request in `app`, in this process and the ones it forks."""
    global _worker_app, _worker_app_pid
    _worker_app, _worker_app_pid = app, os.getpid()


def worker_app() -> Flask:
    """The app jobs run in outside a request: this process's, built by `app_factory` once.

    Raises RuntimeError if kamportal was not imported (it sets the factory).
    """
    if _worker_app is None:
        if app_factory is None:
            raise RuntimeError("no app factory: import kamportal before running its jobs")
        use_worker_app(app_factory())
    assert _worker_app is not None
    return _worker_app


def worker_app_built_in() -> int | None:
    """The id of the process that built the jobs' app (a fork inherits it), if built."""
    return _worker_app_pid


def _app_for_job() -> Flask:
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    return worker_app()


def settle_abandoned_jobs(*, app: Flask | None = None) -> None:
    """Let RQ settle the jobs whose worker died while running them.

    A running job's worker renews its heartbeat every few seconds; once it has lapsed
    (the worker was killed, its machine lost), RQ retries the job if it has retries left,
    else fails it, so it no longer reads as running. Workers do this at their maintenance;
    a sweep that must know what is really running calls it first.
    """
    StartedJobRegistry(queue=get_queue(app)).cleanup()


def job(func: Callable[P, R]) -> Callable[P, R]:
    """Run an RQ entry point in its own app context and database session.

    A fresh context gives the job its own session, so it re-reads what the request
    committed. On error the exception reaches RQ (retries); leaving the context removes
    the session (Flask-SQLAlchemy's teardown), which rolls back what was not committed.
    """

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with _app_for_job().app_context():
            return func(*args, **kwargs)

    return run


class InProcessWorker(SimpleWorker):
    """An RQ worker for bursts inside a host process: a web server's thread, tests, the CLI.

    Job timeouts use a timer instead of SIGALRM, and the host keeps its own SIGINT/SIGTERM
    handlers: Python delivers signals to the main thread only, and handlers RQ installed
    would outlive a burst and swallow the host's Ctrl+C. It does not listen for `rq`
    commands: that needs a thread per burst, whose shutdown can cost a second.
    """

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        """Leave the host process's signal handlers alone."""

    def subscribe(self) -> None:
        """No command channel: a burst is over before a command could matter."""


def _burst(app: Flask) -> None:
    """Move due scheduled jobs onto the queue, then run the queue dry, in this thread.

    In burst mode RQ's scheduler runs in-process (one pass), which also reaches an
    in-process Redis; only a long-running worker starts it in a child process.
    """
    queue = get_queue(app)
    worker = InProcessWorker([queue], connection=queue.connection)
    with app.app_context():
        worker.work(burst=True, with_scheduler=True, logging_level="WARNING")


class EmbeddedWorker:
    """Runs queued, scheduled and periodic jobs in a thread of the web process (`make demo`).

    RQ's own scheduler and cron run in child processes, which cannot see an in-process
    Redis, so one thread drives the cron entries, a scheduler pass and a worker burst in
    turn, every `poll_seconds`.
    """

    def __init__(self, app: Flask, *, poll_seconds: float = 0.5) -> None:
        self.app = app
        self.poll_seconds = poll_seconds
        self._cron: CronScheduler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        """Enqueue due cron entries and scheduled jobs, then run every queued job."""
        if self._cron is not None:
            self._cron.enqueue_jobs()
        _burst(self.app)

    def start(self, *, cron_entries: Iterable[dict[str, Any]] = ()) -> None:
        """Start the thread; the periodic sweeps `cron_entries` (as `jobs/cron.py` lists
        them for `CronScheduler.register`) run too.

        Raises RuntimeError if it is already running.
        """
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the embedded worker is already running")
        self._cron = None
        entries = list(cron_entries)
        if entries:
            self._cron = CronScheduler(connection=backend(self.app).connection)
            for entry in entries:
                self._cron.register(**entry)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="kam-embedded-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop the thread after the job it is running, waiting up to `timeout` seconds."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("embedded worker pass failed")
            self._stop.wait(self.poll_seconds)


def start_embedded_worker(
    app: Flask, *, cron_entries: Iterable[dict[str, Any]] = (), poll_seconds: float = 0.5
) -> EmbeddedWorker:
    """Start the in-process worker (`make demo`), with the periodic sweeps `cron_entries`;
    only for the embedded queue.

    Raises RuntimeError when REDIS_URL is set: `flask kam worker` runs the jobs.
    """
    current = backend(app)
    if not current.embedded:
        raise RuntimeError("REDIS_URL is set: run `flask kam worker` instead")
    worker = EmbeddedWorker(app, poll_seconds=poll_seconds)
    worker.start(cron_entries=cron_entries)
    current.worker = worker
    return worker


def run_worker_burst(app: Flask) -> None:
    """Run every job that is due now, on either backend, then return (tests, CLI).

    Scheduled jobs and retries whose time has come are enqueued first; ones not yet due
    stay scheduled. Cron entries are not run: call the sweep itself.
    """
    _burst(app)
