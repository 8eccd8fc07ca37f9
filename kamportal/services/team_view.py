"""The leader's view: a team's portfolio by health, what its ACMs owe that is late, their
workload, 12 weeks of trends and the monthly churn. A leader sees the teams they lead; an
admin every team.

"Late" is each rule's own definition, imported from its service (one definition, shared
with the ACM's day and the sweeps): F1 weekly contact overdue, G5 minutes owed for a day
or more, O2 welcome email past its 48 business hours, F3 confirmation not sent 4 hours
before or failed, E2/E3 escalation whose step's wait ran out or waiting for the leader,
R4 invoice unpaid past its due date, R7 wire transfer unconfirmed after 4 days, F4 store
not selling whose reasons are not recorded.

Everything is counted in SQL, grouped by the client's ACM (or the ACM's team): a constant
number of queries whatever the team or the portfolio.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import contains_eager
from sqlalchemy.sql.util import find_tables

from kamportal import clock
from kamportal.extensions import db
from kamportal.models import (
    Client,
    ClientHealth,
    CustomizationRequest,
    CustomizationStage,
    Escalation,
    EscalationStatus,
    HealthBand,
    Invoice,
    LifecycleStatus,
    Meeting,
    MeetingStatus,
    Minutes,
    NotSellingAlert,
    Payment,
    Renewal,
    RenewalStage,
    Role,
    StoreDay,
    Team,
    TimelineEvent,
    User,
    UserRole,
    WelcomeEmail,
)
from kamportal.models.metrics import HEALTH_BAND_LOWEST
from kamportal.services import (
    cadence,
    contact_log,
    escalations,
    invoices,
    meetings,
    not_selling,
    onboarding,
    payments,
    snapshots,
)
from kamportal.services import minutes as minutes_service
from kamportal.services.day import local_day_bounds

# The drill-down lists at most this many items (the count above it says how many in all).
ITEMS_SHOWN = 200
TREND_WEEKS = 12
# The workload's look ahead for meetings.
MEETINGS_AHEAD = timedelta(days=7)
# A renewal still under way: R1 opens it 30 days before its date; paid or lost ends it.
OPEN_RENEWAL_STAGES = (
    RenewalStage.DUE.value,
    RenewalStage.NOTIFIED.value,
    RenewalStage.CONFIRMED.value,
    RenewalStage.INVOICED.value,
)
ENDED_CUSTOMIZATION_STAGES = (CustomizationStage.REJECTED.value, CustomizationStage.CLOSED.value)
NOT_SCORED = "not_scored"
BANDS = (*[band.value for band in HealthBand], NOT_SCORED)


# --- Who sees which team ----------------------------------------------------------------


def teams_of(viewer: User) -> list[Team]:
    """The teams `viewer` may open: every team for an admin, those they lead for a
    leader, none for anyone else; by name."""
    query = select(Team).order_by(Team.name, Team.id)
    if viewer.has_role(Role.ADMIN):
        return list(db.session.scalars(query))
    if viewer.has_role(Role.LEADER):
        return list(db.session.scalars(query.where(Team.leader_id == viewer.id)))
    return []


def every_team_page(*, page: int, per_page: int) -> Pagination:
    """One page of every team (the admin's), by name."""
    return db.paginate(
        select(Team).order_by(Team.name, Team.id), page=page, per_page=per_page, error_out=False
    )


def members(team_ids: Sequence[int]) -> list[User]:
    """The ACMs of `team_ids`: their members who hold the ACM role or a client, by name."""
    holds_clients = exists().where(Client.acm_id == User.id)
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.team_id.in_(team_ids),
                or_(User.role_rows.any(UserRole.role == Role.ACM.value), holds_clients),
            )
            .order_by(User.name, User.id)
        )
    )


def member_of(team_ids: Sequence[int], acm_id: int) -> User | None:
    """The user `acm_id` if they belong to one of `team_ids`; None otherwise."""
    return db.session.scalar(select(User).where(User.id == acm_id, User.team_id.in_(team_ids)))


def team_clients_clause(team_ids: Sequence[int]) -> ColumnElement[bool]:
    """A clause on Client: the clients whose ACM is in one of `team_ids`."""
    return Client.acm_id.in_(select(User.id).where(User.team_id.in_(team_ids)))


