"""P4: the monthly client report.

On the first working day of a month (the client's team calendar, from its opening hour),
each live or at-risk client gets a draft report on the month that just ended: at most five
headline metrics from the store's days of that month (F4's StoreDay, in the store's
currency), frozen as they stood when drafted. The ACM writes the commentary and next
month's proposals and sends it: an email with the report as a PDF, CC'd as G1 says, once.
A draft is owed on the ACM's day, late from DUE_BUSINESS_DAYS business days after it was
drafted (the drafting day not counted), until it is sent.

The hourly sweep (jobs/client_reports.py) drafts what has come due and nothing twice: one
report per client and month, which the database holds to as well.
"""

from __future__ import annotations

import calendar as months
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import case, func, select
from sqlalchemy.orm import contains_eager, joinedload

from kamportal import clock, i18n
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    Client,
    ClientReport,
    Contact,
    LifecycleStatus,
    Money,
    OutboxMessage,
    ReportStatus,
    StoreDay,
    TimelineKind,
    User,
)
from kamportal.models.types import minor_unit
from kamportal.services import access, cadence, timeline, validation
from kamportal.services.calendar import BusinessCalendar, CalendarCache
from kamportal.services.client_report_pdf import Metric, report_filename, report_pdf
from kamportal.services.store_trends import Period, average_day_change

# The clients a report is drafted for: those selling (onboarding stores sell nothing yet).
REPORTED = (LifecycleStatus.LIVE.value, LifecycleStatus.AT_RISK.value)
# Business days after the drafting day by which the ACM sends the report.
DUE_BUSINESS_DAYS = 3
TEXT_MAX = 4000
PDF_TYPE = "application/pdf"
_FIELDS = ("commentary", "proposals", "status", "sent_at", "outbox_message_id")


# --- Months and when a report is drafted ------------------------------------------------------


def month_before(month: date) -> date:
    """The first day of the month before `month`'s."""
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def last_day(month: date) -> date:
    return month.replace(day=months.monthrange(month.year, month.month)[1])


def drafting_time(business: BusinessCalendar, month: date) -> datetime:
    """When the reports on the month before `month` are drafted: the opening of `month`'s
    first working day on `business` (its week, public holidays and the admin's days), UTC."""
    first = datetime.combine(month.replace(day=1), time.min, tzinfo=ZoneInfo(business.zone))
    return business.next_opening(first)


def month_owed(client: Client, business: BusinessCalendar, *, now: datetime) -> date | None:
    """The month whose report `client` is owed at `now`: the month that just ended on its
    team's calendar, from the opening of that calendar's first working day of the new
    month, once the month is over in the store's zone too (its last day's figures are
    whole). None before then, and once the drafts' DUE_BUSINESS_DAYS have run out: a sweep
    that missed the day still drafts, but a client that goes live mid-month waits for the
    next month's report rather than getting one on a month it was not live."""
    this_month = clock.today(business.zone, at=now).replace(day=1)
    opens = drafting_time(business, this_month)
    if not opens <= now < business.end_of_business_days(opens, DUE_BUSINESS_DAYS):
        return None
    if clock.today(client.timezone, at=now) < this_month:
        return None
    return month_before(this_month)


# --- The store's month -------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthFigures:
    """A store's month over its days with figures (in the store's currency)."""

    days_with_figures: int = 0
    gmv: Decimal = Decimal(0)
    orders: int = 0
    days_with_orders: int = 0

    def period(self, month: date) -> Period:
        return Period(month, last_day(month), self.orders, self.gmv, self.days_with_figures)


