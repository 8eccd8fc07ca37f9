"""Account plans (P1): each key account's living plan, versioned, reviewed every quarter.

A plan's content is a plain dict, the same shape in every version:

    {"value_proposition": str, "roadmap": str,
     "goals": [{"key", "title", "metric", "target", "due_on" (ISO date), "status"}],
     "stakeholders": [{"key", "contact_id", "name", "role", "influence",
                       "decision_maker"}]}

Goals are SMART: specific (the title), measurable (a metric and its target), time-bound
(a due date); their status says how they go. Stakeholders come from the client's contacts,
with the role and decision-making they have there and the influence the ACM judges.

Every change saves a new version holding the whole content and what changed from the one
before (`changes`, in words, for the page). The first save opens the plan and owes its
first quarterly review three months later, on the client's calendar; each review recorded
owes the next three months after it. A review due by the ACM's today is on their day.
"""

from __future__ import annotations

import calendar as month_calendar
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kamportal import clock
from kamportal.errors import ValidationError
from kamportal.extensions import db
from kamportal.models import (
    AccountPlan,
    AccountPlanReview,
    AccountPlanVersion,
    Client,
    Contact,
    GoalStatus,
    Influence,
    TimelineKind,
    User,
)
from kamportal.services import timeline, validation

REVIEW_EVERY_MONTHS = 3
TEXT_MAX = 5000
EMPTY: dict[str, Any] = {"value_proposition": "", "roadmap": "", "goals": [], "stakeholders": []}
_GOAL_FIELDS = {"title": "title", "metric": "metric", "target": "target", "due_on": "due date"}


# --- Reading ------------------------------------------------------------------------------


def plan_of(client: Client) -> AccountPlan | None:
    """The client's plan with its versions and reviews (None before the first save)."""
    return db.session.scalar(
        select(AccountPlan)
        .where(AccountPlan.client_id == client.id)
        .options(
            selectinload(AccountPlan.versions).joinedload(AccountPlanVersion.saved_by),
            selectinload(AccountPlan.reviews).joinedload(AccountPlanReview.reviewed_by),
        )
    )


def content_of(plan: AccountPlan | None) -> dict[str, Any]:
    """The plan's content now: its latest version's (an empty plan before the first)."""
    if plan is None or not plan.versions:
        return {**EMPTY, "goals": [], "stakeholders": []}
    # The latest by number: a version saved in this session sits at the list's end.
    latest = max(plan.versions, key=lambda version: version.number).content
    return {**EMPTY, **latest}


def review_due(plan: AccountPlan, today: date) -> bool:
    return plan.next_review_on <= today


def months_later(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it has fewer days."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, month_calendar.monthrange(year, month)[1])
    )


