"""Client list, client page, contacts and logged contact, over HTTP (HTMX included)."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from kamportal.models import (
    AuditEvent,
    Client,
    Contact,
    DeliveryStatus,
    OutboxMessage,
    Role,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import contact_log, escalations
from tests.blueprints.test_query_counts import counting_queries

HTMX = {"HX-Request": "true"}


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- The list ----------------------------------------------------------------------------


def test_acm_sees_only_their_own_clients_in_the_list(login_as, cairo, make_client):
    _, _, acm, other = cairo
    make_client(acm=acm, store_name="Pyramid Spices")
    make_client(acm=other, store_name="Sphinx Shoes")
    page = login_as(acm).get("/clients/").get_data(as_text=True)
    assert "Pyramid Spices" in page
    assert "Sphinx Shoes" not in page


def test_leader_sees_the_teams_clients_and_filters_by_acm(login_as, cairo, make_client):
    _, leader, acm, other = cairo
    make_client(acm=acm, store_name="Pyramid Spices")
    make_client(acm=other, store_name="Sphinx Shoes")
    http = login_as(leader)
    page = http.get("/clients/").get_data(as_text=True)
    assert "Pyramid Spices" in page and "Sphinx Shoes" in page
    filtered = http.get(f"/clients/?acm={other.id}").get_data(as_text=True)
    assert "Sphinx Shoes" in filtered and "Pyramid Spices" not in filtered


def test_a_search_too_short_to_look_for_says_so_and_reads_no_client(
    db, login_as, cairo, make_client
):
    """Issue 17: under search.MIN_LENGTH characters the list says how much to type and runs
    no search (it would read every client and contact)."""
    _, _, acm, _ = cairo
    make_client(acm=acm, store_name="Delta Dates")
    http = login_as(acm)
    with counting_queries(db.engine) as statements:
        body = http.get("/clients/?q=de", headers=HTMX).get_data(as_text=True)
    assert "Type at least 3 characters to search." in body
    assert "Delta Dates" not in body and "Nothing searched yet." in body
    assert not any("FROM clients" in statement for statement in statements), statements
    assert "Delta Dates" in http.get("/clients/?q=del").get_data(as_text=True)


def test_the_count_says_how_many_the_pages_hold(login_as, cairo, make_client, make_contact):
    """Issue 17: the count and the pages come from one set of clients: a client found by its
    name and by two of its contacts is one client, on one page, counted once."""
    _, leader, acm, other = cairo
    for n in range(30):
        client = make_client(acm=acm if n % 2 else other, store_name=f"Oasis {n:02d}")
        if n % 3 == 0:
            make_contact(client, name="Oasis buyer", email=f"buyer{n}@oasis.example")
            make_contact(client, name="Oasis owner", email=f"owner{n}@oasis.example")
    make_contact(make_client(acm=acm, store_name="Sahara Stores"), email="x@oasis.example")
    http = login_as(leader)
    for sort in ("name", "last_contact"):
        seen: list[str] = []
        page = 1
        while True:
            body = http.get(f"/clients/?q=oasis&sort={sort}&direction=desc&page={page}").get_data(
                as_text=True
            )
            rows = re.findall(r'<tr id="client-(\d+)">', body)
            if not rows:
                break
            seen += rows
            page += 1
        assert "31 clients matching “oasis”" in body
        assert len(seen) == len(set(seen)) == 31
        assert page == 3


def test_live_search_answers_htmx_with_the_table_partial_only(login_as, cairo, make_client):
    _, _, acm, _ = cairo
    make_client(acm=acm, store_name="Pyramid Spices")
    make_client(acm=acm, store_name="Delta Dates")
    response = login_as(acm).get("/clients/?q=delta", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="client-table">')
    assert "<html" not in body
    assert "Delta Dates" in body and "Pyramid Spices" not in body
    assert "HX-Request" in response.headers["Vary"]


def test_a_bookmarked_search_reloads_to_the_same_state(login_as, cairo, make_client):
    _, _, acm, _ = cairo
    make_client(acm=acm, store_name="Delta Dates", status="at_risk")
    page = login_as(acm).get("/clients/?q=delta&status=at_risk&sort=code&direction=desc")
    html = page.get_data(as_text=True)
    assert "<html" in html
    assert 'value="delta"' in html
    assert re.search(r'<option value="at_risk" selected>', html)
    assert "Delta Dates" in html
    assert 'aria-sort="descending"' in html


def test_history_restore_gets_the_whole_page(login_as, cairo):
    _, _, acm, _ = cairo
    response = login_as(acm).get(
        "/clients/?q=x", headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.get_data(as_text=True)


def test_the_list_is_paged(app, login_as, cairo, make_client):
    _, _, acm, _ = cairo
    for n in range(30):
        make_client(acm=acm, store_name=f"Store {n:02d}")
    http = login_as(acm)
    first = http.get("/clients/").get_data(as_text=True)
    assert "30 clients" in first and "Page 1 of 2" in first
    second = http.get("/clients/?page=2").get_data(as_text=True)
    assert "Store 29" in second and "Store 00" not in second


def test_finance_cannot_open_the_client_registry(login_as):
    assert login_as(Role.FINANCE).get("/clients/").status_code == 403


# --- The client page ---------------------------------------------------------------------


def test_another_acms_client_is_not_found_and_its_name_never_shown(login_as, cairo, make_client):
    _, _, acm, other = cairo
    theirs = make_client(acm=other, store_name="Secret Store")
    response = login_as(acm).get(f"/clients/{theirs.id}")
    assert response.status_code == 404
    assert "Secret Store" not in response.get_data(as_text=True)


def test_htmx_request_for_a_hidden_client_gets_a_message_fragment(login_as, cairo, make_client):
    _, _, acm, other = cairo
    theirs = make_client(acm=other)
    response = login_as(acm).get(f"/clients/{theirs.id}/timeline", headers=HTMX)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#flashes"
    assert "<html" not in response.get_data(as_text=True)


def test_client_page_shows_profile_contacts_tel_links_and_last_contact(
    login_as, cairo, make_client, make_contact
):
    _, _, acm, _ = cairo
    client = make_client(acm=acm, store_name="Nile Threads")
    make_contact(client, name="Sara Nabil", phone="+201001234567", is_primary=True)
    page = login_as(acm).get(f"/clients/{client.id}").get_data(as_text=True)
    assert "Nile Threads" in page and "Sara Nabil" in page
    assert 'href="tel:+201001234567"' in page  # rule G3: click to call
    assert "Last contact:" in page and "never" in page


def test_timeline_is_newest_first_and_paged(login_as, cairo, make_client, db, frozen_clock):
    from datetime import timedelta

    from kamportal import clock
    from kamportal.services import timeline

    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    for n in range(25):
        clock.advance(timedelta(minutes=1))
        timeline.record(client, TimelineKind.NOTE, actor=acm, summary=f"note number {n}")
    db.session.commit()
    http = login_as(acm)
    first = http.get(f"/clients/{client.id}").get_data(as_text=True)
    assert first.index("note number 24") < first.index("note number 5")
    assert "note number 4" not in first
    older = http.get(f"/clients/{client.id}/timeline?page=2", headers=HTMX).get_data(as_text=True)
    assert "note number 4" in older and "note number 24" not in older


# --- Contacts ----------------------------------------------------------------------------


def test_adding_a_contact_with_a_bad_email_shows_the_error_and_saves_nothing(
    login_as, cairo, make_client, db
):
    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    response = login_as(acm).post(
        f"/clients/{client.id}/contacts",
        data={"name": "Sara", "email": "sara@", "phone": "+201001234567"},
        headers=HTMX,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="contact-form"' in body and "Not a valid email address" in body
    assert response.headers["HX-Retarget"] == "#contact-form"
    assert count(db, Contact) == 0
    assert count(db, TimelineEvent) == 0


def test_adding_a_contact_with_a_bad_phone_shows_the_error_and_saves_nothing(
    login_as, cairo, make_client, db
):
    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    response = login_as(acm).post(
        f"/clients/{client.id}/contacts",
        data={"name": "Sara", "email": "sara@nile.example", "phone": "123"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "phone number" in response.get_data(as_text=True)
    assert count(db, Contact) == 0


def test_adding_a_good_contact_returns_the_rows_and_refreshes_the_timeline(
    login_as, cairo, make_client, db
):
    _, _, acm, _ = cairo
    client = make_client(acm=acm, country="EG")
    response = login_as(acm).post(
        f"/clients/{client.id}/contacts",
        data={"name": "Sara Nabil", "email": "sara@nile.example", "phone": "0100 123 4567"},
        headers=HTMX,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<tbody id="contact-rows"')
    assert "Sara Nabil" in body and "+201001234567" in body
    assert "timeline-changed" in response.headers["HX-Trigger"]
    assert db.session.scalar(select(Contact.phone)) == "+201001234567"


def test_editing_a_contact_inline_and_a_bad_edit_keeps_the_old_values(
    login_as, cairo, make_client, make_contact, db
):
    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    contact = make_contact(client, name="Sara", email="sara@nile.example")
    http = login_as(acm)
    form = http.get(f"/clients/{client.id}/contacts/{contact.id}/edit", headers=HTMX)
    assert form.get_data(as_text=True).lstrip().startswith(f'<tr id="contact-{contact.id}">')
    bad = http.post(
        f"/clients/{client.id}/contacts/{contact.id}",
        data={"name": "Sara", "email": "broken"},
        headers=HTMX,
    )
    assert bad.status_code == 422
    assert bad.headers["HX-Retarget"] == f"#contact-{contact.id}"
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).email == "sara@nile.example"
    good = http.post(
        f"/clients/{client.id}/contacts/{contact.id}",
        data={"name": "Sara N.", "email": "sara.n@nile.example", "role": "Owner"},
        headers=HTMX,
    )
    assert good.status_code == 200 and "Sara N." in good.get_data(as_text=True)


def test_contacts_work_without_javascript(login_as, cairo, make_client, db):
    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    http = login_as(acm)
    assert "New contact" in http.get(f"/clients/{client.id}/contacts/new").get_data(as_text=True)
    response = http.post(
        f"/clients/{client.id}/contacts", data={"name": "Sara", "email": "sara@nile.example"}
    )
    assert response.status_code == 302
    assert count(db, Contact) == 1


def test_a_contact_of_another_client_cannot_be_edited_through_this_one(
    login_as, cairo, make_client, make_contact
):
    _, _, acm, _ = cairo
    mine = make_client(acm=acm)
    other = make_client(acm=acm)
    theirs = make_contact(other)
    response = login_as(acm).post(
        f"/clients/{mine.id}/contacts/{theirs.id}", data={"name": "X", "email": "x@y.example"}
    )
    assert response.status_code == 404


# --- Logging contact ---------------------------------------------------------------------


def test_logging_a_call_puts_it_on_the_timeline_G3(login_as, cairo, make_client, make_contact, db):
    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    contact = make_contact(client, name="Sara")
    http = login_as(acm)
    response = http.post(
        f"/clients/{client.id}/calls",
        data={"contact": contact.id, "outcome": "answered", "notes": "Wants a new banner"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert 'id="call-form"' in response.get_data(as_text=True)
    assert "timeline-changed" in response.headers["HX-Trigger"]
    timeline = http.get(f"/clients/{client.id}/timeline", headers=HTMX).get_data(as_text=True)
    assert "Call with Sara: Answered. Wants a new banner" in timeline
    assert "today" in timeline  # last contact


def test_logging_a_call_without_an_outcome_is_refused(login_as, cairo, make_client, db):
    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    response = login_as(acm).post(f"/clients/{client.id}/calls", data={"contact": 0}, headers=HTMX)
    assert response.status_code == 422
    assert "Choose how the call went." in response.get_data(as_text=True)
    assert count(db, TimelineEvent) == 0


def test_email_and_note_are_logged(login_as, cairo, make_client, db):
    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    http = login_as(acm)
    http.post(
        f"/clients/{client.id}/emails",
        data={"direction": "received", "contact": 0, "subject": "Shipping rates"},
        headers=HTMX,
    )
    http.post(f"/clients/{client.id}/notes", data={"text": "Prefers mornings"}, headers=HTMX)
    kinds = set(db.session.scalars(select(TimelineEvent.kind)))
    assert kinds == {TimelineKind.EMAIL_RECEIVED, TimelineKind.NOTE}


def test_whatsapp_request_offers_the_email_redirect_reply_and_sends_it_G6(
    app, login_as, cairo, make_client, make_contact, db, run_jobs
):
    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    contact = make_contact(client, name="Omar Khaled", whatsapp="+201001112223")
    http = login_as(acm)
    offer = http.post(
        f"/clients/{client.id}/whatsapp",
        data={"contact": contact.id, "message": "Please change my logo"},
        headers=HTMX,
    ).get_data(as_text=True)
    assert "WhatsApp is not an official channel" in offer
    assert acm.email in offer
    key = re.search(r'name="key" value="(request-\d+)"', offer).group(1)
    for _ in range(2):  # a double click sends once
        http.post(
            f"/clients/{client.id}/whatsapp/reply",
            data={"contact": contact.id, "key": key},
            headers=HTMX,
        )
    run_jobs()
    from kamportal.messaging.whatsapp import whatsapp_adapter

    sent = whatsapp_adapter(app).sent
    assert [(m["to"], m["template"]) for m in sent] == [("+201001112223", "redirect_to_email")]
    assert count(db, OutboxMessage) == 1
    # Answered: the client page no longer offers it.
    page = http.get(f"/clients/{client.id}").get_data(as_text=True)
    assert "Not answered yet" not in page and "whatsapp-request-" not in page


def test_a_whatsapp_request_left_unanswered_is_still_offered_on_the_client_page_G6(
    login_as, cairo, make_client, make_contact, db
):
    """G6: the reply is offered until it is sent, not only right after the request is
    logged; a request from a contact without a WhatsApp number offers the contacts who
    have one."""
    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    omar = make_contact(client, name="Omar Khaled", whatsapp="+201001112223")
    sara = make_contact(client, name="Sara Adel", whatsapp=None, email="sara@store.example")
    make_contact(client, name="Nour Said", whatsapp="+201004445556")
    http = login_as(acm)
    for contact, message in ((omar, "Please change my logo"), (sara, "Call me")):
        http.post(
            f"/clients/{client.id}/whatsapp",
            data={"contact": contact.id, "message": message},
            headers=HTMX,
        )
    page = http.get(f"/clients/{client.id}").get_data(as_text=True)
    assert page.count("Not answered yet") == 2
    assert "WhatsApp from Omar Khaled" in page and "“Please change my logo”" in page
    # Sara has no number: the reply goes to a contact who has one, chosen in the form.
    choices = re.search(
        r'<select id="whatsapp-answer-\d+" name="contact">(.*?)</select>', page, re.S
    )
    assert choices and "Omar Khaled" in choices[1] and "Nour Said" in choices[1]
    assert "Sara Adel" not in choices[1]


def test_email_this_contact_is_delivered_by_a_real_worker_to_a_real_smtp_server_G1(
    login_as, cairo, make_client, make_contact, db, run_jobs, smtp_server
):
    """The foundation's proof: page → outbox → RQ worker → SMTP → timeline shows it sent."""
    _, leader, acm, _ = cairo
    client = make_client(acm=acm, store_name="Nile Threads")
    contact = make_contact(client, name="Sara", email="sara@nile.example")
    http = login_as(acm)
    form = http.get(f"/clients/{client.id}/contacts/{contact.id}/email", headers=HTMX)
    key = re.search(r'name="key" type="hidden" value="([0-9a-f]+)"', form.get_data(as_text=True))
    data = {"subject": "Your launch plan", "body": "Hello Sara,\nHere is the plan.", "key": key[1]}
    response = http.post(
        f"/clients/{client.id}/contacts/{contact.id}/email", data=data, headers=HTMX
    )
    assert response.status_code == 200
    assert "queued" in response.get_data(as_text=True)
    http.post(f"/clients/{client.id}/contacts/{contact.id}/email", data=data, headers=HTMX)

    pending = http.get(f"/clients/{client.id}/timeline", headers=HTMX).get_data(as_text=True)
    assert 'data-delivery="pending"' in pending and "every 3s" in pending

    run_jobs()

    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    assert email["Subject"] == "Your launch plan"
    assert email["To"] == "sara@nile.example"
    assert set(email["Cc"].split(", ")) == {acm.email, leader.email, "cairo-kam@kam.example"}
    assert "Here is the plan." in email.get_content()
    timeline = http.get(f"/clients/{client.id}/timeline", headers=HTMX).get_data(as_text=True)
    assert 'data-delivery="sent"' in timeline
    assert "Email to Sara: Your launch plan" in timeline
    assert db.session.scalar(select(OutboxMessage.status)) == DeliveryStatus.SENT


