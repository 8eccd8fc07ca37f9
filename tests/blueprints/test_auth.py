"""Signing in and out: deactivated users refused, throttling, safe redirects."""

import pytest

from kamportal.models import Role
from tests.conftest import PASSWORD, sign_in


def test_sign_in_lands_on_the_start_page_with_the_users_name(client, make_user):
    user = make_user(Role.ACM, name="Mona Adel")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Hello, Mona Adel" in page


def test_email_is_matched_case_insensitively(client, make_user):
    user = make_user(Role.ACM, email="Mona@Kam.test")
    response = client.post("/login", data={"email": "MONA@kam.TEST", "password": PASSWORD})
    assert response.status_code == 302
    assert user.email == "mona@kam.test"


def test_wrong_password_shows_an_error_and_signs_nobody_in(client, make_user):
    user = make_user(Role.ACM)
    response = client.post("/login", data={"email": user.email, "password": "wrong password"})
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_deactivated_user_cannot_sign_in(client, make_user, db):
    user = make_user(Role.ACM)
    user.active = False
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_deactivating_a_user_ends_their_open_session(client, make_user, db):
    user = make_user(Role.ACM)
    sign_in(client, user)
    assert client.get("/").status_code == 200
    user.active = False
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_sign_out_needs_a_post_and_ends_the_session(client, make_user):
    sign_in(client, make_user(Role.ACM))
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_next_parameter_returns_to_the_page_asked_for_but_never_off_site(client, make_user):
    user = make_user(Role.ACM)
    response = client.post(
        "/login?next=/clients/", data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/clients/"
    client.post("/logout")
    response = client.post(
        "/login?next=//evil.example/x", data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


@pytest.mark.config(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="10 per minute")
def test_login_is_throttled_after_repeated_failures(client, make_user):
    user = make_user(Role.ACM)
    statuses = [
        client.post("/login", data={"email": user.email, "password": "nope"}).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    blocked = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused(client, make_user):
    user = make_user(Role.ACM)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_an_htmx_post_with_a_stale_token_asks_the_page_to_reload(client, make_user):
    response = client.post(
        "/logout", headers={"HX-Request": "true", "X-CSRFToken": "stale"}, csrf=False
    )
    assert response.status_code == 400
    assert response.headers["HX-Refresh"] == "true"


@pytest.mark.config(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute", TRUSTED_PROXIES=1)
def test_behind_the_proxy_throttling_counts_each_users_address(client, make_user):
    user = make_user(Role.ACM)

    def attempt(address: str) -> int:
        return client.post(
            "/login",
            data={"email": user.email, "password": "nope"},
            headers={"X-Forwarded-For": address},
        ).status_code

    assert [attempt("10.0.0.1") for _ in range(4)] == [401, 401, 401, 429]
    assert attempt("10.0.0.2") == 401  # another user behind the same proxy is not blocked
