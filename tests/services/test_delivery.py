"""Delivery of a customization (C7): milestones tracked to done, late on the client's
today, the client's acceptance (by link or recorded by the ACM), the closure and the
satisfaction survey; and the ACM's day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.models import (
    CustomizationRequest,
    CustomizationStage,
    Milestone,
    OutboxMessage,
    Role,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import client_links, customizations, day, delivery
from tests.client_view import readable

# Monday 23 Nov 2026, 09:00 UTC: 11:00 in Cairo.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)


def in_delivery(db, client, acm, *, due: list[date], done: int = 0) -> CustomizationRequest:
    """A paid request in delivery with milestones due on `due`, the first `done` done."""
    now = clock.now()
    request = CustomizationRequest(
        client=client,
        opened_by=acm,
        opened_at=now - timedelta(days=30),
        title="Loyalty points",
        end_result="Points on every order",
        users="Shoppers",
        done_when="A shopper sees their points",
        wanted_by=TODAY + timedelta(days=60),
        clock_started_at=now - timedelta(days=30),
        status="accepted",
        stage=CustomizationStage.DELIVERY.value,
        paid_at=now - timedelta(days=5),
    )
    db.session.add(request)
    for n, due_on in enumerate(due, start=1):
        db.session.add(
            Milestone(
                request=request,
                position=n,
                title=f"Milestone {n}",
                due_on=due_on,
                status="done" if n <= done else "planned",
                done_at=now - timedelta(days=1) if n <= done else None,
            )
        )
    db.session.commit()
    return request


@pytest.fixture
def cairo(make_portfolio, frozen_clock):
    frozen_clock(NOW)
    return make_portfolio(
        team={"name": "Cairo", "shared_mailbox": "cairo-kam@kam.example"},
        leader={"email": "leader@kam.example"},
        acm={"name": "Mona Adel", "timezone": "Africa/Cairo"},
        client={"store_name": "Nile Crafts", "timezone": "Africa/Cairo"},
        contact={"name": "Karim Said", "email": "karim@nile.example", "is_primary": True},
    )


def kinds(db, client) -> list[str]:
    return list(
        db.session.scalars(
            select(TimelineEvent.kind)
            .where(TimelineEvent.client_id == client.id)
            .order_by(TimelineEvent.id)
        )
    )


# --- Milestones ------------------------------------------------------------------------------


def test_the_acm_adds_a_milestone_after_the_others(db, cairo):
    """C7: added during delivery, planned, last; on the timeline."""
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY])
    added = delivery.add_milestone(
        request,
        actor=cairo.acm,
        title=" Reports ",
        due_on=TODAY + timedelta(days=9),
        kind="extra",
        owner_id=cairo.acm.id,
    )
    db.session.commit()
    assert (added.position, added.title, added.kind, added.status) == (
        2,
        "Reports",
        "extra",
        "planned",
    )
    assert added.owner == cairo.acm
    assert TimelineKind.CUSTOMIZATION_MILESTONE_ADDED.value in kinds(db, cairo.client)


def test_a_milestone_moves_forward_and_done_is_recorded(db, cairo, make_user):
    """C7: planned → in progress → done (done_at recorded, on the timeline); a new due
    date on the timeline; an owner from product; never back."""
    product = make_user(Role.PRODUCT, name="Pia Product")
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY + timedelta(days=3)])
    [milestone] = request.milestones
    delivery.update_milestone(
        milestone,
        actor=cairo.acm,
        due_on=TODAY + timedelta(days=5),
        owner_id=product.id,
        status="in_progress",
    )
    assert milestone.owner == product and milestone.done_at is None
    clock.advance(timedelta(hours=2))
    delivery.update_milestone(
        milestone, actor=cairo.acm, due_on=milestone.due_on, owner_id=product.id, status="done"
    )
    db.session.commit()
    assert milestone.status == "done" and milestone.done_at == NOW + timedelta(hours=2)
    events = kinds(db, cairo.client)
    assert events.count(TimelineKind.CUSTOMIZATION_MILESTONE_MOVED.value) == 1
    assert events.count(TimelineKind.CUSTOMIZATION_MILESTONE_DONE.value) == 1
    with pytest.raises(RuleViolation) as refused:
        delivery.update_milestone(
            milestone, actor=cairo.acm, due_on=milestone.due_on, owner_id=None, status="planned"
        )
    assert refused.value.rule == "C7" and refused.value.field == "status"


def test_milestone_changes_are_refused_outside_delivery_and_to_others(db, cairo, make_portfolio):
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY])
    [milestone] = request.milestones
    stranger = make_portfolio(client=False).acm
    with pytest.raises(NotAllowed):
        delivery.add_milestone(request, actor=stranger, title="x", due_on=TODAY)
    with pytest.raises(ValidationError) as bad:
        delivery.update_milestone(
            milestone, actor=cairo.acm, due_on=TODAY, owner_id=stranger.id, status="planned"
        )
    assert bad.value.field == "owner_id"
    with pytest.raises(ValidationError):
        delivery.update_milestone(
            milestone, actor=cairo.acm, due_on=TODAY, owner_id=None, status="finished"
        )
    with pytest.raises(ValidationError):
        delivery.add_milestone(request, actor=cairo.acm, title="x", due_on=date(9999, 1, 1))
    with pytest.raises(ValidationError):
        delivery.add_milestone(request, actor=cairo.acm, title="  ", due_on=TODAY)
    request.stage = CustomizationStage.CLOSING.value
    with pytest.raises(RuleViolation) as refused:
        delivery.add_milestone(request, actor=cairo.acm, title="x", due_on=TODAY)
    assert refused.value.rule == "C7"


# --- Late, on the client's today ---------------------------------------------------------------


def test_progress_counts_done_next_due_and_late(db, cairo):
    request = in_delivery(
        db,
        cairo.client,
        cairo.acm,
        due=[
            TODAY - timedelta(days=9),
            TODAY - timedelta(days=1),
            TODAY,
            TODAY + timedelta(days=4),
        ],
        done=1,
    )
    progress = delivery.request_progress(request)
    assert (progress.done, progress.total, progress.late) == (1, 4, 1)
    assert progress.next_due.title == "Milestone 2" and not progress.all_done


def test_due_today_is_not_late_and_the_clients_next_day_is(db, cairo, frozen_clock):
    """C7 at the boundary: due on the client's today is not late until the client's
    midnight (Cairo, UTC+2: 22:00 UTC)."""
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY])
    frozen_clock(datetime(2026, 11, 23, 21, 59, 59, tzinfo=UTC))
    assert delivery.request_progress(request).late == 0
    assert day.customization_delivery(cairo.acm, now=clock.now()).items == []
    frozen_clock(datetime(2026, 11, 23, 22, 0, tzinfo=UTC))
    assert delivery.request_progress(request).late == 1
    [item] = day.customization_delivery(cairo.acm, now=clock.now()).items
    assert (item.kind, item.rule, item.overdue) == ("milestone", "C7", True)
    assert item.since == datetime(2026, 11, 23, 22, 0, tzinfo=UTC)


def test_late_follows_the_clients_zone_across_midnight(db, make_portfolio, frozen_clock):
    """C7: at 23:30 UTC on the 23rd it is the 24th in Dubai (late) but the 23rd in Los
    Angeles (not late), whatever the ACM's zone."""
    frozen_clock(datetime(2026, 11, 23, 23, 30, tzinfo=UTC))
    dubai = make_portfolio(
        acm={"timezone": "America/Los_Angeles"}, client={"timezone": "Asia/Dubai"}
    )
    la = make_portfolio(acm={"timezone": "Asia/Dubai"}, client={"timezone": "America/Los_Angeles"})
    in_delivery(db, dubai.client, dubai.acm, due=[TODAY])
    in_delivery(db, la.client, la.acm, due=[TODAY])
    assert len(day.customization_delivery(dubai.acm, now=clock.now()).items) == 1
    assert day.customization_delivery(la.acm, now=clock.now()).items == []


