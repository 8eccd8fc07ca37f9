"""Finance's queue (R5-R7, R10).

Finance lands on what waits for them: wire transfers to confirm (flagged ones first),
payments at the premises to record, payment issues to settle, installments due within a
week or overdue. Each row acts in place: done, the row is swapped (HTMX) or the page comes
back (303); refused, the row again with its errors, status 422, nothing saved.

Access: finance and admins (the services check the same roles again).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response, flash, redirect, request, url_for
from flask_wtf import FlaskForm

from kamportal import clock
from kamportal.blueprints.finance import bp
from kamportal.blueprints.finance.forms import (
    ConfirmWireForm,
    PremisesPaymentForm,
    RejectWireForm,
    ResolveIssueForm,
)
from kamportal.blueprints.web import (
    acting_user,
    allow,
    form_invalid,
    fragment,
    is_htmx,
    prefixed,
    render,
    submit,
    with_trigger,
)
from kamportal.errors import DomainError
from kamportal.extensions import db
from kamportal.models import (
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    PaymentIssue,
)
from kamportal.services import invoices, payments
from kamportal.services.access import FINANCE_ROLES

# A payment issue resolved moves its invoice into (or out of) the premises list, which
# listens for this event and refreshes.
CHANNEL_CHANGED = "payment-channel-changed"


# --- Finance's queue (R5, R6, R7, R10) -------------------------------------------------------


def _premises_form(invoice: Invoice, due: Decimal) -> PremisesPaymentForm:
    # Usually the client pays what is due: the amount is filled in, finance corrects it.
    form = PremisesPaymentForm(formdata=None, amount=str(due) if due > 0 else "")
    return prefixed(form, f"premises-{invoice.id}")


def _issue_form(issue: PaymentIssue) -> ResolveIssueForm:
    return prefixed(ResolveIssueForm(formdata=None), f"issue-{issue.id}")


def _queue_context(refused: tuple[str, Any, FlaskForm] | None = None) -> dict[str, Any]:
    """Finance's queue with a form in each row. `refused` is (section, record, form) of
    a form sent without JavaScript and refused: its row shows that form with its errors,
    even if the record left the queue meanwhile."""
    now = clock.now()
    queue = payments.finance_queue(today=now.date())
    premises, issues = list(queue.premises), list(queue.issues)
    if refused is not None:
        section, record, _ = refused
        rows = premises if section == "premises" else issues
        if record not in rows:
            rows.insert(0, record)
    due = invoices.amounts_due(premises + queue.installments + [w.invoice for w in queue.wires])
    forms = {
        "premises": {i.id: _premises_form(i, due[i.id]) for i in premises},
        "issue": {i.id: _issue_form(i) for i in issues},
    }
    if refused is not None:
        section, record, form = refused
        forms[section][record.id] = form
    return {
        "now": now,
        "today": now.date(),
        "wires": queue.wires,
        "premises": premises,
        "issues": issues,
        "installments": queue.installments,
        "due": due,
        "reject_forms": {w.id: _reject_form(w) for w in queue.wires},
        "premises_forms": forms["premises"],
        "issue_forms": forms["issue"],
    }


def _row_context(**context: Any) -> dict[str, Any]:
    now = clock.now()
    return {"now": now, "today": now.date(), "refused": None, "recorded": None, **context}


@bp.route("/finance/")
@allow(*FINANCE_ROLES)
def queue():
    """Finance's landing page: wire transfers to confirm (R7), payments at the premises
    to record (R6), payment issues (R5), installments due within a week or overdue
    (R10)."""
    return render("finance/queue.html", **_queue_context())


def _one_click(
    act: Callable[[], Any],
    *,
    message: Callable[[], str],
    template: str,
    row: Callable[[], dict[str, Any]],
) -> Response:
    """A one-click action of the queue: done, its row swapped in place (or the queue
    again, 303); refused (done meanwhile, or the billing system said no), the row with
    the refusal, 422, nothing saved. `row` gives the row's context once it is over."""
    try:
        act()
    except DomainError as error:
        db.session.rollback()
        refused = error.message
    else:
        db.session.commit()
        refused = None
        flash(message(), "success")
    if not is_htmx():
        if refused:
            flash(refused, "error")
        return redirect(url_for("finance.queue"), 303)
    return fragment(
        template, status=422 if refused else 200, **_row_context(refused=refused, **row())
    )


