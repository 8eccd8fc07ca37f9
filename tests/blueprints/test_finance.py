"""Finance's queue through HTTP: wire transfers confirmed in one click (R7), payments at
the premises recorded with their receipt (R6), payment issues settled on a new channel
(R5), installments due or overdue marked paid (R10); and where finance and commercial find
their queues. Each action swaps its row in place; refused input gets the row again with
its errors (422) and changes nothing; the other roles get 403."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kamportal import clock
from kamportal.models import (
    AuditEvent,
    Invoice,
    InvoiceStatus,
    OutboxMessage,
    Payment,
    PaymentIssue,
    PaymentStatus,
    RenewalStage,
    Role,
)
from kamportal.services import discounts, invoices, payments
from kamportal.services.invoices import Fee
from tests.blueprints.test_query_counts import counting_queries
from tests.conftest import sign_in
from tests.services import renewal_world
from tests.services.renewal_world import NOW, TODAY, invoiced

# The service tests' world: Monday 23 Nov 2026, 09:00 UTC. Mona Adel (ACM, team Cairo, led
# by Layla Nour) looks after Nile Crafts (NILE01, 12000 EGP a year, due in 20 days); Heba
# Finance; Hany Commercial; Omar, an ACM of team Dubai.
world = renewal_world.world

HTMX = {"HX-Request": "true"}
SECTIONS = ("wires", "premises", "issues", "installments")


def text_of(response) -> str:
    return response.get_data(as_text=True)


def section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.find("</section>", start)]


def row(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.find("</tr>", start)]


def field_errors(html: str, field_id: str) -> str:
    start = html.index(f'id="field-{field_id}"')
    return html[start : html.find("</div>", start)]


def row_ids(page: str, kind: str) -> list[int]:
    return [int(n) for n in re.findall(rf'<tr id="{kind}-(\d+)"', page)]


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit_actions(db) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def fresh(db, model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def fee_invoice(world, db, make_client, *, store: str, amount: str = "900", acm=None) -> Invoice:
    """An invoice of customization fees for a new client of `acm` (Mona by default)."""
    acm = acm or world["acm"]
    client = make_client(acm=acm, store_name=store)
    invoice = invoices.issue_invoice(
        client, actor=acm, fees=[Fee("Custom banner", amount)], due_on=TODAY + timedelta(days=9)
    )
    db.session.commit()
    return invoice


def wire(world, db, invoice: Invoice, amount: str = "12000.00") -> Payment:
    payment = payments.report_wire_transfer(
        invoice, actor=invoice.client.acm, amount=amount, reference="CIB 778812"
    )
    db.session.commit()
    return payment


def at_premises(world, db, invoice: Invoice) -> Invoice:
    """R5: the client said it will pay at the premises; finance agreed."""
    issue = payments.raise_payment_issue(invoice, actor=invoice.client.acm, note="Cash only.")
    payments.resolve_payment_issue(issue, actor=world["finance"], new_method="premises")
    db.session.commit()
    return invoice


# --- Finance's queue ----------------------------------------------------------------------


def test_finance_lands_on_four_sections_that_say_when_they_are_empty(world, login_as):
    response = login_as(world["finance"]).get("/finance/")
    assert response.status_code == 200
    page = text_of(response)
    for name in SECTIONS:
        assert "Nothing here." in section(page, name)
    assert "Wire transfers waiting for confirmation" in page
    assert "Installments due within a week, and overdue" in page


def test_wires_show_client_amount_reporter_and_age_the_flagged_first(
    world, db, login_as, make_client, frozen_clock
):
    """R7: flagged once unconfirmed 4 days after the report, and listed first."""
    _, first = invoiced(world, db)
    older = wire(world, db, first)
    clock.advance(timedelta(days=2))
    newer = wire(world, db, fee_invoice(world, db, make_client, store="Delta Dates"), "900")
    frozen_clock(NOW + timedelta(days=5))
    payments.flag_late_wire_transfers(now=clock.now())
    db.session.commit()

    page = text_of(login_as(world["finance"]).get("/finance/"))
    assert row_ids(page, "wire") == [older.id, newer.id]
    flagged = row(page, f"wire-{older.id}")
    for shown in ("Nile Crafts", "NILE01", first.number, "EGP12,000.00", "Mona Adel", "5 days"):
        assert shown in flagged
    assert 'class="badge badge-flagged">Flagged<' in flagged
    assert "Flagged: not confirmed 4 days after it was reported" in section(page, "wires")
    recent = row(page, f"wire-{newer.id}")
    assert "Delta Dates" in recent and "EGP900.00" in recent and "3 days" in recent
    assert "Flagged" not in recent
    assert "Confirm or reject…" in recent and "<form" not in recent  # issue 17


def received(amount: str = "12000.00", on: str = "2026-11-23") -> dict[str, str]:
    return {"received_amount": amount, "received_on": on}


def test_confirming_is_a_step_that_shows_both_amounts_then_swaps_the_row_R7(world, db, login_as):
    """R7: the step shows what was reported beside what the invoice owes, with both filled
    in; finance records the amount and day received; the row shows who confirmed."""
    renewal, invoice = invoiced(world, db)
    payment = wire(world, db, invoice)
    http = login_as(world["finance"])
    listed = row(text_of(http.get("/finance/")), f"wire-{payment.id}")
    assert "EGP12,000.00" in listed and "Owes EGP12,000.00" in listed
    assert "Confirm or reject…" in listed and "received_amount" not in listed  # not one click

    step = http.get(f"/finance/payments/{payment.id}/confirm", headers=HTMX)
    assert step.status_code == 200
    html = text_of(step)
    assert html.lstrip().startswith(f'<tr id="wire-{payment.id}"') and "<html" not in html
    assert "Reported <strong>EGP12,000.00</strong>; the invoice owes <strong>EGP12,000.00" in html
    assert 'value="12000.00"' in html and 'value="2026-11-23"' in html
    assert fresh(db, Payment, payment.id).payment_status is PaymentStatus.REPORTED

    response = http.post(f"/finance/payments/{payment.id}/confirm", data=received(), headers=HTMX)
    assert response.status_code == 200
    html = text_of(response)
    assert html.lstrip().startswith(f'<tr id="wire-{payment.id}"') and "<html" not in html
    assert "Confirmed" in html and "received on 23 Nov 2026" in html
    assert "by Heba Finance" in html and "Invoice paid" in html
    assert f"confirmed; invoice {invoice.number} is paid." in html  # the flash, out of band
    assert fresh(db, Invoice, invoice.id).invoice_status is InvoiceStatus.PAID
    assert renewal.renewal_stage is RenewalStage.PAID
    confirmation = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "payment.confirm")
    ).one()
    assert confirmation.actor_id == world["finance"].id and confirmation.object_id == payment.id
    assert "Nothing here." in section(text_of(http.get("/finance/")), "wires")

    again = http.post(f"/finance/payments/{payment.id}/confirm", data=received(), headers=HTMX)
    assert again.status_code == 422
    assert "This payment is confirmed already." in row(text_of(again), f"wire-{payment.id}")
    assert audit_actions(db).count("payment.confirm") == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (received(amount="12000.01"), "received_amount", "record at most that"),
        (received(amount="12.000,00"), "received_amount", "Write the amount as"),
        (received(amount="Infinity"), "received_amount", "in figures"),
        (received(on="2026-11-24"), "received_on", "to today"),
        (received(on="9999-12-31"), "received_on", "from 1 Jan 2000"),
        (received(on=""), "received_on", "Give the day it arrived."),
    ],
)
def test_a_confirmation_that_does_not_add_up_is_refused_on_its_field_R7(
    world, db, login_as, data, field, message
):
    _, invoice = invoiced(world, db)
    payment = wire(world, db, invoice)
    response = login_as(world["finance"]).post(
        f"/finance/payments/{payment.id}/confirm", data=data, headers=HTMX
    )
    assert response.status_code == 422
    html = text_of(response)
    assert html.lstrip().startswith(f'<tr id="wire-{payment.id}"')
    assert message in field_errors(html, f"wire-{payment.id}-{field}")
    assert fresh(db, Payment, payment.id).payment_status is PaymentStatus.REPORTED
    assert "payment.confirm" not in audit_actions(db)


def test_a_wire_short_of_the_invoice_leaves_it_owing_the_rest(world, db, login_as):
    _, invoice = invoiced(world, db)
    payment = wire(world, db, invoice, amount="5000")
    response = login_as(world["finance"]).post(
        f"/finance/payments/{payment.id}/confirm", data=received(amount="5000"), headers=HTMX
    )
    assert "The invoice still owes EGP7,000.00." in text_of(response)
    assert fresh(db, Invoice, invoice.id).invoice_status is InvoiceStatus.UNPAID


def test_finance_rejects_a_report_with_its_reason_and_the_acm_is_told_R7(world, db, login_as):
    _, invoice = invoiced(world, db)
    payment = wire(world, db, invoice)
    http = login_as(world["finance"])
    url = f"/finance/payments/{payment.id}/reject"
    step = text_of(http.get(f"/finance/payments/{payment.id}/confirm", headers=HTMX))
    assert f'hx-post="{url}"' in step and f'id="wire-reject-{payment.id}-reason"' in step
    refused = http.post(url, data={"reason": " "}, headers=HTMX)
    assert refused.status_code == 422
    assert "Say what finance found" in field_errors(
        text_of(refused), f"wire-reject-{payment.id}-reason"
    )
    assert fresh(db, Payment, payment.id).payment_status is PaymentStatus.REPORTED

    response = http.post(url, data={"reason": "No transfer from CIB this week."}, headers=HTMX)
    assert response.status_code == 200
    html = text_of(response)
    assert "Rejected" in html and "No transfer from CIB this week." in html
    assert fresh(db, Payment, payment.id).payment_status is PaymentStatus.REJECTED
    assert fresh(db, Invoice, invoice.id).invoice_status is InvoiceStatus.UNPAID
    told = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert told.to_addrs == ["mona@kam.example"] and "not found by finance" in told.subject
    assert "Nothing here." in section(text_of(http.get("/finance/")), "wires")


def test_without_javascript_confirming_is_a_page_and_comes_back_to_the_queue(world, db, login_as):
    _, invoice = invoiced(world, db)
    payment = wire(world, db, invoice)
    http = login_as(world["finance"])
    page = text_of(http.get(f"/finance/payments/{payment.id}/confirm"))
    assert "<html" in page and "Confirm a wire transfer" in page and 'value="12000.00"' in page
    refused = http.post(f"/finance/payments/{payment.id}/confirm", data=received(on=""))
    assert refused.status_code == 422 and "<html" in text_of(refused)
    response = http.post(f"/finance/payments/{payment.id}/confirm", data=received())
    assert response.status_code == 303 and response.headers["Location"] == "/finance/"
    page = text_of(http.get("/finance/"))
    assert f"Wire transfer of EGP12,000.00 confirmed; invoice {invoice.number} is paid." in page
    assert fresh(db, Payment, payment.id).payment_status is PaymentStatus.CONFIRMED


def test_a_payment_at_the_premises_is_recorded_in_place_until_paid(world, db, login_as):
    """R6: amount and receipt; a part payment leaves the rest due, prefilled. The form
    opens on demand (issue 17): in the row (HTMX), or on a page with that row alone."""
    invoice = at_premises(world, db, invoiced(world, db)[1])
    http = login_as(world["finance"])
    url = f"/finance/invoices/{invoice.id}/premises"
    listed = row(text_of(http.get("/finance/")), f"premises-{invoice.id}")
    assert "Nile Crafts" in listed and "EGP12,000.00" in listed and "<form" not in listed
    assert f'href="{url}" hx-get="{url}"' in listed
    opened = text_of(http.get(url, headers=HTMX))
    assert opened.lstrip().startswith(f'<tr id="premises-{invoice.id}"') and "<html" not in opened
    assert 'value="12000.00"' in opened
    page = text_of(http.get(url))
    assert "<html" in page and 'value="12000.00"' in page and "<h2>Wire transfers" not in page

    part = http.post(url, data={"amount": "5000", "receipt_number": "CAI-0091"}, headers=HTMX)
    assert part.status_code == 200
    html = text_of(part)
    assert html.lstrip().startswith(f'<tr id="premises-{invoice.id}"') and "<html" not in html
    assert "Recorded EGP5,000.00, receipt CAI-0091, by Heba Finance" in html
    assert "EGP7,000.00" in html and 'value="7000.00"' in html
    assert fresh(db, Invoice, invoice.id).invoice_status is InvoiceStatus.UNPAID

    rest = http.post(url, data={"amount": "7000.00", "receipt_number": "CAI-0092"}, headers=HTMX)
    html = text_of(rest)
    assert "receipt CAI-0092" in html and "Invoice paid" in html
    assert "Record the payment" not in html
    assert fresh(db, Invoice, invoice.id).invoice_status is InvoiceStatus.PAID
    receipts = db.session.scalars(select(Payment.receipt_number).order_by(Payment.id)).all()
    assert receipts == ["CAI-0091", "CAI-0092"]
    assert "Nothing here." in section(text_of(http.get("/finance/")), "premises")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "12000", "receipt_number": "  "}, "receipt_number", "Give the receipt number"),
        (
            {"amount": "12.000,50", "receipt_number": "R-1"},
            "amount",
            "Write the amount as 1,250.50",
        ),
        ({"amount": "1e30", "receipt_number": "R-1"}, "amount", "Give an amount in figures"),
        ({"amount": "sNaN", "receipt_number": "R-1"}, "amount", "Give an amount in figures"),
        ({"amount": "99999999999999", "receipt_number": "R-1"}, "amount", "too large"),
        ({"amount": "", "receipt_number": "R-1"}, "amount", "Give an amount"),
        ({"amount": "100.005", "receipt_number": "R-1"}, "amount", "at most 2 decimals"),
        ({"amount": "0", "receipt_number": "R-1"}, "amount", "more than zero"),
        ({"amount": "10", "receipt_number": "R" * 61}, "receipt_number", "60 characters"),
    ],
)
def test_a_refused_payment_at_the_premises_shows_why_and_saves_nothing(
    world, db, login_as, data, field, message
):
    invoice = at_premises(world, db, invoiced(world, db)[1])
    audit_before = len(audit_actions(db))
    response = login_as(world["finance"]).post(
        f"/finance/invoices/{invoice.id}/premises", data=data, headers=HTMX
    )
    assert response.status_code == 422
    html = text_of(response)
    assert html.lstrip().startswith(f'<tr id="premises-{invoice.id}"')
    assert message in field_errors(html, f"premises-{invoice.id}-{field}")
    assert count(db, Payment) == 0
    assert fresh(db, Invoice, invoice.id).invoice_status is InvoiceStatus.UNPAID
    assert len(audit_actions(db)) == audit_before


def test_without_javascript_a_refused_payment_shows_the_queue_with_the_rows_error(
    world, db, login_as
):
    invoice = at_premises(world, db, invoiced(world, db)[1])
    response = login_as(world["finance"]).post(
        f"/finance/invoices/{invoice.id}/premises", data={"amount": "12000", "receipt_number": ""}
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "<html" in page and 'id="wires"' in page
    assert "Give the receipt number handed over." in row(page, f"premises-{invoice.id}")
    assert count(db, Payment) == 0


def test_a_payment_issue_is_settled_on_the_channel_finance_agreed(world, db, login_as):
    """R5: the ACM's note shows; finance picks the channel; the premises list refreshes."""
    _, invoice = invoiced(world, db)
    issue = payments.raise_payment_issue(
        invoice, actor=world["acm"], note="Card declined twice; wants to pay in cash."
    )
    db.session.commit()
    http = login_as(world["finance"])
    listed = row(text_of(http.get("/finance/")), f"issue-{issue.id}")
    assert "Card declined twice; wants to pay in cash." in listed and "Mona Adel" in listed

    url = f"/finance/issues/{issue.id}/resolve"
    for channel, message in [
        ("", "Choose the payment channel agreed."),
        ("installments", "Installments are a plan the ACM makes (R10)"),
    ]:
        refused = http.post(url, data={"new_method": channel}, headers=HTMX)
        assert refused.status_code == 422
        assert message in field_errors(text_of(refused), f"issue-{issue.id}-new_method")
        assert fresh(db, PaymentIssue, issue.id).status == "open"

    done = http.post(
        url, data={"new_method": "premises", "note": "Cairo office, Sunday."}, headers=HTMX
    )
    assert done.status_code == 200
    html = text_of(done)
    assert html.lstrip().startswith(f'<tr id="issue-{issue.id}"')
    assert "Resolved" in html and "At the premises" in html and "Cairo office, Sunday." in html
    assert "payment-channel-changed" in json.loads(done.headers["HX-Trigger"])
    assert fresh(db, Invoice, invoice.id).method == "premises"
    page = text_of(http.get("/finance/"))
    assert "Nothing here." in section(page, "issues")
    assert row_ids(section(page, "premises"), "premises") == [invoice.id]


