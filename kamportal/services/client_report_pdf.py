"""The monthly client report (P4) as a PDF: the store, the month, the headline metrics with
what the reader should know of the figures, the account manager's commentary and next
month's proposals. The page set-up: services/client_pdf.py."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

from kamportal.models import ClientReport
from kamportal.services.client_pdf import COMPANY, ClientDocument, day

# What may stay of a store code in a file name; the rest becomes "-".
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Metric:
    """One headline metric as the client reads it: "Orders", "1,204", and a note."""

    label: str
    value: str
    note: str = ""


def report_filename(report: ClientReport) -> str:
    """ "monthly-report-<store code>-<YYYY-MM>.pdf": the name it is attached under."""
    code = _UNSAFE.sub("-", report.client.store_code).strip("-.")
    return f"monthly-report-{code}-{report.month:%Y-%m}.pdf"


def report_pdf(report: ClientReport, metrics: Sequence[Metric], note: str) -> bytes:
    """The PDF of `report` with its `metrics` and the `note` on its figures. The same
    report gives the same bytes (the document is dated the day it was drafted)."""
    client = report.client
    title = f"Monthly report – {report.month:%B %Y}"
    doc = ClientDocument(title)
    doc.pdf.set_creation_date(datetime.combine(report.drafted_at.date(), time.min, tzinfo=UTC))
    doc.heading(title, 18)
    facts = [client.store_name, f"Store {client.store_code}", f"From {COMPANY}"]
    last = report.month.replace(day=report.days_in_month)
    facts.append(f"{day(report.month)} to {day(last)}")
    doc.paragraph("\n".join(facts))
    doc.heading("This month in figures")
    if metrics:
        doc.table(
            ("", ""),
            [(m.label, f"{m.value} ({m.note})" if m.note else m.value) for m in metrics],
            widths=(45, 55),
        )
        doc.paragraph(f"Amounts in {report.currency}.")
    if note:
        doc.paragraph(note)
    doc.heading("Commentary")
    doc.paragraph(report.commentary or "—")
    doc.heading("Next month")
    doc.paragraph(report.proposals or "—")
    acm = client.acm
    if acm is not None:
        doc.paragraph(f"{acm.name}, your account manager\n{acm.email}")
    return doc.output()
