"""Not selling (F4): the daily sweep that notices a live store that stopped selling, and
the reasons and actions the ACM owes on it.

A store is read on its own calendar (the client's zone): its days up to yesterday, today
being not over. A live or at-risk store with figures is not selling when

- it had no order on each of the last N days (N: the team's `not_selling_days`), or
- the GMV of its last 7 days is down more than X % (the team's
  `not_selling_drop_percent`) against the weekly average of the 4 weeks before.

A day without figures counts as a day without orders, from the store's first day with
figures on: a store is watched only once its figures cover the whole stretch looked at
(N days, or the 5 weeks of a GMV comparison), so a store that was just connected raises
nothing. One alert per episode: a store with an open alert gets no second one. It clears
when the store sells again: for "no orders", an order on any day since the first day
without one (a late figure for a day counted as silent clears it too); for "GMV drop",
its last 7 days back at (100 - X) % or more of the weekly average the alert was raised
against. The ACM records the reasons found and the actions agreed with the client; until
then the alert is on their day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import joinedload

from kamportal import clock, database
from kamportal.errors import RuleViolation
from kamportal.extensions import db
from kamportal.models import (
    Client,
    LifecycleStatus,
    NotSellingAlert,
    StoreDay,
    Team,
    TimelineKind,
    User,
)
from kamportal.models.accounts import TEAM_RULES
from kamportal.services import access, notifications, timeline, validation

# The team settings' bounds (the team form says them).
DAYS_RANGE = range(1, 61)
DROP_PERCENT_RANGE = range(1, 100)
# The GMV comparison: the last week against the weekly average of the 4 weeks before.
WEEK = 7
TRAILING_WEEKS = 4
# The days of figures one sweep reads per store: enough for the longest silence the
# settings allow and for the GMV comparison.
LOOKBACK = max(DAYS_RANGE.stop - 1, WEEK * (TRAILING_WEEKS + 1))
# Stores watched: those selling to the public (at risk ones most of all).
WATCHED = (LifecycleStatus.LIVE.value, LifecycleStatus.AT_RISK.value)
NO_ORDERS, GMV_DROP = "no_orders", "gmv_drop"
CAUSE_LABELS = {NO_ORDERS: "No orders", GMV_DROP: "GMV down"}
TEXT_MAX = 2000
# Stores loaded per statement.
CHUNK = 500


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did: alerts raised and alerts cleared."""

    raised: int
    cleared: int


@dataclass(frozen=True)
class StoreWindow:
    """One store's figures as a sweep reads them, on the store's calendar: `yesterday`,
    its team's thresholds, its first day with figures, its last day with orders up to
    yesterday and up to today, and the GMV of its last 7 days and of the 4 weeks before."""

    client_id: int
    yesterday: date
    days: int
    drop_percent: int
    first_day: date | None
    last_sale: date | None
    last_sale_by_today: date | None
    week_gmv: Decimal
    trailing_gmv: Decimal

    def silent_since(self) -> date | None:
        """The first day of the silence when the store had no orders on each of its last
        `days` days (and figures covered them all); None otherwise."""
        first_quiet = self.yesterday - timedelta(days=self.days - 1)
        if self.first_day is None or self.first_day > first_quiet:
            return None
        if self.last_sale is not None and self.last_sale >= first_quiet:
            return None
        if self.last_sale is not None:
            return self.last_sale + timedelta(days=1)
        return max(self.first_day, self.yesterday - timedelta(days=LOOKBACK - 1))

    def dropped(self) -> bool:
        """The last 7 days' GMV down more than `drop_percent` against the weekly average
        of the 4 weeks before (figures covering all 5 weeks, some GMV before)."""
        first_compared = self.yesterday - timedelta(days=WEEK * (TRAILING_WEEKS + 1) - 1)
        if self.first_day is None or self.first_day > first_compared:
            return False
        if self.trailing_gmv <= 0:
            return False
        # week < (100 - X) % of trailing / 4, in whole numbers: exactly X % is no alert.
        return self.week_gmv * 100 * TRAILING_WEEKS < (100 - self.drop_percent) * self.trailing_gmv

    @property
    def weekly_average(self) -> Decimal:
        return (self.trailing_gmv / TRAILING_WEEKS).quantize(
            Decimal("0.001"), rounding=ROUND_HALF_UP
        )


