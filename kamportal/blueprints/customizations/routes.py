"""Customization requests (C1-C3): the ACM opens one from the client page (scope of work,
wanted-by date, attachments); its page shows the approval ticket with product's 48-hour
clock; product decides from its queue; the ACM answers a hold.

Access: the request's page and attachments, whoever may see the client and product (who
sees nothing else of the client); opening a request and answering a hold, whoever works on
the client; the queue and the decision, product and admins.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, send_file
from werkzeug.datastructures import FileStorage

from kamportal import clock
from kamportal.blueprints.customizations import bp
from kamportal.blueprints.customizations.forms import DecisionForm, HoldAnswerForm, RequestForm
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    client_or_404,
    render,
    save_form,
    saved,
)
from kamportal.extensions import db
from kamportal.models import (
    Client,
    CustomizationAttachment,
    CustomizationRequest,
    CustomizationStatus,
)
from kamportal.services import access, customization_steps, customizations
from kamportal.services.access import CLIENT_REGISTRY_ROLES, CUSTOMIZATION_ROLES, PRODUCT_ROLES


@bp.app_template_global()
def client_customizations(client: Client) -> list[customization_steps.Standing]:
    """The client page's panel: each request with its stage and what is next (C1-C7)."""
    return customization_steps.client_standings(client, now=clock.now())


def _visible_request(request_id: int) -> CustomizationRequest:
    """The request, if the signed-in user may see it; otherwise 404, never its client."""
    found = customizations.load_request(request_id)
    if found is None or not access.can_see_customization(
        acting_user(),
        found.client,
        accepted=found.customization_status is CustomizationStatus.ACCEPTED,
    ):
        abort(404)
    return found


def _uploads(files: list[Any] | None) -> list[customizations.Upload]:
    """The files posted, each read up to one byte past the size limit (enough to refuse
    it; MAX_CONTENT_LENGTH bounds the whole request)."""
    limit = customizations.max_attachment_bytes()
    return [
        customizations.Upload(upload.filename or "", upload.stream.read(limit + 1))
        for upload in files or []
        if isinstance(upload, FileStorage) and upload.filename
    ]


@bp.route("/clients/<int:client_id>/customizations/new", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def new(client_id: int):
    """C1, C2: the ACM asks for a customization; its approval ticket opens."""
    client = client_or_404(client_id)
    form = RequestForm()
    return save_form(
        form,
        lambda: customizations.open_request(
            client,
            actor=acting_user(),
            title=form.title.data,
            end_result=form.end_result.data,
            users=form.users.data,
            done_when=form.done_when.data,
            wanted_by=form.wanted_by.data,
            uploads=_uploads(form.attachments.data),
        ),
        template="customizations/new.html",
        done=lambda request: saved(
            f"{request.reference} opened: product decides within 48 hours.",
            "customizations.show",
            request_id=request.id,
        ),
        client=client,
        max_bytes=customizations.max_attachment_bytes(),
    )


def _show_context(
    request: CustomizationRequest,
    *,
    decision_form: DecisionForm | None = None,
    answer_form: HoldAnswerForm | None = None,
) -> dict[str, Any]:
    user = acting_user()
    now = clock.now()
    return {
        "customization": request,
        "request_standing": customization_steps.standing_of(request, now=now),
        "clock": customizations.decision_clock(request, now=now),
        "decision_form": decision_form or DecisionForm(formdata=None),
        "answer_form": answer_form or HoldAnswerForm(formdata=None),
        "decides": access.decides_customizations(user),
        "prices": access.prices_customizations(user),
        "works_on_client": access.can_work_on_client(user, request.client),
    }


@bp.route("/customizations/<int:request_id>")
@allow(*CUSTOMIZATION_ROLES)
def show(request_id: int):
    """The request and its approval ticket: scope of work, attachments, clock, decision."""
    return render("customizations/show.html", **_show_context(_visible_request(request_id)))


@bp.route("/customizations/<int:request_id>/attachments/<int:attachment_id>")
@allow(*CUSTOMIZATION_ROLES)
def attachment(request_id: int, attachment_id: int):
    """An attachment, downloaded (never shown inline), to whoever may see the request."""
    request = _visible_request(request_id)
    found = db.session.get(CustomizationAttachment, attachment_id)
    if found is None or found.request_id != request.id:
        abort(404)
    path = customizations.attachment_path(found)
    if not path.is_file():
        abort(404)
    return send_file(
        path,
        mimetype=found.content_type,
        as_attachment=True,
        download_name=found.filename,
        max_age=0,
    )


@bp.route("/customizations/<int:request_id>/decision", methods=["POST"])
@allow(*PRODUCT_ROLES)
def decide(request_id: int):
    """C3: product accepts, rejects or holds the request (a reason for the last two)."""
    request = _visible_request(request_id)
    form = DecisionForm()
    return answer(
        form,
        lambda: customizations.decide(
            request, actor=acting_user(), decision=form.decision.data, reason=form.reason.data
        ),
        done=lambda _: saved(
            f"{request.reference}: {request.customization_status.label.lower()}.",
            "customizations.queue",
        ),
        page="customizations/show.html",
        **_show_context(request, decision_form=form),
    )


@bp.route("/customizations/<int:request_id>/answer", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def answer_hold(request_id: int):
    """C3: the ACM answers product's hold; the request is back in product's queue."""
    request = _visible_request(request_id)
    if not access.can_work_on_client(acting_user(), request.client):
        abort(404)
    form = HoldAnswerForm()
    return answer(
        form,
        lambda: customizations.answer_hold(request, actor=acting_user(), answer=form.answer.data),
        done=lambda _: saved(
            f"{request.reference} is back with product: they decide within 48 hours.",
            "customizations.show",
            request_id=request.id,
        ),
        page="customizations/show.html",
        **_show_context(request, answer_form=form),
    )


@bp.route("/customizations/")
@allow(*PRODUCT_ROLES)
def queue() -> Response:
    """C3: product's queue: the requests awaiting a decision, the oldest first, with their
    48-hour clock; the latest decided below."""
    return render(
        "customizations/queue.html",
        waiting=customizations.product_queue(now=clock.now()),
        decided=customizations.recently_decided(),
    )
