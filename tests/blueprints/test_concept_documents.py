"""The concept document's pages (C5): written on the request's page (rows added and
removed, bad input back on the form), printed and downloaded as a PDF, sent and revoked in
place, approved by the client on their page without a login (which never answers 5xx), or
by the signed copy the ACM uploads."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from kamportal import clock
from kamportal.extensions import db as _db
from kamportal.models import CustomizationStage, OutboxMessage, Role
from tests.client_view import readable
from tests.services.concept_world import request_in_concept, write

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(app, make_portfolio, login_as, frozen_clock):
    frozen_clock(NOW)
    app.config["PUBLIC_URL"] = "http://localhost"
    cairo = make_portfolio(
        client={"store_name": "Nile Crafts", "store_code": "NILE01"},
        contact={"name": "Karim Client", "email": "karim@nile.example", "is_primary": True},
    )
    request = request_in_concept(cairo.client, actor=cairo.acm)
    return {
        "acm": cairo.acm,
        "request": request,
        "http": login_as(cairo.acm),
        "base": f"/customizations/{request.id}",
    }


def form_data(**more):
    data = {
        "scope": "Points on orders",
        "activities": "Design\nBuild",
        "exit_criteria": "A test order paid with points",
        "milestones-0-title": "Earn points",
        "milestones-0-kind": "basic",
        "milestones-0-due_on": "2026-12-20",
    }
    data.update(more)
    return data


def sent_token(world) -> str:
    request = _db.session.get(type(world["request"]), world["request"].id)
    if request.concept is None:
        write(request, actor=world["acm"])
    response = world["http"].post(f"{world['base']}/concept/send", headers=HTMX)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = _db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first().body
    return re.search(r"/concept/(\S+)", body).group(1)


def test_the_request_page_offers_to_write_it_prefilled_from_the_scope_C5(world):
    page = world["http"].get(world["base"]).get_data(as_text=True)
    assert 'id="concept-panel"' in page and "Write the concept document" in page
    form = world["http"].get(f"{world['base']}/concept/edit").get_data(as_text=True)
    assert "Points earned on every order, spent at checkout" in form


def test_writing_it_saves_and_shows_it_C5(world):
    response = world["http"].post(f"{world['base']}/concept/edit", data=form_data())
    assert response.status_code == 303
    page = world["http"].get(world["base"]).get_data(as_text=True)
    assert "Earn points" in page and "Written, not sent" in page


def test_rows_are_added_and_removed_without_saving_C5(world):
    url = f"{world['base']}/concept/edit"
    added = world["http"].post(url, data=form_data(row_action="add"), headers=HTMX)
    assert added.status_code == 200
    assert 'name="milestones-1-title"' in added.get_data(as_text=True)
    removed = world["http"].post(
        url,
        data=form_data(**{"milestones-1-title": "Extra", "row_action": "remove-0"}),
        headers=HTMX,
    )
    text = removed.get_data(as_text=True)
    assert 'value="Extra"' in text and "Earn points" not in text
    assert world["request"].concept is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scope", "Points\x00"),
        ("activities", ""),
        ("milestones-0-due_on", "9999-12-31"),
        ("milestones-0-due_on", "2026-12-01"),
        ("milestones-0-kind", "extra"),
        ("milestones-0-title", "x" * 201),
    ],
)
def test_bad_input_comes_back_on_the_form_C5(world, field, value):
    response = world["http"].post(
        f"{world['base']}/concept/edit", data=form_data(**{field: value}), headers=HTMX
    )
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    _db.session.expire_all()
    assert world["request"].concept is None


def test_the_printable_page_and_the_pdf_show_the_document_C5(world):
    write(world["request"], actor=world["acm"])
    page = world["http"].get(f"{world['base']}/concept").get_data(as_text=True)
    assert "Milestone 1" in page and "Extra requirement" in page
    pdf = world["http"].get(f"{world['base']}/concept.pdf")
    assert pdf.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "Milestone 1" in text and "Loyalty points" in text


def test_no_printable_page_before_it_is_written_C5(world):
    assert world["http"].get(f"{world['base']}/concept").status_code == 404
    assert world["http"].get(f"{world['base']}/concept.pdf").status_code == 404


def test_sending_and_revoking_answer_the_panel_in_place_C5(world):
    sent_token(world)
    response = world["http"].post(f"{world['base']}/concept/revoke", headers=HTMX)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'id="concept-panel"' in text and "withdrawn" in text
    assert "concept-changed" in response.headers["HX-Trigger"]
    again = world["http"].post(f"{world['base']}/concept/revoke", headers=HTMX)
    assert again.status_code == 422


def test_sending_before_writing_is_refused_in_place_C5(world):
    response = world["http"].post(f"{world['base']}/concept/send", headers=HTMX)
    assert response.status_code == 422


def test_the_client_approves_on_their_page_without_a_login_C5(world, client):
    token = sent_token(world)
    page = client.get(f"/concept/{token}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Earn points" not in text  # the document as written by the helper
    assert "Milestone 1" in text and "Approve" in text
    assert page.headers["Cache-Control"] == "no-store"
    for internal in ("SAL-", "C5", "NILE01", "rule"):
        assert internal not in readable(text)
    assert client.get(f"/concept/{token}/pdf").mimetype == "application/pdf"
    refused = client.post(f"/concept/{token}", data={"full_name": "", "agree": "y"})
    assert refused.status_code == 422
    done = client.post(
        f"/concept/{token}",
        data={"full_name": "Karim Client", "agree": "y"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert done.status_code == 200 and "Thank you" in done.get_data(as_text=True)
    _db.session.expire_all()
    concept = world["request"].concept
    assert (concept.approved_name, concept.approved_address) == ("Karim Client", "203.0.113.9")
    assert world["request"].stage == CustomizationStage.INVOICING.value
    assert client.get(f"/concept/{token}").status_code == 410  # used


@pytest.mark.parametrize("token", ["x", "a" * 400, "%00", "..%2F..%2Fetc", "\u202e"])
def test_the_clients_page_never_answers_5xx_C5(world, client, token):
    for method in ("get", "post"):
        response = getattr(client, method)(f"/concept/{token}")
        assert response.status_code == 404


def test_an_expired_link_says_so_C5(world, client):
    token = sent_token(world)
    clock.advance(timedelta(days=14))
    response = client.get(f"/concept/{token}", headers=HTMX)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert response.headers["HX-Retarget"] == "#concept-page"


def test_the_acm_uploads_the_signed_copy_C5(world):
    write(world["request"], actor=world["acm"])
    url = f"{world['base']}/concept/signed-copy"
    bad = world["http"].post(
        url,
        data={"signed_by": "Karim", "signed_copy": (io.BytesIO(b"MZ"), "x.exe")},
        headers=HTMX,
    )
    assert bad.status_code == 422 and bad.headers["HX-Retarget"] == "#concept-panel"
    done = world["http"].post(
        url,
        data={"signed_by": "Karim", "signed_copy": (io.BytesIO(b"%PDF-1.7 x"), "signed.pdf")},
    )
    assert done.status_code == 303
    _db.session.expire_all()
    assert world["request"].concept.approved_via == "signed_copy"


def test_someone_elses_acm_cannot_write_it_C5(world, login_as):
    other = login_as(Role.ACM)
    assert other.get(f"{world['base']}/concept/edit").status_code == 404


def test_the_days_concept_section_costs_the_same_for_2_or_8_requests_C5(
    app, make_portfolio, login_as, frozen_clock
):
    """C5 on the ACM's day: no query per request (the links are read in one)."""
    from tests.blueprints.test_query_counts import counting_queries

    frozen_clock(NOW)
    app.config["PUBLIC_URL"] = "http://localhost"

    def measure(size: int) -> int:
        cairo = make_portfolio(contact={"email": "karim@nile.example"})
        for n in range(size):
            request = request_in_concept(cairo.client, actor=cairo.acm)
            if n % 2:
                write(request, actor=cairo.acm)
        http = login_as(cairo.acm)
        with counting_queries(_db.engine) as statements:
            response = http.get("/day/items/concepts", headers=HTMX)
        assert response.status_code == 200
        assert response.get_data(as_text=True).count("Concept document of") == size
        return len(statements)

    assert measure(2) == measure(8)
