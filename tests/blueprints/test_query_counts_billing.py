"""Issue 17: finance's and the admin's pages over every client issue as many statements for
a small portfolio as for one several times larger: the renewal forecast (summed in the
database), finance's queue, the admin's day and a client's renewals tab, for finance, an
admin, a leader and an ACM."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete

from kamportal.jobs import snapshots as snapshot_jobs
from kamportal.models import Client, Contact, FiguresSnapshot, Role
from kamportal.services import invoices, payments, renewals
from tests.blueprints.test_query_counts import counting_queries
from tests.services.renewal_world import NOW, TODAY


def billing_portfolio(db, make_team, make_user, *, teams: int, clients: int) -> dict:
    """`teams` teams of one ACM with `clients` clients each, renewing over the next 90 days
    in two currencies; R1 opens those due within 30 days and the ACMs take them on: every
    other one confirmed and invoiced, every other invoice with a wire reported (R7), every
    third with a payment issue (R5)."""
    people: dict = {}
    for t in range(teams):
        team = make_team()
        leader = make_user(Role.LEADER, team=team)
        team.leader = leader
        acm = make_user(Role.ACM, team=team)
        people.setdefault("leader", leader)
        people.setdefault("acm", acm)
        for n in range(clients):
            client = Client(
                store_name=f"Billing {t}-{n}",
                store_code=f"BQ{teams}-{t}-{n}",
                plan="enterprise",
                country="EG",
                timezone="Africa/Cairo",
                language="en",
                status="live",
                currency="EGP" if n % 2 else "USD",
                recurring_amount=Decimal("1000"),
                renewal_date=TODAY + timedelta(days=1 + (n * 7) % 89),
                acm=acm,
                created_at=NOW,
                updated_at=NOW,
            )
            db.session.add(client)
            db.session.add(
                Contact(client=client, name="Pay", email=f"pay{t}-{n}@s.example", is_primary=True)
            )
    db.session.commit()
    opened = renewals.open_due_renewals(now=NOW)
    for i, renewal in enumerate(opened):
        if i % 2:
            continue
        acm = renewal.client.acm
        renewals.notify_client(renewal, actor=acm)
        renewals.confirm_renewal(renewal, actor=acm, agreed_on=renewal.due_on, amount="1000")
        invoice = invoices.issue_invoice(
            renewal.client, actor=acm, renewal=renewal, due_on=renewal.due_on
        )
        if i % 4 == 0:
            payments.report_wire_transfer(invoice, actor=acm, amount="1000", reference=f"W{i}")
        if i % 3 == 0:
            payments.raise_payment_issue(invoice, actor=acm, note="Pays in two parts.")
    db.session.commit()
    assert opened, "no renewal opened: the portfolio is not what the pages need"
    people["client_id"] = opened[0].client_id
    return people


@pytest.fixture
def billing_queries_for(app, db, make_team, make_user, login_as, frozen_clock):
    frozen_clock(NOW)

    def measure(*, teams: int, clients: int) -> dict[str, int]:
        people = billing_portfolio(db, make_team, make_user, teams=teams, clients=clients)
        finance = make_user(Role.FINANCE)
        admin = make_user(Role.ADMIN)
        renewals_tab = f"/clients/{people['client_id']}/tabs/renewals"
        counts = {}
        for name, (who, url) in {
            "finance's forecast": (finance, "/renewals/forecast"),
            "admin's forecast": (admin, "/renewals/forecast"),
            "leader's forecast": (people["leader"], "/renewals/forecast"),
            "ACM's forecast": (people["acm"], "/renewals/forecast"),
            "finance's queue": (finance, "/finance/"),
            "admin's day": (admin, "/day/"),
            "admin's renewals tab": (admin, renewals_tab),
            # Issue 17: the forecast over every client as the sweep last summed it.
            "finance's forecast, swept": (finance, "/renewals/forecast"),
        }.items():
            if name.endswith("swept"):
                snapshot_jobs.refresh_platform_figures()
            http = login_as(who)
            headers = {"HX-Request": "true"} if "/tabs/" in url else {}
            with counting_queries(db.engine) as statements:
                response = http.get(url, headers=headers)
            assert response.status_code == 200, name
            assert name.endswith("swept") == (b"Figures as of" in response.data), name
            counts[name] = len(statements)
        db.session.execute(delete(FiguresSnapshot))
        db.session.commit()
        return counts

    return measure


def test_finance_and_admin_pages_do_not_grow_in_statements_with_the_portfolio(
    billing_queries_for,
):
    small = billing_queries_for(teams=1, clients=4)
    large = billing_queries_for(teams=3, clients=24)
    assert small == large
    # The forecast is one statement whoever reads it (issue 17): its page of teams, the
    # totals per currency over every team and the number of teams; the rest is the
    # signed-in user and the page's header.
    assert max(v for k, v in large.items() if "forecast" in k) <= 5, large
    assert large["finance's queue"] <= 11, large