# --- The scope every count runs over --------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The clients counted (those of `team_ids`' ACMs, or one ACM's) and what a count is
    grouped by: each ACM (`by_team=False`) or each team."""

    team_ids: tuple[int, ...]
    acm_id: int | None = None
    by_team: bool = False

    @property
    def key(self) -> ColumnElement[int | None]:
        return User.team_id if self.by_team else User.id

    def clause(self) -> ColumnElement[bool]:
        within = User.team_id.in_(self.team_ids)
        return within if self.acm_id is None else and_(within, User.id == self.acm_id)


def _scoped(query: Select, scope: Scope, path: Sequence[Any]) -> Select:
    """`query` from the counted records through `path` (relationships) to their client,
    then to the client's ACM, narrowed to `scope`."""
    for step in path:
        query = query.join(*step) if isinstance(step, tuple) else query.join(step)
    return query.join(User, User.id == Client.acm_id).where(scope.clause())


def _counts(counted: Any, path: Sequence[Any], scope: Scope, *where: Any) -> dict[int, int]:
    """How many `counted` records match `where`, per ACM or team of `scope` (one query)."""
    query = _scoped(select(scope.key, func.count(counted.id)).select_from(counted), scope, path)
    return {
        key: count for key, count in db.session.execute(query.where(*where).group_by(scope.key))
    }


# --- What is late, rule by rule -----------------------------------------------------------


@dataclass(frozen=True)
class LateItem:
    """One late item of the drill-down: its client, what it is and since when (an instant,
    or for an invoice its due date), and the record it is about."""

    rule: str
    client: Client
    title: str
    record: Any
    since: datetime | None = None
    due_on: date | None = None


@dataclass(frozen=True)
class LateRule:
    """One rule's "late": the records counted, their way to the client, the rule's own
    clause (from its service), their order, and how an item reads."""

    rule: str
    heading: str
    counted: Any
    path: tuple[Any, ...]
    clause: Callable[[datetime], ColumnElement[bool]]
    order: Callable[[], tuple[Any, ...]]
    item: Callable[[Any], LateItem]


def _minutes_item(minutes: Minutes) -> LateItem:
    meeting = minutes.meeting
    what = f"the {meeting.meeting_type.label.lower()} meeting" if meeting else "the call"
    return LateItem("G5", minutes.client, f"Minutes of {what}", minutes, since=minutes.owed_since)


def _escalation_item(escalation: Escalation) -> LateItem:
    if escalation.waiting_for_leader:
        title, since = "Waiting for the leader's decision", escalation.step_started_at
    else:
        step = escalation.step.following
        title = f"Next step overdue: {step.label if step else 'the leader'}"
        since = escalation.step_due_at
    return LateItem("E2", escalation.client, title, escalation, since=since)


def _payment_item(payment: Payment) -> LateItem:
    invoice = payment.invoice
    return LateItem(
        "R7",
        invoice.client,
        f"Wire transfer of {payment.money} for invoice {invoice.label} not confirmed",
        payment,
        since=payment.reported_at,
    )


LATE_RULES: dict[str, LateRule] = {
    rule.rule: rule
    for rule in (
        LateRule(
            "F1",
            "Weekly contact overdue",
            Client,
            (),
            cadence.overdue_clause,
            lambda: (Client.last_contact_at.asc().nulls_first(), Client.store_name),
            lambda client: LateItem(
                "F1", client, "Weekly contact overdue", client, since=cadence.due_at(client)
            ),
        ),
        LateRule(
            "G5",
            "Minutes owed for a day or more",
            Minutes,
            (Minutes.client,),
            minutes_service.late_clause,
            lambda: (Minutes.owed_since, Minutes.id),
            _minutes_item,
        ),
        LateRule(
            "O2",
            "Welcome email past its 48 business hours",
            WelcomeEmail,
            (WelcomeEmail.client,),
            onboarding.welcome_late_clause,
            lambda: (WelcomeEmail.due_at, WelcomeEmail.id),
            lambda welcome: LateItem(
                "O2", welcome.client, "Welcome email not sent", welcome, since=welcome.due_at
            ),
        ),
        LateRule(
            "F3",
            "Meeting confirmation not sent",
            Meeting,
            (Meeting.client,),
            meetings.confirmation_missed_clause,
            lambda: (Meeting.confirmation_due_at, Meeting.id),
            lambda meeting: LateItem(
                "F3",
                meeting.client,
                f"Confirmation of the {meeting.meeting_type.label.lower()} meeting",
                meeting,
                since=meeting.confirmation_due_at,
            ),
        ),
        LateRule(
            "E2",
            "Escalation waiting",
            Escalation,
            (Escalation.client,),
            escalations.waiting_clause,
            lambda: (Escalation.step_started_at, Escalation.id),
            _escalation_item,
        ),
        LateRule(
            "R4",
            "Invoice unpaid past its due date",
            Invoice,
            (Invoice.client,),
            invoices.overdue_clause,
            lambda: (Invoice.due_on, Invoice.id),
            lambda invoice: LateItem(
                "R4",
                invoice.client,
                f"Invoice {invoice.label} unpaid: {invoice.money}",
                invoice,
                due_on=invoice.due_on,
            ),
        ),
        LateRule(
            "R7",
            "Wire transfer unconfirmed after 4 days",
            Payment,
            (Payment.invoice, Invoice.client),
            payments.late_wire_clause,
            lambda: (Payment.reported_at, Payment.id),
            _payment_item,
        ),
        LateRule(
            "F4",
            "Not selling, reasons not recorded",
            NotSellingAlert,
            (NotSellingAlert.client,),
            lambda now: not_selling.owed_clause(),
            lambda: (NotSellingAlert.raised_at, NotSellingAlert.id),
            lambda alert: LateItem(
                "F4",
                alert.client,
                f"Not selling: {not_selling.CAUSE_LABELS.get(alert.cause, alert.cause)}",
                alert,
                since=alert.raised_at,
            ),
        ),
    )
}


