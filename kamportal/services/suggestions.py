"""Recommended apps and marketing actions (F5): the catalogue an admin keeps, and what the
ACM suggested to each client, the client's answer and the outcome.

The catalogue starts from the seed's "Recommended Apps & Products" and "Suggested Steps"
(`stock_catalogue`, when it is empty). A retired entry is offered no more; it stays, with
the suggestions made of it. A suggestion is open until the client installs the app or
does the action, or declines it (their reason required). A client has at most one open
suggestion of an entry: suggesting it again while it is open is refused, as the answer
and the outcome belong on the open one.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from kamportal import clock
from kamportal.errors import RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.models import (
    Client,
    ContactChannel,
    Recommendation,
    RecommendationKind,
    Suggestion,
    SuggestionAnswer,
    SuggestionOutcome,
    TimelineKind,
    User,
)
from kamportal.services import access, timeline, validation

NAME_MAX = 100
DESCRIPTION_MAX = 500
TEXT_MAX = 2000
POSITION_RANGE = range(0, 1000)

APP, ACTION = RecommendationKind.APP.value, RecommendationKind.ACTION.value

# The seed's lists, in its order, each with what the ACM reads before suggesting it.
SEED_CATALOGUE: tuple[tuple[str, str, str], ...] = (
    (APP, "ExpandBot", "Chat assistant for the store; upsell the editing service it provides."),
    (APP, "Friendly URL", "Readable product and category addresses that search engines prefer."),
    (APP, "Automatic SEO Meta Tags", "Fills product and category meta tags for search engines."),
    (APP, "Product Option Images", "A picture for each option (colour, size) of a product."),
    (APP, "Abandoned Cart", "Reminds shoppers who left items in their cart to come back."),
    (APP, "Sales Booster", "Urgency and social-proof notices that lift conversion."),
    (APP, "Sell on FB", "Puts the catalogue on the client's Facebook shop."),
    (APP, "SMS App", "Order updates and promotions to customers by SMS."),
    (APP, "Advanced Reward Points", "Points on orders that customers spend later: repeat sales."),
    (APP, "Social Login", "Customers sign in with Google or Facebook: fewer lost sign-ups."),
    (APP, "MailChimp Integration", "Sends the store's customers to MailChimp for campaigns."),
    (APP, "Top Banner", "A banner across the top of the store for offers and news."),
    (APP, "Store Review", "Customers rate and review products: trust for new shoppers."),
    (ACTION, "Share a blog or webinar", "Send a blog post or webinar on digital marketing."),
    (ACTION, "Enhance the products' SEO keywords", "Better titles, descriptions and keywords."),
    (ACTION, "Install the marketing & SEO apps", "Walk the client through the marketing apps."),
    (
        ACTION,
        "Use the store analysis tools",
        "Facebook Pixel, Google Analytics, Snapchat Pixel: set up and read together.",
    ),
    (ACTION, "Use the marketing tools & integrations", "Show the store's marketing tools."),
    (ACTION, "Use the loyalty program", "Explain the loyalty program and set it up."),
    (ACTION, "Use the affiliate program", "Partners who sell for a commission."),
    (
        ACTION,
        "Send a satisfaction survey after each order",
        "Collect customers' feedback on every order and analyse it.",
    ),
    (
        ACTION,
        "Choose the products to promote on Facebook",
        "Agree which products the Facebook campaigns promote.",
    ),
    (ACTION, "Use email marketing", "Campaigns and newsletters to the store's customers."),
    (
        ACTION,
        "Offer attractive shipping options",
        "Flat rate, free shipping over a reasonable threshold, free-shipping promotions, "
        "slow free and fast paid shipping.",
    ),
    (ACTION, "Use discounts & coupons", "Offers that bring shoppers back and lift orders."),
)

# The fields the audit log keeps of a catalogue entry and of a suggestion.
RECOMMENDATION_FIELDS = ("kind", "name", "description", "active", "position")
SUGGESTION_FIELDS = ("answer", "outcome", "decline_reason")


# --- The catalogue (admin) ---------------------------------------------------------------


def stock_catalogue(*, actor: User | None) -> int:
    """F5: an empty catalogue gets the seed's apps and marketing actions; one with any entry
    (retired ones count) is the admin's and is left as it is. Returns how many were added."""
    if db.session.scalar(select(Recommendation.id).limit(1)) is not None:
        return 0
    for position, (kind, name, description) in enumerate(SEED_CATALOGUE):
        _added(
            Recommendation(
                kind=kind, name=name, description=description, active=True, position=position
            ),
            actor=actor,
        )
    return len(SEED_CATALOGUE)


