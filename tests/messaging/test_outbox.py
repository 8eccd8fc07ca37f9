"""The outbox end to end with real parts: a real RQ worker (Redis or embedded queue) and a
real SMTP server (aiosmtpd); WhatsApp through its fake adapter.

House style, "Messages": a row per message written with the change, delivered by a job
with retries, never twice, its status visible. Rule G1 for the CCs of client email.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq.job import JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import func, select, update

from kamportal import clock, queue
from kamportal.errors import ReusedMessageKey
from kamportal.jobs import outbox as outbox_jobs
from kamportal.messaging import outbox
from kamportal.messaging.whatsapp import whatsapp_adapter
from kamportal.models import DeliveryStatus, OutboxMessage
from tests.conftest import free_port
from tests.jobs import sample_jobs


@pytest.fixture
def account(make_portfolio):
    """A client whose ACM's team has a leader and a shared mailbox, and one contact."""
    return make_portfolio(
        team={"shared_mailbox": "cairo-team@kam.example"},
        leader={"email": "leader@kam.example"},
        acm={"email": "acm@kam.example", "name": "Mona ACM"},
        contact={"email": "owner@store.example"},
    )


def _queue_welcome(account, key: str = "welcome-1") -> OutboxMessage:
    return outbox.queue_client_email(
        account.client,
        key=key,
        to=[account.contact.email],
        subject="Welcome to ExpandCart – ST00001",
        body="Hello,\nI am your account manager.\n",
        actor=account.acm,
    )


