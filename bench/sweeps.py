"""Time each periodic sweep on its worst-case backlog (issue 17: every sweep ≤ 10 s).

Run: python -m bench.sweeps [--clients 5000] [--wires 1000] [--only r4]
See bench/README.md. Builds the backlog in a scratch database (`BENCH_DATABASE_URL`, which is
emptied first; a SQLite file in a temporary folder without it) and runs each sweep's job
once, as the worker would, its commit and the delivery jobs it enqueues included (on
`BENCH_REDIS_URL`, else the embedded queue). Then it delivers a sample of the reminders, to
show what rendering costs where it now happens.

The backlog is every client at once: a renewal due within 30 days and none opened (R1), an
unpaid invoice past due and never reminded (R4), no contact for a month (F1), no orders for
ten days after five weeks of sales (F4), and `--wires` wire transfers reported 5 days ago
and never confirmed (R7). Then the outbox sweep reads
every message the others queued.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from flask_migrate import upgrade
from sqlalchemy import func, insert, select, update

from bench.client_pages import build_app, scratch_database, statements_counted
from kamportal import clock
from kamportal.extensions import db
from kamportal.models import (
    Client,
    Contact,
    Invoice,
    OutboxMessage,
    Payment,
    Role,
    StoreDay,
    Team,
    User,
    UserRole,
)

TEAMS = 10
ACMS_PER_TEAM = 10
ZONES = ("Africa/Cairo", "Asia/Riyadh", "Asia/Dubai", "Europe/London")


def build_backlog(clients: int, wires: int) -> None:
    """The worst-case backlog of every sweep at once (see the module's docstring)."""
    now = clock.now()
    db.session.execute(
        insert(Team),
        [{"name": f"Team {t}", "country": "EG", "timezone": "Africa/Cairo"} for t in range(TEAMS)],
    )
    team_ids = list(db.session.scalars(select(Team.id).order_by(Team.id)))
    people = [
        {
            "email": f"{kind}{t}-{n}@kam.example",
            "name": f"{kind.title()} {t}-{n}",
            "password_hash": "-",
            "team_id": team_id,
            "created_at": now,
        }
        for t, team_id in enumerate(team_ids)
        for kind, count in (("leader", 1), ("acm", ACMS_PER_TEAM))
        for n in range(count)
    ]
    people.append(
        {"email": "finance@kam.example", "name": "Finance", "password_hash": "-", "created_at": now}
    )
    db.session.execute(insert(User), people)
    users = {email: user_id for email, user_id in db.session.execute(select(User.email, User.id))}
    db.session.execute(
        insert(UserRole),
        [
            {
                "user_id": user_id,
                "role": (
                    Role.LEADER
                    if email.startswith("leader")
                    else Role.ACM
                    if email.startswith("acm")
                    else Role.FINANCE
                ).value,
            }
            for email, user_id in users.items()
        ],
    )
    for t, team_id in enumerate(team_ids):
        db.session.execute(
            update(Team)
            .where(Team.id == team_id)
            .values(leader_id=users[f"leader{t}-0@kam.example"])
        )
    acms = [users[f"acm{t}-{n}@kam.example"] for t in range(TEAMS) for n in range(ACMS_PER_TEAM)]
    today = now.date()
    db.session.execute(
        insert(Client),
        [
            {
                "store_name": f"Store {n}",
                "store_code": f"S{n:06d}",
                "plan": "enterprise",
                "country": "EG",
                "timezone": ZONES[n % len(ZONES)],
                "language": "ar" if n % 3 == 0 else "en",
                "status": "live",
                "acm_id": acms[n % len(acms)],
                "currency": "EGP",
                "recurring_amount": Decimal("12000.00"),
                "renewal_date": today + timedelta(days=5 + n % 20),
                "last_contact_at": now - timedelta(days=30),
                "created_at": now - timedelta(days=400),
                "updated_at": now,
            }
            for n in range(clients)
        ],
    )
    client_ids = list(db.session.scalars(select(Client.id).order_by(Client.id)))
    db.session.execute(
        insert(Contact),
        [
            {
                "client_id": c,
                "name": f"Owner {c}",
                "email": f"owner{c}@store.example",
                "is_primary": True,
            }
            for c in client_ids
        ],
    )

    def invoices(count: int, offset: int) -> list[int]:
        if not count:
            return []
        rows = [
            {
                "client_id": client_ids[n % len(client_ids)],
                "number": f"INV-B-{offset + n:06d}",
                "currency": "EGP",
                "total": Decimal("12000.00"),
                "issued_on": today - timedelta(days=20),
                "due_on": today - timedelta(days=5),
                "status": "unpaid",
                "method": "online",
                "issued_at": now - timedelta(days=20),
                "billing_system": "portal",
                "reminders_sent": 0,
            }
            for n in range(count)
        ]
        return list(db.session.scalars(insert(Invoice).returning(Invoice.id), rows))

    # F4: each store sold every day of five weeks, then nothing for the last ten days.
    for start in range(0, len(client_ids), 1000):
        db.session.execute(
            insert(StoreDay),
            [
                {
                    "client_id": c,
                    "day": today - timedelta(days=ago),
                    "orders": 0 if ago <= 10 else 3,
                    "gmv": Decimal(0) if ago <= 10 else Decimal("450.00"),
                    "currency": "EGP",
                    "source": "csv",
                    "updated_at": now,
                }
                for c in client_ids[start : start + 1000]
                for ago in range(1, 46)
            ],
        )
    invoices(clients, 0)
    waiting = invoices(wires, clients)
    if not waiting:
        db.session.commit()
        return
    db.session.execute(
        insert(Payment),
        [
            {
                "invoice_id": invoice_id,
                "method": "wire",
                "amount": Decimal("12000.00"),
                "currency": "EGP",
                "status": "reported",
                "reported_at": now - timedelta(days=5),
            }
            for invoice_id in waiting
        ],
    )
    db.session.commit()


def sweeps() -> list[tuple[str, str, Callable[[], object]]]:
    from kamportal.jobs import cadence, health, invoices, not_selling, outbox, payments, renewals

    return [
        ("r1", "R1 open due renewals", renewals.open_due_renewals),
        ("r4", "R4 invoice reminders", invoices.send_invoice_reminders),
        ("f1", "F1 weekly-contact lapses", cadence.sweep_overdue),
        ("r7", "R7 late wire transfers", payments.flag_late_wire_transfers),
        ("f4", "F4 not-selling alerts", not_selling.sweep_not_selling),
        ("p2", "P2 health scores", health.refresh_health_scores),
        ("outbox", "outbox reconcile (every message pending)", _later(outbox.reconcile)),
    ]


def _later(job: Callable[[], object]) -> Callable[[], object]:
    """`job` run 5 minutes from now: the outbox sweep leaves messages younger than 2 alone."""

    def run() -> object:
        clock.freeze(clock.now() + timedelta(minutes=5))
        try:
            return job()
        finally:
            clock.unfreeze()

    return run


def deliver_sample(count: int) -> tuple[float, int]:
    """Deliver `count` pending reminders in this process (memory transport): seconds each."""
    from kamportal.messaging import outbox

    ids = list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.idempotency_key.like("invoice-%-reminder-%"))
            .order_by(OutboxMessage.id)
            .limit(count)
        )
    )
    with statements_counted(db.engine) as seen:
        started = time.perf_counter()
        for message_id in ids:
            outbox.deliver(message_id, last_attempt=True)
        took = time.perf_counter() - started
    db.session.remove()
    return took / max(len(ids), 1), len(seen) // max(len(ids), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--wires", type=int, default=1000)
    parser.add_argument("--only", default="", help="run only the sweeps whose code has this")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        url = scratch_database(scratch)
        app = build_app(url)
        app.config["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL") or None
        from kamportal import queue

        queue.init_app(app)
        queue.backend(app).connection.flushdb()
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            build_backlog(args.clients, args.wires)
            print(
                f"backlog of {args.clients} clients, {args.wires} wires built in "
                f"{time.perf_counter() - started:.1f} s ({url.split('://')[0]})"
            )
            db.session.remove()
            print("| sweep | rows | seconds | statements |")
            print("|---|---|---|---|")
            for code, name, job in sweeps():
                if args.only and args.only not in code:
                    continue
                with statements_counted(db.engine) as seen:
                    started = time.perf_counter()
                    result = job()
                    took = time.perf_counter() - started
                db.session.remove()
                print(f"| {name} | {result} | {took:.2f} | {len(seen)} |", flush=True)
            queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
            db.session.remove()
            if queued:
                each, statements = deliver_sample(200)
                print(
                    f"delivering a reminder: {each * 1000:.1f} ms, {statements} statements "
                    f"({queued} messages queued)"
                )
            db.engine.dispose()


if __name__ == "__main__":
    main()
