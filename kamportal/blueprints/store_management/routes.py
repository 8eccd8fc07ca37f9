"""The Online Store Manager (F6): the store manager's page (their clients' duties owed
and done, data-entry requests with their SLA), and the same card on the client page for
its ACM, leader and admins, where the leader assigns the store manager.

Object access: a client's card is its store manager's and whoever sees the client (404
otherwise); the services decide who may do what on it (403)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, g, request
from flask_login import current_user
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from kamportal import clock
from kamportal.blueprints.client_tabs import client_page
from kamportal.blueprints.forms import Form
from kamportal.blueprints.options import options
from kamportal.blueprints.store_management import bp
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    in_place,
    press,
    render,
)
from kamportal.extensions import db
from kamportal.models import Client, EntrySize, Role, User
from kamportal.services import access, clients, store_management, validation
from kamportal.services.store_management import TEXT_MAX

CARD = "store_management/_card.html"
STORE_ROLES = (Role.STORE_MANAGER, Role.ADMIN)
CARD_ROLES = (Role.STORE_MANAGER, Role.ACM, Role.LEADER, Role.ADMIN)


class DutyForm(Form):
    note = StringField("Note", validators=[Length(max=TEXT_MAX)])


class DataEntryForm(Form):
    description = TextAreaField(
        "What the client asked to be entered",
        validators=[DataRequired("Say what the client asked."), Length(max=TEXT_MAX)],
    )
    size = SelectField("Size", choices=options((s.value, s.label) for s in EntrySize))


class AssignForm(Form):
    store_manager_id = SelectField("Store manager", coerce=int, validate_choice=False)


def _manager_choices() -> list:
    """The store managers to choose from, read once per request (a page of cards)."""
    if "store_manager_choices" not in g:
        g.store_manager_choices = options(
            [(0, "— None —"), *((m.id, m.name) for m in store_management.store_managers())]
        )
    return g.store_manager_choices


def _client_or_404(client_id: int) -> Client:
    client = clients.load_client(client_id)
    if client is None or not store_management.can_see_store_work(current_user, client):
        abort(404)
    return client


def card_context(client: Client, **forms: Any) -> dict[str, Any]:
    [card] = store_management.cards([client], now=clock.now())
    return _card_extras(card, **forms)


def _card_extras(card: store_management.StoreCard, **forms: Any) -> dict[str, Any]:
    user = acting_user()
    client = card.client
    can_assign = access.can_reassign_client(user, client)
    assign = None
    if can_assign:
        assign = AssignForm(formdata=None, prefix=f"assign-{client.id}")
        assign.store_manager_id.choices = _manager_choices()
        assign.store_manager_id.data = client.store_manager_id or 0
    return {
        "card": card,
        "client": client,
        "frequencies": store_management.FREQUENCY_LABELS,
        "duty_titles": {duty.key: duty.title for duty in store_management.DUTIES},
        "now": clock.now(),
        "does_duties": client.store_manager_id == user.id or user.has_role(Role.ADMIN),
        "handles_requests": client.store_manager_id == user.id
        or access.can_work_on_client(user, client),
        "entry_form": DataEntryForm(formdata=None, prefix=f"entry-{client.id}"),
        "assign_form": assign,
        **forms,
    }


@bp.app_template_global()
def store_manager_card(client: Client) -> dict[str, Any]:
    """The client page's card (F6)."""
    return card_context(client)


@bp.route("/store-manager/")
@allow(*STORE_ROLES)
def index() -> Response:
    """The store manager's clients, each with its duties owed and done and its requests;
    an admin sees every store-managed client."""
    page = store_management.managed_clients_page(
        acting_user(),
        page=validation.query_number(request.args.get("page"), default=1) or 1,
        per_page=current_app.config["CLIENTS_PER_PAGE"],
    )
    cards = store_management.cards(list(page.items), now=clock.now())
    return render(
        "store_management/index.html",
        page=page,
        cards=[_card_extras(card) for card in cards],
    )


def _card_answer(client: Client, status: int = 200, **forms: Any) -> Response:
    return in_place(
        CARD,
        location=request.referrer or client_page(client.id, f"store-card-{client.id}"),
        events=("timeline-changed",),
        status=status,
        sm=card_context(client, **forms),
    )


@bp.route("/store-manager/clients/<int:client_id>/duties/<duty>", methods=["POST"])
@allow(*STORE_ROLES)
def mark_done(client_id: int, duty: str) -> Response:
    """F6: a duty done for its current period."""
    client = _client_or_404(client_id)
    if duty not in store_management.DUTIES_BY_KEY:
        abort(404)
    form = DutyForm(prefix=f"duty-{client.id}-{duty}")
    return press(
        lambda: store_management.mark_done(
            client, duty, actor=acting_user(), note=form.note.data or ""
        ),
        form=form,
        done=lambda _: _card_answer(client),
        refused=lambda: _card_answer(client, status=422),
        not_done="Not marked done: {}",
    )


@bp.route("/store-manager/clients/<int:client_id>/data-entry", methods=["POST"])
@allow(*CARD_ROLES)
def log_request(client_id: int) -> Response:
    """F6: a data-entry request the client sent, due within its size's SLA."""
    client = _client_or_404(client_id)
    form = DataEntryForm(prefix=f"entry-{client.id}")
    return answer(
        form,
        lambda: store_management.log_request(
            client,
            actor=acting_user(),
            description=form.description.data or "",
            size=form.size.data,
        ),
        done=lambda _: _card_answer(client),
        page="store_management/card_page.html",
        partial=CARD,
        retarget=f"#store-card-{client.id}",
        sm=card_context(client, entry_form=form),
    )


@bp.route("/store-manager/data-entry/<int:entry_id>/done", methods=["POST"])
@allow(*CARD_ROLES)
def finish_request(entry_id: int) -> Response:
    entry = store_management.request_of(entry_id)
    if entry is None:
        abort(404)
    client = _client_or_404(entry.client_id)
    return press(
        lambda: store_management.finish_request(entry, actor=acting_user()),
        done=lambda _: _card_answer(client),
        refused=lambda: _card_answer(client, status=422),
        not_done="Not done: {}",
    )


@bp.route("/clients/<int:client_id>/store-manager", methods=["POST"])
@allow(Role.LEADER, Role.ADMIN)
def assign(client_id: int) -> Response:
    """The client's team leader (or an admin) names its store manager."""
    client = _client_or_404(client_id)
    form = AssignForm(prefix=f"assign-{client.id}")
    form.store_manager_id.choices = _manager_choices()

    def save() -> None:
        chosen = form.store_manager_id.data or None
        manager = None if chosen is None else db.session.get(User, chosen)
        store_management.assign_store_manager(client, manager, actor=acting_user())

    return answer(
        form,
        save,
        done=lambda _: _card_answer(client),
        page="store_management/card_page.html",
        partial=CARD,
        retarget=f"#store-card-{client.id}",
        sm=card_context(client, assign_form=form),
    )
