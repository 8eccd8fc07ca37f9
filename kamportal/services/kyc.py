"""The KYC questionnaire (O1): the link the client fills it in through, and its answers.

The link carries a token signed with the app's secret that names one questionnaire and
its current nonce; nothing else. It works without a login until it expires (KYC_LINK_DAYS
after it was sent, on the portal's clock), is revoked or replaced (the nonce changes),
or the answers are submitted. The ACM may also fill the answers in during a call.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from kamportal import clock, i18n
from kamportal.errors import DomainError, ValidationError
from kamportal.extensions import db
from kamportal.i18n import N_
from kamportal.messaging import outbox
from kamportal.models import (
    Client,
    KycQuestionnaire,
    KycStatus,
    OutboxMessage,
    TimelineKind,
    User,
)
from kamportal.services import access, timeline
from kamportal.services.kyc_questions import (
    CHOICE,
    KYC_SECTIONS,
    MAX_ANSWER_LENGTH,
    QUESTIONS,
)

TOKEN_SALT = "kyc-link"


class LinkRefused(DomainError):
    """A KYC link that does not open the form; `reason` is altered, revoked, expired or
    submitted, and the page says which, naming nothing of the client, in the client's
    `language` when the link still tells whose it is (an altered one does not)."""

    def __init__(self, reason: str, message: str, *, language: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.language = language


# What a client's link that opens nothing says (O1, C5, C7), in English here: the page says
# it in the client's language (`blueprints/web.link_refused`).
LINK_ALTERED = N_("This link is not valid. Please use the link exactly as it was emailed.")
LINK_REVOKED = N_(
    "This link no longer works: it was withdrawn or replaced by a newer one. "
    "Please use the latest link your account manager sent you."
)
LINK_EXPIRED = N_("This link has expired. Please ask your account manager for a new one.")


def _link_expired(questionnaire: KycQuestionnaire, *, now: datetime) -> bool:
    return questionnaire.link_expires_at is None or now >= questionnaire.link_expires_at


# The look of the status badge, by status: owed, on its way, under way, done.
_BADGES = {
    KycStatus.NOT_SENT: "owed",
    KycStatus.SENT: "scheduled",
    KycStatus.STARTED: "pending",
    KycStatus.SUBMITTED: "sent",
}


@dataclass(frozen=True)
class KycStanding:
    """Where a client's KYC questionnaire stands (O1), as its panel shows it: the status
    and its badge, whether a link is out and whether it has expired."""

    status: KycStatus
    badge: str
    link_out: bool
    link_expired: bool


def kyc_standing(
    questionnaire: KycQuestionnaire | None, *, now: datetime | None = None
) -> KycStanding:
    """O1: where `questionnaire` (None before anything happened) stands now (or at
    `now`)."""
    if questionnaire is None:
        return KycStanding(KycStatus.NOT_SENT, _BADGES[KycStatus.NOT_SENT], False, False)
    link_out = questionnaire.link_nonce is not None
    status = questionnaire.status
    return KycStanding(
        status=status,
        badge=_BADGES[status],
        link_out=link_out,
        link_expired=link_out
        and questionnaire.link_expires_at is not None
        and _link_expired(questionnaire, now=now or clock.now()),
    )


def questionnaire_of(client: Client) -> KycQuestionnaire | None:
    return db.session.scalar(
        select(KycQuestionnaire).where(KycQuestionnaire.client_id == client.id)
    )


def _questionnaire(client: Client) -> KycQuestionnaire:
    found = questionnaire_of(client)
    if found is None:
        found = KycQuestionnaire(client_id=client.id, answers={})
        db.session.add(found)
        db.session.flush()
    return found


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def token_for(questionnaire: KycQuestionnaire) -> str:
    if questionnaire.link_nonce is None:
        raise ValueError("the questionnaire has no live link")
    return _serializer().dumps({"q": questionnaire.id, "n": questionnaire.link_nonce})


def public_url(endpoint: str, *, base_url: str | None = None, **values: Any) -> str:
    """An absolute address of the portal for an email: under PUBLIC_URL when set, else
    under `base_url` (the address the ACM reached the portal at)."""
    base = current_app.config.get("PUBLIC_URL") or base_url
    if not base:
        raise RuntimeError("Set PUBLIC_URL: emails link to the portal's public address.")
    parts = urlsplit(base)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def link_for(questionnaire: KycQuestionnaire, *, base_url: str | None = None) -> str:
    return public_url("onboarding.kyc_form", base_url=base_url, token=token_for(questionnaire))


def send_link(client: Client, *, actor: User, base_url: str | None = None) -> OutboxMessage:
    """Email the client a new KYC link (O1; G1 CCs), under PUBLIC_URL or else `base_url`.
    Any earlier link stops working.

    Raises ValidationError once the answers are submitted or without a contact email."""
    access.check_works_on(actor, client)
    questionnaire = _questionnaire(client)
    if questionnaire.submitted_at is not None:
        raise ValidationError("The client has submitted the questionnaire already.")
    contact = client.reachable_contact("email")
    if contact is None:
        raise ValidationError("Add the client's contact with an email address first.")
    now = clock.now()
    questionnaire.link_nonce = secrets.token_urlsafe(12)
    questionnaire.link_sent_at = now
    questionnaire.link_sent_to = contact.email
    questionnaire.link_sent_by_id = actor.id
    questionnaire.link_expires_at = now + timedelta(days=current_app.config["KYC_LINK_DAYS"])
    questionnaire.link_revoked_at = None
    message = outbox.email_client(
        client,
        contact,
        key=f"kyc:{client.id}:{questionnaire.link_nonce}",
        subject=i18n.translated(
            client.language,
            "A few questions about %(store)s – %(code)s",
            store=client.store_name,
            code=client.store_code,
        ),
        template="kyc_link.txt",
        link=link_for(questionnaire, base_url=base_url),
        expires_at=clock.in_zone(questionnaire.link_expires_at, client.timezone),
        actor=actor,
    )
    timeline.audit(
        actor,
        "kyc.link_sent",
        questionnaire,
        after={"to": contact.email, "expires_at": questionnaire.link_expires_at},
    )
    timeline.record(
        client,
        TimelineKind.KYC_LINK_SENT,
        actor=actor,
        summary=(
            f"KYC questionnaire link sent to {contact.name} ({contact.email}), valid until ",
            questionnaire.link_expires_at,
        ),
        detail={"contact_id": contact.id, "expires_at": questionnaire.link_expires_at},
        outbox_message=message,
    )
    return message


def revoke_link(client: Client, *, actor: User) -> None:
    """The link stops working at once (O1). Raises ValidationError without a live link."""
    access.check_works_on(actor, client)
    questionnaire = questionnaire_of(client)
    if questionnaire is None or questionnaire.link_nonce is None:
        raise ValidationError("There is no KYC link to revoke.")
    questionnaire.link_nonce = None
    questionnaire.link_revoked_at = clock.now()
    timeline.audit(actor, "kyc.link_revoked", questionnaire, after={"revoked": True})
    timeline.record(
        client, TimelineKind.KYC_LINK_REVOKED, actor=actor, summary="KYC questionnaire link revoked"
    )
    db.session.flush()


def open_link(token: str) -> KycQuestionnaire:
    """The questionnaire a client's link opens. Raises LinkRefused for a token that was
    altered, a link revoked or replaced by a newer one, expired, or already used."""
    try:
        payload = _serializer().loads(token)
        questionnaire_id, nonce = int(payload["q"]), str(payload["n"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkRefused("altered", LINK_ALTERED) from None
    questionnaire = db.session.get(KycQuestionnaire, questionnaire_id)
    if questionnaire is None:
        raise LinkRefused("revoked", LINK_REVOKED)
    language = questionnaire.client.language
    if questionnaire.submitted_at is not None:
        raise LinkRefused(
            "submitted",
            N_("Thank you: this questionnaire has been submitted already."),
            language=language,
        )
    if questionnaire.link_nonce != nonce:
        raise LinkRefused("revoked", LINK_REVOKED, language=language)
    if _link_expired(questionnaire, now=clock.now()):
        raise LinkRefused("expired", LINK_EXPIRED, language=language)
    return questionnaire


def clean_answers(raw: dict[str, Any], *, submitting: bool) -> dict[str, str]:
    """The answers keyed as the questionnaire's data says: unknown keys dropped, a choice
    only among its choices, text within the length. Submitting needs every question that
    is not optional."""
    answers: dict[str, str] = {}
    for key, question in QUESTIONS.items():
        value = str(raw.get(key) or "").strip()
        if len(value) > MAX_ANSWER_LENGTH:
            raise ValidationError(
                gettext("An answer has at most %(n)s characters.", n=MAX_ANSWER_LENGTH),
                field=key,
            )
        if value and question.kind == CHOICE and value not in question.choices:
            raise ValidationError(gettext("Choose one of the answers offered."), field=key)
        if value:
            answers[key] = value
    if submitting:
        for section in KYC_SECTIONS:
            for question in section.questions:
                if not question.optional and question.key not in answers:
                    raise ValidationError(
                        gettext("Please answer this question."), field=question.key
                    )
    return answers


def save_answers(
    questionnaire: KycQuestionnaire,
    raw: dict[str, Any],
    *,
    actor: User | None,
    submit: bool = False,
) -> KycQuestionnaire:
    """Save the answers (the client through the link, `actor` None; or the ACM during a
    call), and submit them when `submit`. Nothing is saved when an answer is refused."""
    client = questionnaire.client
    if actor is not None:
        access.check_works_on(actor, client)
    elif questionnaire.submitted_at is not None:
        raise ValidationError("This questionnaire has been submitted already.")
    submitted = questionnaire.submitted_at is not None
    # Submitted answers stay complete: a correction is checked as a submission.
    answers = clean_answers(raw, submitting=submit or submitted)
    before = dict(questionnaire.answers or {})
    now = clock.now()
    questionnaire.answers = answers
    questionnaire.updated_at = now
    questionnaire.updated_by_id = actor.id if actor else None
    changed = sorted(k for k in set(before) | set(answers) if before.get(k) != answers.get(k))
    if submitted and changed:
        labels = ", ".join(QUESTIONS[k].text for k in changed)
        timeline.record(
            client,
            TimelineKind.KYC_CORRECTED,
            actor=actor,
            summary=f"KYC answers corrected: {labels}",
            detail={"changed": changed},
        )
        timeline.audit(
            actor,
            "kyc.correct",
            questionnaire,
            before={k: before.get(k) for k in changed},
            after={k: answers.get(k) for k in changed},
        )
    if submit and questionnaire.submitted_at is None:
        questionnaire.submitted_at = now
        questionnaire.submitted_by_id = actor.id if actor else None
        questionnaire.link_nonce = None  # the link is used: it opens nothing any more
        who = f"by {actor.name} during a call" if actor else "by the client through the link"
        timeline.record(
            client,
            TimelineKind.KYC_SUBMITTED,
            actor=actor,
            summary=f"KYC questionnaire submitted {who}",
            detail={"answered": len(answers)},
        )
    db.session.flush()
    return questionnaire


def answers_for_acm(
    client: Client, raw: dict[str, Any], *, actor: User, submit: bool = False
) -> KycQuestionnaire:
    """The ACM fills the questionnaire in during a call (O1)."""
    return save_answers(_questionnaire(client), raw, actor=actor, submit=submit)
