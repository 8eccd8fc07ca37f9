"""Escalations through HTTP: raised from the client page (E1), the ladder's page with its
proofs and time left (E2), the ACM's actions and the leader's decision (E3), the leader's
queue, and the complaint queue (E3). HTMX swaps answer with their panel; bad input gets
the form again with its errors (422) and changes nothing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kamportal import clock
from kamportal.models import (
    AuditEvent,
    Channel,
    Complaint,
    Escalation,
    OutboxMessage,
    Role,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import escalations
from tests.blueprints.test_query_counts import counting_queries
from tests.conftest import PASSWORD, sign_in

# The Cairo team of the service tests: Sun-Thu, 9:00-17:00, waits of 4 and 8 business
# hours; Thursday 26 Nov 2026, 15:00 in Cairo, two business hours before the weekend.
from tests.services.test_escalations import THURSDAY_AFTERNOON, raise_one, setup  # noqa: F401

HTMX = {"HX-Request": "true"}


@pytest.fixture
def cairo(setup, db):  # noqa: F811  (the imported fixture)
    """Layla leads Mona and Omar; Mona's client has Karim, its primary contact."""
    setup["client"].store_name, setup["client"].store_code = "Nile Crafts", "NILE01"
    db.session.commit()
    return setup


def with_leader(cairo, db) -> Escalation:
    escalation = raise_one(cairo, db)
    escalations.advance_to_leader(escalation, actor=cairo["acm"], note="He refuses to talk to me.")
    db.session.commit()
    return escalation


def text_of(response) -> str:
    return response.get_data(as_text=True)


def section(page: str, element_id: str) -> str:
    """The HTML from the element with `element_id` to the end of its tag's section."""
    start = page.index(f'id="{element_id}"')
    end = page.find("</section>", start)
    return page[start:end]


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- Raising (E1) -----------------------------------------------------------------------------


def test_the_client_page_offers_to_raise_an_escalation_and_record_a_complaint(cairo, login_as):
    page = text_of(login_as(cairo["acm"]).get(f"/clients/{cairo['client'].id}?tab=escalations"))
    panel = section(page, "escalation-panel")
    assert "Raise an escalation" in panel and "Record a complaint" in panel
    assert "No escalation and no complaint open." in panel


def test_raising_from_the_client_page_swaps_the_panel_and_tells_the_timeline(cairo, login_as, db):
    http = login_as(cairo["acm"])
    url = f"/clients/{cairo['client'].id}/escalations/new"
    form = text_of(http.get(url, headers=HTMX))
    assert 'id="escalation-form"' in form and "<html" not in form
    assert "Asked for the ACM&#39;s manager" in form and "Refuses to deal with the ACM" in form

    response = http.post(
        url,
        data={"trigger": "refuses_acm", "channel": "whatsapp", "said": "I won't deal with Mona."},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#escalation-panel"
    assert {"escalation-changed", "timeline-changed"} <= json.loads(
        response.headers["HX-Trigger"]
    ).keys()
    escalation = db.session.scalars(select(Escalation)).one()
    panel = text_of(response)
    assert f"Escalation #{escalation.id}" in panel
    assert "Refuses to deal with the ACM (WhatsApp)" in panel
    assert "The ACM calls the client now" in panel
    assert f"Escalation #{escalation.id} raised: call the client now (E2)." in panel  # flash
    assert escalation.channel == "whatsapp" and escalation.said == "I won't deal with Mona."
    kinds = db.session.scalars(select(TimelineEvent.kind)).all()
    assert TimelineKind.ESCALATION_RAISED.value in kinds


def test_a_plain_post_goes_to_the_escalation_page(cairo, login_as, db):
    http = login_as(cairo["acm"])
    response = http.post(
        f"/clients/{cairo['client'].id}/escalations/new",
        data={"trigger": "asked_to_change_acm", "channel": "email", "said": "Another ACM, please."},
    )
    escalation = db.session.scalars(select(Escalation)).one()
    assert response.status_code == 303
    assert response.headers["Location"] == f"/escalations/{escalation.id}"
    page = text_of(http.get(response.headers["Location"]))
    assert "Asked to change the ACM" in page and "Another ACM, please." in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"channel": "call", "said": "x"}, "trigger", "Choose what the client asked."),
        ({"trigger": "refuses_acm", "channel": "call", "said": "  "}, "said", "Write what"),
        ({"trigger": "nope", "channel": "call", "said": "x"}, "trigger", "Not a valid choice"),
    ],
)
def test_bad_input_gets_the_form_again_and_raises_nothing(
    cairo, login_as, db, data, field, message
):
    response = login_as(cairo["acm"]).post(
        f"/clients/{cairo['client'].id}/escalations/new", data=data, headers=HTMX
    )
    assert response.status_code == 422
    form = text_of(response)
    assert 'id="escalation-form"' in form
    error_block = form[form.index(f'id="field-escalation-{field}"') :]
    assert (
        message
        in error_block[: error_block.index("</fieldset>" if field == "trigger" else "</div>")]
    )
    assert count(db, Escalation) == 0


