"""P3: upsell and cross-sell opportunities: the pipeline's moves, a loss needs its reason,
a won customization starts its request (C1), and the forecast weighted by stage per month
and currency."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.models import (
    AuditEvent,
    CustomizationStatus,
    Money,
    Opportunity,
    Role,
    TimelineKind,
)
from kamportal.services import opportunities
from kamportal.services.opportunities import Details, PipelineFilter, ScopeOfWork
from tests.services.test_minutes import timeline_kinds


@pytest.fixture
def world(make_portfolio, frozen_clock):
    frozen_clock(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    return make_portfolio(team={"name": "Cairo"}, client={"currency": "EGP"})


def details(**changes) -> Details:
    values = {
        "kind": "marketplace_app",
        "title": "Loyalty app",
        "amount": "1,200.50",
        "currency": "EGP",
        "expected_close_on": date(2026, 12, 20),
    }
    return Details(**(values | changes))


def add(db, world, **changes) -> Opportunity:
    opportunity = opportunities.add_opportunity(
        world.client, actor=world.acm, details=details(**changes)
    )
    db.session.commit()
    return opportunity


def test_an_opportunity_is_identified_on_the_timeline_and_in_the_audit_log_P3(db, world):
    opportunity = add(db, world)
    assert opportunity.opportunity_stage.value == "identified"
    assert opportunity.money == Money(Decimal("1200.50"), "EGP")
    assert timeline_kinds(db, world.client) == [TimelineKind.OPPORTUNITY_ADDED.value]
    assert (
        db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "opportunity"))
        == "opportunity.add"
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "franchise"}, "kind"),
        ({"title": "  "}, "title"),
        ({"title": "Loyalty\x00app"}, "title"),
        ({"amount": "1e30"}, "amount"),
        ({"amount": "10.001"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"currency": "XXXX"}, "currency"),
        ({"expected_close_on": date(2099, 12, 31)}, "expected_close_on"),
        ({"expected_close_on": None}, "expected_close_on"),
    ],
)
def test_bad_details_are_refused_on_their_field_P3(db, world, changes, field):
    with pytest.raises(ValidationError) as refused:
        opportunities.add_opportunity(world.client, actor=world.acm, details=details(**changes))
    assert refused.value.field == field


def test_only_who_works_on_the_client_adds_one_P3(db, world, make_portfolio):
    stranger = make_portfolio(client=False).acm
    with pytest.raises(NotAllowed):
        opportunities.add_opportunity(world.client, actor=stranger, details=details())


def test_open_stages_move_either_way_and_each_move_is_on_the_timeline_P3(db, world):
    opportunity = add(db, world)
    for stage in ("proposed", "negotiating", "proposed", "identified", "negotiating"):
        opportunities.move_opportunity(opportunity, actor=world.acm, stage=stage)
        assert opportunity.stage == stage
    db.session.commit()
    kinds = timeline_kinds(db, world.client)
    assert kinds.count(TimelineKind.OPPORTUNITY_MOVED.value) == 5
    with pytest.raises(RuleViolation):
        opportunities.move_opportunity(opportunity, actor=world.acm, stage="negotiating")
    with pytest.raises(ValidationError):
        opportunities.move_opportunity(opportunity, actor=world.acm, stage="signed")


def test_lost_needs_a_reason_and_may_be_reopened_P3(db, world):
    opportunity = add(db, world)
    with pytest.raises(ValidationError) as refused:
        opportunities.move_opportunity(opportunity, actor=world.acm, stage="lost", reason=" ")
    assert refused.value.field == "reason"
    assert opportunity.stage == "identified"
    opportunities.move_opportunity(
        opportunity, actor=world.acm, stage="lost", reason="Chose a competitor's app"
    )
    assert (opportunity.stage, opportunity.lost_reason) == ("lost", "Chose a competitor's app")
    assert opportunity.closed_on == date(2026, 11, 30)
    assert opportunities.moves_of(opportunity) == list(opportunities.OPEN_STAGES)
    with pytest.raises(RuleViolation):
        opportunities.move_opportunity(opportunity, actor=world.acm, stage="won")
    opportunities.move_opportunity(opportunity, actor=world.acm, stage="proposed")
    assert opportunity.lost_reason is None and opportunity.closed_on is None
    db.session.commit()
    assert TimelineKind.OPPORTUNITY_LOST.value in timeline_kinds(db, world.client)


def test_a_won_opportunity_is_final_and_cannot_be_edited_P3(db, world):
    opportunity = add(db, world)
    opportunities.move_opportunity(opportunity, actor=world.acm, stage="won")
    assert opportunity.won_at is not None and opportunities.moves_of(opportunity) == []
    with pytest.raises(RuleViolation):
        opportunities.move_opportunity(opportunity, actor=world.acm, stage="proposed")
    with pytest.raises(RuleViolation):
        opportunities.edit_opportunity(opportunity, actor=world.acm, details=details())


def test_editing_records_what_changed_and_nothing_when_nothing_did_P3(db, world):
    opportunity = add(db, world)
    opportunities.edit_opportunity(opportunity, actor=world.acm, details=details())
    opportunities.edit_opportunity(
        opportunity, actor=world.acm, details=details(amount="2,000", currency="USD")
    )
    db.session.commit()
    assert opportunity.money == Money(Decimal("2000"), "USD")
    assert timeline_kinds(db, world.client).count(TimelineKind.OPPORTUNITY_UPDATED.value) == 1


def scope() -> ScopeOfWork:
    return ScopeOfWork(
        end_result="A gift-wrapping option at checkout",
        users="The store's customers",
        done_when="A test order shows the wrapping fee",
        wanted_by=date(2027, 1, 15),
    )


def test_a_won_customization_starts_its_request_with_the_scope_of_work_C1_P3(db, world):
    opportunity = add(db, world, kind="customization", title="Gift wrapping")
    assert opportunities.OpportunityStage.WON not in opportunities.moves_of(opportunity)
    with pytest.raises(ValidationError):
        opportunities.move_opportunity(opportunity, actor=world.acm, stage="won")
    assert opportunity.stage == "identified" and opportunity.customization_request is None
    opportunities.move_opportunity(opportunity, actor=world.acm, stage="won", scope=scope())
    db.session.commit()
    request = opportunity.customization_request
    assert opportunity.stage == "won"
    assert request.title == "Gift wrapping" and request.end_result.startswith("A gift")
    assert request.status == CustomizationStatus.AWAITING_DECISION.value
    kinds = timeline_kinds(db, world.client)
    assert TimelineKind.CUSTOMIZATION_REQUESTED.value in kinds
    assert TimelineKind.OPPORTUNITY_WON.value in kinds


def test_a_won_customization_without_a_full_scope_of_work_stays_open_C1(db, world):
    opportunity = add(db, world, kind="customization")
    blank = ScopeOfWork(end_result="x", users=" ", done_when="x", wanted_by=date(2027, 1, 1))
    with pytest.raises(ValidationError) as refused:
        opportunities.move_opportunity(opportunity, actor=world.acm, stage="won", scope=blank)
    assert refused.value.field == "users"


def test_forecast_weights_by_stage_per_month_and_currency_at_the_month_boundary_P3(db, world):
    """Open ones by their expected close month, won ones by the month they closed, from the
    reader's month on; an open one past its date is overdue."""
    acm = world.acm
    last_day = add(db, world, amount="1000", expected_close_on=date(2026, 11, 30))
    opportunities.move_opportunity(last_day, actor=acm, stage="negotiating")
    add(db, world, amount="1000", expected_close_on=date(2026, 12, 1))
    add(db, world, amount="500", currency="USD", expected_close_on=date(2026, 12, 31))
    won = add(db, world, amount="2000", expected_close_on=date(2027, 2, 1))
    opportunities.move_opportunity(won, actor=acm, stage="won")  # closed on 30 Nov
    lost = add(db, world, amount="9000", expected_close_on=date(2026, 12, 5))
    opportunities.move_opportunity(lost, actor=acm, stage="lost", reason="No budget")
    add(db, world, amount="7000", expected_close_on=date(2027, 6, 1))  # past six months
    db.session.commit()

    def cells(today: date) -> dict:
        found = opportunities.forecast(acm, PipelineFilter(), today=today)
        return {(c.month, c.currency): (c.weighted.amount, c.pipeline.amount) for c in found}

    assert cells(date(2026, 11, 30)) == {
        (date(2026, 11, 1), "EGP"): (Decimal("2600.00"), Decimal("3000.00")),
        (date(2026, 12, 1), "EGP"): (Decimal("100.00"), Decimal("1000.00")),
        (date(2026, 12, 1), "USD"): (Decimal("50.00"), Decimal("500.00")),
    }
    # A day later, November is gone: the one still negotiating is overdue, the won one past.
    assert cells(date(2026, 12, 1)) == {
        (None, "EGP"): (Decimal("600.00"), Decimal("1000.00")),
        (date(2026, 12, 1), "EGP"): (Decimal("100.00"), Decimal("1000.00")),
        (date(2026, 12, 1), "USD"): (Decimal("50.00"), Decimal("500.00")),
    }


