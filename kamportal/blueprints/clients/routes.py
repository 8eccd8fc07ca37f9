"""Client list, client page, contacts, and contact logged from the client page."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from kamportal import clock
from kamportal.blueprints.client_tabs import TABS, TIMELINE, Tab, client_page, tab_named
from kamportal.blueprints.clients import bp
from kamportal.blueprints.clients.forms import (
    CallForm,
    ClientForm,
    ContactForm,
    EmailContactForm,
    EmailLogForm,
    NoteForm,
    ReassignForm,
    WhatsAppForm,
    WhatsAppReplyForm,
)
from kamportal.blueprints.exports import csv_download
from kamportal.blueprints.options import options
from kamportal.blueprints.web import (
    acting_user,
    allow,
    answer,
    client_or_404,
    fragment,
    in_place,
    is_htmx,
    prefixed,
    press,
    render,
    save_form,
    saved,
    with_trigger,
)
from kamportal.errors import ReusedMessageKey, ValidationError
from kamportal.extensions import db
from kamportal.models import Client, Contact, HealthBand, LifecycleStatus, Plan, Role, User
from kamportal.services import (
    access,
    client_import,
    clients,
    contact_log,
    gmv_bands,
    list_exports,
    search,
    validation,
)
from kamportal.services.access import CLIENT_CREATOR_ROLES, CLIENT_REGISTRY_ROLES

TIMELINE_CHANGED = "timeline-changed"
# How many names the client list's ACM filter offers as it is typed.
ACM_CHOICES = 20


def _contact_or_404(client: Client, contact_id: int) -> Contact:
    contact = clients.contact_of(client, contact_id)
    if contact is None:
        abort(404)
    return contact


def _contact_choices(client: Client) -> list[SelectChoice]:
    return options(
        [(0, "The client (no contact chosen)")] + [(c.id, c.name) for c in client.contacts]
    )


# --- The list ----------------------------------------------------------------------------


@bp.route("/")
@allow(*CLIENT_REGISTRY_ROLES)
def index():
    filters = clients.ClientFilters.from_args(request.args)
    page = clients.search_clients(
        current_user, filters, per_page=current_app.config["CLIENTS_PER_PAGE"]
    )
    if is_htmx():
        # The live search, sort and pager swap the table alone: the filters stay as they are.
        return render(
            "clients/index.html",
            "clients/_table.html",
            page=page,
            filters=filters,
            min_length=search.MIN_LENGTH,
        )
    return render(
        "clients/index.html",
        page=page,
        filters=filters,
        min_length=search.MIN_LENGTH,
        chooses_acm=access.chooses_acm(current_user),
        acm_typed=_acm_typed(filters),
        statuses=list(LifecycleStatus),
        plans=list(Plan),
        countries=validation.country_choices(),
        industries=clients.industries(current_user),
        health_bands=list(HealthBand),
        gmv_bands=gmv_bands.bands(),
        can_create=access.can_create_client(current_user),
        can_import=current_user.has_role(*client_import.IMPORTER_ROLES),
    )


def _acm_typed(filters: clients.ClientFilters) -> str:
    """What the ACM filter's box shows: the name typed, or the chosen ACM's (by id)."""
    if filters.acm_id:
        acm = db.session.get(User, filters.acm_id)
        return acm.name if acm else ""
    return filters.acm_name


@bp.route("/acms")
@allow(*CLIENT_REGISTRY_ROLES)
def acm_choices():
    """The client list's ACM filter as it is typed (`acm`): the names it matches among the
    ACMs the user may choose, at most ACM_CHOICES (issue 17: never every ACM on the page)."""
    return fragment(
        "clients/_acm_choices.html",
        acms=access.assignable_acms(
            current_user,
            named=validation.query_text(request.args.get("acm"), max_length=120),
            limit=ACM_CHOICES,
        ),
    )


@bp.route("/export.csv")
@allow(*CLIENT_REGISTRY_ROLES)
def export():
    """The client list as CSV, with the page's filters and sort, every page of it."""
    filters = clients.ClientFilters.from_args(request.args)
    return csv_download(list_exports.client_list(acting_user(), filters))


