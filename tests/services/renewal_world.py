"""The world of the renewal, discount, invoice and payment tests (R1-R10), shared by the
service, page and browser tests: Monday 23 Nov 2026, 09:00 UTC (the frozen clock's
default). Mona Adel (ACM, team Cairo, led by Layla Nour, reminders every 3 days) looks
after Nile Crafts (NILE01, 12000 EGP a year, due in 20 days, contact Karim Said); Heba
Finance; Hany Commercial; Omar, an ACM of team Dubai. `opened`, `confirmed` and `invoiced`
take its renewal through R1, R2 and R3."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kamportal.models import Channel, OutboxMessage, Renewal, Role, TimelineEvent
from kamportal.services import invoices, renewals

# Monday 23 Nov 2026, 09:00 UTC (the frozen clock's default).
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def world(make_portfolio, make_team, make_user, frozen_clock):
    frozen_clock(NOW)
    portfolio = make_portfolio(
        team={
            "name": "Cairo",
            "shared_mailbox": "cairo-kam@kam.example",
            "invoice_reminder_days": 3,
        },
        leader={"name": "Layla Nour", "email": "leader@kam.example"},
        acm={"name": "Mona Adel", "email": "mona@kam.example"},
        client={
            "store_name": "Nile Crafts",
            "store_code": "NILE01",
            "renewal_date": TODAY + timedelta(days=20),
            "recurring_amount": Decimal("12000.00"),
            "currency": "EGP",
        },
        contact={"name": "Karim Said", "email": "karim@nile.example", "is_primary": True},
    )
    return portfolio.as_dict(
        other_acm=make_user(Role.ACM, team=make_team(name="Dubai"), email="omar@kam.example"),
        finance=make_user(Role.FINANCE, name="Heba Finance", email="finance@kam.example"),
        commercial=make_user(Role.COMMERCIAL, name="Hany Commercial"),
    )


def opened(db) -> Renewal:
    [renewal] = renewals.open_due_renewals(now=NOW)
    db.session.commit()
    return renewal


def confirmed(world, db, amount="12000.00") -> Renewal:
    renewal = opened(db)
    renewals.notify_client(renewal, actor=world["acm"])
    renewals.confirm_renewal(renewal, actor=world["acm"], agreed_on=renewal.due_on, amount=amount)
    db.session.commit()
    return renewal


def invoiced(world, db, **kwargs):
    renewal = confirmed(world, db)
    invoice = invoices.issue_invoice(
        world["client"],
        actor=world["acm"],
        renewal=renewal,
        due_on=renewal.due_on,
        **kwargs,
    )
    db.session.commit()
    return renewal, invoice


def emails(db) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == Channel.EMAIL.value)
            .order_by(OutboxMessage.id)
        )
    )


def kinds(db, client) -> list[str]:
    return list(
        db.session.scalars(
            select(TimelineEvent.kind)
            .where(TimelineEvent.client_id == client.id)
            .order_by(TimelineEvent.id)
        )
    )
