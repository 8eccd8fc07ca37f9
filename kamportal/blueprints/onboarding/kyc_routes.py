"""The KYC questionnaire (O1): the client's form behind the emailed link, and the ACM's
page for a client (status, the link, the answers, filling them in during a call).

The client's page needs no login: the token in the address is the only key, so its
responses are never cached nor sent on as a Referer, and a refused link says why without
naming anything of the client. The ACM's pages: whoever may see the client (404
otherwise); the service refuses the rest (no contact email, already submitted).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, flash, redirect, request, url_for
from flask_babel import gettext

from kamportal import i18n
from kamportal.blueprints.client_tabs import client_page
from kamportal.blueprints.email_preview import preview_sending
from kamportal.blueprints.forms import ActionForm
from kamportal.blueprints.onboarding import bp
from kamportal.blueprints.onboarding.kyc_forms import answers_form, saved_form
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    client_or_404,
    form_invalid,
    fragment,
    in_place,
    is_htmx,
    keep_link_private,
    link_refused,
    public,
    render,
    submit,
    whole_page,
)
from kamportal.extensions import limiter
from kamportal.models import Client, KycQuestionnaire
from kamportal.services import kyc
from kamportal.services.access import CLIENT_REGISTRY_ROLES
from kamportal.services.kyc_questions import KYC_SECTIONS, Question, QuestionSection

TIMELINE_CHANGED = "timeline-changed"
KYC_CHANGED = "kyc-changed"


# --- What the templates ask ------------------------------------------------------------


@bp.app_template_global()
def kyc_standing(questionnaire: KycQuestionnaire | None) -> kyc.KycStanding:
    return kyc.kyc_standing(questionnaire)


@bp.app_template_global()
def kyc_questionnaire(client: Client) -> KycQuestionnaire | None:
    return kyc.questionnaire_of(client)


@bp.app_template_global()
def kyc_sections() -> tuple[QuestionSection, ...]:
    return KYC_SECTIONS


@bp.app_template_global()
def kyc_answer_sections(
    questionnaire: KycQuestionnaire | None,
) -> list[tuple[QuestionSection, list[tuple[Question, str]]]]:
    """Each section's questions with the answer given ("" when none), in the
    questionnaire's order."""
    answers = (questionnaire.answers or {}) if questionnaire is not None else {}
    return [
        (section, [(q, str(answers.get(q.key) or "")) for q in section.questions])
        for section in KYC_SECTIONS
    ]


@bp.app_template_global()
def kyc_answered(questionnaire: KycQuestionnaire | None) -> list[tuple[Question, str]]:
    """The questions answered so far, with their answers, in the questionnaire's order."""
    return [(q, a) for _, rows in kyc_answer_sections(questionnaire) for q, a in rows if a]


# --- The client's form, through the link ----------------------------------------------


def _kyc_limit() -> str:
    return current_app.config["KYC_RATE_LIMIT"]


@bp.after_request
def _keep_the_link_private(response: Response) -> Response:
    """The token in the address opens the client's answers: no cache keeps the page, no
    Referer carries the address to another site, no search engine lists it. Error pages
    of this address (429, an expired CSRF token) included."""
    if request.endpoint == "onboarding.kyc_form":
        keep_link_private(response)
    return response


def _whole_page(response: Response) -> Response:
    """An answer that replaces the page's content, not just the form (HTMX)."""
    return whole_page(response, "kyc-page")


def _refused(refused: kyc.LinkRefused) -> Response:
    """The link opens nothing: why, alone on the page (a form left open is replaced)."""
    return link_refused(refused, "kyc-page")


@bp.route("/kyc/<token>", methods=["GET", "POST"])
@limiter.limit(_kyc_limit)
@public
def kyc_form(token: str):
    """O1: the client answers the questionnaire without a login, saves and comes back
    while the link works, then submits; the answers are stored on the client."""
    try:
        questionnaire = kyc.open_link(token)
    except kyc.LinkRefused as refused:
        return _refused(refused)
    i18n.speak_to(questionnaire.client.language)
    form = answers_form(questionnaire.answers)
    context = {"questionnaire": questionnaire, "client": questionnaire.client}
    return answer(
        form,
        lambda: kyc.save_answers(questionnaire, form.answers(), actor=None, submit=form.submitting),
        done=lambda _: _client_saved(token, questionnaire, form, context),
        page="onboarding/kyc_form.html",
        partial="onboarding/_kyc_client_form.html",
        # Each message is by its question; the form's top lists them: show it.
        reswap="outerHTML show:top",
        form=form,
        **context,
    )


