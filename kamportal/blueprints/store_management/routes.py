"""The Online Store Manager (F6): the store manager's page (their clients' duties owed
and done, data-entry requests with their SLA), and the same card on the client page for
its ACM, leader and admins, where the leader assigns the store manager.

Object access: a client's card is its store manager's and whoever sees the client (404
otherwise); the services decide who may do what on it (403)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, g, request
from flask_login import current_user
from wtforms import RadioField, SelectField, StringField, TextAreaField
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
    prefixed,
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
# The latest duties done a card lists; the others are on the client's timeline (a card
# stays light however much was done this week, issue 17).
DONE_SHOWN = 5


class DutyForm(Form):
    """One per card, whatever the number of duties owed (a card stays light, issue 17):
    the duty is chosen among those owed now; the service refuses any other."""

    duty = RadioField("Duty", validate_choice=False)
    note = StringField("Note (optional)", validators=[Length(max=TEXT_MAX)])


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


def _duty_form(card: store_management.StoreCard, posted: DutyForm | None) -> DutyForm | None:
    """The card's form marking a duty done: offered while one is owed (or to show why a
    submission was refused)."""
    if posted is None and not card.owed:
        return None
    form = posted or prefixed(DutyForm(formdata=None), f"duty-{card.client.id}")
    form.duty.choices = options((state.duty.key, state.duty.title) for state in card.owed)
    return form


def _card_extras(
    card: store_management.StoreCard, *, duty_form: DutyForm | None = None, **forms: Any
) -> dict[str, Any]:
    user = acting_user()
    client = card.client
    does_duties = client.store_manager_id == user.id or user.has_role(Role.ADMIN)
    return {
        "card": card,
        "client": client,
        "frequencies": store_management.FREQUENCY_LABELS,
        "duty_titles": {duty.key: duty.title for duty in store_management.DUTIES},
        "now": clock.now(),
        "done_shown": DONE_SHOWN,
        "duty_form": _duty_form(card, duty_form) if does_duties else None,
        "handles_requests": client.store_manager_id == user.id
        or access.can_work_on_client(user, client),
        "entry_form": DataEntryForm(formdata=None, prefix=f"entry-{client.id}"),
        # The store managers to choose from only once asked (a card stays light, issue 17).
        "can_assign": access.can_reassign_client(user, client),
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


def _card_answer(
    client: Client, status: int = 200, back: str | None = None, **forms: Any
) -> Response:
    """The card again (HTMX); without JavaScript, back to the page: `back`, else the one
    the form was on."""
    return in_place(
        CARD,
        location=back or request.referrer or client_page(client.id, f"store-card-{client.id}"),
        events=("timeline-changed",),
        status=status,
        sm=card_context(client, **forms),
    )


@bp.route("/store-manager/clients/<int:client_id>/duties", methods=["POST"])
@allow(*STORE_ROLES)
def mark_done(client_id: int) -> Response:
    """F6: the duty chosen, owed now, done for its current period."""
    client = _client_or_404(client_id)
    form = prefixed(DutyForm(), f"duty-{client.id}")
    return answer(
        form,
        lambda: store_management.mark_done(
            client, form.duty.data or "", actor=acting_user(), note=form.note.data or ""
        ),
        done=lambda _: _card_answer(client),
        page="store_management/card_page.html",
        partial=CARD,
        retarget=f"#store-card-{client.id}",
        sm=card_context(client, duty_form=form),
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


@bp.route("/clients/<int:client_id>/store-manager", methods=["GET", "POST"])
@allow(Role.LEADER, Role.ADMIN)
def assign(client_id: int) -> Response:
    """The client's team leader (or an admin) names its store manager: the form opens in
    the card (on a page of its own without JavaScript)."""
    client = _client_or_404(client_id)
    if request.method == "GET" and not access.can_reassign_client(acting_user(), client):
        abort(403)
    form = AssignForm(prefix=f"assign-{client.id}")
    form.store_manager_id.choices = _manager_choices()
    if not form.is_submitted():
        form.store_manager_id.data = client.store_manager_id or 0

    def save() -> None:
        chosen = form.store_manager_id.data or None
        manager = None if chosen is None else db.session.get(User, chosen)
        store_management.assign_store_manager(client, manager, actor=acting_user())

    return answer(
        form,
        save,
        done=lambda _: _card_answer(client, back=client_page(client.id, f"store-card-{client.id}")),
        page="store_management/card_page.html",
        partial=CARD,
        retarget=f"#store-card-{client.id}",
        sm=card_context(client, assign_form=form),
    )
