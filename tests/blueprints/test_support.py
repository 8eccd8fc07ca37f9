"""G4 through HTTP: from the client page the ACM escalates a technical problem to the
support team's ticket system; the panel lists the client's tickets with their key (linked
to Jira), priority, status and SLA; a refusal of Jira gives the form again, nothing saved;
the ACM's day shows the tickets past their SLA."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kamportal import clock
from kamportal.models import SupportTicket, TimelineEvent, TimelineKind
from kamportal.models.types import utc
from tests.conftest import sign_in

HTMX = {"HX-Request": "true"}
OPENED = utc(2026, 12, 3, 10)
FORM = {"summary": "Checkout fails", "description": "Card payments fail.", "priority": "High"}


@pytest.fixture
def world(make_portfolio, frozen_clock):
    frozen_clock(OPENED)
    return make_portfolio(client={"store_name": "Nile Crafts", "store_code": "NILE01"})


def text_of(response) -> str:
    return response.get_data(as_text=True)


def panel_of(page: str) -> str:
    start = page.index('id="support-panel"')
    return page[start : page.find("</section>", start)]


def count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(SupportTicket))


def test_the_client_page_offers_to_escalate_a_technical_problem(world, login_as):
    panel = panel_of(
        text_of(login_as(world.acm).get(f"/clients/{world.client.id}?tab=escalations"))
    )
    assert "Escalate a technical problem" in panel and "No support tickets." in panel


def test_escalating_swaps_the_panel_and_tells_the_timeline(world, login_as, db):
    http = login_as(world.acm)
    url = f"/clients/{world.client.id}/support-tickets/new"
    form = text_of(http.get(url, headers=HTMX))
    assert 'id="support-ticket-form"' in form and "<html" not in form
    assert all(p in form for p in ("Highest", "High", "Medium", "Low", "Lowest"))

    response = http.post(url, data=FORM, headers=HTMX)

    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#support-panel"
    assert "timeline-changed" in json.loads(response.headers["HX-Trigger"])
    panel = text_of(response)
    assert "SUP-1" in panel and "High" in panel and "To Do" in panel and "SLA until" in panel
    assert "Support ticket SUP-1 opened (High)." in panel  # the flash
    assert 'href="http' not in panel  # the portal's own tickets have no page to link
    ticket = db.session.scalars(select(SupportTicket)).one()
    assert (ticket.summary, ticket.priority, ticket.opened_by) == (
        "Checkout fails",
        "High",
        world.acm,
    )


def test_a_plain_post_goes_back_to_the_client_page(world, login_as, db):
    response = login_as(world.acm).post(
        f"/clients/{world.client.id}/support-tickets/new", data=FORM
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/clients/{world.client.id}?tab=escalations#support-panel"
    )
    assert count(db) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"summary": ""}, "Say what the problem is in a line."),
        ({"description": ""}, "Describe the problem"),
        ({"priority": "Urgent"}, "Not a valid choice"),
    ],
)
def test_bad_input_gets_the_form_again_and_opens_nothing(world, login_as, db, data, message):
    response = login_as(world.acm).post(
        f"/clients/{world.client.id}/support-tickets/new", data={**FORM, **data}, headers=HTMX
    )
    assert response.status_code == 422
    assert message in text_of(response)
    assert count(db) == 0


def test_in_jira_the_key_links_to_jira_and_carries_the_enterprise_label(
    world, login_as, db, on_jira
):
    http = login_as(world.acm)
    http.post(f"/clients/{world.client.id}/support-tickets/new", data=FORM, headers=HTMX)

    enterprise, purpose = on_jira.last("POST", "/rest/api/3/issue").body["fields"]["labels"]
    assert enterprise == "Enterprise" and purpose.startswith("kam-support-")
    panel = panel_of(text_of(http.get(f"/clients/{world.client.id}?tab=escalations")))
    assert f'href="{on_jira.url}/browse/SUP-1"' in panel
    timeline = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.SUPPORT_TICKET_OPENED.value)
    ).one()
    assert timeline.detail["url"] == f"{on_jira.url}/browse/SUP-1"


def test_a_refusal_of_jira_gives_the_form_again_with_its_message_and_saves_nothing(
    world, login_as, db, on_jira
):
    http = login_as(world.acm)
    url = f"/clients/{world.client.id}/support-tickets/new"
    on_jira.misbehave(
        "status",
        path_end="/issue",
        status=400,
        body={"errors": {"priority": "Priority is hidden"}},
    )

    response = http.post(url, data=FORM, headers=HTMX)

    assert response.status_code == 422
    page = text_of(response)
    assert "priority: Priority is hidden" in page
    assert 'value="Checkout fails"' in page  # what was typed stays, for the retry
    assert count(db) == 0
    assert db.session.scalar(select(func.count()).select_from(TimelineEvent)) == 0
    # The ACM tries again.
    assert http.post(url, data=FORM, headers=HTMX).status_code == 200
    assert count(db) == 1


def test_a_ticket_past_its_sla_shows_on_the_acms_day(world, login_as, db, frozen_clock):
    http = login_as(world.acm)
    http.post(f"/clients/{world.client.id}/support-tickets/new", data=FORM, headers=HTMX)
    assert "SUP-1" not in text_of(http.get("/day/items/support", headers=HTMX))

    frozen_clock(OPENED + timedelta(hours=8))  # the High SLA's 8 hours
    sign_in(http, world.acm)
    day = text_of(http.get("/day/items/support", headers=HTMX))
    assert "Support ticket SUP-1 past its SLA" in day and "High · To Do" in day
    panel = panel_of(text_of(http.get(f"/clients/{world.client.id}?tab=escalations")))
    assert "SLA ran out" in panel
    assert clock.now() == OPENED + timedelta(hours=8)


def form_key(form: str) -> str:
    return re.search(r'name="key" type="hidden" value="([^"]+)"', form).group(1)


def test_a_form_sent_again_after_jiras_answer_was_lost_opens_one_issue_G4(
    world, login_as, db, on_jira
):
    http = login_as(world.acm)
    url = f"/clients/{world.client.id}/support-tickets/new"
    key = form_key(text_of(http.get(url, headers=HTMX)))
    on_jira.misbehave("lost", path_end="/issue")

    refused = http.post(url, data={**FORM, "key": key}, headers=HTMX)

    assert refused.status_code == 422
    assert "trying again finds it" in text_of(refused)
    assert form_key(text_of(refused)) == key  # the form sent again is the same sending
    assert count(db) == 0
    sent = http.post(url, data={**FORM, "key": key}, headers=HTMX)
    assert sent.status_code == 200 and "SUP-1" in text_of(sent)
    # Sent once more (a double click): the same ticket, nothing more.
    assert http.post(url, data={**FORM, "key": key}, headers=HTMX).status_code == 200
    assert list(on_jira.issues) == ["SUP-1"]
    assert db.session.scalars(select(SupportTicket.ticket_key)).all() == ["SUP-1"]
    assert "kam-support" not in text_of(http.get(f"/clients/{world.client.id}?tab=escalations"))


def test_each_form_opened_is_a_ticket_of_its_own(world, login_as, db):
    http = login_as(world.acm)
    url = f"/clients/{world.client.id}/support-tickets/new"
    keys = {form_key(text_of(http.get(url, headers=HTMX))) for _ in range(2)}
    for key in keys:
        http.post(url, data={**FORM, "key": key}, headers=HTMX)
    assert len(keys) == 2 and count(db) == 2


def test_a_form_with_a_key_that_is_not_one_is_refused(world, login_as, db):
    response = login_as(world.acm).post(
        f"/clients/{world.client.id}/support-tickets/new",
        data={**FORM, "key": "not a key"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "This form is out of date" in text_of(response)
    assert count(db) == 0