def _settled(invoice: Invoice) -> str:
    if invoice.invoice_status is InvoiceStatus.PAID:
        return f"invoice {invoice.label} is paid."
    due = Money(invoices.amounts_due([invoice])[invoice.id], invoice.currency)
    return f"invoice {invoice.label} still owes {due}."


def _confirm_form(payment: Payment, owed: Decimal) -> ConfirmWireForm:
    # Usually what arrived is what was reported: filled in, finance corrects it.
    received = min(payment.reported_money.amount, owed)
    form = ConfirmWireForm(
        formdata=None, received_amount=str(received) if received > 0 else "", received_on=_today()
    )
    return prefixed(form, f"wire-{payment.id}")


def _reject_form(payment: Payment) -> RejectWireForm:
    return prefixed(RejectWireForm(formdata=None), f"wire-reject-{payment.id}")


def _today() -> date:
    """Finance's today, in their zone."""
    return clock.in_zone(clock.now(), acting_user().timezone).date()


def _wire_context(payment: Payment, **forms: Any) -> dict[str, Any]:
    """One wire transfer's row: what it reported beside what its invoice owes, with the
    step that confirms it (`confirm_form`) open or not, and the rejection form."""
    return _row_context(
        payment=payment,
        due=invoices.amounts_due([payment.invoice]),
        confirm_form=forms.get("confirm_form"),
        reject_form=forms.get("reject_form") or _reject_form(payment),
    )


def _wire_refused(payment: Payment, **forms: Any) -> Response:
    """A refused confirmation or rejection: the row with the form's errors (HTMX), or the
    confirmation page; 422 either way, nothing saved."""
    template = "finance/_wire_row.html" if is_htmx() else "finance/wire_confirm.html"
    return form_invalid(template, **_wire_context(payment, **forms))


def _wire_done(payment: Payment, message: str) -> Response:
    flash(message, "success")
    if not is_htmx():
        return redirect(url_for("finance.queue"), 303)
    return fragment("finance/_wire_row.html", **_wire_context(payment))


@bp.route("/finance/payments/<int:payment_id>/confirm", methods=["GET", "POST"])
@allow(*FINANCE_ROLES)
def confirm_payment(payment_id: int):
    """R7: finance saw the wire transfer arrive. A step that shows what was reported beside
    what the invoice owes, and records the amount and day received; the invoice is paid
    once covered."""
    payment = db.get_or_404(Payment, payment_id)
    invoice = payment.invoice
    if request.method == "GET":
        form = _confirm_form(payment, invoices.amounts_due([invoice])[invoice.id])
        return render(
            "finance/wire_confirm.html",
            "finance/_wire_row.html",
            **_wire_context(payment, confirm_form=form),
        )
    form = prefixed(ConfirmWireForm(), f"wire-{payment.id}")
    confirmed = submit(
        form,
        lambda: payments.confirm_payment(
            payment,
            actor=acting_user(),
            received_amount=form.received_amount.data,
            received_on=form.received_on.data,
        ),
    )
    if confirmed is None:
        return _wire_refused(payment, confirm_form=form)
    return _wire_done(payment, f"Wire transfer of {payment.money} confirmed; {_settled(invoice)}")