def test_installments_due_within_a_week_or_overdue_are_marked_paid_online(
    world, db, login_as, frozen_clock
):
    """R10: the installment due in 5 days shows, later ones not yet; once past its date it
    is overdue. Marked paid online in one click."""
    _, invoice = invoiced(world, db)
    plan = invoices.split_into_installments(
        invoice, actor=world["acm"], due_dates=[TODAY + timedelta(days=d) for d in (5, 40, 70)]
    )
    db.session.commit()
    http = login_as(world["finance"])
    page = text_of(http.get("/finance/"))
    assert row_ids(page, "installment") == [plan[0].id]
    assert "Overdue" not in section(page, "installments")

    frozen_clock(NOW + timedelta(days=36))
    sign_in(http, world["finance"])  # weeks later: a new sign-in
    page = text_of(http.get("/finance/"))
    assert row_ids(page, "installment") == [plan[0].id, plan[1].id]
    late = row(page, f"installment-{plan[0].id}")
    assert "Overdue" in late and "EGP4,000.00" in late and "(installment 1 of 3)" in late
    assert "Overdue" not in row(page, f"installment-{plan[1].id}")

    response = http.post(f"/finance/invoices/{plan[0].id}/paid-online", headers=HTMX)
    assert response.status_code == 200
    html = text_of(response)
    assert html.lstrip().startswith(f'<tr id="installment-{plan[0].id}"')
    assert "Paid" in html and "Mark paid online" not in html and "Overdue" not in html
    [payment] = fresh(db, Invoice, plan[0].id).payments
    assert payment.method == "online" and payment.amount == Decimal("4000.00")
    assert fresh(db, Invoice, plan[0].id).invoice_status is InvoiceStatus.PAID
    assert fresh(db, Invoice, invoice.id).invoice_status is InvoiceStatus.SPLIT  # 2 to go

    again = http.post(f"/finance/invoices/{plan[0].id}/paid-online", headers=HTMX)
    assert again.status_code == 422
    assert "This invoice is paid: nothing to pay on it." in text_of(again)
    assert count(db, Payment) == 1


