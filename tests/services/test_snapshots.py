"""Platform-wide figures kept by a sweep (issue 17): the renewal forecast of finance and
admins, and the admin's every-team figures. Read while fresh (15 minutes), summed live
after that; a leader's and an ACM's own figures are always live."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kamportal.jobs import cron
from kamportal.jobs import snapshots as snapshot_jobs
from kamportal.models import FiguresSnapshot, Role, Team
from kamportal.services import renewals, snapshots, team_view
from kamportal.services.team_view import Scope
from tests.services.renewal_world import NOW, TODAY, world  # noqa: F401


def forecast_page(viewer, *, now=NOW, today=TODAY) -> renewals.ForecastPage:
    return renewals.forecast_page(viewer, today=today, now=now, page=1, per_page=25)


def cairo_egp(page: renewals.ForecastPage):
    return {(line.team, line.currency): line.horizons for line in page.lines}[("Cairo", "EGP")]


def two_thousand_in_ten_days(world, make_client) -> None:  # noqa: F811
    """A client of Mona's renewing for 2,000 EGP in 10 days, not opened yet."""
    make_client(
        acm=world["acm"],
        renewal_date=TODAY + timedelta(days=10),
        recurring_amount=Decimal("2000"),
        currency="EGP",
    )


def test_the_sweep_runs_every_five_minutes():
    [entry] = [e for e in cron.entries() if e["func"] is snapshot_jobs.refresh_platform_figures]
    assert entry["interval"] == 300 == snapshots.REFRESHED_EVERY.total_seconds()


def test_finance_reads_the_sweeps_forecast_which_equals_the_live_one(world, db):  # noqa: F811
    snapshot_jobs.refresh_platform_figures()
    kept = forecast_page(world["finance"])
    assert kept.as_of == NOW
    live = renewals.forecast_page(world["acm"], today=TODAY, now=NOW, page=1, per_page=25)
    assert live.as_of is None
    # Nile Crafts, 12,000 EGP in 20 days, not confirmed: the same either way.
    assert cairo_egp(kept) == cairo_egp(live) == [(Decimal(0), Decimal("12000.00"))] * 3
    assert kept.totals == live.totals and kept.total == 1


def test_a_renewal_added_after_the_sweep_shows_to_finance_at_the_next_one(
    world,  # noqa: F811
    db,
    make_client,
    frozen_clock,
):
    snapshot_jobs.refresh_platform_figures()
    two_thousand_in_ten_days(world, make_client)
    at_risk = [(Decimal(0), Decimal("14000.00"))] * 3
    # The ACM's own forecast is live; finance's is the sweep's, as of then.
    assert cairo_egp(forecast_page(world["acm"])) == at_risk
    assert cairo_egp(forecast_page(world["finance"]))[0] == (Decimal(0), Decimal("12000.00"))
    later = frozen_clock(NOW + snapshots.REFRESHED_EVERY)
    snapshot_jobs.refresh_platform_figures()
    page = forecast_page(world["finance"], now=later)
    assert cairo_egp(page) == at_risk and page.as_of == later


@pytest.mark.parametrize(
    ("age", "read"),
    [
        (timedelta(0), True),
        (snapshots.FRESH_FOR - timedelta(seconds=1), True),
        (snapshots.FRESH_FOR, True),
        (snapshots.FRESH_FOR + timedelta(seconds=1), False),
    ],
)
def test_figures_older_than_15_minutes_are_summed_live_instead(
    world,  # noqa: F811
    db,
    make_client,
    age,
    read,
):
    """The sweep stopped: past FRESH_FOR the page sums its figures itself."""
    snapshot_jobs.refresh_platform_figures()
    two_thousand_in_ten_days(world, make_client)
    db.session.commit()
    page = forecast_page(world["finance"], now=NOW + age)
    assert page.as_of == (NOW if read else None)
    assert cairo_egp(page)[0][1] == Decimal("12000.00" if read else "14000.00")
    team_ids = [world["team"].id]
    figures, as_of = team_view.every_team_figures(team_ids, now=NOW + age)
    assert as_of == (NOW if read else None)
    assert figures.workload[world["team"].id].clients == (1 if read else 2)


