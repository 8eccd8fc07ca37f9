"""Renewals without HTTP (R1, R2): the 30-day window at its edges and once per term, the
next term once paid, the notice and the confirmation, and the forecast. Money is Decimal
at the currency's minor unit throughout."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.models import (
    AuditEvent,
    Renewal,
    RenewalStage,
    Role,
    TimelineKind,
)
from kamportal.services import payments, renewals
from tests.services import renewal_world
from tests.services.renewal_world import NOW, TODAY, confirmed, emails, invoiced, kinds, opened

# Monday 23 Nov 2026, 09:00 UTC: Mona Adel (ACM, team Cairo, led by Layla Nour) looks after
# Nile Crafts (NILE01, 12000 EGP a year, due in 20 days); Heba Finance; Hany Commercial;
# Omar, an ACM of team Dubai (tests/services/renewal_world.py).
world = renewal_world.world


# --- R1: the 30-day window, once per term -----------------------------------------------------


@pytest.mark.parametrize(
    ("days_ahead", "opens"),
    [(-3, True), (0, True), (29, True), (30, True), (31, False), (60, False)],
)
def test_a_renewal_opens_30_days_ahead_and_not_a_day_sooner(world, db, days_ahead, opens):
    """R1: the window's edge is the 30th day."""
    world["client"].renewal_date = TODAY + timedelta(days=days_ahead)
    db.session.commit()
    found = renewals.open_due_renewals(now=NOW)
    assert bool(found) is opens
    if opens:
        [renewal] = found
        assert renewal.due_on == TODAY + timedelta(days=days_ahead)
        assert renewal.money.amount == Decimal("12000.00") and renewal.currency == "EGP"
        assert renewal.renewal_stage is RenewalStage.DUE
        assert kinds(db, world["client"])[-1] == TimelineKind.RENEWAL_OPENED.value


def test_the_sweep_opens_a_term_once_whatever_the_runs(world, db, make_client):
    """R1: once per term; churned clients and those without an amount are left out."""
    make_client(acm=world["acm"], status="churned", renewal_date=TODAY)
    make_client(acm=world["acm"], renewal_date=TODAY, recurring_amount=None)
    assert len(renewals.open_due_renewals(now=NOW)) == 1
    assert renewals.open_due_renewals(now=NOW) == []
    assert renewals.open_due_renewals(now=NOW + timedelta(days=5)) == []
    db.session.commit()
    assert len(db.session.scalars(select(Renewal)).all()) == 1


def test_a_paid_renewal_moves_the_subscription_to_its_next_term(world, db):
    """R1: paying closes the term; the next one opens 30 days before its own date."""
    renewal, invoice = invoiced(world, db)
    payments.record_online_payment(invoice, actor=world["finance"], reference="PAY-1")
    db.session.commit()
    client = world["client"]
    assert renewal.renewal_stage is RenewalStage.PAID
    assert client.renewal_date == renewal.due_on.replace(year=renewal.due_on.year + 1)
    assert renewals.open_due_renewals(now=NOW) == []
    next_window = datetime.combine(client.renewal_date - timedelta(days=30), time(9), UTC)
    assert renewals.open_due_renewals(now=next_window - timedelta(days=1)) == []
    [following] = renewals.open_due_renewals(now=next_window)
    assert following.due_on == client.renewal_date


# --- R2: notice and confirmation --------------------------------------------------------------


def test_the_notice_gives_the_date_and_amount_with_the_leader_in_cc(world, db):
    renewal = opened(db)
    message = renewals.notify_client(renewal, actor=world["acm"])
    db.session.commit()
    assert message.to_addrs == ["karim@nile.example"]
    assert {"leader@kam.example", "cairo-kam@kam.example"} <= set(message.cc_addrs)  # G1
    assert "EGP12,000.00" in message.body
    assert renewal.due_on.strftime("%-d %B %Y") in message.body
    assert renewal.renewal_stage is RenewalStage.NOTIFIED
    assert renewals.notify_client(renewal, actor=world["acm"]).id == message.id  # once
    assert len(emails(db)) == 1


