"""The concept document of a customization request (C5): scope of work, activities,
milestones (basic functions and extra requirements) and exit criteria.

Whoever works on the client writes it once the quotation is ready (stage CONCEPT) and may
change it until it is approved. It goes to the client by a signed, expiring, revocable link
(services/client_links.py, as the KYC link): the client reads it and approves it by typing
their full name, recorded with the time and the address the approval came from. Changing a
document already sent withdraws its link, so the client only ever approves the version
they were sent last. Or the ACM uploads the copy the client signed. Approved either way,
the request moves on to its invoice (stage INVOICING, C6).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from kamportal import clock, i18n
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.i18n import N_
from kamportal.messaging import outbox
from kamportal.models import (
    Client,
    ClientLink,
    ConceptDocument,
    CustomizationRequest,
    CustomizationStage,
    Milestone,
    OutboxMessage,
    TimelineKind,
    User,
)
from kamportal.services import access, client_links, customizations, timeline, validation
from kamportal.services.client_links import LinkRefused

PURPOSE = "concept"
MILESTONE_KINDS = {"basic": N_("Basic function"), "extra": N_("Extra requirement")}
MAX_MILESTONES = 20
# How far ahead a milestone may fall: a customization is weeks or months of work.
MILESTONE_HORIZON = timedelta(days=2 * 366)
TEXT_LIMITS = {"scope": 10000, "activities": 10000, "exit_criteria": 5000}
# The files a signed copy may be: what a scanner or a phone gives.
SIGNED_COPY_TYPES = ("application/pdf", "image/png", "image/jpeg")
CONCEPT_FIELDS = ("scope", "activities", "exit_criteria", "sent_at", "approved_at", "approved_via")

__all__ = ["LinkRefused"]


@dataclass(frozen=True)
class MilestoneRow:
    """A milestone as typed on the form: its title, kind and due date (None: not given);
    `key` names its row as the browser sends it ("milestones-2"), for the errors."""

    title: str
    kind: str
    due_on: date | None
    key: str = ""


@dataclass(frozen=True)
class ConceptStanding:
    """Where a request's concept document stands (C5): `state` is not_written, not_sent
    (written, or changed since it was sent, or its link withdrawn), sent (a live link out),
    expired (the link ran out unanswered) or approved; `link` the last link sent."""

    state: str
    label: str
    link: ClientLink | None
    # In stage CONCEPT and not approved: it may be written, changed, sent or its signed
    # copy uploaded.
    open: bool = False

    @property
    def expires_at(self) -> datetime | None:
        return self.link.expires_at if self.link is not None else None

    @property
    def shown(self) -> bool:
        """Whether the request's page has a concept document part at all."""
        return self.open or self.state != "not_written"

    @property
    def sendable(self) -> bool:
        return self.open and self.state != "not_written"

    @property
    def revocable(self) -> bool:
        return self.open and self.state in ("sent", "expired")


_LABELS = {
    "not_written": "To write",
    "not_sent": "Written, not sent",
    "sent": "Sent: waiting for the client's approval",
    "expired": "Sent, but the link expired: send it again",
    "approved": "Approved",
}


def standing(
    request: CustomizationRequest, link: ClientLink | None, *, now: datetime
) -> ConceptStanding:
    """C5: where the concept document of `request` stands at `now`, given its last link."""
    concept = request.concept
    if concept is None:
        state = "not_written"
    elif concept.is_approved:
        state = "approved"
    elif link is None or concept.sent_at is None or link.revoked_at is not None:
        state = "not_sent"
    elif now >= link.expires_at:
        state = "expired"
    else:
        state = "sent"
    is_open = request.stage == CustomizationStage.CONCEPT.value and state != "approved"
    return ConceptStanding(state, _LABELS[state], link, is_open)


def standing_of(request: CustomizationRequest) -> ConceptStanding:
    return standing(request, client_links.live_link(request, PURPOSE), now=clock.now())


def draft(request: CustomizationRequest) -> dict[str, object]:
    """What the form starts from: the document as written, or, before it is, the scope of
    work's end result as the scope and its "done when" as the exit criteria (C1)."""
    concept = request.concept
    if concept is not None:
        return {
            "scope": concept.scope,
            "activities": concept.activities,
            "exit_criteria": concept.exit_criteria,
            "milestones": [MilestoneRow(m.title, m.kind, m.due_on) for m in request.milestones],
        }
    return {
        "scope": request.end_result,
        "activities": "",
        "exit_criteria": request.done_when,
        "milestones": [MilestoneRow("", "basic", None)],
    }


