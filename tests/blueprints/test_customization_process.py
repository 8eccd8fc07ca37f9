"""The customization process as one piece (C1-C7): a request driven through every stage by
the services, its page and the client page's line saying at each stage where it stands
and what is owed next, by whom; the client page's panel in the same few queries whatever
its requests' number and stages; each stage refusing the others' steps, saying where the
request stands."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from kamportal import clock
from kamportal.errors import RuleViolation
from kamportal.models import (
    ClientLink,
    ConceptDocument,
    CustomizationRequest,
    CustomizationStage,
    Milestone,
    Quotation,
    QuotationStatus,
)
from kamportal.services import (
    client_links,
    concept_documents,
    customization_rejection,
    customizations,
    delivery,
    payments,
    quotations,
)
from tests.blueprints.test_query_counts import counting_queries
from tests.services import quotation_world
from tests.services.concept_world import write as write_concept
from tests.services.quotation_world import TODAY, accepted

world = quotation_world.world


def text(response) -> str:
    return response.get_data(as_text=True)


def header(page: str) -> tuple[str, str]:
    """The request page's stage badge and who owes the next step."""
    stage = re.search(r'id="customization-stage" data-stage="(\w+)"', page)
    owner = re.search(r'id="next-step"><span class="next-step[^"]*" data-owner="([^"]*)"', page)
    assert stage and owner, page[:2000]
    return stage.group(1), owner.group(1)


def panel_line(page: str, request: CustomizationRequest) -> str:
    return page.split(f'id="customization-{request.id}"', 1)[1].split("</li>", 1)[0]


def opened(world, title: str) -> CustomizationRequest:
    return customizations.open_request(
        world["client"],
        actor=world["acm"],
        title=title,
        end_result="x",
        users="x",
        done_when="x",
        wanted_by=TODAY + timedelta(days=40),
    )


def test_each_stage_says_what_is_next_and_by_whom_C2_to_C7(app, world, db, login_as):
    app.config["PUBLIC_URL"] = "http://localhost"
    acm, client = world["acm"], world["client"]
    http = login_as(acm)
    seen = []

    def look(request: CustomizationRequest) -> None:
        db.session.commit()
        stage, owner = header(text(http.get(f"/customizations/{request.id}")))
        line = panel_line(text(http.get(f"/clients/{client.id}?tab=growth")), request)
        assert f'data-stage="{stage}"' in line and f'data-owner="{owner}"' in line
        seen.append((stage, owner))

    held = opened(world, "Gift cards")
    look(held)
    customizations.decide(held, actor=world["product"], decision="on_hold", reason="Which one?")
    look(held)
    rejected = opened(world, "Own checkout")
    customizations.decide(rejected, actor=world["product"], decision="rejected", reason="No")
    look(rejected)
    customization_rejection.send_rejection(rejected, actor=acm, message="Sorry: no.")
    look(rejected)

    request = accepted(world, db)
    look(request)
    quotations.estimate_period(request, actor=world["product"], days=20)
    look(request)
    quotations.set_price(request, actor=world["commercial"], amount="1000")
    look(request)
    write_concept(request, actor=acm)
    look(request)
    concept_documents.send_concept(request, actor=acm)
    look(request)
    link = client_links.live_link(request, "concept")
    concept_documents.approve_by_link(link, name="Ali", agreed=True, address=None)
    look(request)
    quotations.request_discount(request, actor=acm, percent="10")
    look(request)
    quotation = quotations.quotation_of(request)
    quotation.status = QuotationStatus.APPROVED.value  # commercial's queue: another test's
    invoice = quotations.issue_invoice(request, actor=acm, due_on=TODAY + timedelta(days=7))
    look(request)
    payments.record_premises_payment(
        invoice, actor=world["finance"], amount=str(invoice.total), receipt_number="R1"
    )
    look(request)
    for milestone in request.milestones:
        delivery.update_milestone(
            milestone, actor=acm, due_on=milestone.due_on, owner_id=None, status="done"
        )
    look(request)
    delivery.record_acceptance(request, actor=acm, note="Yes, by email")
    look(request)
    delivery.close_request(request, actor=acm)
    look(request)
    survey = client_links.live_link(request, "survey")
    delivery.answer_survey(survey, score=5, comment="")
    db.session.commit()
    page = text(http.get(f"/customizations/{request.id}"))
    assert "Nothing more is owed." in page

    assert seen == [
        ("decision", "Product"),
        ("decision", "The account manager"),
        ("rejected", "The account manager"),
        ("rejected", ""),
        ("pricing", "Product and commercial"),
        ("pricing", "Commercial"),
        ("concept", "The account manager"),
        ("concept", "The account manager"),
        ("concept", "The client"),
        ("invoicing", "The account manager"),
        ("invoicing", "Commercial"),
        ("payment", "The client"),
        ("delivery", "The account manager"),
        ("delivery", "The client"),
        ("closing", "The account manager"),
        ("closed", "The client"),
    ]


