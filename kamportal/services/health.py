"""The health score (P2): each client's health, 0-100, with the reasons that made it.

The score is 100 less a penalty for each thing that worries an account manager, each
penalty capped, plus a small bonus for a growing store or a happy client, clamped to
0-100 (README: Health and segmentation has the table). Green from 70, amber from 40, red
below (HealthBand). `score` is the formula alone, on one client's facts; `refresh_scores`
gathers the facts of every client that has not churned, in batches and a fixed number of
grouped statements per batch, and keeps today's ClientHealth row (the portal's UTC day)
and the client's latest score and 30-day GMV. Hourly from cron (jobs/health.py).

Every fact is read as it stood at the sweep's `now` (what was open then, the figures up
to the store's yesterday then), so that a sweep run for a past day (the demo's history)
scores that day honestly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from kamportal import clock
from kamportal.extensions import db
from kamportal.models import (
    ChecklistItem,
    Client,
    ClientHealth,
    Complaint,
    CustomizationRequest,
    Escalation,
    Invoice,
    Minutes,
    NotSellingAlert,
    StoreDay,
    TimelineEvent,
    TimelineKind,
)
from kamportal.models.clients import IN_LAUNCH, LifecycleStatus
from kamportal.models.escalations import ComplaintStatus, EscalationStatus
from kamportal.models.invoices import InvoiceStatus
from kamportal.models.meetings import MinutesStatus
from kamportal.services import gmv_bands

# --- The formula: each reason's points, and its cap ---------------------------------------

# F1: days without contact past the week -> points (the worst, -40, is the cap). A client
# never contacted counts from the day the portal has known it.
NO_CONTACT_POINTS = ((30, -40), (14, -30), (8, -20))
# F4: the GMV of the last 28 days against the 28 before, compared only when the store has
# figures on at least half the days of each: a drop by at least that percent -> points.
GMV_PERIOD_DAYS = 28
GMV_MIN_DAYS = 14
GMV_DROP_POINTS = ((50, -20), (25, -10))
# A store growing by at least this percent earns a small bonus.
GMV_GROWTH_PERCENT = 10
GMV_GROWTH_POINTS = 5
# F4: an open not-selling alert.
NOT_SELLING_POINTS = -15
# E1: an open escalation (one per client at most).
ESCALATION_POINTS = -25
ESCALATION_CAP = -25
# E3: each open complaint (a cancellation or refund request counts: it is one).
COMPLAINT_POINTS = -10
COMPLAINT_CAP = -20
# R4: each unpaid invoice past its due date on the client's calendar.
OVERDUE_INVOICE_POINTS = -10
OVERDUE_INVOICE_CAP = -20
# L1-L5: a launch (onboarding or launching) running longer than planned, counted from the
# LMS start (or the subscription, before it): days -> points.
LAUNCH_LATE_POINTS = ((90, -20), (45, -10))
# G5: minutes owed for more than two days (a day for the ACM to write them, a day's grace).
MINUTES_OWED_AFTER = timedelta(hours=48)
MINUTES_POINTS = -5
MINUTES_CAP = -15
# C7: the latest satisfaction survey answered within the last 180 days: its score (1-5)
# -> points.
SURVEY_DAYS = 180
SURVEY_POINTS = {1: -20, 2: -10, 3: -5, 4: 0, 5: 5}

TOP = 100
# Clients scored per batch: each batch is a fixed number of statements.
BATCH = 5000
# The GMV the client list shows: the store's last 30 days.
GMV_LIST_DAYS = 30


@dataclass(frozen=True)
class HealthFacts:
    """One client's facts as the formula reads them. `days_since_contact` None: never
    contacted, the portal having known the client `days_known` days. The GMV of the last
    28 days (`gmv_last`, with figures on `days_last` of them) and of the 28 before.
    `launch_days`: for a client in launch, the days since it started (None otherwise),
    with the LMS steps done of the total. `minutes_owed`: minutes owed past two days.
    `survey_score`: the latest satisfaction survey's score (1-5), if any."""

    days_since_contact: int | None = 0
    days_known: int = 0
    gmv_last: Decimal = Decimal(0)
    gmv_before: Decimal = Decimal(0)
    days_last: int = 0
    days_before: int = 0
    not_selling: bool = False
    escalations: int = 0
    complaints: int = 0
    overdue_invoices: int = 0
    oldest_overdue_days: int = 0
    launch_days: int | None = None
    launch_done: int = 0
    launch_total: int = 0
    minutes_owed: int = 0
    survey_score: int | None = None


