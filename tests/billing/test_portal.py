"""R3 with the portal's own numbering (BILLING_ADAPTER=portal, the default), and the
choice of adapter by setting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kamportal.billing import (
    BillingError,
    BillingRef,
    InvoiceDraft,
    InvoiceLineDraft,
    billing_adapter,
)
from kamportal.billing.portal import PortalBilling
from kamportal.config import ConfigError


def draft(*amounts: str, portal_id: int = 42, currency: str = "EGP", **fields) -> InvoiceDraft:
    values = {
        "portal_id": portal_id,
        "issued_on": date(2026, 11, 23),
        "due_on": date(2026, 12, 7),
        "currency": currency,
        "lines": tuple(
            InvoiceLineDraft(f"Line {n}", Decimal(amount)) for n, amount in enumerate(amounts, 1)
        ),
        "billing_account_id": None,
    }
    values.update(fields)
    return InvoiceDraft(**values)


def test_r3_portal_numbers_the_invoice_by_year_and_portal_id():
    ref = PortalBilling().create_invoice(draft("12000.00", portal_id=42))

    assert ref == BillingRef(number="INV-2026-000042", external_id=None)


def test_r3_portal_number_takes_the_year_of_the_invoice_date_and_never_cuts_the_id():
    ref = PortalBilling().create_invoice(
        draft("12000.00", portal_id=1234567, issued_on=date(2027, 1, 2), due_on=date(2027, 1, 9))
    )

    assert ref.number == "INV-2027-1234567"


def test_r9_portal_accepts_a_discount_line_when_the_total_is_above_zero():
    ref = PortalBilling().create_invoice(draft("12000.00", "3000.00", "-1500.00", portal_id=7))

    assert ref.number == "INV-2026-000007"


def test_r3_portal_refuses_an_invoice_without_lines():
    with pytest.raises(BillingError, match="at least one line"):
        PortalBilling().create_invoice(draft())


@pytest.mark.parametrize("amounts", [("1000.00", "-1000.00"), ("500.00", "-800.00"), ("0",)])
def test_r3_portal_refuses_an_invoice_whose_total_is_zero_or_less(amounts):
    with pytest.raises(BillingError, match="must be for more than zero"):
        PortalBilling().create_invoice(draft(*amounts))


def test_r3_portal_refuses_an_amount_finer_than_the_currency_allows():
    with pytest.raises(BillingError, match=r"more decimals than EGP allows \(0.01"):
        PortalBilling().create_invoice(draft("100.005"))


def test_r3_portal_refuses_a_due_date_before_the_invoice_date():
    with pytest.raises(BillingError, match="before the invoice date"):
        PortalBilling().create_invoice(draft("100.00", due_on=date(2026, 11, 1)))


def test_r3_portal_refuses_an_invoice_not_yet_saved():
    with pytest.raises(BillingError, match="saved in the portal"):
        PortalBilling().create_invoice(draft("100.00", portal_id=0))


def test_an_invoice_line_refuses_a_float_amount():
    with pytest.raises(TypeError, match="Decimal"):
        InvoiceLineDraft("Renewal", 12000.0)  # type: ignore[arg-type]


def test_r4_portal_has_no_billing_system_to_ask_about_an_invoice():
    with pytest.raises(BillingError, match="recorded and followed in the portal itself"):
        PortalBilling().get_invoice("INV-2026-000042")


def test_r6_portal_add_payment_does_nothing_the_portal_is_the_record():
    result = PortalBilling().add_payment(
        "INV-2026-000042",
        amount=Decimal("12000.00"),
        transaction_id="RCPT-1",
        gateway="cash",
        paid_on=date(2026, 12, 1),
    )

    assert result is None


def test_the_portal_adapter_is_the_default_and_built_once_per_app(app):
    adapter = billing_adapter(app)

    assert isinstance(adapter, PortalBilling)
    assert adapter.name == "portal"
    assert billing_adapter() is adapter


@pytest.mark.config(BILLING_ADAPTER="zoho")
def test_an_unknown_billing_adapter_fails_clearly_when_built(app):
    with pytest.raises(
        ConfigError, match="BILLING_ADAPTER must be 'portal' or 'whmcs', not 'zoho'"
    ):
        billing_adapter(app)