def late_counts(scope: Scope, *, now: datetime) -> dict[str, dict[int, int]]:
    """Per rule, how many items are late at `now`, per ACM (or team) of `scope`."""
    return figures(scope, now=now).late


@dataclass(frozen=True)
class LateList:
    rule: LateRule
    items: list[LateItem]
    total: int


def late_query(rule_name: str, scope: Scope, *, now: datetime) -> Select:
    """Rule `rule_name`'s late records in `scope` at `now`, each with its client (and its
    ACM), the longest late first. KeyError for an unknown rule."""
    rule = LATE_RULES[rule_name]
    return _late_query(rule, scope, rule.clause(now))


def _late_query(rule: LateRule, scope: Scope, clause: ColumnElement[bool]) -> Select:
    if rule.path:
        loader = contains_eager(rule.path[0])
        for step in rule.path[1:]:
            loader = loader.contains_eager(step)
        loader = loader.contains_eager(Client.acm)
    else:
        loader = contains_eager(Client.acm)
    return (
        _scoped(select(rule.counted), scope, rule.path)
        .options(loader)
        .where(clause)
        .order_by(*rule.order())
    )


def late_items(rule_name: str, scope: Scope, *, now: datetime) -> LateList:
    """The items behind one count: rule `rule_name`'s late items in `scope`, each with
    its client (and its ACM), the longest late first; at most ITEMS_SHOWN of `total`.
    KeyError for an unknown rule."""
    rule = LATE_RULES[rule_name]
    clause = rule.clause(now)
    total = sum(_counts(rule.counted, rule.path, scope, clause).values())
    query = _late_query(rule, scope, clause).limit(ITEMS_SHOWN)
    return LateList(rule, [rule.item(record) for record in db.session.scalars(query)], total)


# --- The portfolio by health, and the workload ------------------------------------------------


def _active() -> ColumnElement[bool]:
    return Client.status != LifecycleStatus.CHURNED.value


def _band() -> ColumnElement[str]:
    """P2: a client's health band from its latest score (not scored yet without one)."""
    score = Client.health_score
    return case(
        (score.is_(None), NOT_SCORED),
        (score >= HEALTH_BAND_LOWEST[HealthBand.GREEN], HealthBand.GREEN.value),
        (score >= HEALTH_BAND_LOWEST[HealthBand.AMBER], HealthBand.AMBER.value),
        else_=HealthBand.RED.value,
    )


def health_bands(scope: Scope) -> dict[int, dict[str, int]]:
    """P2: the active clients of `scope` per ACM (or team) and health band (green, amber,
    red, or not scored yet), from each client's latest score."""
    return figures(scope, now=clock.now()).bands


@dataclass
class Workload:
    """One ACM's (or team's) load: active clients, those launching, meetings in the next
    7 days, open escalations, open customization requests, renewals under way."""

    clients: int = 0
    launching: int = 0
    meetings: int = 0
    escalations: int = 0
    customizations: int = 0
    renewals: int = 0


def workload(scope: Scope, *, now: datetime) -> dict[int, Workload]:
    """The workload per ACM (or team) of `scope`."""
    return figures(scope, now=now).workload


