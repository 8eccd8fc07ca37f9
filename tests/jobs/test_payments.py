"""The billing sync on a real RQ worker (Redis or the embedded queue), against a fake WHMCS
over HTTP: an invoice the client paid online there is recorded paid (R3/R4)."""

from decimal import Decimal

import pytest

from kamportal import queue
from kamportal.billing import billing_adapter
from kamportal.jobs import payments as payment_jobs
from kamportal.services import invoices
from kamportal.services.invoices import Fee
from tests.billing.conftest import whmcs_server  # noqa: F401 (a fixture)
from tests.services import renewal_world
from tests.services.renewal_world import NOW

# Nile Crafts, Mona Adel's client, on Monday 23 Nov 2026 (tests/services/renewal_world.py).
world = renewal_world.world


def test_an_invoice_paid_in_whmcs_is_recorded_paid_by_the_sync(
    app,
    db,
    world,
    run_jobs,
    whmcs_server,  # noqa: F811
):
    """R3/R4: the client paid online in WHMCS; the hourly sync records it and the renewal
    is paid. A WHMCS that does not answer fails the sweep (seen, retried) and changes
    nothing."""
    world["client"].billing_account_id = "7"
    db.session.commit()
    invoice = invoices.issue_invoice(
        world["client"], actor=world["acm"], fees=[Fee("Banner", "150.00")], due_on=NOW.date()
    )
    db.session.commit()
    whmcs_server.misbehave("http500", action="GetInvoice")
    with pytest.raises(RuntimeError, match="did not answer"):
        payment_jobs.sync_with_billing()
    assert invoice.status == "unpaid"
    assert payment_jobs.sync_with_billing() == 0  # still unpaid in WHMCS
    # The client pays in WHMCS, online.
    billing_adapter(app).add_payment(
        invoice.external_id,
        amount=Decimal("150.00"),
        transaction_id="paypal-123",
        gateway="paypal",
        paid_on=NOW.date(),
    )
    queue.enqueue(payment_jobs.sync_with_billing, job_id="test-sync")
    run_jobs()
    db.session.expire_all()
    assert db.session.get(type(invoice), invoice.id).status == "paid"
    assert payment_jobs.sync_with_billing() == 0
