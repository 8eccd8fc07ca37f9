"""Client emails previewed before they go (issue 16): each preview shows the sender, the
recipients with the G1 CCs, the subject and the body that sending then queues, in English
and in Arabic (right to left); a preview writes nothing; bad input gives the form again
with its errors, as the send does."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from kamportal.models import (
    CallOutcome,
    Invoice,
    KycQuestionnaire,
    Meeting,
    MeetingStatus,
    MeetingType,
    NoReplyLadder,
    OutboxMessage,
    Payment,
    Quotation,
    RenewalStage,
    Role,
    TimelineEvent,
)
from kamportal.services import (
    contact_log,
    customizations,
    delivery,
    discounts,
    escalations,
    invoices,
    meetings,
)
from kamportal.services import minutes as minutes_service
from kamportal.services.invoices import Fee
from tests.billing.conftest import whmcs_server  # noqa: F401 (a fixture)
from tests.services import renewal_world
from tests.services.concept_world import request_in_concept, write
from tests.services.renewal_world import NOW, confirmed, invoiced, opened
from tests.services.test_customization_tickets import open_request
from tests.services.test_delivery import in_delivery

world = renewal_world.world
HTMX = {"HX-Request": "true"}
CCS = "mona@kam.example, leader@kam.example, cairo-kam@kam.example"
LANGUAGES = ["en", "ar"]


class _Preview(HTMLParser):
    """The fields of `_email_preview.html` (`data-field`), as a reader sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.attrs: dict[str, dict[str, str | None]] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        name = dict(attrs).get("data-field")
        self._open.append(name)
        if name:
            self.fields.setdefault(name, "")
            self.attrs[name] = dict(attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for name in {n for n in self._open if n}:
            self.fields[name] += data


def preview_of(response) -> _Preview:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    parser = _Preview()
    parser.feed(response.get_data(as_text=True))
    assert "body" in parser.fields, "no preview in the answer"
    return parser


def assert_previewed(preview: _Preview, message: OutboxMessage, language: str) -> None:
    """What the preview showed is what went to the outbox."""
    shown = preview.fields
    assert shown["from"] == message.sender
    assert shown.get("reply_to") == message.reply_to
    assert shown["to"] == ", ".join(message.to_addrs)
    assert shown["cc"] == ", ".join(message.cc_addrs) == CCS  # G1
    assert shown["subject"] == message.subject
    assert shown["body"] == message.body
    assert shown.get("attachment", "") == "".join(a["filename"] for a in message.attachments)
    body = preview.attrs["body"]
    assert (body["dir"], body["lang"]) == (("rtl", "ar") if language == "ar" else ("ltr", "en"))
    arabic = any("\u0600" <= letter <= "\u06ff" for letter in shown["body"])
    assert arabic == (language == "ar")


def counts(db) -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(OutboxMessage)),
        db.session.scalar(select(func.count()).select_from(TimelineEvent)),
    )


def speaking(world, db, language: str) -> None:
    world["client"].language = language
    db.session.commit()


def only_message(db, key_like: str) -> OutboxMessage:
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.idempotency_key.like(key_like))
    ).one()


# --- The email to a contact ------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_email_to_a_contact_previewed_is_the_one_sent(world, db, login_as, language):
    speaking(world, db, language)
    client, contact = world["client"], world["contact"]
    http = login_as(world["acm"])
    url = f"/clients/{client.id}/contacts/{contact.id}/email"
    form = http.get(url, headers=HTMX).get_data(as_text=True)
    assert f'formaction="{url}/preview"' in form and 'id="email-form-preview"' in form
    body = "مرحبا كريم،\nهذه هي الخطة." if language == "ar" else "Hello Karim,\nHere is the plan."
    data = {"subject": "Your launch plan", "body": body, "key": "k1"}
    before = counts(db)

    preview = preview_of(http.post(f"{url}/preview", data=data, headers=HTMX))

    assert counts(db) == before  # nothing queued, nothing on the timeline
    assert http.post(url, data=data, headers=HTMX).status_code == 200
    assert_previewed(preview, only_message(db, "contact-email-%"), language)


