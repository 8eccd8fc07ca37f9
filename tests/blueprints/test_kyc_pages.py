"""The KYC questionnaire through HTTP (O1): the client's form behind the emailed link (no
login; saved and resumed, submitted once; refused links say why and name nothing of any
client), and the ACM's page (the link sent, resent and revoked; the answers filled in
during a call; someone else's client hidden)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import render_template
from sqlalchemy import select

from kamportal.models import KycQuestionnaire, OutboxMessage, Role, TimelineEvent, TimelineKind
from kamportal.services import kyc
from kamportal.services.kyc_questions import CHOICE, LONG_TEXT, QUESTIONS

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}
MISSING = "Please answer this question."


def text(response) -> str:
    return response.get_data(as_text=True)


def full_answers() -> dict[str, str]:
    """An answer to every question that needs one (the optional ones left blank)."""
    return {
        key: (q.choices[0] if q.kind == CHOICE else f"About {key}")
        for key, q in QUESTIONS.items()
        if not q.optional
    }


def field_block(page: str, key: str) -> str:
    """The markup of one question on a page: its field, hint and messages."""
    start = page.index(f'id="field-{key}"')
    end = page.find('id="field-', start + 1)
    return page[start : end if end != -1 else len(page)]


def is_checked(page: str, key: str, value: str) -> bool:
    [radio] = re.findall(rf'<input[^>]*name="{key}"[^>]*value="{re.escape(value)}"[^>]*>', page)
    return " checked" in radio


def stored(db, store) -> KycQuestionnaire | None:
    db.session.expire_all()
    return kyc.questionnaire_of(store)


@pytest.fixture
def world(make_portfolio, login_as, frozen_clock):
    frozen_clock(NOW)
    cairo = make_portfolio(
        team={"name": "Cairo"},
        leader={"name": "Layla Nour", "email": "leader@kam.example"},
        acm={"name": "Mona Adel", "email": "mona@kam.example"},
        client={"store_name": "Nile Crafts", "store_code": "NILE01"},
        contact={"name": "Karim Said", "email": "karim@nile.example", "is_primary": True},
    )
    dubai = make_portfolio(
        team={"name": "Dubai"},
        leader=False,
        acm={"name": "Omar Zaki"},
        client={"store_name": "Delta Spices", "store_code": "DELTA1"},
        contact={"name": "Sara Fathy", "email": "sara@delta.example", "is_primary": True},
    )
    return {
        "leader": cairo.leader,
        "acm": cairo.acm,
        "other_acm": dubai.acm,
        "store": cairo.client,
        "other": dubai.client,
        "http": login_as(cairo.acm),
    }


def send_link(http, store) -> str:
    """The ACM emails the link from the KYC page; the path the client's email links to."""
    response = http.post(f"/clients/{store.id}/kyc/link")
    assert response.status_code == 303, text(response)[:500]
    return link_in_latest_email(store)


def link_in_latest_email(store) -> str:
    from kamportal.extensions import db

    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.client_id == store.id)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, "no email to the client"
    match = re.search(r"https?://[^/\s]+(/kyc/\S+)", message.body)
    assert match, message.body
    return match.group(1)


# --- The client's form --------------------------------------------------------------------


def test_the_client_opens_the_link_without_login_and_sees_the_questions(world, client):
    """O1: no login; the store's name and every question, as a line, a paragraph or radio
    buttons; nothing of the portal, and the page is neither cached nor referred."""
    link = send_link(world["http"], world["store"])
    response = client.get(link)
    page = text(response)
    assert response.status_code == 200, page[:500]
    assert "Nile Crafts" in page
    for question in QUESTIONS.values():
        assert question.text.replace("'", "&#39;") in page or question.text in page
    assert re.search(r'<input[^>]*name="location"[^>]*type="text"', page)
    assert re.search(r'<textarea[^>]*name="main_products"', page)
    assert re.search(r'<input[^>]*name="communication"[^>]*type="radio"[^>]*value="Email"', page)
    assert 'name="csrf_token"' in page and "Save and continue later" in page
    # Nothing of the portal or of whoever works on the client.
    for portal in ("Sign out", "My day", "Mona Adel", "karim@nile.example", "/clients/"):
        assert portal not in page
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_link_shows_nothing_of_the_portal_even_to_a_signed_in_user(world):
    """O1: an ACM opening the client's link (to check it) sees the client's page, not the
    portal's navigation; htmx keeps no history of it and swaps a closed link's 410."""
    http = world["http"]
    page = text(http.get(send_link(http, world["store"])))
    assert "Nile Crafts" in page
    for portal in ("Sign out", "My day", "Mona Adel"):
        assert portal not in page
    assert '"historyCacheSize": 0' in page and '{"code": "410", "swap": true}' in page
    assert '<meta name="robots" content="noindex, nofollow">' in page
    # The portal's own pages keep their navigation and history.
    day = text(http.get("/day/"))
    assert "Sign out" in day and '"historyCacheSize": 10' in day and '"410"' not in day