def test_a_step_out_of_its_stage_is_refused_saying_where_the_request_stands(world, db):
    """C4-C7: one stage check, one kind of message."""
    request = accepted(world, db)
    refusals = [
        lambda: quotations.issue_invoice(request, actor=world["acm"], due_on=TODAY),
        lambda: concept_documents.send_concept(request, actor=world["acm"]),
        lambda: delivery.close_request(request, actor=world["acm"]),
        lambda: delivery.send_acceptance_link(request, actor=world["acm"]),
        lambda: customization_rejection.send_rejection(request, actor=world["acm"], message="x"),
    ]
    for refused in refusals:
        with pytest.raises(RuleViolation) as error:
            refused()
        assert error.value.message.endswith(f"Where {request.reference} stands: Being priced.")
    quotations.estimate_period(request, actor=world["product"], days=5)
    quotations.set_price(request, actor=world["commercial"], amount="100")
    with pytest.raises(RuleViolation, match=r"Where SAL-\d+ stands: Concept document"):
        quotations.estimate_period(request, actor=world["product"], days=6)


# --- The client page's panel: no N+1 ------------------------------------------------------------


def requests_at_every_stage(db, world, copies: int) -> None:
    """`copies` requests at each stage, with what each stage shows: the concept document
    and its link, the quotation, the milestones, the survey link."""
    client, acm, now = world["client"], world["acm"], clock.now()
    for n in range(copies):
        for stage in CustomizationStage:
            request = CustomizationRequest(
                client=client,
                opened_by=acm,
                opened_at=now,
                title=f"{stage.value} {n}",
                end_result="x",
                users="x",
                done_when="x",
                wanted_by=TODAY + timedelta(days=60),
                clock_started_at=now,
                decision_due_at=now + timedelta(hours=48),
                status="rejected" if stage is CustomizationStage.REJECTED else "accepted",
                decision_reason="x",
                decided_by=world["product"],
                stage=stage.value,
                estimated_days=10,
                price=Decimal("100"),
                price_currency="USD",
                paid_at=now,
            )
            db.session.add(request)
            db.session.flush()
            db.session.add(
                ConceptDocument(
                    request=request,
                    scope="x",
                    activities="x",
                    exit_criteria="x",
                    written_at=now,
                    updated_at=now,
                    sent_at=now,
                )
            )
            db.session.add(
                Quotation(
                    client_id=client.id,
                    request_id=request.id,
                    description="x",
                    price=Decimal("100"),
                    currency="USD",
                    status=QuotationStatus.REQUESTED.value,
                )
            )
            for position in (1, 2):
                db.session.add(
                    Milestone(
                        request=request,
                        position=position,
                        title=f"M{position}",
                        due_on=TODAY - timedelta(days=position),
                        owner=acm,
                    )
                )
            for purpose in ("concept", "survey"):
                db.session.add(
                    ClientLink(
                        request=request,
                        purpose=purpose,
                        nonce=f"{request.id}-{purpose}",
                        sent_to="ali@souq.example",
                        sent_at=now,
                        expires_at=now + timedelta(days=14),
                    )
                )
    db.session.commit()


def test_the_client_page_panel_keeps_its_queries_whatever_the_stages_C1_C7(world, db, login_as):
    http = login_as(world["acm"])
    url = f"/clients/{world['client'].id}?tab=growth"
    with counting_queries(db.engine) as statements:
        text(http.get(url))
    without = len(statements)
    counts = []
    for copies in (1, 3):
        requests_at_every_stage(db, world, copies)
        with counting_queries(db.engine) as statements:
            page = text(http.get(url))
        counts.append(len(statements))
        for stage in CustomizationStage:
            assert f'data-stage="{stage.value}"' in page
    assert counts[0] == counts[1], counts
    # The requests, their concept documents, links, quotations to invoice, milestones.
    assert counts[1] - without <= 5, (without, counts)
