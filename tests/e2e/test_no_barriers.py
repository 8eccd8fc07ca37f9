"""No barriers (issue 16): every page each role can open, and the pages a client opens from
an email, has no violation axe-core knows (WCAG 2.0/2.1 A and AA, best practices), and no
id twice once its panels are in.

The pages are the app's own: every GET route whose access decision (tests/blueprints/
test_access.py) lets the role open it, on the access test's world, which has one of each
object (a client, a meeting, an escalation, a customization request, a renewal and its
invoice, an account plan, a client report, the client's KYC, concept, acceptance and survey
links). Downloads and the fragments htmx swaps in are checked on the pages that show them.
One world for every role, each role in a browser of its own.
"""

from __future__ import annotations

from collections import Counter

from flask import Flask
from playwright.sync_api import Browser, Page

from tests.blueprints.test_access import World, world  # noqa: F401 (a fixture)
from tests.blueprints.test_unique_ids import ROLES, page_html, pages_of
from tests.e2e.axe import violations
from tests.e2e.conftest import sign_in

# Until the page has loaded and htmx has no request in flight.
HTMX_IDLE = "() => document.readyState === 'complete' && !document.querySelector('.htmx-request')"
REPEATED_IDS = """() => {
  const seen = new Map();
  for (const el of document.querySelectorAll("[id]")) seen.set(el.id, (seen.get(el.id) || 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
}"""


def barriers(page: Page, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_function(HTMX_IDLE)
    found = violations(page)
    if repeated := page.evaluate(REPEATED_IDS):
        found.append(f"ids on several elements: {', '.join(repeated)}")
    return [f"{url}: {barrier}" for barrier in found]


def test_no_page_any_role_opens_has_a_barrier(
    browser: Browser,
    live_server,
    app: Flask,
    world: World,  # noqa: F811
    browser_errors,
):
    checked, failures = Counter(), []
    for role in ROLES:
        # axe-core is injected as a script of the test's own, which the portal's CSP refuses.
        context = browser.new_context(base_url=live_server, bypass_csp=True)
        context.on("page", browser_errors.watch)
        page = context.new_page()
        if role != "anonymous":
            sign_in(page, live_server, world.clients[role].user)
        for url in pages_of(app, world, role):
            if page_html(world.clients[role], url) is None:
                continue
            checked[role] += 1
            failures += [f"as {role}, {barrier}" for barrier in barriers(page, url)]
        context.close()
    print("pages checked:", dict(checked))
    assert all(checked[role] >= 3 for role in ROLES), checked
    assert failures == [], "barriers found:\n" + "\n".join(failures)
