"""Customization requests through HTTP (C1-C3): the ACM opens one from the client page with
attachments (type, content and size checked, refusals on the form with 422 and nothing
kept), downloads go only to who may see the request, product lands on its queue and
decides (a reason for rejecting and holding), the ACM sees the reason and answers a hold;
product's queue issues as many queries for 2 requests as for 30."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from kamportal import clock
from kamportal.models import CustomizationAttachment, CustomizationRequest, Role
from kamportal.services import customizations
from tests.blueprints.test_query_counts import counting_queries

PDF = b"%PDF-1.7 the scope"


@pytest.fixture
def world(db, make_portfolio, make_user, login_as, frozen_clock):
    portfolio = make_portfolio(leader={"email": "leader@kam.example"}).as_dict()
    product = make_user(Role.PRODUCT, email="product@kam.example")
    return {
        **portfolio,
        "product": product,
        "acm_http": login_as(portfolio["acm"]),
        "product_http": login_as(product),
    }


def request_form(**fields) -> dict:
    values = {
        "title": "Loyalty points",
        "end_result": "Points at checkout",
        "users": "Returning customers",
        "done_when": "A test order paid with points",
        "wanted_by": (date.today() + timedelta(days=30)).isoformat(),
    }
    values.update(fields)
    return values


def asked(world, db, title: str = "x", uploads=()):
    """A request opened through the service (C1), committed."""
    request = customizations.open_request(
        world["client"],
        actor=world["acm"],
        title=title,
        end_result="x",
        users="x",
        done_when="x",
        wanted_by=date.today(),
        uploads=uploads,
    )
    db.session.commit()
    return request


def open_by_http(world, **fields):
    return world["acm_http"].post(
        f"/clients/{world['client'].id}/customizations/new",
        data=request_form(**fields),
        content_type="multipart/form-data",
    )


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored_files(app) -> list:
    folder = customizations.attachments_dir()
    return list(folder.iterdir()) if folder.exists() else []


def test_the_acm_opens_a_request_from_the_client_page_with_attachments_C1_C2(world, db, app):
    page = world["acm_http"].get(f"/clients/{world['client'].id}?tab=growth").get_data(as_text=True)
    assert f"/clients/{world['client'].id}/customizations/new" in page
    form = world["acm_http"].get(f"/clients/{world['client'].id}/customizations/new")
    assert 'enctype="multipart/form-data"' in form.get_data(as_text=True)

    response = open_by_http(
        world,
        attachments=[(io.BytesIO(PDF), "scope.pdf"), (io.BytesIO(b"\x89PNG\r\n\x1a\n"), "a.png")],
    )
    assert response.status_code == 303
    request = db.session.scalars(select(CustomizationRequest)).one()
    assert response.headers["Location"].endswith(f"/customizations/{request.id}")
    shown = world["acm_http"].get(f"/customizations/{request.id}").get_data(as_text=True)
    assert f"SAL-{request.id}" in shown and "Points at checkout" in shown
    assert "2 days left" in shown and "scope.pdf" in shown
    assert [a.filename for a in request.attachments] == ["scope.pdf", "a.png"]
    assert len(stored_files(app)) == 2
    # On the client page's panel, awaiting product.
    page = world["acm_http"].get(f"/clients/{world['client'].id}?tab=growth").get_data(as_text=True)
    line = page.split(f'id="customization-{request.id}"', 1)[1].split("</li>", 1)[0]
    assert "Awaiting a decision" in line and 'data-owner="Product"' in line


@pytest.mark.parametrize(
    "upload, error",
    [
        ((io.BytesIO(b"MZ..."), "tool.exe"), "attach a PDF"),
        ((io.BytesIO(b"<html>"), "scope.pdf"), "not the PDF file its name says"),
        ((io.BytesIO(b"PK\x03\x04 broken"), "notes.docx"), "not the DOCX file"),
    ],
)
def test_a_file_of_another_type_is_refused_on_the_form_and_nothing_kept_C1(
    world, db, app, upload, error
):
    response = open_by_http(world, attachments=[upload])
    assert response.status_code == 422
    assert error in response.get_data(as_text=True)
    assert count(db, CustomizationRequest) == 0 and stored_files(app) == []


def test_a_file_past_the_size_setting_is_refused_and_a_body_past_the_limit_is_413_C1(
    world, db, app, monkeypatch
):
    monkeypatch.setitem(app.config, "CUSTOMIZATION_ATTACHMENT_MAX_BYTES", 1024)
    response = open_by_http(world, attachments=[(io.BytesIO(b"%PDF-" + b"x" * 1100), "big.pdf")])
    assert response.status_code == 422
    assert "larger than" in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    response = open_by_http(world, attachments=[(io.BytesIO(b"%PDF-" + b"x" * 8000), "big.pdf")])
    assert response.status_code == 413
    assert count(db, CustomizationRequest) == 0 and stored_files(app) == []


def test_an_attachment_downloads_only_to_who_may_see_the_request(world, db, login_as, make_user):
    request = asked(world, db, uploads=[customizations.Upload("Scope of work.pdf", PDF)])
    [attachment] = request.attachments
    url = f"/customizations/{request.id}/attachments/{attachment.id}"
    for http in (world["acm_http"], world["product_http"], login_as(world["leader"])):
        response = http.get(url)
        assert response.status_code == 200
        assert response.data == PDF
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert "Scope" in response.headers["Content-Disposition"]
    assert login_as(make_user(Role.ACM)).get(url).status_code == 404
    assert login_as(Role.FINANCE).get(url).status_code == 403
    # An attachment named under another request's id names nothing.
    other = asked(world, db)
    assert (
        world["acm_http"].get(f"/customizations/{other.id}/attachments/{attachment.id}").status_code
        == 404
    )


def test_product_lands_on_its_queue_and_decides_with_a_reason_the_acm_sees_C3(world, db):
    response = open_by_http(world)
    request = db.session.scalars(select(CustomizationRequest)).one()
    home = world["product_http"].get("/").get_data(as_text=True)
    assert "Customization requests to decide" in home and f"SAL-{request.id}" in home
    assert "2 days left" in home
    # Product sees the request, never the client's page.
    assert world["product_http"].get(f"/customizations/{request.id}").status_code == 200
    assert world["product_http"].get(f"/clients/{world['client'].id}").status_code == 403

    url = f"/customizations/{request.id}/decision"
    response = world["product_http"].post(url, data={"decision": "rejected", "reason": ""})
    assert response.status_code == 422
    assert "the account manager needs the reason" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CustomizationRequest, request.id).status == "awaiting_decision"

    response = world["product_http"].post(
        url, data={"decision": "rejected", "reason": "The courier has no API."}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/customizations/")
    page = world["acm_http"].get(f"/clients/{world['client'].id}?tab=growth").get_data(as_text=True)
    assert "Reason: The courier has no API." in page
    overview = world["acm_http"].get(f"/clients/{world['client'].id}").get_data(as_text=True)
    assert "Customization SAL-" in overview  # on the timeline
    assert world["acm_http"].post(url, data={"decision": "accepted"}).status_code == 403


def test_the_acm_answers_a_hold_and_it_is_back_in_products_queue_C3(world, db):
    open_by_http(world)
    request = db.session.scalars(select(CustomizationRequest)).one()
    world["product_http"].post(
        f"/customizations/{request.id}/decision",
        data={"decision": "on_hold", "reason": "How many price lists?"},
    )
    day = world["acm_http"].get("/").get_data(as_text=True)
    assert "on hold: answer product" in day and "How many price lists?" in day
    url = f"/customizations/{request.id}/answer"
    assert world["acm_http"].post(url, data={"answer": ""}).status_code == 422
    response = world["acm_http"].post(url, data={"answer": "Two, kept by the client"})
    assert response.status_code == 303
    queue = world["product_http"].get("/customizations/").get_data(as_text=True)
    assert f"SAL-{request.id}" in queue and "2 days left" in queue


def test_product_queue_queries_do_not_grow_with_the_requests(world, db):
    def queue_queries(size: int) -> int:
        for n in range(size):
            asked(world, db, f"Request {n}", uploads=[customizations.Upload(f"s{n}.pdf", PDF)])
            clock.advance(timedelta(minutes=1))
        with counting_queries(db.engine) as statements:
            assert world["product_http"].get("/customizations/").status_code == 200
        return len(statements)

    assert queue_queries(2) == queue_queries(28)
    assert count(db, CustomizationAttachment) == 30
