"""A CSV a person uploads to write many records at once (store figures, F4; clients and
contacts, issue 16): kept, checked row by row before anything is written (a preview of
the bad rows with what is wrong, and the first good ones), then imported in one
transaction. A large file is checked in a job and every import is one; while a job runs,
how far it got is kept in Redis, not in the database: the import's own transaction holds
what it wrote until it commits, so a count written beside it would not be seen (and
SQLite would lock a second writer out).

What a row means, how it is checked and written, is each kind's own module
(services/figures_upload.py, services/client_import.py)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kamportal import clock, queue
from kamportal.csv_files import CsvRow
from kamportal.errors import ValidationError
from kamportal.extensions import db
from kamportal.models import FiguresUpload, Role, User
from kamportal.services import timeline, validation

log = logging.getLogger(__name__)

CHECKING, PREVIEWED, IMPORTING, DONE, FAILED = (
    "checking",
    "previewed",
    "importing",
    "done",
    "failed",
)
RUNNING = (CHECKING, IMPORTING)
# What the preview shows: the first bad rows, each with what is wrong, and the first good.
SHOWN_BAD = 50
SHOWN_GOOD = 10
# Rows checked or written between two progress counts.
STEP = 2000
PROGRESS_HOURS = 24
RECENT = 20

T = TypeVar("T")


def keep(*, actor: User, kind: str, filename: str, data: bytes, rows_total: int) -> FiguresUpload:
    """Keep an uploaded file (under a generated name, never the one the user gave) and
    its record, waiting to be checked; the caller checks it. Raises ValidationError for a
    file name that is not text."""
    name = (
        validation.typed_text(
            Path((filename or "").replace("\\", "/")).name.strip(), field="file", max_length=255
        )
        or f"{kind}.csv"
    )
    folder = Path(current_app.config["ATTACHMENTS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    (folder / stored_name).write_bytes(data)
    upload = FiguresUpload(
        kind=kind,
        uploaded_by=actor,
        uploaded_at=clock.now(),
        filename=name,
        stored_name=stored_name,
        size=len(data),
        status=CHECKING,
        rows_total=rows_total,
        rows_good=0,
        rows_bad=0,
        rows_done=0,
        preview={},
        good_rows_only=False,
    )
    db.session.add(upload)
    db.session.flush()
    timeline.audit(actor, f"{kind}_upload.received", upload, after={"filename": name})
    return upload


def inline_rows() -> int:
    return int(current_app.config["FIGURES_INLINE_ROWS"])


def check(
    upload: FiguresUpload,
    rows: list[CsvRow],
    preview: Callable[..., None],
    *,
    job: str,
) -> FiguresUpload:
    """Check a kept file: at once (`preview(upload, rows, counting=False)`) for a small
    one, in the job `job` (enqueued after the commit) for one of more than
    FIGURES_INLINE_ROWS rows."""
    if len(rows) <= inline_rows():
        preview(upload, rows, counting=False)
    else:
        queue.enqueue_after_commit(
            db.session, job, upload.id, job_id=f"{upload.kind}-check-{upload.id}"
        )
    return upload


def no_file(filename: str, data: bytes) -> None:
    """Raises ValidationError when no file was chosen."""
    if not filename and not data:
        raise ValidationError("Choose the CSV file.", field="file")


def waiting(upload_id: int, kinds: Sequence[str], status: str) -> FiguresUpload | None:
    """What a job works on: upload `upload_id` of one of `kinds` if it is still `status`;
    None if it is gone or already past it (a job run twice)."""
    upload = db.session.get(FiguresUpload, upload_id)
    if upload is None or upload.kind not in kinds or upload.status != status:
        return None
    return upload


def upload_path(upload: FiguresUpload) -> Path:
    """Where the file is kept."""
    return Path(current_app.config["ATTACHMENTS_DIR"]) / upload.stored_name


def in_steps(
    upload: FiguresUpload,
    rows: Sequence[CsvRow],
    work: Callable[[Sequence[CsvRow]], Sequence[T]],
    *,
    counting: bool,
) -> list[tuple[T, CsvRow]]:
    """`work` done on `rows`, `STEP` rows at a time, each result with its row (the count
    of rows done kept after each step when `counting`)."""
    found: list[tuple[T, CsvRow]] = []
    for start in range(0, len(rows), STEP):
        step = rows[start : start + STEP]
        found.extend(zip(work(step), step, strict=True))
        if counting:
            count(upload, start + len(step))
    return found


def previewed(
    upload: FiguresUpload,
    checked: Sequence[tuple[dict[str, str] | None, dict[str, Any] | None, CsvRow]],
    order: Sequence[str],
) -> None:
    """Keep the check's outcome: each row's errors (by field, None if right) or what the
    preview shows of it; `order` the fields' order in what is wrong."""
    bad: list[dict[str, Any]] = []
    good: list[dict[str, Any]] = []
    bad_count = 0
    for errors, shown, row in checked:
        if errors:
            bad_count += 1
            if len(bad) < SHOWN_BAD:
                names = sorted(errors, key=lambda n: order.index(n) if n in order else -1)
                bad.append({"line": row.line, "errors": [[n, errors[n]] for n in names]})
        elif len(good) < SHOWN_GOOD:
            good.append({"line": row.line, **(shown or {})})
    upload.rows_total = len(checked)
    upload.rows_bad = bad_count
    upload.rows_good = len(checked) - bad_count
    upload.rows_done = len(checked)
    upload.preview = {"bad": bad, "good": good}
    upload.status = PREVIEWED


