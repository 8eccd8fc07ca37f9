"""WHMCS, the seed's billing system (BILLING_ADAPTER=whmcs): the renewal invoice is created
there and WHMCS emails it to the client (R3); the portal reads whether it is paid (R4) and
records the payments finance confirmed (R6, R7).

WHMCS's API is one address, `<WHMCS_URL>/includes/api.php`: a form-encoded POST carrying
an API credential (`identifier`, `secret`), the `action` and `responsetype=json`, answered
by `{"result": "success", ...}` or `{"result": "error", "message": ...}`. Parameter names
follow developers.whmcs.com/api-reference (CreateInvoice, GetInvoice, AddInvoicePayment).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from kamportal.billing import (
    BillingError,
    BillingRef,
    BillingStatus,
    InvoiceDraft,
    _amount_text,
    _check_draft,
    _currency,
)
from kamportal.config import ConfigError

log = logging.getLogger(__name__)

API_PATH = "/includes/api.php"
REQUIRED_SETTINGS = ("WHMCS_URL", "WHMCS_IDENTIFIER", "WHMCS_SECRET")
# A change WHMCS may have made before the answer was lost must not be made twice blindly
# (a second invoice would be emailed to the client).
_MAYBE_DONE = " It may have gone through: check in WHMCS before trying again."


class WhmcsBilling:
    """A client of WHMCS's API; one short-lived HTTP connection per call, so one adapter
    serves every thread and every forked worker."""

    name = "whmcs"

    def __init__(self, url: str, *, identifier: str, secret: str, timeout: float = 15.0) -> None:
        self.api_url = _api_url(url)
        self.timeout = timeout
        self._identifier = identifier
        self._secret = secret

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WhmcsBilling:
        """The adapter for the app's settings; ConfigError names what is missing or wrong."""
        missing = [name for name in REQUIRED_SETTINGS if not config.get(name)]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            raise ConfigError(
                f"BILLING_ADAPTER is 'whmcs' but {', '.join(missing)} {verb} not set. Set "
                "WHMCS_URL to the address of WHMCS and WHMCS_IDENTIFIER and WHMCS_SECRET to an "
                "API credential made in WHMCS's admin area, or set BILLING_ADAPTER=portal."
            )
        url = str(config["WHMCS_URL"])
        if not url.startswith(("https://", "http://")):
            raise ConfigError(f"WHMCS_URL must start with https://, not {url!r}")
        timeout = float(config.get("WHMCS_TIMEOUT") or 15)
        if timeout <= 0:
            raise ConfigError(f"WHMCS_TIMEOUT must be a number of seconds above 0, not {timeout}")
        return cls(
            url,
            identifier=str(config["WHMCS_IDENTIFIER"]),
            secret=str(config["WHMCS_SECRET"]),
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"WhmcsBilling({self.api_url!r})"

    def create_invoice(self, draft: InvoiceDraft) -> BillingRef:
        """Create the invoice in WHMCS, Unpaid, and have WHMCS email it to the client (R3).

        Returns WHMCS's invoice number (its `invoicenum`, else the invoice id) and the
        invoice id. Raises BillingError, before any call, for a client without a WHMCS
        account id or a draft not worth issuing; and for anything WHMCS refuses or fails.
        Once WHMCS has created the invoice this returns it: reading its number is best
        effort, so a failure there falls back to the invoice id instead of losing the
        invoice the client was just sent.
        """
        userid = (draft.billing_account_id or "").strip()
        if not userid:
            raise BillingError(
                "This client has no WHMCS account id: record the client's WHMCS account id in "
                "the portal, then create the invoice again."
            )
        if not userid.isdigit():
            raise BillingError(f"{userid!r} is not a WHMCS account id (a number).")
        _check_draft(draft)
        currency = _currency(draft.currency)
        fields = {
            "userid": userid,
            "status": "Unpaid",
            "sendinvoice": "1",
            "date": draft.issued_on.isoformat(),
            "duedate": draft.due_on.isoformat(),
        }
        if draft.notes:
            fields["notes"] = draft.notes
        for n, line in enumerate(draft.lines, start=1):
            fields[f"itemdescription{n}"] = line.description
            fields[f"itemamount{n}"] = _amount_text(line.amount, currency)
            # The amounts are what the client agreed (R2, R9): WHMCS adds no tax on top.
            fields[f"itemtaxed{n}"] = "0"
        answer = self._call("CreateInvoice", fields, what="create the invoice", changes=True)
        invoice_id = _id_from(answer.get("invoiceid"))
        if invoice_id is None:
            raise BillingError(
                "WHMCS said the invoice was created but did not say its invoice id." + _MAYBE_DONE
            )
        return BillingRef(number=self._number(invoice_id), external_id=invoice_id)

    def get_invoice(self, external_id: str) -> BillingStatus:
        """Whether WHMCS invoice `external_id` is paid and what is still owed (R4).

        Raises BillingError when WHMCS refuses (an unknown invoice), fails or cannot be
        reached.
        """
        invoice_id = _invoice_id(external_id)
        what = f"read invoice {invoice_id}"
        answer = self._call("GetInvoice", {"invoiceid": invoice_id}, what=what)
        status = answer.get("status")
        if not isinstance(status, str) or not status:
            raise BillingError(f"WHMCS did not say the status of invoice {invoice_id}.")
        balance = _decimal(answer.get("balance"), f"the balance of invoice {invoice_id}")
        return BillingStatus(paid=status == "Paid", balance=balance, status=status)

    def add_payment(
        self, external_id: str, *, amount: Decimal, transaction_id: str, gateway: str, paid_on: date
    ) -> None:
        """Record on WHMCS invoice `external_id` a payment finance confirmed (R6, R7):
        `amount`, the bank's or receipt's `transaction_id`, the WHMCS `gateway` (its system
        name, e.g. "banktransfer") and the day it was paid.

        The invoice's currency is WHMCS's: the amount is sent with the decimals it has.
        Raises BillingError when WHMCS refuses, fails or cannot be reached.
        """
        invoice_id = _invoice_id(external_id)
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
            raise BillingError(f"A payment must be an amount above zero, not {amount}.")
        if not transaction_id.strip():
            raise BillingError("A payment needs its transaction id (the bank's or receipt's).")
        if not gateway.strip():
            raise BillingError("A payment needs the WHMCS payment gateway it came through.")
        fields = {
            "invoiceid": invoice_id,
            "transid": transaction_id.strip(),
            "gateway": gateway.strip(),
            "amount": f"{amount:f}",
            # WHMCS documents this date as "YYYY-MM-DD HH:mm:ss"; the portal knows the day.
            "date": f"{paid_on.isoformat()} 00:00:00",
        }
        what = f"record the payment on invoice {invoice_id}"
        self._call("AddInvoicePayment", fields, what=what, changes=True)

    def _number(self, invoice_id: str) -> str:
        """The number the client sees: WHMCS's `invoicenum` when it numbers invoices
        itself, else the invoice id."""
        try:
            answer = self._call("GetInvoice", {"invoiceid": invoice_id}, what="read its number")
        except BillingError as error:
            log.warning(
                "WHMCS invoice %s was created but its number could not be read (%s); "
                "using the invoice id",
                invoice_id,
                error.message,
            )
            return invoice_id
        invoicenum = answer.get("invoicenum")
        if isinstance(invoicenum, str | int) and str(invoicenum).strip():
            return str(invoicenum).strip()
        return invoice_id

    def _call(
        self, action: str, fields: dict[str, str], *, what: str, changes: bool = False
    ) -> dict[str, Any]:
        """WHMCS's successful answer to `action`, or BillingError saying what went wrong.

        `what` completes "WHMCS could not ..."; `changes` says the action changes WHMCS, so
        a lost answer may hide a change that happened.
        """
        maybe_done = _MAYBE_DONE if changes else ""
        body = {
            "identifier": self._identifier,
            "secret": self._secret,
            "action": action,
            "responsetype": "json",
            **fields,
        }
        try:
            with httpx.Client(timeout=self.timeout) as http:
                response = http.post(self.api_url, data=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise BillingError(
                f"Could not reach WHMCS at {self.api_url} to {what} ({error}). Nothing was "
                "changed: try again later, or ask an administrator to check WHMCS_URL."
            ) from error
        except httpx.TimeoutException as error:
            raise BillingError(
                f"WHMCS did not answer within {self.timeout:g} seconds when asked to {what}."
                + maybe_done
            ) from error
        except httpx.HTTPError as error:
            raise BillingError(
                f"The connection to WHMCS failed while asking it to {what} "
                f"({error.__class__.__name__}: {error})." + maybe_done
            ) from error

        answer = _json_object(response.text)
        if answer is not None and answer.get("result") == "error":
            message = str(answer.get("message") or "no reason given").strip().rstrip(".")
            hint = ""
            if "authentication" in message.lower():
                hint = " Ask an administrator to check WHMCS_IDENTIFIER and WHMCS_SECRET."
            raise BillingError(f"WHMCS could not {what}: {message}.{hint}")
        if not response.is_success:
            code = response.status_code
            raise BillingError(
                f"WHMCS answered HTTP {code} {httpx.codes.get_reason_phrase(code)} when asked to "
                f"{what}." + maybe_done
            )
        if answer is None or answer.get("result") != "success":
            raise BillingError(
                f"WHMCS gave an answer the portal cannot read when asked to {what}: "
                f"{_excerpt(response.text)!r}." + maybe_done
            )
        return answer


def _api_url(url: str) -> str:
    url = url.strip().rstrip("/")
    return url if url.endswith(API_PATH) else url + API_PATH


def _json_object(text: str) -> dict[str, Any] | None:
    """The answer as a JSON object, amounts as Decimal (never float); None if it is not one."""
    try:
        value = json.loads(text, parse_float=Decimal)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _id_from(value: object) -> str | None:
    """A WHMCS id (a positive whole number, as JSON number or string) as a string."""
    if isinstance(value, bool):
        return None
    text = str(value).strip() if isinstance(value, int | str) else ""
    return text if text.isdigit() and int(text) > 0 else None


def _invoice_id(external_id: str) -> str:
    invoice_id = _id_from(external_id)
    if invoice_id is None:
        raise BillingError(f"{external_id!r} is not a WHMCS invoice id.")
    return invoice_id


def _decimal(value: object, what: str) -> Decimal:
    """An amount WHMCS sent ("12.500" or a JSON number, already a Decimal) as a Decimal."""
    if isinstance(value, Decimal | int | str) and not isinstance(value, bool):
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            pass
        else:
            if amount.is_finite():
                return amount
    raise BillingError(f"WHMCS did not give {what} as an amount (it sent {value!r}).")
