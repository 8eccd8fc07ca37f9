"""Meetings of a client (G2, F3); minutes are in minutes_routes.py."""

from __future__ import annotations

import re
from datetime import date, time

from flask import abort, request
from flask_login import current_user
from wtforms import SelectChoice

from kamportal import clock
from kamportal.blueprints.client_tabs import client_page
from kamportal.blueprints.email_preview import preview_form, preview_page
from kamportal.blueprints.meetings import bp
from kamportal.blueprints.meetings.forms import (
    CancelForm,
    HeldForm,
    MeetingTimeForm,
    NoShowForm,
    ScheduleForm,
)
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    client_or_404,
    fragment,
    of_visible_client,
    panel_changed,
    panel_response,
    prefixed,
)
from kamportal.errors import ValidationError
from kamportal.extensions import db
from kamportal.messaging.outbox import draft_of
from kamportal.models import Client, Meeting, MeetingType, User
from kamportal.services import access, meetings, validation

# --- Meetings (G2, F3) -------------------------------------------------------------------
# Scheduled from the client page; date and time typed in the client's zone, shown in the
# ACM's while typing. Object access: whoever may see the client (404 otherwise).

# A change here returns the panel itself and tells the rest of the page: the timeline and
# the minutes panel ("timeline-changed"), and the ACM's day sections ("meeting-changed").
MEETING_CHANGED = "meeting-changed"
TIMELINE_CHANGED = "timeline-changed"
_PREFIX = re.compile(r"[a-z0-9-]{1,40}")


@bp.app_template_global()
def client_meetings_panel(client: Client) -> dict:
    """The client page's meetings panel: upcoming and recent meetings with their
    confirmation state (F3)."""
    now = clock.now()
    found = meetings.client_meetings(client, now=now)
    return {
        **found,
        "now": now,
        "states": {
            m.id: meetings.confirmation_state(m, now=now)
            for m in found["upcoming"] + found["recent"]
        },
    }


def _acm_of(client: Client) -> User:
    """Who runs the client's meetings: its ACM (the signed-in user when it has none)."""
    return client.acm or current_user


def _time_form(form_class: type[MeetingTimeForm], client: Client, prefix: str, **kwargs):
    """A meeting form whose field ids carry `prefix`: the new-meeting form and reschedule
    forms can be open together on the client page."""
    form = form_class(**kwargs)
    form.attendees.choices = [
        SelectChoice(c.id, f"{c.name} <{c.email}>") for c in client.contacts if c.email
    ]
    return prefixed(form, prefix)


def _starts_at(form: MeetingTimeForm, client: Client, meeting: Meeting | None = None):
    """The instant typed in the client's zone; the meeting's own time keeps its instant."""
    return meetings.starts_at_from_local(
        form.date.data,
        form.time.data,
        client.timezone,
        current=meeting.starts_at if meeting is not None else None,
    )


def _details(form: MeetingTimeForm, client: Client) -> dict:
    """What the meeting form says besides its time: length, link, agenda, attendees."""
    chosen = set(form.attendees.data or [])
    return {
        "duration_minutes": form.duration_minutes.data,
        "zoom_link": form.zoom_link.data,
        "agenda": form.agenda.data or "",
        "attendees": [c for c in client.contacts if c.id in chosen],
    }


def _changed(client: Client, message: str):
    """After a change: the meetings panel again (HTMX), or back to the client page."""
    return panel_changed(
        client,
        "meetings/_client_meetings.html",
        "meetings-panel",
        message,
        TIMELINE_CHANGED,
        MEETING_CHANGED,
    )


@bp.route("/clients/<int:client_id>/meetings")
@allow(*access.CLIENT_REGISTRY_ROLES)
def client_meetings(client_id: int):
    """The meetings panel, refreshed in place; a plain request goes to the client page."""
    return panel_response(
        client_or_404(client_id), "meetings/_client_meetings.html", "meetings-panel"
    )


def _meeting_form(client: Client, meeting: Meeting | None, form: MeetingTimeForm, save, *, done):
    """The new-meeting and reschedule forms: in place of the panel's button (HTMX) or on
    their own page, with the time typed shown in the ACM's zone (F3)."""
    prefix = f"meeting-{meeting.id}" if meeting is not None else "new-meeting"
    return answer(
        form,
        save,
        done=done,
        page="meetings/form_page.html",
        partial="meetings/_meeting_form.html",
        form=form,
        client=client,
        meeting=meeting,
        prefix=prefix,
        preview=_form_preview(form, client, prefix, meeting),
    )


