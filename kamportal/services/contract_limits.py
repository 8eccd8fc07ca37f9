"""The contract's limits on what the launch delivers (L2), counted per client.

The ACM records what was delivered (a logo, slides and banners, their one change,
products, categories); a delivery past a limit is refused with the contract's words and
changes nothing. A team leader may record an agreed exception, which raises one limit
for that client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kamportal import clock
from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.models import (
    Client,
    ContractException,
    ContractUsage,
    TimelineKind,
    UsageKind,
    User,
)
from kamportal.services import access, timeline, validation

MAX_QUANTITY = 10_000


@dataclass(frozen=True)
class Limit:
    """One limit of the contract: at most `allowance` of `kind`, counted over the whole
    contract ("total"), during the launch ("lms") or in the current contract year."""

    key: str
    label: str
    kind: UsageKind
    allowance: int
    scope: str
    contract: str


LIMITS: tuple[Limit, ...] = (
    Limit("logo", "Logo", UsageKind.LOGO, 1, "total", "1 logo"),
    Limit(
        "logo_change", "Logo changes", UsageKind.LOGO_CHANGE, 1, "total", "the logo changed once"
    ),
    Limit("slides", "Slides & banners", UsageKind.SLIDES, 7, "total", "at most 7 slides & banners"),
    Limit(
        "layout_change",
        "Slides & banners changes",
        UsageKind.LAYOUT_CHANGE,
        1,
        "total",
        "the slides & banners changed once",
    ),
    Limit(
        "products_lms",
        "Products during the launch",
        UsageKind.PRODUCTS,
        200,
        "lms",
        "at most 200 products during the LMS service",
    ),
    Limit(
        "products_year",
        "Products this contract year",
        UsageKind.PRODUCTS,
        600,
        "year",
        "at most 600 products per contract year",
    ),
    Limit("categories", "Categories", UsageKind.CATEGORIES, 50, "total", "at most 50 categories"),
)
LIMITS_BY_KEY = {limit.key: limit for limit in LIMITS}
# A change (one revision round, "changeable once") of what was delivered first.
REVISIONS = {UsageKind.LOGO_CHANGE: UsageKind.LOGO, UsageKind.LAYOUT_CHANGE: UsageKind.SLIDES}
DELIVERED = {UsageKind.LOGO: "logo", UsageKind.SLIDES: "slides and banners"}


def contract_year_start(client: Client, now: datetime) -> datetime:
    """The start of the client's current contract year: the last anniversary of the
    subscription (or of the registration) at or before `now`."""
    start = client.subscribed_at or client.created_at
    years = now.year - start.year
    while years > 0:
        try:
            candidate = start.replace(year=start.year + years)
        except ValueError:  # 29 February in a year without one
            candidate = start.replace(year=start.year + years, day=28)
        if candidate <= now:
            return candidate
        years -= 1
    return start


@dataclass(frozen=True)
class Standing:
    """A limit as it stands for a client: used against the allowance, exceptions
    included. A launch limit no longer applies once the store is live."""

    limit: Limit
    used: int
    extra: int
    applies: bool

    @property
    def allowance(self) -> int:
        return self.limit.allowance + self.extra

    @property
    def remaining(self) -> int:
        return max(self.allowance - self.used, 0)

    @property
    def reached(self) -> bool:
        return self.applies and self.used >= self.allowance


def standings(client: Client, *, now: datetime | None = None) -> list[Standing]:
    """Every limit of `client` with its usage (two queries)."""
    now = now or clock.now()
    year_start = contract_year_start(client, now)
    totals: dict[tuple[str, str], int] = {}
    # A client's deliveries are a few dozen rows: summed here, in one query.
    rows = db.session.execute(
        select(
            ContractUsage.kind,
            ContractUsage.during_lms,
            ContractUsage.recorded_at,
            ContractUsage.quantity,
        ).where(ContractUsage.client_id == client.id)
    ).tuples()
    for kind, during_lms, recorded_at, quantity in rows:
        for scope, counted in (
            ("total", True),
            ("lms", during_lms),
            ("year", recorded_at >= year_start),
        ):
            if counted:
                totals[(kind, scope)] = totals.get((kind, scope), 0) + quantity
    extras: dict[str, int] = {}
    for limit_key, extra, granted_at in db.session.execute(
        select(
            ContractException.limit_key, ContractException.extra, ContractException.granted_at
        ).where(ContractException.client_id == client.id)
    ).tuples():
        # An exception to the yearly limit holds for the contract year it was agreed in.
        if LIMITS_BY_KEY[limit_key].scope == "year" and granted_at < year_start:
            continue
        extras[limit_key] = extras.get(limit_key, 0) + extra
    in_lms = client.in_launch
    return [
        Standing(
            limit,
            used=totals.get((limit.kind.value, limit.scope), 0),
            extra=extras.get(limit.key, 0),
            applies=in_lms or limit.scope != "lms",
        )
        for limit in LIMITS
    ]


def _quantity(value: object) -> int:
    try:
        quantity = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError("Give a whole number.", field="quantity") from None
    if quantity < 1 or quantity > MAX_QUANTITY:
        raise ValidationError(f"Give a number from 1 to {MAX_QUANTITY}.", field="quantity")
    return quantity


def record_usage(
    client: Client, kind: str, quantity: object, *, actor: User, note: str | None = None
) -> ContractUsage:
    """Record what the launch delivered (L2). Raises RuleViolation, citing the contract,
    when it would pass a limit (nothing is recorded), ValidationError for a bad kind or
    quantity."""
    access.check_works_on(actor, client)
    usage_kind = validation.choice(
        UsageKind, kind, field="kind", message="Choose what was delivered."
    )
    count = _quantity(quantity)
    # Two deliveries at once cannot both pass a limit: the second waits for the first.
    db.session.refresh(client, with_for_update={"of": Client})
    now = clock.now()
    current = standings(client, now=now)
    revised = REVISIONS.get(usage_kind)
    if revised is not None:
        if count != 1:
            raise ValidationError("A change is one revision round: record 1.", field="quantity")
        if not any(st.limit.kind is revised and st.used for st in current):
            raise ValidationError(
                f"Nothing to change yet: record the {DELIVERED[revised]} delivered first.",
                field="kind",
            )
    for standing in current:
        if standing.limit.kind is not usage_kind or not standing.applies:
            continue
        if standing.used + count > standing.allowance:
            agreed = f" (with {standing.extra} more agreed)" if standing.extra else ""
            raise RuleViolation(
                "L2",
                f"The contract allows {standing.limit.contract}{agreed}: {standing.used} "
                f"recorded, {count} more would make {standing.used + count}. A team leader "
                "can record an agreed exception.",
                field="quantity",
            )
    usage = ContractUsage(
        client_id=client.id,
        kind=usage_kind.value,
        quantity=count,
        during_lms=client.in_launch,
        note=(note or "").strip() or None,
        recorded_at=now,
        recorded_by_id=actor.id,
    )
    db.session.add(usage)
    db.session.flush()
    timeline.audit(
        actor,
        "contract.usage",
        usage,
        after={"client_id": client.id, "kind": usage_kind.value, "quantity": count},
    )
    timeline.record(
        client,
        TimelineKind.CONTRACT_USAGE,
        actor=actor,
        summary=f"{usage_kind.label}: {count}" + (f" ({usage.note})" if usage.note else ""),
        detail={"kind": usage_kind.value, "quantity": count},
    )
    db.session.flush()
    return usage


def grant_exception(
    client: Client, limit_key: str, extra: object, *, actor: User, reason: str
) -> ContractException:
    """A team leader records an agreed exception: `extra` more on one limit (L2).

    Raises NotAllowed for anyone but the client's leader or an admin, ValidationError for
    an unknown limit, a bad number or no reason."""
    if not access.can_reassign_client(actor, client):
        raise NotAllowed("Only the client's team leader can agree an exception to the contract.")
    limit = LIMITS_BY_KEY.get(limit_key)
    if limit is None:
        raise ValidationError("Choose the limit.", field="limit")
    try:
        count = _quantity(extra)
    except ValidationError as error:
        raise ValidationError(str(error), field="extra") from None
    text = validation.required_text(
        reason, field="reason", message="Say what was agreed with the client, and why."
    )
    exception = ContractException(
        client_id=client.id,
        limit_key=limit.key,
        extra=count,
        reason=text,
        granted_at=clock.now(),
        granted_by_id=actor.id,
    )
    db.session.add(exception)
    db.session.flush()
    timeline.record(
        client,
        TimelineKind.CONTRACT_EXCEPTION,
        actor=actor,
        summary=f"Exception to the contract: {count} more {limit.label.lower()}: {text}",
        detail={"limit": limit.key, "extra": count, "reason": text},
    )
    timeline.audit(
        actor,
        "contract.exception",
        exception,
        after={"client_id": client.id, "limit": limit.key, "extra": count, "reason": text},
    )
    return exception


def usage_of(client: Client, *, limit: int = 20) -> list[ContractUsage]:
    """The latest deliveries recorded for `client`, newest first, with who recorded them."""
    return list(
        db.session.scalars(
            select(ContractUsage)
            .where(ContractUsage.client_id == client.id)
            .options(selectinload(ContractUsage.recorded_by))
            .order_by(ContractUsage.recorded_at.desc(), ContractUsage.id.desc())
            .limit(limit)
        )
    )
