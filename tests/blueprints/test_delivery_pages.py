"""A customization's delivery through HTTP (C7): the request page's milestones changed in
place, the progress on the request and client pages, the acceptance and the closure; the
client's acceptance and survey pages (no login, refusals that name nothing, once)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.models import CustomizationStage, OutboxMessage
from kamportal.services import client_links
from tests.blueprints.test_query_counts import counting_queries
from tests.client_view import readable
from tests.services.test_delivery import NOW, TODAY, in_delivery

HTMX = {"HX-Request": "true"}


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def world(make_portfolio, login_as, frozen_clock, app):
    frozen_clock(NOW)
    app.config["PUBLIC_URL"] = "http://portal.example"
    cairo = make_portfolio(
        team={"name": "Cairo"},
        acm={"name": "Mona Adel", "email": "mona@kam.example"},
        client={"store_name": "Nile Crafts", "store_code": "NILE01"},
        contact={"name": "Karim Said", "email": "karim@nile.example", "is_primary": True},
    )
    return {"cairo": cairo, "http": login_as(cairo.acm)}


def link_in_latest_email(db, path: str) -> str:
    message = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    match = re.search(rf"https?://[^/\s]+(/customization/{path}/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def test_the_request_page_shows_the_milestones_and_progress(world, db):
    cairo = world["cairo"]
    request = in_delivery(
        db, cairo.client, cairo.acm, due=[TODAY - timedelta(days=2), TODAY], done=0
    )
    page = text(world["http"].get(f"/customizations/{request.id}"))
    assert 'id="delivery"' in page and "Milestone 1" in page and "Milestone 2" in page
    assert 'data-done="0" data-total="2" data-late="1"' in page
    assert page.count('data-late="yes"') == 1
    client_page = text(world["http"].get(f"/clients/{cairo.client.id}?tab=growth"))
    assert f'id="delivery-{request.id}"' in client_page and "1 late" in client_page


def test_a_milestone_row_changes_in_place(world, db):
    """C7: HTMX gets the row, the progress and the acceptance out of band."""
    cairo = world["cairo"]
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY])
    [milestone] = request.milestones
    response = world["http"].post(
        f"/customizations/{request.id}/milestones/{milestone.id}",
        data={"due_on": TODAY.isoformat(), "owner_id": str(cairo.acm.id), "status": "done"},
        headers=HTMX,
    )
    page = text(response)
    assert response.status_code == 200, page[:500]
    assert page.startswith(f'<div class="milestone-row" id="milestone-{milestone.id}"')
    assert 'id="delivery-progress"' in page and 'hx-swap-oob="true"' in page
    assert 'data-done="1" data-total="1"' in page
    assert "Email the client the acceptance link" in page
    assert "customization-changed" in response.headers["HX-Trigger"]


@pytest.mark.parametrize(
    "data",
    [
        {"due_on": "9999-12-31", "status": "planned"},
        {"due_on": "2026-11-30", "status": "finished"},
        {"due_on": "2026-11-30", "status": "planned", "owner_id": "1e30"},
        {"due_on": "2026-11-30\x00", "status": "planned"},
        {"due_on": "", "status": "planned"},
    ],
)
def test_a_bad_row_answers_the_row_with_its_error(world, db, data):
    cairo = world["cairo"]
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY])
    [milestone] = request.milestones
    url = f"/customizations/{request.id}/milestones/{milestone.id}"
    response = world["http"].post(url, data=data, headers=HTMX)
    assert response.status_code == 422
    assert 'class="error"' in text(response) and f'id="milestone-{milestone.id}"' in text(response)
    plain = world["http"].post(url, data=data)
    assert plain.status_code == 422 and 'id="scope-of-work"' in text(plain)
    db.session.expire_all()
    assert milestone.due_on == TODAY and milestone.status == "planned"


def test_moving_a_done_milestone_back_is_refused_on_its_row(world, db):
    cairo = world["cairo"]
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY], done=1)
    [milestone] = request.milestones
    response = world["http"].post(
        f"/customizations/{request.id}/milestones/{milestone.id}",
        data={"due_on": TODAY.isoformat(), "status": "planned"},
        headers=HTMX,
    )
    assert response.status_code == 422 and "moves forward only" in text(response)


def test_a_milestone_is_added_and_the_section_answers(world, db):
    cairo = world["cairo"]
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY])
    url = f"/customizations/{request.id}/milestones"
    bad = world["http"].post(url, data={"title": "", "due_on": "x"}, headers=HTMX)
    assert bad.status_code == 422 and bad.headers["HX-Retarget"] == "#delivery"
    response = world["http"].post(
        url,
        data={"title": "Reports", "kind": "extra", "due_on": "2026-12-10", "owner_id": "0"},
        headers=HTMX,
    )
    assert response.status_code == 200 and "Reports" in text(response)
    assert 'data-total="2"' in text(response)


def test_the_client_accepts_through_the_link(world, db, client):
    """C7: the page needs no login, shows the milestones and the exit criteria, nothing
    internal; the typed name accepts once."""
    cairo = world["cairo"]
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY], done=1)
    sent = world["http"].post(f"/customizations/{request.id}/acceptance/link", headers=HTMX)
    assert sent.status_code == 200, text(sent)[:500]
    link = link_in_latest_email(db, "accept")
    response = client.get(link)
    page = text(response)
    assert response.status_code == 200
    assert "Milestone 1" in page and "A shopper sees their points" in page
    assert "/clients/" not in page
    for internal in ("SAL-", "C7", "Mona Adel", "Sign out", "karim@nile.example"):
        assert internal not in readable(page)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    refused = client.post(link, data={"name": "  "}, headers=HTMX)
    assert refused.status_code == 422 and "Type your full name" in text(refused)
    done = client.post(link, data={"name": "Karim Said"}, headers=HTMX)
    assert done.status_code == 200 and "Thank you" in text(done)
    assert done.headers["HX-Retarget"] == "#link-page"
    db.session.expire_all()
    assert request.stage == CustomizationStage.CLOSING.value
    assert request.accepted_name == "Karim Said" and request.accepted_via == "link"
    again = client.get(link)
    assert again.status_code == 410 and "Nile Crafts" not in text(again)


@pytest.mark.parametrize("path", ["accept", "survey"])
def test_an_altered_link_is_not_found_and_names_nothing(world, client, path):
    for token in ("not-a-token", "eyJsIjoxLCJuIjoieCJ9.AAAA"):
        response = client.get(f"/customization/{path}/{token}")
        page = text(response)
        assert response.status_code == 404
        assert 'data-link-refused="altered"' in page and "Nile Crafts" not in page


def test_an_expired_acceptance_link_says_so(world, db, client, frozen_clock):
    cairo = world["cairo"]
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY], done=1)
    world["http"].post(f"/customizations/{request.id}/acceptance/link")
    link = link_in_latest_email(db, "accept")
    frozen_clock(NOW + timedelta(days=14, minutes=1))
    response = client.post(link, data={"name": "Karim"})
    assert response.status_code == 410 and "expired" in text(response)
    assert "Nile Crafts" not in text(response)


def test_the_acm_records_acceptance_closes_and_the_survey_is_answered(world, db, client):
    """C7: evidence recorded, closed (survey sent at once), the client scores it once; the
    result shows on the request page and the client page."""
    cairo, http = world["cairo"], world["http"]
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY], done=1)
    url = f"/customizations/{request.id}/acceptance"
    bad = http.post(url, data={"acceptance-note": ""}, headers=HTMX)
    assert bad.status_code == 422
    recorded = http.post(url, data={"note": "Karim said yes on the call"}, headers=HTMX)
    assert recorded.status_code == 200, text(recorded)[:500]
    assert "Close the customization" in text(recorded)
    closed = http.post(f"/customizations/{request.id}/close")
    assert closed.status_code == 303
    survey = link_in_latest_email(db, "survey")
    page = text(client.get(survey))
    assert "How did we do?" in page and "SAL-" not in page
    for score in ("0", "6", "1e30", ""):
        refused = client.post(survey, data={"score": score, "comment": "x"})
        assert refused.status_code == 422
    answered = client.post(survey, data={"score": "5", "comment": "Lovely work"})
    assert answered.status_code == 200 and "Thank you" in text(answered)
    assert client.post(survey, data={"score": "1"}).status_code == 410
    show = text(http.get(f"/customizations/{request.id}"))
    assert 'id="survey-result" data-score="5"' in show and "Lovely work" in show
    panel = text(http.get(f"/clients/{cairo.client.id}?tab=growth"))
    assert "Satisfaction 5 of 5" in panel and "Lovely work" in panel


def test_closing_before_acceptance_is_refused_in_place(world, db):
    cairo = world["cairo"]
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY])
    response = world["http"].post(f"/customizations/{request.id}/close", headers=HTMX)
    assert response.status_code == 422 and "Only an accepted customization" in text(response)


def test_the_day_lists_late_milestones(world, db, frozen_clock, login_as):
    cairo = world["cairo"]
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY - timedelta(days=1)])
    page = text(world["http"].get("/day/items/delivery", headers=HTMX))
    assert "Milestone late: Milestone 1" in page
    assert f"/customizations/{request.id}#delivery" in page


def test_the_request_page_and_day_do_not_grow_with_milestones(world, db, make_user):
    """No N+1: the same queries for 3 milestones as for 30, each with an owner."""
    cairo, http = world["cairo"], world["http"]
    counts = {}
    for size in (3, 30):
        request = in_delivery(
            db, cairo.client, cairo.acm, due=[TODAY - timedelta(days=1)] * size, done=1
        )
        for milestone in request.milestones:
            milestone.owner = make_user(name=f"Owner {milestone.id}", team=cairo.team)
        db.session.commit()
        with counting_queries(db.engine) as page:
            assert http.get(f"/customizations/{request.id}").status_code == 200
        with counting_queries(db.engine) as day:
            assert http.get("/day/items/delivery", headers=HTMX).status_code == 200
        with counting_queries(db.engine) as client_page:
            assert http.get(f"/clients/{cairo.client.id}?tab=growth").status_code == 200
        counts[size] = (len(page), len(day), len(client_page))
        request.stage = CustomizationStage.CLOSED.value
        db.session.commit()
    assert counts[3] == counts[30], counts
    assert clock.now() == NOW
    _ = client_links
