"""Signing in and out in a real browser, htmx loaded under the CSP, and an HTMX request
after the session ended sending the browser to the sign-in page."""

import re
import time

from playwright.sync_api import Page, expect

from kamportal.config import HTMX_VERSION
from kamportal.models import Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in, submit_sign_in


def test_acm_signs_in_and_is_greeted_by_name(page: Page, live_server, make_user):
    user = make_user(Role.ACM, name="Mona Adel")
    sign_in(page, live_server, user)
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", name="Hello, Mona Adel")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients")
    ).to_be_visible()


def test_wrong_password_shows_the_error_and_signs_nobody_in(page: Page, live_server, make_user):
    user = make_user(Role.ACM)
    submit_sign_in(page, live_server, user.email, "wrong password")
    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(f"{live_server}/login?next=/")


def test_sign_out_returns_to_sign_in_and_the_start_page_asks_to_sign_in_again(
    page: Page, live_server, make_user
):
    user = make_user(Role.ACM, name="Karim Fathy")
    sign_in(page, live_server, user)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto("/")
    expect(page).to_have_url(f"{live_server}/login?next=/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_htmx_is_loaded_from_the_vendored_copy_and_configured_under_the_csp(
    page: Page, live_server, make_user
):
    with page.expect_response(re.compile(rf"/static/vendor/htmx-{HTMX_VERSION}\.min\.js$")) as js:
        page.goto("/login")
    assert js.value.ok
    assert page.evaluate("typeof htmx !== 'undefined'")
    assert page.evaluate("htmx.version") == HTMX_VERSION == "2.0.11"
    config = page.evaluate(
        "({allowEval: htmx.config.allowEval, selfRequestsOnly: htmx.config.selfRequestsOnly,"
        " swaps422: htmx.config.responseHandling.some(r => r.code === '422' && r.swap)})"
    )
    assert config == {"allowEval": False, "selfRequestsOnly": True, "swaps422": True}

    sign_in(page, live_server, make_user(Role.ACM))
    assert page.evaluate("htmx.version") == HTMX_VERSION
    # No console error and no CSP violation on either page: checked after every e2e test.


def test_htmx_request_after_the_session_ended_goes_to_sign_in_then_back_to_the_page(
    page: Page, live_server, make_user
):
    user = make_user(Role.ACM)
    sign_in(page, live_server, user)
    page.context.clear_cookies()
    with page.expect_response(re.compile(r"/clients/$")) as answer:
        # Not awaited: the navigation that follows ends this page's script context.
        page.evaluate("() => { htmx.ajax('GET', '/clients/', '#flashes'); }")
    assert answer.value.status == 401
    # Back to the page the user was on (the start page), not the fragment asked for.
    assert answer.value.headers["hx-redirect"] == "/login?next=/"
    expect(page).to_have_url(f"{live_server}/login?next=/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, live_server, user)
    expect(page).to_have_url(f"{live_server}/")


def test_kept_signed_in_then_signed_out_the_copied_cookies_open_nothing(
    page: Page, live_server, make_user, new_context
):
    """A browser that copied both cookies before the sign-out (another computer, a
    stolen backup) is sent to the sign-in page after it; the remember cookie is gone."""
    user = make_user(Role.ACM, name="Karim Fathy")
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Keep me signed in on this computer").check()
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".whoami")).to_contain_text("Karim Fathy")
    copied = page.context.cookies()
    assert {c["name"] for c in copied} >= {"kam_session", "kam_remember"}
    remember = next(c for c in copied if c["name"] == "kam_remember")
    assert remember["expires"] > time.time() + 13 * 24 * 3600  # REMEMBER_DAYS, 14 by default

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    assert "kam_remember" not in {c["name"] for c in page.context.cookies()}

    other = new_context(base_url=live_server).new_page()
    other.context.add_cookies(copied)
    other.goto("/")
    expect(other).to_have_url(f"{live_server}/login?next=/")
    expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