@dataclass(frozen=True)
class HealthScore:
    """The score (0-100) and its reasons: {"points", "reason", "rule"} each, worst first."""

    score: int
    reasons: list[dict[str, Any]]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _tier(value: int, tiers: tuple[tuple[int, int], ...]) -> int:
    return next((points for at_least, points in tiers if value >= at_least), 0)


def score(facts: HealthFacts) -> HealthScore:
    """P2: the score of one client's facts, with a reason for each point given or taken."""
    reasons: list[dict[str, Any]] = []

    def add(points: int, reason: str, rule: str) -> None:
        if points:
            reasons.append({"points": points, "reason": reason, "rule": rule})

    if facts.days_since_contact is None:
        add(
            _tier(facts.days_known, NO_CONTACT_POINTS),
            f"Never contacted, client for {_plural(facts.days_known, 'day')}",
            "F1",
        )
    else:
        add(
            _tier(facts.days_since_contact, NO_CONTACT_POINTS),
            f"No contact for {_plural(facts.days_since_contact, 'day')}",
            "F1",
        )
    if facts.days_last >= GMV_MIN_DAYS and facts.days_before >= GMV_MIN_DAYS and facts.gmv_before:
        change = int((facts.gmv_last - facts.gmv_before) * 100 / facts.gmv_before)
        if change < 0:
            add(
                _tier(-change, GMV_DROP_POINTS),
                f"GMV down {-change}% on the {GMV_PERIOD_DAYS} days before",
                "F4",
            )
        elif change >= GMV_GROWTH_PERCENT:
            add(GMV_GROWTH_POINTS, f"GMV up {change}% on the {GMV_PERIOD_DAYS} days before", "F4")
    if facts.not_selling:
        add(NOT_SELLING_POINTS, "Store not selling (alert open)", "F4")
    if facts.launch_days is not None:
        add(
            _tier(facts.launch_days, LAUNCH_LATE_POINTS),
            f"Launch late: {_plural(facts.launch_days, 'day')} since it started, "
            f"{facts.launch_done} of {facts.launch_total} LMS steps done",
            "L1",
        )
    for count, each, cap, reason, rule in (
        (facts.escalations, ESCALATION_POINTS, ESCALATION_CAP, "Escalation open", "E1"),
        (
            facts.complaints,
            COMPLAINT_POINTS,
            COMPLAINT_CAP,
            f"{_plural(facts.complaints, 'complaint')} open",
            "E3",
        ),
        (
            facts.overdue_invoices,
            OVERDUE_INVOICE_POINTS,
            OVERDUE_INVOICE_CAP,
            f"{_plural(facts.overdue_invoices, 'invoice')} overdue, the oldest by "
            f"{_plural(facts.oldest_overdue_days, 'day')}",
            "R4",
        ),
        (
            facts.minutes_owed,
            MINUTES_POINTS,
            MINUTES_CAP,
            f"{_plural(facts.minutes_owed, 'set')} of minutes owed for more than 2 days",
            "G5",
        ),
    ):
        if count:
            add(max(each * count, cap), reason, rule)
    if facts.survey_score is not None:
        add(
            SURVEY_POINTS.get(facts.survey_score, 0),
            f"Last satisfaction survey: {facts.survey_score} of 5",
            "C7",
        )
    reasons.sort(key=lambda r: r["points"])
    total = TOP + sum(r["points"] for r in reasons)
    return HealthScore(min(max(total, 0), TOP), reasons)


