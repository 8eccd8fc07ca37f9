"""Integrations (F4), without HTTP: a token shown once and kept only hashed, refused once
revoked, and each store written by one integration at most."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from kamportal import clock
from kamportal.errors import ValidationError
from kamportal.models import AuditEvent, Integration, Role
from kamportal.services import integrations


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN)


def test_the_token_is_given_once_and_the_database_keeps_only_its_hash_F4(db, admin):
    integration, token = integrations.create_integration("Platform EG", actor=admin)
    db.session.commit()
    assert token.startswith("kam_") and len(token) > 40
    assert integration.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert integration.token_prefix == token[:12]
    stored = db.session.execute(text("SELECT * FROM integrations")).one()
    assert all(token not in str(value) for value in stored)
    audits = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("integration%")))
    assert [a.action for a in audits] == ["integration.create"]


def test_two_integrations_never_share_a_token_or_a_name_F4(db, admin):
    _, first = integrations.create_integration("Platform", actor=admin)
    _, second = integrations.create_integration("Platform KSA", actor=admin)
    assert first != second
    with pytest.raises(ValidationError) as refused:
        integrations.create_integration(" platform ", actor=admin)
    assert refused.value.field == "name"


@pytest.mark.parametrize("name", ["", "   ", "a\x00b", "x" * 101])
def test_a_blank_hidden_or_long_name_is_refused_F4(db, admin, name):
    with pytest.raises(ValidationError):
        integrations.create_integration(name, actor=admin)


def test_the_token_opens_its_integration_until_it_is_revoked_F4(db, admin):
    integration, token = integrations.create_integration("Platform", actor=admin)
    db.session.commit()
    assert integrations.authenticate(token) == integration
    for wrong in (None, "", token[:-1], token + "x", "Bearer " + token, "kam_" + "x" * 200):
        assert integrations.authenticate(wrong) is None
    integrations.revoke_integration(integration, actor=admin)
    db.session.commit()
    assert integrations.authenticate(token) is None
    assert integration.revoked_at is not None
    integrations.revoke_integration(integration, actor=admin)  # twice: no change, no error
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "integration")
    )
    assert list(actions) == ["integration.create", "integration.revoke"]


def test_last_used_is_written_at_most_once_a_minute_F4(db, admin, frozen_clock):
    integration, token = integrations.create_integration("Platform", actor=admin)
    first = clock.now()
    integrations.authenticate(token)
    assert integration.last_used_at == first
    clock.advance(timedelta(seconds=30))
    integrations.authenticate(token)
    assert integration.last_used_at == first
    clock.advance(timedelta(seconds=31))
    integrations.authenticate(token)
    assert integration.last_used_at == clock.now()


def test_stores_are_assigned_by_country_and_by_code_F4(db, admin, make_client):
    egypt = [make_client(country="EG") for _ in range(2)]
    saudi = make_client(country="SA", currency="SAR", timezone="Asia/Riyadh")
    other = make_client(country="AE", currency="AED", timezone="Asia/Dubai")
    integration, _ = integrations.create_integration("Platform", actor=admin)
    chosen = integrations.assign_stores(
        integration, actor=admin, country="eg", store_codes=f"{saudi.store_code.lower()},\n"
    )
    db.session.commit()
    assert {c.id for c in chosen} == {*(c.id for c in egypt), saudi.id}
    assert other.integration_id is None
    [row] = integrations.list_integrations()
    assert row.stores == 3
    audit = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "integration.assign_stores")
    )
    assert sorted(audit.after["store_codes"]) == sorted(c.store_code for c in chosen)


def test_a_store_of_another_active_integration_is_refused_a_revoked_ones_taken_over_F4(
    db, admin, make_client
):
    store = make_client()
    first, _ = integrations.create_integration("First", actor=admin)
    second, _ = integrations.create_integration("Second", actor=admin)
    integrations.assign_stores(first, actor=admin, store_codes=store.store_code)
    with pytest.raises(ValidationError, match="another integration"):
        integrations.assign_stores(second, actor=admin, store_codes=[store.store_code])
    assert store.integration_id == first.id
    integrations.revoke_integration(first, actor=admin)
    integrations.assign_stores(second, actor=admin, store_codes=[store.store_code])
    assert store.integration_id == second.id
    with pytest.raises(ValidationError, match="revoked"):
        integrations.assign_stores(first, actor=admin, store_codes=[store.store_code])


@pytest.mark.parametrize(
    ("choice", "field"),
    [
        ({}, "store_codes"),
        ({"store_codes": "NOPE-1"}, "store_codes"),
        ({"store_codes": "a b\x00"}, "store_codes"),
        ({"store_codes": "<script>"}, "store_codes"),
        ({"country": "XX"}, "country"),
        ({"country": "FR"}, "country"),  # no store there
    ],
)
def test_a_choice_of_nothing_or_of_unknown_stores_is_refused_F4(
    db, admin, make_client, choice, field
):
    make_client()
    integration, _ = integrations.create_integration("Platform", actor=admin)
    with pytest.raises(ValidationError) as refused:
        integrations.assign_stores(integration, actor=admin, **choice)
    assert refused.value.field == field


def test_the_list_counts_stores_in_one_query_F4(db, admin, make_client):
    from tests.blueprints.test_query_counts import counting_queries

    for n in range(3):
        integration, _ = integrations.create_integration(f"P{n}", actor=admin)
        integrations.assign_stores(integration, actor=admin, store_codes=make_client().store_code)
    db.session.commit()
    db.session.expunge_all()
    with counting_queries(db.engine) as statements:
        rows = integrations.list_integrations()
    assert len(statements) == 1 and [r.stores for r in rows] == [1, 1, 1]
    assert isinstance(rows[0].integration, Integration)
