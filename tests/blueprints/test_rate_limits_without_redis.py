"""With the rate limiter's Redis gone, signing in and the client's KYC page answer as
usual: the limiter counts in memory, keeps its limits and says so in the log, never a 500.

Each test has a redis-server of its own for the limiter's counters and stops it midway."""

import logging

import pytest
import redis

from kamportal.extensions import limiter
from kamportal.models import Role
from kamportal.services import kyc
from tests.conftest import PASSWORD

FALLBACK_LOGGED = "falling back to in-memory storage"


@pytest.fixture
def app_settings(redis_server) -> dict:
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": redis_server.url}


@pytest.fixture(autouse=True)
def limiter_storage_alive():
    # The limiter is one object for the whole process: a storage this test found dead must
    # not leave the next test's app counting in memory from its first request.
    limiter._storage_dead = False
    yield
    limiter._storage_dead = False


def counters(redis_server) -> list[bytes]:
    with redis.Redis.from_url(redis_server.url) as connection:
        return connection.keys("LIMITS*")


def attempt(client, email: str, password: str) -> int:
    return client.post("/login", data={"email": email, "password": password}).status_code


def test_sign_in_works_with_redis_down_and_the_fallback_is_logged(
    redis_server, client, make_user, caplog
):
    user = make_user(Role.ACM)
    assert attempt(client, user.email, "wrong password") == 401
    assert counters(redis_server)  # the failure was counted in this Redis

    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        assert attempt(client, user.email, "wrong password") == 401
        assert attempt(client, user.email, PASSWORD) == 302
    assert client.get("/").status_code == 200
    assert FALLBACK_LOGGED in caplog.text


@pytest.mark.config(LOGIN_FAILURES_PER_ACCOUNT="2 per minute")
def test_with_redis_down_failed_sign_ins_are_still_throttled_in_memory(
    redis_server, client, make_user
):
    user = make_user(Role.ACM)
    redis_server.stop()
    assert [attempt(client, user.email, "wrong password") for _ in range(3)] == [401, 401, 429]
    throttled = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert throttled.status_code == 429
    assert "Too many failed sign-ins" in throttled.get_data(as_text=True)


def test_the_kyc_page_opens_with_redis_down(
    redis_server, client, make_user, make_client, make_contact, db, caplog
):
    """O1: the client's questionnaire opens whatever happens to the limiter's Redis."""
    acm = make_user(Role.ACM)
    store = make_client(acm=acm, store_name="Nile Crafts")
    make_contact(store, email="karim@nile.example", is_primary=True)
    kyc.send_link(store, actor=acm, base_url="http://localhost")
    db.session.commit()
    link = f"/kyc/{kyc.token_for(kyc.questionnaire_of(store))}"
    assert client.get(link).status_code == 200
    assert counters(redis_server)

    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        response = client.get(link)
    assert response.status_code == 200
    assert "Nile Crafts" in response.get_data(as_text=True)
    assert FALLBACK_LOGGED in caplog.text
