"""Issue 17: the work lists (renewals and unpaid invoices, the escalation and complaint
queues) come a page at a time: every row once across the pages, in the list's order (the
most overdue, the leader's decisions and the oldest first), the next page swapped in place
(HTMX) or loaded by a plain link, a bad page number answered with the first page, and a
page that stays small whatever the portfolio."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import update

from kamportal import clock
from kamportal.config import Config
from kamportal.models import Client, Complaint, Invoice, Payment, PaymentIssue, Role
from kamportal.services import invoices, renewals
from tests.blueprints.test_query_counts import counting_queries, work_lists

HTMX = {"HX-Request": "true"}
PER_PAGE = 25
# 200 of each row in the database (two teams of 100 clients).
TEAMS, CLIENTS = 2, 100


@pytest.fixture
def portfolio(app, db, make_team, make_user):
    app.config["LIST_PER_PAGE"] = PER_PAGE
    return work_lists(db, make_team, make_user, teams=TEAMS, clients=CLIENTS)


def text(response, status: int = 200) -> str:
    assert response.status_code == status, response.status_code
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


@pytest.mark.parametrize(
    ("section_id", "kind", "whole"),
    [
        ("open-renewals", "renewal", renewals.open_renewals),
        ("unpaid-invoices", "invoice", invoices.unpaid_invoices),
    ],
)
def test_the_renewals_and_invoices_pages_follow_each_users_whole_list(
    portfolio, login_as, section_id, kind, whole
):
    """R1, R4 (issue 17): an admin's, a leader's and an ACM's pages, one after the other,
    are their whole list in its order (the admin's read without narrowing by client, the
    others' narrowed to the clients they see); a page past the last is empty."""
    leader, acm = portfolio
    for user in (Role.ADMIN, leader, acm):
        http = login_as(user)
        seen = [row for page in walk(http, "/renewals/", section_id, kind) for row in page]
        shown = [row.id for row in whole(http.user)]
        assert seen == shown and len(seen) == (TEAMS * CLIENTS if user == Role.ADMIN else CLIENTS)
        past = "page" if kind == "renewal" else "invoices_page"
        html = section(text(http.get(f"/renewals/?{past}=2147483647")), section_id)
        assert rows(html, kind) == []


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


# --- Finance's queue (R5-R7, R10): each section a page at a time --------------------------

# 30 rows in each section of finance's queue: more than a page, and a second one.
FINANCE_ROWS = 30
# Clients on both sides of the date line: an installment is due within a week of its own
# client's today (R10), which the page holds it to in SQL.
FINANCE_ZONES = ("Africa/Cairo", "Pacific/Kiritimati", "Pacific/Pago_Pago")
SECTIONS = {
    # section: (its page's argument, the id of its rows)
    "wires": ("wires_page", "wire"),
    "premises": ("premises_page", "premises"),
    "issues": ("issues_page", "issue"),
    "refunds": ("refunds_page", "refund"),
    "installments": ("installments_page", "installment"),
}


def _invoice(db, client: Client, method: str, due: int, **more) -> Invoice:
    """An invoice of 911,400 EGP to `client`, paid by `method`, due `due` days from today
    (an amount as long as the portfolio's longest)."""
    invoice = Invoice(
        client=client,
        currency="EGP",
        total=Decimal("911400"),
        issued_on=clock.today("UTC") - timedelta(days=30),
        due_on=clock.today("UTC") + timedelta(days=due),
        issued_at=clock.now() - timedelta(days=30),
        method=method,
        **more,
    )
    db.session.add(invoice)
    return invoice


def finance_lists(db, make_team, make_user, *, rows: int, code: str = "PY") -> dict:
    """`rows` clients of one ACM, each with a wire reported (every fourth flagged, R7), an
    invoice paid at the premises (R6), an open payment issue (R5), a refund requested and
    an installment (R10) due from 13 days ago to 9 days ahead (some a day after the week
    in one zone, within it in the next); their dates spread so the sections' order
    shows. Names and amounts as long as a real portfolio's, for the pages' weight."""
    now = clock.now()
    acm = make_user(Role.ACM, team=make_team(), name="Latifa Al Qahtani")
    made: dict = {"installments": {}}
    for n in range(rows):
        spread = (n * 7) % 23 - 10  # not in the order the rows are made
        client = Client(
            store_name=f"Silver Moon Perfumes {code}{n:03d}",
            store_code=f"SILVERMOON-{code}{n:03d}",
            plan="enterprise",
            country="EG",
            timezone=FINANCE_ZONES[n % len(FINANCE_ZONES)],
            status="live",
            currency="EGP",
            recurring_amount=Decimal("1000"),
            acm=acm,
            created_at=now,
            updated_at=now,
        )
        db.session.add(client)
        db.session.add_all(
            [
                Payment(
                    invoice=_invoice(db, client, "wire", spread),
                    method="wire",
                    amount=Decimal("911400"),
                    currency="EGP",
                    status="reported",
                    reported_amount=Decimal("911400"),
                    reported_by=acm,
                    reported_at=now - timedelta(hours=spread + 20),
                    flagged_at=now if n % 4 == 0 else None,
                ),
                PaymentIssue(
                    invoice=_invoice(db, client, "online", spread),
                    note="Pays in two parts.",
                    raised_by=acm,
                    raised_at=now - timedelta(hours=spread + 20),
                ),
                Complaint(
                    client=client,
                    kind="refund",
                    said="Refund last month.",
                    channel="call",
                    raised_by=acm,
                    raised_at=now - timedelta(hours=spread + 20),
                    refund_amount=Decimal("50"),
                    refund_currency="EGP",
                    refund_status="requested",
                ),
            ]
        )
        _invoice(db, client, "premises", spread)
        parent = _invoice(db, client, "installments", 0, status="split")
        installment = _invoice(db, client, "online", spread - 3, parent=parent, installment_no=1)
        made["installments"][installment] = client
    db.session.commit()
    made["acm"] = acm
    return made


@pytest.fixture
def finance_world(app, db, make_team, make_user):
    app.config["FINANCE_PER_PAGE"] = PER_PAGE
    return finance_lists(db, make_team, make_user, rows=FINANCE_ROWS)


def test_each_section_of_finances_queue_pages_every_row_once_in_its_order(
    finance_world, login_as, db
):
    """R5-R7, R10: across each section's pages, every row once, in the section's order:
    the flagged wires first then the oldest, the soonest due, the oldest issue and refund;
    the installments due within a week of their own client's today, or overdue."""
    http = login_as(Role.FINANCE)
    seen = {}
    for name, (_, kind) in SECTIONS.items():
        pages = walk(http, "/finance/", name, kind)
        seen[name] = [row for page in pages for row in page]
        assert len(seen[name]) == len(set(seen[name])), name
        assert len(pages) > 1 and len(pages[0]) == PER_PAGE, name

    wires = [db.session.get(Payment, i) for i in seen["wires"]]
    assert len(wires) == FINANCE_ROWS
    assert [(w.flagged_at is None, w.reported_at, w.id) for w in wires] == sorted(
        (w.flagged_at is None, w.reported_at, w.id) for w in wires
    )
    assert wires[0].flagged_at is not None and wires[-1].flagged_at is None
    premises = [db.session.get(Invoice, i) for i in seen["premises"]]
    assert len(premises) == FINANCE_ROWS
    assert [(i.due_on, i.id) for i in premises] == sorted((i.due_on, i.id) for i in premises)
    for model, section in ((PaymentIssue, "issues"), (Complaint, "refunds")):
        found = [db.session.get(model, i) for i in seen[section]]
        assert len(found) == FINANCE_ROWS, section
        assert [(r.raised_at, r.id) for r in found] == sorted((r.raised_at, r.id) for r in found)

    now = clock.now()
    due = {
        installment.id
        for installment, client in finance_world["installments"].items()
        if installment.due_on <= clock.today(client.timezone, at=now) + timedelta(days=7)
    }
    assert set(seen["installments"]) == due and 0 < len(due) < FINANCE_ROWS
    shown = [db.session.get(Invoice, i) for i in seen["installments"]]
    assert [(i.due_on, i.id) for i in shown] == sorted((i.due_on, i.id) for i in shown)


def test_a_finance_pager_swaps_its_section_and_keeps_the_others_pages(finance_world, login_as):
    http = login_as(Role.FINANCE)
    page = text(http.get("/finance/?premises_page=2&refunds_page=2"))
    wires = section(page, "wires")
    assert "Page 1 of 2" in wires and f"{FINANCE_ROWS} waiting" in wires
    assert "Page 2 of 2" in section(page, "premises") and "Page 2 of 2" in section(page, "refunds")
    following = next_link(wires)
    assert parse_qs(urlsplit(following).query) == {
        "wires_page": ["2"],
        "premises_page": ["2"],
        "refunds_page": ["2"],
    }
    assert 'hx-target="#wires" hx-swap="outerHTML" hx-push-url="true"' in wires

    swapped = text(http.get(following, headers={**HTMX, "HX-Target": "wires"}))
    assert "<html" not in swapped and swapped.count("<section") == 1
    assert 'id="wires"' in swapped and "Page 2 of 2" in swapped
    assert set(rows(swapped, "wire")).isdisjoint(rows(wires, "wire"))
    # Back to the first page: the other sections' pages stay, this one's number goes.
    back = re.search(r'<a href="([^"]+)"[^>]*rel="prev"', swapped).group(1)
    assert parse_qs(urlsplit(back.replace("&amp;", "&")).query) == {
        "premises_page": ["2"],
        "refunds_page": ["2"],
    }
    # A section refreshed by an event (a channel agreed: the premises) keeps its page.
    assert 'hx-get="/finance/?premises_page=2&amp;refunds_page=2"' in section(page, "premises")


BAD_FINANCE_PAGES = [*BAD_PAGES, "1e30", "2147483648" * 3, "%00", "-0"]


def test_a_bad_page_number_gives_a_finance_section_its_first_page(finance_world, login_as):
    http = login_as(Role.FINANCE)
    first = {
        name: rows(section(text(http.get("/finance/")), name), kind)
        for name, (_, kind) in SECTIONS.items()
    }
    for name, (arg, kind) in SECTIONS.items():
        for bad in BAD_FINANCE_PAGES:
            url = f"/finance/?{urlencode({arg: bad})}"
            html = section(text(http.get(url)), name)
            assert rows(html, kind) == first[name] and "Page 1 of" in html, (name, bad)
            swapped = http.get(url, headers={**HTMX, "HX-Target": name})
            assert rows(text(swapped), kind) == first[name], (name, bad)


def test_finances_csv_export_stays_whole(finance_world, login_as):
    """The export holds every row of every section, whatever page the screen shows."""
    http = login_as(Role.FINANCE)
    exported = text(http.get("/finance/queue.csv?wires_page=2")).splitlines()
    sections = [line.split(",", 1)[0] for line in exported[1:]]
    for label in (
        "wire transfer to confirm",
        "payment at the premises",
        "payment issue",
        "refund requested",
    ):
        assert sections.count(label) == FINANCE_ROWS, label
    shown = walk(http, "/finance/", "installments", "installment")
    assert sections.count("installment") == sum(len(page) for page in shown) > PER_PAGE


def test_finances_queue_reads_as_many_statements_for_any_portfolio(
    app, db, make_team, make_user, login_as
):
    """Issue 17: a page of each section, or one section swapped, in the same statements
    for 3 rows a section as for 30."""
    app.config["LIST_PER_PAGE"] = PER_PAGE

    def measure() -> dict[str, int]:
        http = login_as(Role.FINANCE)
        counts = {}
        for url, target in (
            ("/finance/", None),
            ("/finance/?wires_page=2&installments_page=2", None),
            ("/finance/?issues_page=2", "issues"),
        ):
            headers = {**HTMX, "HX-Target": target} if target else {}
            with counting_queries(db.engine) as statements:
                text(http.get(url, headers=headers))
            counts[url] = len(statements)
        return counts

    finance_lists(db, make_team, make_user, rows=3)
    small = measure()
    finance_lists(db, make_team, make_user, rows=FINANCE_ROWS, code="PZ")
    assert measure() == small


# --- What a list swapped in place weighs ----------------------------------------------------

# Issue 17: a list swapped in place (a pager, a refresh) stays under this at a full page.
MOST_SWAPPED = 10 * 1024


def test_every_work_list_swapped_in_place_stays_under_10_kb_at_a_full_page(
    app, db, portfolio, login_as
):
    """No list grows with the portfolio, nor its page past 10 KB at the portal's page size:
    one line a row, a complaint's form opened on demand rather than held in each row; with
    store names as long as a real portfolio's."""
    app.config["LIST_PER_PAGE"] = Config.LIST_PER_PAGE
    db.session.execute(update(Client).values(store_name=Client.store_name + " Silver Moon"))
    db.session.commit()
    http = login_as(Role.ADMIN)
    weights = {}
    for target, (url, kind) in {
        "open-renewals": ("/renewals/?page=2", "renewal"),
        "unpaid-invoices": ("/renewals/?invoices_page=2", "invoice"),
        "escalation-queue": ("/escalations/?page=2", "escalation"),
        "complaint-queue": ("/complaints/?page=2", "complaint"),
    }.items():
        swapped = http.get(url, headers={**HTMX, "HX-Target": target})
        assert len(rows(text(swapped), kind)) == Config.LIST_PER_PAGE, target
        weights[target] = len(swapped.get_data())
    assert max(weights.values()) <= MOST_SWAPPED, weights


def test_the_client_list_swapped_in_place_stays_under_10_kb_at_a_full_page(
    db, make_team, make_user, make_client, login_as
):
    """Issue 17: a page of the client list (a search, a sort, the pager) swapped in place
    holds the portal's page size of rows under 10 KB, with names as long as a real
    portfolio's."""
    acm = make_user(Role.ACM, team=make_team(), name="Latifa Al Qahtani")
    for n in range(Config.CLIENTS_PER_PAGE + 5):
        make_client(acm, store_name=f"Silver Moon Perfumes {n:03d}", industry="Perfumes & oud")
    http = login_as(Role.ADMIN)
    for url in ("/clients/", "/clients/?sort=code&direction=desc", "/clients/?q=silver"):
        swapped = http.get(url, headers={**HTMX, "HX-Target": "client-table"})
        assert len(rows(text(swapped), "client")) == Config.CLIENTS_PER_PAGE, url
        assert len(swapped.get_data()) <= MOST_SWAPPED, (url, len(swapped.get_data()))
        assert 'hx-target="#client-table" hx-swap="outerHTML" hx-push-url="true"' in text(swapped)


def test_a_complaints_form_opens_on_demand_in_its_row_or_on_a_page(portfolio, login_as, db):
    """E3: the queue's rows hold a link to their form, not the form; it opens in the row
    (HTMX) or, without JavaScript, on a page of its own; saved, the row closes it."""
    http = login_as(Role.ADMIN)
    queue = section(text(http.get("/complaints/")), "complaint-queue")
    first = rows(queue, "complaint")[0]
    url = f"/complaints/{first}/form"
    assert "<form" not in queue and f'href="{url}" hx-get="{url}"' in queue
    assert 'hx-target="closest td"' in queue

    form = text(http.get(url, headers={**HTMX, "HX-Target": f"complaint-{first}"}))
    assert form.lstrip().startswith("<form") and "<html" not in form
    assert f'hx-post="/complaints/{first}"' in form and f'id="complaint-{first}-note"' in form
    page = text(http.get(url))
    assert "<html" in page and rows(page, "complaint") == [first]
    assert f'id="complaint-{first}-status"' in page

    refused = http.post(
        f"/complaints/{first}",
        data={"status": "closed", "note": ""},
        headers=HTMX,
    )
    assert refused.status_code == 422 and "Say how it was closed." in text(refused, 422)
    done = http.post(
        f"/complaints/{first}",
        data={"status": "in_progress", "note": "Called."},
        headers=HTMX,
    )
    row = text(done)
    assert row.lstrip().startswith("<tr") and "<form" not in row and f'href="{url}"' in row
    assert db.session.get(Complaint, first).status == "in_progress"


def test_a_wires_confirmation_step_cancels_back_to_its_row_on_any_page(finance_world, login_as):
    """R7: cancelling the step brings back the wire's row itself, wherever it is listed
    (not the first page of the queue, where a wire of page 2 is not)."""
    http = login_as(Role.FINANCE)
    [wire, *_] = rows(section(text(http.get("/finance/?wires_page=2")), "wires"), "wire")
    step = text(http.get(f"/finance/payments/{wire}/confirm", headers=HTMX))
    assert f'hx-get="/finance/payments/{wire}"' in step and "Confirm received" in step
    assert "Not arrived? Reject the report" in step
    row = text(http.get(f"/finance/payments/{wire}", headers=HTMX))
    assert row.lstrip().startswith(f'<tr id="wire-{wire}"') and "wire-confirm" not in row
    plain = http.get(f"/finance/payments/{wire}")
    assert plain.status_code == 303 and plain.headers["Location"] == "/finance/"


def test_each_finance_section_swapped_in_place_stays_under_10_kb_at_a_full_page(
    app, finance_world, login_as
):
    """Issue 17: a section of finance's queue swapped by its pager holds a full page of
    rows (as many as the portal's setting says), each with a link to its form rather than
    the form, with names and amounts as long as a real portfolio's."""
    app.config["FINANCE_PER_PAGE"] = Config.FINANCE_PER_PAGE
    http = login_as(Role.FINANCE)
    weights = {}
    for name, (arg, kind) in SECTIONS.items():
        swapped = http.get(f"/finance/?{arg}=1", headers={**HTMX, "HX-Target": name})
        assert len(rows(text(swapped), kind)) == Config.FINANCE_PER_PAGE, name
        weights[name] = len(swapped.get_data())
    assert max(weights.values()) <= MOST_SWAPPED, weights


def test_a_finance_rows_form_opens_on_demand_in_its_row_or_on_a_page(finance_world, login_as):
    """R5-R7, issue 17: a wire's confirmation and rejection, a payment at the premises, a
    payment issue and a refund open their forms in their row (HTMX), or without
    JavaScript on a page with that row alone; the queue's rows hold only the link."""
    http = login_as(Role.FINANCE)
    queue = text(http.get("/finance/"))
    for name, kind, url, field_id in (
        ("wires", "wire", "/finance/payments/{}/confirm", "wire-reject-{}-reason"),
        ("premises", "premises", "/finance/invoices/{}/premises", "premises-{}-amount"),
        ("issues", "issue", "/finance/issues/{}/resolve", "issue-{}-new_method"),
        ("refunds", "refund", "/finance/refunds/{}", "refund-{}-note"),
    ):
        listed = section(queue, name)
        first = rows(listed, kind)[0]
        url, field_id = url.format(first), field_id.format(first)
        assert "<form" not in listed and f'href="{url}" hx-get="{url}"' in listed, name
        opened = text(http.get(url, headers=HTMX))
        assert opened.lstrip().startswith(f'<tr id="{kind}-{first}"'), name
        assert f'id="{field_id}"' in opened and f'hx-post="{url}"' in opened, name
        page = text(http.get(url))
        assert "<html" in page and rows(page, kind) == [first], name
        assert f'id="{field_id}"' in page and page.count("<section") == 1, name