KEY = re.compile(r'name="key" type="hidden" value="([0-9a-f]+)"')


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_an_email_form_sent_again_with_other_words_is_refused_not_dropped(
    login_as, cairo, make_client, make_contact, db, headers
):
    """The Back button (or the page cache) brings back a form already sent; the ACM edits
    it and sends again. The same words are the same email (a double submit); other words
    are refused on the form (422, nothing queued) naming what went, and the form comes
    back with a fresh key, so sending it again is a new email, knowingly."""
    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    contact = make_contact(client, name="Sara", email="sara@nile.example")
    http = login_as(acm)
    url = f"/clients/{client.id}/contacts/{contact.id}/email"
    key = KEY.search(http.get(url, headers=HTMX).get_data(as_text=True))[1]
    first = {"subject": "Your launch plan", "body": "Hello Sara,\nHere is the plan.", "key": key}
    assert http.post(url, data=first, headers=headers).status_code in (200, 303)
    assert http.post(url, data=first, headers=headers).status_code in (200, 303)
    assert count(db, OutboxMessage) == 1

    second = {**first, "subject": "Your launch plan, corrected"}
    refused = http.post(url, data=second, headers=headers)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Not sent" in page and "\u201cYour launch plan\u201d" in page
    assert count(db, OutboxMessage) == 1
    fresh = KEY.search(page)[1]
    assert fresh != key
    assert http.post(url, data={**second, "key": fresh}, headers=headers).status_code in (200, 303)
    subjects = db.session.scalars(select(OutboxMessage.subject).order_by(OutboxMessage.id))
    assert list(subjects) == ["Your launch plan", "Your launch plan, corrected"]


