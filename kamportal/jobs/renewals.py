"""The renewal sweep (entry point; the rule is in services/renewals.py). The invoice
reminders are in jobs/invoices.py, the wire-transfer flag and the billing sync in
jobs/payments.py."""

from __future__ import annotations

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.services import renewals


@queue.job
def open_due_renewals() -> int:
    """R1: open the renewal of every subscription due within 30 days of the client's
    today, once per term. Returns how many were opened."""
    opened = renewals.open_due_renewals(now=clock.now())
    db.session.commit()
    return len(opened)
