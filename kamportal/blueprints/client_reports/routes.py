"""The monthly client report (P4): its page (the metrics, the ACM's commentary and next
month's proposals, the PDF to preview, sending it), and the client page's panel with the
client's reports month by month.

Object access: whoever works on the client (404 otherwise), as its other pages.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, url_for
from wtforms import TextAreaField
from wtforms.validators import Length

from kamportal.blueprints.client_reports import bp
from kamportal.blueprints.email_preview import preview_page
from kamportal.blueprints.forms import Form
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    client_or_404,
    is_htmx,
    of_visible_client,
    panel_response,
    press,
    render,
    saved,
    with_trigger,
)
from kamportal.models import Client, ClientReport, ReportStatus
from kamportal.services import client_reports
from kamportal.services.access import CLIENT_REGISTRY_ROLES

PANEL = "client_reports/_client_panel.html"
ANCHOR = "client-reports-panel"
PARTIAL = "client_reports/_form.html"
# The day's section and the panel listen for it.
CHANGED = "client-report-changed"


class ReportForm(Form):
    """P4: what the ACM adds to the figures."""

    commentary = TextAreaField(
        "Your commentary on the month", validators=[Length(max=client_reports.TEXT_MAX)]
    )
    proposals = TextAreaField(
        "Proposals for next month", validators=[Length(max=client_reports.TEXT_MAX)]
    )


@bp.app_template_global()
def client_reports_panel(client: Client) -> list[ClientReport]:
    """The client page's panel: the client's monthly reports, the latest first."""
    return client_reports.history(client)


def _report_or_404(report_id: int) -> ClientReport:
    return of_visible_client(client_reports.report_of(report_id))


def _page(report: ClientReport, form: ReportForm, *, status: int = 200) -> Response:
    return render("client_reports/show.html", status=status, **_context(report, form))


def _context(report: ClientReport, form: ReportForm) -> dict[str, Any]:
    return {
        "report": report,
        "client": report.client,
        "form": form,
        "metrics": client_reports.headline(report),
        "note": client_reports.figures_note(report),
        "is_draft": report.status == ReportStatus.DRAFT.value,
    }


@bp.route("/reports/<int:report_id>", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def show(report_id: int) -> Response:
    """The report; posting saves the commentary and proposals (the form again, in place,
    with what is wrong on its fields)."""
    report = _report_or_404(report_id)
    form = ReportForm(obj=report)

    def done(_: ClientReport) -> Response:
        if not is_htmx():
            return saved("Report saved.", "client_reports.show", report_id=report.id)
        flash("Report saved.", "success")
        page = render("client_reports/show.html", PARTIAL, **_context(report, form))
        return with_trigger(page, CHANGED)

    return answer(
        form,
        lambda: client_reports.update_report(
            report,
            actor=acting_user(),
            commentary=form.commentary.data,
            proposals=form.proposals.data,
        ),
        done=done,
        page="client_reports/show.html",
        partial=PARTIAL,
        **_context(report, form),
    )


@bp.route("/reports/<int:report_id>/report.pdf")
@allow(*CLIENT_REGISTRY_ROLES)
def pdf(report_id: int) -> Response:
    """The report as a PDF: as the client received it once sent, else the preview."""
    report = _report_or_404(report_id)
    response = Response(client_reports.pdf_of(report), mimetype=client_reports.PDF_TYPE)
    filename = client_reports.report_filename(report)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/reports/<int:report_id>/send", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def send(report_id: int) -> Response:
    """Email the report to the client with its PDF (G1 CCs), once; a refusal shows the
    page again saying why."""
    report = _report_or_404(report_id)
    return press(
        lambda: client_reports.send_report(report, actor=acting_user()),
        done=lambda _: saved(
            "The report is on its way to the client.", "client_reports.show", report_id=report.id
        ),
        # The commentary as saved, not the button's empty post.
        refused=lambda: _page(report, ReportForm(formdata=None, obj=report), status=422),
        not_done="Not sent: {}",
    )


@bp.route("/reports/<int:report_id>/email/preview")
@allow(*CLIENT_REGISTRY_ROLES)
def preview_email(report_id: int) -> Response:
    """P4: the report's email as sending would queue it, its PDF named; nothing is sent."""
    report = _report_or_404(report_id)
    return preview_page(
        lambda: client_reports.draft_report_email(report, actor=acting_user()),
        title=f"The monthly report's email to {report.client.store_name}",
        back=url_for("client_reports.show", report_id=report.id),
    )


@bp.route("/clients/<int:client_id>/reports")
@allow(*CLIENT_REGISTRY_ROLES)
def client_panel(client_id: int) -> Response:
    """The panel alone, refreshed in place; a plain request goes to the client page."""
    return panel_response(client_or_404(client_id), PANEL, ANCHOR)
