"""Customization requests (C1-C3): the ACM's request with its scope of work and
attachments, the approval ticket product decides within 48 hours, and the decisions.

C1: the scope of work is three texts: the end result in detail, who will use it, and how
the client will know it is done. Attachments (PDF, PNG, JPEG, Word, Excel, PowerPoint) are
recognised by their content, not their name, and kept under generated names in the
attachments directory, outside the web root.

C2: opening a request opens its approval ticket ("SAL-<id>", the portal's own record): it
awaits product's decision for 48 hours, counted in calendar hours or in business hours on
the client's team calendar (the CUSTOMIZATION_DECISION_HOURS setting). At the deadline a
job flags the breach once and tells product and the ACM's leader (`jobs/customizations.py`).

C3: product accepts, rejects (with a reason, which the ACM sees) or puts it on hold (with
what it needs); the ACM's answer to a hold puts the request back in product's queue with a
new 48-hour clock, as product waits on the ACM until then.
"""

from __future__ import annotations

import io
import secrets
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from kamportal import clock, queue
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    Client,
    CustomizationAttachment,
    CustomizationRequest,
    CustomizationStage,
    CustomizationStatus,
    Role,
    TimelineKind,
    User,
)
from kamportal.services import (
    access,
    accounts,
    calendar,
    customization_tickets,
    notifications,
    timeline,
    validation,
)

DECISION_HOURS = 48
BREACH_JOB = "kamportal.jobs.customizations.flag_breach"
# What product may decide (C3), as the decision form names them.
DECISIONS = {
    CustomizationStatus.ACCEPTED.value: "Accept",
    CustomizationStatus.REJECTED.value: "Reject",
    CustomizationStatus.ON_HOLD.value: "Put on hold",
}
REQUEST_FIELDS = (
    "status",
    "stage",
    "decision_due_at",
    "decided_at",
    "decision_reason",
    "hold_answer",
)
# C3, C4: where a decision leaves the request (on hold, it still waits on a decision).
_STAGE_AFTER_DECISION = {
    CustomizationStatus.ACCEPTED: CustomizationStage.PRICING,
    CustomizationStatus.REJECTED: CustomizationStage.REJECTED,
    CustomizationStatus.ON_HOLD: CustomizationStage.DECISION,
}

# The files a request takes (C1), by extension: the content type served, and what the
# content must be ("zip:<part>" an Office Open XML package holding that part).
_PDF, _PNG, _JPEG = b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"
ATTACHMENT_TYPES = {
    "pdf": ("application/pdf", _PDF),
    "png": ("image/png", _PNG),
    "jpg": ("image/jpeg", _JPEG),
    "jpeg": ("image/jpeg", _JPEG),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "word/document.xml",
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xl/workbook.xml",
    ),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "ppt/presentation.xml",
    ),
}
ATTACHMENTS_ACCEPTED = "PDF, PNG, JPEG, Word (.docx), Excel (.xlsx) or PowerPoint (.pptx)"
MAX_ATTACHMENTS = 10


@dataclass(frozen=True)
class Upload:
    """A file as the ACM gave it: its name on their computer and its bytes (at most one
    byte past the size limit: enough to know it is too large)."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class DecisionClock:
    """Product's 48 hours (C2) at `now`: when they end, whether they have, and how long is
    left (or how long ago they ended), as people say it."""

    due_at: datetime
    overdue: bool
    span: str

    @property
    def text(self) -> str:
        return f"overdue by {self.span}" if self.overdue else f"{self.span} left"


# --- The stage (C2-C7) ----------------------------------------------------------------------------


def check_stage(
    request: CustomizationRequest, *stages: CustomizationStage, rule: str, refusal: str
) -> None:
    """The one stage check of every step of the process: raises RuleViolation(rule) unless
    `request` is at one of `stages`, its message `refusal` (when the step comes) and where
    the request stands now. Staff read it; a client's page says its own words."""
    if request.stage in {stage.value for stage in stages}:
        return
    raise RuleViolation(
        rule, f"{refusal} Where {request.reference} stands: {request.customization_stage.label}."
    )


# --- The clock (C2) ----------------------------------------------------------------------------


def counts_business_hours() -> bool:
    return current_app.config["CUSTOMIZATION_DECISION_HOURS"] == "business"


def decision_due_at(client: Client, started_at: datetime) -> datetime:
    """C2: when product's 48 hours from `started_at` end: calendar hours, or business
    hours on the client's team calendar, as the setting says."""
    if counts_business_hours():
        return calendar.calendar_for_client(client).add_business_hours(started_at, DECISION_HOURS)
    return started_at + timedelta(hours=DECISION_HOURS)


