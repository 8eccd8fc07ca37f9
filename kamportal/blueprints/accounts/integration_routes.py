"""Admin pages of the integrations that push store figures through the API (F4): the list,
a new one (its token shown once), revoking one, and the stores each writes."""

from __future__ import annotations

from flask import Response, make_response, render_template

from kamportal.blueprints.accounts import bp
from kamportal.blueprints.accounts.integration_forms import IntegrationForm, StoreAssignForm
from kamportal.blueprints.forms import ActionForm
from kamportal.blueprints.web import acting_user, allow, answer, keep_link_private, render, saved
from kamportal.extensions import db
from kamportal.models import Integration, Role
from kamportal.services import integrations


@bp.route("/integrations")
@allow(Role.ADMIN)
def integrations_list():
    return render("accounts/integrations.html", rows=integrations.list_integrations())


@bp.route("/integrations/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def new_integration():
    form = IntegrationForm()
    return answer(
        form,
        lambda: integrations.create_integration(form.name.data, actor=acting_user()),
        done=lambda made: _token_once(*made),
        page="accounts/integration_form.html",
        form=form,
    )


def _token_once(integration: Integration, token: str) -> Response:
    """The token, on this answer only: never stored, never shown again; no cache keeps the
    page, and going back does not post the form again without asking."""
    page = render_template("accounts/integration_token.html", integration=integration, token=token)
    return keep_link_private(make_response(page))


@bp.route("/integrations/<int:integration_id>/revoke", methods=["GET", "POST"])
@allow(Role.ADMIN)
def revoke_integration(integration_id: int):
    integration = db.get_or_404(Integration, integration_id)
    form = ActionForm()
    return answer(
        form,
        lambda: integrations.revoke_integration(integration, actor=acting_user()),
        done=lambda revoked: saved(
            f"{revoked.name} is revoked: its token is refused from now on.",
            "accounts.integrations_list",
        ),
        page="accounts/integration_revoke.html",
        form=form,
        integration=integration,
    )


@bp.route("/integrations/<int:integration_id>/stores", methods=["GET", "POST"])
@allow(Role.ADMIN)
def integration_stores(integration_id: int):
    integration = db.get_or_404(Integration, integration_id)
    form = StoreAssignForm()
    return answer(
        form,
        lambda: integrations.assign_stores(
            integration,
            actor=acting_user(),
            country=form.country.data or None,
            store_codes=form.store_codes.data or "",
        ),
        done=lambda stores: saved(
            f"{integration.name} writes the figures of the {len(stores)} "
            f"store{'s' if len(stores) != 1 else ''} chosen.",
            "accounts.integration_stores",
            integration_id=integration.id,
        ),
        page="accounts/integration_stores.html",
        page_context=lambda: _stores_context(integration),
        form=form,
        integration=integration,
    )


def _stores_context(integration: Integration) -> dict:
    first, total = integrations.stores_of(integration)
    return {"stores": first, "total": total}