def test_a_second_raise_adds_to_the_open_escalation(cairo, login_as, db):
    escalation = raise_one(cairo, db)
    response = login_as(cairo["acm"]).post(
        f"/clients/{cairo['client'].id}/escalations/new",
        data={"trigger": "asked_to_change_acm", "channel": "email", "said": "Still waiting."},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert f"Added to the open escalation #{escalation.id}." in text_of(response)
    assert count(db, Escalation) == 1
    page = text_of(login_as(cairo["leader"]).get(f"/escalations/{escalation.id}"))
    assert "Asked to change the ACM (Email): Still waiting." in page


# --- The ladder's page (E2) ------------------------------------------------------------------


def test_an_unanswered_call_sends_the_email_and_the_page_shows_its_proof_and_time_left(
    cairo, login_as, db
):
    escalation = raise_one(cairo, db)
    http = login_as(cairo["acm"])
    page = text_of(http.get(f"/escalations/{escalation.id}"))
    assert 'data-step="call" data-state="current"' in page
    assert "Log your call" in page

    response = http.post(
        f"/escalations/{escalation.id}/call",
        data={"contact": cairo["contact"].id, "outcome": "no_answer", "notes": "Rang twice."},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert 'id="escalation-actions"' in text_of(response)
    assert "escalation-changed" in response.headers["HX-Trigger"]
    [email] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.channel == Channel.EMAIL.value)
    ).all()
    assert email.to_addrs == ["karim@store.example"]
    assert "leader@kam.example" in email.cc_addrs  # G1

    ladder = text_of(http.get(f"/escalations/{escalation.id}/ladder", headers=HTMX))
    assert 'data-step="call" data-state="done"' in ladder
    assert 'data-step="email" data-state="current"' in ladder
    assert "Call with Karim Said: No answer. Rang twice." in ladder
    assert f"Email #{email.id} to karim@store.example" in ladder
    assert 'data-delivery="pending"' in ladder and "every 3s" in ladder
    # 2 business hours left on Thursday and 2 on Sunday morning.
    assert '<span class="time-left">4 h</span>' in ladder
    assert "WhatsApp: please reply to our email" in ladder

    clock.freeze(THURSDAY_AFTERNOON + timedelta(hours=1, minutes=30))
    ladder = text_of(http.get(f"/escalations/{escalation.id}/ladder", headers=HTMX))
    assert '<span class="time-left">2 h 30 min</span>' in ladder
    assert "Open for 1 h 30 min of business hours" in ladder
    # Friday and Saturday are the weekend: no business hour passes.
    clock.freeze(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    sign_in(http, http.user)  # two days later: a new sign-in
    ladder = text_of(http.get(f"/escalations/{escalation.id}/ladder", headers=HTMX))
    assert '<span class="time-left">2 h</span>' in ladder


def test_the_email_step_is_refused_without_an_email_address_and_nothing_is_logged(
    cairo, login_as, db
):
    cairo["contact"].email = None
    db.session.commit()
    escalation = raise_one(cairo, db)
    calls_before = count(db, TimelineEvent)
    response = login_as(cairo["acm"]).post(
        f"/escalations/{escalation.id}/call", data={"outcome": "no_answer"}, headers=HTMX
    )
    assert response.status_code == 422
    assert "No contact of this client has an email address: add one." in text_of(response)
    assert count(db, TimelineEvent) == calls_before
    db.session.expire_all()
    assert db.session.get(Escalation, escalation.id).current_step == "call"


def test_resolving_needs_a_note_then_stops_the_ladder(cairo, login_as, db):
    escalation = raise_one(cairo, db)
    http = login_as(cairo["acm"])
    refused = http.post(f"/escalations/{escalation.id}/resolve", data={"note": ""}, headers=HTMX)
    assert refused.status_code == 422
    assert "Write a note." in section(text_of(refused), "escalation-resolve-form")
    db.session.expire_all()
    assert db.session.get(Escalation, escalation.id).is_open

    done = http.post(
        f"/escalations/{escalation.id}/resolve",
        data={"note": "Called back, agreed on weekly calls."},
        headers=HTMX,
    )
    assert done.status_code == 200
    actions = text_of(done)
    assert "Resolved</strong>" in actions and "Called back, agreed on weekly calls." in actions
    assert "Log the call" not in actions
    page = text_of(http.get(f"/clients/{cairo['client'].id}?tab=escalations"))
    assert "No escalation and no complaint open." in section(page, "escalation-panel")


def test_the_acm_sends_it_to_the_leader_and_then_only_the_leader_decides(cairo, login_as, db):
    escalation = raise_one(cairo, db)
    http = login_as(cairo["acm"])
    response = http.post(
        f"/escalations/{escalation.id}/to-leader",
        data={"note": "He refuses to talk to me."},
        headers=HTMX,
    )
    assert response.status_code == 200
    actions = text_of(response)
    assert "only the team leader (or an admin) decides now" in actions
    assert "Resolve" not in actions and "Your decision" not in actions
    notices = [
        m for m in db.session.scalars(select(OutboxMessage)) if m.to_addrs == ["leader@kam.example"]
    ]
    assert len(notices) == 1

    # The ACM cannot end it now, nor decide.
    refused = http.post(
        f"/escalations/{escalation.id}/resolve", data={"note": "sorted"}, headers=HTMX
    )
    assert refused.status_code == 422
    assert "waits for the team leader" in text_of(refused)
    assert http.post(f"/escalations/{escalation.id}/decide", data={}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Escalation, escalation.id).waiting_for_leader


# --- The leader's decision (E3) --------------------------------------------------------------


def test_the_leader_reassigns_the_client_from_the_escalation_page(cairo, login_as, db):
    escalation = with_leader(cairo, db)
    http = login_as(cairo["leader"])
    page = text_of(http.get(f"/escalations/{escalation.id}"))
    decision = section(page, "escalation-actions")
    assert "Your decision" in decision
    assert "Omar Farid" in decision and "Mona Adel</option>" not in decision

    response = http.post(
        f"/escalations/{escalation.id}/decide",
        data={
            "decision": "reassign",
            "acm": cairo["other_acm"].id,
            "note": "Omar will look after your store from today.",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Reassigned to another ACM" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Escalation, escalation.id).resolution == "reassigned"
    client = db.session.get(type(cairo["client"]), cairo["client"].id)
    assert client.acm_id == cairo["other_acm"].id
    subjects = db.session.scalars(select(OutboxMessage.subject)).all()
    assert "About your request – NILE01" in subjects  # the note to the client
    assert any("now managed by Omar Farid" in (s or "") for s in subjects)  # both ACMs told
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "escalation.decide" in actions and "client.reassign" in actions


def test_the_leader_signs_in_to_their_team_with_the_decision_waiting_E3(cairo, db, client):
    """The leader lands on their team (issue 14): the escalation counts as waiting there,
    its item opens it; their day lists it too."""
    escalation = with_leader(cairo, db)
    signed_in = client.post("/login", data={"email": cairo["leader"].email, "password": PASSWORD})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"
    start = text_of(client.get("/"))
    late = section(start, "late")
    assert f'href="/team/late/E2?acm={escalation.client.acm_id}"' in late.replace("&amp;", "&")
    items = text_of(client.get(f"/team/late/E2?acm={escalation.client.acm_id}"))
    assert "Waiting for the leader" in items
    assert f'href="/escalations/{escalation.id}"' in items
    waiting = section(text_of(client.get("/day/")), "day-escalations")
    assert "Escalation waiting for your decision" in waiting
    assert f'href="/escalations/{escalation.id}"' in waiting


def badge_of(html: str) -> str:
    match = re.search(r'<span [^>]*id="escalation-status-badge"[^>]*>([^<]*)</span>', html)
    assert match, html
    return match.group(0)


def test_the_decision_swaps_the_status_badge_and_the_account_manager_without_a_reload_E3(
    cairo, login_as, db
):
    escalation = with_leader(cairo, db)
    http = login_as(cairo["leader"])
    assert ">Open</span>" in badge_of(text_of(http.get(f"/escalations/{escalation.id}")))

    response = http.post(
        f"/escalations/{escalation.id}/decide",
        data={"decision": "reassign", "acm": cairo["other_acm"].id, "note": "Omar takes it."},
        headers=HTMX,
    )
    assert response.status_code == 200
    swapped = text_of(response)
    badge = badge_of(swapped)
    assert 'hx-swap-oob="true"' in badge and "Reassigned to another ACM</span>" in badge
    facts = section(swapped, "escalation-facts")
    assert 'hx-swap-oob="true"' in facts
    assert "<dt>Account manager</dt><dd>Omar Farid</dd>" in facts


def test_an_acms_action_swaps_the_badge_too_E2(cairo, login_as, db):
    escalation = raise_one(cairo, db)
    http = login_as(cairo["acm"])
    response = http.post(
        f"/escalations/{escalation.id}/resolve", data={"note": "Sorted on a call."}, headers=HTMX
    )
    assert response.status_code == 200
    badge = badge_of(text_of(response))
    assert 'hx-swap-oob="true"' in badge and ">Open</span>" not in badge
    # A refused action changes nothing, and swaps nothing else.
    refused = http.post(f"/escalations/{escalation.id}/resolve", data={"note": ""}, headers=HTMX)
    assert refused.status_code == 422
    assert "escalation-status-badge" not in text_of(refused)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"decision": "reassign", "note": "x"}, "Choose the client&#39;s account manager."),
        ({"decision": "take_over", "note": ""}, "Write the note to the client."),
        ({"note": "x"}, "Choose resolved, reassign or take over."),
    ],
)
def test_a_decision_with_bad_input_changes_nothing(cairo, login_as, db, data, message):
    escalation = with_leader(cairo, db)
    response = login_as(cairo["leader"]).post(
        f"/escalations/{escalation.id}/decide", data=data, headers=HTMX
    )
    assert response.status_code == 422
    assert message in section(text_of(response), "escalation-decision-form")
    db.session.expire_all()
    assert db.session.get(Escalation, escalation.id).is_open
    assert db.session.get(type(cairo["client"]), cairo["client"].id).acm_id == cairo["acm"].id


