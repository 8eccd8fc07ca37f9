"""The contract's limits without HTTP (L2), each at its boundary: 1 logo and one change,
at most 7 slides & banners and one change, 200 products during the LMS service and 600
per contract year, 50 categories. A delivery past a limit is refused in the contract's
words and records nothing; a team leader's agreed exception raises one limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.models import (
    AuditEvent,
    Client,
    ContractException,
    ContractUsage,
    LifecycleStatus,
    Role,
    TimelineEvent,
    TimelineKind,
    UsageKind,
)
from kamportal.services import contract_limits, onboarding
from kamportal.services.contract_limits import LIMITS_BY_KEY

# Monday 23 Nov 2026, 09:00 UTC; the client subscribed on 15 January 2026, 10:00 UTC.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SUBSCRIBED = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
ANNIVERSARY = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def world(make_portfolio, make_team, make_user, frozen_clock):
    frozen_clock(NOW)
    portfolio = make_portfolio(
        team={"name": "Cairo"},
        leader={"name": "Layla Nour"},
        acm={"name": "Mona Adel"},
        client={"status": LifecycleStatus.LAUNCHING.value, "subscribed_at": SUBSCRIBED},
    )
    other_acm = make_user(Role.ACM, team=make_team(name="Dubai"))
    return portfolio.as_dict(other_acm=other_acm)


def record(world, kind: str, quantity, client: Client | None = None):
    return contract_limits.record_usage(
        client or world["client"], kind, quantity, actor=world["acm"]
    )


def usage_rows(db) -> int:
    return db.session.scalar(select(func.count()).select_from(ContractUsage))


def usage_events(db) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(TimelineEvent)
        .where(TimelineEvent.kind == TimelineKind.CONTRACT_USAGE.value)
    )


def assert_refused(world, db, kind: str, quantity, contract: str) -> RuleViolation:
    """Refused citing the contract, with nothing recorded."""
    rows, events = usage_rows(db), usage_events(db)
    with pytest.raises(RuleViolation) as refused:
        record(world, kind, quantity)
    assert refused.value.rule == "L2" and refused.value.field == "quantity"
    assert f"The contract allows {contract}" in refused.value.message
    assert usage_rows(db) == rows and usage_events(db) == events
    return refused.value


def standing(client: Client, key: str) -> contract_limits.Standing:
    return next(s for s in contract_limits.standings(client) if s.limit.key == key)


# --- each limit at its boundary ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "deliveries", "contract"),
    [
        ("logo", [1], "1 logo"),
        ("logo_change", [1], "the logo changed once"),
        ("slides", [4, 3], "at most 7 slides & banners"),
        ("layout_change", [1], "the slides & banners changed once"),
        ("products", [150, 50], "at most 200 products during the LMS service"),
        ("categories", [30, 20], "at most 50 categories"),
    ],
)
def test_each_limit_allows_up_to_its_allowance_and_refuses_one_more_L2(
    world, db, kind, deliveries, contract
):
    # A change is of what was delivered first.
    first = contract_limits.REVISIONS.get(UsageKind(kind))
    if first is not None:
        record(world, first.value, 1)
    for quantity in deliveries:
        record(world, kind, quantity)
    db.session.commit()
    assert usage_rows(db) == len(deliveries) + (first is not None)
    refused = assert_refused(world, db, kind, 1, contract)
    total = sum(deliveries)
    assert f"{total} recorded, 1 more would make {total + 1}" in refused.message
    assert "A team leader can record an agreed exception" in refused.message


@pytest.mark.parametrize(
    ("change", "first"), [("logo_change", "logo"), ("layout_change", "slides")]
)
def test_a_change_is_one_revision_of_what_was_delivered_L2(world, db, change, first):
    """L2: "changeable once" is one revision round: none before the delivery, one at a
    time (a revision of all seven slides is one change, not seven)."""
    with pytest.raises(ValidationError, match="Nothing to change yet"):
        record(world, change, 1)
    record(world, first, 1)
    with pytest.raises(ValidationError, match="one revision round"):
        record(world, change, 7)
    record(world, change, 1)
    db.session.commit()
    assert standing(world["client"], change).reached
    assert usage_rows(db) == 2


def test_a_delivery_that_would_pass_the_limit_is_refused_whole_L2(world, db):
    """L2: 5 slides then 3 more is refused; the 2 that would fit are not half-recorded."""
    record(world, "slides", 5)
    db.session.commit()
    assert_refused(world, db, "slides", 3, "at most 7 slides & banners")
    slides = standing(world["client"], "slides")
    assert (slides.used, slides.remaining, slides.reached) == (5, 2, False)
    record(world, "slides", 2)
    assert standing(world["client"], "slides").reached


def test_what_is_recorded_lands_on_the_timeline_with_who_and_when_L2(world, db):
    usage = contract_limits.record_usage(
        world["client"], "categories", " 12 ", actor=world["acm"], note=" Both languages "
    )
    db.session.commit()
    assert usage.quantity == 12 and usage.note == "Both languages"
    assert usage.recorded_at == NOW and usage.recorded_by_id == world["acm"].id
    assert usage.during_lms
    event = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.CONTRACT_USAGE.value)
    ).one()
    assert event.summary == "Categories added: 12 (Both languages)"
    assert contract_limits.usage_of(world["client"]) == [usage]


@pytest.mark.parametrize(
    ("kind", "quantity", "field"),
    [
        ("mascots", 1, "kind"),
        ("slides", 0, "quantity"),
        ("slides", -2, "quantity"),
        ("slides", "three", "quantity"),
        ("slides", "", "quantity"),
        ("products", 10_001, "quantity"),
    ],
)
def test_a_bad_kind_or_quantity_is_refused_L2(world, db, kind, quantity, field):
    with pytest.raises(ValidationError) as refused:
        record(world, kind, quantity)
    assert refused.value.field == field
    assert usage_rows(db) == 0


def test_only_someone_on_the_client_records_its_deliveries_L2(world, db):
    with pytest.raises(NotAllowed):
        contract_limits.record_usage(world["client"], "logo", 1, actor=world["other_acm"])
    assert usage_rows(db) == 0


# --- products: 200 during the LMS service, 600 per contract year -----------------------------


def test_products_200_during_lms_then_600_per_contract_year_after_launch_L2(
    world, db, frozen_clock
):
    client = world["client"]
    record(world, "products", 200)
    db.session.commit()
    assert_refused(world, db, "products", 1, "at most 200 products during the LMS service")

    # Launched: the LMS limit no longer applies; the 200 count towards the year's 600.
    client.status = LifecycleStatus.LIVE.value
    db.session.commit()
    assert not standing(client, "products_lms").applies
    frozen_clock(NOW + timedelta(days=7))
    record(world, "products", 250)
    record(world, "products", 150)
    db.session.commit()
    year = standing(client, "products_year")
    assert (year.used, year.remaining, year.reached) == (600, 0, True)
    refused = assert_refused(world, db, "products", 1, "at most 600 products per contract year")
    assert "600 recorded, 1 more would make 601" in refused.message

    # Still the same contract year a second before the subscription's anniversary.
    frozen_clock(ANNIVERSARY - timedelta(seconds=1))
    assert contract_limits.contract_year_start(client, ANNIVERSARY - timedelta(seconds=1)) == (
        SUBSCRIBED
    )
    assert_refused(world, db, "products", 1, "at most 600 products per contract year")
    # A new contract year: 600 again.
    frozen_clock(ANNIVERSARY)
    assert contract_limits.contract_year_start(client, ANNIVERSARY) == ANNIVERSARY
    assert standing(client, "products_year").used == 0
    record(world, "products", 600)
    db.session.commit()
    assert_refused(world, db, "products", 1, "at most 600 products per contract year")


def test_a_store_live_from_the_start_has_600_products_a_year_L2(world, db, make_client):
    live = make_client(acm=world["acm"], subscribed_at=SUBSCRIBED)
    contract_limits.record_usage(live, "products", 600, actor=world["acm"])
    db.session.commit()
    with pytest.raises(RuleViolation) as refused:
        contract_limits.record_usage(live, "products", 1, actor=world["acm"])
    assert "at most 600 products per contract year" in refused.value.message
    assert usage_rows(db) == 1


def test_the_contract_year_counts_from_registration_without_a_subscription_date(world, make_client):
    """L2: a client without a subscription date counts from its registration; a 29
    February anniversary falls on 28 February."""
    registered = make_client(acm=world["acm"], created_at=datetime(2025, 3, 1, tzinfo=UTC))
    assert contract_limits.contract_year_start(registered, NOW) == datetime(2026, 3, 1, tzinfo=UTC)
    leap = make_client(acm=world["acm"], subscribed_at=datetime(2024, 2, 29, 12, tzinfo=UTC))
    assert contract_limits.contract_year_start(leap, datetime(2025, 3, 1, tzinfo=UTC)) == datetime(
        2025, 2, 28, 12, tzinfo=UTC
    )
    assert contract_limits.contract_year_start(
        leap, datetime(2025, 2, 28, 11, tzinfo=UTC)
    ) == datetime(2024, 2, 29, 12, tzinfo=UTC)


def test_a_launch_through_the_checklist_ends_the_lms_limit_L2(world, db, frozen_clock):
    """L2 with L5: once launched, products are counted against the year only."""
    client = world["client"]
    onboarding.instantiate_checklists(client)
    record(world, "products", 200)
    onboarding.launch(client, actor=world["leader"], override_reason="Agreed with the client")
    db.session.commit()
    record(world, "products", 100)
    db.session.commit()
    assert standing(client, "products_year").used == 300


# --- a leader's exception ---------------------------------------------------------------------


def test_a_leaders_exception_raises_the_limit_by_its_extra_L2(world, db):
    client, leader = world["client"], world["leader"]
    record(world, "slides", 7)
    db.session.commit()
    exception = contract_limits.grant_exception(
        client, "slides", "2", actor=leader, reason="  Ramadan campaign banners agreed  "
    )
    db.session.commit()
    assert exception.extra == 2 and exception.reason == "Ramadan campaign banners agreed"
    assert exception.granted_by_id == leader.id and exception.granted_at == NOW
    slides = standing(client, "slides")
    assert (slides.allowance, slides.remaining) == (9, 2)
    record(world, "slides", 2)
    db.session.commit()
    refused = assert_refused(world, db, "slides", 1, "at most 7 slides & banners")
    assert "(with 2 more agreed)" in refused.message and "9 recorded" in refused.message
    # Only that limit moved.
    assert standing(client, "logo").allowance == 1
    events = [
        e.summary
        for e in db.session.scalars(
            select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.CONTRACT_EXCEPTION.value)
        )
    ]
    assert events == [
        "Exception to the contract: 2 more slides & banners: Ramadan campaign banners agreed"
    ]
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "contract.exception")
    ).one()
    assert audit.actor_id == leader.id and audit.after["extra"] == 2


def test_an_exception_to_the_yearly_products_limit_holds_for_its_contract_year_L2(
    world, db, frozen_clock
):
    client = world["client"]
    client.status = LifecycleStatus.LIVE.value
    record(world, "products", 600)
    contract_limits.grant_exception(
        client, "products_year", 100, actor=world["leader"], reason="Catalogue migration"
    )
    db.session.commit()
    record(world, "products", 100)
    db.session.commit()
    assert_refused(world, db, "products", 1, "at most 600 products per contract year")
    frozen_clock(ANNIVERSARY)
    assert standing(client, "products_year").allowance == 600


def test_only_the_leader_grants_an_exception_and_with_a_reason_L2(world, db):
    client = world["client"]
    with pytest.raises(NotAllowed):
        contract_limits.grant_exception(
            client, "slides", 2, actor=world["acm"], reason="The client asked"
        )
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as refused:
            contract_limits.grant_exception(
                client, "slides", 2, actor=world["leader"], reason=reason
            )
        assert refused.value.field == "reason"
    with pytest.raises(ValidationError) as refused:
        contract_limits.grant_exception(
            client, "mascots", 2, actor=world["leader"], reason="The client asked"
        )
    assert refused.value.field == "limit"
    for extra in (0, "two", -1):
        with pytest.raises(ValidationError) as refused:
            contract_limits.grant_exception(
                client, "slides", extra, actor=world["leader"], reason="The client asked"
            )
        assert refused.value.field == "extra"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ContractException)) == 0
    assert standing(client, "slides").allowance == LIMITS_BY_KEY["slides"].allowance