@dataclass(frozen=True)
class Figures:
    """What the leader's view counts per ACM (or team): the late items per rule, the
    active clients per health band, the workload."""

    late: dict[str, dict[int, int]]
    bands: dict[int, dict[str, int]]
    workload: dict[int, Workload]


@dataclass(frozen=True)
class _Tally:
    """Records of one table counted per ACM (or team): those matching `where`, each figure
    the ones its clause picks among them (None: all of them); a figure is a late rule or a
    workload column."""

    counted: Any
    path: tuple[Any, ...]
    where: ColumnElement[bool]
    figures: dict[str, ColumnElement[bool] | None]


# A table's tally gives at most this many figures (the columns of the union below).
TALLY_COLUMNS = 2


def _tallies(now: datetime) -> list[_Tally]:
    """Every count of the page but the clients' own, a table at a time, each with its
    rule's clause (imported from its service)."""
    tallies = [
        _Tally(rule.counted, rule.path, rule.clause(now), {rule.rule: None})
        for rule in LATE_RULES.values()
        if rule.rule not in ("F1", "F3", "E2")
    ]
    tallies += [
        _Tally(
            Meeting,
            (Meeting.client,),
            Meeting.status == MeetingStatus.SCHEDULED.value,
            {
                "F3": LATE_RULES["F3"].clause(now),
                "meetings": and_(
                    Meeting.starts_at >= now, Meeting.starts_at < now + MEETINGS_AHEAD
                ),
            },
        ),
        _Tally(
            Escalation,
            (Escalation.client,),
            Escalation.status == EscalationStatus.OPEN.value,
            {"E2": LATE_RULES["E2"].clause(now), "escalations": None},
        ),
        _Tally(
            CustomizationRequest,
            (CustomizationRequest.client,),
            CustomizationRequest.stage.not_in(ENDED_CUSTOMIZATION_STAGES),
            {"customizations": None},
        ),
        _Tally(
            Renewal,
            (Renewal.client,),
            Renewal.stage.in_(OPEN_RENEWAL_STAGES),
            {"renewals": None},
        ),
    ]
    return tallies


def _filtered_count(clause: ColumnElement[bool] | None) -> Any:
    return func.count() if clause is None else func.count().filter(clause)


def _scope_clients(scope: Scope) -> Any:
    """The clients of `scope` (`client_id`) with the ACM or team they are counted under
    (`key`): one CTE, read once for every count of the statement."""
    return (
        select(Client.id.label("client_id"), scope.key.label("key"))
        .join(User, User.id == Client.acm_id)
        .where(scope.clause())
        .cte("scope_clients")
    )


def _reads_client(*clauses: ColumnElement[bool] | None) -> bool:
    """Whether one of `clauses` reads the client's own row (R4 its zone, O2 its plan)."""
    client = Client.__table__
    return any(
        client in find_tables(clause, check_columns=True)
        for clause in clauses
        if clause is not None
    )


def _tally_query(n: int, tally: _Tally, scope_clients: Any) -> Select:
    """Tally `n`'s counts per key of `scope_clients`: its records joined to their client's
    id (through `path`), the client's row itself only when a clause reads it."""
    counts = [_filtered_count(clause) for clause in tally.figures.values()]
    counts += [literal(0)] * (TALLY_COLUMNS - len(counts))
    query = select(literal(n).label("tally"), scope_clients.c.key, *counts).select_from(
        tally.counted
    )
    *hops, to_client = tally.path
    for hop in hops:
        query = query.join(hop)
    (client_id,) = to_client.property.local_columns
    query = query.join(scope_clients, scope_clients.c.client_id == client_id)
    if _reads_client(tally.where, *tally.figures.values()):
        query = query.join(Client, Client.id == client_id)
    return query.where(tally.where).group_by(scope_clients.c.key)


