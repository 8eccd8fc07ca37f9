"""Store figures by CSV (F4): a person uploads a file of store days, sees what is wrong
with it before anything is written, then imports it in one transaction (the machinery of
every CSV upload: services/uploads.py).

The file: UTF-8 (with or without a byte-order mark), comma or semicolon separated, a
header row naming store_code, day, orders and gmv in any order (currency may follow;
other columns are ignored). Rows are read and checked by `store_figures.check_rows` as
the uploader (an ACM writes only the stores they work on) and written by
`store_figures.upsert`, so a file imported twice changes nothing the second time.

A small file is checked at once; a large one (more than FIGURES_INLINE_ROWS rows) in a
job. The import is always a job: one transaction for the whole file, retried on failure,
nothing half-written.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app

from kamportal import csv_files
from kamportal.csv_files import CsvRow
from kamportal.errors import NotAllowed, ValidationError
from kamportal.models import FiguresUpload, Role, User
from kamportal.services import store_figures, uploads

# The shared machinery's names, as the figures' pages, jobs and tests use them.
CHECKING, IMPORTING, RUNNING, STEP = (
    uploads.CHECKING,
    uploads.IMPORTING,
    uploads.RUNNING,
    uploads.STEP,
)
fail, may_see, rows_done = uploads.fail, uploads.may_see, uploads.rows_done
progress_total, upload_path = uploads.progress_total, uploads.upload_path

KIND = "figures"
UPLOADER_ROLES = (Role.ACM, Role.LEADER, Role.ADMIN)
REQUIRED = tuple(name for name in store_figures.FIELDS if name != "currency")


def max_bytes() -> int:
    return int(current_app.config["FIGURES_UPLOAD_MAX_BYTES"])


def max_rows() -> int:
    return int(current_app.config["FIGURES_UPLOAD_MAX_ROWS"])


# --- Reading the file ----------------------------------------------------------------------


def read_csv(data: bytes) -> list[CsvRow]:
    """The file's rows, blank lines skipped. Raises ValidationError (field "file") for a
    file that cannot be read (see `csv_files.read_rows`)."""
    return csv_files.read_rows(
        data,
        fields=store_figures.FIELDS,
        required=REQUIRED,
        max_bytes=max_bytes(),
        max_rows=max_rows(),
        what="figures",
    )


# --- Upload and preview ---------------------------------------------------------------------


def receive(*, actor: User, filename: str, data: bytes) -> FiguresUpload:
    """F4: keep an uploaded CSV and check it, nothing written to the figures: at once for
    a small file, in a job (enqueued after the commit) for a large one. Raises
    ValidationError for a file that cannot be read (see `read_csv`), NotAllowed for a role
    that does not upload figures."""
    if not actor.has_role(*UPLOADER_ROLES):
        raise NotAllowed("Account managers, team leaders and admins upload store figures.")
    uploads.no_file(filename, data)
    rows = read_csv(data)
    upload = uploads.keep(
        actor=actor, kind=KIND, filename=filename, data=data, rows_total=len(rows)
    )
    return uploads.check(upload, rows, _preview, job="kamportal.jobs.figures_upload.check_upload")


def check_upload(upload_id: int) -> FiguresUpload | None:
    """The job's work for a large file: check it, counting rows checked. Nothing if the
    upload is gone or already checked (a job run twice). The caller commits."""
    upload = uploads.waiting(upload_id, (KIND,), CHECKING)
    if upload is None:
        return None
    _preview(upload, _rows_of(upload), counting=True)
    return upload


def _preview(upload: FiguresUpload, rows: list[CsvRow], *, counting: bool) -> None:
    uploads.previewed(
        upload,
        [
            (checked.errors if checked.figures is None else None, _shown(checked), row)
            for checked, row in _checked(upload, rows, counting=counting)
        ],
        ("row", *store_figures.FIELDS),
    )


def _shown(checked: store_figures.CheckedRow) -> dict[str, object] | None:
    figures = checked.figures
    if figures is None:
        return None
    return {
        "store": figures.client.store_name,
        "store_code": figures.client.store_code,
        "day": figures.day.isoformat(),
        "orders": figures.orders,
        "gmv": str(figures.gmv),
        "currency": figures.currency,
    }


def _checked(
    upload: FiguresUpload, rows: list[CsvRow], *, counting: bool
) -> list[tuple[store_figures.CheckedRow, CsvRow]]:
    """Each row checked as the uploader, a step of rows at a time."""
    actor = upload.uploaded_by

    def check(step: Sequence[CsvRow]) -> list[store_figures.CheckedRow]:
        return store_figures.check_rows([row.fields for row in step], actor=actor)

    return uploads.in_steps(upload, rows, check, counting=counting)


def _rows_of(upload: FiguresUpload) -> list[CsvRow]:
    return read_csv(upload_path(upload).read_bytes())


# --- Import ------------------------------------------------------------------------------------


def start_import(upload: FiguresUpload, *, actor: User, good_rows_only: bool) -> FiguresUpload:
    """F4: import a checked file (in a job, enqueued after the commit): every row if none
    is bad, or, when the user says so, the good rows only. Raises NotAllowed for someone
    other than the uploader or an admin, ValidationError for a file not (or no longer)
    waiting to be imported, or with bad rows and `good_rows_only` not given."""
    if not may_see(actor, upload):
        raise NotAllowed("This upload is not yours.")
    if upload.status == uploads.PREVIEWED and upload.rows_bad and not good_rows_only:
        raise ValidationError(
            f"{upload.rows_bad:,} rows are not right. Correct them and upload the file again, "
            "or import the good rows only.",
            field="good_rows_only",
        )
    uploads.start(
        upload,
        actor=actor,
        good_rows_only=bool(upload.rows_bad),
        job="kamportal.jobs.figures_upload.import_upload",
    )
    return upload


def import_upload(upload_id: int) -> store_figures.Written | None:
    """The job's work: the file read and checked again (stores may have changed hands
    since the preview), then written in the caller's one transaction, counting days
    written. A file whose rows are no longer as previewed is not imported (the upload
    fails, saying why). Nothing if the upload is gone or not importing (a job run twice).
    The caller commits."""
    upload = uploads.waiting(upload_id, (KIND,), IMPORTING)
    if upload is None:
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
    uploads.done(upload)
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
        uploads.count(upload, min(start + STEP, len(latest)))
    return store_figures.Written(added, changed, unchanged)


def upload_for(user: User, upload_id: int) -> FiguresUpload | None:
    """Figures upload `upload_id` if `user` may see it, else None (never whose it is)."""
    return uploads.upload_for(user, upload_id, (KIND,))


def recent_uploads(user: User) -> list[FiguresUpload]:
    """The latest figures uploads `user` sees (admins: everyone's), newest first."""
    return uploads.recent_uploads(user, (KIND,))
