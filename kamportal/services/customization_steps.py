"""Where a customization request stands in the whole process (C2-C7) and what is owed next,
by whom: the request's page says it under its title, the client page's panel on each
request's line.

Each stage's own module decides its part (the concept document's standing, the delivery's
progress, the survey's link); this module only reads them together, so that the next step
is said once, here, and not worked out again in a template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kamportal.extensions import db
from kamportal.models import (
    Client,
    ClientLink,
    CustomizationRequest,
    CustomizationStage,
    CustomizationStatus,
    Quotation,
    QuotationStatus,
)
from kamportal.services import concept_documents, customization_rejection, delivery

PRODUCT, COMMERCIAL, ACM, CLIENT = "Product", "Commercial", "The account manager", "The client"


@dataclass(frozen=True)
class NextStep:
    """What is owed next on a request: by whom (`owner`), what, and by when if it has a
    deadline (`due_at` an instant, `due_on` a date); `late` once that has passed."""

    owner: str
    text: str
    due_at: datetime | None = None
    due_on: date | None = None
    late: bool = False


@dataclass(frozen=True)
class Standing:
    """A request, its stage, what is next (None: nothing more is owed), and the progress of
    its milestones from delivery on."""

    request: CustomizationRequest
    next: NextStep | None
    progress: delivery.Progress | None

    @property
    def stage(self) -> CustomizationStage:
        return self.request.customization_stage

    @property
    def label(self) -> str:
        """The stage as people say it; a request on hold says so, waiting on the ACM."""
        if self.request.status == CustomizationStatus.ON_HOLD.value:
            return CustomizationStatus.ON_HOLD.label
        return self.stage.label


def next_step(
    request: CustomizationRequest,
    *,
    now: datetime,
    links: dict[str, ClientLink],
    quotation: Quotation | None,
    progress: delivery.Progress | None,
) -> NextStep | None:
    """What is owed next on `request` at `now`, given its client links by purpose, its
    quotation and (from delivery on) its progress."""
    stage = request.customization_stage
    if stage is CustomizationStage.DECISION:
        if request.status == CustomizationStatus.ON_HOLD.value:
            return NextStep(ACM, "answer product's question; product then decides again")
        due = request.decision_due_at
        return NextStep(
            PRODUCT,
            "accept, reject or put the request on hold",
            due_at=due,
            late=due is not None and now >= due,
        )
    if stage is CustomizationStage.REJECTED:
        if customization_rejection.is_owed(request):
            return NextStep(ACM, "send the client the reason of the rejection")
        return None
    if stage is CustomizationStage.PRICING:
        if request.estimated_days is None and request.price is None:
            return NextStep(
                f"{PRODUCT} and {COMMERCIAL.lower()}",
                "product estimates the period, commercial sets the price",
            )
        if request.estimated_days is None:
            return NextStep(PRODUCT, "estimate the period")
        return NextStep(COMMERCIAL, "set the price")
    if stage is CustomizationStage.CONCEPT:
        concept = concept_documents.standing(request, links.get(concept_documents.PURPOSE), now=now)
        return {
            "not_written": NextStep(ACM, "write the concept document"),
            "not_sent": NextStep(ACM, "send the concept document to the client to approve"),
            "sent": NextStep(CLIENT, "approve the concept document", due_at=concept.expires_at),
            "expired": NextStep(ACM, "send the concept document again: its link expired"),
        }.get(concept.state)
    if stage is CustomizationStage.INVOICING:
        if quotation is not None and quotation.quotation_status is QuotationStatus.REQUESTED:
            return NextStep(COMMERCIAL, "decide the discount asked, before the invoice")
        return NextStep(ACM, "issue the invoice")
    if stage is CustomizationStage.PAYMENT:
        return NextStep(CLIENT, "pay the invoice; the customization ticket opens once paid")
    if stage is CustomizationStage.DELIVERY:
        if progress is None or progress.total == 0:
            return NextStep(ACM, "plan the milestones")
        if progress.all_done:
            return NextStep(CLIENT, "accept the delivery (by the link, or as the ACM records)")
        upcoming = progress.next_due
        return NextStep(
            ACM,
            f"deliver the milestones ({progress.done} of {progress.total} done)"
            + (f"; next: {upcoming.title}" if upcoming is not None else ""),
            due_on=upcoming.due_on if upcoming is not None else None,
            late=progress.late > 0,
        )
    if stage is CustomizationStage.CLOSING:
        return NextStep(ACM, "close the customization; the satisfaction survey goes out")
    if request.survey_answered_at is not None:
        return None
    survey = links.get("survey")
    if survey is not None and now >= survey.expires_at:
        return NextStep(ACM, "send the satisfaction survey again: its link expired")
    return NextStep(
        CLIENT,
        "answer the satisfaction survey",
        due_at=survey.expires_at if survey is not None else None,
    )


# --- Reading -------------------------------------------------------------------------------------


def standing_of(request: CustomizationRequest, *, now: datetime) -> Standing:
    """Where one request stands (its page): three queries at most."""
    sent = db.session.scalars(select(ClientLink).where(ClientLink.request_id == request.id))
    links = {link.purpose: link for link in sent}
    quotation = (
        db.session.scalar(select(Quotation).where(Quotation.request_id == request.id))
        if request.stage == CustomizationStage.INVOICING.value
        else None
    )
    progress = (
        delivery.request_progress(request, at=now)
        if request.stage in delivery.DELIVERY_STAGES
        else None
    )
    return Standing(
        request,
        next_step(request, now=now, links=links, quotation=quotation, progress=progress),
        progress,
    )


def client_standings(client: Client, *, now: datetime) -> list[Standing]:
    """The client's requests, the latest first, each with its next step and progress (the
    client page's panel): the same few queries whatever their number and stages."""
    requests = list(
        db.session.scalars(
            select(CustomizationRequest)
            .where(CustomizationRequest.client_id == client.id)
            .options(selectinload(CustomizationRequest.concept))
            .order_by(CustomizationRequest.opened_at.desc(), CustomizationRequest.id.desc())
        )
    )
    return standings(requests, now=now)


def standings(requests: Sequence[CustomizationRequest], *, now: datetime) -> list[Standing]:
    """The standing of each of `requests` (their concept documents loaded): one query for
    their links, one for the quotations of those to invoice, one for the milestones of
    those in delivery or after."""
    ids = [request.id for request in requests]
    links: dict[int, dict[str, ClientLink]] = {request_id: {} for request_id in ids}
    if ids:
        for link in db.session.scalars(select(ClientLink).where(ClientLink.request_id.in_(ids))):
            links[link.request_id][link.purpose] = link
    invoicing = [r.id for r in requests if r.stage == CustomizationStage.INVOICING.value]
    quotations = (
        {
            quotation.request_id: quotation
            for quotation in db.session.scalars(
                select(Quotation).where(Quotation.request_id.in_(invoicing))
            )
        }
        if invoicing
        else {}
    )
    progress = delivery.progress_of(requests, at=now)
    return [
        Standing(
            request,
            next_step(
                request,
                now=now,
                links=links[request.id],
                quotation=quotations.get(request.id),
                progress=progress.get(request.id),
            ),
            progress.get(request.id),
        )
        for request in requests
    ]
