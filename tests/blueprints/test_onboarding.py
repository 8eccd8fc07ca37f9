"""The welcome email through HTTP (O2) and the client page's onboarding panel: the ACM
reviews the composed email and sends it once; due and overdue welcome emails show on the
ACM's day and the leader's, with the business hours left or past."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kamportal.models import OutboxMessage, Plan, Role, WelcomeEmail
from kamportal.services.day import SECTION_SIZE
from tests.blueprints.test_query_counts import counting_queries
from tests.conftest import registered_client, sign_in

HTMX = {"HX-Request": "true"}
# What the ACM leaves of the composed email: O2's items that name them stay.
# The welcome email as an ACM may shorten it: every section of O2 kept.
REVIEWED_BODY = (
    "Hello Sara, welcome. I am Omar Acm (omar@kam.example).\n\n"
    "OFFICIAL CHANNELS\nEmail, to me; Zoom meetings.\n\n"
    "WHAT I DO FOR YOU\nYour launch, then a weekly follow-up.\n\n"
    "WORKING HOURS\nSun–Thu, 09:00–17:00. Out of hours: support@expandcart.com.\n\n"
    "YOUR ROADMAP TO LAUNCH (LMS SERVICE)\nDomain, template, products, payments.\n\n"
    "Book here: https://meetings.example.com/omar"
)
# Monday 23 November 2026, 11:00 in Cairo: a working day of a Sun-Thu team (9:00-17:00).
MONDAY_11_CAIRO = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def team(make_portfolio):
    return make_portfolio(
        team={"name": "Cairo KAM"},
        leader={"name": "Layla Leader", "email": "layla@kam.example"},
        acm={
            "name": "Omar Acm",
            "email": "omar@kam.example",
            "booking_link": "https://meetings.example.com/omar",
            "timezone": "Africa/Cairo",
        },
        client=False,
    ).as_dict()


def enterprise_client(db, acm, make_contact, *, code="NEW001", subscribed_at=None):
    """An Enterprise client registered through the service: its onboarding starts (O2)."""
    client = registered_client(
        actor=acm, store_name=f"Store {code}", store_code=code, subscribed_at=subscribed_at
    )
    make_contact(client, name="Sara Client", email=f"sara@{code.lower()}.example", is_primary=True)
    return client


def day_items(page: str, section: str) -> str:
    start = page.index(f'id="day-{section}"')
    return page[start : page.index("</section>", start)]


def test_o2_the_welcome_email_is_due_on_the_acms_day_with_business_hours_left(
    frozen_clock, db, team, make_contact, login_as
):
    frozen_clock(MONDAY_11_CAIRO)
    client = enterprise_client(db, team["acm"], make_contact)
    http = login_as(team["acm"])
    welcome = day_items(text(http.get("/day/")), "welcome")
    assert client.store_name in welcome
    assert "Welcome email due" in welcome and "48 business hours left" in welcome

    # Monday 11:00 + 48 business hours: Mon 6 h, Tue-Thu 24 h, Sun 8 h, Mon 8 h, Tue 2 h.
    due = db.session.scalar(select(WelcomeEmail.due_at))
    assert due == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tuesday 11:00 in Cairo
    frozen_clock(due - timedelta(hours=1))
    sign_in(http, team["acm"])  # a day later: a new sign-in
    welcome = day_items(text(http.get("/day/")), "welcome")
    assert "Welcome email due" in welcome and "1 business hour left" in welcome
    frozen_clock(due)
    assert "Welcome email overdue" in day_items(text(http.get("/day/")), "welcome")
    # Tuesday 1 December 16:00 Cairo: 5 business hours past.
    frozen_clock(due + timedelta(hours=5))
    welcome = day_items(text(http.get("/day/")), "welcome")
    assert "Welcome email overdue" in welcome and "5 business hours past" in welcome


def test_o2_the_leader_sees_the_teams_welcome_emails_owed_with_the_acm(
    frozen_clock, db, team, make_contact, login_as
):
    frozen_clock(MONDAY_11_CAIRO)
    client = enterprise_client(db, team["acm"], make_contact)
    welcome = day_items(text(login_as(team["leader"]).get("/day/")), "welcome")
    assert client.store_name in welcome and "ACM Omar Acm" in welcome
    # Another team's leader does not.
    assert client.store_name not in text(login_as(Role.LEADER).get("/day/"))


def test_o2_the_acm_reviews_the_composed_email_and_sends_it_once(
    frozen_clock, db, team, make_contact, login_as
):
    frozen_clock(MONDAY_11_CAIRO)
    client = enterprise_client(db, team["acm"], make_contact)
    http = login_as(team["acm"])
    form = text(http.get(f"/clients/{client.id}/welcome"))
    assert "Welcome to ExpandCart – NEW001" in form
    assert "sara@new001.example" in form
    assert "omar@kam.example" in form and "layla@kam.example" in form  # CC (G1)
    assert "https://meetings.example.com/omar" in form  # the booking link, in the body

    body = REVIEWED_BODY
    response = http.post(f"/clients/{client.id}/welcome", data={"body": body}, headers=HTMX)
    assert response.status_code == 200, text(response)[:500]
    assert response.headers["HX-Retarget"] == "#onboarding-panel"
    assert "timeline-changed" in json.loads(response.headers["HX-Trigger"])
    assert 'data-welcome="sent"' in text(response)
    message = db.session.scalar(select(OutboxMessage))
    assert message.subject == "Welcome to ExpandCart – NEW001"
    assert message.to_addrs == ["sara@new001.example"]
    assert {"omar@kam.example", "layla@kam.example"} <= set(message.cc_addrs)
    assert client.store_name not in day_items(text(http.get("/day/")), "welcome")

    again = http.post(f"/clients/{client.id}/welcome", data={"body": body}, headers=HTMX)
    assert again.status_code == 422
    assert "it is sent once" in text(again)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_o2_a_refused_welcome_email_says_why_and_sends_nothing(
    frozen_clock, db, team, make_contact, login_as
):
    frozen_clock(MONDAY_11_CAIRO)
    client = enterprise_client(db, team["acm"], make_contact)
    http = login_as(team["acm"])
    # The ACM's details, the support address or the booking link removed from the body.
    response = http.post(
        f"/clients/{client.id}/welcome", data={"body": "Hello, welcome."}, headers=HTMX
    )
    assert response.status_code == 422
    refused = text(response)
    assert "<html" not in refused
    for kept in ("your name (Omar Acm)", "the support address", "the booking link"):
        assert kept in refused
    response = http.post(
        f"/clients/{client.id}/welcome",
        data={"body": REVIEWED_BODY.replace("https://meetings.example.com/omar", "")},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "Keep the booking link (https://meetings.example.com/omar)" in text(response)
    # A section O2 requires removed: the roadmap (heading and text).
    response = http.post(
        f"/clients/{client.id}/welcome",
        data={
            "body": REVIEWED_BODY.replace(
                "YOUR ROADMAP TO LAUNCH (LMS SERVICE)\nDomain, template, products, payments.\n\n",
                "",
            )
        },
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "Keep the roadmap to launch (under “YOUR ROADMAP TO LAUNCH (LMS SERVICE)”)" in text(
        response
    )
    # An empty body.
    response = http.post(f"/clients/{client.id}/welcome", data={"body": " "}, headers=HTMX)
    assert response.status_code == 422 and "The email needs a message." in text(response)
    # The ACM has no booking link.
    team["acm"].booking_link = None
    db.session.commit()
    response = http.post(
        f"/clients/{client.id}/welcome", data={"body": "Hello, welcome."}, headers=HTMX
    )
    assert response.status_code == 422 and "booking link" in text(response)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert db.session.scalar(select(WelcomeEmail.sent_at)) is None


def test_the_onboarding_panel_leads_the_page_of_a_client_being_launched(
    frozen_clock, db, team, make_contact, make_client, login_as
):
    frozen_clock(MONDAY_11_CAIRO)
    client = enterprise_client(db, team["acm"], make_contact)
    http = login_as(team["acm"])
    page = text(http.get(f"/clients/{client.id}"))
    assert 'id="onboarding-panel"' in page and 'id="contacts-panel"' not in page
    assert 'id="tab-onboarding" ' in page and 'aria-current="page">Onboarding<' in page
    assert 'data-lifecycle="onboarding"' in page
    assert 'data-welcome="due"' in page and "Review and send" in page
    # A live client's page opens on the overview; its onboarding tab keeps the panel, with
    # nothing owed.
    live = make_client(acm=team["acm"])
    page = text(http.get(f"/clients/{live.id}"))
    assert 'id="contacts-panel"' in page and 'id="onboarding-panel"' not in page
    page = text(http.get(f"/clients/{live.id}?tab=onboarding"))
    assert 'data-welcome="none"' in page

    panel = http.get(f"/clients/{client.id}/onboarding-panel", headers=HTMX)
    assert panel.status_code == 200 and "<html" not in text(panel)
    assert 'id="onboarding-status"' in text(panel)


def test_other_acms_never_see_a_clients_welcome_email(
    frozen_clock, db, team, make_contact, login_as
):
    frozen_clock(MONDAY_11_CAIRO)
    client = enterprise_client(db, team["acm"], make_contact)
    stranger = login_as(Role.ACM)
    assert stranger.get(f"/clients/{client.id}/welcome").status_code == 404
    assert stranger.post(f"/clients/{client.id}/welcome", data={"body": "x"}).status_code == 404
    assert client.store_name not in text(stranger.get("/day/"))


def test_the_welcome_section_issues_the_same_queries_for_3_or_30_clients(
    frozen_clock, db, team, make_contact, login_as
):
    frozen_clock(MONDAY_11_CAIRO)
    counts, owed = [], 0
    for size in (3, 30):
        for n in range(size):
            enterprise_client(db, team["acm"], make_contact, code=f"Q{size}-{n}")
        owed += size
        http = login_as(team["leader"])
        with counting_queries(db.engine) as statements:
            response = http.get("/day/items/welcome", headers=HTMX)
        assert response.status_code == 200
        # Every welcome owed is counted; the first page of them is shown (issue 17).
        assert f'<span class="muted">({owed})</span>' in text(response)
        assert text(response).count('data-rule="O2"') == min(owed, SECTION_SIZE)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_o2_sent_from_its_own_page_the_welcome_lands_on_the_client_page(
    frozen_clock, db, team, make_contact, login_as
):
    """From the day's "review and send", the page of its own posts plainly (no panel to
    swap there) and lands on the client page's panel."""
    frozen_clock(MONDAY_11_CAIRO)
    client = enterprise_client(db, team["acm"], make_contact)
    http = login_as(team["acm"])
    page = text(http.get(f"/clients/{client.id}/welcome"))
    form = page[page.index('<form id="welcome-form"') :]
    assert "hx-post" not in form[: form.index(">")]
    body = REVIEWED_BODY
    response = http.post(f"/clients/{client.id}/welcome", data={"body": body})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/clients/{client.id}?tab=onboarding#onboarding-panel"
    )
    # Opened in the client page's panel (HTMX), the form swaps itself.
    assert 'hx-post="/clients/' in text(http.get(f"/clients/{client.id}/welcome", headers=HTMX))


def test_o2_a_client_moved_off_enterprise_is_no_longer_owed_a_welcome(
    frozen_clock, db, team, make_contact, login_as
):
    frozen_clock(MONDAY_11_CAIRO)
    client = enterprise_client(db, team["acm"], make_contact)
    client.plan = Plan.BUSINESS.value
    db.session.commit()
    http = login_as(team["acm"])
    assert client.store_name not in day_items(text(http.get("/day/")), "welcome")
    assert 'data-welcome="none"' in text(http.get(f"/clients/{client.id}"))
