"""The portal's own tickets (TICKETS_ADAPTER=portal, the default): numbered per project,
moved between the default workflow's statuses, commented, in the caller's transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from kamportal.models import Ticket
from kamportal.models.types import utc
from kamportal.tickets import (
    TicketDraft,
    TicketError,
    TicketStatus,
    open_once,
    ticket_adapter,
    ticket_project,
)
from kamportal.tickets.portal import PortalTickets


def draft(project: str = "SUP", **fields) -> TicketDraft:
    values = {"summary": "  Checkout   fails ", "description": "Since today.", "labels": ()}
    values.update(fields)
    return TicketDraft(project=project, **values)


def test_the_portal_adapter_is_the_default(app):
    assert isinstance(ticket_adapter(app), PortalTickets)


def test_the_projects_come_from_the_settings(app):
    assert [ticket_project(k) for k in ("approval", "customization", "support")] == [
        "SAL",
        "CUST",
        "SUP",
    ]


@pytest.mark.config(TICKETS_SUPPORT_PROJECT="HELP")
def test_a_project_is_a_setting(app):
    assert ticket_project("support") == "HELP"


def test_tickets_are_numbered_per_project(db, frozen_clock):
    frozen_clock(utc(2026, 12, 7, 9))
    portal = PortalTickets()

    keys = [
        portal.create_issue(draft("SUP")).key,
        portal.create_issue(draft("SAL")).key,
        portal.create_issue(draft("SUP", labels=("Enterprise",), priority="High")).key,
        portal.create_issue(draft("CUST")).key,
    ]

    assert keys == ["SUP-1", "SAL-1", "SUP-2", "CUST-1"]
    ticket = db.session.query(Ticket).filter_by(project="SUP", number=2).one()
    assert (ticket.summary, ticket.labels, ticket.priority, ticket.status) == (
        "Checkout fails",
        ["Enterprise"],
        "High",
        "To Do",
    )
    assert ticket.created_at == utc(2026, 12, 7, 9)
    assert portal.create_issue(draft()).url is None


def test_a_ticket_moves_and_is_done(db):
    portal = PortalTickets()
    key = portal.create_issue(draft()).key

    portal.transition(key, "in progress")
    assert portal.status(key) == TicketStatus("In Progress", done=False)
    portal.transition(key, "Done")
    assert portal.status(key) == TicketStatus("Done", done=True)
    with pytest.raises(TicketError, match="cannot move to 'Closed'"):
        portal.transition(key, "Closed")


def test_comments_are_kept_in_order(db):
    portal = PortalTickets()
    key = portal.create_issue(draft()).key

    portal.comment(key, "first")
    portal.comment(key, " second ")

    ticket = db.session.query(Ticket).one()
    assert [c["text"] for c in ticket.comments] == ["first", "second"]
    with pytest.raises(TicketError, match="needs some text"):
        portal.comment(key, " ")


def test_unknown_keys_and_bad_drafts_are_refused(db):
    portal = PortalTickets()
    with pytest.raises(TicketError, match="no ticket SUP-4"):
        portal.status("SUP-4")
    with pytest.raises(TicketError, match="not a ticket key"):
        portal.status("SUP")
    with pytest.raises(TicketError, match="needs a summary"):
        portal.create_issue(draft(summary=""))
    with pytest.raises(TicketError, match="not a priority"):
        portal.create_issue(draft(priority="P1"))
    assert db.session.query(Ticket).count() == 0


def test_a_ticket_is_found_by_its_label_exactly(db):
    portal = PortalTickets()
    portal.create_issue(draft("SAL", labels=("kam-customization-12-approval",)))
    portal.create_issue(draft("SAL", labels=("kam-customization-1-approval",)))
    portal.create_issue(draft("SUP", labels=("Enterprise", "kam-support_a")))

    assert portal.find_by_label("kam-customization-1-approval").key == "SAL-2"
    assert portal.find_by_label("kam-customization-12-approval").key == "SAL-1"
    assert portal.find_by_label("kam-customization-2-approval") is None
    assert portal.find_by_label("kam-support_a").key == "SUP-1"
    assert portal.find_by_label("kam-supportXa") is None  # "_" is no wildcard
    assert portal.find_by_label("kam-support") is None


def test_open_once_opens_a_label_once(db):
    portal = PortalTickets()
    first = open_once(portal, draft(labels=("Enterprise",)), "kam-support-1234abcd")
    again = open_once(portal, draft(summary="Edited before sending again"), "kam-support-1234abcd")

    assert again == first
    ticket = db.session.query(Ticket).one()
    assert ticket.labels == ["Enterprise", "kam-support-1234abcd"]


def test_a_file_is_kept_with_the_ticket_under_a_generated_name_once(app, db):
    """C6: the portal's own tickets keep attachments (the bytes in ATTACHMENTS_DIR)."""
    portal = PortalTickets()
    key = portal.create_issue(draft("CUST")).key

    assert portal.attach(key, " invoice-INV-1.pdf ", "application/pdf", b"%PDF-1.4 x") is True
    assert portal.attach(key, "invoice-INV-1.pdf", "application/pdf", b"%PDF-1.4 y") is False
    db.session.commit()

    [attached] = db.session.query(Ticket).one().attachments
    assert (attached.filename, attached.content_type, attached.size) == (
        "invoice-INV-1.pdf",
        "application/pdf",
        10,
    )
    assert attached.stored_name != attached.filename
    stored = Path(app.config["ATTACHMENTS_DIR"]) / attached.stored_name
    assert stored.read_bytes() == b"%PDF-1.4 x"


def test_a_file_for_an_unknown_ticket_or_without_a_name_is_refused(db):
    portal = PortalTickets()
    with pytest.raises(TicketError, match="no ticket CUST-9"):
        portal.attach("CUST-9", "invoice.pdf", "application/pdf", b"%PDF")
    key = portal.create_issue(draft("CUST")).key
    with pytest.raises(TicketError, match="not a name"):
        portal.attach(key, "a/b.pdf", "application/pdf", b"%PDF")