def decision_clock(request: CustomizationRequest, *, now: datetime) -> DecisionClock | None:
    """The clock of a request awaiting product's decision; None once decided or on hold."""
    if not request.is_awaiting_decision or request.decision_due_at is None:
        return None
    due = request.decision_due_at
    overdue = now >= due
    return DecisionClock(due, overdue, clock.span(now - due if overdue else due - now))


def breach_job_id(request_id: int) -> str:
    return f"customization-{request_id}-breach"


def _start_clock(request: CustomizationRequest, *, at: datetime) -> None:
    """A new 48 hours for product from `at`; the breach job is enqueued for its end after
    the commit (replacing an earlier one) and may flag this clock's breach once."""
    request.status = CustomizationStatus.AWAITING_DECISION.value
    request.clock_started_at = at
    request.decision_due_at = decision_due_at(request.client, at)
    request.breach_flagged_at = None
    db.session.flush()
    notifications.notify(
        notifications.users_with(Role.PRODUCT),
        kind=notifications.DECISION,
        text=f"Customization {request.reference} for {request.client.store_code} waits for "
        "your decision",
        link=notifications.link_to("customizations.show", request_id=request.id),
        key=f"customization-{request.id}-decision-{at:%Y%m%d%H%M%S%f}",
    )
    queue.enqueue_after_commit(
        db.session,
        BREACH_JOB,
        request.id,
        job_id=breach_job_id(request.id),
        at=request.decision_due_at,
    )


# --- Attachments (C1) --------------------------------------------------------------------------


def max_attachment_bytes() -> int:
    return current_app.config["CUSTOMIZATION_ATTACHMENT_MAX_BYTES"]


