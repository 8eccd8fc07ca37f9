"""Where each item of the day is done (issue 16): its task's own page (the minutes form,
the welcome email, the escalation) or its place on the client page, and the words of the
link. The one place that says it, for every kind of item the day lists.

Links into the client page open the tab that shows the panel (`client_tabs.client_page`):
`/clients/<id>?tab=<tab>#<anchor>`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import url_for

from kamportal.blueprints.client_tabs import client_page
from kamportal.blueprints.day import bp
from kamportal.models import RenewalStage
from kamportal.services.day import DayItem


@dataclass(frozen=True)
class TaskLink:
    url: str
    words: str
    # Outside the portal (a Jira ticket): opens in its own tab.
    external: bool = False


def on_client_page(item: DayItem, anchor: str) -> str:
    """The item's client page, opened on the tab that shows the panel (or row) `anchor`."""
    return client_page(item.client.id, anchor)


def _meeting(item: DayItem) -> TaskLink:
    return TaskLink(on_client_page(item, f"meeting-{item.meeting.id}"), "open the meeting")


def _confirmation(item: DayItem) -> TaskLink:
    return TaskLink(on_client_page(item, f"meeting-{item.meeting.id}"), "confirm the meeting")


def _minutes(item: DayItem) -> TaskLink:
    return TaskLink(
        url_for("meetings.minutes_form", minutes_id=item.minutes.id), "write the minutes"
    )


def _action(item: DayItem) -> TaskLink:
    return TaskLink(
        on_client_page(item, f"action-item-{item.action_item.id}"),
        "follow up the action",
    )


def _escalation(item: DayItem) -> TaskLink:
    escalation = item.escalation
    if escalation.waiting_for_leader:
        words = "decide"
    elif escalation.paused_at is not None:
        words = "read the client's reply"
    else:
        words = "call the client"
    return TaskLink(url_for("escalations.show", escalation_id=escalation.id), words)


# What the renewal panel asks of the ACM at each stage the day lists (R2, R3).
_RENEWAL_WORDS = {
    RenewalStage.DUE.value: "send the renewal notice",
    RenewalStage.NOTIFIED.value: "record the client's confirmation",
    RenewalStage.CONFIRMED.value: "create the invoice",
}


def _renewal(item: DayItem) -> TaskLink:
    return TaskLink(on_client_page(item, "renewal-panel"), _RENEWAL_WORDS[item.renewal.stage])


def _invoice(item: DayItem) -> TaskLink:
    return TaskLink(on_client_page(item, f"invoice-{item.invoice.id}"), "follow up the invoice")


def _support(item: DayItem) -> TaskLink:
    ticket = item.support_ticket
    if ticket.url:  # on Jira, where the ticket is worked on
        return TaskLink(ticket.url, f"follow up {ticket.ticket_key} in Jira", external=True)
    return TaskLink(on_client_page(item, "support-panel"), "follow up the ticket")


def _customization(item: DayItem) -> TaskLink:
    request_id = item.customization.id
    if item.rule == "C6":
        return TaskLink(
            url_for("customizations.show", request_id=request_id) + "#quotation-invoice-form",
            "issue the invoice",
        )
    if item.rule == "C3":
        return TaskLink(
            url_for("customizations.show", request_id=request_id) + "#hold-answer-form",
            "answer product",
        )
    return TaskLink(url_for("customizations.show", request_id=request_id), "see the request")


def _on_request(anchor: str, words: str) -> Callable[[DayItem], TaskLink]:
    def link(item: DayItem) -> TaskLink:
        url = url_for("customizations.show", request_id=item.customization.id)
        return TaskLink(f"{url}#{anchor}", words)

    return link


def _on_client(anchor: str, words: str) -> Callable[[DayItem], TaskLink]:
    return lambda item: TaskLink(on_client_page(item, anchor), words)


def _handover(item: DayItem) -> TaskLink:
    if item.meeting is not None:
        return _meeting(item)
    return TaskLink(
        url_for("meetings.new", client_id=item.client.id, kind="handover"),
        "book a hand-over meeting",
    )


TASKS: dict[str, Callable[[DayItem], TaskLink]] = {
    "meeting": _meeting,
    "confirmation": _confirmation,
    "minutes": _minutes,
    "action": _action,
    "escalation": _escalation,
    "welcome": lambda item: TaskLink(
        url_for("onboarding.welcome", client_id=item.client.id), "review and send"
    ),
    "renewal": _renewal,
    "invoice": _invoice,
    "overdue": _on_client("log-contact", "log a contact"),
    "due_soon": _on_client("log-contact", "log a contact"),
    "no_reply": _on_client("no-reply-ladder", "send the follow-up"),
    "whatsapp": _on_client("whatsapp-panel", "answer the request"),
    "not_selling": lambda item: TaskLink(
        on_client_page(item, f"not-selling-{item.alert_id}"),
        "record the reasons and actions",
    ),
    "support": _support,
    "customization": _customization,
    "rejection": _on_request("rejection", "send the reason"),
    "concept": _on_request("concept-panel", "open the concept document"),
    "milestone": _on_request("delivery", "update the milestone"),
    "acceptance": _on_request("delivery-acceptance", "obtain the acceptance"),
    "closure": _on_request("delivery-acceptance", "close the customization"),
    "handover": _handover,
    "plan_review": lambda item: TaskLink(
        url_for("account_plans.show", client_id=item.client.id) + "#review", "review the plan"
    ),
    "client_report": lambda item: TaskLink(
        url_for("client_reports.show", report_id=item.client_report.id), "review and send"
    ),
}


@bp.app_template_global()
def task_link(item: DayItem) -> TaskLink:
    """Where `item`'s task is done, and the link's words."""
    return TASKS[item.kind](item)
