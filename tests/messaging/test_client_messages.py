"""What clients see: nothing a client receives names a rule, an internal id or a code.

Every kind of message a client receives is queued here through the service that sends it,
as the ACM, the leader and the portal's jobs would, and what reaches the client (subject,
body, the invitation's text, the WhatsApp text) is read for internal words. The walk
finds for itself what it must cover: every email template not marked "To staff", and
every function that queues a client email or a WhatsApp message. A new one fails here
until it is walked, so a new client email cannot bring a rule ID in unseen.
"""

from __future__ import annotations

import ast
import enum
import io
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from pypdf import PdfReader
from sqlalchemy import select

import kamportal
from kamportal import clock, models
from kamportal.messaging import outbox
from kamportal.messaging.whatsapp import render_template
from kamportal.models import (
    CallOutcome,
    Channel,
    CustomizationStage,
    MeetingType,
    Minutes,
    MinutesStatus,
    NoReplyLadder,
    OutboxMessage,
    Role,
)
from kamportal.services import (
    client_links,
    client_reports,
    concept_documents,
    contact_log,
    customization_rejection,
    delivery,
    escalations,
    followups,
    invoices,
    kyc,
    meetings,
    minutes,
    onboarding,
    payments,
    renewals,
)
from kamportal.services.minutes import ActionItemInput
from tests.client_view import readable
from tests.services.concept_world import request_in_concept
from tests.services.concept_world import write as write_concept

# Monday 23 Nov 2026, 11:00 in Cairo: a working day of a Sunday-Thursday team.
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
QUEUEING = {"queue_client_email", "queue_whatsapp"}
STAFF_ONLY = re.compile(r"\A\{#-?\s*To staff\b")

# Enum values that are codes ("no_answer", "asked_for_manager"), from every model enum.
CODES = sorted(
    {
        str(member.value)
        for kind in vars(models).values()
        if isinstance(kind, type) and issubclass(kind, enum.Enum)
        for member in kind
        if "_" in str(member.value)
    }
)
INTERNAL = {
    "a rule ID": re.compile(r"\b(?:rule\s+)?[GOLFCERP]\d{1,2}\b"),
    "the word rule": re.compile(r"\brules?\b", re.IGNORECASE),
    "a row id": re.compile(r"#\s*\d+|\bids?\b", re.IGNORECASE),
    "a category code": re.compile(r"\b(?:" + "|".join(map(re.escape, CODES)) + r")\b"),
    "a category label": re.compile(r"\bother meeting\b", re.IGNORECASE),
}


def internal_words(text: str) -> list[str]:
    return [f"{what}: {m.group(0)!r}" for what, rx in INTERNAL.items() for m in rx.finditer(text)]


def test_the_internal_words_check_catches_what_it_must():
    """The check itself: each kind of internal word is caught, client wording is not."""
    for leaked in (
        "Minutes of meeting, rule G5 of the Key Account Management process.",
        "Invoice (R3).",
        "Escalation #12",
        "Confirmed: Other meeting, Mon 23 Nov",
        "Outcome: no_answer",
    ):
        assert internal_words(leaked), leaked
    clean = "Confirmed: Meeting, Mon 23 Nov 2026 11:00 EET – Nile Crafts (NILE01), INV-2026-000042"
    assert internal_words(clean) == []


def client_templates(app) -> list[str]:
    """Every email template that may reach a client: all but those marked "To staff"."""
    names = app.jinja_env.list_templates(filter_func=lambda name: name.startswith("emails/"))
    loader = app.jinja_env.loader
    return sorted(
        name.removeprefix("emails/")
        for name in names
        if not STAFF_ONLY.match(loader.get_source(app.jinja_env, name)[0])
    )