def _reload(db, message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def _point_smtp_at(app, port: int) -> None:
    app.config["MAIL_PORT"] = port
    app.extensions.pop("kam_email_transport", None)


def test_client_email_is_delivered_once_with_the_g1_ccs(app, db, smtp_server, run_jobs, account):
    """Rule G1: the client gets it once, CC the ACM, the team leader and the team mailbox,
    replies going to the ACM, under a Message-ID that stays the same."""
    message = _queue_welcome(account)
    db.session.commit()

    run_jobs()
    run_jobs()

    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    assert email["To"] == "owner@store.example"
    cc = {address.strip() for address in email["Cc"].split(",")}
    assert cc == {"acm@kam.example", "leader@kam.example", "cairo-team@kam.example"}
    assert email["Reply-To"] == "acm@kam.example"
    assert email["From"] == "Mona ACM via KAM Portal <kam@localhost>"
    assert email["Subject"] == "Welcome to ExpandCart – ST00001"
    # SMTP carries lines ending in CRLF.
    assert email.get_content().replace("\r\n", "\n") == "Hello,\nI am your account manager.\n"
    assert email["Date"]
    _, recipients = smtp_server.envelopes[0]
    assert set(recipients) == {"owner@store.example"} | cc

    message = _reload(db, message.id)
    assert message.delivery_status is DeliveryStatus.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.last_error is None
    assert message.provider_message_id == email["Message-ID"]
    assert email["Message-ID"].startswith(f"<outbox-{message.id}.")
    assert outbox.build_email(message)["Message-ID"] == email["Message-ID"]


def test_delivering_the_same_message_twice_sends_it_once(app, db, smtp_server, run_jobs, account):
    """The delivery claims the row before sending: a second job or call sends nothing."""
    message = _queue_welcome(account)
    db.session.commit()
    job_id = outbox.delivery_job_id(message.id)
    # Enqueued again under its own id it is replaced; under another id it runs twice.
    queue.enqueue(outbox.DELIVER_JOB, message.id, job_id=job_id)
    queue.enqueue(outbox.DELIVER_JOB, message.id, job_id=f"{job_id}-again")
    assert queue.get_queue(app).count == 2

    run_jobs()

    assert len(smtp_server.messages) == 1
    assert queue.get_queue(app).fetch_job(f"{job_id}-again").return_value() == "sent"

    assert outbox_jobs.deliver(message.id) == "sent"
    assert outbox_jobs.deliver(message.id) == "sent"
    assert len(smtp_server.messages) == 1
    assert _reload(db, message.id).attempts == 1


def test_calling_the_delivery_job_twice_sends_once(app, db, smtp_server, account):
    message = _queue_welcome(account)
    db.session.commit()

    assert outbox_jobs.deliver(message.id) == "sent"
    assert outbox_jobs.deliver(message.id) == "sent"

    assert len(smtp_server.messages) == 1
    assert outbox_jobs.deliver(message.id + 1000) is None


def test_the_same_idempotency_key_gives_one_message(app, db, run_jobs, account):
    first = _queue_welcome(account, key="welcome-st00001")
    again = _queue_welcome(account, key="welcome-st00001")
    db.session.commit()
    later = _queue_welcome(account, key="welcome-st00001")
    db.session.commit()

    assert first.id == again.id == later.id
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert queue.get_queue(app).job_ids == [outbox.delivery_job_id(first.id)]


@pytest.mark.parametrize(
    "change",
    [
        {"subject": "Welcome again – ST00001"},
        {"body": "Hello,\nI am your new account manager.\n"},
        {"to": ["someone-else@store.example"]},
        {"attachments": [outbox.Attachment("invite.ics", "text/calendar", "BEGIN:VCALENDAR")]},
    ],
    ids=["subject", "body", "recipients", "attachments"],
)
def test_a_used_key_with_other_content_is_refused_never_dropped(app, db, account, change):
    """A key is one message: sending other words, to other people or with other files
    under a used key (the Back button, the page cache) is refused with a message saying
    what went, and nothing is queued; the first message is untouched."""
    first = _queue_welcome(account, key="form-1")
    db.session.commit()
    values = {
        "key": "form-1",
        "to": [account.contact.email],
        "subject": "Welcome to ExpandCart – ST00001",
        "body": "Hello,\nI am your account manager.\n",
        "actor": account.acm,
    }
    values.update(change)

    with pytest.raises(ReusedMessageKey) as refused:
        outbox.queue_client_email(account.client, **values)

    assert "\u201cWelcome to ExpandCart – ST00001\u201d" in refused.value.message
    db.session.rollback()
    assert db.session.scalars(select(OutboxMessage)).all() == [first]
    assert first.subject == "Welcome to ExpandCart – ST00001"
    assert queue.get_queue(app).job_ids == [outbox.delivery_job_id(first.id)]


def test_the_same_content_under_a_used_key_is_still_one_message(db, account):
    """A double submit is one message even when what the outbox adds differs (the CCs
    follow the team, G1): only what the sender wrote and to whom counts."""
    first = _queue_welcome(account, key="form-2")
    db.session.commit()
    account.team.shared_mailbox = "new-mailbox@kam.example"
    db.session.commit()

    assert _queue_welcome(account, key="form-2").id == first.id
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_used_whatsapp_key_with_other_content_is_refused(db, account):
    """The same for WhatsApp: another recipient or other parameters under a used key."""
    values = {
        "key": "wa-1",
        "to": account.contact.whatsapp,
        "template": "check_your_email",
        "params": {"name": "Omar"},
        "client": account.client,
    }
    first = outbox.queue_whatsapp(**values)
    db.session.commit()
    assert outbox.queue_whatsapp(**values).id == first.id

    for change in ({"to": "+201009998887"}, {"params": {"name": "Sara"}}):
        with pytest.raises(ReusedMessageKey):
            outbox.queue_whatsapp(**{**values, **change})
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def _retry_now(app, job_id: str) -> None:
    """Bring a scheduled retry forward to now, so the next scheduler pass enqueues it."""
    registry = ScheduledJobRegistry(queue=queue.get_queue(app))
    job = queue.get_queue(app).fetch_job(job_id)
    registry.schedule(job, datetime.now(UTC) - timedelta(seconds=1))


def test_smtp_down_retries_then_fails_visibly_and_a_person_can_retry(
    app, db, smtp_server, run_jobs, account
):
    """Transient failure: back to pending and retried by RQ; after the last attempt the
    message is failed and visible; `retry` sends it once the relay is back."""
    _point_smtp_at(app, free_port())
    message = _queue_welcome(account)
    db.session.commit()
    job_id = outbox.delivery_job_id(message.id)

    run_jobs()

    message = _reload(db, message.id)
    assert message.delivery_status is DeliveryStatus.PENDING
    assert message.attempts == 1
    assert message.last_error.startswith("ConnectionRefusedError")
    job = queue.get_queue(app).fetch_job(job_id)
    assert job.get_status() is JobStatus.SCHEDULED
    assert job.retries_left == queue.DEFAULT_RETRY.max - 1
    retry_at = queue.scheduled_at(job_id)
    first_interval = queue.DEFAULT_RETRY.intervals[0]
    assert retry_at - datetime.now(UTC) > timedelta(seconds=first_interval - 3)
    run_jobs()
    assert _reload(db, message.id).attempts == 1  # not due yet

    for attempt in range(2, queue.DEFAULT_RETRY.max + 2):
        _retry_now(app, job_id)
        run_jobs()
        assert _reload(db, message.id).attempts == attempt

    message = _reload(db, message.id)
    assert message.delivery_status is DeliveryStatus.FAILED
    assert message.last_error.startswith("ConnectionRefusedError")
    job = queue.get_queue(app).fetch_job(job_id)
    assert job.get_status() is JobStatus.FAILED
    assert job_id in FailedJobRegistry(queue=queue.get_queue(app))
    assert "ConnectionRefusedError" in job.latest_result().exc_string
    assert smtp_server.messages == []

    _point_smtp_at(app, smtp_server.port)
    assert outbox.retry(message) is True
    db.session.commit()
    run_jobs()
    run_jobs()

    assert len(smtp_server.messages) == 1
    message = _reload(db, message.id)
    assert message.delivery_status is DeliveryStatus.SENT
    assert message.last_error is None
    assert outbox.retry(message) is False


def test_reconcile_redelivers_a_message_whose_job_redis_lost(
    app, db, smtp_server, run_jobs, account, frozen_clock
):
    message = _queue_welcome(account)
    db.session.commit()
    queue.get_queue(app).fetch_job(outbox.delivery_job_id(message.id)).delete()
    clock.advance(outbox_jobs.LOST_AFTER / 2)
    assert outbox_jobs.reconcile() == 0  # too recent: its after-commit enqueue may be under way

    clock.advance(outbox_jobs.LOST_AFTER)
    assert outbox_jobs.reconcile() == 1
    assert outbox_jobs.reconcile() == 0  # its job is waiting now
    run_jobs()

    assert len(smtp_server.messages) == 1
    assert _reload(db, message.id).delivery_status is DeliveryStatus.SENT


def test_reconcile_leaves_a_sent_message_alone(
    app, db, smtp_server, run_jobs, account, frozen_clock
):
    message = _queue_welcome(account)
    db.session.commit()
    run_jobs()
    clock.advance(timedelta(hours=1))

    assert outbox_jobs.reconcile() == 0
    run_jobs()

    assert len(smtp_server.messages) == 1
    assert _reload(db, message.id).delivery_status is DeliveryStatus.SENT


def test_reconcile_redelivers_a_message_whose_job_failed_before_claiming_it(
    app, db, smtp_server, run_jobs, account, frozen_clock
):
    """Every attempt failed before the claim (database down): the message is still
    pending, RQ has given up; the sweep starts a fresh delivery."""
    message = _queue_welcome(account)
    db.session.commit()
    job_id = outbox.delivery_job_id(message.id)
    queue.enqueue(sample_jobs.fail, "database unavailable", job_id=job_id, retry=None)
    run_jobs()
    assert queue.job_status(job_id) is JobStatus.FAILED
    clock.advance(timedelta(minutes=10))

    assert outbox_jobs.reconcile() == 1
    run_jobs()

    assert len(smtp_server.messages) == 1
    assert _reload(db, message.id).delivery_status is DeliveryStatus.SENT


def test_reconcile_fails_a_delivery_that_was_cut_short(
    app, db, smtp_server, run_jobs, account, frozen_clock
):
    """Claimed, then the worker died: nobody knows whether it went out, so it is failed
    for a person to check, not resent. A delivery still running is left alone."""
    cut_short = _queue_welcome(account, key="cut-short")
    running = _queue_welcome(account, key="running")
    db.session.commit()
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([cut_short.id, running.id]))
        .values(status=DeliveryStatus.SENDING.value, attempts=1)
    )
    db.session.commit()
    queue.cancel(outbox.delivery_job_id(cut_short.id))
    running_job = queue.get_queue(app).fetch_job(outbox.delivery_job_id(running.id))
    running_job.set_status(JobStatus.STARTED)
    clock.advance(timedelta(minutes=10))

    assert outbox_jobs.reconcile() == 0

    cut_short = _reload(db, cut_short.id)
    assert cut_short.delivery_status is DeliveryStatus.FAILED
    assert "interrupted" in cut_short.last_error
    assert _reload(db, running.id).delivery_status is DeliveryStatus.SENDING
    assert smtp_server.messages == []
    assert outbox.retry(cut_short) is True
    db.session.commit()
    run_jobs()
    assert len(smtp_server.messages) == 1


