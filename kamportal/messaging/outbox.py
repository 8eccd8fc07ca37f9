"""The outbox (house style, Messages): every message is a row written with the change that
causes it, then delivered by a job (jobs/outbox.py) with retries, its status visible.

Sending twice never happens: a delivery claims its row before sending, and a claimed row
is never sent again automatically; a delivery cut short is marked failed for a person to
check (`reconcile`).

An email is composed when it is queued, so that what a person previewed is what goes; a
sweep that queues thousands at once (R4's reminders, R7's late wires) leaves each to its
delivery to compose (`queue_emails_composed_later`), as its records then stand.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from babel.core import Locale
from flask import current_app
from sqlalchemy import insert, select, update

from kamportal import clock, i18n, queue
from kamportal.errors import ReusedMessageKey
from kamportal.extensions import db
from kamportal.messaging.transports import email_transport
from kamportal.messaging.whatsapp import render_template, whatsapp_adapter
from kamportal.models import Channel, Client, Contact, DeliveryStatus, OutboxMessage, User


@dataclass(frozen=True)
class Attachment:
    """A file sent with an email: text (an iCalendar invite, a CSV) or bytes (a PDF).

    Kept with the outbox row, so a retry sends the same bytes: text as it is, bytes in
    base64 (the row is JSON)."""

    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST", "application/pdf"
    content: str | bytes

    def __post_init__(self) -> None:
        if isinstance(self.content, str) and not self.content_type.startswith("text/"):
            raise ValueError("text content goes in a text/* attachment; give bytes otherwise")
        if "/" not in self.content_type.partition(";")[0]:
            raise ValueError("a content type reads type/subtype")

    def as_dict(self) -> dict[str, str]:
        if isinstance(self.content, bytes):
            return {
                "filename": self.filename,
                "content_type": self.content_type,
                "content_base64": base64.b64encode(self.content).decode("ascii"),
            }
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "content": self.content,
        }


def attachment_bytes(attachment: dict[str, str]) -> bytes:
    """The bytes of an attachment as an outbox row keeps it (`Attachment.as_dict`)."""
    if "content_base64" in attachment:
        return base64.b64decode(attachment["content_base64"])
    return attachment["content"].encode()


DELIVER_JOB = "kamportal.jobs.outbox.deliver"


def delivery_job_id(message_id: int) -> str:
    """The id of message `message_id`'s delivery job: one per message, so it is never doubled."""
    return f"outbox-{message_id}"


def client_cc(client: Client) -> list[str]:
    """The CCs of an email to `client` (rule G1): the ACM's team leader and the team's
    shared mailbox when one is set, and the ACM, so that replies-all reach them."""
    cc: list[str] = []
    acm = client.acm
    if acm is not None:
        cc.append(acm.email)
        team = acm.team
        if team is not None:
            if team.leader is not None:
                cc.append(team.leader.email)
            if team.shared_mailbox:
                cc.append(team.shared_mailbox)
    return _unique(cc)


@dataclass(frozen=True, eq=False)
class Draft:
    """An email as it would go, before it is queued: who sends it, to and copied to whom,
    its subject and body as the recipient reads them, its attachments. A preview shows it;
    `queue_draft` writes it to the outbox as it is, so what was previewed is what goes."""

    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: str | None
    subject: str
    body: str
    client: Client | None = None
    actor: User | None = None
    attachments: tuple[Attachment, ...] = ()
    language: str = "en"

    @property
    def attachment_names(self) -> list[str]:
        return [a.filename for a in self.attachments]

    @property
    def direction(self) -> str:
        """ "rtl" when the body is in a right-to-left language (Arabic), else "ltr"."""
        return "rtl" if Locale.parse(self.language).character_order == "right-to-left" else "ltr"


def draft_email(
    *,
    to: Iterable[str],
    subject: str,
    body: str,
    client: Client | None = None,
    actor: User | None = None,
    cc: Iterable[str] = (),
    reply_to: str | None = None,
    attachments: Iterable[Attachment] = (),
) -> Draft:
    """An email composed, not queued (see `queue_email`). Raises ValueError without a
    recipient."""
    to_addrs = _unique(to)
    if not to_addrs:
        raise ValueError("an email needs at least one recipient")
    return Draft(
        sender=_sender(actor),
        reply_to=reply_to or (actor.email if actor else None),
        to=tuple(to_addrs),
        cc=tuple(a for a in _unique(cc) if a not in to_addrs),
        # A header holds one line; a line break would make the message unsendable.
        subject=" ".join(subject.split()),
        body=body,
        client=client,
        actor=actor,
        attachments=tuple(attachments),
        language=i18n.language_of(client.language if client is not None else None),
    )


