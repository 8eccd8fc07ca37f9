"""The monthly client report (P4) as a PDF: the store, the month, the headline metrics with
what the reader should know of the figures, the account manager's commentary and next
month's proposals, in the client's language. The page set-up: services/client_pdf.py."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

from flask_babel import gettext

from kamportal import i18n
from kamportal.models import ClientReport
from kamportal.services.client_pdf import COMPANY, ClientDocument

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
    """The PDF of `report` with its `metrics` and the `note` on its figures (worded in the
    client's language: `client_reports.pdf_of`), in the client's language. The same report
    gives the same bytes (the document is dated the day it was drafted)."""
    with i18n.client_language(report.client.language):
        return _document(report, metrics, note).output()


def _document(report: ClientReport, metrics: Sequence[Metric], note: str) -> ClientDocument:
    client = report.client
    title = gettext("Monthly report – %(month)s", month=i18n.month_year(report.month))
    doc = ClientDocument(title)
    doc.pdf.set_creation_date(datetime.combine(report.drafted_at.date(), time.min, tzinfo=UTC))
    doc.heading(title, 18)
    last = report.month.replace(day=report.days_in_month)
    facts = [
        client.store_name,
        gettext("Store %(code)s", code=client.store_code),
        gettext("From %(company)s", company=COMPANY),
        gettext(
            "%(first)s to %(last)s",
            first=i18n.long_date(report.month),
            last=i18n.long_date(last),
        ),
    ]
    doc.paragraph("\n".join(facts))
    doc.heading(gettext("This month in figures"))
    if metrics:
        doc.table(
            ("", ""),
            [(m.label, f"{m.value} ({m.note})" if m.note else m.value) for m in metrics],
            widths=(45, 55),
        )
        doc.paragraph(gettext("Amounts in %(currency)s.", currency=report.currency))
    if note:
        doc.paragraph(note)
    doc.heading(gettext("Commentary"))
    doc.paragraph(report.commentary or "—")
    doc.heading(gettext("Next month"))
    doc.paragraph(report.proposals or "—")
    acm = client.acm
    if acm is not None:
        doc.paragraph(gettext("%(name)s, your account manager", name=acm.name) + f"\n{acm.email}")
    return doc