def test_no_notice_without_an_email_address_or_for_someone_elses_client(world, db):
    renewal = opened(db)
    with pytest.raises(NotAllowed):
        renewals.notify_client(renewal, actor=world["other_acm"])
    for contact in world["client"].contacts:
        contact.email = None
    with pytest.raises(RuleViolation) as refused:
        renewals.notify_client(renewal, actor=world["acm"])
    assert refused.value.rule == "R2"
    assert renewal.renewal_stage is RenewalStage.DUE


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (12000.5, "Give an amount."),
        ("12000.005", "at most 2 decimals"),
        ("0", "more than zero"),
        ("twelve", "Give an amount"),
    ],
)
def test_a_confirmed_amount_is_an_exact_amount_of_the_currency(world, db, amount, message):
    renewal = opened(db)
    with pytest.raises(ValidationError) as refused:
        renewals.confirm_renewal(renewal, actor=world["acm"], agreed_on=TODAY, amount=amount)
    assert message in refused.value.message and refused.value.field == "amount"
    assert renewal.renewal_stage is RenewalStage.DUE


def test_the_confirmation_records_the_date_and_the_new_amount(world, db):
    renewal = confirmed(world, db, amount="13500.50")
    assert renewal.renewal_stage is RenewalStage.CONFIRMED
    assert renewal.amount == Decimal("13500.50") and renewal.agreed_on == renewal.due_on
    assert world["client"].recurring_amount == Decimal("13500.50")
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "renewal.confirm" in actions


@pytest.mark.parametrize("amount", ["100000000000", "250000000000.50"])
def test_an_amount_too_large_for_the_books_is_refused(world, db, amount):
    renewal = opened(db)
    with pytest.raises(ValidationError, match="too large"):
        renewals.confirm_renewal(renewal, actor=world["acm"], agreed_on=TODAY, amount=amount)


# --- Reading: the forecast ---------------------------------------------------------------------


def test_the_forecast_splits_confirmed_from_at_risk_per_team_and_currency(world, db, make_client):
    confirmed(world, db)  # 12000 EGP, due in 20 days, confirmed
    make_client(
        acm=world["acm"],
        renewal_date=TODAY + timedelta(days=10),
        recurring_amount=Decimal("2000"),
        currency="EGP",
    )  # due soon, not confirmed
    make_client(
        acm=world["acm"],
        renewal_date=TODAY + timedelta(days=45),
        recurring_amount=Decimal("1500"),
        currency="USD",
    )  # not opened yet
    make_client(
        acm=world["other_acm"],
        renewal_date=TODAY + timedelta(days=80),
        recurring_amount=Decimal("900"),
        currency="USD",
    )
    renewals.open_due_renewals(now=NOW)
    db.session.commit()
    rows = {
        (r.team, r.currency, r.days): (r.confirmed, r.at_risk)
        for r in renewals.forecast(world["finance"], today=TODAY)
    }
    assert rows[("Cairo", "EGP", 30)] == (Decimal("12000.00"), Decimal("2000.00"))
    assert rows[("Cairo", "EGP", 90)] == (Decimal("12000.00"), Decimal("2000.00"))
    assert ("Cairo", "USD", 30) not in rows
    assert rows[("Cairo", "USD", 60)] == (Decimal(0), Decimal("1500.00"))
    assert rows[("Dubai", "USD", 90)] == (Decimal(0), Decimal("900.00"))
    # An ACM's forecast holds only their clients.
    mine = {(r.team, r.currency) for r in renewals.forecast(world["acm"], today=TODAY)}
    assert mine == {("Cairo", "EGP"), ("Cairo", "USD")}


def test_the_forecast_pages_teams_and_totals_each_currency_over_every_team(
    world, db, make_client, make_team, make_user
):
    """A page of teams by name, a line per team and currency; the totals per currency are
    every team's whichever the page, and an ACM's only theirs. (Dubai has nothing due.)"""
    confirmed(world, db)  # Cairo: 12000 EGP in 20 days, confirmed
    acms = {name: make_user(Role.ACM, team=make_team(name=name)) for name in ("Alex", "Zamalek")}
    for name, currency, amount, days in [
        ("Alex", "EGP", "500", 50),
        ("Alex", "USD", "40", 70),
        ("Zamalek", "EGP", "300", 10),
    ]:
        make_client(
            acm=acms[name],
            renewal_date=TODAY + timedelta(days=days),
            recurring_amount=Decimal(amount),
            currency=currency,
        )
    renewals.open_due_renewals(now=NOW)
    db.session.commit()

    def page(n: int, viewer=world["finance"]) -> renewals.ForecastPage:
        return renewals.forecast_page(viewer, today=TODAY, now=NOW, page=n, per_page=2)

    first, second = page(1), page(2)
    assert (first.total, first.pages, second.has_prev, second.has_next) == (3, 2, True, False)
    assert [(line.team, line.currency) for line in first.lines] == [
        ("Alex", "EGP"),
        ("Alex", "USD"),
        ("Cairo", "EGP"),
    ]
    assert [(line.team, line.currency) for line in second.lines] == [("Zamalek", "EGP")]
    assert second.lines[0].horizons == [(Decimal(0), Decimal(300))] * 3
    assert first.lines[1].horizons[:2] == [None, None]
    egp = [(Decimal(12000), Decimal(300)), (Decimal(12000), Decimal(800))]
    assert first.totals == second.totals
    assert [(t.currency, t.horizons[:2]) for t in first.totals] == [
        ("EGP", egp),
        ("USD", [None] * 2),
    ]
    # An ACM's page and totals hold only their clients.
    mine = page(1, world["acm"])
    assert [(line.team, line.currency) for line in mine.lines] == [("Cairo", "EGP")]
    assert [(t.currency, t.horizons[0]) for t in mine.totals] == [("EGP", (Decimal(12000), 0))]


