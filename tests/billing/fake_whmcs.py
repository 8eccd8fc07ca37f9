"""A fake WHMCS, served for real on 127.0.0.1 so the real HTTP client talks to it (R3).

It speaks the three API calls the portal uses, as developers.whmcs.com/api-reference
describes them: a form-encoded POST to /includes/api.php with `identifier`, `secret`,
`action` and `responsetype=json`, answered with JSON `{"result": "success", ...}` or
`{"result": "error", "message": ...}`. Invoices live in memory. `misbehave()` makes the
next request (or the next one for an action) answer badly, as a real server sometimes does.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.local_server import LocalServer

API_PATH = "/includes/api.php"
TROUBLES = ("error", "http500", "not_json", "malformed", "slow", "answer")


@dataclass
class FakeInvoice:
    id: int
    userid: str
    date: str
    duedate: str
    notes: str
    items: list[dict[str, Any]]
    emailed: bool
    status: str = "Unpaid"
    invoicenum: str = ""
    datepaid: str = "0000-00-00 00:00:00"
    payments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((item["amount"] for item in self.items), Decimal(0))

    @property
    def balance(self) -> Decimal:
        return self.total - sum((p["amount"] for p in self.payments), Decimal(0))


@dataclass
class _Trouble:
    kind: str
    action: str | None
    message: str
    seconds: float
    body: dict[str, Any] | None


class FakeWhmcs(LocalServer):
    """The fake server: `start()` serves it, `requests` keeps every request's form fields,
    `invoices` what it holds; `number_prefix` makes it number invoices itself."""

    thread_name = "fake-whmcs"

    def __init__(
        self,
        *,
        identifier: str = "fake-identifier",
        secret: str = "fake-secret",
        clients: tuple[str, ...] = ("7",),
    ) -> None:
        super().__init__()
        self.identifier = identifier
        self.secret = secret
        self.clients = set(clients)
        self.invoices: dict[int, FakeInvoice] = {}
        self.requests: list[dict[str, str]] = []
        self.number_prefix: str | None = None
        self._ids = itertools.count(5001)
        self._troubles: list[_Trouble] = []
        self._lock = threading.Lock()

    def misbehave(
        self,
        kind: str,
        *,
        action: str | None = None,
        message: str = "Something went wrong in WHMCS",
        seconds: float = 2.0,
        body: dict[str, Any] | None = None,
    ) -> None:
        """Make the next request (for `action`, if given) answer badly, once:
        "error" an error answer with `message`; "http500" an HTML 500 page; "not_json" an
        HTML page with status 200; "malformed" a success answer without its fields; "slow"
        the normal answer after `seconds`; "answer" the JSON `body` as it is."""
        if kind not in TROUBLES:
            raise ValueError(f"unknown trouble {kind!r}; one of {TROUBLES}")
        with self._lock:
            self._troubles.append(_Trouble(kind, action, message, seconds, body))

    def actions(self) -> list[str]:
        """The action of every request received, in order."""
        with self._lock:
            return [r.get("action", "") for r in self.requests]

    def last(self, action: str) -> dict[str, str]:
        """The form fields of the last request for `action`."""
        with self._lock:
            return next(r for r in reversed(self.requests) if r.get("action") == action)

    # --- the API -------------------------------------------------------------------------

    def wsgi(self, environ, start_response):
        request = Request(environ)
        return self._respond(request)(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.path != API_PATH or request.method != "POST":
            return Response("Not Found", status=404, mimetype="text/plain")
        form = request.form.to_dict()
        with self._lock:
            self.requests.append(form)
            trouble = self._take_trouble(form.get("action"))
        if trouble is not None:
            if trouble.kind == "slow":
                self._stopping.wait(trouble.seconds)
            else:
                return _trouble_response(trouble)
        if form.get("identifier") != self.identifier or form.get("secret") != self.secret:
            # An error status with the JSON error: the client must read the message from both.
            return _json({"result": "error", "message": "Authentication Failed"}, status=403)
        if form.get("responsetype") != "json":
            return _json({"result": "error", "message": "responsetype must be json here"})
        handler = {
            "CreateInvoice": self._create_invoice,
            "GetInvoice": self._get_invoice,
            "AddInvoicePayment": self._add_invoice_payment,
        }.get(form.get("action", ""))
        if handler is None:
            return _json({"result": "error", "message": "Command Not Found"})
        with self._lock:
            return _json(handler(form))

    def _take_trouble(self, action: str | None) -> _Trouble | None:
        for i, trouble in enumerate(self._troubles):
            if trouble.action is None or trouble.action == action:
                return self._troubles.pop(i)
        return None

    def _create_invoice(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("userid") not in self.clients:
            return {"result": "error", "message": "Client ID Not Found"}
        items = []
        for n in itertools.count(1):
            if f"itemdescription{n}" not in form:
                break
            amount = _amount(form.get(f"itemamount{n}", ""))
            if amount is None:
                return {"result": "error", "message": f"Invalid amount for item {n}"}
            items.append(
                {
                    "description": form[f"itemdescription{n}"],
                    "amount": amount,
                    "taxed": form.get(f"itemtaxed{n}", "0") in {"1", "true", "on"},
                }
            )
        invoice_id = next(self._ids)
        invoice = FakeInvoice(
            id=invoice_id,
            userid=form["userid"],
            date=form.get("date", ""),
            duedate=form.get("duedate", ""),
            notes=form.get("notes", ""),
            items=items,
            emailed=form.get("sendinvoice") in {"1", "true", "on"},
            status=form.get("status", "Unpaid"),
        )
        if self.number_prefix is not None:
            invoice.invoicenum = f"{self.number_prefix}{invoice_id}"
        self.invoices[invoice_id] = invoice
        return {"result": "success", "invoiceid": invoice_id, "status": invoice.status}

    def _get_invoice(self, form: dict[str, str]) -> dict[str, Any]:
        invoice = self._find(form.get("invoiceid"))
        if invoice is None:
            return {"result": "error", "message": "Invoice ID Not Found"}
        total = f"{invoice.total:f}"
        return {
            "result": "success",
            "invoiceid": invoice.id,
            "invoicenum": invoice.invoicenum,
            "userid": int(invoice.userid),
            "date": invoice.date,
            "duedate": invoice.duedate,
            "datepaid": invoice.datepaid,
            "subtotal": total,
            "credit": "0.00",
            "tax": "0.00",
            "tax2": "0.00",
            "total": total,
            "balance": f"{invoice.balance:f}",
            "taxrate": "0.00",
            "taxrate2": "0.00",
            "status": invoice.status,
            "paymentmethod": "banktransfer",
            "notes": invoice.notes,
            "ccgateway": False,
            "items": {
                "item": [
                    {
                        "id": n,
                        "type": "",
                        "description": item["description"],
                        "amount": f"{item['amount']:f}",
                        "taxed": int(item["taxed"]),
                    }
                    for n, item in enumerate(invoice.items, start=1)
                ]
            },
            "transactions": (
                {"transaction": [dict(p, amountin=f"{p['amount']:f}") for p in invoice.payments]}
                if invoice.payments
                else ""
            ),
        }

    def _add_invoice_payment(self, form: dict[str, str]) -> dict[str, Any]:
        invoice = self._find(form.get("invoiceid"))
        if invoice is None:
            return {"result": "error", "message": "Invoice ID Not Found"}
        for required in ("transid", "gateway", "date"):
            if not form.get(required):
                return {"result": "error", "message": f"{required} is required"}
        amount = _amount(form["amount"]) if form.get("amount") else invoice.balance
        if amount is None:
            return {"result": "error", "message": "Invalid amount"}
        invoice.payments.append(
            {
                "transid": form["transid"],
                "gateway": form["gateway"],
                "date": form["date"],
                "amount": amount,
            }
        )
        if invoice.balance <= 0:
            invoice.status = "Paid"
            invoice.datepaid = form["date"]
        return {"result": "success"}

    def _find(self, invoice_id: str | None) -> FakeInvoice | None:
        if not invoice_id or not invoice_id.isdigit():
            return None
        return self.invoices.get(int(invoice_id))


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(payload, default=str), status=status, mimetype="application/json")


def _amount(text: str) -> Decimal | None:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _trouble_response(trouble: _Trouble) -> Response:
    if trouble.kind == "error":
        return _json({"result": "error", "message": trouble.message})
    if trouble.kind == "http500":
        return Response(
            "<html><body><h1>500 Internal Server Error</h1></body></html>",
            status=500,
            mimetype="text/html",
        )
    if trouble.kind == "not_json":
        return Response(
            "<html><head><title>Down for maintenance</title></head>"
            "<body>WHMCS is being upgraded</body></html>",
            status=200,
            mimetype="text/html",
        )
    if trouble.kind == "malformed":
        return _json({"result": "success"})
    # "answer": a body as given, e.g. amounts as JSON numbers.
    return Response(json.dumps(trouble.body), status=200, mimetype="application/json")
