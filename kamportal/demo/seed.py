"""`seed_demo`: the demo's stories, in their order, each adding what is missing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from kamportal import clock
from kamportal.demo.account_plans import seed_account_plans
from kamportal.demo.client_reports import seed_client_reports
from kamportal.demo.clients import seed_clients
from kamportal.demo.common import SeedReport, replaying_the_past
from kamportal.demo.customizations import seed_customizations
from kamportal.demo.escalations import seed_escalations
from kamportal.demo.followups import seed_unanswered_calls
from kamportal.demo.handovers import seed_handovers
from kamportal.demo.launches import seed_launch_stories
from kamportal.demo.opportunities import seed_opportunities
from kamportal.demo.people import seed_people
from kamportal.demo.renewals import seed_renewals
from kamportal.demo.store_figures import seed_store_figures
from kamportal.demo.store_management import seed_store_management
from kamportal.demo.suggestions import seed_suggestions
from kamportal.demo.support import seed_support_tickets
from kamportal.extensions import db
from kamportal.models import ClientHealth, TimelineEvent
from kamportal.services import contact_log, health, not_selling

DEFAULT_CLIENTS = 300
DEFAULT_SEED = 2026
# P2: the days of health history the demo draws (12 weeks), each scored as that day's
# hourly sweep last did (noon UTC).
HEALTH_HISTORY_DAYS = 84


# The demo server's address by default (`flask kam serve`, which `make demo` runs): the KYC
# links of the demo's emails open the questionnaire there (O1), unless told otherwise.
DEMO_PUBLIC_URL = "http://127.0.0.1:5000"


def seed_demo(
    *, clients: int = DEFAULT_CLIENTS, seed: int = DEFAULT_SEED, served_at: str = DEMO_PUBLIC_URL
) -> SeedReport:
    """Add what is missing of the demo portfolio; flushes, the caller commits.

    `served_at` is the address the demo server will be reached at: the links of the demo's
    emails (the KYC questionnaire, O1) are built on it, unless PUBLIC_URL is set.

    The first `clients` demo stores of `seed` are created unless their store code exists,
    so running it again adds nothing and a larger `clients` adds only the extra stores.
    A new store's onboarding and launch are replayed with it (O1, O2, L1-L5). Then each
    ACM's escalations and complaints that are missing, on their clients, their renewal
    stories with the sweeps that ran meanwhile (R1, R4, R7), and the launch stories'
    clients that are missing (LAUNCH_STORIES: one at each stage of the onboarding), and the
    customization requests product decides (CUSTOMIZATION_STORIES), and the support
    tickets of each team's first ACM (G4), one past its SLA, and the apps and marketing
    actions each ACM suggested to their first live clients (F5). The portal clock is as it was
    afterwards, even when seeding fails.
    """
    now = clock.now()
    report = SeedReport()
    # Counted in the database: the sweeps the demo replays write their events in bulk.
    events_before = _count(TimelineEvent)
    with _public_url(served_at):
        people = seed_people(now, report)
        seed_clients(clients, seed, now, people, report)
        db.session.flush()
        seed_escalations(seed, now, people, report)
        db.session.flush()
        seed_renewals(seed, now, people, report)
        db.session.flush()
        seed_launch_stories(seed, now, people, report)
        db.session.flush()
        seed_unanswered_calls(now, people, report)
        db.session.flush()
        seed_customizations(now, people, report)
        seed_support_tickets(now, people, report)
        seed_handovers(now, people, report)
        seed_account_plans(now, people, report)
        seed_store_management(now, people, report)
        seed_opportunities(now, people, report)
        seed_store_figures(seed, now, report)
        db.session.flush()
        seed_client_reports(now, people, report)
        # F4: this hour's sweep, as cron runs it: the stores that stopped selling or fell.
        with replaying_the_past():
            report.not_selling += not_selling.sweep(now).raised
        report.health_days += _score_health(now)
        seed_suggestions(now, people, report)
        # The timelines went in in bulk, past the ORM that keeps G6's open requests.
        db.session.flush()
        contact_log.rebuild_open_whatsapp_requests()
    db.session.flush()
    report.events = _count(TimelineEvent) - events_before
    return report


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _score_health(now: datetime) -> int:
    """P2: each client's health today and on each of the last 12 weeks, the facts read as
    they stood that day; returns the days' rows added (none when run again)."""
    before = _count(ClientHealth)
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    for back in range(HEALTH_HISTORY_DAYS, 0, -1):
        health.refresh_scores(noon - timedelta(days=back))
    health.refresh_scores(now)
    return _count(ClientHealth) - before


@contextmanager
def _public_url(served_at: str) -> Iterator[None]:
    """KYC links are built on PUBLIC_URL, and seeding has no request to take the portal's
    address from: the demo server's (`served_at`) stands in while seeding, unless one is
    set."""
    config = current_app.config
    previous = config.get("PUBLIC_URL")
    if previous:
        yield
        return
    config["PUBLIC_URL"] = served_at.rstrip("/")
    try:
        yield
    finally:
        config["PUBLIC_URL"] = previous
