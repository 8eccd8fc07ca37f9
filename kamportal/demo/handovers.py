"""P5: clients whose point of contact changed hands, two in each team: one change three
days ago (the hand-over meeting due within the week) and one twelve days ago (late)."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import cycle

from sqlalchemy import select

from kamportal import clock
from kamportal.demo.common import SeedReport, acm_clients, replaying_the_past
from kamportal.demo.people import TEAMS, People
from kamportal.extensions import db
from kamportal.models import (
    Client,
    ContactHandover,
    LifecycleStatus,
    OutboxMessage,
)
from kamportal.services import clients

HANDOVER_STORIES = (timedelta(days=3), timedelta(days=12))


def seed_handovers(now: datetime, people: People, report: SeedReport) -> None:
    """Each story makes another contact the client's primary one, through the service, at
    its time in the past. A team whose clients already owe a hand-over gets none, so
    running again adds nothing."""
    # Taken in turn across the teams, so that a small portfolio has both stories too.
    stories = cycle(HANDOVER_STORIES)
    with replaying_the_past() as added:
        for spec in TEAMS:
            acms = people.acms(spec.name)
            owed = select(ContactHandover.id).join(ContactHandover.client)
            if db.session.scalar(owed.where(Client.acm_id.in_([a.id for a in acms])).limit(1)):
                continue
            # Clients nothing was emailed to yet: the other stories' emails went to the
            # point of contact of their time, and stay addressed to them.
            emailed = Client.id.in_(select(OutboxMessage.client_id))
            candidates = [
                client
                for acm in acms
                for client in acm_clients(acm, (LifecycleStatus.LIVE,), without=emailed)
                if len(client.contacts) >= 2
            ]
            for client in list(reversed(candidates))[: len(HANDOVER_STORIES)]:
                clock.freeze(now - next(stories))
                successor = next(c for c in client.contacts if not c.is_primary)
                clients.update_contact(
                    successor,
                    clients.ContactDetails(
                        name=successor.name,
                        email=successor.email,
                        phone=successor.phone,
                        whatsapp=successor.whatsapp,
                        role=successor.role,
                        is_primary=True,
                        # The demo's point of contact is its decision maker.
                        is_decision_maker=True,
                    ),
                    actor=client.acm,
                )
        clock.freeze(now)
    report.handovers += sum(isinstance(row, ContactHandover) for row in added)