class _Queueing(ast.NodeVisitor):
    """The functions of one module that call the outbox's client-message functions."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.within: list[str] = []
        self.found: set[tuple[str, str]] = set()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.within.append(node.name)
        self.generic_visit(node)
        self.within.pop()

    def visit_Call(self, node: ast.Call) -> None:
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        if name in QUEUEING and self.within:
            self.found.add((self.module, self.within[-1]))
        self.generic_visit(node)


def queueing_functions() -> set[tuple[str, str]]:
    """(module, function) of every function of the portal that queues a client email or a
    WhatsApp message, read from the source."""
    root = Path(kamportal.__file__).parent
    found: set[tuple[str, str]] = set()
    for path in root.rglob("*.py"):
        module = ".".join(("kamportal", *path.relative_to(root).with_suffix("").parts))
        if module != outbox.__name__:
            visitor = _Queueing(module.removesuffix(".__init__"))
            visitor.visit(ast.parse(path.read_text(), filename=str(path)))
            found |= visitor.found
    return found


def _recording(queue_function, callers: set[tuple[str, str]]):
    def queueing(*args, **kwargs):
        caller = sys._getframe(1)
        callers.add((caller.f_globals["__name__"], caller.f_code.co_name))
        return queue_function(*args, **kwargs)

    return queueing


@pytest.fixture
def watched(monkeypatch):
    """Record, as the real outbox runs, which templates are rendered and which functions
    queue client messages."""
    seen = {"templates": set(), "callers": set()}
    render_email = outbox.render_email

    def rendering(name, **context):
        seen["templates"].add(name)
        return render_email(name, **context)

    monkeypatch.setattr(outbox, "render_email", rendering)
    for name in QUEUEING:
        monkeypatch.setattr(outbox, name, _recording(getattr(outbox, name), seen["callers"]))
    return seen


@pytest.fixture
def world(app, make_portfolio, make_user, frozen_clock):
    frozen_clock(MONDAY)
    app.config["PUBLIC_URL"] = "https://portal.example"
    portfolio = make_portfolio(
        team={
            "name": "Cairo",
            "shared_mailbox": "cairo-kam@kam.example",
            "followup_email_auto": True,
            "no_reply_whatsapp_after_hours": 4,
            "escalation_whatsapp_after_hours": 4,
            "escalation_leader_after_hours": 8,
            "invoice_reminder_days": 3,
        },
        leader={"name": "Layla Nour", "email": "layla@kam.example"},
        acm={
            "name": "Mona Adel",
            "email": "mona@kam.example",
            "phone": "+201001234567",
            "booking_link": "https://calendly.com/mona-adel",
        },
        client={
            "store_name": "Nile Crafts",
            "store_code": "NILE01",
            "status": "onboarding",
            "renewal_date": MONDAY.date() + timedelta(days=20),
        },
        contact={
            "name": "Karim Said",
            "email": "karim@nile.example",
            "whatsapp": "+201009876543",
            "is_primary": True,
        },
    )
    other_acm = make_user(
        Role.ACM, team=portfolio.team, name="Omar Farid", email="omar@kam.example"
    )
    return portfolio.as_dict(other_acm=other_acm)


def walk_every_client_message(world, db) -> None:
    """Queue every kind of message a client receives, through the services."""
    acm, client, contact = world["acm"], world["client"], world["contact"]

    # O2, O1: the welcome email as drafted, then the KYC link.
    onboarding.send_welcome(client, actor=acm, body=onboarding.draft_welcome(client).body)
    kyc.send_link(client, actor=acm)
    db.session.commit()

    # F3: every kind of meeting confirmed, moved and cancelled.
    for kind in MeetingType:
        meeting = meetings.schedule_meeting(
            client,
            actor=acm,
            kind=kind.value,
            starts_at=clock.now() + timedelta(days=3),
            duration_minutes=45,
            zoom_link="https://zoom.us/j/123456789",
            agenda="Your catalogue and the launch date",
            attendees=[contact],
        )
        db.session.commit()
        meetings.queue_confirmation(meeting, sequence=meeting.sequence)
        meetings.reschedule_meeting(
            meeting,
            actor=acm,
            starts_at=meeting.starts_at + timedelta(hours=1),
            duration_minutes=45,
        )
        meetings.queue_confirmation(meeting, sequence=meeting.sequence)
        meetings.cancel_meeting(meeting, actor=acm, reason="You asked to meet next week instead.")
        db.session.commit()

    # G5: the minutes of a meeting of no particular kind, and of a call.
    held = meetings.schedule_meeting(
        client,
        actor=acm,
        kind=MeetingType.OTHER.value,
        starts_at=clock.now() + timedelta(hours=5),
        duration_minutes=30,
        zoom_link="https://zoom.us/j/987654321",
        agenda="Shipping",
        attendees=[contact],
    )
    db.session.commit()
    clock.advance(timedelta(hours=6))
    meetings.mark_held(held, actor=acm, recording_link="https://zoom.us/rec/share/abc")
    contact_log.log_call(client, actor=acm, contact=contact, outcome=CallOutcome.ANSWERED)
    db.session.commit()
    due = clock.now().date() + timedelta(days=5)
    for owed in db.session.scalars(select(Minutes).where(Minutes.status == MinutesStatus.OWED)):
        minutes.send_minutes(
            owed,
            actor=acm,
            agreed_points="The catalogue goes live on Sunday\nShipping by courier",
            action_items=[
                ActionItemInput("Send the product photos", "client", due),
                ActionItemInput("Set up the courier", "other_team", due, "Logistics"),
                ActionItemInput("Check the payment methods", "acm", due),
            ],
            recipients=[contact],
        )
    db.session.commit()

    # R2, R3, R4: the renewal notice, its invoice and a reminder of it.
    [renewal] = renewals.open_due_renewals(now=clock.now())
    renewals.notify_client(renewal, actor=acm)
    renewals.confirm_renewal(renewal, actor=acm, agreed_on=renewal.due_on, amount="12000.00")
    invoice = invoices.issue_invoice(
        client, actor=acm, due_on=clock.now().date() + timedelta(days=14), renewal=renewal
    )
    db.session.commit()
    clock.advance(timedelta(days=12))
    assert invoices.send_invoice_reminders(now=clock.now())
    db.session.commit()
    # The sweep leaves each reminder to its delivery to compose: deliver them, as it does.
    for reminder in db.session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.idempotency_key.like("invoice-%-reminder-%"))
    ).all():
        outbox.deliver(reminder, last_attempt=True)
    # R7: a wire transfer reported; the client is told it can take 4 days to confirm.
    payments.report_wire_transfer(invoice, actor=acm, amount="12000.00", reference="FT 1")
    db.session.commit()

    # G6, and an email the ACM writes.
    contact_log.reply_to_whatsapp_with_email_redirect(client, actor=acm, contact=contact, key="k1")
    contact_log.email_contact(
        client, actor=acm, contact=contact, subject="Your catalogue", body="Hello!", key="k2"
    )
    db.session.commit()

    # F2: an unanswered call, its email at once and the WhatsApp after the team's wait.
    contact_log.log_call(client, actor=acm, contact=contact, outcome=CallOutcome.NO_ANSWER)
    db.session.commit()
    ladder = db.session.scalars(select(NoReplyLadder)).one()
    clock.freeze(ladder.whatsapp_due_at)
    assert followups.send_due_whatsapp(ladder.id) == "sent"
    db.session.commit()

    # C3, C5, C7: a rejection's reason, the concept document's link, the acceptance link
    # and, once closed, the satisfaction survey (the stages set as the process leaves them).
    rejected = request_in_concept(client, actor=acm)
    rejected.status = rejected.stage = "rejected"
    rejected.decision_reason = "The courier has no API."
    customization_rejection.send_rejection(
        rejected, actor=acm, message=customization_rejection.default_message(rejected)
    )
    request = request_in_concept(client, actor=acm)
    write_concept(request, actor=acm)
    concept_documents.send_concept(request, actor=acm)
    request.stage = CustomizationStage.DELIVERY.value
    for milestone in request.milestones:
        milestone.status = "done"
    delivery.send_acceptance_link(request, actor=acm)
    delivery.accept_by_link(
        client_links.live_link(request, "acceptance"), name=contact.name, address="192.0.2.1"
    )
    delivery.close_request(request, actor=acm)
    db.session.commit()

    # E1-E3, a day later: the escalation's email, WhatsApp, and the leader's decision.
    clock.advance(timedelta(days=1))
    escalation = escalations.raise_escalation(
        client, actor=acm, trigger="asked_to_change_acm", said="I want another ACM.", channel="call"
    )
    escalations.log_escalation_call(escalation, actor=acm, outcome="no_answer")
    db.session.commit()
    for step in ("whatsapp", "leader"):
        clock.freeze(escalation.step_due_at)
        assert escalations.run_due_step(escalation.id, step) == "done"
        db.session.commit()
    escalations.decide(
        escalation,
        leader=world["leader"],
        decision="reassign",
        note="Omar looks after your store from today.",
        new_acm=world["other_acm"],
    )
    db.session.commit()

    # P4, last: last month's report, drafted on the first working day (the clock goes back
    # to it) and sent with its PDF by the client's ACM of now.
    clock.freeze(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    client.status = "live"
    [report] = client_reports.draft_reports(clock.now())
    client_reports.update_report(
        report,
        actor=client.acm,
        commentary="Your first full month: the catalogue went live and sold well.",
        proposals="A bundle offer for the holidays.",
    )
    client_reports.send_report(report, actor=client.acm)
    db.session.commit()


def what_the_client_reads(message: OutboxMessage) -> list[str]:
    if message.channel == Channel.WHATSAPP.value:
        return [render_template(message.template, message.params)]
    texts = [message.subject or "", readable(message.body)]
    for attachment in message.attachments or []:
        if attachment["content_type"] == "application/pdf":
            pdf = PdfReader(io.BytesIO(outbox.attachment_bytes(attachment)))
            texts += [page.extract_text() for page in pdf.pages]
            continue
        invitation = Calendar.from_ical(attachment["content"])
        for event in invitation.walk("VEVENT"):
            texts += [str(event.get(name, "")) for name in ("SUMMARY", "DESCRIPTION", "LOCATION")]
    return texts


def test_nothing_a_client_receives_names_a_rule_an_internal_id_or_a_code(app, db, world, watched):
    """What clients see (PRODUCT.md): every message to the client's contacts, of every
    kind, is free of rule IDs, the word "rule", row ids and category codes or labels."""
    walk_every_client_message(world, db)

    addresses = {world["contact"].email, world["contact"].whatsapp}
    received = [
        m
        for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        if addresses & set(m.to_addrs)
    ]
    leaks = {
        f"{m.idempotency_key} ({m.subject or m.template})": words
        for m in received
        if (words := [w for text in what_the_client_reads(m) for w in internal_words(text)])
    }
    assert leaks == {}

    # The walk covered every client template and every function queueing a client message.
    assert set(client_templates(app)) <= watched["templates"], "walk the new template here"
    assert queueing_functions() <= watched["callers"], "walk the new client message here"
    assert len(received) >= 20