def catalogue() -> list[Recommendation]:
    """The whole catalogue for its admin page: apps, then actions; offered ones first."""
    query = select(Recommendation).order_by(
        _apps_first(), Recommendation.active.desc(), *_in_order()
    )
    return list(db.session.scalars(query))


def offered() -> list[Recommendation]:
    """What an ACM may suggest: the entries not retired, apps then actions, in order."""
    query = (
        select(Recommendation)
        .where(Recommendation.active.is_(True))
        .order_by(_apps_first(), *_in_order())
    )
    return list(db.session.scalars(query))


def _apps_first() -> ColumnElement[int]:
    return case((Recommendation.kind == APP, 0), else_=1)


def _in_order() -> tuple:
    return (Recommendation.position, Recommendation.name)


def add_recommendation(
    *,
    actor: User | None,
    kind: str | None,
    name: str | None,
    description: str | None,
    position: int | None = None,
) -> Recommendation:
    """F5: a new catalogue entry, offered at once. Raises ValidationError for an unknown
    kind, a blank, over-long or taken name (case-insensitive), a blank or over-long
    description, a position out of range."""
    entry = Recommendation(active=True)
    _apply(entry, kind=kind, name=name, description=description, position=position)
    return _added(entry, actor=actor)


def _added(entry: Recommendation, *, actor: User | None) -> Recommendation:
    db.session.add(entry)
    db.session.flush()
    timeline.audit(
        actor, "recommendation.create", entry, after=timeline.snapshot(entry, RECOMMENDATION_FIELDS)
    )
    return entry


def update_recommendation(
    entry: Recommendation,
    *,
    actor: User | None,
    kind: str | None,
    name: str | None,
    description: str | None,
    position: int | None,
    active: bool,
) -> Recommendation:
    """F5: change a catalogue entry; `active` False retires it, True offers it again.
    Raises what `add_recommendation` raises, and RuleViolation("F5") for a change of kind
    once the entry was suggested (an installed app would become a done action)."""
    with timeline.audited(actor, "recommendation.update", entry, RECOMMENDATION_FIELDS):
        kind_before = entry.kind
        _apply(entry, kind=kind, name=name, description=description, position=position)
        if entry.kind != kind_before and _was_suggested(entry):
            raise RuleViolation(
                "F5",
                "This entry was suggested already, so its kind stays: retire it and add a new one.",
                field="kind",
            )
        entry.active = bool(active)
        db.session.flush()
    return entry


def retire_recommendation(entry: Recommendation, *, actor: User | None) -> Recommendation:
    """F5: offer the entry no more; it stays with the suggestions made of it."""
    with timeline.audited(actor, "recommendation.retire", entry, ("active",)):
        entry.active = False
        db.session.flush()
    return entry


def _apply(
    entry: Recommendation,
    *,
    kind: str | None,
    name: str | None,
    description: str | None,
    position: int | None,
) -> None:
    entry.kind = validation.choice(
        RecommendationKind, kind, field="kind", message="Choose an app or a marketing action."
    ).value
    name = validation.typed_text(
        validation.required_text(name, field="name", message="Give the app or action a name."),
        field="name",
        max_length=NAME_MAX,
    )
    taken = select(Recommendation.id).where(func.lower(Recommendation.name) == name.lower())
    if entry.id is not None:
        taken = taken.where(Recommendation.id != entry.id)
    if db.session.scalar(taken) is not None:
        raise ValidationError("The catalogue has an entry of this name already.", field="name")
    entry.name = name
    entry.description = validation.typed_text(
        validation.required_text(
            description,
            field="description",
            message="Say in a line what it does for the client's store.",
        ),
        field="description",
        multiline=True,
        max_length=DESCRIPTION_MAX,
    )
    position = 0 if position is None else position
    if position not in POSITION_RANGE:
        raise ValidationError(
            f"Give a position from {POSITION_RANGE.start} to {POSITION_RANGE.stop - 1}.",
            field="position",
        )
    entry.position = position


def _was_suggested(entry: Recommendation) -> bool:
    query = select(Suggestion.id).where(Suggestion.recommendation_id == entry.id).limit(1)
    return db.session.scalar(query) is not None


