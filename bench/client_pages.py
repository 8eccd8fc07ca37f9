"""Time the client pages, the day, the escalation queue, renewals, finance's queue and the
leader's view on a large generated portfolio.

Run: python -m bench.client_pages --clients 5000 [--requests 30] [--only team]
See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import event, func, select, text

from kamportal import create_app
from kamportal.blueprints.client_tabs import TABS
from kamportal.config import TestConfig
from kamportal.demo import DEMO_PASSWORD, seed_demo
from kamportal.extensions import db
from kamportal.models import Client, Role, TimelineEvent, User, UserRole


def build_app(database_url: str):
    class BenchConfig(TestConfig):
        TESTING = False
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = None
        PASSWORD_HASH_CHEAP = False

    return create_app(BenchConfig)


def reset_schema(database_url: str) -> None:
    if database_url.startswith("postgresql"):
        from sqlalchemy import create_engine

        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


def scratch_database(folder: str) -> str:
    """The database a bench fills: BENCH_DATABASE_URL's, emptied first, or else a SQLite
    file in `folder`; its address with the portal's PostgreSQL driver."""
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(folder) / 'bench.db'}"
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    reset_schema(url)
    return url


@contextmanager
def statements_counted(engine):
    seen: list[str] = []

    def count(*args) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def measure(call: Callable[[], int], repeat: int) -> tuple[float, float, int]:
    """Median and p95 in milliseconds, and SQL statements of one call."""
    call()  # warm caches (templates, statement cache)
    with statements_counted(db.engine) as seen:
        status = call()
    assert status == 200, status
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, len(seen)


def signed_in(app, user: User):
    http = app.test_client()
    page = http.get("/login").get_data(as_text=True)
    token = page.split('"X-CSRFToken": "', 1)[1].split('"', 1)[0]
    response = http.post(
        "/login",
        data={"email": user.email, "password": DEMO_PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 302, response.status_code
    return http


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--only", default="", help="measure only the pages whose name has this")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        url = scratch_database(scratch)
        app = build_app(url)
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            seed_demo(clients=args.clients)
            db.session.commit()
            seeded = time.perf_counter() - started
            events = db.session.scalar(select(func.count()).select_from(TimelineEvent))
            # The demo caps the portfolio at its store names (--clients may ask for more).
            clients = db.session.scalar(select(func.count()).select_from(Client))
            busiest = db.session.execute(
                select(Client.acm_id, func.count())
                .group_by(Client.acm_id)
                .order_by(func.count().desc())
                .limit(1)
            ).one()
            acm = db.session.get(User, busiest[0])
            leader = acm.team.leader
            admin = db.session.scalar(
                select(User).where(User.role_rows.any(UserRole.role == Role.ADMIN.value))
            )
            client_id = db.session.scalar(
                select(Client.id)
                .where(Client.acm_id == acm.id)
                .order_by(Client.last_contact_at.desc())
                .limit(1)
            )
            # A store being launched: its checklists and contract limits (L1-L5).
            launching_id = db.session.scalar(
                select(Client.id)
                .where(Client.acm_id == acm.id, Client.status == "launching")
                .order_by(Client.id)
                .limit(1)
            )
            db.session.remove()

        print(
            f"{clients} clients, {events} timeline events, seeded in {seeded:.1f} s on "
            f"{url.split(':', 1)[0]}; busiest ACM has {busiest[1]} clients\n"
        )
        print("| page | as | median ms | p95 ms | SQL statements |")
        print("|---|---|---|---|---|")
        for who, user in (("acm", acm), ("leader", leader), ("admin", admin)):
            http = signed_in(app, user)
            pages = {
                "client list": "/clients/",
                "search 'store'": "/clients/?q=store",
                "search by contact email": "/clients/?q=%40nile",
                "sort by last contact, page 3": "/clients/?sort=last_contact&direction=desc&page=3",
                "clients in red, by GMV": "/clients/?health=red&sort=gmv&direction=desc",
                "amber in GMV band 2, weakest first": "/clients/?health=amber&gmv=2&sort=health",
                "client page": f"/clients/{client_id}",
                "timeline page 2 (htmx)": f"/clients/{client_id}/timeline?page=2",
                **{
                    f"client page, {tab} tab (htmx)": f"/clients/{client_id}/tabs/{tab}"
                    for tab in TABS
                    if tab != "overview"
                },
                "the day": "/day/",
                "escalation queue": "/escalations/",
                "renewals and unpaid invoices": "/renewals/",
                "renewal forecast": "/renewals/forecast",
            }
            if launching_id is not None:
                pages["launch checklists"] = f"/clients/{launching_id}/launch"
                pages["KYC answers"] = f"/clients/{launching_id}/kyc"
                pages["launching client's page"] = f"/clients/{launching_id}"
            if who == "admin":
                pages["finance's queue"] = "/finance/"
                pages["every team (leader's view)"] = "/team/"
                pages["late contacts of every team (F1)"] = "/team/late/F1"
            if who == "leader":
                pages["the team (leader's view)"] = "/team/"
                pages["the team's late contacts, busiest ACM (F1)"] = f"/team/late/F1?acm={acm.id}"
            for name, path in pages.items():
                if args.only not in name:
                    continue
                headers = {"HX-Request": "true"} if "htmx" in name else {}

                def call(http=http, path=path, headers=headers) -> int:
                    return http.get(path, headers=headers).status_code

                with app.app_context():
                    median, p95, statements = measure(call, args.requests)
                print(f"| {name} | {who} | {median:.1f} | {p95:.1f} | {statements} |")


if __name__ == "__main__":
    main()