def checked_attachment(upload: Upload) -> tuple[str, str]:
    """The name to show and the content type of an acceptable attachment: its extension
    among the accepted ones, its content what that extension says, at most the size limit.

    Raises ValidationError (field "attachments") otherwise."""
    name = (
        validation.typed_text(
            Path((upload.filename or "").replace("\\", "/")).name.strip(),
            field="attachments",
            max_length=255,
        )
        or "the file"
    )
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in ATTACHMENT_TYPES:
        raise ValidationError(f"{name}: attach a {ATTACHMENTS_ACCEPTED} file.", field="attachments")
    limit = max_attachment_bytes()
    if len(upload.data) > limit:
        raise ValidationError(f"{name} is larger than {_megabytes(limit)}.", field="attachments")
    content_type, signature = ATTACHMENT_TYPES[extension]
    if not _content_is(upload.data, signature):
        raise ValidationError(
            f"{name} is not the {extension.upper()} file its name says.", field="attachments"
        )
    return name, content_type


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _content_is(data: bytes, signature: bytes | str) -> bool:
    if isinstance(signature, bytes):
        return data.startswith(signature)
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = set(package.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return "[Content_Types].xml" in names and signature in names


def attachments_dir() -> Path:
    return Path(current_app.config["ATTACHMENTS_DIR"])


def attachment_path(attachment: CustomizationAttachment) -> Path:
    """Where an attachment's bytes are kept (never a name the user chose)."""
    return attachments_dir() / attachment.stored_name


def _attach(
    request: CustomizationRequest,
    upload: Upload,
    filename: str,
    content_type: str,
    *,
    actor: User,
    at: datetime,
) -> CustomizationAttachment:
    """Keep the file under a generated name. A file written for a request whose
    transaction then rolls back stays unreferenced, never served."""
    folder = attachments_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    (folder / stored_name).write_bytes(upload.data)
    attachment = CustomizationAttachment(
        request=request,
        filename=filename,
        stored_name=stored_name,
        content_type=content_type,
        size=len(upload.data),
        uploaded_at=at,
        uploaded_by_id=actor.id,
    )
    db.session.add(attachment)
    return attachment


# --- The ACM's request (C1, C2) ------------------------------------------------------------------


def open_request(
    client: Client,
    *,
    actor: User,
    title: str,
    end_result: str,
    users: str,
    done_when: str,
    wanted_by: date,
    uploads: Iterable[Upload] = (),
) -> CustomizationRequest:
    """C1, C2: the ACM asks for a customization with its scope of work and attachments;
    its approval ticket awaits product's decision for 48 hours (the breach job is
    enqueued after the commit). On the client's timeline and in the audit log.

    Raises NotAllowed for someone who does not work on the client, ValidationError for a
    blank part of the scope of work or an attachment refused (type, content, size)."""
    access.check_works_on(actor, client)
    uploads = [upload for upload in uploads if upload.data or upload.filename]
    if len(uploads) > MAX_ATTACHMENTS:
        raise ValidationError(
            f"At most {MAX_ATTACHMENTS} attachments, please.", field="attachments"
        )
    checked = [checked_attachment(upload) for upload in uploads]
    now = clock.now()
    request = CustomizationRequest(
        client=client,
        opened_by=actor,
        opened_at=now,
        title=validation.required_text(title, field="title", message="Give the request a title."),
        end_result=validation.required_text(
            end_result, field="end_result", message="Describe the end result in detail (C1)."
        ),
        users=validation.required_text(users, field="users", message="Say who will use it (C1)."),
        done_when=validation.required_text(
            done_when, field="done_when", message="Say how the client will know it is done (C1)."
        ),
        wanted_by=wanted_by,
        clock_started_at=now,
    )
    db.session.add(request)
    for upload, (filename, content_type) in zip(uploads, checked, strict=True):
        _attach(request, upload, filename, content_type, actor=actor, at=now)
    _start_clock(request, at=now)
    timeline.record(
        client,
        TimelineKind.CUSTOMIZATION_REQUESTED,
        actor=actor,
        summary=(
            f"Customization {request.reference} asked: {request.title}; product decides by ",
            request.decision_due_at,
            " (C2)",
        ),
        detail={"request_id": request.id, "attachments": len(uploads)},
        at=now,
    )
    timeline.audit(
        actor, "customization.open", request, after=timeline.snapshot(request, REQUEST_FIELDS)
    )
    db.session.flush()
    customization_tickets.approval_ticket_owed(request)
    return request


def answer_hold(request: CustomizationRequest, *, actor: User, answer: str) -> None:
    """C3: the ACM gives what product asked for on a request on hold: it is back in
    product's queue with a new 48-hour clock.

    Raises RuleViolation("C3") unless it is on hold, NotAllowed for someone who does not
    work on the client, ValidationError without an answer."""
    access.check_works_on(actor, request.client)
    if request.status != CustomizationStatus.ON_HOLD.value:
        raise RuleViolation(
            "C3",
            f"Only a request on hold waits for your answer. Where {request.reference} "
            f"stands: {request.customization_status.label}.",
        )
    answer = validation.required_text(
        answer, field="answer", message="Give what product asked for."
    )
    now = clock.now()
    with timeline.audited(actor, "customization.answer_hold", request, REQUEST_FIELDS):
        request.hold_answer = answer
        request.hold_answered_at = now
        _start_clock(request, at=now)
    timeline.record(
        request.client,
        TimelineKind.CUSTOMIZATION_HOLD_ANSWERED,
        actor=actor,
        summary=(
            f"Customization {request.reference}: answered product's hold; product decides by ",
            request.decision_due_at,
            " (C3)",
        ),
        detail={"request_id": request.id},
        at=now,
    )
    db.session.flush()
    customization_tickets.hold_answer_owed(request)


# --- Product's decision (C3) ---------------------------------------------------------------------


def decide(request: CustomizationRequest, *, actor: User, decision: str, reason: str) -> None:
    """C3: product accepts the request, rejects it or puts it on hold; rejecting and
    holding need a reason (the ACM sees it on the client page). On the client's timeline.

    Raises NotAllowed for anyone but product or an admin, RuleViolation("C3") unless it
    awaits a decision, ValidationError for an unknown decision or a missing reason."""
    access.check_decides_customizations(actor)
    if not request.is_awaiting_decision:
        raise RuleViolation("C3", f"{request.reference} is decided already.")
    if decision not in DECISIONS:
        raise ValidationError("Accept, reject or put it on hold.", field="decision")
    reason = validation.typed_text(reason, field="reason", multiline=True, max_length=5000)
    if decision != CustomizationStatus.ACCEPTED.value:
        reason = validation.required_text(
            reason,
            field="reason",
            message="Say why: the account manager needs the reason (C3).",
        )
    now = clock.now()
    status = CustomizationStatus(decision)
    with timeline.audited(actor, "customization.decide", request, REQUEST_FIELDS):
        request.status = status.value
        request.decided_at = now
        request.decided_by = actor
        request.decision_reason = reason.strip() or None
        request.decision_due_at = None
        request.stage = _STAGE_AFTER_DECISION[status].value
    because = f": {request.decision_reason}" if request.decision_reason else ""
    timeline.record(
        request.client,
        TimelineKind.CUSTOMIZATION_DECIDED,
        actor=actor,
        summary=f"Customization {request.reference} {status.label.lower()}{because} (C3)",
        detail={"request_id": request.id, "decision": status.value},
        at=now,
    )
    db.session.flush()
    customization_tickets.decision_owed(request)


# --- The breach (C2) -----------------------------------------------------------------------------


def flag_breach(request_id: int) -> str:
    """C2, at the deadline: a request still awaiting product's decision is flagged as
    breached once (for this clock), and product and the ACM's leader are told by email.
    Returns what happened ("flagged" or why nothing was). The caller commits."""
    request = db.session.get(CustomizationRequest, request_id, with_for_update=True)
    if request is None:
        return "gone"
    if not request.is_awaiting_decision or request.decision_due_at is None:
        return "decided"
    if request.breach_flagged_at is not None:
        return "already flagged"
    now = clock.now()
    if now < request.decision_due_at:
        return "not due"
    request.breach_flagged_at = now
    client = request.client
    acm = client.acm
    team = acm.team if acm is not None else None
    leader = team.leader if team is not None else None
    recipients = accounts.emails_of(Role.PRODUCT) + ([leader.email] if leader is not None else [])
    message = None
    if recipients:
        message = outbox.queue_email(
            key=f"customization-{request.id}-breach-{request.clock_started_at.isoformat()}",
            to=recipients,
            cc=[acm.email] if acm is not None else [],
            subject=f"{request.reference} waits for a decision past 48 hours – {client.store_code}",
            body=outbox.render_email(
                "customization_breach.txt", request=request, client=client, acm=acm
            ),
            client=client,
        )
    timeline.record(
        client,
        TimelineKind.CUSTOMIZATION_BREACHED,
        actor=None,
        summary=(
            f"Customization {request.reference}: no decision within 48 hours (due ",
            request.decision_due_at,
            "); product and the team leader told (C2)",
        ),
        detail={"request_id": request.id},
        outbox_message=message,
        at=now,
    )
    db.session.flush()
    return "flagged"


def breaches_to_reconcile() -> list[tuple[int, datetime]]:
    """(id, deadline) of the requests awaiting a decision whose breach is not flagged."""
    rows = db.session.execute(
        select(CustomizationRequest.id, CustomizationRequest.decision_due_at)
        .where(CustomizationRequest.status == CustomizationStatus.AWAITING_DECISION.value)
        .where(CustomizationRequest.breach_flagged_at.is_(None))
        .where(CustomizationRequest.decision_due_at.is_not(None))
        .order_by(CustomizationRequest.decision_due_at)
    )
    return [(request_id, due) for request_id, due in rows]


# --- Reading -------------------------------------------------------------------------------------


def load_request(request_id: int) -> CustomizationRequest | None:
    """A request with its client, who opened and decided it, and its attachments."""
    return db.session.scalar(
        select(CustomizationRequest)
        .where(CustomizationRequest.id == request_id)
        .options(
            joinedload(CustomizationRequest.client),
            joinedload(CustomizationRequest.opened_by),
            joinedload(CustomizationRequest.decided_by),
            selectinload(CustomizationRequest.attachments),
        )
    )


@dataclass(frozen=True)
class Queued:
    """A request in product's queue: how long since it was asked, and its clock."""

    request: CustomizationRequest
    age: str
    clock: DecisionClock | None


def product_queue(*, now: datetime) -> list[Queued]:
    """C3: the requests awaiting product's decision, the oldest first, each with its clock;
    three queries whatever their number."""
    requests = db.session.scalars(
        select(CustomizationRequest)
        .where(CustomizationRequest.status == CustomizationStatus.AWAITING_DECISION.value)
        .options(
            joinedload(CustomizationRequest.client),
            joinedload(CustomizationRequest.opened_by),
            selectinload(CustomizationRequest.attachments),
        )
        .order_by(CustomizationRequest.clock_started_at, CustomizationRequest.id)
    )
    return [
        Queued(
            request, clock.span(now - request.clock_started_at), decision_clock(request, now=now)
        )
        for request in requests
    ]


def recently_decided(*, limit: int = 50) -> list[CustomizationRequest]:
    """The latest decisions (product's queue, below the open requests)."""
    return list(
        db.session.scalars(
            select(CustomizationRequest)
            .where(CustomizationRequest.decided_at.is_not(None))
            .options(
                joinedload(CustomizationRequest.client),
                joinedload(CustomizationRequest.decided_by),
            )
            .order_by(CustomizationRequest.decided_at.desc(), CustomizationRequest.id.desc())
            .limit(limit)
        )
    )


def awaiting_query(user: User) -> Select[tuple[CustomizationRequest]]:
    """The ACM's day (C2, C3): their clients' requests awaiting product (with the clock)
    or on hold waiting for their answer, the oldest first."""
    return (
        select(CustomizationRequest)
        .join(CustomizationRequest.client)
        .where(access.own_clients_clause(user))
        .where(
            CustomizationRequest.status.in_(
                [
                    CustomizationStatus.AWAITING_DECISION.value,
                    CustomizationStatus.ON_HOLD.value,
                ]
            )
        )
        .options(joinedload(CustomizationRequest.client))
        .order_by(CustomizationRequest.clock_started_at, CustomizationRequest.id)
    )


def awaiting_of(user: User) -> list[CustomizationRequest]:
    """The requests of `awaiting_query`."""
    return list(db.session.scalars(awaiting_query(user)))
