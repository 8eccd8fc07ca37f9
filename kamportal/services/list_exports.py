"""Lists out (issue 16): each staff list as rows for a CSV file, read through the same query
as its page (the same filters and the same visibility: an ACM exports only their clients),
unpaged, and fetched CHUNK rows at a time so a large list streams in a fixed number of
queries a chunk. Money is a plain number with its currency beside it, dates and instants
ISO (instants in UTC), names as they are typed (Arabic intact): `csv_files` writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select

from kamportal.extensions import db
from kamportal.models import Client, PaymentStatus, User
from kamportal.models.types import minor_unit
from kamportal.services import (
    churn,
    clients,
    invoices,
    payments,
    renewals,
    team_view,
)

# Rows fetched from the database at a time.
CHUNK = 500


@dataclass(frozen=True)
class ListExport:
    """A list as a file: its name (the date is added when it is sent), the header row,
    and the rows, produced as the file is written."""

    name: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]


def _chunked(query: Select, row: Callable[[Any], Sequence[Any]]) -> Iterator[Sequence[Any]]:
    for record in db.session.scalars(query.execution_options(yield_per=CHUNK)):
        yield row(record)


def _money(amount: Decimal | None, currency: str | None) -> Decimal | None:
    """An amount at its currency's minor unit (12000.00 EGP, 1.250 KWD)."""
    if amount is None or not currency:
        return amount
    return amount.quantize(minor_unit(currency))


def _acm(client: Client) -> tuple[str | None, str | None]:
    return (client.acm.name, client.acm.email) if client.acm else (None, None)


# --- The client list ------------------------------------------------------------------------

CLIENT_HEADER = (
    "store_code",
    "store_name",
    "status",
    "account_manager",
    "account_manager_email",
    "country",
    "timezone",
    "language",
    "plan",
    "industry",
    "health_score",
    "currency",
    "gmv_30_days",
    "recurring_amount",
    "subscribed_at",
    "renewal_date",
    "last_contact_at",
)


def client_list(viewer: User, filters: clients.ClientFilters) -> ListExport:
    """The client list as `viewer` filters it (P2), every page of it."""

    def row(client: Client) -> Sequence[Any]:
        return (
            client.store_code,
            client.store_name,
            client.status,
            *_acm(client),
            client.country,
            client.timezone,
            client.language,
            client.plan,
            client.industry,
            client.health_score,
            client.currency,
            _money(client.gmv_30d, client.currency),
            _money(client.recurring_amount, client.currency),
            client.subscribed_at,
            client.renewal_date,
            client.last_contact_at,
        )

    return ListExport(
        "clients", CLIENT_HEADER, _chunked(clients.client_list_query(viewer, filters), row)
    )


# --- Renewals, unpaid invoices and the forecast (R1, R4) --------------------------------------


def open_renewals(viewer: User) -> ListExport:
    """R1: the renewals to see through, as the renewals page lists them."""

    def row(renewal: Any) -> Sequence[Any]:
        standing = renewals.renewal_standing(renewal)
        return (
            renewal.client.store_code,
            renewal.client.store_name,
            renewal.client.acm.name if renewal.client.acm else None,
            renewal.due_on,
            standing.days_left,
            _money(renewal.amount, renewal.currency),
            renewal.currency,
            renewal.renewal_stage.label,
        )

    header = (
        "store_code",
        "store_name",
        "account_manager",
        "renewal_date",
        "days_left",
        "amount",
        "currency",
        "stage",
    )
    return ListExport("renewals", header, _chunked(renewals.open_renewals_query(viewer), row))


def unpaid_invoices(viewer: User) -> ListExport:
    """R4: the unpaid invoices, as the renewals page lists them."""

    def row(invoice: Any) -> Sequence[Any]:
        return (
            invoice.label,
            invoice.client.store_code,
            invoice.client.store_name,
            _money(invoice.total, invoice.currency),
            invoice.currency,
            invoice.issued_on,
            invoice.due_on,
            invoices.days_overdue(invoice),
            invoice.payment_method.label,
            any(p.status == PaymentStatus.REPORTED.value for p in invoice.payments),
            invoice.reminders_sent,
        )

    header = (
        "invoice",
        "store_code",
        "store_name",
        "total",
        "currency",
        "issued_on",
        "due_on",
        "days_overdue",
        "method",
        "wire_waiting_for_finance",
        "reminders_sent",
    )
    return ListExport(
        "unpaid-invoices", header, _chunked(invoices.unpaid_invoices_query(viewer), row)
    )