def test_a_whatsapp_reply_form_sent_again_for_another_contact_is_refused(
    login_as, cairo, make_client, make_contact, db
):
    """The same for the G6 reply: its key used for another contact is refused, not dropped."""
    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    omar = make_contact(client, name="Omar Khaled", whatsapp="+201001112223")
    sara = make_contact(client, name="Sara Adel", whatsapp="+201004445556")
    http = login_as(acm)
    url = f"/clients/{client.id}/whatsapp/reply"
    assert http.post(url, data={"contact": omar.id, "key": "k1"}, headers=HTMX).status_code == 200

    refused = http.post(url, data={"contact": sara.id, "key": "k1"}, headers=HTMX)

    assert refused.status_code == 422
    assert "Not sent" in refused.get_data(as_text=True)
    assert list(db.session.scalars(select(OutboxMessage.to_addrs))) == [["+201001112223"]]


def test_email_form_needs_a_subject_and_a_message(login_as, cairo, make_client, make_contact, db):
    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    contact = make_contact(client)
    response = login_as(acm).post(
        f"/clients/{client.id}/contacts/{contact.id}/email",
        data={"subject": "", "body": "", "key": "abc"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert count(db, OutboxMessage) == 0


# --- Creating, editing and reassigning ---------------------------------------------------


def client_form(**fields):
    data = {
        "store_name": "Nile Threads",
        "store_code": "NILE01",
        "plan": "enterprise",
        "status": "onboarding",
        "country": "EG",
        "timezone": "Africa/Cairo",
        "language": "ar",
        "currency": "EGP",
        "recurring_amount": "24000.00",
        "renewal_date": "2027-01-15",
        "subscribed_on": "2026-01-15",
    }
    data.update(fields)
    return data


def test_acm_registers_a_client_for_themselves(login_as, cairo, db):
    _, _, acm, _ = cairo
    http = login_as(acm)
    response = http.post("/clients/new", data=client_form(acm=acm.id))
    assert response.status_code == 303
    client = db.session.scalar(select(Client))
    assert client.acm_id == acm.id and client.store_code == "NILE01"
    assert client.subscribed_at.isoformat() == "2026-01-14T22:00:00+00:00"  # Cairo midnight


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus", "Not a valid choice"),
        ("country", "ZZ", "Not a valid choice"),
        ("currency", "ZZZ", "Not a valid choice"),
    ],
)
def test_invalid_client_form_shows_the_error_and_saves_nothing(
    login_as, cairo, db, field, value, message
):
    _, _, acm, _ = cairo
    response = login_as(acm).post("/clients/new", data=client_form(acm=acm.id, **{field: value}))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(db, Client) == 0


