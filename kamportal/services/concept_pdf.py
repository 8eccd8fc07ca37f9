"""The concept document (C5) as a PDF: the same content as its printable page, for the
client to keep, sign or forward (the page set-up: services/client_pdf.py)."""

from __future__ import annotations

from kamportal import clock
from kamportal.models import CustomizationRequest
from kamportal.services.client_pdf import ClientDocument, day
from kamportal.services.concept_documents import MILESTONE_KINDS


def concept_pdf(request: CustomizationRequest) -> bytes:
    """The PDF of `request`'s concept document (which must be written)."""
    concept = request.concept
    if concept is None:
        raise ValueError("the concept document is not written")
    client = request.client
    doc = ClientDocument(f"Concept document: {request.title}")
    doc.heading("Concept document", 18)
    doc.paragraph(
        f"{request.title}\nFor {client.store_name}\n"
        f"Version of {day(clock.in_zone(concept.updated_at, client.timezone))}"
    )
    doc.heading("Scope of work")
    doc.paragraph(concept.scope)
    doc.heading("Activities")
    doc.paragraph(concept.activities)
    doc.heading("Milestones")
    doc.table(
        ("Milestone", "Kind", "Due"),
        [(m.title, MILESTONE_KINDS.get(m.kind, m.kind), day(m.due_on)) for m in request.milestones],
        widths=(55, 25, 20),
    )
    doc.heading("Exit criteria")
    doc.paragraph(concept.exit_criteria)
    doc.heading("Approval")
    if concept.approved_at is not None:
        when = clock.in_zone(concept.approved_at, client.timezone)
        how = "through the emailed link" if concept.approved_via == "link" else "signed copy"
        doc.paragraph(f"Approved by {concept.approved_name} ({how}), {when:%d %B %Y, %H:%M}.")
    else:
        doc.paragraph("Name: ____________________________\n\nSignature and date: ________________")
    return doc.output()
