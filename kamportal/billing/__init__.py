"""The billing system, behind an adapter (rule R3): the renewal invoice is created and
emailed from the billing system, and the portal records it.

BILLING_ADAPTER chooses the adapter: "portal" (the default) numbers invoices itself, and
"whmcs" creates them in WHMCS, which emails them to the client. Adapters take plain data
(an `InvoiceDraft`), never models, so that a service, a job or the CLI can call them; a
failure is a `BillingError` whose message an ACM can act on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from flask import Flask, current_app

from kamportal.config import chosen_adapter
from kamportal.errors import DomainError
from kamportal.models.types import minor_unit

_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class InvoiceLineDraft:
    """One line of an invoice; `amount` is signed (a discount line, R9, is negative)."""

    description: str
    amount: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"an invoice line's amount is a Decimal, not {self.amount!r}")


@dataclass(frozen=True)
class InvoiceDraft:
    """An invoice the portal wants issued: its own row id, dates, currency and lines."""

    portal_id: int
    issued_on: date
    due_on: date
    currency: str
    lines: tuple[InvoiceLineDraft, ...]
    billing_account_id: str | None
    notes: str = ""


@dataclass(frozen=True)
class BillingRef:
    """Where an issued invoice lives: the number the client sees, the billing system's id."""

    number: str
    external_id: str | None


@dataclass(frozen=True)
class BillingStatus:
    """What the billing system says about an invoice (R4: followed until paid)."""

    paid: bool
    balance: Decimal
    status: str


class BillingError(DomainError):
    """The billing system refused, failed or could not be reached; nothing was recorded by
    the adapter, and the message says what happened in words an ACM can act on."""


class BillingAdapter(Protocol):
    name: str

    def create_invoice(self, draft: InvoiceDraft) -> BillingRef:
        """Issue the invoice (R3); raises BillingError."""
        ...

    def get_invoice(self, external_id: str) -> BillingStatus:
        """Whether the invoice is paid and what is still owed (R4); raises BillingError."""
        ...

    def add_payment(
        self, external_id: str, *, amount: Decimal, transaction_id: str, gateway: str, paid_on: date
    ) -> None:
        """Record a payment finance confirmed (R6, R7); raises BillingError."""
        ...


def billing_adapter(app: Flask | None = None) -> BillingAdapter:
    """The app's adapter, chosen by BILLING_ADAPTER ("portal", the default, or "whmcs"),
    built once per app (app.extensions).

    Raises ConfigError for an unknown adapter, or for "whmcs" without WHMCS_URL,
    WHMCS_IDENTIFIER and WHMCS_SECRET.
    """
    app = app or current_app
    return chosen_adapter(  # type: ignore[return-value]
        app.extensions, app.config, "BILLING_ADAPTER", _BUILDERS, key="kam_billing"
    )


def _check_draft(draft: InvoiceDraft) -> Decimal:
    """The draft's total, once it is an invoice worth issuing (R3); BillingError if not.

    Every adapter refuses the same drafts: no lines, a total of zero or less, a due date
    before the issue date, an amount finer than the currency's minor unit.
    """
    currency = _currency(draft.currency)
    if not draft.lines:
        raise BillingError("An invoice needs at least one line.")
    if draft.due_on < draft.issued_on:
        raise BillingError(
            f"The due date {draft.due_on.isoformat()} is before the invoice date "
            f"{draft.issued_on.isoformat()}."
        )
    for line in draft.lines:
        if not line.description.strip():
            raise BillingError("Every invoice line needs a description.")
        _amount_text(line.amount, currency)
    total = sum((line.amount for line in draft.lines), Decimal(0))
    if total <= 0:
        raise BillingError(
            f"The invoice total is {_amount_text(total, currency)} {currency}: an invoice "
            "must be for more than zero (check the discount lines)."
        )
    return total


def _currency(code: str) -> str:
    currency = (code or "").strip().upper()
    if not _CURRENCY_CODE.match(currency):
        raise BillingError(f"{code!r} is not a currency code (ISO 4217, e.g. EGP, SAR, KWD).")
    return currency


def _amount_text(amount: Decimal, currency: str) -> str:
    """`amount` written with exactly the minor unit of `currency` ("120.500" in KWD).

    An amount finer than the minor unit is refused rather than rounded: rounding one line
    would change the total the client agreed to (R2)."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise BillingError(f"{amount!r} is not an amount of money.")
    unit = minor_unit(currency)
    exact = amount.quantize(unit)
    if exact != amount:
        raise BillingError(
            f"The amount {amount} has more decimals than {currency} allows ({unit} is the "
            "smallest amount)."
        )
    return f"{exact:f}"


def _portal_billing(config: Mapping) -> BillingAdapter:
    from kamportal.billing.portal import PortalBilling

    return PortalBilling()


def _whmcs_billing(config: Mapping) -> BillingAdapter:
    from kamportal.billing.whmcs import WhmcsBilling

    return WhmcsBilling.from_config(config)


_BUILDERS = {"portal": _portal_billing, "whmcs": _whmcs_billing}