def month_figures(client_ids: list[int], month: date) -> dict[int, MonthFigures]:
    """Each store's figures for `month` (its days from the 1st to the last, on its own
    calendar), by client id; a store without figures is missing. One query."""
    if not client_ids:
        return {}
    rows = db.session.execute(
        select(
            StoreDay.client_id,
            func.count(),
            func.sum(StoreDay.gmv),
            func.sum(StoreDay.orders),
            func.sum(case((StoreDay.orders > 0, 1), else_=0)),
        )
        .join(Client, Client.id == StoreDay.client_id)
        .where(
            StoreDay.client_id.in_(client_ids),
            # A day sent in a currency the store no longer uses cannot be added to the rest.
            StoreDay.currency == Client.currency,
            StoreDay.day.between(month, last_day(month)),
        )
        .group_by(StoreDay.client_id)
    )
    return {
        client_id: MonthFigures(days, Decimal(gmv or 0), int(orders or 0), int(with_orders or 0))
        for client_id, days, gmv, orders, with_orders in rows
    }


# --- Drafting ----------------------------------------------------------------------------------


def due_at(drafted_at: datetime, business: BusinessCalendar) -> datetime:
    """When a draft is owed by: the close of the DUE_BUSINESS_DAYS-th business day after
    the day it was drafted."""
    return business.end_of_business_days(drafted_at, DUE_BUSINESS_DAYS)


def drafts_owed() -> list[ClientReport]:
    """Every draft not sent yet on a client that has not churned, with its client, ACM
    and team (for the calendar recount)."""
    return list(
        db.session.scalars(
            select(ClientReport)
            .join(ClientReport.client)
            .options(contains_eager(ClientReport.client).joinedload(Client.acm))
            .where(
                ClientReport.status == ReportStatus.DRAFT.value,
                Client.status != LifecycleStatus.CHURNED.value,
            )
            .order_by(ClientReport.id)
        )
    )


def draft_reports(now: datetime) -> list[ClientReport]:
    """Draft the report each live or at-risk client is owed at `now` and does not have yet
    (rule P4): the month that just ended, once its team's first working day of the new
    month has opened. Idempotent: a client's month is drafted once, however often this
    runs. A few queries per month drafted, whatever the portfolio. Flushes."""
    clients = list(
        db.session.scalars(
            select(Client)
            .options(joinedload(Client.acm).joinedload(User.team))
            .where(Client.status.in_(REPORTED))
            .order_by(Client.id)
        ).unique()
    )
    calendars = CalendarCache()
    owed: dict[date, list[tuple[Client, BusinessCalendar]]] = defaultdict(list)
    for client in clients:
        business = calendars(client)
        month = month_owed(client, business, now=now)
        if month is not None:
            owed[month].append((client, business))
    drafted: list[ClientReport] = []
    for month, due in owed.items():
        ids = [client.id for client, _ in due]
        done = set(
            db.session.scalars(
                select(ClientReport.client_id).where(
                    ClientReport.month == month, ClientReport.client_id.in_(ids)
                )
            )
        )
        due = [(client, business) for client, business in due if client.id not in done]
        ids = [client.id for client, _ in due]
        figures, before = month_figures(ids, month), month_figures(ids, month_before(month))
        for client, business in due:
            drafted.append(
                _draft(
                    client,
                    month,
                    figures.get(client.id, MonthFigures()),
                    before.get(client.id, MonthFigures()),
                    business=business,
                    now=now,
                )
            )
    db.session.flush()
    return drafted


def _draft(
    client: Client,
    month: date,
    figures: MonthFigures,
    before: MonthFigures,
    *,
    business: BusinessCalendar,
    now: datetime,
) -> ClientReport:
    has_figures = figures.days_with_figures > 0
    report = ClientReport(
        client=client,
        month=month,
        currency=client.currency,
        days_in_month=last_day(month).day,
        days_with_figures=figures.days_with_figures,
        gmv=figures.gmv if has_figures else None,
        orders=figures.orders if has_figures else None,
        days_with_orders=figures.days_with_orders if has_figures else None,
        gmv_change=average_day_change(
            figures.period(month), before.period(month_before(month)), figures.gmv, before.gmv
        ),
        commentary="",
        proposals="",
        status=ReportStatus.DRAFT.value,
        drafted_at=now,
        due_at=due_at(now, business),
    )
    db.session.add(report)
    timeline.record(
        client,
        TimelineKind.CLIENT_REPORT_DRAFTED,
        actor=None,
        summary=[f"Monthly report of {month:%B %Y} drafted (P4), to send by ", report.due_at],
        at=now,
    )
    return report


