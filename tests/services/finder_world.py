"""The world of the search tests (issue 16), shared by the service and page tests: team
Cairo's ACM looks after Nile Crafts (NILE01; contact Mona Salem, mona@nilecrafts.example,
+201001234567), team Dubai's after Nile Pearl (PEARL1; contact Mona Khaled, +971501234567);
each client has an invoice (INV-...), a support ticket (SUP-1, SUP-2) and a customization
request (SAL-1 awaiting product, SAL-2 accepted); Nile Crafts has a store manager. `users`
holds one user of every kind, by the names of tests/blueprints/test_access.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from kamportal.models import Client, Role, User
from kamportal.services import customizations, invoices, support_tickets
from kamportal.services.invoices import Fee


@dataclass
class World:
    users: dict[str, User]
    cairo: Client
    dubai: Client


def request_for(client: Client, acm: User, title: str):
    return customizations.open_request(
        client,
        actor=acm,
        title=title,
        end_result="x",
        users="x",
        done_when="x",
        wanted_by=date.today() + timedelta(days=30),
    )


@pytest.fixture
def world(db, make_portfolio, make_user) -> World:
    cairo = make_portfolio(
        team={"name": "Cairo"},
        client={"store_name": "Nile Crafts", "store_code": "NILE01"},
        contact={
            "name": "Mona Salem",
            "email": "mona@nilecrafts.example",
            "phone": "+201001234567",
        },
    )
    dubai = make_portfolio(
        team={"name": "Dubai", "country": "AE", "timezone": "Asia/Dubai"},
        client={"store_name": "Nile Pearl", "store_code": "PEARL1", "country": "AE"},
        contact={"name": "Mona Khaled", "email": "mona@pearl.example", "phone": "+971501234567"},
    )
    for world in (cairo, dubai):
        invoices.issue_invoice(
            world.client,
            actor=world.acm,
            due_on=date.today() + timedelta(days=10),
            fees=[Fee("Setup", "100")],
            currency="EGP",
        )
        support_tickets.open_ticket(
            world.client,
            actor=world.acm,
            summary="Checkout fails",
            description="x",
            priority="High",
        )
    request_for(cairo.client, cairo.acm, "Loyalty points")
    accepted = request_for(dubai.client, dubai.acm, "Gift wrapping")
    accepted.status = "accepted"
    store_manager = make_user(Role.STORE_MANAGER)
    cairo.client.has_store_manager = True
    cairo.client.store_manager = store_manager
    db.session.commit()
    users = {
        "acm": cairo.acm,
        "leader": cairo.leader,
        "other_acm": dubai.acm,
        "other_leader": dubai.leader,
        "finance": make_user(Role.FINANCE),
        "product": make_user(Role.PRODUCT),
        "commercial": make_user(Role.COMMERCIAL),
        "store_manager": store_manager,
        "admin": make_user(Role.ADMIN),
    }
    return World(users, cairo.client, dubai.client)
