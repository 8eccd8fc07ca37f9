"""The weekly cadence (F1) and the no-reply ladder (F2) of a client."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for

from kamportal.blueprints.followups import bp
from kamportal.blueprints.web import (
    acting_user,
    allow,
    client_or_404,
    fragment,
    is_htmx,
    panel_response,
    with_trigger,
)
from kamportal.errors import DomainError
from kamportal.extensions import db
from kamportal.models import NoReplyLadder
from kamportal.services import followups
from kamportal.services.access import CLIENT_REGISTRY_ROLES

TIMELINE_CHANGED = "timeline-changed"


@bp.app_context_processor
def ladder_helpers() -> dict:
    """`no_reply_ladder(client)` for the client page's F2 panel (one query)."""
    return {"no_reply_ladder": followups.open_ladder}


@bp.route("/clients/<int:client_id>/followups/ladder")
@allow(*CLIENT_REGISTRY_ROLES)
def ladder_panel(client_id: int):
    """The F2 panel alone: it refreshes itself when the timeline changes. A plain request
    (a history restore) gets the client page, where the panel is."""
    return panel_response(
        client_or_404(client_id), "followups/_client_ladder.html", "no-reply-ladder"
    )


@bp.route("/clients/<int:client_id>/followups/<int:ladder_id>/email", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def send_followup_email(client_id: int, ladder_id: int):
    """F2: the ACM sends the follow-up email the panel offers after an unanswered call."""
    client = client_or_404(client_id)
    ladder = db.session.get(NoReplyLadder, ladder_id)
    if ladder is None or ladder.client_id != client.id:
        abort(404)
    try:
        followups.send_followup_email(ladder, actor=acting_user())
    except DomainError as error:
        db.session.rollback()
        flash(f"Not sent: {error.message}", "error")
        status = 422
    else:
        db.session.commit()
        flash("Follow-up email queued; its status shows on the timeline.", "success")
        status = 200
    if not is_htmx():
        return redirect(url_for("clients.show", client_id=client.id), 303)
    response = fragment("followups/_client_ladder.html", client=client, status=status)
    return with_trigger(response, TIMELINE_CHANGED) if status == 200 else response
