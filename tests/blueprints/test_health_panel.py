"""The client page's health (P2): the score, its band in colour and in words, each reason
with its points, when it was computed, and the last 90 days as a chart readable as text;
a client not scored yet says so."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kamportal.extensions import db as _db
from kamportal.models import Complaint, Escalation
from kamportal.models.types import utc
from kamportal.services import health
from tests.blueprints.test_store_figures_panel import chart

NOW = utc(2026, 12, 10, 12, 0)


@pytest.fixture
def world(make_portfolio, frozen_clock):
    frozen_clock(NOW)
    return make_portfolio(client={"timezone": "Africa/Cairo"})


def page_of(login_as, world) -> str:
    return login_as(world.acm).get(f"/clients/{world.client.id}").get_data(as_text=True)


def scored_page(login_as, world) -> str:
    """The client page once this hour's sweep ran."""
    health.refresh_scores(NOW)
    _db.session.commit()
    return page_of(login_as, world)


def test_p2_a_client_not_scored_yet_says_so(world, login_as):
    page = page_of(login_as, world)
    assert 'id="health-panel"' in page
    assert "Not scored yet" in page
    assert 'id="health-chart"' not in page


def test_p2_the_page_shows_score_band_reasons_and_history(world, login_as):
    client = world.client
    for back in range(3, 0, -1):
        client.last_contact_at = NOW - timedelta(days=back)
        health.refresh_scores(NOW - timedelta(days=back))
    client.last_contact_at = NOW - timedelta(days=12)
    page = scored_page(login_as, world)
    assert '<strong id="health-score">80</strong>' in page
    assert 'class="badge badge-green" id="health-band">Green</span>' in page
    assert "<strong>−20</strong>: No contact for 12 days" in page
    assert 'id="health-as-of">As of ' in page
    svg = chart(page, "health-chart")
    marks = [m for m in svg if "chart-day" in (m.get("class") or "")]
    assert [m.find("title").text for m in marks] == [
        "Mon 07 Dec: 100 (Green)",
        "Tue 08 Dec: 100 (Green)",
        "Wed 09 Dec: 100 (Green)",
        "Thu 10 Dec: 80 (Green)",
    ]


def test_p2_a_red_client_reads_red_in_words(world, login_as):
    client = world.client
    client.last_contact_at = None
    client.created_at = NOW - timedelta(days=40)
    client.status = "at_risk"
    _db.session.commit()
    common = dict(client_id=client.id, said="x", channel="call", raised_at=NOW)
    _db.session.add_all(
        [
            Escalation(**common, trigger="refuses_acm", step_started_at=NOW),
            Complaint(**common, kind="complaint"),
        ]
    )
    _db.session.commit()
    page = scored_page(login_as, world)
    assert '<strong id="health-score">25</strong>' in page
    assert 'id="health-band">Red</span>' in page
    assert "<strong>−40</strong>: Never contacted, client for 40 days" in page
