"""What every blueprint shares: access declarations, the page-or-fragment render helper,
the HTMX conventions (422 form errors, message fragments, out-of-band flashes), and the one
way a posted form or button reaches its service: `submit` (validate, one service call,
commit; a refusal rolls back onto the form), with `answer` (a form, page or fragment),
`press` (a button) and `in_place` (what a change made in place answers) built on it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import (
    Response,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    make_response,
    redirect,
    request,
    url_for,
)
from flask import render_template as flask_render
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter
from wtforms import Field, FieldList, FormField

from kamportal import i18n
from kamportal.blueprints.client_tabs import client_page
from kamportal.blueprints.forms import ActionForm
from kamportal.errors import DomainError
from kamportal.extensions import db
from kamportal.i18n import N_
from kamportal.models import Client, Role, User
from kamportal.services import access, clients

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
R = TypeVar("R")

PUBLIC = "public"
ANY_USER = "any-user"
BY_TOKEN = "by-token"


class DatabaseId(IntegerConverter):
    """`<int:...>` in a URL: at most what an id column holds (PostgreSQL's integer). A larger
    number names nothing: 404, before any query."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def allow(*roles: Role) -> Callable[[F], F]:
    """Let users holding any of `roles` reach the view; object checks happen inside it."""
    if not roles:
        raise ValueError("allow() needs at least one role; use signed_in or public")

    def mark(view: F) -> F:
        view.kam_access = frozenset(roles)  # type: ignore[attr-defined]
        return view

    return mark


def signed_in(view: F) -> F:
    """Any signed-in user (their own home and profile)."""
    view.kam_access = ANY_USER  # type: ignore[attr-defined]
    return view


def public(view: F) -> F:
    """No sign-in needed (the login page, health check)."""
    view.kam_access = PUBLIC  # type: ignore[attr-defined]
    return view


def by_token(view: F) -> F:
    """No session: the bearer token the view checks itself decides (the store-figures API,
    F4); without a valid one it answers 401, whoever is signed in."""
    view.kam_access = BY_TOKEN  # type: ignore[attr-defined]
    return view


def access_of(view: Callable[..., Any] | None) -> Any:
    return getattr(view, "kam_access", None)


def enforce_access() -> Response | None:
    """before_request: deny by default. A view without a declaration answers 403."""
    if request.endpoint is None:
        return None  # 404/405 from routing
    if request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    rule = access_of(view)
    if rule in (PUBLIC, BY_TOKEN):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if rule == ANY_USER:
        return None
    if isinstance(rule, frozenset) and current_user.has_role(*rule):
        return None
    abort(403)


def acting_user() -> User:
    """The signed-in user as a model object: services record it as the actor."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def client_or_404(client_id: int) -> Client:
    """The client with what its page shows, if the signed-in user may see it; otherwise
    404, never its name."""
    return of_visible_client(clients.load_client(client_id))


def of_visible_client(record: R | None) -> R:
    """`record` (a client, or one of its meetings, minutes, action items...) if the
    signed-in user may see the client it belongs to; otherwise 404."""
    if record is None:
        abort(404)
    client = record if isinstance(record, Client) else record.client
    if not access.can_see_client(current_user, client):
        abort(404)
    return record


def panel_response(client: Client, template: str, anchor: str) -> Response:
    """One panel of the client page alone, as it refreshes itself in place; a plain request
    (a history restore) gets the client page, at the panel."""
    if not is_htmx():
        return redirect(client_page(client.id, anchor))
    return fragment(template, client=client)


def panel_changed(
    client: Client,
    template: str,
    anchor: str,
    message: str,
    *events: str,
    location: str | None = None,
) -> Response:
    """After a change made from a client page's panel: the panel again in its place
    (HTMX), the page told of `events`; without HTMX, 303 to `location` (default: the
    client page, at the panel). `message` is flashed either way."""
    flash(message, "success")
    if not is_htmx():
        default = client_page(client.id, anchor)
        return redirect(location or default, 303)
    response = fragment(template, client=client)
    response.headers["HX-Retarget"] = f"#{anchor}"
    response.headers["HX-Reswap"] = "outerHTML"
    for event in events:
        with_trigger(response, event)
    return response


def is_htmx() -> bool:
    """A real HTMX swap. A history restore (cache miss) wants the whole page."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    template: str, partial: str | None = None, /, *, status: int = 200, **context: Any
) -> Response:
    """The whole page for a plain request; `partial` (plus flashes out of band) for HTMX."""
    if partial and is_htmx():
        body = flask_render(partial, **context) + flashes_oob()
    else:
        body = flask_render(template, **context)
    return make_response(body, status)


