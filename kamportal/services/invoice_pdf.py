"""An invoice (R3, R8, R9, R10) as a PDF: what the client owes or paid, for their records
and for the customization ticket it is attached to once paid (C6). Its number, dates, the
client's name and the billing details the portal has, each line with its amount (the
discount line too), the total and the currency; an invoice split into installments lists
them. The page set-up: services/client_pdf.py."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from babel import Locale

from kamportal import clock
from kamportal.models import Client, Invoice, InvoiceStatus, Money, Payment, PaymentStatus
from kamportal.services.client_pdf import COMPANY, ClientDocument, day

CONTENT_TYPE = "application/pdf"
# What may stay of an invoice number in a file name; the rest becomes "-".
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def invoice_filename(invoice: Invoice) -> str:
    """ "invoice-<number>.pdf": the name it is downloaded and attached under."""
    return f"invoice-{_UNSAFE.sub('-', invoice.number or '').strip('-.')}.pdf"


def invoice_pdf(invoice: Invoice) -> bytes:
    """The PDF of `invoice`; ValueError for an invoice the billing system has not numbered
    yet (the client knows an invoice by its number, never by the portal's id)."""
    if not invoice.number:
        raise ValueError("the invoice has no number yet")
    client = invoice.client
    doc = ClientDocument(f"Invoice {invoice.number}")
    doc.heading(f"Invoice {invoice.number}", 18)
    doc.paragraph("\n".join(_facts(invoice)))
    doc.heading("Billed to")
    doc.paragraph("\n".join(_billed_to(client)))
    doc.heading("Details")
    doc.table(
        ("Description", "Amount"),
        [(line.description, _money(line.amount, invoice)) for line in invoice.lines],
        widths=(75, 25),
        align=("LEFT", "RIGHT"),
        footer=("Total", str(invoice.money)),
    )
    doc.paragraph(f"All amounts in {invoice.currency}.")
    if invoice.installments:
        doc.heading("Installments")
        doc.table(
            ("Installment", "Due", "Amount", "Status"),
            [
                (part.number or "", day(part.due_on), str(part.money), part.invoice_status.label)
                for part in invoice.installments
            ],
            widths=(35, 25, 22, 18),
        )
    received = [p for p in invoice.payments if p.status == PaymentStatus.CONFIRMED.value]
    if received:
        doc.heading("Payments received")
        doc.table(
            ("Payment", "Received", "Amount"),
            [(_payment_name(p), day(_received_on(p, client)), str(p.money)) for p in received],
            widths=(50, 25, 25),
        )
    return doc.output()


def _facts(invoice: Invoice) -> list[str]:
    zone = invoice.client.timezone
    facts = [f"From {COMPANY}", f"Issued on {day(invoice.issued_on)}"]
    if invoice.parent is not None and invoice.parent.number:
        facts.append(
            f"Installment {invoice.installment_no} of {invoice.installment_count} "
            f"of invoice {invoice.parent.number}"
        )
    if invoice.paid_at is not None:
        facts.append(f"Paid on {day(clock.in_zone(invoice.paid_at, zone).date())}")
    elif invoice.status == InvoiceStatus.UNPAID.value:
        facts.append(f"Due by {day(invoice.due_on)}")
    else:
        facts.append(invoice.invoice_status.label)
    return facts


def _billed_to(client: Client) -> list[str]:
    country = Locale("en").territories.get(client.country, client.country)
    lines = [client.store_name, f"Store {client.store_code}", country]
    contact = client.primary_contact or next(iter(client.contacts), None)
    if contact is not None:
        lines += [f"Attention: {contact.name}", *filter(None, (contact.email, contact.phone))]
    return lines


def _payment_name(payment: Payment) -> str:
    receipt = f", receipt {payment.receipt_number}" if payment.receipt_number else ""
    return payment.payment_method.label + receipt


def _received_on(payment: Payment, client: Client) -> date:
    """The day the money arrived: as finance saw it, else the client's day it was confirmed."""
    if payment.received_on is not None:
        return payment.received_on
    return clock.in_zone(payment.confirmed_at or payment.reported_at, client.timezone).date()


def _money(amount: Decimal, invoice: Invoice) -> str:
    return str(Money(amount, invoice.currency))
