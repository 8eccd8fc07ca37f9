"""The store-figures API (F4): an integration's token writes its own stores' days, all or
nothing, idempotently; everything else gets a 4xx that says why, never a 500. And the
admin pages that give out and revoke the tokens."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from kamportal.blueprints.api.openapi import description
from kamportal.blueprints.api.routes import MAX_ROWS
from kamportal.models import Integration, Role, StoreDay
from kamportal.models.types import utc
from kamportal.services import integrations, store_figures

NOW = utc(2026, 12, 1, 10, 0)
URL = "/api/v1/store-days"


class World:
    def __init__(self, http, token, other_token, stores, others_store):
        self.http, self.token, self.other_token = http, token, other_token
        self.stores, self.others_store = stores, others_store

    def send(self, body, token=None, **kwargs):
        headers = {"Authorization": f"Bearer {token or self.token}"}
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return self.http.post(
            URL, data=data, headers=headers, content_type="application/json", csrf=False, **kwargs
        )


@pytest.fixture
def world(app, db, make_client, frozen_clock):
    frozen_clock(NOW)
    platform, token = integrations.create_integration("Platform", actor=None)
    other, other_token = integrations.create_integration("Other", actor=None)
    stores = [make_client(store_code=f"CAIRO{n}") for n in (1, 2)]
    others_store = make_client(store_code="ALEX1")
    integrations.assign_stores(platform, actor=None, store_codes=["CAIRO1", "CAIRO2"])
    integrations.assign_stores(other, actor=None, store_codes=["ALEX1"])
    db.session.commit()
    return World(app.test_client(), token, other_token, stores, others_store)


def day(code="CAIRO1", on="2026-11-30", orders=12, gmv="3450.50", **more):
    return {"store_code": code, "day": on, "orders": orders, "gmv": gmv, **more}


def stored(db):
    db.session.expire_all()
    return [
        (s.client.store_code, s.day.isoformat(), s.orders, str(s.gmv), s.updated_at)
        for s in db.session.scalars(select(StoreDay).order_by(StoreDay.client_id, StoreDay.day))
    ]


def test_the_same_call_twice_writes_once_and_the_second_says_unchanged_F4(world, db):
    body = {"days": [day(), day("cairo2", gmv=10, currency="EGP"), day(on="2026-12-01")]}
    first = world.send(body)
    assert first.status_code == 200, first.json
    assert first.json == {"added": 3, "changed": 0, "unchanged": 0}
    assert first.headers.getlist("Set-Cookie") == []
    written = stored(db)
    again = world.send(body)
    assert again.json == {"added": 0, "changed": 0, "unchanged": 3}
    assert stored(db) == written
    changed = world.send({"days": [day(orders=13)]})
    assert changed.json == {"added": 0, "changed": 1, "unchanged": 0}
    source = db.session.scalar(select(StoreDay.source).where(StoreDay.orders == 13))
    assert source == "api"


def test_a_revoked_or_missing_token_is_refused_with_a_challenge_F4(world, db):
    platform = db.session.scalar(select(Integration).where(Integration.name == "Platform"))
    integrations.revoke_integration(platform, actor=None)
    db.session.commit()
    revoked = world.send({"days": [day()]})
    assert revoked.status_code == 401
    assert revoked.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in revoked.headers["WWW-Authenticate"]
    missing = world.http.post(URL, json={"days": [day()]}, csrf=False)
    assert missing.status_code == 401 and "Bearer" in missing.headers["WWW-Authenticate"]
    basic = world.http.post(
        URL, json={"days": [day()]}, headers={"Authorization": f"Basic {world.token}"}, csrf=False
    )
    assert basic.status_code == 401
    assert stored(db) == []


def test_a_signed_in_session_is_no_token_F4(world, login_as):
    admin = login_as(Role.ADMIN)
    assert admin.post(URL, json={"days": [day()]}).status_code == 401


def test_another_integrations_store_is_refused_as_an_unknown_one_and_nothing_is_written_F4(
    world, db
):
    response = world.send({"days": [day(), day("ALEX1"), day("NOWHERE")]})
    assert response.status_code == 422
    errors = response.json["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(2, "store_code"), (3, "store_code")]
    assert errors[0]["message"] == errors[1]["message"].replace("NOWHERE", "ALEX1")
    assert stored(db) == []
    # The other integration writes it.
    assert world.send({"days": [day("ALEX1")]}, token=world.other_token).status_code == 200


def test_each_wrong_field_of_each_row_is_named_F4(world, db):
    response = world.send(
        {
            "days": [
                day(orders=-1, gmv="12.345"),
                day(on="9999-12-31"),
                day(orders=10**30, gmv=1e30),
                day(code="CAIRO\x00", gmv="1\x00"),
                "not a row",
                day(currency="USD"),
                day(on="2026-02-30", orders=True),
            ]
        }
    )
    assert response.status_code == 422
    named = {(e["row"], e["field"]) for e in response.json["errors"]}
    assert named == {
        (1, "orders"),
        (1, "gmv"),
        (2, "day"),
        (3, "orders"),
        (3, "gmv"),
        (4, "store_code"),
        (4, "gmv"),
        (5, "row"),
        (6, "currency"),
        (7, "day"),
        (7, "orders"),
    }
    assert all(e["message"] for e in response.json["errors"])
    assert not any(re.search(r"\bF4\b", e["message"]) for e in response.json["errors"])
    assert stored(db) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{not json", 400),
        (b"\xff\xfe", 400),
        ('{"days": [{"orders": NaN}]}', 400),
        ('{"days": [{"orders": Infinity}]}', 400),
        ("[" * 100_000 + "]" * 100_000, 400),
        ('{"days": [{"orders": 1' + "0" * 5000 + "}]}", 400),
        ("", 400),
        ("[]", 422),
        ('"days"', 422),
        ('{"days": {}}', 422),
        ('{"days": []}', 422),
        ('{"rows": [1]}', 422),
        ('{"days": [1, null, [], true]}', 422),
    ],
)
def test_a_body_of_the_wrong_shape_gets_a_4xx_that_says_why_F4(world, db, body, status):
    response = world.send(body)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.json.get("message") or response.json.get("errors")
    assert stored(db) == []


def test_too_many_rows_or_too_large_a_body_is_refused_F4(world, db):
    many = world.send({"days": [day()] * (MAX_ROWS + 1)})
    assert many.status_code == 422
    assert many.json["errors"][0]["field"] == "days"
    huge = world.send('{"days": ["' + "x" * (3 * 1024 * 1024) + '"]}')
    assert huge.status_code == 413
    assert stored(db) == []


def test_the_most_rows_a_call_takes_are_written_in_a_few_statements_F4(world, db):
    from tests.blueprints.test_query_counts import counting_queries

    rows = [
        day(f"CAIRO{1 + n % 2}", on=f"2026-{1 + n // 56 % 11:02d}-{1 + n % 28:02d}")
        for n in range(600)
    ]
    with counting_queries(db.engine) as statements:
        response = world.send({"days": rows})
    assert response.status_code == 200
    assert sum(response.json.values()) == len({(r["store_code"], r["day"]) for r in rows})
    assert len(statements) < 20


@pytest.mark.config(RATELIMIT_ENABLED=True, STORE_FIGURES_RATE_LIMIT="2 per minute")
def test_each_token_has_its_own_rate_limit_F4(world):
    answers = [world.send({"days": [day()]}).status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    throttled = world.send({"days": [day()]})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert "message" in throttled.json
    assert world.send({"days": [day("ALEX1")]}, token=world.other_token).status_code == 200


def test_the_openapi_description_names_the_rows_fields_F4(world):
    response = world.http.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.headers.getlist("Set-Cookie") == []
    spec = response.json
    assert spec["openapi"].startswith("3.1")
    row = spec["components"]["schemas"]["StoreDay"]
    assert set(row["properties"]) == set(store_figures.FIELDS)
    in_order = description()["components"]["schemas"]["StoreDay"]["properties"]
    assert tuple(in_order) == store_figures.FIELDS
    assert set(row["required"]) <= set(store_figures.FIELDS)
    scheme = spec["components"]["securitySchemes"]["integrationToken"]
    assert scheme == {"type": "http", "scheme": "bearer"}


@pytest.mark.config(RATELIMIT_ENABLED=True, STORE_FIGURES_RATE_LIMIT="12 per minute")
def test_the_openapi_description_documents_exactly_the_answers_the_route_gives_F4(world):
    calls = [
        {"days": [day()]},
        "{",
        {"days": [day("NOPE")]},
        '{"days": ["' + "x" * (3 * 1024 * 1024) + '"]}',
    ]
    seen = {world.send(body).status_code for body in calls}
    seen.add(world.send({"days": [day()]}, token="kam_unknown").status_code)
    seen |= {world.send({"days": [day()]}).status_code for _ in range(12)}
    documented = description()["paths"]["/store-days"]["post"]["responses"]
    assert {str(status) for status in seen} == set(documented)


# --- The admin pages -------------------------------------------------------------------------


def test_an_admin_sees_the_token_once_and_never_again_F4(app, db, login_as, frozen_clock):
    frozen_clock(NOW)
    admin = login_as(Role.ADMIN)
    created = admin.post("/admin/integrations/new", data={"name": "Platform"})
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    token = re.search(r'value="(kam_[^"]+)"', created.get_data(as_text=True)).group(1)
    integration = db.session.scalar(select(Integration))
    assert integrations.authenticate(token) == integration
    for page in ("/admin/integrations", f"/admin/integrations/{integration.id}/stores"):
        shown = admin.get(page).get_data(as_text=True)
        assert token not in shown
    listed = admin.get("/admin/integrations").get_data(as_text=True)
    assert "Platform" in listed and integration.token_prefix in listed and "never" in listed


def test_an_admin_gives_an_integration_stores_then_revokes_it_F4(app, db, login_as, make_client):
    admin = login_as(Role.ADMIN)
    make_client(store_code="CAIRO1")
    make_client(store_code="CAIRO2")
    integration, token = integrations.create_integration("Platform", actor=None)
    db.session.commit()
    url = f"/admin/integrations/{integration.id}"
    refused = admin.post(f"{url}/stores", data={"store_codes": "NOPE", "country": ""})
    assert refused.status_code == 422 and "No store with the code NOPE" in refused.get_data(
        as_text=True
    )
    done = admin.post(f"{url}/stores", data={"store_codes": "cairo1, cairo2", "country": ""})
    assert done.status_code == 303
    page = admin.get(f"{url}/stores").get_data(as_text=True)
    assert "CAIRO1" in page and "2 stores" in page
    confirm = admin.get(f"{url}/revoke")
    assert confirm.status_code == 200 and "Revoke the token" in confirm.get_data(as_text=True)
    assert admin.post(f"{url}/revoke").status_code == 303
    db.session.expire_all()
    assert integrations.authenticate(token) is None
    counted = db.session.scalar(select(func.count(StoreDay.id)))
    assert counted == 0
