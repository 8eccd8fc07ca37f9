"""The bench served by gunicorn (issue 17): on a tiny portfolio, every role's pages answer
over HTTP beside the bare route, and a short mixed load of signed-in users, without an
error; the table lists them all."""

from __future__ import annotations

import pytest

from bench.portfolio import generate
from bench.served import BARE, ROLES, Options, pages_of, run
from tests.conftest import DATABASE_URL, REDIS_URL

pytestmark = pytest.mark.skipif(
    not (DATABASE_URL or "").startswith("postgres"),
    reason="the portfolio is written with PostgreSQL's COPY",
)


def test_every_roles_pages_served_by_gunicorn_without_errors(app, db):
    generate(db.engine, clients=60, seed=7, out=lambda _line: None)
    options = Options(
        database_url=DATABASE_URL,
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
    assert f"| {BARE.name} | — |" in table
    for role in ROLES:
        for page in pages_of(role, client_id=1):
            assert f"| {page.name} | {role} |" in table
            assert report.statements[role, page.name] > 0
    assert {sample.role for sample in report.load} == set(ROLES)
    for role in (*ROLES, "all"):
        assert f"| {role} | " in table
    workers = report.memory["after the mixed load"][1:]
    assert len(workers) == 2 and all(mb > 0 for mb in workers)
    assert "--worker-class gthread --threads 2" in table