def fragment(template: str, *also: str, status: int = 200, **context: Any) -> Response:
    """A fragment for an HTMX request, then the partials `also` (rendered with `oob=True`:
    their roots swap out of band by id, elsewhere on the page) and the flashes."""
    body = flask_render(template, **context)
    body += "".join(flask_render(other, oob=True, **context) for other in also)
    return make_response(body + flashes_oob(), status)


def flashes_oob() -> str:
    messages = get_flashed_messages(with_categories=True)
    if not messages:
        return ""
    return flask_render("_flashes.html", messages=messages, oob=True)


def form_invalid(template: str, *, retarget: str | None = None, **context: Any) -> Response:
    """Bad input: the form again with its field errors, status 422 (htmx swaps it).

    `retarget` points the swap at the form itself when the request aimed elsewhere
    (a form whose success replaces a list)."""
    response = make_response(flask_render(template, **context), 422)
    if retarget and is_htmx():
        response.headers["HX-Retarget"] = retarget
        response.headers["HX-Reswap"] = "outerHTML"
    return response


FormT = TypeVar("FormT", bound=FlaskForm)


def prefixed(form: FormT, prefix: str) -> FormT:
    """Give `form`'s fields ids of their own (`prefix-name`), so forms with fields of the
    same name can share a page and each label points at its own field; the names, which
    the server reads, stay the same."""
    for f in form:
        f.id = f.label.field_id = f"{prefix}-{f.name}"
    return form


@dataclass(frozen=True)
class Saved(Generic[T]):
    """What `submit` saved: the service's result."""

    result: T


def submit(form: FlaskForm, save: Callable[[], T]) -> Saved[T] | None:
    """Send a posted form to its service: valid input calls `save` (one service call) and
    commits; bad input, or the service's refusal (DomainError, put on the form's field or
    the form), rolls back and gives None, nothing saved. A GET gives None too."""
    if not form.validate_on_submit():
        return None
    try:
        result = save()
    except DomainError as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return None
    db.session.commit()
    return Saved(result)


def save_form(
    form: FlaskForm,
    save: Callable[[], T],
    *,
    template: str,
    done: Callable[[T], Response],
    partial: str | None = None,
    **context: Any,
) -> Response:
    """The round trip of every create/edit page (and of a form opened in place: `partial`
    is what an HTMX request gets instead of the page): `answer`, the form given to the
    templates as `form`."""
    return answer(form, save, done=done, page=template, partial=partial, form=form, **context)


def answer(
    form: FlaskForm,
    save: Callable[[], T],
    /,
    *,
    done: Callable[[T], Response],
    page: str,
    partial: str | None = None,
    retarget: str | None = None,
    reswap: str | None = None,
    page_context: Callable[[], dict[str, Any]] | None = None,
    **context: Any,
) -> Response:
    """The round trip of a form, wherever it sits on a page (`submit`, then page or
    fragment).

    A valid submission calls `save` (one service call), commits and answers `done(result)`.
    Bad input, or the service's refusal, shows the form again with its errors, status 422,
    nothing saved: HTMX gets `partial` (swapped at `retarget` when the request aimed
    elsewhere, as `reswap` says), a plain request the whole `page`. A GET shows the same,
    status 200. `context` is what both are rendered with (the form among it);
    `page_context()` adds what only the whole page needs.
    """
    if (done_with := submit(form, save)) is not None:
        return done(done_with.result)
    status = 422 if form.is_submitted() else 200
    if partial is not None and is_htmx():
        response = make_response(flask_render(partial, **context) + flashes_oob(), status)
        if status == 422 and (retarget or reswap):
            if retarget:
                response.headers["HX-Retarget"] = retarget
            response.headers["HX-Reswap"] = reswap or "outerHTML"
        return response
    whole = {**page_context(), **context} if page_context is not None else context
    return make_response(flask_render(page, **whole), status)


