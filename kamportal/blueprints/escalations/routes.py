"""Escalations (E1, E2, E3) and the complaint-handling queue (E3).

Raised from the client page. The escalation page shows the ladder with each step's proof
and the time left on the current step, and holds the ACM's actions (log the call, resolve,
send to the leader, resume) and the leader's decision. The queue lists the open
escalations of the clients the user may see, those waiting for a decision first.

Object access: whoever may see the client (404 otherwise); the decision: the client's team
leader or an admin (403 for the others who see it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from kamportal import clock
from kamportal.blueprints.client_tabs import client_page
from kamportal.blueprints.email_preview import preview_form, preview_page
from kamportal.blueprints.escalations import bp
from kamportal.blueprints.escalations.forms import (
    ComplaintForm,
    ComplaintUpdateForm,
    DecisionForm,
    EscalationCallForm,
    NoteForm,
    RaiseForm,
)
from kamportal.blueprints.options import options
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    client_or_404,
    form_invalid,
    fragment,
    in_place,
    is_htmx,
    of_visible_client,
    panel_changed,
    panel_response,
    prefixed,
    render,
    save_form,
    submit,
    with_trigger,
)
from kamportal.errors import ValidationError
from kamportal.extensions import db
from kamportal.messaging.outbox import draft_of
from kamportal.models import (
    Client,
    Complaint,
    ComplaintStatus,
    Escalation,
    OutboxMessage,
    Role,
    User,
)
from kamportal.services import access, clients, escalations, validation
from kamportal.services.access import CLIENT_REGISTRY_ROLES

# A change here tells the page: the ladder and the client's panel refresh on
# "escalation-changed", the timeline on "timeline-changed".
ESCALATION_CHANGED = "escalation-changed"
TIMELINE_CHANGED = "timeline-changed"
COMPLAINT_TABS = {
    "": "Being handled",
    ComplaintStatus.OPEN.value: ComplaintStatus.OPEN.label,
    ComplaintStatus.IN_PROGRESS.value: ComplaintStatus.IN_PROGRESS.label,
    ComplaintStatus.CLOSED.value: ComplaintStatus.CLOSED.label,
    ComplaintStatus.CONFIRMED.value: ComplaintStatus.CONFIRMED.label,
}


def _escalation_or_404(escalation_id: int) -> Escalation:
    return of_visible_client(escalations.load_escalation(escalation_id))


def _changed(response: Response) -> Response:
    return with_trigger(with_trigger(response, ESCALATION_CHANGED), TIMELINE_CHANGED)


# --- On the client page (E1, E3) ---------------------------------------------------------


@bp.app_template_global()
def client_escalation_panel(client: Client) -> dict[str, Any]:
    """The client page's escalation panel: the open escalation and where it stands, and
    the complaints still being handled."""
    escalation = escalations.open_escalation(client)
    return {
        "escalation": escalation,
        "standing": escalations.standing(escalation, now=clock.now()) if escalation else None,
        "complaints": escalations.client_complaints(client),
    }


@bp.route("/clients/<int:client_id>/escalation-panel")
@allow(*CLIENT_REGISTRY_ROLES)
def client_panel(client_id: int):
    """The panel alone, refreshed in place; a plain request goes to the client page."""
    return panel_response(
        client_or_404(client_id), "escalations/_client_panel.html", "escalation-panel"
    )


def _client_form(
    client: Client,
    form: FlaskForm,
    kind: str,
    save: Callable[[], Any],
    done: Callable[[Any], tuple[str, str]],
) -> Response:
    """Raise an escalation or record a complaint from the client page: the form opens in
    the panel; once saved, the panel again (HTMX) or `done`'s page, with its message."""

    def saved(result: Any) -> Response:
        message, location = done(result)
        return panel_changed(
            client,
            "escalations/_client_panel.html",
            "escalation-panel",
            message,
            ESCALATION_CHANGED,
            TIMELINE_CHANGED,
            location=location,
        )

    return save_form(
        prefixed(form, kind),
        save,
        template="escalations/client_form_page.html",
        partial="escalations/_client_form.html",
        done=saved,
        client=client,
        kind=kind,
    )


def _said(form: RaiseForm | ComplaintForm) -> dict[str, Any]:
    """What the client said, and how."""
    return {"said": form.said.data, "channel": form.channel.data}


