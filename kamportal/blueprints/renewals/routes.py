"""Renewals and invoices on the ACM's side (R1-R5, R7-R10): the client page's renewal
panel and its actions, the list of renewals and unpaid invoices, and the renewal forecast.

Each action's form opens in the panel (GET) and is sent from there (POST); once done the
panel is swapped again and the timeline told. Object access: whoever may see the client
(404 otherwise); the services refuse the rest (finance's and commercial's decisions). An
invoice's PDF: whoever may see the client's invoices (finance sees every one). The
forecast: everyone who follows renewals, narrowed by the service to the clients each may
see.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Response, abort, current_app, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from kamportal import clock
from kamportal.blueprints.client_tabs import client_page
from kamportal.blueprints.email_preview import INVOICE_NUMBER_NOTE, preview_form, preview_page
from kamportal.blueprints.exports import csv_download
from kamportal.blueprints.forms import viewer_today
from kamportal.blueprints.options import options
from kamportal.blueprints.renewals import bp
from kamportal.blueprints.renewals.forms import (
    ConfirmForm,
    InstallmentsForm,
    InvoiceForm,
    LostForm,
    NoticeForm,
    PaymentIssueForm,
    WireForm,
)
from kamportal.blueprints.web import (
    acting_user,
    allow,
    client_or_404,
    is_htmx,
    of_visible_client,
    panel_changed,
    panel_response,
    prefixed,
    render,
    save_form,
)
from kamportal.extensions import db
from kamportal.messaging.outbox import Draft
from kamportal.models import Client, Invoice, Quotation, Renewal, Role
from kamportal.services import invoices, list_exports, payments, renewals, validation
from kamportal.services.access import CLIENT_REGISTRY_ROLES, can_see_invoices_of
from kamportal.services.invoice_pdf import CONTENT_TYPE as PDF_TYPE
from kamportal.services.invoice_pdf import invoice_filename, invoice_pdf
from kamportal.services.invoices import Fee

T = TypeVar("T")

FORECAST_ROLES = (Role.ACM, Role.LEADER, Role.FINANCE, Role.ADMIN)
INVOICE_READERS = (*CLIENT_REGISTRY_ROLES, Role.FINANCE)
TIMELINE_CHANGED = "timeline-changed"
RENEWAL_CHANGED = "renewal-changed"
WIRE_HINT = (
    "Finance confirms it when it arrives; it is flagged if not within 4 days (R7). "
    "The client is told by email that confirmation can take up to 4 days."
)
WIRE_REPORTED = (
    "Wire transfer reported to finance; the client is told it can take up to 4 days to confirm."
)


@bp.app_template_global()
def client_renewal_panel(client: Client) -> invoices.ClientBilling:
    """The client page's renewal panel (R1-R10)."""
    return invoices.client_billing(client)


@bp.route("/clients/<int:client_id>/renewal-panel")
@allow(*CLIENT_REGISTRY_ROLES)
def client_panel(client_id: int):
    """The panel alone, refreshed in place; a plain request goes to the client page."""
    return panel_response(client_or_404(client_id), "renewals/_client_panel.html", "renewal-panel")


def _panel_action(
    client: Client,
    form: FlaskForm,
    *,
    name: str,
    title: str,
    submit: str,
    save: Callable[[], Any],
    message: str,
    hint: str = "",
    **previewed: str,
) -> Response:
    """An action of the renewal panel: its form opens in the panel's slot; done, the panel
    again (HTMX) or the client page, with `message`; refused, the form with its errors.
    `previewed`: the form's own address and its preview's, for an action that emails the
    client (`_panel_preview`)."""

    return save_form(
        prefixed(form, name),
        save,
        template="renewals/form_page.html",
        partial="renewals/_form.html",
        done=lambda _: panel_changed(
            client,
            "renewals/_client_panel.html",
            "renewal-panel",
            message,
            TIMELINE_CHANGED,
            RENEWAL_CHANGED,
        ),
        client=client,
        name=name,
        title=title,
        submit=submit,
        hint=hint,
        **previewed,
    )


def _panel_preview(
    client: Client,
    form: FlaskForm,
    draft: Callable[[], Draft],
    *,
    name: str,
    note: str | None = None,
    **words: str,
) -> Response:
    """The email an action of the renewal panel would send the client, with what its form
    holds: in the form's slot (HTMX) or on the form's page; nothing done (`preview_form`)."""
    return preview_form(
        prefixed(form, name),
        draft,
        page="renewals/form_page.html",
        partial="renewals/_form.html",
        retarget=f"#renewal-{name}-form",
        note=note,
        form=form,
        client=client,
        name=name,
        **words,
    )


