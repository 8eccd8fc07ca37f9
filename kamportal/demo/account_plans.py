"""P1: account plans on the first live client of each ACM of every team: written over the
last months (each save a version), some reviewed, one review in each team overdue."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from kamportal import clock
from kamportal.demo.common import SeedReport, acm_clients, replaying_the_past
from kamportal.demo.people import TEAMS, People
from kamportal.extensions import db
from kamportal.models import AccountPlan, Client, LifecycleStatus, User
from kamportal.services import account_plans
from kamportal.services.account_plans import GoalInput

# Days ago the plan was written; the first is past its quarterly review (owed on the day),
# the second was reviewed, the others are within their first quarter.
WRITTEN_DAYS_AGO = (100, 130, 45, 20)


def seed_account_plans(now: datetime, people: People, report: SeedReport) -> None:
    """Each plan saved part by part through the service, at its time in the past. An ACM
    whose client has a plan already gets none, so running again adds nothing."""
    with replaying_the_past() as added:
        for spec in TEAMS:
            for acm, ago in zip(people.acms(spec.name), WRITTEN_DAYS_AGO, strict=False):
                has_plan = select(AccountPlan.id).join(AccountPlan.client)
                if db.session.scalar(has_plan.where(Client.acm_id == acm.id).limit(1)):
                    continue
                live = acm_clients(acm, (LifecycleStatus.LIVE,), without=Client.id.is_(None))
                if live:
                    # Never before the client came into the portal.
                    written = max(now - timedelta(days=ago), live[0].created_at + timedelta(days=1))
                    _write_plan(live[0], acm, written, now)
        clock.freeze(now)
    report.account_plans += sum(isinstance(row, AccountPlan) for row in added)


def _write_plan(client: Client, acm: User, written: datetime, now: datetime) -> None:
    clock.freeze(written)
    today = clock.today(client.timezone)
    account_plans.save_summary(
        client,
        actor=acm,
        value_proposition=(
            f"{client.store_name} sells through one store to every market it serves: we "
            "bring the platform, the launch and the marketing know-how, so its team "
            "spends its time on products and customers."
        ),
        roadmap=(
            "This quarter: abandoned-cart and loyalty apps, product SEO.\n"
            "Next quarter: a marketplace channel and the first paid campaigns."
        ),
    )
    goals = [
        GoalInput("Grow online revenue", "Monthly GMV", "+25% on last quarter", _in(today, 90)),
        GoalInput("Recover abandoned carts", "Carts recovered a month", "150", _in(today, 60)),
        GoalInput("Faster checkout", "Checkout conversion rate", "3.5%", _in(today, 120)),
    ]
    for goal in goals:
        clock.freeze(clock.now() + timedelta(hours=2))
        account_plans.add_goal(client, goal, actor=acm)
    for contact, influence in zip(client.contacts, ("high", "medium", "low"), strict=False):
        clock.freeze(clock.now() + timedelta(hours=1))
        account_plans.add_stakeholder(client, contact, influence, actor=acm)
    # A status changed halfway between the writing and today.
    clock.freeze(written + (now - written) / 2)
    key = account_plans.content_of(account_plans.plan_of(client))["goals"][1]["key"]
    account_plans.update_goal(
        client, key, GoalInput(**{**goals[1].__dict__, "status": "on_track"}), actor=acm
    )
    # A plan older than a quarter and a month was reviewed when its review came.
    if written + timedelta(days=122) < now:
        clock.freeze(written + timedelta(days=92))
        account_plans.record_review(
            client,
            actor=acm,
            notes="Revenue goal on track; carts recovery ahead of target. "
            "Agreed to add a marketplace goal next quarter.",
        )


def _in(today: date, days: int) -> date:
    return today + timedelta(days=days)
