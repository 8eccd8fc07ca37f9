"""G4: technical problems the first ACM of each team escalated to the support team, each
with the Enterprise label: one past its SLA (on the ACM's day), one within it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from kamportal import clock
from kamportal.demo.common import SeedReport, acm_clients, replaying_the_past
from kamportal.demo.people import TEAMS, People
from kamportal.extensions import db
from kamportal.models import Client, LifecycleStatus, SupportTicket
from kamportal.services import support_tickets
from kamportal.tickets.portal import PortalTickets

# (how long ago, priority, summary, description): the first runs past the High SLA (8 h by
# default), the second is well within the Medium one (24 h).
SUPPORT_STORIES = (
    (
        timedelta(hours=11),
        "High",
        "Checkout fails for card payments",
        "Since this morning every card payment ends on an error page after 3-D Secure.\n\n"
        "Cash on delivery still works. The client loses about 40 orders a day.",
    ),
    (
        timedelta(hours=3),
        "Medium",
        "Product images missing on the mobile theme",
        "Since the theme update, product pages show a grey box instead of the first image "
        "on phones. Desktop is fine.",
    ),
)


def seed_support_tickets(now: datetime, people: People, report: SeedReport) -> None:
    """The support stories on a live client of each team's first ACM, replayed through the
    service with the portal's own tickets (demo tickets never go to a real Jira). An ACM
    whose clients have a support ticket already gets none, so running again adds nothing."""
    portal = PortalTickets()
    with replaying_the_past() as added:
        for spec in TEAMS:
            acm = people.acms(spec.name)[0]
            has_tickets = select(SupportTicket.id).join(SupportTicket.client)
            if db.session.scalar(has_tickets.where(Client.acm_id == acm.id).limit(1)):
                continue
            clients = acm_clients(acm, (LifecycleStatus.LIVE,), without=Client.id.is_(None))
            if not clients:
                continue
            for ago, priority, summary, description in SUPPORT_STORIES:
                clock.freeze(now - ago)
                support_tickets.open_ticket(
                    clients[0],
                    actor=acm,
                    summary=summary,
                    description=description,
                    priority=priority,
                    adapter=portal,
                )
        clock.freeze(now)
        support_tickets.flag_past_sla(now=now)
    report.support_tickets += sum(isinstance(row, SupportTicket) for row in added)