def sweep(now: datetime) -> SweepResult:
    """The F4 sweep: clear the open alerts of stores selling again, then raise an alert
    for each watched store not selling that has none open. Idempotent: run again on the
    same day it changes nothing (hourly, so each store is looked at within the hour after
    its midnight). A few statements whatever the number of stores: one per distinct
    "yesterday" of the stores' zones (two or three), and one for the open alerts.
    Flushes; the caller commits."""
    open_alerts = {
        alert.client_id: alert
        for alert in db.session.scalars(
            select(NotSellingAlert)
            .options(joinedload(NotSellingAlert.client))
            .where(NotSellingAlert.cleared_at.is_(None))
        )
    }
    cleared = 0
    to_raise: list[StoreWindow] = []
    for store in _store_windows(now):
        alert = open_alerts.get(store.client_id)
        if alert is None:
            if store.silent_since() is not None or store.dropped():
                to_raise.append(store)
        elif _sells_again(alert, store):
            _clear(alert, store, now=now)
            cleared += 1
    clients = _clients([store.client_id for store in to_raise])
    raised = [_new_alert(store, clients[store.client_id], now=now) for store in to_raise]
    # In bulk: after figures come back from an outage, thousands may be raised at once.
    db.session.add_all(raised)
    timeline.record_many(
        TimelineKind.NOT_SELLING_RAISED,
        (
            timeline.Entry(
                alert.client_id,
                f"Not selling: {alert.detail} (F4)",
                {"cause": alert.cause, "since_day": alert.since_day},
            )
            for alert in raised
        ),
        actor=None,
        at=now,
    )
    notifications.notify_each(
        (
            (
                clients[alert.client_id].acm_id,
                notifications.Note(
                    text=f"{clients[alert.client_id].store_code} is not selling: {alert.detail}",
                    link=notifications.link_to("clients.show", client_id=alert.client_id),
                    key=f"not-selling-{alert.client_id}-{alert.cause}-{alert.since_day}",
                ),
            )
            for alert in raised
        ),
        kind=notifications.NOT_SELLING,
    )
    db.session.flush()
    return SweepResult(len(to_raise), cleared)


def _clients(ids: list[int]) -> dict[int, Client]:
    found: dict[int, Client] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found.update(
            (c.id, c) for c in db.session.scalars(select(Client).where(Client.id.in_(chunk)))
        )
    return found


def _store_windows(now: datetime) -> list[StoreWindow]:
    # Every zone in use, off its index: one with no store watched gives an empty window.
    zones = database.each_value(Client.timezone)
    zones_by_yesterday: dict[date, list[str]] = defaultdict(list)
    for zone in zones:
        zones_by_yesterday[clock.today(zone, at=now) - timedelta(days=1)].append(zone)
    windows = []
    for yesterday, same_day_zones in sorted(zones_by_yesterday.items()):
        windows.extend(_windows_of(yesterday, same_day_zones))
    return windows


def _windows_of(yesterday: date, zones: list[str]) -> list[StoreWindow]:
    """The stores of `zones` (whose yesterday is `yesterday`) with their figures summed."""
    first_read = yesterday - timedelta(days=LOOKBACK - 1)
    week_starts = yesterday - timedelta(days=WEEK - 1)
    trailing_starts = week_starts - timedelta(days=WEEK * TRAILING_WEEKS)
    up_to_yesterday = StoreDay.day <= yesterday
    first_day = (
        select(func.min(StoreDay.day))
        .where(StoreDay.client_id == Client.id)
        .correlate(Client)
        .scalar_subquery()
    )
    query = (
        select(
            Client.id,
            func.coalesce(Team.not_selling_days, TEAM_RULES.not_selling_days),
            func.coalesce(Team.not_selling_drop_percent, TEAM_RULES.not_selling_drop_percent),
            first_day,
            func.max(case((and_(StoreDay.orders > 0, up_to_yesterday), StoreDay.day))),
            func.max(case((StoreDay.orders > 0, StoreDay.day))),
            func.sum(case((StoreDay.day.between(week_starts, yesterday), StoreDay.gmv))),
            func.sum(
                case(
                    (
                        StoreDay.day.between(trailing_starts, week_starts - timedelta(1)),
                        StoreDay.gmv,
                    )
                )
            ),
        )
        .select_from(Client)
        .outerjoin(
            StoreDay,
            and_(
                StoreDay.client_id == Client.id,
                StoreDay.day.between(first_read, yesterday + timedelta(days=1)),
            ),
        )
        .outerjoin(User, User.id == Client.acm_id)
        .outerjoin(Team, Team.id == User.team_id)
        .where(Client.status.in_(WATCHED), Client.timezone.in_(zones))
        .group_by(Client.id, Team.not_selling_days, Team.not_selling_drop_percent)
    )
    return [
        StoreWindow(
            client_id,
            yesterday,
            days,
            drop,
            _as_date(first),
            _as_date(last_sale),
            _as_date(last_sale_by_today),
            _as_amount(week),
            _as_amount(trailing),
        )
        for client_id, days, drop, first, last_sale, last_sale_by_today, week, trailing in (
            db.session.execute(query)
        )
        if first is not None
    ]


def _as_date(value: object) -> date | None:
    # SQLite hands an aggregate of dates back as text.
    if isinstance(value, str):
        return date.fromisoformat(value)
    return value  # type: ignore[return-value]


def _as_amount(value: object) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _sells_again(alert: NotSellingAlert, store: StoreWindow) -> bool:
    if alert.cause == NO_ORDERS:
        return (
            store.last_sale_by_today is not None
            and alert.since_day is not None
            and store.last_sale_by_today >= alert.since_day
        )
    baseline = alert.baseline_gmv or Decimal(0)
    return store.week_gmv * 100 >= (100 - store.drop_percent) * baseline


