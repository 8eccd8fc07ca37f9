"""The health score (P2), without HTTP: each reason at and around its thresholds, the
bands' boundaries, and the sweep that keeps each client's score, its daily history and its
30-day GMV, in a fixed number of statements."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kamportal.extensions import db as _db
from kamportal.models import (
    ClientHealth,
    Complaint,
    Escalation,
    HealthBand,
    Invoice,
    LifecycleStatus,
    Minutes,
    NotSellingAlert,
    StoreDay,
)
from kamportal.models.types import utc
from kamportal.services import health
from kamportal.services.health import HealthFacts, score
from tests.blueprints.test_query_counts import counting_queries

# Noon UTC on 10 Dec: 10 Dec in Cairo too; the stores' yesterday is 9 Dec.
NOW = utc(2026, 12, 10, 12, 0)
YESTERDAY = date(2026, 12, 9)


def points(facts: HealthFacts, rule: str) -> int:
    return sum(r["points"] for r in score(facts).reasons if r["rule"] == rule)


# --- The formula -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "expected"),
    [(0, 0), (7, 0), (8, -20), (13, -20), (14, -30), (29, -30), (30, -40), (400, -40)],
)
def test_f1_no_contact_costs_more_the_longer_it_lasts(days, expected):
    assert points(HealthFacts(days_since_contact=days), "F1") == expected


def test_f1_reason_says_the_days_in_plain_words():
    result = score(HealthFacts(days_since_contact=12))
    assert result.score == 80
    assert result.reasons == [{"points": -20, "reason": "No contact for 12 days", "rule": "F1"}]


def test_f1_a_client_never_contacted_counts_from_when_it_is_known():
    assert points(HealthFacts(days_since_contact=None, days_known=7), "F1") == 0
    facts = HealthFacts(days_since_contact=None, days_known=8)
    assert score(facts).reasons[0]["reason"] == "Never contacted, client for 8 days"
    assert points(facts, "F1") == -20


@pytest.mark.parametrize(
    ("last", "expected"),
    [(76, 0), (75, -10), (51, -10), (50, -20), (0, -20), (109, 0), (110, 5), (300, 5)],
)
def test_f4_gmv_trend_of_the_last_28_days_against_the_28_before(last, expected):
    facts = HealthFacts(
        gmv_last=Decimal(last), gmv_before=Decimal(100), days_last=28, days_before=28
    )
    assert points(facts, "F4") == expected


def test_f4_gmv_is_compared_only_with_figures_on_half_the_days_of_each_period():
    facts = dict(gmv_last=Decimal(10), gmv_before=Decimal(100))
    assert points(HealthFacts(**facts, days_last=13, days_before=28), "F4") == 0
    assert points(HealthFacts(**facts, days_last=28, days_before=13), "F4") == 0
    assert points(HealthFacts(**facts, days_last=14, days_before=14), "F4") == -20
    assert points(HealthFacts(gmv_last=Decimal(10), days_last=28, days_before=28), "F4") == 0


def test_f4_e1_e3_open_alert_escalation_and_complaints_capped():
    assert points(HealthFacts(not_selling=True), "F4") == -15
    assert points(HealthFacts(escalations=1), "E1") == -25
    assert points(HealthFacts(escalations=2), "E1") == -25
    assert [points(HealthFacts(complaints=n), "E3") for n in (0, 1, 2, 3)] == [0, -10, -20, -20]


def test_r4_overdue_invoices_capped_and_said():
    facts = HealthFacts(overdue_invoices=1, oldest_overdue_days=1)
    assert score(facts).reasons == [
        {"points": -10, "reason": "1 invoice overdue, the oldest by 1 day", "rule": "R4"}
    ]
    assert points(HealthFacts(overdue_invoices=3, oldest_overdue_days=40), "R4") == -20


@pytest.mark.parametrize(("days", "expected"), [(44, 0), (45, -10), (89, -10), (90, -20)])
def test_l1_a_launch_running_late(days, expected):
    facts = HealthFacts(launch_days=days, launch_done=3, launch_total=15)
    assert points(facts, "L1") == expected
    if expected:
        assert score(facts).reasons[0]["reason"] == (
            f"Launch late: {days} days since it started, 3 of 15 LMS steps done"
        )


def test_g5_minutes_owed_capped():
    assert [points(HealthFacts(minutes_owed=n), "G5") for n in (0, 1, 3, 5)] == [0, -5, -15, -15]


@pytest.mark.parametrize(("survey", "expected"), [(1, -20), (2, -10), (3, -5), (4, 0), (5, 5)])
def test_c7_the_latest_satisfaction_survey(survey, expected):
    assert points(HealthFacts(survey_score=survey), "C7") == expected


def test_the_score_is_clamped_and_worst_reasons_come_first():
    worst = HealthFacts(
        days_since_contact=60,
        not_selling=True,
        escalations=1,
        complaints=2,
        overdue_invoices=2,
        minutes_owed=3,
        survey_score=1,
    )
    result = score(worst)
    assert result.score == 0
    assert [r["points"] for r in result.reasons] == sorted(r["points"] for r in result.reasons)
    best = HealthFacts(
        gmv_last=Decimal(200), gmv_before=Decimal(100), days_last=28, days_before=28, survey_score=5
    )
    assert score(best).score == 100


@pytest.mark.parametrize(
    ("value", "band"),
    [(100, "green"), (70, "green"), (69, "amber"), (40, "amber"), (39, "red"), (0, "red")],
)
def test_p2_band_boundaries(value, band):
    assert HealthBand.of(value) is HealthBand(band)


# --- The sweep --------------------------------------------------------------------------------


@pytest.fixture
def world(make_portfolio, frozen_clock):
    frozen_clock(NOW)
    return make_portfolio(client={"store_code": "CAIRO1", "timezone": "Africa/Cairo"})


def figures(client, first: date, last: date, gmv: str) -> None:
    day = first
    while day <= last:
        _db.session.add(
            StoreDay(
                client_id=client.id,
                day=day,
                orders=1,
                gmv=Decimal(gmv),
                currency=client.currency,
                source="demo",
                updated_at=NOW,
            )
        )
        day += timedelta(days=1)
    _db.session.commit()


def invoice(client, *, due_on: date) -> Invoice:
    return Invoice(
        client_id=client.id,
        currency=client.currency,
        total=Decimal(1),
        issued_on=due_on - timedelta(days=14),
        due_on=due_on,
        issued_at=NOW - timedelta(days=5),
    )


def rows_of(client) -> list[ClientHealth]:
    return list(
        _db.session.scalars(select(ClientHealth).where(ClientHealth.client_id == client.id))
    )


def test_p2_sweep_keeps_one_row_a_day_and_rewrites_it(world, make_client):
    client = world.client
    client.last_contact_at = NOW - timedelta(days=12)
    _db.session.commit()
    result = health.refresh_scores(NOW)
    _db.session.commit()
    assert result.day == date(2026, 12, 10)
    [row] = rows_of(client)
    assert (row.score, row.day) == (80, date(2026, 12, 10))
    assert row.reasons == [{"points": -20, "reason": "No contact for 12 days", "rule": "F1"}]
    assert (client.health_score, client.health_at) == (80, NOW)

    client.last_contact_at = NOW - timedelta(hours=1)
    _db.session.commit()
    later = NOW + timedelta(hours=1)
    health.refresh_scores(later)
    _db.session.commit()
    _db.session.expire_all()
    [row] = rows_of(client)
    assert (row.score, row.reasons, row.computed_at) == (100, [], later)

    health.refresh_scores(NOW + timedelta(days=1))
    _db.session.commit()
    assert [r.day for r in sorted(rows_of(client), key=lambda r: r.day)] == [
        date(2026, 12, 10),
        date(2026, 12, 11),
    ]


def test_p2_churned_clients_are_skipped_and_keep_what_they_had(world, make_client):
    churned = make_client(status=LifecycleStatus.CHURNED.value, health_score=55)
    health.refresh_scores(NOW)
    _db.session.commit()
    assert rows_of(churned) == []
    assert churned.health_score == 55
    assert world.client.health_score is not None


def test_p2_gmv_of_the_last_30_days_in_its_currency_and_the_reference(world, make_client):
    client = world.client  # EGP: 49 to the dollar by default
    figures(client, YESTERDAY - timedelta(days=29), YESTERDAY, "49.00")
    figures(client, YESTERDAY - timedelta(days=30), YESTERDAY - timedelta(days=30), "1000")
    figures(client, YESTERDAY + timedelta(days=1), YESTERDAY + timedelta(days=1), "1000")
    no_rate = make_client(currency="XOF", timezone="Africa/Cairo")
    figures(no_rate, YESTERDAY, YESTERDAY, "5000")
    silent = make_client()
    health.refresh_scores(NOW)
    _db.session.commit()
    assert client.gmv_30d == Decimal("1470.000")
    assert client.gmv_30d_ref == Decimal("30.000")
    assert (no_rate.gmv_30d, no_rate.gmv_30d_ref) == (Decimal("5000.000"), None)
    assert (silent.gmv_30d, silent.gmv_30d_ref) == (None, None)


def test_f4_sweep_compares_the_store_gmv_on_its_own_calendar(world):
    client = world.client
    client.last_contact_at = NOW
    figures(client, YESTERDAY - timedelta(days=55), YESTERDAY - timedelta(days=28), "100")
    figures(client, YESTERDAY - timedelta(days=27), YESTERDAY, "40")
    health.refresh_scores(NOW)
    _db.session.commit()
    [row] = rows_of(client)
    assert row.reasons == [
        {"points": -20, "reason": "GMV down 60% on the 28 days before", "rule": "F4"}
    ]


def test_sweep_reads_what_was_open_at_its_now(world):
    """E1, E3, F4, G5, R4: open at the sweep's `now` (opened by then, closed after), due
    dates on the client's calendar, minutes owed past 48 hours."""
    client = world.client
    client.last_contact_at = NOW
    common = dict(client_id=client.id, said="x", channel="call")
    _db.session.add_all(
        [
            Escalation(
                **common,
                raised_at=NOW - timedelta(days=1),
                trigger="refuses_acm",
                step_started_at=NOW,
                status="resolved",
                resolved_at=NOW + timedelta(hours=1),
            ),
            Complaint(**common, kind="complaint", raised_at=NOW - timedelta(days=1)),
            Complaint(**common, kind="complaint", raised_at=NOW + timedelta(hours=1)),
            NotSellingAlert(
                client_id=client.id,
                raised_at=NOW - timedelta(days=2),
                cause="no_orders",
                detail="x",
                cleared_at=NOW - timedelta(days=1),
            ),
            invoice(client, due_on=YESTERDAY),
            invoice(client, due_on=YESTERDAY + timedelta(days=1)),
            Minutes(client_id=client.id, owed_since=NOW - timedelta(hours=49), status="owed"),
            Minutes(client_id=client.id, owed_since=NOW - timedelta(hours=47), status="owed"),
        ]
    )
    _db.session.commit()
    health.refresh_scores(NOW)
    _db.session.commit()
    [row] = rows_of(client)
    assert {r["rule"]: r["reason"] for r in row.reasons} == {
        "E1": "Escalation open",
        "E3": "1 complaint open",
        "R4": "1 invoice overdue, the oldest by 1 day",
        "G5": "1 set of minutes owed for more than 2 days",
    }
    assert row.score == 100 - 25 - 10 - 10 - 5


def test_p2_sweep_statements_do_not_grow_with_the_clients(world, make_client):
    def statements(extra: int) -> int:
        for _ in range(extra):
            client = make_client(timezone="America/Los_Angeles")
            figures(client, YESTERDAY - timedelta(days=3), YESTERDAY, "10")
        with counting_queries(_db.engine) as run:
            health.refresh_scores(NOW)
        _db.session.commit()
        return len(run)

    small = statements(3)
    assert statements(30) == small
    total = _db.session.scalar(select(func.count()).select_from(ClientHealth))
    assert total == 34


def test_p2_client_health_has_the_latest_and_90_days(world):
    client = world.client
    for back in range(95):
        health.refresh_scores(NOW - timedelta(days=back))
    _db.session.commit()
    view = health.client_health(client)
    assert view.latest.day == date(2026, 12, 10)
    assert len(view.history) == 90
    assert view.history[0].day == date(2026, 9, 12)
    assert view.history[-1] is view.latest
