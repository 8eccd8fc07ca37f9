"""P3: upsell and cross-sell opportunities in each team, on live clients of its ACMs, in
their currencies: at every stage of the pipeline, some past their close date, won, lost
with their reason, and a customization won whose request waits for product (C1, C2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import zip_longest

from sqlalchemy import select

from kamportal import clock
from kamportal.demo.common import SeedReport, acm_clients, replaying_the_past
from kamportal.demo.customizations import _MARKET_OF_CURRENCY
from kamportal.demo.markets import round_price
from kamportal.demo.people import TEAMS, People
from kamportal.extensions import db
from kamportal.models import Client, LifecycleStatus, Opportunity
from kamportal.services import customization_tickets, opportunities


@dataclass(frozen=True)
class OpportunityStory:
    """An opportunity identified `days_ago`, to close `close_in` days from today (negative:
    past its date), moved through `moves` one after the other; "lost" with `reason`. A won
    customization starts its request with `scope` (the end result, who uses it, how the
    client knows it is done)."""

    kind: str
    title: str
    usd: int
    days_ago: int
    close_in: int
    moves: tuple[str, ...] = ()
    reason: str = ""
    scope: tuple[str, str, str] | None = None


OPPORTUNITY_STORIES = (
    OpportunityStory("marketplace_app", "Loyalty points app", 600, 12, 20),
    OpportunityStory("service", "Product photography, 100 items", 800, 20, 45, ("proposed",)),
    OpportunityStory(
        "plan_upgrade",
        "Yearly plan with more staff accounts",
        2400,
        40,
        12,
        ("proposed", "negotiating"),
    ),
    OpportunityStory(
        "marketplace_app",
        "Abandoned-cart reminders on WhatsApp",
        300,
        35,
        70,
        ("proposed", "negotiating"),
    ),
    OpportunityStory(
        "customization", "Wholesale price tiers", 3500, 30, -4, ("proposed", "negotiating")
    ),
    OpportunityStory("service", "SEO audit and fixes", 1200, 25, 100, ("proposed",)),
    OpportunityStory("marketplace_app", "Product reviews app", 250, 40, -10, ("proposed", "won")),
    OpportunityStory(
        "plan_upgrade",
        "Second store for the Gulf",
        4800,
        60,
        -20,
        ("proposed", "lost"),
        reason="The client postponed its Gulf launch to next year.",
    ),
    OpportunityStory(
        "service",
        "Paid ads management",
        1500,
        50,
        -15,
        ("proposed", "negotiating", "lost"),
        reason="Chose the agency it already works with.",
    ),
    OpportunityStory(
        "customization",
        "Gift wrapping at checkout",
        2000,
        21,
        5,
        ("proposed", "negotiating", "won"),
        scope=(
            "A gift-wrapping option on the checkout page with a fee set by the store and a "
            "message card of up to 200 characters printed on the packing slip.",
            "The store's shoppers, and its warehouse team who pack the orders.",
            "A test order with gift wrapping shows the fee and prints the message.",
        ),
    ),
)
# The last move of a story happens this long before now: a won customization's request
# then waits for product well within its 48 hours (C2).
LAST_MOVE_AGO = timedelta(hours=20)


def seed_opportunities(now: datetime, people: People, report: SeedReport) -> None:
    """The stories of each team whose clients have no opportunity yet, through the
    services at their time in the past; the clients taken in turn among its ACMs' live
    ones, two stories to a client."""
    with replaying_the_past() as added:
        for spec in TEAMS:
            acms = people.acms(spec.name)
            had = select(Opportunity.id).join(Opportunity.client)
            if db.session.scalar(had.where(Client.acm_id.in_([a.id for a in acms])).limit(1)):
                continue
            without = Client.id.in_(select(Opportunity.client_id))
            per_acm = [acm_clients(acm, (LifecycleStatus.LIVE,), without=without) for acm in acms]
            # In turn among the ACMs: each one's first client, then each one's second...
            clients = [c for rank in zip_longest(*per_acm) for c in rank if c is not None]
            if not clients:
                continue
            for n, story in enumerate(OPPORTUNITY_STORIES):
                _tell(story, clients[(n // 2) % len(clients)], now)
        clock.freeze(now)
    report.opportunities += sum(isinstance(row, Opportunity) for row in added)


def _tell(story: OpportunityStory, client: Client, now: datetime) -> None:
    acm = client.acm
    start = now - timedelta(days=story.days_ago)
    clock.freeze(start)
    market = _MARKET_OF_CURRENCY[client.currency]
    opportunity = opportunities.add_opportunity(
        client,
        actor=acm,
        details=opportunities.Details(
            kind=story.kind,
            title=story.title,
            amount=round_price(Decimal(story.usd) * market.usd_rate, market),
            currency=client.currency,
            expected_close_on=clock.today(acm.timezone, at=now) + timedelta(days=story.close_in),
            description=story.scope[0] if story.scope else "",
        ),
    )
    step = (now - LAST_MOVE_AGO - start) / max(len(story.moves), 1)
    for n, stage in enumerate(story.moves, 1):
        clock.freeze(start + step * n)
        scope = None
        if story.scope is not None and stage == "won":
            end_result, users, done_when = story.scope
            scope = opportunities.ScopeOfWork(
                end_result, users, done_when, wanted_by=clock.today(acm.timezone) + timedelta(40)
            )
        opportunities.move_opportunity(
            opportunity, actor=acm, stage=stage, reason=story.reason, scope=scope
        )
    if opportunity.customization_request is not None:
        # The approval ticket, as its job opens it just after the request (C2).
        customization_tickets.open_approval_ticket(opportunity.customization_request.id)