def test_each_day_it_is_where_finance_and_admins_are_has_its_forecast(
    world,  # noqa: F811
    db,
    make_user,
    frozen_clock,
):
    """At 23:00 UTC on 23 Nov it is already the 24th in Cairo (UTC+2) and still the 23rd in
    Los Angeles: a forecast from each day where finance and admins are; an ACM's zone asks
    for none."""
    late_evening = frozen_clock(datetime(2026, 11, 23, 23, 0, tzinfo=UTC))
    admin = make_user(Role.ADMIN, timezone="America/Los_Angeles")
    make_user(Role.ACM, timezone="Africa/Cairo")
    db.session.commit()
    assert renewals.platform_forecast_days(now=late_evening) == {date(2026, 11, 23)}
    world["finance"].timezone = "Africa/Cairo"
    db.session.commit()
    days = renewals.platform_forecast_days(now=late_evening)
    assert days == {date(2026, 11, 23), date(2026, 11, 24)}
    snapshot_jobs.refresh_platform_figures()
    for viewer, today in ((world["finance"], date(2026, 11, 24)), (admin, date(2026, 11, 23))):
        page = forecast_page(viewer, now=late_evening, today=today)
        assert page.as_of == late_evening
    # The next day's run drops the day gone by.
    next_day = frozen_clock(late_evening + timedelta(hours=12))
    snapshot_jobs.refresh_platform_figures()
    names = set(db.session.scalars(select(FiguresSnapshot.name)))
    assert names == {
        "renewal forecast 2026-11-24",
        team_view.EVERY_TEAM_SNAPSHOT,
        f"trends of team {world['team'].id} UTC 2026-11-24",  # Layla Nour's zone
    }
    assert forecast_page(admin, now=next_day, today=date(2026, 11, 23)).as_of is None


def test_every_teams_figures_from_the_sweep_equal_the_live_ones(
    world,  # noqa: F811
    db,
    make_client,
    make_team,
    make_user,
):
    other = make_user(Role.ACM, team=make_team(name="Alex"))
    make_client(acm=other, last_contact_at=NOW - timedelta(days=30))
    make_client(acm=world["acm"])
    db.session.commit()
    snapshot_jobs.refresh_platform_figures()
    team_ids = list(db.session.scalars(select(Team.id)))
    kept, as_of = team_view.every_team_figures(team_ids, now=NOW)
    assert as_of == NOW
    assert kept == team_view.figures(Scope(tuple(team_ids), by_team=True), now=NOW)
    # A page of teams gets its teams' figures only.
    page, _ = team_view.every_team_figures([other.team_id], now=NOW)
    assert set(page.workload) == {other.team_id} and page.late["F1"] == {other.team_id: 1}


def test_figures_kept_in_a_shape_this_code_does_not_read_are_summed_live(world, db):  # noqa: F811
    """A deploy changed what the sweep keeps: until it runs again, the pages sum live."""
    db.session.add_all(
        [
            FiguresSnapshot(
                name=team_view.EVERY_TEAM_SNAPSHOT, computed_at=NOW, figures={"late": 3}
            ),
            FiguresSnapshot(
                name=f"renewal forecast {TODAY.isoformat()}",
                computed_at=NOW,
                figures=[["Cairo", "EGP", [["not a number", "0"]] * 3]],
            ),
        ]
    )
    db.session.commit()
    figures, as_of = team_view.every_team_figures([world["team"].id], now=NOW)
    assert as_of is None and figures.workload[world["team"].id].clients == 1
    page = forecast_page(world["finance"])
    assert page.as_of is None and cairo_egp(page) == [(Decimal(0), Decimal("12000.00"))] * 3
