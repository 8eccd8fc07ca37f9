"""Finding anything from anywhere (issue 16): what the header's search box finds. Clients by
store name or code, contacts by name, email or phone, invoices by number, tickets by key,
among what the user may see, each with the page it opens for them (never one they may not
open).

Built to stay fast however large the portfolio grows (issue 17): under MIN_LENGTH
characters only an exact code, number or key is looked for; each kind is one query with
the user's access in its WHERE clause and a LIMIT, and nothing is counted. Codes, numbers,
keys and emails match from their start, names anywhere in them; every character is taken
literally (services/search.py), `%` and `_` included.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

import phonenumbers
from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
)

from kamportal.extensions import db
from kamportal.models import (
    Client,
    Contact,
    CustomizationRequest,
    Invoice,
    LifecycleStatus,
    Role,
    SupportTicket,
    User,
)
from kamportal.services import access, search, store_management, validation
from kamportal.services.access import CLIENT_REGISTRY_ROLES, CUSTOMIZATION_ROLES, FINANCE_ROLES

# Shorter than this, only an exact code, number or key is looked for.
MIN_LENGTH = 2
# What of the query is read: more than any name, code, key or email the portal keeps.
MAX_LENGTH = 100
# How many of each kind the header's dropdown shows, and the search page.
DROPDOWN_LIMIT = 5
PAGE_LIMIT = 20
# A phone number is looked for once this many of its digits are typed (leading zeros, a
# local number's trunk prefix, not counted).
PHONE_DIGITS = 4

# What a phone number looks like as people type it: digits (Arabic-Indic ones too), spaces,
# dots, dashes, brackets, a leading + for the international form.
_PHONE_TYPED = re.compile(r"\+?[\d\s().-]+")
_DIGITS = re.compile(r"[0-9]+")
# What CustomizationRequest.reference calls a request whose approval ticket has no key yet.
OWN_REFERENCE = "SAL-"


class Opens(enum.StrEnum):
    """The page a result opens."""

    CLIENT = "client"
    # The client page at the contact's row.
    CONTACT = "contact"
    # The client page at its renewal and invoices panel (R3).
    INVOICE = "invoice"
    # The invoice as the client has it: for finance, who open no client page (R5-R7).
    INVOICE_PDF = "invoice_pdf"
    # The client page at its support tickets (G4).
    SUPPORT_TICKET = "support_ticket"
    # The customization request's page (C1-C7).
    CUSTOMIZATION = "customization"
    # The store manager's page at the client's card (F6): a store manager opens no client
    # page; `position` says where on that paged list the card is.
    STORE_CARD = "store_card"


@dataclass(frozen=True)
class Found:
    """One thing found: what it is (`title`), what tells it apart (`detail`), the client it
    belongs to (`client_name`; None for a client), and the page it opens: `opens` for
    `record_id` of client `client_id`."""

    title: str
    detail: str
    opens: Opens
    record_id: int
    client_id: int
    client_name: str | None = None
    position: int = 0


@dataclass(frozen=True)
class Group:
    """The things of one kind found, at most the limit; `more` when there were more.
    `label` names the kind ("Clients"), `one` one of them ("client")."""

    kind: str
    label: str
    one: str
    found: tuple[Found, ...]
    more: bool


@dataclass(frozen=True)
class Findings:
    """What a search found, by kind (only the kinds the user may search, in the order the
    box names them). `too_short`: the text was too short to look for anything but an
    exact code, number or key."""

    text: str
    too_short: bool
    groups: tuple[Group, ...]

    @property
    def shown(self) -> int:
        return sum(len(group.found) for group in self.groups)

    @property
    def more(self) -> bool:
        return any(group.more for group in self.groups)


@dataclass(frozen=True)
class _Query:
    text: str
    # Only an exact code, number or key (the text is shorter than MIN_LENGTH).
    exact: bool
    # The text in capitals, as codes, numbers and keys are kept.
    capitals: str
    # The text in capitals if it has the shape of a code or key (CAIRO-001, SAL-12).
    code: str | None

    def matches_code(self, column: Any) -> ColumnElement[bool]:
        """`column` (a code, number or key, in capitals) is the one typed, or starts so."""
        if self.exact:
            return column == self.capitals
        return search.starts_with(column, self.capitals, any_case=False)


def find(user: User, text: str | None, *, limit: int = DROPDOWN_LIMIT) -> Findings:
    """The clients, contacts, invoices and tickets matching `text` that `user` may see,
    at most `limit` of each kind, the likeliest first. Blank text finds nothing; text
    shorter than MIN_LENGTH finds only an exact code, number or key."""
    cleaned = validation.query_text(text, max_length=MAX_LENGTH)
    capitals = cleaned.upper()
    query = _Query(
        text=cleaned,
        exact=len(cleaned) < MIN_LENGTH,
        capitals=capitals,
        code=capitals if validation.is_code(capitals) else None,
    )
    if not cleaned:
        return Findings(cleaned, too_short=True, groups=())
    kinds = (
        ("clients", "Clients", "client", _clients),
        ("contacts", "Contacts", "contact", _contacts),
        ("invoices", "Invoices", "invoice", _invoices),
        ("tickets", "Tickets", "ticket", _tickets),
    )
    # The clients the user may see, worked out once for every kind.
    seen = access.visible_clients_clause(user)
    groups = []
    for kind, label, one, finder in kinds:
        rows = finder(user, query, seen, limit + 1)
        if rows is not None:
            groups.append(Group(kind, label, one, tuple(rows[:limit]), more=len(rows) > limit))
    return Findings(cleaned, too_short=query.exact, groups=tuple(groups))


def _clients(
    user: User, query: _Query, seen: ColumnElement[bool], limit: int
) -> list[Found] | None:
    """Clients by store name (anywhere in it) or code (from its start): those the user
    may see, and a store manager's own (F6), which open on their page."""
    registry = user.has_role(*CLIENT_REGISTRY_ROLES)
    manages = user.has_role(Role.STORE_MANAGER)
    if not (registry or manages):
        return None
    matches = []
    if query.code:
        matches.append(query.matches_code(Client.store_code))
    if not query.exact:
        matches.append(search.contains(Client.store_name, query.text))
    if not matches:
        return []
    columns = (Client.id, Client.store_name, Client.store_code, Client.status, _flag(seen))
    if manages:
        # Where each of the store manager's clients stands on their page, in its order.
        cards = (
            select(
                Client.id.label("client_id"),
                (func.row_number().over(order_by=(Client.store_name, Client.id)) - 1).label(
                    "position"
                ),
            )
            .where(store_management.managed_clause(user))
            .subquery()
        )
        statement = (
            select(*columns, cards.c.position)
            .outerjoin(cards, cards.c.client_id == Client.id)
            .where(or_(seen, cards.c.client_id.is_not(None)))
        )
    else:
        statement = select(*columns, null()).where(seen)
    statement = statement.where(or_(*matches))
    likeliest = [(Client.store_code == query.capitals, 0)]
    if not query.exact:
        likeliest.append((search.starts_with(Client.store_name, query.text), 1))
    statement = statement.order_by(case(*likeliest, else_=2), Client.store_name, Client.id)
    return [
        Found(
            title=name,
            detail=f"{code} · {LifecycleStatus(status).label}",
            opens=Opens.CLIENT if sees else Opens.STORE_CARD,
            record_id=client_id,
            client_id=client_id,
            position=position or 0,
        )
        for client_id, name, code, status, sees, position in db.session.execute(
            statement.limit(limit)
        )
    ]


