"""Delivery of a paid customization (C7): its milestones tracked to done, the client's
user acceptance, the closure, and the satisfaction survey.

Milestones come from the concept document (C5); in delivery the ACM may add one, move its
due date, give it an owner (a staff user who delivers: the client's ACM, their team, a
product user) and move its status forward, planned → in progress → done. A milestone is
late when it is not done and its due date is before the client's today: the due date is
the client's (`clock.today` in its zone), as a renewal date is.

Once every milestone is done, the client accepts: by the link the ACM emails (typing their
name, kept with the time and the address it came from), or the ACM records the acceptance
with its evidence (a note, and a file if there is one). The request is then to close;
closing it emails the client the satisfaction survey (a score 1-5 and a comment), answered
once through its link; an expired survey link may be sent again.

Stages: DELIVERY → (accepted) CLOSING → (closed) CLOSED.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from kamportal import clock, i18n
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    Client,
    ClientLink,
    Contact,
    CustomizationRequest,
    CustomizationStage,
    Milestone,
    MilestoneStatus,
    OutboxMessage,
    Role,
    TimelineKind,
    User,
)
from kamportal.models.accounts import UserRole
from kamportal.services import (
    access,
    client_links,
    customization_tickets,
    customizations,
    timeline,
    validation,
)

MILESTONE_FIELDS = ("title", "kind", "due_on", "owner_id", "status", "done_at")
DELIVERY_FIELDS = (
    "stage",
    "accepted_at",
    "accepted_via",
    "accepted_name",
    "acceptance_note",
    "closed_at",
    "survey_score",
    "survey_answered_at",
)
MILESTONE_KINDS = {"basic": "Basic function", "extra": "Extra requirement"}
# The stages whose page shows the delivery (the milestones, the acceptance, the survey).
DELIVERY_STAGES = (
    CustomizationStage.DELIVERY.value,
    CustomizationStage.CLOSING.value,
    CustomizationStage.CLOSED.value,
)
# A milestone moves forward only: planned → in progress → done (C7).
_STATUS_ORDER = [MilestoneStatus.PLANNED, MilestoneStatus.IN_PROGRESS, MilestoneStatus.DONE]
SURVEY_SCORES = range(1, 6)
MAX_COMMENT = 2000


# --- Progress and lateness (C7) ----------------------------------------------------------------


def is_late(milestone: Milestone, today: date) -> bool:
    """C7: not done, and its due date before the client's `today` (due today is not late)."""
    return milestone.status != MilestoneStatus.DONE.value and milestone.due_on < today


def late_since(milestone: Milestone, client: Client) -> datetime:
    """The instant a milestone became late: the client's midnight after its due date."""
    after = datetime.combine(milestone.due_on + timedelta(days=1), time.min)
    return after.replace(tzinfo=ZoneInfo(client.timezone)).astimezone(ZoneInfo("UTC"))


@dataclass(frozen=True)
class Progress:
    """Where a request's milestones stand on the client's `today` (C7): done of total, the
    next one due (not done, the earliest due), and how many are late."""

    done: int
    total: int
    late: int
    next_due: Milestone | None
    today: date

    @property
    def all_done(self) -> bool:
        return self.total > 0 and self.done == self.total


def progress(milestones: Iterable[Milestone], *, today: date) -> Progress:
    milestones = list(milestones)
    open_ = sorted(
        (m for m in milestones if m.status != MilestoneStatus.DONE.value),
        key=lambda m: (m.due_on, m.position, m.id),
    )
    return Progress(
        done=len(milestones) - len(open_),
        total=len(milestones),
        late=sum(1 for m in open_ if is_late(m, today)),
        next_due=open_[0] if open_ else None,
        today=today,
    )


def request_progress(request: CustomizationRequest, *, at: datetime | None = None) -> Progress:
    return progress(request.milestones, today=clock.today(request.client.timezone, at=at))