def test_the_pipeline_is_each_viewers_own_with_totals_per_stage_and_currency_P3(
    db, world, make_portfolio, make_user
):
    add(db, world, amount="100")
    add(db, world, amount="250", currency="USD")
    other = make_portfolio(team={"name": "Dubai"}, client={"currency": "AED"})
    opportunities.add_opportunity(other.client, actor=other.acm, details=details(currency="AED"))
    db.session.commit()
    today = date(2026, 11, 30)

    def identified(viewer, chosen=None):
        [column] = [
            c
            for c in opportunities.pipeline(viewer, chosen or PipelineFilter(), today=today)
            if c.count
        ] or [None]
        return column

    mine = identified(world.acm)
    assert mine.count == 2
    assert set(mine.totals) == {Money(Decimal(100), "EGP"), Money(Decimal(250), "USD")}
    assert identified(world.leader).count == 2
    admin = make_user(Role.ADMIN)
    assert identified(admin).count == 3
    assert identified(admin, PipelineFilter(team_id=other.team.id)).count == 1
    assert identified(world.leader, PipelineFilter(acm_id=other.acm.id)) is None


def test_the_client_panel_lists_the_open_ones_soonest_first_then_the_closed_latest_first_P3(
    db, world
):
    later = add(db, world, title="Later", expected_close_on=date(2027, 3, 1))
    sooner = add(db, world, title="Sooner", expected_close_on=date(2026, 12, 2))
    lost = add(db, world, title="Lost")
    opportunities.move_opportunity(lost, actor=world.acm, stage="lost", reason="No budget")
    db.session.commit()
    assert opportunities.client_opportunities(world.client) == [sooner, later, lost]
