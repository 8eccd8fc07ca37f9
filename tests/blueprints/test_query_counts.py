"""Pages stay fast by design: the client list and the client page issue the same number
of queries for 10 clients as for 200 (no N+1), whatever their contacts, timelines and
store figures."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from kamportal import clock
from kamportal.models import (
    Client,
    Contact,
    DeliveryStatus,
    OutboxMessage,
    Role,
    StoreDay,
    TimelineEvent,
    TimelineKind,
)


@contextmanager
def counting_queries(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def portfolio(db, acm, size: int, make_client_report) -> Client:
    """`size` clients with contacts and timelines (messages included) for `acm`."""
    now = clock.now()
    first = None
    for n in range(size):
        client = Client(
            store_name=f"Store {n:03d}",
            store_code=f"QC{size}-{n:03d}",
            plan="enterprise",
            country="EG",
            timezone="Africa/Cairo",
            status="live",
            currency="EGP",
            recurring_amount=Decimal("1000"),
            acm=acm,
            created_at=now,
            updated_at=now,
            last_contact_at=now - timedelta(days=n % 9),
        )
        db.session.add(client)
        for c in range(3):
            db.session.add(Contact(client=client, name=f"C{c}", email=f"c{c}@s{n}.example"))
        db.session.flush()
        for e in range(25):
            message = None
            if e % 5 == 0:
                message = OutboxMessage(
                    idempotency_key=f"qc-{size}-{n}-{e}",
                    channel="email",
                    client_id=client.id,
                    to_addrs=["x@y.example"],
                    subject="s",
                    body="b",
                    status=DeliveryStatus.SENT.value,
                    created_at=now,
                )
                db.session.add(message)
            db.session.add(
                TimelineEvent(
                    client_id=client.id,
                    kind=TimelineKind.NOTE.value,
                    actor=acm,
                    at=now - timedelta(hours=e),
                    summary=f"event {e}",
                    detail={},
                    outbox_message=message,
                )
            )
        first = first or client
    # The first store's figures (F4): as many days as clients, up to the 90 it charts.
    today = clock.today(first.timezone)
    db.session.add_all(
        StoreDay(
            client_id=first.id,
            day=today - timedelta(days=d),
            orders=d,
            gmv=Decimal(d * 10),
            currency="EGP",
            source="demo",
            updated_at=now,
        )
        for d in range(1, min(size, 90) + 1)
    )
    db.session.commit()
    # Its monthly reports (P4): as many months as clients, up to two years, sent but one.
    month = date(2026, 10, 1)
    for m in range(min(size, 24)):
        make_client_report(first, month=month, status="sent" if m else "draft", sent_at=now)
        month = (month - timedelta(days=1)).replace(day=1)
    db.session.commit()
    return first


@pytest.fixture
def queries_for(app, db, make_team, make_user, make_client_report, login_as):
    def measure(size: int) -> dict[str, int]:
        team = make_team()
        acm = make_user(Role.ACM, team=team)
        client = portfolio(db, acm, size, make_client_report)
        http = login_as(acm)
        counts = {}
        for name, url in {
            "list": "/clients/",
            "search": "/clients/?q=store&sort=last_contact&direction=desc",
            "segmented (P2)": "/clients/?health=amber&gmv=2&industry=Food&sort=health",
            "client page": f"/clients/{client.id}",
            "timeline": f"/clients/{client.id}/timeline?page=2",
        }.items():
            headers = {"HX-Request": "true"} if name == "timeline" else {}
            with counting_queries(db.engine) as statements:
                assert http.get(url, headers=headers).status_code == 200
            counts[name] = len(statements)
        return counts

    return measure


def test_client_list_and_page_query_counts_do_not_grow_with_the_portfolio(queries_for):
    small = queries_for(10)
    large = queries_for(200)
    assert small == large
    # The client page: its panels (escalation, support, renewal, customizations, meetings,
    # minutes, store figures, not selling, monthly reports...) one or two each, and the
    # header's badge of unread notifications (one, on every page).
    assert max(large.values()) <= 28, large
