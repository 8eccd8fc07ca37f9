"""A list sent as a CSV file (issue 16): streamed as it is written, named with the
reader's date, never cached."""

from __future__ import annotations

from flask import Response, stream_with_context

from kamportal import csv_files
from kamportal.blueprints.forms import viewer_today
from kamportal.services.list_exports import ListExport


def csv_download(export: ListExport) -> Response:
    """`export` as a download: `<name>-<reader's date>.csv`, UTF-8 with a byte-order mark."""
    body = stream_with_context(csv_files.lines(export.header, export.rows))
    response = Response(body, mimetype="text/csv")
    filename = f"{export.name}-{viewer_today().isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
