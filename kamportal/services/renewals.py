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

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from operator import attrgetter

from flask_babel import gettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import (
    Select,
    and_,
    exists,
    false,
    func,
    insert,
    literal,
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
)
from kamportal.services import access, paging, timeline, validation

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


def _forecast_by_team(viewer: User, *, today: date) -> Select:
    """The forecast summed per team and currency: the team, the currency, then for each
    horizon the confirmed and the at-risk sums (NULL when nothing of that kind falls due).

    The terms (renewals opened, and subscriptions due with none opened for that date) of
    the clients `viewer` may see (finance: all) within the longest horizon, each with its
    client's ACM (no second pass over the clients), grouped by the ACM's team and currency,
    each horizon's totals a filtered sum."""
    horizon = today + timedelta(days=FORECAST_HORIZONS[-1])
    shown = and_(
        Client.status != LifecycleStatus.CHURNED.value, access.visible_invoices_clause(viewer)
    )
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


def _within(sums: tuple) -> list[tuple[Decimal, Decimal] | None]:
    """Per horizon, (confirmed, at risk) from a row's sums; None when nothing falls due
    that soon."""
    found: list[tuple[Decimal, Decimal] | None] = []
    for n in range(len(FORECAST_HORIZONS)):
        confirmed, at_risk = sums[2 * n], sums[2 * n + 1]
        if confirmed is None and at_risk is None:
            found.append(None)
        else:
            found.append((Decimal(confirmed or 0), Decimal(at_risk or 0)))
    return found


def forecast(viewer: User, *, today: date) -> list[ForecastRow]:
    """The renewal forecast: what falls due in the next 30/60/90 days (cumulative), per
    team and currency, confirmed against at risk, over the clients `viewer` may see
    (finance: all), every team (the CSV export). A term not opened yet (31-90 days out)
    counts at its subscription's amount, not confirmed; a lost one not at all.

    Summed in the database, one statement whatever the portfolio."""
    rows = []
    for team_name, currency, *sums in db.session.execute(_forecast_by_team(viewer, today=today)):
        for days, figures in zip(FORECAST_HORIZONS, _within(sums), strict=True):
            if figures is not None:
                rows.append(ForecastRow(team_name, currency, days, *figures))
    return sorted(rows, key=lambda row: (row.team, row.currency, row.days))


@dataclass(frozen=True)
class ForecastLine:
    """One team's (or, `team` "", every team's) renewals in one currency: per horizon of
    `FORECAST_HORIZONS`, (confirmed, at risk), or None when nothing falls due that soon."""

    team: str
    currency: str
    horizons: list[tuple[Decimal, Decimal] | None]


@dataclass(frozen=True)
class ForecastPage(paging.PageSteps):
    """A page of the forecast's teams (`lines`, a line per team and currency) and the
    totals per currency over every team the viewer may see, whichever the page; with what
    the shared pager reads."""

    lines: list[ForecastLine]
    totals: list[ForecastLine]
    page: int
    per_page: int
    total: int  # teams


def forecast_page(viewer: User, *, today: date, page: int, per_page: int) -> ForecastPage:
    """The forecast's teams `per_page` at a time (by name), a line per team and currency,
    with the totals per currency over every team (never across currencies), all summed in
    one statement whatever the portfolio: the per-team sums are taken once (a CTE), then
    the page's teams, the totals and the number of teams are read from them."""
    by_team = _forecast_by_team(viewer, today=today).cte("by_team")
    sums = [c for c in by_team.c if c.name not in ("team", "currency")]
    teams = select(func.count(by_team.c.team.distinct())).scalar_subquery()
    on_page = (
        select(by_team.c.team)
        .distinct()
        .order_by(by_team.c.team)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    lines = select(
        literal(False).label("every_team"),
        by_team.c.team,
        by_team.c.currency,
        *sums,
        teams.label("teams"),
    ).where(by_team.c.team.in_(on_page.scalar_subquery()))
    totals = select(
        literal(True).label("every_team"),
        literal("").label("team"),
        by_team.c.currency,
        *(func.sum(c).label(c.name) for c in sums),
        teams.label("teams"),
    ).group_by(by_team.c.currency)
    found: dict[bool, list[ForecastLine]] = {True: [], False: []}
    teams_seen = 0
    for every_team, team_name, currency, *figures, count in db.session.execute(
        union_all(lines, totals)
    ):
        found[bool(every_team)].append(ForecastLine(team_name, currency, _within(figures)))
        teams_seen = count
    order = attrgetter("team", "currency")
    return ForecastPage(
        lines=sorted(found[False], key=order),
        totals=sorted(found[True], key=order),
        page=page,
        per_page=per_page,
        total=teams_seen,
    )


NO_TEAM = "No team"
