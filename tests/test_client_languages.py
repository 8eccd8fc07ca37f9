"""What a client receives or opens speaks the client's language ("What clients see" in
PRODUCT.md): every client email and every page behind an emailed link, in Arabic
(right-to-left, no English sentence left) for a client whose language is Arabic, in
English otherwise (a language without a catalog, French, falls back to English). Staff
pages stay English whatever the browser asks for."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.numbers import format_currency
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kamportal import i18n
from kamportal.errors import ValidationError
from kamportal.messaging import outbox
from kamportal.models import MeetingType, OutboxMessage, Role
from kamportal.models.types import Money
from kamportal.services import clients, kyc, onboarding
from kamportal.services.onboarding import WELCOME_HEADINGS
from tests.client_view import readable
from tests.services.test_delivery import in_delivery

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CATALOG = Path(i18n.TRANSLATIONS, "ar", "LC_MESSAGES", "messages.mo")

# What stays in Latin letters in an Arabic text: the brand and the products the client
# knows by their names, time zones and codes.
KEPT_IN_LATIN = ("ExpandCart", "Zoom", "PDF", "Excel", "Google Play", "App Store", "SSL")
_ADDRESSES = re.compile(r"\S+@\S+|https?://\S+|\b[A-Z][a-z]+/[A-Za-z_/]+\b")
# Three words or more in Latin letters in a row: an English sentence left untranslated.
_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ \t]*[,\-–:]?[ \t]+[A-Za-z][A-Za-z'’]*){2,}")

# Every email template a client receives (the others are to staff).
CLIENT_EMAILS = (
    "client_report.txt",
    "concept_link.txt",
    "customization_acceptance.txt",
    "customization_rejection.txt",
    "customization_rejection_message.txt",
    "customization_survey.txt",
    "escalation_decision.txt",
    "escalation_we_tried_to_call.txt",
    "followup_no_answer.txt",
    "invoice.txt",
    "invoice_reminder.txt",
    "kyc_link.txt",
    "meeting_cancellation.txt",
    "meeting_confirmation.txt",
    "minutes.txt",
    "renewal_notice.txt",
    "welcome.txt",
    "wire_reported.txt",
)
STAFF_EMAILS = (
    "customization_breach.txt",
    "escalation_handover.txt",
    "escalation_to_leader.txt",
    "wire_flagged.txt",
    "wire_rejected.txt",
)


def english_left(text: str, *names: str) -> list[str]:
    """The English sentences left in `text` (a page or a message): runs of three or more
    Latin-letter words once `names` (people, stores, codes), addresses and what stays in
    Latin letters are taken out."""
    words = readable(text)
    for kept in (*names, *KEPT_IN_LATIN):
        words = words.replace(kept, " ")
    return _LATIN_RUN.findall(_ADDRESSES.sub(" ", words))


def test_english_left_finds_a_sentence_and_passes_names_and_addresses():
    assert english_left("مرحبًا Please reply to this email") == ["Please reply to this email"]
    assert english_left("معكم Mona Adel Hassan، mona@kam.example https://x.example/a b c") == [
        "Mona Adel Hassan"
    ]
    assert english_left("معكم Mona Adel Hassan", "Mona Adel Hassan") == []
    assert english_left("عبر Zoom (Africa/Cairo) EET ST00042") == []


@pytest.fixture(autouse=True)
def _catalog_compiled():
    assert CATALOG.exists(), "the Arabic catalog is not compiled: `make test` compiles it"


def test_a_client_language_without_a_catalog_falls_back_to_english():
    assert i18n.language_of("ar") == "ar"
    assert i18n.language_of("en") == "en"
    assert set(clients.LANGUAGES) >= {"ar", "en", "fr"}
    assert i18n.language_of("fr") == "en"
    assert i18n.language_of(None) == "en"


# --- Every client email, in both languages --------------------------------------------------


def _email_context() -> dict:
    """What the client emails are rendered with: one world for all the templates, the
    client's names in Arabic, the ACM's in English."""
    zone = "Africa/Cairo"
    client = SimpleNamespace(
        store_name="متجر النيل", store_code="NILE01", timezone=zone, language="ar"
    )
    contact = SimpleNamespace(name="كريم سعيد", email="karim@nile.example")
    team = SimpleNamespace(workday_starts=time(9), workday_ends=time(17), timezone=zone)
    acm = SimpleNamespace(
        name="Mona Adel",
        email="mona@kam.example",
        phone="+20 100 000 0000",
        booking_link="https://cal.example/mona",
        team=team,
    )
    at = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    invoice = SimpleNamespace(
        number="INV-2026-0042",
        lines=[SimpleNamespace(description="تجديد الاشتراك", amount=Decimal("12000.00"))],
        currency="EGP",
        money=Money(Decimal("12000.00"), "EGP"),
        due_on=date(2026, 12, 15),
    )
    meeting = SimpleNamespace(
        meeting_type=MeetingType.ONBOARDING,
        confirmed_sequence=None,
        duration_minutes=45,
        zoom_link="https://zoom.example/j/1",
        agenda="خطة الإطلاق",
        cancel_reason="ظرف طارئ",
    )
    request = SimpleNamespace(title="برنامج نقاط الولاء", decision_reason="خارج نطاق المنصة")
    return {
        "client": client,
        "contact": contact,
        "contacts": [contact],
        "attendees": [contact],
        "acm": acm,
        "actor": acm,
        "leader": SimpleNamespace(name="Layla Nour"),
        "team": team,
        "link": "https://portal.example/kyc/token",
        "expires_at": at,
        "report": SimpleNamespace(month=date(2026, 10, 1)),
        "metrics": [SimpleNamespace(label="الطلبات", value="120", note="")],
        "note": "ملاحظة من مدير الحساب",
        "customization": request,
        "request": request,
        "message": "نعتذر عن عدم إمكانية تنفيذ الطلب.",
        "kind": "reassigned",
        "invoice": invoice,
        "meeting": meeting,
        "previous": None,
        "points": ["خطة الإطلاق"],
        "items": [
            SimpleNamespace(
                description="إرسال الشعار", owner="acm", owner_team=None, due_on=date(2026, 12, 1)
            )
        ],
        "renewal": SimpleNamespace(
            due_on=date(2027, 1, 1), money=Money(Decimal("12000.00"), "EGP")
        ),
        "payment": SimpleNamespace(money=Money(Decimal("12000.00"), "EGP")),
        "confirm_days": 4,
        "support_email": "support@expandcart.example",
    }


def _render(name: str, language: str) -> str:
    context = _email_context()
    with i18n.client_language(language):
        context["meeting_title"] = i18n.meeting_title(MeetingType.ONBOARDING)
        when = f"{i18n.weekday_time(context['expires_at'], 'Africa/Cairo')} EET (Africa/Cairo)"
        context["times"] = [{"text": when, "who": "", "zone": "Africa/Cairo"}]
        context["about"] = "Onboarding meeting"
        context["headings"] = WELCOME_HEADINGS
        context["working_hours"] = "—"
        context["roadmap"] = ["—"]
        return outbox.render_email(name, **context)


NAMES = ("Mona Adel", "Layla Nour", "NILE01", "INV-2026-0042", "Onboarding meeting")


@pytest.mark.parametrize("name", CLIENT_EMAILS)
def test_every_client_email_is_in_arabic_for_an_arabic_client(app, name):
    with app.test_request_context():
        arabic = _render(name, "ar")
        english = _render(name, "en")
    assert english_left(arabic, *NAMES) == []
    assert english != arabic and re.search(r"\b(Hello|Dear|Thank you)\b", english)
    assert "{{" not in arabic and "%(" not in arabic


@pytest.mark.parametrize("name", STAFF_EMAILS)
def test_the_staff_emails_stay_english(app, name):
    assert name not in CLIENT_EMAILS
    source = Path(app.jinja_loader.searchpath[0], "emails", name).read_text()
    assert "To staff, never the client" in source


def test_an_arabic_email_formats_dates_and_money_for_the_locale(app):
    """A reminder's due date and amount as an Arabic reader reads them."""
    with app.test_request_context():
        arabic = _render("invoice_reminder.txt", "ar")
        english = _render("invoice_reminder.txt", "en")
    assert "15 ديسمبر 2026" in arabic and "ج.م." in arabic and "12,000.00" in arabic
    assert "15 December 2026" in english and "EGP" in english