# --- User acceptance ---------------------------------------------------------------------------


def test_acceptance_waits_for_every_milestone(db, cairo):
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY, TODAY], done=1)
    with pytest.raises(RuleViolation) as refused:
        delivery.send_acceptance_link(request, actor=cairo.acm, base_url="http://portal")
    assert refused.value.rule == "C7"
    with pytest.raises(RuleViolation):
        delivery.record_acceptance(request, actor=cairo.acm, note="Said yes on the call")


def test_the_client_accepts_by_link_once(db, cairo):
    """C7: the link goes to the client's contact with the leader and the mailbox in CC
    (G1); the typed name, time and address are kept; the link is spent; CLOSING."""
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY], done=1)
    message = delivery.send_acceptance_link(request, actor=cairo.acm, base_url="http://portal")
    db.session.commit()
    assert message.to_addrs == ["karim@nile.example"]
    assert {"leader@kam.example", "cairo-kam@kam.example"} <= set(message.cc_addrs)
    assert "http://portal/customization/accept/" in message.body
    assert "SAL-" not in readable(message.body) and "C7" not in readable(message.body)
    link = client_links.live_link(request, "acceptance")
    delivery.accept_by_link(link, name="  Karim Said ", address="203.0.113.9")
    db.session.commit()
    assert request.stage == CustomizationStage.CLOSING.value
    assert (request.accepted_via, request.accepted_name, request.accepted_address) == (
        "link",
        "Karim Said",
        "203.0.113.9",
    )
    assert request.accepted_at == NOW and link.used_at == NOW
    token = client_links.token_for(link)
    with pytest.raises(client_links.LinkRefused) as refused:
        client_links.open_link(token, "acceptance")
    assert refused.value.reason == "used"
    assert TimelineKind.CUSTOMIZATION_ACCEPTED.value in kinds(db, cairo.client)


