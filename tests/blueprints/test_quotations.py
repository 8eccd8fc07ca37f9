"""The quotation's pages (C4, R9, C6, R8): product's period and commercial's price on the
request's page (in place with HTMX, the page again without), commercial reaching only the
requests it prices, the ACM's discount request and invoice, the queues' parts to estimate
and to price without N+1, bad input answered with the form again."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kamportal.models import CustomizationStage, Invoice, OutboxMessage, QuotationStatus
from kamportal.services import discounts, quotations
from tests.blueprints.test_email_previews import (
    INVOICE_NUMBER,
    RULE_ID,
    only_message,
    preview_of,
)
from tests.blueprints.test_query_counts import counting_queries
from tests.services import quotation_world
from tests.services.quotation_world import accepted, at_invoicing, confirmed_renewal

HTMX = {"HX-Request": "true"}
world = quotation_world.world


def text(response) -> str:
    return response.get_data(as_text=True)


def test_product_sets_the_period_in_place_and_bad_days_come_back_C4(world, db, login_as):
    request = accepted(world, db)
    http = login_as(world["product"])
    page = text(http.get(f"/customizations/{request.id}"))
    assert 'id="quotation-period-form"' in page and 'id="quotation-price-form"' not in page
    for bad in ("0", "731", "1e30", "ten\x00", "99999999999999999999"):
        response = http.post(
            f"/customizations/{request.id}/period", data={"days": bad}, headers=HTMX
        )
        assert response.status_code == 422, bad
        assert 'id="quotation"' in text(response) and "<html" not in text(response)
    db.session.expire_all()
    assert request.estimated_days is None
    response = http.post(f"/customizations/{request.id}/period", data={"days": "20"}, headers=HTMX)
    assert response.status_code == 200
    assert "20 days" in text(response) and "commercial to price" in text(response)
    response = http.post(f"/customizations/{request.id}/period", data={"days": "21"})
    assert response.status_code == 303  # still being priced: product may change it


def test_commercial_sees_only_the_requests_it_prices_and_prices_them_C4(world, db, login_as):
    http = login_as(world["commercial"])
    waiting = quotation_world.customizations.open_request(
        world["client"],
        actor=world["acm"],
        title="Not yet",
        end_result="x",
        users="x",
        done_when="x",
        wanted_by=quotation_world.TODAY,
    )
    request = accepted(world, db)
    assert http.get(f"/customizations/{waiting.id}").status_code == 404
    assert http.get(f"/clients/{world['client'].id}").status_code == 403
    queue = text(http.get("/discounts/"))
    assert f'id="to-price-{request.id}"' in queue and f"to-price-{waiting.id}" not in queue
    page = text(http.get(f"/customizations/{request.id}"))
    assert "Points at checkout" in page and 'id="quotation-price-form"' in page
    refused = http.post(
        f"/customizations/{request.id}/price",
        data={"amount": "1e30", "currency": "USD", "covers": "fee"},
    )
    assert refused.status_code == 422 and "<html" in text(refused)
    refused = http.post(
        f"/customizations/{request.id}/price",
        data={"amount": "1000", "currency": "USD", "discount_percent": "150", "covers": "fee"},
        headers=HTMX,
    )
    assert refused.status_code == 422 and "less than 100" in text(refused)
    response = http.post(
        f"/customizations/{request.id}/price",
        data={
            "amount": "1,000",
            "currency": "USD",
            "discount_percent": "30",
            "covers": "fee_and_renewal",
        },
        headers=HTMX,
    )
    assert response.status_code == 200 and "$1,000.00" in text(response)
    assert "30% on the customization fee and the renewal" in text(response)
    db.session.expire_all()
    quotation = quotations.quotation_of(request)
    assert quotation.quotation_status is QuotationStatus.APPROVED
    assert f"to-price-{request.id}" not in text(http.get("/discounts/"))
    assert request.customization_stage is CustomizationStage.PRICING  # period still owed
    product = login_as(world["product"])
    assert f'id="to-estimate-{request.id}"' in text(product.get("/customizations/"))


def test_the_acm_asks_for_a_discount_commercial_decides_it_in_its_queue_R9(world, db, login_as):
    request = quotation_world.quoted(world, db)
    http = login_as(world["acm"])
    page = text(http.get(f"/customizations/{request.id}"))
    assert 'id="quotation-discount-form"' in page and "$1,000.00" in page
    for data in (
        {"discount_percent": "\x00", "covers": "fee"},
        {"discount_amount": "5000", "covers": "fee"},
        {"covers": "fee"},
    ):
        response = http.post(f"/customizations/{request.id}/discount", data=data, headers=HTMX)
        assert response.status_code == 422, data
    response = http.post(
        f"/customizations/{request.id}/discount",
        data={"discount_percent": "15", "covers": "fee"},
        headers=HTMX,
    )
    assert response.status_code == 200 and "Requested" in text(response)
    assert 'id="quotation-discount-form"' not in text(response)
    quotation = quotations.quotation_of(request)
    commercial = login_as(world["commercial"])
    queue = text(commercial.get("/discounts/"))
    assert f'id="quotation-{quotation.id}"' in queue and "15%" in queue
    response = commercial.post(
        f"/discounts/{quotation.id}", data={"decision": "approve", "note": ""}, headers=HTMX
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert quotation.quotation_status is QuotationStatus.APPROVED
    other = login_as(world["other_acm"])
    assert other.post(f"/customizations/{request.id}/discount", data={}).status_code == 404


def test_the_acm_issues_one_invoice_with_the_renewal_from_the_request_page_C6_R8(
    world, db, login_as
):
    request = at_invoicing(world, db, discount_percent="30", covers="fee_and_renewal")
    confirmed_renewal(world, db)
    http = login_as(world["acm"])
    page = text(http.get(f"/customizations/{request.id}"))
    assert 'id="quotation-invoice-form"' in page and "with_renewal" in page
    day = text(http.get("/day/"))
    assert "issue the invoice" in day
    refused = http.post(
        f"/customizations/{request.id}/invoice", data={"due_on": "9999-01-01"}, headers=HTMX
    )
    assert refused.status_code == 422
    response = http.post(
        f"/customizations/{request.id}/invoice",
        data={"due_on": quotation_world.TODAY.isoformat(), "with_renewal": "y"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    invoice = db.session.scalars(select(Invoice)).one()
    assert invoice.total == Decimal("2800.00")
    assert request.customization_stage is CustomizationStage.PAYMENT
    client_page = text(http.get(f"/clients/{world['client'].id}?tab=growth"))
    assert "Awaiting payment" in client_page


@pytest.mark.parametrize("path", ["/discounts/", "/customizations/"])
def test_the_queues_parts_do_not_grow_in_queries_C4(world, db, login_as, path):
    viewer = login_as(world["commercial"] if path == "/discounts/" else world["product"])

    def queries(more: int) -> int:
        for _ in range(more):
            request = accepted(world, db)
            quotations.set_price(
                request, actor=world["commercial"], amount="100"
            ) if path == "/customizations/" else None
            if path == "/discounts/":
                quotations.estimate_period(request, actor=world["product"], days=3)
        db.session.commit()
        with counting_queries(db.engine) as statements:
            assert viewer.get(path).status_code == 200
        return len(statements)

    assert queries(2) == queries(10)
    if path == "/discounts/":
        assert discounts.discount_queue()[0] == []


def test_the_customization_invoice_email_is_previewed_before_it_is_issued_C6_R3(
    world, db, login_as
):
    request = at_invoicing(world, db, discount_percent="30", covers="fee_and_renewal")
    confirmed_renewal(world, db)
    http = login_as(world["acm"])
    url = f"/customizations/{request.id}/invoice"
    assert f'formaction="{url}/preview"' in text(http.get(f"/customizations/{request.id}"))
    data = {"due_on": quotation_world.TODAY.isoformat(), "with_renewal": "y"}
    outbox = select(func.count()).select_from(OutboxMessage)
    before = db.session.scalar(outbox)

    shown = preview_of(http.post(f"{url}/preview", data=data, headers=HTMX))

    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0
    assert db.session.scalar(outbox) == before
    db.session.expire_all()
    assert request.customization_stage is CustomizationStage.INVOICING
    assert shown.fields["note"].startswith("The invoice number is given")
    assert not RULE_ID.search(shown.fields["subject"] + shown.fields["body"])
    # Without JavaScript: the request's page, the preview under the form that still issues.
    page = http.post(f"{url}/preview", data=data)
    assert 'id="quotation-invoice-form"' in page.text and f'action="{url}"' in page.text
    numbered = INVOICE_NUMBER.sub("<number>", preview_of(page).fields["body"])
    assert numbered == INVOICE_NUMBER.sub("<number>", shown.fields["body"])

    assert http.post(url, data=data, headers=HTMX).status_code == 200
    sent = only_message(db, "invoice-%-issued")
    number = INVOICE_NUMBER.search(sent.subject).group()
    assert INVOICE_NUMBER.sub(number, shown.fields["body"]) == sent.body
    assert INVOICE_NUMBER.sub(number, shown.fields["subject"]) == sent.subject


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_bad_input_gives_the_customization_invoice_form_again_C6(world, db, login_as, headers):
    request = at_invoicing(world, db)
    http = login_as(world["acm"])
    url = f"/customizations/{request.id}/invoice/preview"
    for data, error in (
        ({"due_on": "not a date\x00"}, "date"),
        # Refused by the service: no confirmed renewal to invoice with it (R8).
        ({"due_on": quotation_world.TODAY.isoformat(), "with_renewal": "y"}, "No confirmed"),
    ):
        response = http.post(url, data=data, headers=headers)
        assert response.status_code == 422
        assert 'id="quotation-invoice-form"' in response.text and error in response.text
        assert 'data-field="body"' not in response.text
        if headers:
            assert response.headers["HX-Retarget"] == "#quotation"
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0