def _client_saved(
    token: str, questionnaire: KycQuestionnaire, form: Any, context: dict[str, Any]
) -> Response:
    """Submitted: thanks, in place of the page. Saved: the form again, to go on now (HTMX),
    or the link again with how to come back."""
    if form.submitting:
        return _whole_page(
            render("onboarding/kyc_thanks.html", "onboarding/_kyc_thanks.html", **context)
        )
    if not is_htmx():
        flash(gettext("Saved. Use the same link to come back and go on."), "success")
        return redirect(url_for("onboarding.kyc_form", token=token), 303)
    fresh = saved_form(questionnaire.answers)
    return fragment("onboarding/_kyc_client_form.html", **context, form=fresh, saved=True)


# --- The ACM's page for a client --------------------------------------------------------


def _workspace(client: Client, **context: Any) -> dict[str, Any]:
    questionnaire = kyc.questionnaire_of(client)
    context.setdefault("form", saved_form(questionnaire.answers if questionnaire else {}))
    return {"client": client, "questionnaire": questionnaire, **context}


@bp.route("/clients/<int:client_id>/kyc", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def kyc_answers(client_id: int):
    """O1 on the ACM's side: where the questionnaire stands, the link, the answers; and
    the form to fill them in during a call (save, or submit for the client)."""
    client = client_or_404(client_id)
    questionnaire = kyc.questionnaire_of(client)
    form = answers_form(questionnaire.answers if questionnaire else {})
    return answer(
        form,
        lambda: kyc.answers_for_acm(
            client, form.answers(), actor=acting_user(), submit=form.submitting
        ),
        done=lambda saved: _acm_saved(client, form.submitting and saved.submitted_at is not None),
        page="onboarding/kyc_answers.html",
        partial="onboarding/_kyc_workspace.html",
        **_workspace(client, form=form, editing=form.is_submitted()),
    )


def _acm_saved(client: Client, submitted: bool) -> Response:
    """The workspace again, the page told (HTMX), or the KYC page. Mid-call the form stays
    open for the next answers; once submitted it folds away."""
    flash("KYC answers submitted." if submitted else "KYC answers saved.", "success")
    return _kyc_changed(client, "onboarding/_kyc_workspace.html", editing=not submitted)


def _kyc_changed(client: Client, template: str, **context: Any) -> Response:
    """`template` of the KYC page again, the timeline and the client page told (HTMX); or
    the KYC page."""
    return in_place(
        template,
        location=url_for("onboarding.kyc_answers", client_id=client.id),
        events=(TIMELINE_CHANGED, KYC_CHANGED),
        **_workspace(client, **context),
    )


def _link_action(client: Client, act: Callable[[], Any], message: str) -> Response:
    """Send or revoke the client's link. Done: the status again (HTMX) with the timeline
    told, or back to the KYC page; refused: the status with the refusal, 422."""
    form = ActionForm()
    if submit(form, act) is not None:
        flash(message, "success")
        return _kyc_changed(client, "onboarding/_kyc_status.html")
    refused = "; ".join(form.form_errors) or "This could not be done; reload the page."
    if is_htmx():
        return form_invalid("onboarding/_kyc_status.html", **_workspace(client), refused=refused)
    return form_invalid("onboarding/kyc_answers.html", **_workspace(client), refused=refused)


@bp.route("/clients/<int:client_id>/kyc/link", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def kyc_send_link(client_id: int):
    """O1: email the client a new link to the questionnaire (the team leader in CC, G1);
    an earlier link stops working."""
    client = client_or_404(client_id)
    return _link_action(
        client,
        lambda: kyc.send_link(client, actor=acting_user(), base_url=request.url_root),
        "KYC link emailed to the client; its delivery shows on the timeline.",
    )


@bp.route("/clients/<int:client_id>/kyc/link/preview")
@allow(*CLIENT_REGISTRY_ROLES)
def kyc_preview_link(client_id: int) -> Response:
    """O1: the KYC link's email as sending it would write it; nothing is sent or kept."""
    client = client_or_404(client_id)
    return preview_sending(
        lambda: kyc.send_link(client, actor=acting_user(), base_url=request.url_root),
        title=f"The KYC questionnaire's email to {client.store_name}",
        back=client_page(client.id, "onboarding-panel"),
    )


@bp.route("/clients/<int:client_id>/kyc/revoke", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def kyc_revoke(client_id: int):
    """O1: the client's link stops working at once."""
    client = client_or_404(client_id)
    return _link_action(
        client,
        lambda: kyc.revoke_link(client, actor=acting_user()),
        "KYC link revoked: it no longer opens the questionnaire.",
    )