# --- What changed between two versions ----------------------------------------------------


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed from `before` to `after`, in words, one line each."""
    lines = [
        f"{label} changed"
        for key, label in (("value_proposition", "Value proposition"), ("roadmap", "Roadmap"))
        if (before.get(key) or "") != (after.get(key) or "")
    ]
    lines += _list_changes(before.get("goals", []), after.get("goals", []), "Goal", _goal_diff)
    lines += _list_changes(
        before.get("stakeholders", []),
        after.get("stakeholders", []),
        "Stakeholder",
        _stakeholder_diff,
    )
    return lines


def _list_changes(
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    noun: str,
    diff: Callable[[dict[str, Any], dict[str, Any]], list[str]],
) -> list[str]:
    old = {item["key"]: item for item in before}
    new = {item["key"]: item for item in after}
    name = "title" if noun == "Goal" else "name"
    lines = [f"{noun} added: {item[name]}" for key, item in new.items() if key not in old]
    lines += [f"{noun} removed: {item[name]}" for key, item in old.items() if key not in new]
    for key in old.keys() & new.keys():
        if details := diff(old[key], new[key]):
            lines.append(f"{noun} {new[key][name]}: {'; '.join(details)}")
    return lines


def _goal_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    details = [
        f"{label} {_shown(key, old.get(key))} → {_shown(key, new.get(key))}"
        for key, label in (*_GOAL_FIELDS.items(), ("status", "status"))
        if old.get(key) != new.get(key)
    ]
    return details


def _stakeholder_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    if old.get("influence") == new.get("influence"):
        return []
    return [f"influence {old.get('influence')} → {new.get('influence')}"]


def _shown(key: str, value: Any) -> str:
    if key == "status" and value in GoalStatus._value2member_map_:
        return GoalStatus(value).label.lower()
    return str(value) if value not in (None, "") else "—"


# --- Saving -------------------------------------------------------------------------------


@dataclass
class GoalInput:
    """A SMART goal as typed."""

    title: str
    metric: str
    target: str
    due_on: date | None
    status: str = GoalStatus.NOT_STARTED.value


def _clean_goal(goal: GoalInput) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, label in (("title", "title"), ("metric", "metric"), ("target", "target")):
        text = validation.typed_text(getattr(goal, key), field=key, max_length=200).strip()
        if not text:
            raise ValidationError(f"Give the goal's {label}.", field=key)
        values[key] = text
    if goal.due_on is None:
        raise ValidationError("Give the date the goal is due by.", field="due_on")
    values["due_on"] = validation.date_between(goal.due_on, field="due_on").isoformat()
    values["status"] = validation.choice(
        GoalStatus, goal.status, field="status", message="Choose the goal's status."
    ).value
    return values


def _save(
    client: Client, actor: User, change: Callable[[dict[str, Any]], None]
) -> AccountPlanVersion:
    """Apply `change` to the plan's content and save it as a new version (opening the plan
    at its first). Refuses a save that changes nothing."""
    now = clock.now()
    plan = plan_of(client)
    before = content_of(plan)
    after = {
        **before,
        "goals": [dict(g) for g in before["goals"]],
        "stakeholders": [dict(s) for s in before["stakeholders"]],
    }
    change(after)
    what = changes(before, after)
    if not what:
        raise ValidationError("Nothing changed: the plan is as it was.")
    if plan is None:
        plan = AccountPlan(
            client=client,
            versions_saved=0,
            next_review_on=months_later(clock.today(client.timezone, at=now), REVIEW_EVERY_MONTHS),
            created_at=now,
            updated_at=now,
        )
        db.session.add(plan)
    plan.versions_saved += 1
    plan.updated_at = now
    version = AccountPlanVersion(
        plan=plan,
        number=plan.versions_saved,
        content=after,
        changes=what,
        saved_at=now,
        saved_by_id=actor.id,
    )
    db.session.add(version)
    db.session.flush()
    timeline.record(
        client,
        TimelineKind.ACCOUNT_PLAN_SAVED,
        actor=actor,
        summary=f"Account plan version {version.number}: " + "; ".join(what),
        detail={"plan_id": plan.id, "version": version.number},
        at=now,
    )
    timeline.audit(
        actor, "account_plan.save", plan, after={"version": version.number, "changes": what}
    )
    return version


def save_summary(
    client: Client, *, actor: User, value_proposition: str, roadmap: str
) -> AccountPlanVersion:
    """The value proposition and the roadmap."""
    proposition = validation.typed_text(
        value_proposition, field="value_proposition", multiline=True, max_length=TEXT_MAX
    ).strip()
    road = validation.typed_text(
        roadmap, field="roadmap", multiline=True, max_length=TEXT_MAX
    ).strip()

    def change(content: dict[str, Any]) -> None:
        content["value_proposition"] = proposition
        content["roadmap"] = road

    return _save(client, actor, change)


def add_goal(client: Client, goal: GoalInput, *, actor: User) -> AccountPlanVersion:
    values = _clean_goal(goal)
    return _save(client, actor, lambda c: c["goals"].append({"key": _key(), **values}))


def update_goal(client: Client, key: str, goal: GoalInput, *, actor: User) -> AccountPlanVersion:
    values = _clean_goal(goal)

    def change(content: dict[str, Any]) -> None:
        _item(content["goals"], key, "goal").update(values)

    return _save(client, actor, change)


def remove_goal(client: Client, key: str, *, actor: User) -> AccountPlanVersion:
    def change(content: dict[str, Any]) -> None:
        content["goals"].remove(_item(content["goals"], key, "goal"))

    return _save(client, actor, change)


def add_stakeholder(
    client: Client, contact: Contact | None, influence: str, *, actor: User
) -> AccountPlanVersion:
    """A contact of the client as a stakeholder, with the influence the ACM judges."""
    if contact is None or contact.client_id != client.id:
        raise ValidationError("Choose one of the client's contacts.", field="contact_id")
    level = validation.choice(
        Influence, influence, field="influence", message="Choose the contact's influence."
    )

    def change(content: dict[str, Any]) -> None:
        if any(s.get("contact_id") == contact.id for s in content["stakeholders"]):
            raise ValidationError(f"{contact.name} is a stakeholder already.", field="contact_id")
        content["stakeholders"].append(
            {
                "key": _key(),
                "contact_id": contact.id,
                "name": contact.name,
                "role": contact.role or "",
                "influence": level.value,
                "decision_maker": contact.is_decision_maker,
            }
        )

    return _save(client, actor, change)


def remove_stakeholder(client: Client, key: str, *, actor: User) -> AccountPlanVersion:
    def change(content: dict[str, Any]) -> None:
        content["stakeholders"].remove(_item(content["stakeholders"], key, "stakeholder"))

    return _save(client, actor, change)


def record_review(client: Client, *, actor: User, notes: str) -> AccountPlanReview:
    """P1: the quarterly review is held; the next one is owed three months later."""
    plan = plan_of(client)
    if plan is None:
        raise ValidationError("Write the account plan before reviewing it.")
    text = validation.typed_text(notes, field="notes", multiline=True, max_length=TEXT_MAX).strip()
    if not text:
        raise ValidationError("Say what the review found and decided.", field="notes")
    now = clock.now()
    today = clock.today(client.timezone, at=now)
    review = AccountPlanReview(
        plan=plan,
        reviewed_on=today,
        reviewed_at=now,
        reviewed_by_id=actor.id,
        version_number=plan.versions_saved,
        notes=text,
    )
    db.session.add(review)
    plan.next_review_on = months_later(today, REVIEW_EVERY_MONTHS)
    db.session.flush()
    timeline.record(
        client,
        TimelineKind.ACCOUNT_PLAN_REVIEWED,
        actor=actor,
        summary=f"Account plan reviewed; the next review is due {plan.next_review_on:%d %b %Y}",
        detail={"plan_id": plan.id, "review_id": review.id},
        at=now,
    )
    return review


def _key() -> str:
    return secrets.token_hex(4)


def _item(items: list[dict[str, Any]], key: str, noun: str) -> dict[str, Any]:
    found = next((item for item in items if item["key"] == key), None)
    if found is None:
        raise ValidationError(f"This {noun} is no longer in the plan; reload the page.")
    return found
