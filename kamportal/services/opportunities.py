"""Upsell and cross-sell opportunities (P3): per client, a simple pipeline and a forecast.

An opportunity is identified, then proposed, then negotiated, and ends won or lost (with
the reason). Among the open stages it moves either way (a proposal the client wants
reworked goes back); a lost one may be reopened (the client comes back); a won one is
final: the sale is made, and a won customization has started its request.

Winning a customization starts its customization request (C1) in the same step: C1 wants
the scope of work (three texts) from the start, so the ACM writes it when winning, and the
request opens awaiting product's decision (C2) with a link back to the opportunity.

The forecast weights each opportunity by its stage (STAGE_WEIGHTS) and sums per month of
its expected close (a won one: the month it was won) and currency, in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, and_, case, extract, func, or_, select, true
from sqlalchemy.orm import joinedload

from kamportal import clock
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.models import (
    Client,
    Money,
    Opportunity,
    OpportunityKind,
    OpportunityStage,
    TimelineKind,
    User,
)
from kamportal.services import access, customizations, timeline, validation

# The forecast's weight of each stage: the share of an opportunity's amount expected.
IDENTIFIED_WEIGHT = Decimal("0.10")
PROPOSED_WEIGHT = Decimal("0.30")
NEGOTIATING_WEIGHT = Decimal("0.60")
WON_WEIGHT = Decimal("1")
LOST_WEIGHT = Decimal("0")
STAGE_WEIGHTS = {
    OpportunityStage.IDENTIFIED: IDENTIFIED_WEIGHT,
    OpportunityStage.PROPOSED: PROPOSED_WEIGHT,
    OpportunityStage.NEGOTIATING: NEGOTIATING_WEIGHT,
    OpportunityStage.WON: WON_WEIGHT,
    OpportunityStage.LOST: LOST_WEIGHT,
}
OPEN_STAGES = tuple(stage for stage in OpportunityStage if stage.is_open)
# The forecast's months: this one and the five after it.
FORECAST_MONTHS = 6
# The pipeline shows at most this many opportunities per stage (the soonest to close; the
# latest closed for won and lost), and won and lost ones of this many days.
PIPELINE_ROWS = 50
CLOSED_DAYS = 90
OPPORTUNITY_FIELDS = (
    "kind",
    "title",
    "description",
    "amount",
    "currency",
    "stage",
    "expected_close_on",
    "lost_reason",
    "closed_on",
    "customization_request_id",
)
# When an opportunity may close: from a year back (one noted late) to five years on.
CLOSE_PAST = timedelta(days=366)
CLOSE_FUTURE = timedelta(days=5 * 366)


@dataclass(frozen=True)
class Details:
    """What the ACM types about an opportunity."""

    kind: str
    title: str
    amount: object
    currency: str
    expected_close_on: date | None
    description: str = ""


@dataclass(frozen=True)
class ScopeOfWork:
    """C1: what a won customization's request starts with (see services/customizations)."""

    end_result: str
    users: str
    done_when: str
    wanted_by: date
    uploads: tuple[customizations.Upload, ...] = ()


def _checked(details: Details, *, today: date) -> dict[str, object]:
    kind = validation.choice(
        OpportunityKind, details.kind, field="kind", message="Choose what the client could buy."
    )
    title = validation.required_text(
        validation.typed_text(details.title, field="title", max_length=200),
        field="title",
        message="Give the opportunity a title.",
    )
    description = validation.typed_text(
        details.description, field="description", multiline=True, max_length=5000
    ).strip()
    currency = validation.currency_code(details.currency)
    amount = validation.amount_of(details.amount, currency, field="amount")
    if details.expected_close_on is None:
        raise ValidationError("Give the date it should close.", field="expected_close_on")
    validation.date_between(
        details.expected_close_on,
        field="expected_close_on",
        earliest=max(today - CLOSE_PAST, validation.EARLIEST_DATE),
        latest=min(today + CLOSE_FUTURE, validation.LATEST_DATE),
        message="A close date from a year ago to five years on.",
    )
    return {
        "kind": kind.value,
        "title": title,
        "description": description or None,
        "amount": amount,
        "currency": currency,
        "expected_close_on": details.expected_close_on,
    }


def _on_timeline(opportunity: Opportunity, kind: TimelineKind, *, actor: User, summary: str):
    timeline.record(
        opportunity.client,
        kind,
        actor=actor,
        summary=f"{summary} (P3)",
        detail={"opportunity_id": opportunity.id},
    )


def _describe(opportunity: Opportunity) -> str:
    return f"{opportunity.opportunity_kind.label} “{opportunity.title}”, {opportunity.money}"


