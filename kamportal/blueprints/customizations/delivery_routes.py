"""A customization's delivery (C7) on the request's page: the milestones (a row changed in
place, one added), the progress, the client's acceptance (the link sent, or recorded by the
ACM with evidence), the closure and the satisfaction survey; and the client's two pages
behind emailed links: the acceptance and the survey.

Access: the request's section, whoever may see it (its changes: whoever works on the
client, 404 otherwise); the client's pages need no login, the token in the address is the
only key, rate limited, never cached nor referred, and a refused link names nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import SelectChoice

from kamportal import clock, i18n
from kamportal.blueprints.customizations import bp
from kamportal.blueprints.customizations.client_pages import link_limit, refused, replacing_the_page
from kamportal.blueprints.customizations.delivery_forms import (
    NO_OWNER,
    AcceptanceRecordForm,
    ClientAcceptanceForm,
    MilestoneForm,
    NewMilestoneForm,
    SurveyForm,
)
from kamportal.blueprints.customizations.routes import _show_context, _visible_request
from kamportal.blueprints.email_preview import preview_sending
from kamportal.blueprints.forms import ActionForm
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    in_place,
    prefixed,
    public,
    render,
)
from kamportal.extensions import db, limiter
from kamportal.i18n import N_
from kamportal.models import ClientLink, CustomizationRequest, CustomizationStage, Milestone
from kamportal.services import access, client_links, customizations, delivery
from kamportal.services.access import CLIENT_REGISTRY_ROLES

CHANGED = ("customization-changed", "timeline-changed")


# --- The request page's delivery section --------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A milestone's row: the milestone, its form, whether it is late (C7)."""

    milestone: Milestone
    form: MilestoneForm
    late: bool


@dataclass(frozen=True)
class DeliveryPanel:
    """What the delivery section shows and which actions it offers (decided here, not in
    the template)."""

    request: CustomizationRequest
    progress: delivery.Progress
    rows: list[Row]
    add_form: NewMilestoneForm
    acceptance_form: AcceptanceRecordForm
    acceptance_link: ClientLink | None
    acceptance_link_expired: bool
    survey: delivery.SurveyStanding | None
    evidence: list[Any]
    may_change: bool
    may_accept: bool
    may_close: bool
    may_resend: bool
    # The form of a button refused (its errors show above the section's actions).
    action_form: FlaskForm | None = None

    def row_of(self, milestone: Milestone) -> Row | None:
        return next((r for r in self.rows if r.milestone.id == milestone.id), None)


def _owner_options(customization: CustomizationRequest) -> list[SelectChoice]:
    return [
        SelectChoice(NO_OWNER, "— Nobody yet —"),
        *(SelectChoice(u.id, u.name) for u in delivery.owner_choices(customization)),
    ]


def _row_form(milestone: Milestone, owners: list[SelectChoice], **kwargs: Any) -> MilestoneForm:
    if "formdata" not in kwargs:
        kwargs.update(
            formdata=None,
            data={
                "due_on": milestone.due_on,
                "owner_id": milestone.owner_id or NO_OWNER,
                "status": milestone.status,
            },
        )
    form = prefixed(MilestoneForm(**kwargs), f"milestone-{milestone.id}")
    form.owner_id.choices = owners
    return form


def _new_form(owners: list[SelectChoice], **kwargs: Any) -> NewMilestoneForm:
    form = prefixed(NewMilestoneForm(**kwargs), "new-milestone")
    form.owner_id.choices = owners
    return form


def delivery_panel(
    customization: CustomizationRequest,
    *,
    row_form: tuple[int, MilestoneForm] | None = None,
    add_form: NewMilestoneForm | None = None,
    acceptance_form: AcceptanceRecordForm | None = None,
    action_form: FlaskForm | None = None,
) -> DeliveryPanel | None:
    """The delivery section of a customization in delivery or after; None before. A form given
    (with its errors) takes its place."""
    if customization.stage not in delivery.DELIVERY_STAGES:
        return None
    user = acting_user()
    milestones = delivery.milestones_of(customization)
    progress = delivery.progress(milestones, today=clock.today(customization.client.timezone))
    works = access.can_work_on_client(user, customization.client)
    in_delivery = customization.stage == CustomizationStage.DELIVERY.value
    owners = _owner_options(customization) if works and in_delivery else []
    rows = [
        Row(
            m,
            row_form[1] if row_form and row_form[0] == m.id else _row_form(m, owners),
            delivery.is_late(m, progress.today),
        )
        for m in milestones
    ]
    link = client_links.live_link(customization, "acceptance")
    return DeliveryPanel(
        request=customization,
        progress=progress,
        rows=rows,
        add_form=add_form or _new_form(owners, formdata=None),
        acceptance_form=acceptance_form
        or prefixed(AcceptanceRecordForm(formdata=None), "acceptance"),
        acceptance_link=link if link and link.used_at is None and link.revoked_at is None else None,
        acceptance_link_expired=link is not None and clock.now() >= link.expires_at,
        survey=delivery.survey_standing(customization),
        evidence=delivery.evidence_of(customization),
        may_change=works and in_delivery,
        may_accept=works and in_delivery and progress.all_done,
        may_close=works and customization.stage == CustomizationStage.CLOSING.value,
        may_resend=works,
        action_form=action_form,
    )


