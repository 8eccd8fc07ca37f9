"""Previewing a client email before it goes (issue 16): a send form's "Preview" button posts
the same form to a preview route, which composes the email the send would queue (the
service's `draft_...`, the outbox's `Draft`) and shows it from one template,
`_email_preview.html`: in the form's slot (HTMX), or the form's page with the preview in it.
Nothing is queued or recorded: whatever the draft touched is rolled back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, make_response
from flask import render_template as flask_render
from flask_wtf import FlaskForm

from kamportal.blueprints.web import apply_domain_error, flashes_oob, fragment, is_htmx
from kamportal.errors import DomainError
from kamportal.extensions import db
from kamportal.messaging.outbox import Draft, draft_of
from kamportal.models import OutboxMessage

TEMPLATE = "_email_preview.html"
# An invoice is numbered as it is created, and a preview's is rolled back (R3).
INVOICE_NUMBER_NOTE = (
    "The invoice number is given when the invoice is created: it may not be the one shown here."
)


def preview_form(
    form: FlaskForm,
    draft: Callable[[], Draft],
    /,
    *,
    page: str,
    partial: str,
    retarget: str,
    note: str | None = None,
    **context: Any,
) -> Response:
    """The email a send form would queue, shown and not sent, with `note` said above it.

    Valid input: HTMX gets the preview alone (for the form's slot); a plain post gets
    `page` with `preview` and `preview_note` in its context (the form, filled in, with the
    preview in its slot). Bad input, or the service's refusal: the form again with its
    errors, status 422, as the send answers (`partial` swapped at `retarget` for HTMX)."""
    drafted = _drafted(form, draft)
    if drafted is None:
        if is_htmx():
            response = make_response(flask_render(partial, **context) + flashes_oob(), 422)
            response.headers["HX-Retarget"] = retarget
            response.headers["HX-Reswap"] = "outerHTML"
            return response
        return make_response(flask_render(page, **context), 422)
    if is_htmx():
        return fragment(TEMPLATE, draft=drafted, note=note)
    return make_response(flask_render(page, preview=drafted, preview_note=note, **context))


def preview_page(
    draft: Callable[[], Draft], /, *, title: str, back: str, note: str | None = None
) -> Response:
    """An email that goes on its own (a sweep's, a button's): shown in a slot (HTMX) or on
    a page of its own, `back` leading to where it was asked from, with `note` said above it.
    The service's refusal is said in its place, status 422."""
    try:
        drafted: Draft | None = draft()
        refusal = None
    except DomainError as error:
        drafted, refusal = None, error.message
    finally:
        db.session.rollback()
    context = {"draft": drafted, "refusal": refusal, "title": title, "back": back, "note": note}
    status = 200 if drafted is not None else 422
    if is_htmx():
        return fragment(TEMPLATE, status=status, **context)
    return make_response(flask_render("email_preview.html", **context), status)


def preview_sending(send: Callable[[], OutboxMessage], /, *, title: str, back: str) -> Response:
    """An email whose link is issued as it goes (the KYC questionnaire, the concept
    document, the acceptance, the survey): the sending itself runs, and the email it wrote
    to the outbox is shown; `preview_page` then rolls back all it wrote, so nothing goes and
    the link shown was never kept."""
    return preview_page(
        lambda: draft_of(send()),
        title=title,
        back=back,
        note="The link in the email is made when you send it: the one shown here does not work.",
    )


def _drafted(form: FlaskForm, draft: Callable[[], Draft]) -> Draft | None:
    if not form.validate_on_submit():
        return None
    try:
        return draft()
    except DomainError as error:
        apply_domain_error(form, error)
        return None
    finally:
        db.session.rollback()
