"""The weekly cadence (F1) and the no-reply ladder (F2) of a client."""

from __future__ import annotations

from flask import abort, flash

from kamportal import clock
from kamportal.blueprints.client_tabs import client_page
from kamportal.blueprints.email_preview import preview_page
from kamportal.blueprints.followups import bp
from kamportal.blueprints.web import (
    acting_user,
    allow,
    client_or_404,
    in_place,
    panel_response,
    press,
)
from kamportal.errors import ValidationError
from kamportal.extensions import db
from kamportal.models import Client, NoReplyLadder
from kamportal.services import followups
from kamportal.services.access import CLIENT_REGISTRY_ROLES

TIMELINE_CHANGED = "timeline-changed"


@bp.app_context_processor
def ladder_helpers() -> dict:
    """`no_reply_ladder(client)` for the client page's F2 panel (one query), and
    `whatsapp_owed(ladder)`: its WhatsApp reminder is due and has not gone."""
    return {
        "no_reply_ladder": followups.open_ladder,
        "whatsapp_owed": lambda ladder: followups.whatsapp_owed(ladder, now=clock.now()),
    }


@bp.route("/clients/<int:client_id>/followups/ladder")
@allow(*CLIENT_REGISTRY_ROLES)
def ladder_panel(client_id: int):
    """The F2 panel alone: it refreshes itself when the timeline changes. A plain request
    (a history restore) gets the client page, where the panel is."""
    return panel_response(
        client_or_404(client_id), "followups/_client_ladder.html", "no-reply-ladder"
    )


def _ladder_or_404(client: Client, ladder_id: int) -> NoReplyLadder:
    ladder = db.session.get(NoReplyLadder, ladder_id)
    if ladder is None or ladder.client_id != client.id:
        abort(404)
    return ladder


def _panel(client: Client, *, status: int = 200):
    """The panel after one of its buttons: itself again (HTMX; the timeline told when
    something was done), or the client page."""
    return in_place(
        "followups/_client_ladder.html",
        location=client_page(client.id, "no-reply-ladder"),
        events=(TIMELINE_CHANGED,) if status == 200 else (),
        status=status,
        client=client,
    )


# What sending the due WhatsApp now did (services.followups.send_due_whatsapp), as the ACM
# is told; anything else left the ladder as it was.
WHATSAPP_NOW = {
    "sent": ("WhatsApp reminder queued; its status shows on the timeline.", "success"),
    "stopped": ("Not sent: the follow-up stopped ({reason}).", "info"),
    "already sent": ("The WhatsApp reminder had gone already.", "info"),
}


@bp.route("/clients/<int:client_id>/followups/<int:ladder_id>/whatsapp", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def send_whatsapp_now(client_id: int, ladder_id: int):
    """F2: the ACM sends the WhatsApp reminder that is due and has not gone (its job is
    late), as the job would: a reply logged since stops the ladder instead."""
    client = client_or_404(client_id)
    ladder = _ladder_or_404(client, ladder_id)

    def send() -> str:
        done = followups.send_due_whatsapp(ladder.id, actor=acting_user())
        if done not in WHATSAPP_NOW:
            raise ValidationError("the WhatsApp reminder is not due yet.")
        return done

    def done(what: str):
        text, category = WHATSAPP_NOW[what]
        flash(text.format(reason=ladder.stop_reason or ""), category)
        return _panel(client)

    return press(
        send, done=done, refused=lambda: _panel(client, status=422), not_done="Not sent: {}"
    )


@bp.route("/clients/<int:client_id>/followups/<int:ladder_id>/email", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def send_followup_email(client_id: int, ladder_id: int):
    """F2: the ACM sends the follow-up email the panel offers after an unanswered call."""
    client = client_or_404(client_id)
    ladder = _ladder_or_404(client, ladder_id)

    def done(_):
        flash("Follow-up email queued; its status shows on the timeline.", "success")
        return _panel(client)

    return press(
        lambda: followups.send_followup_email(ladder, actor=acting_user()),
        done=done,
        refused=lambda: _panel(client, status=422),
        not_done="Not sent: {}",
    )


@bp.route("/clients/<int:client_id>/followups/<int:ladder_id>/email/preview")
@allow(*CLIENT_REGISTRY_ROLES)
def preview_followup_email(client_id: int, ladder_id: int):
    """F2: the follow-up email as sending would queue it (G1 CCs); nothing is sent."""
    client = client_or_404(client_id)
    ladder = _ladder_or_404(client, ladder_id)
    return preview_page(
        lambda: followups.draft_followup_email(ladder, actor=acting_user()),
        title=f"The follow-up email to {client.store_name}",
        back=client_page(client.id, "no-reply-ladder"),
    )
