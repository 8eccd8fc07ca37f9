"""Customization requests without HTTP (C1-C3): the scope of work and its attachments,
product's 48 hours (calendar or business hours) and the breach flagged once, product's
decisions and the ACM's answer to a hold."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.models import (
    AuditEvent,
    CustomizationStatus,
    OutboxMessage,
    Role,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import customizations, day
from kamportal.services.customizations import Upload

# Thursday 3 Dec 2026, 15:00 in Cairo (13:00 UTC): two business hours before the weekend
# of a Sunday-Thursday team working 9:00-17:00.
THURSDAY_AFTERNOON = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
PDF = Upload("scope.pdf", b"%PDF-1.7 the scope")


def office_file(name: str, *parts: str) -> Upload:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for part in parts:
            package.writestr(part, "<x/>")
    return Upload(name, buffer.getvalue())


@pytest.fixture
def world(db, make_team, make_user, make_client, frozen_clock):
    frozen_clock(THURSDAY_AFTERNOON)
    team = make_team()
    leader = make_user(Role.LEADER, team=team, email="leader@kam.example")
    team.leader = leader
    acm = make_user(Role.ACM, team=team, email="acm@kam.example")
    client = make_client(acm=acm)
    product = make_user(Role.PRODUCT, email="product@kam.example")
    db.session.commit()
    return {"acm": acm, "leader": leader, "client": client, "product": product}


def open_request(world, *, uploads=(), actor=None, **fields):
    values = {
        "title": "Loyalty points",
        "end_result": "Points at checkout",
        "users": "Returning customers",
        "done_when": "A test order paid with points",
        "wanted_by": date(2027, 1, 31),
    }
    values.update(fields)
    return customizations.open_request(
        world["client"], actor=actor or world["acm"], uploads=uploads, **values
    )


def test_a_request_opens_its_approval_ticket_for_48_calendar_hours_C1_C2(world, db):
    request = open_request(world, uploads=[PDF])
    db.session.commit()
    assert request.reference == f"SAL-{request.id}"
    assert request.status == CustomizationStatus.AWAITING_DECISION.value
    assert request.decision_due_at == THURSDAY_AFTERNOON + timedelta(hours=48)
    [event] = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.CUSTOMIZATION_REQUESTED)
    ).all()
    assert request.reference in event.summary
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customization.open"))
    [attachment] = request.attachments
    assert (attachment.filename, attachment.content_type) == ("scope.pdf", "application/pdf")
    # Kept under a generated name, never the user's.
    path = customizations.attachment_path(attachment)
    assert path.name == attachment.stored_name != "scope.pdf"
    assert path.read_bytes() == PDF.data


def test_the_scope_of_work_needs_its_three_parts_C1(world, db):
    for blank in ("end_result", "users", "done_when"):
        with pytest.raises(ValidationError) as refused:
            open_request(world, **{blank: "  "})
        assert refused.value.field == blank


def test_only_who_works_on_the_client_opens_a_request(world, make_user):
    with pytest.raises(NotAllowed):
        open_request(world, actor=make_user(Role.ACM))


@pytest.mark.parametrize(
    "upload",
    [
        Upload("scope.exe", b"MZ"),
        Upload("scope", b"%PDF-1.4"),
        Upload("photo.png", b"%PDF-1.4 a PDF named as an image"),
        Upload("photo.jpg", b"\x89PNG\r\n\x1a\n a PNG named as a JPEG"),
        Upload("notes.docx", b"PK\x03\x04 not a zip at all"),
        office_file("sheet.xlsx", "[Content_Types].xml", "word/document.xml"),
        office_file("notes.docx", "word/document.xml"),
        Upload("evil\x00.pdf", b"%PDF-1.4"),
    ],
    ids=lambda u: repr(u.filename),
)
def test_an_attachment_is_refused_unless_its_content_is_what_its_name_says_C1(world, upload):
    with pytest.raises(ValidationError) as refused:
        open_request(world, uploads=[upload])
    assert refused.value.field == "attachments"


def test_office_documents_images_and_pdfs_are_taken_by_their_content_C1(world, db):
    request = open_request(
        world,
        uploads=[
            office_file("notes.docx", "[Content_Types].xml", "word/document.xml"),
            office_file("Prices.XLSX", "[Content_Types].xml", "xl/workbook.xml"),
            office_file("deck.pptx", "[Content_Types].xml", "ppt/presentation.xml"),
            Upload("mock-up.png", b"\x89PNG\r\n\x1a\n..."),
            Upload("photo.jpeg", b"\xff\xd8\xff\xe0..."),
            Upload("C:\\Users\\mona\\..\\scope.pdf", b"%PDF-1.4"),
        ],
    )
    names = [a.filename for a in request.attachments]
    assert names == [
        "notes.docx",
        "Prices.XLSX",
        "deck.pptx",
        "mock-up.png",
        "photo.jpeg",
        "scope.pdf",
    ]
    assert request.attachments[3].content_type == "image/png"


def test_an_attachment_past_the_size_setting_is_refused(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "CUSTOMIZATION_ATTACHMENT_MAX_BYTES", 100)
    open_request(world, uploads=[Upload("small.pdf", b"%PDF-" + b"x" * 95)])
    with pytest.raises(ValidationError, match="larger than"):
        open_request(world, uploads=[Upload("big.pdf", b"%PDF-" + b"x" * 96)])


def test_the_breach_is_flagged_at_48_hours_not_a_second_before_and_only_once_C2(world, db):
    request = open_request(world)
    db.session.commit()
    due = request.decision_due_at
    clock.freeze(due - timedelta(seconds=1))
    assert customizations.flag_breach(request.id) == "not due"
    clock_then = customizations.decision_clock(request, now=clock.now())
    assert not clock_then.overdue and clock_then.text == "0 min left"
    clock.freeze(due)
    assert customizations.flag_breach(request.id) == "flagged"
    db.session.commit()
    assert request.breach_flagged_at == due
    clock.freeze(due + timedelta(hours=1))
    assert customizations.flag_breach(request.id) == "already flagged"
    assert customizations.decision_clock(request, now=clock.now()).text == "overdue by 1 h"
    # Told once, to product and the ACM's leader, the ACM copied.
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.to_addrs == ["product@kam.example", "leader@kam.example"]
    assert message.cc_addrs == ["acm@kam.example"]
    assert request.reference in message.subject
    breaches = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.CUSTOMIZATION_BREACHED)
    ).all()
    assert len(breaches) == 1


def test_a_decided_request_is_never_flagged_C2(world, db):
    request = open_request(world)
    customizations.decide(request, actor=world["product"], decision="accepted", reason="")
    clock.freeze(THURSDAY_AFTERNOON + timedelta(hours=49))
    assert customizations.flag_breach(request.id) == "decided"


def test_in_business_hours_48_hours_skip_the_weekend_C2(world, db, app, monkeypatch):
    """Thursday 15:00 in Cairo: 2 h that day, Friday and Saturday off, then 8 h a day from
    Sunday to Thursday (40 h), and 6 h on the next Sunday: due Sunday 13 Dec, 15:00."""
    monkeypatch.setitem(app.config, "CUSTOMIZATION_DECISION_HOURS", "business")
    request = open_request(world)
    due = datetime(2026, 12, 13, 13, 0, tzinfo=UTC)
    assert request.decision_due_at == due
    for at, outcome in [
        (THURSDAY_AFTERNOON + timedelta(hours=48), "not due"),  # calendar hours: Saturday
        (due - timedelta(seconds=1), "not due"),
        (due, "flagged"),
        (due + timedelta(seconds=1), "already flagged"),
    ]:
        clock.freeze(at)
        assert customizations.flag_breach(request.id) == outcome, at


def test_rejecting_or_holding_needs_a_reason_accepting_does_not_C3(world, db):
    product = world["product"]
    for decision in ("rejected", "on_hold"):
        request = open_request(world)
        with pytest.raises(ValidationError) as refused:
            customizations.decide(request, actor=product, decision=decision, reason=" ")
        assert refused.value.field == "reason"
    customizations.decide(request, actor=product, decision="rejected", reason="No API")
    assert request.status == "rejected" and request.decision_reason == "No API"
    assert request.decision_due_at is None and request.decided_by == product
    accepted = open_request(world)
    customizations.decide(accepted, actor=product, decision="accepted", reason="")
    assert accepted.status == "accepted" and accepted.decision_reason is None
    [event, _] = db.session.scalars(
        select(TimelineEvent)
        .where(TimelineEvent.kind == TimelineKind.CUSTOMIZATION_DECIDED)
        .order_by(TimelineEvent.id)
    ).all()
    assert "rejected: No API" in event.summary


def test_only_product_decides_and_only_once_C3(world, db):
    request = open_request(world)
    for someone in (world["acm"], world["leader"]):
        with pytest.raises(NotAllowed):
            customizations.decide(request, actor=someone, decision="accepted", reason="")
    with pytest.raises(ValidationError):
        customizations.decide(request, actor=world["product"], decision="maybe", reason="x")
    customizations.decide(request, actor=world["product"], decision="accepted", reason="")
    with pytest.raises(RuleViolation) as refused:
        customizations.decide(request, actor=world["product"], decision="rejected", reason="x")
    assert refused.value.rule == "C3"


def test_the_answer_to_a_hold_puts_it_back_with_a_new_48_hours_C3(world, db):
    request = open_request(world)
    clock.freeze(THURSDAY_AFTERNOON + timedelta(hours=60))
    customizations.flag_breach(request.id)
    customizations.decide(
        request, actor=world["product"], decision="on_hold", reason="How many price lists?"
    )
    with pytest.raises(RuleViolation):
        customizations.decide(request, actor=world["product"], decision="accepted", reason="")
    section = day.section(world["acm"], "customizations", now=clock.now())
    [item] = section.items
    assert item.rule == "C3" and item.note == "How many price lists?"
    answered_at = THURSDAY_AFTERNOON + timedelta(hours=70)
    clock.freeze(answered_at)
    with pytest.raises(ValidationError):
        customizations.answer_hold(request, actor=world["acm"], answer="")
    customizations.answer_hold(request, actor=world["acm"], answer="Two, kept by the client")
    assert request.status == CustomizationStatus.AWAITING_DECISION.value
    assert request.decision_due_at == answered_at + timedelta(hours=48)
    assert request.breach_flagged_at is None  # a new clock may breach once again
    with pytest.raises(RuleViolation):
        customizations.answer_hold(request, actor=world["acm"], answer="again")
    assert [q.request for q in customizations.product_queue(now=clock.now())] == [request]


def test_product_queue_is_oldest_first_with_each_clock_and_the_acm_day_shows_it_C2(world, db):
    first = open_request(world, title="First")
    clock.advance(timedelta(hours=50))
    second = open_request(world, title="Second")
    decided = open_request(world, title="Decided")
    customizations.decide(decided, actor=world["product"], decision="accepted", reason="")
    now = clock.advance(timedelta(hours=1))
    queue = customizations.product_queue(now=now)
    assert [q.request for q in queue] == [first, second]
    assert queue[0].clock.overdue and queue[0].clock.text == "overdue by 3 h"
    assert queue[1].clock.text == "1 day 23 h left" and queue[1].age == "1 h"
    items = day.section(world["acm"], "customizations", now=now).items
    assert [(i.customization, i.rule, i.overdue) for i in items] == [
        (first, "C2", True),
        (second, "C2", False),
    ]
    assert day.section(world["leader"], "customizations", now=now).items == []
