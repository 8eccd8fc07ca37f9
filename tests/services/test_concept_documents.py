"""The concept document without HTTP (C5): written once the quotation is ready, changed
until approved (a change withdraws the link sent), sent by a signed, expiring, revocable
link, approved by the client's typed name (time and address recorded) or by the copy they
signed; approved, the request moves on to its invoice (C6). The ACM's day shows what is
owed. The PDF says the same as the page and names nothing internal."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from kamportal import clock
from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.models import (
    AuditEvent,
    CustomizationAttachment,
    CustomizationStage,
    Milestone,
    OutboxMessage,
    Role,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import client_links, concept_documents, day
from kamportal.services.concept_documents import LinkRefused, MilestoneRow
from kamportal.services.concept_pdf import concept_pdf
from kamportal.services.customizations import Upload
from tests.client_view import readable
from tests.services.concept_world import milestones, request_in_concept, write

# Monday 7 Dec 2026, 09:00 UTC (11:00 in Cairo).
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PUBLIC_URL = "https://kam.example"
SIGNED = Upload("signed.pdf", b"%PDF-1.7 signed")


@pytest.fixture
def world(app, db, make_portfolio, make_user, frozen_clock):
    frozen_clock(NOW)
    app.config["PUBLIC_URL"] = PUBLIC_URL
    cairo = make_portfolio(
        team={"shared_mailbox": "cairo@kam.example"},
        leader={"email": "leader@kam.example"},
        acm={"email": "mona@kam.example", "name": "Mona ACM"},
        client={"store_name": "Nile Crafts", "store_code": "NILE01"},
        contact={"name": "Karim Client", "email": "karim@nile.example", "is_primary": True},
    )
    request = request_in_concept(cairo.client, actor=cairo.acm)
    other = make_user(Role.ACM, email="other@kam.example")
    return {"acm": cairo.acm, "client": cairo.client, "request": request, "other_acm": other}


def kinds(db, client) -> list[str]:
    return list(
        db.session.scalars(
            select(TimelineEvent.kind)
            .where(TimelineEvent.client_id == client.id)
            .where(TimelineEvent.kind.like("concept%"))
            .order_by(TimelineEvent.id)
        )
    )


def sent(world, db) -> str:
    """Write and send the document; the token of the emailed link."""
    request = world["request"]
    if request.concept is None:
        write(request, actor=world["acm"])
    message = concept_documents.send_concept(request, actor=world["acm"])
    db.session.commit()
    [link] = re.findall(r"https?://\S+", message.body)
    return link.rsplit("/", 1)[1]


def refusal(token: str) -> str:
    with pytest.raises(LinkRefused) as refused:
        concept_documents.open_concept(token)
    return refused.value.reason


# --- Writing -----------------------------------------------------------------------------------


def test_the_form_starts_from_the_scope_of_work_C5(world):
    draft = concept_documents.draft(world["request"])
    assert draft["scope"] == "Points earned on every order, spent at checkout"
    assert draft["exit_criteria"] == "A test order paid with points"
    assert [row.kind for row in draft["milestones"]] == ["basic"]


def test_the_document_is_written_with_its_milestones_on_the_timeline_C5(world, db):
    request = world["request"]
    concept = write(request, actor=world["acm"])
    assert (concept.scope, concept.written_by_id) == ("Points on orders", world["acm"].id)
    assert [(m.position, m.title, m.kind) for m in request.milestones] == [
        (1, "Milestone 1", "basic"),
        (2, "Milestone 2", "extra"),
    ]
    assert kinds(db, world["client"]) == [TimelineKind.CONCEPT_WRITTEN.value]
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "customization.concept_write")
    )
    assert concept_documents.standing_of(request).state == "not_sent"


def test_a_change_replaces_the_milestones_C5(world, db):
    request = world["request"]
    write(request, actor=world["acm"])
    write(request, actor=world["acm"], milestones=milestones(world["client"], "basic"))
    assert [m.title for m in request.milestones] == ["Milestone 1"]
    assert db.session.scalar(select(func.count()).select_from(Milestone)) == 1


@pytest.mark.parametrize(
    ("field", "value", "error_field"),
    [
        ("scope", "  ", "scope"),
        ("activities", "", "activities"),
        ("exit_criteria", "\x00", "exit_criteria"),
        ("scope", "x" * 10001, "scope"),
    ],
)
def test_each_part_is_needed_and_typed_text_C5(world, field, value, error_field):
    with pytest.raises(ValidationError) as refused:
        write(world["request"], actor=world["acm"], **{field: value})
    assert refused.value.field == error_field


def test_milestones_are_checked_row_by_row_C5(world, db):
    client, request, acm = world["client"], world["request"], world["acm"]
    today = clock.today(client.timezone)

    def refused_field(*rows: MilestoneRow) -> str | None:
        with pytest.raises(ValidationError) as refused:
            write(request, actor=acm, milestones=list(rows))
        db.session.rollback()
        return refused.value.field

    blank = MilestoneRow("", "basic", None)
    assert refused_field(blank) == "milestones"  # nothing but blank rows
    assert refused_field(MilestoneRow("Extra", "extra", today)) == "milestones"  # no basic
    assert refused_field(blank, MilestoneRow("", "basic", today)) == "milestones-1-title"
    assert refused_field(MilestoneRow("A", "basic", None)) == "milestones-0-due_on"
    assert refused_field(MilestoneRow("A", "other", today)) == "milestones-0-kind"
    assert refused_field(MilestoneRow("A", "basic", today - timedelta(days=1))) == (
        "milestones-0-due_on"
    )
    assert refused_field(MilestoneRow("A", "basic", today + timedelta(days=800))) == (
        "milestones-0-due_on"
    )
    assert refused_field(MilestoneRow("A\x00", "basic", today)) == "milestones-0-title"
    # A row named as the browser sent it keeps its name.
    assert refused_field(MilestoneRow("A", "basic", None, key="milestones-7")) == (
        "milestones-7-due_on"
    )
    # Due on the client's today is fine; blank rows are dropped.
    write(request, actor=acm, milestones=[blank, MilestoneRow("A", "basic", today)])
    assert [m.title for m in request.milestones] == ["A"]


def test_the_due_date_is_the_clients_today_not_utcs_C5(world, db, frozen_clock):
    """23:30 UTC on 7 Dec is already 8 Dec in Cairo: a milestone due on the 7th is past."""
    frozen_clock(datetime(2026, 12, 7, 23, 30, tzinfo=UTC))
    with pytest.raises(ValidationError):
        write(
            world["request"],
            actor=world["acm"],
            milestones=[MilestoneRow("A", "basic", datetime(2026, 12, 7).date())],
        )


def test_only_whoever_works_on_the_client_writes_it_C5(world):
    with pytest.raises(NotAllowed):
        write(world["request"], actor=world["other_acm"])


def test_it_is_written_only_in_stage_concept_C5(world, db):
    request = world["request"]
    request.stage = CustomizationStage.PRICING.value
    with pytest.raises(RuleViolation) as refused:
        write(request, actor=world["acm"])
    assert refused.value.rule == "C5"


# --- Sending -----------------------------------------------------------------------------------


def test_the_link_is_emailed_with_its_expiry_and_the_G1_copies_C5(world, db):
    token = sent(world, db)
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.to_addrs == ["karim@nile.example"]
    assert {"leader@kam.example", "cairo@kam.example"} <= set(message.cc_addrs)
    assert f"{PUBLIC_URL}/concept/{token}" in message.body
    # 14 days on the portal's clock, in the client's zone (Cairo, UTC+2).
    assert "21 December 2026, 11:00" in message.body
    request = world["request"]
    for internal in (request.reference, "SAL-", "C5", "NILE01"):
        assert internal not in readable(message.body) + message.subject
    link = concept_documents.open_concept(token)
    assert link.request_id == request.id
    assert link.expires_at == NOW + timedelta(days=14)
    standing = concept_documents.standing_of(request)
    assert (standing.state, standing.expires_at) == ("sent", NOW + timedelta(days=14))
    assert kinds(db, world["client"])[-1] == TimelineKind.CONCEPT_SENT.value


def test_nothing_is_sent_before_it_is_written_or_without_an_email_C5(world, db):
    request = world["request"]
    with pytest.raises(RuleViolation):
        concept_documents.send_concept(request, actor=world["acm"])
    write(request, actor=world["acm"])
    for contact in world["client"].contacts:
        contact.email = None
    with pytest.raises(ValidationError):
        concept_documents.send_concept(request, actor=world["acm"])
    with pytest.raises(NotAllowed):
        concept_documents.send_concept(request, actor=world["other_acm"])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_new_link_replaces_the_old_one_C5(world, db):
    first = sent(world, db)
    second = sent(world, db)
    assert refusal(first) == "revoked"
    assert concept_documents.open_concept(second)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_a_revoked_link_opens_nothing_C5(world, db):
    token = sent(world, db)
    concept_documents.revoke_concept_link(world["request"], actor=world["acm"])
    db.session.commit()
    assert refusal(token) == "revoked"
    assert concept_documents.standing_of(world["request"]).state == "not_sent"
    with pytest.raises(ValidationError):
        concept_documents.revoke_concept_link(world["request"], actor=world["acm"])
    assert kinds(db, world["client"])[-1] == TimelineKind.CONCEPT_LINK_REVOKED.value


def test_an_altered_token_or_another_purposes_link_opens_nothing_C5(world, db):
    token = sent(world, db)
    first = "f" if token[0] != "f" else "g"
    assert refusal(first + token[1:]) == "altered"
    assert refusal(token[:-2]) == "altered"
    assert refusal("") == "altered"
    survey = client_links.issue(world["request"], "survey", to="x@y.example", actor=None)
    assert refusal(client_links.token_for(survey)) == "altered"


def test_the_link_works_until_the_second_it_expires_C5(world, db):
    token = sent(world, db)
    clock.advance(timedelta(days=14) - timedelta(seconds=1))
    assert concept_documents.open_concept(token)
    clock.advance(timedelta(seconds=1))
    assert refusal(token) == "expired"
    assert concept_documents.standing_of(world["request"]).state == "expired"


def test_changing_a_sent_document_withdraws_its_link_C5(world, db):
    token = sent(world, db)
    write(world["request"], actor=world["acm"], scope="Points on orders, and on reviews")
    assert refusal(token) == "revoked"
    assert concept_documents.standing_of(world["request"]).state == "not_sent"
    event = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.CONCEPT_WRITTEN.value)
    ).all()[-1]
    assert "withdrawn" in event.summary


# --- Approving ---------------------------------------------------------------------------------


def test_the_client_approves_by_typing_their_name_C5_C6(world, db):
    token = sent(world, db)
    clock.advance(timedelta(hours=3))
    link = concept_documents.open_concept(token)
    concept_documents.approve_by_link(
        link, name="  Karim Client ", agreed=True, address="203.0.113.9"
    )
    db.session.commit()
    request = world["request"]
    concept = request.concept
    assert (concept.approved_name, concept.approved_address, concept.approved_via) == (
        "Karim Client",
        "203.0.113.9",
        "link",
    )
    assert concept.approved_at == NOW + timedelta(hours=3)
    assert request.stage == CustomizationStage.INVOICING.value
    event = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.CONCEPT_APPROVED.value)
    ).one()
    assert "Karim Client" in event.summary and "203.0.113.9" in event.summary
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "customization.concept_approve")
    )
    assert refusal(token) == "used"  # used twice: refused the second time
    with pytest.raises(RuleViolation):
        write(request, actor=world["acm"])  # approved: it stays as is


@pytest.mark.parametrize(
    ("name", "agreed", "field"),
    [("", True, "full_name"), ("Karim\x00", True, "full_name"), ("Karim Client", False, "agree")],
)
def test_no_approval_without_the_name_and_the_tick_C5(world, db, name, agreed, field):
    token = sent(world, db)
    link = concept_documents.open_concept(token)
    with pytest.raises(ValidationError) as refused:
        concept_documents.approve_by_link(link, name=name, agreed=agreed, address="203.0.113.9")
    assert refused.value.field == field
    db.session.rollback()
    assert world["request"].concept.approved_at is None
    assert concept_documents.open_concept(token)


def test_the_acm_uploads_the_signed_copy_C5_C6(world, db):
    token = sent(world, db)
    request = world["request"]
    concept_documents.approve_by_signed_copy(
        request, actor=world["acm"], signed_by="Karim Client", upload=SIGNED
    )
    db.session.commit()
    concept = request.concept
    assert (concept.approved_via, concept.approved_name) == ("signed_copy", "Karim Client")
    copy = db.session.scalars(select(CustomizationAttachment)).one()
    assert (copy.purpose, copy.filename, concept.signed_copy_id) == (
        "signed_concept",
        "signed.pdf",
        copy.id,
    )
    assert request.stage == CustomizationStage.INVOICING.value
    assert refusal(token) == "revoked"  # the link out stops working


@pytest.mark.parametrize(
    ("signed_by", "upload", "field"),
    [
        ("", SIGNED, "signed_by"),
        ("Karim", None, "signed_copy"),
        ("Karim", Upload("signed.docx", b"PK\x03\x04"), "signed_copy"),
        ("Karim", Upload("signed.pdf", b"not a pdf"), "signed_copy"),
    ],
)
def test_the_signed_copy_is_a_pdf_or_an_image_with_its_signer_C5(
    world, db, signed_by, upload, field
):
    write(world["request"], actor=world["acm"])
    with pytest.raises(ValidationError) as refused:
        concept_documents.approve_by_signed_copy(
            world["request"], actor=world["acm"], signed_by=signed_by, upload=upload
        )
    assert refused.value.field == field


def test_no_signed_copy_before_the_document_is_written_C5(world):
    with pytest.raises(RuleViolation):
        concept_documents.approve_by_signed_copy(
            world["request"], actor=world["acm"], signed_by="Karim", upload=SIGNED
        )


# --- The ACM's day and the PDF -------------------------------------------------------------------


def test_the_day_shows_each_concept_owed_with_the_links_expiry_C5(world, db):
    acm = world["acm"]

    def item():
        [owed] = day.section(acm, "concepts", now=clock.now()).items
        return owed

    assert item().note == "To write"
    write(world["request"], actor=acm)
    assert item().note == "Written, not sent"
    sent(world, db)
    assert (item().note, item().until) == (
        "Sent: waiting for the client's approval",
        NOW + timedelta(days=14),
    )
    clock.advance(timedelta(days=15))
    assert item().overdue
    concept_documents.approve_by_signed_copy(
        world["request"], actor=acm, signed_by="Karim", upload=SIGNED
    )
    assert day.section(acm, "concepts", now=clock.now()).items == []


def test_the_pdf_says_what_the_page_says_and_nothing_internal_C5(world, db):
    request = world["request"]
    write(request, actor=world["acm"], scope="Points on orders — نقاط الولاء")
    text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(concept_pdf(request))).pages
    )
    for expected in (
        "Concept document",
        "Loyalty points",
        "Nile Crafts",
        "Scope of work",
        "Points on orders",
        "Activities",
        "Milestone 1",
        "Extra requirement",
        "Exit criteria",
        "A test order paid with points",
    ):
        assert expected in text, expected
    for internal in (request.reference, "SAL-", "C5", "NILE01"):
        assert internal not in text