@pytest.fixture
def finance_work(world, db, make_client):
    """One of each: a wire to confirm, an invoice at the premises, an open issue, an
    installment due in 3 days; and a discount asked of commercial."""
    _, invoice = invoiced(world, db)
    payment = wire(world, db, invoice)
    premises = at_premises(
        world, db, fee_invoice(world, db, make_client, store="Delta Dates", amount="500")
    )
    disputed = fee_invoice(world, db, make_client, store="Sinai Spices", amount="700")
    issue = payments.raise_payment_issue(disputed, actor=world["acm"], note="No card.")
    split = fee_invoice(world, db, make_client, store="Aswan Art", amount="800")
    plan = invoices.split_into_installments(
        split, actor=world["acm"], due_dates=[TODAY + timedelta(days=3), TODAY + timedelta(40)]
    )
    quotation = discounts.request_discount(
        world["client"], actor=world["acm"], description="Loyalty", discount="1200"
    )
    db.session.commit()
    return {
        "payment": payment,
        "premises": premises,
        "issue": issue,
        "installment": plan[0],
        "quotation": quotation,
    }


@pytest.mark.parametrize("who", ["acm", "leader", "commercial"])
def test_only_finance_acts_on_finance_work(world, db, login_as, finance_work, who):
    """R5-R7, R10: an ACM, a leader or commercial posting to finance's actions gets 403,
    HTMX or not, and nothing changes."""
    work = finance_work
    http = login_as(world[who])
    audit_before = len(audit_actions(db))
    assert http.get("/finance/").status_code == 403
    assert http.get(f"/finance/payments/{work['payment'].id}/confirm").status_code == 403
    posts = [
        (f"/finance/payments/{work['payment'].id}/confirm", received()),
        (f"/finance/payments/{work['payment'].id}/reject", {"reason": "Never came"}),
        (
            f"/finance/invoices/{work['premises'].id}/premises",
            {"amount": "500", "receipt_number": "R-1"},
        ),
        (f"/finance/issues/{work['issue'].id}/resolve", {"new_method": "wire"}),
        (f"/finance/invoices/{work['installment'].id}/paid-online", {}),
    ]
    for url, data in posts:
        for headers in ({}, HTMX):
            assert http.post(url, data=data, headers=headers).status_code == 403, url
    db.session.expire_all()
    assert db.session.get(Payment, work["payment"].id).payment_status is PaymentStatus.REPORTED
    assert count(db, Payment) == 1
    assert db.session.get(PaymentIssue, work["issue"].id).status == "open"
    assert db.session.get(Invoice, work["issue"].invoice_id).method == "online"
    for key in ("premises", "installment"):
        assert db.session.get(Invoice, work[key].id).invoice_status is InvoiceStatus.UNPAID
    assert len(audit_actions(db)) == audit_before