def _renewal_or_404(renewal_id: int) -> Renewal:
    return of_visible_client(db.session.get(Renewal, renewal_id))


def _invoice_or_404(invoice_id: int) -> Invoice:
    return of_visible_client(db.session.get(Invoice, invoice_id))


# --- The renewal (R2, R3, R8, R9) --------------------------------------------------------


@bp.route("/renewals/<int:renewal_id>/notice", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def notify(renewal_id: int):
    """R2: email the client the renewal date and amount."""
    renewal = _renewal_or_404(renewal_id)
    return _panel_action(
        renewal.client,
        NoticeForm(),
        name="notice",
        title=f"Tell the client: renewal on {renewal.due_on:%d %b %Y}, {renewal.money}",
        submit="Send the renewal notice",
        hint="An email with the date and the amount; the team leader in CC (R2, G1).",
        save=lambda: renewals.notify_client(renewal, actor=acting_user()),
        message="Renewal notice queued; its status shows on the timeline.",
    )


@bp.route("/renewals/<int:renewal_id>/notice/preview")
@allow(*CLIENT_REGISTRY_ROLES)
def preview_notice(renewal_id: int):
    """R2: the renewal notice as sending it would queue it (G1 CCs); nothing is sent."""
    renewal = _renewal_or_404(renewal_id)
    return preview_page(
        lambda: renewals.draft_notice(renewal, actor=acting_user()),
        title=f"The renewal notice to {renewal.client.store_name}",
        back=client_page(renewal.client_id, "renewal-panel"),
    )


@bp.route("/renewals/<int:renewal_id>/confirm", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def confirm(renewal_id: int):
    """R2: the client confirmed the date and the recurring amount."""
    renewal = _renewal_or_404(renewal_id)
    form = ConfirmForm()
    if not form.is_submitted():
        form.agreed_on.data = renewal.agreed_on or renewal.due_on
        form.amount.data = str(renewal.money.amount)
    return _panel_action(
        renewal.client,
        form,
        name="confirm",
        title="The client confirmed",
        submit="Record the confirmation",
        hint=f"In {renewal.currency}. A new amount stays for the next terms.",
        save=lambda: renewals.confirm_renewal(
            renewal, actor=acting_user(), agreed_on=form.agreed_on.data, amount=form.amount.data
        ),
        message="Renewal confirmed: the invoice can be created.",
    )


@bp.route("/renewals/<int:renewal_id>/invoice", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def invoice(renewal_id: int):
    """R3: the renewal's invoice, with customization fees (R8) and an approved discount
    (R9), through the billing system."""
    renewal = _renewal_or_404(renewal_id)
    usable = invoices.client_billing(renewal.client).usable_discounts
    form = _invoice_form(renewal, usable)
    return _panel_action(
        renewal.client,
        form,
        save=lambda: _issue_invoice(invoices.issue_invoice, renewal, form, usable),
        message="Invoice created and sent to the client.",
        **_invoice_words(renewal),
    )


@bp.route("/renewals/<int:renewal_id>/invoice/preview", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def preview_invoice(renewal_id: int):
    """R3: the email the client gets with the invoice the form describes; nothing is
    issued (the issue runs and is rolled back). WHMCS emails its own: the preview says so."""
    renewal = _renewal_or_404(renewal_id)
    usable = invoices.client_billing(renewal.client).usable_discounts
    form = _invoice_form(renewal, usable)
    return _panel_preview(
        renewal.client,
        form,
        lambda: _issue_invoice(invoices.draft_invoice_email, renewal, form, usable),
        note=INVOICE_NUMBER_NOTE,
        **_invoice_words(renewal),
    )


def _invoice_words(renewal: Renewal) -> dict[str, str]:
    """The invoice form's name and words, and where it and its preview post."""
    return {
        "name": "invoice",
        "title": f"Invoice the renewal: {renewal.money}",
        "submit": "Create the invoice",
        "hint": "Customization fees paid with the renewal go on the same invoice (R8).",
        "action": url_for("renewals.invoice", renewal_id=renewal.id),
        "preview_url": url_for("renewals.preview_invoice", renewal_id=renewal.id),
    }


def _invoice_form(renewal: Renewal, usable: list[Quotation]) -> InvoiceForm:
    """The invoice's form: the discounts it may carry (R9), due on the date agreed."""
    form = InvoiceForm()
    form.quotation.choices = options(
        [(0, "No discount")] + [(q.id, f"{q.description}: −{q.money}") for q in usable]
    )
    if not form.is_submitted():
        form.due_on.data = renewal.agreed_on or renewal.due_on
    return form


def _issue_invoice(
    issue: Callable[..., T], renewal: Renewal, form: InvoiceForm, usable: list[Quotation]
) -> T:
    """`issue` (the issue, or its email's draft) with what the invoice form holds."""
    chosen = next((q for q in usable if q.id == form.quotation.data), None)
    return issue(
        renewal.client,
        actor=acting_user(),
        renewal=renewal,
        due_on=form.due_on.data,
        fees=[Fee(description, amount) for description, amount in form.fee_rows()],
        quotation=chosen,
    )


@bp.route("/renewals/<int:renewal_id>/lost", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def lost(renewal_id: int):
    """The client will not renew."""
    renewal = _renewal_or_404(renewal_id)
    form = LostForm()
    return _panel_action(
        renewal.client,
        form,
        name="lost",
        title="The client will not renew",
        submit="Mark the renewal lost",
        save=lambda: renewals.mark_lost(renewal, actor=acting_user(), reason=form.reason.data),
        message="Renewal marked lost.",
    )


# --- An invoice (R5, R7, R10) ------------------------------------------------------------


@bp.route("/invoices/<int:invoice_id>/reminder/preview")
@allow(*CLIENT_REGISTRY_ROLES)
def preview_reminder(invoice_id: int):
    """R4: the reminder the sweep would send next for an unpaid invoice; nothing is sent."""
    invoice = _invoice_or_404(invoice_id)
    return preview_page(
        lambda: invoices.draft_reminder(invoice),
        title=f"The next reminder of invoice {invoice.label}",
        back=client_page(invoice.client_id, "renewal-panel"),
    )


@bp.route("/invoices/<int:invoice_id>/wire", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def report_wire(invoice_id: int):
    """R7: the client says it sent a wire transfer; finance confirms it."""
    invoice = _invoice_or_404(invoice_id)
    form = WireForm()
    if not form.is_submitted():
        room = payments.wire_room(invoice)
        form.amount.data = str(room) if room > 0 else ""
    return _panel_action(
        invoice.client,
        form,
        save=lambda: _wire(payments.report_wire_transfer, invoice, form),
        message=WIRE_REPORTED,
        **_wire_words(invoice),
    )


@bp.route("/invoices/<int:invoice_id>/wire/preview", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def preview_wire(invoice_id: int):
    """R7: the acknowledgment the client gets when the wire the form describes is
    reported; nothing is recorded or sent (the report runs and is rolled back)."""
    invoice = _invoice_or_404(invoice_id)
    form = WireForm()
    return _panel_preview(
        invoice.client,
        form,
        lambda: _wire(payments.draft_wire_acknowledgment, invoice, form),
        **_wire_words(invoice),
    )


def _wire_words(invoice: Invoice) -> dict[str, str]:
    """The wire form's name and words, and where it and its preview post."""
    return {
        "name": f"wire-{invoice.id}",
        "title": f"Wire transfer for invoice {invoice.label}",
        "submit": "Report the wire transfer",
        "hint": WIRE_HINT,
        "action": url_for("renewals.report_wire", invoice_id=invoice.id),
        "preview_url": url_for("renewals.preview_wire", invoice_id=invoice.id),
    }


def _wire(report: Callable[..., T], invoice: Invoice, form: WireForm) -> T:
    """`report` (the report, or its acknowledgment's draft) with what the wire form holds."""
    return report(
        invoice,
        actor=acting_user(),
        amount=form.amount.data,
        reference=form.reference.data or "",
        note=form.note.data or "",
    )


@bp.route("/invoices/<int:invoice_id>/payment-issue", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def payment_issue(invoice_id: int):
    """R5: the client cannot pay as invoiced: finance agrees a new channel."""
    invoice = _invoice_or_404(invoice_id)
    form = PaymentIssueForm()
    return _panel_action(
        invoice.client,
        form,
        name=f"issue-{invoice.id}",
        title=f"Payment issue on invoice {invoice.label}",
        submit="Hand it to finance",
        save=lambda: payments.raise_payment_issue(
            invoice, actor=acting_user(), note=form.note.data
        ),
        message="Payment issue handed to finance.",
    )


@bp.route("/invoices/<int:invoice_id>/installments", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def installments(invoice_id: int):
    """R10: split the invoice into installment invoices that sum exactly to it."""
    invoice = _invoice_or_404(invoice_id)
    form = _installments_form(invoice)
    return _panel_action(
        invoice.client,
        form,
        name=f"installments-{invoice.id}",
        title=f"Installments for invoice {invoice.label}: {invoice.money}",
        submit="Create the installment invoices",
        hint="Equal parts at the currency's smallest unit; any remainder on the first (R10).",
        save=lambda: _split(invoice, form),
        message="Installment invoices created; each is followed until paid.",
    )


def _installments_form(invoice: Invoice) -> InstallmentsForm:
    form = InstallmentsForm()
    if not form.is_submitted():
        # The first day the form (the typist's calendar) and the rule (the client's) accept.
        client_today = renewals.client_today(invoice.client)
        form.first_due_on.data = max(invoice.due_on, client_today, viewer_today())
    return form


def _split(invoice: Invoice, form: InstallmentsForm) -> list[Invoice]:
    """R10: one installment every `every_days` from the first due date."""
    first, every = form.first_due_on.data, form.every_days.data
    dates = [first + timedelta(days=every * n) for n in range(form.count.data)]
    return invoices.split_into_installments(invoice, actor=acting_user(), due_dates=dates)


# --- An invoice as the client has it (R3, C6) ---------------------------------------------


@bp.route("/invoices/<int:invoice_id>/invoice.pdf")
@allow(*INVOICE_READERS)
def invoice_pdf_download(invoice_id: int):
    """The invoice as a PDF, as the client has it (and as it is attached to a paid
    customization's ticket: C6); 404 for an invoice the billing system has not numbered."""
    invoice = db.session.get(Invoice, invoice_id)
    if (
        invoice is None
        or not invoice.number
        or not can_see_invoices_of(current_user, invoice.client)
    ):
        abort(404)
    response = Response(invoice_pdf(invoice), mimetype=PDF_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{invoice_filename(invoice)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- The list (R1, R4) -------------------------------------------------------------------


# The lists of the page, by the id of their section: a pager's swap (HTMX) asks for one.
RENEWALS_LIST = "open-renewals"
INVOICES_LIST = "unpaid-invoices"
LIST_PARTIALS = {RENEWALS_LIST: "renewals/_renewals.html", INVOICES_LIST: "renewals/_invoices.html"}


@bp.route("/renewals/")
@allow(*CLIENT_REGISTRY_ROLES)
def index():
    """R1 and R4: the renewals to see through and the unpaid invoices of the clients the
    user may see, soonest first, with the days left or overdue on each client's calendar;
    a page of each (`?page=`, `?invoices_page=`). A pager's swap gets its list alone."""
    per_page = current_app.config["LIST_PER_PAGE"]
    renewals_at = validation.query_number(request.args.get("page"), default=1) or 1
    invoices_at = validation.query_number(request.args.get("invoices_page"), default=1) or 1
    asked = request.headers.get("HX-Target") if is_htmx() else None
    context: dict[str, Any] = {"renewals_at": renewals_at, "invoices_at": invoices_at}
    if asked != INVOICES_LIST:
        found = renewals.open_renewals_page(current_user, page=renewals_at, per_page=per_page)
        context.update(renewals_page=found, renewals=renewals.standings(found.items))
    if asked != RENEWALS_LIST:
        found = invoices.unpaid_invoices_page(current_user, page=invoices_at, per_page=per_page)
        context.update(invoices_page=found, invoices=invoices.standings(found.items))
    return render("renewals/index.html", LIST_PARTIALS.get(asked or ""), **context)


@bp.route("/renewals/renewals.csv")
@allow(*CLIENT_REGISTRY_ROLES)
def export_renewals():
    """R1: the renewals to see through, as CSV."""
    return csv_download(list_exports.open_renewals(acting_user()))


@bp.route("/renewals/unpaid-invoices.csv")
@allow(*CLIENT_REGISTRY_ROLES)
def export_invoices():
    """R4: the unpaid invoices, as CSV."""
    return csv_download(list_exports.unpaid_invoices(acting_user()))


# --- The renewal forecast ----------------------------------------------------------------


@bp.route("/renewals/forecast")
@allow(*FORECAST_ROLES)
def forecast():
    """What falls due in the next 30, 60 and 90 days, per team and currency: confirmed
    against at risk, over the clients the user may see (finance and admins: all), the
    totals per currency first, then the teams a page at a time (`?page=`; a pager's swap
    gets the teams alone). (The monthly churn is on the leader's view.)"""
    today = viewer_today()
    page = validation.query_number(request.args.get("page"), default=1) or 1
    found = renewals.forecast_page(
        acting_user(),
        today=today,
        now=clock.now(),
        page=page,
        per_page=current_app.config["LIST_PER_PAGE"],
    )
    return render(
        "renewals/forecast.html",
        "renewals/_forecast_teams.html",
        today=today,
        forecast=found,
        horizons=renewals.FORECAST_HORIZONS,
    )


@bp.route("/renewals/forecast.csv")
@allow(*FORECAST_ROLES)
def export_forecast():
    """The renewal forecast, as CSV."""
    return csv_download(list_exports.renewal_forecast(acting_user(), today=viewer_today()))
