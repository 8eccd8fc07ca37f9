"""The Online Store Manager's card (F6) in a real browser: the store manager marks a duty
done from its own page, with one form for the card (issue 17): nothing chosen is refused in
the card; the duty chosen in its row, with a note, is done and the card swapped in place."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from kamportal.models import Role
from kamportal.services import store_management
from tests.e2e.conftest import sign_in
from tests.e2e.test_clients import SWAP, mark_document, same_document


def test_a_store_manager_marks_a_duty_done_in_the_card_F6(
    db, page: Page, live_server, make_portfolio, make_user
):
    world = make_portfolio(client={"store_name": "Nile Crafts", "has_store_manager": True})
    sara = make_user(Role.STORE_MANAGER, name="Sara Store")
    store_management.assign_store_manager(world.client, sara, actor=world.leader)
    db.session.commit()

    sign_in(page, live_server, sara)
    page.goto(f"{live_server}/store-manager/")
    mark_document(page)
    card = page.locator(f"#store-card-{world.client.id}")
    card.get_by_role("button", name="Mark done").click()
    expect(card.get_by_role("alert")).to_contain_text("Choose a duty owed now.", timeout=SWAP)

    # A weekly duty: owed whatever the day.
    card.get_by_label("An SEO-friendly catalogue").check()
    card.get_by_label("Note (optional)").fill("40 descriptions rewritten")
    card.get_by_role("button", name="Mark done").click()
    expect(card.get_by_text("40 descriptions rewritten")).to_be_visible(timeout=SWAP)
    expect(card.get_by_label("An SEO-friendly catalogue")).to_have_count(0)
    expect(card.get_by_role("alert")).to_have_count(0)
    assert same_document(page)