# --- R1 on the client's calendar, across its midnight ------------------------------------------

# 30 days before 24 Dec 2026: 24 Nov. Dubai (UTC+4) is there at 20:00 UTC on 23 Nov; Los
# Angeles (UTC-8 in November) at 08:00 UTC on 24 Nov.
DUE = date(2026, 12, 24)
DUBAI_MIDNIGHT = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
LOS_ANGELES_MIDNIGHT = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def east_and_west(world, make_client):
    """Two clients renewing on 24 Dec 2026: one in Dubai, one in Los Angeles."""
    world["client"].renewal_date = None  # Nile Crafts stays out of these tests
    return {
        zone: make_client(acm=world["acm"], timezone=zone, renewal_date=DUE)
        for zone in ("Asia/Dubai", "America/Los_Angeles")
    }


def _opened_for(now: datetime) -> set[str]:
    return {r.client.timezone for r in renewals.open_due_renewals(now=now)}


@pytest.mark.parametrize(
    ("at", "opened_zones"),
    [
        (DUBAI_MIDNIGHT - timedelta(minutes=1), set()),  # 23:59 on the 23rd in Dubai
        (DUBAI_MIDNIGHT, {"Asia/Dubai"}),  # midnight of the 24th in Dubai, the 23rd in LA
        (DUBAI_MIDNIGHT + timedelta(minutes=1), {"Asia/Dubai"}),
        (LOS_ANGELES_MIDNIGHT - timedelta(minutes=1), {"Asia/Dubai"}),  # 23:59 in LA
        (LOS_ANGELES_MIDNIGHT, {"Asia/Dubai", "America/Los_Angeles"}),
        (LOS_ANGELES_MIDNIGHT + timedelta(minutes=1), {"Asia/Dubai", "America/Los_Angeles"}),
    ],
)
def test_a_renewal_opens_on_the_clients_30th_day_before_whatever_utc_says(
    east_and_west, db, at, opened_zones
):
    """R1: the 30 days are counted on the client's calendar: a client east of UTC opens
    while UTC's date is still the day before, one west of it only once its own midnight
    has passed, the same UTC instant being different days for the two."""
    assert _opened_for(at) == opened_zones


def test_days_left_count_the_clients_days(east_and_west, db):
    """R1: a renewal due on the 24th is "today" from the client's midnight of the 24th and
    past from the next, whatever the UTC date."""
    renewals.open_due_renewals(now=LOS_ANGELES_MIDNIGHT)
    dubai, los_angeles = (
        db.session.scalar(select(Renewal).where(Renewal.client_id == c.id))
        for c in east_and_west.values()
    )
    on_the_day = datetime(2026, 12, 23, 20, 0, tzinfo=UTC)  # the 24th in Dubai, 23rd in LA
    assert renewals.renewal_standing(dubai, at=on_the_day - timedelta(minutes=1)).days_left == 1
    assert renewals.renewal_standing(dubai, at=on_the_day).days_left == 0
    assert renewals.renewal_standing(los_angeles, at=on_the_day).days_left == 1
    day_after_in_la = datetime(2026, 12, 25, 8, 0, tzinfo=UTC)
    assert renewals.renewal_standing(los_angeles, at=day_after_in_la).days_left == -1
    assert renewals.renewal_standing(dubai, at=day_after_in_la).days_left == -1


def test_the_pipeline_marks_the_stages_reached(world, db):
    """R1-R4: the panel's stage list comes from the service, each stage reached or not."""
    renewal = confirmed(world, db)
    steps = renewals.renewal_standing(renewal).steps
    assert [(stage.value, reached) for stage, reached in steps] == [
        ("due", True),
        ("notified", True),
        ("confirmed", True),
        ("invoiced", False),
        ("paid", False),
    ]