def draft_of(message: OutboxMessage) -> Draft:
    """The email an outbox row holds, as a draft: what a preview shows of an email whose
    making cannot be parted from its sending (a link issued as it goes)."""
    client = db.session.get(Client, message.client_id) if message.client_id else None
    return Draft(
        sender=message.sender,
        to=tuple(message.to_addrs),
        cc=tuple(message.cc_addrs),
        reply_to=message.reply_to,
        subject=message.subject,
        body=message.body,
        client=client,
        actor=db.session.get(User, message.actor_id) if message.actor_id else None,
        attachments=tuple(
            Attachment(a["filename"], a["content_type"], attachment_bytes(a))
            for a in message.attachments or ()
        ),
        language=i18n.language_of(client.language if client is not None else None),
    )


def queue_draft(draft: Draft, *, key: str) -> OutboxMessage:
    """Write `draft` to the outbox, as it is; idempotent by `key` (see `queue_email`)."""
    message = OutboxMessage(
        idempotency_key=key,
        channel=Channel.EMAIL.value,
        client_id=draft.client.id if draft.client else None,
        actor_id=draft.actor.id if draft.actor else None,
        sender=draft.sender,
        reply_to=draft.reply_to,
        to_addrs=list(draft.to),
        cc_addrs=list(draft.cc),
        subject=draft.subject,
        body=draft.body,
        attachments=[a.as_dict() for a in draft.attachments],
        status=DeliveryStatus.PENDING.value,
        created_at=clock.now(),
    )
    return _once(message)


def queue_email(
    *,
    key: str,
    to: Iterable[str],
    subject: str,
    body: str,
    client: Client | None = None,
    actor: User | None = None,
    cc: Iterable[str] = (),
    reply_to: str | None = None,
    attachments: Iterable[Attachment] = (),
) -> OutboxMessage:
    """Write an email to the outbox; its delivery job is enqueued after the commit.
    `attachments` (an iCalendar invite, a PDF) are kept with the row.

    `key` makes it idempotent: queueing the same message under the same key again (a
    double submit, a job run twice) returns the first message and enqueues nothing; the
    same key with other content raises ReusedMessageKey (see `_once`). Two transactions
    racing with one key cannot both commit: the second flush (or commit) raises
    IntegrityError. Raises ValueError without a recipient.
    """
    draft = draft_email(
        to=to,
        subject=subject,
        body=body,
        client=client,
        actor=actor,
        cc=cc,
        reply_to=reply_to,
        attachments=attachments,
    )
    return queue_draft(draft, key=key)


def render_email(name: str, **context: Any) -> str:
    """The body of an email from `templates/emails/<name>`. Only the template and its
    context: a job has no request, and an email needs nothing of the web pages."""
    return current_app.jinja_env.get_template(f"emails/{name}").render(**context)


def client_draft(
    client: Client,
    *,
    to: Iterable[str],
    subject: str,
    body: str,
    actor: User | None,
    attachments: Iterable[Attachment] = (),
) -> Draft:
    """An email to `client`, composed: CC'd as rule G1 requires, replies to the ACM."""
    return draft_email(
        to=to,
        subject=subject,
        body=body,
        client=client,
        actor=actor,
        cc=client_cc(client),
        reply_to=client.acm.email if client.acm else None,
        attachments=attachments,
    )


def queue_client_email(
    client: Client,
    *,
    key: str,
    to: Iterable[str],
    subject: str,
    body: str,
    actor: User | None,
    attachments: Iterable[Attachment] = (),
) -> OutboxMessage:
    """An email to `client` (as `queue_email`), CC'd as rule G1 requires, replies to the ACM."""
    draft = client_draft(
        client, to=to, subject=subject, body=body, actor=actor, attachments=attachments
    )
    return queue_draft(draft, key=key)