def test_a_taken_store_code_is_refused_with_a_clear_message(login_as, cairo, make_client, db):
    _, _, acm, _ = cairo
    make_client(acm=acm, store_code="NILE01")
    response = login_as(acm).post("/clients/new", data=client_form(acm=acm.id, store_code="nile01"))
    assert response.status_code == 422
    assert "Store code NILE01 is already used." in response.get_data(as_text=True)
    assert count(db, Client) == 1


def test_editing_a_client_records_the_change(login_as, cairo, make_client, db):
    _, _, acm, _ = cairo
    client = make_client(acm=acm, store_code="NILE01")
    response = login_as(acm).post(
        f"/clients/{client.id}/edit", data=client_form(industry="Fashion", status="live")
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Client, client.id).industry == "Fashion"
    assert db.session.scalar(select(TimelineEvent.kind)) == TimelineKind.CLIENT_UPDATED


def test_leader_reassigns_a_client_to_another_acm_of_the_team(login_as, cairo, make_client, db):
    _, leader, acm, other = cairo
    client = make_client(acm=acm)
    http = login_as(leader)
    assert "Reassign" in http.get(f"/clients/{client.id}").get_data(as_text=True)
    response = http.post(
        f"/clients/{client.id}/reassign", data={"acm": other.id, "reason": "Workload"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Client, client.id).acm_id == other.id


def test_reassigning_needs_a_reason(login_as, cairo, make_client, db):
    _, leader, acm, other = cairo
    client = make_client(acm=acm)
    response = login_as(leader).post(
        f"/clients/{client.id}/reassign", data={"acm": other.id, "reason": ""}
    )
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Client, client.id).acm_id == acm.id


