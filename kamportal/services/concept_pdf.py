"""The concept document (C5) as a PDF: the same content as its printable page, for the
client to keep, sign or forward. It names no rule, no internal id and no code: it is the
client's document.

fpdf2 (pure Python) with the DejaVu Sans font shipped in static/fonts, which covers Latin
and Arabic letters (Arabic is set without joining: text shaping would need HarfBuzz).
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from kamportal import clock
from kamportal.models import CustomizationRequest
from kamportal.services.concept_documents import MILESTONE_KINDS

FONTS = Path(__file__).resolve().parent.parent / "static" / "fonts"
FAMILY = "DejaVu"


def _day(value) -> str:
    return f"{value.day} {value:%B %Y}"


def concept_pdf(request: CustomizationRequest) -> bytes:
    """The PDF of `request`'s concept document (which must be written)."""
    concept = request.concept
    if concept is None:
        raise ValueError("the concept document is not written")
    client = request.client
    pdf = FPDF(format="A4")
    pdf.set_title(f"Concept document: {request.title}")
    pdf.set_creator("ExpandCart")
    pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    width = pdf.epw

    def heading(text: str, size: int = 13) -> None:
        pdf.set_font(FAMILY, "B", size)
        pdf.multi_cell(width, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)

    def paragraph(text: str) -> None:
        pdf.set_font(FAMILY, "", 10.5)
        pdf.multi_cell(width, 5.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)

    heading("Concept document", 18)
    paragraph(
        f"{request.title}\nFor {client.store_name}\n"
        f"Version of {_day(clock.in_zone(concept.updated_at, client.timezone))}"
    )
    heading("Scope of work")
    paragraph(concept.scope)
    heading("Activities")
    paragraph(concept.activities)
    heading("Milestones")
    pdf.set_font(FAMILY, "", 10.5)
    with pdf.table(col_widths=(55, 25, 20), text_align="LEFT", line_height=6) as table:
        header = table.row()
        for title in ("Milestone", "Kind", "Due"):
            header.cell(title)
        for milestone in request.milestones:
            row = table.row()
            row.cell(milestone.title)
            row.cell(MILESTONE_KINDS.get(milestone.kind, milestone.kind))
            row.cell(_day(milestone.due_on))
    pdf.ln(4)
    heading("Exit criteria")
    paragraph(concept.exit_criteria)
    if concept.approved_at is not None:
        heading("Approval")
        when = clock.in_zone(concept.approved_at, client.timezone)
        how = "through the emailed link" if concept.approved_via == "link" else "signed copy"
        paragraph(f"Approved by {concept.approved_name} ({how}), {when:%d %B %Y, %H:%M}.")
    else:
        heading("Approval")
        paragraph("Name: ____________________________\n\nSignature and date: ________________")
    return bytes(pdf.output())