def progress_of(
    requests: Iterable[CustomizationRequest], *, at: datetime | None = None
) -> dict[int, Progress]:
    """The progress of each of `requests` in delivery or after (the client page's panel):
    one query for all their milestones, none when none is in delivery."""
    delivering = [r for r in requests if r.stage in DELIVERY_STAGES]
    if not delivering:
        return {}
    by_request: dict[int, list[Milestone]] = {r.id: [] for r in delivering}
    for milestone in db.session.scalars(
        select(Milestone).where(Milestone.request_id.in_(by_request))
    ):
        by_request[milestone.request_id].append(milestone)
    return {
        r.id: progress(by_request[r.id], today=clock.today(r.client.timezone, at=at))
        for r in delivering
    }


# --- Milestones (C7) ----------------------------------------------------------------------------


def _check_delivering(request: CustomizationRequest, actor: User, doing: str) -> None:
    access.check_works_on(actor, request.client)
    customizations.check_stage(
        request,
        CustomizationStage.DELIVERY,
        rule="C7",
        refusal=f"{doing} only while the customization is in delivery.",
    )


def owner_choices(request: CustomizationRequest) -> list[User]:
    """Who may own a milestone (C7): the staff who deliver it, active: the client's ACM,
    their team (its ACMs and leader) and every product user; by name."""
    acm = request.client.acm
    delivering = UserRole.role == Role.PRODUCT.value
    query = select(User).where(User.active.is_(True))
    if acm is not None and acm.team_id is not None:
        query = query.where(
            (User.id == acm.id)
            | (
                (User.team_id == acm.team_id)
                & User.role_rows.any(UserRole.role.in_([Role.ACM.value, Role.LEADER.value]))
            )
            | User.role_rows.any(delivering)
        )
    elif acm is not None:
        query = query.where((User.id == acm.id) | User.role_rows.any(delivering))
    else:
        query = query.where(User.role_rows.any(delivering))
    return list(db.session.scalars(query.order_by(User.name, User.id)))