# The forecast and finance's pages format a few hundred amounts each: `i18n.money` reads the
# locale's pattern once per currency, and must write exactly what Babel writes.
AMOUNTS = st.one_of(
    st.decimals(min_value=-(10**12), max_value=10**12, places=4),
    st.decimals(min_value=-(10**15), max_value=10**15, allow_nan=False, allow_infinity=False),
    st.integers(-(10**18), 10**18).map(Decimal),
    st.sampled_from(
        [
            Decimal(0),
            Decimal("-0"),
            Decimal("0.005"),
            Decimal("-0.0049"),
            Decimal("0.5"),
            Decimal("1.5"),
            Decimal("2.5"),
            Decimal("999999.995"),
        ]
    ),
)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    amount=AMOUNTS,
    currency=st.sampled_from(["EGP", "SAR", "AED", "USD", "EUR", "KWD", "BHD", "JPY", "XXX"]),
    language=st.sampled_from(["en", "ar"]),
)
def test_money_is_written_as_babel_writes_it(app, amount, currency, language):
    """Negative, zero, large, 3-decimal (KWD, BHD) and 0-decimal (JPY) currencies, English
    and Arabic: the same text as Babel's `format_currency`."""
    with app.test_request_context(), force_locale(language):
        expected = format_currency(amount, currency, locale=language)
        assert i18n.money(amount, currency) == expected
        money = Money(amount, currency)  # rounded to the minor unit
        assert i18n.money(money) == format_currency(money.amount, currency, locale=language)


