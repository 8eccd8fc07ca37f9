"""The client's PDFs speak the client's language ("What clients see" in PRODUCT.md): the
invoice (R3), the concept document (C5) and the monthly report (P4) of an Arabic client
are Arabic, shaped (the letters joined) and right to left, no English label left, the
store code, amounts and addresses still readable; an English client's stay English, as
before. The language checks of the emails and pages: tests/test_client_languages.py."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from kamportal import clock
from kamportal.services import client_reports, invoices, payments
from kamportal.services.concept_pdf import concept_pdf
from kamportal.services.invoice_pdf import invoice_pdf
from tests.services import renewal_world
from tests.services.concept_world import request_in_concept, write
from tests.services.renewal_world import TODAY
from tests.services.test_client_reports import CAIRO_OPENS, cairo, sweep, written
from tests.services.test_invoice_pdf import discounted_invoice
from tests.services.test_store_trends import sold
from tests.test_client_languages import _catalog_compiled, english_left

world = renewal_world.world
__all__ = ["_catalog_compiled", "cairo", "world"]

_ARABIC = re.compile("[\u0600-\u06ff]")
# The glyphs of Arabic presentation forms (U+FB50-U+FDFF, U+FE70-U+FEFF): only shaping
# draws them.
_FORM = re.compile(r"uni(F[BC][0-9A-F]{2}|FD[0-9A-F]{2}|FE[7-9A-F][0-9A-F])$")
# A word as the extraction gives it: a run of Arabic letters, or of other letters, digits
# and signs (an amount, a code); the punctuation around it aside.
_WORD = re.compile("[\u0600-\u06ff]+|[^\\s\u0600-\u06ff\u200f]+")


def lines_of(pdf: bytes) -> list[str]:
    """The PDF's lines as extracted: each from left to right as drawn, so a right-to-left
    line reads "INV-0042 الفاتورة"; the Arabic words in their reading order (shaped text
    maps its joined glyphs back to the letters typed)."""
    assert pdf.startswith(b"%PDF-")
    pages = PdfReader(io.BytesIO(pdf)).pages
    return [" ".join(line.split()) for page in pages for line in page.extract_text().splitlines()]


def text_of(pdf: bytes) -> str:
    return " ".join(lines_of(pdf))


def on_a_line(lines: list[str], phrase: str) -> bool:
    """Whether one line has `phrase`, or every word of it in any order: the extraction's
    spaces and order around numbers in a right-to-left line are its own (it glues a table's
    header cells together)."""
    return any(phrase in line or _words(phrase) <= _words(line) for line in lines)


def _words(text: str) -> set[str]:
    return {word.strip(".:,،()") for word in _WORD.findall(text)} - {""}


def joined_forms(pdf: bytes) -> bool:
    """Whether the embedded fonts hold Arabic joined forms (initial, medial, final): the
    text was shaped, not set letter by letter in isolated forms."""
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            cid = font.get_object()["/DescendantFonts"][0].get_object()
            data = cid["/FontDescriptor"]["/FontFile2"].get_object().get_data()
            if any(_FORM.match(name) for name in TTFont(io.BytesIO(data)).getGlyphOrder()):
                return True
    return False


def speak(client, db, language: str) -> None:
    client.language = language
    db.session.commit()


# --- The invoice ----------------------------------------------------------------------------


def paid_in_installments(world, db):
    invoice = discounted_invoice(world, db)
    first, _ = invoices.split_into_installments(
        invoice,
        actor=world["acm"],
        due_dates=[TODAY + timedelta(days=5), TODAY + timedelta(days=35)],
    )
    payments.record_premises_payment(
        first, actor=world["finance"], amount="6900.00", receipt_number="RC-9"
    )
    db.session.commit()
    return invoice, first


def test_an_arabic_clients_invoice_is_arabic_shaped_and_right_to_left_R3(world, db):
    speak(world["client"], db, "ar")
    invoice, first = paid_in_installments(world, db)
    pdf = invoice_pdf(invoice)
    lines, part = lines_of(pdf), lines_of(invoice_pdf(first))
    # Right to left: the title's number is drawn on the left of its label.
    assert lines[0] == f"{invoice.number} الفاتورة"
    for said in (
        "من ExpandCart",
        "صدرت في 23 نوفمبر 2026",
        "مقسّمة على أقساط",
        "الفاتورة باسم",
        "المتجر NILE01",
        "مصر",
        "عناية: Karim Said",
        "karim@nile.example",
        "التفاصيل",
        "الوصف",
        "المبلغ",
        "الإجمالي 13,800.00 ج.م.",
        "جميع المبالغ بعملة EGP.",
        "الأقساط",
        "القسط",
        "تاريخ الاستحقاق",
        "الحالة",
        f"{first.number} 28 نوفمبر 2026 6,900.00 ج.م. مدفوعة",
        "28 ديسمبر 2026 6,900.00 ج.م. غير مدفوعة",
    ):
        assert on_a_line(lines, said), said
    for said in (
        f"القسط 1 من 2 من الفاتورة {invoice.number}",
        "دُفعت في 23 نوفمبر 2026",
        "الدفعات المستلمة",
        "الدفعة",
        "تاريخ الاستلام",
        "في مقر الشركة، الإيصال RC-9 23 نوفمبر 2026 6,900.00 ج.م.",
    ):
        assert on_a_line(part, said), said
    # The table's first column is on the right: the amounts on the left of their lines.
    [total] = [line for line in lines if "الإجمالي" in line]
    assert total.endswith("الإجمالي") and "13,800.00" in total
    # The lines as the billing system has them; every label is Arabic.
    issued = [line.description for line in invoice.lines]
    assert english_left("\n".join(lines), "Karim Said", *issued) == []
    assert english_left("\n".join(part), "Karim Said") == []
    assert joined_forms(pdf)


def test_an_arabic_clients_invoice_lines_are_written_in_arabic_R3_R9(world, db):
    """The renewal and discount lines are worded when the invoice is issued, in the client's
    language: the PDF, the email and the billing system read the same Arabic line."""
    speak(world["client"], db, "ar")
    invoice = discounted_invoice(world, db)
    renewal, fee, discount = (line.description for line in invoice.lines)
    assert renewal == "تجديد الاشتراك اعتبارًا من 13 ديسمبر 2026"
    assert fee == "Loyalty points at checkout"  # typed by the ACM, kept as typed
    assert discount == "خصم: Loyalty, 3rd year"
    lines = lines_of(invoice_pdf(invoice))
    assert on_a_line(lines, renewal) and on_a_line(lines, discount)


def test_an_english_clients_invoice_stays_english_R3(world, db):
    invoice, first = paid_in_installments(world, db)
    pdf = invoice_pdf(invoice)
    text, part = text_of(pdf), text_of(invoice_pdf(first))
    for said in (
        f"Invoice {invoice.number} From ExpandCart Issued on 23 November 2026",
        "Billed to Nile Crafts Store NILE01 Egypt Attention: Karim Said",
        "Description Amount",
        "Total EGP13,800.00 All amounts in EGP.",
        "Installments Installment Due Amount Status",
        f"{first.number} 28 November 2026 EGP6,900.00 Paid",
    ):
        assert said in text, said
    assert f"Installment 1 of 2 of invoice {invoice.number} EGP6,900.00" in part
    assert "Paid on 23 November 2026" in part
    assert "At the premises, receipt RC-9 23 November 2026 EGP6,900.00" in part
    assert not _ARABIC.search(text + part)
    assert not joined_forms(pdf)  # nothing Arabic: not shaped


# --- The concept document --------------------------------------------------------------------


@pytest.fixture
def concept(app, db, make_portfolio, frozen_clock):
    """A concept document written for متجر النيل, its scope typed in Arabic."""
    frozen_clock(renewal_world.NOW)
    portfolio = make_portfolio(
        acm={"name": "Mona Adel"},
        client={"store_name": "متجر النيل", "store_code": "NILE01"},
        contact={"name": "كريم سعيد", "email": "karim@nile.example"},
    )
    request = request_in_concept(portfolio.client, actor=portfolio.acm)
    write(request, actor=portfolio.acm, scope="نقاط على كل طلب")
    return request


def test_an_arabic_clients_concept_document_is_arabic_C5(concept, db):
    speak(concept.client, db, "ar")
    pdf = concept_pdf(concept)
    lines = lines_of(pdf)
    for said in (
        "وثيقة المفهوم",
        "Loyalty points",
        "لمتجر متجر النيل",
        "نسخة بتاريخ 23 نوفمبر 2026",
        "نطاق العمل",
        "نقاط على كل طلب",
        "الأنشطة",
        "المراحل الرئيسية",
        "المرحلة",
        "النوع",
        "تاريخ الاستحقاق",
        "Milestone 1 وظيفة أساسية 30 نوفمبر 2026",
        "Milestone 2 متطلب إضافي 7 ديسمبر 2026",
        "معايير الإنجاز",
        "الاعتماد",
        "الاسم:",
        "التوقيع والتاريخ:",
    ):
        assert on_a_line(lines, said), said
    # Right to left: a milestone's title (the first column) on the right of its line.
    assert any(re.match(r"\S+ .*Milestone 1$", line) for line in lines)
    typed = ("Loyalty points", "Design", "Build", "Test", "A test order paid with points")
    assert english_left("\n".join(lines), *typed, "Milestone 1", "Milestone 2") == []
    assert joined_forms(pdf)


def test_an_approved_concept_document_says_so_in_the_clients_language_C5(concept, db):
    concept.concept.approved_at = clock.now()
    concept.concept.approved_name, concept.concept.approved_via = "كريم سعيد", "link"
    db.session.commit()
    english = text_of(concept_pdf(concept))
    speak(concept.client, db, "ar")
    arabic = lines_of(concept_pdf(concept))
    assert "through the emailed link), 23 November 2026, 11:00." in english
    assert on_a_line(arabic, "اعتمدها كريم سعيد (عبر الرابط المرسل بالبريد الإلكتروني)")
    assert on_a_line(arabic, "23 نوفمبر 2026، 11:00.")


def test_an_english_document_shapes_the_arabic_typed_in_it_C5(concept):
    """An English client's store named in Arabic: its letters joined, the labels English."""
    pdf = concept_pdf(concept)
    text = text_of(pdf)
    assert "Concept document" in text and "For متجر النيل" in text
    assert "Scope of work نقاط على كل طلب" in text
    assert "Name: ____" in text and "Signature and date: ____" in text
    assert joined_forms(pdf)