def add_opportunity(client: Client, *, actor: User, details: Details) -> Opportunity:
    """P3: a new opportunity of `client`, identified. In the client's currency unless
    another is given. On the timeline and in the audit log.

    Raises NotAllowed for someone who does not work on the client, ValidationError for an
    unknown kind, a blank title, an amount its currency cannot hold, a close date out of
    range."""
    access.check_works_on(actor, client)
    values = _checked(details, today=clock.today(actor.timezone))
    now = clock.now()
    opportunity = Opportunity(
        client=client,
        stage=OpportunityStage.IDENTIFIED.value,
        created_at=now,
        created_by=actor,
        updated_at=now,
        updated_by=actor,
        **values,
    )
    db.session.add(opportunity)
    db.session.flush()
    timeline.audit(
        actor,
        "opportunity.add",
        opportunity,
        after=timeline.snapshot(opportunity, OPPORTUNITY_FIELDS),
    )
    _on_timeline(
        opportunity,
        TimelineKind.OPPORTUNITY_ADDED,
        actor=actor,
        summary=f"{_describe(opportunity)}, expected to close by "
        f"{opportunity.expected_close_on:%d %b %Y}",
    )
    return opportunity


def _check_open(opportunity: Opportunity, what: str) -> None:
    if not opportunity.opportunity_stage.is_open:
        raise RuleViolation(
            "P3",
            f"This opportunity is {opportunity.stage}: {what}.",
            field="stage",
        )


def edit_opportunity(opportunity: Opportunity, *, actor: User, details: Details) -> None:
    """P3: correct an open opportunity (kind, title, amount, currency, close date).

    Raises NotAllowed, RuleViolation("P3") once won or lost (reopen a lost one first),
    ValidationError as `add_opportunity`."""
    access.check_works_on(actor, opportunity.client)
    _check_open(opportunity, "reopen it to change it")
    values = _checked(details, today=clock.today(actor.timezone))
    before = timeline.snapshot(opportunity, OPPORTUNITY_FIELDS)
    for name, value in values.items():
        setattr(opportunity, name, value)
    after = timeline.snapshot(opportunity, OPPORTUNITY_FIELDS)
    if before == after:
        return
    opportunity.updated_at, opportunity.updated_by = clock.now(), actor
    timeline.audit(actor, "opportunity.edit", opportunity, before=before, after=after)
    _on_timeline(
        opportunity,
        TimelineKind.OPPORTUNITY_UPDATED,
        actor=actor,
        summary=f"{_describe(opportunity)}, expected to close by "
        f"{opportunity.expected_close_on:%d %b %Y}",
    )
    db.session.flush()


def starts_request(opportunity: Opportunity) -> bool:
    """Whether winning `opportunity` starts a customization request (C1)."""
    return opportunity.opportunity_kind is OpportunityKind.CUSTOMIZATION


def moves_of(opportunity: Opportunity) -> list[OpportunityStage]:
    """The stages `opportunity` may move to in place: the other open stages, won (unless
    winning it starts a customization request: that takes its scope of work) and lost,
    while open; an open stage again (reopening), once lost; none once won."""
    stage = opportunity.opportunity_stage
    if stage is OpportunityStage.WON:
        return []
    if stage is OpportunityStage.LOST:
        return list(OPEN_STAGES)
    others = [s for s in OPEN_STAGES if s is not stage]
    won = [] if starts_request(opportunity) else [OpportunityStage.WON]
    return [*others, *won, OpportunityStage.LOST]