# --- The facts of many clients, as they stood at `now` ---------------------------------------


@dataclass
class _Row:
    """What the sweep reads of one client, then its facts as they are gathered."""

    id: int
    timezone: str
    currency: str
    in_launch: bool
    known_since: datetime
    launch_started: datetime
    last_contact: datetime | None
    kept_gmv: tuple[Decimal | None, Decimal | None]
    gmv_30d: Decimal | None = None
    facts: dict[str, Any] = field(default_factory=dict)


def _as_date(value: object) -> date:
    # SQLite hands dates back as text from a raw aggregate.
    return date.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value]


def _amount(value: object) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _open_at(now: datetime, opened, closed, still_open):
    """Open at `now`: opened by then, and open still or closed after it."""
    return and_(opened <= now, or_(still_open, closed > now))


def _clients(now: datetime, ids: list[int]) -> dict[int, _Row]:
    query = select(
        Client.id,
        Client.timezone,
        Client.currency,
        Client.status,
        Client.created_at,
        Client.subscribed_at,
        Client.lms_started_at,
        Client.last_contact_at,
        Client.gmv_30d,
        Client.gmv_30d_ref,
    ).where(Client.id.between(ids[0], ids[-1]), Client.status != LifecycleStatus.CHURNED.value)
    rows = {}
    for (
        cid,
        zone,
        currency,
        status,
        created,
        subscribed,
        lms_started,
        contact,
        gmv_30d,
        gmv_30d_ref,
    ) in db.session.execute(query):
        rows[cid] = _Row(
            id=cid,
            timezone=zone,
            currency=currency,
            in_launch=status in IN_LAUNCH,
            known_since=min(created, subscribed) if subscribed else created,
            launch_started=lms_started or subscribed or created,
            kept_gmv=(gmv_30d, gmv_30d_ref),
            # A sweep of a past day reads the contact of that day from the timeline below.
            last_contact=contact if contact is not None and contact <= now else None,
        )
    return rows


def _past_contacts(now: datetime, ids: list[int]) -> dict[int, datetime]:
    """F1 as it stood at `now` for clients contacted since: the latest answered call, held
    meeting or email sent up to then, from the timeline."""
    answered = TimelineEvent.detail["outcome"].as_string() == "answered"
    query = (
        select(TimelineEvent.client_id, func.max(TimelineEvent.at))
        .join(Client, Client.id == TimelineEvent.client_id)
        .where(
            Client.id.between(ids[0], ids[-1]),
            Client.last_contact_at > now,
            TimelineEvent.at <= now,
            or_(
                TimelineEvent.kind.in_(
                    (TimelineKind.EMAIL_SENT.value, TimelineKind.MEETING_HELD.value)
                ),
                and_(TimelineEvent.kind == TimelineKind.CALL.value, answered),
            ),
        )
        .group_by(TimelineEvent.client_id)
    )
    return dict(db.session.execute(query).tuples().all())


def _window(groups: dict[date, list[str]], first_back: int, last_back: int):
    """Days `first_back` to `last_back` days before each store's yesterday (0: yesterday)."""
    return or_(
        *(
            and_(
                Client.timezone.in_(zones),
                StoreDay.day.between(
                    yesterday - timedelta(days=first_back), yesterday - timedelta(days=last_back)
                ),
            )
            for yesterday, zones in groups.items()
        )
    )


