"""Escalations (E1), their ladder (E2), the leader's decisions and complaints (E3).

E1: an escalation is raised when the client asks for the ACM's manager, asks to change
the ACM, or refuses to deal with the ACM; one is open per client at a time.
E2: the ACM calls (logged, G3) → no answer: the "we tried to call you" email goes at once
(G1 CCs) → no reply for the team's business hours: a WhatsApp asking the client to reply
to the email → no reply for the team's business hours (or the ACM cannot solve it): the
leader, the final step. The timed steps run from `jobs/escalations.py`; a client reply
logged on the timeline pauses the ladder for the ACM to act; resolving stops it.
E3: the leader (or an admin) decides: resolved, reassign the client, or take it over.
Complaints, cancellations and refunds are recorded for the complaint-handling queue and
never run through the ladder.

Every step keeps its proof as an `EscalationStep`: the call's timeline event, the outbox
message (its delivery status and provider id are on it), who moved it and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from kamportal import clock, i18n, queue
from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    CallOutcome,
    Client,
    Complaint,
    ComplaintKind,
    ComplaintStatus,
    Contact,
    ContactChannel,
    DeliveryStatus,
    Escalation,
    EscalationStatus,
    EscalationStep,
    EscalationTrigger,
    LadderStep,
    NoReplyLadder,
    OutboxMessage,
    RefundStatus,
    ResolutionKind,
    Role,
    StepKind,
    TimelineEvent,
    TimelineKind,
    User,
    rules_of,
)
from kamportal.services import (
    access,
    calendar,
    churn,
    clients,
    contact_log,
    events,
    followups,
    notifications,
    timeline,
    validation,
)

STEP_JOB = "kamportal.jobs.escalations.run_step"
_WAIT_SETTINGS = {
    LadderStep.WHATSAPP: "escalation_whatsapp_after_hours",
    LadderStep.LEADER: "escalation_leader_after_hours",
}
# E3: the leader's decisions, with how the decision form names them.
DECISIONS = {
    "resolved": "Resolved: the note goes to the client",
    "reassign": "Reassign the client to another ACM of the team",
    "take_over": "I take the client over",
}
ESCALATION_FIELDS = (
    "status",
    "current_step",
    "step_due_at",
    "waiting_for_leader",
    "paused_at",
    "resolution",
    "resolution_note",
)


def step_job_id(escalation_id: int, step: LadderStep | str) -> str:
    """One job per escalation and timed step, so a reconciler can find and re-create it."""
    return f"escalation-{escalation_id}-{LadderStep(step).value}"


def _add_step(
    escalation: Escalation,
    kind: StepKind,
    *,
    actor: User | None,
    at: datetime,
    note: str | None = None,
    call_event: TimelineEvent | None = None,
    message: OutboxMessage | None = None,
) -> EscalationStep:
    step = EscalationStep(
        escalation=escalation,
        step=kind.value,
        at=at,
        actor=actor,
        call_event=call_event,
        outbox_message=message,
        note=note,
    )
    db.session.add(step)
    return step


def _wait_hours(client: Client, step: LadderStep) -> int:
    team = client.acm.team if client.acm is not None else None
    return getattr(rules_of(team), _WAIT_SETTINGS[step])


def _start_wait(escalation: Escalation, *, at: datetime) -> None:
    """Start the wait before the next timed step, in business hours (E2), and schedule its
    job after the commit."""
    following = escalation.step.following
    assert following in _WAIT_SETTINGS, f"no timed step after {escalation.step}"
    hours = _wait_hours(escalation.client, following)
    due_at = calendar.calendar_for_client(escalation.client).add_business_hours(at, hours)
    db.session.flush()
    move_step(escalation, due_at)


def step_due_at(
    escalation: Escalation, business: calendar.BusinessCalendar | None = None
) -> datetime:
    """E2: when the next timed step of a ladder waiting on it is due on its calendar as it
    is now: the team's wait in business hours from when the current step started (or the
    ladder resumed)."""
    business = business or calendar.calendar_for_client(escalation.client)
    hours = _wait_hours(escalation.client, escalation.step.following)
    return business.add_business_hours(escalation.step_started_at, hours)


def move_step(escalation: Escalation, due_at: datetime) -> None:
    """The next timed step is due at `due_at` (its wait starts, or its calendar changed):
    its job is enqueued under its id after the commit, replacing any earlier one."""
    escalation.step_due_at = due_at
    following = escalation.step.following
    queue.enqueue_after_commit(
        db.session,
        STEP_JOB,
        escalation.id,
        following.value,
        job_id=step_job_id(escalation.id, following),
        at=due_at if due_at > clock.now() else None,
    )


def waiting_on_timed_step() -> list[Escalation]:
    """The open, unpaused escalations whose next timed step (WhatsApp, leader) is pending,
    with their client, ACM and team (for their calendar)."""
    return list(
        db.session.scalars(
            select(Escalation)
            .where(Escalation.status == EscalationStatus.OPEN.value)
            .where(Escalation.paused_at.is_(None))
            .where(Escalation.waiting_for_leader.is_(False))
            .where(Escalation.step_due_at.is_not(None))
            .where(Escalation.current_step.in_([LadderStep.EMAIL.value, LadderStep.WHATSAPP.value]))
            .options(joinedload(Escalation.client).joinedload(Client.acm))
            .order_by(Escalation.id)
        )
    )


def waiting_clause(now: datetime) -> ColumnElement[bool]:
    """E2, E3 in SQL: open escalations kept waiting at `now`: the leader's decision is
    awaited (the ladder's final step), or an unpaused ladder's next timed step was due
    and has not happened."""
    return and_(
        Escalation.status == EscalationStatus.OPEN.value,
        or_(
            Escalation.waiting_for_leader.is_(True),
            and_(Escalation.paused_at.is_(None), Escalation.step_due_at <= now),
        ),
    )


def _move_to(escalation: Escalation, step: LadderStep, *, at: datetime) -> None:
    escalation.current_step = step.value
    escalation.step_started_at = at
    escalation.step_due_at = None
    escalation.paused_at = None


# --- Reading ---------------------------------------------------------------------------------


def open_escalation(client: Client) -> Escalation | None:
    """The client's open escalation, if any (E1: at most one)."""
    return db.session.scalar(
        select(Escalation)
        .where(Escalation.client_id == client.id)
        .where(Escalation.status == EscalationStatus.OPEN.value)
    )


def _escalation_queue_query(viewer: User) -> Select[tuple[Escalation]]:
    """E3, the leader's queue: the open escalations of the clients `viewer` may see, those
    waiting for the leader's decision first, then the oldest; with their clients, ACMs and
    the ACMs' teams (whose calendars count the ages)."""
    return (
        select(Escalation)
        .join(Escalation.client)
        .where(Escalation.status == EscalationStatus.OPEN.value)
        .where(access.visible_clients_clause(viewer))
        .options(joinedload(Escalation.client).joinedload(Client.acm).joinedload(User.team))
        .order_by(Escalation.waiting_for_leader.desc(), Escalation.raised_at, Escalation.id)
    )


def escalation_queue(viewer: User) -> list[Escalation]:
    """The open escalations of the clients `viewer` may see: those waiting for the leader's
    decision first, then the oldest (E3, the leader's queue)."""
    return list(db.session.scalars(_escalation_queue_query(viewer)))


def resolved_escalations(viewer: User, *, limit: int = 50) -> list[Escalation]:
    """The escalations of the clients `viewer` may see that ended, the latest first."""
    return list(
        db.session.scalars(
            select(Escalation)
            .join(Escalation.client)
            .where(Escalation.status == EscalationStatus.RESOLVED.value)
            .where(access.visible_clients_clause(viewer))
            .options(
                joinedload(Escalation.client).joinedload(Client.acm),
                joinedload(Escalation.resolved_by),
            )
            .order_by(Escalation.resolved_at.desc(), Escalation.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Standing:
    """Where an escalation stands at `now`, in its team's business hours (E2, E3): its age,
    and what comes next: a timed step (`next_step`, due `due_at`, `hours_left` business
    hours away), the ACM (the call step, or paused by a client reply), or the leader."""

    escalation: Escalation
    age_hours: float
    waiting_on: str  # "acm", "client" (a timed step runs if no reply), "leader", "nobody"
    next_step: LadderStep | None = None
    due_at: datetime | None = None
    hours_left: float | None = None


def standing(
    escalation: Escalation, *, now: datetime, calendar_of: calendar.CalendarCache | None = None
) -> Standing:
    """Where `escalation` stands at `now`; `calendar_of` shares team calendars across a list."""
    business = (calendar_of or calendar.CalendarCache())(escalation.client)
    ended = escalation.resolved_at if not escalation.is_open else None
    age = business.business_hours_between(escalation.raised_at, ended or now)
    if not escalation.is_open:
        return Standing(escalation, age, "nobody")
    if escalation.waiting_for_leader:
        return Standing(escalation, age, "leader")
    if escalation.paused_at is not None or escalation.step_due_at is None:
        return Standing(escalation, age, "acm")
    return Standing(
        escalation,
        age,
        "client",
        next_step=escalation.step.following,
        due_at=escalation.step_due_at,
        hours_left=business.business_hours_between(now, escalation.step_due_at),
    )


def queue_page(
    viewer: User, *, now: datetime, page: int, per_page: int
) -> tuple[Pagination, list[Standing]]:
    """One page of the leader's queue (E3), each escalation with its age and time left in
    business hours (one calendar per team): the same statements whatever the page holds
    (the count, the rows with their teams, the admin's days of the teams' countries)."""
    found = db.paginate(
        _escalation_queue_query(viewer), page=page, per_page=per_page, error_out=False
    )
    calendar_of = calendar.CalendarCache.for_clients(e.client for e in found.items)
    return found, [standing(e, now=now, calendar_of=calendar_of) for e in found.items]


@dataclass(frozen=True)
class Rung:
    """One step of the ladder as the escalation page shows it, with its proofs: the call
    logs, the outbox messages, who moved it and when (E2).

    `state`: "done", "current", "skipped" (passed by hand, never run) or "ahead"."""

    step: LadderStep
    state: str
    proofs: list[EscalationStep]


def ladder(escalation: Escalation) -> list[Rung]:
    """The four steps of `escalation`'s ladder, in order, each with its proofs."""
    order = list(LadderStep)
    reached = order.index(escalation.step)
    rungs = []
    for index, step in enumerate(order):
        proofs = [s for s in escalation.steps if s.step == step.value]
        if index == reached and escalation.is_open:
            state = "current"
        elif index <= reached:
            state = "done" if proofs or index == reached else "skipped"
        else:
            state = "ahead"
        rungs.append(Rung(step, state, proofs))
    return rungs


def load_escalation(escalation_id: int) -> Escalation | None:
    """An escalation with what its page shows: the client, its ACM and team, and every
    step with its actor, call and outbox message."""
    return db.session.scalar(
        select(Escalation)
        .where(Escalation.id == escalation_id)
        .options(
            joinedload(Escalation.client).joinedload(Client.acm),
            joinedload(Escalation.raised_by),
            joinedload(Escalation.resolved_by),
            selectinload(Escalation.steps).options(
                joinedload(EscalationStep.actor),
                joinedload(EscalationStep.call_event),
                joinedload(EscalationStep.outbox_message),
            ),
        )
    )


def client_complaints(client: Client) -> list[Complaint]:
    """The client's complaints, cancellations and refunds still being handled (E3)."""
    return list(
        db.session.scalars(
            select(Complaint)
            .where(Complaint.client_id == client.id)
            .where(Complaint.status != ComplaintStatus.CLOSED.value)
            .order_by(Complaint.raised_at, Complaint.id)
        )
    )


def complaint_queue(viewer: User, *, status: str | None = None) -> list[Complaint]:
    """The complaints, cancellations and refunds of the clients `viewer` may see (E3),
    oldest first; closed (and confirmed cancellations) only when asked for by `status`."""
    return list(db.session.scalars(_complaint_queue_query(viewer, status=status)))


def complaint_queue_page(
    viewer: User, *, status: str | None = None, page: int, per_page: int
) -> Pagination:
    """One page of `complaint_queue`, and how many there are (two queries)."""
    query = _complaint_queue_query(viewer, status=status)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def _complaint_queue_query(viewer: User, *, status: str | None) -> Select[tuple[Complaint]]:
    query = (
        select(Complaint)
        .join(Complaint.client)
        .where(access.visible_clients_clause(viewer))
        .options(
            joinedload(Complaint.client).joinedload(Client.acm), joinedload(Complaint.raised_by)
        )
        .order_by(Complaint.raised_at, Complaint.id)
    )
    if status:
        query = query.where(Complaint.status == status)
    else:
        ended = (ComplaintStatus.CLOSED.value, ComplaintStatus.CONFIRMED.value)
        query = query.where(Complaint.status.not_in(ended))
    return query


# --- Raising (E1) ------------------------------------------------------------------------------


def raise_escalation(
    client: Client, *, actor: User, trigger: str, said: str, channel: str
) -> Escalation:
    """E1: record that the client asked for the ACM's manager, asked to change the ACM, or
    refuses the ACM; the ladder starts at the call step (the ACM calls, G3).

    One open escalation per client: raising another adds what the client said to the open
    one, as a note, and returns it. Raises NotAllowed for someone who does not work on the
    client, ValidationError for an unknown trigger or channel or nothing said.
    """
    access.check_works_on(actor, client)
    trigger = validation.choice(
        EscalationTrigger, trigger, field="trigger", message="Choose what the client asked."
    )
    channel = validation.choice(
        ContactChannel, channel, field="channel", message="Choose the channel."
    )
    said = validation.required_text(said, field="said", message="Write what the client said.")
    now = clock.now()
    existing = open_escalation(client)
    if existing is not None:
        note = f"{trigger.label} ({channel.label}): {said}"
        _add_step(existing, StepKind.NOTE, actor=actor, at=now, note=note)
        timeline.record(
            client,
            TimelineKind.ESCALATION_RAISED,
            actor=actor,
            summary=f"Escalation #{existing.id}, the client again: {note}",
            detail={"escalation_id": existing.id, "trigger": trigger, "channel": channel},
            at=now,
        )
        timeline.audit(actor, "escalation.add", existing, after={"note": note})
        db.session.flush()
        return existing
    escalation = Escalation(
        client=client,
        raised_by=actor,
        raised_at=now,
        trigger=trigger.value,
        said=said,
        channel=channel.value,
        status=EscalationStatus.OPEN.value,
        current_step=LadderStep.CALL.value,
        step_started_at=now,
        waiting_for_leader=False,
    )
    db.session.add(escalation)
    _add_step(escalation, StepKind.RAISED, actor=actor, at=now, note=said)
    db.session.flush()
    timeline.record(
        client,
        TimelineKind.ESCALATION_RAISED,
        actor=actor,
        summary=f"Escalation #{escalation.id} raised: {trigger.label} ({channel.label}): {said}",
        detail={"escalation_id": escalation.id, "trigger": trigger, "channel": channel},
        at=now,
    )
    timeline.audit(
        actor,
        "escalation.raise",
        escalation,
        after=timeline.snapshot(escalation, ("client_id", "trigger", "channel", "said")),
    )
    return escalation


# --- The ladder (E2) ---------------------------------------------------------------------------


def log_escalation_call(
    escalation: Escalation,
    *,
    actor: User,
    outcome: str,
    notes: str = "",
    contact: Contact | None = None,
) -> TimelineEvent:
    """E2 step 1 (G3): the ACM's call, logged through services/contact_log.log_call; its
    timeline event is kept as the step's proof.

    Answered: the ACM may resolve (a reply pauses a ladder under way). Not answered at the
    call step: the "we tried to call you" email goes at once through the outbox (G1 CCs)
    and the WhatsApp step is scheduled after the team's wait in business hours. Not
    answered on a paused ladder: the ladder resumes, its wait counted afresh.
    Raises RuleViolation("E2") for a resolved escalation, or when the email is due and no
    contact has an email address; NotAllowed for someone who does not work on the client.
    """
    if not escalation.is_open:
        raise RuleViolation("E2", "This escalation is resolved.")
    client = escalation.client
    access.check_works_on(actor, client)
    outcome = validation.choice(
        CallOutcome, outcome, field="outcome", message="Choose the call's outcome."
    )
    answered = outcome is CallOutcome.ANSWERED
    sends_email = not answered and escalation.step is LadderStep.CALL
    if sends_email and client.reachable_contact("email") is None:
        raise RuleViolation("E2", "No contact of this client has an email address: add one.")
    contact = contact or client.primary_contact
    # The escalation ladder follows up this call, not F2's no-reply ladder.
    event = contact_log.log_call(
        client, actor=actor, contact=contact, outcome=outcome, notes=notes, no_reply_ladder=False
    )
    db.session.flush()
    _add_step(
        escalation, StepKind.CALL, actor=actor, at=event.at, call_event=event, note=notes.strip()
    )
    if sends_email:
        _send_email_step(escalation, actor=actor, at=event.at)
    elif not answered and escalation.paused_at is not None and not escalation.waiting_for_leader:
        resume_ladder(escalation, actor=actor, note="Called again, no answer")
    db.session.flush()
    return event


def _followup_email_counting(escalation: Escalation, *, at: datetime) -> NoReplyLadder | None:
    """The F2 ladder whose "we tried to call you" email stands for E2's, if any: the client
    got it (queued or sent, not failed), has not replied since, and it is recent enough
    that the WhatsApp step, counted from it, is still ahead."""
    ladder = followups.unanswered_followup(escalation.client)
    if ladder is None or ladder.email_message.delivery_status is DeliveryStatus.FAILED:
        return None
    due = calendar.calendar_for_client(escalation.client).add_business_hours(
        ladder.email_sent_at, _wait_hours(escalation.client, LadderStep.WHATSAPP)
    )
    return ladder if due > at else None


def _count_followup_email(
    escalation: Escalation, ladder: NoReplyLadder, *, actor: User | None, at: datetime
) -> None:
    """E2 step 2 done by F2's email: it is the step's proof and the wait runs from it, so
    the client gets one "we tried to call you" email, not two minutes apart."""
    client = escalation.client
    sent_at = ladder.email_sent_at
    _move_to(escalation, LadderStep.EMAIL, at=sent_at)
    _add_step(
        escalation,
        StepKind.EMAIL,
        actor=actor,
        at=at,
        message=ladder.email_message,
        note="The follow-up email of the earlier unanswered call counts: no second email.",
    )
    _start_wait(escalation, at=sent_at)
    timeline.record(
        client,
        TimelineKind.ESCALATION_STEP,
        actor=actor,
        summary=(
            f"Escalation #{escalation.id}: the client got the \u201cwe tried to call you\u201d "
            "email of ",
            sent_at,
            " already, so no second one (E2); WhatsApp step due ",
            escalation.step_due_at,
        ),
        detail={
            "escalation_id": escalation.id,
            "step": LadderStep.EMAIL,
            "ladder_id": ladder.id,
            "contact_id": ladder.contact_id,
        },
        at=at,
    )
    followups.stop_ladders_on_reply(
        client, at=at, reason=f"escalation #{escalation.id} follows up instead (E2)", actor=actor
    )


def draft_email_step(escalation: Escalation, *, actor: User) -> outbox.Draft:
    """E2 step 2: the "we tried to call you" email that logging the call unanswered would
    send now, composed and not queued (a preview). Raises RuleViolation("E2") when no
    email would go (the ladder is past its call step, or F2's email counts for it), or no
    contact has an email address; NotAllowed for someone who does not work on the client."""
    if not escalation.is_open:
        raise RuleViolation("E2", "This escalation is resolved.")
    client = escalation.client
    access.check_works_on(actor, client)
    if escalation.step is not LadderStep.CALL:
        raise RuleViolation("E2", "The ladder is past its call step: no email goes with a call.")
    if _followup_email_counting(escalation, at=clock.now()) is not None:
        raise RuleViolation(
            "E2", "The client got the follow-up email of an earlier call: no second one goes."
        )
    contact = client.reachable_contact("email")
    if contact is None:
        raise RuleViolation("E2", "No contact of this client has an email address: add one.")
    return _we_tried_to_call(client, contact, actor=actor)


def _we_tried_to_call(client: Client, contact: Contact, *, actor: User | None) -> outbox.Draft:
    acm = client.acm
    return outbox.draft_client_email(
        client,
        contact,
        subject=i18n.translated(
            client.language, "We tried to call you – %(code)s", code=client.store_code
        ),
        template="escalation_we_tried_to_call.txt",
        team=acm.team if acm else None,
        actor=actor,
    )


def _send_email_step(escalation: Escalation, *, actor: User | None, at: datetime) -> None:
    """E2 step 2: "we tried to call you, please give us a suitable time" (G1 CCs), unless
    the client has that email from F2's ladder already (`_followup_email_counting`)."""
    client = escalation.client
    counted = _followup_email_counting(escalation, at=at)
    if counted is not None:
        _count_followup_email(escalation, counted, actor=actor, at=at)
        return
    contact = client.reachable_contact("email")
    message = outbox.queue_draft(
        _we_tried_to_call(client, contact, actor=actor), key=f"escalation-{escalation.id}-email"
    )
    _move_to(escalation, LadderStep.EMAIL, at=at)
    _add_step(escalation, StepKind.EMAIL, actor=actor, at=at, message=message)
    _start_wait(escalation, at=at)
    timeline.record(
        client,
        TimelineKind.ESCALATION_STEP,
        actor=actor,
        summary=(
            f"Escalation #{escalation.id}: we tried to call you, email to {contact.name} "
            "(E2); WhatsApp step due ",
            escalation.step_due_at,
        ),
        detail={"escalation_id": escalation.id, "step": LadderStep.EMAIL, "contact_id": contact.id},
        outbox_message=message,
        at=at,
    )
    # One ladder talks to the client: a no-reply ladder (F2) under way gives way to it.
    followups.stop_ladders_on_reply(
        client, at=at, reason=f"escalation #{escalation.id} follows up instead (E2)", actor=actor
    )


def run_due_step(escalation_id: int, step: str) -> str:
    """E2: run timed step `step` ("whatsapp" or "leader") if it is still wanted and due.

    Nothing is done for an escalation that is gone, resolved, paused, with the leader
    already, moved on by hand, whose step is done, or not due yet. Returns what happened
    ("done" or why nothing was). Running it twice acts once. The caller commits.
    """
    step = LadderStep(step)
    # Locked (PostgreSQL) so a resolve or a hand-made move waits for this decision or comes
    # first and is seen; SQLite serialises writers anyway.
    escalation = db.session.get(Escalation, escalation_id, with_for_update=True)
    if escalation is None:
        return "gone"
    if not escalation.is_open:
        return "resolved"
    order = list(LadderStep)
    if order.index(escalation.step) >= order.index(step):
        return "already done"
    if escalation.step.following is not step:
        return "not reached"
    if escalation.paused_at is not None:
        return "paused"
    now = clock.now()
    if escalation.step_due_at is None or now < escalation.step_due_at:
        return "not due"
    due = step_due_at(escalation)
    if now < due:
        # The calendar changed since it was scheduled (a holiday declared): not early.
        move_step(escalation, due)
        return "not due"
    if step is LadderStep.WHATSAPP:
        _send_whatsapp_step(escalation, at=now)
    else:
        _to_leader(
            escalation,
            actor=None,
            at=now,
            note="No reply to the call, the email or the WhatsApp",
        )
    db.session.flush()
    return "done"


def _send_whatsapp_step(escalation: Escalation, *, at: datetime) -> None:
    """E2 step 3: a WhatsApp template asking the client to reply to the email."""
    client = escalation.client
    contact = client.reachable_contact("whatsapp")
    message = None
    if contact is not None:
        message = outbox.queue_whatsapp(
            key=f"escalation-{escalation.id}-whatsapp",
            to=contact.whatsapp,
            template="reply_to_our_email",
            params={"name": contact.name.split()[0]},
            client=client,
            actor=None,
        )
        summary = f"WhatsApp to {contact.name}: please reply to our email (E2)"
    else:
        summary = "No contact has a WhatsApp number: the WhatsApp step was skipped (E2)"
    _move_to(escalation, LadderStep.WHATSAPP, at=at)
    _add_step(
        escalation,
        StepKind.WHATSAPP,
        actor=None,
        at=at,
        message=message,
        note=None if contact else summary,
    )
    _start_wait(escalation, at=at)
    timeline.record(
        client,
        TimelineKind.ESCALATION_STEP,
        actor=None,
        summary=f"Escalation #{escalation.id}: {summary}",
        detail={
            "escalation_id": escalation.id,
            "step": LadderStep.WHATSAPP,
            "template": "reply_to_our_email",
        },
        outbox_message=message,
        at=at,
    )


def _to_leader(escalation: Escalation, *, actor: User | None, at: datetime, note: str) -> None:
    """E2 step 4, the final one: the leader is notified by email and decides (E3)."""
    client = escalation.client
    before = timeline.snapshot(escalation, ESCALATION_FIELDS)
    _move_to(escalation, LadderStep.LEADER, at=at)
    escalation.waiting_for_leader = True
    team = client.acm.team if client.acm is not None else None
    leader = team.leader if team is not None else None
    message = None
    if leader is not None:
        message = outbox.queue_email(
            key=f"escalation-{escalation.id}-leader",
            to=[leader.email],
            cc=[client.acm.email],
            subject=f"Escalation for your decision – {client.store_code}",
            body=outbox.render_email(
                "escalation_to_leader.txt",
                client=client,
                escalation=escalation,
                leader=leader,
                acm=client.acm,
                note=note,
            ),
            client=client,
            actor=actor,
            reply_to=client.acm.email,
        )
    _add_step(escalation, StepKind.LEADER, actor=actor, at=at, message=message, note=note)
    notifications.notify(
        leader if leader is not None else notifications.users_with(Role.ADMIN),
        kind=notifications.ESCALATION,
        text=f"Escalation of {client.store_code} waits for your decision",
        link=notifications.link_to("escalations.show", escalation_id=escalation.id),
        key=f"escalation-{escalation.id}-leader",
    )
    who = leader.name if leader else "the team leader (the team has none: an admin decides)"
    timeline.record(
        client,
        TimelineKind.ESCALATION_TO_LEADER,
        actor=actor,
        summary=f"Escalation #{escalation.id} sent to {who}: {note}",
        detail={"escalation_id": escalation.id, "step": LadderStep.LEADER},
        outbox_message=message,
        at=at,
    )
    timeline.audit(
        actor,
        "escalation.to_leader",
        escalation,
        before=before,
        after=timeline.snapshot(escalation, ESCALATION_FIELDS),
    )


def advance_to_leader(escalation: Escalation, *, actor: User, note: str) -> None:
    """E2: the ACM cannot solve it: straight to the leader, whatever the step; the
    scheduled steps then find it moved on and do nothing.

    Raises RuleViolation("E2") if it is resolved or with the leader already, NotAllowed for
    someone who does not work on the client, ValidationError without a note.
    """
    if not escalation.is_open:
        raise RuleViolation("E2", "This escalation is resolved.")
    if escalation.waiting_for_leader:
        raise RuleViolation("E2", "This escalation is with the leader already.")
    access.check_works_on(actor, escalation.client)
    note = validation.required_text(note, field="note", message="Say why the leader must take it.")
    _to_leader(escalation, actor=actor, at=clock.now(), note=note)
    db.session.flush()


def ladder_under_way(client: Client) -> Escalation | None:
    """The client's open escalation whose ladder waits on the client, after its "we tried
    to call you" email or its WhatsApp (not paused, not with the leader), if any: it is
    what follows the client up (E2), so F2 starts no ladder of its own meanwhile."""
    escalation = open_escalation(client)
    if (
        escalation is None
        or escalation.paused_at is not None
        or escalation.waiting_for_leader
        or escalation.step not in (LadderStep.EMAIL, LadderStep.WHATSAPP)
    ):
        return None
    return escalation


def pause_on_client_reply(
    client: Client, *, at: datetime, reason: str, actor: User | None = None
) -> Escalation | None:
    """E2: a reply from the client (an email or WhatsApp received, an answered call) pauses
    the ladder under way for the ACM to act; returns the paused escalation, if any.

    Only a ladder waiting on a timed step (after the email or the WhatsApp) pauses: at the
    call step the ACM acts anyway, and with the leader the ladder is over.
    """
    escalation = ladder_under_way(client)
    if escalation is None:
        return None
    escalation.paused_at = at
    _add_step(escalation, StepKind.PAUSED, actor=actor, at=at, note=reason)
    timeline.record(
        client,
        TimelineKind.ESCALATION_PAUSED,
        actor=actor,
        summary=f"Escalation #{escalation.id} paused, the client replied ({reason}): "
        "the ACM acts next",
        detail={"escalation_id": escalation.id, "step": escalation.current_step},
        at=at,
    )
    db.session.flush()
    return escalation


def resume_ladder(escalation: Escalation, *, actor: User, note: str) -> None:
    """E2: restart a paused ladder at its step, the wait counted afresh from now.

    Raises RuleViolation("E2") if it is resolved or not paused.
    """
    if not escalation.is_open or escalation.paused_at is None:
        raise RuleViolation("E2", "Only a paused escalation can resume.")
    access.check_works_on(actor, escalation.client)
    now = clock.now()
    escalation.paused_at = None
    escalation.step_started_at = now
    _add_step(escalation, StepKind.RESUMED, actor=actor, at=now, note=note)
    _start_wait(escalation, at=now)
    timeline.record(
        escalation.client,
        TimelineKind.ESCALATION_RESUMED,
        actor=actor,
        summary=(
            f"Escalation #{escalation.id} resumed: {note}; next step due ",
            escalation.step_due_at,
        ),
        detail={"escalation_id": escalation.id, "step": escalation.current_step},
        at=now,
    )


# --- Ending it (E2, E3) ------------------------------------------------------------------------


def _close(
    escalation: Escalation,
    *,
    actor: User,
    kind: ResolutionKind,
    note: str,
    action: str,
    message: OutboxMessage | None = None,
) -> None:
    before = timeline.snapshot(escalation, ESCALATION_FIELDS)
    now = clock.now()
    escalation.status = EscalationStatus.RESOLVED.value
    escalation.resolved_at = now
    escalation.resolved_by = actor
    escalation.resolution = kind.value
    escalation.resolution_note = note
    escalation.step_due_at = None
    escalation.waiting_for_leader = False
    _add_step(escalation, StepKind.RESOLVED, actor=actor, at=now, note=note, message=message)
    timeline.record(
        escalation.client,
        TimelineKind.ESCALATION_RESOLVED,
        actor=actor,
        summary=f"Escalation #{escalation.id}: {kind.label} by {actor.name}: {note}",
        detail={"escalation_id": escalation.id, "resolution": kind},
        outbox_message=message,
        at=now,
    )
    timeline.audit(
        actor,
        action,
        escalation,
        before=before,
        after=timeline.snapshot(escalation, ESCALATION_FIELDS),
    )
    db.session.flush()


def resolve(escalation: Escalation, *, actor: User, note: str) -> None:
    """E2: the ACM (or the leader) solved it with the client: the ladder stops (the
    scheduled steps find it resolved and do nothing). Once it is with the leader, only the
    leader (or an admin) ends it (E3).

    Raises RuleViolation("E2") if already resolved, RuleViolation("E3") for the ACM once
    it waits for the leader's decision, NotAllowed for someone who does not
    work on the client, ValidationError without a note.
    """
    if not escalation.is_open:
        raise RuleViolation("E2", "This escalation is resolved already.")
    access.check_works_on(actor, escalation.client)
    if escalation.waiting_for_leader and not access.can_decide_escalation(actor, escalation.client):
        raise RuleViolation("E3", "This escalation waits for the team leader's decision.")
    note = validation.required_text(note, field="note", message="Say how it was solved.")
    _close(
        escalation,
        actor=actor,
        kind=ResolutionKind.RESOLVED,
        note=note,
        action="escalation.resolve",
    )


def decide(
    escalation: Escalation,
    *,
    leader: User,
    decision: str,
    note: str,
    new_acm: User | None = None,
) -> OutboxMessage | None:
    """E3: the leader's decision: resolved, reassign the client to another ACM of the team
    (`new_acm`), or take it over (the client goes to the team's leader). Reassigning goes
    through services/clients.reassign_client, as the foundation's does. The note goes to
    the client through the outbox (G1 CCs), and is returned (None when no contact has an
    email); on a reassignment both ACMs are told.

    Only the leader of the client's team, or an admin, decides: NotAllowed otherwise.
    Raises RuleViolation("E3") if it is resolved already, ValidationError for an unknown
    decision, no note, or an ACM that cannot take the client.
    """
    client = escalation.client
    if not access.can_decide_escalation(leader, client):
        raise NotAllowed("Only the client's team leader or an admin decides an escalation.")
    if not escalation.is_open:
        raise RuleViolation("E3", "This escalation is resolved already.")
    if decision not in DECISIONS:
        raise ValidationError("Choose resolved, reassign or take over.", field="decision")
    note = validation.required_text(note, field="note", message="Write the note to the client.")
    previous_acm = client.acm
    if decision == "resolved":
        kind = ResolutionKind.RESOLVED
    else:
        if decision == "take_over":
            team = previous_acm.team if previous_acm is not None else None
            new_acm = team.leader if team is not None else None
            if new_acm is None:
                raise ValidationError("The client's team has no leader to take it over.")
            kind = ResolutionKind.TAKEN_OVER
        else:
            kind = ResolutionKind.REASSIGNED
            if new_acm is not None and new_acm not in reassignment_choices(leader, client):
                raise ValidationError("Choose another ACM of the client's team.", field="acm")
        clients.reassign_client(
            client,
            actor=leader,
            new_acm=new_acm,
            reason=f"Escalation #{escalation.id} ({kind.label.lower()}): {note}",
        )
        db.session.flush()
        handover = _tell_acms(
            escalation, previous=previous_acm, new=new_acm, actor=leader, note=note
        )
        _add_step(
            escalation,
            StepKind.NOTE,
            actor=leader,
            at=clock.now(),
            message=handover,
            note=f"{kind.label}: {new_acm.name} manages the client now; both ACMs are told.",
        )
    message = _tell_client(escalation, kind=kind, actor=leader, note=note)
    _close(
        escalation,
        actor=leader,
        kind=kind,
        note=note,
        action="escalation.decide",
        message=message,
    )
    return message


def reassignment_choices(leader: User, client: Client) -> list[User]:
    """E3: the ACMs of the client's team that `leader` may give the client to: neither its
    current ACM nor the leader (taking it over is a decision of its own)."""
    team_id = client.acm.team_id if client.acm is not None else None
    return [
        user
        for user in access.assignable_acms(leader)
        if user.id not in (client.acm_id, leader.id)
        and (team_id is None or user.team_id == team_id)
    ]


def _tell_client(
    escalation: Escalation, *, kind: ResolutionKind, actor: User, note: str
) -> OutboxMessage | None:
    """The leader's note to the client (E3), with G1 CCs; None if no contact has an email
    (the decision still stands; the timeline shows no message)."""
    client = escalation.client
    contact = client.reachable_contact("email")
    if contact is None:
        return None
    return outbox.email_client(
        client,
        contact,
        key=f"escalation-{escalation.id}-decision",
        subject=i18n.translated(
            client.language, "About your request – %(code)s", code=client.store_code
        ),
        template="escalation_decision.txt",
        kind=kind.value,
        leader=actor,
        note=note,
        actor=actor,
    )


def _tell_acms(
    escalation: Escalation, *, previous: User | None, new: User, actor: User, note: str
) -> OutboxMessage:
    """E3: both ACMs learn that the client moved (an internal email, no client CCs)."""
    client = escalation.client
    return outbox.queue_email(
        key=f"escalation-{escalation.id}-handover",
        to=[u.email for u in (previous, new) if u is not None],
        subject=f"{client.store_name} ({client.store_code}) now managed by {new.name}",
        body=outbox.render_email(
            "escalation_handover.txt",
            client=client,
            escalation=escalation,
            previous=previous,
            new=new,
            leader=actor,
            note=note,
        ),
        client=client,
        actor=actor,
    )


# --- Complaints (E3) ---------------------------------------------------------------------------

COMPLAINT_FIELDS = ("client_id", "kind", "channel", "said", "status", "note", "refund_amount")


def record_complaint(
    client: Client,
    *,
    actor: User,
    kind: str,
    said: str,
    channel: str,
    refund_amount: object = None,
) -> Complaint:
    """E3: a complaint, cancellation or refund request goes to the complaint-handling queue,
    recorded, and not through the escalation ladder. A refund request carries its amount
    (in the client's currency) to finance's queue (services/churn.py).

    Raises NotAllowed for someone who does not work on the client, ValidationError for an
    unknown kind or channel, nothing said, or a refund without a valid amount.
    """
    access.check_works_on(actor, client)
    kind = validation.choice(
        ComplaintKind, kind, field="kind", message="Choose complaint, cancellation or refund."
    )
    channel = validation.choice(
        ContactChannel, channel, field="channel", message="Choose the channel."
    )
    said = validation.required_text(said, field="said", message="Write what the client said.")
    refund = churn.refund_amount(client, kind, refund_amount)
    now = clock.now()
    complaint = Complaint(
        client=client,
        kind=kind.value,
        said=said,
        channel=channel.value,
        raised_by=actor,
        raised_at=now,
        status=ComplaintStatus.OPEN.value,
    )
    if refund is not None:
        complaint.refund_amount = refund
        complaint.refund_currency = client.currency
        complaint.refund_status = RefundStatus.REQUESTED.value
    db.session.add(complaint)
    db.session.flush()
    timeline.record(
        client,
        TimelineKind.COMPLAINT_RECORDED,
        actor=actor,
        summary=f"{kind.label} #{complaint.id} recorded for complaint handling "
        f"({channel.label}): {said}"
        + (f" (refund of {complaint.refund} asked)" if refund is not None else ""),
        detail={"complaint_id": complaint.id, "kind": kind},
        at=now,
    )
    timeline.audit(
        actor, "complaint.record", complaint, after=timeline.snapshot(complaint, COMPLAINT_FIELDS)
    )
    return complaint


def update_complaint(complaint: Complaint, *, actor: User, status: str, note: str = "") -> None:
    """E3: move a complaint along the queue (open → in progress → closed), with a note. A
    cancellation may end "cancellation confirmed" instead, with why: the client churns
    (events.cancellation_confirmed, services/churn.py).

    Raises NotAllowed for someone who does not work on the client, RuleViolation("E3") to
    move a confirmed cancellation, ValidationError for an unknown status, closing or
    confirming without a note, or confirming what is no cancellation.
    """
    access.check_works_on(actor, complaint.client)
    status = validation.choice(ComplaintStatus, status, field="status", message="Choose a status.")
    note = (note or "").strip()
    if complaint.status == ComplaintStatus.CONFIRMED.value:
        raise RuleViolation("E3", "This cancellation is confirmed: the client has churned.")
    confirming = status is ComplaintStatus.CONFIRMED
    if confirming and complaint.complaint_kind is not ComplaintKind.CANCELLATION:
        raise ValidationError("Only a cancellation is confirmed.", field="status")
    if status is ComplaintStatus.CLOSED and not note:
        raise ValidationError("Say how it was closed.", field="note")
    if confirming and not note:
        raise ValidationError("Say why the client cancels.", field="note")
    before = timeline.snapshot(complaint, COMPLAINT_FIELDS)
    now = clock.now()
    complaint.status = status.value
    complaint.closed_at = (
        now if status in (ComplaintStatus.CLOSED, ComplaintStatus.CONFIRMED) else None
    )
    if note:
        complaint.note = note
    timeline.record(
        complaint.client,
        TimelineKind.COMPLAINT_UPDATED,
        actor=actor,
        summary=f"{ComplaintKind(complaint.kind).label} #{complaint.id}: {status.label}"
        + (f": {note}" if note else ""),
        detail={"complaint_id": complaint.id, "status": status},
        at=now,
    )
    timeline.audit(
        actor,
        "complaint.update",
        complaint,
        before=before,
        after=timeline.snapshot(complaint, COMPLAINT_FIELDS),
    )
    if confirming:
        events.cancellation_confirmed.send(complaint, actor=actor, note=note)
    db.session.flush()


# --- The reconciler's view -----------------------------------------------------------------


def steps_to_reconcile() -> list[tuple[int, LadderStep, datetime]]:
    """(id, next timed step, due time) of the open, unpaused escalations waiting on one."""
    rows = db.session.execute(
        select(Escalation.id, Escalation.current_step, Escalation.step_due_at)
        .where(Escalation.status == EscalationStatus.OPEN.value)
        .where(Escalation.paused_at.is_(None))
        .where(Escalation.waiting_for_leader.is_(False))
        .where(Escalation.step_due_at.is_not(None))
        .where(Escalation.current_step.in_([LadderStep.EMAIL.value, LadderStep.WHATSAPP.value]))
        .order_by(Escalation.step_due_at)
    )
    return [(eid, LadderStep(step).following, due) for eid, step, due in rows]


# --- What other services tell the ladder (services/events.py) ---------------------------


@events.client_replied.connect
def _client_replied(client: Client, *, at: datetime, reason: str, actor: User, **_: object) -> None:
    pause_on_client_reply(client, at=at, reason=reason, actor=actor)


@events.call_unanswered.connect
def _follow_up_unanswered_call(
    client: Client, *, event: TimelineEvent, actor: User, **_: object
) -> None:
    """F2's ladder for an unanswered call, unless an escalation's ladder already told the
    client we tried to call and waits on them (E2): one "we tried to call you" email."""
    escalation = ladder_under_way(client)
    if escalation is None:
        followups.start_ladder(client, event, actor=actor)
        return
    timeline.record(
        client,
        TimelineKind.LADDER_STOPPED,
        actor=actor,
        summary=f"No follow-up email for this call: escalation #{escalation.id} is following "
        "up the client already (E2)",
        detail={"escalation_id": escalation.id},
        at=event.at,
    )
