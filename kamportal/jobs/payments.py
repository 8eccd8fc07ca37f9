"""The payment sweeps (entry points; the rules are in services/payments.py): the wire
transfers unconfirmed after 4 days, and the invoices paid online in the billing system."""

from __future__ import annotations

import logging

from kamportal import clock, queue
from kamportal.billing import BillingError
from kamportal.extensions import db
from kamportal.models import Invoice
from kamportal.services import payments

log = logging.getLogger(__name__)


@queue.job
def flag_late_wire_transfers() -> int:
    """R7: flag wire transfers still unconfirmed 4 days after they were reported, telling
    finance and the ACM once. Returns how many were flagged."""
    flagged = payments.flag_late_wire_transfers(now=clock.now())
    db.session.commit()
    return len(flagged)


@queue.job
def sync_with_billing() -> int:
    """R3/R4: ask the billing system (WHMCS) about each unpaid invoice it holds and record
    the ones the client paid online there. One invoice the billing system cannot answer
    for does not hold back the others; the sweep still fails at the end, so it is seen
    and retried. Returns how many were found paid."""
    paid, failed = 0, []
    for invoice_id in payments.invoices_held_by_billing():
        try:
            if payments.sync_with_billing(db.session.get(Invoice, invoice_id)):
                paid += 1
            db.session.commit()
        except BillingError as error:
            db.session.rollback()
            log.warning("invoice %s: the billing system did not answer: %s", invoice_id, error)
            failed.append(invoice_id)
    if failed:
        raise RuntimeError(f"invoices {failed}: the billing system did not answer")
    return paid
