"""Issue 17: the work lists (renewals and unpaid invoices, the escalation and complaint
queues) come a page at a time: every row once across the pages, in the list's order (the
most overdue, the leader's decisions and the oldest first), the next page swapped in place
(HTMX) or loaded by a plain link, a bad page number answered with the first page, and a
page that stays small whatever the portfolio."""

from __future__ import annotations

import re

import pytest

from kamportal.models import Complaint, Role
from tests.blueprints.test_query_counts import work_lists

HTMX = {"HX-Request": "true"}
PER_PAGE = 25
# 200 of each row in the database (two teams of 100 clients).
TEAMS, CLIENTS = 2, 100


@pytest.fixture
def portfolio(app, db, make_team, make_user):
    app.config["LIST_PER_PAGE"] = PER_PAGE
    return work_lists(db, make_team, make_user, teams=TEAMS, clients=CLIENTS)


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start : page.index("</section>", start)]


def rows(html: str, kind: str) -> list[int]:
    return [int(found) for found in re.findall(rf'<tr id="{kind}-(\d+)"', html)]


def next_link(html: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" hx-get="\1"[^>]*rel="next"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def walk(http, url: str, section_id: str, kind: str) -> list[list[int]]:
    """Every page of a list, following its Next links as a browser without JS would."""
    pages = []
    while url:
        html = section(text(http.get(url)), section_id)
        pages.append(rows(html, kind))
        url = next_link(html)
        assert len(pages) <= TEAMS * CLIENTS, "the pager never ends"
    return pages


@pytest.mark.parametrize(
    ("section_id", "kind", "days"),
    [("open-renewals", "renewal", "data-days-left"), ("unpaid-invoices", "invoice", None)],
)
def test_the_renewals_and_invoices_pages_show_every_row_once_soonest_first(
    portfolio, login_as, section_id, kind, days
):
    """R1, R4: across the pages, each open renewal and unpaid invoice once, the most
    overdue first."""
    pages = walk(login_as(Role.ADMIN), "/renewals/", section_id, kind)
    assert [len(p) for p in pages] == [PER_PAGE] * (TEAMS * CLIENTS // PER_PAGE)
    seen = [row for page in pages for row in page]
    assert len(seen) == len(set(seen)) == TEAMS * CLIENTS
    if days:
        http = login_as(Role.ADMIN)
        left = []
        for page in range(1, len(pages) + 1):
            html = section(text(http.get(f"/renewals/?page={page}")), section_id)
            left += [int(d) for d in re.findall(rf'{days}="(-?\d+)"', html)]
        assert left == sorted(left) and left[0] < 0 < left[-1]


def test_a_pager_swaps_its_list_and_keeps_the_other_lists_page(portfolio, login_as):
    http = login_as(Role.ADMIN)
    page = text(http.get("/renewals/?invoices_page=3"))
    renewals = section(page, "open-renewals")
    assert "Page 1 of 8" in renewals and "200 renewals" in renewals
    assert "Page 3 of 8" in section(page, "unpaid-invoices")
    following = next_link(renewals)
    assert following == "/renewals/?invoices_page=3&page=2"
    assert 'hx-target="#open-renewals" hx-swap="outerHTML" hx-push-url="true"' in renewals

    swapped = text(http.get(following, headers={**HTMX, "HX-Target": "open-renewals"}))
    assert "<html" not in swapped and 'id="unpaid-invoices"' not in swapped
    assert "Page 2 of 8" in swapped
    assert set(rows(swapped, "renewal")).isdisjoint(rows(renewals, "renewal"))
    # Back to the first page: the address holds no page number.
    assert re.search(r'href="/renewals/\?invoices_page=3"[^>]*rel="prev"', swapped)

    swapped = text(
        http.get(
            "/renewals/?page=2&invoices_page=4", headers={**HTMX, "HX-Target": "unpaid-invoices"}
        )
    )
    assert 'id="open-renewals"' not in swapped and "Page 4 of 8" in swapped
    assert next_link(swapped) == "/renewals/?page=2&invoices_page=5"


def test_the_escalation_queue_pages_keep_the_leaders_decisions_first(portfolio, login_as):
    """E3: those waiting for the leader's decision first, then the oldest, every one once;
    the minute's refresh reloads the page shown."""
    http = login_as(Role.ADMIN)
    pages = walk(http, "/escalations/", "escalation-queue", "escalation")
    seen = [row for page in pages for row in page]
    assert len(seen) == len(set(seen)) == TEAMS * CLIENTS
    waiting = []
    for page in range(1, len(pages) + 1):
        html = section(text(http.get(f"/escalations/?page={page}")), "escalation-queue")
        waiting += re.findall(r'data-waiting-on="(\w+)"', html)
    leaders = waiting.count("leader")
    assert leaders and waiting[:leaders] == ["leader"] * leaders
    assert "leader" not in waiting[leaders:]

    swapped = text(
        http.get("/escalations/?page=2", headers={**HTMX, "HX-Target": "escalation-queue"})
    )
    assert "<html" not in swapped and rows(swapped, "escalation") == pages[1]
    assert 'hx-get="/escalations/?page=2"' in swapped and 'hx-trigger="every 60s"' in swapped


def test_the_complaint_queue_pages_oldest_first(portfolio, login_as, db):
    http = login_as(Role.ADMIN)
    pages = walk(http, "/complaints/", "complaint-queue", "complaint")
    seen = [row for page in pages for row in page]
    raised = {c.id: c.raised_at for c in db.session.query(Complaint)}
    assert len(seen) == len(set(seen)) == TEAMS * CLIENTS
    assert [raised[c] for c in seen] == sorted(raised[c] for c in seen)
    # A tab's pages keep the tab.
    page = text(http.get("/complaints/?status=open"))
    assert next_link(section(page, "complaint-queue")) == "/complaints/?status=open&page=2"


def test_a_leader_and_an_acm_page_through_their_own_clients_only(portfolio, login_as):
    leader, acm = portfolio
    for user in (leader, acm):
        pages = walk(login_as(user), "/escalations/", "escalation-queue", "escalation")
        assert sum(len(p) for p in pages) == CLIENTS


BAD_PAGES = ["0", "-1", "1e30", "99999999999999999999", "2\x00", "x", ""]


def test_a_bad_page_number_gives_the_first_page(portfolio, login_as):
    """As on the client list: a page number that is none, or out of bounds, is the first."""
    http = login_as(Role.ADMIN)
    for url in ("/renewals/?page=", "/renewals/?invoices_page=", "/escalations/?page="):
        for page in BAD_PAGES:
            assert "Page 1 of 8" in text(http.get(url + page)), (url, page)
    for page in BAD_PAGES:
        assert "Page 1 of 8" in text(http.get("/complaints/?page=" + page)), page


def test_a_page_past_the_last_is_empty_not_an_error(portfolio, login_as):
    html = text(login_as(Role.ADMIN).get("/escalations/?page=2147483647"))
    assert rows(html, "escalation") == [] and "Page 2147483647 of 8" in html


def test_the_pages_stay_small_with_200_rows_in_each_list(portfolio, login_as):
    """No page grows with the portfolio (issue 17): with 200 rows in each list, a page
    and a list swapped in place weigh what 25 rows weigh (a complaint's row holds its
    form)."""
    http = login_as(Role.ADMIN)
    for url, most in (("/renewals/", 30_000), ("/escalations/", 25_000), ("/complaints/", 45_000)):
        assert len(text(http.get(url))) < most, url
    for url, target, most in (
        ("/renewals/?page=2", "open-renewals", 12_000),
        ("/renewals/?invoices_page=2", "unpaid-invoices", 12_000),
        ("/escalations/?page=2", "escalation-queue", 18_000),
        ("/complaints/?page=2", "complaint-queue", 40_000),
    ):
        assert len(text(http.get(url, headers={**HTMX, "HX-Target": target}))) < most, url