def start(upload: FiguresUpload, *, actor: User, good_rows_only: bool, job: str) -> None:
    """Mark a checked file importing and enqueue the job `job` (after the commit). The
    caller checked who may; raises ValidationError for a file not waiting to be imported
    or with no good row."""
    if upload.status != PREVIEWED:
        raise ValidationError(not_waiting(upload))
    if upload.rows_good == 0:
        raise ValidationError("No row of this file is good: nothing to import.")
    audited = ("status", "good_rows_only")
    with timeline.audited(actor, f"{upload.kind}_upload.import", upload, audited):
        upload.status = IMPORTING
        upload.good_rows_only = good_rows_only
        upload.rows_done = 0
    queue.enqueue_after_commit(
        db.session, job, upload.id, job_id=f"{upload.kind}-import-{upload.id}"
    )


def not_waiting(upload: FiguresUpload) -> str:
    return {
        CHECKING: "The file is still being checked.",
        IMPORTING: "The file is being imported.",
        DONE: "The file is already imported.",
        FAILED: "The import failed: upload the file again.",
    }.get(upload.status, "The file cannot be imported now.")


def done(upload: FiguresUpload) -> None:
    upload.rows_done = upload.rows_good
    upload.status = DONE
    upload.finished_at = clock.now()


def fail(upload: FiguresUpload, why: str) -> None:
    """The upload failed (the import's last try, or rows no longer right); the caller
    commits."""
    upload.status = FAILED
    upload.failure = why[:500]
    upload.finished_at = clock.now()


# --- Progress and pages -------------------------------------------------------------------------


def progress_key(upload: FiguresUpload) -> str:
    """Where the running job counts (one count for the check, one for the import)."""
    return f"kam:figures-upload:{upload.id}:{upload.status}"


def count(upload: FiguresUpload, rows_done: int) -> None:
    """How far a job got, outside its transaction. A Redis that does not answer costs the
    count, never the job."""
    try:
        queue.backend().connection.set(progress_key(upload), rows_done, ex=PROGRESS_HOURS * 3600)
    except Exception:
        log.warning("upload %s: progress not counted", upload.id, exc_info=True)


def rows_done(upload: FiguresUpload) -> int:
    """Rows checked (while checking) or written (while importing) so far; once done, the
    count kept with the upload."""
    if upload.status not in RUNNING:
        return upload.rows_done
    try:
        value = queue.backend().connection.get(progress_key(upload))
    except Exception:
        value = None
    return int(value) if value is not None else upload.rows_done


def progress_total(upload: FiguresUpload) -> int:
    """What the progress counts up to: the file's rows, or, importing, its good rows."""
    return upload.rows_good if upload.status == IMPORTING else upload.rows_total


def may_see(user: User, upload: FiguresUpload) -> bool:
    """An upload is its uploader's; admins see every one."""
    return user.has_role(Role.ADMIN) or upload.uploaded_by_id == user.id


def upload_for(user: User, upload_id: int, kinds: Sequence[str]) -> FiguresUpload | None:
    """Upload `upload_id` of one of `kinds` if `user` may see it, else None (never whose
    it is)."""
    upload = db.session.get(FiguresUpload, upload_id)
    if upload is None or upload.kind not in kinds or not may_see(user, upload):
        return None
    return upload


def recent_uploads(user: User, kinds: Sequence[str]) -> list[FiguresUpload]:
    """The latest uploads of `kinds` `user` sees (admins: everyone's), newest first, with
    their uploaders."""
    query = (
        select(FiguresUpload)
        .where(FiguresUpload.kind.in_(kinds))
        .options(selectinload(FiguresUpload.uploaded_by))
    )
    if not user.has_role(Role.ADMIN):
        query = query.where(FiguresUpload.uploaded_by_id == user.id)
    order = (FiguresUpload.uploaded_at.desc(), FiguresUpload.id.desc())
    return list(db.session.scalars(query.order_by(*order).limit(RECENT)))
