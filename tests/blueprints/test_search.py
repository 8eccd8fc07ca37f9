"""The search box and its page (issue 16): in the header of every signed-in page; the page
of results without JavaScript, the dropdown for the box's HTMX request; every result opens
a page its finder may open, whatever their role; what is typed never breaks it; a constant
number of queries whatever the portfolio holds."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from kamportal.models import Client, Invoice
from kamportal.services import support_tickets
from tests.blueprints.test_query_counts import counting_queries
from tests.services import finder_world

world = finder_world.world

HTMX = {"HX-Request": "true"}
RESULT_LINK = re.compile(r'<a class="found" href="([^"]+)"')

# What each kind of user looks for, and at least what they find there (test_access.py's
# names): their own records, never another team's.
SEARCHES = ("nile", "mona", "0100 123 4567", "INV-", "SUP-", "SAL-")
FINDS = {
    "acm": {"Nile Crafts", "Mona Salem", "SUP-1", "SAL-1"},
    "leader": {"Nile Crafts", "Mona Salem", "SUP-1", "SAL-1"},
    "other_acm": {"Nile Pearl", "Mona Khaled", "SUP-2", "SAL-2"},
    "other_leader": {"Nile Pearl", "Mona Khaled", "SUP-2", "SAL-2"},
    "finance": {"Nile Crafts", "Nile Pearl"},  # on their invoices
    "product": {"SAL-1", "SAL-2"},
    "commercial": {"SAL-2"},
    "store_manager": {"Nile Crafts"},
    "admin": {"Nile Crafts", "Nile Pearl", "Mona Salem", "Mona Khaled", "SUP-1", "SUP-2"},
}
NEVER = {
    "acm": {"Nile Pearl", "Mona Khaled", "SUP-2", "SAL-2"},
    "other_acm": {"Nile Crafts", "Mona Salem", "SUP-1", "SAL-1"},
    "finance": {"Mona Salem", "SUP-1", "SAL-1"},
    # Product sees a request's client named on it, never the client itself.
    "product": {"Mona Salem", "SUP-1"},
    "commercial": {"SAL-1", "Mona Salem"},
    "store_manager": {"Nile Pearl", "Mona Salem", "SUP-1", "SAL-1"},
}

NAMES = set().union(*FINDS.values(), *NEVER.values())


def results(body: str) -> list[str]:
    return RESULT_LINK.findall(body)


def test_the_page_lists_each_kind_found_with_links_to_them(world, login_as):
    http = login_as(world.users["acm"])
    response = http.get("/search?q=nile")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<h1>Search</h1>" in body and 'value="nile"' in body
    assert 'id="found-clients"' in body and "Nile Crafts" in body and "Nile Pearl" not in body
    assert results(body) == [f"/clients/{world.cairo.id}"]
    assert "1 client found." in body


def test_the_box_gets_the_dropdown_and_its_status_line(world, login_as):
    http = login_as(world.users["acm"])
    response = http.get("/search?q=mona", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith('<div id="finder-results"') and "<html" not in body
    assert results(body) == [
        f"/clients/{world.cairo.id}?tab=overview#contact-{world.cairo.contacts[0].id}"
    ]
    assert 'href="/search?q=mona">All results for “mona”' in body
    assert '<p id="finder-status" hx-swap-oob="innerHTML">1 contact found.</p>' in body
    # Nothing typed: the dropdown hides; one character: how much to type.
    assert 'id="finder-results" class="finder-results" hidden' in http.get(
        "/search?q=", headers=HTMX
    ).get_data(as_text=True)
    assert "Type at least 2 characters" in http.get("/search?q=m", headers=HTMX).get_data(
        as_text=True
    )


@pytest.mark.parametrize("who", sorted(FINDS))
def test_every_result_opens_a_page_its_finder_may_open(world, login_as, who):
    """Access: each role finds what it may see, never another team's, and every link it
    gets opens (never a 403 or 404)."""
    http = login_as(world.users[who])
    found, links = set(), set()
    for text in SEARCHES:
        for headers in ({}, HTMX):
            response = http.get("/search", query_string={"q": text}, headers=headers)
            assert response.status_code == 200
            body = response.get_data(as_text=True)
            found |= {name for name in NAMES if name in body}
            links.update(results(body))
    assert FINDS[who] <= found, who
    assert not (NEVER.get(who, set()) & found), who
    assert links
    for link in sorted(links):
        response = http.get(link.split("#")[0])
        assert response.status_code == 200, f"{who}: {link} answered {response.status_code}"


@pytest.mark.parametrize(
    "text", ["\x00", "Nile\x00", "N" * 5000, "%", "%%", "_", "__", "'", "' OR 1=1 --", "%' --"]
)
def test_whatever_is_typed_answers_and_wildcards_find_nothing(world, login_as, text):
    http = login_as(world.users["admin"])
    for headers in ({}, HTMX):
        response = http.get("/search", query_string={"q": text}, headers=headers)
        assert response.status_code == 200
        found = results(response.get_data(as_text=True))
        both = [f"/clients/{world.cairo.id}", f"/clients/{world.dubai.id}"]
        assert found == (both if text == "Nile\x00" else []), text


def test_the_box_is_in_the_header_of_signed_in_pages_only(world, login_as, client):
    body = login_as(world.users["finance"]).get("/finance/").get_data(as_text=True)
    assert 'role="search"' in body and 'id="finder-q"' in body
    assert 'aria-keyshortcuts="/"' in body and "/static/js/finder.js" in body
    assert 'hx-trigger="input changed delay:250ms, search"' in body
    assert 'id="finder-q"' not in client.get("/login").get_data(as_text=True)


def grow(db, world, make_client, make_contact, size: int) -> None:
    """`size` more clients and contacts matching "sto", with an invoice (INV-...) and a
    support ticket (SUP-...) each, for the Cairo team's ACM."""
    acm, today = world.cairo.acm, world.cairo.created_at.date()
    for n in range(size):
        client = make_client(acm=acm, store_name=f"Store {n}", store_code=f"STORE{size}-{n}")
        make_contact(client, name=f"Store keeper {n}")
        db.session.add(
            Invoice(
                client=client,
                number=f"INV-{size}-{n}",
                currency="EGP",
                total=Decimal(100),
                issued_on=today,
                due_on=today,
                issued_at=client.created_at,
            )
        )
        support_tickets.open_ticket(
            client, actor=acm, summary="x", description="x", priority="High"
        )
    db.session.commit()