def test_a_leader_cannot_give_the_client_to_an_acm_of_another_team(
    cairo, login_as, db, make_team, make_user
):
    escalation = with_leader(cairo, db)
    stranger = make_user(Role.ACM, team=make_team(name="Dubai"), name="Sara Stranger")
    response = login_as(cairo["leader"]).post(
        f"/escalations/{escalation.id}/decide",
        data={"decision": "reassign", "acm": stranger.id, "note": "x"},
        headers=HTMX,
    )
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(type(cairo["client"]), cairo["client"].id).acm_id == cairo["acm"].id


def test_a_leader_of_another_team_neither_sees_nor_decides(
    cairo, login_as, db, make_team, make_user
):
    escalation = with_leader(cairo, db)
    other = make_team(name="Riyadh")
    stranger = make_user(Role.LEADER, team=other)
    other.leader = stranger
    db.session.commit()
    http = login_as(stranger)
    assert http.get(f"/escalations/{escalation.id}").status_code == 404
    assert http.post(f"/escalations/{escalation.id}/decide", data={}).status_code == 404
    assert "Nile Crafts" not in text_of(http.get("/escalations/"))


# --- The queue (E3) ---------------------------------------------------------------------------


def test_the_leaders_queue_shows_those_waiting_for_a_decision_first_with_ages(
    cairo, login_as, db, make_client, make_contact
):
    calling = raise_one(cairo, db)
    clock.freeze(THURSDAY_AFTERNOON + timedelta(hours=1))
    second = make_client(acm=cairo["other_acm"], store_name="Delta Dates")
    make_contact(second, email="d@delta.example")
    waiting = escalations.raise_escalation(
        second, actor=cairo["other_acm"], trigger="refuses_acm", said="No.", channel="call"
    )
    escalations.advance_to_leader(waiting, actor=cairo["other_acm"], note="Cannot solve it.")
    db.session.commit()
    clock.freeze(THURSDAY_AFTERNOON + timedelta(hours=1, minutes=45))

    page = text_of(login_as(cairo["leader"]).get("/escalations/"))
    rows = re.findall(r'<tr id="escalation-(\d+)" data-waiting-on="(\w+)"', page)
    assert rows == [(str(waiting.id), "leader"), (str(calling.id), "acm")]
    first = page[page.index(f'id="escalation-{waiting.id}"') :]
    assert "Waiting for the leader's decision" in first[: first.index("</tr>")]
    second_row = page[page.index(f'id="escalation-{calling.id}"') :]
    assert "1 h 45 min" in second_row[: second_row.index("</tr>")]  # business hours open

    # Each ACM sees only their own clients' escalations.
    mine = text_of(login_as(cairo["acm"]).get("/escalations/"))
    assert "Nile Crafts" in mine and "Delta Dates" not in mine