def figures(scope: Scope, *, now: datetime) -> Figures:
    """The late items per rule at `now`, the health bands (P2) and the workload, per ACM
    (or team) of `scope`, in two grouped statements (and one for the invoices' zones, R4):
    one over the clients, one a union of a count per other table, over the scope's
    clients found once."""
    late: dict[str, dict[int, int]] = {name: {} for name in LATE_RULES}
    bands: dict[int, dict[str, int]] = {}
    loads: dict[int, Workload] = {}

    band = _band()
    clients = _scoped(
        select(
            scope.key,
            func.count(),
            func.count().filter(Client.status == LifecycleStatus.LAUNCHING.value),
            func.count().filter(LATE_RULES["F1"].clause(now)),
            *(func.count().filter(band == name) for name in BANDS),
        ),
        scope,
        (),
    ).where(_active())
    for key, active, launching, overdue, *per_band in db.session.execute(
        clients.group_by(scope.key)
    ):
        loads[key] = Workload(clients=active, launching=launching)
        bands[key] = dict(zip(BANDS, per_band, strict=True))
        if overdue:
            late["F1"][key] = overdue

    tallies = _tallies(now)
    scope_clients = _scope_clients(scope)
    branches = [_tally_query(n, tally, scope_clients) for n, tally in enumerate(tallies)]
    for n, key, *counts in db.session.execute(union_all(*branches)):
        for name, count in zip(tallies[n].figures, counts, strict=False):
            if not count:
                continue
            if name in late:
                late[name][key] = count
            else:
                setattr(loads.setdefault(key, Workload()), name, count)
    return Figures(late, bands, loads)


# --- Every team's figures, as the sweep last summed them ------------------------------------

EVERY_TEAM_SNAPSHOT = "every team's figures"


def keep_every_team_figures(*, now: datetime) -> None:
    """The sweep's part: every team's figures at `now`, kept for the admin's every-team
    page (summed over every client, which grows with the portfolio)."""
    team_ids = tuple(db.session.scalars(select(Team.id)))
    found = figures(Scope(team_ids, by_team=True), now=now)
    kept = {
        "late": found.late,
        "bands": found.bands,
        "workload": {key: asdict(load) for key, load in found.workload.items()},
    }
    snapshots.keep_only(EVERY_TEAM_SNAPSHOT, {EVERY_TEAM_SNAPSHOT: kept}, now=now)


def every_team_figures(
    team_ids: Sequence[int], *, now: datetime
) -> tuple[Figures, datetime | None]:
    """The figures of `team_ids` (a page of every team), each team's: the sweep's while
    fresh, with when it summed them; else summed now (and None)."""
    # JSON keeps a dict's keys as text: the teams' ids come back as "12".
    wanted = {str(team_id): team_id for team_id in team_ids}

    def of_page(per_team: dict[str, Any]) -> dict[int, Any]:
        return {wanted[key]: value for key, value in per_team.items() if key in wanted}

    def decoded(kept: dict[str, Any]) -> Figures:
        return Figures(
            late={rule: of_page(kept["late"].get(rule, {})) for rule in LATE_RULES},
            bands=of_page(kept["bands"]),
            workload={key: Workload(**load) for key, load in of_page(kept["workload"]).items()},
        )

    snapshot = snapshots.fresh(EVERY_TEAM_SNAPSHOT, now=now, decode=decoded)
    if snapshot is None:
        return figures(Scope(tuple(team_ids), by_team=True), now=now), None
    return snapshot.figures, snapshot.computed_at


# --- 12 weeks of trends -------------------------------------------------------------------------


@dataclass
class Week:
    """One week of the team's trends: its first and last day (the leader's calendar)."""

    first: date
    last: date
    average_health: Decimal | None = None
    clients_in_red: int = 0
    contacts: int = 0
    escalations: int = 0
    orders: int = 0


@dataclass(frozen=True)
class Trends:
    weeks: list[Week] = field(default_factory=list)


def _weeks(today: date, count: int) -> list[Week]:
    """`count` weeks of 7 days, the last ending `today`, oldest first."""
    first = today - timedelta(days=7 * count - 1)
    return [
        Week(first + timedelta(days=7 * n), first + timedelta(days=7 * n + 6)) for n in range(count)
    ]


def _per_week(column: Any, bounds: list[Any]) -> Any:
    """The week (0 the oldest) `column` falls in, given the weeks' starts and the end."""
    return case(*[(column < bounds[n + 1], n) for n in range(len(bounds) - 1)]).label("week")


def _weekly(
    column: Any, bounds: list[Any], scope: Scope, path: Sequence[Any], *values: Any, where=()
) -> Any:
    """A subquery of the records of `scope` whose `column` falls in the weeks (`bounds`:
    their starts and the end): their week (`week`, 0 the oldest) and `values` (as
    `value0`, `value1`...), for the caller to group by week."""
    labelled = [value.label(f"value{n}") for n, value in enumerate(values)]
    query = select(_per_week(column, bounds), *labelled).select_from(column.class_)
    return (
        _scoped(query, scope, path)
        .where(column >= bounds[0], column < bounds[-1], *where)
        .subquery()
    )


