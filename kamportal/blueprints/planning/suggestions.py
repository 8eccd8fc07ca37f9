"""Recommended apps and marketing actions (F5): the client page's panel of what was
suggested to the client, and its forms: suggest from the catalogue, record the client's
answer, record the outcome. Every form swaps the whole panel: done, the panel anew; bad
input, the panel with the form's errors (422), nothing saved.

Object access: whoever works on the client (404 otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import Length

from kamportal.blueprints.forms import Form
from kamportal.blueprints.options import options
from kamportal.blueprints.planning import bp
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    client_or_404,
    panel_changed,
    panel_response,
    prefixed,
    refusal_of,
)
from kamportal.models import Client, ContactChannel, Suggestion, SuggestionAnswer
from kamportal.services import suggestions
from kamportal.services.access import CLIENT_REGISTRY_ROLES

PANEL = "planning/_suggestions_panel.html"
PAGE = "planning/suggestions_page.html"
ANCHOR = "suggestions-panel"
CHANGED = ("suggestions-changed", "timeline-changed")

ANSWERS = options((a.value, a.label) for a in SuggestionAnswer)


def _id(value: Any) -> int | None:
    """A chosen entry's id; anything else is no choice (the service says so)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class SuggestForm(Form):
    """F5: an app or action from the catalogue, suggested to the client."""

    # Choices: the entries offered; the service names a retired or unknown one.
    recommendation = SelectField(
        "App or marketing action", coerce=_id, choices=[], validate_choice=False
    )
    channel = SelectField(
        "Suggested in",
        choices=options((c.value, c.label) for c in ContactChannel),
        default=ContactChannel.MEETING.value,
        validate_choice=False,
    )
    answer = SelectField(
        "The client's answer",
        choices=[*options([("", "Not yet")]), *ANSWERS],
        validate_choice=False,
    )
    note = TextAreaField("Note", validators=[Length(max=suggestions.TEXT_MAX)])


class AnswerForm(Form):
    """F5: what the client said of an open suggestion."""

    answer = SelectField("The client's answer", choices=ANSWERS, validate_choice=False)


class OutcomeForm(Form):
    """F5: how an open suggestion ended; a declined one with the client's reason."""

    outcome = SelectField("Outcome", choices=[], validate_choice=False)
    reason = TextAreaField("Reason, if declined", validators=[Length(max=suggestions.TEXT_MAX)])


def _suggest_form(*, posted: bool = False) -> SuggestForm:
    form = SuggestForm() if posted else SuggestForm(formdata=None)
    form.recommendation.choices = [
        SelectChoice(
            entry.id, entry.name, render_kw={"title": entry.description}, optgroup=entry.kind_label
        )
        for entry in suggestions.offered()
    ]
    return prefixed(form, "suggest")


def _answer_form(suggestion: Suggestion, *, posted: bool = False) -> AnswerForm:
    form = AnswerForm() if posted else AnswerForm(formdata=None, answer=suggestion.answer)
    form.suggestion_id = suggestion.id
    return prefixed(form, f"suggestion-{suggestion.id}-answer")


def _outcome_form(suggestion: Suggestion, *, posted: bool = False) -> OutcomeForm:
    form = OutcomeForm() if posted else OutcomeForm(formdata=None)
    form.outcome.choices = options(
        (o.value, o.label) for o in suggestions.outcomes_for(suggestion.recommendation)
    )
    form.suggestion_id = suggestion.id
    return prefixed(form, f"suggestion-{suggestion.id}-outcome")


def _kept(failed: Form | None, kind: type[Form], suggestion: Suggestion) -> Form | None:
    """The form that was just refused, if it is this suggestion's form of `kind`."""
    if isinstance(failed, kind) and getattr(failed, "suggestion_id", None) == suggestion.id:
        return failed
    return None


@bp.app_template_global()
def client_suggestions_panel(client: Client, failed: Form | None = None) -> dict[str, Any]:
    """The client page's suggestions panel: every suggestion, the open ones with their
    answer and outcome forms, and the form to suggest from the catalogue. `failed`, a
    form just refused, stands in its place with its errors."""
    made = suggestions.client_suggestions(client)
    suggest_form = failed if isinstance(failed, SuggestForm) else _suggest_form()
    open_ones = [s for s in made if s.is_open]
    answer_forms = {s.id: _kept(failed, AnswerForm, s) or _answer_form(s) for s in open_ones}
    outcome_forms = {s.id: _kept(failed, OutcomeForm, s) or _outcome_form(s) for s in open_ones}
    shown = [suggest_form, *answer_forms.values(), *outcome_forms.values()]
    return {
        "suggestions": made,
        "suggest_form": suggest_form,
        "answer_forms": answer_forms,
        "outcome_forms": outcome_forms,
        # A refused form with no place left (its suggestion closed meanwhile): its refusal.
        "refusal": refusal_of(failed) if failed is not None and failed not in shown else None,
    }


@bp.route("/clients/<int:client_id>/suggestions")
@allow(*CLIENT_REGISTRY_ROLES)
def suggestions_panel(client_id: int) -> Response:
    """The panel alone, refreshed in place; a plain request goes to the client page."""
    return panel_response(client_or_404(client_id), PANEL, ANCHOR)


@bp.route("/clients/<int:client_id>/suggestions", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def suggest(client_id: int) -> Response:
    """F5: suggest an app or marketing action from the catalogue to the client."""
    client = client_or_404(client_id)
    form = _suggest_form(posted=True)
    return _round_trip(
        client,
        form,
        lambda: suggestions.suggest(
            client,
            suggestions.recommendation_of(form.recommendation.data),
            actor=acting_user(),
            channel=form.channel.data,
            note=form.note.data,
            answer=form.answer.data or None,
        ),
        "Suggestion recorded.",
    )


@bp.route("/clients/<int:client_id>/suggestions/<int:suggestion_id>/answer", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def record_answer(client_id: int, suggestion_id: int) -> Response:
    """F5: record the client's answer to an open suggestion."""
    client, suggestion = _suggestion_or_404(client_id, suggestion_id)
    form = _answer_form(suggestion, posted=True)
    return _round_trip(
        client,
        form,
        lambda: suggestions.record_answer(suggestion, actor=acting_user(), answer=form.answer.data),
        "The client's answer is recorded.",
    )


@bp.route("/clients/<int:client_id>/suggestions/<int:suggestion_id>/outcome", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def record_outcome(client_id: int, suggestion_id: int) -> Response:
    """F5: record how an open suggestion ended (installed, done, declined with a reason)."""
    client, suggestion = _suggestion_or_404(client_id, suggestion_id)
    form = _outcome_form(suggestion, posted=True)
    return _round_trip(
        client,
        form,
        lambda: suggestions.record_outcome(
            suggestion, actor=acting_user(), outcome=form.outcome.data, reason=form.reason.data
        ),
        "Outcome recorded.",
    )


def _suggestion_or_404(client_id: int, suggestion_id: int) -> tuple[Client, Suggestion]:
    client = client_or_404(client_id)
    suggestion = suggestions.suggestion_of(client, suggestion_id)
    if suggestion is None:
        abort(404)
    return client, suggestion


def _round_trip(
    client: Client, form: Form, save: Callable[[], Suggestion], message: str
) -> Response:
    """Every form of the panel: done, the panel anew (the page told of the change); bad
    input or a refusal, the panel with the form's errors, or the page without HTMX."""
    return answer(
        form,
        save,
        done=lambda _: panel_changed(client, PANEL, ANCHOR, message, *CHANGED),
        page=PAGE,
        partial=PANEL,
        client=client,
        failed=form,
    )
