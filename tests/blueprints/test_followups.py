"""The F2 panel and its routes through HTTP: offered after an unanswered call, sent with one
click (HTMX fragment and plain post), 422 when it cannot go, 404 for hidden clients and
other clients' ladders, 403 for roles outside the client registry; what is owed on the
ACM's day, and the WhatsApp reminder sent from the panel once due."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kamportal.models import CallOutcome, Channel, NoReplyLadder, OutboxMessage, Role
from kamportal.services import contact_log

HTMX = {"HX-Request": "true"}
# Monday 23 Nov 2026, 10:00 in Cairo.
MONDAY_10_CAIRO = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def acm(make_portfolio):
    return make_portfolio(client=False).acm


@pytest.fixture
def client_with_contact(acm, make_client, make_contact):
    store = make_client(acm=acm)
    make_contact(store, name="Karim Said", email="karim@store.example")
    return store


def unanswered(store, acm, db) -> NoReplyLadder:
    contact_log.log_call(store, actor=acm, contact=None, outcome=CallOutcome.NO_ANSWER)
    db.session.commit()
    return db.session.scalars(
        select(NoReplyLadder).where(NoReplyLadder.client_id == store.id)
    ).one()


def emails(db) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel == Channel.EMAIL.value)
        )
    )


def test_the_client_page_offers_the_followup_after_an_unanswered_call(
    login_as, acm, client_with_contact, db
):
    http = login_as(acm)
    page = http.get(f"/clients/{client_with_contact.id}?tab=meetings").get_data(as_text=True)
    assert 'id="no-reply-ladder"' in page
    assert "Send the follow-up email" not in page
    response = http.post(
        f"/clients/{client_with_contact.id}/calls",
        data={"contact": 0, "outcome": "no_answer"},
        headers=HTMX,
    )
    assert response.status_code == 200
    panel = http.get(f"/clients/{client_with_contact.id}/followups/ladder", headers=HTMX)
    assert "Send the follow-up email" in panel.get_data(as_text=True)
    page = http.get(f"/clients/{client_with_contact.id}?tab=meetings").get_data(as_text=True)
    assert "Send the follow-up email" in page
    plain = http.get(f"/clients/{client_with_contact.id}/followups/ladder")
    assert plain.status_code == 302
    assert plain.headers["Location"].endswith(
        f"/clients/{client_with_contact.id}?tab=meetings#no-reply-ladder"
    )


def test_sending_the_followup_queues_the_email_and_tells_the_timeline(
    login_as, acm, client_with_contact, db
):
    ladder = unanswered(client_with_contact, acm, db)
    response = login_as(acm).post(
        f"/clients/{client_with_contact.id}/followups/{ladder.id}/email", headers=HTMX
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Follow-up email queued" in body
    assert "Send the follow-up email" not in body
    assert "timeline-changed" in response.headers["HX-Trigger"]
    [email] = emails(db)
    assert email.to_addrs == ["karim@store.example"]


def test_a_plain_post_sends_and_returns_to_the_client_page(login_as, acm, client_with_contact, db):
    ladder = unanswered(client_with_contact, acm, db)
    response = login_as(acm).post(f"/clients/{client_with_contact.id}/followups/{ladder.id}/email")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/clients/{client_with_contact.id}?tab=meetings#no-reply-ladder"
    )
    assert len(emails(db)) == 1


def test_no_email_address_answers_422_with_the_reason(login_as, acm, make_client, make_contact, db):
    store = make_client(acm=acm)
    make_contact(store, email=None)
    ladder = unanswered(store, acm, db)
    response = login_as(acm).post(f"/clients/{store.id}/followups/{ladder.id}/email", headers=HTMX)
    assert response.status_code == 422
    assert "No contact of this client has an email address" in response.get_data(as_text=True)
    assert emails(db) == []


def test_the_team_leader_and_an_admin_may_send_it(
    login_as, acm, client_with_contact, db, make_user
):
    ladder = unanswered(client_with_contact, acm, db)
    url = f"/clients/{client_with_contact.id}/followups/{ladder.id}/email"
    assert login_as(acm.team.leader).post(url, headers=HTMX).status_code == 200
    assert login_as(make_user(Role.ADMIN)).post(url, headers=HTMX).status_code == 200
    assert len(emails(db)) == 1


def test_another_acms_client_is_404(login_as, acm, client_with_contact, db, make_user):
    ladder = unanswered(client_with_contact, acm, db)
    other = login_as(make_user(Role.ACM, team=acm.team))
    url = f"/clients/{client_with_contact.id}/followups"
    assert other.post(f"{url}/{ladder.id}/email", headers=HTMX).status_code == 404
    assert other.get(f"{url}/ladder", headers=HTMX).status_code == 404
    assert emails(db) == []


def test_a_ladder_of_another_client_is_404(login_as, acm, client_with_contact, make_client, db):
    ladder = unanswered(client_with_contact, acm, db)
    mine = make_client(acm=acm)
    response = login_as(acm).post(f"/clients/{mine.id}/followups/{ladder.id}/email")
    assert response.status_code == 404


@pytest.mark.parametrize("role", [Role.FINANCE, Role.PRODUCT, Role.COMMERCIAL])
def test_roles_outside_the_client_registry_are_refused(
    login_as, acm, client_with_contact, db, role
):
    ladder = unanswered(client_with_contact, acm, db)
    http = login_as(role)
    url = f"/clients/{client_with_contact.id}/followups"
    assert http.post(f"{url}/{ladder.id}/email").status_code == 403
    assert http.get(f"{url}/ladder").status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client, acm, client_with_contact, db):
    ladder = unanswered(client_with_contact, acm, db)
    response = client.get(f"/clients/{client_with_contact.id}/followups/ladder")
    assert response.status_code in (302, 401)
    response = client.post(
        f"/clients/{client_with_contact.id}/followups/{ladder.id}/email", csrf=False
    )
    assert response.status_code in (302, 400, 401)
    assert emails(db) == []


# --- Owed on the day (F2) ----------------------------------------------------------------------


def day_section(page: str, name: str) -> str:
    start = page.index(f'id="day-{name}"')
    return page[start : page.index("</section>", start)]


def test_the_followup_owed_is_on_the_acms_day_and_leaves_once_sent_F2(
    login_as, acm, client_with_contact, db, frozen_clock
):
    """F2: with the team's default the email waits for the ACM: their day shows it with
    the rule and since when, linked to the client's panel; sent from there, it is gone."""
    frozen_clock(MONDAY_10_CAIRO)
    ladder = unanswered(client_with_contact, acm, db)
    http = login_as(acm)
    owed = day_section(http.get("/").get_data(as_text=True), "no_reply")
    assert client_with_contact.store_name in owed and 'data-rule="F2"' in owed
    assert "Call not answered: send the follow-up email" in owed
    assert f'href="/clients/{client_with_contact.id}?tab=meetings#no-reply-ladder"' in owed
    http.post(f"/clients/{client_with_contact.id}/followups/{ladder.id}/email", headers=HTMX)
    section = http.get("/day/items/no_reply", headers=HTMX).get_data(as_text=True)
    assert client_with_contact.store_name not in section and "Nothing here." in section


