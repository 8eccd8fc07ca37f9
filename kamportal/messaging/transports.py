"""How an email leaves: SMTP in production, the log in development, a list in tests."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from flask import Flask, current_app

log = logging.getLogger(__name__)


class EmailTransport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand `message` over for delivery to its To and Cc; raises if that failed."""
        ...


class SMTPTransport:
    """Production: the relay at MAIL_SERVER:MAIL_PORT, with STARTTLS or SSL and a login
    when configured. One connection per message: the outbox sends one at a time."""

    def __init__(self, config: dict) -> None:
        self.host = config["MAIL_SERVER"]
        self.port = config["MAIL_PORT"]
        self.username = config["MAIL_USERNAME"]
        self.password = config["MAIL_PASSWORD"]
        self.use_tls = config["MAIL_USE_TLS"]
        self.use_ssl = config["MAIL_USE_SSL"]
        self.timeout = config["MAIL_TIMEOUT"]

    def send(self, message: EmailMessage) -> None:
        """Send `message` to its To and Cc.

        Raises OSError when the relay cannot be reached and smtplib.SMTPException when it
        refuses the message or every recipient; the outbox then retries. Recipients refused
        one by one do not raise (the others have it, and a retry would send it to them
        twice): they are logged.
        """
        smtp_class = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
            if self.use_tls and not self.use_ssl:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            refused = smtp.send_message(message)
        if refused:
            log.warning(
                "email %s: recipients refused by the relay: %s", message["Message-ID"], refused
            )


class ConsoleTransport:
    """Development: the email is written to the log instead of being sent."""

    def send(self, message: EmailMessage) -> None:
        log.info("email (console transport, not sent):\n%s", message.as_string())


class MemoryTransport:
    """Tests that are not about delivery: sent messages are kept in `outbox`."""

    def __init__(self) -> None:
        self.outbox: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.outbox.append(message)


def email_transport(app: Flask | None = None) -> EmailTransport:
    """The app's transport, chosen by MAIL_TRANSPORT (smtp, console or memory) on first use.

    Raises RuntimeError for any other value.
    """
    app = app or current_app
    transport = app.extensions.get("kam_email_transport")
    if transport is None:
        kind = app.config["MAIL_TRANSPORT"]
        if kind == "smtp":
            transport = SMTPTransport(app.config)
        elif kind == "console":
            transport = ConsoleTransport()
        elif kind == "memory":
            transport = MemoryTransport()
        else:
            raise RuntimeError(f"MAIL_TRANSPORT must be smtp, console or memory, not {kind!r}")
        app.extensions["kam_email_transport"] = transport
    return transport
