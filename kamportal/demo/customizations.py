"""Customization requests (C1-C7): in each team, requests at every stage of the process
(CUSTOMIZATION_STORIES), told through the services as the people would have done it, so
product and commercial land on real work, the ACM's day owes what the process owes, and one
request is delivered with its survey."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from kamportal import clock
from kamportal.demo.common import SeedReport, acm_clients, replaying_the_past, take_client
from kamportal.demo.markets import MARKETS, round_price
from kamportal.demo.people import TEAMS, People
from kamportal.extensions import db
from kamportal.models import (
    Client,
    CustomizationRequest,
    CustomizationStatus,
    Invoice,
    LifecycleStatus,
)
from kamportal.services import (
    client_links,
    concept_documents,
    customization_tickets,
    customizations,
    delivery,
    discounts,
    payments,
    quotations,
)
from kamportal.services.concept_documents import MilestoneRow

# A one-page PDF, as the ACM would attach the client's mock-up.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass(frozen=True)
class Next:
    """A step after product accepted, `after` the step before it. Kinds: "estimate"
    (product's period: `value` days), "price" (commercial: `value` US dollars, converted
    like the price list), "discount" (the ACM asks `value` percent off the fee),
    "approve" / "reject" (commercial, `text` the note), "concept" (written with the
    story's milestones), "send_concept", "approved" (the client, by the link), "invoice",
    "paid" (online, marked by finance), "milestone" (the next milestone done),
    "acceptance" (the link sent, then the client accepts), "accepted_on_call" (the ACM
    records it, `text` the evidence, with a file), "close" (the survey goes),
    "survey" (the client answers: `value` the score, `text` the comment)."""

    kind: str
    after: timedelta = timedelta(days=1)
    value: str = ""
    text: str = ""


# What a concept document's milestones are: title, kind, due days after it was written.
MILESTONES = (
    ("Design signed off by the client", "basic", 7),
    ("Built and tested on the staging store", "basic", 21),
    ("Live on the store, with the staff trained", "extra", 45),
)


def quoted(days: int, usd: int) -> tuple[Next, ...]:
    """Product's period, then commercial's price (C4)."""
    return (Next("estimate", value=str(days)), Next("price", value=str(usd)))


# The concept document written, sent and approved by the client the next day (C5).
CONCEPT_APPROVED = (
    Next("concept"),
    Next("send_concept", timedelta(hours=2)),
    Next("approved", timedelta(days=1)),
)
# Invoiced, paid the next day, every milestone done over the next weeks (C6, C7).
DELIVERED = (
    Next("invoice", timedelta(hours=2)),
    Next("paid", timedelta(days=1)),
    Next("milestone", timedelta(days=6)),
    Next("milestone", timedelta(days=14)),
    Next("milestone", timedelta(days=20)),
)


@dataclass(frozen=True)
class CustomizationStory:
    """One demo request: asked `asked_ago` before now; then, `decided_after` later,
    product's `decision` with its `reason` (None: still awaiting; past 48 hours, the
    breach is flagged as its job would); then, once accepted, the `next` steps."""

    title: str
    end_result: str
    users: str
    done_when: str
    asked_ago: timedelta
    decision: CustomizationStatus | None = None
    reason: str = ""
    decided_after: timedelta = timedelta(hours=20)
    attach: bool = False
    next: tuple[Next, ...] = ()
    # R8: invoiced with the client's confirmed renewal, when one of the team's clients has
    # one (the seed's example: its discount covers both).
    with_renewal: bool = False


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
    CustomizationStory(
        "Google Shopping product feed",
        "Every product in stock is in a Google Merchant Center feed, refreshed every night.",
        "The client's marketing agency.",
        "Merchant Center shows the store's products with no feed errors for a week.",
        asked_ago=timedelta(days=3),
        decision=CustomizationStatus.ACCEPTED,
        next=(Next("estimate", value="15"),),
    ),
    CustomizationStory(
        "Gift messages at checkout",
        "Customers can add a gift message and choose gift wrapping, printed on the packing slip.",
        "Customers buying gifts; the warehouse staff who pack the orders.",
        "A test order with a gift message prints it on the packing slip.",
        asked_ago=timedelta(days=4),
        decision=CustomizationStatus.ACCEPTED,
        next=(Next("price", value="600"),),
    ),
    CustomizationStory(
        "Bundle offers",
        "The store sells bundles of products at one price, with the stock of each product kept.",
        "The store's customers; the staff who set the bundles up.",
        "A bundle sold takes one of each product out of stock and shows on the sales report.",
        asked_ago=timedelta(days=9),
        decision=CustomizationStatus.ACCEPTED,
        next=(
            *quoted(20, 1500),
            Next("discount", value="15"),
            Next("concept"),
            Next("send_concept", timedelta(hours=3)),
        ),
    ),
    CustomizationStory(
        "Branded order tracking page",
        "Customers follow their order on a page in the store's colours with the courier's steps.",
        "The store's customers.",
        "A shipped order's page shows each courier step within the hour it happens.",
        asked_ago=timedelta(days=14),
        decision=CustomizationStatus.ACCEPTED,
        next=(
            *quoted(10, 800),
            Next("discount", value="20"),
            Next(
                "reject",
                timedelta(hours=5),
                text="The price is already our partner rate; 20% would sell it at a loss.",
            ),
            *CONCEPT_APPROVED,
        ),
    ),
    CustomizationStory(
        "Stock shared between branches",
        "The store's stock is the sum of the three branches', updated when a branch sells.",
        "The client's branch managers and the online store's staff.",
        "A sale in a branch lowers the online stock within five minutes.",
        asked_ago=timedelta(days=20),
        decision=CustomizationStatus.ACCEPTED,
        attach=True,
        with_renewal=True,
        next=(
            *quoted(30, 1000),
            Next("discount", value="30", text="fee_and_renewal"),
            Next("approve", timedelta(hours=4), text="The best offer, with the renewal (SAL)."),
            *CONCEPT_APPROVED,
            DELIVERED[0],
        ),
    ),
    CustomizationStory(
        "Wholesale portal",
        "Wholesale buyers order from a portal of their own, with their prices and credit terms.",
        "The client's wholesale buyers and its sales team.",
        "A wholesale buyer orders on credit and the order reaches the sales team.",
        asked_ago=timedelta(days=40),
        decision=CustomizationStatus.ACCEPTED,
        next=(*quoted(60, 2500), *CONCEPT_APPROVED, *DELIVERED[:3]),
    ),
    CustomizationStory(
        "Abandoned cart emails",
        "Customers who leave a full cart get an email after an hour, and another after a day.",
        "The store's customers; the marketing team who writes the emails.",
        "A test cart left for an hour gets its email, with the cart's products in it.",
        asked_ago=timedelta(days=60),
        decision=CustomizationStatus.ACCEPTED,
        next=(
            *quoted(20, 700),
            *CONCEPT_APPROVED,
            *DELIVERED,
            Next(
                "accepted_on_call",
                timedelta(days=1),
                text="Accepted on the call with the client's marketing manager; her email "
                "saying so is attached.",
            ),
        ),
    ),
    CustomizationStory(
        "Arabic storefront theme",
        "The storefront in Arabic, right to left, with the client's fonts and banners.",
        "The store's customers in the Gulf.",
        "Every page of the store reads right to left in Arabic on a phone.",
        asked_ago=timedelta(days=75),
        decision=CustomizationStatus.ACCEPTED,
        next=(
            *quoted(30, 1200),
            *CONCEPT_APPROVED,
            *DELIVERED,
            Next("acceptance", timedelta(days=1)),
            Next("close", timedelta(days=1)),
            Next(
                "survey",
                timedelta(days=1),
                value="5",
                text="On time, and our sales in Riyadh doubled in the first month.",
            ),
        ),
    ),
)

_MARKET_OF_CURRENCY = {market.currency: market for market in MARKETS}


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
                client = None
                if story.with_renewal:
                    client = take_client(
                        [c for c in candidates if quotations.renewal_to_invoice_with(c)],
                        before=now - story.asked_ago,
                    )
                    if client is not None:
                        candidates.remove(client)
                client = client or take_client(candidates, before=now - story.asked_ago)
                if client is None:
                    break
                _tell(story, client, now=now, people=people)
                report.customizations += 1
    report.invoices += sum(isinstance(row, Invoice) for row in added)


def _tell(story: CustomizationStory, client: Client, *, now: datetime, people: People) -> None:
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
    # The approval ticket, as its job opens it just after the request (C2).
    customization_tickets.open_approval_ticket(request.id)
    if story.decision is not None:
        clock.freeze(asked_at + story.decided_after)
        customizations.decide(
            request, actor=people.product, decision=story.decision.value, reason=story.reason
        )
    elif request.decision_due_at <= now:
        clock.freeze(request.decision_due_at + timedelta(minutes=1))
        customizations.flag_breach(request.id)
    at = asked_at + story.decided_after
    for step in story.next:
        at += step.after
        if at >= now:
            raise RuntimeError(f"demo customization {story.title!r}: {step.kind} after now")
        clock.freeze(at)
        _take(step, request, people=people)


def _take(step: Next, request: CustomizationRequest, *, people: People) -> None:
    """One step of the request's life after product accepted it (C4-C7)."""
    acm = request.client.acm
    match step.kind:
        case "estimate":
            quotations.estimate_period(request, actor=people.product, days=int(step.value))
        case "price":
            market = _MARKET_OF_CURRENCY[request.client.currency]
            price = round_price(Decimal(step.value) * market.usd_rate, market)
            quotations.set_price(request, actor=people.commercial, amount=price)
        case "discount":
            quotations.request_discount(
                request, actor=acm, percent=step.value, covers=step.text or "fee"
            )
        case "approve" | "reject":
            discounts.decide_discount(
                quotations.quotation_of(request),
                actor=people.commercial,
                approve=step.kind == "approve",
                note=step.text,
            )
        case "concept":
            written = clock.today(request.client.timezone)
            concept_documents.write_concept(
                request,
                actor=acm,
                scope=request.end_result,
                activities="Workshop with the client's team; design; build on a staging "
                "store; tests with the client; launch; training of the store's staff.",
                exit_criteria=request.done_when,
                milestones=[
                    MilestoneRow(title, kind, written + timedelta(days=days))
                    for title, kind, days in MILESTONES
                ],
            )
        case "send_concept":
            concept_documents.send_concept(request, actor=acm)
        case "approved":
            concept_documents.approve_by_link(
                client_links.live_link(request, "concept"),
                name=request.client.contacts[0].name,
                agreed=True,
                address="192.0.2.10",
            )
        case "invoice":
            quotations.issue_invoice(
                request,
                actor=acm,
                due_on=clock.today(request.client.timezone) + timedelta(days=14),
                with_renewal=quotations.renewal_to_invoice_with(request.client) is not None,
            )
        case "paid":
            invoice = db.session.get(Invoice, request.invoice_id)
            payments.record_online_payment(invoice, actor=people.finance)
            # The customization ticket, as its jobs open it once the invoice is paid and
            # attach the invoice (C6).
            customization_tickets.open_customization_ticket(request.id)
            customization_tickets.attach_invoice(request.id)
        case "milestone":
            milestone = next(m for m in request.milestones if m.status != "done")
            delivery.update_milestone(
                milestone, actor=acm, due_on=milestone.due_on, owner_id=acm.id, status="done"
            )
        case "acceptance":
            delivery.send_acceptance_link(request, actor=acm)
            clock.freeze(clock.now() + timedelta(hours=5))
            delivery.accept_by_link(
                client_links.live_link(request, "acceptance"),
                name=request.client.contacts[0].name,
                address="192.0.2.10",
            )
        case "accepted_on_call":
            delivery.record_acceptance(
                request,
                actor=acm,
                note=step.text,
                evidence=customizations.Upload("acceptance.pdf", DEMO_PDF),
            )
        case "close":
            delivery.close_request(request, actor=acm)
        case "survey":
            delivery.answer_survey(
                client_links.live_link(request, "survey"), score=step.value, comment=step.text
            )
        case _:
            raise ValueError(f"unknown demo customization step {step.kind!r}")
