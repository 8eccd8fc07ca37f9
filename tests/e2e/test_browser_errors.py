"""The e2e harness itself: what goes wrong in the browser or on the server is caught,
so a broken CSP, a missing script or a server exception fails the test that met it."""

from flask import Flask
from playwright.sync_api import Page, expect

from kamportal.blueprints.web import public


def test_a_csp_violation_is_reported(page: Page, live_server, browser_errors):
    page.goto("/login")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.inlineRan = true'; document.body.append(s); }"
    )
    assert page.evaluate("window.inlineRan === undefined"), "the CSP let an inline script run"
    browser_errors.flush()
    assert any("Content Security Policy" in e for e in browser_errors.unexpected())
    browser_errors.expect("Content Security Policy")


def test_an_uncaught_exception_in_the_page_is_reported(page: Page, live_server, browser_errors):
    page.goto("/login")
    with page.expect_event("pageerror"):
        page.evaluate("() => { setTimeout(() => { throw new Error('boom in the page'); }); }")
    assert any("boom in the page" in e for e in browser_errors.unexpected())
    browser_errors.expect("boom in the page")


def test_a_server_exception_is_reported(app: Flask, page: Page, live_server, browser_errors):
    @public
    def broken():
        raise RuntimeError("boom on the server")

    app.add_url_rule("/e2e-broken", view_func=broken)
    page.goto("/e2e-broken")
    expect(page.get_by_text("Internal Server Error")).to_be_visible()
    errors = browser_errors.unexpected()
    assert any("RuntimeError: boom on the server" in e for e in errors), errors
    assert any(e.startswith("500 for document GET") for e in errors), errors
    browser_errors.expect("/e2e-broken")


def test_a_script_that_fails_to_load_is_reported(page: Page, live_server, browser_errors):
    page.route("**/static/vendor/htmx-*.min.js", lambda route: route.fulfill(status=404))
    page.goto("/login")
    assert page.evaluate("typeof htmx === 'undefined'")
    errors = browser_errors.unexpected()
    assert any(e.startswith("404 for script GET") for e in errors), errors
    browser_errors.expect("404 for script")
