"""Issue 16: each item on the day links to its task itself (the minutes form, the renewal
panel, the welcome email …), in words saying what to do, besides its client and its rule;
the link opens for the user. Links into the client page name the tab and the panel."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.blueprints.day.links import TASKS
from kamportal.extensions import db as _db
from kamportal.models import (
    AccountPlan,
    ActionItem,
    ContactHandover,
    CustomizationRequest,
    DeliveryStatus,
    Escalation,
    Invoice,
    Meeting,
    MeetingStatus,
    Milestone,
    Minutes,
    NoReplyLadder,
    NotSellingAlert,
    OutboxMessage,
    Renewal,
    Role,
    SupportTicket,
    TimelineEvent,
    TimelineKind,
    WelcomeEmail,
)
from kamportal.services import day
from tests.blueprints.test_day import new_meeting

HTMX = {"HX-Request": "true"}
# The frozen clock (frozen_clock): Monday 23 Nov 2026, 09:00 UTC, 11:00 in Cairo.
TODAY = date(2026, 11, 23)


@pytest.fixture
def mona(make_team, make_user):
    return make_user(Role.ACM, team=make_team(), name="Mona Adel", timezone="Africa/Cairo")


@pytest.fixture
def store(mona, make_client, make_contact):
    client = make_client(mona, store_name="Nile Crafts", timezone="Africa/Cairo")
    make_contact(client, name="Sara", email="sara@nile.example", is_primary=True)
    return client


def add(*rows):
    _db.session.add_all(rows)
    _db.session.commit()
    return rows[0]


def meeting_of(client, acm, starts_in: timedelta, **fields) -> Meeting:
    return new_meeting(_db, client, acm, clock.now() + starts_in, **fields)


def request_of(client, **fields) -> CustomizationRequest:
    now = clock.now()
    values = {
        "opened_at": now - timedelta(days=10),
        "title": "Gift wrapping",
        "end_result": "Wrapped gifts",
        "users": "Shoppers",
        "done_when": "A gift is wrapped",
        "wanted_by": TODAY + timedelta(days=30),
        "clock_started_at": now - timedelta(hours=2),
        "decision_due_at": now + timedelta(hours=46),
    }
    values.update(fields)
    return add(CustomizationRequest(client=client, **values))


def milestone_of(request, due_on: date, **fields) -> Milestone:
    return add(
        Milestone(request_id=request.id, position=1, title="Design", due_on=due_on, **fields)
    )


# Each kind of item: the situation that puts it on the day, its section, the task's URL
# and the link's words.
Situation = Callable[..., tuple[str, str, str]]


def _meeting(client, acm):
    meeting = meeting_of(client, acm, timedelta(hours=4))
    return "meetings", f"/clients/{client.id}?tab=meetings#meeting-{meeting.id}", "open the meeting"


def _confirmation(client, acm):
    meeting = meeting_of(
        client,
        acm,
        timedelta(days=1),
        sequence=1,
        confirmed_sequence=0,
        confirmation_due_at=clock.now() - timedelta(hours=1),
    )
    return (
        "confirmations",
        f"/clients/{client.id}?tab=meetings#meeting-{meeting.id}",
        "confirm the meeting",
    )


def _failed_confirmation(client, acm):
    now = clock.now()
    meeting = meeting_of(client, acm, timedelta(days=2), confirmation_due_at=now)
    message = OutboxMessage(
        idempotency_key=f"meeting-{meeting.id}-confirm-0",
        channel="email",
        client_id=client.id,
        to_addrs=["sara@nile.example"],
        subject="Confirmation",
        body="b",
        status=DeliveryStatus.FAILED.value,
        created_at=now - timedelta(hours=3),
    )
    add(
        TimelineEvent(
            client_id=client.id,
            kind=TimelineKind.MEETING_CONFIRMED.value,
            at=message.created_at,
            summary="Confirmation",
            detail={"meeting_id": meeting.id, "sequence": meeting.sequence},
            outbox_message=message,
        )
    )
    return (
        "confirmations",
        f"/clients/{client.id}?tab=meetings#meeting-{meeting.id}",
        "confirm the meeting",
    )


def _meeting_minutes(client, acm):
    """G5: the minutes of a held meeting: the minutes form of that meeting."""
    held = meeting_of(client, acm, -timedelta(days=1), status=MeetingStatus.HELD.value)
    owed = add(Minutes(client=client, owner=acm, owed_since=held.starts_at, meeting=held))
    return "minutes", f"/minutes/{owed.id}", "write the minutes"


def _call_minutes(client, acm):
    owed = add(Minutes(client=client, owner=acm, owed_since=clock.now() - timedelta(hours=1)))
    return "minutes", f"/minutes/{owed.id}", "write the minutes"


def _action(client, acm):
    sent = add(Minutes(client=client, owner=acm, owed_since=clock.now(), status="sent"))
    action = add(
        ActionItem(
            minutes=sent,
            client_id=client.id,
            due_on=TODAY,
            description="Send the banner sizes",
            owner="acm",
        )
    )
    return (
        "actions",
        f"/clients/{client.id}?tab=meetings#action-item-{action.id}",
        "follow up the action",
    )


def _overdue(client, acm):
    client.last_contact_at = clock.now() - timedelta(days=9)
    add(client)
    return "followups", f"/clients/{client.id}?tab=overview#log-contact", "log a contact"


def _due_soon(client, acm):
    client.last_contact_at = clock.now() - timedelta(days=6)
    add(client)
    return "followups", f"/clients/{client.id}?tab=overview#log-contact", "log a contact"


def _renewal(stage: str, words: str) -> Situation:
    def situation(client, acm):
        now = clock.now()
        add(
            Renewal(
                client_id=client.id,
                due_on=TODAY + timedelta(days=20),
                amount=Decimal("12000"),
                currency="EGP",
                stage=stage,
                opened_at=now - timedelta(days=10),
                notified_at=now - timedelta(days=5) if stage != "due" else None,
                confirmed_at=now - timedelta(days=1) if stage == "confirmed" else None,
                agreed_on=TODAY + timedelta(days=20) if stage == "confirmed" else None,
            )
        )
        return "renewals", f"/clients/{client.id}?tab=renewals#renewal-panel", words

    return situation


def _invoice(client, acm):
    now = clock.now()
    invoice = add(
        Invoice(
            client_id=client.id,
            currency="EGP",
            total=Decimal("100"),
            issued_on=TODAY - timedelta(days=40),
            due_on=TODAY - timedelta(days=10),
            issued_at=now - timedelta(days=40),
        )
    )
    return (
        "renewals",
        f"/clients/{client.id}?tab=renewals#invoice-{invoice.id}",
        "follow up the invoice",
    )


def _welcome(client, acm):
    now = clock.now()
    add(WelcomeEmail(client_id=client.id, subscribed_at=now - timedelta(hours=3), due_at=now))
    return "welcome", f"/clients/{client.id}/welcome", "review and send"


def _no_reply(client, acm):
    call = TimelineEvent(
        client_id=client.id,
        kind=TimelineKind.CALL.value,
        at=clock.now(),
        summary="Call: No answer",
        detail={"outcome": "no_answer"},
    )
    add(NoReplyLadder(client_id=client.id, call_event=call, started_at=clock.now()))
    return (
        "no_reply",
        f"/clients/{client.id}?tab=meetings#no-reply-ladder",
        "send the follow-up",
    )


def _whatsapp(client, acm):
    add(
        TimelineEvent(
            client_id=client.id,
            kind=TimelineKind.WHATSAPP_RECEIVED.value,
            at=clock.now() - timedelta(hours=1),
            summary="WhatsApp from the client: hello",
            detail={"message": "hello", "contact_id": None},
        )
    )
    return (
        "whatsapp",
        f"/clients/{client.id}?tab=meetings#whatsapp-panel",
        "answer the request",
    )


def _not_selling(client, acm):
    alert = add(
        NotSellingAlert(
            client_id=client.id,
            raised_at=clock.now() - timedelta(days=1),
            cause="no_orders",
            detail="No orders for 8 days",
        )
    )
    return (
        "not_selling",
        f"/clients/{client.id}?tab=escalations#not-selling-{alert.id}",
        "record the reasons and actions",
    )


def _support(client, acm):
    now = clock.now()
    add(
        SupportTicket(
            client_id=client.id,
            ticket_key="SUP-1",
            summary="Checkout fails",
            priority="High",
            status="To Do",
            opened_at=now - timedelta(hours=10),
            sla_due_at=now - timedelta(hours=2),
            opened_by_id=acm.id,
        )
    )
    return (
        "support",
        f"/clients/{client.id}?tab=escalations#support-panel",
        "follow up the ticket",
    )


def _escalation(client, acm):
    now = clock.now()
    escalation = add(
        Escalation(
            client_id=client.id,
            raised_at=now - timedelta(hours=1),
            trigger="asked_for_manager",
            said="I want your manager",
            channel="call",
            step_started_at=now - timedelta(hours=1),
        )
    )
    return "escalations", f"/escalations/{escalation.id}", "call the client"


def _awaiting_decision(client, acm):
    request = request_of(client)
    return "customizations", f"/customizations/{request.id}", "see the request"


def _on_hold(client, acm):
    request = request_of(
        client, status="on_hold", decided_at=clock.now(), decision_reason="Which sizes?"
    )
    return (
        "customizations",
        f"/customizations/{request.id}#hold-answer-form",
        "answer product",
    )


def _invoice_owed(client, acm):
    request = request_of(client, status="accepted", stage="invoicing")
    return (
        "customization_invoices",
        f"/customizations/{request.id}#quotation-invoice-form",
        "issue the invoice",
    )


def _rejection(client, acm):
    request = request_of(
        client,
        status="rejected",
        stage="rejected",
        decided_at=clock.now(),
        decision_reason="Out of scope",
    )
    return "rejections", f"/customizations/{request.id}#rejection", "send the reason"


def _concept(client, acm):
    request = request_of(client, status="accepted", stage="concept", estimated_days=10)
    return (
        "concepts",
        f"/customizations/{request.id}#concept-panel",
        "open the concept document",
    )


def _milestone(client, acm):
    request = request_of(client, status="accepted", stage="delivery")
    milestone_of(request, TODAY - timedelta(days=3))
    return "delivery", f"/customizations/{request.id}#delivery", "update the milestone"


def _acceptance(client, acm):
    request = request_of(client, status="accepted", stage="delivery")
    milestone_of(request, TODAY - timedelta(days=3), status="done", done_at=clock.now())
    return (
        "delivery",
        f"/customizations/{request.id}#delivery-acceptance",
        "obtain the acceptance",
    )


def _closure(client, acm):
    request = request_of(client, status="accepted", stage="closing", accepted_at=clock.now())
    milestone_of(request, TODAY - timedelta(days=3), status="done", done_at=clock.now())
    return (
        "delivery",
        f"/customizations/{request.id}#delivery-acceptance",
        "close the customization",
    )


def _handover(booked: bool) -> Situation:
    def situation(client, acm):
        now = clock.now()
        add(
            ContactHandover(
                client_id=client.id,
                from_name="Omar",
                to_name="Sara",
                changed_at=now - timedelta(days=1),
                due_at=now + timedelta(days=6),
            )
        )
        if not booked:
            return (
                "handovers",
                f"/clients/{client.id}/meetings/new?kind=handover",
                "book a hand-over meeting",
            )
        meeting = meeting_of(client, acm, timedelta(days=2), kind="handover")
        return (
            "handovers",
            f"/clients/{client.id}?tab=meetings#meeting-{meeting.id}",
            "open the meeting",
        )

    return situation


def _plan_review(client, acm):
    now = clock.now()
    add(
        AccountPlan(
            client_id=client.id,
            next_review_on=TODAY - timedelta(days=1),
            created_at=now,
            updated_at=now,
        )
    )
    return "plan_reviews", f"/clients/{client.id}/plan#review", "review the plan"


SITUATIONS: dict[str, Situation] = {
    "meeting": _meeting,
    "confirmation": _confirmation,
    "confirmation failed": _failed_confirmation,
    "minutes of a meeting": _meeting_minutes,
    "minutes of a call": _call_minutes,
    "action": _action,
    "overdue": _overdue,
    "due_soon": _due_soon,
    "renewal due": _renewal("due", "send the renewal notice"),
    "renewal notified": _renewal("notified", "record the client's confirmation"),
    "renewal confirmed": _renewal("confirmed", "create the invoice"),
    "invoice": _invoice,
    "welcome": _welcome,
    "no_reply": _no_reply,
    "whatsapp": _whatsapp,
    "not_selling": _not_selling,
    "support": _support,
    "escalation": _escalation,
    "customization awaiting": _awaiting_decision,
    "customization on hold": _on_hold,
    "customization invoice": _invoice_owed,
    "rejection": _rejection,
    "concept": _concept,
    "milestone": _milestone,
    "acceptance": _acceptance,
    "closure": _closure,
    "handover to book": _handover(booked=False),
    "handover booked": _handover(booked=True),
    "plan_review": _plan_review,
}


def task_links(fragment: str) -> list[tuple[str, str]]:
    return [
        (html.unescape(href), html.unescape(words))
        for href, words in re.findall(
            r'<a class="day-task" href="([^"]+)"[^>]*>([^<]+)</a>', fragment
        )
    ]


@pytest.mark.parametrize("situation", list(SITUATIONS))
def test_each_item_links_to_its_task_and_the_user_may_open_it(
    situation, frozen_clock, mona, store, login_as
):
    section, url, words = SITUATIONS[situation](store, mona)
    http = login_as(mona)

    fragment = http.get(f"/day/items/{section}", headers=HTMX).get_data(as_text=True)

    [item] = re.findall(r'<li class="day-item[^"]*".*?</li>', fragment, re.S)
    # The client and the rule stay; the task is what the person clicks to do the work.
    assert f'href="/clients/{store.id}">Nile Crafts</a>' in item
    assert '<abbr class="badge rule"' in item
    assert task_links(item) == [(url, words)]
    path, _, anchor = url.partition("#")
    task = http.get(path)
    assert task.status_code == 200
    # The link lands on the task's own panel or form.
    assert not anchor or f'id="{anchor}"' in task.get_data(as_text=True)


def test_a_client_report_links_to_the_report_to_send(
    frozen_clock, mona, store, make_client_report, login_as
):
    now = clock.now()
    report = make_client_report(
        store, drafted_at=now - timedelta(days=20), due_at=now - timedelta(days=17)
    )
    http = login_as(mona)
    fragment = http.get("/day/items/client_reports", headers=HTMX).get_data(as_text=True)
    assert task_links(fragment) == [(f"/reports/{report.id}", "review and send")]
    assert http.get(f"/reports/{report.id}").status_code == 200


def test_a_ticket_on_jira_links_to_jira_in_its_own_tab(frozen_clock, mona, store, login_as):
    _support(store, mona)
    ticket = _db.session.scalars(select(SupportTicket)).one()
    ticket.url = "https://jira.example/browse/SUP-1"
    _db.session.commit()
    fragment = login_as(mona).get("/day/items/support", headers=HTMX).get_data(as_text=True)
    assert task_links(fragment) == [(ticket.url, "follow up SUP-1 in Jira")]
    assert 'rel="noopener" target="_blank"' in fragment


def test_every_kind_of_item_the_day_lists_has_its_task():
    """The one place (blueprints/day/links.py) covers each kind the day's sections make."""
    source = Path(day.__file__).read_text()
    made = set(re.findall(r'DayItem\(\s*(?:kind=)?"(\w+)"', source))
    assert made and made == set(TASKS)
    assert {kind for name in SITUATIONS for kind in TASKS if name.startswith(kind)} | {
        "client_report"
    } == set(TASKS)
