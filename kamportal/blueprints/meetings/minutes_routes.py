"""Minutes of meetings and calls (G5, O3): written, sent or marked "no requests"; action
items shown until done."""

from __future__ import annotations

from flask import Response, flash, url_for

from kamportal.blueprints.client_tabs import client_page
from kamportal.blueprints.email_preview import preview_form
from kamportal.blueprints.meetings import bp
from kamportal.blueprints.meetings.minutes_forms import MinutesForm
from kamportal.blueprints.web import (
    acting_user,
    allow,
    client_or_404,
    in_place,
    is_htmx,
    of_visible_client,
    panel_response,
    press,
    save_form,
    saved,
)
from kamportal.extensions import db
from kamportal.models import ActionItem, Client, Minutes
from kamportal.services import minutes as minutes_service
from kamportal.services.access import CLIENT_REGISTRY_ROLES

# --- Minutes (G5, O3) --------------------------------------------------------------------
# Owed after a held meeting or an answered call; sent, or marked "no requests"; action
# items shown until done. Object access: whoever may see the client (404 otherwise).

MINUTES_CHANGED = "minutes-changed"
TIMELINE_CHANGED = "timeline-changed"


@bp.app_template_global()
def client_minutes(client: Client) -> dict:
    """The client page's minutes panel: owed minutes (oldest first) with what they are of
    and how long they have been owed, and the open action items."""
    panel = minutes_service.minutes_of_client(client)
    owed = [
        {
            "minutes": m,
            "about": minutes_service.subject_of(m),
            "owed_label": minutes_service.owed_label(m),
            "may_skip": not minutes_service.is_onboarding(m),
        }
        for m in panel.owed
    ]
    return {"owed": owed, "open_items": panel.open_items}


def _default_recipients(minutes: Minutes) -> list[int]:
    """Who the minutes go to unless the ACM changes it: the meeting's attendees, or the
    contact called, else the primary contact; only contacts with an email."""
    emails = {c.id for c in minutes.client.contacts if c.email}
    if minutes.meeting is not None:
        chosen = [c.id for c in minutes.meeting.attendees]
    elif minutes.call_event is not None:
        chosen = [minutes.call_event.detail.get("contact_id")]
    else:
        chosen = []
    chosen = [i for i in chosen if i in emails]
    if not chosen:
        chosen = [c.id for c in minutes.client.contacts if c.is_primary and c.email]
    return chosen


def _minutes_form(minutes: Minutes) -> MinutesForm:
    form = MinutesForm()
    form.recipients.choices = [
        (c.id, f"{c.name} <{c.email}>") for c in minutes.client.contacts if c.email
    ]
    if not form.is_submitted():
        form.agreed_points.data = minutes_service.default_agreed_points(minutes)
        form.recipients.data = _default_recipients(minutes)
    return form


def _action_items_from(form: MinutesForm) -> list[minutes_service.ActionItemInput]:
    return [
        minutes_service.ActionItemInput(
            description=row.description.data or "",
            owner=row.owner.data,
            due_on=row.due_on.data,
            owner_team=row.owner_team.data,
        )
        # A row's own form: FormField's `description` is the field's description text.
        for row in (entry.form for entry in form.action_items)
    ]


def _written(form: MinutesForm, minutes: Minutes) -> dict:
    """What the minutes form holds, as sending them (or their preview) takes it."""
    chosen = form.recipients.data or []
    return {
        "actor": acting_user(),
        "agreed_points": form.agreed_points.data or "",
        "action_items": _action_items_from(form),
        "recipients": [c for c in minutes.client.contacts if c.id in chosen],
    }


@bp.route("/minutes/<int:minutes_id>", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def minutes_form(minutes_id: int):
    """G5/O3: write the minutes and send them, or see what was decided."""
    minutes = of_visible_client(minutes_service.load_minutes(minutes_id))
    form = _minutes_form(minutes)
    return save_form(
        form,
        lambda: minutes_service.send_minutes(minutes, **_written(form, minutes)),
        template="meetings/minutes_form.html",
        partial="meetings/_minutes_form.html",
        done=lambda _: saved(
            "Minutes sent (G5).", "clients.show", client_id=minutes.client_id, tab="meetings"
        ),
        minutes=minutes,
        about=minutes_service.subject_of(minutes),
        owed_label=minutes_service.owed_label(minutes),
    )


@bp.route("/minutes/<int:minutes_id>/preview", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def preview_minutes(minutes_id: int):
    """G5: the minutes' email as sending would queue it (G1 CCs); nothing is sent."""
    minutes = of_visible_client(minutes_service.load_minutes(minutes_id))
    form = _minutes_form(minutes)
    return preview_form(
        form,
        lambda: minutes_service.draft_minutes(minutes, **_written(form, minutes)),
        page="meetings/minutes_form.html",
        partial="meetings/_minutes_form.html",
        retarget=f"#minutes-{minutes.id}-form",
        form=form,
        minutes=minutes,
        about=minutes_service.subject_of(minutes),
        owed_label=minutes_service.owed_label(minutes),
    )


def _minutes_panel(
    client: Client, message: str | None = None, *, status: int = 200, location: str | None = None
):
    """The client page's minutes panel again, the page told (HTMX); or `location` (the
    client page)."""
    if message:
        flash(message, "success")
    return in_place(
        "meetings/_client_minutes.html",
        location=location or client_page(client.id, "client-minutes"),
        events=(MINUTES_CHANGED, TIMELINE_CHANGED) if status == 200 else (),
        status=status,
        client=client,
    )


@bp.route("/minutes/<int:minutes_id>/no-requests", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def minutes_no_requests(minutes_id: int):
    """G5: a regular follow-up in which the client had no requests; nothing is sent."""
    minutes = of_visible_client(minutes_service.load_minutes(minutes_id))
    client = minutes.client
    return press(
        lambda: minutes_service.mark_no_requests(minutes, actor=acting_user()),
        done=lambda _: _minutes_panel(
            client, "Recorded: a regular follow-up, the client had no requests (G5)."
        ),
        # Without HTMX, to the minutes to write and send.
        refused=lambda: _minutes_panel(
            client, status=422, location=url_for("meetings.minutes_form", minutes_id=minutes_id)
        ),
    )


@bp.route("/action-items/<int:item_id>/done", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def action_item_done(item_id: int):
    """An action item agreed in the minutes is done; its row is swapped in place."""
    item = of_visible_client(db.session.get(ActionItem, item_id))
    return press(
        lambda: minutes_service.complete_action_item(item, actor=acting_user()),
        done=lambda _: _item_row(item, MINUTES_CHANGED, TIMELINE_CHANGED),
        refused=lambda: _item_row(item, status=422),
    )


def _item_row(item: ActionItem, *events: str, status: int = 200) -> Response:
    """The action item's row again, the page told of `events` (HTMX); or the client page,
    saying it is done."""
    if not is_htmx() and status == 200:
        flash("Action item done.", "success")
    return in_place(
        "meetings/_minutes_action_item.html",
        location=client_page(item.client_id, "client-minutes"),
        events=events,
        status=status,
        item=item,
    )


@bp.route("/minutes/client/<int:client_id>")
@allow(*CLIENT_REGISTRY_ROLES)
def client_minutes_panel(client_id: int):
    """The client page's minutes panel, refreshed when the timeline changes (a call logged)."""
    return panel_response(
        client_or_404(client_id), "meetings/_client_minutes.html", "client-minutes"
    )
