"""Upsell and cross-sell opportunities (P3): the client page's panel (add, edit, move in
place), the pipeline of an ACM, a team or everyone with its weighted forecast, and the
scope of work a won customization starts its request with (C1).

Access: as the client: its ACM, its team's leader and admins (404 for anyone else); the
pipeline, the same roles, narrowed by the service to the clients each may see.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, abort, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select

from kamportal.blueprints.client_tabs import client_page
from kamportal.blueprints.customizations.routes import _uploads as read_uploads
from kamportal.blueprints.forms import viewer_today
from kamportal.blueprints.opportunities import bp
from kamportal.blueprints.opportunities.forms import OpportunityForm, ScopeForm, StageForm
from kamportal.blueprints.options import options
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    client_or_404,
    in_place,
    of_visible_client,
    panel_changed,
    panel_response,
    prefixed,
    save_form,
    saved,
)
from kamportal.blueprints.web import render as render_page
from kamportal.extensions import db
from kamportal.models import Client, Opportunity, Role, Team
from kamportal.services import access, opportunities, validation
from kamportal.services.access import CLIENT_REGISTRY_ROLES
from kamportal.services.customizations import max_attachment_bytes

PANEL = "opportunities/_client_panel.html"
PANEL_ID = "opportunity-panel"
CHANGED = "opportunity-changed"
TIMELINE_CHANGED = "timeline-changed"


@dataclass(frozen=True)
class Row:
    """An opportunity as a row shows it, with its stage form."""

    opportunity: Opportunity
    form: StageForm
    wins_with_request: bool


def _row(opportunity: Opportunity, form: StageForm | None = None) -> Row:
    moves = opportunities.moves_of(opportunity)
    form = form or StageForm(formdata=None)
    form.stage.choices = options((stage.value, stage.label) for stage in moves)
    prefixed(form, f"opportunity-{opportunity.id}")
    wins = opportunities.starts_request(opportunity) and opportunity.opportunity_stage.is_open
    return Row(opportunity, form, wins)


@bp.app_template_global()
def client_opportunity_rows(client: Client) -> list[Row]:
    """The client page's panel (P3): the client's opportunities, each with its stage form."""
    return [_row(opportunity) for opportunity in opportunities.client_opportunities(client)]


@bp.route("/clients/<int:client_id>/opportunities")
@allow(*CLIENT_REGISTRY_ROLES)
def client_panel(client_id: int):
    """The panel alone, refreshed in place; a plain request goes to the client page."""
    return panel_response(client_or_404(client_id), PANEL, PANEL_ID)


def _details(form: OpportunityForm) -> opportunities.Details:
    return opportunities.Details(
        kind=form.kind.data or "",
        title=form.title.data or "",
        description=form.description.data or "",
        amount=form.amount.data or "",
        currency=form.currency.data or "",
        expected_close_on=form.expected_close_on.data,
    )


def _opportunity_form(client: Client, form: OpportunityForm, *, title: str, url: str, save):
    return save_form(
        prefixed(form, "opportunity"),
        save,
        template="opportunities/form_page.html",
        partial="opportunities/_form.html",
        done=lambda _: panel_changed(
            client, PANEL, PANEL_ID, "Opportunity saved.", TIMELINE_CHANGED
        ),
        client=client,
        title=title,
        url=url,
    )


@bp.route("/clients/<int:client_id>/opportunities/new", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def new(client_id: int):
    """P3: a new opportunity of the client, in its currency unless another is chosen."""
    client = client_or_404(client_id)
    form = OpportunityForm()
    if not form.is_submitted():
        form.currency.data = client.currency
    return _opportunity_form(
        client,
        form,
        title="New opportunity",
        url=url_for("opportunities.new", client_id=client.id),
        save=lambda: opportunities.add_opportunity(
            client, actor=acting_user(), details=_details(form)
        ),
    )


def _opportunity_or_404(opportunity_id: int) -> Opportunity:
    return of_visible_client(opportunities.load_opportunity(opportunity_id))


@bp.route("/opportunities/<int:opportunity_id>/edit", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def edit(opportunity_id: int):
    """P3: correct an open opportunity."""
    opportunity = _opportunity_or_404(opportunity_id)
    form = OpportunityForm(obj=None if request.method == "POST" else opportunity)
    if not form.is_submitted():
        form.amount.data = str(opportunity.money.amount)
    return _opportunity_form(
        opportunity.client,
        form,
        title=f"Edit: {opportunity.title}",
        url=url_for("opportunities.edit", opportunity_id=opportunity.id),
        save=lambda: opportunities.edit_opportunity(
            opportunity, actor=acting_user(), details=_details(form)
        ),
    )


@bp.route("/opportunities/<int:opportunity_id>/stage", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def move(opportunity_id: int):
    """P3: move the opportunity to another stage, in place: its row again (on the client
    page or the pipeline, `?in=pipeline`), the totals and forecast told to refresh."""
    opportunity = _opportunity_or_404(opportunity_id)
    in_pipeline = request.args.get("in") == "pipeline"
    form = _row(opportunity, StageForm()).form
    location = (
        url_for("opportunities.index")
        if in_pipeline
        else client_page(opportunity.client_id, PANEL_ID)
    )

    def moved(_: None) -> Response:
        flash(f"“{opportunity.title}”: {opportunity.opportunity_stage.label.lower()}.", "success")
        return in_place(
            "opportunities/_row.html",
            location=location,
            events=(CHANGED, TIMELINE_CHANGED),
            row=_row(opportunity),
            in_pipeline=in_pipeline,
        )

    return answer(
        form,
        lambda: opportunities.move_opportunity(
            opportunity, actor=acting_user(), stage=form.stage.data, reason=form.reason.data
        ),
        done=moved,
        page="opportunities/stage_page.html",
        partial="opportunities/_row.html",
        row=_row(opportunity, form),
        in_pipeline=in_pipeline,
        client=opportunity.client,
    )


@bp.route("/opportunities/<int:opportunity_id>/win", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def win(opportunity_id: int):
    """P3, C1: a customization won starts its request: the ACM writes its scope of work;
    the request opens awaiting product's decision (C2), linked to the opportunity."""
    opportunity = _opportunity_or_404(opportunity_id)
    if not opportunities.starts_request(opportunity):
        abort(404)
    form = ScopeForm()
    if not form.is_submitted():
        form.end_result.data = opportunity.description or ""
    return save_form(
        form,
        lambda: opportunities.move_opportunity(
            opportunity,
            actor=acting_user(),
            stage="won",
            scope=opportunities.ScopeOfWork(
                end_result=form.end_result.data or "",
                users=form.users.data or "",
                done_when=form.done_when.data or "",
                wanted_by=form.wanted_by.data,
                uploads=tuple(read_uploads(form.attachments.data)),
            ),
        ),
        template="opportunities/win.html",
        done=lambda _: saved(
            f"Won. {opportunity.customization_request.reference} opened: "
            "product decides within 48 hours.",
            "customizations.show",
            request_id=opportunity.customization_request_id,
        ),
        opportunity=opportunity,
        client=opportunity.client,
        max_bytes=max_attachment_bytes(),
    )


