"""The invoice reminder sweep (entry point; the rule is in services/invoices.py)."""

from __future__ import annotations

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.services import invoices


@queue.job
def send_invoice_reminders() -> int:
    """R4: remind the clients of unpaid invoices at their team's interval. Returns how
    many invoices were reminded."""
    reminded = invoices.send_invoice_reminders(now=clock.now())
    db.session.commit()
    return len(reminded)