def renewal_forecast(viewer: User, *, today: date) -> ListExport:
    """The renewal forecast's rows (a few per team and currency: summed in SQL, not
    streamed)."""
    rows = (
        (
            r.days,
            r.team,
            r.currency,
            *(_money(a, r.currency) for a in (r.confirmed, r.at_risk, r.confirmed + r.at_risk)),
        )
        for r in renewals.forecast(viewer, today=today)
    )
    header = ("due_within_days", "team", "currency", "confirmed", "at_risk", "total")
    return ListExport("renewal-forecast", header, rows)


# --- Finance's queue (R5-R7, R10) -----------------------------------------------------------------

FINANCE_HEADER = (
    "section",
    "store_code",
    "store_name",
    "invoice",
    "amount",
    "currency",
    "due_on",
    "since",
    "days_waiting",
    "flagged_or_overdue",
    "note",
)


def finance_queue(*, now: datetime) -> ListExport:
    """Finance's queue as the page shows it, one section after the other: wires to
    confirm, payments at the premises, payment issues, installments, refunds requested.
    (The queue is what waits now, not a history: it is read whole, as the page reads it.)"""
    return ListExport("finance-queue", FINANCE_HEADER, _finance_rows(now))


def _invoice_row(section: str, invoice: Any, **more: Any) -> tuple[Any, ...]:
    """A row of finance's queue about `invoice`; `more` fills the columns after due_on
    (amount: what was reported instead of the invoice's total)."""
    return (
        section,
        invoice.client.store_code,
        invoice.client.store_name,
        invoice.label,
        _money(more.get("amount", invoice.total), invoice.currency),
        invoice.currency,
        invoice.due_on,
        more.get("since"),
        more.get("days_waiting"),
        more.get("late"),
        more.get("note"),
    )


def _finance_rows(now: datetime) -> Iterator[Sequence[Any]]:
    queue = payments.finance_queue(now=now)
    for wire in queue.wires:
        yield _invoice_row(
            "wire transfer to confirm",
            wire.invoice,
            amount=wire.amount if wire.reported_amount is None else wire.reported_amount,
            since=wire.reported_at,
            days_waiting=queue.ages[wire.id],
            late=wire.flagged_at is not None,
            note=wire.reference,
        )
    for invoice in queue.premises:
        late = invoices.days_overdue(invoice, at=now) > 0
        yield _invoice_row("payment at the premises", invoice, late=late)
    for issue in queue.issues:
        yield _invoice_row("payment issue", issue.invoice, since=issue.raised_at, note=issue.note)
    for invoice in queue.installments:
        yield _invoice_row("installment", invoice, late=queue.overdue[invoice.id])
    for complaint in churn.refunds_requested():
        yield (
            "refund requested",
            complaint.client.store_code,
            complaint.client.store_name,
            None,
            _money(complaint.refund_amount, complaint.refund_currency),
            complaint.refund_currency,
            None,
            complaint.raised_at,
            None,
            None,
            complaint.said,
        )


# --- The leader's late items (issue 14) -----------------------------------------------------------


def late_items(rule_name: str, scope: team_view.Scope, *, now: datetime) -> ListExport:
    """Rule `rule_name`'s late items in `scope`: every one, not only those the page shows."""
    rule = team_view.LATE_RULES[rule_name]

    def row(record: Any) -> Sequence[Any]:
        item = rule.item(record)
        return (
            item.rule,
            rule.heading,
            item.client.store_code,
            item.client.store_name,
            *_acm(item.client),
            item.title,
            item.since,
            item.due_on,
        )

    header = (
        "rule",
        "late",
        "store_code",
        "store_name",
        "account_manager",
        "account_manager_email",
        "what",
        "since",
        "due_on",
    )
    query = team_view.late_query(rule_name, scope, now=now)
    return ListExport(f"late-{rule_name.lower()}", header, _chunked(query, row))
