"""P2: the client list segmented by industry, country, plan, GMV band and health: filters,
sort keys and columns, over HTTP."""

import re
from decimal import Decimal

import pytest

HTMX = {"HX-Request": "true"}


def names_in(response) -> list[str]:
    """The store names in the table, in their order."""
    html = response.get_data(as_text=True)
    table = html[html.index('<section id="client-table">') :]
    return re.findall(r'<tr id="client-\d+"><td><a href="/clients/\d+">([^<]*)</a>', table)


@pytest.fixture
def scored(cairo, make_client):
    """Four clients of one ACM around the health bands' edges, with their 30-day GMV."""
    _, _, acm, _ = cairo
    make_client(
        acm=acm,
        store_name="Amber Top",
        health_score=69,
        industry="Fashion",
        gmv_30d=Decimal("49000"),
        gmv_30d_ref=Decimal("1000"),
    )
    make_client(
        acm=acm,
        store_name="Green Edge",
        health_score=70,
        industry="Food",
        gmv_30d=Decimal("48951"),
        gmv_30d_ref=Decimal("999.000"),
    )
    make_client(
        acm=acm,
        store_name="Red Top",
        health_score=39,
        industry="Fashion",
        currency="USD",
        gmv_30d=Decimal("60000"),
        gmv_30d_ref=Decimal("60000"),
    )
    make_client(acm=acm, store_name="Unscored")
    return acm


@pytest.mark.parametrize(
    ("health", "expected"),
    [
        ("green", ["Green Edge"]),
        ("amber", ["Amber Top"]),
        ("red", ["Red Top"]),
        ("none", ["Unscored"]),
        ("", ["Amber Top", "Green Edge", "Red Top", "Unscored"]),
    ],
)
def test_the_health_filter_takes_each_band_at_its_edges_P2(login_as, scored, health, expected):
    response = login_as(scored).get(f"/clients/?health={health}")
    assert names_in(response) == expected


@pytest.mark.parametrize(
    ("gmv", "expected"),
    [
        ("1", ["Green Edge"]),  # under 1,000 USD
        ("2", ["Amber Top"]),  # from 1,000: the bound belongs to the band above
        ("4", ["Red Top"]),  # 50,000 and more
        ("none", ["Unscored"]),
    ],
)
def test_the_gmv_band_filter_uses_the_reference_currency_P2(login_as, scored, gmv, expected):
    assert names_in(login_as(scored).get(f"/clients/?gmv={gmv}")) == expected


def test_industry_filter_offers_the_portfolios_industries_P2(login_as, scored):
    http = login_as(scored)
    page = http.get("/clients/").get_data(as_text=True)
    assert '<option value="Fashion">Fashion</option>' in page
    assert '<option value="Food">Food</option>' in page
    assert names_in(http.get("/clients/?industry=Fashion")) == ["Amber Top", "Red Top"]


def test_sorting_by_health_puts_the_weakest_first_and_gmv_by_reference_P2(login_as, scored):
    http = login_as(scored)
    by_health = names_in(http.get("/clients/?sort=health&direction=desc"))
    assert by_health == ["Green Edge", "Amber Top", "Red Top", "Unscored"]
    weakest = names_in(http.get("/clients/?sort=health&health=red&direction=asc"))
    assert weakest == ["Red Top"]
    by_gmv = names_in(http.get("/clients/?sort=gmv&direction=desc"))
    assert by_gmv == ["Red Top", "Amber Top", "Green Edge", "Unscored"]


def test_columns_show_health_in_words_and_gmv_in_the_stores_currency_P2(login_as, scored):
    page = login_as(scored).get("/clients/?health=red").get_data(as_text=True)
    assert "Red · 39" in page
    assert "$60,000.00" in page
    amber = login_as(scored).get("/clients/?health=amber").get_data(as_text=True)
    assert "EGP" in amber and "49,000" in amber


def test_filters_combine_and_survive_paging_and_sorting_links_P2(login_as, scored):
    response = login_as(scored).get("/clients/?health=amber&industry=Fashion", headers=HTMX)
    html = response.get_data(as_text=True)
    assert names_in(response) == ["Amber Top"]
    assert "health=amber" in html and "industry=Fashion" in html


EVERYONE = ["Amber Top", "Green Edge", "Red Top", "Unscored"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("health=purple", EVERYONE),
        ("gmv=1e30", EVERYONE),
        ("gmv=99", EVERYONE),
        ("gmv=-1", EVERYONE),
        ("sort=health_score", EVERYONE),
        ("industry=%00Fashion", ["Amber Top", "Red Top"]),
        ("industry=" + "x" * 5000, []),
    ],
)
def test_odd_segment_filters_are_ignored_not_refused_P2(login_as, scored, query, expected):
    response = login_as(scored).get(f"/clients/?{query}")
    assert response.status_code == 200
    assert names_in(response) == expected


def test_a_leader_sees_the_segments_of_the_whole_team_only_P2(login_as, cairo, make_client):
    _, leader, acm, other = cairo
    make_client(acm=acm, store_name="Mine", health_score=20, industry="Toys")
    make_client(acm=other, store_name="Theirs", health_score=25, industry="Books")
    make_client(acm=None, store_name="Nobody's", health_score=10, industry="Cars")
    response = login_as(leader).get("/clients/?health=red")
    assert names_in(response) == ["Mine", "Theirs"]
    page = response.get_data(as_text=True)
    assert "Cars" not in page