def test_a_whatsapp_reminder_due_and_not_sent_is_sent_from_the_panel_F2(
    login_as, acm, client_with_contact, db, frozen_clock
):
    """F2: the WhatsApp's job did not run (no worker): at its due time the day owes it and
    the client's panel offers to send it now; before then the panel refuses (422)."""
    frozen_clock(MONDAY_10_CAIRO)
    acm.team.no_reply_whatsapp_after_hours = 1
    client_with_contact.contacts[0].whatsapp = "+201001112223"
    db.session.commit()
    ladder = unanswered(client_with_contact, acm, db)
    http = login_as(acm)
    url = f"/clients/{client_with_contact.id}/followups/{ladder.id}"
    http.post(f"{url}/email", headers=HTMX)
    db.session.refresh(ladder)
    panel = http.get(f"{url.rsplit('/', 1)[0]}/ladder", headers=HTMX).get_data(as_text=True)
    assert "Send the WhatsApp reminder now" not in panel
    early = http.post(f"{url}/whatsapp", headers=HTMX)
    assert early.status_code == 422 and "not due yet" in early.get_data(as_text=True)

    frozen_clock(ladder.whatsapp_due_at)
    page = http.get("/").get_data(as_text=True)
    assert "No reply: the WhatsApp reminder is due" in day_section(page, "no_reply")
    panel = http.get(f"{url.rsplit('/', 1)[0]}/ladder", headers=HTMX).get_data(as_text=True)
    assert "Send the WhatsApp reminder now" in panel
    sent = http.post(f"{url}/whatsapp", headers=HTMX)
    assert sent.status_code == 200 and "timeline-changed" in sent.headers["HX-Trigger"]
    assert "WhatsApp reminder queued" in sent.get_data(as_text=True)
    [whatsapp] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.channel == Channel.WHATSAPP.value)
    )
    assert whatsapp.template == "check_your_email" and whatsapp.to_addrs == ["+201001112223"]
    assert "Nothing here." in http.get("/day/items/no_reply", headers=HTMX).get_data(as_text=True)
