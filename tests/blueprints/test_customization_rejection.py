"""C3: a rejected request's reason goes to the client from the request's page: prefilled,
editable, bounded, emailed once with the G1 CCs, on the timeline; owed on the ACM's day
until sent. The request page shows its tickets (C2, C6)."""

from __future__ import annotations

from sqlalchemy import select

from kamportal import clock
from kamportal.models import CustomizationRequest, OutboxMessage, Role, TimelineEvent, TimelineKind
from kamportal.services import customization_rejection, customizations, day
from tests.services import renewal_world
from tests.services.test_customization_tickets import open_request

world = renewal_world.world


def rejected(world, db, make_user, run_jobs) -> CustomizationRequest:
    request = open_request(world, db, run_jobs)
    customizations.decide(
        request, actor=make_user(Role.PRODUCT), decision="rejected", reason="Not on our roadmap"
    )
    db.session.commit()
    return request


def test_the_acm_sends_the_reason_once_with_the_g1_ccs_C3(db, world, make_user, login_as, run_jobs):
    request = rejected(world, db, make_user, run_jobs)
    [item] = day.section(world["acm"], "rejections", now=clock.now()).items
    assert item.customization.id == request.id and item.rule == "C3"
    http = login_as(world["acm"])
    page = http.get(f"/customizations/{request.id}").get_data(as_text=True)
    assert 'id="rejection-form"' in page and "Not on our roadmap" in page
    assert "SAL-1" in page  # the approval ticket, on the request page

    message = customization_rejection.default_message(request) + "\n\nWe are sorry."
    response = http.post(f"/customizations/{request.id}/rejection", data={"message": message})
    assert response.status_code == 303
    again = http.post(f"/customizations/{request.id}/rejection", data={"message": "Other"})
    assert again.status_code == 303  # sent already: the same email, nothing new

    [email] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.idempotency_key.like("customization-%"))
    ).all()
    assert email.to_addrs == ["karim@nile.example"]
    assert set(email.cc_addrs) == {
        "mona@kam.example",
        "leader@kam.example",
        "cairo-kam@kam.example",
    }
    assert email.subject == "Your customization request: Loyalty points"
    assert "Not on our roadmap" in email.body and "We are sorry." in email.body
    for internal in ("SAL-", "C3", "request_id", f"/customizations/{request.id}"):
        assert internal not in email.body and internal not in email.subject
    db.session.expire_all()
    assert db.session.get(CustomizationRequest, request.id).rejection_sent_at == clock.now()
    [event] = db.session.scalars(
        select(TimelineEvent).where(
            TimelineEvent.kind == TimelineKind.CUSTOMIZATION_REJECTION_SENT.value
        )
    ).all()
    assert event.outbox_message_id == email.id
    assert day.section(world["acm"], "rejections", now=clock.now()).items == []
    page = http.get(f"/customizations/{request.id}").get_data(as_text=True)
    assert 'id="rejection-sent"' in page


def test_bad_text_gives_the_form_again_and_sends_nothing_C3(
    db, world, make_user, login_as, run_jobs
):
    request = rejected(world, db, make_user, run_jobs)
    http = login_as(world["acm"])
    for bad in ("", "   ", "bad\x00text", "x" * 5001):
        response = http.post(f"/customizations/{request.id}/rejection", data={"message": bad})
        assert response.status_code == 422, bad
        assert 'id="rejection-form"' in response.get_data(as_text=True)
    assert db.session.get(CustomizationRequest, request.id).rejection_sent_at is None


def test_only_a_rejected_request_and_only_who_works_on_the_client_C3(
    db, world, make_user, login_as, run_jobs
):
    request = open_request(world, db, run_jobs)
    http = login_as(world["acm"])
    response = http.post(f"/customizations/{request.id}/rejection", data={"message": "x"})
    assert response.status_code == 422  # awaiting product: nothing to send
    assert 'id="rejection-form"' not in http.get(f"/customizations/{request.id}").get_data(
        as_text=True
    )
    other = login_as(world["other_acm"])
    assert other.post(f"/customizations/{request.id}/rejection", data={}).status_code == 404