def move_opportunity(
    opportunity: Opportunity,
    *,
    actor: User,
    stage: str,
    reason: str = "",
    scope: ScopeOfWork | None = None,
) -> None:
    """P3: move `opportunity` to `stage`: any open stage from an open one or from lost
    (reopened: its reason is kept in the audit log), won, or lost with `reason`. Winning a
    customization opens its customization request with `scope` (C1, C2), linked to it.
    On the timeline and in the audit log.

    Raises NotAllowed for someone who does not work on the client; ValidationError for an
    unknown stage, lost without a reason, a customization won without its scope of work
    (or a part of it blank); RuleViolation("P3") for a won opportunity or a move to where
    it is."""
    access.check_works_on(actor, opportunity.client)
    target = validation.choice(
        OpportunityStage, stage, field="stage", message="Choose a stage of the pipeline."
    )
    current = opportunity.opportunity_stage
    if current is OpportunityStage.WON:
        raise RuleViolation("P3", "This opportunity is won: the sale is made.", field="stage")
    if target is current:
        raise RuleViolation("P3", f"It is {current.label.lower()} already.", field="stage")
    if current is OpportunityStage.LOST and target is OpportunityStage.WON:
        raise RuleViolation("P3", "It is lost: reopen it first.", field="stage")
    now = clock.now()
    with timeline.audited(actor, f"opportunity.{target.value}", opportunity, OPPORTUNITY_FIELDS):
        if target is OpportunityStage.LOST:
            opportunity.lost_reason = validation.required_text(
                validation.typed_text(reason, field="reason", multiline=True, max_length=2000),
                field="reason",
                message="Say why it is lost.",
            )
            opportunity.lost_at, opportunity.closed_on = now, clock.today(actor.timezone)
        elif target is OpportunityStage.WON:
            if starts_request(opportunity):
                opportunity.customization_request = _start_request(opportunity, actor, scope)
            opportunity.won_at, opportunity.closed_on = now, clock.today(actor.timezone)
        else:
            opportunity.lost_reason = opportunity.lost_at = opportunity.closed_on = None
        opportunity.stage = target.value
        opportunity.updated_at, opportunity.updated_by = now, actor
    if target is OpportunityStage.WON:
        request = opportunity.customization_request
        started = f"; customization {request.reference} asked of product" if request else ""
        _on_timeline(
            opportunity,
            TimelineKind.OPPORTUNITY_WON,
            actor=actor,
            summary=f"Won: {_describe(opportunity)}{started}",
        )
    elif target is OpportunityStage.LOST:
        _on_timeline(
            opportunity,
            TimelineKind.OPPORTUNITY_LOST,
            actor=actor,
            summary=f"Lost: {_describe(opportunity)}: {opportunity.lost_reason}",
        )
    else:
        verb = "Reopened" if current is OpportunityStage.LOST else "Moved"
        _on_timeline(
            opportunity,
            TimelineKind.OPPORTUNITY_MOVED,
            actor=actor,
            summary=f"{verb} from {current.label.lower()} to {target.label.lower()}: "
            f"{_describe(opportunity)}",
        )
    db.session.flush()


def _start_request(opportunity: Opportunity, actor: User, scope: ScopeOfWork | None):
    """C1: the customization request a won customization starts, with its scope of work."""
    if scope is None:
        raise ValidationError(
            "Winning a customization starts its request: write its scope of work.",
            field="stage",
        )
    return customizations.open_request(
        opportunity.client,
        actor=actor,
        title=opportunity.title,
        end_result=scope.end_result,
        users=scope.users,
        done_when=scope.done_when,
        wanted_by=scope.wanted_by,
        uploads=scope.uploads,
    )


# --- Reading ---------------------------------------------------------------------------------


def load_opportunity(opportunity_id: int) -> Opportunity | None:
    return db.session.scalar(
        select(Opportunity)
        .where(Opportunity.id == opportunity_id)
        .options(
            joinedload(Opportunity.client).joinedload(Client.acm),
            joinedload(Opportunity.customization_request),
        )
    )


def client_opportunities(client: Client) -> list[Opportunity]:
    """The client page's panel: the open ones first, soonest to close, then the closed
    ones, latest first; at most PIPELINE_ROWS in all, in one query."""
    is_open = Opportunity.stage.in_([s.value for s in OPEN_STAGES])
    return list(
        db.session.scalars(
            select(Opportunity)
            .where(Opportunity.client_id == client.id)
            .options(joinedload(Opportunity.customization_request))
            .order_by(
                case((is_open, 0), else_=1),
                case((is_open, Opportunity.expected_close_on)),
                case((~is_open, Opportunity.closed_on)).desc(),
                Opportunity.id.desc(),
            )
            .limit(PIPELINE_ROWS)
        )
    )


@dataclass(frozen=True)
class PipelineFilter:
    """Whose pipeline: an ACM's, a team's, or every one the viewer may see."""

    acm_id: int | None = None
    team_id: int | None = None


def _scope(viewer: User, chosen: PipelineFilter, *, today: date) -> ColumnElement[bool]:
    """The opportunities of the pipeline: those of the clients `viewer` may see, of the
    ACM or team chosen, open, or won or lost in the last CLOSED_DAYS."""
    since = today - timedelta(days=CLOSED_DAYS)
    return and_(
        access.visible_clients_clause(viewer),
        _chosen(chosen),
        or_(
            Opportunity.stage.in_([s.value for s in OPEN_STAGES]),
            Opportunity.closed_on >= since,
        ),
    )


@dataclass
class StageColumn:
    """One stage of the pipeline: its opportunities (at most PIPELINE_ROWS), how many
    there are in all and their total per currency."""

    stage: OpportunityStage
    opportunities: list[Opportunity] = field(default_factory=list)
    count: int = 0
    totals: list[Money] = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.count - len(self.opportunities)


