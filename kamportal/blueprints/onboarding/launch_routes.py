"""The client's launch page: the launch checklists (L1, L3, L4, L5), the launch itself
(L5) and the contract's limits (L2).

Each checklist item ticks and unticks in place; its note and evidence open in place. The
launch panel marks the store live once its LMS steps, pre-launch checks and UAT are
complete, or on the team leader's override with a reason. The limits panel records what
was delivered and, for the team leader, an agreed exception. Without JavaScript every
form posts and comes back to the page, at what changed.

Object access: whoever may see the client (404 otherwise). An exception to the contract:
the client's team leader or an admin (403 for the client's ACM). The override: the same
people; the service refuses it to the others, shown in the launch panel (422).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from kamportal.blueprints.forms import ActionForm
from kamportal.blueprints.onboarding import bp
from kamportal.blueprints.onboarding.launch_forms import (
    ExceptionForm,
    ItemDetailsForm,
    OverrideForm,
    TickForm,
    UsageForm,
)
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    client_or_404,
    form_invalid,
    fragment,
    in_place,
    is_htmx,
    panel_changed,
    prefixed,
    render,
    save_form,
    submit,
)
from kamportal.extensions import db
from kamportal.models import ChecklistItem, Client, UsageKind
from kamportal.services import access, contract_limits, onboarding
from kamportal.services.access import CLIENT_REGISTRY_ROLES
from kamportal.services.launch_checklists import LAUNCH_GATE, definition_of

TIMELINE_CHANGED = "timeline-changed"
LAUNCH_PAGE = "onboarding/launch.html"
LAUNCH_PANEL = "onboarding/_launch_panel.html"
LIMITS_PANEL = "onboarding/_limits_panel.html"
# The checklists whose items hold the launch: ticking one refreshes the launch panel.
GATE_KEYS = frozenset(d.key for d in LAUNCH_GATE)


# --- What the panels show, wherever they are rendered ------------------------------------


@bp.app_template_global()
def launch_panel_of(client: Client) -> dict[str, Any]:
    """The launch panel (L5): the checklists the launch still waits for with their open
    items (L1, L4, L5), whether the viewer may override, and empty forms (a refused one is
    passed in its place)."""
    return {
        "open": onboarding.launch_open(client),
        "can_override": access.can_reassign_client(current_user, client),
        "launch_form": prefixed(ActionForm(formdata=None), "launch"),
        "override_form": prefixed(OverrideForm(formdata=None), "override"),
    }


@bp.app_template_global()
def contract_limits_of(client: Client) -> dict[str, Any]:
    """The contract limits panel (L2): each limit as it stands, the latest deliveries,
    whether the viewer may agree an exception, and empty forms."""
    return {
        "standings": contract_limits.standings(client),
        "usage": contract_limits.usage_of(client),
        "kinds": {k.value: k.label for k in UsageKind},
        "can_grant": access.can_reassign_client(current_user, client),
        "usage_form": prefixed(UsageForm(formdata=None), "usage"),
        "exception_form": prefixed(ExceptionForm(formdata=None), "exception"),
    }


def _page_url(client: Client, anchor: str) -> str:
    return url_for("onboarding.launch", client_id=client.id) + f"#{anchor}"


def _anchor(checklist: str, item_key: str) -> str:
    return f"item-{checklist}-{item_key}"


def _panel_form(
    client: Client,
    panel: str,
    name: str,
    form: FlaskForm,
    save: Callable[[], Any],
    done: Callable[[Any], Response],
) -> Response:
    """A form of the launch page's panels (its template's `name`). Done: `done(result)`.
    Refused: its panel (HTMX) or the whole page with the form's errors, status 422;
    nothing was saved."""
    return answer(
        form,
        save,
        done=done,
        page=LAUNCH_PAGE,
        partial=panel,
        page_context=lambda: {"checklists": onboarding.checklists_of(client)},
        client=client,
        **{name: form},
    )


# --- The page ----------------------------------------------------------------------------


@bp.route("/clients/<int:client_id>/launch")
@allow(*CLIENT_REGISTRY_ROLES)
def launch(client_id: int):
    """The launch page: the five checklists, the launch panel and the contract limits."""
    client = client_or_404(client_id)
    # A client in launch gets the items it lacks (one onboarded before the portal had
    # checklists, an item added to the data since): the launch gate counts every item.
    if client.in_launch and onboarding.instantiate_checklists(client):
        db.session.commit()
    return render(LAUNCH_PAGE, client=client, checklists=onboarding.checklists_of(client))


# --- A checklist item (L1, L3, L4, L5) ---------------------------------------------------


def _item_or_404(client: Client, checklist: str, item_key: str) -> ChecklistItem:
    item = onboarding.checklist_item(client, checklist, item_key)
    if item is None:
        abort(404)
    return item


@bp.route("/clients/<int:client_id>/launch/<checklist>/<item_key>")
@allow(*CLIENT_REGISTRY_ROLES)
def item(client_id: int, checklist: str, item_key: str):
    """One item's row, as its details form's "cancel" puts it back; a plain request goes
    to the page, at the item."""
    client = client_or_404(client_id)
    found = _item_or_404(client, checklist, item_key)
    if not is_htmx():
        return redirect(_page_url(client, _anchor(checklist, item_key)))
    return fragment("onboarding/_checklist_item.html", client=client, item=found)


@bp.route("/clients/<int:client_id>/launch/<checklist>/<item_key>", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def tick_item(client_id: int, checklist: str, item_key: str):
    """Tick (`done` sent) or untick an item. HTMX: the row again, the checklist's
    progress and the lifecycle out of band; an item the launch waits for (LMS, pre-launch,
    UAT) or a launch that started (the first LMS step, L1) refreshes the launch panel too."""
    client = client_or_404(client_id)
    if definition_of(checklist, item_key) is None:
        abort(404)
    form = TickForm()
    status_before = client.status
    saved = submit(
        form,
        lambda: onboarding.update_item(
            client, checklist, item_key, actor=acting_user(), done=form.done.data
        ),
    )
    if saved is None:
        return _tick_refused(client, _item_or_404(client, checklist, item_key), form)
    # The launch panel too when the item holds the launch, or the launch started (L1).
    oob = ["onboarding/_checklist_progress.html", "onboarding/_launch_lifecycle.html"]
    if checklist in GATE_KEYS or client.status != status_before:
        oob.append(LAUNCH_PANEL)
    return _item_changed(client, saved.result, *oob)


def _item_changed(
    client: Client, item: ChecklistItem, *also: str, saved: str | None = None
) -> Response:
    """An item's row again (and `also`, out of band: its checklist's progress...), the
    timeline told; or the page, at the item. What was `saved` is flashed."""
    if saved:
        flash(f"“{item.text}”: {saved}.", "success")
    context: dict[str, Any] = {"client": client, "item": item}
    if also:
        [context["view"]] = onboarding.checklists_of(client, only=item.checklist)
    return in_place(
        "onboarding/_checklist_item.html",
        *also,
        location=_page_url(client, _anchor(item.checklist, item.item_key)),
        events=(TIMELINE_CHANGED,),
        **context,
    )


def _tick_refused(client: Client, item: ChecklistItem, form: TickForm) -> Response:
    """The row with why (HTMX, 422); or the page at the item, with why on top."""
    errors = form.form_errors or ["The item could not be changed."]
    if is_htmx():
        return form_invalid(
            "onboarding/_checklist_item.html", client=client, item=item, errors=errors
        )
    flash(" ".join(errors), "error")
    return redirect(_page_url(client, _anchor(item.checklist, item.item_key)), 303)


@bp.route("/clients/<int:client_id>/launch/<checklist>/<item_key>/details", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def item_details(client_id: int, checklist: str, item_key: str):
    """L1: an item's note and evidence links, in place of its row. Bad evidence: the form
    again with the error (422), nothing saved."""
    client = client_or_404(client_id)
    found = _item_or_404(client, checklist, item_key)
    form = prefixed(ItemDetailsForm(), _anchor(checklist, item_key))
    if not form.is_submitted():
        form.note.data = found.note or ""
        form.evidence.data = "\n".join(found.evidence or [])
    return save_form(
        form,
        lambda: onboarding.update_item(
            client,
            checklist,
            item_key,
            actor=acting_user(),
            note=form.note.data or "",
            evidence=(form.evidence.data or "").splitlines(),
        ),
        template="onboarding/launch_item_page.html",
        partial="onboarding/_checklist_item_form.html",
        done=lambda item: _item_changed(client, item, saved="note and evidence saved"),
        client=client,
        item=found,
    )


# --- The launch (L5) ---------------------------------------------------------------------


@bp.route("/clients/<int:client_id>/launch/go-live", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def go_live(client_id: int):
    """L5: mark the store launched once its launch checklists are complete (L1, L4, L5);
    with `override_reason`, the team leader's override before that. A refusal: the panel
    with it (422), nothing changed."""
    client = client_or_404(client_id)
    overriding = "override_reason" in request.form
    form = prefixed(OverrideForm(), "override") if overriding else prefixed(ActionForm(), "launch")
    return _panel_form(
        client,
        LAUNCH_PANEL,
        "override_form" if overriding else "launch_form",
        form,
        lambda: onboarding.launch(
            client,
            actor=acting_user(),
            override_reason=form.override_reason.data if overriding else None,
        ),
        lambda _: _launched(client),
    )


def _launched(client: Client) -> Response:
    """The launch panel and the lifecycle again, the timeline told; or the page, at it."""
    flash("The store is live.", "success")
    return in_place(
        LAUNCH_PANEL,
        "onboarding/_launch_lifecycle.html",
        location=_page_url(client, "launch-panel"),
        events=(TIMELINE_CHANGED,),
        client=client,
    )


# --- The contract's limits (L2) ----------------------------------------------------------


def _limits_action(
    client: Client, form: FlaskForm, name: str, save: Callable[[], Any], message: Callable[[], str]
) -> Response:
    """A form of the limits panel: done, the panel again (HTMX) or the page at it; refused,
    the panel with the form's errors (422), nothing saved."""
    return _panel_form(
        client,
        LIMITS_PANEL,
        name,
        form,
        save,
        lambda _: panel_changed(
            client,
            LIMITS_PANEL,
            "limits-panel",
            message(),
            TIMELINE_CHANGED,
            location=_page_url(client, "limits-panel"),
        ),
    )


@bp.route("/clients/<int:client_id>/launch/usage", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def record_usage(client_id: int):
    """L2: record what the launch delivered; past a limit, the contract's words on the
    quantity and nothing recorded."""
    client = client_or_404(client_id)
    form = prefixed(UsageForm(), "usage")
    return _limits_action(
        client,
        form,
        "usage_form",
        lambda: contract_limits.record_usage(
            client,
            form.kind.data,
            form.quantity.data,
            actor=acting_user(),
            note=form.note.data,
        ),
        lambda: f"Recorded: {UsageKind(form.kind.data).label.lower()}, {form.quantity.data}.",
    )


@bp.route("/clients/<int:client_id>/launch/exception", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def grant_exception(client_id: int):
    """L2: the client's team leader (or an admin) records an exception agreed with the
    client: more of one limit."""
    client = client_or_404(client_id)
    if not access.can_reassign_client(current_user, client):
        abort(403)
    form = prefixed(ExceptionForm(), "exception")
    return _limits_action(
        client,
        form,
        "exception_form",
        lambda: contract_limits.grant_exception(
            client, form.limit.data, form.extra.data, actor=acting_user(), reason=form.reason.data
        ),
        lambda: "Exception to the contract recorded.",
    )
