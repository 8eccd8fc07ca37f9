"""axe-core in the browser tests: a page's accessibility barriers, as a readable list.

axe-core is vendored and pinned (vendor/, with its license): its hash is checked before it
is injected, so a changed file fails instead of silently checking by other rules.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import Page

AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / f"axe-core-{AXE_VERSION}.min.js"
# WCAG 2.0 and 2.1, levels A and AA, and axe's best practices (one h1, landmarks...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


def _checked_script() -> Path:
    digest = hashlib.sha256(AXE_SCRIPT.read_bytes()).hexdigest()
    if digest != AXE_SHA256:
        pytest.fail(f"{AXE_SCRIPT.name} is not axe-core {AXE_VERSION} as pinned (sha256 {digest})")
    return AXE_SCRIPT


def violations(page: Page) -> list[str]:
    """What axe-core finds on the page as it stands: one line per rule broken, with its
    impact, what it asks for and the elements (CSS selectors) that break it."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=_checked_script())
    found = page.evaluate(_RUN, AXE_TAGS)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'][:5])}"
        + (f" and {len(v['targets']) - 5} more" if len(v["targets"]) > 5 else "")
        for v in found
    ]


def assert_no_violations(page: Page) -> None:
    """Fail with axe-core's list when the page has any barrier it knows."""
    found = violations(page)
    if found:
        listed = "\n  ".join(found)
        pytest.fail(f"axe-core found barriers on {page.url}:\n  {listed}", pytrace=False)
