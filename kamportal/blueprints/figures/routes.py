"""Store figures by CSV (F4): upload a file, see what is wrong with it before anything is
written, then import it; a large file's check and every import run in a job whose
progress the page polls (HTMX).

Access: account managers, team leaders and admins; an upload is its uploader's (admins
see every one), anyone else gets 404."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, url_for
from werkzeug.datastructures import FileStorage

from kamportal.blueprints.figures import bp
from kamportal.blueprints.figures.forms import ImportForm, UploadForm
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    in_place,
    is_htmx,
    render,
    save_form,
    saved,
)
from kamportal.models import FiguresUpload
from kamportal.services import figures_upload

UPLOADERS = figures_upload.UPLOADER_ROLES


def _upload_or_404(upload_id: int) -> FiguresUpload:
    upload = figures_upload.upload_for(acting_user(), upload_id)
    if upload is None:
        abort(404)
    return upload


def _file(form: UploadForm) -> tuple[str, bytes]:
    """The file posted, read up to one byte past the size limit (enough to refuse it)."""
    posted = form.file.data
    if not isinstance(posted, FileStorage) or not posted.filename:
        return "", b""
    return posted.filename, posted.stream.read(figures_upload.max_bytes() + 1)


def _received(upload: FiguresUpload) -> Response:
    if upload.status == figures_upload.CHECKING:
        message = f"{upload.filename}: {upload.rows_total:,} rows, being checked."
    elif upload.rows_bad:
        message = f"{upload.filename} checked: {upload.rows_bad:,} rows to correct."
    else:
        message = f"{upload.filename} checked: every row is right, nothing written yet."
    return saved(message, "figures.show", upload_id=upload.id)


@bp.route("/figures/upload", methods=["GET", "POST"])
@allow(*UPLOADERS)
def upload():
    """F4: a CSV of store figures, checked before anything is written."""
    form = UploadForm()
    user = acting_user()

    def receive() -> FiguresUpload:
        filename, data = _file(form)
        return figures_upload.receive(actor=user, filename=filename, data=data)

    return save_form(
        form,
        receive,
        template="figures/upload.html",
        done=_received,
        uploads=figures_upload.recent_uploads(user),
        max_bytes=figures_upload.max_bytes(),
        max_rows=figures_upload.max_rows(),
    )


def _status(upload: FiguresUpload, import_form: ImportForm | None = None) -> dict[str, Any]:
    return {
        "upload": upload,
        "import_form": import_form or ImportForm(formdata=None),
        "rows_done": figures_upload.rows_done(upload),
        "progress_total": figures_upload.progress_total(upload),
        "running": upload.status in figures_upload.RUNNING,
    }


@bp.route("/figures/uploads/<int:upload_id>")
@allow(*UPLOADERS)
def show(upload_id: int):
    """The upload: its check (good and bad rows), its import and the result."""
    return render("figures/show.html", **_status(_upload_or_404(upload_id)))


@bp.route("/figures/uploads/<int:upload_id>/progress")
@allow(*UPLOADERS)
def progress(upload_id: int):
    """The upload's panel as it stands, polled while a job runs."""
    upload = _upload_or_404(upload_id)
    if not is_htmx():
        return redirect(url_for("figures.show", upload_id=upload.id))
    return render("figures/show.html", "figures/_status.html", **_status(upload))


def _import_started(upload: FiguresUpload) -> Response:
    flash(f"{upload.filename}: importing {upload.rows_good:,} rows.", "success")
    location = url_for("figures.show", upload_id=upload.id)
    return in_place("figures/_status.html", location=location, **_status(upload))


@bp.route("/figures/uploads/<int:upload_id>/import", methods=["POST"])
@allow(*UPLOADERS)
def start_import(upload_id: int):
    """F4: import the checked file, in one transaction (a job); refused, the panel again
    with why, nothing written."""
    upload = _upload_or_404(upload_id)
    form = ImportForm()
    return answer(
        form,
        lambda: figures_upload.start_import(
            upload, actor=acting_user(), good_rows_only=bool(form.good_rows_only.data)
        ),
        done=_import_started,
        page="figures/show.html",
        partial="figures/_status.html",
        retarget="#figures-upload",
        **_status(upload, form),
    )