@bp.route("/clients/<int:client_id>/meetings/new", methods=["GET", "POST"])
@allow(*access.CLIENT_REGISTRY_ROLES)
def new(client_id: int):
    """Schedule a meeting (G2); F3 refuses under 4 hours' notice without a reason."""
    client = client_or_404(client_id)
    form = _time_form(ScheduleForm, client, "new-meeting")
    if request.method == "GET":
        form.attendees.data = [c.id for c in client.contacts if c.is_primary and c.email]
        # The day's "book a hand-over meeting" (P5) and the like open the form on a kind.
        if request.args.get("kind") in {kind.value for kind in MeetingType}:
            form.kind.data = request.args["kind"]

    return _meeting_form(
        client,
        None,
        form,
        lambda: meetings.schedule_meeting(
            client,
            actor=acting_user(),
            kind=form.kind.data,
            starts_at=_starts_at(form, client),
            short_notice_reason=form.short_notice_reason.data,
            **_details(form, client),
        ),
        done=lambda meeting: _changed(client, f"Meeting scheduled for {_when(meeting)}."),
    )


def _when(meeting: Meeting) -> str:
    """When the meeting is, in the client's zone ("Tue 24 Nov 15:00 EET")."""
    when = clock.in_zone(meeting.starts_at, meeting.client.timezone)
    return f"{when:%a %d %b %H:%M} {when.tzname()}"


@bp.route("/clients/<int:client_id>/meetings/preview")
@allow(*access.CLIENT_REGISTRY_ROLES)
def preview(client_id: int):
    """F3: the instant typed in the client's zone, shown in the ACM's (HTMX, while typing)."""
    client = client_or_404(client_id)
    prefix = request.args.get("for", "new-meeting")
    if not _PREFIX.fullmatch(prefix):
        abort(400)
    # The meeting being edited, when it is this client's: its own time keeps its instant.
    meeting_id = validation.query_number(request.args.get("meeting"), default=None)
    meeting = db.session.get(Meeting, meeting_id) if meeting_id else None
    if meeting is not None and meeting.client_id != client.id:
        meeting = None
    return fragment(
        "meetings/_time_preview.html",
        client=client,
        preview=_preview(
            client, prefix, request.args.get("date"), request.args.get("time"), meeting
        ),
    )


def _form_preview(
    form: MeetingTimeForm, client: Client, prefix: str, meeting: Meeting | None = None
) -> dict:
    day, at = form.date.data, form.time.data
    return _preview(
        client, prefix, day.isoformat() if day else None, at.isoformat() if at else None, meeting
    )


def _preview(
    client: Client, prefix: str, day: str | None, at: str | None, meeting: Meeting | None = None
) -> dict:
    """What the time preview shows: the instant of `day` `at` in the client's zone."""
    context = {
        "client": client,
        "prefix": prefix,
        "acm": _acm_of(client),
        "viewer": current_user,
    }
    try:
        starts_at = meetings.starts_at_from_local(
            date.fromisoformat(day or ""),
            time.fromisoformat(at or ""),
            client.timezone,
            current=meeting.starts_at if meeting is not None else None,
        )
    except ValueError:
        return {**context, "starts_at": None, "problem": None}
    except ValidationError as error:
        return {**context, "starts_at": None, "problem": error.message}
    now = clock.now()
    return {
        **context,
        "starts_at": starts_at,
        "problem": "This time has passed." if starts_at <= now else None,
        "short_notice": starts_at > now and meetings.is_short_notice(starts_at, now=now),
    }


@bp.route("/meetings/<int:meeting_id>/confirmation/preview")
@allow(*access.CLIENT_REGISTRY_ROLES)
def preview_confirmation(meeting_id: int):
    """F3: the confirmation the attendees get of the meeting as it stands; nothing is sent."""
    meeting = of_visible_client(db.session.get(Meeting, meeting_id))
    return preview_page(
        lambda: meetings.draft_confirmation(meeting),
        title=f"The confirmation of the meeting of {_when(meeting)}",
        back=client_page(meeting.client_id, "meetings-panel"),
    )