def test_whatsapp_template_goes_through_the_adapter_once(app, db, run_jobs, account):
    """Rules G6, F2: a template message, its provider id recorded."""
    message = outbox.queue_whatsapp(
        key="check-email-1",
        to=account.contact.whatsapp,
        template="check_your_email",
        params={"name": account.contact.name},
        client=account.client,
        actor=account.acm,
    )
    db.session.commit()

    run_jobs()
    assert outbox_jobs.deliver(message.id) == "sent"

    sent = whatsapp_adapter(app).sent
    assert len(sent) == 1
    assert sent[0]["to"] == account.contact.whatsapp
    assert sent[0]["template"] == "check_your_email"
    assert sent[0]["params"] == {"name": account.contact.name}
    message = _reload(db, message.id)
    assert message.delivery_status is DeliveryStatus.SENT
    assert message.provider_message_id == sent[0]["id"]


@pytest.mark.parametrize(
    ("template", "params"),
    [("free_text", {"name": "Omar"}), ("redirect_to_email", {"name": "Omar"})],
)
def test_whatsapp_outside_the_approved_templates_is_refused(app, db, account, template, params):
    """Providers take approved templates only (rule G6): an unknown template or a missing
    parameter is refused when queued, not at every delivery attempt."""
    with pytest.raises(KeyError):
        outbox.queue_whatsapp(key="wa-bad", to="+201001234567", template=template, params=params)

    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_an_attachment_travels_with_the_row_and_arrives_at_the_smtp_server(
    account, db, run_jobs, smtp_server
):
    """What F3's invites need: a text attachment kept on the outbox row and sent with it."""
    invite = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    outbox.queue_client_email(
        account.client,
        key="with-invite",
        to=[account.contact.email],
        subject="Invite",
        body="See the invite.",
        actor=account.acm,
        attachments=[outbox.Attachment("invite.ics", "text/calendar; method=REQUEST", invite)],
    )
    db.session.commit()
    run_jobs()

    (email,) = smtp_server.messages
    (part,) = list(email.iter_attachments())
    assert part.get_filename() == "invite.ics"
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert part.get_content().replace("\r\n", "\n") == invite.replace("\r\n", "\n")
    with pytest.raises(ValueError, match="give bytes"):
        outbox.Attachment("a.pdf", "application/pdf", "x")


def test_a_binary_attachment_arrives_byte_for_byte_and_a_retry_sends_the_same_bytes(
    account, db, run_jobs, smtp_server
):
    """What P4's report needs: a PDF (bytes, every value 0-255) kept on the row in base64,
    sent with it, and resent as it was."""
    pdf = b"%PDF-1.4\n" + bytes(range(256)) + b"\n%%EOF\n"
    message = outbox.queue_client_email(
        account.client,
        key="with-pdf",
        to=[account.contact.email],
        subject="Your report",
        body="Attached.",
        actor=account.acm,
        attachments=[outbox.Attachment("report.pdf", "application/pdf", pdf)],
    )
    db.session.commit()
    assert outbox.attachment_bytes(message.attachments[0]) == pdf
    run_jobs()

    (email,) = smtp_server.messages
    (part,) = list(email.iter_attachments())
    assert part.get_filename() == "report.pdf"
    assert part.get_content_type() == "application/pdf"
    assert part.get_content() == pdf
    db.session.expire_all()
    assert (
        outbox.build_email(db.session.get(OutboxMessage, message.id))
        .get_body(("plain",))
        .get_content()
        .strip()
        == "Attached."
    )
