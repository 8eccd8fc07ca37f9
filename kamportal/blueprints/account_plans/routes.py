"""The account plan (P1): its page, one form per part of it (each save a version), the
quarterly review, and the client page's panel.

Object access: those who see the client see the plan; those who work on it (its ACM,
their leader, admins) change it (404 and 403 otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Response, abort, flash, url_for
from flask_login import current_user
from sqlalchemy import select

from kamportal import clock
from kamportal.blueprints.account_plans import bp
from kamportal.blueprints.account_plans.forms import (
    GoalForm,
    ReviewForm,
    StakeholderForm,
    SummaryForm,
)
from kamportal.blueprints.forms import ActionForm, Form
from kamportal.blueprints.options import options
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    client_or_404,
    in_place,
    prefixed,
    press,
    render,
)
from kamportal.extensions import db
from kamportal.models import AccountPlan, Client, GoalStatus
from kamportal.services import access, account_plans, clients
from kamportal.services.access import CLIENT_REGISTRY_ROLES

PAGE = "account_plans/page.html"
PLAN = "account_plans/_plan.html"
# A save lands on the timeline and may leave the day (the review).
CHANGED = ("timeline-changed", "plan-changed")


@bp.app_template_global()
def client_account_plan(client: Client) -> AccountPlan | None:
    """The client page's panel: the plan's row alone (one query)."""
    return db.session.scalar(select(AccountPlan).where(AccountPlan.client_id == client.id))


def _forms(client: Client, content: dict[str, Any]) -> dict[str, Any]:
    """Every form of the plan as it stands, blank or filled from the plan (never from the
    request: after a save the page shows the plan saved)."""
    summary = prefixed(
        SummaryForm(
            formdata=None,
            data={
                "value_proposition": content["value_proposition"],
                "roadmap": content["roadmap"],
            },
        ),
        "plan-summary",
    )
    goal_edits = {
        goal["key"]: GoalForm(
            formdata=None,
            prefix=f"goal-{goal['key']}",
            data={**goal, "due_on": date.fromisoformat(goal["due_on"])},
        )
        for goal in content["goals"]
    }
    return {
        "summary_form": summary,
        "goal_form": GoalForm(formdata=None, prefix="new-goal"),
        "goal_edits": goal_edits,
        "stakeholder_form": _stakeholder_form(client, formdata=None),
        "review_form": prefixed(ReviewForm(formdata=None), "plan-review"),
        "action_form": ActionForm(formdata=None),
    }


def _stakeholder_form(client: Client, **kwargs: Any) -> StakeholderForm:
    form = prefixed(StakeholderForm(**kwargs), "plan-stakeholder")
    form.contact_id.choices = options((c.id, c.name) for c in client.contacts)
    return form


def _context(client: Client) -> dict[str, Any]:
    plan = account_plans.plan_of(client)
    content = account_plans.content_of(plan)
    today = clock.today(client.timezone)
    return {
        "client": client,
        "plan": plan,
        "content": content,
        "review_due": plan is not None and account_plans.review_due(plan, today),
        "can_change": access.can_work_on_client(current_user, client),
        "goal_statuses": {status.value: status.label for status in GoalStatus},
        **_forms(client, content),
    }


@bp.route("/clients/<int:client_id>/plan")
@allow(*CLIENT_REGISTRY_ROLES)
def show(client_id: int) -> Response:
    """The account plan: its parts, each with its form, the versions and the reviews."""
    client = client_or_404(client_id)
    return render(PAGE, PLAN, **_context(client))


def _to_change(client_id: int) -> Client:
    """The client whose plan the signed-in user changes: 404 unless they see it, 403
    unless they work on it."""
    client = client_or_404(client_id)
    access.check_works_on(acting_user(), client)
    return client


def _saved(client: Client) -> Response:
    """After a save: the plan again in place (HTMX), or its page."""
    flash("Account plan saved.", "success")
    return in_place(
        PLAN,
        location=url_for("account_plans.show", client_id=client.id),
        events=CHANGED,
        **_context(client),
    )


def _change(
    client_id: int,
    form_of: Callable[[Client], Form],
    save: Callable[[Client, Form], Any],
    *,
    goal_key: str | None = None,
) -> Response:
    """Save one part of the plan: the plan again in place (a new version); bad input,
    the plan with that form's errors, status 422, nothing saved. A goal's own form sits in
    its row (`goal_key`); the others in their part of the plan."""
    client = _to_change(client_id)
    form = form_of(client)
    context = _context(client)
    if goal_key is not None:
        context["goal_edits"][goal_key] = form
    else:
        context[_form_name(form)] = form
    return answer(
        form,
        lambda: save(client, form),
        done=lambda _: _saved(client),
        page=PAGE,
        partial=PLAN,
        **context,
    )


def _form_name(form: Form) -> str:
    return {
        SummaryForm: "summary_form",
        GoalForm: "goal_form",
        StakeholderForm: "stakeholder_form",
        ReviewForm: "review_form",
    }[type(form)]


@bp.route("/clients/<int:client_id>/plan/summary", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def save_summary(client_id: int) -> Response:
    return _change(
        client_id,
        lambda client: prefixed(SummaryForm(), "plan-summary"),
        lambda client, form: account_plans.save_summary(
            client,
            actor=acting_user(),
            value_proposition=form.value_proposition.data or "",
            roadmap=form.roadmap.data or "",
        ),
    )


def _goal(form: GoalForm) -> account_plans.GoalInput:
    return account_plans.GoalInput(
        title=form.title.data or "",
        metric=form.metric.data or "",
        target=form.target.data or "",
        due_on=form.due_on.data,
        status=form.status.data,
    )


@bp.route("/clients/<int:client_id>/plan/goals", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def add_goal(client_id: int) -> Response:
    return _change(
        client_id,
        lambda client: GoalForm(prefix="new-goal"),
        lambda client, form: account_plans.add_goal(client, _goal(form), actor=acting_user()),
    )


@bp.route("/clients/<int:client_id>/plan/goals/<key>", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def update_goal(client_id: int, key: str) -> Response:
    content = account_plans.content_of(account_plans.plan_of(client_or_404(client_id)))
    if not any(goal["key"] == key for goal in content["goals"]):
        abort(404)
    return _change(
        client_id,
        lambda client: GoalForm(prefix=f"goal-{key}"),
        lambda client, form: account_plans.update_goal(
            client, key, _goal(form), actor=acting_user()
        ),
        goal_key=key,
    )


@bp.route("/clients/<int:client_id>/plan/goals/<key>/remove", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def remove_goal(client_id: int, key: str) -> Response:
    return _remove(
        client_id, lambda client: account_plans.remove_goal(client, key, actor=acting_user())
    )


@bp.route("/clients/<int:client_id>/plan/stakeholders", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def add_stakeholder(client_id: int) -> Response:
    return _change(
        client_id,
        _stakeholder_form,
        lambda client, form: account_plans.add_stakeholder(
            client,
            clients.contact_of(client, form.contact_id.data),
            form.influence.data,
            actor=acting_user(),
        ),
    )


@bp.route("/clients/<int:client_id>/plan/stakeholders/<key>/remove", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def remove_stakeholder(client_id: int, key: str) -> Response:
    return _remove(
        client_id, lambda client: account_plans.remove_stakeholder(client, key, actor=acting_user())
    )


def _remove(client_id: int, save: Callable[[Client], Any]) -> Response:
    client = _to_change(client_id)
    return press(
        lambda: save(client),
        done=lambda _: _saved(client),
        refused=lambda: in_place(
            PLAN,
            location=url_for("account_plans.show", client_id=client.id),
            status=422,
            **_context(client),
        ),
        not_done="Not removed: {}",
    )


@bp.route("/clients/<int:client_id>/plan/review", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def record_review(client_id: int) -> Response:
    return _change(
        client_id,
        lambda client: prefixed(ReviewForm(), "plan-review"),
        lambda client, form: account_plans.record_review(
            client, actor=acting_user(), notes=form.notes.data or ""
        ),
    )