def _contacts(
    user: User, query: _Query, seen: ColumnElement[bool], limit: int
) -> list[Found] | None:
    """Contacts of the clients the user may see, by name (anywhere in it), email (from its
    start) or phone number (as typed: international, or local with its spaces)."""
    if not user.has_role(*CLIENT_REGISTRY_ROLES):
        return None
    if query.exact:
        return []
    matches = [
        search.contains(Contact.name, query.text),
        search.starts_with(Contact.email, query.text),
    ]
    phone = _phone_match(query.text)
    if phone is not None:
        matches.append(phone)
    statement = (
        select(Contact.id, Contact.name, Contact.email, Contact.phone, Client.id, Client.store_name)
        .join(Contact.client)
        .where(seen, or_(*matches))
        .order_by(
            case((search.starts_with(Contact.name, query.text), 0), else_=1),
            Contact.name,
            Contact.id,
        )
        .limit(limit)
    )
    return [
        Found(
            title=name,
            detail=" · ".join(filter(None, (email, phone_number))),
            opens=Opens.CONTACT,
            record_id=contact_id,
            client_id=client_id,
            client_name=store_name,
        )
        for contact_id, name, email, phone_number, client_id, store_name in db.session.execute(
            statement
        )
    ]


def _phone_match(text: str) -> ColumnElement[bool] | None:
    """A contact's phone (kept in E.164, +201001234567) as `text` types it, or the start of
    it: in the international form (+20 100 123 4567, 0020...) from its start; in a local
    form (0100 123 4567) by its digits without the trunk prefix, wherever they fall (the
    country they are local to is not known). None when `text` is no phone number."""
    if not _PHONE_TYPED.fullmatch(text):
        return None
    # Arabic-Indic digits read as the digits they are.
    digits = phonenumbers.normalize_digits_only(text)
    if text.startswith("+") or digits.startswith("00"):
        international = digits if text.startswith("+") else digits.removeprefix("00")
        if len(international) < PHONE_DIGITS:
            return None
        return search.starts_with(Contact.phone, f"+{international}", any_case=False)
    national = digits.lstrip("0")
    if len(national) < PHONE_DIGITS:
        return None
    return search.contains(Contact.phone, national)


