"""The not-selling sweep (entry point; the rule is in services/not_selling.py)."""

from __future__ import annotations

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.services import not_selling


@queue.job
def sweep_not_selling() -> tuple[int, int]:
    """Raise a not-selling alert for each live store that stopped selling and clear those
    of stores selling again (rule F4). Returns (raised, cleared). Idempotent: runs hourly
    from cron (`jobs/cron.py`), so each store is looked at within the hour after its own
    midnight."""
    result = not_selling.sweep(clock.now())
    db.session.commit()
    return result.raised, result.cleared
