"""WhatsApp, behind an adapter: providers take approved templates (a name and parameters).

WhatsApp is not an official channel (rule G6): the portal sends only short template
messages that point the client back to email (F2, E2).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import Flask, current_app

# The approved templates and what they say; the provider holds the same texts.
TEMPLATES: dict[str, str] = {
    "redirect_to_email": (
        "Hello {name}, thank you for your message. WhatsApp is not an official channel for "
        "requests: please send your request to {acm_email} so that we can track it for you."
    ),
    "check_your_email": (
        "Hello {name}, we sent you an email and would love to hear from you. "
        "Could you please check your inbox when you have a moment?"
    ),
    # E2: the escalation ladder's third step, after the "we tried to call you" email.
    "reply_to_our_email": (
        "Hello {name}, we tried to call you and sent you an email so we can help you. "
        "Could you please reply to it with a time that suits you for a call?"
    ),
}


def render_template(template: str, params: dict[str, Any]) -> str:
    """The text of approved `template` with `params`; KeyError for an unknown template or
    a missing parameter."""
    return TEMPLATES[template].format(**params)


class WhatsAppAdapter(Protocol):
    def send_template(self, to: str, template: str, params: dict[str, Any]) -> str:
        """Send an approved template message; returns the provider's message id."""
        ...


@dataclass
class FakeWhatsApp:
    """Records messages instead of sending them (development and tests)."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def send_template(self, to: str, template: str, params: dict[str, Any]) -> str:
        if template not in TEMPLATES:
            raise ValueError(f"unknown WhatsApp template {template!r}")
        message_id = f"fake-wa-{next(self._ids)}"
        self.sent.append({"id": message_id, "to": to, "template": template, "params": params})
        return message_id


def whatsapp_adapter(app: Flask | None = None) -> WhatsAppAdapter:
    """The app's WhatsApp adapter, chosen by WHATSAPP_TRANSPORT; RuntimeError if it has none."""
    app = app or current_app
    adapter = app.extensions.get("kam_whatsapp")
    if adapter is None:
        kind = app.config["WHATSAPP_TRANSPORT"]
        if kind != "fake":
            raise RuntimeError(f"WHATSAPP_TRANSPORT {kind!r} has no adapter; use 'fake'")
        adapter = FakeWhatsApp()
        app.extensions["kam_whatsapp"] = adapter
    return adapter
