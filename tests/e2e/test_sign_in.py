"""Signing in and out in a real browser, htmx loaded under the CSP, and an HTMX request
after the session ended sending the browser to the sign-in page."""

import re

from playwright.sync_api import Page, expect

from kamportal.config import HTMX_VERSION
from kamportal.models import Role
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