def draft_client_email(
    client: Client,
    contact: Contact,
    *,
    subject: str,
    template: str,
    actor: User | None,
    attachments: Iterable[Attachment] = (),
    **context: Any,
) -> Draft:
    """An email from `templates/emails/<template>` to `contact` of `client`, composed (G1
    CCs), rendered in the client's language with the client, the contact, the client's ACM
    as `acm` and `context`. The caller words `subject` in that language
    (`i18n.client_language`)."""
    with i18n.client_language(client.language):
        body = render_email(template, client=client, contact=contact, acm=client.acm, **context)
    return client_draft(
        client,
        to=[contact.email],
        subject=subject,
        body=body,
        actor=actor,
        attachments=attachments,
    )


def email_client(
    client: Client,
    contact: Contact,
    *,
    key: str,
    subject: str,
    template: str,
    actor: User | None,
    attachments: Iterable[Attachment] = (),
    **context: Any,
) -> OutboxMessage:
    """`draft_client_email`, queued (as `queue_client_email`)."""
    draft = draft_client_email(
        client,
        contact,
        subject=subject,
        template=template,
        actor=actor,
        attachments=attachments,
        **context,
    )
    return queue_draft(draft, key=key)


def queue_whatsapp(
    *,
    key: str,
    to: str,
    template: str,
    params: dict,
    client: Client | None = None,
    actor: User | None = None,
) -> OutboxMessage:
    """A WhatsApp template message through the outbox (rules G6, F2), idempotent by `key`
    as `queue_email` is (ReusedMessageKey for the same key with other content).

    Providers take only approved templates: raises KeyError for an unknown template and
    for parameters it lacks, here rather than at every delivery attempt.
    """
    render_template(template, params)
    message = OutboxMessage(
        idempotency_key=key,
        channel=Channel.WHATSAPP.value,
        client_id=client.id if client else None,
        actor_id=actor.id if actor else None,
        to_addrs=[to],
        cc_addrs=[],
        template=template,
        params=params,
        body="",
        status=DeliveryStatus.PENDING.value,
        created_at=clock.now(),
    )
    return _once(message)


@dataclass(frozen=True)
class LaterEmail:
    """An email its delivery composes (`queue_emails_composed_later`): `compose` names the
    function, as "package.module:function", that makes its `Draft` from `params` (plain
    values, ids), in the client's language, as the records stand when it goes."""

    key: str
    compose: str
    params: dict[str, Any]
    client_id: int | None = None


# Keys looked up in one statement (SQLite allows a few thousand parameters).
_KEYS_AT_ONCE = 1000


def queue_emails_composed_later(emails: Sequence[LaterEmail]) -> dict[str, int]:
    """Write `emails` to the outbox in a few statements, each composed by its delivery job
    (rendering each in the sweep that queues thousands took seconds); the jobs are enqueued
    after the commit, in batches. Returns the message id of each key.

    Idempotent by key as `queue_email`: a key used already for the same email gives that
    message; for another, ReusedMessageKey. Two transactions racing with one key cannot both
    commit. Raises ValueError for a `compose` outside the portal.
    """
    wanted = {email.key: email for email in emails}
    for email in wanted.values():
        _composer(email.compose)
    ids: dict[str, int] = {}
    keys = list(wanted)
    for start in range(0, len(keys), _KEYS_AT_ONCE):
        used = db.session.execute(
            select(
                OutboxMessage.idempotency_key,
                OutboxMessage.id,
                OutboxMessage.template,
                OutboxMessage.params,
                OutboxMessage.client_id,
            ).where(OutboxMessage.idempotency_key.in_(keys[start : start + _KEYS_AT_ONCE]))
        )
        for key, message_id, compose, params, client_id in used:
            email = wanted[key]
            if (compose, params, client_id) != (email.compose, email.params, email.client_id):
                raise ReusedMessageKey("This was already used to send another message.")
            ids[key] = message_id
    now = clock.now()
    rows = [
        {
            "idempotency_key": email.key,
            "channel": Channel.EMAIL.value,
            "client_id": email.client_id,
            "to_addrs": [],
            "cc_addrs": [],
            "body": "",
            "attachments": [],
            "template": email.compose,
            "params": email.params,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
        }
        for email in wanted.values()
        if email.key not in ids
    ]
    if rows:
        written = db.session.execute(
            insert(OutboxMessage).returning(OutboxMessage.idempotency_key, OutboxMessage.id),
            rows,
        )
        new = {key: message_id for key, message_id in written}
        queue.enqueue_new_after_commit(
            db.session,
            DELIVER_JOB,
            ((delivery_job_id(message_id), (message_id,)) for message_id in new.values()),
        )
        ids |= new
    return ids


