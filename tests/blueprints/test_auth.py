"""Signing in and out: deactivated users refused, sign-ins that end on the server,
throttling of failed sign-ins, safe redirects."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.models import Role, UserSession
from kamportal.services import accounts
from tests.conftest import PASSWORD, sign_in

SESSION_COOKIE = "kam_session"
REMEMBER_COOKIE = "kam_remember"


def test_sign_in_lands_on_the_start_page_with_the_users_name(client, make_user):
    user = make_user(Role.ACM, name="Mona Adel")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Hello, Mona Adel" in page


def test_email_is_matched_case_insensitively(client, make_user):
    user = make_user(Role.ACM, email="Mona@Kam.example")
    response = client.post("/login", data={"email": "MONA@kam.EXAMPLE", "password": PASSWORD})
    assert response.status_code == 302
    assert user.email == "mona@kam.example"


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


# --- Sign-ins end on the server --------------------------------------------------------------


def browser_with(app, **cookies: str):
    """Another browser holding only copies of `cookies`."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def remembered_sign_in(client, user):
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 302
    return response


def test_after_sign_out_a_copy_of_the_old_session_cookie_opens_nothing(app, client, make_user):
    sign_in(client, make_user(Role.ACM))
    copied = client.get_cookie(SESSION_COOKIE).value
    assert browser_with(app, kam_session=copied).get("/").status_code == 200

    client.post("/logout")
    response = browser_with(app, kam_session=copied).get("/clients/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_after_sign_out_a_copy_of_the_remember_cookie_opens_nothing(app, client, make_user):
    remembered_sign_in(client, make_user(Role.ACM))
    copied = client.get_cookie(REMEMBER_COOKIE).value
    # Alone, with no session cookie, it signs a browser in...
    assert browser_with(app, kam_remember=copied).get("/").status_code == 200

    response = client.post("/logout")
    # ...until the sign-out, which also deletes it from this browser.
    assert client.get_cookie(REMEMBER_COOKIE) is None
    assert any(c.startswith(f"{REMEMBER_COOKIE}=;") for c in response.headers.getlist("Set-Cookie"))
    response = browser_with(app, kam_remember=copied).get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_signing_out_in_one_browser_leaves_the_other_signed_in(app, make_user):
    user = make_user(Role.ACM)
    office, laptop = app.test_client(), app.test_client()
    sign_in(office, user)
    sign_in(laptop, user)
    office.post("/logout")
    assert office.get("/").status_code == 302
    assert laptop.get("/").status_code == 200


def test_the_sign_out_is_recorded_on_the_sign_in(client, make_user, db):
    user = make_user(Role.ACM)
    sign_in(client, user)
    client.post("/logout")
    [record] = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id))
    assert record.ended_at is not None and record.end_reason == "signed out"
    assert len(record.secret_hash) == 64  # a hash, not the secret the cookies carry
    assert record.secret_hash not in client.get_cookie(SESSION_COOKIE).value


def test_a_deactivated_users_sign_ins_stay_ended_when_they_are_activated_again(
    app, client, make_user, db
):
    user = make_user(Role.ACM)
    remembered_sign_in(client, user)
    copied = client.get_cookie(REMEMBER_COOKIE).value
    accounts.deactivate_user(user, actor=None)
    db.session.commit()
    accounts.activate_user(user, actor=None)
    db.session.commit()
    assert client.get("/").status_code == 302
    assert browser_with(app, kam_remember=copied).get("/").status_code == 302
    sign_in(client, user)  # a new sign-in works


@pytest.mark.config(REMEMBER_COOKIE_DURATION=timedelta(days=3))
def test_the_remember_cookie_lasts_the_remember_days_setting(client, make_user):
    remembered_sign_in(client, make_user(Role.ACM))
    expires = client.get_cookie(REMEMBER_COOKIE).expires
    assert abs(expires - (datetime.now(UTC) + timedelta(days=3))) < timedelta(minutes=1)