def test_an_acm_cannot_reassign_and_another_teams_leader_cannot_see(
    login_as, cairo, make_client, make_team, make_user, db
):
    _, _, acm, other = cairo
    client = make_client(acm=acm)
    assert login_as(acm).get(f"/clients/{client.id}/reassign").status_code == 403
    stranger = login_as(Role.LEADER)
    response = stranger.post(
        f"/clients/{client.id}/reassign", data={"acm": other.id, "reason": "x"}
    )
    assert response.status_code == 404


def test_a_message_that_failed_can_be_sent_again_from_the_timeline_and_arrives(
    app, login_as, cairo, make_client, make_contact, db, run_jobs, smtp_server
):
    """Nothing is lost on failure: a failed email shows on the timeline with its error and
    a "Send again" button, which queues it once more (G1 CCs kept)."""

    _, _, acm, _ = cairo
    client = make_client(acm=acm)
    contact = make_contact(client, email="sara@nile.example")
    message = contact_log.email_contact(
        client, actor=acm, contact=contact, subject="Plan", body="Hi", key="k-retry"
    )
    message.status, message.last_error = DeliveryStatus.FAILED.value, "SMTP: relay refused"
    db.session.commit()
    http = login_as(acm)
    timeline = http.get(f"/clients/{client.id}/timeline", headers=HTMX).get_data(as_text=True)
    assert "SMTP: relay refused" in timeline and "Send again" in timeline

    response = http.post(f"/clients/{client.id}/messages/{message.id}/retry", headers=HTMX)
    assert 'data-delivery="pending"' in response.get_data(as_text=True)
    run_jobs()
    assert len(smtp_server.messages) == 1
    again = http.post(f"/clients/{client.id}/messages/{message.id}/retry", headers=HTMX)
    assert "Only a message that failed" in again.get_data(as_text=True)