# --- The pipeline ------------------------------------------------------------------------------


def _filter() -> opportunities.PipelineFilter:
    """Whose pipeline the query string asks for; an ACM sees their own only."""
    user = acting_user()
    if not user.has_role(Role.LEADER, Role.ADMIN):
        return opportunities.PipelineFilter(acm_id=user.id)
    acm_id = validation.query_number(request.args.get("acm"), default=None)
    team_id = None
    if user.has_role(Role.ADMIN):
        team_id = validation.query_number(request.args.get("team"), default=None)
    return opportunities.PipelineFilter(acm_id=acm_id, team_id=team_id)


@bp.route("/opportunities/")
@allow(*CLIENT_REGISTRY_ROLES)
def index():
    """P3: the pipeline stage by stage with its totals per currency, and the forecast
    weighted by stage per month and currency: an ACM's own, a leader's team (by ACM), an
    admin's every team (by team or ACM)."""
    user = acting_user()
    today = viewer_today()
    chosen = _filter()
    columns = opportunities.pipeline(user, chosen, today=today)
    cells = opportunities.forecast(user, chosen, today=today)
    teams = (
        list(db.session.scalars(select(Team).order_by(Team.name)))
        if user.has_role(Role.ADMIN)
        else []
    )
    return render_page(
        "opportunities/index.html",
        columns=columns,
        rows={o.id: _row(o) for column in columns for o in column.opportunities},
        forecast={(cell.month, cell.currency): cell for cell in cells},
        overdue=any(cell.month is None for cell in cells),
        months=opportunities.forecast_months(today),
        currencies=sorted({cell.currency for cell in cells}),
        weights=opportunities.STAGE_WEIGHTS,
        chosen=chosen,
        acms=access.assignable_acms(user) if user.has_role(Role.LEADER, Role.ADMIN) else [],
        teams=teams,
        closed_days=opportunities.CLOSED_DAYS,
        per_stage=opportunities.PIPELINE_ROWS,
        viewer=current_user,
    )
