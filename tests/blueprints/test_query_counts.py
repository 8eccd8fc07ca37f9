"""Pages stay fast by design: the client list and the client page issue the same number
of queries for 10 clients as for 200 (no N+1), whatever their contacts, timelines and
store figures; so do the work lists (renewals, unpaid invoices, the escalation and
complaint queues) for one team's few clients as for several teams' many."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, event

from kamportal import clock
from kamportal.blueprints.client_tabs import TABS
from kamportal.jobs import snapshots as snapshot_jobs
from kamportal.models import (
    CalendarDay,
    Client,
    ClientHealth,
    Complaint,
    Contact,
    DeliveryStatus,
    Escalation,
    FiguresSnapshot,
    Invoice,
    Minutes,
    NotSellingAlert,
    OutboxMessage,
    Renewal,
    Role,
    StoreDay,
    Suggestion,
    TimelineEvent,
    TimelineKind,
    User,
)
from kamportal.services import suggestions


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
    # The first client's suggested apps and actions (F5): as many as clients, up to the
    # catalogue's, every other one declined.
    suggestions.stock_catalogue(actor=None)
    db.session.add_all(
        Suggestion(
            client_id=first.id,
            recommendation=entry,
            suggested_at=now,
            suggested_by=acm,
            channel="call",
            answer="thinking",
            answered_at=now,
            answered_by=acm,
            outcome="declined" if n % 2 else "open",
            outcome_at=now if n % 2 else None,
            outcome_by=acm if n % 2 else None,
            decline_reason="Not now." if n % 2 else None,
        )
        for n, entry in enumerate(suggestions.offered()[: min(size, 25)])
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
        pages = {
            "list": "/clients/",
            "search": "/clients/?q=store&sort=last_contact&direction=desc",
            "segmented (P2)": "/clients/?health=amber&gmv=2&industry=Food&sort=health",
            "client page": f"/clients/{client.id}",
            "timeline": f"/clients/{client.id}/timeline?page=2",
        }
        # Each tab of the client page (issue 16), whole and opened in place.
        for tab in TABS:
            pages[f"tab {tab}"] = f"/clients/{client.id}?tab={tab}"
            pages[f"tab {tab} (in place)"] = f"/clients/{client.id}/tabs/{tab}"
        for name, url in pages.items():
            in_place = name == "timeline" or name.endswith("(in place)")
            headers = {"HX-Request": "true"} if in_place else {}
            with counting_queries(db.engine) as statements:
                assert http.get(url, headers=headers).status_code == 200
            counts[name] = len(statements)
        return counts

    return measure


def test_client_list_and_page_query_counts_do_not_grow_with_the_portfolio(queries_for):
    small = queries_for(10)
    large = queries_for(200)
    assert small == large
    # The client page queries only its open tab's panels (issue 16), one or two each, and
    # the header's badge of unread notifications (one, on every page). Opened in place, a
    # tab is the same less the signed-in user's page chrome.
    assert large["client page"] == large["tab overview"], large
    ceilings = {
        "overview": 13,  # contacts, timeline, health, profile
        "meetings": 10,  # meetings, minutes, the F2 ladder, WhatsApp requests
        "escalations": 10,  # escalation, support tickets, not selling
        "renewals": 10,  # renewal, invoices, payments, monthly reports
        "onboarding": 9,
        "growth": 12,  # store figures, suggestions, opportunities, customizations, plan
    }
    for tab, ceiling in ceilings.items():
        assert large[f"tab {tab}"] <= ceiling, large
        assert large[f"tab {tab} (in place)"] <= ceiling, large
    assert max(large.values()) <= 13, large


def team_portfolio(db, make_team, make_user, *, acms: int, clients: int) -> tuple:
    """A team led by a leader, `acms` ACMs with `clients` clients each, every client with
    something late (F1 never contacted, F4 not selling, G5 minutes owed for days, R4 an
    invoice past due) and a week of health, contacts and orders (the trends)."""
    now = clock.now()
    team = make_team()
    leader = make_user(Role.LEADER, team=team)
    team.leader = leader
    for a in range(acms):
        acm = make_user(Role.ACM, team=team)
        for n in range(clients):
            client = Client(
                store_name=f"Store {team.id}-{a}-{n}",
                store_code=f"TQ{team.id}-{a}-{n}",
                plan="enterprise",
                country="EG",
                timezone="Africa/Cairo" if n % 2 else "Asia/Dubai",
                status="live",
                currency="EGP",
                recurring_amount=Decimal("1000"),
                acm=acm,
                created_at=now,
                updated_at=now,
                health_score=(n * 17) % 100,
            )
            db.session.add(client)
            db.session.flush()
            db.session.add_all(
                [
                    NotSellingAlert(
                        client_id=client.id, raised_at=now, cause="no_orders", detail="x"
                    ),
                    Minutes(
                        client_id=client.id, owner_id=acm.id, owed_since=now - timedelta(days=3)
                    ),
                    Invoice(
                        client_id=client.id,
                        currency="EGP",
                        total=Decimal("100"),
                        issued_on=clock.today("UTC") - timedelta(days=40),
                        due_on=clock.today("UTC") - timedelta(days=10),
                        issued_at=now - timedelta(days=40),
                    ),
                    ClientHealth(
                        client_id=client.id, day=clock.today("UTC"), score=30, computed_at=now
                    ),
                    StoreDay(
                        client_id=client.id,
                        day=clock.today("UTC") - timedelta(days=1),
                        orders=3,
                        gmv=Decimal(30),
                        currency="EGP",
                        source="demo",
                        updated_at=now,
                    ),
                    TimelineEvent(
                        client_id=client.id,
                        kind=TimelineKind.EMAIL_SENT.value,
                        actor=acm,
                        at=now - timedelta(days=2),
                        summary="Email",
                        detail={},
                    ),
                ]
            )
    db.session.commit()
    return team, leader


@pytest.fixture
def team_queries_for(app, db, make_team, make_user, login_as):
    def measure(*, teams: int, acms: int, clients: int) -> dict[str, int]:
        built = [
            team_portfolio(db, make_team, make_user, acms=acms, clients=clients)
            for _ in range(teams)
        ]
        team, leader = built[0]
        acm_id = max(user.id for user in team.members if user is not leader)
        counts = {}
        for name, (who, url) in {
            "leader's team": (leader, "/team/"),
            "drill-down": (leader, f"/team/late/R4?acm={acm_id}"),
            "admin's teams": (Role.ADMIN, "/team/"),
            "admin's drill-down": (Role.ADMIN, "/team/late/F4"),
            # Issue 17: every team's figures and the team's trends as the sweep last
            # summed them.
            "admin's teams, swept": (Role.ADMIN, "/team/"),
            "leader's team, swept": (leader, "/team/"),
        }.items():
            if name.endswith("swept"):
                snapshot_jobs.refresh_platform_figures()
            http = login_as(who)
            with counting_queries(db.engine) as statements:
                response = http.get(url)
            assert response.status_code == 200, name
            assert name.endswith("swept") == (b"Figures as of" in response.data), name
            counts[name] = len(statements)
        db.session.execute(delete(FiguresSnapshot))
        db.session.commit()
        return counts

    return measure


def test_the_leaders_view_query_counts_do_not_grow_with_the_teams(team_queries_for):
    """Issue 14: the leader's page, the admin's every-team page and a drill-down issue as
    many queries for one small team as for several large ones."""
    small = team_queries_for(teams=1, acms=1, clients=2)
    large = team_queries_for(teams=3, acms=4, clients=12)
    assert small == large
    assert max(large.values()) <= 15, large


# Each team of the work lists in its own country: the escalation queue counts ages on
# every team's calendar, with the admin's days of each country.
WORK_COUNTRIES = ("EG", "SA", "AE")


def work_lists(db, make_team, make_user, *, teams: int, clients: int) -> tuple:
    """`teams` teams, each with a leader and an ACM of `clients` clients, every client with
    an open renewal (R1), an unpaid invoice (R4), an open escalation (E2, every third
    waiting for the leader) and a complaint being handled (E3), their dates spread so the
    lists' order shows: some overdue, some due later. Returns the first team's leader and
    ACM."""
    now = clock.now()
    today = clock.today("UTC")
    first = None
    for t in range(teams):
        country = WORK_COUNTRIES[t % len(WORK_COUNTRIES)]
        team = make_team(country=country)
        leader = make_user(Role.LEADER, team=team)
        team.leader = leader
        acm = make_user(Role.ACM, team=team)
        first = first or (leader, acm)
        db.session.add(
            CalendarDay(
                country=country,
                day=today - timedelta(days=team.id),
                is_holiday=True,
                name="Closed",
                created_at=now,
            )
        )
        for n in range(clients):
            client = Client(
                store_name=f"Work {team.id}-{n:03d}",
                store_code=f"WL{team.id}-{n:03d}",
                plan="enterprise",
                country=country,
                timezone="Africa/Cairo",
                status="live",
                currency="EGP",
                recurring_amount=Decimal("1000"),
                acm=acm,
                created_at=now,
                updated_at=now,
            )
            db.session.add(client)
            db.session.flush()
            # (n * 7) % 41: the dates are not in the order the rows are made.
            spread = (n * 7) % 41 - 20
            db.session.add_all(
                [
                    Renewal(
                        client_id=client.id,
                        due_on=today + timedelta(days=spread),
                        amount=Decimal("1000"),
                        currency="EGP",
                        stage="due",
                        opened_at=now,
                    ),
                    Invoice(
                        client_id=client.id,
                        currency="EGP",
                        total=Decimal("100"),
                        issued_on=today - timedelta(days=40),
                        due_on=today + timedelta(days=spread),
                        issued_at=now - timedelta(days=40),
                    ),
                    Escalation(
                        client_id=client.id,
                        raised_at=now - timedelta(hours=spread + 30),
                        trigger="asked_for_manager",
                        said="Call me back.",
                        channel="call",
                        step_started_at=now - timedelta(hours=spread + 30),
                        step_due_at=now + timedelta(hours=spread % 5),
                        current_step="email",
                        waiting_for_leader=n % 3 == 0,
                    ),
                    Complaint(
                        client_id=client.id,
                        kind="complaint",
                        said="Slow pages.",
                        channel="call",
                        raised_by_id=acm.id,
                        raised_at=now - timedelta(hours=spread + 30),
                    ),
                ]
            )
    db.session.commit()
    return first


WORK_PAGES = {
    "renewals": ("/renewals/", None),
    "renewals page 2": ("/renewals/?page=2&invoices_page=2", None),
    "renewals, swapped": ("/renewals/?page=2", "open-renewals"),
    "invoices, swapped": ("/renewals/?invoices_page=2", "unpaid-invoices"),
    "escalations": ("/escalations/", None),
    "escalations page 2": ("/escalations/?page=2", None),
    "escalations, swapped": ("/escalations/?page=2", "escalation-queue"),
    "resolved escalations": ("/escalations/?show=resolved", None),
    "complaints": ("/complaints/", None),
    "complaints page 2": ("/complaints/?page=2", None),
    "complaints, swapped": ("/complaints/?page=2", "complaint-queue"),
}


@pytest.fixture
def work_queries_for(app, db, make_team, make_user, login_as):
    def measure(*, teams: int, clients: int) -> dict[str, int]:
        leader, acm = work_lists(db, make_team, make_user, teams=teams, clients=clients)
        counts = {}
        for who, user in {"admin": Role.ADMIN, "leader": leader, "ACM": acm}.items():
            http = login_as(user)
            for name, (url, target) in WORK_PAGES.items():
                headers = {"HX-Request": "true", "HX-Target": target} if target else {}
                with counting_queries(db.engine) as statements:
                    assert http.get(url, headers=headers).status_code == 200
                counts[f"{who}'s {name}"] = len(statements)
        return counts

    return measure


def test_the_work_lists_query_counts_do_not_grow_with_the_portfolio(work_queries_for):
    """Issue 17: the renewals list and unpaid invoices, the escalation queue (each team's
    calendar loaded once, with the admin's days of every country in one query) and the
    complaint queue issue as many queries, on their first page and the next, whole or
    swapped, for one team of 30 clients as for three teams of 60, for the admin, a leader
    and an ACM."""
    small = work_queries_for(teams=1, clients=30)
    large = work_queries_for(teams=3, clients=60)
    assert small == large
    # Each list: its count and its rows (the invoices' payments, the escalations' admin
    # days besides); then the signed-in user (and the teams a leader leads) and the
    # header's unread notifications.
    assert max(large.values()) <= 11, large
    for name in ("renewals", "escalations", "complaints"):
        assert large[f"admin's {name}"] <= 9, large
    for name in ("renewals", "invoices", "escalations", "complaints"):
        assert large[f"admin's {name}, swapped"] <= 6, large


def list_portfolio(db, make_team, make_user, *, acms: int, clients: int) -> User:
    """A team of `acms` ACMs with `clients` clients each, two contacts each, some never
    contacted; returns its leader."""
    now = clock.now()
    team = make_team()
    leader = make_user(Role.LEADER, team=team)
    team.leader = leader
    for a in range(acms):
        acm = make_user(Role.ACM, team=team)
        for n in range(clients):
            client = Client(
                store_name=f"Store {team.id}-{a}-{n}",
                store_code=f"LQ{team.id}-{a}-{n}",
                plan="enterprise",
                country="EG",
                timezone="Africa/Cairo",
                status="live",
                currency="EGP",
                acm=acm,
                created_at=now,
                updated_at=now,
                last_contact_at=None if n % 3 == 0 else now - timedelta(days=n),
            )
            db.session.add(client)
            for c in range(2):
                db.session.add(Contact(client=client, name=f"C{c}", email=f"c{c}@s{n}.example"))
    db.session.commit()
    return leader


def test_the_client_list_and_its_search_query_counts_do_not_grow_for_leader_and_admin(
    app, db, make_team, make_user, login_as
):
    """Issue 17: the leader's and the admin's client list, its search (by store, by a
    contact's email), its last-contact order and the ACM filter's type-ahead issue as many
    statements for a few clients as for many."""

    def measure(*, acms: int, clients: int) -> dict[str, int]:
        leader = list_portfolio(db, make_team, make_user, acms=acms, clients=clients)
        counts = {}
        for who in (leader, Role.ADMIN):
            http = login_as(who)
            for name, url in {
                "list": "/clients/",
                "search": "/clients/?q=store",
                "search (live)": "/clients/?q=store",
                "search by email": "/clients/?q=%40s1.example",
                "last contact": "/clients/?sort=last_contact&direction=desc",
                "type-ahead": "/clients/acms?acm=user",
            }.items():
                live = name.endswith("(live)") or name == "type-ahead"
                with counting_queries(db.engine) as statements:
                    response = http.get(url, headers={"HX-Request": "true"} if live else {})
                    assert response.status_code == 200
                counts[f"{name} as {'leader' if who is leader else 'admin'}"] = len(statements)
        return counts

    small = measure(acms=1, clients=3)
    large = measure(acms=5, clients=12)
    assert small == large
    assert max(large.values()) <= 15, large


def test_a_page_reads_roles_only_with_the_sign_in_and_where_it_shows_them(
    app, db, make_team, make_user, make_client, login_as
):
    """Issue 17: the signed-in user's roles come in the statement that reads their sign-in;
    the users a page only names (the team's ACMs, whoever reported a payment) have their
    roles left unread, and the admin's list of users, which shows them, reads them in one
    statement however many users it lists."""
    team = make_team()
    leader = make_user(Role.LEADER, team=team)
    team.leader = leader
    for _ in range(3):
        make_client(make_user(Role.ACM, team=team))
    db.session.commit()

    def role_reads(who, url: str) -> int:
        http = login_as(who)
        with counting_queries(db.engine) as statements:
            assert http.get(url).status_code == 200
        return sum(1 for s in statements if s.lstrip().startswith("SELECT user_roles."))

    assert role_reads(leader, "/team/") == 0
    assert role_reads(leader, "/day/") == 0
    assert role_reads(Role.FINANCE, "/finance/") == 0
    few = role_reads(Role.ADMIN, "/admin/users")
    for _ in range(5):
        make_user(Role.ACM, team=team)
    assert role_reads(Role.ADMIN, "/admin/users") == few == 1
