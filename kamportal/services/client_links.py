"""Links a client opens without a login to act on a customization request: approve the
concept document (C5), accept the delivery or answer the satisfaction survey (C7).

As the KYC link (services/kyc.py): the token is signed with the app's secret and names one
`ClientLink` and its current nonce, nothing else. It works until it expires
(CUSTOMIZATION_LINK_DAYS after it was sent, on the portal's clock), is revoked or replaced
by a newer one (the nonce changes), or is used. Sending the email and recording what the
client did belong to the service of each purpose; this module only issues, opens, revokes
and spends links.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from kamportal import clock
from kamportal.errors import ValidationError
from kamportal.extensions import db
from kamportal.i18n import N_
from kamportal.models import ClientLink, CustomizationRequest, User
from kamportal.services.kyc import (
    LINK_ALTERED,
    LINK_EXPIRED,
    LINK_REVOKED,
    LinkRefused,
    public_url,
)

TOKEN_SALT = "customization-link"
PURPOSES = ("concept", "acceptance", "survey")
# The public page each purpose's link opens.
ENDPOINTS = {
    "concept": "customizations.public_concept",
    "acceptance": "customizations.public_acceptance",
    "survey": "customizations.public_survey",
}

__all__ = ["LinkRefused", "issue", "live_link", "open_link", "revoke", "spend", "url_for_link"]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def live_link(request: CustomizationRequest, purpose: str) -> ClientLink | None:
    """The request's link for `purpose`, if one was ever sent (live or not)."""
    return db.session.scalar(
        select(ClientLink)
        .where(ClientLink.request_id == request.id)
        .where(ClientLink.purpose == purpose)
    )


def issue(
    request: CustomizationRequest, purpose: str, *, to: str, actor: User | None
) -> ClientLink:
    """A new link for `purpose` to `to`: any earlier link for it stops working."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    now = clock.now()
    sent_by_id = actor.id if actor is not None else None  # read before a pending link flushes
    link = live_link(request, purpose)
    if link is None:
        link = ClientLink(request_id=request.id, purpose=purpose)
        db.session.add(link)
    link.nonce = secrets.token_urlsafe(12)
    link.sent_to = to
    link.sent_at = now
    link.sent_by_id = sent_by_id
    link.expires_at = now + timedelta(days=current_app.config["CUSTOMIZATION_LINK_DAYS"])
    link.revoked_at = None
    link.used_at = None
    db.session.flush()
    return link


def token_for(link: ClientLink) -> str:
    return _serializer().dumps({"l": link.id, "n": link.nonce})


def url_for_link(link: ClientLink, *, base_url: str | None = None) -> str:
    """The link's absolute address for an email (PUBLIC_URL, else `base_url`)."""
    return public_url(ENDPOINTS[link.purpose], base_url=base_url, token=token_for(link))


def revoke(request: CustomizationRequest, purpose: str) -> ClientLink:
    """The link stops working at once. Raises ValidationError without a live one."""
    link = live_link(request, purpose)
    if link is None or link.revoked_at is not None or link.used_at is not None:
        raise ValidationError("There is no live link to revoke.")
    link.revoked_at = clock.now()
    link.nonce = secrets.token_urlsafe(12)
    db.session.flush()
    return link


def open_link(token: str, purpose: str) -> ClientLink:
    """The link a client's token opens for `purpose`. Raises LinkRefused for a token
    altered or of another purpose, a link revoked or replaced, expired, or already used;
    the messages name nothing of the client."""
    try:
        payload = _serializer().loads(token)
        link_id, nonce = int(payload["l"]), str(payload["n"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkRefused("altered", LINK_ALTERED) from None
    link = db.session.get(ClientLink, link_id)
    if link is None or link.purpose != purpose:
        raise LinkRefused("altered", LINK_ALTERED)
    language = link.request.client.language
    if link.used_at is not None and link.nonce == nonce:
        raise LinkRefused(
            "used", N_("Thank you: this has been answered already."), language=language
        )
    if link.nonce != nonce or link.revoked_at is not None:
        raise LinkRefused("revoked", LINK_REVOKED, language=language)
    if clock.now() >= link.expires_at:
        raise LinkRefused("expired", LINK_EXPIRED, language=language)
    return link


def spend(link: ClientLink) -> None:
    """The client acted through the link: it works no more."""
    link.used_at = clock.now()
    db.session.flush()
