"""Recommended apps and marketing actions (F5) over HTTP: the client page's panel and its
forms, and the admin's catalogue."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kamportal.models import Recommendation, Role, Suggestion
from kamportal.services import suggestions

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(make_portfolio, db):
    suggestions.stock_catalogue(actor=None)
    portfolio = make_portfolio(client={"store_name": "Nile Crafts"})
    db.session.commit()
    return portfolio


def entry_id(name: str) -> int:
    return next(e.id for e in suggestions.catalogue() if e.name == name)


def suggestion_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Suggestion))


def suggested(world, db, name: str = "SMS App") -> Suggestion:
    suggestion = suggestions.suggest(
        world.client,
        db.session.get(Recommendation, entry_id(name)),
        actor=world.acm,
        channel="call",
    )
    db.session.commit()
    return suggestion


# --- The client page's panel -----------------------------------------------------------------


def test_the_client_page_shows_the_panel_with_the_catalogue_to_suggest_from_F5(world, login_as, db):
    suggested(world, db)
    page = login_as(world.acm).get(f"/clients/{world.client.id}?tab=growth").get_data(as_text=True)
    assert 'id="suggestions-panel"' in page and "Suggested apps and actions" in page
    assert "SMS App" in page and "Record the answer" in page and "Record the outcome" in page
    assert 'id="suggest-form"' in page and "Abandoned Cart" in page
    # What the ACM reads of each entry before suggesting it.
    assert "Reminds shoppers who left items in their cart to come back." in page


def test_suggesting_swaps_the_panel_and_tells_the_page_F5(world, login_as, db):
    response = login_as(world.acm).post(
        f"/clients/{world.client.id}/suggestions",
        data={
            "recommendation": entry_id("Abandoned Cart"),
            "channel": "meeting",
            "answer": "thinking",
            "note": "Showed last month's carts.",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#suggestions-panel"
    assert "suggestions-changed" in response.headers["HX-Trigger"]
    body = response.get_data(as_text=True)
    assert 'id="suggestions-panel"' in body and "Thinking it over" in body
    [made] = db.session.scalars(select(Suggestion)).all()
    assert (made.channel, made.answer, made.note) == (
        "meeting",
        "thinking",
        "Showed last month's carts.",
    )


def test_suggesting_what_is_open_shows_the_refusal_on_the_form_and_saves_nothing_F5(
    world, login_as, db
):
    suggested(world, db, "Abandoned Cart")
    response = login_as(world.acm).post(
        f"/clients/{world.client.id}/suggestions",
        data={"recommendation": entry_id("Abandoned Cart"), "channel": "call"},
        headers=HTMX,
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="suggestions-panel"' in body and "<html" not in body
    assert "Abandoned Cart is suggested to this client already" in body
    assert 'id="field-suggest-recommendation"' in body
    assert suggestion_count(db) == 1


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"recommendation": "", "channel": "call"},
        {"recommendation": "abc", "channel": "call"},
        {"recommendation": "99999999999999999999", "channel": "call"},
        {"recommendation": "ENTRY", "channel": "pigeon"},
        {"recommendation": "ENTRY", "channel": "call", "answer": "maybe"},
        {"recommendation": "ENTRY", "channel": "call", "note": "a\x00b"},
        {"recommendation": "ENTRY", "channel": "call", "note": "x" * 20000},
        {"recommendation": "ENTRY\x00", "channel": "call"},
    ],
)
def test_bad_suggestions_give_the_panel_again_with_errors_and_change_nothing_F5(
    world, login_as, db, data
):
    data = {k: (v.replace("ENTRY", str(entry_id("SMS App")))) for k, v in data.items()}
    response = login_as(world.acm).post(
        f"/clients/{world.client.id}/suggestions", data=data, headers=HTMX
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="suggestions-panel"' in body and 'class="error"' in body
    assert suggestion_count(db) == 0


def test_a_retired_entry_is_not_offered_on_the_panel_nor_taken_F5(world, login_as, db):
    cart = db.session.get(Recommendation, entry_id("Abandoned Cart"))
    suggestions.retire_recommendation(cart, actor=None)
    db.session.commit()
    http = login_as(world.acm)
    page = http.get(f"/clients/{world.client.id}?tab=growth").get_data(as_text=True)
    assert "Abandoned Cart" not in page
    response = http.post(
        f"/clients/{world.client.id}/suggestions",
        data={"recommendation": cart.id, "channel": "call"},
        headers=HTMX,
    )
    assert response.status_code == 422 and "retired" in response.get_data(as_text=True)


def test_recording_the_answer_and_the_outcome_swaps_the_panel_F5(world, login_as, db):
    suggestion = suggested(world, db)
    http = login_as(world.leader)
    url = f"/clients/{world.client.id}/suggestions/{suggestion.id}"
    response = http.post(f"{url}/answer", data={"answer": "not_interested"}, headers=HTMX)
    assert response.status_code == 200 and "Not interested" in response.get_data(as_text=True)
    response = http.post(
        f"{url}/outcome",
        data={"outcome": "declined", "reason": "They use WhatsApp instead."},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Declined" in body and "They use WhatsApp instead." in body
    assert f'id="suggestion-{suggestion.id}-outcome"' not in body  # closed: no more forms
    db.session.refresh(suggestion)
    assert suggestion.outcome == "declined" and suggestion.outcome_by == world.leader


@pytest.mark.parametrize(
    "data",
    [
        {"outcome": "declined", "reason": ""},
        {"outcome": "done"},  # an app is installed, not done
        {"outcome": "installed\x00"},
        {"outcome": "declined", "reason": "x" * 5000},
        {},
    ],
)
def test_a_bad_outcome_shows_its_errors_in_the_panel_and_changes_nothing_F5(
    world, login_as, db, data
):
    suggestion = suggested(world, db)
    response = login_as(world.acm).post(
        f"/clients/{world.client.id}/suggestions/{suggestion.id}/outcome", data=data, headers=HTMX
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="suggestion-{suggestion.id}-outcome"' in body and 'class="error"' in body
    db.session.refresh(suggestion)
    assert suggestion.is_open and suggestion.outcome_at is None


def test_an_answer_to_a_closed_suggestion_is_refused_on_the_panel_F5(world, login_as, db):
    suggestion = suggested(world, db)
    suggestions.record_outcome(suggestion, actor=world.acm, outcome="installed")
    db.session.commit()
    response = login_as(world.acm).post(
        f"/clients/{world.client.id}/suggestions/{suggestion.id}/answer",
        data={"answer": "thinking"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "installed already" in response.get_data(as_text=True)


def test_without_htmx_a_suggestion_goes_back_to_the_client_page_F5(world, login_as, db):
    http = login_as(world.acm)
    url = f"/clients/{world.client.id}/suggestions"
    response = http.post(url, data={"recommendation": entry_id("SMS App"), "channel": "call"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/clients/{world.client.id}?tab=growth#suggestions-panel"
    )
    refused = http.post(url, data={"recommendation": entry_id("SMS App"), "channel": "call"})
    assert refused.status_code == 422 and "<html" in refused.get_data(as_text=True)


def test_another_clients_suggestion_is_not_found_F5(world, login_as, db, make_portfolio):
    suggestion = suggested(world, db)
    other = make_portfolio()
    response = login_as(other.acm).post(
        f"/clients/{other.client.id}/suggestions/{suggestion.id}/answer",
        data={"answer": "interested"},
    )
    assert response.status_code == 404


# --- The admin's catalogue --------------------------------------------------------------------


def test_the_admin_adds_an_entry_in_place_and_bad_input_changes_nothing_F5(world, login_as, db):
    http = login_as(Role.ADMIN)
    page = http.get("/admin/catalogue").get_data(as_text=True)
    assert "Abandoned Cart" in page and 'id="catalogue-panel"' in page
    good = {"kind": "action", "name": "Run a Ramadan campaign", "description": "Plan it early."}
    response = http.post("/admin/catalogue", data=good, headers=HTMX)
    assert response.status_code == 200 and "Run a Ramadan campaign" in response.get_data(
        as_text=True
    )
    before = db.session.scalar(select(func.count()).select_from(Recommendation))
    for bad in (
        {**good, "name": "run a ramadan campaign"},
        {**good, "name": "x\x00"},
        {**good, "description": "x" * 600},
        {**good, "kind": "plugin"},
        {**good, "name": "Another", "position": "1e30"},
    ):
        response = http.post("/admin/catalogue", data=bad, headers=HTMX)
        assert response.status_code == 422, bad
        assert 'id="recommendation-form"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Recommendation)) == before


def test_the_admin_edits_and_retires_an_entry_F5(world, login_as, db):
    http = login_as(Role.ADMIN)
    cart = entry_id("Abandoned Cart")
    response = http.post(
        f"/admin/catalogue/{cart}/edit",
        data={"kind": "app", "name": "Abandoned Cart Reminders", "description": "x", "active": "y"},
    )
    assert response.status_code == 303
    response = http.post(f"/admin/catalogue/{cart}/retire", headers=HTMX)
    assert response.status_code == 200 and "Retired" in response.get_data(as_text=True)
    entry = db.session.get(Recommendation, cart)
    db.session.refresh(entry)
    assert entry.name == "Abandoned Cart Reminders" and not entry.active


def test_an_empty_catalogue_starts_from_the_processs_list_at_the_admins_word_F5(login_as, db):
    http = login_as(Role.ADMIN)
    assert "Start with the apps and actions of the process" in http.get(
        "/admin/catalogue"
    ).get_data(as_text=True)
    response = http.post("/admin/catalogue/stock", headers=HTMX)
    assert response.status_code == 200 and "Abandoned Cart" in response.get_data(as_text=True)
    assert len(suggestions.offered()) == len(suggestions.SEED_CATALOGUE)
