"""A customization request whose quotation is ready (stage CONCEPT, C4 done), and a
concept document written for it (C5): what the concept tests start from."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from kamportal import clock
from kamportal.extensions import db
from kamportal.models import Client, CustomizationRequest, CustomizationStage, User
from kamportal.services import concept_documents, customizations
from kamportal.services.concept_documents import MilestoneRow


def request_in_concept(client: Client, *, actor: User) -> CustomizationRequest:
    """A request opened, accepted and priced (set directly: another part of the process
    does that), now owing its concept document. Committed."""
    request = customizations.open_request(
        client,
        actor=actor,
        title="Loyalty points",
        end_result="Points earned on every order, spent at checkout",
        users="Returning customers",
        done_when="A test order paid with points",
        wanted_by=date(2027, 6, 30),
    )
    now = clock.now()
    request.status = "accepted"
    request.decided_at = now
    request.decision_due_at = None
    request.estimated_days, request.estimated_at = 20, now
    request.price, request.price_currency, request.priced_at = Decimal("5000"), "EGP", now
    request.stage = CustomizationStage.CONCEPT.value
    db.session.commit()
    return request


def milestones(client: Client, *kinds: str) -> list[MilestoneRow]:
    """Rows due from a week after the client's today, one per kind given (basic first)."""
    today = clock.today(client.timezone)
    return [
        MilestoneRow(f"Milestone {n}", kind, today + timedelta(days=7 * n))
        for n, kind in enumerate(kinds or ("basic", "extra"), start=1)
    ]


def write(request: CustomizationRequest, *, actor: User, **fields):
    values = {
        "scope": "Points on orders",
        "activities": "Design\nBuild\nTest",
        "exit_criteria": "A test order paid with points",
        "milestones": milestones(request.client),
    }
    values.update(fields)
    concept = concept_documents.write_concept(request, actor=actor, **values)
    db.session.commit()
    return concept