def test_the_queue_issues_the_same_queries_for_3_or_15_items_a_section(
    world, db, login_as, make_client, make_user
):
    """Each row on its own client and ACM; some wires flagged, some premises part-paid."""
    http = login_as(world["finance"])
    added = [0]

    def add(n: int) -> None:
        for _ in range(n):
            i = added[0] = added[0] + 1
            stores = [
                fee_invoice(
                    world,
                    db,
                    make_client,
                    store=f"{kind} {i:02d}",
                    acm=make_user(Role.ACM, team=world["team"], name=f"ACM {kind} {i}"),
                )
                for kind in SECTIONS
            ]
            payment = wire(world, db, stores[0], amount="900")
            if i % 3 == 0:
                payment.flagged_at = clock.now()
            at_premises(world, db, stores[1])
            if i % 2 == 0:
                payments.record_premises_payment(
                    stores[1], actor=world["finance"], amount="100", receipt_number=f"R{i}"
                )
            payments.raise_payment_issue(stores[2], actor=stores[2].client.acm, note=f"#{i}")
            invoices.split_into_installments(
                stores[3],
                actor=stores[3].client.acm,
                due_dates=[TODAY + timedelta(days=2), TODAY + timedelta(days=40)],
            )
            db.session.commit()

    def measure(expected: int) -> int:
        with counting_queries(db.engine) as statements:
            response = http.get("/finance/")
        assert response.status_code == 200
        page = text_of(response)
        for kind in ("wire", "premises", "issue", "installment"):
            assert len(row_ids(page, kind)) == expected, kind
        return len(statements)

    add(3)
    few = measure(3)
    add(12)
    assert measure(15) == few


