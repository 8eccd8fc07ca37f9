"""C3: the ACM sends a rejected request's reason to the client, from the request's page.

Access: whoever works on the client (its ACM, their leader, admins); others 404.
"""

from __future__ import annotations

from flask import abort
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from kamportal.blueprints.customizations import bp
from kamportal.blueprints.customizations.routes import _show_context, _visible_request
from kamportal.blueprints.email_preview import preview_form
from kamportal.blueprints.forms import Form
from kamportal.blueprints.web import acting_user, allow, answer, saved
from kamportal.models import CustomizationRequest
from kamportal.services import access, customization_rejection
from kamportal.services.access import CLIENT_REGISTRY_ROLES


class RejectionForm(Form):
    """C3: what the client reads, prefilled with product's reason."""

    message = TextAreaField(
        "What the client reads",
        validators=[
            DataRequired("Write what the client should read."),
            Length(max=customization_rejection.MESSAGE_MAX),
        ],
    )


@bp.app_template_global()
def rejection_form_for(request: CustomizationRequest) -> RejectionForm:
    """The request page's rejection email, prefilled (C3)."""
    return RejectionForm(formdata=None, message=customization_rejection.default_message(request))


@bp.route("/customizations/<int:request_id>/rejection", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def send_rejection(request_id: int):
    """C3: email the client the reason its request was rejected (G1 CCs), once."""
    request = _visible_request(request_id)
    if not access.can_work_on_client(acting_user(), request.client):
        abort(404)
    form = RejectionForm()
    return answer(
        form,
        lambda: customization_rejection.send_rejection(
            request, actor=acting_user(), message=form.message.data
        ),
        done=lambda _: saved(
            "The reason is on its way to the client.",
            "customizations.show",
            request_id=request.id,
        ),
        page="customizations/show.html",
        rejection_form=form,
        **_show_context(request),
    )


@bp.route("/customizations/<int:request_id>/rejection/preview", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def preview_rejection(request_id: int):
    """C3: the reason's email as sending would queue it (G1 CCs); nothing is sent."""
    request = _visible_request(request_id)
    if not access.can_work_on_client(acting_user(), request.client):
        abort(404)
    form = RejectionForm()
    return preview_form(
        form,
        lambda: customization_rejection.draft_rejection(
            request, actor=acting_user(), message=form.message.data
        ),
        page="customizations/show.html",
        partial="customizations/_rejection.html",
        retarget="#rejection",
        rejection_form=form,
        **_show_context(request),
    )