def _figures(now: datetime, ids: list[int], rows: dict[int, _Row]) -> None:
    """F4: GMV of the last 30 days, of the last 28 and of the 28 before, on each store's
    calendar up to its yesterday (today is not over); one statement for all zones."""
    groups: dict[date, list[str]] = defaultdict(list)
    for zone in {row.timezone for row in rows.values()}:
        groups[clock.today(zone, at=now) - timedelta(days=1)].append(zone)
    if not groups:
        return
    period = GMV_PERIOD_DAYS
    last = _window(groups, period - 1, 0)
    before = _window(groups, 2 * period - 1, period)
    month = _window(groups, GMV_LIST_DAYS - 1, 0)
    query = (
        select(
            Client.id,
            func.sum(case((month, StoreDay.gmv))),
            func.count(case((month, StoreDay.id))),
            func.sum(case((last, StoreDay.gmv))),
            func.count(case((last, StoreDay.id))),
            func.sum(case((before, StoreDay.gmv))),
            func.count(case((before, StoreDay.id))),
        )
        .join(StoreDay, StoreDay.client_id == Client.id)
        .where(
            Client.id.between(ids[0], ids[-1]),
            Client.status != LifecycleStatus.CHURNED.value,
            StoreDay.day.between(
                min(groups) - timedelta(days=max(2 * period, GMV_LIST_DAYS)), max(groups)
            ),
        )
        .group_by(Client.id)
    )
    for (
        cid,
        month_gmv,
        month_days,
        last_gmv,
        last_days,
        before_gmv,
        before_days,
    ) in db.session.execute(query):
        row = rows.get(cid)
        if row is None:
            continue
        row.gmv_30d = _amount(month_gmv) if month_days else None
        row.facts.update(
            gmv_last=_amount(last_gmv),
            days_last=last_days,
            gmv_before=_amount(before_gmv),
            days_before=before_days,
        )


def _counts(query) -> dict[int, int]:
    return dict(db.session.execute(query).tuples().all())


def _open_counts(now: datetime, ids: list[int]) -> dict[str, dict[int, int]]:
    """How many escalations, complaints, not-selling alerts and long-owed minutes each client
    had open at `now`."""

    def in_batch(column):
        return column.between(ids[0], ids[-1])

    return {
        "escalations": _counts(
            select(Escalation.client_id, func.count())
            .where(
                in_batch(Escalation.client_id),
                _open_at(
                    now,
                    Escalation.raised_at,
                    Escalation.resolved_at,
                    Escalation.status == EscalationStatus.OPEN.value,
                ),
            )
            .group_by(Escalation.client_id)
        ),
        "complaints": _counts(
            select(Complaint.client_id, func.count())
            .where(
                in_batch(Complaint.client_id),
                _open_at(
                    now,
                    Complaint.raised_at,
                    Complaint.closed_at,
                    Complaint.status.in_(
                        (ComplaintStatus.OPEN.value, ComplaintStatus.IN_PROGRESS.value)
                    ),
                ),
            )
            .group_by(Complaint.client_id)
        ),
        "not_selling": _counts(
            select(NotSellingAlert.client_id, func.count())
            .where(
                in_batch(NotSellingAlert.client_id),
                _open_at(
                    now,
                    NotSellingAlert.raised_at,
                    NotSellingAlert.cleared_at,
                    NotSellingAlert.cleared_at.is_(None),
                ),
            )
            .group_by(NotSellingAlert.client_id)
        ),
        "minutes_owed": _counts(
            select(Minutes.client_id, func.count())
            .where(
                in_batch(Minutes.client_id),
                Minutes.owed_since <= now - MINUTES_OWED_AFTER,
                or_(Minutes.status == MinutesStatus.OWED.value, Minutes.decided_at > now),
            )
            .group_by(Minutes.client_id)
        ),
    }


def _overdue_invoices(now: datetime, ids: list[int], rows: dict[int, _Row]) -> None:
    """R4: the invoices unpaid at `now` past their due date on the client's calendar."""
    query = (
        select(Invoice.client_id, func.min(Invoice.due_on), func.count())
        .join(Client, Client.id == Invoice.client_id)
        .where(
            Client.id.between(ids[0], ids[-1]),
            Invoice.issued_at <= now,
            or_(
                Invoice.status == InvoiceStatus.UNPAID.value,
                and_(Invoice.status == InvoiceStatus.PAID.value, Invoice.paid_at > now),
            ),
            Invoice.due_on < clock.latest_today(at=now),
        )
        .group_by(Invoice.client_id, Invoice.due_on)
    )
    todays: dict[str, date] = {}
    for cid, due_on, count in db.session.execute(query):
        row = rows.get(cid)
        if row is None:
            continue
        if row.timezone not in todays:
            todays[row.timezone] = clock.today(row.timezone, at=now)
        late = (todays[row.timezone] - _as_date(due_on)).days
        if late > 0:
            row.facts["overdue_invoices"] = row.facts.get("overdue_invoices", 0) + count
            row.facts["oldest_overdue_days"] = max(row.facts.get("oldest_overdue_days", 0), late)


