"""Browser tests: Debian's Chromium, driven by Playwright, against the portal served for real.

`live_server` serves the test `app` (its SQLite file or PostgreSQL) on a free local port;
`page` opens on it, so `page.goto("/clients/")` works. Commit test data before browsing:
the server answers from its own threads and sessions.

Every test here is marked `e2e`. A test fails when one of its pages logged a console error
(a CSP violation, a bad integrity hash, an htmx error), threw, failed to load a script or
stylesheet, got a 5xx, or when the served app raised. 401/403/404/422/429 answers to pages
and HTMX requests are the portal's own and pass. A test that provokes an error on purpose
says so with `browser_errors.expect(pattern)`.
"""

from __future__ import annotations

import re
import threading
import traceback
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Response,
    expect,
)
from werkzeug.serving import make_server

from kamportal.models import User
from tests.conftest import PASSWORD, service_missing

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root in CI, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Called with every collected item of the run, not only this folder's.
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    errors: BrowserErrors | None = getattr(item, "funcargs", {}).get("browser_errors")
    try:
        result = yield
    except BaseException:
        # The test failed anyway (often a timeout): show what the browser and server said.
        if errors is not None and errors.unexpected():
            item.add_report_section("call", "browser errors", errors.report())
        raise
    if errors is not None:
        errors.flush()
        if errors.unexpected():
            pytest.fail(
                f"Errors in the browser or on the server:\n{errors.report()}", pytrace=False
            )
    return result


_HTTP_STATUS_LOGGED = "Failed to load resource: the server responded with a status of"
_MAY_FAIL = {"document", "xhr", "fetch"}


class BrowserErrors:
    """Console errors, uncaught exceptions and CSP violations of the pages a test opened,
    and exceptions the served app raised."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._expected: list[re.Pattern[str]] = []
        self._pages: list[Page] = []
        self._lock = threading.Lock()  # the server's threads add to it too

    def watch(self, page: Page) -> None:
        self._pages.append(page)
        page.on("console", self._on_console)
        page.on("response", self._on_response)
        page.on("pageerror", lambda error: self.add(f"uncaught exception on {page.url}: {error}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        # Chromium reports CSP violations, bad integrity hashes and htmx's errors (a swap
        # without a target, a response htmx calls an error) as console errors.
        if message.type != "error":
            return
        if message.text.startswith(_HTTP_STATUS_LOGGED):
            # Every 4xx/5xx is logged so (and /favicon.ico, which Chromium asks for as the
            # portal names no icon); _on_response decides which responses matter.
            return
        where = message.location.get("url") or "the page"
        self.add(f"console error at {where}: {message.text}")

    def _on_response(self, response: Response) -> None:
        # The portal answers pages and HTMX requests with 401/403/404/422/429 on purpose;
        # a page's script or stylesheet must load, and nothing may answer 5xx.
        status, kind = response.status, response.request.resource_type
        if status >= 500 or (status >= 400 and kind not in _MAY_FAIL):
            self.add(f"{status} for {kind} {response.request.method} {response.url}")

    def add(self, error: str) -> None:
        with self._lock:
            self.errors.append(error)

    def expect(self, pattern: str) -> None:
        """This test provokes an error matching `pattern` (a regex, searched): don't fail on it."""
        self._expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        with self._lock:
            errors = list(self.errors)
        return [e for e in errors if not any(p.search(e) for p in self._expected)]

    def report(self) -> str:
        return "\n".join(f"- {error}" for error in self.unexpected())

    def flush(self) -> None:
        """A round trip to each open page, so messages already sent have been received."""
        for page in self._pages:
            if page.is_closed():
                continue
            with suppress(Error):  # navigating or gone: nothing more to hear from it
                page.evaluate("0")


@pytest.fixture
def browser_errors() -> BrowserErrors:
    return BrowserErrors()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's options (--headed, --slowmo) on Debian's Chromium."""
    if not CHROMIUM.exists():
        service_missing(f"Chromium at {CHROMIUM}")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


class _ServedApp:
    """The app as the server calls it: records what it raises, counts requests in flight."""

    def __init__(self, app: Flask, errors: BrowserErrors) -> None:
        self.app = app
        self.errors = errors
        self.in_flight = 0
        self.idle = threading.Condition()

    def __call__(self, environ, start_response):
        with self.idle:
            self.in_flight += 1
        try:
            return self.app(environ, start_response)
        except Exception:
            path = environ.get("PATH_INFO", "")
            self.errors.add(
                f"server error on {environ['REQUEST_METHOD']} {path}:\n{traceback.format_exc()}"
            )
            raise
        finally:
            with self.idle:
                self.in_flight -= 1
                self.idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self.idle:
            return self.idle.wait_for(lambda: self.in_flight == 0, timeout)


@pytest.fixture
def live_server(app: Flask, browser_errors: BrowserErrors) -> Iterator[str]:
    """The test app served on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    served = _ServedApp(app, browser_errors)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(
        # A short poll: shutdown() waits for the loop to look, once per test.
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="live-server",
        daemon=True,
    )
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(timeout=10)
    # A request the browser left behind must not write after the database is cleaned.
    served.wait_idle(timeout=10)


@pytest.fixture
def context(new_context, live_server: str, browser_errors: BrowserErrors) -> BrowserContext:
    """pytest-playwright's context, on the live server, every page watched for errors."""
    context = new_context(base_url=live_server)
    context.on("page", browser_errors.watch)
    return context


def submit_sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    """Fill and send the sign-in form, without checking the outcome."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, base_url: str, user: User, password: str = PASSWORD) -> None:
    """Sign `user` in through the form and wait for their start page (the day, finance's
    queue, the discounts...: each names who is signed in at the top)."""
    email, name = user.email, user.name
    submit_sign_in(page, base_url, email, password)
    expect(page.locator(".whoami")).to_contain_text(name)
    # The start page is there; wait for its deferred htmx to have processed it too.
    page.wait_for_load_state("load")
