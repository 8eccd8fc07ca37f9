"""An invoice as a PDF (R3, R8, R9, R10; C6 attaches it to the customization ticket): its
number, dates, the client's name and billing details, every line with its amount (the
discount's too), the total and the currency; installments listed; nothing internal."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader

from kamportal.services import discounts, invoices, payments
from kamportal.services.invoice_pdf import invoice_filename, invoice_pdf
from kamportal.services.invoices import Fee
from tests.services import renewal_world
from tests.services.renewal_world import TODAY, confirmed

# Monday 23 Nov 2026: Mona Adel looks after Nile Crafts (NILE01, EGP), contact Karim Said
# (tests/services/renewal_world.py).
world = renewal_world.world


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def flat(text: str) -> str:
    """The text on one line; the currency's non-breaking space does not survive extraction
    (EGP12,000.00)."""
    return " ".join(text.split())


def discounted_invoice(world, db):
    """The renewal and a customization fee on one invoice (R8), less an approved discount
    (R9)."""
    renewal = confirmed(world, db)
    quotation = discounts.request_discount(
        world["client"], actor=world["acm"], description="Loyalty, 3rd year", discount="1200"
    )
    discounts.decide_discount(quotation, actor=world["commercial"], approve=True)
    invoice = invoices.issue_invoice(
        world["client"],
        actor=world["acm"],
        renewal=renewal,
        fees=[Fee("Loyalty points at checkout", "3000")],
        due_on=renewal.due_on,
        quotation=quotation,
    )
    db.session.commit()
    return invoice


def test_the_pdf_has_the_number_dates_client_lines_discount_and_total_R8_R9(world, db):
    invoice = discounted_invoice(world, db)
    text = flat(text_of(invoice_pdf(invoice)))
    assert f"Invoice {invoice.number}" in text
    assert "Issued on 23 November 2026" in text
    assert "Due by 13 December 2026" in text
    for said in ("Nile Crafts", "Store NILE01", "Egypt", "Karim Said", "karim@nile.example"):
        assert said in text
    for line in invoice.lines:
        assert line.description in text
    assert "Subscription renewal from 13 Dec 2026 EGP12,000.00" in text
    assert "Loyalty points at checkout EGP3,000.00" in text
    assert "Discount: Loyalty, 3rd year -EGP1,200.00" in text
    assert "Total EGP13,800.00" in text
    assert "All amounts in EGP." in text


def test_the_pdf_names_nothing_internal(world, db):
    invoice = discounted_invoice(world, db)
    text = text_of(invoice_pdf(invoice))
    assert not re.search(r"\b[A-Z]\d{1,2}\b", text), "a rule ID"
    assert f"#{invoice.id}" not in text
    assert "Mona" not in text and "Commercial" not in text  # staff stay off the client's paper


def test_a_paid_invoice_says_when_and_how_it_was_paid(world, db):
    invoice = discounted_invoice(world, db)
    payments.record_premises_payment(
        invoice, actor=world["finance"], amount="13800.00", receipt_number="RC-9"
    )
    db.session.commit()
    text = flat(text_of(invoice_pdf(invoice)))
    assert "Paid on 23 November 2026" in text and "Due by" not in text
    assert "At the premises, receipt RC-9 23 November 2026 EGP13,800.00" in text


def test_an_invoice_split_into_installments_lists_them_R10(world, db):
    invoice = discounted_invoice(world, db)
    first, second = invoices.split_into_installments(
        invoice,
        actor=world["acm"],
        due_dates=[TODAY + timedelta(days=5), TODAY + timedelta(days=35)],
    )
    db.session.commit()
    text = flat(text_of(invoice_pdf(invoice)))
    assert "Installments" in text and "Split into installments" in text
    assert f"{first.number} 28 November 2026 EGP6,900.00 Unpaid" in text
    assert f"{second.number} 28 December 2026 EGP6,900.00 Unpaid" in text
    part = flat(text_of(invoice_pdf(first)))
    assert f"Installment 1 of 2 of invoice {invoice.number}" in part
    assert "Total EGP6,900.00" in part


def test_the_file_is_named_by_the_invoice_number(world, db):
    invoice = discounted_invoice(world, db)
    assert invoice_filename(invoice) == f"invoice-{invoice.number}.pdf"
    invoice.number = "INV/2026 07"
    assert invoice_filename(invoice) == "invoice-INV-2026-07.pdf"
    invoice.number = None
    with pytest.raises(ValueError):
        invoice_pdf(invoice)