def test_resolved_escalations_are_listed_on_their_own_tab(cairo, login_as, db):
    escalation = raise_one(cairo, db)
    escalations.resolve(escalation, actor=cairo["acm"], note="Sorted on the phone.")
    db.session.commit()
    http = login_as(cairo["leader"])
    assert "Nile Crafts" not in text_of(http.get("/escalations/"))
    resolved = text_of(http.get("/escalations/?show=resolved"))
    assert "Nile Crafts" in resolved and "Resolved" in resolved and "Mona Adel" in resolved


def test_the_queue_issues_the_same_queries_for_3_or_30_escalations(
    cairo, login_as, db, make_client, make_contact
):
    http = login_as(cairo["leader"])

    def add(n: int) -> None:
        for i in range(n):
            store = make_client(acm=cairo["acm" if i % 2 else "other_acm"])
            escalation = escalations.raise_escalation(
                store, actor=store.acm, trigger="refuses_acm", said="No.", channel="call"
            )
            if i % 3 == 0:
                escalations.advance_to_leader(escalation, actor=store.acm, note="x")
        db.session.commit()

    def measure() -> int:
        with counting_queries(db.engine) as statements:
            assert http.get("/escalations/").status_code == 200
        return len(statements)

    add(3)
    few = measure()
    add(27)
    assert measure() == few