def milestone_window(client: Client) -> tuple[date, date]:
    """The days a milestone may be due: from the client's today to the horizon."""
    today = clock.today(client.timezone)
    return today, min(today + MILESTONE_HORIZON, validation.LATEST_DATE)


def _check_concept_stage(request: CustomizationRequest) -> None:
    if request.concept is not None and request.concept.is_approved:
        raise RuleViolation("C5", "The client approved this concept document: it stays as is.")
    customizations.check_stage(
        request,
        CustomizationStage.CONCEPT,
        rule="C5",
        refusal="The concept document is written and sent once the quotation is ready.",
    )


def _text(value: str, field: str, message: str) -> str:
    validation.typed_text(value, field=field, multiline=True, max_length=TEXT_LIMITS[field])
    return validation.required_text(value, field=field, message=message)


def _milestones(client: Client, rows: Sequence[MilestoneRow]) -> list[MilestoneRow]:
    """The rows filled in (blank ones dropped), each checked; errors name the row's field
    as the browser sends it ("milestones-2-due_on")."""
    earliest, latest = milestone_window(client)
    kept = []
    for index, row in enumerate(rows):
        key = row.key or f"milestones-{index}"
        title = validation.typed_text(row.title, field=f"{key}-title", max_length=200).strip()
        if not title and row.due_on is None:
            continue
        if not title:
            raise ValidationError("Name the milestone.", field=f"{key}-title")
        if row.kind not in MILESTONE_KINDS:
            raise ValidationError("A basic function or an extra requirement.", field=f"{key}-kind")
        if row.due_on is None:
            raise ValidationError("When is it due?", field=f"{key}-due_on")
        validation.date_between(
            row.due_on,
            field=f"{key}-due_on",
            earliest=earliest,
            latest=latest,
            message="Due from the client's today, within two years.",
        )
        kept.append(MilestoneRow(title, row.kind, row.due_on))
    if len(kept) > MAX_MILESTONES:
        raise ValidationError(f"At most {MAX_MILESTONES} milestones, please.", field="milestones")
    if not any(row.kind == "basic" for row in kept):
        raise ValidationError(
            "Give at least one milestone for a basic function (C5).", field="milestones"
        )
    return kept


def write_concept(
    request: CustomizationRequest,
    *,
    actor: User,
    scope: str,
    activities: str,
    exit_criteria: str,
    milestones: Sequence[MilestoneRow],
) -> ConceptDocument:
    """C5: write the concept document, or change it until the client approves it. A change
    to a document already sent withdraws its link: the client must be sent the new version.

    Raises NotAllowed for someone who does not work on the client, RuleViolation("C5")
    outside stage CONCEPT or once approved, ValidationError for a blank part, a milestone
    without title or date, due before the client's today or past the horizon, or no basic
    milestone."""
    access.check_works_on(actor, request.client)
    _check_concept_stage(request)
    texts = {
        "scope": _text(scope, "scope", "Say what the work covers."),
        "activities": _text(activities, "activities", "List the activities."),
        "exit_criteria": _text(
            exit_criteria, "exit_criteria", "Say how the client will know it is done."
        ),
    }
    rows = _milestones(request.client, milestones)
    now = clock.now()
    concept = request.concept
    withdrawn = False
    if concept is None:
        concept = ConceptDocument(request=request, written_at=now, written_by=actor, **texts)
        db.session.add(concept)
        before = None
    else:
        before = timeline.snapshot(concept, CONCEPT_FIELDS)
        for name, value in texts.items():
            setattr(concept, name, value)
        if concept.sent_at is not None:
            withdrawn = _withdraw_link(request)
            concept.sent_at = None
    concept.updated_at = now
    request.milestones.clear()
    db.session.flush()
    for position, row in enumerate(rows, start=1):
        request.milestones.append(
            Milestone(position=position, title=row.title, kind=row.kind, due_on=row.due_on)
        )
    db.session.flush()
    timeline.audit(
        actor,
        "customization.concept_write",
        concept,
        before=before,
        after={
            **timeline.snapshot(concept, CONCEPT_FIELDS),
            "milestones": [(r.title, r.kind, r.due_on) for r in rows],
        },
    )
    verb = "written" if before is None else "changed"
    also = "; the link sent was withdrawn" if withdrawn else ""
    timeline.record(
        request.client,
        TimelineKind.CONCEPT_WRITTEN,
        actor=actor,
        summary=(
            f"Concept document of {request.reference} {verb}: {len(rows)} milestones{also} (C5)"
        ),
        detail={"request_id": request.id, "withdrawn": withdrawn},
        at=now,
    )
    db.session.flush()
    return concept


