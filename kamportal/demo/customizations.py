"""Customization requests (C1-C3): in each team, requests at each stage
product works on (CUSTOMIZATION_STORIES), told through services/customizations.py, so
product lands on real work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from kamportal import clock
from kamportal.demo.common import SeedReport, acm_clients, replaying_the_past, take_client
from kamportal.demo.people import TEAMS, People
from kamportal.extensions import db
from kamportal.models import (
    Client,
    CustomizationRequest,
    CustomizationStatus,
    LifecycleStatus,
    TimelineEvent,
    User,
)
from kamportal.services import customizations

# A one-page PDF, as the ACM would attach the client's mock-up.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass(frozen=True)
class CustomizationStory:
    """One demo request: asked `asked_ago` before now; then, `decided_after` later,
    product's `decision` with its `reason` (None: still awaiting; past 48 hours, the
    breach is flagged as its job would)."""

    title: str
    end_result: str
    users: str
    done_when: str
    asked_ago: timedelta
    decision: CustomizationStatus | None = None
    reason: str = ""
    decided_after: timedelta = timedelta(hours=20)
    attach: bool = False


CUSTOMIZATION_STORIES = (
    CustomizationStory(
        "Loyalty points at checkout",
        "Customers see their points balance at checkout and can pay part of the order with "
        "points (100 points = 1 unit of the store's currency).",
        "The store's returning customers; the store's staff see the points in the orders list.",
        "A test order paid half with points shows both parts on the invoice and in the report.",
        asked_ago=timedelta(hours=6),
        attach=True,
    ),
    CustomizationStory(
        "Arabic invoice template",
        "Invoices printed from the admin in Arabic, right to left, with the store's tax number.",
        "The store's accountants.",
        "An invoice printed from the admin matches the sample the client sent.",
        asked_ago=timedelta(hours=60),
    ),
    CustomizationStory(
        "Custom courier integration",
        "Orders are sent to the client's own courier company and tracking numbers come back.",
        "The store's warehouse team.",
        "An order marked shipped gets a tracking number from the courier within a minute.",
        asked_ago=timedelta(days=5),
        decision=CustomizationStatus.REJECTED,
        reason="The courier has no API; we cannot integrate without one.",
    ),
    CustomizationStory(
        "Wholesale price list",
        "Logged-in wholesale customers see their own prices and minimum quantities.",
        "The client's wholesale buyers.",
        "A wholesale account sees its price list; a retail account never does.",
        asked_ago=timedelta(days=2),
        decision=CustomizationStatus.ON_HOLD,
        reason="How many price lists, and who keeps them up to date?",
    ),
)


def seed_customizations(now: datetime, people: People, report: SeedReport) -> None:
    """The stories missing in each team, on live clients of its ACMs (the first ACM's
    first)."""
    with replaying_the_past() as added:
        for spec in TEAMS:
            acm_ids = [acm.id for acm in people.acms(spec.name)]
            asked = set(
                db.session.scalars(
                    select(CustomizationRequest.title)
                    .join(CustomizationRequest.client)
                    .where(Client.acm_id.in_(acm_ids))
                )
            )
            candidates = [
                client
                for acm in people.acms(spec.name)
                for client in acm_clients(
                    acm,
                    (LifecycleStatus.LIVE,),
                    without=Client.id.in_(select(CustomizationRequest.client_id)),
                )
            ]
            for story in CUSTOMIZATION_STORIES:
                if story.title in asked:
                    continue
                client = take_client(candidates, before=now - story.asked_ago)
                if client is None:
                    break
                _tell(story, client, now=now, product=people.product)
                report.customizations += 1
    report.events += sum(isinstance(row, TimelineEvent) for row in added)


def _tell(story: CustomizationStory, client: Client, *, now: datetime, product: User) -> None:
    asked_at = now - story.asked_ago
    clock.freeze(asked_at)
    request = customizations.open_request(
        client,
        actor=client.acm,
        title=story.title,
        end_result=story.end_result,
        users=story.users,
        done_when=story.done_when,
        wanted_by=(asked_at + timedelta(days=45)).date(),
        uploads=[customizations.Upload("mock-up.pdf", DEMO_PDF)] if story.attach else [],
    )
    if story.decision is not None:
        clock.freeze(asked_at + story.decided_after)
        customizations.decide(
            request, actor=product, decision=story.decision.value, reason=story.reason
        )
    elif request.decision_due_at <= now:
        clock.freeze(request.decision_due_at + timedelta(minutes=1))
        customizations.flag_breach(request.id)