# --- What the report says ----------------------------------------------------------------------


def headline(report: ClientReport) -> list[Metric]:
    """The report's headline metrics (at most five), worded for the client in the locale
    of the render (the email's: the client's language); none for a month without figures
    (the report then says so: `figures_note`)."""
    if not report.has_figures or report.gmv is None or report.orders is None:
        return []
    currency = report.currency
    before = i18n.month_name(month_before(report.month))
    label = gettext("Change on the month before")
    if report.gmv_change is not None:
        change = Metric(
            label,
            i18n.change_percent(report.gmv_change),
            gettext("against %(month)s", month=before),
        )
    else:
        change = Metric(label, "—", gettext("no sales in %(month)s to compare with", month=before))
    if report.orders:
        average = Metric(
            gettext("Average order value"),
            i18n.money(Money(_average(report.gmv, report.orders, currency), currency)),
        )
    else:
        average = Metric(gettext("Average order value"), "—", gettext("no orders"))
    return [
        Metric(gettext("Revenue (sales)"), i18n.money(Money(report.gmv, currency))),
        change,
        Metric(gettext("Orders"), i18n.number(report.orders)),
        average,
        Metric(
            gettext("Days with orders"),
            gettext(
                "%(days)s of %(month_days)s",
                days=report.days_with_orders,
                month_days=report.days_in_month,
            ),
        ),
    ]


def figures_note(report: ClientReport) -> str:
    """What the reader should know of the figures behind the metrics, or "" (in the locale
    of the render, as `headline`)."""
    if not report.has_figures:
        return gettext(
            "No sales figures reached us for %(month)s, so this report has no metrics.",
            month=i18n.month_year(report.month),
        )
    if report.days_with_figures < report.days_in_month:
        return gettext(
            "Sales figures reached us for %(days)s of the %(month_days)s days of %(month)s; "
            "the metrics cover those days.",
            days=report.days_with_figures,
            month_days=report.days_in_month,
            month=i18n.month_name(report.month),
        )
    return ""


def _average(gmv: Decimal, orders: int, currency: str) -> Decimal:
    return (gmv / orders).quantize(minor_unit(currency), rounding=ROUND_HALF_EVEN)


# --- The ACM's part, and sending -------------------------------------------------------------


def update_report(
    report: ClientReport, *, actor: User, commentary: str | None, proposals: str | None
) -> ClientReport:
    """The ACM's commentary and next month's proposals on a draft (P4). Audited.

    Raises NotAllowed for someone who does not work on the client, ValidationError for
    text with control characters or over TEXT_MAX, RuleViolation("P4") once it was sent."""
    access.check_works_on(actor, report.client)
    commentary = validation.typed_text(
        commentary, field="commentary", multiline=True, max_length=TEXT_MAX
    ).strip()
    proposals = validation.typed_text(
        proposals, field="proposals", multiline=True, max_length=TEXT_MAX
    ).strip()
    _check_draft(report)
    with timeline.audited(actor, "client_report.update", report, _FIELDS):
        report.commentary, report.proposals = commentary, proposals
        report.updated_at, report.updated_by_id = clock.now(), actor.id
        db.session.flush()
    return report


def _report_subject(report: ClientReport) -> str:
    with i18n.client_language(report.client.language):
        return gettext(
            "Your monthly report for %(month)s – %(store)s",
            month=i18n.month_year(report.month),
            store=report.client.store_name,
        )