@bp.route("/clients/<int:client_id>/escalations/new", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def raise_escalation(client_id: int):
    """E1: the client asked for the ACM's manager, to change the ACM, or refuses the ACM.
    A client with an open escalation: what it said now is added to that one."""
    client = client_or_404(client_id)
    form = RaiseForm()
    adding = escalations.open_escalation(client) is not None

    def done(escalation: Escalation) -> tuple[str, str]:
        added = f"Added to the open escalation #{escalation.id}."
        raised = f"Escalation #{escalation.id} raised: call the client now (E2)."
        return added if adding else raised, url_for("escalations.show", escalation_id=escalation.id)

    return _client_form(
        client,
        form,
        "escalation",
        lambda: escalations.raise_escalation(
            client, actor=acting_user(), trigger=form.trigger.data, **_said(form)
        ),
        done,
    )


@bp.route("/clients/<int:client_id>/complaints/new", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def record_complaint(client_id: int):
    """E3: a complaint, cancellation or refund request goes to the complaint-handling
    queue, not up the ladder."""
    client = client_or_404(client_id)
    form = ComplaintForm()

    def done(complaint: Complaint) -> tuple[str, str]:
        message = (
            f"{complaint.complaint_kind.label} #{complaint.id} recorded for complaint handling."
        )
        return message, client_page(client.id, "escalation-panel")

    return _client_form(
        client,
        form,
        "complaint",
        lambda: escalations.record_complaint(
            client,
            actor=acting_user(),
            kind=form.kind.data,
            refund_amount=form.refund_amount.data,
            **_said(form),
        ),
        done,
    )


# --- The escalation page (E2, E3) --------------------------------------------------------


def _action_forms(escalation: Escalation, given: dict[str, FlaskForm]) -> dict[str, FlaskForm]:
    """The forms of the escalation page: the one just refused (`given`) keeps what was
    typed and its errors; the others are empty."""
    client = escalation.client
    forms: dict[str, FlaskForm] = {
        "call_form": EscalationCallForm(formdata=None),
        "resolve_form": NoteForm(formdata=None),
        "leader_form": NoteForm(formdata=None),
        "resume_form": NoteForm(formdata=None),
        "decision_form": DecisionForm(formdata=None),
        **given,
    }
    forms["call_form"].contact.choices = options(
        [(0, "The client (no contact chosen)")] + [(c.id, c.name) for c in client.contacts]
    )
    if not forms["call_form"].contact.data and client.primary_contact is not None:
        forms["call_form"].contact.data = client.primary_contact.id
    forms["decision_form"].acm.choices = options(
        [(0, "— Choose an ACM of the team —")]
        + [(u.id, u.name) for u in escalations.reassignment_choices(current_user, client)]
    )
    for name, form in forms.items():
        prefixed(form, name.removesuffix("_form"))
    return forms


def _page(escalation: Escalation, **given: FlaskForm) -> dict[str, Any]:
    client = escalation.client
    now = clock.now()
    return {
        "escalation": escalation,
        "client": client,
        "standing": escalations.standing(escalation, now=now),
        "ladder": escalations.ladder(escalation),
        "can_act": escalation.is_open and access.can_work_on_client(current_user, client),
        "can_decide": escalation.is_open and access.can_decide_escalation(current_user, client),
        **_action_forms(escalation, given),
    }


@bp.route("/escalations/<int:escalation_id>")
@allow(*CLIENT_REGISTRY_ROLES)
def show(escalation_id: int):
    escalation = _escalation_or_404(escalation_id)
    return render("escalations/show.html", **_page(escalation))


@bp.route("/escalations/<int:escalation_id>/ladder")
@allow(*CLIENT_REGISTRY_ROLES)
def ladder_panel(escalation_id: int):
    """The ladder with its proofs and the time left, refreshed in place (a delivery
    status changes, a scheduled step runs); a plain request gets the whole page."""
    escalation = _escalation_or_404(escalation_id)
    if not is_htmx():
        return redirect(url_for("escalations.show", escalation_id=escalation.id))
    return fragment("escalations/_ladder.html", **_page(escalation))


# What an action changes elsewhere on the escalation page, swapped out of band.
PAGE_OOB = ("escalations/_status_badge.html", "escalations/_facts.html")


def _act(
    escalation: Escalation, name: str, form: FlaskForm, act: Callable[[], Any], message: str
) -> Response:
    """One action of the escalation page. Done: the actions again (HTMX), the ladder and
    the timeline told. Refused: the actions with this form's field errors, or the refusal
    on top (the escalation moved on meanwhile and the form may be gone), 422, nothing
    saved."""
    prefixed(form, name.removesuffix("_form"))
    if submit(form, act) is not None:
        flash(message, "success")
        if not is_htmx():
            return redirect(url_for("escalations.show", escalation_id=escalation.id), 303)
        fresh = escalations.load_escalation(escalation.id)
        # The header's badge and the facts (the ACM, after a reassignment) show the change too.
        return _changed(fragment("escalations/_actions.html", *PAGE_OOB, **_page(fresh)))
    refused = form.form_errors[0] if form.form_errors else None
    context = {**_page(escalation, **{name: form}), "refused": refused}
    if is_htmx():
        return form_invalid("escalations/_actions.html", **context)
    return form_invalid("escalations/show.html", **context)


@bp.route("/escalations/<int:escalation_id>/call", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def log_call(escalation_id: int):
    """E2 step 1 (G3): the ACM's call. Not answered: the "we tried to call you" email goes
    at once and the WhatsApp step is scheduled."""
    escalation = _escalation_or_404(escalation_id)
    form = EscalationCallForm()
    form.contact.choices = []

    def act() -> None:
        escalations.log_escalation_call(
            escalation,
            actor=acting_user(),
            outcome=form.outcome.data,
            notes=form.notes.data or "",
            contact=clients.contact_of(escalation.client, form.contact.data),
        )

    return _act(escalation, "call_form", form, act, "Call logged (E2).")


@bp.route("/escalations/<int:escalation_id>/email/preview")
@allow(*CLIENT_REGISTRY_ROLES)
def preview_email(escalation_id: int):
    """E2: the "we tried to call you" email an unanswered call would send; nothing is sent."""
    escalation = _escalation_or_404(escalation_id)
    return preview_page(
        lambda: escalations.draft_email_step(escalation, actor=acting_user()),
        title=f"The \u201cwe tried to call you\u201d email to {escalation.client.store_name}",
        back=url_for("escalations.show", escalation_id=escalation.id),
    )


# The actions that take a note (E2): the service, the form's name on the page, and what
# the user is told once it is done.
NOTE_ACTIONS: dict[str, tuple[Callable[..., None], str, str]] = {
    # Solved with the client: the ladder stops.
    "resolve": (escalations.resolve, "resolve_form", "Escalation resolved; the ladder stopped."),
    # The ACM cannot solve it: straight to the leader, the final step.
    "to-leader": (
        escalations.advance_to_leader,
        "leader_form",
        "Sent to the team leader, who is told by email (E2).",
    ),
    # The client replied but it is not solved: the ladder goes on, its wait afresh.
    "resume": (escalations.resume_ladder, "resume_form", "The ladder goes on (E2)."),
}


@bp.route(
    '/escalations/<int:escalation_id>/<any(resolve, "to-leader", resume):action>', methods=["POST"]
)
@allow(*CLIENT_REGISTRY_ROLES)
def note_action(escalation_id: int, action: str):
    """E2: resolve, send to the leader, or resume a paused ladder, with a note."""
    escalation = _escalation_or_404(escalation_id)
    service, form_name, message = NOTE_ACTIONS[action]
    form = NoteForm()
    return _act(
        escalation,
        form_name,
        form,
        lambda: service(escalation, actor=acting_user(), note=form.note.data),
        message,
    )


@bp.route("/escalations/<int:escalation_id>/decide", methods=["POST"])
@allow(Role.LEADER, Role.ADMIN)
def decide(escalation_id: int):
    """E3: the leader's decision: resolved, reassign the client, or take it over."""
    escalation = _escalation_or_404(escalation_id)
    if not access.can_decide_escalation(current_user, escalation.client):
        abort(403)
    form = DecisionForm()
    form.acm.choices = []
    return _act(
        escalation,
        "decision_form",
        form,
        lambda: _decided(escalation, form),
        "Decision recorded; the client is told.",
    )


@bp.route("/escalations/<int:escalation_id>/decide/preview", methods=["POST"])
@allow(Role.LEADER, Role.ADMIN)
def preview_decision(escalation_id: int):
    """E3: the leader's note as the client would get it; nothing is decided or sent (the
    decision runs and is rolled back)."""
    escalation = _escalation_or_404(escalation_id)
    if not access.can_decide_escalation(current_user, escalation.client):
        abort(403)
    form = prefixed(DecisionForm(), "decision")
    form.acm.choices = []
    context = {**_page(escalation, decision_form=form), "refused": None}
    return preview_form(
        form,
        lambda: draft_of(_client_told(_decided(escalation, form))),
        page="escalations/show.html",
        partial="escalations/_actions.html",
        retarget="#escalation-actions",
        **context,
    )


def _decided(escalation: Escalation, form: DecisionForm) -> OutboxMessage | None:
    return escalations.decide(
        escalation,
        leader=acting_user(),
        decision=form.decision.data,
        note=form.note.data,
        new_acm=_new_acm(form, escalation),
    )


def _client_told(message: OutboxMessage | None) -> OutboxMessage:
    if message is None:
        raise ValidationError("No contact of the client has an email address: add one.")
    return message


def _new_acm(form: DecisionForm, escalation: Escalation) -> User | None:
    """The ACM chosen to take the client over, when the decision is to reassign it: one of
    those the leader may choose."""
    if form.decision.data != "reassign":
        return None
    choices = escalations.reassignment_choices(current_user, escalation.client)
    return next((u for u in choices if u.id == form.acm.data), None)


# --- The leader's queue (E3) -------------------------------------------------------------


def _page_asked() -> int:
    return validation.query_number(request.args.get("page"), default=1) or 1


def _queue_context() -> dict[str, Any]:
    if request.args.get("show") == "resolved":
        resolved = escalations.resolved_escalations(current_user)
        return {"show_resolved": True, "standings": [], "resolved": resolved, "page": None}
    page, standings = escalations.queue_page(
        current_user,
        now=clock.now(),
        page=_page_asked(),
        per_page=current_app.config["LIST_PER_PAGE"],
    )
    return {"show_resolved": False, "standings": standings, "resolved": [], "page": page}


@bp.route("/escalations/")
@allow(*CLIENT_REGISTRY_ROLES)
def index():
    """The open escalations of the clients the user may see, those waiting for the
    leader's decision first, each with its age and time left in business hours; or the
    latest resolved ones (`?show=resolved`)."""
    return render("escalations/index.html", "escalations/_queue.html", **_queue_context())


# --- The complaint-handling queue (E3) ---------------------------------------------------


def _complaint_form(complaint: Complaint, formdata: Any = None) -> ComplaintUpdateForm:
    form = ComplaintUpdateForm(formdata=formdata, status=complaint.status)
    return prefixed(form, f"complaint-{complaint.id}")


@bp.route("/complaints/")
@allow(*CLIENT_REGISTRY_ROLES)
def complaints():
    """Complaints, cancellations and refunds of the clients the user may see, oldest
    first; by default those still being handled."""
    status = request.args.get("status", "")
    if status not in COMPLAINT_TABS:
        status = ""
    found = escalations.complaint_queue_page(
        current_user,
        status=status or None,
        page=_page_asked(),
        per_page=current_app.config["LIST_PER_PAGE"],
    )
    return render(
        "escalations/complaints.html",
        "escalations/_complaints.html",
        complaints=found.items,
        page=found,
        forms={},
        tab=status,
        tabs=COMPLAINT_TABS,
    )


@bp.route("/complaints/<int:complaint_id>/form")
@allow(*CLIENT_REGISTRY_ROLES)
def complaint_form(complaint_id: int):
    """E3: the form that moves a complaint along, opened in its row (HTMX), or the queue
    with that complaint alone and its form (without JavaScript)."""
    complaint = of_visible_client(db.session.get(Complaint, complaint_id))
    form = _complaint_form(complaint)
    return render(
        "escalations/complaints.html",
        "escalations/_complaint_form.html",
        complaint=complaint,
        form=form,
        complaints=[complaint],
        page=None,
        forms={complaint.id: form},
        tab="",
        tabs=COMPLAINT_TABS,
    )


@bp.route("/complaints/<int:complaint_id>", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def update_complaint(complaint_id: int):
    """E3: move a complaint along (open → in progress → closed), with a note."""
    complaint = of_visible_client(db.session.get(Complaint, complaint_id))
    form = _complaint_form(complaint, formdata=request.form)
    return answer(
        form,
        lambda: escalations.update_complaint(
            complaint, actor=acting_user(), status=form.status.data, note=form.note.data
        ),
        done=lambda _: _complaint_moved(complaint),
        page="escalations/complaints.html",
        partial="escalations/_complaint_row.html",
        page_context=lambda: {
            "complaints": [complaint],
            "page": None,
            "forms": {complaint.id: form},
            "tab": "",
            "tabs": COMPLAINT_TABS,
        },
        complaint=complaint,
        form=form,
    )


def _complaint_moved(complaint: Complaint) -> Response:
    """The complaint's row again, its form closed (HTMX), or back to the queue."""
    kind, status = complaint.complaint_kind.label, complaint.complaint_status.label
    flash(f"{kind} #{complaint.id}: {status.lower()}.", "success")
    return in_place(
        "escalations/_complaint_row.html",
        location=url_for("escalations.complaints"),
        complaint=complaint,
        form=None,
    )
