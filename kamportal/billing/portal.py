"""The portal's own numbering (BILLING_ADAPTER=portal, the default): for a team whose
billing system is not connected, the portal is the invoice's record (R3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from kamportal.billing import BillingError, BillingRef, BillingStatus, InvoiceDraft, _check_draft


class PortalBilling:
    """Numbers invoices INV-<year>-<portal id, 6 digits>; there is no outside system to ask."""

    name = "portal"

    def create_invoice(self, draft: InvoiceDraft) -> BillingRef:
        """The number of the portal's invoice row `draft.portal_id` (R3), e.g. INV-2026-000042.

        Raises BillingError for a draft with no lines or a total of zero or less.
        """
        _check_draft(draft)
        if draft.portal_id <= 0:
            raise BillingError("The invoice must be saved in the portal before it is numbered.")
        return BillingRef(
            number=f"INV-{draft.issued_on.year}-{draft.portal_id:06d}", external_id=None
        )

    def get_invoice(self, external_id: str) -> BillingStatus:
        """Always raises BillingError: the portal's own invoices are followed in the portal
        (R4), where finance records their payments (R6, R7)."""
        raise BillingError(
            "Invoices numbered by the portal are not in a billing system: their payments are "
            "recorded and followed in the portal itself."
        )

    def add_payment(
        self, external_id: str, *, amount: Decimal, transaction_id: str, gateway: str, paid_on: date
    ) -> None:
        """Nothing to do: the portal's own payment records are the record (R6, R7)."""
