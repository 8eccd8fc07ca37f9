"""Finance's queue (R5-R7, R10).

Finance lands on what waits for them: wire transfers to confirm (flagged ones first),
payments at the premises to record, payment issues to settle, installments due within a
week or overdue. Each row acts in place: done, the row is swapped (HTMX) or the page comes
back (303); refused, the row again with its errors, status 422, nothing saved.

Access: finance and admins (the services check the same roles again).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from flask import Response, current_app, flash, redirect, request, url_for
from flask_wtf import FlaskForm

from kamportal import clock
from kamportal.blueprints.exports import csv_download
from kamportal.blueprints.finance import bp
from kamportal.blueprints.finance.forms import (
    ConfirmWireForm,
    PremisesPaymentForm,
    RefundDecisionForm,
    RejectWireForm,
    ResolveIssueForm,
)
from kamportal.blueprints.forms import Form, viewer_today
from kamportal.blueprints.web import (
    acting_user,
    allow,
    form_invalid,
    in_place,
    is_htmx,
    prefixed,
    render,
    submit,
)
from kamportal.extensions import db
from kamportal.models import (
    Complaint,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    PaymentIssue,
)
from kamportal.services import churn, invoices, list_exports, payments, validation
from kamportal.services.access import FINANCE_ROLES

# A payment issue resolved moves its invoice into (or out of) the premises list, which
# listens for this event and refreshes.
CHANNEL_CHANGED = "payment-channel-changed"

T = TypeVar("T")


# --- Finance's queue (R5, R6, R7, R10) -------------------------------------------------------


def _premises_form(invoice: Invoice, due: Decimal) -> PremisesPaymentForm:
    # Usually the client pays what is due: the amount is filled in, finance corrects it.
    form = PremisesPaymentForm(formdata=None, amount=str(due) if due > 0 else "")
    return prefixed(form, f"premises-{invoice.id}")


def _issue_form(issue: PaymentIssue) -> ResolveIssueForm:
    return prefixed(ResolveIssueForm(formdata=None), f"issue-{issue.id}")


def _refund_form(complaint: Complaint) -> RefundDecisionForm:
    return prefixed(RefundDecisionForm(formdata=None), f"refund-{complaint.id}")


# Each section of the queue: its page's query argument; its id names it in a pager's
# swap (HTMX), which gets that section alone.
PAGE_ARGS = {section: f"{section}_page" for section in payments.FINANCE_SECTIONS}


def _pages_asked() -> dict[str, int]:
    return {
        section: validation.query_number(request.args.get(arg), default=1) or 1
        for section, arg in PAGE_ARGS.items()
    }


def _queue_context(
    opened: tuple[str, Any, FlaskForm] | None = None, *, alone: bool = False
) -> dict[str, Any]:
    """A page of each section of finance's queue (`?wires_page=`, `?premises_page=`...),
    each row with a link to its form (issue 17: a section swapped stays under 10 KB); a
    pager's swap (HTMX, its section's id as target) gets its section alone. `opened` is
    (section, record, form): a form sent without JavaScript and refused, its row with
    its errors on top of its section's page, even if the record left the queue
    meanwhile; or, `alone`, a form opened without JavaScript, its section with that row
    only."""
    asked = request.headers.get("HX-Target") if is_htmx() else None
    sections = [asked] if asked in PAGE_ARGS else list(PAGE_ARGS)
    if alone and opened is not None:
        sections = [opened[0]]
    at, now = _pages_asked(), clock.now()
    found = payments.finance_queue_pages(
        now=now, pages=at, per_page=current_app.config["FINANCE_PER_PAGE"], sections=sections
    )
    rows = {section: list(page.items) for section, page in found.items()}
    if opened is not None:
        section, record, _ = opened
        listed = [] if alone else rows.setdefault(section, [])
        if record not in listed:
            listed.insert(0, record)
        rows[section] = listed
    wires, premises = rows.get("wires", []), rows.get("premises", [])
    installments = rows.get("installments", [])
    due = invoices.amounts_due(premises + installments + [w.invoice for w in wires])
    forms: dict[str, dict[int, FlaskForm]] = {section: {} for section in PAGE_ARGS}
    if opened is not None:
        section, record, form = opened
        forms[section][record.id] = form
    return {
        "today": viewer_today(),
        "sections": sections,
        "pages": found,
        # The address of each section's page, kept by the other sections' pagers.
        "kept": {PAGE_ARGS[s]: n if n > 1 else None for s, n in at.items()},
        "wires": wires,
        "ages": {w.id: payments.days_waiting(w, now=now) for w in wires},
        "premises": premises,
        "issues": rows.get("issues", []),
        "installments": installments,
        "overdue": {i.id: invoices.days_overdue(i, at=now) > 0 for i in installments},
        "due": due,
        "premises_forms": forms["premises"],
        "issue_forms": forms["issues"],
        "refunds": rows.get("refunds", []),
        "refund_forms": forms["refunds"],
    }


@bp.route("/finance/")
@allow(*FINANCE_ROLES)
def queue():
    """Finance's landing page: wire transfers to confirm (R7), payments at the premises
    to record (R6), payment issues (R5), refunds requested, installments due within a
    week or overdue (R10); a page of each."""
    context = _queue_context()
    sections = context["sections"]
    partial = f"finance/_{sections[0]}.html" if len(sections) == 1 else None
    return render("finance/queue.html", partial, **context)


@bp.route("/finance/queue.csv")
@allow(*FINANCE_ROLES)
def export_queue():
    """Finance's queue as CSV, section after section."""
    return csv_download(list_exports.finance_queue(now=clock.now()))


