"""Store figures by CSV (F4), entry points; the work is in services/figures_upload.py,
the retries and the failure in jobs/uploads.py."""

from __future__ import annotations

from kamportal import queue
from kamportal.jobs.uploads import attempt
from kamportal.services import figures_upload


@queue.job
def check_upload(upload_id: int) -> int | None:
    """A large file checked, nothing written to the figures. Returns its bad rows."""
    upload = attempt(
        upload_id, figures_upload.CHECKING, lambda: figures_upload.check_upload(upload_id)
    )
    return upload.rows_bad if upload is not None else None


@queue.job
def import_upload(upload_id: int) -> int | None:
    """The file's figures written in one transaction. Returns the days written."""
    written = attempt(
        upload_id, figures_upload.IMPORTING, lambda: figures_upload.import_upload(upload_id)
    )
    return written.total if written is not None else None
