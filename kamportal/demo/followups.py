"""F2: this morning's unanswered call on a live client of each ACM, so each ACM's day
shows the follow-up it owes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from kamportal import clock
from kamportal.demo.common import SeedReport, acm_clients, replaying_the_past
from kamportal.demo.people import TEAMS, People
from kamportal.extensions import db
from kamportal.models import (
    CallOutcome,
    Client,
    Escalation,
    EscalationStatus,
    LifecycleStatus,
    NoReplyLadder,
)
from kamportal.services import contact_log

# F2: this morning's unanswered call, so each ACM's day shows the follow-up it owes.
UNANSWERED_CALL_AGO = timedelta(hours=2)


def seed_unanswered_calls(now: datetime, people: People, report: SeedReport) -> None:
    """F2: an unanswered call two hours ago on a live client of each ACM that has none
    under way, replayed through the service: the follow-up email is owed on the day (or
    went, where the team sends it at once), the WhatsApp after the team's wait. An ACM
    with a no-reply ladder already gets none, so running again adds nothing."""
    with replaying_the_past():
        clock.freeze(now - UNANSWERED_CALL_AGO)
        for spec in TEAMS:
            for acm in people.acms(spec.name):
                under_way = select(NoReplyLadder.id).join(
                    Client, Client.id == NoReplyLadder.client_id
                )
                if db.session.scalar(under_way.where(Client.acm_id == acm.id).limit(1)):
                    continue
                escalated = Client.id.in_(
                    select(Escalation.client_id).where(
                        Escalation.status == EscalationStatus.OPEN.value
                    )
                )
                client = next(
                    (
                        c
                        for c in acm_clients(acm, (LifecycleStatus.LIVE,), without=escalated)
                        if c.reachable_contact("email") is not None
                    ),
                    None,
                )
                if client is None:
                    continue
                contact_log.log_call(
                    client,
                    actor=acm,
                    contact=client.reachable_contact("email"),
                    outcome=CallOutcome.NO_ANSWER,
                    notes="Rang twice at the number on file, no answer.",
                )
