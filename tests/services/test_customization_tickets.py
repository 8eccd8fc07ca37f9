"""A customization request's tickets (C2, C3, C6) through real RQ jobs, against the portal's
own tickets and a fake Jira over HTTP: the approval ticket opened once, product's decision
and the ACM's answer mirrored to it once each, the customization ticket opened once the
invoice is paid by any path (naming the invoice and the approval ticket, linked to it, the
invoice's PDF attached once), failures retried and on the timeline, and the statuses
synced."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from kamportal import clock, queue
from kamportal.billing import billing_adapter
from kamportal.jobs import cron
from kamportal.jobs import customization_tickets as ticket_jobs
from kamportal.jobs import payments as payment_jobs
from kamportal.models import (
    CustomizationRequest,
    CustomizationStage,
    Invoice,
    Role,
    Ticket,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import (
    customization_tickets,
    customizations,
    delivery,
    invoices,
    payments,
)
from kamportal.services.invoices import Fee
from tests.billing.conftest import whmcs_server  # noqa: F401 (a fixture)
from tests.services import renewal_world
from tests.services.renewal_world import NOW

world = renewal_world.world


def open_request(world, db, run_jobs=None) -> CustomizationRequest:
    request = customizations.open_request(
        world["client"],
        actor=world["acm"],
        title="Loyalty points",
        end_result="Points at checkout",
        users="Returning customers",
        done_when="A test order paid with points",
        wanted_by=date(2027, 1, 31),
    )
    db.session.commit()
    if run_jobs is not None:
        run_jobs()
        db.session.expire_all()
    return request


def timeline_of(db, kind: TimelineKind) -> list[str]:
    return list(
        db.session.scalars(
            select(TimelineEvent.summary)
            .where(TimelineEvent.kind == kind.value)
            .order_by(TimelineEvent.id)
        )
    )


def invoiced_request(world, db, run_jobs) -> tuple[CustomizationRequest, Invoice]:
    """A request at the payment stage with its invoice (the earlier stages are others')."""
    request = open_request(world, db, run_jobs)
    invoice = invoices.issue_invoice(
        world["client"],
        actor=world["acm"],
        fees=[Fee("Loyalty points", "1500.00")],
        due_on=NOW.date() + timedelta(days=10),
    )
    request.stage = CustomizationStage.PAYMENT.value
    request.invoice_id = invoice.id
    db.session.commit()
    return request, invoice


# --- The approval ticket (C2) --------------------------------------------------------------------


def test_opening_a_request_opens_its_approval_ticket_once_C2(app, db, world, run_jobs):
    app.config["PUBLIC_URL"] = "https://kam.example"
    request = open_request(world, db, run_jobs)
    assert request.approval_ticket_key == "SAL-1" == request.reference
    assert request.approval_ticket_status == "To Do"
    ticket = db.session.scalar(select(Ticket))
    assert ticket.summary == "Nile Crafts: Loyalty points"
    assert "Points at checkout" in ticket.description
    assert "Wanted by: 31 Jan 2027" in ticket.description
    assert ticket.labels == [f"kam-customization-{request.id}-approval"]  # opened once by it
    assert f"https://kam.example/customizations/{request.id}" in ticket.description
    [opened] = timeline_of(db, TimelineKind.CUSTOMIZATION_TICKET_OPENED)
    assert opened.startswith("Approval ticket SAL-1 opened")
    # Run again (a retry, a lost answer): nothing more.
    assert customization_tickets.open_approval_ticket(request.id) == "already open"
    assert len(db.session.scalars(select(Ticket)).all()) == 1


def test_on_jira_a_failure_is_retried_and_visible_and_opens_one_issue(
    app, db, world, on_jira, queue_clock, run_jobs
):
    queue_clock(NOW)
    on_jira.misbehave("http500", path_end="/rest/api/3/issue")
    request = open_request(world, db, run_jobs)
    assert request.approval_ticket_key is None
    job_id = customization_tickets.job_id(request.id, "approval-ticket")
    assert queue.job_status(job_id, app=app).value == "scheduled"  # DEFAULT_RETRY
    [failed] = timeline_of(db, TimelineKind.CUSTOMIZATION_TICKET_FAILED)
    assert "could not open the approval ticket" in failed and "tried again" in failed

    queue_clock(queue.scheduled_at(job_id, app=app) + timedelta(seconds=1))
    run_jobs()
    db.session.expire_all()
    request = db.session.get(CustomizationRequest, request.id)
    assert request.approval_ticket_key == "SAL-1"
    assert request.approval_ticket_url == f"{on_jira.url}/browse/SAL-1"
    [issue] = on_jira.issues.values()
    assert issue.fields["project"] == {"key": "SAL"}
    assert issue.fields["summary"] == "Nile Crafts: Loyalty points"


def retry_when_due(app, queue_clock, run_jobs, job_id: str) -> None:
    queue_clock(queue.scheduled_at(job_id, app=app) + timedelta(seconds=1))
    run_jobs()


def test_on_jira_an_approval_ticket_whose_answer_was_lost_is_found_not_opened_again_C2(
    app, db, world, on_jira, queue_clock, run_jobs
):
    queue_clock(NOW)
    on_jira.misbehave("lost", path_end="/rest/api/3/issue")  # created, the answer never came
    request = open_request(world, db, run_jobs)
    assert request.approval_ticket_key is None
    assert list(on_jira.issues) == ["SAL-1"]
    label = customization_tickets.ticket_label(request.id, "approval")
    assert label == f"kam-customization-{request.id}-approval"
    assert on_jira.issues["SAL-1"].fields["labels"] == [label]
    [failed] = timeline_of(db, TimelineKind.CUSTOMIZATION_TICKET_FAILED)
    assert "trying again finds it" in failed

    retry_when_due(
        app, queue_clock, run_jobs, customization_tickets.job_id(request.id, "approval-ticket")
    )
    db.session.expire_all()

    request = db.session.get(CustomizationRequest, request.id)
    assert request.approval_ticket_key == "SAL-1"
    assert request.approval_ticket_url == f"{on_jira.url}/browse/SAL-1"
    assert list(on_jira.issues) == ["SAL-1"]
    creates = [r for r in on_jira.requests if r.method == "POST" and r.path.endswith("/issue")]
    assert len(creates) == 1


def test_on_jira_a_failed_search_fails_the_job_which_is_retried_and_opens_one_issue_C2(
    app, db, world, on_jira, queue_clock, run_jobs
):
    queue_clock(NOW)
    on_jira.misbehave("http500", path_end="/search/jql")
    request = open_request(world, db, run_jobs)
    job_id = customization_tickets.job_id(request.id, "approval-ticket")
    assert queue.job_status(job_id, app=app).value == "scheduled"
    assert on_jira.issues == {}  # nothing created while it could not be sure
    [failed] = timeline_of(db, TimelineKind.CUSTOMIZATION_TICKET_FAILED)
    assert "search for the issue labelled" in failed

    retry_when_due(app, queue_clock, run_jobs, job_id)
    db.session.expire_all()

    assert db.session.get(CustomizationRequest, request.id).approval_ticket_key == "SAL-1"
    assert list(on_jira.issues) == ["SAL-1"]


def test_the_decision_and_the_answer_to_a_hold_reach_the_approval_ticket_once_C3(
    app, db, world, make_user, on_jira, run_jobs
):
    product = make_user(Role.PRODUCT)
    request = open_request(world, db, run_jobs)
    customizations.decide(request, actor=product, decision="on_hold", reason="Which payment?")
    db.session.commit()
    run_jobs()
    issue = on_jira.issues["SAL-1"]
    assert issue.status == "In Progress"
    customizations.answer_hold(request, actor=world["acm"], answer="Cards only")
    db.session.commit()
    run_jobs()
    customizations.decide(request, actor=product, decision="accepted", reason="")
    db.session.commit()
    run_jobs()
    run_jobs()
    texts = [str(comment) for comment in issue.comments]
    assert len(texts) == 3
    assert "On hold" in texts[0] and "Which payment?" in texts[0]
    assert "Cards only" in texts[1]
    assert "Accepted" in texts[2]
    assert issue.status == "Done"


def test_the_acceptance_and_the_closure_reach_the_customization_ticket_once_C7(
    app, db, world, run_jobs
):
    request, _ = paid_request(world, db, run_jobs)
    request = db.session.get(CustomizationRequest, request.id)
    now = clock.now()
    request.stage = CustomizationStage.CLOSING.value
    request.accepted_at, request.accepted_via, request.accepted_name = now, "link", "Mona"
    db.session.commit()
    delivery.close_request(request, actor=world["acm"], base_url="https://kam.example")
    db.session.commit()
    run_jobs()
    run_jobs()
    [ticket] = db.session.scalars(select(Ticket).where(Ticket.project == "CUST")).all()
    db.session.refresh(ticket)
    assert ticket.status == "Done"
    closing = [c["text"] for c in ticket.comments if c["text"].startswith("Accepted")]
    assert closing == [
        f"Accepted by the client on {now:%d %b %Y}, by Mona through the emailed link; "
        f"closed on {now:%d %b %Y}."
    ]
    # The approval ticket is left as product's decision moved it.
    [approval] = db.session.scalars(select(Ticket).where(Ticket.project == "SAL")).all()
    assert not any(c["text"].startswith("Accepted") for c in approval.comments)


# --- The customization ticket, once paid (C6) ----------------------------------------------------


def pay_online(world, invoice):
    payments.record_online_payment(invoice, actor=world["finance"], reference="gw-1")


def pay_by_wire(world, invoice):
    wire = payments.report_wire_transfer(invoice, actor=world["acm"], amount="1500.00")
    payments.confirm_payment(
        wire, actor=world["finance"], received_amount="1500.00", received_on=NOW.date()
    )


def pay_at_premises(world, invoice):
    payments.record_premises_payment(
        invoice, actor=world["finance"], amount="1500.00", receipt_number="RC-9"
    )


@pytest.mark.parametrize("pay", [pay_online, pay_by_wire, pay_at_premises])
def test_paid_by_any_path_the_customization_ticket_opens_once_C6(app, db, world, run_jobs, pay):
    request, invoice = invoiced_request(world, db, run_jobs)
    pay(world, invoice)
    db.session.commit()
    run_jobs()
    run_jobs()
    db.session.expire_all()
    request = db.session.get(CustomizationRequest, request.id)
    assert request.stage == CustomizationStage.DELIVERY.value
    assert request.paid_at == clock.now()
    assert request.customization_ticket_key == "CUST-1"
    [ticket] = db.session.scalars(select(Ticket).where(Ticket.project == "CUST")).all()
    assert f"Invoice {invoice.number}: {invoice.money}" in ticket.description
    assert f"#invoice-{invoice.id}" in ticket.description
    assert "Approval ticket: SAL-1" in ticket.description
    assert {"Relates to SAL-1"} <= {c["text"] for c in ticket.comments}  # linked
    assert [a.filename for a in ticket.attachments] == [f"invoice-{invoice.number}.pdf"]
    assert len(timeline_of(db, TimelineKind.CUSTOMIZATION_PAID)) == 1
    assert customization_tickets.open_customization_ticket(request.id) == "already open"


def test_installments_open_the_ticket_when_the_last_is_paid_C6(app, db, world, run_jobs):
    request, invoice = invoiced_request(world, db, run_jobs)
    first, last = invoices.split_into_installments(
        invoice,
        actor=world["acm"],
        due_dates=[NOW.date() + timedelta(days=5), NOW.date() + timedelta(days=35)],
    )
    db.session.commit()
    payments.record_online_payment(first, actor=world["finance"])
    db.session.commit()
    run_jobs()
    assert db.session.get(CustomizationRequest, request.id).stage == "payment"
    payments.record_online_payment(last, actor=world["finance"])
    db.session.commit()
    run_jobs()
    db.session.expire_all()
    request = db.session.get(CustomizationRequest, request.id)
    assert (request.stage, request.customization_ticket_key) == ("delivery", "CUST-1")
    ticket = db.session.scalar(select(Ticket).where(Ticket.project == "CUST"))
    # The invoice the request was invoiced with, listing its installments.
    [attached] = ticket.attachments
    assert attached.filename == f"invoice-{invoice.number}.pdf"
    assert first.number in pdf_text(attached_bytes(app, attached))


def test_paid_online_as_the_billing_sync_finds_it_C6(
    app,
    db,
    world,
    run_jobs,
    whmcs_server,  # noqa: F811
):
    world["client"].billing_account_id = "7"
    db.session.commit()
    request, invoice = invoiced_request(world, db, run_jobs)
    billing_adapter(app).add_payment(
        invoice.external_id,
        amount=Decimal("1500.00"),
        transaction_id="paypal-1",
        gateway="paypal",
        paid_on=NOW.date(),
    )
    assert payment_jobs.sync_with_billing() == 1
    run_jobs()
    db.session.expire_all()
    request = db.session.get(CustomizationRequest, request.id)
    assert (request.stage, request.customization_ticket_key) == ("delivery", "CUST-1")


def test_on_jira_the_customization_ticket_names_the_invoice_and_links_the_approval_C6(
    app, db, world, on_jira, run_jobs
):
    _request, invoice = invoiced_request(world, db, run_jobs)
    pay_at_premises(world, invoice)
    db.session.commit()
    run_jobs()
    run_jobs()
    issue = on_jira.issues["CUST-1"]
    assert issue.fields["project"] == {"key": "CUST"}
    text = str(issue.fields["description"])
    assert f"Invoice {invoice.number}: {invoice.money}" in text
    assert f"SAL-1 ({on_jira.url}/browse/SAL-1)" in text
    assert on_jira.links == [("Relates", "CUST-1", "SAL-1")]
    creates = [r for r in on_jira.requests if r.method == "POST" and r.path.endswith("/issue")]
    assert len(creates) == 2  # the approval ticket and the customization ticket, once each


def test_on_jira_a_customization_ticket_whose_answer_was_lost_is_found_not_opened_again_C6(
    app, db, world, on_jira, queue_clock, run_jobs
):
    queue_clock(NOW)
    request, invoice = invoiced_request(world, db, run_jobs)
    on_jira.misbehave("lost_504", path_end="/rest/api/3/issue")
    pay_at_premises(world, invoice)
    db.session.commit()
    run_jobs()
    assert list(on_jira.issues) == ["SAL-1", "CUST-1"]
    label = f"kam-customization-{request.id}-delivery"
    assert on_jira.issues["CUST-1"].fields["labels"] == [label]
    db.session.expire_all()
    assert db.session.get(CustomizationRequest, request.id).customization_ticket_key is None

    job_id = customization_tickets.job_id(request.id, "customization-ticket")
    retry_when_due(app, queue_clock, run_jobs, job_id)
    run_jobs()  # the link
    db.session.expire_all()

    request = db.session.get(CustomizationRequest, request.id)
    assert request.customization_ticket_key == "CUST-1"
    assert list(on_jira.issues) == ["SAL-1", "CUST-1"]
    assert on_jira.links == [("Relates", "CUST-1", "SAL-1")]


# --- The sync ------------------------------------------------------------------------------------


def test_the_sync_picks_up_a_status_changed_in_jira(app, db, world, on_jira, run_jobs):
    assert ticket_jobs.sync_customization_tickets in {e["func"] for e in cron.entries()}
    request = open_request(world, db, run_jobs)
    on_jira.set_status("SAL-1", "In Progress")
    queue.enqueue(ticket_jobs.sync_customization_tickets, job_id="test-customization-sync")
    run_jobs()
    db.session.expire_all()
    request = db.session.get(CustomizationRequest, request.id)
    assert request.approval_ticket_status == "In Progress"
    assert request.tickets_synced_at == clock.now()
    assert timeline_of(db, TimelineKind.CUSTOMIZATION_TICKET_STATUS) == [
        "Approval ticket SAL-1: To Do → In Progress"
    ]
    # Nothing changed since: nothing more on the timeline.
    queue.enqueue(ticket_jobs.sync_customization_tickets, job_id="test-customization-sync")
    run_jobs()
    assert len(timeline_of(db, TimelineKind.CUSTOMIZATION_TICKET_STATUS)) == 1


# --- The invoice attached to the customization ticket (C6) ---------------------------------------


def pdf_text(data: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split()
    )


def paid_request(world, db, run_jobs) -> tuple[CustomizationRequest, Invoice]:
    """Invoiced, paid online, its customization ticket open (the jobs run)."""
    request, invoice = invoiced_request(world, db, run_jobs)
    pay_online(world, invoice)
    db.session.commit()
    run_jobs()
    run_jobs()
    db.session.expire_all()
    return request, invoice


def attached_bytes(app, attachment) -> bytes:
    return (Path(app.config["ATTACHMENTS_DIR"]) / attachment.stored_name).read_bytes()


def test_the_customization_ticket_gets_the_invoice_pdf_once_C6(app, db, world, run_jobs):
    request, invoice = paid_request(world, db, run_jobs)
    ticket = db.session.scalar(select(Ticket).where(Ticket.project == "CUST"))
    name = f"invoice-{invoice.number}.pdf"
    assert f"Attached: {name}" in ticket.description
    [attached] = ticket.attachments
    assert (attached.filename, attached.content_type) == (name, "application/pdf")
    text = pdf_text(attached_bytes(app, attached))
    assert f"Invoice {invoice.number}" in text and "Loyalty points" in text
    assert "Total EGP1,500.00" in text
    request = db.session.get(CustomizationRequest, request.id)
    assert request.invoice_attached_at == clock.now()
    assert timeline_of(db, TimelineKind.CUSTOMIZATION_INVOICE_ATTACHED) == [
        f"Invoice {invoice.number} attached to the customization ticket CUST-1 (C6)"
    ]
    # Run again (a retry, a lost answer): nothing more.
    assert customization_tickets.attach_invoice(request.id) == "already attached"
    request.invoice_attached_at = None
    assert customization_tickets.attach_invoice(request.id) == "attached"
    db.session.commit()
    assert len(db.session.scalar(select(Ticket).where(Ticket.project == "CUST")).attachments) == 1


@pytest.mark.parametrize("trouble", ["lost", "lost_504", "http500"])
def test_on_jira_a_failed_attachment_is_retried_and_the_invoice_attached_once_C6(
    app, db, world, on_jira, queue_clock, run_jobs, trouble
):
    """Lost: Jira attached it but the answer never came; http500: Jira refused it."""
    queue_clock(NOW)
    request, invoice = invoiced_request(world, db, run_jobs)
    on_jira.misbehave(trouble, path_end="/attachments")
    pay_at_premises(world, invoice)
    db.session.commit()
    run_jobs()
    run_jobs()
    name = f"invoice-{invoice.number}.pdf"
    lost = trouble != "http500"
    assert [a.filename for a in on_jira.attachments("CUST-1")] == ([name] if lost else [])
    db.session.expire_all()
    assert db.session.get(CustomizationRequest, request.id).invoice_attached_at is None
    [failed] = timeline_of(db, TimelineKind.CUSTOMIZATION_TICKET_FAILED)
    assert "could not attach the invoice to the customization ticket" in failed
    assert "tried again" in failed

    job_id = customization_tickets.job_id(request.id, "invoice-pdf")
    assert queue.job_status(job_id, app=app).value == "scheduled"  # DEFAULT_RETRY
    retry_when_due(app, queue_clock, run_jobs, job_id)
    db.session.expire_all()

    [attached] = on_jira.attachments("CUST-1")
    assert attached.content_type == "application/pdf"
    assert f"Invoice {invoice.number}" in pdf_text(attached.data)
    uploads = [r for r in on_jira.requests if r.path.endswith("/attachments")]
    assert len(uploads) == (1 if lost else 2)
    assert db.session.get(CustomizationRequest, request.id).invoice_attached_at is not None
    assert len(timeline_of(db, TimelineKind.CUSTOMIZATION_INVOICE_ATTACHED)) == 1
    assert on_jira.links == [("Relates", "CUST-1", "SAL-1")]
