"""Store figures by CSV (F4): a person uploads a file of store days, sees what is wrong
with it before anything is written, then imports it in one transaction.

The file: UTF-8 (with or without a byte-order mark), comma or semicolon separated, a
header row naming store_code, day, orders and gmv in any order (currency may follow;
other columns are ignored). Rows are read and checked by `store_figures.check_rows` as
the uploader (an ACM writes only the stores they work on) and written by
`store_figures.upsert`, so a file imported twice changes nothing the second time.

A small file is checked at once; a large one (more than FIGURES_INLINE_ROWS rows) in a
job. The import is always a job: one transaction for the whole file, retried on failure,
nothing half-written. While a job runs, how far it got is kept in Redis, not in the
database: the import's own transaction holds what it wrote until it commits, so a count
written beside it would not be seen (and SQLite would lock a second writer out).
"""

from __future__ import annotations

import csv
import io
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kamportal import clock, queue
from kamportal.errors import NotAllowed, ValidationError
from kamportal.extensions import db
from kamportal.models import FiguresUpload, Role, User
from kamportal.services import store_figures, timeline, validation

log = logging.getLogger(__name__)

CHECKING, PREVIEWED, IMPORTING, DONE, FAILED = (
    "checking",
    "previewed",
    "importing",
    "done",
    "failed",
)
RUNNING = (CHECKING, IMPORTING)
UPLOADER_ROLES = (Role.ACM, Role.LEADER, Role.ADMIN)
REQUIRED = tuple(name for name in store_figures.FIELDS if name != "currency")
# What the preview shows: the first bad rows, each with what is wrong, and the first good.
SHOWN_BAD = 50
SHOWN_GOOD = 10
# Rows checked or written between two progress counts.
STEP = 2000
PROGRESS_HOURS = 24
RECENT = 20


@dataclass(frozen=True)
class CsvRow:
    """A row of the file: its line (the header is line 1) and its fields by name."""

    line: int
    fields: dict[str, str]


def max_bytes() -> int:
    return int(current_app.config["FIGURES_UPLOAD_MAX_BYTES"])


def max_rows() -> int:
    return int(current_app.config["FIGURES_UPLOAD_MAX_ROWS"])


def inline_rows() -> int:
    return int(current_app.config["FIGURES_INLINE_ROWS"])


# --- Reading the file ----------------------------------------------------------------------


def read_csv(data: bytes) -> list[CsvRow]:
    """The file's rows, blank lines skipped. Raises ValidationError (field "file") for a
    file that is empty, too large, not UTF-8 text, not CSV, or whose header row lacks a
    field: what to do about it, in the user's words."""
    if not data.strip():
        raise ValidationError("The file is empty.", field="file")
    if len(data) > max_bytes():
        raise ValidationError(
            f"The file is larger than {max_bytes() / (1024 * 1024):g} MB: split it.", field="file"
        )
    if b"\x00" in data:
        raise ValidationError(
            "This is not a CSV file (it holds binary data). Save the sheet as CSV (UTF-8).",
            field="file",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            "The file is not UTF-8 text. Save the sheet as CSV (UTF-8).", field="file"
        ) from None
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = _header(reader)
        rows = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            if len(rows) == max_rows():
                raise ValidationError(
                    f"At most {max_rows():,} rows a file: split it.", field="file"
                )
            fields = {
                name: values[place]
                for place, name in enumerate(header)
                if name in store_figures.FIELDS and place < len(values)
            }
            rows.append(CsvRow(reader.line_num, fields))
    except csv.Error:
        raise ValidationError(
            f"Line {reader.line_num} cannot be read as CSV (a quote left open?).", field="file"
        ) from None
    if not rows:
        raise ValidationError("The file has a header row but no figures.", field="file")
    return rows


def _header(reader: Any) -> list[str]:
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ValidationError(
            f"The header row lacks {', '.join(missing)}: the first row names the columns "
            f"{', '.join(REQUIRED)} (and currency, if you like), in any order.",
            field="file",
        )
    return header


# --- Upload and preview ---------------------------------------------------------------------


