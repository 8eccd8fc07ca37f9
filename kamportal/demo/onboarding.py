"""Onboarding (O1, O2, L1-L4): a new store's welcome email, KYC link and answers, and its
launch so far, replayed through the services; the KYC answers and the checklist ticks are
the launch stories' too (launches.py)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from kamportal import clock
from kamportal.demo.common import SeedReport, replaying_the_past, slug
from kamportal.demo.people import STAFF_DOMAIN, TEAMS, People, TeamSpec, office_time
from kamportal.models import (
    Client,
    KycQuestionnaire,
    LifecycleStatus,
    Minutes,
    Plan,
    TimelineEvent,
    TimelineKind,
    UsageKind,
    User,
    WelcomeEmail,
)
from kamportal.services import contract_limits, kyc, onboarding
from kamportal.services.calendar import BusinessCalendar, calendar_for
from kamportal.services.kyc_questions import CHOICE, QUESTIONS
from kamportal.services.launch_checklists import (
    CHECKLISTS,
    FOUNDATION,
    GOOGLE_SHOPPING,
    LMS,
    PRE_LAUNCH,
    TEST_PAYMENTS_DISABLED,
    UAT,
)


@dataclass
class Onboarding:
    """A new store's onboarding as its story tells it, replayed through the services once
    the store exists (`_replay_onboarding`): the status it reached (onboarding or
    launching: a live store came to the portal live), when the welcome email (O2) and the
    KYC link (O1) went, when the client answered, when the onboarding meeting was (O3) and
    when the launch started (L1)."""

    status: LifecycleStatus
    welcome_at: datetime
    kyc_at: datetime
    answered_at: datetime
    meeting_at: datetime
    lms_at: datetime | None = None


# The KYC answers (O1) of demo clients, plausible for their market and industry.
COUNTRY_NAMES = {
    "EG": "Egypt", "SA": "Saudi Arabia", "AE": "the UAE", "KW": "Kuwait", "BH": "Bahrain",
    "QA": "Qatar", "OM": "Oman", "JO": "Jordan", "GB": "the UK", "US": "the US",
}  # fmt: skip
CITIES = {
    "EG": ("Cairo", "Alexandria", "Giza", "Mansoura"),
    "SA": ("Riyadh", "Jeddah", "Dammam", "Khobar"),
    "AE": ("Dubai", "Abu Dhabi", "Sharjah"),
    "KW": ("Kuwait City", "Hawalli"),
    "BH": ("Manama",),
    "QA": ("Doha",),
    "OM": ("Muscat",),
    "JO": ("Amman", "Irbid"),
    "GB": ("London", "Manchester"),
    "US": ("New York", "Chicago", "Los Angeles"),
}
SELLING_AREAS = (
    "{country} first, then the rest of the GCC",
    "{country} only for now",
    "The main cities of {country}; shipping abroad next year",
    "{country} and the neighbouring countries",
)
TARGET_CUSTOMERS = (
    "Women aged 25 to 45 who shop on their phones.",
    "Young families in the big cities who want delivery the next day.",
    "Gift buyers for Ramadan, Eid and weddings.",
    "Customers of our shops who ask to order online.",
    "Professionals who compare prices and read reviews before buying.",
)
MAIN_PRODUCTS = {
    "Fashion & apparel": "Abayas, modest dresses and everyday wear, in seasonal collections.",
    "Beauty & cosmetics": "Skin care, make-up and hair care, local and imported brands.",
    "Perfumes & oud": "Oud, bakhoor and our own perfume blends, with gift sets.",
    "Electronics": "Phones, accessories, headphones and smart-home devices.",
    "Home & furniture": "Sofas, dining sets, rugs and home decor.",
    "Grocery & food": "Fresh groceries, pantry staples and imported specialities.",
    "Coffee & sweets": "Specialty coffee beans, dates and sweets boxes.",
    "Jewellery & watches": "Gold and silver jewellery and watches, made to order.",
    "Books & stationery": "Arabic and English books, school and office supplies.",
    "Toys & baby": "Toys, baby care products and nursery furniture.",
    "Sports & fitness": "Gym equipment, sportswear and supplements.",
    "Health & pharmacy": "Vitamins, personal care and over-the-counter products.",
    "Automotive": "Spare parts, tyres and car-care products.",
    "Pet supplies": "Pet food, accessories and grooming products.",
    "Flowers & gifts": "Fresh flowers, gift boxes and same-day delivery bouquets.",
}
SPECIAL_REQUIREMENTS = (
    "Cash on delivery is a must: most of our customers pay that way.",
    "Prices must show VAT.",
    "Every product in Arabic and English.",
    "Delivery slots for fresh products.",
)


def kyc_answers(rng: random.Random, client: Client) -> dict[str, str]:
    """The client's answers to every question of the KYC questionnaire (O1), in its order."""
    country = COUNTRY_NAMES.get(client.country, client.country)
    texts = {
        "location": f"{rng.choice(CITIES.get(client.country, ('the capital',)))}, {country}",
        "area_of_interest": _sentence(rng.choice(SELLING_AREAS).format(country=country)),
        "industry": client.industry or "Retail",
        "target_customers": rng.choice(TARGET_CUSTOMERS),
        "main_products": MAIN_PRODUCTS.get(client.industry or "", "A range of products."),
    }
    if rng.random() < 0.5:
        texts["special_requirements"] = rng.choice(SPECIAL_REQUIREMENTS)
    answers: dict[str, str] = {}
    for key, question in QUESTIONS.items():
        if question.kind == CHOICE:
            answers[key] = rng.choice(question.choices)
        elif key in texts:
            answers[key] = texts[key]
        elif not question.optional:
            answers[key] = "To be discussed at the onboarding meeting."
    return answers


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def first_answers(answers: dict[str, str], share: float) -> dict[str, str]:
    """The first `share` of the answers: a form left half-done."""
    return dict(list(answers.items())[: max(1, round(len(answers) * share))])


