"""Clients and contacts by CSV (issue 16), entry points; the work is in
services/client_import.py, the retries and the failure in jobs/uploads.py."""

from __future__ import annotations

from kamportal import queue
from kamportal.jobs.uploads import attempt
from kamportal.services import client_import, uploads


@queue.job
def check_upload(upload_id: int) -> int | None:
    """A large file checked, nothing written. Returns its bad rows."""
    upload = attempt(upload_id, uploads.CHECKING, lambda: client_import.check_upload(upload_id))
    return upload.rows_bad if upload is not None else None


@queue.job
def import_upload(upload_id: int) -> int | None:
    """Every row of the file written in one transaction. Returns the records added."""
    return attempt(upload_id, uploads.IMPORTING, lambda: client_import.import_upload(upload_id))
