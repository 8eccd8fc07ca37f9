"""The world of the quotation tests (C4, R8, R9, C6), services and pages: Monday 23 Nov
2026, 09:00 UTC. Sara (ACM, team Riyadh, led by Lina) looks after Souq Gulf (SOUQ01,
3,000 USD a year, due in 20 days, contact Ali); Pam Product; Hany Commercial; Omar, an ACM
of another team. `accepted` opens the 1,000 USD customization of the seed and has product
accept it; `at_invoicing` has it priced, estimated and its concept document approved."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from kamportal.models import CustomizationRequest, CustomizationStage, Renewal, Role
from kamportal.services import customizations, quotations, renewals

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def world(make_portfolio, make_team, make_user, frozen_clock):
    frozen_clock(NOW)
    portfolio = make_portfolio(
        team={"name": "Riyadh"},
        leader={"name": "Lina Leader", "email": "lina@kam.example"},
        acm={"name": "Sara ACM", "email": "sara@kam.example"},
        client={
            "store_name": "Souq Gulf",
            "store_code": "SOUQ01",
            "renewal_date": TODAY + timedelta(days=20),
            "recurring_amount": Decimal("3000.00"),
            "currency": "USD",
        },
        contact={"name": "Ali", "email": "ali@souq.example", "is_primary": True},
    )
    return portfolio.as_dict(
        other_acm=make_user(Role.ACM, team=make_team(name="Other"), email="omar@kam.example"),
        product=make_user(Role.PRODUCT, name="Pam Product", email="pam@kam.example"),
        commercial=make_user(Role.COMMERCIAL, name="Hany Commercial", email="hany@kam.example"),
        finance=make_user(Role.FINANCE, name="Fay Finance", email="fay@kam.example"),
    )


def accepted(world, db) -> CustomizationRequest:
    request = customizations.open_request(
        world["client"],
        actor=world["acm"],
        title="Loyalty points",
        end_result="Points at checkout",
        users="Returning customers",
        done_when="A test order paid with points",
        wanted_by=date(2027, 1, 31),
    )
    customizations.decide(request, actor=world["product"], decision="accepted", reason="")
    db.session.commit()
    return request


def quoted(world, db, **discount) -> CustomizationRequest:
    request = accepted(world, db)
    quotations.estimate_period(request, actor=world["product"], days=20)
    quotations.set_price(request, actor=world["commercial"], amount="1000", **discount)
    db.session.commit()
    return request


def at_invoicing(world, db, **discount) -> CustomizationRequest:
    """Quoted, then (the concept document approved: another part's) to invoice."""
    request = quoted(world, db, **discount)
    request.stage = CustomizationStage.INVOICING.value
    db.session.commit()
    return request


def confirmed_renewal(world, db) -> Renewal:
    [renewal] = renewals.open_due_renewals(now=NOW)
    renewals.notify_client(renewal, actor=world["acm"])
    renewals.confirm_renewal(
        renewal, actor=world["acm"], agreed_on=renewal.due_on, amount="3000.00"
    )
    db.session.commit()
    return renewal
