"""Commercial's discounts (R9): the discounts the account managers asked for, approved in
one click or rejected with a note; the latest decided. Each row acts in place: done, the
row is swapped (HTMX) or the page comes back (303); refused, the row again with its
errors, status 422, nothing saved. (The ACM asks for a discount from the client page's
renewal panel: blueprints/renewals.)

Access: commercial and admins (the service checks the same roles again).
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, request, url_for
from flask_wtf import FlaskForm

from kamportal.blueprints.discounts import bp
from kamportal.blueprints.discounts.forms import DiscountDecisionForm
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
from kamportal.models import Quotation
from kamportal.services import discounts
from kamportal.services.access import DISCOUNT_ROLES


def _decision_form(quotation: Quotation, formdata: Any = None) -> DiscountDecisionForm:
    return prefixed(DiscountDecisionForm(formdata=formdata), f"quotation-{quotation.id}")


def _discounts_context(refused: tuple[Quotation, FlaskForm] | None = None) -> dict[str, Any]:
    requested, decided = discounts.discount_queue()
    forms = {q.id: _decision_form(q) for q in requested}
    if refused is not None:
        quotation, form = refused
        if quotation not in requested:
            requested.insert(0, quotation)
        forms[quotation.id] = form
    return {"requested": requested, "decided": decided, "forms": forms}


@bp.route("/discounts/")
@allow(*DISCOUNT_ROLES)
def queue():
    """R9: the discounts the ACMs asked for, to approve or reject; the latest decided."""
    return render("discounts/queue.html", **_discounts_context())


@bp.route("/discounts/<int:quotation_id>", methods=["POST"])
@allow(*DISCOUNT_ROLES)
def decide(quotation_id: int):
    """R9: approve a discount in one click, or reject it with a note."""
    quotation = db.get_or_404(Quotation, quotation_id)
    form = _decision_form(quotation, formdata=request.form)
    decided = submit(
        form,
        lambda: discounts.decide_discount(
            quotation,
            actor=acting_user(),
            approve=form.decision.data == "approve",
            note=form.note.data or "",
        ),
    )
    return _row_response(quotation, form, done=decided is not None)


def _row_response(quotation: Quotation, form: FlaskForm, *, done: bool) -> Response:
    """Done: a flash, and the row swapped in place (HTMX) or the queue again (303).
    Refused: the row (HTMX) or the queue with the form's errors, 422."""
    if done:
        flash(
            f"Discount of {quotation.discount_text} for {quotation.client.store_name} "
            f"{quotation.quotation_status.label.lower()}.",
            "success",
        )
        return in_place(
            "discounts/_quotation_row.html",
            location=url_for("discounts.queue"),
            quotation=quotation,
            form=form,
        )
    if is_htmx():
        return form_invalid("discounts/_quotation_row.html", quotation=quotation, form=form)
    return form_invalid("discounts/queue.html", **_discounts_context(refused=(quotation, form)))