def _launch_steps(now: datetime, ids: list[int]) -> dict[int, tuple[int, int]]:
    """L1: the LMS steps of each client in launch, and how many were done by `now`."""
    query = (
        select(
            ChecklistItem.client_id,
            func.count(),
            func.count(case((ChecklistItem.done_at <= now, ChecklistItem.id))),
        )
        .join(Client, Client.id == ChecklistItem.client_id)
        .where(
            Client.id.between(ids[0], ids[-1]),
            Client.status.in_(IN_LAUNCH),
            ChecklistItem.checklist == "lms",
        )
        .group_by(ChecklistItem.client_id)
    )
    return {cid: (total, done) for cid, total, done in db.session.execute(query)}


def _surveys(now: datetime, ids: list[int]) -> dict[int, int]:
    """C7: each client's latest satisfaction survey answered in the SURVEY_DAYS to `now`."""
    query = (
        select(CustomizationRequest.client_id, CustomizationRequest.survey_score)
        .where(
            CustomizationRequest.client_id.between(ids[0], ids[-1]),
            CustomizationRequest.survey_score.is_not(None),
            CustomizationRequest.survey_answered_at.between(now - timedelta(days=SURVEY_DAYS), now),
        )
        .order_by(CustomizationRequest.survey_answered_at, CustomizationRequest.id)
    )
    return dict(db.session.execute(query).tuples().all())  # the latest wins


@dataclass(frozen=True)
class Gathered:
    """One client's facts, and its store's GMV of the last 30 days (None: no figures) in
    its currency; `kept_gmv`: the GMV and its reference amount the client has now."""

    facts: HealthFacts
    gmv_30d: Decimal | None
    currency: str
    kept_gmv: tuple[Decimal | None, Decimal | None]


def gather(now: datetime, ids: list[int]) -> dict[int, Gathered]:
    """The facts of the clients of `ids` (sorted; at most a BATCH, read by their range)
    that have not churned, as they stood at `now`, with each store's 30-day GMV; a fixed
    number of statements, whatever the number of clients."""
    if not ids:
        return {}
    rows = _clients(now, ids)
    for cid, at in _past_contacts(now, ids).items():
        if cid in rows:
            rows[cid].last_contact = at
    _figures(now, ids, rows)
    for name, counts in _open_counts(now, ids).items():
        for cid, count in counts.items():
            if cid in rows:
                rows[cid].facts[name] = bool(count) if name == "not_selling" else count
    _overdue_invoices(now, ids, rows)
    steps = _launch_steps(now, ids)
    surveys = _surveys(now, ids)
    gathered = {}
    for row in rows.values():
        facts = row.facts
        if row.in_launch:
            total, done = steps.get(row.id, (0, 0))
            facts.update(
                launch_days=max((now - row.launch_started).days, 0),
                launch_done=done,
                launch_total=total,
            )
        contact = row.last_contact
        gathered[row.id] = Gathered(
            HealthFacts(
                days_since_contact=None if contact is None else max((now - contact).days, 0),
                days_known=max((now - row.known_since).days, 0),
                survey_score=surveys.get(row.id),
                **facts,
            ),
            row.gmv_30d,
            row.currency,
            row.kept_gmv,
        )
    return gathered


