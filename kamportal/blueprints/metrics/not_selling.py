"""Not selling (F4): the client page's panel of a store's not-selling alerts, and the
form where the ACM records the reasons found and the actions agreed with the client.

Object access: whoever works on the client (404 otherwise).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from kamportal.blueprints.forms import Form
from kamportal.blueprints.metrics import bp
from kamportal.blueprints.web import (
    acting_user,
    allow,
    client_or_404,
    panel_changed,
    panel_response,
    prefixed,
    save_form,
)
from kamportal.models import Client, NotSellingAlert
from kamportal.services import not_selling
from kamportal.services.access import CLIENT_REGISTRY_ROLES

PANEL = "metrics/_not_selling_panel.html"
ANCHOR = "not-selling-panel"
# A recorded alert leaves the day (its section listens) and lands on the timeline.
CHANGED = ("not-selling-changed", "timeline-changed")


class NotSellingForm(Form):
    """F4: what the ACM found and what they agreed with the client."""

    reasons = TextAreaField(
        "Reasons found",
        validators=[
            DataRequired("Say why the store is not selling, as far as you found."),
            Length(max=not_selling.TEXT_MAX),
        ],
    )
    actions = TextAreaField(
        "Actions agreed with the client",
        validators=[
            DataRequired("Say what you agreed with the client to do about it."),
            Length(max=not_selling.TEXT_MAX),
        ],
    )


def _form(alert: NotSellingAlert) -> NotSellingForm:
    return prefixed(NotSellingForm(), f"alert-{alert.id}")


@bp.app_template_global()
def client_not_selling_panel(client: Client) -> dict[str, Any]:
    """The client page's not-selling panel: the open alerts and those whose reasons are
    owed, each unrecorded one with its form."""
    alerts = not_selling.client_alerts(client)
    return {
        "alerts": alerts,
        "forms": {a.id: _form(a) for a in alerts if a.recorded_at is None},
        "labels": not_selling.CAUSE_LABELS,
    }


@bp.route("/clients/<int:client_id>/not-selling")
@allow(*CLIENT_REGISTRY_ROLES)
def not_selling_panel(client_id: int) -> Response:
    """The panel alone, refreshed in place; a plain request goes to the client page."""
    return panel_response(client_or_404(client_id), PANEL, ANCHOR)


@bp.route("/clients/<int:client_id>/not-selling/<int:alert_id>", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def record_reasons(client_id: int, alert_id: int) -> Response:
    """F4: record the reasons and actions of a not-selling alert; bad input shows the form
    again with what is wrong, nothing saved."""
    client = client_or_404(client_id)
    alert = not_selling.alert_of(client, alert_id)
    if alert is None:
        abort(404)
    form = _form(alert)

    def done(_: NotSellingAlert) -> Response:
        return panel_changed(client, PANEL, ANCHOR, "Reasons and actions recorded.", *CHANGED)

    return save_form(
        form,
        lambda: not_selling.record_reasons(
            alert, actor=acting_user(), reasons=form.reasons.data, actions=form.actions.data
        ),
        template="metrics/not_selling_page.html",
        partial="metrics/_not_selling_form.html",
        done=done,
        client=client,
        alert=alert,
    )
