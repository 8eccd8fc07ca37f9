"""The client page in tabs (issue 16): each tab shows its own panels and no other's, opens in
place (HTMX) or as a page (no script), falls back to the client's default tab; the log forms
open when asked for and close after a save."""

from __future__ import annotations

import re

import pytest

from kamportal.blueprints.client_tabs import TABS, client_page

HTMX = {"HX-Request": "true"}

# Each tab's panels by their anchor (a panel shown only with something to show is left out:
# the not-selling panel is always there, the F2 ladder only while one runs).
ANCHORS = {
    "overview": ["contacts-panel", "log-contact", "timeline", "health-panel", "profile"],
    "meetings": ["meetings-panel", "client-minutes", "whatsapp-panel"],
    "escalations": ["escalation-panel", "support-panel", "not-selling-panel"],
    "renewals": ["renewal-panel", "client-reports-panel"],
    "onboarding": ["onboarding-panel"],
    "growth": [
        "store-figures",
        "suggestions-panel",
        "opportunity-panel",
        "customizations-panel",
        "account-plan-panel",
    ],
}
ONLY_HERE = {tab: [a for a in anchors if a != "whatsapp-panel"] for tab, anchors in ANCHORS.items()}


def ids_of(html: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html))


def current_tab(html: str) -> str:
    (name,) = re.findall(r'id="tab-(\w+)"[^>]*aria-current="page"', html, re.S)
    return name


@pytest.fixture
def acm_client(cairo, make_client, make_contact):
    _, _, acm, _ = cairo
    client = make_client(acm=acm, store_name="Pyramid Spices", status="live")
    make_contact(client, name="Mona", phone="+201001234567")
    return acm, client


def test_the_tabs_are_the_contract():
    assert list(TABS) == ["overview", "meetings", "escalations", "renewals", "onboarding", "growth"]


