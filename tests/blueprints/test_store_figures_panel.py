"""The client page's orders and GMV (F4): two charts drawn on the server as SVG, one mark a
day, with the totals, the changes and every day readable as text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from kamportal.blueprints.charts import line_chart
from kamportal.models.types import utc
from tests.services.test_store_trends import sold

NOW = utc(2026, 12, 1, 23, 30)
YESTERDAY = date(2026, 12, 1)  # in Cairo, where it is already 2 December


@pytest.fixture
def world(make_portfolio, frozen_clock):
    frozen_clock(NOW)
    return make_portfolio(client={"timezone": "Africa/Cairo", "currency": "EGP"})


def chart(page: str, chart_id: str) -> ET.Element:
    found = re.search(rf'<svg id="{chart_id}".*?</svg>', page, re.DOTALL)
    assert found, chart_id
    return ET.fromstring(found.group(0))


def test_the_client_page_charts_90_days_with_the_numbers_as_text_F4(db, world, login_as):
    days = {YESTERDAY - timedelta(days=n): (10 + n % 3, f"{1000 + n}.50") for n in range(89)}
    days[YESTERDAY] = (20, "2000.00")
    del days[YESTERDAY - timedelta(days=40)]
    days[YESTERDAY - timedelta(days=89)] = (0, "0")  # sold nothing: a figure, not a gap
    sold(db, world.client, days)
    page = login_as(world.acm).get(f"/clients/{world.client.id}?tab=growth").get_data(as_text=True)

    for chart_id, says in (("orders-chart", "20 orders"), ("gmv-chart", "EGP2,000.00")):
        svg = chart(page, chart_id)
        assert svg.get("role") == "img"
        assert svg.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
        assert svg.find("title").text.endswith("03 Sep to 01 Dec")
        assert svg.find("desc").text.endswith("; 1 day without figures left blank.")
        marks = [m for m in svg if "chart-day" in (m.get("class") or "")]
        assert len(marks) == 90  # one a day
        labels = [m.find("title").text for m in marks]
        assert labels[-1] == f"Tue 01 Dec: {says}"
        assert labels[49] == "Thu 22 Oct: no figures" and "missing" in marks[49].get("class")
        assert [m.tag for m in marks].count("circle") == 89
        # The line breaks at the missing day: two runs of days.
        assert len(svg.findall("polyline")) == 2
    summary = page[page.index('id="store-figures-summary"') :]
    assert 'data-change="week-on-week"' in summary
    # 7 days: 20 + 6 others against the 7 before; the day as a table row too.
    assert "EGP2,000.00" in page[page.index('id="store-figures-days"') :]
    assert "No figures" in page[page.index('id="store-figures-days"') :]
    panel = page[
        page.index('id="store-figures"') : page.index(
            "</section>", page.index('id="store-figures"')
        )
    ]
    assert "<script" not in panel and "style=" not in panel


def test_week_and_month_changes_read_as_text_F4(db, world, login_as):
    week = {YESTERDAY - timedelta(days=n): (12, "120.00") for n in range(7)}
    before = {YESTERDAY - timedelta(days=n): (10, "100.00") for n in range(7, 14)}
    sold(db, world.client, week | before)
    page = login_as(world.acm).get(f"/clients/{world.client.id}?tab=growth").get_data(as_text=True)
    row = re.search(r'<tr data-change="week-on-week">(.*?)</tr>', page, re.DOTALL).group(1)
    assert re.findall(r"<td>(.*?)</td>", row) == ["+20.0%", "+20.0%"]
    month = re.search(r'<tr data-change="month-on-month">(.*?)</tr>', page, re.DOTALL).group(1)
    assert "Nothing to compare to" in month  # 14 days of figures, none the month before
    assert "(14 of 30 days with figures)" in page


def test_today_so_far_is_shown_apart_and_a_store_without_figures_says_so_F4(
    db, world, login_as, make_client
):
    sold(db, world.client, {date(2026, 12, 2): (3, "30.00")})
    http = login_as(world.acm)
    page = http.get(f"/clients/{world.client.id}?tab=growth").get_data(as_text=True)
    assert "Today so far (02 Dec 2026, not counted above): 3 orders, EGP30.00." in page
    other = make_client(acm=world.acm)
    page = http.get(f"/clients/{other.id}?tab=growth").get_data(as_text=True)
    assert "No figures for this store in the last 90 days." in page
    assert 'id="orders-chart"' not in page


def drawn(values: list[int | None], top: int):
    labels = [f"day {n}" for n in range(len(values))]
    return line_chart(
        values,
        labels,
        title="t",
        description="d",
        top_label=str(top),
        scale_top=top,
        first_label="a",
        last_label="b",
    )


def test_a_lone_day_between_gaps_is_a_dot_and_the_scale_tops_at_the_highest_day_F4():
    chart_ = drawn([None, 5, None, 10, 0], 10)
    assert [m.missing for m in chart_.marks] == [True, False, True, False, False]
    assert len(chart_.lines) == 1  # day 1 alone is its dot; days 3 and 4 a line
    assert (chart_.marks[3].y, chart_.marks[4].y) == (chart_.top, chart_.baseline)
    flat = drawn([0, 0], 0)  # nothing sold: the line lies on the axis
    assert [m.y for m in flat.marks] == [flat.baseline, flat.baseline]