@bp.route("/finance/payments/<int:payment_id>/reject", methods=["POST"])
@allow(*FINANCE_ROLES)
def reject_payment(payment_id: int):
    """R7: no such transfer arrived: the report is rejected with the reason, and the
    account manager is told."""
    payment = db.get_or_404(Payment, payment_id)
    form = prefixed(RejectWireForm(), f"wire-reject-{payment.id}")
    rejected = submit(
        form,
        lambda: payments.reject_wire_report(payment, actor=acting_user(), reason=form.reason.data),
    )
    if rejected is None:
        return _wire_refused(payment, reject_form=form)
    return _wire_done(
        payment,
        f"Wire transfer of {payment.money} on invoice {payment.invoice.label} rejected; "
        "the account manager is told.",
    )


@bp.route("/finance/invoices/<int:invoice_id>/paid-online", methods=["POST"])
@allow(*FINANCE_ROLES)
def mark_paid_online(invoice_id: int):
    """R10: finance saw an installment paid online; what is due is recorded (and added in
    WHMCS for its invoices)."""
    invoice = db.get_or_404(Invoice, invoice_id)
    return _one_click(
        lambda: payments.record_online_payment(invoice, actor=acting_user()),
        message=lambda: f"Invoice {invoice.label} marked paid online.",
        template="finance/_installment_row.html",
        row=lambda: {"invoice": invoice, "due": invoices.amounts_due([invoice])},
    )


def _refused_row(
    section: str, record: Any, form: FlaskForm, template: str, **context: Any
) -> Response:
    """Bad input, or the service's refusal: the row with the form's errors (HTMX) or the
    queue with that row's errors; 422 either way."""
    if is_htmx():
        return form_invalid(template, **_row_context(form=form, **context))
    return form_invalid("finance/queue.html", **_queue_context(refused=(section, record, form)))


@bp.route("/finance/invoices/<int:invoice_id>/premises", methods=["POST"])
@allow(*FINANCE_ROLES)
def record_premises_payment(invoice_id: int):
    """R6: the client paid at the premises; finance records the amount and the receipt."""
    invoice = db.get_or_404(Invoice, invoice_id)
    form = prefixed(PremisesPaymentForm(), f"premises-{invoice.id}")
    recorded = submit(
        form,
        lambda: payments.record_premises_payment(
            invoice,
            actor=acting_user(),
            amount=form.amount.data,
            receipt_number=form.receipt_number.data,
        ),
    )
    if recorded is not None:
        payment = recorded.result
        flash(
            f"Recorded {payment.money} at the premises, receipt {payment.receipt_number}; "
            + _settled(invoice),
            "success",
        )
        if not is_htmx():
            return redirect(url_for("finance.queue"), 303)
        due = invoices.amounts_due([invoice])
        return fragment(
            "finance/_premises_row.html",
            **_row_context(
                invoice=invoice,
                due=due,
                form=_premises_form(invoice, due[invoice.id]),
                recorded=payment,
            ),
        )
    return _refused_row(
        "premises",
        invoice,
        form,
        "finance/_premises_row.html",
        invoice=invoice,
        due=invoices.amounts_due([invoice]),
    )


@bp.route("/finance/issues/<int:issue_id>/resolve", methods=["POST"])
@allow(*FINANCE_ROLES)
def resolve_payment_issue(issue_id: int):
    """R5: finance agreed a new payment channel with the client."""
    issue = db.get_or_404(PaymentIssue, issue_id)
    form = prefixed(ResolveIssueForm(), f"issue-{issue.id}")
    resolved = submit(
        form,
        lambda: payments.resolve_payment_issue(
            issue, actor=acting_user(), new_method=form.new_method.data, note=form.note.data
        ),
    )
    if resolved is not None:
        flash(
            f"Payment issue on invoice {issue.invoice.label} resolved: "
            f"{issue.invoice.payment_method.label}.",
            "success",
        )
        if not is_htmx():
            return redirect(url_for("finance.queue"), 303)
        row = fragment("finance/_issue_row.html", **_row_context(issue=issue, form=form))
        return with_trigger(row, CHANNEL_CHANGED)
    return _refused_row("issue", issue, form, "finance/_issue_row.html", issue=issue)
