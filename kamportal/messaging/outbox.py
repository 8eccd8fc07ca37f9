"""The outbox: every message is a row written with the change that causes it, then
delivered by a job (jobs/outbox.py) with retries. Sending twice never happens: a
delivery claims its row before sending, and a claimed row is never sent again
automatically.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

from flask import current_app
from sqlalchemy import select, update

from kamportal.extensions import db
from kamportal.jobs import queue
from kamportal.messaging.transports import email_transport
from kamportal.messaging.whatsapp import whatsapp_adapter
from kamportal.models import Channel, Client, DeliveryStatus, OutboxMessage, User
from kamportal.services import clock

DELIVER_JOB = "kamportal.jobs.outbox.deliver"


def delivery_job_id(message_id: int) -> str:
    return f"outbox-{message_id}"


def client_cc(client: Client) -> list[str]:
    """Rule G1: every email to a client CCs the ACM's team leader and the team mailbox
    (and the ACM, so replies-all reach them)."""
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
) -> OutboxMessage:
    """Write an email to the outbox; it is delivered after the commit.

    `key` makes it idempotent: queueing the same key again returns the first message.
    """
    existing = find_by_key(key)
    if existing is not None:
        return existing
    to_addrs = _unique(to)
    message = OutboxMessage(
        idempotency_key=key,
        channel=Channel.EMAIL.value,
        client_id=client.id if client else None,
        actor_id=actor.id if actor else None,
        sender=_sender(actor),
        reply_to=reply_to or (actor.email if actor else None),
        to_addrs=to_addrs,
        cc_addrs=[a for a in _unique(cc) if a not in to_addrs],
        subject=subject,
        body=body,
        status=DeliveryStatus.PENDING.value,
        created_at=clock.now(),
    )
    return _add(message)


def queue_client_email(
    client: Client,
    *,
    key: str,
    to: Iterable[str],
    subject: str,
    body: str,
    actor: User | None,
) -> OutboxMessage:
    """An email to a client, with the CCs rule G1 requires."""
    return queue_email(
        key=key,
        to=to,
        subject=subject,
        body=body,
        client=client,
        actor=actor,
        cc=client_cc(client),
        reply_to=client.acm.email if client.acm else None,
    )


def queue_whatsapp(
    *,
    key: str,
    to: str,
    template: str,
    params: dict,
    client: Client | None = None,
    actor: User | None = None,
) -> OutboxMessage:
    """A WhatsApp template message through the outbox (rules G6, F2)."""
    existing = find_by_key(key)
    if existing is not None:
        return existing
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
    return _add(message)


def find_by_key(key: str) -> OutboxMessage | None:
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))


def _add(message: OutboxMessage) -> OutboxMessage:
    db.session.add(message)
    db.session.flush()
    queue.enqueue_after_commit(
        db.session, DELIVER_JOB, message.id, job_id=delivery_job_id(message.id)
    )
    return message


def retry(message: OutboxMessage) -> None:
    """Send a failed message again (a person asked for it)."""
    if message.delivery_status is not DeliveryStatus.FAILED:
        return
    message.status = DeliveryStatus.PENDING.value
    queue.enqueue_after_commit(
        db.session, DELIVER_JOB, message.id, job_id=delivery_job_id(message.id)
    )


def deliver(message_id: int, *, last_attempt: bool) -> DeliveryStatus:
    """Send one outbox message, at most once.

    The row is claimed (pending → sending) and committed before anything is sent, so a
    second delivery of the same row finds it claimed and sends nothing. A failure puts
    it back to pending for the next retry, or to failed after the last one; the
    exception is raised again so the job queue records and retries it.
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
        return DeliveryStatus.FAILED
    if not claimed:
        return message.delivery_status
    try:
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


def _send(message: OutboxMessage) -> str:
    if message.channel == Channel.WHATSAPP.value:
        return whatsapp_adapter().send_template(
            message.to_addrs[0], message.template or "", message.params
        )
    email = build_email(message)
    email_transport().send(email)
    return email["Message-ID"]


def build_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = message.sender or current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = ", ".join(message.to_addrs)
    if message.cc_addrs:
        email["Cc"] = ", ".join(message.cc_addrs)
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email["Subject"] = message.subject or ""
    # A stable Message-ID: should a message ever be sent twice, mail clients show it once.
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:16]
    domain = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1].partition("@")[2]
    email["Message-ID"] = make_msgid(
        idstring=f"outbox{message.id}.{digest}", domain=domain or "kamportal"
    )
    email.set_content(message.body)
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