# --- Complaints (E3) -------------------------------------------------------------------------


def test_a_complaint_is_recorded_from_the_client_page_and_handled_in_the_queue(cairo, login_as, db):
    http = login_as(cairo["acm"])
    asked = {"kind": "refund", "channel": "email", "said": "Refund last month's fee."}
    no_amount = http.post(f"/clients/{cairo['client'].id}/complaints/new", data=asked, headers=HTMX)
    assert no_amount.status_code == 422
    assert "Give the amount to refund." in text_of(no_amount)
    response = http.post(
        f"/clients/{cairo['client'].id}/complaints/new",
        data={**asked, "refund_amount": "250"},
        headers=HTMX,
    )
    assert response.status_code == 200
    complaint = db.session.scalars(select(Complaint)).one()
    assert f"Refund #{complaint.id} recorded for complaint handling." in text_of(response)
    assert "Refund last month&#39;s fee." in text_of(response)
    assert count(db, Escalation) == 0  # never up the ladder

    queue = text_of(login_as(cairo["leader"]).get("/complaints/"))
    assert f'id="complaint-{complaint.id}"' in queue and "Refund last month" in queue

    refused = http.post(
        f"/complaints/{complaint.id}", data={"status": "closed", "note": ""}, headers=HTMX
    )
    assert refused.status_code == 422
    assert "Say how it was closed." in text_of(refused)
    db.session.expire_all()
    assert db.session.get(Complaint, complaint.id).status == "open"

    done = http.post(
        f"/complaints/{complaint.id}",
        data={"status": "closed", "note": "Refunded by finance."},
        headers=HTMX,
    )
    assert done.status_code == 200
    row = text_of(done)
    assert row.lstrip().startswith("<tr") and 'data-status="closed"' in row
    assert "Refunded by finance." in row
    assert "Refund last month" not in text_of(http.get("/complaints/"))
    assert "Refund last month" in text_of(http.get("/complaints/?status=closed"))


def test_a_complaint_form_with_bad_input_records_nothing(cairo, login_as, db):
    response = login_as(cairo["acm"]).post(
        f"/clients/{cairo['client'].id}/complaints/new",
        data={"channel": "email", "said": ""},
        headers=HTMX,
    )
    assert response.status_code == 422
    form = text_of(response)
    assert "Choose complaint, cancellation or refund." in form
    assert "Write what the client said." in form
    assert count(db, Complaint) == 0


# --- The day (E2, E3) -------------------------------------------------------------------------


def test_the_acms_and_the_leaders_day_show_the_escalations_they_act_on(cairo, login_as, db):
    calling = raise_one(cairo, db)
    acm_day = text_of(login_as(cairo["acm"]).get("/day/items/escalations", headers=HTMX))
    assert "Escalation: call the client" in acm_day
    assert f'href="/escalations/{calling.id}">call the client</a>' in acm_day

    escalations.advance_to_leader(calling, actor=cairo["acm"], note="x")
    db.session.commit()
    acm_day = text_of(login_as(cairo["acm"]).get("/day/items/escalations", headers=HTMX))
    assert "Nothing here." in acm_day
    leader_day = text_of(login_as(cairo["leader"]).get("/day/items/escalations", headers=HTMX))
    assert "Escalation waiting for your decision" in leader_day and "Nile Crafts" in leader_day
    assert f'href="/escalations/{calling.id}">decide</a>' in leader_day
