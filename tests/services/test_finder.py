"""Finding anything from anywhere (issue 16): clients by store name or code, contacts by
name, email or phone, invoices by number, tickets by key; each user only among what they
may see, each result opening a page they may open; a few of each kind, nothing looked for
in a single character but an exact code, and what is typed taken literally."""

from __future__ import annotations

from sqlalchemy import select

from kamportal.models import CustomizationRequest, User
from kamportal.services import finder
from kamportal.services.finder import Opens
from tests.services import finder_world

world = finder_world.world


def titles(user: User, text: str, kind: str, **options) -> list[str]:
    findings = finder.find(user, text, **options)
    return [found.title for group in findings.groups if group.kind == kind for found in group.found]


def kinds(user: User, text: str) -> dict[str, list[str]]:
    """What each kind the user may search found (a kind they may not search is absent)."""
    return {g.kind: [f.title for f in g.found] for g in finder.find(user, text).groups}


def test_clients_by_store_name_anywhere_in_it_or_code_from_its_start(world):
    admin = world.users["admin"]
    assert titles(admin, "nile", "clients") == ["Nile Crafts", "Nile Pearl"]
    assert titles(admin, "crafts", "clients") == ["Nile Crafts"]
    assert titles(admin, "pearl1", "clients") == ["Nile Pearl"]
    assert titles(admin, "PEA", "clients") == ["Nile Pearl"]
    assert titles(admin, "ARL1", "clients") == []  # a code matches from its start
    [found] = finder.find(admin, "crafts").groups[0].found
    assert found.opens is Opens.CLIENT and found.client_id == world.cairo.id
    assert found.detail == "NILE01 · Live"


def test_an_acm_and_a_leader_find_only_their_own_clients(world):
    """Access: an ACM their own portfolio, a leader their team's; another team's client,
    its contacts, invoices and tickets are never found."""
    for who, store in [
        ("acm", "Nile Crafts"),
        ("leader", "Nile Crafts"),
        ("other_acm", "Nile Pearl"),
    ]:
        user = world.users[who]
        assert titles(user, "nile", "clients") == [store], who
        assert titles(user, "mona", "contacts") == [
            "Mona Salem" if store == "Nile Crafts" else "Mona Khaled"
        ], who
        assert len(titles(user, "INV-", "invoices")) == 1, who
        assert len(titles(user, "SUP-", "tickets")) == 1, who
        assert len(titles(user, "SAL-", "tickets")) == 1, who
    acm = world.users["acm"]
    assert titles(acm, "PEARL1", "clients") == []
    assert titles(acm, "mona@pearl", "contacts") == []
    assert titles(acm, "+97150", "contacts") == []


def test_contacts_by_name_email_from_its_start_and_phone_as_people_type_it(world):
    acm = world.users["acm"]
    assert titles(acm, "salem", "contacts") == ["Mona Salem"]
    assert titles(acm, "mona@nile", "contacts") == ["Mona Salem"]
    assert titles(acm, "nilecrafts.example", "contacts") == []  # an email from its start
    # The number as the client writes it: local with spaces, international, with the
    # international prefix 00, in Arabic-Indic digits, or its first digits.
    for typed in [
        "0100 123 4567",
        "01001234567",
        "+20 100 123 4567",
        "0020 100 1234567",
        "(010) 0123-4567",
        "٠١٠٠ ١٢٣ ٤٥٦٧",
        "+20100",
        "0100 12",
    ]:
        assert titles(acm, typed, "contacts") == ["Mona Salem"], typed
    [found] = finder.find(acm, "0100 123 4567").groups[1].found
    assert found.opens is Opens.CONTACT and found.client_name == "Nile Crafts"
    assert found.detail == "mona@nilecrafts.example · +201001234567"
    # Too few digits to be worth looking for; another country's number.
    assert titles(acm, "010", "contacts") == []
    assert titles(acm, "+971 50 123 4567", "contacts") == []


def test_invoices_by_number_for_their_readers_finance_every_one_on_its_pdf(world):
    """R3, R5-R7: the ACM finds their client's invoices and opens the client page at its
    invoices; finance finds every invoice and opens its PDF (finance opens no client
    page)."""
    acm, finance = world.users["acm"], world.users["finance"]
    [mine] = finder.find(acm, "INV-").groups[2].found
    assert mine.opens is Opens.INVOICE and mine.client_id == world.cairo.id
    assert mine.detail.endswith("100.00 · Unpaid")
    # The whole number, its start, its last digits.
    assert titles(acm, mine.title, "invoices") == [mine.title]
    assert titles(acm, mine.title.lower()[:8], "invoices") == [mine.title]
    assert titles(acm, str(mine.record_id).zfill(6), "invoices") == [mine.title]
    assert kinds(finance, "INV-").keys() == {"invoices"}
    every = finder.find(finance, "INV-").groups[0].found
    assert {f.client_name for f in every} == {"Nile Crafts", "Nile Pearl"}
    assert {f.opens for f in every} == {Opens.INVOICE_PDF}