def _new_alert(store: StoreWindow, client: Client, *, now: datetime) -> NotSellingAlert:
    silent_since = store.silent_since()
    if silent_since is not None:
        silent_days = (store.yesterday - silent_since).days + 1
        alert = NotSellingAlert(
            client_id=client.id,
            raised_at=now,
            cause=NO_ORDERS,
            detail=f"No orders for {silent_days} days, since {silent_since:%d %b %Y}",
            since_day=silent_since,
        )
    else:
        average = store.weekly_average
        drop = (1 - store.week_gmv / average) * 100 if average else Decimal(100)
        alert = NotSellingAlert(
            client_id=client.id,
            raised_at=now,
            cause=GMV_DROP,
            detail=(
                f"GMV of the last 7 days {store.week_gmv:,.2f} {client.currency}, down "
                f"{drop:.0f}% against a weekly average of {average:,.2f} over the 4 weeks before"
            ),
            since_day=store.yesterday - timedelta(days=WEEK - 1),
            baseline_gmv=average,
        )
    return alert


def _clear(alert: NotSellingAlert, store: StoreWindow, *, now: datetime) -> None:
    alert.cleared_at = now
    what = (
        f"orders again, last on {store.last_sale_by_today:%d %b %Y}"
        if alert.cause == NO_ORDERS
        else f"GMV of the last 7 days back to {store.week_gmv:,.2f}"
    )
    timeline.record(
        alert.client,
        TimelineKind.NOT_SELLING_CLEARED,
        actor=None,
        summary=f"Selling again: {what} (F4)",
        detail={"alert_id": alert.id, "cause": alert.cause},
        at=now,
    )


def record_reasons(
    alert: NotSellingAlert, *, actor: User, reasons: str | None, actions: str | None
) -> NotSellingAlert:
    """F4: the reasons the ACM found for the store not selling and the actions agreed with
    the client, both required; the alert leaves the ACM's day (and stays on the client
    page until the store sells again).

    Raises NotAllowed for someone who does not work on the client, ValidationError for a
    blank or over-long text, RuleViolation("F4") when they are recorded already."""
    access.check_works_on(actor, alert.client)
    reasons = validation.required_text(
        validation.typed_text(reasons, field="reasons", multiline=True, max_length=TEXT_MAX),
        field="reasons",
        message="Say why the store is not selling, as far as you found.",
    )
    actions = validation.required_text(
        validation.typed_text(actions, field="actions", multiline=True, max_length=TEXT_MAX),
        field="actions",
        message="Say what you agreed with the client to do about it.",
    )
    if alert.recorded_at is not None:
        raise RuleViolation("F4", "The reasons and actions of this alert are recorded already.")
    alert.reasons, alert.actions = reasons, actions
    alert.recorded_at, alert.recorded_by = clock.now(), actor
    db.session.flush()
    timeline.record(
        alert.client,
        TimelineKind.NOT_SELLING_RECORDED,
        actor=actor,
        summary=f"Not selling: reasons and actions recorded (F4). Reasons: {reasons} "
        f"Actions: {actions}",
        detail={"alert_id": alert.id},
    )
    timeline.audit(
        actor,
        "not_selling.record",
        alert,
        after=timeline.snapshot(alert, ("reasons", "actions", "recorded_at")),
    )
    return alert


def client_alerts(client: Client) -> list[NotSellingAlert]:
    """What the client page shows: the alerts still open, and those cleared whose reasons
    are still owed; the newest first."""
    query = (
        select(NotSellingAlert)
        .options(joinedload(NotSellingAlert.recorded_by))
        .where(
            NotSellingAlert.client_id == client.id,
            (NotSellingAlert.cleared_at.is_(None)) | (NotSellingAlert.recorded_at.is_(None)),
        )
        .order_by(NotSellingAlert.raised_at.desc(), NotSellingAlert.id.desc())
    )
    return list(db.session.scalars(query))


def owed_clause() -> ColumnElement[bool]:
    """F4: an alert whose reasons and actions are not recorded yet (a cleared one too)."""
    return NotSellingAlert.recorded_at.is_(None)


def owed_query(user: User) -> Select[tuple[NotSellingAlert]]:
    """F4: the alerts whose reasons `user` owes (their clients'), the oldest first."""
    return (
        select(NotSellingAlert)
        .join(NotSellingAlert.client)
        .options(joinedload(NotSellingAlert.client))
        .where(owed_clause(), Client.acm_id == access.user_parameter(user.id))
        .order_by(NotSellingAlert.raised_at, NotSellingAlert.id)
    )


def owed_of(user: User) -> list[NotSellingAlert]:
    """The alerts of `owed_query`."""
    return list(db.session.scalars(owed_query(user)))


def alert_of(client: Client, alert_id: int) -> NotSellingAlert | None:
    """The client's alert by id (None when it is another client's or none)."""
    alert = db.session.get(NotSellingAlert, alert_id)
    return alert if alert is not None and alert.client_id == client.id else None
