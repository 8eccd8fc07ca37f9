"""Discounts without HTTP (R9): only a quotation commercial approved goes on an invoice,
as a negative line, once; a rejection needs a reason and stays off invoices."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.services import discounts, invoices
from kamportal.services.invoices import Fee
from tests.services import renewal_world
from tests.services.renewal_world import TODAY, confirmed

# Monday 23 Nov 2026, 09:00 UTC: Mona Adel (ACM, team Cairo, led by Layla Nour) looks after
# Nile Crafts (NILE01, 12000 EGP a year, due in 20 days); Heba Finance; Hany Commercial;
# Omar, an ACM of team Dubai (tests/services/renewal_world.py).
world = renewal_world.world


def test_a_discount_needs_a_quotation_commercial_approved(world, db):
    """R9: requested or rejected is refused; approved goes on once, as a negative line."""
    renewal = confirmed(world, db)
    quotation = discounts.request_discount(
        world["client"], actor=world["acm"], description="Loyalty, 3rd year", discount="1200"
    )
    db.session.commit()

    def issue():
        return invoices.issue_invoice(
            world["client"],
            actor=world["acm"],
            renewal=renewal,
            due_on=renewal.due_on,
            quotation=quotation,
        )

    with pytest.raises(RuleViolation) as refused:
        issue()
    assert refused.value.rule == "R9" and "approved by commercial" in refused.value.message
    with pytest.raises(NotAllowed):
        discounts.decide_discount(quotation, actor=world["acm"], approve=True)
    discounts.decide_discount(quotation, actor=world["commercial"], approve=True)
    db.session.commit()
    invoice = issue()
    db.session.commit()
    assert [(line.kind, line.amount) for line in invoice.lines] == [
        ("renewal", Decimal("12000.00")),
        ("discount", Decimal("-1200.00")),
    ]
    assert invoice.total == Decimal("10800.00")
    assert quotation.used_on_invoice_id == invoice.id
    with pytest.raises(RuleViolation):
        invoices.issue_invoice(
            world["client"],
            actor=world["acm"],
            fees=[Fee("Banner", "100")],
            due_on=TODAY,
            quotation=quotation,
        )


def test_a_rejected_discount_needs_a_reason_and_stays_off_invoices(world, db):
    quotation = discounts.request_discount(
        world["client"], actor=world["acm"], description="Asked for 50%", discount="6000"
    )
    with pytest.raises(ValidationError):
        discounts.decide_discount(quotation, actor=world["commercial"], approve=False)
    discounts.decide_discount(
        quotation, actor=world["commercial"], approve=False, note="Above policy."
    )
    with pytest.raises(RuleViolation):
        discounts.decide_discount(quotation, actor=world["commercial"], approve=True)
    with pytest.raises(RuleViolation):
        invoices.issue_invoice(
            world["client"],
            actor=world["acm"],
            fees=[Fee("Banner", "100")],
            due_on=TODAY,
            quotation=quotation,
        )
