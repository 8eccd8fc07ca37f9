"""Support tickets (G4): from the client page the ACM escalates a technical problem to the
support team's ticket system (Jira), with the Enterprise label; the client page lists the
client's tickets with their status and SLA.

Object access: whoever may see the client (404 otherwise).
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from kamportal import clock
from kamportal.blueprints.support import bp
from kamportal.blueprints.support.forms import SupportTicketForm
from kamportal.blueprints.web import (
    acting_user,
    allow,
    client_or_404,
    panel_changed,
    panel_response,
    prefixed,
    save_form,
)
from kamportal.models import Client, SupportTicket
from kamportal.services import support_tickets
from kamportal.services.access import CLIENT_REGISTRY_ROLES

PANEL = "support/_client_panel.html"
ANCHOR = "support-panel"
# A new ticket tells the page: the timeline refreshes on "timeline-changed".
TIMELINE_CHANGED = "timeline-changed"


@bp.app_template_global()
def client_support_panel(client: Client) -> dict[str, Any]:
    """The client page's support panel: the client's tickets (a ticket in Jira links to
    it there), and the time their SLA is read at."""
    return {"tickets": support_tickets.client_tickets(client), "now": clock.now()}


@bp.route("/clients/<int:client_id>/support-panel")
@allow(*CLIENT_REGISTRY_ROLES)
def client_panel(client_id: int):
    """The panel alone, refreshed in place; a plain request goes to the client page."""
    return panel_response(client_or_404(client_id), PANEL, ANCHOR)


@bp.route("/clients/<int:client_id>/support-tickets/new", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def open_ticket(client_id: int):
    """G4: escalate the client's technical problem. A refusal of the ticket system shows
    the form again with its message, nothing saved, for the ACM to retry: the form's key
    makes a retry find a ticket whose answer was lost rather than open a second."""
    client = client_or_404(client_id)
    form = prefixed(SupportTicketForm(), "support")
    if request.method == "GET":
        form.key.data = support_tickets.new_form_key()

    def done(ticket: SupportTicket) -> Response:
        message = f"Support ticket {ticket.ticket_key} opened ({ticket.priority})."
        return panel_changed(client, PANEL, ANCHOR, message, TIMELINE_CHANGED)

    return save_form(
        form,
        lambda: support_tickets.open_ticket(
            client,
            actor=acting_user(),
            summary=form.summary.data,
            description=form.description.data,
            priority=form.priority.data,
            form_key=form.key.data,
        ),
        template="support/ticket_form_page.html",
        partial="support/_ticket_form.html",
        done=done,
        client=client,
    )
