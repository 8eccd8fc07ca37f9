"""Clients and contacts by CSV (issue 16): upload a file, see every bad row before
anything is written, then import it whole (a job whose progress the page polls), and
the template files to fill in. The pages every CSV upload shares: blueprints/uploads.py.

Access: team leaders and admins; an upload is its uploader's (admins see every one),
anyone else gets 404."""

from __future__ import annotations

from typing import Any

from flask import Response, abort

from kamportal import csv_files
from kamportal.blueprints import uploads
from kamportal.blueprints.clients import bp
from kamportal.blueprints.clients.forms import ImportForm, StartImportForm
from kamportal.blueprints.web import acting_user, allow, answer, render, save_form
from kamportal.models import FiguresUpload
from kamportal.services import client_import

IMPORTERS = client_import.IMPORTER_ROLES
PAGE, PANEL, SHOW = "clients/import_show.html", "clients/_import_status.html", "clients.show_import"


def _upload_or_404(upload_id: int) -> FiguresUpload:
    upload = client_import.upload_for(acting_user(), upload_id)
    if upload is None:
        abort(404)
    return upload


@bp.route("/import", methods=["GET", "POST"])
@allow(*IMPORTERS)
def import_file():
    """Clients or contacts by CSV, checked before anything is written."""
    form = ImportForm()
    user = acting_user()

    def receive() -> FiguresUpload:
        filename, data = uploads.posted_file(form, client_import.max_bytes())
        return client_import.receive(actor=user, kind=form.kind.data, filename=filename, data=data)

    return save_form(
        form,
        receive,
        template="clients/import.html",
        done=uploads.received(SHOW),
        uploads=client_import.recent_uploads(user),
        fields=client_import.FIELDS,
        required=client_import.REQUIRED,
    )


@bp.route("/import/<kind>-template.csv")
@allow(*IMPORTERS)
def import_template(kind: str):
    """The file to fill in: the header row and an example row."""
    if kind not in client_import.KINDS:
        abort(404)
    header, rows = client_import.template(kind)
    response = Response("".join(csv_files.lines(header, rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response


def _status(upload: FiguresUpload, form: StartImportForm | None = None) -> dict[str, Any]:
    return uploads.panel(upload, form or StartImportForm(formdata=None))


@bp.route("/imports/<int:upload_id>")
@allow(*IMPORTERS)
def show_import(upload_id: int):
    """The upload: its check (every bad row), its import and the result."""
    return render(PAGE, **_status(_upload_or_404(upload_id)))


@bp.route("/imports/<int:upload_id>/progress")
@allow(*IMPORTERS)
def import_progress(upload_id: int):
    """The upload's panel as it stands, polled while a job runs."""
    upload = _upload_or_404(upload_id)
    return uploads.polled(upload, _status(upload), page=PAGE, partial=PANEL, endpoint=SHOW)


@bp.route("/imports/<int:upload_id>/import", methods=["POST"])
@allow(*IMPORTERS)
def start_import(upload_id: int):
    """Import the checked file, every row in one transaction (a job); refused, the panel
    again with why, nothing written."""
    upload = _upload_or_404(upload_id)
    form = StartImportForm()
    return answer(
        form,
        lambda: client_import.start_import(upload, actor=acting_user()),
        done=uploads.import_started(_status, partial=PANEL, endpoint=SHOW),
        page=PAGE,
        partial=PANEL,
        retarget="#client-import",
        **_status(upload, form),
    )
