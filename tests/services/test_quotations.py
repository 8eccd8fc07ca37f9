"""The quotation without HTTP (C4, R9, C6, R8): product's period and commercial's price in
either order, the quotation ready; its discount asked by the ACM and decided by commercial,
or given while pricing; the invoice alone or with the renewal, the discount on it once.
The seed's example end to end: a 1,000 USD customization with a 3,000 USD renewal, 30%
on both, one invoice of 2,800 USD."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.models import (
    CustomizationStage,
    InvoiceLine,
    QuotationStatus,
    RenewalStage,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import day, discounts, invoices, quotations
from tests.services import quotation_world
from tests.services.quotation_world import TODAY, accepted, at_invoicing, confirmed_renewal

world = quotation_world.world


def kinds(db, client) -> list[str]:
    return list(
        db.session.scalars(
            select(TimelineEvent.kind)
            .where(TimelineEvent.client_id == client.id)
            .order_by(TimelineEvent.id)
        )
    )


@pytest.mark.parametrize("period_first", [True, False])
def test_period_and_price_in_either_order_make_the_quotation_ready_C4(world, db, period_first):
    request = accepted(world, db)
    assert request.customization_stage is CustomizationStage.PRICING
    assert request in quotations.to_estimate() and request in quotations.to_price()

    def period():
        quotations.estimate_period(request, actor=world["product"], days=20)

    def price():
        quotations.set_price(request, actor=world["commercial"], amount="1,000")

    first, second = (period, price) if period_first else (price, period)
    first()
    db.session.commit()
    assert request.customization_stage is CustomizationStage.PRICING
    second()
    db.session.commit()
    assert request.customization_stage is CustomizationStage.CONCEPT
    quotation = quotations.quotation_of(request)
    assert (quotation.price, quotation.currency, quotation.period_days) == (
        Decimal("1000.00"),
        "USD",
        20,
    )
    assert quotation.quotation_status is QuotationStatus.NONE
    assert TimelineKind.QUOTATION_READY.value in kinds(db, world["client"])
    assert quotations.to_estimate() == [] and quotations.to_price() == []
    with pytest.raises(RuleViolation) as refused:
        quotations.set_price(request, actor=world["commercial"], amount="900")
    assert refused.value.rule == "C4"


def test_who_estimates_and_who_prices_C4(world, db):
    request = accepted(world, db)
    for actor in (world["acm"], world["commercial"]):
        with pytest.raises(NotAllowed):
            quotations.estimate_period(request, actor=actor, days=10)
    for actor in (world["acm"], world["product"]):
        with pytest.raises(NotAllowed):
            quotations.set_price(request, actor=actor, amount="1000")


@pytest.mark.parametrize("days", [0, -1, 731, 10**12, None, "ten", 2.5])
def test_a_period_is_1_to_730_days_C4(world, db, days):
    request = accepted(world, db)
    with pytest.raises(ValidationError) as refused:
        quotations.estimate_period(request, actor=world["product"], days=days)
    assert refused.value.field == "days"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": "0"}, "price"),
        ({"amount": "1e30"}, "price"),
        ({"amount": "12.345"}, "price"),
        ({"amount": "abc\x00"}, "price"),
        ({"amount": "1000", "currency": "XXZ"}, "currency"),
        ({"amount": "1000", "discount_percent": "100"}, "discount_percent"),
        ({"amount": "1000", "discount_percent": "0"}, "discount_percent"),
        ({"amount": "1000", "discount_percent": "12.345"}, "discount_percent"),
        ({"amount": "1000", "discount_percent": "NaN"}, "discount_percent"),
        ({"amount": "1000", "discount_amount": "1000"}, "discount_amount"),
        ({"amount": "1000", "discount_percent": "5", "discount_amount": "5"}, "discount_amount"),
        ({"amount": "1000", "discount_percent": "5", "covers": "all"}, "covers"),
    ],
)
def test_bad_prices_and_discounts_are_refused_C4_R9(world, db, fields, field):
    request = accepted(world, db)
    with pytest.raises(ValidationError) as refused:
        quotations.set_price(request, actor=world["commercial"], **fields)
    assert refused.value.field == field
    assert request.price is None


def test_only_a_request_being_priced_takes_a_period_or_a_price_C4(world, db):
    request = accepted(world, db)
    request.stage = CustomizationStage.DECISION.value
    with pytest.raises(RuleViolation):
        quotations.estimate_period(request, actor=world["product"], days=5)
    with pytest.raises(RuleViolation):
        quotations.set_price(request, actor=world["commercial"], amount="5")


def test_the_acm_asks_for_a_discount_commercial_rejects_then_approves_R9(world, db):
    request = accepted(world, db)
    with pytest.raises(RuleViolation):  # nothing priced: no quotation yet
        quotations.request_discount(request, actor=world["acm"], percent="10")
    quotations.set_price(request, actor=world["commercial"], amount="1000")
    with pytest.raises(NotAllowed):
        quotations.request_discount(request, actor=world["other_acm"], percent="10")
    with pytest.raises(ValidationError):
        quotations.request_discount(request, actor=world["acm"])
    quotation = quotations.request_discount(request, actor=world["acm"], percent="40")
    db.session.commit()
    assert quotation.quotation_status is QuotationStatus.REQUESTED
    assert discounts.discount_queue()[0] == [quotation]
    with pytest.raises(RuleViolation):
        quotations.request_discount(request, actor=world["acm"], percent="30")
    with pytest.raises(ValidationError):
        discounts.decide_discount(quotation, actor=world["commercial"], approve=False)
    discounts.decide_discount(
        quotation, actor=world["commercial"], approve=False, note="Above policy."
    )
    quotations.request_discount(request, actor=world["acm"], amount="150")
    discounts.decide_discount(quotation, actor=world["commercial"], approve=True)
    db.session.commit()
    assert (quotation.discount, quotation.discount_percent, quotation.status) == (
        Decimal("150.00"),
        None,
        "approved",
    )
    assert quotation.decision_note is None


def test_the_invoice_waits_for_the_approved_concept_and_for_commercial_C6_R9(world, db):
    request = quotation_world.quoted(world, db)
    with pytest.raises(RuleViolation) as refused:
        quotations.issue_invoice(request, actor=world["acm"], due_on=TODAY)
    assert refused.value.rule == "C6"
    request.stage = CustomizationStage.INVOICING.value
    quotations.request_discount(request, actor=world["acm"], percent="10")
    with pytest.raises(RuleViolation) as refused:
        quotations.issue_invoice(request, actor=world["acm"], due_on=TODAY)
    assert refused.value.rule == "R9"
    with pytest.raises(NotAllowed):
        quotations.issue_invoice(request, actor=world["other_acm"], due_on=TODAY)


def test_the_fee_alone_with_a_percent_on_the_fee_C6_R9(world, db):
    request = at_invoicing(world, db, discount_percent="12.5")
    invoice = quotations.issue_invoice(request, actor=world["acm"], due_on=TODAY)
    db.session.commit()
    assert [(line.kind, line.amount) for line in invoice.lines] == [
        ("customization", Decimal("1000.00")),
        ("discount", Decimal("-125.00")),
    ]
    assert invoice.total == Decimal("875.00") and invoice.currency == "USD"
    assert (request.invoice_id, request.customization_stage) == (
        invoice.id,
        CustomizationStage.PAYMENT,
    )
    assert quotations.quotation_of(request).used_on_invoice_id == invoice.id
    assert TimelineKind.CUSTOMIZATION_INVOICED.value in kinds(db, world["client"])
    with pytest.raises(RuleViolation):
        quotations.issue_invoice(request, actor=world["acm"], due_on=TODAY)


def test_with_the_renewal_needs_a_confirmed_renewal_R8(world, db):
    request = at_invoicing(world, db)
    with pytest.raises(RuleViolation) as refused:
        quotations.issue_invoice(request, actor=world["acm"], due_on=TODAY, with_renewal=True)
    assert refused.value.rule == "R8"


def test_an_amount_covering_the_fee_alone_is_taken_from_the_fee_R9(world, db):
    request = at_invoicing(world, db, discount_amount="200")
    renewal = confirmed_renewal(world, db)
    invoice = quotations.issue_invoice(request, actor=world["acm"], due_on=TODAY, with_renewal=True)
    assert [line.amount for line in invoice.lines] == [
        Decimal("3000.00"),
        Decimal("1000.00"),
        Decimal("-200.00"),
    ]
    assert renewal.renewal_stage is RenewalStage.INVOICED


def seed_example(world, db, adapter=None):
    """The seed: a 1k USD customization and a 3k USD renewal, paid together with the 30%
    sales approved on both: one invoice of 2,800 USD."""
    request = quotation_world.accepted(world, db)
    quotations.set_price(request, actor=world["commercial"], amount="1000")
    quotations.estimate_period(request, actor=world["product"], days=30)
    quotation = quotations.request_discount(
        request, actor=world["acm"], percent="30", covers="fee_and_renewal"
    )
    discounts.decide_discount(quotation, actor=world["commercial"], approve=True)
    request.stage = CustomizationStage.INVOICING.value  # the concept document approved
    db.session.commit()
    assert request in quotations.invoices_owed_by(world["acm"])
    renewal = confirmed_renewal(world, db)
    invoice = quotations.issue_invoice(
        request, actor=world["acm"], due_on=renewal.due_on, with_renewal=True, adapter=adapter
    )
    db.session.commit()
    return request, renewal, invoice


def test_the_seeds_example_one_invoice_of_2800_R8_R9(world, db):
    request, renewal, invoice = seed_example(world, db)
    assert [(line.kind, line.description, line.amount) for line in invoice.lines] == [
        ("renewal", f"Subscription renewal from {renewal.due_on:%d %b %Y}", Decimal("3000.00")),
        ("customization", "Customization: Loyalty points", Decimal("1000.00")),
        (
            "discount",
            "Discount (30%) on the customization fee and the renewal invoiced with it",
            Decimal("-1200.00"),
        ),
    ]
    assert invoice.total == Decimal("2800.00")
    assert invoice.billing_system == "portal" and invoice.number
    assert renewal.invoice_id == invoice.id == request.invoice_id
    assert quotations.invoices_owed_by(world["acm"]) == []
    discount = db.session.scalar(select(InvoiceLine).where(InvoiceLine.kind == "discount"))
    assert discount.quotation_id == quotations.quotation_of(request).id
    assert "SAL" not in " ".join(line.description for line in invoice.lines)


def test_the_invoice_owed_is_on_the_acms_day_C6(world, db):
    request = at_invoicing(world, db)
    section = day.section(world["acm"], "customization_invoices", now=quotation_world.NOW)
    assert [item.customization for item in section.items] == [request]
    assert (
        day.section(world["other_acm"], "customization_invoices", now=quotation_world.NOW).items
        == []
    )


def test_a_legacy_stand_alone_discount_stays_usable_once_R9(world, db):
    """Stand-alone discounts asked before quotations (no request): an amount, off the
    renewal invoice, once."""
    renewal = confirmed_renewal(world, db)
    legacy = discounts.request_discount(
        world["client"], actor=world["acm"], description="Loyalty", discount="300"
    )
    discounts.decide_discount(legacy, actor=world["commercial"], approve=True)
    assert invoices.client_billing(world["client"]).usable_discounts == [legacy]
    invoice = invoices.issue_invoice(
        world["client"], actor=world["acm"], renewal=renewal, due_on=TODAY, quotation=legacy
    )
    assert invoice.total == Decimal("2700.00")
    assert invoices.client_billing(world["client"]).usable_discounts == []


def test_a_customization_discount_does_not_go_on_a_renewal_alone_R9(world, db):
    request = at_invoicing(world, db, discount_percent="10", covers="fee_and_renewal")
    renewal = confirmed_renewal(world, db)
    assert invoices.client_billing(world["client"]).usable_discounts == []
    with pytest.raises(RuleViolation):
        invoices.issue_invoice(
            world["client"],
            actor=world["acm"],
            renewal=renewal,
            due_on=TODAY,
            quotation=quotations.quotation_of(request),
        )


def test_a_discount_that_may_cover_the_renewal_says_the_fee_on_an_invoice_without_it_R9(world, db):
    request = at_invoicing(world, db, discount_percent="30", covers="fee_and_renewal")
    invoice = quotations.issue_invoice(request, actor=world["acm"], due_on=TODAY)
    assert [(line.kind, line.description, line.amount) for line in invoice.lines][-1] == (
        "discount",
        "Discount (30%) on the customization fee",
        -(request.price * Decimal("0.3")).quantize(Decimal("0.01")),
    )