def trends(team_ids: Sequence[int], *, zone: str, now: datetime) -> Trends:
    """The last TREND_WEEKS weeks of `team_ids`' clients, weeks in `zone` (the leader's)
    ending today: the average health score and the clients in red at some time in the week
    (P2), contacts made (F1), escalations opened (E1), store orders (F4); one statement, a
    grouped query each."""
    scope = Scope(tuple(team_ids))
    weeks = _weeks(clock.today(zone, at=now), TREND_WEEKS)
    days = [week.first for week in weeks] + [weeks[-1].last + timedelta(days=1)]
    instants = [local_day_bounds(day, zone)[0] for day in days]

    red = case((ClientHealth.score < HEALTH_BAND_LOWEST[HealthBand.AMBER], Client.id))
    health = _weekly(ClientHealth.day, days, scope, (ClientHealth.client,), ClientHealth.score, red)
    contacts = _weekly(
        TimelineEvent.at,
        instants,
        scope,
        ((Client, Client.id == TimelineEvent.client_id),),
        where=(contact_log.contact_made_clause(),),
    )
    raised = _weekly(Escalation.raised_at, instants, scope, (Escalation.client,), Escalation.id)
    orders = _weekly(StoreDay.day, days, scope, (StoreDay.client,), StoreDay.orders)
    # Each figure's weeks (`figure`: 0 health, 1 contacts, 2 escalations, 3 orders).
    per_week = union_all(
        select(
            literal(0).label("figure"),
            health.c.week,
            func.avg(health.c.value0).label("value"),
            func.count(health.c.value1.distinct()).label("in_red"),
        ).group_by(health.c.week),
        select(literal(1), contacts.c.week, func.count(), literal(0)).group_by(contacts.c.week),
        select(literal(2), raised.c.week, func.count(), literal(0)).group_by(raised.c.week),
        select(literal(3), orders.c.week, func.sum(orders.c.value0), literal(0)).group_by(
            orders.c.week
        ),
    )
    for figure, n, value, in_red in db.session.execute(per_week):
        week = weeks[n]
        if figure == 0:
            week.average_health = Decimal(value).quantize(Decimal("1"))
            week.clients_in_red = in_red
        elif figure == 1:
            week.contacts = int(value)
        elif figure == 2:
            week.escalations = int(value)
        else:
            week.orders = int(value or 0)
    return Trends(weeks)


# --- The trends as the sweep last summed them ----------------------------------------------

TRENDS_SNAPSHOT = "trends of team "


def _trends_snapshot_name(team_id: int, zone: str, today: date) -> str:
    return f"{TRENDS_SNAPSHOT}{team_id} {zone} {today.isoformat()}"


def keep_team_trends(*, now: datetime) -> None:
    """The sweep's part: each team's 12 weeks at `now`, in its leader's zone, kept for
    their team page (the weeks gone by are history, and reading them grows with the
    team's clients and days); other days' and zones' dropped."""
    led = select(Team.id, User.timezone).join(User, User.id == Team.leader_id).order_by(Team.id)
    kept = {
        _trends_snapshot_name(team_id, zone, clock.today(zone, at=now)): [
            _encoded_week(week) for week in trends((team_id,), zone=zone, now=now).weeks
        ]
        for team_id, zone in db.session.execute(led)
    }
    snapshots.keep_only(TRENDS_SNAPSHOT, kept, now=now)


def team_trends(team_id: int, *, zone: str, now: datetime) -> tuple[Trends, datetime | None]:
    """Team `team_id`'s 12 weeks in `zone` ending today: the sweep's while fresh (its
    leader's zone), with when it summed them; else summed now (and None)."""
    name = _trends_snapshot_name(team_id, zone, clock.today(zone, at=now))
    snapshot = snapshots.fresh(
        name, now=now, decode=lambda kept: Trends([_decoded_week(week) for week in kept])
    )
    if snapshot is None:
        return trends((team_id,), zone=zone, now=now), None
    return snapshot.figures, snapshot.computed_at


def _encoded_week(week: Week) -> dict[str, Any]:
    kept = asdict(week)
    kept.update(first=week.first.isoformat(), last=week.last.isoformat())
    if week.average_health is not None:
        kept["average_health"] = str(week.average_health)
    return kept


def _decoded_week(kept: dict[str, Any]) -> Week:
    health = kept["average_health"]
    return Week(
        **{
            **kept,
            "first": date.fromisoformat(kept["first"]),
            "last": date.fromisoformat(kept["last"]),
            "average_health": None if health is None else Decimal(health),
        }
    )
