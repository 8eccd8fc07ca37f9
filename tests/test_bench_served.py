"""The bench served by gunicorn (issue 17): on a tiny portfolio, every role's pages answer
over HTTP beside the bare route, and a short mixed load of signed-in users, without an
error; the table lists them all, with the statements of one request of each page at a
small portfolio beside those at the served one when a small one is given."""

from __future__ import annotations

import pytest

from bench.portfolio import generate
from bench.served import (
    BARE,
    ROLES,
    ROOT,
    Options,
    Portfolio,
    Report,
    Sample,
    compared,
    comparison_markdown,
    pages_of,
    run,
)
from tests.conftest import DATABASE_URL, REDIS_URL


@pytest.mark.skipif(
    not (DATABASE_URL or "").startswith("postgres"),
    reason="the portfolio is written with PostgreSQL's COPY",
)
def test_every_roles_pages_served_by_gunicorn_without_errors(app, db):
    generate(db.engine, clients=60, seed=7, out=lambda _line: None)
    options = Options(
        database_url=DATABASE_URL,
        small_database_url=DATABASE_URL,  # the same portfolio: the column's shape is tested
        redis_url=REDIS_URL,
        worker_class="gthread",
        threads=2,
        rounds=1,
        warmup=0,
        users=4,
        seconds=2,
        think=(0.1, 0.3),
    )

    report = run(options, out=lambda _line: None)

    assert report.errors == []
    table = report.markdown()
    rows = table.splitlines()
    assert "| page | as | p50 / p95 ms | p95 ÷ bare | KB | statements at 60 / 60 |" in rows
    assert any(row.startswith(f"| {BARE.name} | — |") and row.endswith("| 1 / 1 |") for row in rows)
    small, served = report.portfolios
    for role in ROLES:
        for page in pages_of(role, client_id=1):
            at_small = small.statements[role, page.name]
            at_served = served.statements[role, page.name]
            assert at_small > 0 and at_served > 0
            row = next(row for row in rows if row.startswith(f"| {page.name} | {role} |"))
            assert row.endswith(f"| {at_small} / {at_served} |")
    assert {sample.role for sample in report.load} == set(ROLES)
    for role in (*ROLES, "all"):
        assert f"| {role} | " in table
    workers = report.memory["after the mixed load"][1:]
    assert len(workers) == 2 and all(mb > 0 for mb in workers)
    assert "BENCH_SMALL_DATABASE_URL=postgresql://..." in table
    assert "--worker-class gthread --threads 2" in table


def test_without_a_small_portfolio_one_count_of_statements_per_page():
    served = Portfolio(clients=50_400, busiest=162, measured={}, mixed=[])
    served.statements = {("acm", "the day"): 24}
    report = Report(Options(database_url="postgresql://bench"), portfolios=[served])
    report.pages = {
        ("—", BARE.name): [Sample("—", BARE.name, 2.0, 200)],
        ("acm", "the day"): [Sample("acm", "the day", 40.0, 200, 2048)],
    }

    rows = report.markdown().splitlines()

    assert "| page | as | p50 / p95 ms | p95 ÷ bare | KB | statements |" in rows
    assert f"| {BARE.name} | — | 2.0 / 2.0 | 1.0 | — | 1 |" in rows
    assert "| the day | acm | 40.0 / 40.0 | 20.0× | 2.0 | 24 |" in rows
    assert "BENCH_SMALL_DATABASE_URL" not in report.markdown()


@pytest.mark.skipif(
    not (DATABASE_URL or "").startswith("postgres"),
    reason="the portfolio is written with PostgreSQL's COPY",
)
def test_a_checkout_compared_with_itself_page_by_page_in_turn(app, db):
    """`--before DIR`: the checkout at DIR and this one served side by side on the one
    database, each page asked of both in turn."""
    generate(db.engine, clients=60, seed=7, out=lambda _line: None)
    options = Options(database_url=DATABASE_URL, redis_url=REDIS_URL, rounds=2, warmup=0)

    samples = compared(options, ROOT, only="the day", out=lambda _line: None)

    assert {role for role, _ in samples} == {"acm", "leader", "admin"}
    for sides in samples.values():
        assert [len(sides[side]) for side in ("before", "after")] == [2, 2]
        assert {x.status for side in sides.values() for x in side} == {200}
    rows = comparison_markdown(samples).splitlines()
    assert rows[0] == "| page | as | before: p50 / p95 ms | after: p50 / p95 ms | p50 change |"
    assert any(row.startswith("| the day | acm | ") for row in rows)