@bp.route("/meetings/<int:meeting_id>/reschedule", methods=["GET", "POST"])
@allow(*access.CLIENT_REGISTRY_ROLES)
def reschedule(meeting_id: int):
    """Move or change a meeting; its confirmation changes with it (F3)."""
    meeting = of_visible_client(db.session.get(Meeting, meeting_id))
    client = meeting.client
    form = _time_form(MeetingTimeForm, client, f"meeting-{meeting.id}")
    if request.method == "GET":
        _show_as_it_is(form, meeting)
    return _meeting_form(
        client,
        meeting,
        form,
        lambda: meetings.reschedule_meeting(
            meeting,
            actor=acting_user(),
            starts_at=_starts_at(form, client, meeting),
            short_notice_reason=form.short_notice_reason.data,
            **_details(form, client),
        ),
        done=lambda _: _changed(
            client, "Meeting changed; the attendees get the updated invite (F3)."
        ),
    )


def _show_as_it_is(form: MeetingTimeForm, meeting: Meeting) -> None:
    """The reschedule form, opened: the meeting as it stands, its time in the client's zone."""
    local = clock.in_zone(meeting.starts_at, meeting.client.timezone)
    form.date.data, form.time.data = local.date(), local.time().replace(tzinfo=None)
    form.duration_minutes.data = meeting.duration_minutes
    form.zoom_link.data = meeting.zoom_link
    form.agenda.data = meeting.agenda
    form.attendees.data = [c.id for c in meeting.attendees]


def _meeting_action(meeting: Meeting, form, action: str, do):
    """Cancel, held, no-show: the small form in the meeting's row, or its own page."""
    return answer(
        prefixed(form, f"meeting-{meeting.id}"),
        do,
        done=lambda message: _changed(meeting.client, message),
        page="meetings/action_page.html",
        partial="meetings/_action_form.html",
        form=form,
        client=meeting.client,
        meeting=meeting,
        action=action,
    )


@bp.route("/meetings/<int:meeting_id>/cancel", methods=["GET", "POST"])
@allow(*access.CLIENT_REGISTRY_ROLES)
def cancel(meeting_id: int):
    """Cancel a meeting: its confirmation is withdrawn and a cancellation sent (F3)."""
    meeting = of_visible_client(db.session.get(Meeting, meeting_id))
    form = CancelForm()

    def do() -> str:
        meetings.cancel_meeting(meeting, actor=acting_user(), reason=form.reason.data)
        return "Meeting cancelled; the attendees are told (F3)."

    return _meeting_action(meeting, form, "cancel", do)


@bp.route("/meetings/<int:meeting_id>/cancel/preview", methods=["POST"])
@allow(*access.CLIENT_REGISTRY_ROLES)
def preview_cancellation(meeting_id: int):
    """F3: the cancellation the attendees would get, with its reason; nothing is cancelled
    or sent (the cancelling runs and is rolled back)."""
    meeting = of_visible_client(db.session.get(Meeting, meeting_id))
    form = prefixed(CancelForm(), f"meeting-{meeting.id}")
    return preview_form(
        form,
        lambda: draft_of(
            meetings.cancel_meeting(meeting, actor=acting_user(), reason=form.reason.data)
        ),
        page="meetings/action_page.html",
        partial="meetings/_action_form.html",
        retarget=f"#meeting-{meeting.id}-cancel-form",
        form=form,
        client=meeting.client,
        meeting=meeting,
        action="cancel",
    )


@bp.route("/meetings/<int:meeting_id>/held", methods=["GET", "POST"])
@allow(*access.CLIENT_REGISTRY_ROLES)
def held(meeting_id: int):
    """G2: the meeting took place, with its recording link; minutes are now owed (G5)."""
    meeting = of_visible_client(db.session.get(Meeting, meeting_id))
    form = HeldForm()

    def do() -> str:
        meetings.mark_held(meeting, actor=acting_user(), recording_link=form.recording_link.data)
        return "Meeting marked held; its minutes are owed (G5)."

    return _meeting_action(meeting, form, "held", do)


@bp.route("/meetings/<int:meeting_id>/no-show", methods=["GET", "POST"])
@allow(*access.CLIENT_REGISTRY_ROLES)
def no_show(meeting_id: int):
    """The client did not come."""
    meeting = of_visible_client(db.session.get(Meeting, meeting_id))
    form = NoShowForm()

    def do() -> str:
        meetings.mark_no_show(meeting, actor=acting_user())
        return "Meeting marked a no-show."

    return _meeting_action(meeting, form, "no_show", do)
