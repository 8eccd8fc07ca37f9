"""The concept document (C5) as a PDF: the same content as its printable page, for the
client to keep, sign or forward, in the client's language (the page set-up:
services/client_pdf.py)."""

from __future__ import annotations

from flask_babel import gettext

from kamportal import clock, i18n
from kamportal.models import CustomizationRequest
from kamportal.services.client_pdf import ClientDocument
from kamportal.services.concept_documents import MILESTONE_KINDS


def concept_pdf(request: CustomizationRequest) -> bytes:
    """The PDF of `request`'s concept document (which must be written)."""
    if request.concept is None:
        raise ValueError("the concept document is not written")
    with i18n.client_language(request.client.language):
        return _document(request).output()


def _document(request: CustomizationRequest) -> ClientDocument:
    concept = request.concept
    client = request.client
    doc = ClientDocument(gettext("Concept document: %(title)s", title=request.title))
    doc.heading(gettext("Concept document"), 18)
    version = i18n.long_date(clock.in_zone(concept.updated_at, client.timezone))
    doc.paragraph(
        "\n".join(
            (
                request.title,
                gettext("For %(store)s", store=client.store_name),
                gettext("Version of %(day)s", day=version),
            )
        )
    )
    doc.heading(gettext("Scope of work"))
    doc.paragraph(concept.scope)
    doc.heading(gettext("Activities"))
    doc.paragraph(concept.activities)
    doc.heading(gettext("Milestones"))
    doc.table(
        (gettext("Milestone"), gettext("Kind"), gettext("Due")),
        [(m.title, _kind(m.kind), i18n.long_date(m.due_on)) for m in request.milestones],
        widths=(55, 25, 20),
    )
    doc.heading(gettext("Exit criteria"))
    doc.paragraph(concept.exit_criteria)
    doc.heading(gettext("Approval"))
    if concept.approved_at is not None:
        at = i18n.local_time(concept.approved_at, client.timezone)
        if concept.approved_via == "link":
            approved = gettext(
                "Approved by %(name)s (through the emailed link), %(at)s.",
                name=concept.approved_name,
                at=at,
            )
        else:
            approved = gettext(
                "Approved by %(name)s (signed copy), %(at)s.", name=concept.approved_name, at=at
            )
        doc.paragraph(approved)
    else:
        doc.paragraph(
            gettext("Name:")
            + " ____________________________\n\n"
            + gettext("Signature and date:")
            + " ________________"
        )
    return doc


def _kind(kind: str) -> str:
    return gettext(MILESTONE_KINDS[kind]) if kind in MILESTONE_KINDS else kind