def _row_action(
    form: FlaskForm,
    save: Callable[[], T],
    *,
    template: str,
    message: Callable[[T], str],
    done_row: Callable[[T], dict[str, Any]],
    refused_row: Callable[[], dict[str, Any]],
    refused_page: Callable[[], Response],
    event: str | None = None,
) -> Response:
    """The round trip of a form in one row of the queue (web.submit: one service call,
    commit, or the refusal on the form and a rollback). Done: `message` flashed, and the
    row swapped in place with `done_row` (HTMX, telling the page of `event`) or the queue
    again (303). Refused (bad input, done meanwhile, the billing system said no): the row
    with `refused_row` and the form's errors, 422 (HTMX), or `refused_page`."""
    saved = submit(form, save)
    if saved is None:
        if is_htmx():
            return form_invalid(template, **refused_row())
        return refused_page()
    flash(message(saved.result), "success")
    return in_place(
        template,
        location=url_for("finance.queue"),
        events=(event,) if event else (),
        **done_row(saved.result),
    )


def _queue_refused(section: str, record: Any, form: FlaskForm) -> Response:
    """The queue again, `record`'s row with `form`'s errors (a refusal without HTMX)."""
    return form_invalid("finance/queue.html", **_queue_context((section, record, form)))


def _open_form(
    section: str, record: Any, form: FlaskForm, *, template: str, row: dict[str, Any]
) -> Response:
    """Issue 17: a row's form, opened on demand rather than sent in every row: the row
    (`template` with `row`) with it open (HTMX), or, without JavaScript, the queue with
    that row alone in its section, and its form."""
    if is_htmx():
        return render(template, **row)
    return render("finance/queue.html", **_queue_context((section, record, form), alone=True))


def _settled(invoice: Invoice) -> str:
    if invoice.invoice_status is InvoiceStatus.PAID:
        return f"invoice {invoice.label} is paid."
    due = Money(invoices.amounts_due([invoice])[invoice.id], invoice.currency)
    return f"invoice {invoice.label} still owes {due}."


def _confirm_form(payment: Payment, owed: Decimal) -> ConfirmWireForm:
    # Usually what arrived is what was reported: filled in, finance corrects it.
    received = min(payment.reported_money.amount, owed)
    form = ConfirmWireForm(
        formdata=None,
        received_amount=str(received) if received > 0 else "",
        received_on=viewer_today(),
    )
    return prefixed(form, f"wire-{payment.id}")


def _reject_form(payment: Payment) -> RejectWireForm:
    return prefixed(RejectWireForm(formdata=None), f"wire-reject-{payment.id}")


def _wire_context(payment: Payment, **forms: Any) -> dict[str, Any]:
    """One wire transfer's row: what it reported beside what its invoice owes and how long
    it waits, with the step that confirms it (`confirm_form`) or the rejection
    (`reject_form`) open or not."""
    return {
        "payment": payment,
        "due": invoices.amounts_due([payment.invoice]),
        "ages": {payment.id: payments.days_waiting(payment, now=clock.now())},
        "confirm_form": forms.get("confirm_form"),
        "reject_form": forms.get("reject_form"),
    }


