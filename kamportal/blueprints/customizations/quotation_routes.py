"""The quotation on the request's page (C4, R9) and its invoice (C6, R8): product sets the
period, commercial the price (with an approved discount, if any), the ACM asks for a
discount and, once the concept document is approved, issues the invoice. Each form acts in
place: done, the quotation's section is swapped (HTMX) or the page comes back (303);
refused, the section (HTMX) or the page with the form's errors, 422, nothing saved.

Access: the period, product; the price, commercial; the discount request and the invoice,
whoever works on the client (the services check the same again). Commercial decides the
discount in its queue (blueprints/discounts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Response, abort, flash, url_for
from flask_wtf import FlaskForm

from kamportal.blueprints.customizations import bp
from kamportal.blueprints.customizations.quotation_forms import (
    CustomizationInvoiceForm,
    DiscountRequestForm,
    PeriodForm,
    PriceForm,
)
from kamportal.blueprints.customizations.routes import _show_context, _visible_request
from kamportal.blueprints.email_preview import INVOICE_NUMBER_NOTE, preview_form
from kamportal.blueprints.web import acting_user, allow, answer, in_place, prefixed
from kamportal.models import (
    CustomizationRequest,
    CustomizationStage,
    Quotation,
    QuotationStatus,
    Renewal,
)
from kamportal.services import access, quotations
from kamportal.services.access import CLIENT_REGISTRY_ROLES, DISCOUNT_ROLES, PRODUCT_ROLES

PARTIAL = "customizations/_quotation.html"
T = TypeVar("T")
_FORMS = {
    "period": PeriodForm,
    "price": PriceForm,
    "discount": DiscountRequestForm,
    "invoice": CustomizationInvoiceForm,
}


@dataclass(frozen=True)
class QuotationPanel:
    """The quotation's section of a request's page: the quotation, the renewal it may be
    invoiced with, and the forms the viewer may use now (None where they may not)."""

    quotation: Quotation | None
    renewal: Renewal | None
    forms: dict[str, FlaskForm | None]


@bp.app_template_global()
def quotation_panel(
    request: CustomizationRequest, forms: dict[str, FlaskForm] | None = None
) -> QuotationPanel:
    """C4, R9, C6: what the viewer sees and may do on the request's quotation; `forms` are
    the forms posted (with their errors), the others start empty."""
    user = acting_user()
    stage = request.customization_stage
    quotation = quotations.quotation_of(request)
    works_on = access.can_work_on_client(user, request.client)
    may = {
        "period": stage is CustomizationStage.PRICING and access.decides_customizations(user),
        "price": stage is CustomizationStage.PRICING and access.prices_customizations(user),
        "discount": works_on
        and quotation is not None
        and request.invoice_id is None
        and quotation.quotation_status in (QuotationStatus.NONE, QuotationStatus.REJECTED),
        "invoice": works_on and stage is CustomizationStage.INVOICING,
    }
    given = forms or {}
    chosen: dict[str, FlaskForm | None] = {
        name: prefixed(given.get(name) or _FORMS[name](formdata=None), f"quotation-{name}")
        if allowed
        else None
        for name, allowed in may.items()
    }
    if (price := chosen["price"]) is not None and not price.currency.data:
        price.currency.data = request.client.currency
    renewal = quotations.renewal_to_invoice_with(request.client) if may["invoice"] else None
    invoice = chosen["invoice"]
    if invoice is not None and invoice.due_on.data is None and renewal is not None:
        invoice.due_on.data = renewal.agreed_on or renewal.due_on
    return QuotationPanel(quotation, renewal, chosen)


@bp.app_template_global()
def customizations_to_estimate() -> list[CustomizationRequest]:
    """C4, product's queue: accepted requests without a period."""
    return quotations.to_estimate()


@bp.app_template_global()
def customizations_to_price() -> list[CustomizationRequest]:
    """C4, commercial's queue: accepted requests without a price."""
    return quotations.to_price()


def _act(
    request: CustomizationRequest, name: str, save: Callable[[FlaskForm], Any], message: str
) -> Response:
    form = _FORMS[name]()

    def done(_: Any) -> Response:
        flash(f"{request.reference}: {message}", "success")
        return in_place(
            PARTIAL,
            location=url_for("customizations.show", request_id=request.id),
            customization=request,
        )

    return answer(
        form,
        lambda: save(form),
        done=done,
        page="customizations/show.html",
        partial=PARTIAL,
        page_context=lambda: _show_context(request),
        customization=request,
        quotation_forms={name: form},
    )


@bp.route("/customizations/<int:request_id>/period", methods=["POST"])
@allow(*PRODUCT_ROLES)
def estimate(request_id: int):
    """C4: product's estimated period."""
    request = _visible_request(request_id)
    return _act(
        request,
        "period",
        lambda form: quotations.estimate_period(request, actor=acting_user(), days=form.days.data),
        "period set.",
    )


@bp.route("/customizations/<int:request_id>/price", methods=["POST"])
@allow(*DISCOUNT_ROLES)
def price(request_id: int):
    """C4: commercial's price, with an approved discount if any (R9)."""
    request = _visible_request(request_id)
    return _act(
        request,
        "price",
        lambda form: quotations.set_price(
            request,
            actor=acting_user(),
            amount=form.amount.data,
            currency=form.currency.data,
            discount_percent=form.discount_percent.data,
            discount_amount=form.discount_amount.data,
            covers=form.covers.data,
        ),
        "price set.",
    )


def _worked_on(request_id: int) -> CustomizationRequest:
    request = _visible_request(request_id)
    if not access.can_work_on_client(acting_user(), request.client):
        abort(404)
    return request


@bp.route("/customizations/<int:request_id>/discount", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def ask_discount(request_id: int):
    """R9: the ACM asks commercial for a discount on the quotation."""
    request = _worked_on(request_id)
    return _act(
        request,
        "discount",
        lambda form: quotations.request_discount(
            request,
            actor=acting_user(),
            percent=form.discount_percent.data,
            amount=form.discount_amount.data,
            covers=form.covers.data,
        ),
        "discount asked of commercial.",
    )


@bp.route("/customizations/<int:request_id>/invoice", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def issue_invoice(request_id: int):
    """C6, R8: the invoice, alone or with the renewal, the approved discount on it."""
    request = _worked_on(request_id)
    return _act(
        request,
        "invoice",
        lambda form: _invoice(quotations.issue_invoice, request, form),
        "invoiced.",
    )


@bp.route("/customizations/<int:request_id>/invoice/preview", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def preview_invoice(request_id: int):
    """C6, R3: the email the client gets with the invoice the form describes, in the
    form's slot (HTMX) or on the request's page; nothing is issued."""
    request = _worked_on(request_id)
    form = _FORMS["invoice"]()
    return preview_form(
        form,
        lambda: _invoice(quotations.draft_invoice_email, request, form),
        page="customizations/show.html",
        partial=PARTIAL,
        retarget="#quotation",
        note=INVOICE_NUMBER_NOTE,
        **{**_show_context(request), "quotation_forms": {"invoice": form}},
    )


def _invoice(issue: Callable[..., T], request: CustomizationRequest, form: FlaskForm) -> T:
    """`issue` (the invoice, or its email's draft) with what the invoice form holds."""
    return issue(
        request,
        actor=acting_user(),
        due_on=form.due_on.data,
        with_renewal=bool(form.with_renewal.data),
    )