def test_a_message_of_another_client_cannot_be_retried_through_this_one(
    login_as, cairo, make_client, make_contact, db
):

    _, _, acm, _ = cairo
    mine, other = make_client(acm=acm), make_client(acm=acm)
    message = contact_log.email_contact(
        other, actor=acm, contact=make_contact(other), subject="S", body="B", key="k-other"
    )
    message.status = DeliveryStatus.FAILED.value
    db.session.commit()
    response = login_as(acm).post(f"/clients/{mine.id}/messages/{message.id}/retry", headers=HTMX)
    assert "no such message" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == DeliveryStatus.FAILED


def _profile_updates(db, client) -> list[TimelineEvent]:
    return list(
        db.session.scalars(
            select(TimelineEvent).where(
                TimelineEvent.client_id == client.id,
                TimelineEvent.kind == TimelineKind.CLIENT_UPDATED.value,
            )
        )
    )


def _client_audits(db) -> list[str]:
    return list(
        db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "client.update"))
    )


@pytest.mark.parametrize("time_of_day", [None, (8, 35)], ids=["midnight", "08:35 UTC"])
def test_saving_the_client_form_unchanged_changes_and_records_nothing(
    login_as, cairo, db, time_of_day
):
    """P6: the form shows the subscription's date in the client's zone; sent back as it
    is, the stored instant stays (a subscription at another time of day is not cut to
    midnight) and nothing lands on the timeline or in the audit log."""
    _, _, acm, _ = cairo
    http = login_as(acm)
    http.post("/clients/new", data=client_form(acm=acm.id))
    client = db.session.scalar(select(Client))
    if time_of_day is not None:
        client.subscribed_at = datetime(2026, 1, 15, *time_of_day, tzinfo=UTC)
        db.session.commit()
    subscribed_at = client.subscribed_at
    assert 'value="2026-01-15"' in http.get(f"/clients/{client.id}/edit").get_data(as_text=True)

    response = http.post(f"/clients/{client.id}/edit", data=client_form(), follow_redirects=True)
    assert "Nothing changed." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Client, client.id).subscribed_at == subscribed_at
    assert _profile_updates(db, client) == [] and _client_audits(db) == []

    # Another field changed, the date left as shown: the instant stays, only that field.
    http.post(f"/clients/{client.id}/edit", data=client_form(timezone="Asia/Riyadh"))
    db.session.expire_all()
    assert db.session.get(Client, client.id).subscribed_at == subscribed_at
    [update] = _profile_updates(db, client)
    assert update.summary == "Profile updated: timezone"


