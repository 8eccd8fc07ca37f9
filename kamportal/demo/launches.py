"""Launch stories (O1, O2, L1-L5): a client at each stage of the onboarding, keyed on its
store code, told through the services."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import exists, select

from kamportal import clock
from kamportal.demo.common import (
    SeedReport,
    anniversary,
    replaying_the_past,
    send_call_minutes,
    slug,
)
from kamportal.demo.markets import (
    INDUSTRIES,
    MARKETS,
    STORE_PREFIXES,
    make_contacts,
    store_code,
    store_names,
    yearly_price,
)
from kamportal.demo.onboarding import (
    Happenings,
    client_answers,
    count_onboarding,
    first_answers,
    kyc_answers,
    launch_plan,
    send_welcome,
    tick_items,
)
from kamportal.demo.people import People
from kamportal.extensions import db
from kamportal.models import (
    CallOutcome,
    Client,
    Contact,
    LifecycleStatus,
    Plan,
    TimelineEvent,
    UsageKind,
    User,
)
from kamportal.services import clients as clients_service
from kamportal.services import contact_log, contract_limits, kyc, onboarding
from kamportal.services.calendar import BusinessCalendar, calendar_for
from kamportal.services.clients import ClientProfile, ContactDetails
from kamportal.services.launch_checklists import CHECKLISTS, LMS


@dataclass(frozen=True)
class LaunchStep:
    """One thing done in a launch story, `ago` days before now, a little into the team's
    business hours.

    "welcome" (O2) and "kyc_link" (O1): the ACM sends them. "kyc_started" and
    "kyc_submitted": the client saves part of the answers, or submits them all, through
    the link. "kyc_call": the ACM's call (`text`: its notes), in which the ACM fills the
    questionnaire in; its minutes are sent (G5). "revoke": the ACM revokes the link and
    notes why (`text`). "note": the ACM's note. "meeting": the onboarding meeting (O3), a
    call whose minutes are sent; "call": a weekly call, a follow-up without requests.
    "lms": the first LMS step is ticked and the launch starts (L1); "ticks": the story's
    `progress` is ticked, spread from the "lms" step to this one, with its `deliveries`
    (L2). "usage": `quantity` of `what` delivered (L2); "exception": the team leader
    agrees `quantity` more on the limit `what`, with the reason `text`. "launch": the ACM
    launches the store, the UAT complete; "override": the leader launches it before, for
    the reason `text` (L5).
    """

    kind: str
    ago: float
    text: str = ""
    what: str = ""
    quantity: int = 0


@dataclass(frozen=True)
class LaunchStory:
    """One demo client on the Enterprise plan, registered by its ACM (the team's `acm`-th)
    `subscribed` days after it subscribed, at the stage `shows` says. With `welcome_left`,
    it subscribed so that its welcome email (O2), not sent, is due in that many business
    hours (negative: overdue by as many). `progress`: how many items of each checklist
    the "ticks" step ticks (in the checklist's order); `deliveries`: what each LMS step
    delivers (L2), in batches."""

    shows: str
    team: str
    acm: int
    subscribed: float = 0.0
    welcome_left: float | None = None
    steps: tuple[LaunchStep, ...] = ()
    progress: tuple[tuple[str, int], ...] = ()
    deliveries: tuple[tuple[UsageKind, tuple[int, ...]], ...] = ()


MEETING_MINUTES = (
    "The LMS roadmap: domain and template first, then branding, products, categories and "
    "payments.\nA weekly call at the same day and time.\nEmail is the official channel; "
    "WhatsApp only to ask you to check your email."
)
KYC_CALL_MINUTES = (
    "We went through the KYC questionnaire together; your answers are saved on your "
    "account.\nNext: the onboarding meeting on Zoom, to agree the LMS roadmap."
)
_S = LaunchStep
_ALL = {key: len(definition.items) for key, definition in CHECKLISTS.items()}

# fmt: off
LAUNCH_STORIES: tuple[LaunchStory, ...] = (
    LaunchStory("welcome email due in a few business hours (O2)", "Cairo", 0, welcome_left=5),
    LaunchStory("welcome email overdue (O2)", "Cairo", 1, welcome_left=-6),
    LaunchStory(
        "KYC filled in by the ACM during a call (O1)", "Cairo", 2, 10,
        steps=(_S("welcome", 9.9), _S("kyc_link", 9.85),
               _S("kyc_call", 2.5, "The client had no time for the form: we went through the "
                  "questionnaire together on the call."))),
    LaunchStory(
        "launching: checklists partly ticked, products near the 200 limit (L1-L3, L2)",
        "Cairo", 3, 34,
        steps=(_S("welcome", 33.9), _S("kyc_link", 33.85), _S("kyc_submitted", 32.5),
               _S("meeting", 30, "Onboarding meeting: agreed the LMS roadmap, a weekly call on "
                  "Mondays and email as the official channel."),
               _S("lms", 28),
               _S("call", 14, "Logo and banners approved; the client sends the products sheet "
                  "this week."),
               _S("call", 4, "Categories done in Arabic and English; the courier integration "
                  "waits for the client's contract."),
               _S("ticks", 0.3)),
        progress=(("lms", 9), ("foundation", 6)),
        deliveries=((UsageKind.LOGO, (1,)), (UsageKind.SLIDES, (4, 2)),
                    (UsageKind.PRODUCTS, (120, 68)), (UsageKind.CATEGORIES, (22,)))),
    LaunchStory(
        "products past the 200 limit of the launch: the leader agreed an exception (L2)",
        "Cairo", 0, 46,
        steps=(_S("welcome", 45.9), _S("kyc_link", 45.85), _S("kyc_submitted", 44),
               _S("meeting", 42, "Onboarding meeting: agreed the LMS roadmap and a weekly call "
                  "on Tuesdays."),
               _S("lms", 40), _S("ticks", 3),
               _S("exception", 2.5, "The client's summer collection (58 products) arrived "
                  "during the launch: agreed 60 more products, to launch with the whole "
                  "catalogue.", what="products_lms", quantity=60),
               _S("usage", 1.5, "Summer collection", what="products", quantity=58),
               _S("call", 1, "Summer collection uploaded; Google Shopping feed next.")),
        progress=(("lms", 11), ("foundation", 5)),
        deliveries=((UsageKind.LOGO, (1,)), (UsageKind.SLIDES, (7,)),
                    (UsageKind.PRODUCTS, (150, 50)), (UsageKind.CATEGORIES, (35,)))),
    LaunchStory(
        "welcome email sent on time; KYC link sent, not opened yet (O2, O1)", "Riyadh", 0, 3,
        steps=(_S("welcome", 2.9), _S("kyc_link", 2.85))),
    LaunchStory(
        "KYC started: the client saved part of the answers (O1)", "Riyadh", 1, 6,
        steps=(_S("welcome", 5.8), _S("kyc_link", 5.75), _S("kyc_started", 3))),
    LaunchStory(
        "KYC link expired unanswered (O1)", "Riyadh", 2, 24,
        steps=(_S("welcome", 23.8), _S("kyc_link", 23.75),
               _S("note", 9, "The owner is travelling until the end of the month; a new KYC "
                  "link goes out when he is back."))),
    LaunchStory(
        "UAT complete: ready to launch (L5)", "Riyadh", 3, 62,
        steps=(_S("welcome", 61.9), _S("kyc_link", 61.85), _S("kyc_submitted", 59),
               _S("meeting", 57, "Onboarding meeting: agreed the LMS roadmap; weekly call on "
                  "Sundays."),
               _S("lms", 55),
               _S("usage", 41, "The client asked for a darker logo", what="logo_change",
                  quantity=1),
               _S("call", 30, "Products, categories and payments done; the mail server and "
                  "the settings are next."),
               _S("call", 9, "Pre-launch checks under way; the UAT walk-through is booked."),
               _S("ticks", 0.4)),
        progress=(*_ALL.items(), ("foundation", 6), ("google_shopping", 2)),
        deliveries=((UsageKind.LOGO, (1,)), (UsageKind.SLIDES, (5, 2)),
                    (UsageKind.PRODUCTS, (130, 66)), (UsageKind.CATEGORIES, (31,)))),
    LaunchStory(
        "launched by the team leader's override, the UAT not complete (L5)", "Riyadh", 1, 58,
        steps=(_S("welcome", 57.9), _S("kyc_link", 57.85), _S("kyc_submitted", 56),
               _S("meeting", 53, "Onboarding meeting: agreed the LMS roadmap and a weekly "
                  "call."),
               _S("lms", 50), _S("ticks", 2.3),
               _S("override", 2, "The client's launch campaign is booked for tomorrow and the "
                  "ads are paid; the product descriptions are being rewritten by their agency "
                  "and are checked next week, with the installed apps."),
               _S("call", 0.5, "First orders came in overnight; the client is happy with the "
                  "launch.")),
        progress=(*_ALL.items(), ("foundation", 4), ("google_shopping", 0), ("uat", 10)),
        deliveries=((UsageKind.LOGO, (1,)), (UsageKind.SLIDES, (6,)),
                    (UsageKind.PRODUCTS, (90, 45)), (UsageKind.CATEGORIES, (18,)))),
    LaunchStory(
        "welcome email due tomorrow (O2)", "Dubai", 0, welcome_left=22),
    LaunchStory(
        "welcome email overdue by two business days (O2)", "Dubai", 1, welcome_left=-15),
    LaunchStory(
        "KYC submitted by the client through the link (O1)", "Dubai", 2, 8,
        steps=(_S("welcome", 7.9), _S("kyc_link", 7.8), _S("kyc_submitted", 5.5))),
    LaunchStory(
        "KYC link revoked (O1)", "Dubai", 3, 7,
        steps=(_S("welcome", 6.9), _S("kyc_link", 6.8),
               _S("revoke", 4, "Revoked the KYC link: the owner wants the new operations "
                  "manager to answer it; a new link goes to her once she starts."))),
    LaunchStory(
        "launched with the UAT complete (L5)", "Dubai", 1, 76,
        steps=(_S("welcome", 75.9), _S("kyc_link", 75.8), _S("kyc_submitted", 73),
               _S("meeting", 71, "Onboarding meeting: agreed the LMS roadmap and a weekly call "
                  "on Wednesdays."),
               _S("lms", 68),
               _S("call", 35, "Payments, shipping and the mail server done; the settings and "
                  "the developer accounts are next."),
               _S("call", 12, "Pre-launch checks almost done; the UAT walk-through is booked."),
               _S("ticks", 4.2), _S("launch", 4),
               _S("call", 1, "First week live: 23 orders; agreed the first campaign.")),
        progress=(*_ALL.items(), ("foundation", 6), ("google_shopping", 3)),
        deliveries=((UsageKind.LOGO, (1,)), (UsageKind.SLIDES, (7,)),
                    (UsageKind.PRODUCTS, (160, 25)), (UsageKind.CATEGORIES, (27,)))),
)
# fmt: on
# A store name is a prefix and a noun of its industry; the launch stories take the last ones
# of the seed's order, the portfolio the first ones.
MAX_CLIENTS = len(STORE_PREFIXES) * sum(len(nouns) for nouns in INDUSTRIES.values()) - len(
    LAUNCH_STORIES
)
_MARKET_OF_COUNTRY = {market.country: market for market in MARKETS}


def launch_story_clients(seed: int) -> list[tuple[LaunchStory, str, str, str]]:
    """Each launch story with its client's industry, store name and store code: the last
    store names of the seed's order, which the portfolio never reaches (MAX_CLIENTS)."""
    names = store_names(seed)
    told = []
    for n, story in enumerate(LAUNCH_STORIES):
        index = len(names) - 1 - n
        industry, name = names[index]
        told.append((story, industry, name, store_code(name, index)))
    return told


def seed_launch_stories(seed: int, now: datetime, people: People, report: SeedReport) -> None:
    """O1, O2, L1-L5: the launch stories' clients that are missing (keyed on the store
    code), each registered by its ACM when it subscribed, its contacts added, and its
    steps replayed through the services with the portal clock at their instants.
    Messages of the past look delivered."""
    with replaying_the_past() as added:
        for story, industry, name, code in launch_story_clients(seed):
            if db.session.scalar(select(exists().where(Client.store_code == code))):
                continue
            rng = random.Random(f"{seed}:launch:{story.shows}")
            _tell_launch_story(story, industry, name, code, people=people, now=now, rng=rng)
    report.clients += sum(isinstance(row, Client) for row in added)
    report.contacts += sum(isinstance(row, Contact) for row in added)
    count_onboarding(added, report)


def _tell_launch_story(
    story: LaunchStory,
    industry: str,
    name: str,
    code: str,
    *,
    people: People,
    now: datetime,
    rng: random.Random,
) -> None:
    """One launch story (`seed_launch_stories`), as it happened until now."""
    spec = people.teams[story.team]
    acm = people.acms(story.team)[story.acm]
    leader = people.leader(story.team)
    calendar = calendar_for(acm.team)
    market = _MARKET_OF_COUNTRY[spec.country]
    if story.welcome_left is not None:
        hours = onboarding.WELCOME_BUSINESS_HOURS - story.welcome_left
        subscribed = calendar.subtract_business_hours(now, hours)
    else:
        day = now - timedelta(days=story.subscribed)
        subscribed = day.replace(hour=rng.randint(5, 19), minute=rng.randrange(60))
    subscribed = subscribed.replace(second=0, microsecond=0)
    # The ACM registers it within the next business hours (or just after, if those are not
    # over yet).
    created = calendar.add_business_hours(subscribed, rng.uniform(0.3, 1.5))
    if created >= now - timedelta(hours=1):
        created = subscribed + timedelta(minutes=rng.randint(20, 40))
    created = created.replace(microsecond=0)

    # Registered by its ACM (the welcome email owed, the launch checklists), contacts added.
    clock.freeze(created)
    store_manager = rng.random() < 0.35
    client = clients_service.create_client(
        ClientProfile(
            store_name=name,
            store_code=code,
            plan=Plan.ENTERPRISE.value,
            country=market.country,
            timezone=market.timezones[0],
            currency=market.currency,
            language="ar" if rng.random() < market.arabic_share else "en",
            industry=industry,
            has_store_manager=store_manager,
            status=LifecycleStatus.ONBOARDING.value,
            subscribed_at=subscribed,
            renewal_date=anniversary(subscribed.date(), 1),
            recurring_amount=yearly_price(rng, Plan.ENTERPRISE, store_manager, market),
        ),
        actor=acm,
        acm=acm,
    )
    for n, contact in enumerate(make_contacts(rng, market, f"{slug(name)}.example")):
        clock.freeze(created + timedelta(seconds=n + 1))
        details = ContactDetails(
            name=contact.name,
            email=contact.email,
            phone=contact.phone,
            whatsapp=contact.whatsapp,
            role=contact.role,
            is_primary=contact.is_primary,
            is_decision_maker=contact.is_decision_maker,
        )
        clients_service.add_contact(client, details, actor=acm)

    happenings = Happenings(until=now - timedelta(minutes=5))
    answers = kyc_answers(rng, client)
    previous = created + timedelta(minutes=5)
    started = previous
    for step in story.steps:
        # `ago` days before now, a little into the business hours, after the step before.
        at = calendar.add_business_hours(now - timedelta(days=step.ago), rng.uniform(0.25, 1.5))
        if at <= previous:
            at = calendar.add_business_hours(previous, rng.uniform(0.2, 0.7))
        if at >= happenings.until:  # the business hours since then are not over: the last
            at = calendar.subtract_business_hours(happenings.until, rng.uniform(0.1, 0.5))
        if at <= previous:  # a few minutes after the step before
            at = previous + min(
                timedelta(minutes=rng.randint(5, 20)), (happenings.until - previous) / 2
            )
        previous = at = at.replace(microsecond=0)
        if step.kind == "lms":
            started = at
        if step.kind == "ticks":
            _story_ticks(happenings, story, client, acm, calendar, rng, started=started, end=at)
            continue
        for offset, action in _launch_step(step, client, acm, leader, answers):
            happenings.at(min(at + offset, happenings.until - timedelta(minutes=1)), action)
    happenings.run()


def _story_ticks(
    happenings: Happenings,
    story: LaunchStory,
    client: Client,
    acm: User,
    calendar: BusinessCalendar,
    rng: random.Random,
    *,
    started: datetime,
    end: datetime,
) -> None:
    """The story's `progress` after its first LMS step, spread to `end` in business hours."""
    moments = []
    for share, checklist, item_key in launch_plan(dict(story.progress)):
        if not share:  # the first LMS step: the "lms" step ticked it
            continue
        moment = calendar.add_business_hours(started + (end - started) * share, 0.1)
        moments.append((min(moment, end), checklist, item_key))
    deliveries = dict(story.deliveries)
    tick_items(
        happenings,
        client,
        acm,
        moments,
        deliveries,
        rng,
        calendar=calendar,
        started=started,
        notes=0.6,
    )


def _launch_step(
    step: LaunchStep, client: Client, acm: User, leader: User, answers: dict[str, str]
) -> list[tuple[timedelta, Callable[[], object]]]:
    """What `step` does, each part a little after the step's instant."""
    now_ = timedelta(0)
    match step.kind:
        case "welcome":
            return [(now_, partial(send_welcome, client, acm))]
        case "kyc_link":
            return [(now_, partial(kyc.send_link, client, actor=acm))]
        case "kyc_started":
            half = first_answers(answers, 0.5)
            return [(now_, partial(client_answers, client, half, submit=False))]
        case "kyc_submitted":
            return [(now_, partial(client_answers, client, answers, submit=True))]
        case "kyc_call":
            fill = partial(kyc.answers_for_acm, client, answers, actor=acm, submit=True)
            return [
                *_answered_call(client, acm, step.text, KYC_CALL_MINUTES),
                (timedelta(minutes=25), fill),
            ]
        case "revoke":
            note = partial(contact_log.add_note, client, actor=acm, text=step.text)
            return [(now_, partial(kyc.revoke_link, client, actor=acm)), (now_, note)]
        case "note":
            return [(now_, partial(contact_log.add_note, client, actor=acm, text=step.text))]
        case "meeting":
            return _answered_call(client, acm, step.text, MEETING_MINUTES)
        case "call":
            return _answered_call(client, acm, step.text, None)
        case "lms":
            tick = partial(
                onboarding.update_item, client, LMS.key, LMS.items[0].key, actor=acm, done=True
            )
            return [(now_, tick)]
        case "usage":
            record = partial(
                contract_limits.record_usage,
                client,
                step.what,
                step.quantity,
                actor=acm,
                note=step.text,
            )
            return [(now_, record)]
        case "exception":
            grant = partial(
                contract_limits.grant_exception,
                client,
                step.what,
                step.quantity,
                actor=leader,
                reason=step.text,
            )
            return [(now_, grant)]
        case "launch":
            return [(now_, partial(onboarding.launch, client, actor=acm))]
        case "override":
            launch = partial(onboarding.launch, client, actor=leader, override_reason=step.text)
            return [(now_, launch)]
        case _:
            raise ValueError(f"unknown launch step {step.kind!r}")


def _answered_call(
    client: Client, acm: User, notes: str, minutes: str | None
) -> list[tuple[timedelta, Callable[[], object]]]:
    """G3, G5: the ACM's answered call with the primary contact, then its minutes: sent
    with `minutes` as the agreed points half an hour later, or (None) marked a follow-up
    without requests."""
    calls: list[TimelineEvent] = []

    def call() -> None:
        contact = client.reachable_contact("phone")
        calls.append(
            contact_log.log_call(
                client, actor=acm, contact=contact, outcome=CallOutcome.ANSWERED, notes=notes
            )
        )

    def follow_up() -> None:
        send_call_minutes(client, calls[0], acm, minutes)

    later = timedelta(minutes=5 if minutes is None else 35)
    return [(timedelta(0), call), (later, follow_up)]
