"""P1: the account plan: SMART goals, stakeholders from the contacts, value proposition and
roadmap; every save a version with what changed; the quarterly review owed on the day."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kamportal import clock
from kamportal.errors import ValidationError
from kamportal.models import AccountPlanVersion, TimelineEvent, TimelineKind
from kamportal.services import account_plans, day
from kamportal.services.account_plans import GoalInput


@pytest.fixture
def world(make_portfolio, frozen_clock):
    """5 Dec 2026, 10:00 UTC (noon in Cairo); a client of a Cairo ACM with one contact."""
    frozen_clock(datetime(2026, 12, 5, 10, 0, tzinfo=UTC))
    return make_portfolio(
        team={"name": "Cairo"},
        acm={"timezone": "Africa/Cairo"},
        client={"timezone": "Africa/Cairo"},
        contact={"name": "Hoda Owner", "role": "Owner", "is_decision_maker": True},
    )


def goal(**changes) -> GoalInput:
    values = {
        "title": "Grow online revenue",
        "metric": "Monthly GMV",
        "target": "EGP 500,000",
        "due_on": date(2027, 6, 30),
    }
    return GoalInput(**{**values, **changes})


def versions(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AccountPlanVersion))


def test_the_first_save_opens_the_plan_and_owes_a_review_in_three_months_P1(db, world):
    version = account_plans.save_summary(
        world.client, actor=world.acm, value_proposition="One store for every market", roadmap=""
    )
    db.session.commit()
    plan = account_plans.plan_of(world.client)
    assert version.number == 1 and plan.versions_saved == 1
    assert version.changes == ["Value proposition changed"]
    assert plan.next_review_on == date(2027, 3, 5)
    event = db.session.scalar(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.ACCOUNT_PLAN_SAVED.value)
    )
    assert event.summary == "Account plan version 1: Value proposition changed"


def test_every_save_is_a_version_saying_what_changed_P1(db, world):
    first = account_plans.add_goal(world.client, goal(), actor=world.acm)
    key = first.content["goals"][0]["key"]
    account_plans.update_goal(
        world.client, key, goal(status="at_risk", target="EGP 450,000"), actor=world.acm
    )
    account_plans.add_stakeholder(world.client, world.contact, "high", actor=world.acm)
    account_plans.remove_goal(world.client, key, actor=world.acm)
    db.session.commit()
    plan = account_plans.plan_of(world.client)
    saved = sorted(plan.versions, key=lambda v: v.number)
    assert [v.changes for v in saved] == [
        ["Goal added: Grow online revenue"],
        [
            "Goal Grow online revenue: target EGP 500,000 → EGP 450,000; "
            "status not started → at risk"
        ],
        ["Stakeholder added: Hoda Owner"],
        ["Goal removed: Grow online revenue"],
    ]
    # Each version keeps the whole plan as it was.
    assert saved[1].content["goals"][0]["status"] == "at_risk"
    assert saved[3].content["goals"] == []
    assert saved[3].content["stakeholders"][0] == {
        "key": saved[3].content["stakeholders"][0]["key"],
        "contact_id": world.contact.id,
        "name": "Hoda Owner",
        "role": "Owner",
        "influence": "high",
        "decision_maker": True,
    }


def test_a_save_that_changes_nothing_is_refused_and_writes_nothing_P1(db, world):
    account_plans.save_summary(world.client, actor=world.acm, value_proposition="V", roadmap="R")
    db.session.commit()
    with pytest.raises(ValidationError, match="Nothing changed"):
        account_plans.save_summary(
            world.client, actor=world.acm, value_proposition="V ", roadmap="R"
        )
    assert versions(db) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"metric": ""}, "metric"),
        ({"target": ""}, "target"),
        ({"due_on": None}, "due_on"),
        ({"due_on": date(9999, 12, 31)}, "due_on"),
        ({"title": "Grow\x00"}, "title"),
        ({"metric": "x" * 201}, "metric"),
        ({"status": "done-ish"}, "status"),
    ],
)
def test_a_goal_must_be_smart_P1(db, world, changes, field):
    with pytest.raises(ValidationError) as refused:
        account_plans.add_goal(world.client, goal(**changes), actor=world.acm)
    assert refused.value.field == field
    assert versions(db) == 0


def test_stakeholders_are_the_clients_own_contacts_once_P1(db, world, make_client, make_contact):
    stranger = make_contact(make_client(acm=world.acm), name="Someone Else")
    with pytest.raises(ValidationError, match="one of the client's contacts"):
        account_plans.add_stakeholder(world.client, stranger, "high", actor=world.acm)
    account_plans.add_stakeholder(world.client, world.contact, "medium", actor=world.acm)
    with pytest.raises(ValidationError, match="a stakeholder already"):
        account_plans.add_stakeholder(world.client, world.contact, "high", actor=world.acm)
    with pytest.raises(ValidationError, match="influence"):
        account_plans.add_stakeholder(world.client, world.contact, "huge", actor=world.acm)


def test_a_review_is_recorded_and_owes_the_next_three_months_later_P1(db, world):
    with pytest.raises(ValidationError, match="Write the account plan"):
        account_plans.record_review(world.client, actor=world.acm, notes="x")
    account_plans.add_goal(world.client, goal(), actor=world.acm)
    db.session.commit()
    with pytest.raises(ValidationError, match="found and decided"):
        account_plans.record_review(world.client, actor=world.acm, notes="   ")
    clock.freeze(datetime(2027, 3, 8, 9, 0, tzinfo=UTC))
    review = account_plans.record_review(
        world.client, actor=world.acm, notes="GMV on track; add a marketplace goal."
    )
    db.session.commit()
    plan = account_plans.plan_of(world.client)
    assert review.reviewed_on == date(2027, 3, 8) and review.version_number == 1
    assert plan.next_review_on == date(2027, 6, 8)


@pytest.mark.parametrize(
    ("day_", "months", "expected"),
    [
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
        (date(2026, 12, 5), 3, date(2027, 3, 5)),
        (date(2026, 10, 31), 2, date(2026, 12, 31)),
    ],
)
def test_three_months_later_keeps_the_day_or_the_months_last_P1(day_, months, expected):
    assert account_plans.months_later(day_, months) == expected


def test_the_review_is_on_the_day_from_its_due_date_late_after_P1(db, world):
    account_plans.add_goal(world.client, goal(), actor=world.acm)
    db.session.commit()

    def items_on(local_day: date):
        at = datetime(local_day.year, local_day.month, local_day.day, 10, 0, tzinfo=UTC)
        return day.plan_reviews_owed(world.acm, now=at).items

    assert items_on(date(2027, 3, 4)) == []
    [due] = items_on(date(2027, 3, 5))
    assert due.rule == "P1" and not due.overdue and due.due_on == date(2027, 3, 5)
    [late] = items_on(date(2027, 3, 6))
    assert late.overdue
    clock.freeze(datetime(2027, 3, 6, 10, 0, tzinfo=UTC))
    account_plans.record_review(world.client, actor=world.acm, notes="Reviewed")
    db.session.commit()
    assert items_on(date(2027, 3, 6)) == []


def test_another_acms_day_does_not_show_the_review_P1(db, world, make_user):
    account_plans.add_goal(world.client, goal(), actor=world.acm)
    db.session.commit()
    later = clock.now() + timedelta(days=200)
    stranger = make_user(team=world.team)
    assert day.plan_reviews_owed(stranger, now=later).items == []
    assert len(day.plan_reviews_owed(world.acm, now=later).items) == 1