bp.add_app_template_global(delivery_panel)


def _working_request(request_id: int) -> CustomizationRequest:
    """The request, if the signed-in user works on its client; otherwise 404."""
    found = _visible_request(request_id)
    if not access.can_work_on_client(acting_user(), found.client):
        abort(404)
    return found


def _page(customization: CustomizationRequest) -> str:
    return url_for("customizations.show", request_id=customization.id) + "#delivery"


def _section_changed(customization: CustomizationRequest, message: str) -> Response:
    """Done: the delivery section again in its place (HTMX), the page told; or the page."""
    flash(message, "success")
    return in_place(
        "customizations/_delivery.html",
        location=_page(customization),
        events=CHANGED,
        customization=customization,
        delivery=delivery_panel(customization),
    )


def _section_answer(
    customization: CustomizationRequest,
    form: FlaskForm,
    save: Callable[[], Any],
    message: str,
    **given: Any,
) -> Response:
    """A form of the delivery section through `answer`: done, the section again; refused,
    the section with the form's errors in place (422), or the whole page without HTMX."""
    return answer(
        form,
        save,
        done=lambda _: _section_changed(customization, message),
        page="customizations/show.html",
        partial="customizations/_delivery.html",
        retarget="#delivery",
        page_context=lambda: _show_context(customization),
        customization=customization,
        delivery=delivery_panel(customization, **given),
    )