def _wire_action(
    payment: Payment, save: Callable[[], Any], message: Callable[[], str], **sent: FlaskForm
) -> Response:
    """Confirming or rejecting a wire with the form `sent` (`confirm_form` or
    `reject_form`): refused, the row (HTMX) or the confirmation page with its errors."""
    [form] = sent.values()
    return _row_action(
        form,
        save,
        template="finance/_wire_row.html",
        message=lambda _: message(),
        done_row=lambda _: _wire_context(payment),
        refused_row=lambda: _wire_context(payment, **sent),
        refused_page=lambda: form_invalid(
            "finance/wire_confirm.html", **_wire_context(payment, **sent)
        ),
    )


def _confirm_step(payment: Payment) -> Response:
    """The confirmation step opened in the wire's row (HTMX) or as a page, the rejection
    beside it (issue 17: the queue's rows hold neither form)."""
    owed = invoices.amounts_due([payment.invoice])[payment.invoice_id]
    return render(
        "finance/wire_confirm.html",
        "finance/_wire_row.html",
        **_wire_context(
            payment,
            confirm_form=_confirm_form(payment, owed),
            reject_form=_reject_form(payment),
        ),
    )


@bp.route("/finance/payments/<int:payment_id>")
@allow(*FINANCE_ROLES)
def wire_row(payment_id: int):
    """A wire transfer's row as the queue shows it (the confirmation step cancelled, on
    whichever page of the queue the row is); without HTMX, the queue."""
    payment = db.get_or_404(Payment, payment_id)
    if not is_htmx():
        return redirect(url_for("finance.queue"), 303)
    return render("finance/_wire_row.html", **_wire_context(payment))


@bp.route("/finance/payments/<int:payment_id>/confirm", methods=["GET", "POST"])
@allow(*FINANCE_ROLES)
def confirm_payment(payment_id: int):
    """R7: finance saw the wire transfer arrive. A step that shows what was reported beside
    what the invoice owes, and records the amount and day received; the invoice is paid
    once covered."""
    payment = db.get_or_404(Payment, payment_id)
    if request.method == "GET":
        return _confirm_step(payment)
    form = prefixed(ConfirmWireForm(), f"wire-{payment.id}")
    return _wire_action(
        payment,
        lambda: payments.confirm_payment(
            payment,
            actor=acting_user(),
            received_amount=form.received_amount.data,
            received_on=form.received_on.data,
        ),
        lambda: f"Wire transfer of {payment.money} confirmed; {_settled(payment.invoice)}",
        confirm_form=form,
    )


@bp.route("/finance/payments/<int:payment_id>/reject", methods=["POST"])
@allow(*FINANCE_ROLES)
def reject_payment(payment_id: int):
    """R7: no such transfer arrived: the report is rejected with the reason, and the
    account manager is told."""
    payment = db.get_or_404(Payment, payment_id)
    form = prefixed(RejectWireForm(), f"wire-reject-{payment.id}")
    return _wire_action(
        payment,
        lambda: payments.reject_wire_report(payment, actor=acting_user(), reason=form.reason.data),
        lambda: (
            f"Wire transfer of {payment.money} on invoice {payment.invoice.label} "
            "rejected; the account manager is told."
        ),
        reject_form=form,
    )


def _installment_context(invoice: Invoice, form: FlaskForm | None = None) -> dict[str, Any]:
    return {
        "invoice": invoice,
        "due": invoices.amounts_due([invoice]),
        "overdue": {invoice.id: invoices.days_overdue(invoice) > 0},
        "form": form,
    }


@bp.route("/finance/invoices/<int:invoice_id>/paid-online", methods=["POST"])
@allow(*FINANCE_ROLES)
def mark_paid_online(invoice_id: int):
    """R10: finance saw an installment paid online; what is due is recorded (and added in
    WHMCS for its invoices). Refused without HTMX (paid meanwhile): the queue again, the
    refusal flashed."""
    invoice = db.get_or_404(Invoice, invoice_id)
    form = Form()
    return _row_action(
        form,
        lambda: payments.record_online_payment(invoice, actor=acting_user()),
        template="finance/_installment_row.html",
        message=lambda _: f"Invoice {invoice.label} marked paid online.",
        done_row=lambda _: _installment_context(invoice),
        refused_row=lambda: _installment_context(invoice, form),
        refused_page=lambda: _flash_refusal(form),
    )


