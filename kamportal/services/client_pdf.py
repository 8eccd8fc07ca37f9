"""The documents the portal gives a client as PDFs (the concept document, an invoice): one
page set-up, so they look like one company's papers. They name no rule, no internal id
and no code: they are the client's documents.

fpdf2 (pure Python) with the DejaVu Sans font shipped in static/fonts, which covers Latin
and Arabic letters (Arabic is set without joining: text shaping would need HarfBuzz).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

# fontTools logs each font it subsets at INFO: noise in a command's output or a log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONTS = Path(__file__).resolve().parent.parent / "static" / "fonts"
FAMILY = "DejaVu"
COMPANY = "ExpandCart"
BODY_SIZE = 10.5


def day(value: date) -> str:
    """A date as a client reads it: 5 December 2026."""
    return f"{value.day} {value:%B %Y}"


class ClientDocument:
    """An A4 document of `title`, its fonts loaded, with the styles the portal's client
    documents use; `output()` gives its bytes."""

    def __init__(self, title: str) -> None:
        pdf = self.pdf = FPDF(format="A4")
        pdf.set_title(title)
        pdf.set_creator(COMPANY)
        pdf.set_author(COMPANY)
        pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
        pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        pdf.set_auto_page_break(auto=True, margin=18)
        pdf.add_page()

    def heading(self, text: str, size: int = 13) -> None:
        self.pdf.set_font(FAMILY, "B", size)
        self.pdf.multi_cell(self.pdf.epw, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(1)

    def paragraph(self, text: str) -> None:
        self.pdf.set_font(FAMILY, "", BODY_SIZE)
        self.pdf.multi_cell(self.pdf.epw, 5.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(3)

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        widths: Sequence[int],
        align: str | Sequence[str] = "LEFT",
        footer: Sequence[str] = (),
    ) -> None:
        """A table with a header row, then `rows`, then `footer` (a total) in bold."""
        self.pdf.set_font(FAMILY, "", BODY_SIZE)
        with self.pdf.table(col_widths=tuple(widths), text_align=align, line_height=6) as table:
            for cells in (header, *rows):
                row = table.row()
                for text in cells:
                    row.cell(text)
            if footer:
                self.pdf.set_font(FAMILY, "B", BODY_SIZE)
                row = table.row()
                for text in footer:
                    row.cell(text)
        self.pdf.set_font(FAMILY, "", BODY_SIZE)
        self.pdf.ln(4)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
