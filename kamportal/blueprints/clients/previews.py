"""Client emails previewed before they go (issue 16): the email to a contact, as its send
form would queue it (blueprints/email_preview.py)."""

from __future__ import annotations

from kamportal.blueprints.clients import bp
from kamportal.blueprints.clients.forms import EmailContactForm
from kamportal.blueprints.clients.routes import _contact_or_404
from kamportal.blueprints.email_preview import preview_form
from kamportal.blueprints.web import acting_user, allow, client_or_404
from kamportal.services import contact_log
from kamportal.services.access import CLIENT_REGISTRY_ROLES


@bp.route("/<int:client_id>/contacts/<int:contact_id>/email/preview", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def preview_email(client_id: int, contact_id: int):
    """The email to a contact as it would go (G1 CCs, the ACM's reply-to); nothing is sent."""
    client = client_or_404(client_id)
    contact = _contact_or_404(client, contact_id)
    form = EmailContactForm()
    return preview_form(
        form,
        lambda: contact_log.draft_contact_email(
            client,
            actor=acting_user(),
            contact=contact,
            subject=form.subject.data,
            body=form.body.data,
        ),
        page="clients/email_page.html",
        partial="clients/_email_form.html",
        retarget="#email-form",
        client=client,
        contact=contact,
        form=form,
    )