# --- Creating, editing, reassigning ------------------------------------------------------


def _profile_from(form: ClientForm, client: Client | None = None) -> clients.ClientProfile:
    subscribed_at = clients.subscription_from_date(
        form.subscribed_on.data, form.timezone.data or "", client=client
    )
    return clients.ClientProfile(
        store_name=form.store_name.data or "",
        store_code=form.store_code.data or "",
        plan=form.plan.data,
        country=form.country.data or "",
        timezone=form.timezone.data or "",
        currency=form.currency.data or "",
        language=form.language.data,
        industry=form.industry.data,
        has_store_manager=form.has_store_manager.data,
        status=form.status.data,
        subscribed_at=subscribed_at,
        renewal_date=form.renewal_date.data,
        recurring_amount=form.recurring_amount.data,
    )


def _acm_choices(form: ClientForm | ReassignForm) -> list[User]:
    acms = access.assignable_acms(current_user)
    form.acm.choices = options(
        (u.id, u.name + (f" · {u.team.name}" if u.team else "")) for u in acms
    )
    return acms


def _chosen(acms: list[User], user_id: int | None) -> User | None:
    return next((u for u in acms if u.id == user_id), None)


@bp.route("/new", methods=["GET", "POST"])
@allow(*CLIENT_CREATOR_ROLES)
def new():
    form = ClientForm()
    acms = _acm_choices(form)
    if request.method == "GET":
        form.acm.data = current_user.id if _chosen(acms, current_user.id) else None
        form.currency.data = "USD"
    return save_form(
        form,
        lambda: clients.create_client(
            _profile_from(form), actor=acting_user(), acm=_chosen(acms, form.acm.data)
        ),
        template="clients/form.html",
        done=lambda client: saved(
            f"{client.store_name} is registered.", "clients.show", client_id=client.id
        ),
        client=None,
    )