def test_a_blank_name_does_not_accept(db, cairo):
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY], done=1)
    delivery.send_acceptance_link(request, actor=cairo.acm, base_url="http://portal")
    link = client_links.live_link(request, "acceptance")
    for name in ("  ", "x" * 201, "Karim\x00"):
        with pytest.raises(ValidationError) as bad:
            delivery.accept_by_link(link, name=name, address=None)
        assert bad.value.field == "name"
    assert request.accepted_at is None and link.used_at is None


def test_the_acm_records_the_acceptance_with_evidence(db, cairo):
    """C7: a note is required, a file optional (kept as acceptance evidence); a live
    acceptance link stops working."""
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY], done=1)
    delivery.send_acceptance_link(request, actor=cairo.acm, base_url="http://portal")
    with pytest.raises(ValidationError) as bad:
        delivery.record_acceptance(request, actor=cairo.acm, note=" ")
    assert bad.value.field == "note"
    with pytest.raises(ValidationError) as bad:
        delivery.record_acceptance(
            request,
            actor=cairo.acm,
            note="x",
            evidence=customizations.Upload("mail.pdf", b"not a pdf"),
        )
    assert bad.value.field == "evidence"
    delivery.record_acceptance(
        request,
        actor=cairo.acm,
        note="Karim confirmed by email on Monday",
        evidence=customizations.Upload("mail.pdf", b"%PDF-1.4 yes"),
    )
    db.session.commit()
    assert request.stage == CustomizationStage.CLOSING.value
    assert (request.accepted_via, request.accepted_by) == ("acm", cairo.acm)
    [evidence] = delivery.evidence_of(request)
    assert evidence.filename == "mail.pdf" and evidence.purpose == "acceptance_evidence"
    assert client_links.live_link(request, "acceptance").revoked_at is not None


# --- Closure and the survey --------------------------------------------------------------------


def accepted(db, cairo) -> CustomizationRequest:
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY], done=1)
    delivery.record_acceptance(request, actor=cairo.acm, note="Yes on the call")
    db.session.commit()
    return request


