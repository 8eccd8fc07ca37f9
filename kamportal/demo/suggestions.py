"""F5: the apps and marketing actions each ACM suggested to their first live clients over the
last weeks, replayed through the service: some installed or done, some declined with the
client's reason, some still open (the client thinking it over, or not answered yet)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from kamportal import clock
from kamportal.demo.common import SeedReport, acm_clients, replaying_the_past
from kamportal.demo.people import TEAMS, People
from kamportal.extensions import db
from kamportal.models import (
    Client,
    LifecycleStatus,
    Recommendation,
    Suggestion,
    SuggestionAnswer,
    SuggestionOutcome,
)
from kamportal.services import suggestions

INTERESTED = SuggestionAnswer.INTERESTED.value
THINKING = SuggestionAnswer.THINKING.value
NOT_INTERESTED = SuggestionAnswer.NOT_INTERESTED.value
INSTALLED = SuggestionOutcome.INSTALLED.value
DONE = SuggestionOutcome.DONE.value
DECLINED = SuggestionOutcome.DECLINED.value


@dataclass(frozen=True)
class SuggestionStory:
    """One suggestion: `days_ago` it was made, in `channel`, with `note`; the client's
    answer there and then (`answer_at_once`) or `answer` a few days later; the `outcome`
    a week after it was made (None: still open), declined ones with `reason`."""

    days_ago: int
    name: str
    channel: str
    note: str | None = None
    answer_at_once: str | None = None
    answer: str | None = None
    outcome: str | None = None
    reason: str | None = None


# What each ACM suggested to their first live clients: one list a client.
STORIES: tuple[tuple[SuggestionStory, ...], ...] = (
    (
        SuggestionStory(
            40,
            "Abandoned Cart",
            "meeting",
            "Showed them the carts left last month: about a fifth of the checkouts.",
            answer_at_once=INTERESTED,
            outcome=INSTALLED,
        ),
        SuggestionStory(30, "Use discounts & coupons", "call", answer=INTERESTED, outcome=DONE),
        SuggestionStory(
            21,
            "SMS App",
            "email",
            answer=NOT_INTERESTED,
            outcome=DECLINED,
            reason="Their customers ignore SMS; they talk to them on WhatsApp.",
        ),
        SuggestionStory(
            5,
            "Sell on FB",
            "meeting",
            "They post on Facebook daily but sell nothing there yet.",
            answer_at_once=THINKING,
        ),
    ),
    (
        SuggestionStory(
            35, "Friendly URL", "meeting", answer_at_once=INTERESTED, outcome=INSTALLED
        ),
        SuggestionStory(
            25,
            "Advanced Reward Points",
            "call",
            answer=NOT_INTERESTED,
            outcome=DECLINED,
            reason="No budget for another app this quarter; to ask again in the new year.",
        ),
        SuggestionStory(
            9,
            "Enhance the products' SEO keywords",
            "meeting",
            "Most product titles are the supplier's codes.",
            answer_at_once=INTERESTED,
        ),
        SuggestionStory(2, "Use the affiliate program", "email"),
    ),
    (
        SuggestionStory(
            28,
            "Send a satisfaction survey after each order",
            "call",
            answer_at_once=INTERESTED,
            outcome=DONE,
        ),
        SuggestionStory(
            18,
            "Offer attractive shipping options",
            "meeting",
            answer=NOT_INTERESTED,
            outcome=DECLINED,
            reason="Free shipping costs too much with their courier; they will look again "
            "when the contract is renewed.",
        ),
        SuggestionStory(6, "MailChimp Integration", "email", answer=THINKING),
    ),
)
# The answer given later comes this long after the suggestion; the outcome a week after it.
ANSWER_AFTER = timedelta(days=2)
OUTCOME_AFTER = timedelta(days=7)


def seed_suggestions(now: datetime, people: People, report: SeedReport) -> None:
    """F5: the catalogue stocked with the seed's entries when empty, then the STORIES on
    the first live clients of each ACM, replayed through the service at their past
    instants. An ACM with a suggestion on any client gets none, so running again adds
    nothing."""
    suggestions.stock_catalogue(actor=None)
    entries = {e.name: e for e in db.session.scalars(select(Recommendation))}
    made = select(Suggestion.id).join(Suggestion.client)
    with replaying_the_past() as added:
        for spec in TEAMS:
            for acm in people.acms(spec.name):
                if db.session.scalar(made.where(Client.acm_id == acm.id).limit(1)):
                    continue
                clients = acm_clients(acm, (LifecycleStatus.LIVE,), without=Client.id.is_(None))
                for client, stories in zip(clients, STORIES, strict=False):
                    for story in stories:
                        entry = entries.get(story.name)
                        if entry is not None and entry.active:
                            _replay(client, entry, story, acm=acm, now=now)
        clock.freeze(now)
    report.suggestions += sum(isinstance(row, Suggestion) for row in added)


def _replay(client: Client, entry: Recommendation, story: SuggestionStory, *, acm, now) -> None:
    at = now - timedelta(days=story.days_ago)
    if at < client.created_at:
        return
    clock.freeze(at)
    suggestion = suggestions.suggest(
        client,
        entry,
        actor=acm,
        channel=story.channel,
        note=story.note,
        answer=story.answer_at_once,
    )
    if story.answer is not None and at + ANSWER_AFTER < now:
        clock.freeze(at + ANSWER_AFTER)
        suggestions.record_answer(suggestion, actor=acm, answer=story.answer)
    if story.outcome is not None and at + OUTCOME_AFTER < now:
        clock.freeze(at + OUTCOME_AFTER)
        suggestions.record_outcome(
            suggestion, actor=acm, outcome=story.outcome, reason=story.reason
        )
