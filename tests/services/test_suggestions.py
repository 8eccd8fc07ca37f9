"""Recommended apps and marketing actions (F5): the catalogue, suggestions to a client, the
client's answer and the outcome, each on the client's timeline and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.models import AuditEvent, Recommendation, Role, TimelineEvent, TimelineKind
from kamportal.services import suggestions

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(make_portfolio, frozen_clock, db):
    frozen_clock(NOW)
    suggestions.stock_catalogue(actor=None)
    db.session.commit()
    portfolio = make_portfolio()
    return portfolio


def entry(name: str) -> Recommendation:
    return next(e for e in suggestions.catalogue() if e.name == name)


def kinds_on_timeline(db, client) -> list[str]:
    query = select(TimelineEvent.kind).where(TimelineEvent.client_id == client.id)
    return list(db.session.scalars(query.order_by(TimelineEvent.id)))


# --- The catalogue -------------------------------------------------------------------------


def test_the_catalogue_starts_with_the_seeds_apps_and_actions_once_F5(world, db):
    names = [e.name for e in suggestions.offered()]
    assert "Abandoned Cart" in names and "Use email marketing" in names
    assert len(names) == len(suggestions.SEED_CATALOGUE) == 25
    assert {e.kind for e in suggestions.offered()} == {"app", "action"}
    assert all(e.description for e in suggestions.offered())
    assert suggestions.stock_catalogue(actor=None) == 0  # not empty: the admin's now


def test_an_admin_adds_edits_and_retires_entries_each_audited_F5(world, db):
    admin = world.acm  # services do not decide roles; the route lets admins only
    added = suggestions.add_recommendation(
        actor=admin,
        kind="app",
        name="Product Reviews Import",
        description="Brings reviews from the old store.",
        position=3,
    )
    assert added in suggestions.offered()
    suggestions.update_recommendation(
        added,
        actor=admin,
        kind="app",
        name="Reviews Import",
        description="Brings the old store's reviews.",
        position=1,
        active=True,
    )
    assert added.name == "Reviews Import"
    suggestions.retire_recommendation(added, actor=admin)
    assert added not in suggestions.offered() and added in suggestions.catalogue()
    actions = db.session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "recommendation", AuditEvent.object_id == added.id
        )
    ).all()
    assert actions == ["recommendation.create", "recommendation.update", "recommendation.retire"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "plugin"}, "kind"),
        ({"name": "  "}, "name"),
        ({"name": "abandoned cart"}, "name"),  # taken, whatever the case
        ({"name": "x" * 101}, "name"),
        ({"name": "Bad\x00name"}, "name"),
        ({"description": ""}, "description"),
        ({"description": "x" * 501}, "description"),
        ({"position": 1000}, "position"),
    ],
)
def test_a_catalogue_entry_needs_a_kind_a_free_name_and_a_description_F5(world, fields, field):
    values = {"kind": "action", "name": "Run a Ramadan campaign", "description": "Plan it."}
    with pytest.raises(ValidationError) as refused:
        suggestions.add_recommendation(actor=None, **(values | fields))
    assert refused.value.field == field


def test_an_entry_suggested_already_keeps_its_kind_F5(world):
    cart = entry("Abandoned Cart")
    suggestions.suggest(world.client, cart, actor=world.acm, channel="meeting")
    with pytest.raises(RuleViolation) as refused:
        suggestions.update_recommendation(
            cart,
            actor=None,
            kind="action",
            name=cart.name,
            description=cart.description,
            position=0,
            active=True,
        )
    assert refused.value.rule == "F5" and refused.value.field == "kind"


# --- Suggestions -------------------------------------------------------------------------


def test_suggesting_records_who_when_how_and_lands_on_the_timeline_F5(world, db):
    suggestion = suggestions.suggest(
        world.client,
        entry("Abandoned Cart"),
        actor=world.acm,
        channel="call",
        note="Showed last month's abandoned carts.",
        answer="interested",
    )
    assert suggestion.suggested_at == NOW and suggestion.suggested_by == world.acm
    assert suggestion.channel == "call" and suggestion.is_open
    assert suggestion.answer == "interested" and suggestion.answered_at == NOW
    [event] = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.client_id == world.client.id)
    ).all()
    assert event.kind == TimelineKind.SUGGESTION_MADE.value and event.actor == world.acm
    assert "Abandoned Cart" in event.summary and "interested" in event.summary
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "suggestion.create"))


def test_suggesting_again_what_is_open_is_refused_and_after_it_closes_allowed_F5(world, db):
    cart = entry("Abandoned Cart")
    first = suggestions.suggest(world.client, cart, actor=world.acm, channel="meeting")
    with pytest.raises(RuleViolation) as refused:
        suggestions.suggest(world.client, cart, actor=world.client.acm, channel="email")
    assert refused.value.field == "recommendation"
    assert "Abandoned Cart is suggested to this client already" in refused.value.message
    suggestions.record_outcome(first, actor=world.acm, outcome="declined", reason="Later.")
    again = suggestions.suggest(world.client, cart, actor=world.acm, channel="email")
    assert again.is_open and again.id != first.id


def test_the_same_entry_is_open_for_two_clients_at_once_F5(world, make_client):
    other = make_client(acm=world.acm)
    cart = entry("Abandoned Cart")
    suggestions.suggest(world.client, cart, actor=world.acm, channel="meeting")
    assert suggestions.suggest(other, cart, actor=world.acm, channel="meeting").is_open


def test_a_retired_entry_is_not_offered_nor_suggested_F5(world):
    cart = entry("Abandoned Cart")
    suggestions.retire_recommendation(cart, actor=None)
    assert cart not in suggestions.offered()
    with pytest.raises(RuleViolation, match="retired"):
        suggestions.suggest(world.client, cart, actor=world.acm, channel="meeting")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"channel": "pigeon"}, "channel"),
        ({"answer": "maybe"}, "answer"),
        ({"note": "x" * 2001}, "note"),
        ({"note": "a\x00b"}, "note"),
    ],
)
def test_a_suggestion_with_bad_values_is_refused_F5(world, values, field):
    with pytest.raises(ValidationError) as refused:
        suggestions.suggest(
            world.client, entry("SMS App"), actor=world.acm, **({"channel": "call"} | values)
        )
    assert refused.value.field == field


def test_only_who_works_on_the_client_suggests_F5(world, make_portfolio):
    stranger = make_portfolio(client=False).acm
    with pytest.raises(NotAllowed):
        suggestions.suggest(world.client, entry("SMS App"), actor=stranger, channel="call")
    # The leader of the client's team does.
    assert suggestions.suggest(
        world.client, entry("SMS App"), actor=world.leader, channel="call"
    ).is_open


def test_the_answer_is_recorded_changed_and_timelined_once_a_change_F5(world, db, frozen_clock):
    suggestion = suggestions.suggest(
        world.client, entry("Sell on FB"), actor=world.acm, channel="meeting"
    )
    assert suggestion.answer is None
    later = frozen_clock(NOW + timedelta(days=2))
    suggestions.record_answer(suggestion, actor=world.leader, answer="thinking")
    assert (suggestion.answer, suggestion.answered_at) == ("thinking", later)
    assert suggestion.answered_by == world.leader
    suggestions.record_answer(suggestion, actor=world.acm, answer="thinking")  # no change
    suggestions.record_answer(suggestion, actor=world.acm, answer="interested")
    assert kinds_on_timeline(db, world.client) == [
        TimelineKind.SUGGESTION_MADE.value,
        TimelineKind.SUGGESTION_ANSWERED.value,
        TimelineKind.SUGGESTION_ANSWERED.value,
    ]
    with pytest.raises(ValidationError):
        suggestions.record_answer(suggestion, actor=world.acm, answer="")


def test_an_app_is_installed_and_an_action_done_not_the_other_way_F5(world, db):
    app = suggestions.suggest(world.client, entry("SMS App"), actor=world.acm, channel="call")
    action = suggestions.suggest(
        world.client, entry("Use email marketing"), actor=world.acm, channel="call"
    )
    with pytest.raises(ValidationError, match="Apps end installed or declined"):
        suggestions.record_outcome(app, actor=world.acm, outcome="done")
    with pytest.raises(ValidationError, match="Marketing actions end done or declined"):
        suggestions.record_outcome(action, actor=world.acm, outcome="installed")
    with pytest.raises(ValidationError):
        suggestions.record_outcome(action, actor=world.acm, outcome="open")
    suggestions.record_outcome(app, actor=world.acm, outcome="installed")
    suggestions.record_outcome(action, actor=world.acm, outcome="done")
    assert (app.outcome, action.outcome) == ("installed", "done")
    # Installed or done: the client was interested, though no answer was recorded.
    assert app.answer == action.answer == "interested"
    assert app.outcome_at == NOW and app.outcome_by == world.acm


def test_declined_needs_the_clients_reason_F5(world, db):
    suggestion = suggestions.suggest(
        world.client, entry("Advanced Reward Points"), actor=world.acm, channel="email"
    )
    for reason in (None, "   "):
        with pytest.raises(ValidationError) as refused:
            suggestions.record_outcome(
                suggestion, actor=world.acm, outcome="declined", reason=reason
            )
        assert refused.value.field == "reason"
    assert suggestion.is_open
    suggestions.record_outcome(
        suggestion, actor=world.acm, outcome="declined", reason="No budget this quarter."
    )
    assert suggestion.outcome == "declined" and suggestion.answer is None
    assert suggestion.decline_reason == "No budget this quarter."
    last = db.session.scalars(
        select(TimelineEvent).order_by(TimelineEvent.id.desc()).limit(1)
    ).one()
    assert last.kind == TimelineKind.SUGGESTION_CLOSED.value
    assert "declined" in last.summary and "No budget this quarter." in last.summary


def test_a_closed_suggestion_takes_no_answer_nor_second_outcome_F5(world):
    suggestion = suggestions.suggest(
        world.client, entry("Friendly URL"), actor=world.acm, channel="meeting"
    )
    suggestions.record_outcome(suggestion, actor=world.acm, outcome="installed")
    with pytest.raises(RuleViolation, match="installed already"):
        suggestions.record_answer(suggestion, actor=world.acm, answer="not_interested")
    with pytest.raises(RuleViolation, match="installed already"):
        suggestions.record_outcome(suggestion, actor=world.acm, outcome="declined", reason="x")


def test_the_client_page_lists_open_ones_first_then_the_newest_F5(world, frozen_clock):
    old = suggestions.suggest(world.client, entry("SMS App"), actor=world.acm, channel="call")
    suggestions.record_outcome(old, actor=world.acm, outcome="installed")
    frozen_clock(NOW + timedelta(days=1))
    closed = suggestions.suggest(
        world.client, entry("Friendly URL"), actor=world.acm, channel="call"
    )
    suggestions.record_outcome(closed, actor=world.acm, outcome="declined", reason="No.")
    still_open = suggestions.suggest(
        world.client, entry("Store Review"), actor=world.acm, channel="call"
    )
    assert suggestions.client_suggestions(world.client) == [still_open, closed, old]
    assert suggestions.suggestion_of(world.client, old.id) is old


def test_another_clients_suggestion_is_not_found_F5(world, make_client):
    other = make_client(acm=world.acm)
    suggestion = suggestions.suggest(other, entry("SMS App"), actor=world.acm, channel="call")
    assert suggestions.suggestion_of(world.client, suggestion.id) is None


def test_the_stocked_catalogue_is_audited_as_the_admins_act_F5(db, make_user):
    admin = make_user(Role.ADMIN)
    assert suggestions.stock_catalogue(actor=admin) == 25
    audited = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "recommendation.create")
    ).all()
    assert len(audited) == 25 and {a.actor for a in audited} == {admin}