def _withdraw_link(request: CustomizationRequest) -> bool:
    """Revoke the concept's link if one is live (unused, not revoked); whether it was."""
    link = client_links.live_link(request, PURPOSE)
    if link is None or link.revoked_at is not None or link.used_at is not None:
        return False
    client_links.revoke(request, PURPOSE)
    return True


def send_concept(
    request: CustomizationRequest, *, actor: User, base_url: str | None = None
) -> OutboxMessage:
    """C5: email the client a link to read and approve the concept document (G1 CCs),
    under PUBLIC_URL or else `base_url`; a link sent before stops working.

    Raises NotAllowed for someone who does not work on the client, RuleViolation("C5")
    outside stage CONCEPT, once approved or before it is written, ValidationError without a
    contact email."""
    access.check_works_on(actor, request.client)
    _check_concept_stage(request)
    concept = request.concept
    if concept is None:
        raise RuleViolation("C5", "Write the concept document before sending it.")
    client = request.client
    contact = client.reachable_contact("email")
    if contact is None:
        raise ValidationError("Add the client's contact with an email address first.")
    link = client_links.issue(request, PURPOSE, to=contact.email, actor=actor)
    concept.sent_at = link.sent_at
    message = outbox.email_client(
        client,
        contact,
        key=f"customization-{request.id}-concept-{link.nonce}",
        subject=i18n.translated(
            client.language, "Please review and approve: %(title)s", title=request.title
        ),
        template="concept_link.txt",
        customization=request,
        link=client_links.url_for_link(link, base_url=base_url),
        expires_at=clock.in_zone(link.expires_at, client.timezone),
        actor=actor,
    )
    timeline.audit(
        actor,
        "customization.concept_send",
        concept,
        after={"to": contact.email, "expires_at": link.expires_at},
    )
    timeline.record(
        client,
        TimelineKind.CONCEPT_SENT,
        actor=actor,
        summary=(
            f"Concept document of {request.reference} sent to {contact.name} "
            f"({contact.email}) to approve; the link works until ",
            link.expires_at,
            " (C5)",
        ),
        detail={"request_id": request.id, "contact_id": contact.id},
        outbox_message=message,
    )
    db.session.flush()
    return message


def revoke_concept_link(request: CustomizationRequest, *, actor: User) -> None:
    """C5: the concept's link stops working at once.

    Raises NotAllowed for someone who does not work on the client, ValidationError without
    a live link."""
    access.check_works_on(actor, request.client)
    client_links.revoke(request, PURPOSE)
    timeline.audit(actor, "customization.concept_revoke", request.concept, after={"revoked": True})
    timeline.record(
        request.client,
        TimelineKind.CONCEPT_LINK_REVOKED,
        actor=actor,
        summary=f"Concept document link of {request.reference} revoked (C5)",
        detail={"request_id": request.id},
    )
    db.session.flush()


def open_concept(token: str) -> ClientLink:
    """The concept link a client's token opens, its request still waiting for the approval.
    Raises LinkRefused (altered, revoked, expired, used), naming nothing of the client."""
    link = client_links.open_link(token, PURPOSE)
    request = link.request
    if request.concept is None or request.stage != CustomizationStage.CONCEPT.value:
        raise LinkRefused(
            "revoked",
            N_(
                "This link no longer works. Please use the latest link your account manager "
                "sent you."
            ),
            language=request.client.language,
        )
    return link


def approve_by_link(link: ClientLink, *, name: str, agreed: bool, address: str | None) -> None:
    """C5: the client approves the concept document through its link, typing their full
    name and ticking their agreement; the name, the time and the address it came from are
    recorded and the link is spent.

    Raises ValidationError without a name or the tick (nothing recorded)."""
    name = validation.typed_text(name, field="full_name", max_length=200)
    name = validation.required_text(
        name, field="full_name", message=gettext("Type your full name to approve.")
    )
    if not agreed:
        raise ValidationError(
            gettext("Tick the box to say you approve the document."), field="agree"
        )
    request = link.request
    concept = request.concept
    now = clock.now()
    client_links.spend(link)
    with timeline.audited(None, "customization.concept_approve", concept, CONCEPT_FIELDS):
        concept.approved_at = now
        concept.approved_via = "link"
        concept.approved_name = name
        concept.approved_address = (address or "")[:64] or None
    _approved(
        request,
        actor=None,
        summary=(
            f"Concept document of {request.reference} approved by {name} through the "
            f"emailed link, from {concept.approved_address or 'an unknown address'}, at ",
            now,
            " (C5)",
        ),
    )