def _invoices(
    user: User, query: _Query, seen: ColumnElement[bool], limit: int
) -> list[Found] | None:
    """Invoices by number (from its start, or its last digits), among those the user may
    see (finance: every one, R5-R7)."""
    if not user.has_role(*CLIENT_REGISTRY_ROLES, *FINANCE_ROLES):
        return None
    matches = [query.matches_code(Invoice.number)]
    if not query.exact and _DIGITS.fullmatch(query.text):
        matches.append(search.ends_with(Invoice.number, query.text))
    statement = (
        select(Invoice, Client.store_name, _flag(seen))
        .join(Invoice.client)
        .where(
            access.visible_invoices_clause(user, clients=seen),
            Invoice.number.is_not(None),
            or_(*matches),
        )
        .order_by(
            case((Invoice.number == query.capitals, 0), else_=1),
            Invoice.issued_at.desc(),
            Invoice.id.desc(),
        )
        .limit(limit)
    )
    return [
        Found(
            title=invoice.label,
            detail=f"{invoice.money} · {invoice.invoice_status.label}",
            opens=Opens.INVOICE if sees else Opens.INVOICE_PDF,
            record_id=invoice.id,
            client_id=invoice.client_id,
            client_name=store_name,
        )
        for invoice, store_name, sees in db.session.execute(statement)
    ]


def _tickets(
    user: User, query: _Query, seen: ColumnElement[bool], limit: int
) -> list[Found] | None:
    """Tickets by key (from its start): the support tickets of the clients the user may
    see (G4), and the approval and customization tickets of the customization requests
    they may see (C2, C6)."""
    support = user.has_role(*CLIENT_REGISTRY_ROLES)
    customizations = user.has_role(*CUSTOMIZATION_ROLES)
    if not (support or customizations):
        return None
    if query.code is None:
        return []
    found = []
    if support:
        found += _support_tickets(query, seen, limit)
    if customizations:
        found += _customization_tickets(user, query, seen, limit)
    # The key typed in full first, then each kind in its order.
    return sorted(found, key=lambda f: f.title != query.capitals)


def _support_tickets(query: _Query, seen: ColumnElement[bool], limit: int) -> list[Found]:
    statement = (
        select(
            SupportTicket.id,
            SupportTicket.ticket_key,
            SupportTicket.summary,
            SupportTicket.status,
            Client.id,
            Client.store_name,
        )
        .join(SupportTicket.client)
        .where(seen, query.matches_code(SupportTicket.ticket_key))
        .order_by(SupportTicket.opened_at.desc(), SupportTicket.id.desc())
        .limit(limit)
    )
    return [
        Found(
            title=key,
            detail=f"Support · {status} · {summary}",
            opens=Opens.SUPPORT_TICKET,
            record_id=ticket_id,
            client_id=client_id,
            client_name=store_name,
        )
        for ticket_id, key, summary, status, client_id, store_name in db.session.execute(statement)
    ]


def _customization_tickets(
    user: User, query: _Query, seen: ColumnElement[bool], limit: int
) -> list[Found]:
    request = CustomizationRequest
    own_reference = literal(OWN_REFERENCE) + cast(request.id, String)
    matches = [
        query.matches_code(request.approval_ticket_key),
        query.matches_code(request.customization_ticket_key),
        and_(request.approval_ticket_key.is_(None), query.matches_code(own_reference)),
    ]
    statement = (
        select(
            request.id,
            request.approval_ticket_key,
            request.customization_ticket_key,
            request.title,
            Client.id,
            Client.store_name,
        )
        .join(request.client)
        .where(access.visible_customizations_clause(user, clients=seen), or_(*matches))
        .order_by(request.opened_at.desc(), request.id.desc())
        .limit(limit)
    )
    found = []
    for request_id, approval, delivery, title, client_id, store_name in db.session.execute(
        statement
    ):
        # The key that was typed: the customization ticket's (C6), else the approval's.
        typed = delivery if delivery and delivery.startswith(query.capitals) else None
        found.append(
            Found(
                title=typed or approval or f"{OWN_REFERENCE}{request_id}",
                detail=f"{'Customization' if typed else 'Approval'} · {title}",
                opens=Opens.CUSTOMIZATION,
                record_id=request_id,
                client_id=client_id,
                client_name=store_name,
            )
        )
    return found


def _flag(clause: ColumnElement[bool]) -> ColumnElement[bool]:
    """`clause` as a column of each row: whether it holds."""
    return case((clause, True), else_=False)