def test_saved_answers_come_back_and_the_link_keeps_working(world, client, db):
    """O1: the client saves, leaves, and finds the answers again through the same link."""
    link = send_link(world["http"], world["store"])
    response = client.post(
        link, data={"location": "Cairo, Egypt", "communication": "Email", "save": "y"}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(link)
    page = text(client.get(link))
    assert "Saved." in page
    assert 'value="Cairo, Egypt"' in page
    assert is_checked(page, "communication", "Email")
    assert not is_checked(page, "communication", "Phone calls")
    questionnaire = stored(db, world["store"])
    assert questionnaire.answers == {"location": "Cairo, Egypt", "communication": "Email"}
    assert questionnaire.submitted_at is None and questionnaire.status == "started"

    # With htmx the form swaps itself: the answers, and "Saved" by the buttons.
    response = client.post(
        link, data={"location": "Giza, Egypt", "marketing": "Outsourced"}, headers=HTMX
    )
    fragment = text(response)
    assert response.status_code == 200
    assert "<html" not in fragment and 'id="kyc-form"' in fragment
    assert 'id="kyc-saved"' in fragment and 'value="Giza, Egypt"' in fragment
    assert is_checked(fragment, "marketing", "Outsourced")
    assert not is_checked(fragment, "communication", "Email")  # left blank this time
    assert stored(db, world["store"]).answers == {
        "location": "Giza, Egypt",
        "marketing": "Outsourced",
    }
    assert client.get(link).status_code == 200


def test_submitting_with_a_missing_answer_is_refused_with_nothing_saved(world, client, db):
    """O1: every question not marked optional needs an answer to submit; the message is
    next to the question, the answers typed stay on the form, and nothing is stored."""
    link = send_link(world["http"], world["store"])
    client.post(link, data={"location": "Cairo, Egypt", "save": "y"})
    answers = {**full_answers(), "send": "y"}
    del answers["industry"]

    response = client.post(link, data=answers)
    page = text(response)
    assert response.status_code == 422
    assert "<html" in page and "Nile Crafts" in page
    assert MISSING in field_block(page, "industry")
    assert MISSING not in field_block(page, "location")
    assert 'href="#field-industry"' in page  # the top of the form points at it
    assert 'value="About area_of_interest"' in page  # what was typed is still there
    questionnaire = stored(db, world["store"])
    assert questionnaire.answers == {"location": "Cairo, Egypt"}
    assert questionnaire.submitted_at is None

    response = client.post(link, data=answers, headers=HTMX)
    fragment = text(response)
    assert response.status_code == 422
    assert "<html" not in fragment and 'id="kyc-form"' in fragment
    assert MISSING in field_block(fragment, "industry")
    assert stored(db, world["store"]).answers == {"location": "Cairo, Egypt"}


def test_an_answer_outside_the_choices_is_refused_on_its_question(world, client, db):
    link = send_link(world["http"], world["store"])
    response = client.post(link, data={"communication": "Carrier pigeon", "save": "y"})
    assert response.status_code == 422
    assert "Choose one of the answers offered." in field_block(text(response), "communication")
    assert stored(db, world["store"]).answers == {}


def test_submitting_thanks_the_client_and_closes_the_link(world, client, db):
    """O1: submitted, the answers are stored on the client, the timeline says so, and the
    link then opens only the "submitted already" page (410), naming nothing."""
    link = send_link(world["http"], world["store"])
    response = client.post(link, data={**full_answers(), "send": "y"})
    page = text(response)
    assert response.status_code == 200
    assert "Thank you" in page and 'data-kyc="submitted"' in page
    assert "About industry" not in page
    questionnaire = stored(db, world["store"])
    assert questionnaire.submitted_at == NOW and questionnaire.submitted_by_id is None
    assert questionnaire.answers == full_answers()
    kinds = db.session.scalars(
        select(TimelineEvent.kind).where(TimelineEvent.client_id == world["store"].id)
    ).all()
    assert TimelineKind.KYC_SUBMITTED in kinds

    again = client.get(link)
    assert again.status_code == 410
    assert "submitted already" in text(again)
    assert "Nile Crafts" not in text(again) and "About industry" not in text(again)
    assert again.headers["Cache-Control"] == "no-store"
    # A second post changes nothing.
    assert client.post(link, data={"industry": "Changed", "save": "y"}).status_code == 410
    assert stored(db, world["store"]).answers == full_answers()


def test_submitting_with_htmx_swaps_the_thank_you_in(world, client, db):
    link = send_link(world["http"], world["store"])
    response = client.post(link, data={**full_answers(), "send": "y"}, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#kyc-page"
    fragment = text(response)
    assert "<html" not in fragment and "Thank you" in fragment
    # A form left open in another tab: its next save is answered with the reason.
    refused = client.post(link, data={"industry": "x", "save": "y"}, headers=HTMX)
    assert refused.status_code == 410 and refused.headers["HX-Retarget"] == "#kyc-page"
    assert "<html" not in text(refused) and "submitted already" in text(refused)


def test_an_expired_link_says_so_and_names_nothing(world, client, frozen_clock, db):
    """O1: the link works 14 days (KYC_LINK_DAYS), then says it expired."""
    link = send_link(world["http"], world["store"])
    client.post(link, data={"location": "Cairo, Egypt", "save": "y"})
    frozen_clock(NOW + timedelta(days=14, minutes=1))
    for response in (client.get(link), client.post(link, data={"save": "y"})):
        page = text(response)
        assert response.status_code == 410
        assert "This link has expired" in page and 'data-link-refused="expired"' in page
        for secret in ("Nile Crafts", "NILE01", "Cairo, Egypt", "karim@nile.example", "Karim"):
            assert secret not in page
    assert stored(db, world["store"]).answers == {"location": "Cairo, Egypt"}


def test_a_revoked_or_replaced_link_no_longer_works(world, client):
    """O1: revoking stops the link at once; a new link replaces the older one."""
    http = world["http"]
    first = send_link(http, world["store"])
    second = send_link(http, world["store"])
    assert first != second
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    assert http.post(f"/clients/{world['store'].id}/kyc/revoke").status_code == 303
    response = client.get(second)
    page = text(response)
    assert response.status_code == 410
    assert "no longer works" in page and 'data-link-refused="revoked"' in page
    assert "Nile Crafts" not in page


@pytest.mark.parametrize("token", ["not-a-token", "altered"])
def test_an_altered_link_is_not_found_and_names_nothing(world, client, token):
    link = send_link(world["http"], world["store"])
    if token == "altered":
        token = link.removeprefix("/kyc/")[:-2] + ("AA" if not link.endswith("AA") else "BB")
    response = client.get(f"/kyc/{token}")
    page = text(response)
    assert response.status_code == 404
    assert "not valid" in page and 'data-link-refused="altered"' in page
    assert "Nile Crafts" not in page and "Delta Spices" not in page
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_another_clients_link_never_shows_this_clients_answers(world, client, login_as, db):
    """O1: a link opens one client's questionnaire, whoever holds it."""
    nile = send_link(world["http"], world["store"])
    delta = send_link(login_as(world["other_acm"]), world["other"])
    client.post(nile, data={"location": "Aswan, Egypt", "industry": "Crafts", "save": "y"})

    page = text(client.get(delta))
    assert "Delta Spices" in page
    assert "Nile Crafts" not in page and "Aswan, Egypt" not in page and "Crafts" not in page
    client.post(delta, data={"location": "Tanta, Egypt", "save": "y"})
    assert stored(db, world["store"]).answers == {"location": "Aswan, Egypt", "industry": "Crafts"}
    assert stored(db, world["other"]).answers == {"location": "Tanta, Egypt"}
    assert "Tanta, Egypt" not in text(client.get(nile))


def test_the_form_is_refused_without_its_csrf_token(world, client, db):
    link = send_link(world["http"], world["store"])
    response = client.post(link, data={"location": "x", "save": "y"}, csrf=False)
    assert response.status_code == 400
    assert stored(db, world["store"]).answers == {}


@pytest.mark.config(RATELIMIT_ENABLED=True, KYC_RATE_LIMIT="2 per minute")
def test_the_link_is_rate_limited(world, client):
    link = send_link(world["http"], world["store"])
    assert [client.get(link).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(link).headers["Cache-Control"] == "no-store"


# --- The ACM's page -----------------------------------------------------------------------


def test_the_acm_sends_the_link_from_the_page(world, db):
    """O1 with G1: the link goes to the client's contact, the team leader in CC; the
    status and the timeline follow."""
    http, store = world["http"], world["store"]
    page = text(http.get(f"/clients/{store.id}/kyc"))
    assert 'data-kyc-status="not_sent"' in page and 'id="kyc-send-link"' in page
    assert "karim@nile.example" in page  # where the link will go

    response = http.post(f"/clients/{store.id}/kyc/link", headers=HTMX)
    fragment = text(response)
    assert response.status_code == 200, fragment[:500]
    assert "<html" not in fragment and 'id="kyc-status"' in fragment
    assert 'data-kyc-status="sent"' in fragment and "Send a new link" in fragment
    assert "karim@nile.example" in fragment and 'id="kyc-revoke-link"' in fragment
    assert "timeline-changed" in json.loads(response.headers["HX-Trigger"])
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.to_addrs == ["karim@nile.example"]
    assert "leader@kam.example" in message.cc_addrs
    assert "/kyc/" in message.body
    questionnaire = stored(db, store)
    assert questionnaire.link_sent_to == "karim@nile.example"
    assert questionnaire.link_expires_at == NOW + timedelta(days=14)

    # Without htmx: back to the KYC page, told.
    response = http.post(f"/clients/{store.id}/kyc/link")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/clients/{store.id}/kyc")
    assert "KYC link emailed" in text(http.get(response.headers["Location"]))


def test_sending_without_a_contact_email_is_refused_with_a_clear_message(world, make_client, db):
    http = world["http"]
    bare = make_client(acm=world["acm"], store_name="No Mail Store")
    page = text(http.get(f"/clients/{bare.id}/kyc"))
    assert "No contact has an email address" in page
    response = http.post(f"/clients/{bare.id}/kyc/link", headers=HTMX)
    assert response.status_code == 422
    assert "Add the client&#39;s contact with an email address first." in text(response)
    assert 'id="kyc-status"' in text(response) and "<html" not in text(response)
    response = http.post(f"/clients/{bare.id}/kyc/link")
    assert response.status_code == 422
    assert "Add the client&#39;s contact with an email address first." in text(response)
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_the_acm_revokes_the_link(world, client, db):
    http, store = world["http"], world["store"]
    link = send_link(http, store)
    response = http.post(f"/clients/{store.id}/kyc/revoke", headers=HTMX)
    fragment = text(response)
    assert response.status_code == 200 and "<html" not in fragment
    assert 'id="kyc-status"' in fragment and "Revoked" in fragment
    assert 'id="kyc-revoke-link"' not in fragment
    assert "timeline-changed" in json.loads(response.headers["HX-Trigger"])
    assert stored(db, store).link_nonce is None
    assert client.get(link).status_code == 410
    # Nothing left to revoke: said so.
    response = http.post(f"/clients/{store.id}/kyc/revoke", headers=HTMX)
    assert response.status_code == 422 and "There is no KYC link to revoke." in text(response)


def test_the_acm_fills_the_answers_in_during_a_call(world, client, db):
    """O1: the ACM saves what the client says, then submits for them; the client's link
    closes."""
    http, store = world["http"], world["store"]
    link = send_link(http, store)
    url = f"/clients/{store.id}/kyc"
    response = http.post(url, data={"location": "Luxor, Egypt", "trend": "Uptrend", "save": "y"})
    assert response.status_code == 303
    page = text(http.get(url))
    assert "KYC answers saved." in page
    assert 'data-answer="location">Luxor, Egypt' in page  # the read view
    assert 'value="Luxor, Egypt"' in page and is_checked(page, "trend", "Uptrend")
    assert 'data-kyc-status="started"' in page
    assert "by Mona Adel" in page

    missing = {**full_answers(), "send": "y"}
    del missing["main_products"]
    response = http.post(url, data=missing, headers=HTMX)
    fragment = text(response)
    assert response.status_code == 422
    assert "<html" not in fragment and 'id="kyc-workspace"' in fragment
    assert MISSING in field_block(fragment, "main_products")
    assert " open" in fragment[fragment.index('id="kyc-fill"') :][:40]
    assert stored(db, store).answers == {"location": "Luxor, Egypt", "trend": "Uptrend"}

    response = http.post(url, data={**full_answers(), "send": "y"}, headers=HTMX)
    fragment = text(response)
    assert response.status_code == 200 and "<html" not in fragment
    assert 'data-kyc-status="submitted"' in fragment and "during a call" in fragment
    assert "Submit for the client" not in fragment and "Save the corrections" in fragment
    assert "timeline-changed" in json.loads(response.headers["HX-Trigger"])
    questionnaire = stored(db, store)
    assert questionnaire.submitted_by_id == world["acm"].id
    assert client.get(link).status_code == 410

    # The ACM may still correct an answer after the submission.
    corrected = {**full_answers(), "industry": "Handmade crafts", "save": "y"}
    assert http.post(url, data=corrected).status_code == 303
    assert stored(db, store).answers["industry"] == "Handmade crafts"


def test_someone_elses_client_is_hidden_and_other_roles_refused(world, login_as, db):
    store = world["store"]
    stranger = login_as(world["other_acm"])
    for method, url in (
        ("GET", f"/clients/{store.id}/kyc"),
        ("POST", f"/clients/{store.id}/kyc"),
        ("POST", f"/clients/{store.id}/kyc/link"),
        ("POST", f"/clients/{store.id}/kyc/revoke"),
    ):
        response = stranger.open(url, method=method, data={"location": "x", "save": "y"})
        assert response.status_code == 404, url
        assert "Nile Crafts" not in text(response)
    assert login_as(Role.FINANCE).get(f"/clients/{store.id}/kyc").status_code == 403
    # The team leader sees it.
    assert login_as(world["leader"]).get(f"/clients/{store.id}/kyc").status_code == 200
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert stored(db, store) is None


# --- The client page's summary ------------------------------------------------------------


def test_the_summary_shows_the_status_the_link_and_the_first_answers(world, app, db):
    """The partial the client page's onboarding panel includes."""
    store = world["store"]
    with app.test_request_context():
        html = render_template("onboarding/_kyc_summary.html", client=store, questionnaire=None)
    assert 'data-kyc-status="not_sent"' in html and 'id="kyc-send-link"' in html
    assert f'href="/clients/{store.id}/kyc"' in html and "Open KYC" in html

    answers = {"location": "Cairo, Egypt", "industry": "Crafts", "marketing": "In-house"}
    answers |= {"main_products": "Pottery", "trend": "Stable", "unique": "Yes"}
    questionnaire = kyc.answers_for_acm(store, answers, actor=world["acm"])
    with app.test_request_context():
        kyc.send_link(store, actor=world["acm"], base_url="http://localhost/")
        db.session.commit()
        html = render_template(
            "onboarding/_kyc_summary.html", client=store, questionnaire=questionnaire
        )
        # Looked up when the including page does not give it.
        assert 'data-kyc-status="started"' in render_template(
            "onboarding/_kyc_summary.html", client=store
        )
    assert 'data-kyc-status="started"' in html and "Send a new link" in html
    assert "Cairo, Egypt" in html and "Crafts" in html and "In-house" in html
    assert "Pottery" in html and "Stable" not in html  # the first four, in order
    assert "2 more answers" in html
    assert "karim@nile.example" in html


def test_the_form_kinds_follow_the_questions_data():
    """Guard: the form is built from the data, so a question's kind decides its input."""
    from kamportal.blueprints.onboarding.kyc_forms import KycForm

    kinds = {"text": "StringField", LONG_TEXT: "TextAreaField", CHOICE: "RadioField"}
    for key, question in QUESTIONS.items():
        assert getattr(KycForm, key).field_class.__name__ == kinds[question.kind]
