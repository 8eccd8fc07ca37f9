"""An invoice (R3, R8, R9, R10) as a PDF: what the client owes or paid, for their records
and for the customization ticket it is attached to once paid (C6). Its number, dates, the
client's name and the billing details the portal has, each line with its amount (the
discount line too), the total and the currency; an invoice split into installments lists
them. In the client's language; the page set-up: services/client_pdf.py."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from flask_babel import gettext

from kamportal import clock, i18n
from kamportal.models import (
    Client,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Money,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from kamportal.services.client_pdf import COMPANY, ClientDocument

CONTENT_TYPE = "application/pdf"
# What may stay of an invoice number in a file name; the rest becomes "-".
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def invoice_filename(invoice: Invoice) -> str:
    """ "invoice-<number>.pdf": the name it is downloaded and attached under."""
    return f"invoice-{_UNSAFE.sub('-', invoice.number or '').strip('-.')}.pdf"


def invoice_pdf(invoice: Invoice) -> bytes:
    """The PDF of `invoice`, in its client's language; ValueError for an invoice the
    billing system has not numbered yet (the client knows an invoice by its number, never
    by the portal's id)."""
    if not invoice.number:
        raise ValueError("the invoice has no number yet")
    with i18n.client_language(invoice.client.language):
        return _document(invoice).output()


def _document(invoice: Invoice) -> ClientDocument:
    client = invoice.client
    title = gettext("Invoice %(number)s", number=invoice.number)
    doc = ClientDocument(title)
    doc.heading(title, 18)
    doc.paragraph("\n".join(_facts(invoice)))
    doc.heading(gettext("Billed to"))
    doc.paragraph("\n".join(_billed_to(client)))
    doc.heading(gettext("Details"))
    doc.table(
        (gettext("Description"), gettext("Amount")),
        [(_line_text(line, invoice), _money(line.amount, invoice)) for line in invoice.lines],
        widths=(75, 25),
        align=("LEFT", "RIGHT"),
        footer=(gettext("Total"), i18n.money(invoice.money)),
    )
    doc.paragraph(gettext("All amounts in %(currency)s.", currency=invoice.currency))
    if invoice.installments:
        doc.heading(gettext("Installments"))
        doc.table(
            (gettext("Installment"), gettext("Due"), gettext("Amount"), gettext("Status")),
            [
                (
                    part.number or "",
                    i18n.long_date(part.due_on),
                    i18n.money(part.money),
                    _status(part.invoice_status),
                )
                for part in invoice.installments
            ],
            widths=(35, 25, 22, 18),
        )
    received = [p for p in invoice.payments if p.status == PaymentStatus.CONFIRMED.value]
    if received:
        doc.heading(gettext("Payments received"))
        doc.table(
            (gettext("Payment"), gettext("Received"), gettext("Amount")),
            [
                (_payment_name(p), i18n.long_date(_received_on(p, client)), i18n.money(p.money))
                for p in received
            ],
            widths=(50, 25, 25),
        )
    return doc


def _facts(invoice: Invoice) -> list[str]:
    zone = invoice.client.timezone
    facts = [
        gettext("From %(company)s", company=COMPANY),
        gettext("Issued on %(day)s", day=i18n.long_date(invoice.issued_on)),
    ]
    if invoice.parent is not None and invoice.parent.number:
        facts.append(_installment_of(invoice))
    if invoice.paid_at is not None:
        paid_on = clock.in_zone(invoice.paid_at, zone).date()
        facts.append(gettext("Paid on %(day)s", day=i18n.long_date(paid_on)))
    elif invoice.status == InvoiceStatus.UNPAID.value:
        facts.append(gettext("Due by %(day)s", day=i18n.long_date(invoice.due_on)))
    else:
        facts.append(_status(invoice.invoice_status))
    return facts


def _billed_to(client: Client) -> list[str]:
    lines = [
        client.store_name,
        gettext("Store %(code)s", code=client.store_code),
        i18n.country(client.country),
    ]
    contact = client.primary_contact or next(iter(client.contacts), None)
    if contact is not None:
        lines += [
            gettext("Attention: %(name)s", name=contact.name),
            *filter(None, (contact.email, contact.phone)),
        ]
    return lines


def _line_text(line: InvoiceLine, invoice: Invoice) -> str:
    """A line as the client reads it: an installment's in their language; the others as
    issued (what the billing system has)."""
    if line.line_kind is LineKind.INSTALLMENT and invoice.parent is not None:
        return _installment_of(invoice)
    return line.description


def _installment_of(invoice: Invoice) -> str:
    return gettext(
        "Installment %(part)s of %(parts)s of invoice %(number)s",
        part=invoice.installment_no,
        parts=invoice.installment_count,
        number=invoice.parent.number,
    )


def _status(status: InvoiceStatus) -> str:
    return {
        InvoiceStatus.UNPAID: gettext("Unpaid"),
        InvoiceStatus.PAID: gettext("Paid"),
        InvoiceStatus.SPLIT: gettext("Split into installments"),
        InvoiceStatus.CANCELLED: gettext("Cancelled"),
    }[status]


def _payment_name(payment: Payment) -> str:
    method = {
        PaymentMethod.ONLINE: gettext("Online"),
        PaymentMethod.WIRE: gettext("Wire transfer"),
        PaymentMethod.PREMISES: gettext("At the premises"),
        PaymentMethod.INSTALLMENTS: gettext("Installments"),
    }[payment.payment_method]
    if payment.receipt_number:
        return gettext(
            "%(method)s, receipt %(receipt)s", method=method, receipt=payment.receipt_number
        )
    return method


def _received_on(payment: Payment, client: Client) -> date:
    """The day the money arrived: as finance saw it, else the client's day it was confirmed."""
    if payment.received_on is not None:
        return payment.received_on
    return clock.in_zone(payment.confirmed_at or payment.reported_at, client.timezone).date()


def _money(amount: Decimal, invoice: Invoice) -> str:
    return i18n.money(Money(amount, invoice.currency))