# --- Through the real services --------------------------------------------------------------


@pytest.fixture
def world(make_portfolio, login_as, frozen_clock, app):
    frozen_clock(NOW)
    app.config["PUBLIC_URL"] = "http://portal.example"

    def make(language: str):
        portfolio = make_portfolio(
            team={"name": f"Cairo {language}"},
            acm={"name": "Mona Adel", "email": f"mona-{language}@kam.example"},
            client={
                "store_name": "متجر النيل",
                "store_code": f"NILE{language}",
                "language": language,
            },
            contact={"name": "كريم سعيد", "email": f"karim-{language}@nile.example"},
        )
        return portfolio

    return make


def _latest_email(db, client) -> OutboxMessage:
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.client_id == client.id)
        .order_by(OutboxMessage.id.desc())
    ).first()


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_kyc_email_and_page_speak_the_clients_language(world, db, client, language):
    """O1: the emailed link's subject, body and the page it opens, in Arabic right-to-left
    for an Arabic client; the same in English for an English one."""
    portfolio = world(language)
    store, acm = portfolio.client, portfolio.acm
    message = kyc.send_link(store, actor=acm)
    db.session.commit()
    names = ("Mona Adel", store.store_code)
    page = client.get(re.search(r"https?://[^/\s]+(/kyc/\S+)", message.body).group(1))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    refused = client.post(page.request.path, data={"send": "y"})
    if language == "ar":
        assert message.subject == f"بعض الأسئلة حول متجر النيل – {store.store_code}"
        assert english_left(message.body, *names) == []
        assert '<html lang="ar" dir="rtl">' in html
        assert english_left(html, *names) == []
        assert "أين يقع نشاطكم التجاري؟" in html
        # The stored answer stays the English choice; its label is Arabic.
        assert 'value="Email"' in html and "البريد الإلكتروني" in html
        assert refused.status_code == 422
        assert "يُرجى الإجابة عن هذا السؤال." in refused.get_data(as_text=True)
        assert english_left(refused.get_data(as_text=True), *names) == []
    else:
        assert message.subject == f"A few questions about متجر النيل – {store.store_code}"
        assert "Please answer this short questionnaire" in message.body
        assert '<html lang="en" dir="ltr">' in html
        assert "Where is the business located?" in html
        assert "Please answer this question." in refused.get_data(as_text=True)


def test_an_expired_link_says_so_in_the_clients_language(world, db, client, frozen_clock):
    """O1: the refusal of a link that still tells whose it is speaks the client's language."""
    store = world("ar").client
    message = kyc.send_link(store, actor=store.acm)
    db.session.commit()
    frozen_clock(NOW + timedelta(days=60))
    response = client.get(re.search(r"https?://[^/\s]+(/kyc/\S+)", message.body).group(1))
    html = response.get_data(as_text=True)
    assert response.status_code == 410
    assert 'dir="rtl"' in html and "انتهت صلاحية هذا الرابط" in html
    assert english_left(html) == []


