"""Store figures by CSV (F4): upload a file, see what is wrong with it before anything is
written, then import it; a large file's check and every import run in a job whose
progress the page polls (HTMX). The pages every CSV upload shares: blueprints/uploads.py.

Access: account managers, team leaders and admins; an upload is its uploader's (admins
see every one), anyone else gets 404."""

from __future__ import annotations

from typing import Any

from flask import abort

from kamportal.blueprints import uploads
from kamportal.blueprints.figures import bp
from kamportal.blueprints.figures.forms import ImportForm, UploadForm
from kamportal.blueprints.web import acting_user, allow, answer, render, save_form
from kamportal.models import FiguresUpload
from kamportal.services import figures_upload

UPLOADERS = figures_upload.UPLOADER_ROLES
PAGE, PANEL, SHOW = "figures/show.html", "figures/_status.html", "figures.show"


def _upload_or_404(upload_id: int) -> FiguresUpload:
    upload = figures_upload.upload_for(acting_user(), upload_id)
    if upload is None:
        abort(404)
    return upload


@bp.route("/figures/upload", methods=["GET", "POST"])
@allow(*UPLOADERS)
def upload():
    """F4: a CSV of store figures, checked before anything is written."""
    form = UploadForm()
    user = acting_user()

    def receive() -> FiguresUpload:
        filename, data = uploads.posted_file(form, figures_upload.max_bytes())
        return figures_upload.receive(actor=user, filename=filename, data=data)

    return save_form(
        form,
        receive,
        template="figures/upload.html",
        done=uploads.received(SHOW),
        uploads=figures_upload.recent_uploads(user),
        max_bytes=figures_upload.max_bytes(),
        max_rows=figures_upload.max_rows(),
    )


def _status(upload: FiguresUpload, import_form: ImportForm | None = None) -> dict[str, Any]:
    return uploads.panel(upload, import_form or ImportForm(formdata=None))


@bp.route("/figures/uploads/<int:upload_id>")
@allow(*UPLOADERS)
def show(upload_id: int):
    """The upload: its check (good and bad rows), its import and the result."""
    return render(PAGE, **_status(_upload_or_404(upload_id)))


@bp.route("/figures/uploads/<int:upload_id>/progress")
@allow(*UPLOADERS)
def progress(upload_id: int):
    """The upload's panel as it stands, polled while a job runs."""
    upload = _upload_or_404(upload_id)
    return uploads.polled(upload, _status(upload), page=PAGE, partial=PANEL, endpoint=SHOW)


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
        done=uploads.import_started(_status, partial=PANEL, endpoint=SHOW),
        page=PAGE,
        partial=PANEL,
        retarget="#figures-upload",
        **_status(upload, form),
    )
