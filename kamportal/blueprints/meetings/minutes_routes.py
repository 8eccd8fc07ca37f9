"""Minutes of meetings and calls (G5, O3): written, sent or marked "no requests"; action
items shown until done."""

from __future__ import annotations

from flask import flash, redirect, url_for

from kamportal.blueprints.meetings import bp
from kamportal.blueprints.meetings.minutes_forms import MinutesForm
from kamportal.blueprints.web import (
    acting_user,
    allow,
    client_or_404,
    fragment,
    is_htmx,
    of_visible_client,
    panel_response,
    render,
    saved,
    with_trigger,
)
from kamportal.errors import DomainError
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


def _apply_minutes_error(form: MinutesForm, error: DomainError) -> None:
    """A service refusal on its field; "action_items-2-due_on" names a row's field."""
    field = None
    if error.field and error.field.startswith("action_items-"):
        _, index, name = error.field.split("-", 2)
        field = getattr(form.action_items[int(index)].form, name, None)
    elif error.field:
        field = getattr(form, error.field, None)
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


@bp.route("/minutes/<int:minutes_id>", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def minutes_form(minutes_id: int):
    """G5/O3: write the minutes and send them, or see what was decided."""
    minutes = of_visible_client(minutes_service.load_minutes(minutes_id))
    form = _minutes_form(minutes)
    if form.validate_on_submit():
        chosen = set(form.recipients.data or [])
        try:
            minutes_service.send_minutes(
                minutes,
                actor=acting_user(),
                agreed_points=form.agreed_points.data or "",
                action_items=_action_items_from(form),
                recipients=[c for c in minutes.client.contacts if c.id in chosen],
            )
        except DomainError as error:
            db.session.rollback()
            _apply_minutes_error(form, error)
        else:
            db.session.commit()
            return saved("Minutes sent (G5).", "clients.show", client_id=minutes.client_id)
    return render(
        "meetings/minutes_form.html",
        "meetings/_minutes_form.html",
        status=422 if form.is_submitted() else 200,
        form=form,
        minutes=minutes,
        about=minutes_service.subject_of(minutes),
        owed_label=minutes_service.owed_label(minutes),
    )


@bp.route("/minutes/<int:minutes_id>/no-requests", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def minutes_no_requests(minutes_id: int):
    """G5: a regular follow-up in which the client had no requests; nothing is sent."""
    minutes = of_visible_client(minutes_service.load_minutes(minutes_id))
    client = minutes.client
    try:
        minutes_service.mark_no_requests(minutes, actor=acting_user())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        if is_htmx():
            return fragment("meetings/_client_minutes.html", status=422, client=client)
        return redirect(url_for("meetings.minutes_form", minutes_id=minutes_id), 303)
    db.session.commit()
    flash("Recorded: a regular follow-up, the client had no requests (G5).", "success")
    if is_htmx():
        panel = fragment("meetings/_client_minutes.html", client=client)
        return with_trigger(with_trigger(panel, MINUTES_CHANGED), TIMELINE_CHANGED)
    return redirect(url_for("clients.show", client_id=client.id), 303)


@bp.route("/action-items/<int:item_id>/done", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def action_item_done(item_id: int):
    """An action item agreed in the minutes is done; its row is swapped in place."""
    item = of_visible_client(db.session.get(ActionItem, item_id))
    minutes_service.complete_action_item(item, actor=acting_user())
    db.session.commit()
    if is_htmx():
        row = fragment("meetings/_minutes_action_item.html", item=item)
        return with_trigger(with_trigger(row, MINUTES_CHANGED), TIMELINE_CHANGED)
    flash("Action item done.", "success")
    return redirect(url_for("clients.show", client_id=item.client_id), 303)


@bp.route("/minutes/client/<int:client_id>")
@allow(*CLIENT_REGISTRY_ROLES)
def client_minutes_panel(client_id: int):
    """The client page's minutes panel, refreshed when the timeline changes (a call logged)."""
    return panel_response(
        client_or_404(client_id), "meetings/_client_minutes.html", "client-minutes"
    )