@pytest.mark.config(REMEMBER_COOKIE_DURATION=timedelta(days=3))
def test_a_remembered_sign_in_ends_after_the_remember_days_on_the_server_too(
    app, client, make_user, frozen_clock
):
    remembered_sign_in(client, make_user(Role.ACM))
    copied = client.get_cookie(REMEMBER_COOKIE).value
    clock.advance(timedelta(days=3) - timedelta(seconds=1))
    assert browser_with(app, kam_remember=copied).get("/").status_code == 200
    clock.advance(timedelta(seconds=1))
    assert browser_with(app, kam_remember=copied).get("/").status_code == 302


@pytest.mark.config(PERMANENT_SESSION_LIFETIME=timedelta(hours=12))
def test_a_sign_in_not_remembered_ends_after_the_session_hours(client, make_user, frozen_clock):
    sign_in(client, make_user(Role.ACM))
    assert client.get_cookie(REMEMBER_COOKIE) is None
    clock.advance(timedelta(hours=12) - timedelta(seconds=1))
    assert client.get("/").status_code == 200
    clock.advance(timedelta(seconds=1))
    assert client.get("/").status_code == 302


def test_nothing_of_the_session_before_sign_in_carries_over(client, make_user):
    user = make_user(Role.ACM)
    client.get("/login")
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
        planted_csrf = before["csrf_token"]
    sign_in(client, user)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after.get("csrf_token") != planted_csrf
    # The pages after sign-in carry the new CSRF token, and it works; the old one does not.
    assert client.post("/logout", headers={"X-CSRFToken": "stale"}, csrf=False).status_code == 400
    assert client.post("/logout").status_code == 302


# --- Throttling: failed sign-ins, per account and per address --------------------------------

THROTTLED = {
    "RATELIMIT_ENABLED": True,
    "LOGIN_FAILURES_PER_ACCOUNT": "3 per minute",
    "LOGIN_FAILURES_PER_ADDRESS": "5 per minute",
    "TRUSTED_PROXIES": 1,
}


def attempt(client, email: str, password: str, address: str = "10.0.0.1") -> int:
    return client.post(
        "/login",
        data={"email": email, "password": password},
        headers={"X-Forwarded-For": address},
    ).status_code


@pytest.mark.config(**THROTTLED)
def test_good_sign_ins_are_never_throttled(client, make_user):
    user = make_user(Role.ACM)
    for _ in range(12):  # more than either limit, and than the old 10 attempts a minute
        assert attempt(client, user.email, PASSWORD) == 302
        assert client.post("/logout").status_code == 302


@pytest.mark.config(**THROTTLED)
def test_failures_on_one_account_do_not_block_another_from_the_same_address(client, make_user):
    mona, omar = make_user(Role.ACM), make_user(Role.ACM)
    assert [attempt(client, mona.email, "wrong password") for _ in range(3)] == [401] * 3
    assert attempt(client, mona.email, PASSWORD) == 429
    assert attempt(client, omar.email, PASSWORD) == 302


@pytest.mark.config(**THROTTLED)
def test_failures_on_one_account_from_many_addresses_are_throttled(client, make_user):
    user = make_user(Role.ACM)
    for n in range(1, 4):
        assert attempt(client, user.email, "wrong password", address=f"10.0.0.{n}") == 401
    # However the email is typed, it is the same account.
    assert attempt(client, f"  {user.email.upper()} ", PASSWORD, address="10.0.0.9") == 429


@pytest.mark.config(**THROTTLED)
def test_failures_from_one_address_are_throttled_across_accounts(client, make_user):
    user = make_user(Role.ACM)
    for n in range(5):  # five accounts guessed at, twice each would be ten
        assert attempt(client, f"nobody{n}@kam.example", "wrong password") == 401
    assert attempt(client, user.email, PASSWORD) == 429
    # Another user behind the same proxy, at another address, is not blocked.
    assert attempt(client, user.email, PASSWORD, address="10.0.0.2") == 302


@pytest.mark.config(**THROTTLED)
def test_the_throttled_answer_is_the_sign_in_page_saying_how_long_to_wait(client, make_user):
    user = make_user(Role.ACM)
    for _ in range(3):
        attempt(client, user.email, "wrong password")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many failed sign-ins for this account or from this address." in page
    assert "Try again in 1 minute." in page
    assert 'name="email"' in page and user.email in page  # the form, as typed
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert client.get("/").status_code == 302  # and nobody is signed in