def approve_by_signed_copy(
    request: CustomizationRequest,
    *,
    actor: User,
    signed_by: str,
    upload: customizations.Upload | None,
) -> None:
    """C5: the ACM uploads the concept document as the client signed it (PDF or image),
    naming who signed; a link out stops working.

    Raises NotAllowed for someone who does not work on the client, RuleViolation("C5")
    outside stage CONCEPT, once approved or before it is written, ValidationError without
    the signer's name or the file, or for a file refused (type, content, size)."""
    access.check_works_on(actor, request.client)
    _check_concept_stage(request)
    concept = request.concept
    if concept is None:
        raise RuleViolation("C5", "Write the concept document before its signed copy.")
    signed_by = validation.typed_text(signed_by, field="signed_by", max_length=200)
    signed_by = validation.required_text(
        signed_by, field="signed_by", message="Who signed it for the client?"
    )
    if upload is None or not (upload.data or upload.filename):
        raise ValidationError("Attach the signed copy.", field="signed_copy")
    try:
        filename, content_type = customizations.checked_attachment(upload)
    except ValidationError as refused:
        raise ValidationError(refused.message, field="signed_copy") from None
    if content_type not in SIGNED_COPY_TYPES:
        raise ValidationError("Attach the signed copy as a PDF or an image.", field="signed_copy")
    now = clock.now()
    _withdraw_link(request)
    copy = customizations._attach(request, upload, filename, content_type, actor=actor, at=now)
    copy.purpose = "signed_concept"
    db.session.flush()
    with timeline.audited(actor, "customization.concept_approve", concept, CONCEPT_FIELDS):
        concept.approved_at = now
        concept.approved_via = "signed_copy"
        concept.approved_name = signed_by
        concept.signed_copy = copy
    _approved(
        request,
        actor=actor,
        summary=(
            f"Concept document of {request.reference} approved: copy signed by {signed_by} "
            f"uploaded ({filename}) at ",
            now,
            " (C5)",
        ),
    )


def _approved(request: CustomizationRequest, *, actor: User | None, summary: object) -> None:
    """C5 done: the request moves on to its invoice (C6)."""
    with timeline.audited(actor, "customization.stage", request, ("stage",)):
        request.stage = CustomizationStage.INVOICING.value
    timeline.record(
        request.client,
        TimelineKind.CONCEPT_APPROVED,
        actor=actor,
        summary=summary,  # type: ignore[arg-type]
        detail={"request_id": request.id, "via": request.concept.approved_via},
    )
    db.session.flush()


# --- Reading -------------------------------------------------------------------------------------


def load_for_document(request_id: int) -> CustomizationRequest | None:
    """A request with its client, concept document and milestones (the printable page, the
    PDF, the client's page)."""
    return db.session.scalar(
        select(CustomizationRequest)
        .where(CustomizationRequest.id == request_id)
        .options(
            joinedload(CustomizationRequest.client),
            joinedload(CustomizationRequest.concept),
            selectinload(CustomizationRequest.milestones),
        )
    )


@dataclass(frozen=True)
class Owed:
    """A concept document the ACM owes (C5), with where it stands."""

    request: CustomizationRequest
    standing: ConceptStanding


def owed_query(user: User) -> Select[tuple[CustomizationRequest]]:
    """The ACM's day (C5): their clients' requests in stage CONCEPT, the oldest quotation
    first."""
    return (
        select(CustomizationRequest)
        .join(CustomizationRequest.client)
        .where(access.own_clients_clause(user))
        .where(CustomizationRequest.stage == CustomizationStage.CONCEPT.value)
        .options(joinedload(CustomizationRequest.client), joinedload(CustomizationRequest.concept))
        .order_by(CustomizationRequest.opened_at, CustomizationRequest.id)
    )


def owed_by(user: User, *, now: datetime) -> list[Owed]:
    """The requests of `owed_query` whose document is to write, to send, or sent and
    waiting for the client (the link's expiry with it); two queries whatever their
    number."""
    requests = list(db.session.scalars(owed_query(user)).unique())
    links = (
        {
            link.request_id: link
            for link in db.session.scalars(
                select(ClientLink).where(
                    ClientLink.purpose == PURPOSE,
                    ClientLink.request_id.in_([r.id for r in requests]),
                )
            )
        }
        if requests
        else {}
    )
    return [Owed(r, standing(r, links.get(r.id), now=now)) for r in requests]
