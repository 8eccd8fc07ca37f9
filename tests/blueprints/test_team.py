"""The leader's view's pages (issue 14): a leader lands on their team, each late count
opens exactly its items, another team's page is not found, an admin sees every team, and
the monthly churn moved here from the forecast."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.blueprints.team.routes import TEAMS_PER_PAGE
from kamportal.jobs import snapshots as snapshot_jobs
from kamportal.models import NotSellingAlert, Role, Team
from kamportal.services import churn

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=clock.UTC)


@pytest.fixture
def world(db, make_portfolio, make_user, make_client, frozen_clock):
    """Cairo: Amal's two clients overdue for their weekly contact (F1), one on time, one
    not selling (F4); Dubai: one overdue client."""
    frozen_clock(NOW)
    cairo = make_portfolio(
        team={"name": "Cairo"},
        acm={"name": "Amal"},
        client={"store_name": "Nile Crafts", "last_contact_at": NOW - timedelta(days=8)},
    )
    late_too = make_client(acm=cairo.acm, store_name="Delta Home", last_contact_at=None)
    on_time = make_client(
        acm=cairo.acm, store_name="Sinai Sun", last_contact_at=NOW - timedelta(days=1)
    )
    db.session.add(
        NotSellingAlert(client_id=on_time.id, raised_at=NOW, cause="no_orders", detail="x")
    )
    dubai = make_portfolio(
        team={"name": "Dubai"},
        acm={"name": "Dana"},
        client={"store_name": "Gulf Gear", "last_contact_at": None},
    )
    db.session.commit()
    return {"cairo": cairo, "dubai": dubai, "late_too": late_too, "on_time": on_time}


def link_of(page: str, rule: str, acm_id: int) -> re.Match | None:
    return re.search(rf'href="(/team/late/{rule}\?acm={acm_id})"[^>]*>(\d+)</a>', page)


def test_a_leader_lands_on_their_team_and_a_count_opens_its_items(world, login_as):
    cairo = world["cairo"]
    http = login_as(cairo.leader)
    page = http.get("/").get_data(as_text=True)
    assert 'id="team"' in page and "Cairo" in page and "Gulf Gear" not in page

    found = link_of(page, "F1", cairo.acm.id)
    assert found and found.group(2) == "2"
    late = http.get(found.group(1).replace("&amp;", "&"))
    assert late.status_code == 200
    items = late.get_data(as_text=True)
    assert "Nile Crafts" in items and "Delta Home" in items
    assert "Sinai Sun" not in items and "Gulf Gear" not in items
    not_selling = http.get(f"/team/late/F4?acm={cairo.acm.id}").get_data(as_text=True)
    assert "Sinai Sun" in not_selling and "Nile Crafts" not in not_selling


def test_a_leader_never_sees_another_teams_page_or_acm(world, login_as):
    http = login_as(world["cairo"].leader)
    dubai = world["dubai"]
    assert http.get(f"/team/?team={dubai.team.id}").status_code == 404
    assert http.get(f"/team/late/F1?acm={dubai.acm.id}").status_code == 404
    assert http.get(f"/team/late/F1?team={dubai.team.id}").status_code == 404
    mixed = f"/team/late/F1?acm={world['cairo'].acm.id}&team={dubai.team.id}"
    assert http.get(mixed).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/team/late/X9",
        "/team/late/f1",
        "/team/?team=abc",
        "/team/?team=-1",
        "/team/?team=99999999999999999999",
        "/team/late/F1?acm=1e3",
        "/team/late/F1?acm=%00",
        "/team/late/F1?acm=٣",
    ],
)
def test_bad_rules_and_ids_are_not_found(world, login_as, url):
    assert login_as(world["cairo"].leader).get(url).status_code == 404


def test_an_admin_sees_every_team_and_opens_one(world, login_as):
    http = login_as(Role.ADMIN)
    page = http.get("/team/").get_data(as_text=True)
    cairo, dubai = world["cairo"].team, world["dubai"].team
    assert f'id="team-{cairo.id}"' in page and f'id="team-{dubai.id}"' in page
    row = page.split(f'id="team-{dubai.id}"', 1)[1].split("</tr>", 1)[0]
    assert f'href="/team/late/F1?team={dubai.id}"' in row.replace("&amp;", "&")
    dubai_late = http.get(f"/team/late/F1?team={dubai.id}").get_data(as_text=True)
    assert "Gulf Gear" in dubai_late and "Nile Crafts" not in dubai_late
    everyone = http.get("/team/late/F1").get_data(as_text=True)
    assert "Gulf Gear" in everyone and "Nile Crafts" in everyone
    one = http.get(f"/team/?team={cairo.id}").get_data(as_text=True)
    assert 'id="late"' in one and "Amal" in one and "Dana" not in one
    assert http.get("/team/?team=2147483647").status_code == 404


def test_an_admin_pages_through_every_team_by_name(world, db, make_team, login_as):
    """The teams grow with the portfolio: the admin's table shows a page of them at a time,
    by name, each team on one page; the pager's swap gets the table alone."""
    for n in range(TEAMS_PER_PAGE):
        make_team(name=f"Zone {n:02d}")
    db.session.commit()
    http = login_as(Role.ADMIN)
    by_name = [str(t.id) for t in db.session.scalars(select(Team).order_by(Team.name, Team.id))]
    assert TEAMS_PER_PAGE < len(by_name) <= 2 * TEAMS_PER_PAGE
    first = http.get("/team/").get_data(as_text=True)
    second = http.get("/team/?page=2").get_data(as_text=True)
    on_first = re.findall(r'<tr id="team-(\d+)"', first)
    on_second = re.findall(r'<tr id="team-(\d+)"', second)
    assert on_first + on_second == by_name and len(on_first) == TEAMS_PER_PAGE
    assert str(world["cairo"].team.id) in on_first and "Page 1 of 2" in first
    assert 'href="/team/?page=2"' in first and "Page 2 of 2" in second
    swap = http.get("/team/?page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert swap.lstrip().startswith("<section") and 'id="teams"' in swap
    assert f'id="team-{by_name[-1]}"' in swap and "<html" not in swap


def test_a_leader_of_no_team_is_told_so(login_as, make_user):
    http = login_as(make_user(Role.LEADER))
    assert 'id="no-team"' in http.get("/team/").get_data(as_text=True)
    assert "Your day, " in http.get("/").get_data(as_text=True)


def test_the_monthly_churn_is_on_the_leaders_view_not_the_forecast(world, db, login_as):
    churn.churn_client(world["late_too"], actor=world["cairo"].leader, reason="Closed")
    db.session.commit()
    http = login_as(world["cairo"].leader)
    page = http.get("/team/").get_data(as_text=True)
    section = page.split('id="churn"', 1)[1]
    assert 'data-month="2026-12-01"' in section
    december = section.split('data-month="2026-12-01"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">1</td>' in december
    assert 'id="churn"' not in http.get("/renewals/forecast").get_data(as_text=True)


def test_the_trends_are_charts_with_their_numbers_as_text(world, login_as):
    page = login_as(world["cairo"].leader).get("/team/").get_data(as_text=True)
    for chart in ("health-chart", "red-chart", "contacts-chart", "escalations-chart"):
        assert f'id="{chart}"' in page
    assert page.count("<title>Week of ") >= 5 * 12
    assert 'id="trend-weeks"' in page


def test_every_team_shows_the_sweeps_figures_as_of_when_it_summed_them(
    world, login_as, make_user, make_client
):
    """Issue 17: every team's figures sum over every client; the admin reads the sweep's,
    told as of when, while a count's items are what is late now."""
    http = login_as(make_user(Role.ADMIN, timezone="Africa/Cairo"))
    assert "Figures as of" not in http.get("/team/").get_data(as_text=True)
    snapshot_jobs.refresh_platform_figures()
    make_client(acm=world["dubai"].acm, store_name="Late Riser", last_contact_at=None)
    page = http.get("/team/").get_data(as_text=True)
    # 10:00 UTC is 12:00 in Cairo, the admin's zone.
    assert "Figures as of 12:00 " in page and "summed again every 5 minutes." in page
    dubai = world["dubai"].team.id
    row = page.split(f'id="team-{dubai}"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'data-rule="F1"><a [^>]*>1</a>', row), row
    late = http.get(f"/team/late/F1?team={dubai}").get_data(as_text=True)
    assert "Gulf Gear" in late and "Late Riser" in late


def test_the_leaders_trends_are_the_sweeps_and_say_as_of_when(world, login_as, make_user):
    """Issue 17: the 12 weeks come from the sweep in the leader's zone; the late counts
    above them are live. An admin in another zone gets the weeks summed for the page."""
    leader = world["cairo"].leader
    http = login_as(leader)
    assert "Figures as of" not in http.get("/team/").get_data(as_text=True)
    snapshot_jobs.refresh_platform_figures()
    page = http.get("/team/").get_data(as_text=True)
    trends = page.split('id="trends"', 1)[1]
    assert "Figures as of 10:00 " in trends and 'id="health-chart"' in trends
    assert link_of(page, "F1", world["cairo"].acm.id)
    admin = login_as(make_user(Role.ADMIN, timezone="Asia/Tokyo"))
    team = admin.get(f"/team/?team={world['cairo'].team.id}").get_data(as_text=True)
    assert "Figures as of" not in team and 'id="health-chart"' in team
