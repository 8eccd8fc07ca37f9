"""Renewals (R1, R2) and the renewal forecast.

R1: an hourly sweep opens one renewal per subscription term due within 30 days.
R2: the ACM notifies the client (email, G1 CCs) and records the date and amount confirmed,
or the renewal is lost. The renewal is then invoiced (services/invoices.py, R3); once its
invoice is paid (services/payments.py) the renewal is paid and the subscription moves to
its next term.
The forecast: what falls due in the next 30/60/90 days, confirmed against at risk.

A renewal date, and an invoice's issue and due dates (R3, R4, R10), are days of the
client's calendar (`client_today`): the contract is the client's, and so is the day it
renews and the day an invoice falls due, whoever reads the page and wherever the server
is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from operator import attrgetter

from flask_babel import gettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    insert,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import joinedload

from kamportal import clock, i18n
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    Client,
    Contact,
    Invoice,
    LifecycleStatus,
    Money,
    OutboxMessage,
    Renewal,
    RenewalStage,
    Team,
    TimelineKind,
    User,
    UserRole,
)
from kamportal.services import access, paging, snapshots, timeline, validation

# R1: a subscription due within this many days has its renewal opened.
RENEWAL_WINDOW = timedelta(days=30)
RENEWAL_FIELDS = ("stage", "due_on", "agreed_on", "amount", "currency", "lost_reason")


def _term_after(day: date) -> date:
    """The same day a year later (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def client_today(client: Client, *, at: datetime | None = None) -> date:
    """The date it is for `client` now (or at `at`), in its time zone: the calendar its
    renewal date (R1) and its invoices' dates (R3, R4, R10) are counted on."""
    return clock.today(client.timezone, at=at)


# --- R1: the renewal pipeline ------------------------------------------------------------------


def open_due_renewals(*, now: datetime) -> list[Renewal]:
    """R1, the sweep: open a renewal for every subscription whose renewal date is at most
    30 days after the client's today at `now` (or already past) and whose term has none
    yet; it then shows on its ACM's list and day. The hourly sweep opens a term within the
    hour after midnight of its 30th day before, at the client's. Idempotent: once per term
    (a unique constraint backs it). Churned clients and those without a recurring amount
    are left out. The caller commits; returns the renewals opened.

    A few statements whatever the backlog: the renewals, their timeline events and audit
    records are written in bulk."""
    already = exists().where(
        and_(Renewal.client_id == Client.id, Renewal.due_on == Client.renewal_date)
    )
    candidates = db.session.scalars(
        select(Client)
        .where(Client.renewal_date.is_not(None))
        .where(Client.renewal_date <= clock.latest_today(at=now) + RENEWAL_WINDOW)
        .where(Client.recurring_amount.is_not(None))
        .where(Client.status != LifecycleStatus.CHURNED.value)
        .where(~already)
        .order_by(Client.renewal_date, Client.id)
    )
    due = [
        client
        for client in candidates
        if client.renewal_date <= client_today(client, at=now) + RENEWAL_WINDOW
    ]
    if not due:
        return []
    opened = list(
        db.session.scalars(
            insert(Renewal).returning(Renewal),
            [
                {
                    "client_id": client.id,
                    "due_on": client.renewal_date,
                    "amount": Money(client.recurring_amount, client.currency).amount,
                    "currency": client.currency,
                    "stage": RenewalStage.DUE.value,
                    "opened_at": now,
                }
                for client in due
            ],
        )
    )
    timeline.record_many(
        TimelineKind.RENEWAL_OPENED,
        (
            timeline.Entry(
                renewal.client_id,
                f"Renewal due on {renewal.due_on:%d %b %Y}: {renewal.money} (R1)",
                {"renewal_id": renewal.id, "due_on": renewal.due_on},
            )
            for renewal in opened
        ),
        actor=None,
        at=now,
    )
    timeline.audit_many(
        None,
        "renewal.open",
        ((renewal, timeline.snapshot(renewal, RENEWAL_FIELDS)) for renewal in opened),
    )
    return opened


def _check_stage(renewal: Renewal, allowed: bool) -> None:
    if not allowed:
        raise RuleViolation(
            "R2", f"This renewal is {renewal.renewal_stage.label.lower()}: it cannot do that now."
        )


def _on_timeline(
    renewal: Renewal,
    kind: TimelineKind,
    *,
    actor: User | None,
    summary: str,
    message: OutboxMessage | None = None,
) -> None:
    timeline.record(
        renewal.client,
        kind,
        actor=actor,
        summary=summary,
        detail={"renewal_id": renewal.id},
        outbox_message=message,
    )


def _renewal_subject(renewal: Renewal) -> str:
    with i18n.client_language(renewal.client.language):
        return gettext(
            "Your subscription renewal on %(due)s – %(code)s",
            due=i18n.long_date(renewal.due_on),
            code=renewal.client.store_code,
        )


def draft_notice(renewal: Renewal, *, actor: User) -> outbox.Draft:
    """R2: the renewal notice `notify_client` would send, composed and not queued (a
    preview); refuses what it refuses."""
    return _notice(renewal, actor=actor)[1]


def _notice(renewal: Renewal, *, actor: User) -> tuple[Contact, outbox.Draft]:
    client = renewal.client
    access.check_works_on(actor, client)
    _check_stage(renewal, renewal.renewal_stage.may_notify)
    contact = client.reachable_contact("email")
    if contact is None:
        raise RuleViolation("R2", "No contact of this client has an email address: add one.")
    draft = outbox.draft_client_email(
        client,
        contact,
        subject=_renewal_subject(renewal),
        template="renewal_notice.txt",
        renewal=renewal,
        actor=actor,
    )
    return contact, draft


def notify_client(renewal: Renewal, *, actor: User) -> OutboxMessage:
    """R2: email the client its renewal date and amount (G1 CCs); the renewal is then
    "client notified". Sending again returns the same message (one notice per term).

    Raises NotAllowed for someone who does not work on the client, RuleViolation("R2")
    for a renewal past that stage or a client without an email address."""
    contact, draft = _notice(renewal, actor=actor)
    message = outbox.queue_draft(draft, key=f"renewal-{renewal.id}-notice")
    with timeline.audited(actor, "renewal.notify", renewal, RENEWAL_FIELDS):
        renewal.stage = RenewalStage.NOTIFIED.value
        renewal.notified_at = clock.now()
        renewal.notice_message = message
    _on_timeline(
        renewal,
        TimelineKind.RENEWAL_NOTIFIED,
        actor=actor,
        summary=f"Renewal notice to {contact.name}: {renewal.money} on "
        f"{renewal.due_on:%d %b %Y} (R2)",
        message=message,
    )
    db.session.flush()
    return message


# R2: how far the renewal date the client agrees may move from the term's date.
AGREED_EARLIEST = timedelta(days=60)
AGREED_LATEST = timedelta(days=366)


def confirm_renewal(
    renewal: Renewal, *, actor: User, agreed_on: date | None, amount: object
) -> None:
    """R2: the client confirmed the renewal date and the recurring amount (which may differ
    from the subscription's; the next terms keep the new amount).

    Raises NotAllowed, RuleViolation("R2") once invoiced, paid or lost, ValidationError
    without a date or with an amount that is not a positive amount of its currency."""
    access.check_works_on(actor, renewal.client)
    _check_stage(renewal, renewal.renewal_stage.may_confirm)
    if agreed_on is None:
        raise ValidationError("Give the renewal date the client confirmed.", field="agreed_on")
    earliest, latest = renewal.due_on - AGREED_EARLIEST, renewal.due_on + AGREED_LATEST
    validation.date_between(
        agreed_on,
        field="agreed_on",
        earliest=earliest,
        latest=latest,
        message=(
            f"This term renews on {renewal.due_on:%d %b %Y}: the date agreed falls from "
            f"{earliest:%d %b %Y} to {latest:%d %b %Y}."
        ),
    )
    amount = validation.amount_of(amount, renewal.currency, field="amount")
    with timeline.audited(actor, "renewal.confirm", renewal, RENEWAL_FIELDS):
        renewal.agreed_on = agreed_on
        renewal.amount = amount
        renewal.stage = RenewalStage.CONFIRMED.value
        renewal.confirmed_at = clock.now()
        renewal.confirmed_by = actor
    renewal.client.recurring_amount = amount
    _on_timeline(
        renewal,
        TimelineKind.RENEWAL_CONFIRMED,
        actor=actor,
        summary=f"Renewal confirmed by the client: {renewal.money} on {agreed_on:%d %b %Y} (R2)",
    )
    db.session.flush()


def mark_lost(renewal: Renewal, *, actor: User, reason: str) -> None:
    """The client will not renew: the renewal is lost, with the reason.

    Raises NotAllowed, RuleViolation("R2") once paid or lost, ValidationError without a
    reason."""
    access.check_works_on(actor, renewal.client)
    _check_stage(renewal, renewal.renewal_stage.is_open)
    reason = validation.required_text(reason, field="reason", message="Say why it is lost.")
    with timeline.audited(actor, "renewal.lose", renewal, RENEWAL_FIELDS):
        renewal.stage = RenewalStage.LOST.value
        renewal.lost_at = clock.now()
        renewal.lost_reason = reason
    _on_timeline(
        renewal,
        TimelineKind.RENEWAL_LOST,
        actor=actor,
        summary=f"Renewal of {renewal.due_on:%d %b %Y} lost: {reason}",
    )
    db.session.flush()


def settle_renewal(invoice: Invoice, *, actor: User | None, at: datetime) -> None:
    """The renewal `invoice` was issued for is paid with it (services/payments.py settles
    the invoice): the subscription moves to its next term. Nothing for an invoice that
    is no renewal's."""
    renewal = db.session.scalar(select(Renewal).where(Renewal.invoice_id == invoice.id))
    if renewal is None:
        return
    with timeline.audited(actor, "renewal.paid", renewal, RENEWAL_FIELDS):
        renewal.stage = RenewalStage.PAID.value
        renewal.paid_at = at
    client = renewal.client
    if client.renewal_date == renewal.due_on:
        client.renewal_date = _term_after(renewal.due_on)
    _on_timeline(
        renewal,
        TimelineKind.RENEWAL_PAID,
        actor=actor,
        summary=f"Renewal of {renewal.due_on:%d %b %Y} paid; next renewal "
        f"{client.renewal_date:%d %b %Y}",
    )


# --- Reading -----------------------------------------------------------------------------------


def _shown(query: Select[tuple[Renewal]]) -> Select[tuple[Renewal]]:
    """The open renewals' rows with what the list shows: their clients, ACMs and invoices,
    soonest first."""
    return query.options(
        joinedload(Renewal.client).joinedload(Client.acm), joinedload(Renewal.invoice)
    ).order_by(Renewal.due_on, Renewal.id)


def _open(query: Select, viewer: User) -> Select:
    """R1: `query` kept to the renewals still to see through on the clients `viewer` may
    see (joined to the clients only when they narrow them)."""
    query = query.where(Renewal.stage.not_in([RenewalStage.PAID.value, RenewalStage.LOST.value]))
    return paging.to_visible_clients(query, Renewal.client, access.visible_clients_clause(viewer))


def open_renewals_query(viewer: User) -> Select[tuple[Renewal]]:
    """R1: the renewals still to see through on the clients `viewer` may see, soonest
    first, with their clients, ACMs and invoices (one query)."""
    return _shown(_open(select(Renewal), viewer))


def open_renewals(viewer: User) -> list[Renewal]:
    """R1: the renewals still to see through on the clients `viewer` may see, soonest
    first."""
    return list(db.session.scalars(open_renewals_query(viewer)))


def open_renewals_page(viewer: User, *, page: int, per_page: int) -> Pagination:
    """One page of `open_renewals` (the most overdue on the first), and how many there are
    (two queries, whatever the portfolio)."""
    ids = _open(select(Renewal.id), viewer).order_by(Renewal.due_on, Renewal.id)
    return paging.picked_page(
        ids, _shown(select(Renewal)), Renewal.id, page=page, per_page=per_page
    )


# The stages a renewal goes through, in order (R1-R4); "lost" may end it at any of them.
PIPELINE = (
    RenewalStage.DUE,
    RenewalStage.NOTIFIED,
    RenewalStage.CONFIRMED,
    RenewalStage.INVOICED,
    RenewalStage.PAID,
)


@dataclass(frozen=True)
class RenewalStanding:
    """A renewal as the pages show it: how many of the client's days are left until it is
    due (0 on the day, negative once past: R1's calendar is the client's) and the pipeline,
    each stage with whether the renewal reached it."""

    renewal: Renewal
    days_left: int
    steps: list[tuple[RenewalStage, bool]]


def renewal_standing(renewal: Renewal, *, at: datetime | None = None) -> RenewalStanding:
    """Where `renewal` stands now (or at `at`)."""
    stage = renewal.renewal_stage
    reached = PIPELINE.index(stage) if stage in PIPELINE else -1
    return RenewalStanding(
        renewal=renewal,
        days_left=(renewal.due_on - client_today(renewal.client, at=at)).days,
        steps=[(step, n <= reached) for n, step in enumerate(PIPELINE)],
    )


def standings(renewals: list[Renewal], *, at: datetime | None = None) -> list[RenewalStanding]:
    """Where each of `renewals` stands now (or at `at`)."""
    return [renewal_standing(r, at=at) for r in renewals]


@dataclass(frozen=True)
class ForecastRow:
    """Renewal amounts due within `days` (30, 60 or 90) for one team and currency: those
    the clients confirmed (R2, or invoiced or paid) and those not confirmed yet."""

    team: str
    currency: str
    days: int
    confirmed: Decimal
    at_risk: Decimal


FORECAST_HORIZONS = (30, 60, 90)
_CONFIRMED = (RenewalStage.CONFIRMED.value, RenewalStage.INVOICED.value, RenewalStage.PAID.value)


def _forecast_by_team(shown: ColumnElement[bool], *, today: date) -> Select:
    """The forecast summed per team and currency: the team, the currency, then for each
    horizon the confirmed and the at-risk sums (NULL when nothing of that kind falls due).

    The terms (renewals opened, and subscriptions due with none opened for that date) of
    the clients `shown` picks (an access clause on Client) within the longest horizon,
    each with its client's ACM (no second pass over the clients), grouped by the ACM's
    team and currency, each horizon's totals a filtered sum."""
    horizon = today + timedelta(days=FORECAST_HORIZONS[-1])
    shown = and_(Client.status != LifecycleStatus.CHURNED.value, shown)
    opened = (
        select(
            Client.acm_id.label("acm_id"),
            Renewal.currency.label("currency"),
            Renewal.due_on.label("due_on"),
            Renewal.amount.label("amount"),
            Renewal.stage.in_(_CONFIRMED).label("confirmed"),
        )
        .join(Renewal.client)
        .where(Renewal.due_on >= today, Renewal.due_on <= horizon)
        .where(Renewal.stage != RenewalStage.LOST.value, shown)
    )
    not_opened = (
        select(
            Client.acm_id,
            Client.currency,
            Client.renewal_date,
            Client.recurring_amount,
            false(),
        )
        .where(Client.renewal_date >= today, Client.renewal_date <= horizon)
        .where(Client.recurring_amount.is_not(None), shown)
        .where(
            ~exists().where(Renewal.client_id == Client.id, Renewal.due_on == Client.renewal_date)
        )
    )
    terms = union_all(opened, not_opened).subquery("terms")
    team = func.coalesce(Team.name, NO_TEAM).label("team")
    totals = []
    for n, days in enumerate(FORECAST_HORIZONS):
        within = terms.c.due_on <= today + timedelta(days=days)
        totals += [
            func.sum(terms.c.amount).filter(within, terms.c.confirmed == true()).label(f"c{n}"),
            func.sum(terms.c.amount).filter(within, terms.c.confirmed == false()).label(f"r{n}"),
        ]
    return (
        select(team, terms.c.currency.label("currency"), *totals)
        .select_from(terms)
        .outerjoin(User, User.id == terms.c.acm_id)
        .outerjoin(Team, Team.id == User.team_id)
        .group_by(team, terms.c.currency)
    )


Horizons = list[tuple[Decimal, Decimal] | None]


@dataclass(frozen=True)
class ForecastLine:
    """One team's (or, `team` "", every team's) renewals in one currency: per horizon of
    `FORECAST_HORIZONS`, (confirmed, at risk), or None when nothing falls due that soon."""

    team: str
    currency: str
    horizons: Horizons


def _within(sums: Sequence[Decimal | None]) -> Horizons:
    """Per horizon, (confirmed, at risk) from a row's sums; None when nothing falls due
    that soon."""
    found: Horizons = []
    for n in range(len(FORECAST_HORIZONS)):
        confirmed, at_risk = sums[2 * n], sums[2 * n + 1]
        if confirmed is None and at_risk is None:
            found.append(None)
        else:
            found.append((Decimal(confirmed or 0), Decimal(at_risk or 0)))
    return found


def _forecast_lines(shown: ColumnElement[bool], *, today: date) -> list[ForecastLine]:
    """A line per team and currency over the clients `shown` picks, by team and currency:
    one statement whatever the portfolio."""
    lines = [
        ForecastLine(team, currency, _within(sums))
        for team, currency, *sums in db.session.execute(_forecast_by_team(shown, today=today))
    ]
    return sorted(lines, key=attrgetter("team", "currency"))


def forecast(viewer: User, *, today: date) -> list[ForecastRow]:
    """The renewal forecast: what falls due in the next 30/60/90 days (cumulative), per
    team and currency, confirmed against at risk, over the clients `viewer` may see
    (finance: all), every team (the CSV export: always live). A term not opened yet (31-90
    days out) counts at its subscription's amount, not confirmed; a lost one not at all."""
    return [
        ForecastRow(line.team, line.currency, days, *figures)
        for line in _forecast_lines(access.visible_invoices_clause(viewer), today=today)
        for days, figures in zip(FORECAST_HORIZONS, line.horizons, strict=True)
        if figures is not None
    ]


@dataclass(frozen=True)
class ForecastPage(paging.PageSteps):
    """A page of the forecast's teams (`lines`, a line per team and currency) and the
    totals per currency over every team the viewer may see, whichever the page; with what
    the shared pager reads. `as_of`: when the sweep summed the figures shown (finance and
    admins, every client), None when they were summed for this page."""

    lines: list[ForecastLine]
    totals: list[ForecastLine]
    page: int
    per_page: int
    total: int  # teams
    as_of: datetime | None = None


def _totals(lines: list[ForecastLine]) -> list[ForecastLine]:
    """Every team's lines summed per currency (never across currencies), horizon by
    horizon: None where no team has anything due that soon."""
    by_currency: dict[str, Horizons] = {}
    for line in lines:
        summed = by_currency.setdefault(line.currency, [None] * len(FORECAST_HORIZONS))
        for n, figures in enumerate(line.horizons):
            if figures is not None:
                before = summed[n] or (Decimal(0), Decimal(0))
                summed[n] = (before[0] + figures[0], before[1] + figures[1])
    return [ForecastLine("", currency, by_currency[currency]) for currency in sorted(by_currency)]


def forecast_page(
    viewer: User, *, today: date, now: datetime, page: int, per_page: int
) -> ForecastPage:
    """The forecast's teams `per_page` at a time (by name), a line per team and currency,
    with the totals per currency over every team (never across currencies). Finance and
    admins see every client: their figures are the sweep's (`keep_platform_forecast`)
    while fresh, else summed here like everyone else's, in one statement."""
    snapshot = None
    if access.sees_every_invoice(viewer):
        snapshot = snapshots.fresh(_forecast_snapshot_name(today), now=now, decode=_decoded)
    if snapshot is not None:
        lines = snapshot.figures
    else:
        lines = _forecast_lines(access.visible_invoices_clause(viewer), today=today)
    teams = sorted({line.team for line in lines})
    on_page = set(teams[(page - 1) * per_page : page * per_page])
    return ForecastPage(
        lines=[line for line in lines if line.team in on_page],
        totals=_totals(lines),
        page=page,
        per_page=per_page,
        total=len(teams),
        as_of=snapshot.computed_at if snapshot else None,
    )


FORECAST_SNAPSHOT = "renewal forecast "


def _forecast_snapshot_name(today: date) -> str:
    return FORECAST_SNAPSHOT + today.isoformat()


def _encoded(line: ForecastLine) -> list:
    return [
        line.team,
        line.currency,
        [None if f is None else [str(f[0]), str(f[1])] for f in line.horizons],
    ]


def _decoded(kept: list) -> list[ForecastLine]:
    return [
        ForecastLine(
            team,
            currency,
            [None if f is None else (Decimal(f[0]), Decimal(f[1])) for f in horizons],
        )
        for team, currency, horizons in kept
    ]


def platform_forecast_days(*, now: datetime) -> set[date]:
    """The days it is at `now` where the people who see every client's forecast (finance,
    admins) are: the days the sweep sums it from (one, or two around a midnight)."""
    zones = db.session.scalars(
        select(User.timezone)
        .distinct()
        .where(
            User.active,
            User.role_rows.any(UserRole.role.in_([role.value for role in access.FINANCE_ROLES])),
        )
    )
    return {clock.today(zone, at=now) for zone in zones}


def keep_platform_forecast(days: set[date], *, now: datetime) -> None:
    """The sweep's part: the forecast over every client, from each of `days` (the days it
    is now where finance and admins are), kept for their pages; other days' dropped."""
    kept = {
        _forecast_snapshot_name(today): [
            _encoded(line) for line in _forecast_lines(true(), today=today)
        ]
        for today in sorted(days)
    }
    snapshots.keep_only(FORECAST_SNAPSHOT, kept, now=now)


NO_TEAM = "No team"
