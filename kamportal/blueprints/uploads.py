"""What the pages of every CSV upload share (services/uploads.py): the file posted, the
message once it is checked, and the upload's panel (polled while its job runs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, flash, redirect, url_for
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage

from kamportal.blueprints.web import in_place, is_htmx, render, saved
from kamportal.models import FiguresUpload
from kamportal.services import uploads


def posted_file(form: FlaskForm, max_bytes: int) -> tuple[str, bytes]:
    """The file posted in `form.file`, read up to one byte past the size limit (enough to
    refuse it)."""
    posted = form.file.data
    if not isinstance(posted, FileStorage) or not posted.filename:
        return "", b""
    return posted.filename, posted.stream.read(max_bytes + 1)


def received(endpoint: str) -> Callable[[FiguresUpload], Response]:
    """After an upload: what its check found, and its page (`endpoint`)."""

    def answer(upload: FiguresUpload) -> Response:
        if upload.status == uploads.CHECKING:
            message = f"{upload.filename}: {upload.rows_total:,} rows, being checked."
        elif upload.rows_bad:
            message = f"{upload.filename} checked: {upload.rows_bad:,} rows to correct."
        else:
            message = f"{upload.filename} checked: every row is right, nothing written yet."
        return saved(message, endpoint, upload_id=upload.id)

    return answer


def panel(upload: FiguresUpload, import_form: FlaskForm) -> dict[str, Any]:
    """What an upload's panel shows."""
    return {
        "upload": upload,
        "import_form": import_form,
        "rows_done": uploads.rows_done(upload),
        "progress_total": uploads.progress_total(upload),
        "running": upload.status in uploads.RUNNING,
    }


def polled(
    upload: FiguresUpload, context: dict[str, Any], *, page: str, partial: str, endpoint: str
):
    """The panel as it stands for a poll (HTMX); a plain request goes to the page."""
    if not is_htmx():
        return redirect(url_for(endpoint, upload_id=upload.id))
    return render(page, partial, **context)


def import_started(
    context: Callable[[FiguresUpload], dict[str, Any]], *, partial: str, endpoint: str
) -> Callable[[FiguresUpload], Response]:
    """After the import started: the panel in place, counting."""

    def answer(upload: FiguresUpload) -> Response:
        flash(f"{upload.filename}: importing {upload.rows_good:,} rows.", "success")
        location = url_for(endpoint, upload_id=upload.id)
        return in_place(partial, location=location, **context(upload))

    return answer