# --- The monthly report ------------------------------------------------------------------------


def test_an_arabic_clients_monthly_report_is_arabic_P4(db, cairo, smtp_server, run_jobs):
    """The preview and the PDF sent with the email (in Arabic too) are the same."""
    speak(cairo.client, db, "ar")
    sold(db, cairo.client, {date(2026, 10, d): (d, f"{d * 100}.00") for d in range(1, 32)})
    [report] = sweep(db, CAIRO_OPENS + timedelta(hours=1))
    written(db, report, cairo.acm)
    preview = client_reports.pdf_of(report)
    lines = lines_of(preview)
    assert lines[0] == "2026 التقرير الشهري – أكتوبر"  # the year, in Latin digits, on the left
    for said in (
        "المتجر NILE01",
        "من ExpandCart",
        "من 1 أكتوبر 2026 إلى 31 أكتوبر 2026",
        "الشهر بالأرقام",
        "الإيرادات (المبيعات) 49,600.00 ج.م.",
        "الطلبات 496",
        "المبالغ بعملة EGP.",
        "التعليق",
        "الشهر القادم",
        "Mona Adel، مدير حسابكم",
        "mona@kam.example",
    ):
        assert on_a_line(lines, said), said
    typed = (report.commentary[:-1], report.proposals[:-1], "Nile Crafts", "Mona Adel")
    assert english_left("\n".join(lines), *typed) == []
    assert joined_forms(preview)

    client_reports.send_report(report, actor=cairo.acm)
    db.session.commit()
    run_jobs()
    [email] = smtp_server.messages
    [attachment] = list(email.iter_attachments())
    assert attachment.get_content() == preview


def test_an_english_clients_monthly_report_stays_english_P4(db, cairo):
    [report] = sweep(db, CAIRO_OPENS)
    written(db, report, cairo.acm)
    text = text_of(client_reports.pdf_of(report))
    for said in (
        "Monthly report – October 2026 Nile Crafts Store NILE01 From ExpandCart",
        "1 October 2026 to 31 October 2026 This month in figures",
        "No sales figures reached us for October 2026",
        "Commentary A strong month",
        "Next month Add a bundle offer",
        "Mona Adel, your account manager mona@kam.example",
    ):
        assert said in text, said
    assert not _ARABIC.search(text)