@bp.route("/<int:client_id>/edit", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def edit(client_id: int):
    client = client_or_404(client_id)
    form = ClientForm(obj=client)
    form.acm.choices = options([(client.acm_id or 0, client.acm.name if client.acm else "—")])
    if request.method == "GET" and client.subscribed_at:
        form.subscribed_on.data = clock.in_zone(client.subscribed_at, client.timezone).date()
    return save_form(
        form,
        lambda: clients.update_client(client, _profile_from(form, client), actor=acting_user()),
        template="clients/form.html",
        done=lambda changed: saved(
            "Saved." if changed else "Nothing changed.", "clients.show", client_id=client.id
        ),
        client=client,
    )


@bp.route("/<int:client_id>/reassign", methods=["GET", "POST"])
@allow(Role.LEADER, Role.ADMIN)
def reassign(client_id: int):
    client = client_or_404(client_id)
    if not access.can_reassign_client(current_user, client):
        abort(403)
    form = ReassignForm()
    acms = _acm_choices(form)
    return save_form(
        form,
        lambda: clients.reassign_client(
            client,
            actor=acting_user(),
            new_acm=_chosen(acms, form.acm.data),
            reason=form.reason.data,
        ),
        template="clients/reassign.html",
        done=lambda _: saved(
            f"{client.store_name} now belongs to {client.acm.name}.",
            "clients.show",
            client_id=client.id,
        ),
        client=client,
    )


# --- The client page ---------------------------------------------------------------------


def _timeline_context(client: Client) -> dict:
    page = clients.timeline_page(
        client,
        page=validation.query_number(request.args.get("page"), default=1) or 1,
        per_page=current_app.config["TIMELINE_PER_PAGE"],
    )
    return {"client": client, "timeline": page}


def _log_forms(client: Client) -> dict:
    """Empty log forms (never filled from the request: after a success, a fresh form)."""
    call = CallForm(formdata=None)
    email = EmailLogForm(formdata=None)
    whatsapp = WhatsAppForm(formdata=None)
    call.contact.choices = _contact_choices(client)
    email.contact.choices = _contact_choices(client)
    whatsapp.contact.choices = _contact_choices(client)
    return {
        "call_form": call,
        "email_log_form": email,
        "whatsapp_form": whatsapp,
        "note_form": NoteForm(formdata=None),
    }


def _tab_context(client: Client, tab: Tab) -> dict:
    """What the open tab's panels need, and only that (the others are not queried)."""
    context = {"client": client, "tab": tab, "tabs": TABS.values(), **_log_forms(client)}
    if tab.shows(TIMELINE):
        context.update(_timeline_context(client))
    return context


def _page_context(client: Client, tab: Tab) -> dict:
    return {
        **_tab_context(client, tab),
        "can_reassign": access.can_reassign_client(current_user, client),
    }


@bp.route("/<int:client_id>")
@allow(*CLIENT_REGISTRY_ROLES)
def show(client_id: int):
    """The client page, on the tab asked for (`?tab=`) or the client's default tab."""
    client = client_or_404(client_id)
    tab = tab_named(client, request.args.get("tab"))
    return render("clients/show.html", **_page_context(client, tab))


@bp.route("/<int:client_id>/tabs/<name>")
@allow(*CLIENT_REGISTRY_ROLES)
def show_tab(client_id: int, name: str):
    """One tab of the client page, opened in place; a plain request gets the page on it."""
    client = client_or_404(client_id)
    opened = tab_named(client, name)
    if not is_htmx():
        return redirect(url_for("clients.show", client_id=client.id, tab=opened.name))
    return fragment("clients/_tabs.html", **_tab_context(client, opened))


@bp.route("/<int:client_id>/timeline")
@allow(*CLIENT_REGISTRY_ROLES)
def timeline(client_id: int):
    client = client_or_404(client_id)
    if not is_htmx():
        return redirect(client_page(client.id, "timeline", page=request.args.get("page")))
    return fragment("clients/_timeline.html", **_timeline_context(client))


# --- Contacts ----------------------------------------------------------------------------


def _details_from(form: ContactForm) -> clients.ContactDetails:
    return clients.ContactDetails(
        name=form.name.data or "",
        email=form.email.data,
        phone=form.phone.data,
        whatsapp=form.whatsapp.data,
        role=form.role.data,
        is_primary=form.is_primary.data,
        is_decision_maker=form.is_decision_maker.data,
    )


def _contact_form(contact: Contact | None = None, **kwargs) -> ContactForm:
    """A contact form with ids of its own: the new-contact form and rows being edited can be
    open together on the client page, and each label must point at its own field."""
    form = ContactForm(**kwargs)
    return prefixed(form, f"contact-{contact.id}" if contact else "new-contact")


def _contacts_saved(client: Client, *, added: bool):
    """After a contact is saved: the contact rows again, and the timeline told. Adding one
    also closes the new-contact form; an edit leaves it (and what it holds) alone."""
    db.session.refresh(client, ["contacts"])
    if not is_htmx():
        return redirect(client_page(client.id, "contacts-panel"))
    response = fragment(
        "clients/_contact_rows.html", client=client, clear_form=added, **_log_forms(client)
    )
    return with_trigger(response, TIMELINE_CHANGED)


@bp.route("/<int:client_id>/contacts/new")
@allow(*CLIENT_REGISTRY_ROLES)
def contact_new(client_id: int):
    client = client_or_404(client_id)
    return render(
        "clients/contact_page.html",
        "clients/_contact_form.html",
        client=client,
        form=_contact_form(),
        contact=None,
    )


@bp.route("/<int:client_id>/contacts", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def contact_create(client_id: int):
    client = client_or_404(client_id)
    form = _contact_form()
    return answer(
        form,
        lambda: clients.add_contact(client, _details_from(form), actor=acting_user()),
        done=lambda _: _contacts_saved(client, added=True),
        page="clients/contact_page.html",
        partial="clients/_contact_form.html",
        retarget="#contact-form",
        client=client,
        form=form,
        contact=None,
    )


@bp.route("/<int:client_id>/contacts/<int:contact_id>")
@allow(*CLIENT_REGISTRY_ROLES)
def contact_row(client_id: int, contact_id: int):
    client = client_or_404(client_id)
    contact = _contact_or_404(client, contact_id)
    if not is_htmx():
        return redirect(client_page(client.id, f"contact-{contact.id}"))
    return fragment("clients/_contact_row.html", client=client, contact=contact)


@bp.route("/<int:client_id>/contacts/<int:contact_id>/edit")
@allow(*CLIENT_REGISTRY_ROLES)
def contact_edit(client_id: int, contact_id: int):
    client = client_or_404(client_id)
    contact = _contact_or_404(client, contact_id)
    form = _contact_form(contact, obj=contact)
    return render(
        "clients/contact_page.html",
        "clients/_contact_edit_row.html",
        client=client,
        contact=contact,
        form=form,
    )


@bp.route("/<int:client_id>/contacts/<int:contact_id>", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def contact_update(client_id: int, contact_id: int):
    client = client_or_404(client_id)
    contact = _contact_or_404(client, contact_id)
    form = _contact_form(contact)
    return answer(
        form,
        lambda: clients.update_contact(contact, _details_from(form), actor=acting_user()),
        done=lambda _: _contacts_saved(client, added=False),
        page="clients/contact_page.html",
        partial="clients/_contact_edit_row.html",
        retarget=f"#contact-{contact.id}",
        client=client,
        form=form,
        contact=contact,
    )


# --- Logging contact (G3, G6) ------------------------------------------------------------


def _log(client: Client, template: str, form_name: str, form, save: Callable[[], Any]):
    """A log form of the client page (G3, G6). Done: a fresh form, and the timeline told to
    refresh. Refused: the form with its errors, in place (HTMX) or on the client page."""
    return answer(
        form,
        save,
        done=lambda _: _logged(client, template, form_name),
        page="clients/show.html",
        partial=template,
        page_context=lambda: _page_context(client, TABS["overview"]),
        client=client,
        **{form_name: form},
    )


def _logged(client: Client, template: str, form_name: str):
    if not is_htmx():
        flash("Recorded on the timeline.", "success")
        return redirect(client_page(client.id, "timeline"))
    forms = _log_forms(client)
    response = fragment(template, client=client, **{form_name: forms[form_name]})
    return with_trigger(response, TIMELINE_CHANGED)


@bp.route("/<int:client_id>/calls", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def log_call(client_id: int):
    """Rule G3: the outcome and notes of a call placed with the tel: link."""
    client = client_or_404(client_id)
    form = CallForm()
    form.contact.choices = _contact_choices(client)
    return _log(
        client,
        "clients/_call_form.html",
        "call_form",
        form,
        lambda: contact_log.log_call(
            client,
            actor=acting_user(),
            contact=clients.contact_of(client, form.contact.data),
            outcome=form.outcome.data,
            notes=form.notes.data or "",
        ),
    )


@bp.route("/<int:client_id>/emails", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def log_email(client_id: int):
    client = client_or_404(client_id)
    form = EmailLogForm()
    form.contact.choices = _contact_choices(client)
    return _log(
        client,
        "clients/_email_log_form.html",
        "email_log_form",
        form,
        lambda: contact_log.log_email(
            client,
            actor=acting_user(),
            contact=clients.contact_of(client, form.contact.data),
            direction=form.direction.data,
            subject=form.subject.data,
            notes=form.notes.data or "",
        ),
    )


@bp.app_template_global()
def unanswered_whatsapp(client: Client) -> list[contact_log.UnansweredWhatsApp]:
    """The client's WhatsApp requests not answered yet, each with its reply (G6): the
    WhatsApp panel lists them until they are answered."""
    return contact_log.unanswered_whatsapp_requests(client)


@bp.route("/<int:client_id>/whatsapp", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def log_whatsapp(client_id: int):
    """Rule G6: log a WhatsApp request; the panel then offers the reply that redirects to
    email, and keeps offering it until it is sent."""
    client = client_or_404(client_id)
    form = WhatsAppForm()
    form.contact.choices = _contact_choices(client)
    return _log(
        client,
        "clients/_whatsapp_form.html",
        "whatsapp_form",
        form,
        lambda: contact_log.log_whatsapp_request(
            client,
            actor=acting_user(),
            contact=clients.contact_of(client, form.contact.data),
            message=form.message.data,
        ),
    )


@bp.route("/<int:client_id>/whatsapp/reply", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def whatsapp_reply(client_id: int):
    """Rule G6: send the template reply that asks the client to use email."""
    client = client_or_404(client_id)
    form = WhatsAppReplyForm()

    def done(contact: Contact):
        flash(f"WhatsApp reply to {contact.name} queued.", "success")
        return _logged(client, "clients/_whatsapp_form.html", "whatsapp_form")

    return press(
        lambda: _reply_on_whatsapp(client, form),
        form=form,
        done=done,
        refused=lambda: in_place(
            "clients/_whatsapp_form.html",
            location=client_page(client.id, "whatsapp-panel"),
            status=422,
            client=client,
            **_log_forms(client),
        ),
        not_done="Not sent: {}",
    )


def _reply_on_whatsapp(client: Client, form: WhatsAppReplyForm) -> Contact:
    chosen = form.contact.data
    contact = clients.contact_of(client, int(chosen)) if chosen.isdigit() else None
    if contact is None:
        raise ValidationError("Choose the contact to answer.", field="contact")
    contact_log.reply_to_whatsapp_with_email_redirect(
        client, actor=acting_user(), contact=contact, key=f"wa-redirect-{form.key.data}"
    )
    return contact


@bp.route("/<int:client_id>/notes", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def add_note(client_id: int):
    client = client_or_404(client_id)
    form = NoteForm()
    return _log(
        client,
        "clients/_note_form.html",
        "note_form",
        form,
        lambda: contact_log.add_note(client, actor=acting_user(), text=form.text.data),
    )


@bp.route("/<int:client_id>/contacts/<int:contact_id>/email", methods=["GET", "POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def email_contact(client_id: int, contact_id: int):
    """Email a contact through the outbox; G1 CCs are added by the outbox."""
    client = client_or_404(client_id)
    contact = _contact_or_404(client, contact_id)
    form = EmailContactForm()
    if request.method == "GET":
        form.key.data = uuid.uuid4().hex
    return answer(
        form,
        lambda: _send_email(client, contact, form),
        done=lambda _: _email_queued(client, contact),
        page="clients/email_page.html",
        partial="clients/_email_form.html",
        client=client,
        contact=contact,
        form=form,
    )


def _email_queued(client: Client, contact: Contact) -> Response:
    """Said in place of the form, the timeline told (HTMX); or the client page."""
    if not is_htmx():
        message = f"Email to {contact.name} queued; its status shows on the timeline."
        flash(message, "success")
        return redirect(client_page(client.id, "timeline"), 303)
    sent = fragment("clients/_email_sent.html", client=client, contact=contact)
    return with_trigger(sent, TIMELINE_CHANGED)


def _send_email(client: Client, contact: Contact, form: EmailContactForm):
    try:
        return contact_log.email_contact(
            client,
            actor=acting_user(),
            contact=contact,
            subject=form.subject.data,
            body=form.body.data,
            key=f"contact-email-{form.key.data}",
        )
    except ReusedMessageKey as error:
        # The form was sent before (Back button, page cache) with other words: nothing
        # went; a fresh key lets the ACM send this one too, knowingly.
        form.key.data = uuid.uuid4().hex
        raise ValidationError(
            f"Not sent: {error.message} Check the client's timeline; to send this one "
            "as a new email, send it again."
        ) from error


@bp.route("/<int:client_id>/messages/<int:message_id>/retry", methods=["POST"])
@allow(*CLIENT_REGISTRY_ROLES)
def retry_message(client_id: int, message_id: int):
    """A message that failed to send, sent again by hand (nothing is lost on failure)."""
    client = client_or_404(client_id)

    def timeline() -> Response:
        location = client_page(client.id, "timeline")
        return in_place("clients/_timeline.html", location=location, **_timeline_context(client))

    def done(_) -> Response:
        flash("The message is queued again; its status shows on the timeline.", "success")
        return timeline()

    return press(
        lambda: contact_log.retry_message(client, message_id, actor=acting_user()),
        done=done,
        refused=timeline,
    )