def composed_later(message: OutboxMessage) -> bool:
    """An email its delivery composes (`queue_emails_composed_later`), not composed yet."""
    return (
        message.channel == Channel.EMAIL.value
        and message.template is not None
        and message.subject is None
    )


def _composer(name: str) -> Callable[..., Draft]:
    module, _, function = name.partition(":")
    if not module.startswith("kamportal.") or not function:
        raise ValueError(f"{name!r}: an email is composed by a function of the portal")
    return getattr(importlib.import_module(module), function)


def compose(message: OutboxMessage) -> None:
    """Write into `message` the email its composer makes now: what goes, and what its row
    shows and a retry sends again."""
    draft = _composer(message.template or "")(**message.params)
    message.sender = draft.sender
    message.reply_to = draft.reply_to
    message.to_addrs = list(draft.to)
    message.cc_addrs = list(draft.cc)
    message.subject = draft.subject
    message.body = draft.body
    message.attachments = [a.as_dict() for a in draft.attachments]
    message.actor_id = draft.actor.id if draft.actor else None


def find_by_key(key: str) -> OutboxMessage | None:
    """The message queued under idempotency key `key`, if any."""
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))


# What a message says and to whom: a key reused with any of these different is another
# message. The CCs, sender and reply-to are left out: they follow the client's team and
# the sender (G1), not what was written, so a double submit after a change of team
# leader is still the one message.
_CONTENT = (
    "channel",
    "client_id",
    "to_addrs",
    "subject",
    "body",
    "attachments",
    "template",
    "params",
)


def _same_content(existing: OutboxMessage, message: OutboxMessage) -> bool:
    # A column not set yet (None) and an empty one read back ([] or {}) say the same.
    return all(
        (getattr(existing, name) or None) == (getattr(message, name) or None) for name in _CONTENT
    )


def _once(message: OutboxMessage) -> OutboxMessage:
    """Add `message` unless its key was used: the same content is the same message (a
    double submit, a job run twice) and the first is returned; other content under a used
    key (a form sent again after the Back button, the browser's page cache) is refused
    with ReusedMessageKey, never dropped while the sender is told it was queued."""
    existing = find_by_key(message.idempotency_key)
    if existing is None:
        return _add(message)
    if _same_content(existing, message):
        return existing
    what = (
        f"\u201c{existing.subject}\u201d"
        if existing.channel == Channel.EMAIL.value
        else f"the WhatsApp message to {', '.join(existing.to_addrs)}"
    )
    raise ReusedMessageKey(f"This was already used to send another message ({what}).")


def _add(message: OutboxMessage) -> OutboxMessage:
    db.session.add(message)
    db.session.flush()
    queue.enqueue_after_commit(
        db.session, DELIVER_JOB, message.id, job_id=delivery_job_id(message.id)
    )
    return message


def retry(message: OutboxMessage) -> bool:
    """Send a failed message again, because a person asked for it; False if it had not failed.

    It goes back to pending and a fresh delivery job, with its own retries, is enqueued
    after the caller commits.
    """
    if message.delivery_status is not DeliveryStatus.FAILED:
        return False
    message.status = DeliveryStatus.PENDING.value
    db.session.flush()
    queue.enqueue_after_commit(
        db.session, DELIVER_JOB, message.id, job_id=delivery_job_id(message.id)
    )
    return True