def send_welcome(client: Client, acm: User) -> None:
    """O2: the ACM sends the welcome email as the portal drafts it."""
    onboarding.send_welcome(client, actor=acm, body=onboarding.draft_welcome(client).body)


def client_answers(client: Client, answers: dict[str, str], *, submit: bool) -> None:
    """O1: the client opens the emailed link (still working) and saves, or submits, answers."""
    link = kyc.questionnaire_of(client)
    questionnaire = kyc.open_link(kyc.token_for(link))
    kyc.save_answers(questionnaire, answers, actor=None, submit=submit)


# When each launch checklist is worked on, as shares of the launch (L1, L3-L5): the LMS steps
# first, the marketing accounts alongside, Google Shopping once products are in, the
# pre-launch checks after the LMS steps, the UAT last.
LAUNCH_WINDOWS: dict[str, tuple[float, float]] = {
    LMS.key: (0.0, 0.7),
    FOUNDATION.key: (0.05, 0.8),
    GOOGLE_SHOPPING.key: (0.45, 0.95),
    PRE_LAUNCH.key: (0.7, 0.9),
    UAT.key: (0.9, 1.0),
}
# L2: what an LMS step delivers, counted against the contract as the step is done.
LMS_DELIVERIES = {
    "logo-slogan": UsageKind.LOGO,
    "banners-sliders": UsageKind.SLIDES,
    "products": UsageKind.PRODUCTS,
    "categories": UsageKind.CATEGORIES,
}
# L1: what the ACM writes on an item as they tick it, with its evidence ({drive}: the
# client's LMS folder, {mail}: the email archive, {ticket}: the LMS ticket, {domain}: the
# store's). All on the reserved .example domain.
CHECKLIST_NOTES: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    (LMS.key, "domain-ssl"): (
        "Domain www.{domain} linked; SSL certificate active.",
        ("https://www.{domain}/", "{ticket}"),
    ),
    (LMS.key, "template"): (
        "The client chose the template on our call, out of three we shortlisted.",
        ("{drive}/template-shortlist.pdf",),
    ),
    (LMS.key, "branding"): (
        "Colours and final layout approved by the client by email.",
        ("{mail}/branding-approval",),
    ),
    (LMS.key, "logo-slogan"): (
        "Logo and slogan approved; the one change the contract allows is still unused.",
        ("{drive}/logo-final.png",),
    ),
    (LMS.key, "banners-sliders"): (
        "Home page sliders and category banners delivered and approved.",
        ("{drive}/banners.zip", "{mail}/banners-approval"),
    ),
    (LMS.key, "products"): (
        "Products imported from the client's Excel template.",
        ("{drive}/products.xlsx",),
    ),
    (LMS.key, "categories"): ("Categories in Arabic and English.", ()),
    (LMS.key, "payment-shipping-integration"): (
        "Card payments and cash on delivery live; the courier is integrated.",
        ("{ticket}",),
    ),
    (LMS.key, "mail-server"): ("Store emails go out from the client's domain.", ()),
    (FOUNDATION.key, "facebook-pixel"): (
        "The pixel fires on the product, cart and checkout pages.",
        ("{drive}/pixel-helper.png",),
    ),
    (FOUNDATION.key, "google-analytics"): (
        "GA4 property created; the client's marketing agency has access.",
        (),
    ),
    (GOOGLE_SHOPPING.key, "feed-errors"): (
        "Missing GTINs and price mismatches fixed in the feed.",
        ("{drive}/merchant-centre-diagnostics.png",),
    ),
    (PRE_LAUNCH.key, "test-order"): (
        "Test orders through every payment and shipping method: all went through.",
        ("{drive}/test-orders.pdf", "{mail}/test-orders"),
    ),
    (PRE_LAUNCH.key, "mobile-checkout"): (
        "Checked on an iPhone and an Android phone.",
        ("{drive}/mobile-checkout.png",),
    ),
    (UAT.key, TEST_PAYMENTS_DISABLED): (
        "Test mode switched off on the payment gateway, just before the launch.",
        ("{drive}/gateway-live-mode.png",),
    ),
    (UAT.key, "checkout"): (
        "Bought a product from start to finish with a real card, then refunded it.",
        ("{mail}/uat-order",),
    ),
}
# The accounts a client often has before the launch starts: ticked at the onboarding meeting.
EXISTING_ACCOUNTS = ("facebook-business", "facebook-page", "instagram")
EXISTING_ACCOUNT_NOTE = "The client already had this account and gave us access."


