"""The renewal sweeps (entry points; the rules are in services/renewals.py)."""

from __future__ import annotations

from kamportal.extensions import db
from kamportal.jobs import queue
from kamportal.services import clock, renewals


@queue.job
def open_due_renewals() -> int:
    """R1: open the renewal of every subscription due within 30 days, once per term.
    Returns how many were opened."""
    opened = renewals.open_due_renewals(today=clock.now().date())
    db.session.commit()
    return len(opened)


@queue.job
def send_invoice_reminders() -> int:
    """R4: remind the clients of unpaid invoices at their team's interval. Returns how
    many invoices were reminded."""
    reminded = renewals.send_invoice_reminders(now=clock.now())
    db.session.commit()
    return len(reminded)


@queue.job
def flag_late_wire_transfers() -> int:
    """R7: flag wire transfers still unconfirmed 4 days after they were reported, telling
    finance and the ACM once. Returns how many were flagged."""
    flagged = renewals.flag_late_wire_transfers(now=clock.now())
    db.session.commit()
    return len(flagged)