# --- Where to find them ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "links", "not_links"),
    [
        ("finance", ["/finance/", "/renewals/forecast"], ["/discounts/"]),
        ("commercial", ["/discounts/"], ["/finance/", "/renewals/forecast"]),
        ("leader", ["/renewals/forecast"], ["/finance/", "/discounts/"]),
    ],
)
def test_each_role_finds_its_queue_from_the_start_page(world, login_as, who, links, not_links):
    page = text_of(login_as(world[who]).get("/"))
    for link in links:
        assert f'href="{link}"' in page
    for link in not_links:
        assert f'href="{link}"' not in page


def test_an_admin_finds_every_queue_in_the_menu(world, login_as):
    page = text_of(login_as(Role.ADMIN).get("/"))
    nav = page[page.index('class="mainnav"') : page.index("</nav>")]
    for link in ("/finance/", "/discounts/", "/renewals/forecast"):
        assert f'href="{link}"' in nav


@pytest.mark.parametrize(
    ("who", "heading"), [("finance", "Finance"), ("commercial", "Pricing and discounts")]
)
def test_finance_and_commercial_land_on_their_queue(world, login_as, who, heading):
    """The start page of finance is its queue (R5-R7, R10), of commercial the discounts
    to decide (R9), as the ACM's is their day."""
    page = text_of(login_as(world[who]).get("/"))
    assert f"<h1>{heading} " in page