def test_a_new_subscription_date_is_the_start_of_that_day_where_the_client_is(login_as, cairo, db):
    _, _, acm, _ = cairo
    http = login_as(acm)
    http.post("/clients/new", data=client_form(acm=acm.id))
    client = db.session.scalar(select(Client))
    client.subscribed_at = datetime(2026, 1, 15, 8, 35, tzinfo=UTC)
    db.session.commit()
    http.post(f"/clients/{client.id}/edit", data=client_form(subscribed_on="2026-02-01"))
    db.session.expire_all()
    assert db.session.get(Client, client.id).subscribed_at == datetime(
        2026, 1, 31, 22, 0, tzinfo=UTC
    )  # midnight in Cairo
    [update] = _profile_updates(db, client)
    assert update.summary == "Profile updated: subscribed at"
    assert _client_audits(db) == ["client.update"]


def test_the_timeline_shows_times_in_the_readers_zone(
    login_as, make_team, make_user, make_client, make_contact, db, frozen_clock
):
    """Time: "WhatsApp step due …" is the same instant for everyone, shown in each reader's
    own zone (the ACM's Riyadh, the leader's London), never as raw UTC."""
    frozen_clock(datetime(2026, 11, 26, 13, 0, tzinfo=UTC))  # Thursday 15:00 in Cairo
    team = make_team(name="Cairo", escalation_whatsapp_after_hours=4)
    leader = make_user(Role.LEADER, team=team, timezone="Europe/London")
    team.leader = leader
    acm = make_user(Role.ACM, team=team, timezone="Asia/Riyadh")
    client = make_client(acm=acm)
    make_contact(client, email="karim@store.example", is_primary=True)
    escalation = escalations.raise_escalation(
        client, actor=acm, trigger="asked_for_manager", said="Your manager.", channel="call"
    )
    escalations.log_escalation_call(escalation, actor=acm, outcome="no_answer")
    db.session.commit()

    def timeline_of(user) -> str:
        page = login_as(user).get(f"/clients/{client.id}").get_data(as_text=True)
        return page[page.index('id="timeline"') :]

    # Due Sunday 29 Nov, 11:00 in Cairo = 09:00 UTC.
    seen_by_acm = timeline_of(acm)
    assert "WhatsApp step due 29 Nov 2026 12:00 +03" in seen_by_acm
    assert "UTC" not in seen_by_acm
    assert "WhatsApp step due 29 Nov 2026 09:00 GMT" in timeline_of(leader)


