"""The concept document (C5): written and sent from the request's page, printed or
downloaded as a PDF, approved by the client through the emailed link or by the copy they
signed.

Access: the printable page and the PDF, whoever may see the request (as its page); writing,
sending, revoking and the signed copy, whoever works on the client (404 otherwise). The
client's page needs no login: the signed token in the address is the only key, so its
answers are never cached nor sent on as a Referer, and a refused link says why without
naming anything of the client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, flash, request, url_for

from kamportal import i18n
from kamportal.blueprints.customizations import bp
from kamportal.blueprints.customizations.client_pages import link_limit, refused, replacing_the_page
from kamportal.blueprints.customizations.concept_forms import (
    ApprovalForm,
    ConceptForm,
    SignedCopyForm,
)
from kamportal.blueprints.customizations.routes import (
    _show_context,
    _uploads,
    _visible_request,
)
from kamportal.blueprints.email_preview import preview_sending
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    in_place,
    is_htmx,
    press,
    public,
    render,
    save_form,
    saved,
)
from kamportal.extensions import limiter
from kamportal.models import CustomizationRequest
from kamportal.services import concept_documents
from kamportal.services.access import CLIENT_REGISTRY_ROLES, CUSTOMIZATION_ROLES, can_work_on_client
from kamportal.services.concept_pdf import concept_pdf

PANEL = "customizations/_concept.html"
CHANGED = ("timeline-changed", "concept-changed")


@bp.app_template_global()
def concept_standing(customization: CustomizationRequest) -> concept_documents.ConceptStanding:
    """Where the request's concept document stands (C5), for its page."""
    return concept_documents.standing_of(customization)


@bp.app_template_global()
def concept_milestone_kinds() -> dict[str, str]:
    return concept_documents.MILESTONE_KINDS


@bp.app_template_global()
def new_signed_copy_form() -> SignedCopyForm:
    return SignedCopyForm(formdata=None)


def _workable_request(request_id: int) -> CustomizationRequest:
    """The request, if the signed-in user works on its client; otherwise 404."""
    found = _visible_request(request_id)
    if not can_work_on_client(acting_user(), found.client):
        abort(404)
    return found


def _written_request(request_id: int) -> CustomizationRequest:
    """The request with its concept document, if the user may see it and it is written."""
    found = concept_documents.load_for_document(request_id)
    if found is None or found.concept is None:
        abort(404)
    _visible_request(request_id)
    return found


def _panel(customization: CustomizationRequest, status: int = 200, **context: Any) -> Response:
    """The concept part of the request's page again (HTMX), the page told; or the page."""
    return in_place(
        PANEL,
        location=url_for("customizations.show", request_id=customization.id) + "#concept-panel",
        events=CHANGED,
        status=status,
        customization=customization,
        works_on_client=True,
        **context,
    )