@pytest.mark.parametrize("who", ["acm", "leader", "finance", "product", "store_manager", "admin"])
def test_query_counts_do_not_grow_with_what_is_found(
    world, db, login_as, make_client, make_contact, who
):
    """Issue 17 ahead: one bounded query per kind, whatever is found (2 of each kind, then
    more than a page's worth)."""
    http = login_as(world.users[who])

    def count() -> list[int]:
        counts = []
        for text in ("sto", "INV-", "SUP-"):
            for headers in ({}, HTMX):
                with counting_queries(db.engine) as statements:
                    response = http.get("/search", query_string={"q": text}, headers=headers)
                    assert response.status_code == 200
                counts.append(len(statements))
        return counts

    grow(db, world, make_client, make_contact, 2)
    small = count()
    grow(db, world, make_client, make_contact, 25)
    assert count() == small
    # At most: the signed-in user and their sign-in, the header's badge, the teams a leader
    # leads, and one query per kind (clients, contacts, invoices, support and customization
    # tickets).
    assert max(small) <= 9, small


def test_a_store_manager_is_sent_to_the_page_of_their_list_where_the_client_is(
    world, db, login_as, make_client, app
):
    """F6: the store manager's page is paged by store name; the link opens the right page
    at the client's card."""
    app.config["CLIENTS_PER_PAGE"] = 2
    store_manager = world.users["store_manager"]
    for name in ["Alpha", "Beta", "Gamma"]:
        make_client(store_name=f"{name} Shop", has_store_manager=True, store_manager=store_manager)
    http = login_as(store_manager)
    [link] = results(http.get("/search?q=gamma").get_data(as_text=True))
    gamma = db.session.query(Client).filter_by(store_name="Gamma Shop").one()
    assert link == f"/store-manager/?page=2#store-card-{gamma.id}"
    assert f'id="store-card-{gamma.id}"' in http.get(link).get_data(as_text=True)


def test_an_invoice_opens_the_client_page_for_the_acm_and_its_pdf_for_finance(world, login_as):
    acm_links = results(login_as(world.users["acm"]).get("/search?q=INV-").get_data(as_text=True))
    assert acm_links == [f"/clients/{world.cairo.id}?tab=renewals#renewal-panel"]
    finance = login_as(world.users["finance"])
    links = results(finance.get("/search?q=INV-").get_data(as_text=True))
    assert len(links) == 2 and all(link.endswith("/invoice.pdf") for link in links)
    assert finance.get(links[0]).mimetype == "application/pdf"


def test_finance_searching_a_store_name_finds_no_client_page(world, login_as):
    body = login_as(world.users["finance"]).get("/search?q=nile").get_data(as_text=True)
    assert results(body) == [] and "Nothing found for “nile”." in body
