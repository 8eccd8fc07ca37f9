"""Job functions for the queue tests: importable by the worker, and leaving a trace.

Each run appends `{"label", "at"}` to a list in the queue's own Redis (real or in-process),
which the test reads back whichever thread or worker ran the job.
"""

from __future__ import annotations

import json
import os
import time

from flask import Flask
from rq import get_current_job
from sqlalchemy import func, select

from kamportal import queue
from kamportal.extensions import db
from kamportal.models import Team

RAN_KEY = "kam-tests:ran"


@queue.job
def record(label: str) -> str:
    """Note that the job labelled `label` ran, and when."""
    _note(label)
    return label


@queue.job
def linger(label: str, seconds: float) -> None:
    """Note `label`-started, take `seconds`, then note `label` (if Redis is there)."""
    _note(f"{label}-started")
    time.sleep(seconds)
    _note(label)


@queue.job
def cancel_itself() -> bool:
    """Try to cancel the job that is running this, and note whether that withdrew it."""
    current = get_current_job()
    assert current is not None
    withdrawn = queue.cancel(current.id)
    _note(f"withdrawn={withdrawn}")
    return withdrawn


@queue.job
def fail(reason: str) -> None:
    """Always fails, as a job does whose database or provider is down."""
    raise RuntimeError(reason)


@queue.job
def note_process(label: str) -> None:
    """Note the process that ran this, the one that built its app, and that the database
    answered it."""
    teams = db.session.scalar(select(func.count()).select_from(Team))
    _note(label, pid=os.getpid(), app_built_in=queue.worker_app_built_in(), teams=teams)


def _note(label: str, **details: object) -> None:
    entry = {"label": label, "at": time.time(), **details}
    queue.backend().connection.rpush(RAN_KEY, json.dumps(entry))


def runs(app: Flask) -> list[dict]:
    """Every run recorded so far, oldest first."""
    return [json.loads(item) for item in queue.backend(app).connection.lrange(RAN_KEY, 0, -1)]


def labels(app: Flask) -> list[str]:
    return [run["label"] for run in runs(app)]
