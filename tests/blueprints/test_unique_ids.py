"""Valid HTML (issue 16): no id twice on a page, and one h1. Every page each role may open, on the
access test's world (one of each object), parsed as served; the client page's panels are
checked once swapped in, by the browser test (tests/e2e/test_no_barriers.py)."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

from flask import Flask
from flask.testing import FlaskClient

from tests.blueprints.test_access import ACCESS, OK, World, world  # noqa: F401 (a fixture)

ROLES = ("anonymous", "acm", "leader", "admin", "finance", "product", "commercial", "store_manager")


def pages_of(app: Flask, of: World, role: str) -> list[str]:
    """The URLs of every GET route `role` may open, their arguments the world's objects
    (downloads and fragments among them: `page_html` tells the pages)."""
    urls = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if ACCESS[rule.endpoint][role] != OK:
            continue
        values = {k: of.ids.get((rule.endpoint, k), of.ids.get(k)) for k in rule.arguments}
        if rule.endpoint in of.tokens:
            values["token"] = of.tokens[rule.endpoint]
        urls.append(rule.build(values)[1])
    return urls


def page_html(http: FlaskClient, url: str) -> str | None:
    """The page at `url` as served, or None for what is not a whole HTML page: a download,
    JSON, a redirect (a fragment asked for outside htmx goes to its page) or a fragment."""
    response = http.get(url)
    response.close()
    if response.status_code != 200 or response.mimetype != "text/html":
        return None
    text = response.get_data(as_text=True)
    return text if "<html" in text[:500] else None


class _Ids(HTMLParser):
    """The ids of a page's elements; not those inside a <template>, a fragment of its own
    until a script uses it (htmx's out-of-band swaps)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.h1 = 0
        self.in_template = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "template":
            self.in_template += 1
        if self.in_template:
            return
        self.h1 += tag == "h1"
        for name, value in attrs:
            if name == "id" and value is not None:
                self.ids[value] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self.in_template -= 1


def _parsed(html: str) -> _Ids:
    parser = _Ids()
    parser.feed(html)
    parser.close()
    return parser


def repeated_ids(html: str) -> list[str]:
    return sorted(i for i, n in _parsed(html).ids.items() if n > 1)


def h1_count(html: str) -> int:
    return _parsed(html).h1


def test_repeated_ids_are_found():
    assert repeated_ids('<form><input id="a"></form><form><input id="a"><b id="b">') == ["a"]
    assert repeated_ids('<select id="a"></select><template><select id="a"></template>') == []


def test_no_page_repeats_an_id_and_each_has_one_h1(app, world):  # noqa: F811
    repeated, checked, headings = {}, Counter(), {}
    for role in ROLES:
        for url in pages_of(app, world, role):
            html = page_html(world.clients[role], url)
            if html is None:
                continue
            checked[role] += 1
            if ids := repeated_ids(html):
                repeated[f"{url} as {role}"] = ids
            if (h1 := h1_count(html)) != 1:
                headings[f"{url} as {role}"] = h1
    assert all(checked[role] >= 3 for role in ROLES), checked
    assert repeated == {}
    assert headings == {}, "pages without exactly one h1"
