"""The client page's onboarding panel and the welcome email the ACM reviews and sends (O2).

The KYC pages are kyc_routes.py; the launch checklists and contract limits are
launch_routes.py. Object access: whoever may see the client (404 otherwise).
"""

from __future__ import annotations

from flask import Response

from kamportal import clock
from kamportal.blueprints.onboarding import bp
from kamportal.blueprints.onboarding.forms import WelcomeForm
from kamportal.blueprints.web import (
    acting_user,
    allow,
    client_or_404,
    panel_changed,
    panel_response,
    save_form,
)
from kamportal.messaging import outbox
from kamportal.models import LAUNCH_PATH, Client
from kamportal.services import onboarding
from kamportal.services.access import CLIENT_REGISTRY_ROLES

PANEL = "onboarding/_client_panel.html"
bp.add_app_template_global(LAUNCH_PATH, "launch_path")
PANEL_ANCHOR = "onboarding-panel"


@bp.app_template_global()
def client_onboarding_panel(client: Client) -> onboarding.OnboardingPanel:
    """The client page's onboarding panel (O1, O2, L1-L5)."""
    return onboarding.onboarding_panel(client, now=clock.now())


@bp.route("/clients/<int:client_id>/onboarding-panel")
@allow(*CLIENT_REGISTRY_ROLES)
def client_panel(client_id: int) -> Response:
    """The panel alone, refreshed in place; a plain request goes to the client page."""
    return panel_response(client_or_404(client_id), PANEL, PANEL_ANCHOR)


@bp.route("/clients/<int:client_id>/welcome", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def welcome(client_id: int) -> Response:
    """O2: the welcome email, composed by the portal; the ACM reviews it and sends it."""
    client = client_or_404(client_id)
    draft = onboarding.draft_welcome(client)
    form = WelcomeForm()
    if not form.is_submitted():
        form.body.data = draft.body
    queued = "Welcome email queued; its delivery shows on the timeline."
    return save_form(
        form,
        lambda: onboarding.send_welcome(client, actor=acting_user(), body=form.body.data or ""),
        template="onboarding/welcome.html",
        partial="onboarding/_welcome_form.html",
        done=lambda _: panel_changed(client, PANEL, PANEL_ANCHOR, queued, "timeline-changed"),
        client=client,
        draft=draft,
        cc=outbox.client_cc(client),
        welcome=onboarding.welcome_of(client),
    )
