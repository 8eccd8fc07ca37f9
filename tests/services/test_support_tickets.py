"""G4: a client's technical problem escalated to the support team's ticket system, always
with the Enterprise label; its key on the timeline, its status synced, its SLA (a team
setting by priority, calendar hours) on the ACM's day once it runs out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.errors import ValidationError
from kamportal.models import SupportTicket, Ticket, TimelineEvent, TimelineKind
from kamportal.models.types import utc
from kamportal.services import day, support_tickets
from kamportal.tickets import TicketError, ticket_adapter

OPENED = utc(2026, 12, 3, 10)  # a Thursday
KEY = "5b0c0ffee5b0c0ffee5b0c0ffee5b0c0"  # the form's


@pytest.fixture
def world(make_portfolio, frozen_clock):
    frozen_clock(OPENED)
    return make_portfolio(
        team={"support_sla_high_hours": 8, "support_sla_lowest_hours": 120},
        client={"store_name": "Desert Rose", "store_code": "ROSE01"},
    )


def open_one(world, **fields):
    values = {
        "summary": "Checkout fails",
        "description": "Card payments fail since 9:00.",
        "priority": "High",
    }
    values.update(fields)
    return support_tickets.open_ticket(world.client, actor=world.acm, **values)


def events(kind: TimelineKind, db) -> list[TimelineEvent]:
    return list(db.session.scalars(select(TimelineEvent).where(TimelineEvent.kind == kind.value)))


def test_a_ticket_is_opened_with_the_enterprise_label_and_put_on_the_timeline(db, world):
    ticket = open_one(world, form_key=KEY)
    db.session.commit()

    assert (ticket.ticket_key, ticket.url, ticket.status) == ("SUP-1", None, "To Do")
    assert (ticket.priority, ticket.opened_by, ticket.opened_at) == ("High", world.acm, OPENED)
    portal_ticket = db.session.scalars(select(Ticket)).one()
    assert portal_ticket.labels == ["Enterprise", support_tickets.ticket_label(KEY)]
    assert portal_ticket.summary == "Desert Rose: Checkout fails"
    assert "ROSE01" in portal_ticket.description and world.acm.email in portal_ticket.description
    [event] = events(TimelineKind.SUPPORT_TICKET_OPENED, db)
    assert event.detail["ticket_key"] == "SUP-1"
    assert event.summary.startswith("SUP-1 (High): Checkout fails")


def test_in_jira_the_payload_carries_the_enterprise_label_and_the_link_is_kept(db, world, on_jira):
    ticket = open_one(world, priority="Highest", form_key=KEY)
    db.session.commit()

    sent = on_jira.last("POST", "/rest/api/3/issue").body["fields"]
    assert sent["labels"] == ["Enterprise", support_tickets.ticket_label(KEY)]
    assert sent["priority"] == {"name": "Highest"}
    assert sent["project"] == {"key": "SUP"}
    assert ticket.url == f"{on_jira.url}/browse/SUP-1"
    [event] = events(TimelineKind.SUPPORT_TICKET_OPENED, db)
    assert event.detail["url"] == ticket.url


def test_a_refusal_of_jira_leaves_nothing_written(db, world, on_jira):
    on_jira.misbehave(
        "status", path_end="/issue", status=400, body={"errorMessages": ["Priority is hidden."]}
    )
    with pytest.raises(TicketError, match="Priority is hidden"):
        open_one(world)
    db.session.rollback()

    assert db.session.scalars(select(SupportTicket)).all() == []
    assert events(TimelineKind.SUPPORT_TICKET_OPENED, db) == []
    # The ACM tries again, and it goes through.
    assert open_one(world).ticket_key == "SUP-1"


# --- sent once, whatever happens to the answer (G4) ------------------------------------------


@pytest.mark.parametrize("lost", ["lost", "lost_504"])
def test_a_form_sent_again_after_a_lost_answer_opens_one_issue_G4(db, world, on_jira, lost):
    on_jira.misbehave(lost, path_end="/issue")
    with pytest.raises(TicketError, match="trying again finds it"):
        open_one(world, form_key=KEY)
    db.session.rollback()
    assert list(on_jira.issues) == ["SUP-1"]  # Jira made it; the portal never heard
    assert db.session.scalars(select(SupportTicket)).all() == []

    ticket = open_one(world, form_key=KEY)  # the ACM sends the form again
    db.session.commit()

    assert list(on_jira.issues) == ["SUP-1"]
    assert (ticket.ticket_key, ticket.url) == ("SUP-1", f"{on_jira.url}/browse/SUP-1")
    assert len(events(TimelineKind.SUPPORT_TICKET_OPENED, db)) == 1


def test_a_form_sent_twice_records_one_ticket_G4(db, world):
    first = open_one(world, form_key=KEY)
    db.session.commit()
    again = open_one(world, form_key=KEY)
    db.session.commit()

    assert again == first
    assert db.session.scalars(select(Ticket)).one().key == "SUP-1"
    assert len(events(TimelineKind.SUPPORT_TICKET_OPENED, db)) == 1
    assert open_one(world).ticket_key == "SUP-2"  # another form, another ticket


def test_a_failed_search_opens_nothing_G4(db, world, on_jira):
    on_jira.misbehave("http500", path_end="/search/jql")
    with pytest.raises(TicketError, match="search for the issue labelled kam-support-"):
        open_one(world, form_key=KEY)
    assert on_jira.issues == {}


@pytest.mark.parametrize("key", ["", "short", "has space in it", 'quote"d-key-12345', "x" * 65])
def test_a_form_key_that_is_not_one_is_refused_before_any_call(db, world, on_jira, key):
    with pytest.raises(ValidationError, match="out of date"):
        open_one(world, form_key=key)
    assert on_jira.requests == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"summary": " "}, "summary"),
        ({"description": ""}, "description"),
        ({"priority": "Urgent"}, "priority"),
        ({"summary": "x" * 256}, "summary"),
    ],
)
def test_a_ticket_needs_a_summary_a_description_and_a_priority(db, world, fields, field):
    with pytest.raises(ValidationError) as refused:
        open_one(world, **fields)
    assert refused.value.field == field
    assert db.session.scalars(select(Ticket)).all() == []


# --- the SLA (team setting, calendar hours) ----------------------------------------------------


def test_the_sla_is_the_teams_hours_for_the_priority_in_calendar_hours(db, world):
    high = open_one(world, priority="High")
    lowest = open_one(world, priority="Lowest")
    medium = open_one(world, priority="Medium")

    assert high.sla_due_at == OPENED + timedelta(hours=8)
    # Across the weekend: calendar hours, Thursday 10:00 + 120 h is Tuesday 10:00.
    assert lowest.sla_due_at == utc(2026, 12, 8, 10)
    assert medium.sla_due_at == OPENED + timedelta(hours=24)  # the default


@pytest.mark.parametrize(
    ("after", "shown"),
    [
        (timedelta(hours=8) - timedelta(seconds=1), False),
        (timedelta(hours=8), True),
        (timedelta(hours=8, seconds=1), True),
    ],
)
def test_an_open_ticket_shows_on_the_acms_day_once_its_sla_runs_out(
    db, world, frozen_clock, after, shown
):
    ticket = open_one(world)
    db.session.commit()
    frozen_clock(OPENED + after)

    section = day.section(world.acm, "support", now=clock.now())

    assert [item.support_ticket for item in section.items] == ([ticket] if shown else [])
    if shown:
        [item] = section.items
        assert (item.rule, item.overdue, item.since) == ("G4", True, ticket.sla_due_at)
    flagged = support_tickets.flag_past_sla(now=clock.now())
    assert flagged == ([ticket] if shown else [])


def test_past_sla_is_flagged_once_and_a_closed_ticket_leaves_the_day(db, world, frozen_clock):
    ticket = open_one(world)
    db.session.commit()
    frozen_clock(OPENED + timedelta(hours=9))

    assert support_tickets.flag_past_sla(now=clock.now()) == [ticket]
    assert support_tickets.flag_past_sla(now=clock.now()) == []
    assert len(events(TimelineKind.SUPPORT_TICKET_PAST_SLA, db)) == 1

    ticket_adapter().transition(ticket.ticket_key, "Done")
    support_tickets.sync_status(ticket, now=clock.now())
    assert ticket.closed_at == clock.now()
    assert day.section(world.acm, "support", now=clock.now()).items == []


def test_another_acms_ticket_is_not_on_my_day(db, world, make_portfolio, frozen_clock):
    open_one(world)
    other = make_portfolio(team={"name": "Dubai"}, client=False)
    db.session.commit()
    frozen_clock(OPENED + timedelta(days=2))

    assert day.section(other.acm, "support", now=clock.now()).items == []
    assert len(day.section(world.acm, "support", now=clock.now()).items) == 1


# --- syncing the status -----------------------------------------------------------------------


def test_a_status_change_in_jira_is_recorded_on_the_timeline(db, world, on_jira, frozen_clock):
    ticket = open_one(world)
    db.session.commit()
    assert support_tickets.sync_status(ticket, now=clock.now()) is False

    on_jira.set_status(ticket.ticket_key, "In Progress")
    frozen_clock(OPENED + timedelta(hours=1))
    assert support_tickets.sync_status(ticket, now=clock.now()) is True

    assert (ticket.status, ticket.synced_at, ticket.closed_at) == (
        "In Progress",
        clock.now(),
        None,
    )
    [event] = events(TimelineKind.SUPPORT_TICKET_STATUS, db)
    assert event.summary == "SUP-1: To Do → In Progress"

    on_jira.set_status(ticket.ticket_key, "Done")
    assert support_tickets.sync_status(ticket, now=clock.now()) is True
    assert ticket.closed_at == clock.now()
    assert support_tickets.open_ticket_ids() == []


def test_a_failed_read_changes_nothing(db, world, on_jira):
    ticket = open_one(world)
    db.session.commit()
    on_jira.misbehave("http500")

    with pytest.raises(TicketError, match="HTTP 500"):
        support_tickets.sync_status(ticket, now=clock.now())
    assert (ticket.status, ticket.synced_at) == ("To Do", None)


def test_the_client_page_lists_the_open_tickets_first(db, world, frozen_clock):
    first = open_one(world)
    frozen_clock(OPENED + timedelta(hours=1))
    second = open_one(world)
    ticket_adapter().transition(second.ticket_key, "Done")
    support_tickets.sync_status(second, now=clock.now())
    frozen_clock(OPENED + timedelta(hours=2))
    third = open_one(world)

    assert support_tickets.client_tickets(world.client) == [third, first, second]