def test_closing_sends_the_survey_at_once(db, cairo):
    request = accepted(db, cairo)
    delivery.close_request(request, actor=cairo.acm, base_url="http://portal")
    db.session.commit()
    assert request.stage == CustomizationStage.CLOSED.value
    assert (request.closed_at, request.closed_by) == (NOW, cairo.acm)
    survey = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.subject.like("How did we do%"))
    ).one()
    assert "http://portal/customization/survey/" in survey.body
    assert survey.to_addrs == ["karim@nile.example"] and "leader@kam.example" in survey.cc_addrs
    events = kinds(db, cairo.client)
    assert TimelineKind.CUSTOMIZATION_CLOSED.value in events
    assert TimelineKind.CUSTOMIZATION_SURVEY_SENT.value in events


def test_only_an_accepted_request_is_closed(db, cairo, make_portfolio):
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY], done=1)
    with pytest.raises(RuleViolation):
        delivery.close_request(request, actor=cairo.acm, base_url="http://portal")
    request = accepted(db, cairo)
    with pytest.raises(NotAllowed):
        delivery.close_request(request, actor=make_portfolio(client=False).acm)


@pytest.mark.parametrize("score", [0, 6, "1e30", "", None, "3.5", "-1", "٣", "³"])
def test_a_score_outside_one_to_five_is_refused(db, cairo, score):
    request = accepted(db, cairo)
    delivery.close_request(request, actor=cairo.acm, base_url="http://portal")
    link = client_links.live_link(request, "survey")
    with pytest.raises(ValidationError) as bad:
        delivery.answer_survey(link, score=score, comment="")
    assert bad.value.field == "score"
    assert request.survey_answered_at is None


def test_the_survey_is_answered_once(db, cairo):
    request = accepted(db, cairo)
    delivery.close_request(request, actor=cairo.acm, base_url="http://portal")
    link = client_links.live_link(request, "survey")
    delivery.answer_survey(link, score="4", comment=" Quick and clean. ")
    db.session.commit()
    assert (request.survey_score, request.survey_comment) == (4, "Quick and clean.")
    assert request.survey_answered_at == NOW
    with pytest.raises(RuleViolation):
        delivery.answer_survey(link, score=5, comment="")
    assert TimelineKind.CUSTOMIZATION_SURVEY_ANSWERED.value in kinds(db, cairo.client)


def test_an_expired_survey_may_be_sent_again(db, cairo, frozen_clock):
    request = accepted(db, cairo)
    delivery.close_request(request, actor=cairo.acm, base_url="http://portal")
    db.session.commit()
    with pytest.raises(RuleViolation):
        delivery.resend_survey(request, actor=cairo.acm, base_url="http://portal")
    frozen_clock(NOW + timedelta(days=14, minutes=1))
    assert delivery.survey_standing(request).may_resend
    old_token = client_links.token_for(client_links.live_link(request, "survey"))
    delivery.resend_survey(request, actor=cairo.acm, base_url="http://portal")
    db.session.commit()
    link = client_links.open_link(
        client_links.token_for(client_links.live_link(request, "survey")), "survey"
    )
    assert link.expires_at > clock.now()
    with pytest.raises(client_links.LinkRefused):
        client_links.open_link(old_token, "survey")


# --- The ACM's day -----------------------------------------------------------------------------


def test_the_day_shows_acceptance_to_obtain_then_closure_owed(db, cairo, make_portfolio):
    """C7: every milestone done → obtain the acceptance; accepted → close it; someone
    else's client never."""
    request = in_delivery(db, cairo.client, cairo.acm, due=[TODAY], done=1)
    other = make_portfolio(client=True)
    in_delivery(db, other.client, other.acm, due=[TODAY - timedelta(days=3)])
    [item] = day.customization_delivery(cairo.acm, now=clock.now()).items
    assert (item.kind, item.customization) == ("acceptance", request)
    delivery.record_acceptance(request, actor=cairo.acm, note="Yes")
    db.session.commit()
    [item] = day.section(cairo.acm, "delivery", now=clock.now()).items
    assert item.kind == "closure"
    delivery.close_request(request, actor=cairo.acm, base_url="http://portal")
    db.session.commit()
    assert day.customization_delivery(cairo.acm, now=clock.now()).items == []