def deliver(message_id: int, *, last_attempt: bool) -> DeliveryStatus | None:
    """Send one outbox message, at most once; returns its status (None if it is gone).

    The row is claimed (pending → sending) and committed before anything is sent, so a
    second delivery of the same row finds it claimed and sends nothing. A failure puts
    it back to pending for the next retry, or to failed after the last one, and raises
    the transport's exception again so the job queue records and retries it. Commits.
    """
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .where(OutboxMessage.status == DeliveryStatus.PENDING.value)
        .values(status=DeliveryStatus.SENDING.value, attempts=OutboxMessage.attempts + 1)
    ).rowcount
    db.session.commit()
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return None
    if not claimed:
        return message.delivery_status
    try:
        if composed_later(message):
            compose(message)
        provider_id = _send(message)
    except Exception as error:
        message.status = (
            DeliveryStatus.FAILED.value if last_attempt else DeliveryStatus.PENDING.value
        )
        message.last_error = f"{type(error).__name__}: {error}"[:2000]
        db.session.commit()
        raise
    message.status = DeliveryStatus.SENT.value
    message.sent_at = clock.now()
    message.provider_message_id = provider_id
    message.last_error = None
    db.session.commit()
    return DeliveryStatus.SENT


def pending_message_ids(*, created_before: datetime) -> list[int]:
    """Pending messages older than `created_before`: their delivery job may have been lost."""
    return list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == DeliveryStatus.PENDING.value)
            .where(OutboxMessage.created_at < created_before)
            .order_by(OutboxMessage.id)
        )
    )


def sending_messages() -> list[tuple[int, int]]:
    """(id, attempts) of claimed messages: being sent, or their delivery was cut short.

    However new: a claim happens inside a running delivery job, so whether its job still
    runs tells the two apart (`jobs/outbox.py`, reconcile)."""
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.attempts)
        .where(OutboxMessage.status == DeliveryStatus.SENDING.value)
        .order_by(OutboxMessage.id)
    )
    return [(message_id, attempts) for message_id, attempts in rows]


def mark_interrupted(message_id: int, *, attempts: int) -> bool:
    """Fail a message whose delivery claimed it and never finished (worker killed, database
    lost after sending); True if it was still in that state.

    Nobody knows whether it went out, so it is not resent automatically: failed, it is
    visible and a person decides (`retry`). `attempts` must match, so a delivery that
    finishes meanwhile is never overwritten. The caller commits.
    """
    return bool(
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .where(OutboxMessage.status == DeliveryStatus.SENDING.value)
            .where(OutboxMessage.attempts == attempts)
            .values(
                status=DeliveryStatus.FAILED.value,
                last_error="Delivery was interrupted; check whether it arrived before retrying.",
            )
        ).rowcount
    )


def _send(message: OutboxMessage) -> str:
    if message.channel == Channel.WHATSAPP.value:
        return whatsapp_adapter().send_template(
            message.to_addrs[0], message.template or "", message.params
        )
    email = build_email(message)
    email_transport().send(email)
    return email["Message-ID"]


def build_email(message: OutboxMessage) -> EmailMessage:
    """The email of outbox message `message`, with the same Message-ID every time."""
    email = EmailMessage()
    email["From"] = message.sender or current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = ", ".join(message.to_addrs)
    if message.cc_addrs:
        email["Cc"] = ", ".join(message.cc_addrs)
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email["Subject"] = message.subject or ""
    email["Date"] = format_datetime(clock.now())
    # A stable Message-ID (not make_msgid, which adds the time and a random number): should
    # a message ever be sent twice, mail clients show it once.
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:16]
    domain = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1].partition("@")[2]
    email["Message-ID"] = f"<outbox-{message.id}.{digest}@{domain or 'kamportal'}>"
    email.set_content(message.body)
    for attachment in message.attachments or []:
        # "text/calendar; method=REQUEST" -> type, subtype and parameters.
        kind, *parameters = (part.strip() for part in attachment["content_type"].split(";"))
        maintype, _, subtype = kind.partition("/")
        if "content_base64" in attachment:
            email.add_attachment(
                attachment_bytes(attachment),
                maintype=maintype,
                subtype=subtype,
                filename=attachment["filename"],
            )
            continue
        email.add_attachment(
            attachment["content"],
            subtype=subtype,
            filename=attachment["filename"],
            params=dict(p.split("=", 1) for p in parameters if "=" in p),
        )
    return email


def _sender(actor: User | None) -> str:
    default = current_app.config["MAIL_DEFAULT_SENDER"]
    if actor is None:
        return default
    # The relay accepts only the portal's address; the ACM's name shows, replies go to them.
    return formataddr((f"{actor.name} via KAM Portal", parseaddr(default)[1]))


def _unique(addresses: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for address in addresses:
        if address and address.strip().lower() not in seen:
            seen[address.strip().lower()] = address.strip()
    return list(seen.values())
