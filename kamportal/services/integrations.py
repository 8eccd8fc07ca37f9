"""Integrations (F4): the systems that push store figures through the API, each with its
own token, and the stores each one writes.

A token is shown once, when an admin creates the integration, and kept only as its
SHA-256 hash (and its first characters, to tell tokens apart on the admin page): a copy
of the database gives no way in. A revoked integration's token is refused. A store
belongs to at most one integration (Client.integration_id).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from kamportal import clock
from kamportal.errors import ValidationError
from kamportal.extensions import db
from kamportal.models import Client, Integration, User
from kamportal.services import timeline, validation

TOKEN_START = "kam_"
# What the admin page shows of a token: its start, enough to tell two apart.
PREFIX_LENGTH = 12
# A token is "kam_" and 43 URL-safe characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 100
# last_used_at is written at most this often: a busy integration costs no write a call.
LAST_USED_EVERY = timedelta(minutes=1)
# Store codes an admin may list at once.
MAX_STORE_CODES = 5_000
_CODES_SPLIT = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class IntegrationRow:
    """An integration as the admin list shows it, with how many stores it writes."""

    integration: Integration
    stores: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_integration(name: str | None, *, actor: User | None) -> tuple[Integration, str]:
    """A new integration named `name` (unique), and its token: the only time the token
    exists outside the caller's hands. Raises ValidationError for a blank, too long,
    invisible-charactered or taken name."""
    name = validation.typed_text(
        validation.required_text(name, field="name", message="Give the integration a name."),
        field="name",
        max_length=100,
    )
    taken = db.session.scalar(
        select(Integration.id).where(func.lower(Integration.name) == name.lower())
    )
    if taken is not None:
        raise ValidationError("An integration has this name already.", field="name")
    token = TOKEN_START + secrets.token_urlsafe(32)
    integration = Integration(
        name=name,
        token_prefix=token[:PREFIX_LENGTH],
        token_hash=token_hash(token),
        created_at=clock.now(),
        created_by=actor,
    )
    db.session.add(integration)
    db.session.flush()
    timeline.audit(
        actor,
        "integration.create",
        integration,
        after={"name": name, "prefix": integration.token_prefix},
    )
    return integration, token


def revoke_integration(integration: Integration, *, actor: User | None) -> Integration:
    """Refuse the integration's token from now on (its stores stay its own until assigned
    to another). Revoking twice changes nothing."""
    if integration.revoked_at is not None:
        return integration
    with timeline.audited(actor, "integration.revoke", integration, ("revoked_at",)):
        integration.revoked_at = clock.now()
        db.session.flush()
    return integration


def authenticate(token: str | None) -> Integration | None:
    """The active integration whose token this is; None for no token, a token of no
    integration, or a revoked one's. Notes when it was last used (at most once a
    minute); the caller commits."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.startswith(TOKEN_START):
        return None
    presented = token_hash(token)
    integration = db.session.scalar(select(Integration).where(Integration.token_hash == presented))
    if integration is None or not hmac.compare_digest(integration.token_hash, presented):
        return None
    if not integration.is_active:
        return None
    now = clock.now()
    if integration.last_used_at is None or now - integration.last_used_at >= LAST_USED_EVERY:
        integration.last_used_at = now
    return integration


def assign_stores(
    integration: Integration,
    *,
    actor: User | None,
    country: str | None = None,
    store_codes: str | Iterable[str] = (),
) -> list[Client]:
    """Make `integration` the one that writes these stores' figures: every store of
    `country` and/or those named in `store_codes` (text: codes separated by spaces,
    commas or lines). A store belongs to at most one integration: a store of another
    active integration is refused (a revoked one's is taken over). Raises
    ValidationError naming unknown codes or stores taken, and when nothing is chosen."""
    if not integration.is_active:
        raise ValidationError("This integration is revoked: create a new one.")
    codes = _codes(store_codes)
    if not country and not codes:
        raise ValidationError("Choose a country or list store codes.", field="store_codes")
    stores: dict[int, Client] = {}
    if country:
        country = validation.country_code(country)
        stores |= {
            c.id: c for c in db.session.scalars(select(Client).where(Client.country == country))
        }
    if codes:
        found = {
            c.store_code.upper(): c
            for c in db.session.scalars(select(Client).where(Client.store_code.in_(codes)))
        }
        unknown = sorted(set(codes) - found.keys())
        if unknown:
            raise ValidationError(f"No store with the code {_some(unknown)}.", field="store_codes")
        stores |= {c.id: c for c in found.values()}
    if not stores:
        raise ValidationError("No store in this country.", field="country")
    _refuse_taken(integration, list(stores.values()))
    chosen = sorted(stores.values(), key=lambda c: c.store_code)
    moved = [c for c in chosen if c.integration_id != integration.id]
    for client in moved:
        client.integration_id = integration.id
    db.session.flush()
    timeline.audit(
        actor,
        "integration.assign_stores",
        integration,
        after={"country": country or None, "store_codes": [c.store_code for c in moved]},
    )
    return chosen


def _codes(store_codes: str | Iterable[str]) -> list[str]:
    parts = _CODES_SPLIT.split(store_codes) if isinstance(store_codes, str) else store_codes
    codes = []
    for part in parts:
        if part and part.strip():
            codes.append(validation.code(part, field="store_codes", what="store code"))
    if len(codes) > MAX_STORE_CODES:
        raise ValidationError(
            f"At most {MAX_STORE_CODES:,} store codes at once.", field="store_codes"
        )
    return sorted(set(codes))


def _refuse_taken(integration: Integration, stores: list[Client]) -> None:
    """A store of another integration still in use stays that one's."""
    others = {c.integration_id for c in stores} - {None, integration.id}
    if not others:
        return
    active = set(
        db.session.scalars(
            select(Integration.id).where(
                Integration.id.in_(others), Integration.revoked_at.is_(None)
            )
        )
    )
    taken = sorted(c.store_code for c in stores if c.integration_id in active)
    if taken:
        raise ValidationError(
            f"These stores belong to another integration: {_some(taken)}.", field="store_codes"
        )


def _some(codes: list[str]) -> str:
    shown = ", ".join(codes[:5])
    return shown + (f" and {len(codes) - 5} more" if len(codes) > 5 else "")


def list_integrations() -> list[IntegrationRow]:
    """Every integration, newest first, with its stores counted in the same query."""
    stores = (
        select(func.count(Client.id))
        .where(Client.integration_id == Integration.id)
        .correlate(Integration)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Integration, stores).order_by(Integration.created_at.desc(), Integration.id.desc())
    )
    return [IntegrationRow(integration, count) for integration, count in rows]


def stores_of(integration: Integration, *, limit: int = 50) -> tuple[list[Client], int]:
    """The first `limit` stores the integration writes, by code, and how many in all."""
    where = Client.integration_id == integration.id
    total = db.session.scalar(select(func.count(Client.id)).where(where)) or 0
    first = list(
        db.session.scalars(select(Client).where(where).order_by(Client.store_code).limit(limit))
    )
    return first, total