@pytest.mark.parametrize("name", list(ANCHORS))
def test_each_tab_shows_its_panels_and_not_the_others(login_as, acm_client, name):
    acm, client = acm_client
    response = login_as(acm).get(f"/clients/{client.id}?tab={name}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert current_tab(html) == name
    ids = ids_of(html)
    assert set(ANCHORS[name]) <= ids, set(ANCHORS[name]) - ids
    others = {a for tab, anchors in ONLY_HERE.items() if tab != name for a in anchors}
    assert ids & others == set()
    assert html.count("<h1") == 1
    assert 'aria-label="Client page sections"' in html


def test_the_overview_is_the_default_tab_and_an_unknown_tab_falls_back_to_it(login_as, acm_client):
    acm, client = acm_client
    http = login_as(acm)
    for url in (f"/clients/{client.id}", f"/clients/{client.id}?tab=nothing"):
        html = http.get(url).get_data(as_text=True)
        assert current_tab(html) == "overview"
        assert "timeline" in ids_of(html) and "renewal-panel" not in ids_of(html)
    response = http.get(f"/clients/{client.id}/tabs/nothing", headers=HTMX)
    assert response.status_code == 200
    assert current_tab(response.get_data(as_text=True)) == "overview"


def test_a_client_in_launch_opens_on_onboarding(login_as, cairo, make_client):
    _, _, acm, _ = cairo
    client = make_client(acm=acm, status="onboarding")
    http = login_as(acm)
    html = http.get(f"/clients/{client.id}").get_data(as_text=True)
    assert current_tab(html) == "onboarding"
    assert "onboarding-panel" in ids_of(html) and "timeline" not in ids_of(html)
    # Its other tabs are there when asked for.
    html = http.get(f"/clients/{client.id}?tab=overview").get_data(as_text=True)
    assert current_tab(html) == "overview" and "timeline" in ids_of(html)


def test_a_tab_opens_in_place_with_its_links_and_the_address_to_push(login_as, acm_client):
    acm, client = acm_client
    response = login_as(acm).get(f"/clients/{client.id}/tabs/renewals", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "<h1" not in html
    assert html.lstrip().startswith('<div id="client-tab">')
    assert current_tab(html) == "renewals"
    assert {"renewal-panel", "client-reports-panel"} <= ids_of(html)
    assert "timeline" not in ids_of(html)
    # Each tab: a plain link, opened in place, its address pushed.
    link = re.search(r'<a id="tab-meetings"[^>]*>', html, re.S).group(0)
    assert f'href="/clients/{client.id}?tab=meetings"' in link
    assert f'hx-get="/clients/{client.id}/tabs/meetings"' in link
    assert f'hx-push-url="/clients/{client.id}?tab=meetings"' in link
    assert 'hx-target="#client-tab"' in link


def test_a_tab_asked_without_a_script_is_the_page_on_that_tab(login_as, acm_client):
    acm, client = acm_client
    http = login_as(acm)
    response = http.get(f"/clients/{client.id}/tabs/growth")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/clients/{client.id}?tab=growth")
    # A history restore gets the whole page too.
    restore = {**HTMX, "HX-History-Restore-Request": "true"}
    assert http.get(f"/clients/{client.id}/tabs/growth", headers=restore).status_code == 302


def test_another_users_client_tab_is_not_found(login_as, cairo, make_client):
    _, _, acm, other = cairo
    client = make_client(acm=other)
    http = login_as(acm)
    assert http.get(f"/clients/{client.id}?tab=renewals").status_code == 404
    assert http.get(f"/clients/{client.id}/tabs/renewals", headers=HTMX).status_code == 404


def test_a_link_to_a_panel_opens_the_tab_that_shows_it(app):
    with app.test_request_context():
        assert client_page(7, "renewal-panel") == "/clients/7?tab=renewals#renewal-panel"
        assert client_page(7, "invoice-3") == "/clients/7?tab=renewals#invoice-3"
        assert client_page(7, "minutes-4") == "/clients/7?tab=meetings#minutes-4"
        assert client_page(7, "whatsapp-panel") == "/clients/7?tab=meetings#whatsapp-panel"
        assert client_page(7, "not-selling-2") == "/clients/7?tab=escalations#not-selling-2"
        assert client_page(7, "contact-9") == "/clients/7?tab=overview#contact-9"
        assert client_page(7) == "/clients/7"
    every = [p.anchor for tab in TABS.values() for p in tab.panels]
    assert len(every) == len(set(every)), "a panel on two tabs"


def test_only_the_open_tab_listens_for_its_refresh_events(login_as, acm_client):
    """The timeline refreshes on TIMELINE_CHANGED where it is shown; a closed tab's panel
    is simply not on the page."""
    acm, client = acm_client
    http = login_as(acm)
    overview = http.get(f"/clients/{client.id}").get_data(as_text=True)
    assert re.search(r'id="timeline"[^>]*hx-trigger="timeline-changed from:body', overview, re.S)
    renewals = http.get(f"/clients/{client.id}?tab=renewals").get_data(as_text=True)
    assert 'id="timeline"' not in renewals and "/timeline" not in renewals


# --- Forms open when asked for ----------------------------------------------------------


def details_of(html: str, summary: str) -> str:
    found = re.search(r"<details[^>]*>\s*<summary>" + re.escape(summary), html)
    assert found, summary
    return found.group(0)


def test_the_log_forms_are_closed_until_asked_for(login_as, acm_client):
    acm, client = acm_client
    html = login_as(acm).get(f"/clients/{client.id}").get_data(as_text=True)
    for summary in ("Log a call", "Log an email", "Log a WhatsApp request", "Add a note"):
        assert " open" not in details_of(html, summary)
    # The phone numbers stay at hand, outside the form.
    assert 'href="tel:+201001234567"' in html


def test_a_saved_note_closes_its_form_and_a_refused_one_stays_open(login_as, acm_client):
    acm, client = acm_client
    http = login_as(acm)
    refused = http.post(f"/clients/{client.id}/notes", data={"text": ""}, headers=HTMX)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert " open" in details_of(html, "Add a note")
    assert 'role="alert"' in html
    done = http.post(f"/clients/{client.id}/notes", data={"text": "Asked about SEO"}, headers=HTMX)
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert " open" not in details_of(html, "Add a note")
    assert "timeline-changed" in done.headers["HX-Trigger"]


def test_a_refused_call_without_a_script_is_the_overview_with_the_form_open(login_as, acm_client):
    acm, client = acm_client
    response = login_as(acm).post(f"/clients/{client.id}/calls", data={"notes": "x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert current_tab(html) == "overview"
    assert " open" in details_of(html, "Log a call")
    assert " open" not in details_of(html, "Add a note")