# --- The ACM filter's type-ahead (issue 17) -------------------------------------------------


def test_the_acm_filter_offers_the_names_typed_among_those_the_user_may_choose(
    login_as, cairo, make_user, make_team
):
    """The filter is a text box: as it is typed, at most 20 matching names are offered (never
    every ACM on the page); a leader is offered their team's, an ACM only themselves."""
    _, leader, acm, _ = cairo
    elsewhere = make_team(name="Alex")
    for n in range(30):
        make_user(Role.ACM, team=elsewhere, name=f"Omar Alex {n:02d}")

    def offered(who, typed: str) -> list[str]:
        response = login_as(who).get(f"/clients/acms?acm={typed}", headers=HTMX)
        assert response.status_code == 200 and len(response.data) <= 10_000
        body = response.get_data(as_text=True)
        assert body.lstrip().startswith('<datalist id="acm-choices">')
        return re.findall(r'<option value="([^"]*)">', body)

    admin_sees = offered(Role.ADMIN, "omar")
    assert len(admin_sees) == 20 and admin_sees[0] == "Omar ACM"
    assert all("omar" in name.lower() for name in admin_sees)
    assert offered(leader, "omar") == ["Omar ACM"]
    assert offered(leader, "") == ["Ahmed ACM", "Layla Leader", "Omar ACM"]
    assert offered(acm, "ahm") == ["Ahmed ACM"]
    assert offered(acm, "omar") == []


def test_the_acm_filter_works_by_name_without_javascript(login_as, cairo, make_client):
    """Typed and sent with the form (no JavaScript), any part of the name filters the list;
    a link from the team page still chooses the ACM by id, shown by name in the box."""
    _, leader, acm, other = cairo
    make_client(acm=acm, store_name="Pyramid Spices")
    make_client(acm=other, store_name="Sphinx Shoes")
    http = login_as(leader)
    page = http.get("/clients/").get_data(as_text=True)
    assert (
        '<input type="search" id="acm" name="acm" value=""' in page
        and '<select id="acm"' not in page
    )
    typed = http.get("/clients/?acm=omar").get_data(as_text=True)
    assert "Sphinx Shoes" in typed and "Pyramid Spices" not in typed
    by_id = http.get(f"/clients/?acm={acm.id}").get_data(as_text=True)
    assert "Pyramid Spices" in by_id and "Sphinx Shoes" not in by_id
    assert 'name="acm" value="Ahmed ACM"' in by_id
    # An ACM sees only their own clients: no ACM filter.
    assert 'name="acm"' not in login_as(acm).get("/clients/").get_data(as_text=True)