def test_tickets_by_key_support_for_the_clients_seen_customizations_as_their_pages_allow(world):
    """G4, C2-C4: support tickets by key for who sees the client; customization requests'
    tickets for who sees the request: product every one, commercial the accepted ones."""
    acm = world.users["acm"]
    [support] = [f for f in finder.find(acm, "SUP").groups[3].found]
    assert (support.opens, support.client_name) == (Opens.SUPPORT_TICKET, "Nile Crafts")
    assert support.detail == "Support · To Do · Checkout fails"
    [approval] = finder.find(acm, "sal-").groups[3].found
    assert approval.opens is Opens.CUSTOMIZATION
    assert approval.detail == "Approval · Loyalty points"
    # The newest first.
    assert kinds(world.users["product"], "SAL-") == {"tickets": ["SAL-2", "SAL-1"]}
    assert kinds(world.users["product"], "SUP-") == {"tickets": []}
    assert kinds(world.users["commercial"], "SAL-") == {"tickets": ["SAL-2"]}
    assert kinds(world.users["commercial"], "nile") == {"tickets": []}


def test_a_store_manager_finds_their_clients_on_their_page_and_nothing_else(world):
    """F6: a store manager opens no client page: their own clients open at their card on
    the store manager's page; nothing else is found."""
    store_manager = world.users["store_manager"]
    assert kinds(store_manager, "nile") == {"clients": ["Nile Crafts"]}
    [found] = finder.find(store_manager, "NILE01").groups[0].found
    assert (found.opens, found.client_id, found.position) == (
        Opens.STORE_CARD,
        world.cairo.id,
        0,
    )
    assert kinds(store_manager, "PEARL1") == {"clients": []}
    assert kinds(world.users["finance"], "nile") == {"invoices": []}


def test_a_store_managers_card_says_where_it_stands_on_their_page(world, db, make_client):
    store_manager = world.users["store_manager"]
    for name in ["Alpha Shop", "Beta Shop", "Zeta Shop"]:
        make_client(store_name=name, has_store_manager=True, store_manager=store_manager)
    make_client(store_name="Aardvark Shop")  # not theirs
    found = {f.title: f.position for f in finder.find(store_manager, "shop").groups[0].found}
    assert found == {"Alpha Shop": 0, "Beta Shop": 1, "Zeta Shop": 3}


def test_one_character_finds_only_an_exact_code(world, make_client):
    admin = world.users["admin"]
    make_client(store_name="Q Market", store_code="Q")
    make_client(store_name="Quartz", store_code="QZ1")
    findings = finder.find(admin, "q")
    assert findings.too_short
    assert titles(admin, "q", "clients") == ["Q Market"]
    assert titles(admin, "n", "clients") == []
    assert titles(admin, "n", "contacts") == []
    assert finder.find(admin, "  ").groups == ()


def test_each_kind_is_bounded_with_word_of_more(world, make_client):
    admin = world.users["admin"]
    for n in range(7):
        make_client(store_name=f"Delta {n}")
    findings = finder.find(admin, "delta")
    [clients] = [g for g in findings.groups if g.kind == "clients"]
    assert len(clients.found) == finder.DROPDOWN_LIMIT and clients.more
    assert findings.more
    page = finder.find(admin, "delta", limit=finder.PAGE_LIMIT)
    assert len(page.groups[0].found) == 7 and not page.more


def test_what_is_typed_is_taken_literally(world, make_client):
    """`%` and `_` match themselves, never "anything"; a quote, NUL bytes and 5,000
    characters are searched for safely."""
    admin = world.users["admin"]
    make_client(store_name="100% Cotton", store_code="COTTON")
    make_client(store_name="Best_Buy", store_code="BEST_1")
    make_client(store_name="Best Buy", store_code="BEST-2")
    make_client(store_name="O'Neil Home", store_code="ONEIL")
    assert titles(admin, "0%", "clients") == ["100% Cotton"]
    assert titles(admin, "%%", "clients") == []
    assert titles(admin, "t_b", "clients") == ["Best_Buy"]
    assert titles(admin, "BEST_", "clients") == ["Best_Buy"]
    assert titles(admin, "__", "clients") == []
    assert titles(admin, "o'neil", "clients") == ["O'Neil Home"]
    assert titles(admin, "Nile\x00 Cr", "clients") == ["Nile Crafts"]
    assert finder.find(admin, "N" * 5000).text == "N" * finder.MAX_LENGTH
    assert finder.find(admin, "%" * 5000).shown == 0


def test_a_request_goes_by_its_ticket_systems_keys_once_they_are_given(world, db):
    """C2, C6: until its approval ticket is opened a request goes by the portal's own
    name for it (SAL-<id>); then by the approval ticket's key and, once paid, by the
    customization ticket's."""
    product = world.users["product"]
    request = db.session.scalars(
        select(CustomizationRequest).where(CustomizationRequest.title == "Loyalty points")
    ).one()
    assert titles(product, f"SAL-{request.id}", "tickets") == [f"SAL-{request.id}"]
    request.approval_ticket_key, request.customization_ticket_key = "SAL-70", "CUST-9"
    db.session.commit()
    assert titles(product, f"SAL-{request.id}", "tickets") == []
    assert titles(product, "SAL-7", "tickets") == ["SAL-70"]
    [found] = finder.find(product, "cust-9").groups[0].found
    assert (found.title, found.detail) == ("CUST-9", "Customization · Loyalty points")
