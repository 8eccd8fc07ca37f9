"""F6: the Online Store Manager's clients (the live ones whose plan includes one), their
duties done this period on some, and data-entry requests: one late, one within its SLA."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from kamportal import clock
from kamportal.demo.common import SeedReport, replaying_the_past
from kamportal.demo.people import People
from kamportal.extensions import db
from kamportal.models import Client, DataEntryRequest, DutyDone, LifecycleStatus
from kamportal.services import store_management

# (how long ago, size, what the client asked): the first past its SLA, the second within.
REQUESTS = (
    (timedelta(days=3), "small", "Update the prices of the 12 products in the Ramadan offer."),
    (timedelta(hours=2), "medium", "Add the 35 products of the new summer collection."),
)


def seed_store_management(now: datetime, people: People, report: SeedReport) -> None:
    """Through the services, at their times in the past. Clients that have a store manager
    already are left as they are, so running again adds nothing."""
    manager = people.store_manager
    clients = list(
        db.session.scalars(
            select(Client)
            .where(
                Client.has_store_manager.is_(True),
                Client.status == LifecycleStatus.LIVE.value,
                Client.store_manager_id.is_(None),
                Client.acm_id.is_not(None),
            )
            .order_by(Client.id)
        )
    )
    with replaying_the_past() as added:
        for n, client in enumerate(clients):
            leader = client.acm.team.leader
            clock.freeze(now - timedelta(days=30))
            store_management.assign_store_manager(client, manager, actor=leader)
            # Most of today's and this week's duties done on every other client.
            if n % 2 == 0:
                clock.freeze(now - timedelta(hours=1))
                owed = store_management.duty_states([client], now=clock.now())
                for state in owed[: 6 + n % 5]:
                    store_management.mark_done(client, state.duty.key, actor=manager)
            if n < 2:
                ago, size, description = REQUESTS[n]
                clock.freeze(now - ago)
                store_management.log_request(
                    client, actor=client.acm, description=description, size=size
                )
        clock.freeze(now)
    report.store_duties += sum(isinstance(row, DutyDone) for row in added)
    report.data_entry_requests += sum(isinstance(row, DataEntryRequest) for row in added)