def launch_plan(counts: dict[str, int]) -> list[tuple[float, str, str]]:
    """The first counts[key] items of each checklist, each with its share of the launch:
    a checklist done to its end is spread over its window (LAUNCH_WINDOWS), one left
    partway over its window's start to the end of the launch."""
    plan: list[tuple[float, str, str]] = []
    for key, (first, last) in LAUNCH_WINDOWS.items():
        items = CHECKLISTS[key].items
        count = min(counts.get(key, 0), len(items))
        end = last if count == len(items) else 1.0
        plan += [
            (first + (end - first) * i / count, key, item.key)
            for i, item in enumerate(items[:count])
        ]
    return sorted(plan)


def _note_for(
    client: Client, checklist: str, item_key: str, rng: random.Random
) -> tuple[str | None, list[str] | None]:
    """The note and evidence the ACM writes on an item, if it is one they write on (L1)."""
    written = CHECKLIST_NOTES.get((checklist, item_key))
    if written is None:
        return None, None
    code = client.store_code.lower()
    places = {
        "domain": f"{slug(client.store_name)}.example",
        "drive": f"https://drive.{STAFF_DOMAIN}/lms/{code}",
        "mail": f"https://mail.{STAFF_DOMAIN}/archive/{code}",
        "ticket": f"https://jira.{STAFF_DOMAIN}/browse/LMS-{rng.randrange(1000, 10000)}",
    }
    note, evidence = written
    return note.format(**places), [link.format(**places) for link in evidence]


@dataclass
class Happenings:
    """What happens to one client, each at its instant, done in the order it happened with
    the portal clock there; nothing at or after `until`."""

    until: datetime
    items: list[tuple[datetime, Callable[[], object]]] = field(default_factory=list)

    def at(self, moment: datetime, action: Callable[[], object]) -> None:
        if moment < self.until:
            self.items.append((moment.replace(microsecond=0), action))

    def run(self) -> None:
        for moment, action in sorted(self.items, key=lambda item: item[0]):  # stable
            clock.freeze(moment)
            action()


def tick_items(
    happenings: Happenings,
    client: Client,
    acm: User,
    moments: list[tuple[datetime, str, str]],
    deliveries: dict[UsageKind, tuple[int, ...]],
    rng: random.Random,
    *,
    calendar: BusinessCalendar,
    started: datetime,
    notes: float,
) -> None:
    """L1-L5: each item ticked by the ACM at its moment, a share of them (`notes`) with a
    note and evidence; an LMS step that delivers what the contract counts (L2) has its
    deliveries recorded first, a business day apart up to the tick, after the launch
    `started`."""
    for moment, checklist, item_key in moments:
        kind = LMS_DELIVERIES.get(item_key) if checklist == LMS.key else None
        batches = deliveries.get(kind, ()) if kind else ()
        for n, quantity in enumerate(batches):
            earlier = len(batches) - 1 - n
            delivered = calendar.subtract_business_hours(moment, 8 * earlier)
            happenings.at(
                max(delivered, started + timedelta(minutes=10 + n)),
                partial(contract_limits.record_usage, client, kind.value, quantity, actor=acm),
            )
        note, evidence = _note_for(client, checklist, item_key, rng)
        if rng.random() >= notes:
            note, evidence = None, None
        happenings.at(
            moment,
            partial(
                onboarding.update_item,
                client,
                checklist,
                item_key,
                actor=acm,
                done=True,
                note=note,
                evidence=evidence,
            ),
        )


def replay_onboardings(
    new: list[tuple[Client, Onboarding]],
    seed: int,
    now: datetime,
    people: People,
    report: SeedReport,
) -> None:
    """O1, O2, L1-L4: the new stores' onboarding as their stories tell it, replayed through
    the services with the portal clock at its instants: registered (the welcome email owed
    on the Enterprise plan, the launch checklists), welcomed, sent the KYC link, answering
    it, and for a store launching now its launch so far, ticked item by item with what the
    contract counts (L2). Messages of the past look delivered."""
    if not new:
        return
    calendars = {spec.name: calendar_for(people.leader(spec.name).team) for spec in TEAMS}
    with replaying_the_past() as added:
        for client, plan in new:
            team = people.teams[client.acm.team.name]
            rng = random.Random(f"{seed}:onboarding:{client.store_code}")
            _replay_onboarding(
                client, plan, team=team, calendar=calendars[team.name], now=now, rng=rng
            )
    count_onboarding(added, report)


