"""The bench's portfolio generator (issue 17): a tiny portfolio, written by COPY on
PostgreSQL, that every role can work with, its tables in the real size's proportions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from bench.portfolio import check_pages, generate
from kamportal.config import DEMO_PASSWORD
from kamportal.models import Client, LifecycleStatus, Role, User, UserRole
from kamportal.services import contact_log
from kamportal.services.launch_checklists import CHECKLISTS
from tests.conftest import DATABASE_URL, sign_in

pytestmark = pytest.mark.skipif(
    not (DATABASE_URL or "").startswith("postgres"),
    reason="the generator writes with PostgreSQL's COPY",
)

CLIENTS = 60


def _signed_in(app, user: User):
    http = app.test_client()
    sign_in(http, user, DEMO_PASSWORD)
    return http


def test_a_tiny_portfolio_answers_every_roles_main_pages(app, db):
    counts = generate(db.engine, clients=CLIENTS, seed=7, out=lambda _line: None)

    answers = check_pages(app, _signed_in)
    assert {role for role, _, _ in answers} == {"acm", "leader", "admin", "finance"}
    assert [a for a in answers if a[2] != 200] == []

    # The real size's proportions: about 42 timeline events and 6 meetings a client, every
    # new store with its whole launch checklist, ids and sequences in step.
    assert counts["clients"] == CLIENTS
    assert 30 * CLIENTS <= counts["timeline_events"] <= 55 * CLIENTS
    assert 4 * CLIENTS <= counts["meetings"] <= 8 * CLIENTS
    assert counts["minutes"] <= counts["meetings"]
    assert CLIENTS <= counts["contacts"] <= 3 * CLIENTS
    in_launch = db.session.scalar(
        select(func.count()).where(
            Client.status.in_([LifecycleStatus.ONBOARDING.value, LifecycleStatus.LAUNCHING.value])
        )
    )
    items = sum(len(definition.items) for definition in CHECKLISTS.values())
    assert counts["checklist_items"] == in_launch * items
    leaders = db.session.scalar(
        select(func.count()).where(User.role_rows.any(UserRole.role == Role.LEADER.value))
    )
    assert leaders == counts["teams"] == 1
    assert db.session.scalar(select(func.max(Client.id))) == CLIENTS
    next_client_id = text("SELECT pg_sequence_last_value(pg_get_serial_sequence('clients', 'id'))")
    assert db.session.scalar(next_client_id) == CLIENTS
    # G6's open requests, written past the ORM, rebuilt from the timeline.
    truth = select(func.count()).where(contact_log._unanswered_on_the_timeline())
    assert counts["open_whatsapp_requests"] == db.session.scalar(truth)