def test_an_altered_link_stays_english_it_tells_no_client(client):
    response = client.get("/kyc/not-a-token")
    assert response.status_code == 404
    assert 'dir="ltr"' in response.get_data(as_text=True)


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_welcome_email_is_drafted_and_sent_in_the_clients_language(world, db, language):
    """O2: the headings the portal checks are the client's language's; the Arabic draft is
    sent as drafted."""
    portfolio = world(language)
    store, acm = portfolio.client, portfolio.acm
    acm.booking_link = "https://cal.example/mona"
    db.session.commit()
    draft = onboarding.draft_welcome(store)
    if language == "ar":
        assert draft.subject == f"مرحبًا بكم في ExpandCart – {store.store_code}"
        assert "قنوات التواصل الرسمية" in draft.body and "ساعات العمل" in draft.body
        assert english_left(draft.body, "Mona Adel", store.store_code) == []
        shortened = draft.body.replace("قنوات التواصل الرسمية", "")
        with pytest.raises(ValidationError, match="قنوات التواصل الرسمية"):
            onboarding.send_welcome(store, actor=acm, body=shortened)
    message = onboarding.send_welcome(store, actor=acm, body=draft.body)
    if language == "en":
        assert draft.subject == f"Welcome to ExpandCart – {store.store_code}"
        assert "OFFICIAL CHANNELS" in draft.body
    assert message.body.strip() == draft.body.strip()


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_acceptance_and_survey_pages_speak_the_clients_language(
    world, db, client, login_as, language
):
    """C7: the acceptance page and the survey behind their links."""
    portfolio = world(language)
    store, acm = portfolio.client, portfolio.acm
    request = in_delivery(db, store, acm, due=[NOW.date()], done=1)
    http = login_as(acm)
    assert http.post(f"/customizations/{request.id}/acceptance/link").status_code in (200, 303)
    email = _latest_email(db, store)
    link = re.search(r"https?://[^/\s]+(/customization/accept/\S+)", email.body).group(1)
    page = client.get(link).get_data(as_text=True)
    done = client.post(link, data={"name": "كريم سعيد"}).get_data(as_text=True)
    assert http.post(f"/customizations/{request.id}/close").status_code == 303
    survey_email = _latest_email(db, store)
    survey = re.search(r"https?://[^/\s]+(/customization/survey/\S+)", survey_email.body).group(1)
    survey_page = client.get(survey).get_data(as_text=True)
    names = ("Mona Adel", store.store_code, "Milestone", "A shopper sees their points")
    if language == "ar":
        for text in (email.body, page, done, survey_email.body, survey_page):
            assert english_left(text, *names) == [], text
        assert 'dir="rtl"' in page and 'dir="rtl"' in survey_page
        assert "أقبل التسليم" in page and "ما تقييمكم لعملنا؟" in survey_page
    else:
        assert "I accept the delivery" in page and "How did we do?" in survey_page
        assert 'dir="ltr"' in page


def test_staff_pages_stay_english_whatever_the_browser_asks(world, login_as):
    portfolio = world("ar")
    http = login_as(portfolio.acm)
    page = http.get(f"/clients/{portfolio.client.id}", headers={"Accept-Language": "ar"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="en" dir="ltr">' in html and "متجر النيل" in html


# --- Arabic names on staff pages --------------------------------------------------------------


def test_arabic_store_names_show_and_sort_after_latin_ones(make_portfolio, login_as, make_client):
    """P2's client list sorted by store name: the Arabic names are shown as typed and sort
    after the Latin ones, in the Arabic alphabet's order (SQLite and PostgreSQL with a C
    collation alike; see the README)."""
    portfolio = make_portfolio(team={"name": "Riyadh"}, client={"store_name": "Zed Store"})
    for name in ("مكتبة النور", "بيت العود", "Apex Shop", "سوق الذهب"):
        make_client(acm=portfolio.acm, store_name=name)
    http = login_as(Role.ADMIN)
    html = http.get("/clients/?sort=name").get_data(as_text=True)
    shown = [n for n in re.findall(r">([^<>]+)</a>", html) if n.strip()]
    order = [
        n for n in shown if n in {"Apex Shop", "Zed Store", "بيت العود", "سوق الذهب", "مكتبة النور"}
    ]
    assert order == ["Apex Shop", "Zed Store", "بيت العود", "سوق الذهب", "مكتبة النور"]
