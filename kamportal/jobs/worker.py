"""The job processes on Redis (README, Processes): `flask kam worker` runs the jobs and
the scheduled ones, `flask kam cron` enqueues the periodic sweeps.

A worker builds the app once, then forks a work horse per job (RQ's model: a job that
crashes or hangs takes only its horse down), and each horse inherits that app instead of
building its own (0.5 to 0.9 s a job).

What a crash costs follows from the worker's timings (the defaults below):
- a job whose worker died reads as running until its heartbeat lapses,
  `job_monitoring_interval + heartbeat_grace` seconds after the last one; a live worker's
  maintenance (every `maintenance_interval`, between waits for jobs of at most
  `worker_ttl - 15` seconds) then retries it, or fails it when its retries are spent.
  A delivery cut short is failed for a person to check by the outbox sweep (jobs/outbox.py);
- a dead worker's scheduler keeps its lock for RQ's fixed 60 s; a live worker then takes
  the scheduling over at its next maintenance.

Both processes survive Redis going away. The cron process retries with a growing wait,
then carries on, and a sweep that fell due meanwhile runs once. A worker that loses Redis
in the middle of a job (RQ then gives up and quits) waits the same way and starts again;
the job it was running is settled by the maintenance above.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from collections.abc import Iterator, Sequence
from typing import Any

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.cron import CronScheduler
from rq.exceptions import StopRequested
from rq.job import Job

from kamportal import queue
from kamportal.extensions import db

# Seconds. A running job's heartbeat is renewed every JOB_MONITORING_INTERVAL and lapses
# HEARTBEAT_GRACE later (RQ's own grace is 60 s): its worker's death shows within 30 s.
JOB_MONITORING_INTERVAL = 10
HEARTBEAT_GRACE = 20
# Registries cleaned (abandoned jobs retried or failed) and a lapsed scheduler lock taken
# over this often, RQ's default being 10 minutes. A worker checks between its waits for
# a job, which last WORKER_TTL - 15 s: 15 s.
MAINTENANCE_INTERVAL = 15
WORKER_TTL = 30

# The waits of the cron process and of a worker while Redis is away: 1 s, doubling up to
# 30 s.
RETRY_FIRST = 1.0
RETRY_MAX = 30.0

log = logging.getLogger(__name__)


class KamWorker(Worker):
    """An RQ worker (a forked work horse per job) whose horses inherit one app, with the
    timings above. `app` is the app to run jobs in (built from the environment if None)."""

    def __init__(
        self,
        queues: Sequence[Queue | str],
        *,
        app: Flask | None = None,
        job_monitoring_interval: int = JOB_MONITORING_INTERVAL,
        heartbeat_grace: int = HEARTBEAT_GRACE,
        maintenance_interval: int = MAINTENANCE_INTERVAL,
        worker_ttl: int = WORKER_TTL,
        **options: Any,
    ) -> None:
        super().__init__(
            queues,
            job_monitoring_interval=job_monitoring_interval,
            maintenance_interval=maintenance_interval,
            worker_ttl=worker_ttl,
            **options,
        )
        self.heartbeat_grace = heartbeat_grace
        self.stop_asked = False
        self.redis_lost = False
        if app is not None:
            queue.use_worker_app(app)
        # Built here, in the parent: every work horse forked later inherits it.
        self.app = queue.worker_app()

    def get_heartbeat_ttl(self, job: Job) -> int:
        """RQ's heartbeat TTL with `heartbeat_grace` in place of its fixed 60 s (RQ's
        SimpleWorker overrides it too)."""
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            interval = min(interval, job.timeout - self.current_job_working_time)
        return max(int(interval), 1) + self.heartbeat_grace

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        # A forked horse must not use the database connections its parent may hold
        # (SQLAlchemy, "Using Connection Pools with Multiprocessing"): it forgets them,
        # unclosed, and opens its own.
        with self.app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)
        super().main_work_horse(job, queue)

    def request_stop(self, signum: int, frame: Any) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)

    # RQ retries a dequeue while Redis is away, but quits when Redis fails it during a
    # job, a heartbeat or maintenance: these note it, for run_worker to start again.
    def execute_job(self, job: Job, queue: Queue) -> None:
        with self._noting_redis_loss():
            super().execute_job(job, queue)

    def heartbeat(self, *args: Any, **kwargs: Any) -> None:
        with self._noting_redis_loss():
            super().heartbeat(*args, **kwargs)

    def run_maintenance_tasks(self) -> None:
        with self._noting_redis_loss():
            super().run_maintenance_tasks()

    @contextlib.contextmanager
    def _noting_redis_loss(self) -> Iterator[None]:
        try:
            yield
        except RedisError:
            self.redis_lost = True
            raise


def run_worker(app: Flask, *, burst: bool = False, **timings: int) -> bool:
    """Run `app`'s jobs from Redis, its scheduled ones included, until asked to stop (or,
    with `burst`, until none is due); `timings` override the defaults above. A worker that
    loses Redis in the middle of a job waits for it and starts again.

    Returns True when it stopped as asked (SIGTERM, SIGINT) or its burst is done, False
    when RQ gave up on another error: its supervisor then starts it again. Raises
    redis.exceptions.RedisError if Redis cannot be reached at start.
    """
    connection = queue.backend(app).connection
    while True:
        worker = KamWorker([queue.get_queue(app)], connection=connection, app=app, **timings)
        try:
            worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
        except RedisError:
            # The worker's farewell (its death noted in Redis) failed too.
            if not worker.redis_lost:
                raise
        if burst or worker.stop_asked:
            return True
        if not worker.redis_lost:
            return False
        log.warning("Worker %s: Redis lost in the middle of a job", worker.name)
        if not wait_for_redis(connection):
            return True


def wait_for_redis(connection: Redis) -> bool:
    """Wait (1 s, doubling up to 30 s) until `connection`'s Redis answers: True when it
    does, False when SIGTERM or SIGINT asked the process to stop meanwhile."""

    def stop(signum: int, frame: Any) -> None:
        raise StopRequested()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    wait = RETRY_FIRST
    try:
        while True:
            try:
                connection.ping()
            except RedisError as error:
                log.warning("Redis unreachable (%s); trying again in %.0f s", error, wait)
                time.sleep(wait)
                wait = min(wait * 2, RETRY_MAX)
                continue
            log.info("Redis is back")
            return True
    except StopRequested:
        return False


class KamCronScheduler(CronScheduler):
    """RQ's cron scheduler (`rq cron`), which keeps going while Redis is away.

    RQ's own exits on the first Redis error, and every sweep stops until someone starts
    it again. This one logs, waits for Redis as a worker does (`wait_for_redis`) and
    carries on where it was: a sweep that fell due during the outage runs once when Redis
    is back.
    """

    def start(self) -> None:
        self.log.info("CronScheduler %s: starting...", self.name)
        self._install_signal_handlers()
        registered = False
        try:
            while True:
                try:
                    if not registered:
                        self.register_birth()
                        registered = True
                    if self.enqueue_jobs():
                        self.save()
                    self.heartbeat()
                except RedisError as error:
                    self.log.warning("CronScheduler %s: Redis unreachable (%s)", self.name, error)
                    if not wait_for_redis(self.connection):
                        raise StopRequested() from None
                    self._install_signal_handlers()  # the wait had its own
                    continue
                pause = self.calculate_sleep_interval()
                if pause > 0:
                    time.sleep(pause)
        except (KeyboardInterrupt, StopRequested):
            self.log.info("CronScheduler %s: stop requested", self.name)
        finally:
            with contextlib.suppress(RedisError):
                self.register_death()
            self.log.info("CronScheduler %s: shutdown complete", self.name)


def run_cron(app: Flask, *, config: str = "kamportal.jobs.cron") -> None:
    """Enqueue the periodic sweeps registered by module `config` (`rq.cron.register`, as
    `rq cron` reads them) on `app`'s Redis, until SIGTERM or SIGINT."""
    # Timeouts, so that a Redis gone silent (not only refusing) is noticed and retried.
    connection = Redis.from_url(
        app.config["REDIS_URL"], socket_connect_timeout=5, socket_timeout=15
    )
    scheduler = KamCronScheduler(connection=connection)
    scheduler.load_config_from_file(config)
    scheduler.start()