def _flash_refusal(form: FlaskForm) -> Response:
    for error in form.form_errors:
        flash(error, "error")
    return redirect(url_for("finance.queue"), 303)


def _premises_row(
    invoice: Invoice, *, form: FlaskForm | None = None, recorded: Payment | None = None
) -> dict[str, Any]:
    """A premises row: with the form refused, or a fresh form under the payment
    `recorded`."""
    due = invoices.amounts_due([invoice])
    form = form or _premises_form(invoice, due[invoice.id])
    return {"invoice": invoice, "due": due, "form": form, "recorded": recorded}


@bp.route("/finance/invoices/<int:invoice_id>/premises", methods=["GET", "POST"])
@allow(*FINANCE_ROLES)
def record_premises_payment(invoice_id: int):
    """R6: the client paid at the premises; finance records the amount and the receipt.
    GET: the form, opened in the row, the amount due filled in."""
    invoice = db.get_or_404(Invoice, invoice_id)
    if request.method == "GET":
        row = _premises_row(invoice)
        return _open_form(
            "premises", invoice, row["form"], template="finance/_premises_row.html", row=row
        )
    form = prefixed(PremisesPaymentForm(), f"premises-{invoice.id}")
    return _row_action(
        form,
        lambda: payments.record_premises_payment(
            invoice,
            actor=acting_user(),
            amount=form.amount.data,
            receipt_number=form.receipt_number.data,
        ),
        template="finance/_premises_row.html",
        message=lambda payment: (
            f"Recorded {payment.money} at the premises, receipt "
            f"{payment.receipt_number}; {_settled(invoice)}"
        ),
        done_row=lambda payment: _premises_row(invoice, recorded=payment),
        refused_row=lambda: _premises_row(invoice, form=form),
        refused_page=lambda: _queue_refused("premises", invoice, form),
    )


@bp.route("/finance/issues/<int:issue_id>/resolve", methods=["GET", "POST"])
@allow(*FINANCE_ROLES)
def resolve_payment_issue(issue_id: int):
    """R5: finance agreed a new payment channel with the client. GET: the form, opened in
    the row."""
    issue = db.get_or_404(PaymentIssue, issue_id)
    if request.method == "GET":
        blank = _issue_form(issue)
        row = {"issue": issue, "form": blank}
        return _open_form("issues", issue, blank, template="finance/_issue_row.html", row=row)
    form = prefixed(ResolveIssueForm(), f"issue-{issue.id}")
    return _row_action(
        form,
        lambda: payments.resolve_payment_issue(
            issue, actor=acting_user(), new_method=form.new_method.data, note=form.note.data
        ),
        template="finance/_issue_row.html",
        message=lambda _: (
            f"Payment issue on invoice {issue.invoice.label} resolved: "
            f"{issue.invoice.payment_method.label}."
        ),
        done_row=lambda _: {"issue": issue, "form": form},
        refused_row=lambda: {"issue": issue, "form": form},
        refused_page=lambda: _queue_refused("issues", issue, form),
        event=CHANNEL_CHANGED,
    )


@bp.route("/finance/refunds/<int:complaint_id>", methods=["GET", "POST"])
@allow(*FINANCE_ROLES)
def decide_refund(complaint_id: int):
    """A refund request from complaint handling: finance marks it refunded or declined.
    GET: the form, opened in the row."""
    complaint = db.get_or_404(Complaint, complaint_id)
    if request.method == "GET":
        blank = _refund_form(complaint)
        row = {"complaint": complaint, "form": blank}
        return _open_form("refunds", complaint, blank, template="finance/_refund_row.html", row=row)
    form = prefixed(RefundDecisionForm(), f"refund-{complaint.id}")
    return _row_action(
        form,
        lambda: churn.decide_refund(
            complaint, actor=acting_user(), decision=form.decision.data, note=form.note.data
        ),
        template="finance/_refund_row.html",
        message=lambda _: f"Refund #{complaint.id}: {complaint.refund_status}.",
        done_row=lambda _: {"complaint": complaint, "form": form},
        refused_row=lambda: {"complaint": complaint, "form": form},
        refused_page=lambda: _queue_refused("refunds", complaint, form),
    )
