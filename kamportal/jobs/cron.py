"""Periodic sweeps: `rq cron kamportal.jobs.cron` in production, the embedded worker otherwise.

Cron strings are UTC. Run one cron process; every entry is idempotent.
"""

from __future__ import annotations

from typing import Any

from rq import cron

from kamportal.jobs.queue import QUEUE_NAME


def entries() -> list[dict[str, Any]]:
    """Every periodic job, as keyword arguments for `CronScheduler.register`."""
    from kamportal.jobs import outbox

    return [
        # Re-enqueue outbox messages whose delivery job Redis lost (e.g. enqueued while down).
        {"func": outbox.reconcile, "queue_name": QUEUE_NAME, "interval": 300},
    ]


for _entry in entries():
    cron.register(**_entry)