def press(
    save: Callable[[], T],
    *,
    done: Callable[[T], Response],
    refused: Callable[[], Response],
    form: FlaskForm | None = None,
    not_done: str = "{}",
) -> Response:
    """A button that changes something, through `submit` (a CSRF-only `ActionForm` unless
    `form` is given): done, `done(result)`; refused, nothing saved, the refusal flashed as
    an error (worded by `not_done`, "Not sent: {}") and `refused()` answers (usually the
    place of the button again, status 422)."""
    form = form if form is not None else ActionForm()
    if (done_with := submit(form, save)) is not None:
        return done(done_with.result)
    flash(not_done.format(refusal_of(form)), "error")
    return refused()


def in_place(
    template: str,
    *also: str,
    location: str,
    events: tuple[str, ...] = (),
    status: int = 200,
    **context: Any,
) -> Response:
    """The answer to a change made in place (or to its refusal, `status` 422): HTMX gets
    `template` (and `also` out of band, see `fragment`), the page told of `events`; a plain
    form post goes to `location` (303), where its flash shows."""
    if not is_htmx():
        return redirect(location, 303)
    response = fragment(template, *also, status=status, **context)
    for event in events:
        with_trigger(response, event)
    return response


def refusal_of(form: FlaskForm) -> str:
    """What was refused, in one line: the form's own errors, then its fields'."""
    fields = (error for field in _every_field(form) for error in _own_errors(field))
    return " ".join([*form.form_errors, *fields]) or "This could not be done; reload the page."


def _own_errors(field: Field) -> list[str]:
    return [] if isinstance(field, (FieldList, FormField)) else list(field.errors)


def saved(message: str, endpoint: str, **values: Any) -> Response:
    """After a successful form post: a flash, and 303 to the page that shows the result."""
    flash(message, "success")
    return redirect(url_for(endpoint, **values), 303)


def apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal on the form field it concerns (or the form as a whole). A
    row's field is named as the browser sends it ("action_items-2-due_on")."""
    field = _field_named(form, error.field) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def _field_named(form: FlaskForm, name: str) -> Field | None:
    field = getattr(form, name, None)
    if isinstance(field, Field):
        return field
    return next((f for f in _every_field(form) if f.name == name), None)


def _every_field(fields: Any) -> Iterator[Field]:
    """The fields of a form, and those of its rows (`FieldList`, `FormField`)."""
    for field in fields:
        yield field
        if isinstance(field, (FieldList, FormField)):
            yield from _every_field(field)


def with_trigger(response: Response, event: str, detail: Any = True) -> Response:
    """Tell the page what changed, so the lists listening `from:body` refresh."""
    existing = response.headers.get("HX-Trigger")
    events = json.loads(existing) if existing else {}
    events[event] = detail
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


# --- Pages a client opens from an emailed link, without a login (O1, C5, C7) ---------------

# An altered token names nothing that exists; a link that did exist is gone for good.
LINK_REFUSED_TITLE = {
    "altered": N_("This link is not valid"),
    "revoked": N_("This link no longer works"),
    "expired": N_("This link has expired"),
    "submitted": N_("Already submitted"),
    "used": N_("Already answered"),
}


def keep_link_private(response: Response) -> Response:
    """The token in the address is the only key: no cache keeps the page, no Referer
    carries the address to another site, no search engine lists it."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def whole_page(response: Response, page_id: str) -> Response:
    """An answer that replaces the page's content (`#page_id`), not just its form (HTMX)."""
    if is_htmx():
        response.headers["HX-Retarget"] = f"#{page_id}"
        response.headers["HX-Reswap"] = "outerHTML"
    return response


def link_refused(refused: DomainError, page_id: str) -> Response:
    """A link that opens nothing: why, alone on the page, naming nothing of the client."""
    reason = getattr(refused, "reason", "")
    i18n.speak_to(getattr(refused, "language", None))
    return whole_page(
        render(
            "link_refused.html",
            "_link_refused.html",
            status=404 if reason == "altered" else 410,
            reason=reason,
            title=gettext(LINK_REFUSED_TITLE.get(reason, N_("This link does not work"))),
            message=gettext(refused.message),
            page_id=page_id,
        ),
        page_id,
    )
