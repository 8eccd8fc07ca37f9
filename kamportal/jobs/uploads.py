"""What every CSV upload's job shares (services/uploads.py): a failure rolls the job's work
back and the queue retries it (DEFAULT_RETRY); after the last try the upload reads as
failed, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from rq import get_current_job

from kamportal.extensions import db
from kamportal.models import FiguresUpload
from kamportal.services import uploads

T = TypeVar("T")


def attempt(upload_id: int, status: str, work: Callable[[], T]) -> T:
    """`work` committed, or rolled back and, on the last try, the upload failed."""
    try:
        outcome = work()
        db.session.commit()
    except Exception:
        db.session.rollback()
        job = get_current_job()
        if job is None or not job.retries_left:
            upload = db.session.get(FiguresUpload, upload_id)
            if upload is not None and upload.status == status:
                uploads.fail(
                    upload, "It could not be finished; nothing was written. Upload the file again."
                )
                db.session.commit()
        raise
    return outcome