def test_a_preview_without_javascript_is_the_form_page_with_the_preview(world, db, login_as):
    client, contact = world["client"], world["contact"]
    url = f"/clients/{client.id}/contacts/{contact.id}/email"
    data = {"subject": "Your plan", "body": "Hello Karim", "key": "k2"}
    response = login_as(world["acm"]).post(f"{url}/preview", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in page and 'id="email-form"' in page and 'value="Your plan"' in page
    assert preview_of(response).fields["to"] == "karim@nile.example"
    assert counts(db) == (0, 0)


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_bad_input_gives_the_email_form_again_with_its_errors(world, db, login_as, headers):
    client, contact = world["client"], world["contact"]
    url = f"/clients/{client.id}/contacts/{contact.id}/email/preview"
    response = login_as(world["acm"]).post(
        url, data={"subject": "", "body": "  ", "key": "k3"}, headers=headers
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-form"' in page and "This field is required." in page
    assert 'data-field="body"' not in page
    if headers:
        assert response.headers["HX-Retarget"] == "#email-form"
    assert counts(db) == (0, 0)


# --- The minutes (G5) ---------------------------------------------------------------------------


def owed_minutes(world, db):
    client, contact = world["client"], world["contact"]
    meeting = Meeting(
        client=client,
        organizer=world["acm"],
        kind=MeetingType.WEEKLY.value,
        starts_at=NOW - timedelta(hours=2),
        zoom_link="https://zoom.us/j/123456789",
        status=MeetingStatus.HELD.value,
        uid="preview-meeting@kam.example",
        created_at=NOW,
        updated_at=NOW,
        attendees=[contact],
    )
    db.session.add(meeting)
    db.session.flush()
    minutes = minutes_service.owe_for_meeting(meeting, at=NOW - timedelta(hours=1))
    db.session.commit()
    return minutes


MINUTES_FORM = {
    "agreed_points": "Banners by Thursday\nWeekly call on Sundays at 11:00",
    "action_items-0-description": "Send the banner texts",
    "action_items-0-owner": "client",
    "action_items-0-due_on": "2026-11-26",
    "action_items-1-description": "Design the banners",
    "action_items-1-owner": "other_team",
    "action_items-1-owner_team": "Design",
    "action_items-1-due_on": "2026-11-29",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_minutes_previewed_are_the_ones_sent_G5(world, db, login_as, language):
    speaking(world, db, language)
    minutes = owed_minutes(world, db)
    data = {**MINUTES_FORM, "recipients": [world["contact"].id]}
    http = login_as(world["acm"])
    form = http.get(f"/minutes/{minutes.id}").get_data(as_text=True)
    assert f'formaction="/minutes/{minutes.id}/preview"' in form
    before = counts(db)

    preview = preview_of(http.post(f"/minutes/{minutes.id}/preview", data=data, headers=HTMX))

    assert counts(db) == before
    assert minutes_service.load_minutes(minutes.id).action_items == []  # nothing added
    assert "Design the banners" in preview.fields["body"]
    assert http.post(f"/minutes/{minutes.id}", data=data).status_code == 303
    assert_previewed(preview, only_message(db, "minutes-%"), language)


def test_minutes_without_agreed_points_give_the_form_again_G5(world, db, login_as):
    minutes = owed_minutes(world, db)
    data = {**MINUTES_FORM, "agreed_points": " ", "recipients": [world["contact"].id]}
    before = counts(db)
    response = login_as(world["acm"]).post(
        f"/minutes/{minutes.id}/preview", data=data, headers=HTMX
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == f"#minutes-{minutes.id}-form"
    assert "write at least one" in page and 'data-field="body"' not in page
    assert counts(db) == before


# --- F2: the follow-up email after an unanswered call --------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_followup_email_previewed_is_the_one_sent_F2(world, db, login_as, language):
    speaking(world, db, language)
    client = world["client"]
    contact_log.log_call(client, actor=world["acm"], contact=None, outcome=CallOutcome.NO_ANSWER)
    db.session.commit()
    ladder = db.session.scalars(select(NoReplyLadder)).one()
    http = login_as(world["acm"])
    url = f"/clients/{client.id}/followups/{ladder.id}/email"
    panel = http.get(f"/clients/{client.id}/followups/ladder", headers=HTMX)
    assert f'hx-get="{url}/preview"' in panel.get_data(as_text=True)
    before = counts(db)

    preview = preview_of(http.get(f"{url}/preview", headers=HTMX))

    assert counts(db) == before
    assert http.post(url, headers=HTMX).status_code == 200
    assert_previewed(preview, only_message(db, "ladder-%"), language)
    # Sent: nothing more to preview, said in the slot.
    again = http.get(f"{url}/preview", headers=HTMX)
    assert again.status_code == 422 and "sent already" in again.get_data(as_text=True)


# --- E2: "we tried to call you", sent when the escalation's call is not answered -----------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_we_tried_to_call_email_previewed_is_the_one_sent_E2(world, db, login_as, language):
    speaking(world, db, language)
    escalation = escalations.raise_escalation(
        world["client"], actor=world["acm"], trigger="asked_for_manager", said="x", channel="call"
    )
    db.session.commit()
    http = login_as(world["acm"])
    url = f"/escalations/{escalation.id}/email/preview"
    assert f'hx-get="{url}"' in http.get(f"/escalations/{escalation.id}").text
    before = counts(db)

    preview = preview_of(http.get(url, headers=HTMX))

    assert counts(db) == before
    call = http.post(f"/escalations/{escalation.id}/call", data={"outcome": "no_answer"})
    assert call.status_code == 303
    assert_previewed(preview, only_message(db, f"escalation-{escalation.id}-email"), language)
    # Past the call step, no email goes with a call: said in place.
    again = http.get(url, headers=HTMX)
    assert again.status_code == 422 and "past its call step" in again.text


# --- F3: the meeting's confirmation ---------------------------------------------------------------


def weekly_meeting(world, db, *, in_days: int) -> Meeting:
    """A weekly meeting with the client's contact, `in_days` ahead. Committed."""
    meeting = meetings.schedule_meeting(
        world["client"],
        actor=world["acm"],
        kind=MeetingType.WEEKLY,
        starts_at=NOW + timedelta(days=in_days),
        duration_minutes=30,
        zoom_link=f"https://zoom.us/j/123456789{in_days}",
        agenda="The launch plan",
        attendees=[world["contact"]],
    )
    db.session.commit()
    return meeting


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_meeting_confirmation_previewed_is_the_one_sent_F3(world, db, login_as, language):
    speaking(world, db, language)
    meeting = weekly_meeting(world, db, in_days=3)
    http = login_as(world["acm"])
    url = f"/meetings/{meeting.id}/confirmation/preview"
    panel = http.get(f"/clients/{world['client'].id}/meetings", headers=HTMX).text
    assert f'hx-get="{url}"' in panel
    before = counts(db)

    preview = preview_of(http.get(url, headers=HTMX))

    assert counts(db) == before
    assert preview.fields["attachment"] == "invite.ics"
    message = meetings.queue_confirmation(meeting, sequence=meeting.sequence)
    db.session.commit()
    assert_previewed(preview, message, language)


# --- C3: the customization rejection -------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_rejection_previewed_is_the_one_sent_C3(
    world, db, login_as, make_user, run_jobs, language
):
    speaking(world, db, language)
    request = open_request(world, db, run_jobs)
    customizations.decide(
        request, actor=make_user(Role.PRODUCT), decision="rejected", reason="Not on our roadmap"
    )
    db.session.commit()
    http = login_as(world["acm"])
    url = f"/customizations/{request.id}/rejection"
    assert f'formaction="{url}/preview"' in http.get(f"/customizations/{request.id}").text
    data = {"message": "We are sorry: this is not on our roadmap."}
    before = counts(db)

    preview = preview_of(http.post(f"{url}/preview", data=data, headers=HTMX))

    assert counts(db) == before
    assert http.post(url, data=data).status_code == 303
    assert_previewed(preview, only_message(db, "customization-%-rejection"), language)
    bad = http.post(f"{url}/preview", data={"message": " "}, headers=HTMX)
    assert bad.status_code == 422 and bad.headers["HX-Retarget"] == "#rejection"


def test_a_blank_rejection_gives_the_form_again_C3(world, db, login_as, make_user, run_jobs):
    request = open_request(world, db, run_jobs)
    customizations.decide(
        request, actor=make_user(Role.PRODUCT), decision="rejected", reason="Not on our roadmap"
    )
    db.session.commit()
    before = counts(db)
    response = login_as(world["acm"]).post(
        f"/customizations/{request.id}/rejection/preview", data={"message": " "}, headers=HTMX
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="rejection-form"' in page and 'data-field="body"' not in page
    assert counts(db) == before


# --- R2 and R4: what goes on its own, from the renewal panel -------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_renewal_notice_previewed_is_the_one_sent_R2(world, db, login_as, language):
    speaking(world, db, language)
    renewal = opened(db)
    http = login_as(world["acm"])
    panel = http.get(f"/clients/{world['client'].id}/renewal-panel", headers=HTMX).text
    assert "Preview the renewal notice" in panel
    before = counts(db)

    preview = preview_of(http.get(f"/renewals/{renewal.id}/notice/preview", headers=HTMX))

    assert counts(db) == before
    assert http.post(f"/renewals/{renewal.id}/notice").status_code == 303
    assert_previewed(preview, only_message(db, "renewal-%-notice"), language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_invoice_reminder_previewed_is_the_next_one_sent_R4(
    world, db, login_as, language, run_jobs
):
    speaking(world, db, language)
    _, invoice = invoiced(world, db)
    http = login_as(world["acm"])
    panel = http.get(f"/clients/{world['client'].id}/renewal-panel", headers=HTMX).text
    assert "Preview the reminder" in panel
    before = counts(db)

    response = http.get(f"/invoices/{invoice.id}/reminder/preview")
    assert "<html" in response.text  # without JavaScript, a page of its own
    preview = preview_of(response)

    assert counts(db) == before
    assert invoices.send_invoice_reminders(now=NOW + timedelta(days=18)) == [invoice]
    db.session.commit()
    run_jobs()  # the delivery job composes the reminder as it sends it
    db.session.expire_all()
    assert_previewed(preview, only_message(db, "invoice-%-reminder-1"), language)


# --- R3 and R7: the invoice and the wire's acknowledgment, from their forms ----------------------

# A rule's ID (R3, G1...), which no client reads.
RULE_ID = re.compile(r"\b[A-Z]\d{1,2}\b")
INVOICE_NUMBER = re.compile(r"INV-\d{4}-\d{6}")


def billing_rows(db) -> tuple[int, int, int, int]:
    """The outbox, the timeline, the invoices and the payments, counted."""
    return (
        *counts(db),
        db.session.scalar(select(func.count()).select_from(Invoice)),
        db.session.scalar(select(func.count()).select_from(Payment)),
    )


def assert_for_the_client(preview: _Preview) -> None:
    """What the client reads names no rule and no id of the portal's."""
    assert not RULE_ID.search(preview.fields["subject"] + preview.fields["body"])


def approved_discount(world, db) -> Quotation:
    quotation = discounts.request_discount(
        world["client"], actor=world["acm"], description="Loyalty", discount="1000"
    )
    discounts.decide_discount(quotation, actor=world["commercial"], approve=True)
    db.session.commit()
    return quotation


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_invoice_email_previewed_is_the_one_sent_R3(world, db, login_as, language):
    speaking(world, db, language)
    renewal = confirmed(world, db)
    quotation = approved_discount(world, db)
    http = login_as(world["acm"])
    url = f"/renewals/{renewal.id}/invoice"
    assert f'formaction="{url}/preview"' in http.get(url, headers=HTMX).text
    data = {
        "due_on": renewal.due_on.isoformat(),
        "fee_1": "Custom checkout page",
        "fee_1_amount": "3000",
        "quotation": str(quotation.id),
    }
    before = billing_rows(db)

    preview = preview_of(http.post(f"{url}/preview", data=data, headers=HTMX))

    assert billing_rows(db) == before  # nothing issued, queued or on the timeline
    db.session.expire_all()
    assert renewal.renewal_stage is RenewalStage.CONFIRMED
    assert quotation.used_on_invoice_id is None  # the discount is still to use (R9)
    assert "Custom checkout page" in preview.fields["body"]
    if language == "en":
        assert "Total: EGP14,000.00" in preview.fields["body"]  # 12,000 + 3,000 - 1,000
    assert preview.fields["note"].startswith("The invoice number is given when")
    assert_for_the_client(preview)
    assert http.post(url, data=data, headers=HTMX).status_code == 200
    sent = only_message(db, "invoice-%-issued")
    # The number is the invoice's when it is created: PostgreSQL's sequence has moved on.
    shown = INVOICE_NUMBER.findall(preview.fields["subject"] + preview.fields["body"])
    assert len(shown) == 2 and len(set(shown)) == 1
    for fields in (preview.fields, sent.__dict__):
        fields["subject"] = INVOICE_NUMBER.sub("<number>", fields["subject"])
        fields["body"] = INVOICE_NUMBER.sub("<number>", fields["body"])
    assert_previewed(preview, sent, language)


def test_the_invoice_preview_without_javascript_is_the_form_page_with_it_R3(world, db, login_as):
    renewal = confirmed(world, db)
    url = f"/renewals/{renewal.id}/invoice"
    data = {"due_on": renewal.due_on.isoformat(), "quotation": "0"}
    response = login_as(world["acm"]).post(f"{url}/preview", data=data)
    page = response.text
    assert "<html" in page and 'id="renewal-invoice-form"' in page
    assert f'action="{url}"' in page  # the form, once previewed, still creates the invoice
    assert preview_of(response).fields["to"] == "karim@nile.example"
    assert preview_of(response).fields["note"].startswith("The invoice number is given")
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_bad_input_gives_the_invoice_form_again_with_its_errors_R3(world, db, login_as, headers):
    renewal = confirmed(world, db)
    http = login_as(world["acm"])
    url = f"/renewals/{renewal.id}/invoice/preview"
    before = billing_rows(db)
    for data, error in (
        ({"due_on": "", "quotation": "0"}, "Give the due date."),
        # Refused by the service: a fee without its amount (R8).
        (
            {"due_on": renewal.due_on.isoformat(), "fee_1": "Banner", "quotation": "0"},
            "Give an amount",
        ),
    ):
        response = http.post(url, data=data, headers=headers)
        assert response.status_code == 422
        assert 'id="renewal-invoice-form"' in response.text and error in response.text
        assert 'data-field="body"' not in response.text
        if headers:
            assert response.headers["HX-Retarget"] == "#renewal-invoice-form"
    assert billing_rows(db) == before
    db.session.expire_all()
    assert renewal.renewal_stage is RenewalStage.CONFIRMED


def test_on_whmcs_the_invoice_preview_says_whmcs_emails_it_R3(
    world,
    db,
    login_as,
    whmcs_server,  # noqa: F811
):
    """WHMCS emails its own invoices: the portal has no email to show, and WHMCS is not
    asked to create an invoice that no rollback would take back."""
    world["client"].billing_account_id = "7"
    renewal = confirmed(world, db)
    before = billing_rows(db)
    response = login_as(world["acm"]).post(
        f"/renewals/{renewal.id}/invoice/preview",
        data={"due_on": renewal.due_on.isoformat(), "quotation": "0"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "The billing system (WHMCS) emails the invoice to the client itself" in response.text
    assert 'data-field="body"' not in response.text
    assert whmcs_server.requests == []
    assert billing_rows(db) == before


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_wire_acknowledgment_previewed_is_the_one_sent_R7(world, db, login_as, language):
    speaking(world, db, language)
    _, invoice = invoiced(world, db)
    http = login_as(world["acm"])
    url = f"/invoices/{invoice.id}/wire"
    assert f'formaction="{url}/preview"' in http.get(url, headers=HTMX).text
    data = {"amount": "12000", "reference": "CIB 778812", "note": "Sent Sunday"}
    before = billing_rows(db)

    preview = preview_of(http.post(f"{url}/preview", data=data, headers=HTMX))

    assert billing_rows(db) == before  # nothing recorded, queued or on the timeline
    db.session.expire_all()
    assert invoice.method == "online"  # still as issued
    assert invoice.number in preview.fields["body"]
    if language == "en":
        assert "wire transfer of EGP12,000.00" in preview.fields["body"]
    assert_for_the_client(preview)
    assert http.post(url, data=data, headers=HTMX).status_code == 200
    assert_previewed(preview, only_message(db, "payment-%-reported"), language)


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_bad_input_gives_the_wire_form_again_with_its_errors_R7(world, db, login_as, headers):
    _, invoice = invoiced(world, db)
    http = login_as(world["acm"])
    url = f"/invoices/{invoice.id}/wire/preview"
    before = billing_rows(db)
    for amount, error in (
        ("", "Give an amount."),
        ("12000.001", "EGP amounts have at most 2 decimals."),
        # Refused by the service: more than the invoice owes.
        ("13000", "report at most EGP12,000.00"),
    ):
        response = http.post(url, data={"amount": amount}, headers=headers)
        assert response.status_code == 422, amount
        form = f'id="renewal-wire-{invoice.id}-form"'
        assert form in response.text and error in response.text, amount
        assert 'data-field="body"' not in response.text
        if headers:
            assert response.headers["HX-Retarget"] == f"#renewal-wire-{invoice.id}-form"
    assert billing_rows(db) == before


def test_the_wire_preview_without_javascript_is_the_form_page_with_it_R7(world, db, login_as):
    _, invoice = invoiced(world, db)
    url = f"/invoices/{invoice.id}/wire"
    before = billing_rows(db)
    response = login_as(world["acm"]).post(f"{url}/preview", data={"amount": "5000"})
    page = response.text
    assert "<html" in page and f'id="renewal-wire-{invoice.id}-form"' in page
    assert f'action="{url}"' in page and 'value="5000"' in page
    assert "EGP5,000.00" in preview_of(response).fields["body"]
    assert billing_rows(db) == before


def test_without_a_contact_email_the_previews_say_there_is_none_R3_R7(world, db, login_as):
    renewal = confirmed(world, db)
    invoice = invoices.issue_invoice(
        world["client"], actor=world["acm"], fees=[Fee("Banner", "500")], due_on=renewal.due_on
    )
    world["contact"].email = None
    db.session.commit()
    http = login_as(world["acm"])
    before = billing_rows(db)
    for url, data in (
        (f"/renewals/{renewal.id}/invoice/preview", {"due_on": renewal.due_on.isoformat()}),
        (f"/invoices/{invoice.id}/wire/preview", {"amount": "100"}),
    ):
        response = http.post(url, data=data, headers=HTMX)
        assert response.status_code == 422
        assert "No contact of this client has an email address: add one." in response.text
    assert billing_rows(db) == before


# --- P4: the monthly client report -------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_report_email_previewed_is_the_one_sent_with_its_pdf_P4(
    world, db, login_as, make_client_report, language
):
    speaking(world, db, language)
    report = make_client_report(world["client"], commentary="A good month.", proposals="More ads.")
    http = login_as(world["acm"])
    url = f"/reports/{report.id}/email/preview"
    assert f'hx-get="{url}"' in http.get(f"/reports/{report.id}").text
    before = counts(db)

    preview = preview_of(http.get(url, headers=HTMX))

    assert counts(db) == before
    assert preview.fields["attachment"].endswith(".pdf")
    assert http.post(f"/reports/{report.id}/send").status_code == 303
    assert_previewed(preview, only_message(db, "client-report-%"), language)


# --- Emails with a link made as they go: KYC (O1), concept (C5), acceptance, survey (C7) ---

LINK = re.compile(r"https?://\S+")


def assert_previewed_but_the_link(preview: _Preview, message: OutboxMessage, language: str):
    """As `assert_previewed`, the link aside: the preview's was never kept, the email sent
    carries its own."""
    assert preview.fields["note"].startswith("The link in the email is made when you send it")
    shown, sent = LINK.findall(preview.fields["body"]), LINK.findall(message.body)
    assert len(shown) == len(sent) == 1 and shown != sent
    preview.fields["body"] = LINK.sub("<link>", preview.fields["body"])
    message.body = LINK.sub("<link>", message.body)
    assert_previewed(preview, message, language)


def previewed_and_sent(http, db, *, preview: str, send: str, key_like: str, language: str):
    before = counts(db)
    shown = preview_of(http.get(preview, headers=HTMX))
    assert counts(db) == before  # no link kept, nothing queued, nothing on the timeline
    assert http.post(send, headers=HTMX).status_code == 200
    assert_previewed_but_the_link(shown, only_message(db, key_like), language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_kyc_link_email_previewed_is_the_one_sent_O1(world, db, login_as, language):
    speaking(world, db, language)
    client = world["client"]
    previewed_and_sent(
        login_as(world["acm"]),
        db,
        preview=f"/clients/{client.id}/kyc/link/preview",
        send=f"/clients/{client.id}/kyc/link",
        key_like="kyc:%",
        language=language,
    )
    questionnaire = db.session.scalars(select(KycQuestionnaire)).one()
    assert questionnaire.link_sent_at is not None  # the send's link, the preview's gone


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_concept_email_previewed_is_the_one_sent_C5(world, db, login_as, language):
    speaking(world, db, language)
    request = request_in_concept(world["client"], actor=world["acm"])
    write(request, actor=world["acm"])
    previewed_and_sent(
        login_as(world["acm"]),
        db,
        preview=f"/customizations/{request.id}/concept/send/preview",
        send=f"/customizations/{request.id}/concept/send",
        key_like=f"customization-{request.id}-concept-%",
        language=language,
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_acceptance_and_survey_emails_previewed_are_the_ones_sent_C7(
    world, db, login_as, language
):
    speaking(world, db, language)
    client, acm = world["client"], world["acm"]
    request = in_delivery(db, client, acm, due=[NOW.date()], done=1)
    http = login_as(acm)
    previewed_and_sent(
        http,
        db,
        preview=f"/customizations/{request.id}/acceptance/link/preview",
        send=f"/customizations/{request.id}/acceptance/link",
        key_like=f"customization-{request.id}-acceptance-%",
        language=language,
    )
    delivery.record_acceptance(request, actor=acm, note="Yes on the call")
    db.session.commit()
    previewed_and_sent(
        http,
        db,
        preview=f"/customizations/{request.id}/survey/preview",
        send=f"/customizations/{request.id}/close",
        key_like=f"customization-{request.id}-survey-%",
        language=language,
    )
    # Closed, its survey out and live: nothing to send again, and the preview says why.
    refused = http.get(f"/customizations/{request.id}/survey/preview", headers=HTMX)
    assert refused.status_code == 422
    assert "Nothing to preview: The survey is sent again only once" in refused.get_data(
        as_text=True
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_cancellation_previewed_is_the_one_sent_F3(world, db, login_as, language):
    speaking(world, db, language)
    meeting = weekly_meeting(world, db, in_days=3)
    http = login_as(world["acm"])
    url = f"/meetings/{meeting.id}/cancel"
    assert f'formaction="{url}/preview"' in http.get(url, headers=HTMX).text
    data = {"reason": "The owner is travelling"}
    before = counts(db)

    preview = preview_of(http.post(f"{url}/preview", data=data, headers=HTMX))

    assert counts(db) == before
    db.session.expire_all()
    assert meeting.status == MeetingStatus.SCHEDULED  # nothing cancelled
    assert preview.fields["attachment"] == "cancel.ics"
    assert http.post(url, data=data, headers=HTMX).status_code == 200
    sent = only_message(db, f"meeting-{meeting.id}-cancel-%")
    assert_previewed(preview, sent, language)
    # Without a reason: the form again, its error on the field, nothing cancelled.
    other = weekly_meeting(world, db, in_days=4)
    refused = http.post(f"/meetings/{other.id}/cancel/preview", data={}, headers=HTMX)
    assert refused.status_code == 422 and "Say why it is cancelled." in refused.text
    assert refused.headers["HX-Retarget"] == f"#meeting-{other.id}-cancel-form"


# --- E3: the leader's note to the client ----------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_leaders_note_previewed_is_the_one_sent_E3(world, db, login_as, language):
    speaking(world, db, language)
    escalation = escalations.raise_escalation(
        world["client"], actor=world["acm"], trigger="asked_for_manager", said="x", channel="call"
    )
    escalations.advance_to_leader(escalation, actor=world["acm"], note="He asks for you.")
    db.session.commit()
    http = login_as(world["leader"])
    url = f"/escalations/{escalation.id}/decide"
    assert f'formaction="{url}/preview"' in http.get(f"/escalations/{escalation.id}").text
    data = {"decision": "resolved", "note": "We refunded the order; sorry for the wait."}
    before = counts(db)

    preview = preview_of(http.post(f"{url}/preview", data=data, headers=HTMX))

    assert counts(db) == before
    db.session.expire_all()
    assert escalation.is_open  # nothing decided
    assert "We refunded the order" in preview.fields["body"]
    assert http.post(url, data=data, headers=HTMX).status_code == 200
    assert_previewed(preview, only_message(db, f"escalation-{escalation.id}-decision"), language)


def test_a_note_left_blank_gives_the_decision_form_again_E3(world, db, login_as):
    escalation = escalations.raise_escalation(
        world["client"], actor=world["acm"], trigger="asked_for_manager", said="x", channel="call"
    )
    escalations.advance_to_leader(escalation, actor=world["acm"], note="He asks for you.")
    db.session.commit()
    http = login_as(world["leader"])
    before = counts(db)
    refused = http.post(
        f"/escalations/{escalation.id}/decide/preview",
        data={"decision": "resolved", "note": ""},
        headers=HTMX,
    )
    assert refused.status_code == 422 and refused.headers["HX-Retarget"] == "#escalation-actions"
    assert "Write the note to the client." in refused.text
    assert counts(db) == before
    # An ACM may not decide, so may not preview a decision either.
    assert (
        login_as(world["acm"])
        .post(f"/escalations/{escalation.id}/decide/preview", data={"decision": "resolved"})
        .status_code
        == 403
    )