def send_report(report: ClientReport, *, actor: User) -> OutboxMessage:
    """Email the report to the client's point of contact with its PDF, CC'd as G1 says,
    and mark it sent (P4), on the timeline. Sent once: a report already sent returns its
    message and queues nothing (a second click, a second tab); its idempotency key is the
    report's.

    Raises NotAllowed for someone who does not work on the client, RuleViolation("P4")
    without commentary or proposals, ValidationError when no contact has an email
    address."""
    access.check_works_on(actor, report.client)
    # A second click waits here for the first to commit, then finds the report sent.
    report = db.session.execute(
        select(ClientReport)
        .where(ClientReport.id == report.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if report.status == ReportStatus.SENT.value:
        if report.outbox_message is None:
            raise RuleViolation("P4", "This report was sent to the client already.")
        return report.outbox_message
    contact, draft = _report_email(report, actor=actor)
    client = report.client
    now = clock.now()
    with timeline.audited(actor, "client_report.send", report, _FIELDS):
        message = outbox.queue_draft(draft, key=f"client-report-{report.id}")
        report.status = ReportStatus.SENT.value
        report.sent_at, report.sent_by_id, report.outbox_message = now, actor.id, message
        db.session.flush()
    timeline.record(
        client,
        TimelineKind.CLIENT_REPORT_SENT,
        actor=actor,
        summary=f"Monthly report of {report.month:%B %Y} sent to {contact.name} (P4)",
        detail={"report_id": report.id, "contact_id": contact.id},
        outbox_message=message,
        at=now,
    )
    cadence.record_contact(client, now)  # F1: an email sent counts as contact
    return message


def draft_report_email(report: ClientReport, *, actor: User) -> outbox.Draft:
    """P4: the email `send_report` would send, its PDF attached, composed and not queued
    (a preview). Refuses what it refuses, and a report sent already."""
    access.check_works_on(actor, report.client)
    if report.status == ReportStatus.SENT.value:
        raise RuleViolation("P4", "This report was sent to the client already.")
    return _report_email(report, actor=actor)[1]


def _report_email(report: ClientReport, *, actor: User) -> tuple[Contact, outbox.Draft]:
    if not report.commentary:
        raise RuleViolation("P4", "Write your commentary on the month first.", field="commentary")
    if not report.proposals:
        raise RuleViolation("P4", "Write next month's proposals first.", field="proposals")
    client = report.client
    contact = recipient(client)
    if contact is None:
        raise ValidationError("No contact of this client has an email address: add one first.")
    with i18n.client_language(client.language):
        metrics, note = headline(report), figures_note(report)
    draft = outbox.draft_client_email(
        client,
        contact,
        subject=_report_subject(report),
        template="client_report.txt",
        actor=actor,
        attachments=[outbox.Attachment(report_filename(report), PDF_TYPE, pdf_of(report))],
        report=report,
        metrics=metrics,
        note=note,
    )
    return contact, draft


def _check_draft(report: ClientReport) -> None:
    if report.status == ReportStatus.SENT.value:
        raise RuleViolation("P4", "This report was sent to the client: it no longer changes.")


def recipient(client: Client) -> Contact | None:
    """Who the report goes to: the point of contact, else the first contact with an email."""
    primary = client.primary_contact
    if primary is not None and primary.email:
        return primary
    return next((c for c in client.contacts if c.email), None)


def pdf_of(report: ClientReport) -> bytes:
    """The report's PDF: as the client received it once sent (the bytes that went), else
    as it would go now (the preview)."""
    message = report.outbox_message
    if report.status == ReportStatus.SENT.value and message is not None:
        for attachment in message.attachments or []:
            if attachment["content_type"] == PDF_TYPE:
                return outbox.attachment_bytes(attachment)
    with i18n.client_language(report.client.language):
        return report_pdf(report, headline(report), figures_note(report))


# --- Reading -----------------------------------------------------------------------------------


def report_of(report_id: int) -> ClientReport | None:
    """The report with its client (and its ACM), or None."""
    return db.session.scalar(
        select(ClientReport)
        .options(joinedload(ClientReport.client).joinedload(Client.acm))
        .where(ClientReport.id == report_id)
    )


def history(client: Client) -> list[ClientReport]:
    """The client's reports, the latest month first (the client page's panel). One query."""
    return list(
        db.session.scalars(
            select(ClientReport)
            .where(ClientReport.client_id == client.id)
            .order_by(ClientReport.month.desc())
        )
    )
