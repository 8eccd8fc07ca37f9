"""R3 through WHMCS (BILLING_ADAPTER=whmcs): the real HTTP client against a fake WHMCS
served on a local port; R4 reads whether the invoice is paid, R6/R7 record payments."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest

from kamportal.billing import (
    BillingError,
    BillingStatus,
    InvoiceDraft,
    InvoiceLineDraft,
    billing_adapter,
)
from kamportal.billing.whmcs import WhmcsBilling
from kamportal.config import ConfigError
from tests.conftest import free_port


def kwd_draft(**fields) -> InvoiceDraft:
    """A renewal and a customization paid together (R8) with the quotation's discount (R9),
    in a three-decimal currency."""
    values = {
        "portal_id": 42,
        "issued_on": date(2026, 11, 23),
        "due_on": date(2026, 12, 7),
        "currency": "KWD",
        "lines": (
            InvoiceLineDraft("Enterprise plan renewal 2027", Decimal("1200.5")),
            InvoiceLineDraft("Customization: loyalty module", Decimal("300.250")),
            InvoiceLineDraft("Discount (quotation Q-2026-118)", Decimal("-150.000")),
        ),
        "billing_account_id": "7",
        "notes": "Renewal for 2027",
    }
    values.update(fields)
    return InvoiceDraft(**values)


def one_line(amount: str, currency: str) -> InvoiceDraft:
    return kwd_draft(
        currency=currency, lines=(InvoiceLineDraft("Renewal", Decimal(amount)),), notes=""
    )


# --- choosing the adapter -------------------------------------------------------------------


def test_the_whmcs_adapter_is_chosen_by_the_setting_and_built_once(app, whmcs_server):
    adapter = billing_adapter(app)

    assert isinstance(adapter, WhmcsBilling)
    assert adapter.name == "whmcs"
    assert adapter.api_url == f"{whmcs_server.url}/includes/api.php"
    assert billing_adapter(app) is adapter


@pytest.mark.config(BILLING_ADAPTER="whmcs")
def test_whmcs_chosen_without_its_settings_fails_clearly_when_built(app):
    with pytest.raises(
        ConfigError, match="WHMCS_URL, WHMCS_IDENTIFIER, WHMCS_SECRET are not set"
    ) as error:
        billing_adapter(app)

    assert "BILLING_ADAPTER=portal" in str(error.value)
    assert "kam_billing" not in app.extensions


@pytest.mark.config(
    BILLING_ADAPTER="whmcs", WHMCS_URL="https://billing.example", WHMCS_IDENTIFIER="id"
)
def test_whmcs_without_its_secret_names_the_missing_setting(app):
    with pytest.raises(ConfigError, match="WHMCS_SECRET is not set"):
        billing_adapter(app)


def test_the_secret_does_not_show_in_the_adapter(app, whmcs_server):
    assert whmcs_server.secret not in repr(billing_adapter(app))


# --- CreateInvoice ----------------------------------------------------------------------------


def test_r3_create_invoice_sends_every_line_in_the_currency_minor_unit(app, whmcs_server):
    ref = billing_adapter(app).create_invoice(kwd_draft())

    (invoice_id,) = whmcs_server.invoices
    assert ref.external_id == str(invoice_id)
    assert ref.number == str(invoice_id)  # this WHMCS does not number invoices itself
    sent = whmcs_server.last("CreateInvoice")
    assert sent["identifier"] == whmcs_server.identifier
    assert sent["responsetype"] == "json"
    assert sent["userid"] == "7"
    assert sent["status"] == "Unpaid"
    assert sent["sendinvoice"] == "1"  # WHMCS emails it to the client (R3)
    assert sent["date"] == "2026-11-23"
    assert sent["duedate"] == "2026-12-07"
    assert sent["notes"] == "Renewal for 2027"
    assert sent["itemdescription1"] == "Enterprise plan renewal 2027"
    assert sent["itemamount1"] == "1200.500"
    assert sent["itemdescription2"] == "Customization: loyalty module"
    assert sent["itemamount2"] == "300.250"
    assert sent["itemdescription3"] == "Discount (quotation Q-2026-118)"
    assert sent["itemamount3"] == "-150.000"  # R9: the discount shows on the invoice
    assert [sent[f"itemtaxed{n}"] for n in (1, 2, 3)] == ["0", "0", "0"]
    assert "itemdescription4" not in sent
    invoice = whmcs_server.invoices[invoice_id]
    assert invoice.total == Decimal("1350.750")
    assert invoice.emailed
    assert whmcs_server.actions() == ["CreateInvoice", "GetInvoice"]


@pytest.mark.parametrize(
    ("currency", "amount", "sent"),
    [("KWD", "12.5", "12.500"), ("EGP", "12000", "12000.00"), ("JPY", "5000", "5000")],
)
def test_r3_amounts_are_written_with_exactly_the_currency_minor_unit(
    app, whmcs_server, currency, amount, sent
):
    billing_adapter(app).create_invoice(one_line(amount, currency))

    assert whmcs_server.last("CreateInvoice")["itemamount1"] == sent


def test_r3_the_number_is_whmcs_own_invoice_number_when_it_has_one(app, whmcs_server):
    whmcs_server.number_prefix = "KAM-2026-"

    ref = billing_adapter(app).create_invoice(kwd_draft())

    assert ref.number == f"KAM-2026-{ref.external_id}"


def test_r3_an_invoice_created_in_whmcs_is_returned_even_if_its_number_cannot_be_read(
    app, whmcs_server
):
    """The client has been emailed the invoice: losing it would make a retry send a second."""
    whmcs_server.misbehave("http500", action="GetInvoice")

    ref = billing_adapter(app).create_invoice(kwd_draft())

    assert ref.number == ref.external_id
    assert int(ref.external_id) in whmcs_server.invoices


@pytest.mark.parametrize("account", [None, "", "  "])
def test_r3_a_client_without_a_whmcs_account_is_refused_before_any_request(
    app, whmcs_server, account
):
    with pytest.raises(BillingError, match="This client has no WHMCS account id: "):
        billing_adapter(app).create_invoice(kwd_draft(billing_account_id=account))

    assert whmcs_server.requests == []


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"lines": ()}, "at least one line"),
        (
            {
                "lines": (
                    InvoiceLineDraft("Renewal", Decimal("100")),
                    InvoiceLineDraft("Discount", Decimal("-100")),
                )
            },
            "more than zero",
        ),
        ({"lines": (InvoiceLineDraft("Renewal", Decimal("10.0005")),)}, "more decimals than KWD"),
        ({"billing_account_id": "seven"}, "not a WHMCS account id"),
    ],
)
def test_r3_a_draft_not_worth_issuing_is_refused_before_any_request(
    app, whmcs_server, changes, error
):
    with pytest.raises(BillingError, match=error):
        billing_adapter(app).create_invoice(kwd_draft(**changes))

    assert whmcs_server.requests == []


# --- GetInvoice and AddInvoicePayment -------------------------------------------------------


def test_r4_an_unpaid_invoice_shows_what_is_still_owed(app, whmcs_server):
    adapter = billing_adapter(app)
    ref = adapter.create_invoice(kwd_draft())

    status = adapter.get_invoice(ref.external_id)

    assert status == BillingStatus(paid=False, balance=Decimal("1350.750"), status="Unpaid")
    assert isinstance(status.balance, Decimal)
    assert whmcs_server.last("GetInvoice")["invoiceid"] == ref.external_id


def test_r7_a_payment_in_two_parts_makes_the_invoice_paid(app, whmcs_server):
    adapter = billing_adapter(app)
    ref = adapter.create_invoice(kwd_draft())

    adapter.add_payment(
        ref.external_id,
        amount=Decimal("1000.000"),
        transaction_id="WIRE-8841",
        gateway="banktransfer",
        paid_on=date(2026, 12, 1),
    )
    sent = whmcs_server.last("AddInvoicePayment")
    assert sent["invoiceid"] == ref.external_id
    assert sent["transid"] == "WIRE-8841"
    assert sent["gateway"] == "banktransfer"
    assert sent["amount"] == "1000.000"
    assert sent["date"] == "2026-12-01 00:00:00"
    assert adapter.get_invoice(ref.external_id) == BillingStatus(
        paid=False, balance=Decimal("350.750"), status="Unpaid"
    )

    adapter.add_payment(
        ref.external_id,
        amount=Decimal("350.750"),
        transaction_id="WIRE-8852",
        gateway="banktransfer",
        paid_on=date(2026, 12, 3),
    )

    status = adapter.get_invoice(ref.external_id)
    assert status.paid
    assert status.status == "Paid"
    assert status.balance == Decimal("0")


def test_r4_amounts_in_the_answer_are_read_as_decimal_never_float(app, whmcs_server):
    """WHMCS may send an amount as a JSON number: 0.1 must stay 0.1, not 0.1000000000000000055."""
    whmcs_server.misbehave(
        "answer",
        action="GetInvoice",
        body={"result": "success", "status": "Unpaid", "balance": 0.1},
    )

    status = billing_adapter(app).get_invoice("5001")

    assert status.balance == Decimal("0.1")
    assert str(status.balance) == "0.1"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"amount": Decimal("0")}, "above zero"),
        ({"amount": Decimal("-5")}, "above zero"),
        ({"transaction_id": " "}, "transaction id"),
        ({"gateway": ""}, "payment gateway"),
    ],
)
def test_r6_a_payment_that_cannot_be_recorded_is_refused_before_any_request(
    app, whmcs_server, kwargs, error
):
    payment = {
        "amount": Decimal("10.000"),
        "transaction_id": "RCPT-1",
        "gateway": "banktransfer",
        "paid_on": date(2026, 12, 1),
    }
    payment.update(kwargs)

    with pytest.raises(BillingError, match=error):
        billing_adapter(app).add_payment("5001", **payment)

    assert whmcs_server.requests == []


def test_an_id_that_is_not_a_whmcs_invoice_id_is_refused_before_any_request(app, whmcs_server):
    with pytest.raises(BillingError, match="'INV-2026-000042' is not a WHMCS invoice id"):
        billing_adapter(app).get_invoice("INV-2026-000042")

    assert whmcs_server.requests == []


# --- failures: each one a BillingError that says what WHMCS said ---------------------------


def test_r3_whmcs_refusing_the_invoice_says_why(app, whmcs_server):
    with pytest.raises(BillingError) as error:
        billing_adapter(app).create_invoice(kwd_draft(billing_account_id="999"))

    assert error.value.message == "WHMCS could not create the invoice: Client ID Not Found."
    assert whmcs_server.invoices == {}


def test_an_error_answer_carries_whmcs_message(app, whmcs_server):
    whmcs_server.misbehave("error", message="Invalid Tax Rate")

    with pytest.raises(BillingError, match="WHMCS could not create the invoice: Invalid Tax Rate"):
        billing_adapter(app).create_invoice(kwd_draft())

    assert whmcs_server.invoices == {}


def test_r4_an_unknown_invoice_says_so(app, whmcs_server):
    with pytest.raises(BillingError, match="could not read invoice 9999: Invoice ID Not Found"):
        billing_adapter(app).get_invoice("9999")


def test_r6_a_payment_on_an_unknown_invoice_says_so(app, whmcs_server):
    with pytest.raises(
        BillingError, match="could not record the payment on invoice 9999: Invoice ID Not Found"
    ):
        billing_adapter(app).add_payment(
            "9999",
            amount=Decimal("10.000"),
            transaction_id="RCPT-1",
            gateway="banktransfer",
            paid_on=date(2026, 12, 1),
        )


def test_wrong_credentials_say_authentication_failed_without_showing_the_secret(whmcs_server):
    adapter = WhmcsBilling(
        whmcs_server.url, identifier=whmcs_server.identifier, secret="not-the-secret-4711"
    )

    with pytest.raises(BillingError) as error:
        adapter.create_invoice(kwd_draft())

    assert "WHMCS could not create the invoice: Authentication Failed." in error.value.message
    assert "WHMCS_IDENTIFIER and WHMCS_SECRET" in error.value.message
    assert "not-the-secret-4711" not in error.value.message
    assert whmcs_server.invoices == {}


def test_an_http_error_status_says_so_and_that_it_may_have_gone_through(app, whmcs_server):
    whmcs_server.misbehave("http500")

    with pytest.raises(BillingError) as error:
        billing_adapter(app).create_invoice(kwd_draft())

    assert "WHMCS answered HTTP 500 Internal Server Error when asked to create the invoice" in (
        error.value.message
    )
    assert "check in WHMCS before trying again" in error.value.message


def test_an_answer_that_is_not_json_is_an_error_quoting_it(app, whmcs_server):
    whmcs_server.misbehave("not_json", action="GetInvoice")

    with pytest.raises(BillingError) as error:
        billing_adapter(app).get_invoice("5001")

    assert "WHMCS gave an answer the portal cannot read when asked to read invoice 5001" in (
        error.value.message
    )
    assert "Down for maintenance" in error.value.message


def test_a_success_answer_without_the_invoice_id_is_an_error(app, whmcs_server):
    whmcs_server.misbehave("malformed", action="CreateInvoice")

    with pytest.raises(
        BillingError, match=r"did not say its invoice id\. It may have gone through"
    ):
        billing_adapter(app).create_invoice(kwd_draft())


def test_a_success_answer_without_the_status_is_an_error(app, whmcs_server):
    whmcs_server.misbehave("malformed", action="GetInvoice")

    with pytest.raises(BillingError, match="did not say the status of invoice 5001"):
        billing_adapter(app).get_invoice("5001")


def test_an_answer_with_a_balance_that_is_not_an_amount_is_an_error(app, whmcs_server):
    whmcs_server.misbehave(
        "answer", body={"result": "success", "status": "Unpaid", "balance": "n/a"}
    )

    with pytest.raises(BillingError, match="did not give the balance of invoice 5001 as an amount"):
        billing_adapter(app).get_invoice("5001")


def test_whmcs_unreachable_is_an_error_saying_nothing_changed(app, whmcs_server):
    app.config["WHMCS_URL"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    app.extensions.pop("kam_billing", None)

    with pytest.raises(BillingError) as error:
        billing_adapter(app).create_invoice(kwd_draft())

    assert error.value.message.startswith("Could not reach WHMCS at http://127.0.0.1:")
    assert "to create the invoice" in error.value.message
    assert "Nothing was changed" in error.value.message
    assert whmcs_server.requests == []


@pytest.mark.config(WHMCS_TIMEOUT=0.3)
def test_whmcs_too_slow_is_an_error_after_the_timeout(app, whmcs_server):
    whmcs_server.misbehave("slow", seconds=3)

    started = time.monotonic()
    with pytest.raises(BillingError) as error:
        billing_adapter(app).create_invoice(kwd_draft())

    assert time.monotonic() - started < 2
    assert "WHMCS did not answer within 0.3 seconds when asked to create the invoice" in (
        error.value.message
    )
    assert "It may have gone through: check in WHMCS before trying again." in error.value.message