def recommendation_of(recommendation_id: int | None) -> Recommendation | None:
    return db.session.get(Recommendation, recommendation_id) if recommendation_id else None


# --- Suggestions to a client (the ACM and their leader) ------------------------------------


def outcomes_for(entry: Recommendation) -> list[SuggestionOutcome]:
    """The outcomes a suggestion of `entry` may end in: installed (an app) or done (an
    action), or declined."""
    ended = SuggestionOutcome.INSTALLED if entry.kind == APP else SuggestionOutcome.DONE
    return [ended, SuggestionOutcome.DECLINED]


def suggest(
    client: Client,
    entry: Recommendation | None,
    *,
    actor: User,
    channel: str | None,
    note: str | None = None,
    answer: str | None = None,
) -> Suggestion:
    """F5: record that `actor` suggested `entry` to `client` (in a meeting, on a call, by
    email...), with an optional note and, when the client answered there and then, their
    answer. Lands on the client's timeline.

    Raises NotAllowed for someone who does not work on the client; ValidationError for no
    entry, an unknown channel or answer, or an over-long note; RuleViolation("F5") for a
    retired entry, or one suggested to the client and still open."""
    access.check_works_on(actor, client)
    if entry is None:
        raise ValidationError("Choose an app or a marketing action.", field="recommendation")
    if not entry.active:
        raise RuleViolation(
            "F5", f"{entry.name} is retired from the catalogue.", field="recommendation"
        )
    channel_chosen = validation.choice(
        ContactChannel, channel, field="channel", message="Say how it was suggested."
    )
    answer_given = _answer(answer) if answer else None
    note = _optional_text(note, field="note")
    open_one = _open_suggestion(client, entry)
    if open_one is not None:
        raise _still_open(open_one)
    now = clock.now()
    suggestion = Suggestion(
        client_id=client.id,
        recommendation=entry,
        suggested_at=now,
        suggested_by=actor,
        channel=channel_chosen.value,
        note=note,
        outcome=SuggestionOutcome.OPEN.value,
    )
    if answer_given is not None:
        suggestion.answer = answer_given.value
        suggestion.answered_at, suggestion.answered_by = now, actor
    try:
        with db.session.begin_nested():
            db.session.add(suggestion)
            db.session.flush()
    except IntegrityError:
        # Suggested by someone else meanwhile: the open one wins.
        raise _still_open(_open_suggestion(client, entry)) from None
    said = f" The client is {answer_given.label.lower()}." if answer_given else ""
    timeline.record(
        client,
        TimelineKind.SUGGESTION_MADE,
        actor=actor,
        summary=f"Suggested {_what(entry)} {entry.name} ({channel_chosen.label.lower()})."
        f"{said}{_noted(note)}",
        detail={"suggestion_id": suggestion.id, "recommendation_id": entry.id},
    )
    timeline.audit(
        actor,
        "suggestion.create",
        suggestion,
        after={
            "client_id": client.id,
            "recommendation_id": entry.id,
            "channel": suggestion.channel,
            **timeline.snapshot(suggestion, SUGGESTION_FIELDS),
        },
    )
    return suggestion


def record_answer(suggestion: Suggestion, *, actor: User, answer: str | None) -> Suggestion:
    """F5: what the client said of an open suggestion (interested, thinking it over, not
    interested); a later answer replaces it. The same answer again changes nothing.

    Raises NotAllowed for someone who does not work on the client, ValidationError for an
    unknown answer, RuleViolation("F5") when the suggestion is closed."""
    access.check_works_on(actor, suggestion.client)
    given = _answer(answer)
    _check_open(suggestion)
    if suggestion.answer == given.value:
        return suggestion
    with timeline.audited(actor, "suggestion.answer", suggestion, SUGGESTION_FIELDS):
        suggestion.answer = given.value
        suggestion.answered_at, suggestion.answered_by = clock.now(), actor
        db.session.flush()
    timeline.record(
        suggestion.client,
        TimelineKind.SUGGESTION_ANSWERED,
        actor=actor,
        summary=f"{suggestion.recommendation.name}: the client is {given.label.lower()}.",
        detail={"suggestion_id": suggestion.id, "answer": given.value},
    )
    return suggestion


