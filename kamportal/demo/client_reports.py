"""P4: last month's reports. The hourly sweep is replayed on each team's first working day
of the month (the month before when this month's has not opened yet), then each ACM
writes and sends up to SENT_PER_ACM of their reports a day later, always leaving their
last one owed on their day (its commentary written for every other ACM). Sending renders
the report's PDF, a good part of a second: a portfolio of 300 sends some 70, and the
other drafts stay owed."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from kamportal import clock
from kamportal.demo.common import SeedReport, replaying_the_past
from kamportal.demo.people import TEAMS, People
from kamportal.errors import DomainError
from kamportal.extensions import db
from kamportal.models import ClientReport, Team
from kamportal.services import calendar, client_reports

# The drafts left owed on each ACM's day, and at most how many each ACM sends.
OWED_PER_ACM = 1
SENT_PER_ACM = 6
COMMENTARY = (
    "A steady month: orders held up through the month and the weekend campaign paid off.",
    "Sales dipped mid-month while the new payment method was set up; they recovered in the "
    "last week.",
    "Your best month so far: the new collection drove most of the growth.",
)
PROPOSALS = (
    "Add a bundle offer on the best sellers and a reminder email for abandoned carts.",
    "Refresh the home page banners for the season and enable the WhatsApp button.",
    "Run a loyalty discount for returning customers and add size guides to the top products.",
)


def seed_client_reports(now: datetime, people: People, report: SeedReport) -> None:
    """Drafts through the sweep at each team's drafting time (earliest first, so each client
    is drafted at its own team's), and again ten hours later for the stores whose month
    had not ended in their zone; then the sending. Running again adds nothing: the sweep
    drafts a client's month once, and only what it drafted now is sent."""
    times = sorted({_drafting_time(people.leader(spec.name).team, now) for spec in TEAMS})
    drafted: list[ClientReport] = []
    with replaying_the_past() as added:
        for at in times:
            for when in (at, at + timedelta(hours=10)):
                if when <= now:
                    clock.freeze(when)
                    drafted += client_reports.draft_reports(clock.now())
        by_acm: dict[int, list[ClientReport]] = defaultdict(list)
        for drafted_report in drafted:
            if drafted_report.client.acm_id is not None:
                by_acm[drafted_report.client.acm_id].append(drafted_report)
        for n, owned in enumerate(by_acm.values()):
            _write_and_send(owned, n, now)
        clock.freeze(now)
    report.client_reports += sum(isinstance(row, ClientReport) for row in added)


def _drafting_time(team: Team, now: datetime) -> datetime:
    business = calendar.calendar_for(team)
    this_month = clock.today(business.zone, at=now).replace(day=1)
    at = client_reports.drafting_time(business, this_month)
    if at > now:
        at = client_reports.drafting_time(business, client_reports.month_before(this_month))
    return at


def _write_and_send(reports: list[ClientReport], n: int, now: datetime) -> None:
    """The `n`th ACM's reports: written and sent a day after drafting (or halfway to now),
    up to SENT_PER_ACM and never the last OWED_PER_ACM; of those, every other ACM has
    written the first and not sent it."""
    sent, owed = reports[:-OWED_PER_ACM][:SENT_PER_ACM], reports[-OWED_PER_ACM:]
    for k, each in enumerate([*sent, *owed[: n % 2]]):
        acm = each.client.acm
        clock.freeze(each.drafted_at + min(timedelta(days=1), (now - each.drafted_at) / 2))
        client_reports.update_report(
            each,
            actor=acm,
            commentary=COMMENTARY[(n + k) % len(COMMENTARY)],
            proposals=PROPOSALS[(n + k) % len(PROPOSALS)],
        )
        if each in owed:
            continue
        try:
            client_reports.send_report(each, actor=acm)
        except DomainError:
            continue  # a client no contact of which has an email: the report stays owed
    db.session.flush()