def test_at_0130_in_cairo_finance_reads_the_cairo_date_and_yesterdays_installment_is_late(
    world, db, login_as, frozen_clock
):
    """The page's date is the viewer's (Heba, in Cairo), and an installment of a Cairo
    client due on the 12th is overdue from 00:00 on the 13th in Cairo (R10, R4), though
    UTC's date is still the 12th."""
    _, invoice = invoiced(world, db)
    plan = invoices.split_into_installments(
        invoice, actor=world["acm"], due_dates=[date(2026, 12, 12), date(2027, 1, 12)]
    )
    world["finance"].timezone = "Africa/Cairo"
    db.session.commit()
    cairo_0130 = datetime(2026, 12, 12, 23, 30, tzinfo=UTC)

    frozen_clock(cairo_0130 - timedelta(hours=2))  # 23:30 on the 12th in Cairo
    http = login_as(world["finance"])
    page = text_of(http.get("/finance/"))
    assert "12 Dec 2026 · times shown in Africa/Cairo" in page
    assert "Overdue" not in row(page, f"installment-{plan[0].id}")

    frozen_clock(cairo_0130)
    page = text_of(http.get("/finance/"))
    assert "13 Dec 2026 · times shown in Africa/Cairo" in page
    assert "Overdue" in row(page, f"installment-{plan[0].id}")