@bp.route("/customizations/<int:request_id>/concept/edit", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def concept_edit(request_id: int):
    """C5: write the concept document, or change it until it is approved (a change to a
    document sent withdraws its link). The row buttons add or remove a milestone row."""
    customization = _workable_request(request_id)
    if request.method == "GET":
        form = ConceptForm(data=concept_documents.draft(customization))
    else:
        form = ConceptForm()
        if form.change_rows(request.form.get("row_action")):
            return render(
                "customizations/concept_edit.html",
                "customizations/_concept_form.html",
                form=form,
                customization=customization,
            )
    return save_form(
        form,
        lambda: concept_documents.write_concept(
            customization,
            actor=acting_user(),
            scope=form.scope.data,
            activities=form.activities.data,
            exit_criteria=form.exit_criteria.data,
            milestones=form.rows(),
        ),
        template="customizations/concept_edit.html",
        partial="customizations/_concept_form.html",
        done=lambda _: _to_the_request(customization, "Concept document saved."),
        customization=customization,
    )


def _to_the_request(customization: CustomizationRequest, message: str) -> Response:
    """Saved: on to the request's page. From an HTMX form the browser goes there itself: a
    303 would be followed inside the request and the whole page swapped into the form."""
    response = saved(message, "customizations.show", request_id=customization.id)
    if is_htmx():
        response = Response(status=204, headers={"HX-Redirect": response.location})
    return response


@bp.route("/customizations/<int:request_id>/concept")
@allow(*CUSTOMIZATION_ROLES)
def concept_print(request_id: int):
    """C5: the concept document as a printable page (nothing of the portal printed)."""
    customization = _written_request(request_id)
    return render("customizations/concept_print.html", customization=customization)


def _pdf_response(customization: CustomizationRequest) -> Response:
    response = Response(concept_pdf(customization), mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="concept-document.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/customizations/<int:request_id>/concept.pdf")
@allow(*CUSTOMIZATION_ROLES)
def concept_pdf_download(request_id: int):
    """C5: the concept document as a PDF, the same content as the printable page."""
    return _pdf_response(_written_request(request_id))


def _act(customization: CustomizationRequest, act: Callable[[], Any], message: str) -> Response:
    """Send or revoke the link: the concept part again, or the refusal on it (422)."""
    return press(
        act,
        done=lambda _: _flashed(customization, message),
        refused=lambda: _panel(customization, status=422),
        not_done="Not done: {}",
    )


def _flashed(customization: CustomizationRequest, message: str) -> Response:
    flash(message, "success")
    return _panel(customization)


@bp.route("/customizations/<int:request_id>/concept/send", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def concept_send(request_id: int):
    """C5: email the client the link to approve the concept document (G1 CCs); a link
    sent before stops working."""
    customization = _workable_request(request_id)
    return _act(
        customization,
        lambda: concept_documents.send_concept(
            customization, actor=acting_user(), base_url=request.url_root
        ),
        "Concept document emailed to the client; its delivery shows on the timeline.",
    )


@bp.route("/customizations/<int:request_id>/concept/send/preview")
@allow(*CLIENT_REGISTRY_ROLES)
def concept_preview_send(request_id: int) -> Response:
    """C5: the concept document's email as sending it would write it; nothing is sent."""
    customization = _workable_request(request_id)
    return preview_sending(
        lambda: concept_documents.send_concept(
            customization, actor=acting_user(), base_url=request.url_root
        ),
        title=f"The concept document's email for {customization.title}",
        back=url_for("customizations.show", request_id=customization.id, _anchor="concept-panel"),
    )


@bp.route("/customizations/<int:request_id>/concept/revoke", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def concept_revoke(request_id: int):
    """C5: the concept's link stops working at once."""
    customization = _workable_request(request_id)
    return _act(
        customization,
        lambda: concept_documents.revoke_concept_link(customization, actor=acting_user()),
        "Link revoked: it no longer opens the concept document.",
    )


@bp.route("/customizations/<int:request_id>/concept/signed-copy", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def concept_signed_copy(request_id: int):
    """C5: the ACM uploads the copy the client signed: approved, on to the invoice."""
    customization = _workable_request(request_id)
    form = SignedCopyForm()
    return answer(
        form,
        lambda: concept_documents.approve_by_signed_copy(
            customization,
            actor=acting_user(),
            signed_by=form.signed_by.data,
            upload=next(iter(_uploads([form.signed_copy.data])), None),
        ),
        done=lambda _: _to_the_request(
            customization, "Signed copy recorded: the concept document is approved."
        ),
        page="customizations/show.html",
        partial=PANEL,
        retarget="#concept-panel",
        **_show_context(customization),
        signed_form=form,
    )


# --- The client's page, through the link ------------------------------------------------


@bp.route("/concept/<token>", methods=["GET", "POST"])
@limiter.limit(link_limit)
@public
def public_concept(token: str):
    """C5: the client reads the concept document without a login and approves it by
    typing their full name; the time and the address are recorded, the link is spent."""
    try:
        link = concept_documents.open_concept(token)
    except concept_documents.LinkRefused as refusal:
        return refused(refusal)
    i18n.speak_to(link.request.client.language)
    form = ApprovalForm()
    context = {"customization": link.request, "client": link.request.client, "token": token}
    return answer(
        form,
        lambda: concept_documents.approve_by_link(
            link, name=form.full_name.data, agreed=form.agree.data, address=request.remote_addr
        ),
        done=lambda _: replacing_the_page(
            render(
                "customizations/concept_thanks.html",
                "customizations/_concept_thanks.html",
                **context,
            )
        ),
        page="customizations/concept_public.html",
        partial="customizations/_concept_approval.html",
        form=form,
        **context,
    )


@bp.route("/concept/<token>/pdf")
@limiter.limit(link_limit)
@public
def public_concept_pdf(token: str):
    """C5: the client downloads the concept document as a PDF while the link works."""
    try:
        link = concept_documents.open_concept(token)
    except concept_documents.LinkRefused as refusal:
        return refused(refusal)
    customization = concept_documents.load_for_document(link.request_id)
    return _pdf_response(customization)
