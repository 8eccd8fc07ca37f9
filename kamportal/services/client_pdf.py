"""The documents the portal gives a client as PDFs (the concept document, an invoice, the
monthly report): one page set-up, so they look like one company's papers. They name no
rule, no internal id and no code: they are the client's documents, in the client's
language ("What clients see"): each is made inside `i18n.client_language`, its fixed texts
through the catalog, its dates and amounts by the i18n helpers.

fpdf2 (pure Python) with the DejaVu Sans font shipped in static/fonts, which covers Latin
and Arabic letters. Arabic letters join and run right to left only through text shaping
(HarfBuzz): an Arabic document is shaped throughout, right-aligned, its tables' columns
mirrored; an English one shapes only the texts with Arabic in them (a store's name, a
scope typed in Arabic): shaping slows each page, and the documents are made in sweeps.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from kamportal import i18n

# fontTools logs each font it subsets at INFO: noise in a command's output or a log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONTS = Path(__file__).resolve().parent.parent / "static" / "fonts"
FAMILY = "DejaVu"
COMPANY = "ExpandCart"
BODY_SIZE = 10.5
# Letters written right to left (Hebrew and Arabic, their presentation forms included).
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_MIRRORED = {"LEFT": "RIGHT", "RIGHT": "LEFT", "L": "R", "R": "L"}


class ClientDocument:
    """An A4 document of `title`, its fonts loaded, with the styles the portal's client
    documents use, in the direction of the locale it is made in (`i18n.client_language`);
    `output()` gives its bytes."""

    def __init__(self, title: str) -> None:
        self.rtl = i18n.text_direction() == "rtl"
        pdf = self.pdf = FPDF(format="A4")
        pdf.set_title(title)
        pdf.set_lang(i18n.page_language())
        pdf.set_creator(COMPANY)
        pdf.set_author(COMPANY)
        pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
        pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        pdf.set_auto_page_break(auto=True, margin=18)
        if self.rtl:
            # HarfBuzz finds each run's script (an Arabic word, a store code, an amount);
            # the bidi algorithm orders the runs in a right-to-left paragraph.
            pdf.set_text_shaping(use_shaping_engine=True, direction="rtl")
        pdf.add_page()

    def heading(self, text: str, size: int = 13) -> None:
        self.pdf.set_font(FAMILY, "B", size)
        self._shape(text)
        self.pdf.multi_cell(
            self.pdf.epw, 8, text, align=self._align, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self.pdf.ln(1)

    def paragraph(self, text: str) -> None:
        self.pdf.set_font(FAMILY, "", BODY_SIZE)
        self._shape(text)
        self.pdf.multi_cell(
            self.pdf.epw, 5.5, text, align=self._align, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
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
        """A table with a header row, then `rows`, then `footer` (a total) in bold; its
        columns in reading order (the first on the right in a right-to-left document)."""
        aligns = [align] * len(widths) if isinstance(align, str) else list(align)
        lines = [header, *rows, *([footer] if footer else [])]
        if self.rtl:
            widths, lines = widths[::-1], [cells[::-1] for cells in lines]
            aligns = [_MIRRORED.get(a, a) for a in aligns[::-1]]
        self._shape(*(text for cells in lines for text in cells))
        self.pdf.set_font(FAMILY, "", BODY_SIZE)
        with self.pdf.table(
            col_widths=tuple(widths), text_align=tuple(aligns), line_height=6
        ) as table:
            for cells in lines[: len(lines) - bool(footer)]:
                row = table.row()
                for text in cells:
                    row.cell(text)
            if footer:
                self.pdf.set_font(FAMILY, "B", BODY_SIZE)
                row = table.row()
                for text in lines[-1]:
                    row.cell(text)
        self.pdf.set_font(FAMILY, "", BODY_SIZE)
        self.pdf.ln(4)

    def output(self) -> bytes:
        return bytes(self.pdf.output())

    @property
    def _align(self) -> Align:
        return Align.R if self.rtl else Align.J

    def _shape(self, *texts: str) -> None:
        """In a left-to-right document, shaping on for the texts about to be set when one
        of them has right-to-left letters, else off."""
        if not self.rtl:
            arabic = any(_RIGHT_TO_LEFT.search(text) for text in texts)
            self.pdf.set_text_shaping(use_shaping_engine=arabic, direction="ltr")