@bp.route("/customizations/<int:request_id>/milestones", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def add_milestone(request_id: int):
    """C7: the ACM adds a milestone during delivery."""
    customization = _working_request(request_id)
    form = _new_form(_owner_options(customization))
    return _section_answer(
        customization,
        form,
        lambda: delivery.add_milestone(
            customization,
            actor=acting_user(),
            title=form.title.data,
            kind=form.kind.data,
            due_on=form.due_on.data,
            owner_id=form.owner_id.data or None,
        ),
        "Milestone added.",
        add_form=form,
    )


@bp.route("/customizations/<int:request_id>/milestones/<int:milestone_id>", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def update_milestone(request_id: int, milestone_id: int):
    """C7: a milestone's due date, owner or status, changed in its row; the row (with the
    progress and the acceptance, out of band) answers in place."""
    customization = _working_request(request_id)
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or milestone.request_id != customization.id:
        abort(404)
    form = _row_form(milestone, _owner_options(customization), formdata=request.form)
    panel = delivery_panel(customization, row_form=(milestone.id, form))
    if panel is None:
        # Before delivery the milestones are the concept document's (C5), not changed here.
        abort(404)
    return answer(
        form,
        lambda: delivery.update_milestone(
            milestone,
            actor=acting_user(),
            due_on=form.due_on.data,
            owner_id=form.owner_id.data or None,
            status=form.status.data,
        ),
        done=lambda _: _row_changed(customization, milestone),
        page="customizations/show.html",
        partial="customizations/_milestone_row.html",
        page_context=lambda: _show_context(customization),
        customization=customization,
        delivery=panel,
        row=panel.row_of(milestone),
    )


def _row_changed(customization: CustomizationRequest, milestone: Milestone) -> Response:
    flash(f"Milestone “{milestone.title}” saved.", "success")
    panel = delivery_panel(customization)
    return in_place(
        "customizations/_milestone_row.html",
        "customizations/_delivery_progress.html",
        "customizations/_delivery_acceptance.html",
        location=_page(customization),
        events=CHANGED,
        customization=customization,
        delivery=panel,
        row=panel.row_of(milestone) if panel else None,
    )


def _button(request_id: int, act: Callable[..., Any], message: str) -> Response:
    """A button of the delivery section: `act(customization, actor=..., base_url=...)`."""
    customization = _working_request(request_id)
    form = ActionForm()
    return _section_answer(
        customization,
        form,
        lambda: act(customization, actor=acting_user(), base_url=request.url_root),
        message,
        action_form=form,
    )


@bp.route("/customizations/<int:request_id>/acceptance/link", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def send_acceptance_link(request_id: int):
    """C7: email the client the link to accept the delivery (G1 CCs)."""
    return _button(
        request_id,
        delivery.send_acceptance_link,
        "Acceptance link emailed to the client; its delivery shows on the timeline.",
    )


def _preview(customization: CustomizationRequest, send: Callable[..., Any], what: str) -> Response:
    """The email a button of the delivery section would send, shown, not sent."""
    return preview_sending(
        lambda: send(customization, actor=acting_user(), base_url=request.url_root),
        title=f"The {what} email for {customization.title}",
        back=url_for("customizations.show", request_id=customization.id, _anchor="delivery"),
    )


@bp.route("/customizations/<int:request_id>/acceptance/link/preview")
@allow(*CLIENT_REGISTRY_ROLES)
def preview_acceptance_link(request_id: int) -> Response:
    """C7: the acceptance link's email as sending it would write it."""
    return _preview(_working_request(request_id), delivery.send_acceptance_link, "acceptance")


@bp.route("/customizations/<int:request_id>/survey/preview")
@allow(*CLIENT_REGISTRY_ROLES)
def preview_survey(request_id: int) -> Response:
    """C7: the survey's email as closing the customization (or sending the survey again,
    once closed) would write it; nothing is closed or sent."""
    customization = _working_request(request_id)
    send = delivery.resend_survey if customization.closed_at else delivery.send_survey
    return _preview(customization, send, "survey")


@bp.route("/customizations/<int:request_id>/acceptance", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def record_acceptance(request_id: int):
    """C7: the ACM records the client's acceptance with its evidence."""
    customization = _working_request(request_id)
    form = prefixed(AcceptanceRecordForm(), "acceptance")
    return _section_answer(
        customization,
        form,
        lambda: delivery.record_acceptance(
            customization, actor=acting_user(), note=form.note.data, evidence=_evidence(form)
        ),
        "Acceptance recorded: the customization is ready to close.",
        acceptance_form=form,
    )


def _evidence(form: AcceptanceRecordForm) -> customizations.Upload | None:
    upload = form.evidence.data
    if not isinstance(upload, FileStorage) or not upload.filename:
        return None
    limit = customizations.max_attachment_bytes()
    return customizations.Upload(upload.filename, upload.stream.read(limit + 1))


@bp.route("/customizations/<int:request_id>/close", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def close(request_id: int):
    """C7: the ACM closes the accepted customization; the survey goes to the client."""
    return _button(
        request_id,
        delivery.close_request,
        "Closed: the satisfaction survey is on its way to the client.",
    )


@bp.route("/customizations/<int:request_id>/survey/resend", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def resend_survey(request_id: int):
    """C7: the survey link expired unanswered: a new one to the client."""
    return _button(
        request_id, delivery.resend_survey, "A new survey link is on its way to the client."
    )


# --- The client's pages, through the links ------------------------------------------------------


def _thanks(message: str) -> Response:
    return replacing_the_page(
        render(
            "customizations/link_thanks.html", "customizations/_link_thanks.html", message=message
        )
    )


def _link_page(
    token: str,
    purpose: str,
    form: FlaskForm,
    save: Callable[[ClientLink], Any],
    *,
    thanks: str,
    page: str,
    **context: Any,
) -> Response:
    """A client's page behind a link: refused, why (naming nothing); else the form, its
    answer saved once through `save(link)` and thanks in place of the page."""
    try:
        link = client_links.open_link(token, purpose)
    except client_links.LinkRefused as refusal:
        return refused(refusal)
    customization = link.request
    i18n.speak_to(customization.client.language)
    return answer(
        form,
        lambda: save(link),
        done=lambda _: _thanks(thanks),
        page=f"customizations/{page}.html",
        partial=f"customizations/_{page}_form.html",
        form=form,
        customization=customization,
        client=customization.client,
        **{name: value(customization) for name, value in context.items()},
    )


@bp.route("/customization/accept/<token>", methods=["GET", "POST"])
@limiter.limit(link_limit)
@public
def public_acceptance(token: str):
    """C7: the client reviews the milestones and the exit criteria and accepts the
    delivery by typing their name; once."""
    form = ClientAcceptanceForm()
    return _link_page(
        token,
        "acceptance",
        form,
        lambda link: delivery.accept_by_link(
            link, name=form.name.data, address=request.remote_addr
        ),
        thanks=N_(
            "Thank you: your acceptance has reached your account manager, who will close "
            "the work with you."
        ),
        page="public_acceptance",
        milestones=delivery.milestones_of,
        exit_criteria=delivery.exit_criteria,
    )


@bp.route("/customization/survey/<token>", methods=["GET", "POST"])
@limiter.limit(link_limit)
@public
def public_survey(token: str):
    """C7: the client scores the work from 1 to 5, with a comment if they wish; once."""
    form = SurveyForm()
    return _link_page(
        token,
        "survey",
        form,
        lambda link: delivery.answer_survey(link, score=form.score.data, comment=form.comment.data),
        thanks=N_("Thank you for your answer: it helps us do better."),
        page="public_survey",
    )
