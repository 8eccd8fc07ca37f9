"""Fixtures the route tests share."""

from __future__ import annotations

import pytest

from kamportal.models import Role


@pytest.fixture
def cairo(make_portfolio, make_user):
    """A Cairo team with its mailbox: Layla leads two ACMs, Ahmed and Omar;
    (team, leader, acm, other)."""
    cairo = make_portfolio(
        team={"name": "Cairo", "shared_mailbox": "cairo-kam@kam.example"},
        leader={"name": "Layla Leader"},
        acm={"name": "Ahmed ACM"},
        client=False,
    )
    other = make_user(Role.ACM, team=cairo.team, name="Omar ACM")
    return cairo.team, cairo.leader, cairo.acm, other