def receive(*, actor: User, filename: str, data: bytes) -> FiguresUpload:
    """F4: keep an uploaded CSV and check it, nothing written to the figures: at once for
    a small file, in a job (enqueued after the commit) for a large one. Raises
    ValidationError for a file that cannot be read (see `read_csv`), NotAllowed for a role
    that does not upload figures."""
    if not actor.has_role(*UPLOADER_ROLES):
        raise NotAllowed("Account managers, team leaders and admins upload store figures.")
    if not filename and not data:
        raise ValidationError("Choose the CSV file.", field="file")
    name = (
        validation.typed_text(
            Path((filename or "").replace("\\", "/")).name.strip(), field="file", max_length=255
        )
        or "figures.csv"
    )
    rows = read_csv(data)
    folder = Path(current_app.config["ATTACHMENTS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    (folder / stored_name).write_bytes(data)
    upload = FiguresUpload(
        uploaded_by=actor,
        uploaded_at=clock.now(),
        filename=name,
        stored_name=stored_name,
        size=len(data),
        status=CHECKING,
        rows_total=len(rows),
        rows_good=0,
        rows_bad=0,
        rows_done=0,
        preview={},
        good_rows_only=False,
    )
    db.session.add(upload)
    db.session.flush()
    timeline.audit(actor, "figures_upload.received", upload, after={"filename": name})
    if len(rows) <= inline_rows():
        _preview(upload, rows, counting=False)
    else:
        queue.enqueue_after_commit(
            db.session,
            "kamportal.jobs.figures_upload.check_upload",
            upload.id,
            job_id=f"figures-check-{upload.id}",
        )
    return upload


def check_upload(upload_id: int) -> FiguresUpload | None:
    """The job's work for a large file: check it, counting rows checked. Nothing if the
    upload is gone or already checked (a job run twice). The caller commits."""
    upload = db.session.get(FiguresUpload, upload_id)
    if upload is None or upload.status != CHECKING:
        return None
    _preview(upload, _rows_of(upload), counting=True)
    return upload


def _preview(upload: FiguresUpload, rows: list[CsvRow], *, counting: bool) -> None:
    bad: list[dict[str, Any]] = []
    good: list[dict[str, Any]] = []
    bad_count = 0
    for checked, row in _checked(upload, rows, counting=counting):
        if checked.figures is None:
            bad_count += 1
            if len(bad) < SHOWN_BAD:
                bad.append({"line": row.line, "errors": _in_order(checked.errors)})
        elif len(good) < SHOWN_GOOD:
            figures = checked.figures
            good.append(
                {
                    "line": row.line,
                    "store": figures.client.store_name,
                    "store_code": figures.client.store_code,
                    "day": figures.day.isoformat(),
                    "orders": figures.orders,
                    "gmv": str(figures.gmv),
                    "currency": figures.currency,
                }
            )
    upload.rows_total = len(rows)
    upload.rows_bad = bad_count
    upload.rows_good = len(rows) - bad_count
    upload.rows_done = len(rows)
    upload.preview = {"bad": bad, "good": good}
    upload.status = PREVIEWED


def _in_order(errors: dict[str, str]) -> list[list[str]]:
    order = ("row", *store_figures.FIELDS)
    return [[name, errors[name]] for name in sorted(errors, key=order.index)]


def _checked(
    upload: FiguresUpload, rows: list[CsvRow], *, counting: bool
) -> list[tuple[store_figures.CheckedRow, CsvRow]]:
    """Each row checked as the uploader, `STEP` rows at a time (the count of rows checked
    kept after each step when `counting`)."""
    actor = upload.uploaded_by
    found = []
    for start in range(0, len(rows), STEP):
        step = rows[start : start + STEP]
        checked = store_figures.check_rows([row.fields for row in step], actor=actor)
        found.extend(zip(checked, step, strict=True))
        if counting:
            _count(upload, start + len(step))
    return found


def _rows_of(upload: FiguresUpload) -> list[CsvRow]:
    return read_csv(upload_path(upload).read_bytes())


def upload_path(upload: FiguresUpload) -> Path:
    """Where the file is kept (a generated name, never the one the user gave)."""
    return Path(current_app.config["ATTACHMENTS_DIR"]) / upload.stored_name


# --- Import ------------------------------------------------------------------------------------


def start_import(upload: FiguresUpload, *, actor: User, good_rows_only: bool) -> FiguresUpload:
    """F4: import a checked file (in a job, enqueued after the commit): every row if none
    is bad, or, when the user says so, the good rows only. Raises NotAllowed for someone
    other than the uploader or an admin, ValidationError for a file not (or no longer)
    waiting to be imported, or with bad rows and `good_rows_only` not given."""
    if not may_see(actor, upload):
        raise NotAllowed("This upload is not yours.")
    if upload.status != PREVIEWED:
        raise ValidationError(_not_waiting(upload))
    if upload.rows_good == 0:
        raise ValidationError("No row of this file is good: nothing to import.")
    if upload.rows_bad and not good_rows_only:
        raise ValidationError(
            f"{upload.rows_bad:,} rows are not right. Correct them and upload the file again, "
            "or import the good rows only.",
            field="good_rows_only",
        )
    with timeline.audited(actor, "figures_upload.import", upload, ("status", "good_rows_only")):
        upload.status = IMPORTING
        upload.good_rows_only = bool(upload.rows_bad)
        upload.rows_done = 0
    queue.enqueue_after_commit(
        db.session,
        "kamportal.jobs.figures_upload.import_upload",
        upload.id,
        job_id=f"figures-import-{upload.id}",
    )
    return upload


def _not_waiting(upload: FiguresUpload) -> str:
    return {
        CHECKING: "The file is still being checked.",
        IMPORTING: "The file is being imported.",
        DONE: "The file is already imported.",
        FAILED: "The import failed: upload the file again.",
    }.get(upload.status, "The file cannot be imported now.")


def import_upload(upload_id: int) -> store_figures.Written | None:
    """The job's work: the file read and checked again (stores may have changed hands
    since the preview), then written in the caller's one transaction, counting days
    written. A file whose rows are no longer as previewed is not imported (the upload
    fails, saying why). Nothing if the upload is gone or not importing (a job run twice).
    The caller commits."""
    upload = db.session.get(FiguresUpload, upload_id)
    if upload is None or upload.status != IMPORTING:
        return None
    checked = _checked(upload, _rows_of(upload), counting=False)
    figures = [c.figures for c, _ in checked if c.figures is not None]
    now_bad = len(checked) - len(figures)
    if now_bad and not upload.good_rows_only:
        fail(upload, f"{now_bad:,} rows are no longer right: upload the file again to see them.")
        return None
    written = _write(upload, figures)
    upload.added, upload.changed, upload.unchanged = (
        written.added,
        written.changed,
        written.unchanged,
    )
    upload.rows_done = upload.rows_good
    upload.status = DONE
    upload.finished_at = clock.now()
    return written


def _write(
    upload: FiguresUpload, figures: Sequence[store_figures.DayFigures]
) -> store_figures.Written:
    # The last row for a store and day wins, across the whole file, before it is split into
    # steps: a day repeated in a later step would otherwise count as changed, not added.
    latest = list({(f.client.id, f.day): f for f in figures}.values())
    added = changed = unchanged = 0
    for start in range(0, len(latest), STEP):
        step = store_figures.upsert(latest[start : start + STEP], source="csv")
        added, changed, unchanged = (
            added + step.added,
            changed + step.changed,
            unchanged + step.unchanged,
        )
        _count(upload, min(start + STEP, len(latest)))
    return store_figures.Written(added, changed, unchanged)


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


def _count(upload: FiguresUpload, rows_done: int) -> None:
    """How far a job got, outside its transaction. A Redis that does not answer costs the
    count, never the job."""
    try:
        queue.backend().connection.set(progress_key(upload), rows_done, ex=PROGRESS_HOURS * 3600)
    except Exception:
        log.warning("figures upload %s: progress not counted", upload.id, exc_info=True)


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


def upload_for(user: User, upload_id: int) -> FiguresUpload | None:
    """Upload `upload_id` if `user` may see it, else None (never whose it is)."""
    upload = db.session.get(FiguresUpload, upload_id)
    return upload if upload is not None and may_see(user, upload) else None


def recent_uploads(user: User) -> list[FiguresUpload]:
    """The latest uploads `user` sees (admins: everyone's), newest first, with their
    uploaders."""
    query = select(FiguresUpload).options(selectinload(FiguresUpload.uploaded_by))
    if not user.has_role(Role.ADMIN):
        query = query.where(FiguresUpload.uploaded_by_id == user.id)
    order = (FiguresUpload.uploaded_at.desc(), FiguresUpload.id.desc())
    return list(db.session.scalars(query.order_by(*order).limit(RECENT)))