def _owner(request: CustomizationRequest, owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    found = next((u for u in owner_choices(request) if u.id == owner_id), None)
    if found is None:
        raise ValidationError(
            "Choose the ACM, someone of their team or of product.", field="owner_id"
        )
    return found


def _due_on(value: date | None, *, field: str = "due_on") -> date:
    if value is None:
        raise ValidationError("Give the date it is due.", field=field)
    return validation.date_between(value, field=field)  # type: ignore[return-value]


def add_milestone(
    request: CustomizationRequest,
    *,
    actor: User,
    title: str,
    due_on: date | None,
    kind: str = "basic",
    owner_id: int | None = None,
) -> Milestone:
    """C7: the ACM adds a milestone during delivery, planned, after the others. On the
    client's timeline and in the audit log.

    Raises NotAllowed for someone who does not work on the client, RuleViolation("C7")
    outside delivery, ValidationError for a blank title, an unknown kind, a date out of
    range or an owner who does not deliver."""
    _check_delivering(request, actor, "Milestones are added")
    title = validation.required_text(
        validation.typed_text(title, field="title", max_length=200),
        field="title",
        message="Name the milestone.",
    )
    if kind not in MILESTONE_KINDS:
        raise ValidationError("A basic function or an extra requirement.", field="kind")
    owner = _owner(request, owner_id)
    last = db.session.scalar(
        select(func.max(Milestone.position)).where(Milestone.request_id == request.id)
    )
    milestone = Milestone(
        request=request,
        position=(last or 0) + 1,
        title=title,
        kind=kind,
        due_on=_due_on(due_on),
        owner=owner,
        status=MilestoneStatus.PLANNED.value,
    )
    db.session.add(milestone)
    db.session.flush()
    timeline.audit(
        actor,
        "customization.milestone_add",
        milestone,
        after=timeline.snapshot(milestone, MILESTONE_FIELDS),
    )
    timeline.record(
        request.client,
        TimelineKind.CUSTOMIZATION_MILESTONE_ADDED,
        actor=actor,
        summary=(
            f"Customization {request.reference}: milestone “{title}” added, "
            f"due {_day(milestone.due_on)} (C7)"
        ),
        detail={"request_id": request.id, "milestone_id": milestone.id},
    )
    return milestone


def update_milestone(
    milestone: Milestone,
    *,
    actor: User,
    due_on: date | None,
    owner_id: int | None,
    status: str,
) -> Milestone:
    """C7: the ACM moves a milestone's due date, gives it an owner, or moves its status
    forward (planned → in progress → done; done records when). A new due date and a
    milestone done go on the client's timeline; every change in the audit log.

    Raises NotAllowed, RuleViolation("C7") outside delivery or for a status moved back,
    ValidationError for an unknown status, a date out of range or an owner who does not
    deliver."""
    request = milestone.request
    _check_delivering(request, actor, "Milestones change")
    new_status = validation.choice(
        MilestoneStatus, status, field="status", message="Planned, in progress or done."
    )
    if _STATUS_ORDER.index(new_status) < _STATUS_ORDER.index(milestone.milestone_status):
        raise RuleViolation(
            "C7",
            f"A milestone moves forward only: it is {milestone.milestone_status.label.lower()}.",
            field="status",
        )
    due_on = _due_on(due_on)
    owner = _owner(request, owner_id)
    now = clock.now()
    moved_from = milestone.due_on if due_on != milestone.due_on else None
    done_now = new_status is MilestoneStatus.DONE and milestone.status != MilestoneStatus.DONE.value
    with timeline.audited(actor, "customization.milestone_update", milestone, MILESTONE_FIELDS):
        milestone.due_on = due_on
        milestone.owner = owner
        milestone.status = new_status.value
        if done_now:
            milestone.done_at = now
    what = f"Customization {request.reference}: milestone “{milestone.title}”"
    if moved_from is not None:
        timeline.record(
            request.client,
            TimelineKind.CUSTOMIZATION_MILESTONE_MOVED,
            actor=actor,
            summary=f"{what} now due {_day(due_on)} (was {_day(moved_from)}) (C7)",
            detail={"request_id": request.id, "milestone_id": milestone.id},
            at=now,
        )
    if done_now:
        timeline.record(
            request.client,
            TimelineKind.CUSTOMIZATION_MILESTONE_DONE,
            actor=actor,
            summary=f"{what} done (C7)",
            detail={"request_id": request.id, "milestone_id": milestone.id},
            at=now,
        )
    db.session.flush()
    return milestone


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


# --- User acceptance (C7) -----------------------------------------------------------------------


def _check_acceptable(request: CustomizationRequest) -> None:
    customizations.check_stage(
        request,
        CustomizationStage.DELIVERY,
        rule="C7",
        refusal="Only a customization in delivery waits for acceptance.",
    )
    if not request_progress(request).all_done:
        raise RuleViolation(
            "C7", "Every milestone must be done before the client accepts the delivery."
        )


def _contact(client: Client) -> Contact:
    contact = client.reachable_contact("email")
    if contact is None:
        raise ValidationError("Add the client's contact with an email address first.")
    return contact


def _email_link(
    request: CustomizationRequest,
    purpose: str,
    *,
    actor: User,
    subject: str,
    template: str,
    base_url: str | None,
    kind: TimelineKind,
    what: str,
) -> tuple[ClientLink, OutboxMessage]:
    """Issue a new link for `purpose` (an earlier one stops working), email it to the
    client's contact (G1 CCs), and say so on the client's timeline (`what` was sent)."""
    client = request.client
    contact = _contact(client)
    link = client_links.issue(request, purpose, to=contact.email, actor=actor)
    message = outbox.email_client(
        client,
        contact,
        key=f"customization-{request.id}-{purpose}-{link.nonce}",
        subject=subject,
        template=template,
        request=request,
        link=client_links.url_for_link(link, base_url=base_url),
        expires_at=clock.in_zone(link.expires_at, client.timezone),
        actor=actor,
    )
    timeline.record(
        client,
        kind,
        actor=actor,
        summary=(
            f"Customization {request.reference}: {what} sent to {link.sent_to}, valid until ",
            link.expires_at,
            " (C7)",
        ),
        detail={"request_id": request.id},
        outbox_message=message,
    )
    return link, message


def send_acceptance_link(
    request: CustomizationRequest, *, actor: User, base_url: str | None = None
) -> OutboxMessage:
    """C7: email the client the link to accept the delivery (G1 CCs), once every milestone
    is done; an earlier acceptance link stops working.

    Raises NotAllowed, RuleViolation("C7") outside delivery or with a milestone not done,
    ValidationError without a contact email."""
    access.check_works_on(actor, request.client)
    _check_acceptable(request)
    link, message = _email_link(
        request,
        "acceptance",
        actor=actor,
        subject=i18n.translated(
            request.client.language,
            "Please confirm the delivery of %(title)s – %(store)s",
            title=request.title,
            store=request.client.store_name,
        ),
        template="customization_acceptance.txt",
        base_url=base_url,
        kind=TimelineKind.CUSTOMIZATION_ACCEPTANCE_SENT,
        what="acceptance link",
    )
    timeline.audit(
        actor,
        "customization.acceptance_link",
        request,
        after={"to": link.sent_to, "expires_at": link.expires_at},
    )
    return message


def _accepted(request: CustomizationRequest, actor: User | None, summary: str) -> None:
    """The acceptance is recorded: the request is to close (CLOSING)."""
    request.stage = CustomizationStage.CLOSING.value
    timeline.record(
        request.client,
        TimelineKind.CUSTOMIZATION_ACCEPTED,
        actor=actor,
        summary=f"Customization {request.reference}: {summary} (C7)",
        detail={"request_id": request.id, "via": request.accepted_via},
        at=request.accepted_at,
    )
    db.session.flush()


def accept_by_link(link: ClientLink, *, name: str, address: str | None) -> CustomizationRequest:
    """C7: the client accepts the delivery through the link, typing their name; the name,
    the time and the address it came from are kept, and the link works no more.

    Raises ValidationError (field "name") for a blank or over-long name, RuleViolation("C7")
    if the request no longer waits for acceptance."""
    request = link.request
    name = validation.required_text(
        validation.typed_text(name, field="name", max_length=200),
        field="name",
        message=gettext("Type your full name to accept."),
    )
    if request.stage != CustomizationStage.DELIVERY.value or not request_progress(request).all_done:
        # The client reads this: none of the portal's references or stages.
        raise RuleViolation(
            "C7",
            gettext(
                "This delivery no longer waits for your acceptance: your account manager will "
                "be in touch."
            ),
        )
    with timeline.audited(None, "customization.accept", request, DELIVERY_FIELDS):
        request.accepted_at = clock.now()
        request.accepted_via = "link"
        request.accepted_name = name
        request.accepted_address = (address or "")[:64] or None
        client_links.spend(link)
    _accepted(request, None, f"the client accepted the delivery ({name}, by the link)")
    return request


def record_acceptance(
    request: CustomizationRequest,
    *,
    actor: User,
    note: str,
    evidence: customizations.Upload | None = None,
) -> CustomizationRequest:
    """C7: the ACM records the client's acceptance with its evidence: a note (required:
    how and when the client accepted) and optionally a file (an email, a screenshot),
    kept as an attachment of purpose "acceptance_evidence". A live acceptance link stops
    working.

    Raises NotAllowed, RuleViolation("C7") outside delivery or with a milestone not done,
    ValidationError without a note or for a file refused."""
    access.check_works_on(actor, request.client)
    _check_acceptable(request)
    note = validation.required_text(
        validation.typed_text(note, field="note", multiline=True, max_length=5000),
        field="note",
        message="Say how the client accepted (the evidence).",
    )
    checked = None
    if evidence is not None and (evidence.data or evidence.filename):
        try:
            checked = customizations.checked_attachment(evidence)
        except ValidationError as error:
            raise ValidationError(error.message, field="evidence") from None
    now = clock.now()
    with timeline.audited(actor, "customization.accept", request, DELIVERY_FIELDS):
        if checked is not None and evidence is not None:
            filename, content_type = checked
            attachment = customizations._attach(
                request, evidence, filename, content_type, actor=actor, at=now
            )
            attachment.purpose = "acceptance_evidence"
        request.accepted_at = now
        request.accepted_via = "acm"
        request.accepted_by = actor
        request.acceptance_note = note
    link = client_links.live_link(request, "acceptance")
    if link is not None and link.used_at is None and link.revoked_at is None:
        client_links.revoke(request, "acceptance")
    _accepted(request, actor, "the client's acceptance recorded by the ACM")
    return request


# --- Closure and the satisfaction survey (C7) ---------------------------------------------------


def send_survey(
    request: CustomizationRequest, *, actor: User, base_url: str | None
) -> OutboxMessage:
    """The satisfaction survey's email to the client, with a new link (C7; G1 CCs): sent on
    closing, or again once its link expired (`resend_survey`)."""
    _, message = _email_link(
        request,
        "survey",
        actor=actor,
        subject=i18n.translated(
            request.client.language,
            "How did we do? %(title)s – %(store)s",
            title=request.title,
            store=request.client.store_name,
        ),
        template="customization_survey.txt",
        base_url=base_url,
        kind=TimelineKind.CUSTOMIZATION_SURVEY_SENT,
        what="satisfaction survey",
    )
    return message


def close_request(
    request: CustomizationRequest, *, actor: User, base_url: str | None = None
) -> CustomizationRequest:
    """C7: the ACM closes an accepted customization; the satisfaction survey goes to the
    client at once (G1 CCs).

    Raises NotAllowed, RuleViolation("C7") unless accepted and not closed, ValidationError
    without a contact email (the survey could not go)."""
    access.check_works_on(actor, request.client)
    customizations.check_stage(
        request,
        CustomizationStage.CLOSING,
        rule="C7",
        refusal="Only an accepted customization is closed.",
    )
    now = clock.now()
    with timeline.audited(actor, "customization.close", request, DELIVERY_FIELDS):
        request.stage = CustomizationStage.CLOSED.value
        request.closed_at = now
        request.closed_by = actor
    timeline.record(
        request.client,
        TimelineKind.CUSTOMIZATION_CLOSED,
        actor=actor,
        summary=f"Customization {request.reference} closed (C7)",
        detail={"request_id": request.id},
        at=now,
    )
    send_survey(request, actor=actor, base_url=base_url)
    customization_tickets.closure_owed(request)
    db.session.flush()
    return request


@dataclass(frozen=True)
class SurveyStanding:
    """Where the satisfaction survey stands (C7): answered, its link out and live, or
    expired unanswered (the ACM may send it again)."""

    answered: bool
    link: ClientLink | None
    expired: bool

    @property
    def may_resend(self) -> bool:
        return not self.answered and self.expired


def survey_standing(
    request: CustomizationRequest, *, at: datetime | None = None
) -> SurveyStanding | None:
    """None before the request is closed."""
    if request.stage != CustomizationStage.CLOSED.value:
        return None
    link = client_links.live_link(request, "survey")
    expired = link is not None and (at or clock.now()) >= link.expires_at
    return SurveyStanding(request.survey_answered_at is not None, link, expired)


def resend_survey(
    request: CustomizationRequest, *, actor: User, base_url: str | None = None
) -> OutboxMessage:
    """C7: the survey link expired unanswered: the ACM sends a new one.

    Raises NotAllowed, RuleViolation("C7") unless closed with the survey unanswered and its
    link expired, ValidationError without a contact email."""
    access.check_works_on(actor, request.client)
    standing = survey_standing(request)
    if standing is None or not standing.may_resend:
        raise RuleViolation("C7", "The survey is sent again only once its link expired unanswered.")
    message = send_survey(request, actor=actor, base_url=base_url)
    timeline.audit(actor, "customization.survey_resent", request, after={"sent": True})
    db.session.flush()
    return message


def survey_score(value: object) -> int:
    """A score from 1 to 5 (C7), from what was typed or chosen; ValidationError else."""
    text = str(value if value is not None else "").strip()
    if text not in {str(n) for n in SURVEY_SCORES}:
        raise ValidationError(gettext("Choose a score from 1 to 5."), field="score")
    return int(text)


def answer_survey(link: ClientLink, *, score: object, comment: str | None) -> CustomizationRequest:
    """C7: the client answers the satisfaction survey through its link, once: a score from
    1 to 5 and an optional comment; the link works no more.

    Raises ValidationError for a score outside 1-5 or a comment too long,
    RuleViolation("C7") when answered already."""
    request = link.request
    value = survey_score(score)
    comment = validation.typed_text(
        comment, field="comment", multiline=True, max_length=MAX_COMMENT
    ).strip()
    if request.survey_answered_at is not None:
        raise RuleViolation("C7", gettext("The survey has been answered already."))
    now = clock.now()
    with timeline.audited(None, "customization.survey", request, DELIVERY_FIELDS):
        request.survey_score = value
        request.survey_comment = comment or None
        request.survey_answered_at = now
        client_links.spend(link)
    timeline.record(
        request.client,
        TimelineKind.CUSTOMIZATION_SURVEY_ANSWERED,
        actor=None,
        summary=f"Customization {request.reference}: the client scored it {value} of 5 (C7)",
        detail={"request_id": request.id, "score": value},
        at=now,
    )
    db.session.flush()
    return request


# --- Reading ------------------------------------------------------------------------------------


def milestones_of(request: CustomizationRequest) -> list[Milestone]:
    """The request's milestones in order, with their owners (one query)."""
    return list(
        db.session.scalars(
            select(Milestone)
            .where(Milestone.request_id == request.id)
            .options(joinedload(Milestone.owner))
            .order_by(Milestone.position, Milestone.id)
        )
    )


def exit_criteria(request: CustomizationRequest) -> str:
    """How the client will know it is done: the concept document's exit criteria (C5), or
    the scope of work's (C1) where there is no concept document."""
    return request.concept.exit_criteria if request.concept else request.done_when


def evidence_of(request: CustomizationRequest) -> list:
    """The files the ACM gave as evidence of the acceptance."""
    return [a for a in request.attachments if a.purpose == "acceptance_evidence"]


@dataclass(frozen=True)
class Delivering:
    """A request of an ACM's client in delivery or to close, as the day shows it."""

    request: CustomizationRequest
    progress: Progress
    acceptance_link: ClientLink | None


def delivering_query(user: User) -> Select[tuple[CustomizationRequest]]:
    """The user's clients' requests in delivery or accepted and to close (C7)."""
    return (
        select(CustomizationRequest)
        .join(CustomizationRequest.client)
        .where(access.own_clients_clause(user))
        .where(
            CustomizationRequest.stage.in_(
                [CustomizationStage.DELIVERY.value, CustomizationStage.CLOSING.value]
            )
        )
        .options(
            joinedload(CustomizationRequest.client),
            selectinload(CustomizationRequest.milestones).joinedload(Milestone.owner),
        )
        .order_by(CustomizationRequest.opened_at, CustomizationRequest.id)
    )


def delivering_of(user: User, *, now: datetime) -> list[Delivering]:
    """The requests of `delivering_query`, with their progress on each client's today;
    three queries whatever their number."""
    requests = list(db.session.scalars(delivering_query(user)))
    links = (
        {
            link.request_id: link
            for link in db.session.scalars(
                select(ClientLink).where(
                    ClientLink.purpose == "acceptance",
                    ClientLink.request_id.in_([r.id for r in requests]),
                )
            )
        }
        if requests
        else {}
    )
    return [Delivering(r, request_progress(r, at=now), links.get(r.id)) for r in requests]