def pipeline(viewer: User, chosen: PipelineFilter, *, today: date) -> list[StageColumn]:
    """P3: the pipeline, stage by stage: the open stages soonest to close first, won and
    lost of the last CLOSED_DAYS latest first; the totals per stage and currency summed in
    SQL. One query per stage and one for the totals, whatever the portfolio."""
    scope = _scope(viewer, chosen, today=today)
    columns = {stage: StageColumn(stage) for stage in OpportunityStage}
    totals = db.session.execute(
        select(
            Opportunity.stage,
            Opportunity.currency,
            func.count(Opportunity.id),
            func.sum(Opportunity.amount),
        )
        .join(Opportunity.client)
        .where(scope)
        .group_by(Opportunity.stage, Opportunity.currency)
        .order_by(Opportunity.stage, Opportunity.currency)
    )
    for stage, currency, count, amount in totals:
        column = columns[OpportunityStage(stage)]
        column.count += count
        column.totals.append(Money(_as_amount(amount), currency))
    for stage, column in columns.items():
        if not column.count:
            continue
        order = (
            (Opportunity.expected_close_on, Opportunity.id)
            if stage.is_open
            else (Opportunity.closed_on.desc(), Opportunity.id.desc())
        )
        column.opportunities = list(
            db.session.scalars(
                _rows()
                .where(scope, Opportunity.stage == stage.value)
                .order_by(*order)
                .limit(PIPELINE_ROWS)
            )
        )
    return list(columns.values())


def _rows() -> Select:
    return (
        select(Opportunity)
        .join(Opportunity.client)
        .options(
            joinedload(Opportunity.client).joinedload(Client.acm),
            joinedload(Opportunity.customization_request),
        )
    )


@dataclass(frozen=True)
class ForecastCell:
    """The forecast of one month (None: the open opportunities past their close date) in
    one currency: the amounts weighted by stage, and unweighted."""

    month: date | None
    currency: str
    weighted: Money
    pipeline: Money
    count: int


def forecast(viewer: User, chosen: PipelineFilter, *, today: date) -> list[ForecastCell]:
    """P3: the weighted forecast per month and currency: the open opportunities by the
    month they are expected to close, the won ones by the month they were won, each
    weighted by its stage (STAGE_WEIGHTS), from this month (of `today`) to
    FORECAST_MONTHS on; open ones whose close date is past `today` as overdue (month None),
    first. Summed in SQL."""
    first = today.replace(day=1)
    end = _month_after(first, FORECAST_MONTHS)
    won = Opportunity.stage == OpportunityStage.WON.value
    is_open = Opportunity.stage.in_([s.value for s in OPEN_STAGES])
    closes_on = case((won, Opportunity.closed_on), else_=Opportunity.expected_close_on)
    overdue = and_(is_open, Opportunity.expected_close_on < today)
    year = case((overdue, 0), else_=extract("year", closes_on))
    month = case((overdue, 0), else_=extract("month", closes_on))
    weight = case(
        *((Opportunity.stage == stage.value, weight) for stage, weight in STAGE_WEIGHTS.items()),
        else_=0,
    )
    # Bucketed row by row in a subquery, grouped outside it: PostgreSQL does not match an
    # expression with parameters in the SELECT to the same one in the GROUP BY.
    bucketed = (
        select(
            year.label("year"),
            month.label("month"),
            Opportunity.currency.label("currency"),
            (Opportunity.amount * weight).label("weighted"),
            Opportunity.amount.label("amount"),
        )
        .join(Opportunity.client)
        .where(access.visible_clients_clause(viewer), _chosen(chosen))
        .where(or_(overdue, and_(or_(is_open, won), closes_on >= first, closes_on < end)))
        .subquery()
    )
    rows = db.session.execute(
        select(
            bucketed.c.year,
            bucketed.c.month,
            bucketed.c.currency,
            func.sum(bucketed.c.weighted),
            func.sum(bucketed.c.amount),
            func.count(),
        )
        .group_by(bucketed.c.year, bucketed.c.month, bucketed.c.currency)
        .order_by(bucketed.c.year, bucketed.c.month, bucketed.c.currency)
    )
    return [
        ForecastCell(
            date(int(y), int(m), 1) if y else None,
            currency,
            Money(_as_amount(weighted), currency),
            Money(_as_amount(amount), currency),
            count,
        )
        for y, m, currency, weighted, amount, count in rows
    ]


def _chosen(chosen: PipelineFilter) -> ColumnElement[bool]:
    conditions = []
    if chosen.acm_id is not None:
        conditions.append(Client.acm_id == chosen.acm_id)
    if chosen.team_id is not None:
        conditions.append(Client.acm_id.in_(select(User.id).where(User.team_id == chosen.team_id)))
    return and_(*conditions) if conditions else true()


def forecast_months(today: date) -> list[date]:
    """The first day of each month the forecast shows, from `today`'s."""
    first = today.replace(day=1)
    return [_month_after(first, n) for n in range(FORECAST_MONTHS)]


def _month_after(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _as_amount(value: object) -> Decimal:
    # SQLite sums money as a float: read back through its text, then rounded by Money.
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))