def record_outcome(
    suggestion: Suggestion, *, actor: User, outcome: str | None, reason: str | None = None
) -> Suggestion:
    """F5: close an open suggestion: the app installed, the action done, or declined with
    the client's reason. An accepted one (installed or done) counts the client as
    interested when they had not answered.

    Raises NotAllowed for someone who does not work on the client; ValidationError for an
    unknown outcome, or one that does not fit the entry (installed is for apps, done for
    actions), a declined one without its reason, an over-long reason; RuleViolation("F5")
    when the suggestion is closed already."""
    access.check_works_on(actor, suggestion.client)
    entry = suggestion.recommendation
    ended = validation.choice(
        SuggestionOutcome, outcome, field="outcome", message="Choose how it ended."
    )
    if ended not in outcomes_for(entry):
        fits = " or ".join(o.label.lower() for o in outcomes_for(entry))
        raise ValidationError(
            f"{entry.kind_label.capitalize()}s end {fits}, not {ended.label.lower()}.",
            field="outcome",
        )
    reason = _optional_text(reason, field="reason")
    if ended is SuggestionOutcome.DECLINED and not reason:
        raise ValidationError("Say why the client declined it.", field="reason")
    _check_open(suggestion)
    now = clock.now()
    with timeline.audited(actor, "suggestion.outcome", suggestion, SUGGESTION_FIELDS):
        suggestion.outcome = ended.value
        suggestion.outcome_at, suggestion.outcome_by = now, actor
        suggestion.decline_reason = reason if ended is SuggestionOutcome.DECLINED else None
        if ended is not SuggestionOutcome.DECLINED and suggestion.answer is None:
            suggestion.answer = SuggestionAnswer.INTERESTED.value
            suggestion.answered_at, suggestion.answered_by = now, actor
        db.session.flush()
    why = f" Reason: {reason}" if ended is SuggestionOutcome.DECLINED else ""
    timeline.record(
        suggestion.client,
        TimelineKind.SUGGESTION_CLOSED,
        actor=actor,
        summary=f"{entry.name}: {ended.label.lower()}.{why}",
        detail={"suggestion_id": suggestion.id, "outcome": ended.value},
    )
    return suggestion


def client_suggestions(client: Client) -> list[Suggestion]:
    """What the client page shows: every suggestion made to the client, the open ones
    first, each group the newest first."""
    query = (
        select(Suggestion)
        .options(
            joinedload(Suggestion.recommendation),
            *(
                joinedload(person)
                for person in (
                    Suggestion.suggested_by,
                    Suggestion.answered_by,
                    Suggestion.outcome_by,
                )
            ),
        )
        .where(Suggestion.client_id == client.id)
        .order_by(
            case((Suggestion.outcome == SuggestionOutcome.OPEN.value, 0), else_=1),
            Suggestion.suggested_at.desc(),
            Suggestion.id.desc(),
        )
    )
    return list(db.session.scalars(query))


def suggestion_of(client: Client, suggestion_id: int) -> Suggestion | None:
    """The client's suggestion by id (None when it is another client's or none)."""
    suggestion = db.session.get(Suggestion, suggestion_id)
    return suggestion if suggestion is not None and suggestion.client_id == client.id else None


def _open_suggestion(client: Client, entry: Recommendation) -> Suggestion | None:
    query = select(Suggestion).where(
        Suggestion.client_id == client.id,
        Suggestion.recommendation_id == entry.id,
        Suggestion.outcome == SuggestionOutcome.OPEN.value,
    )
    return db.session.scalar(query)


def _still_open(open_one: Suggestion | None) -> RuleViolation:
    name = open_one.recommendation.name if open_one else "This entry"
    return RuleViolation(
        "F5",
        f"{name} is suggested to this client already and still open: record the client's "
        "answer or the outcome on it.",
        field="recommendation",
    )


def _check_open(suggestion: Suggestion) -> None:
    if not suggestion.is_open:
        raise RuleViolation(
            "F5",
            f"{suggestion.recommendation.name} is {suggestion.outcome_label.lower()} already: "
            "suggest it again to start over.",
        )


def _answer(value: str | None) -> SuggestionAnswer:
    return validation.choice(
        SuggestionAnswer, value, field="answer", message="Choose what the client said."
    )


def _optional_text(value: str | None, *, field: str) -> str | None:
    text = validation.typed_text(value, field=field, multiline=True, max_length=TEXT_MAX)
    return text.strip() or None


def _what(entry: Recommendation) -> str:
    return "the app" if entry.kind == APP else "the marketing action"


def _noted(note: str | None) -> str:
    return f" Note: {note}" if note else ""