# --- The sweep ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    scored: int
    day: date


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _keep_day(health_rows: list[dict[str, Any]]) -> None:
    """Write the day's rows, rewriting those already there, in one bulk upsert (the
    driver sends it a thousand rows at a time)."""
    statement = _INSERTS[db.session.get_bind().dialect.name](ClientHealth.__table__)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["client_id", "day"],
            set_={
                "score": statement.excluded.score,
                "reasons": statement.excluded.reasons,
                "computed_at": statement.excluded.computed_at,
            },
        ),
        health_rows,
    )


def _keep_on_clients(
    now: datetime, day: date, ids: list[int], gmv_rows: list[dict[str, Any]]
) -> None:
    """The clients' latest score, from the day's rows (one statement), and their 30-day
    GMV where it changed (once a day for most stores: one statement for them all)."""
    clients = Client.__table__
    db.session.execute(
        update(clients)
        .where(
            clients.c.id.between(ids[0], ids[-1]),
            clients.c.status != LifecycleStatus.CHURNED.value,
        )
        .values(
            health_score=select(ClientHealth.score)
            .where(ClientHealth.client_id == clients.c.id, ClientHealth.day == day)
            .scalar_subquery(),
            health_at=now,
        )
    )
    if gmv_rows:
        db.session.execute(
            update(clients)
            .where(clients.c.id == bindparam("client"))
            .values(gmv_30d=bindparam("gmv"), gmv_30d_ref=bindparam("gmv_ref")),
            gmv_rows,
        )


def refresh_scores(now: datetime) -> SweepResult:
    """P2: score every client that has not churned at `now`, and keep today's ClientHealth
    row (the UTC day of `now`: a second run that day rewrites it) and the client's latest
    score and 30-day GMV (in its currency and in the GMV bands' reference currency, None
    without a rate). Churned clients are skipped and keep what they had. In batches of
    BATCH clients, each a fixed number of bulk statements. Flushes; the caller commits."""
    db.session.flush()
    day = now.astimezone(UTC).date()
    ids = list(
        db.session.scalars(
            select(Client.id)
            .where(Client.status != LifecycleStatus.CHURNED.value)
            .order_by(Client.id)
        )
    )
    scored = 0
    for start in range(0, len(ids), BATCH):
        gathered = gather(now, ids[start : start + BATCH])
        if not gathered:
            continue
        health_rows, gmv_rows = [], []
        for cid, found in gathered.items():
            result = score(found.facts)
            health_rows.append(
                {
                    "client_id": cid,
                    "day": day,
                    "score": result.score,
                    "reasons": result.reasons,
                    "computed_at": now,
                }
            )
            gmv = found.gmv_30d
            gmv_ref = None if gmv is None else gmv_bands.to_reference(gmv, found.currency)
            if (gmv, gmv_ref) != found.kept_gmv:
                gmv_rows.append({"client": cid, "gmv": gmv, "gmv_ref": gmv_ref})
        _keep_day(health_rows)
        _keep_on_clients(now, day, ids[start : start + BATCH], gmv_rows)
        scored += len(health_rows)
    # The bulk update bypasses the clients already loaded: they read the new values afresh.
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, Client):
            db.session.expire(loaded, ["health_score", "health_at", "gmv_30d", "gmv_30d_ref"])
    return SweepResult(scored, day)


# --- The client page ---------------------------------------------------------------------------

HISTORY_DAYS = 90


@dataclass(frozen=True)
class ClientHealthView:
    """The client page's health: the latest score with its reasons (None: not scored yet)
    and the days of the HISTORY_DAYS up to it that have a score, oldest first."""

    latest: ClientHealth | None
    history: list[ClientHealth]


def client_health(client: Client) -> ClientHealthView:
    """P2: the client's latest health and its last 90 days; one statement."""
    rows = list(
        db.session.scalars(
            select(ClientHealth)
            .where(ClientHealth.client_id == client.id)
            .order_by(ClientHealth.day.desc())
            .limit(HISTORY_DAYS)
        )
    )
    if not rows:
        return ClientHealthView(None, [])
    first = rows[0].day - timedelta(days=HISTORY_DAYS - 1)
    return ClientHealthView(rows[0], [row for row in reversed(rows) if row.day >= first])
