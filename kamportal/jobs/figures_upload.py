"""Store figures by CSV (F4), entry points; the work is in services/figures_upload.py.
A failure rolls the job's work back and the queue retries it (DEFAULT_RETRY); after the
last try the upload reads as failed, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from rq import get_current_job

from kamportal import queue
from kamportal.extensions import db
from kamportal.models import FiguresUpload
from kamportal.services import figures_upload

T = TypeVar("T")


def _attempt(upload_id: int, status: str, work: Callable[[], T]) -> T:
    try:
        outcome = work()
        db.session.commit()
    except Exception:
        db.session.rollback()
        job = get_current_job()
        if job is None or not job.retries_left:
            upload = db.session.get(FiguresUpload, upload_id)
            if upload is not None and upload.status == status:
                figures_upload.fail(
                    upload, "It could not be finished; nothing was written. Upload the file again."
                )
                db.session.commit()
        raise
    return outcome


@queue.job
def check_upload(upload_id: int) -> int | None:
    """A large file checked, nothing written to the figures. Returns its bad rows."""
    upload = _attempt(
        upload_id, figures_upload.CHECKING, lambda: figures_upload.check_upload(upload_id)
    )
    return upload.rows_bad if upload is not None else None


@queue.job
def import_upload(upload_id: int) -> int | None:
    """The file's figures written in one transaction. Returns the days written."""
    written = _attempt(
        upload_id, figures_upload.IMPORTING, lambda: figures_upload.import_upload(upload_id)
    )
    return written.total if written is not None else None
