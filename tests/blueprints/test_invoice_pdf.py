"""An invoice's PDF through HTTP (R3, C6): a link on the renewal panel's invoice row, the
file downloaded under the invoice's number, for whoever may see the client's invoices
(finance every one); nobody else learns the invoice exists."""

from __future__ import annotations

import io

from pypdf import PdfReader

from kamportal.models import Role
from tests.services.renewal_world import invoiced, world  # noqa: F401
from tests.services.test_customization_tickets import invoiced_request, pay_online


def test_the_panel_links_the_pdf_which_downloads_under_the_invoice_number(
    world,  # noqa: F811
    db,
    login_as,
):
    _, invoice = invoiced(world, db)
    http = login_as(world["acm"])
    url = f"/invoices/{invoice.id}/invoice.pdf"
    page = http.get(f"/clients/{world['client'].id}?tab=renewals").get_data(as_text=True)
    assert f'href="{url}" download>PDF</a>' in page

    response = http.get(url)

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="invoice-{invoice.number}.pdf"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert f"Invoice {invoice.number}" in text and "Nile Crafts" in text


def test_finance_downloads_it_another_acm_and_bad_ids_do_not(
    world,  # noqa: F811
    db,
    login_as,
):
    _, invoice = invoiced(world, db)
    url = f"/invoices/{invoice.id}/invoice.pdf"
    assert login_as(world["finance"]).get(url).status_code == 200
    other = login_as(world["other_acm"])
    assert other.get(url).status_code == 404
    for bad in (f"/invoices/{invoice.id + 1}/invoice.pdf", "/invoices/99999999999/invoice.pdf"):
        assert other.get(bad).status_code == 404
    assert login_as(world["commercial"]).get(url).status_code == 403


def test_an_invoice_not_numbered_yet_has_no_pdf(world, db, login_as):  # noqa: F811
    _, invoice = invoiced(world, db)
    invoice.number = None
    db.session.commit()
    http = login_as(world["acm"])
    assert http.get(f"/invoices/{invoice.id}/invoice.pdf").status_code == 404
    page = http.get(f"/clients/{world['client'].id}?tab=renewals").get_data(as_text=True)
    assert "invoice.pdf" not in page


def test_the_request_page_shows_the_invoice_attached_to_its_ticket_C6(
    world,  # noqa: F811
    db,
    login_as,
    make_user,
    run_jobs,
):
    request, invoice = invoiced_request(world, db, run_jobs)
    pay_online(world, invoice)
    db.session.commit()
    run_jobs()
    run_jobs()
    page = login_as(world["acm"]).get(f"/customizations/{request.id}").get_data(as_text=True)
    attached = page[page.index('id="invoice-attached"') :].split("</dd>")[0]
    assert f'href="/invoices/{invoice.id}/invoice.pdf"' in attached
    product = login_as(make_user(Role.PRODUCT))
    page = product.get(f"/customizations/{request.id}").get_data(as_text=True)
    attached = page[page.index('id="invoice-attached"') :].split("</dd>")[0]
    assert "the invoice's PDF" in attached and "href" not in attached  # no invoices for product