def _replay_onboarding(
    client: Client,
    plan: Onboarding,
    *,
    team: TeamSpec,
    calendar: BusinessCalendar,
    now: datetime,
    rng: random.Random,
) -> None:
    """One new store's onboarding (`replay_onboardings`), as it happened until now."""
    acm = client.acm
    happenings = Happenings(until=now - timedelta(minutes=10))
    clock.freeze(client.created_at)
    onboarding.client_registered(client)
    if client.plan == Plan.ENTERPRISE.value:  # O2 is the Enterprise plan's
        happenings.at(plan.welcome_at, partial(send_welcome, client, acm))
    happenings.at(plan.kyc_at, partial(kyc.send_link, client, actor=acm))
    # O1: most clients answer through the link; some leave it half-done, or do not open
    # it, and the ACM fills it in at the onboarding meeting (or still waits).
    answers = kyc_answers(rng, client)
    during_meeting = plan.meeting_at + timedelta(minutes=rng.randint(15, 40))
    way = rng.random()
    if way < 0.65:
        happenings.at(plan.answered_at, partial(client_answers, client, answers, submit=True))
    else:
        if way < 0.85 and plan.answered_at < plan.meeting_at:
            half = first_answers(answers, rng.uniform(0.3, 0.7))
            happenings.at(plan.answered_at, partial(client_answers, client, half, submit=False))
        if plan.status is not LifecycleStatus.ONBOARDING or rng.random() < 0.6:
            happenings.at(
                during_meeting,
                partial(kyc.answers_for_acm, client, answers, actor=acm, submit=True),
            )
    if plan.lms_at is None:
        if rng.random() < 0.5:  # L3: accounts the client already had
            for item_key in EXISTING_ACCOUNTS[: rng.randint(1, len(EXISTING_ACCOUNTS))]:
                happenings.at(
                    during_meeting + timedelta(minutes=30),
                    partial(
                        onboarding.update_item,
                        client,
                        FOUNDATION.key,
                        item_key,
                        actor=acm,
                        done=True,
                        note=EXISTING_ACCOUNT_NOTE,
                    ),
                )
        happenings.run()
        return
    # L1-L4: the launch so far, every item at its share of it: an LMS step every few days,
    # a few marketing accounts, Google Shopping hardly begun. Under 0.85 of the way: the
    # UAT (L5) has not started.
    counts = {key: len(definition.items) for key, definition in CHECKLISTS.items()}
    counts[FOUNDATION.key] = rng.randint(1, 6)
    counts[GOOGLE_SHOPPING.key] = rng.randint(0, 3)
    end = happenings.until
    span = max(timedelta(days=rng.uniform(90, 140)), (end - plan.lms_at) / 0.85)
    moments = []
    for share, checklist, item_key in launch_plan(counts):
        moment = plan.lms_at
        if share:
            moment = office_time(rng, team, plan.lms_at + span * share)
        if moment < end:
            moments.append((moment, checklist, item_key))
    deliveries = {
        UsageKind.LOGO: (1,),
        UsageKind.SLIDES: (rng.randint(3, 7),),
        UsageKind.PRODUCTS: (rng.randint(60, 190),),
        UsageKind.CATEGORIES: (rng.randint(6, 40),),
    }
    tick_items(
        happenings,
        client,
        acm,
        moments,
        deliveries,
        rng,
        calendar=calendar,
        started=plan.lms_at,
        notes=0.3,
    )
    happenings.run()


def count_onboarding(added: list[Any], report: SeedReport) -> None:
    """What a replay added, for the report: timeline events and minutes, and the
    onboarding's welcome emails, KYC links and answers, ticks and launches."""
    for row in added:
        if isinstance(row, WelcomeEmail):
            if row.sent_at is None:
                report.welcome_owed += 1
            else:
                report.welcome_sent += 1
        elif isinstance(row, KycQuestionnaire):
            report.kyc_submitted += row.submitted_at is not None
        elif isinstance(row, Minutes):
            report.minutes += 1
        elif isinstance(row, TimelineEvent):
            if row.kind == TimelineKind.KYC_LINK_SENT.value:
                report.kyc_links += 1
            elif row.kind == TimelineKind.STORE_LAUNCHED.value:
                report.launched += 1
            elif row.kind == TimelineKind.CHECKLIST_ITEM.value:
                report.checklist_ticks += "ticked" in row.detail.get("changes", ())
