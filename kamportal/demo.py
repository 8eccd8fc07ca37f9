"""Demo data for `flask kam seed-demo`: three teams, their people and a believable portfolio.

Deterministic (one seed), relative to the portal clock, and idempotent: teams are keyed on
their name, users on their email and clients on their store code, so a second run adds
nothing. Every address is on the reserved `.example` domain: no demo message can reach a
real inbox, whatever mail transport is configured.

Escalations and complaints (E1-E3), renewals with their invoices and payments (R1-R10),
and onboarding and launches (O1, O2, L1-L5) are replayed through the real services with the
portal clock at past instants, so each keeps the proofs real use leaves; an escalation or a
complaint is keyed on its ACM and what the client said, a renewal story on its ACM and its
client. A new store's onboarding is replayed with the store; the launch stories (a client at
each stage of the onboarding) are clients of their own, keyed on their store code. Demo
invoices are the portal's own, whatever billing system is configured.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from flask import current_app
from sqlalchemy import ColumnElement, event, exists, insert, or_, select

from kamportal import clock
from kamportal.billing.portal import PortalBilling
from kamportal.config import DEMO_PASSWORD
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    ActionItem,
    ActionOwner,
    AuditEvent,
    CallOutcome,
    Channel,
    Client,
    Complaint,
    ComplaintKind,
    ComplaintStatus,
    Contact,
    ContactChannel,
    DeliveryStatus,
    Escalation,
    EscalationStatus,
    EscalationTrigger,
    Invoice,
    InvoiceStatus,
    KycQuestionnaire,
    LadderStep,
    LifecycleStatus,
    Meeting,
    MeetingStatus,
    MeetingType,
    Minutes,
    MinutesStatus,
    Money,
    NoReplyLadder,
    OutboxMessage,
    Payment,
    PaymentIssue,
    Plan,
    Quotation,
    QuotationStatus,
    Renewal,
    ResolutionKind,
    Role,
    Team,
    TimelineEvent,
    TimelineKind,
    UsageKind,
    User,
    WelcomeEmail,
)
from kamportal.services import (
    accounts,
    contact_log,
    contract_limits,
    discounts,
    escalations,
    invoices,
    kyc,
    onboarding,
    payments,
    renewals,
    timeline,
)
from kamportal.services import clients as clients_service
from kamportal.services import minutes as minutes_service
from kamportal.services.calendar import BusinessCalendar, calendar_for
from kamportal.services.clients import ClientProfile, ContactDetails
from kamportal.services.invoices import Fee
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

DEFAULT_CLIENTS = 300
DEFAULT_SEED = 2026
STAFF_DOMAIN = "kam.example"
# How far back the timelines go: the day the team started working in the portal.
HISTORY_DAYS = 120


# --- The people -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    role: Role
    phone: str
    timezone: str

    @property
    def booking_link(self) -> str | None:
        if self.role not in (Role.ACM, Role.LEADER):
            return None
        return f"https://meetings.{STAFF_DOMAIN}/{self.email.partition('@')[0].replace('.', '-')}"


@dataclass(frozen=True)
class TeamSpec:
    name: str
    country: str
    timezone: str
    working_days: str
    starts: time
    ends: time
    mailbox: str
    leader: Person
    acms: tuple[Person, ...]

    @property
    def weekdays(self) -> frozenset[int]:
        return frozenset(int(d) for d in self.working_days.split(","))


def _person(name: str, phone: str, role: Role, timezone: str, email: str | None = None) -> Person:
    local = email or re.sub(r"[^a-z.]", "", name.lower().replace(" ", ".", 1).replace(" ", ""))
    return Person(name, local if "@" in local else f"{local}@{STAFF_DOMAIN}", role, phone, timezone)


def _team(
    name: str,
    country: str,
    timezone: str,
    working_days: str,
    hours: tuple[int, int],
    leader: tuple[str, str],
    acms: list[tuple[str, str]],
) -> TeamSpec:
    return TeamSpec(
        name=name,
        country=country,
        timezone=timezone,
        working_days=working_days,
        starts=time(hours[0]),
        ends=time(hours[1]),
        mailbox=f"{name.lower()}.team@{STAFF_DOMAIN}",
        leader=_person(*leader, role=Role.LEADER, timezone=timezone),
        acms=tuple(_person(*acm, role=Role.ACM, timezone=timezone) for acm in acms),
    )


TEAMS: tuple[TeamSpec, ...] = (
    _team(
        "Cairo",
        "EG",
        "Africa/Cairo",
        "7,1,2,3,4",
        (9, 17),
        ("Mona Adel", "+201005839214"),
        [
            ("Ahmed Samir", "+201112847365"),
            ("Nourhan Fathy", "+201223958471"),
            ("Karim Mansour", "+201550274938"),
            ("Salma Ezzat", "+201014762853"),
        ],
    ),
    _team(
        "Riyadh",
        "SA",
        "Asia/Riyadh",
        "7,1,2,3,4",
        (9, 17),
        ("Faisal Al Qahtani", "+966501847263"),
        [
            ("Reem Al Harbi", "+966552938471"),
            ("Abdullah Al Otaibi", "+966538274619"),
            ("Lama Al Dossari", "+966567483920"),
            ("Omar Bakr", "+966541739285"),
        ],
    ),
    _team(
        "Dubai",
        "AE",
        "Asia/Dubai",
        "1,2,3,4,5",
        (9, 18),
        ("Rashid Al Mansoori", "+971501928374"),
        [
            ("Hessa Al Ketbi", "+971552837461"),
            ("Yousef Haddad", "+971568374920"),
            ("Priya Nair", "+971507364819"),
            ("Daniel Brooks", "+971543829176"),
        ],
    ),
)

STAFF: tuple[Person, ...] = (
    _person("Tarek Hamdy", "+201098374625", Role.ADMIN, "Africa/Cairo", email="admin"),
    _person("Heba Soliman", "+201277364918", Role.FINANCE, "Africa/Cairo"),
    _person("Dina Farouk", "+201148273659", Role.PRODUCT, "Africa/Cairo"),
    _person("Hany Lotfy", "+971509283746", Role.COMMERCIAL, "Asia/Dubai"),
)


@dataclass(frozen=True)
class DemoLogin:
    role: str
    name: str
    email: str
    team: str
    password: str


def demo_logins() -> list[DemoLogin]:
    """Every demo user, admin first, then each team (leader, ACMs), then the other roles."""
    rows = [DemoLogin(STAFF[0].role.value, STAFF[0].name, STAFF[0].email, "—", DEMO_PASSWORD)]
    for team in TEAMS:
        for person in (team.leader, *team.acms):
            rows.append(
                DemoLogin(person.role.value, person.name, person.email, team.name, DEMO_PASSWORD)
            )
    rows += [DemoLogin(p.role.value, p.name, p.email, "—", DEMO_PASSWORD) for p in STAFF[1:]]
    return rows


# --- The markets the clients sell in ---------------------------------------------------------


@dataclass(frozen=True)
class Market:
    country: str
    weight: int
    timezones: tuple[str, ...]
    currency: str
    usd_rate: Decimal  # demo rate, good enough for a believable price list
    price_step: Decimal  # prices are round numbers in the local currency
    arabic_share: float
    team: str
    names: str
    phone_patterns: tuple[str, ...]  # '#' is a random digit; checked with phonenumbers


# fmt: off
MARKETS: tuple[Market, ...] = (
    Market("EG", 28, ("Africa/Cairo",), "EGP", Decimal("49"), Decimal("50"), 0.7, "Cairo",
           "egyptian", ("+2010########", "+2011########", "+2012########", "+2015########")),
    Market("SA", 25, ("Asia/Riyadh",), "SAR", Decimal("3.75"), Decimal("5"), 0.65, "Riyadh",
           "gulf", ("+9665########",)),
    Market("AE", 18, ("Asia/Dubai",), "AED", Decimal("3.6725"), Decimal("5"), 0.45, "Dubai",
           "gulf", ("+97150#######", "+97152#######", "+97155#######", "+97156#######")),
    Market("KW", 8, ("Asia/Kuwait",), "KWD", Decimal("0.307"), Decimal("0.125"), 0.6, "Riyadh",
           "gulf", ("+9655#######", "+9656#######", "+9669#######")),
    Market("BH", 3, ("Asia/Bahrain",), "BHD", Decimal("0.376"), Decimal("0.125"), 0.6, "Riyadh",
           "gulf", ("+9733#######",)),
    Market("QA", 4, ("Asia/Qatar",), "QAR", Decimal("3.64"), Decimal("5"), 0.6, "Dubai",
           "gulf", ("+9743#######", "+9745#######", "+9746#######", "+9747#######")),
    Market("OM", 3, ("Asia/Muscat",), "OMR", Decimal("0.385"), Decimal("0.125"), 0.6, "Dubai",
           "gulf", ("+9689#######",)),
    Market("JO", 3, ("Asia/Amman",), "JOD", Decimal("0.709"), Decimal("0.125"), 0.6, "Dubai",
           "levant", ("+96277#######", "+96278#######", "+96279#######")),
    Market("GB", 4, ("Europe/London",), "USD", Decimal("1"), Decimal("10"), 0.15, "Dubai",
           "western", ("+447#########",)),
    Market("US", 4, ("America/New_York", "America/Chicago", "America/Los_Angeles"), "USD",
           Decimal("1"), Decimal("10"), 0.1, "Dubai", "western", ("+121255501##",)),
)

NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "egyptian": (
        ("Ahmed", "Mohamed", "Mahmoud", "Mostafa", "Omar", "Karim", "Youssef", "Hassan", "Tarek",
         "Sherif", "Amr", "Khaled", "Mona", "Nour", "Yasmin", "Salma", "Dina", "Heba", "Rania",
         "Mariam", "Aya", "Nada", "Farida", "Laila"),
        ("Hassan", "Ibrahim", "El Sayed", "Abdel Rahman", "Farouk", "Mansour", "Naguib", "Shawky",
         "Soliman", "Fahmy", "Zaki", "Ragab", "Gamal", "Hegazy", "Badawi", "Sabry", "Younis",
         "El Masry"),
    ),
    "gulf": (
        ("Abdullah", "Faisal", "Khalid", "Saud", "Turki", "Nasser", "Fahad", "Sultan", "Hamad",
         "Rashid", "Majed", "Waleed", "Noura", "Maha", "Reem", "Lama", "Hessa", "Latifa",
         "Shaikha", "Alanoud", "Sara", "Dana", "Munira", "Aisha"),
        ("Al Qahtani", "Al Otaibi", "Al Harbi", "Al Shammari", "Al Dossari", "Al Mutairi",
         "Al Ghamdi", "Al Zahrani", "Al Mansoori", "Al Nuaimi", "Al Ketbi", "Al Falasi",
         "Al Suwaidi", "Al Ajmi", "Al Enezi", "Al Rashidi", "Al Kuwari", "Al Marri", "Al Balushi",
         "Al Hinai"),
    ),
    "levant": (
        ("Omar", "Zaid", "Rami", "Fadi", "Tareq", "Yazan", "Lina", "Dana", "Rana", "Hala", "Maya",
         "Tala"),
        ("Haddad", "Khoury", "Nasser", "Masri", "Odeh", "Saleh", "Qasem", "Hijazi", "Salameh",
         "Shahin"),
    ),
    "western": (
        ("Emma", "Oliver", "James", "Sarah", "Daniel", "Laura", "Thomas", "Sophie", "Michael",
         "Hannah", "David", "Rachel", "Omar", "Layla"),
        ("Carter", "Bennett", "Hughes", "Walker", "Shaw", "Patel", "Turner", "Mitchell", "Reid",
         "Foster", "Khan", "Morgan", "Haddad"),
    ),
}

INDUSTRIES: dict[str, tuple[str, ...]] = {
    "Fashion & apparel": ("Threads", "Boutique", "Wear", "Closet", "Couture"),
    "Beauty & cosmetics": ("Beauty", "Glow", "Cosmetics", "Skin Lab", "Care"),
    "Perfumes & oud": ("Oud", "Scents", "Perfumes", "Bakhoor", "Attar"),
    "Electronics": ("Tech", "Gadgets", "Electronics", "Mobile", "Digital"),
    "Home & furniture": ("Home", "Furniture", "Living", "Decor", "Interiors"),
    "Grocery & food": ("Market", "Pantry", "Foods", "Grocers", "Kitchen"),
    "Coffee & sweets": ("Coffee", "Dates", "Roastery", "Sweets", "Bakery"),
    "Jewellery & watches": ("Jewels", "Gold", "Watches", "Diamonds", "Silver"),
    "Books & stationery": ("Books", "Library", "Stationery", "Pages", "Paper"),
    "Toys & baby": ("Toys", "Kids", "Baby", "Playhouse", "Little Ones"),
    "Sports & fitness": ("Sports", "Fitness", "Active", "Outdoors", "Gym Gear"),
    "Health & pharmacy": ("Pharmacy", "Health", "Wellness", "Vitamins", "Care Plus"),
    "Automotive": ("Auto Parts", "Motors", "Garage", "Tyres", "Car Care"),
    "Pet supplies": ("Pets", "Paws", "Pet Shop", "Vet Supply", "Feathers"),
    "Flowers & gifts": ("Flowers", "Gifts", "Blooms", "Roses", "Gift Box"),
}

STORE_PREFIXES = (
    "Nile", "Sahara", "Red Sea", "Delta", "Zamalek", "Maadi", "Luxor", "Najd", "Hijaz",
    "Diriyah", "Jumeirah", "Marina", "Corniche", "Gulf", "Oasis", "Desert Rose", "Golden",
    "Silver Moon", "Al Noor", "Al Waha", "Baraka", "Layali", "Amwaj", "Sidra", "Yasmin", "Lotus",
    "Falcon", "Palm", "Lulu", "Qamar", "Nakheel", "Sama", "Reef", "Rawda", "Zaytoun", "Mirage",
    "Crescent", "Saffron", "Cedar", "Dana", "Hayat", "Bayan",
)
# fmt: on

STATUS_WEIGHTS = {
    LifecycleStatus.LIVE: 60,
    LifecycleStatus.LAUNCHING: 12,
    LifecycleStatus.ONBOARDING: 8,
    LifecycleStatus.AT_RISK: 13,
    LifecycleStatus.CHURNED: 7,
}
PLAN_WEIGHTS = {Plan.ENTERPRISE: 55, Plan.ULTIMATE: 25, Plan.PROFESSIONAL: 14, Plan.BUSINESS: 6}
PLAN_PRICE_USD = {  # yearly
    Plan.BUSINESS: Decimal(1188),
    Plan.PROFESSIONAL: Decimal(2388),
    Plan.ULTIMATE: Decimal(4788),
}
STORE_MANAGER_USD = Decimal(3600)

PRIMARY_ROLES = ("Owner", "Founder & CEO", "Managing director", "General manager")
OTHER_ROLES = (
    "Co-founder",
    "Marketing manager",
    "Operations manager",
    "E-commerce manager",
    "Finance manager",
)

# --- What happens on a timeline --------------------------------------------------------------

CALL_NOTES = {
    LifecycleStatus.ONBOARDING: (
        "Walked through the KYC questionnaire; the client prefers email for anything official.",
        "Agreed the LMS roadmap: domain and SSL this week, branding next.",
        "Client asked how many products fit in the LMS: confirmed 200, and 600 a year.",
        "Collected the logo brief and the colours of the brand.",
    ),
    LifecycleStatus.LAUNCHING: (
        "Domain linked and SSL active; waiting for the final logo files.",
        "Products sheet received: about 140 of 200 products uploaded.",
        "Test order passed for cards and cash on delivery; courier labels still failing.",
        "Banners approved (6 of 7); categories done in Arabic and English.",
        "Walked through the UAT checklist; launch date pencilled in.",
        "Mail server linked; payment gateway documents still with the bank.",
    ),
    LifecycleStatus.LIVE: (
        "Weekly follow-up: orders steady, no requests.",
        "Orders down about 15% on last month; suggested Abandoned Cart and a coupon campaign.",
        "Client asked about Sell on FB; sent the setup guide.",
        "Planning the seasonal campaign: new banners due by Thursday.",
        "GMV up since the Google Shopping feed went live.",
        "Client wants a custom field at checkout; will send the SOW template.",
        "Reviewed the monthly report together; the client is happy with conversion.",
        "Suggested Advanced Reward Points to bring customers back.",
        "Went through the product SEO keywords for the top 20 products.",
    ),
    LifecycleStatus.AT_RISK: (
        "Client unhappy with courier delays; asked for another shipping integration.",
        "Orders stalled for three weeks; agreed an action plan with the client.",
        "Client is comparing other platforms; proposed a meeting with the team leader.",
        "Renewal invoice not paid yet; referred the payment question to finance.",
        "Client complained about slow pages; checking the installed apps.",
    ),
}
NO_ANSWER_NOTES = ("No answer.", "No answer; the line was busy.", "No answer after two tries.")
VOICEMAIL_NOTES = ("Left a voicemail asking for a suitable time to call.",)
CLIENT_REQUESTS = (
    "Question about shipping rates to the GCC",
    "New banners for the weekend sale",
    "Adding a new payment method",
    "Bulk upload of the new collection",
    "Copy of the last invoice",
    "Store is slow on mobile",
    "Changing the store's working hours message",
    "Help with a refund for an order",
)
WHATSAPP_MESSAGES = (
    "Can you call me? The checkout is not loading.",
    "Please check the new banner I sent.",
    "Is the store down? A customer complained.",
    "When is our call this week?",
)
ACM_NOTES = {
    LifecycleStatus.ONBOARDING: ("Client prefers Arabic material for onboarding.",),
    LifecycleStatus.LAUNCHING: (
        "LMS ticket updated with the latest screenshots.",
        "Logo revision used (1 of 1 allowed by the contract).",
    ),
    LifecycleStatus.LIVE: (
        "Store sales reviewed: best month this year.",
        "Shared the e-commerce webinar recording with the client.",
        "Suggested the Sales Booster app; client will think about it.",
    ),
    LifecycleStatus.AT_RISK: (
        "Health check: orders falling, client slow to reply.",
        "Discussed the account with the team leader.",
    ),
}
AT_RISK_REASONS = (
    "orders falling for a month",
    "client unhappy with delivery partners",
    "client comparing other platforms",
    "renewal invoice overdue",
)
CHURN_REASONS = (
    "moved to another platform",
    "closed the online business",
    "budget cut; did not renew",
)


# --- Seeding -----------------------------------------------------------------------------------


@dataclass
class SeedReport:
    teams: int = 0
    users: int = 0
    clients: int = 0
    contacts: int = 0
    events: int = 0
    meetings: int = 0
    minutes: int = 0
    escalations: int = 0
    complaints: int = 0
    renewals: int = 0
    invoices: int = 0
    # Onboarding and launch (O1, O2, L1-L5): welcome emails sent and still owed, KYC links
    # sent and questionnaires submitted, checklist items ticked, stores launched.
    welcome_sent: int = 0
    welcome_owed: int = 0
    kyc_links: int = 0
    kyc_submitted: int = 0
    checklist_ticks: int = 0
    launched: int = 0

    @property
    def nothing_added(self) -> bool:
        return not any(vars(self).values())


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
    clients that are missing (LAUNCH_STORIES: one at each stage of the onboarding). The
    portal clock is as it was afterwards, even when seeding fails.
    """
    now = clock.now()
    report = SeedReport()
    with _public_url(served_at):
        people = _seed_people(now, report)
        _seed_clients(clients, seed, now, people, report)
        db.session.flush()
        _seed_escalations(seed, now, people, report)
        db.session.flush()
        _seed_renewals(seed, now, people, report)
        db.session.flush()
        _seed_launch_stories(seed, now, people, report)
        db.session.flush()
        _seed_unanswered_calls(now, people, report)
        db.session.flush()
    return report


# F2: this morning's unanswered call, so each ACM's day shows the follow-up it owes.
UNANSWERED_CALL_AGO = timedelta(hours=2)


def _seed_unanswered_calls(now: datetime, people: _People, report: SeedReport) -> None:
    """F2: an unanswered call two hours ago on a live client of each ACM that has none
    under way, replayed through the service: the follow-up email is owed on the day (or
    went, where the team sends it at once), the WhatsApp after the team's wait. An ACM
    with a no-reply ladder already gets none, so running again adds nothing."""
    with _replaying_the_past() as added:
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
                        for c in _acm_clients(acm, (LifecycleStatus.LIVE,), without=escalated)
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
        db.session.flush()
        _delivered([row for row in added if isinstance(row, OutboxMessage)])
    report.events += sum(isinstance(row, TimelineEvent) for row in added)


@dataclass
class _People:
    by_email: dict[str, User]
    teams: dict[str, TeamSpec] = field(default_factory=dict)

    def acms(self, team: str) -> list[User]:
        return [self.by_email[p.email] for p in self.teams[team].acms]

    def leader(self, team: str) -> User:
        return self.by_email[self.teams[team].leader.email]


def _seed_people(now: datetime, report: SeedReport) -> _People:
    people = _People(by_email={})
    password_hash: str | None = None

    def get_or_create(person: Person, team: Team | None) -> User:
        nonlocal password_hash
        user = accounts.find_user_by_email(person.email)
        if user is None:
            # Every demo user has the same password: hash it once (argon2 costs ~0.15 s).
            password_hash = password_hash or accounts.hash_password(DEMO_PASSWORD)
            user = User(
                email=accounts.normalize_email(person.email),
                name=person.name,
                password_hash=password_hash,
                team=team,
                timezone=person.timezone,
                phone=person.phone,
                booking_link=person.booking_link,
                active=True,
                created_at=now,
            )
            db.session.add(user)
            accounts.set_roles(user, [person.role])
            db.session.flush()
            timeline.audit(None, "user.create", user, after=accounts.user_snapshot(user))
            report.users += 1
        people.by_email[person.email] = user
        return user

    for spec in TEAMS:
        team = db.session.scalar(select(Team).where(Team.name == spec.name))
        if team is None:
            team = Team(
                name=spec.name,
                country=spec.country,
                timezone=spec.timezone,
                working_days=spec.working_days,
                workday_starts=spec.starts,
                workday_ends=spec.ends,
                shared_mailbox=spec.mailbox,
            )
            db.session.add(team)
            db.session.flush()
            timeline.audit(None, "team.create", team, after=accounts.team_snapshot(team))
            report.teams += 1
        people.teams[spec.name] = spec
        leader = get_or_create(spec.leader, team)
        if team.leader_id is None:
            team.leader = leader
        for acm in spec.acms:
            get_or_create(acm, team)
    for person in STAFF:
        get_or_create(person, None)
    return people


def _store_names(seed: int) -> list[tuple[str, str]]:
    """(industry, store name) pairs, unique, in the seed's order."""
    names = [
        (industry, f"{prefix} {noun}")
        for industry, nouns in INDUSTRIES.items()
        for prefix in STORE_PREFIXES
        for noun in nouns
    ]
    random.Random(f"{seed}:stores").shuffle(names)
    return names


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _store_code(name: str, index: int) -> str:
    """The store code of the seed order's `index`-th store name."""
    return f"{_slug(name)[:10].upper()}-{index + 1:03d}"


def _seed_clients(
    count: int, seed: int, now: datetime, people: _People, report: SeedReport
) -> None:
    names = _store_names(seed)[: min(count, MAX_CLIENTS)]  # the last names are the stories'
    codes = [_store_code(name, i) for i, (_, name) in enumerate(names)]
    existing: set[str] = set()
    for start in range(0, len(codes), 500):
        batch = codes[start : start + 500]
        existing |= set(
            db.session.scalars(select(Client.store_code).where(Client.store_code.in_(batch)))
        )
    golive = datetime.combine((now - timedelta(days=HISTORY_DAYS)).date(), time(7), UTC)

    new: list[tuple[Client, list[_Event], _Onboarding | None]] = []
    for i, ((industry, name), code) in enumerate(zip(names, codes, strict=True)):
        if code in existing:
            continue
        rng = random.Random(f"{seed}:client:{i}")
        new.append(_make_client(rng, i, industry, name, code, now, golive, people))
    if not new:
        return

    db.session.add_all(client for client, _, _ in new)
    db.session.flush()
    event_rows: list[dict[str, Any]] = []
    audit_rows: list[dict[str, Any]] = []
    for client, events, _ in new:
        event_rows += [e.row(client.id) for e in events]
        audit_rows.append(
            {
                "actor_id": None,
                "action": "client.create",
                "object_type": "client",
                "object_id": client.id,
                "before": None,
                "after": timeline.snapshot(client, clients_service.PROFILE_FIELDS)
                | {"acm_id": client.acm_id, "source": "demo"},
                "at": now,
            }
        )
        report.contacts += len(client.contacts)
    _replay_onboardings(
        [(client, plan) for client, _, plan in new if plan is not None], seed, now, people, report
    )
    for client, _, _ in new:
        event_rows += _seed_meetings(client, seed, now, people, report)
    db.session.flush()
    event_rows += _seed_todays_meetings([client for client, _, _ in new], now, report)
    # render_nulls keeps every row's columns the same, so the rows go in as one batch.
    db.session.execute(insert(TimelineEvent).execution_options(render_nulls=True), event_rows)
    db.session.execute(insert(AuditEvent).execution_options(render_nulls=True), audit_rows)
    report.clients += len(new)
    report.events += len(event_rows)


def _weighted(rng: random.Random, weights: dict) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _phone(rng: random.Random, market: Market) -> str:
    for _ in range(50):
        pattern = rng.choice(market.phone_patterns)
        number = "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in pattern)
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            return number
    raise RuntimeError(f"no valid demo phone number for {market.country}")


def _anniversary(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _amount(rng: random.Random, plan: Plan, store_manager: bool, market: Market) -> Decimal:
    if plan is Plan.ENTERPRISE:
        usd = Decimal(rng.randrange(8000, 20001, 500))
    else:
        usd = PLAN_PRICE_USD[plan] * Decimal(rng.randint(95, 110)) / 100
    if store_manager:
        usd += STORE_MANAGER_USD
    return _round_price(usd * market.usd_rate, market)


def _round_price(amount: Decimal, market: Market) -> Decimal:
    """`amount` of the market's currency as a round price (a multiple of its price step)."""
    steps = (amount / market.price_step).quantize(Decimal(1))
    return Money(steps * market.price_step, market.currency).amount


def _contacts(rng: random.Random, market: Market, domain: str) -> list[Contact]:
    pool = market.names
    if market.names == "western" and rng.random() < 0.25:
        pool = rng.choice(("egyptian", "gulf", "levant"))
    firsts, lasts = NAMES[pool]
    contacts: list[Contact] = []
    used: set[str] = set()
    roles = rng.sample(OTHER_ROLES, k=rng.choices((0, 1, 2), weights=(35, 45, 20))[0])
    for n, role in enumerate((rng.choice(PRIMARY_ROLES), *roles)):
        first, last = rng.choice(firsts), rng.choice(lasts)
        while f"{first} {last}" in used:
            first, last = rng.choice(firsts), rng.choice(lasts)
        used.add(f"{first} {last}")
        phone = _phone(rng, market)
        primary = n == 0
        contacts.append(
            Contact(
                name=f"{first} {last}",
                email=f"{_slug(first)}.{_slug(last)}@{domain}",
                phone=phone,
                whatsapp=phone if rng.random() < (0.85 if primary else 0.5) else None,
                role=role,
                is_primary=primary,
                is_decision_maker=primary or role == "Co-founder" or rng.random() < 0.2,
            )
        )
    return contacts


def _make_client(
    rng: random.Random,
    index: int,
    industry: str,
    name: str,
    code: str,
    now: datetime,
    golive: datetime,
    people: _People,
) -> tuple[Client, list[_Event], _Onboarding | None]:
    market: Market = rng.choices(MARKETS, weights=[m.weight for m in MARKETS])[0]
    status: LifecycleStatus = _weighted(rng, STATUS_WEIGHTS)
    plan: Plan = _weighted(rng, PLAN_WEIGHTS)
    store_manager = (plan is Plan.ENTERPRISE and rng.random() < 0.35) or (
        plan is Plan.ULTIMATE and rng.random() < 0.15
    )
    today = now.date()
    churned_at: datetime | None = None
    if status is LifecycleStatus.ONBOARDING:
        subscribed_at = now - timedelta(hours=rng.uniform(3, 14 * 24))
        renewal = _anniversary(subscribed_at.date(), 1)
    elif status is LifecycleStatus.LAUNCHING:
        subscribed_at = now - timedelta(days=rng.uniform(18, 75))
        renewal = _anniversary(subscribed_at.date(), 1)
    elif status is LifecycleStatus.CHURNED:
        # Churned at the renewal they did not pay: no renewal ahead any more.
        lapsed = today - timedelta(days=rng.randint(15, 100))
        subscribed_at = _at_hour(rng, _anniversary(lapsed, -rng.randint(1, 3)))
        churned_at = _at_hour(rng, lapsed)
        renewal = None
    else:
        soon = 0.25 if status is LifecycleStatus.AT_RISK else 0.12
        ahead = rng.randint(1, 30) if rng.random() < soon else rng.randint(31, 365)
        renewal = today + timedelta(days=ahead)
        # A live store came to the portal live, imported with its history: the launches
        # of the portal's months are the launch stories' (LAUNCH_STORIES).
        min_age = HISTORY_DAYS + 1 if status is LifecycleStatus.LIVE else 180
        years = 1
        while _anniversary(renewal, -years) > today - timedelta(days=min_age):
            years += 1
        years += rng.choice((0, 0, 1, 2))
        subscribed_at = _at_hour(rng, _anniversary(renewal, -years))

    team = people.teams[market.team]
    acm = rng.choice(people.acms(market.team))
    is_new = subscribed_at > golive
    created_at = (
        min(subscribed_at + timedelta(hours=rng.uniform(0.5, 3)), now - timedelta(minutes=5))
        if is_new
        else golive + timedelta(seconds=index)
    )
    slug = _slug(name)
    client = Client(
        store_name=name,
        store_code=code,
        plan=plan.value,
        has_store_manager=store_manager,
        country=market.country,
        timezone=rng.choice(market.timezones),
        industry=industry,
        language="ar" if rng.random() < market.arabic_share else "en",
        # A new client starts onboarding; the launch moves it on (`_replay_onboarding`).
        status=(LifecycleStatus.ONBOARDING if is_new else status).value,
        acm_id=acm.id,
        subscribed_at=subscribed_at,
        renewal_date=renewal,
        recurring_amount=_amount(rng, plan, store_manager, market),
        currency=market.currency,
        created_at=created_at,
        updated_at=created_at,
        contacts=_contacts(rng, market, f"{slug}.example"),
    )
    story = _Story(
        rng=rng,
        client=client,
        team=team,
        acm=acm,
        leader=people.leader(market.team),
        now=now,
        churned_at=churned_at,
    )
    others = [u for u in people.acms(market.team) if u is not acm]
    if not is_new and rng.random() < 0.06:
        story.reassign(rng.choice(others), golive + timedelta(days=rng.uniform(15, 60)))
    events = story.tell(status, is_new)
    client.last_contact_at = max((e.at for e in events if e.is_contact), default=None)
    client.updated_at = max(
        (e.at for e in events if e.kind.value.startswith("client_")), default=created_at
    )
    return client, events, story.onboarding


def _at_hour(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(rng.randint(6, 15), rng.randrange(60)), UTC)


def _office_time(rng: random.Random, team: TeamSpec, after: datetime) -> datetime:
    """The first moment at or after `after` inside the team's working week and hours,
    plus a few minutes so it does not look scheduled."""
    zone = ZoneInfo(team.timezone)
    local = after.astimezone(zone)
    day = local.date()
    for _ in range(14):
        opens = datetime.combine(day, team.starts, zone)
        closes = datetime.combine(day, team.ends, zone) - timedelta(minutes=30)
        if day.isoweekday() in team.weekdays and local < closes:
            start = max(local, opens)
            spare = int((closes - start).total_seconds() // 60)
            moment = start + timedelta(minutes=rng.randint(0, min(spare, 90)))
            return moment.astimezone(UTC)
        day += timedelta(days=1)
        local = datetime.combine(day, time(0), zone)
    return after


@dataclass
class _Event:
    at: datetime
    kind: TimelineKind
    actor_id: int | None
    summary: str
    detail: dict[str, Any]
    # Its id goes into `detail` once the contacts are flushed.
    contact: Contact | None = None

    @property
    def is_contact(self) -> bool:
        """What rule F1 counts as contact: an answered call or an email sent."""
        if self.kind is TimelineKind.EMAIL_SENT:
            return True
        return self.kind is TimelineKind.CALL and self.detail.get("outcome") == "answered"

    def row(self, client_id: int) -> dict[str, Any]:
        detail = dict(self.detail)
        if self.contact is not None:
            detail["contact_id"] = self.contact.id
        return {
            "client_id": client_id,
            "kind": self.kind.value,
            "actor_id": self.actor_id,
            "at": self.at,
            "summary": self.summary[:500],
            "detail": timeline.jsonable(detail),
            "outbox_message_id": None,
        }


@dataclass
class _Story:
    """One client's timeline, in the shapes services/clients.py records: onboarding for a
    new client, then a week of contact at a time."""

    rng: random.Random
    client: Client
    team: TeamSpec
    acm: User
    leader: User
    now: datetime
    churned_at: datetime | None
    previous_acm: User | None = None
    reassigned_at: datetime | None = None
    events: list[_Event] = field(default_factory=list)
    phases: list[tuple[datetime, LifecycleStatus]] = field(default_factory=list)
    onboarding: _Onboarding | None = None

    def reassign(self, previous: User, at: datetime) -> None:
        self.previous_acm = previous
        self.reassigned_at = self.office_time(at)

    # -- time ------------------------------------------------------------------------------

    def office_time(self, after: datetime) -> datetime:
        return _office_time(self.rng, self.team, after)

    def office_time_before(self, before: datetime) -> datetime:
        """A moment inside the team's working week and hours, at or shortly before `before`."""
        zone = ZoneInfo(self.team.timezone)
        local = before.astimezone(zone)
        day = local.date()
        for _ in range(14):
            opens = datetime.combine(day, self.team.starts, zone) + timedelta(minutes=15)
            closes = min(datetime.combine(day, self.team.ends, zone), local)
            if day.isoweekday() in self.team.weekdays and closes - opens >= timedelta(minutes=10):
                spare = int((closes - opens).total_seconds() // 60)
                return (opens + timedelta(minutes=self.rng.randint(0, spare))).astimezone(UTC)
            day -= timedelta(days=1)
        return before

    def local_day(self, at: datetime) -> date:
        return at.astimezone(ZoneInfo(self.team.timezone)).date()

    def phase(self, at: datetime) -> LifecycleStatus:
        current = self.phases[0][1]
        for since, status in self.phases:
            if since <= at:
                current = status
        return current

    def owner(self, at: datetime) -> User:
        if self.reassigned_at is not None and self.previous_acm is not None:
            return self.previous_acm if at < self.reassigned_at else self.acm
        return self.acm

    # -- events ------------------------------------------------------------------------------

    def add(
        self,
        at: datetime,
        kind: TimelineKind,
        actor: User | None,
        summary: str,
        detail: dict[str, Any] | None = None,
        contact: Contact | None = None,
    ) -> None:
        actor_id = actor.id if actor else None
        self.events.append(_Event(at, kind, actor_id, summary, detail or {}, contact))

    def email_sent(self, at: datetime, contact: Contact, subject: str, rule: str = "") -> None:
        actor = self.owner(at)
        detail: dict[str, Any] = {
            "subject": subject,
            "to": [contact.email],
            "cc": [actor.email, self.leader.email, self.team.mailbox],  # rule G1
        }
        if rule:
            detail["rule"] = rule
        summary = f"Email to {contact.name}: {subject}"
        self.add(at, TimelineKind.EMAIL_SENT, actor, summary, detail, contact)

    def email_received(self, at: datetime, contact: Contact, subject: str) -> None:
        # Logged by the ACM who received it (services/clients.py, log_email).
        summary = f"Email from {contact.name}: {subject}"
        detail = {"subject": subject, "from": contact.email}
        self.add(at, TimelineKind.EMAIL_RECEIVED, self.owner(at), summary, detail, contact)

    def call(self, at: datetime, contact: Contact, outcome: CallOutcome, notes: str) -> None:
        self.add(
            at,
            TimelineKind.CALL,
            self.owner(at),
            f"Call with {contact.name}: {outcome.label}. {notes}",
            {"outcome": outcome.value, "phone": contact.phone, "notes": notes},
            contact,
        )

    def whatsapp_sent(self, at: datetime, contact: Contact, template: str, rule: str) -> None:
        ask = (
            "please check your email"
            if template == "check_your_email"
            else ("please send requests by email")
        )
        self.add(
            at,
            TimelineKind.WHATSAPP_SENT,
            self.owner(at),
            f"WhatsApp to {contact.name}: {ask} ({rule})",
            {"template": template, "to": contact.whatsapp},
            contact,
        )

    def note(self, at: datetime, text: str, actor: User | None = None) -> None:
        self.add(at, TimelineKind.NOTE, actor or self.owner(at), text)

    def status_change(self, at: datetime, new: LifecycleStatus, reason: str = "") -> None:
        old = self.phase(at)
        self.phases.append((at, new))
        detail: dict[str, Any] = {"changes": {"status": {"from": old.value, "to": new.value}}}
        if reason:
            detail["reason"] = reason
        actor = self.leader if new is LifecycleStatus.CHURNED else self.owner(at)
        because = f": {reason}" if reason else ""
        summary = f"Status changed from {old.label} to {new.label}{because}"
        self.add(at, TimelineKind.CLIENT_UPDATED, actor, summary, detail)

    # -- the story ---------------------------------------------------------------------------

    def tell(self, status: LifecycleStatus, is_new: bool) -> list[_Event]:
        rng, client = self.rng, self.client
        created = client.created_at
        contacts = client.contacts
        primary = contacts[0]
        first_acm = self.owner(created)
        self.phases = [(created, LifecycleStatus.ONBOARDING if is_new else LifecycleStatus.LIVE)]
        how = "registered" if is_new else "imported"
        self.add(
            created,
            TimelineKind.CLIENT_CREATED,
            first_acm if is_new else None,
            f"{client.store_name} ({client.store_code}) {how}, ACM {first_acm.name}",
        )
        for n, contact in enumerate(contacts):
            self.add(
                created + timedelta(seconds=n + 1),
                TimelineKind.CONTACT_ADDED,
                first_acm if is_new else None,
                f"Contact added: {contact.name}" + (f" ({contact.role})" if contact.role else ""),
                contact=contact,
            )
        if self.reassigned_at is not None and self.previous_acm is not None:
            self.add(
                self.reassigned_at,
                TimelineKind.CLIENT_REASSIGNED,
                self.leader,
                f"Reassigned from {self.previous_acm.name} to {self.acm.name}",
                {
                    "from_acm_id": self.previous_acm.id,
                    "to_acm_id": self.acm.id,
                    "reason": "Portfolio rebalancing across the team",
                },
            )

        end = self.churned_at or self.now
        weekly_from = created
        if is_new:
            weekly_from = self.onboard(status, primary)
        quiet_from = self.plan_phases(status)

        # A week of contact at a time, counted back from the end so the latest is recent.
        cursor = end - timedelta(days=rng.uniform(0.1, 4.5))
        latest = True
        not_before = weekly_from + timedelta(days=2)
        while cursor > not_before:
            self.week(cursor, contacts, quiet_from, latest=latest, not_before=not_before)
            cursor -= timedelta(days=7)
            latest = False

        if self.churned_at is not None:
            self.note(
                self.churned_at + timedelta(minutes=30),
                f"Client did not renew ({rng.choice(CHURN_REASONS)}); recorded in the "
                "complaint-handling process.",
            )
            end = self.churned_at + timedelta(hours=1)
        last = min(end, self.now)
        events = sorted((e for e in self.events if created <= e.at <= last), key=lambda e: e.at)
        self.events = events
        return events

    def onboard(self, status: LifecycleStatus, primary: Contact) -> datetime:
        """Welcome email within 48 business hours (O2), KYC (O1), onboarding meeting (O3)
        and the launch (L1). The onboarding meeting is told here; the rest is replayed
        through the services once the client exists (`_Onboarding`)."""
        rng, client = self.rng, self.client
        welcome = self.office_time(client.created_at + timedelta(hours=rng.uniform(1, 20)))
        kyc = welcome + timedelta(minutes=rng.randint(10, 60))
        answered = kyc + timedelta(hours=rng.uniform(18, 72))
        meeting = self.office_time(welcome + timedelta(days=rng.uniform(2, 5)))
        self.call(
            meeting,
            primary,
            CallOutcome.ANSWERED,
            "Onboarding meeting: agreed the LMS roadmap, a weekly call, and email as the "
            "official channel.",
        )
        self.email_sent(
            meeting + timedelta(minutes=rng.randint(30, 120)),
            primary,
            "Minutes of our onboarding meeting",
            "G5",
        )
        plan = self.onboarding = _Onboarding(status, welcome, kyc, answered, meeting)
        if status is not LifecycleStatus.ONBOARDING:
            plan.lms_at = self.office_time(meeting + timedelta(days=rng.uniform(1, 3)))
            self.phases.append((plan.lms_at, LifecycleStatus.LAUNCHING))
        return meeting

    def plan_phases(self, status: LifecycleStatus) -> datetime | None:
        """Status changes late in the story; returns when the ACM stopped calling, if they did."""
        rng = self.rng
        if status is LifecycleStatus.AT_RISK:
            since = self.office_time(self.now - timedelta(days=rng.uniform(10, 60)))
            self.status_change(since, LifecycleStatus.AT_RISK, rng.choice(AT_RISK_REASONS))
            if rng.random() < 0.45:
                return self.now - timedelta(days=rng.uniform(8, 30))
        elif status is LifecycleStatus.CHURNED and self.churned_at is not None:
            since = self.office_time(self.churned_at - timedelta(days=rng.uniform(20, 60)))
            self.status_change(since, LifecycleStatus.AT_RISK, rng.choice(AT_RISK_REASONS))
            self.status_change(self.churned_at, LifecycleStatus.CHURNED)
        elif status is LifecycleStatus.LIVE and rng.random() < 0.12:
            # Overdue for the weekly contact (rule F1): the list of overdue clients has work.
            return self.now - timedelta(days=rng.uniform(8, 25))
        return None

    def week(
        self,
        until: datetime,
        contacts: list[Contact],
        quiet_from: datetime | None,
        *,
        latest: bool,
        not_before: datetime,
    ) -> None:
        """The week that ends at `until`: the weekly call (F1) and what follows it (F2, G5),
        the client's own emails and WhatsApp messages (G6), the ACM's notes."""
        rng = self.rng
        at = self.office_time_before(until)
        start = until - timedelta(days=7)
        phase = self.phase(at)
        at_risk = phase is LifecycleStatus.AT_RISK
        contactable = quiet_from is None or at < quiet_from
        contact = contacts[0] if len(contacts) == 1 or rng.random() < 0.8 else rng.choice(contacts)
        skipped = at < not_before or (not latest and rng.random() < (0.25 if at_risk else 0.05))

        if contactable and not skipped:
            weights = (45, 40, 15) if at_risk else (68, 22, 10)
            outcome = rng.choices(list(CallOutcome), weights=weights)[0]
            if outcome is CallOutcome.ANSWERED:
                self.call(at, contact, outcome, rng.choice(CALL_NOTES[phase]))
                if rng.random() < 0.35:  # minutes of a call with requests (G5)
                    self.email_sent(
                        at + timedelta(minutes=rng.randint(30, 150)),
                        contact,
                        f"Minutes of our call – {self.local_day(at):%d %b}",
                        "G5",
                    )
            else:
                notes = NO_ANSWER_NOTES if outcome is CallOutcome.NO_ANSWER else VOICEMAIL_NOTES
                self.call(at, contact, outcome, rng.choice(notes))
                # Rule F2: not answered → email; no reply at all → WhatsApp to check the email.
                self.email_sent(
                    at + timedelta(minutes=rng.randint(10, 60)),
                    contact,
                    "We tried to call you today",
                    "F2",
                )
                reply = rng.random()
                if reply < 0.55:
                    self.email_received(
                        at + timedelta(hours=rng.uniform(2, 26)),
                        contact,
                        "Re: We tried to call you today",
                    )
                elif reply < 0.85 and contact.whatsapp:
                    nudge = self.office_time(at + timedelta(days=rng.uniform(1, 2)))
                    self.whatsapp_sent(nudge, contact, "check_your_email", "F2")

        if rng.random() < 0.12:
            asked = start + timedelta(hours=rng.uniform(0, 120))
            subject = rng.choice(CLIENT_REQUESTS)
            self.email_received(asked, contact, subject)
            answered = self.office_time(asked + timedelta(hours=rng.uniform(0.5, 4)))
            if contactable and rng.random() < 0.85:
                self.email_sent(answered, contact, f"Re: {subject}")
        if contact.whatsapp and rng.random() < 0.06:
            asked = start + timedelta(hours=rng.uniform(0, 120))
            text = rng.choice(WHATSAPP_MESSAGES)
            self.add(
                asked,
                TimelineKind.WHATSAPP_RECEIVED,
                self.owner(asked),
                f"WhatsApp from {contact.name}: {text}",
                {"message": text},
                contact,
            )
            if contactable:  # rule G6: answered, and the client is redirected to email
                replied = asked + timedelta(minutes=rng.randint(5, 90))
                self.whatsapp_sent(replied, contact, "redirect_to_email", "G6")
        if rng.random() < 0.08:
            self.note(
                self.office_time(start + timedelta(days=rng.uniform(0, 5))),
                rng.choice(ACM_NOTES[phase]),
            )


# --- Meetings and minutes (G2, F3, G5) -----------------------------------------------------

MEETING_PROBABILITY = {
    LifecycleStatus.ONBOARDING: 0.9,
    LifecycleStatus.LAUNCHING: 0.8,
    LifecycleStatus.LIVE: 0.6,
    LifecycleStatus.AT_RISK: 0.7,
}
AGREED_POINTS = (
    "Banner refresh for the season agreed; the client sends the new photos.",
    "Shipping rates to be reviewed with the courier; we share the comparison.",
    "The abandoned-cart app goes live this week.",
    "Product descriptions: the client's team rewrites the top 20 sellers.",
    "Weekly call kept on Tuesdays at 11:00 client time.",
)
ACTIONS = (
    ("Send the courier rate comparison", ActionOwner.ACM),
    ("Share the new product photos", ActionOwner.CLIENT),
    ("Fix the checkout translation", ActionOwner.OTHER_TEAM),
    ("Enable the abandoned-cart emails", ActionOwner.ACM),
)


def _seed_meetings(
    client: Client, seed: int, now: datetime, people: _People, report: SeedReport
) -> list[dict[str, Any]]:
    """A client's meetings: held ones with their minutes (sent, owed, or no requests),
    and upcoming ones with their confirmation state (F3). Returns timeline rows."""
    rng = random.Random(f"{seed}:meetings:{client.store_code}")
    status = LifecycleStatus(client.status)
    if status not in MEETING_PROBABILITY or rng.random() > MEETING_PROBABILITY[status]:
        return []
    acm = db.session.get(User, client.acm_id)
    contact = next((c for c in client.contacts if c.is_primary), client.contacts[0])
    rows: list[dict[str, Any]] = []

    def meeting(kind: MeetingType, starts_at: datetime) -> Meeting:
        created = min(starts_at - timedelta(days=rng.uniform(2, 6)), now - timedelta(hours=1))
        created = max(created, client.created_at + timedelta(minutes=30))
        due = min(max(starts_at - timedelta(hours=24), created), starts_at - timedelta(hours=4))
        confirmed = due <= now
        item = Meeting(
            client_id=client.id,
            organizer_id=acm.id,
            kind=kind.value,
            starts_at=starts_at,
            duration_minutes=rng.choice((30, 45, 60)),
            zoom_link=f"https://zoom.us/j/{rng.randint(10**9, 10**10 - 1)}",
            agenda=f"{kind.label} with {client.store_name}",
            status=MeetingStatus.SCHEDULED.value,
            uid=f"{uuid.UUID(int=rng.getrandbits(128))}@kamportal",
            sequence=0,
            confirmation_due_at=due,
            confirmed_sequence=0 if confirmed else None,
            confirmed_at=due if confirmed else None,
            created_at=created,
            updated_at=created,
            attendees=[contact],
        )
        db.session.add(item)
        rows.append(_row(client, TimelineKind.MEETING_SCHEDULED, acm, created, item))
        report.meetings += 1
        return item

    # Held meetings of the last weeks, each with its minutes (G5).
    for weeks_ago in sorted(rng.sample(range(0, 6), k=rng.randint(1, 3)), reverse=True):
        starts_at = _office_start(
            rng, client, now - timedelta(days=7 * weeks_ago + rng.uniform(1, 5))
        )
        if not client.created_at + timedelta(days=1) < starts_at < now - timedelta(hours=2):
            continue
        kind = (
            MeetingType.ONBOARDING if status is LifecycleStatus.ONBOARDING else MeetingType.WEEKLY
        )
        held = meeting(kind, starts_at)
        held.status = MeetingStatus.HELD.value
        held.recording_link = f"https://zoom.us/rec/share/{rng.getrandbits(64):x}"
        rows.append(_row(client, TimelineKind.MEETING_HELD, acm, held.ends_at, held))
        if client.last_contact_at is None or held.ends_at > client.last_contact_at:
            client.last_contact_at = held.ends_at
        rows += _minutes(rng, client, acm, held, now, report)

    # An upcoming meeting for some, and a few today so the ACM's day has them.
    if rng.random() < 0.45:
        ahead = timedelta(hours=rng.uniform(3, 10 * 24)) if rng.random() < 0.8 else timedelta(0)
        starts_at = _office_start(rng, client, now + ahead)
        if starts_at > now + timedelta(hours=4):
            kind = (
                MeetingType.ONBOARDING
                if status is LifecycleStatus.ONBOARDING
                else MeetingType.WEEKLY
            )
            meeting(kind, starts_at)
    return rows


def _seed_todays_meetings(
    clients: list[Client], now: datetime, report: SeedReport
) -> list[dict[str, Any]]:
    """Two meetings on each ACM's day, at 11:00 and 15:00 where the ACM is: the day page
    shows them with the client's local time (one may already wait to be marked held)."""
    rows: list[dict[str, Any]] = []
    by_acm: dict[int, list[Client]] = {}
    for client in clients:
        if client.status in (LifecycleStatus.LIVE, LifecycleStatus.ONBOARDING):
            by_acm.setdefault(client.acm_id, []).append(client)
    for acm_id, theirs in by_acm.items():
        acm = db.session.get(User, acm_id)
        today = now.astimezone(ZoneInfo(acm.timezone)).date()
        for client, hour in zip(theirs[:2], (11, 15), strict=False):
            starts_at = datetime.combine(today, time(hour), ZoneInfo(acm.timezone)).astimezone(UTC)
            created = max(starts_at - timedelta(days=3), client.created_at + timedelta(minutes=30))
            if created >= now:
                continue
            due = max(starts_at - timedelta(hours=24), created)
            contact = next((c for c in client.contacts if c.is_primary), client.contacts[0])
            meeting = Meeting(
                client_id=client.id,
                organizer_id=acm.id,
                kind=MeetingType.WEEKLY.value,
                starts_at=starts_at,
                duration_minutes=30,
                zoom_link=f"https://zoom.us/j/{5550000000 + client.id}",
                agenda=f"Weekly follow-up with {client.store_name}",
                status=MeetingStatus.SCHEDULED.value,
                uid=f"demo-today-{client.store_code.lower()}@kamportal",
                sequence=0,
                confirmation_due_at=due,
                confirmed_sequence=0 if due <= now else None,
                confirmed_at=due if due <= now else None,
                created_at=created,
                updated_at=created,
                attendees=[contact],
            )
            db.session.add(meeting)
            report.meetings += 1
            rows.append(_row(client, TimelineKind.MEETING_SCHEDULED, acm, created, meeting))
    db.session.flush()
    return rows


def _office_start(rng: random.Random, client: Client, around: datetime) -> datetime:
    """A round start between 10:00 and 16:00 where the client is, on the day of `around`."""
    local = around.astimezone(ZoneInfo(client.timezone))
    start = datetime.combine(local.date(), time(rng.randint(10, 15), rng.choice((0, 30))))
    return start.replace(tzinfo=ZoneInfo(client.timezone)).astimezone(UTC)


def _minutes(
    rng: random.Random,
    client: Client,
    acm: User,
    meeting: Meeting,
    now: datetime,
    report: SeedReport,
) -> list[dict[str, Any]]:
    owed_since = meeting.ends_at
    minutes = Minutes(client_id=client.id, owner_id=acm.id, meeting=meeting, owed_since=owed_since)
    db.session.add(minutes)
    report.minutes += 1
    recent = now - owed_since < timedelta(days=4)
    if recent and rng.random() < 0.6:
        return []  # still owed: on the ACM's day
    decided = min(owed_since + timedelta(hours=rng.uniform(1, 20)), now)
    minutes.decided_by_id = acm.id
    minutes.decided_at = decided
    if rng.random() < 0.3:
        minutes.status = MinutesStatus.NO_REQUESTS.value
        return [_row(client, TimelineKind.MINUTES_NO_REQUESTS, acm, decided, meeting)]
    minutes.status = MinutesStatus.SENT.value
    minutes.agreed_points = "\n".join(rng.sample(AGREED_POINTS, k=2))
    for description, owner in rng.sample(ACTIONS, k=rng.randint(0, 2)):
        due_on = (decided + timedelta(days=rng.randint(2, 12))).date()
        done = due_on < now.date() and rng.random() < 0.6
        minutes.action_items.append(
            ActionItem(
                client_id=client.id,
                description=description,
                owner=owner.value,
                owner_team="Design" if owner is ActionOwner.OTHER_TEAM else None,
                due_on=due_on,
                done_at=datetime.combine(due_on, time(12), UTC) if done else None,
                done_by_id=acm.id if done else None,
            )
        )
    return [_row(client, TimelineKind.MINUTES_SENT, acm, decided, meeting)]


def _row(
    client: Client, kind: TimelineKind, acm: User, at: datetime, meeting: Meeting
) -> dict[str, Any]:
    local = meeting.starts_at.astimezone(ZoneInfo(client.timezone))
    label = meeting.meeting_type.label
    summary = {
        TimelineKind.MEETING_SCHEDULED: f"{label} scheduled for {local:%d %b %H:%M}",
        TimelineKind.MEETING_HELD: f"{label} held; recording stored",
        TimelineKind.MINUTES_SENT: f"Minutes of the {local:%d %b} meeting sent",
        TimelineKind.MINUTES_NO_REQUESTS: "Regular follow-up, the client had no requests",
    }[kind]
    return {
        "client_id": client.id,
        "kind": kind.value,
        "actor_id": acm.id,
        "at": at,
        "summary": summary,
        "detail": {"source": "demo"},
        "outbox_message_id": None,
    }


# --- Escalations and complaints (E1, E2, E3) --------------------------------------------------


@dataclass(frozen=True)
class EscalationStory:
    """One demo escalation: what the client said (E1) and how far the ladder went (E2).

    `path`: "call" (just raised: the ACM must call), "email" (the call not answered: the
    email went), "whatsapp" (no reply: the WhatsApp went), "paused_email" and
    "paused_whatsapp" (the client replied by email after the email, by WhatsApp after the
    WhatsApp), "ladder" (no reply at all: with the leader), "advanced" (the client answered
    the ACM's call and still wants the leader: the ACM sends it up), "resolved" (solved on
    the ACM's call), "resolved_after_reply" (the email brought a reply, then solved on a
    call). A `decision` (E3: "resolved", "reassign", "take_over") ends a "ladder" or
    "advanced" one; `ended_ago` says how many business hours before now it ended (None:
    still open). `call_notes` are those of the ACM's deciding call; answered calls owe
    minutes (G5), sent with `minutes` when given. In the texts `{acm}` is the ACM's first
    name and `{new}` the name of whoever the client goes to.
    """

    path: str
    trigger: EscalationTrigger
    channel: ContactChannel
    said: str
    call_notes: str = ""
    again: str = ""  # the client said it again by email, before the ACM called
    reply: str = ""  # the email subject or WhatsApp message that paused the ladder
    note: str = ""  # the ACM's: why the leader must take it, or how it was solved
    minutes: str = ""
    decision: str | None = None
    decision_note: str = ""  # the leader's note to the client
    ended_ago: float | None = None

    @property
    def needs_whatsapp(self) -> bool:
        return self.path in ("whatsapp", "paused_whatsapp", "ladder")


@dataclass(frozen=True)
class ComplaintStory:
    """One demo complaint, cancellation or refund request (E3), raised `raised_ago`
    business hours before now and moved along the complaint queue to `status`."""

    kind: ComplaintKind
    channel: ContactChannel
    said: str
    status: ComplaintStatus
    raised_ago: float
    progress_note: str = ""
    closing_note: str = ""


# Per team, one entry per ACM in TEAMS order: every ACM has an open escalation and every
# leader one waiting for their decision; the ended ones show each way an escalation ends.
# fmt: off
DEMO_ESCALATIONS: dict[str, tuple[tuple[EscalationStory, ...], ...]] = {
    "Cairo": (
        (
            EscalationStory(
                "ladder", EscalationTrigger.ASKED_FOR_MANAGER, ContactChannel.EMAIL,
                "The courier labels have failed at checkout for three weeks and every answer "
                "is 'we are checking'. I want to speak to your manager, not to the account "
                "manager.",
                call_notes="No answer; the line was busy twice."),
            EscalationStory(
                "resolved", EscalationTrigger.ASKED_FOR_MANAGER, ContactChannel.CALL,
                "Orders have been stuck in 'pending payment' since the gateway update. If it "
                "is not fixed today I want the manager.",
                call_notes="The gateway's callback URL still pointed to the old domain; fixed "
                "it with the client on the call.",
                note="Payment callback fixed on the call; the stuck orders went through and "
                "the client no longer wants the manager.",
                minutes="The gateway callback URL now points to the store's domain; the "
                "pending orders were released.\nThe client checks tomorrow's orders and "
                "tells us if one stays pending.",
                ended_ago=22),
        ),
        (
            EscalationStory(
                "call", EscalationTrigger.ASKED_TO_CHANGE_ACM, ContactChannel.WHATSAPP,
                "I asked twice for the new banners before the sale and nothing happened. "
                "Please give our store to another account manager.",
                again="The same to the team mailbox: the sale starts on Thursday and they want "
                "another account manager before then."),
            EscalationStory(
                "advanced", EscalationTrigger.ASKED_TO_CHANGE_ACM, ContactChannel.EMAIL,
                "We missed two weekly calls because the times never suit our shop. We want an "
                "account manager who can call us in the evening.",
                call_notes="The client was polite but firm: wants someone else, with calls "
                "after 4 pm.",
                note="The client wants calls after 4 pm, which my other calls do not allow; a "
                "colleague would serve them better.",
                minutes="You asked for another account manager who can call after 4 pm.\nThe "
                "team leader decides and tells you this week.",
                decision="reassign",
                decision_note="From today {new} is your account manager and will call you "
                "after 4 pm, as you asked.",
                ended_ago=40),
        ),
        (
            EscalationStory(
                "email", EscalationTrigger.REFUSES_ACM, ContactChannel.CALL,
                "The bulk upload put the wrong prices on 80 products and we sold at a loss all "
                "weekend. I will not deal with {acm} again.",
                call_notes="No answer."),
        ),
        (
            EscalationStory(
                "whatsapp", EscalationTrigger.ASKED_FOR_MANAGER, ContactChannel.CALL,
                "Our payouts from the payment gateway are two weeks late. I want someone "
                "senior to explain what is going on.",
                call_notes="No answer; the phone was switched off."),
            EscalationStory(
                "ladder", EscalationTrigger.REFUSES_ACM, ContactChannel.WHATSAPP,
                "Three tickets were closed this month without a fix. I do not want to work "
                "with {acm} any more.",
                call_notes="No answer.",
                decision="take_over",
                decision_note="I will manage your account myself from now on, and I will call "
                "you on Sunday to go through the three tickets.",
                ended_ago=30),
        ),
    ),
    "Riyadh": (
        (
            EscalationStory(
                "email", EscalationTrigger.ASKED_FOR_MANAGER, ContactChannel.WHATSAPP,
                "The store was down on Friday night, in the middle of our biggest campaign. I "
                "want your manager to call me.",
                call_notes="No answer."),
            EscalationStory(
                "advanced", EscalationTrigger.ASKED_FOR_MANAGER, ContactChannel.CALL,
                "The renewal went up 20% without any warning. I will discuss the price with "
                "the manager only.",
                call_notes="The client is happy with the service but wants the manager to "
                "confirm the price.",
                note="The renewal price is beyond what I can agree; the client asks for the "
                "team leader.",
                minutes="The renewal price is with the team leader, who calls you this week.",
                decision="resolved",
                decision_note="As we agreed on the phone, your renewal stays at last year's "
                "price; finance sends the corrected invoice.",
                ended_ago=45),
        ),
        (
            EscalationStory(
                "advanced", EscalationTrigger.REFUSES_ACM, ContactChannel.MEETING,
                "Left the weekly meeting: the custom checkout field {acm} promised in September "
                "was never delivered, and from now on he talks to the team leader only.",
                call_notes="The client answered but would not discuss the checkout field with "
                "me; he insists on the team leader.",
                note="The client refuses to talk to me about the checkout field (SOW sent in "
                "September, still unsigned) and wants the team leader to call him."),
        ),
        (
            EscalationStory(
                "paused_email", EscalationTrigger.ASKED_TO_CHANGE_ACM, ContactChannel.EMAIL,
                "We waited three days for an answer about the shipping rates. We need an "
                "account manager who answers during our working hours.",
                call_notes="No answer.",
                reply="Re: We tried to call you – I am free on Tuesday after 2 pm"),
            EscalationStory(
                "resolved_after_reply", EscalationTrigger.ASKED_TO_CHANGE_ACM, ContactChannel.EMAIL,
                "The product import failed twice and we lost a week. Please assign us another "
                "account manager.",
                reply="Re: We tried to call you – call me at 4 pm",
                call_notes="Went through the CSV together: two columns were swapped; the "
                "import finished while we talked.",
                note="Import fixed together on the call; the client is happy to continue with "
                "{acm}.",
                minutes="The product CSV columns were corrected and the products are "
                "imported.\nYou send the next collection in the same template.",
                ended_ago=60),
        ),
        (
            EscalationStory(
                "call", EscalationTrigger.ASKED_FOR_MANAGER, ContactChannel.CALL,
                "The renewal invoice includes the Store Manager add-on we never asked for. I "
                "want the manager to correct it before we pay."),
            EscalationStory(
                "ladder", EscalationTrigger.ASKED_TO_CHANGE_ACM, ContactChannel.EMAIL,
                "Our new e-commerce manager does not speak Arabic. Please give us an account "
                "manager who can work with her in English.",
                call_notes="No answer.",
                decision="reassign",
                decision_note="{new} now manages your account and will call your e-commerce "
                "manager this week, in English.",
                ended_ago=18),
        ),
    ),
    "Dubai": (
        (
            EscalationStory(
                "whatsapp", EscalationTrigger.REFUSES_ACM, ContactChannel.EMAIL,
                "The abandoned-cart emails went out in the wrong language to all our "
                "customers. I do not trust {acm} with changes to the store any more.",
                call_notes="No answer."),
            EscalationStory(
                "resolved", EscalationTrigger.ASKED_FOR_MANAGER, ContactChannel.MEETING,
                "In the monthly review: sales fell two months in a row and the owner wants the "
                "manager on the next call.",
                call_notes="Went through a recovery plan with the owner: a coupon campaign and "
                "the Google Shopping feed.",
                note="Agreed a recovery plan on the call; the owner withdrew the request for "
                "the manager.",
                minutes="A coupon campaign for returning customers starts on Monday.\nThe "
                "Google Shopping feed goes live this week.",
                ended_ago=35),
        ),
        (
            EscalationStory(
                "paused_whatsapp", EscalationTrigger.ASKED_FOR_MANAGER, ContactChannel.WHATSAPP,
                "Google Shopping has rejected our feed for a week. Send me your manager's "
                "number.",
                call_notes="No answer.",
                reply="Sorry, I was travelling. Call me tomorrow at 11, please."),
            EscalationStory(
                "advanced", EscalationTrigger.REFUSES_ACM, ContactChannel.EMAIL,
                "We missed our launch date because the domain was not ready. I will not "
                "continue with {acm}.",
                call_notes="The client answered and repeated that he will not continue with "
                "me.",
                note="The client refuses to continue with me after the missed launch; please "
                "take the account.",
                minutes="You asked for the team leader after the missed launch date.\nThe "
                "team leader calls you tomorrow.",
                decision="take_over",
                decision_note="I am looking after your account personally until the store is "
                "launched; the domain is now connected.",
                ended_ago=50),
        ),
        (
            EscalationStory(
                "ladder", EscalationTrigger.ASKED_TO_CHANGE_ACM, ContactChannel.EMAIL,
                "Our staff are more comfortable in Arabic. Please assign us an Arabic-speaking "
                "account manager.",
                call_notes="No answer."),
            EscalationStory(
                "ladder", EscalationTrigger.ASKED_FOR_MANAGER, ContactChannel.WHATSAPP,
                "A customer's refund was paid twice. I want the manager to tell me who covers "
                "the second one.",
                call_notes="No answer; left a voicemail.",
                decision="resolved",
                decision_note="We traced the double refund to a retry by the payment gateway; "
                "the second refund was reversed at no cost to you.",
                ended_ago=12),
        ),
        (
            EscalationStory(
                "email", EscalationTrigger.ASKED_FOR_MANAGER, ContactChannel.CALL,
                "Customers see a security warning on the store: the SSL renewal was promised "
                "last week. I want the manager involved.",
                call_notes="No answer; voicemail full."),
        ),
    ),
}

DEMO_COMPLAINTS: dict[str, tuple[tuple[ComplaintStory, ...], ...]] = {
    "Cairo": (
        (ComplaintStory(
            ComplaintKind.REFUND, ContactChannel.CALL,
            "Asks for a refund of the SEO add-on bought in March: it was never set up.",
            ComplaintStatus.IN_PROGRESS, 20,
            progress_note="Sent to finance with the invoice and the add-on's activation log."),),
        (ComplaintStory(
            ComplaintKind.CANCELLATION, ContactChannel.EMAIL,
            "Wants to cancel the Store Manager add-on at the next renewal.",
            ComplaintStatus.CLOSED, 70,
            progress_note="With commercial for a renewal quote without the add-on.",
            closing_note="Add-on removed from the renewal quote; the client confirmed by "
            "email."),),
        (ComplaintStory(
            ComplaintKind.COMPLAINT, ContactChannel.EMAIL,
            "Customers receive every order confirmation twice; wants it fixed and an "
            "explanation.",
            ComplaintStatus.OPEN, 3),),
        (),
    ),
    "Riyadh": (
        (ComplaintStory(
            ComplaintKind.REFUND, ContactChannel.EMAIL,
            "Charged twice for the domain renewal; asks for one charge back.",
            ComplaintStatus.CLOSED, 55,
            progress_note="Finance is checking the two charges.",
            closing_note="The duplicate domain charge was refunded; the client confirmed "
            "receipt."),),
        (ComplaintStory(
            ComplaintKind.CANCELLATION, ContactChannel.WHATSAPP,
            "Wants to cancel the subscription at the end of the term: the business moves to "
            "marketplaces only.",
            ComplaintStatus.OPEN, 5),),
        (),
        (ComplaintStory(
            ComplaintKind.COMPLAINT, ContactChannel.MEETING,
            "Complained in the weekly meeting that support tickets wait a week for a first "
            "answer.",
            ComplaintStatus.IN_PROGRESS, 16,
            progress_note="Logged with the support lead; a weekly update on the open tickets "
            "is agreed."),),
    ),
    "Dubai": (
        (ComplaintStory(
            ComplaintKind.CANCELLATION, ContactChannel.EMAIL,
            "Asks to cancel the Google Shopping app: it never synced the catalogue.",
            ComplaintStatus.IN_PROGRESS, 24,
            progress_note="The product team checks the feed before we cancel the app."),),
        (ComplaintStory(
            ComplaintKind.COMPLAINT, ContactChannel.WHATSAPP,
            "The invoices come without the store's VAT number.",
            ComplaintStatus.CLOSED, 40,
            progress_note="Finance is reissuing the invoices.",
            closing_note="Finance reissued the invoices with the VAT number and sent them to "
            "the client."),),
        (),
        (ComplaintStory(
            ComplaintKind.REFUND, ContactChannel.CALL,
            "Asks for a refund for the three days the store was down.",
            ComplaintStatus.OPEN, 2),),
    ),
}
# fmt: on

# The clients an escalation or a complaint is told on: long enough in the portal, not gone.
_STORY_STATUSES = (LifecycleStatus.AT_RISK, LifecycleStatus.LIVE, LifecycleStatus.LAUNCHING)


def _seed_escalations(seed: int, now: datetime, people: _People, report: SeedReport) -> None:
    """E1-E3: each ACM's escalations and complaints (DEMO_ESCALATIONS, DEMO_COMPLAINTS)
    that are missing, each on a client of theirs that has neither yet. One the ACM already
    raised (the same words) is not told again; one without a fitting client is left out.

    Replayed through services/escalations.py with the portal clock at past instants in the
    team's business hours, so each keeps the proofs real use leaves (steps, timeline, audit,
    outbox); the steps still ahead are due after `now`, their jobs enqueued at the commit.
    Messages of the past look delivered, as the delivery job would have left them (their
    jobs then find them sent and send nothing).
    """
    launch_codes = [code for _, _, _, code in _launch_story_clients(seed)]
    with _replaying_the_past() as added:
        for spec in TEAMS:
            acms = people.acms(spec.name)
            plans = zip(acms, DEMO_ESCALATIONS[spec.name], DEMO_COMPLAINTS[spec.name], strict=True)
            for index, (acm, stories, complaints) in enumerate(plans):
                candidates = _story_clients(acm, launch_codes)
                for story in stories:
                    _tell_escalation(
                        story,
                        acm=acm,
                        next_acm=acms[(index + 1) % len(acms)],
                        candidates=candidates,
                        now=now,
                        rng=random.Random(f"{seed}:escalation:{acm.email}:{story.said}"),
                    )
                for complaint in complaints:
                    _tell_complaint(complaint, acm=acm, candidates=candidates, now=now)
        db.session.flush()
        _delivered([row for row in added if isinstance(row, OutboxMessage)])
    report.escalations += sum(isinstance(row, Escalation) for row in added)
    report.complaints += sum(isinstance(row, Complaint) for row in added)
    report.events += sum(isinstance(row, TimelineEvent) for row in added)
    report.minutes += sum(isinstance(row, Minutes) for row in added)


@contextmanager
def _replaying_the_past() -> Iterator[list[Any]]:
    """Yield the list of every row added meanwhile; the portal clock, which the caller
    moves, is put back as it was (frozen in tests, running in a real demo), even on error."""
    added: list[Any] = []
    session = db.session()

    def collect(_session: Any, row: Any) -> None:
        added.append(row)

    frozen_at = clock.frozen_at()
    event.listen(session, "transient_to_pending", collect)
    try:
        yield added
    finally:
        event.remove(session, "transient_to_pending", collect)
        if frozen_at is None:
            clock.unfreeze()
        else:
            clock.freeze(frozen_at)


def _acm_clients(
    acm: User, statuses: tuple[LifecycleStatus, ...], *, without: ColumnElement[bool]
) -> list[Client]:
    """The ACM's clients in `statuses` for which `without` does not hold, at-risk ones
    first, then in the order they came into the portal."""
    return list(
        db.session.scalars(
            select(Client)
            .where(Client.acm_id == acm.id)
            .where(Client.status.in_([s.value for s in statuses]))
            .where(~without)
            .order_by(Client.status != LifecycleStatus.AT_RISK.value, Client.id)
        )
    )


def _story_clients(acm: User, launch_codes: list[str]) -> list[Client]:
    """The ACM's clients with no escalation, no complaint and no renewal yet, at-risk ones
    first (a renewal story's client is left to it, so its ACM stays the same). A launch
    story's client (its store code in `launch_codes`) is left to its story too, so a second
    run finds what the first did."""
    told = or_(
        exists().where(Escalation.client_id == Client.id),
        exists().where(Complaint.client_id == Client.id),
        exists().where(Renewal.client_id == Client.id),
        Client.store_code.in_(launch_codes),
    )
    return _acm_clients(acm, _STORY_STATUSES, without=told)


def _take_client(
    candidates: list[Client], *, before: datetime, whatsapp: bool = False
) -> Client | None:
    """The first candidate in the portal a day before `before` (with a WhatsApp number if
    asked), taken off the list."""
    for client in candidates:
        if client.created_at > before - timedelta(days=1):
            continue
        if whatsapp and client.reachable_contact("whatsapp") is None:
            continue
        candidates.remove(client)
        return client
    return None


@dataclass
class _Replay:
    """The portal clock at a past instant, moved forward in the team's business hours."""

    calendar: BusinessCalendar
    at: datetime

    def go(self, at: datetime) -> None:
        self.at = at
        clock.freeze(at)

    def wait(self, hours: float) -> None:
        self.go(self.calendar.add_business_hours(self.at, hours))

    def run_step(self, escalation: Escalation, step: str) -> None:
        """A timed step (E2), as its job runs it: a moment after it came due."""
        self.go(escalation.step_due_at.replace(microsecond=0) + timedelta(seconds=2))
        outcome = escalations.run_due_step(escalation.id, step)
        if outcome != "done":
            raise RuntimeError(f"demo escalation #{escalation.id}: {step} step {outcome}")


def _story_hours(story: EscalationStory, whatsapp_wait: float, leader_wait: float) -> float:
    """How many business hours before now `story` starts. An open one's last step came
    recently, well inside the wait before the next one, which is then still ahead."""
    span = {
        "call": 0.2 if story.again else 0.0,
        "email": 0.35,
        "whatsapp": 0.35 + whatsapp_wait,
        "paused_email": 0.35 + whatsapp_wait / 2,
        "paused_whatsapp": 0.35 + whatsapp_wait + leader_wait / 2,
        "ladder": 0.35 + whatsapp_wait + leader_wait,
        "advanced": 0.5,
        "resolved": 0.9,
        "resolved_after_reply": 1.15 + whatsapp_wait / 2,
    }[story.path]
    if story.decision:
        span += 1.5
    if story.ended_ago is not None:
        return span + story.ended_ago
    return span + {
        "email": whatsapp_wait / 3,
        "whatsapp": leader_wait / 3,
        "ladder": 1.5,
        "advanced": 2.5,
        "paused_whatsapp": 0.4,
    }.get(story.path, 0.5)


def _tell_escalation(
    story: EscalationStory,
    *,
    acm: User,
    next_acm: User,
    candidates: list[Client],
    now: datetime,
    rng: random.Random,
) -> None:
    said = story.said.format(acm=acm.name.split()[0])
    told = exists().where(Escalation.raised_by_id == acm.id, Escalation.said == said)
    if acm.team is None or db.session.scalar(select(told)):
        return
    # The decision is the ACM's team leader's (E3), and a reassignment stays in the team.
    leader = acm.team.leader
    new = leader if story.decision == "take_over" else next_acm
    if story.decision and leader is None:
        return
    if story.decision == "reassign" and (new is acm or new.team != acm.team):
        return
    calendar = calendar_for(acm.team)
    whatsapp_wait = acm.team.escalation_whatsapp_after_hours
    leader_wait = acm.team.escalation_leader_after_hours
    hours = _story_hours(story, whatsapp_wait, leader_wait) + rng.uniform(0, 0.2)
    start = calendar.subtract_business_hours(now, hours)
    client = _take_client(candidates, before=start, whatsapp=story.needs_whatsapp)
    if client is None:
        return

    def text(value: str) -> str:
        return value.format(acm=acm.name.split()[0], new=new.name)

    replay = _Replay(calendar, start)
    replay.go(start)
    escalation = escalations.raise_escalation(
        client, actor=acm, trigger=story.trigger, said=said, channel=story.channel
    )
    if story.path == "call":
        if story.again:
            replay.wait(0.2)
            escalations.raise_escalation(
                client, actor=acm, trigger=story.trigger, said=text(story.again), channel="email"
            )
        return
    answered = story.path in ("advanced", "resolved")
    replay.wait(0.3 if answered else 0.35)
    call = escalations.log_escalation_call(
        escalation,
        actor=acm,
        outcome=CallOutcome.ANSWERED if answered else CallOutcome.NO_ANSWER,
        notes=NO_ANSWER_NOTES[0]
        if story.path == "resolved_after_reply"
        else text(story.call_notes),
    )
    if story.path == "resolved_after_reply":
        _client_replied(replay, story, escalation, whatsapp_wait / 2)
        replay.wait(0.3)
        call = escalations.log_escalation_call(
            escalation, actor=acm, outcome=CallOutcome.ANSWERED, notes=text(story.call_notes)
        )
    elif story.path == "paused_email":
        _client_replied(replay, story, escalation, whatsapp_wait / 2)
    elif story.path in ("whatsapp", "paused_whatsapp", "ladder"):
        replay.run_step(escalation, "whatsapp")
        if story.path == "paused_whatsapp":
            _client_replied(replay, story, escalation, leader_wait / 2)
        elif story.path == "ladder":
            replay.run_step(escalation, "leader")
    elif story.path == "advanced":
        replay.wait(0.1)
        _send_minutes(story, call, acm)
        replay.wait(0.1)
        escalations.advance_to_leader(escalation, actor=acm, note=text(story.note))
    if story.path in ("resolved", "resolved_after_reply"):
        replay.wait(0.2)
        escalations.resolve(escalation, actor=acm, note=text(story.note))
        replay.wait(0.3)
        _send_minutes(story, call, acm)
    if story.decision:
        replay.wait(1.5)
        escalations.decide(
            escalation,
            leader=leader,
            decision=story.decision,
            note=text(story.decision_note),
            new_acm=new if story.decision == "reassign" else None,
        )


def _client_replied(
    replay: _Replay, story: EscalationStory, escalation: Escalation, after: float
) -> None:
    """E2: the client's reply, logged as the ACM logs it; it pauses the ladder."""
    replay.wait(after)
    client = escalation.client
    acm = client.acm
    if escalation.step is LadderStep.WHATSAPP:
        contact = client.reachable_contact("whatsapp")
        contact_log.log_whatsapp_request(client, actor=acm, contact=contact, message=story.reply)
    else:
        contact = client.reachable_contact("email")
        contact_log.log_email(
            client, actor=acm, contact=contact, direction="received", subject=story.reply
        )


def _send_minutes(story: EscalationStory, call: TimelineEvent, acm: User) -> None:
    """G5: the minutes an answered call owes, sent; left owed when the story has none."""
    if not story.minutes:
        return
    client = db.session.get(Client, call.client_id)
    owed = minutes_service.owe_for_call(client, call, owner=acm, at=call.at)
    minutes_service.send_minutes(
        owed,
        actor=acm,
        agreed_points=story.minutes,
        action_items=[],
        recipients=[client.reachable_contact("email")],
    )


def _tell_complaint(
    story: ComplaintStory, *, acm: User, candidates: list[Client], now: datetime
) -> None:
    told = exists().where(Complaint.raised_by_id == acm.id, Complaint.said == story.said)
    if acm.team is None or db.session.scalar(select(told)):
        return
    calendar = calendar_for(acm.team)
    start = calendar.subtract_business_hours(now, story.raised_ago)
    client = _take_client(candidates, before=start)
    if client is None:
        return
    replay = _Replay(calendar, start)
    replay.go(start)
    complaint = escalations.record_complaint(
        client, actor=acm, kind=story.kind, said=story.said, channel=story.channel
    )
    if story.status is ComplaintStatus.OPEN:
        return
    replay.wait(1.2)
    escalations.update_complaint(
        complaint, actor=acm, status=ComplaintStatus.IN_PROGRESS, note=story.progress_note
    )
    if story.status is ComplaintStatus.CLOSED:
        replay.wait(story.raised_ago / 2)
        escalations.update_complaint(
            complaint, actor=acm, status=ComplaintStatus.CLOSED, note=story.closing_note
        )


def _delivered(messages: list[OutboxMessage]) -> None:
    """What the delivery job would have recorded a few seconds after each was queued; the
    job, enqueued at the commit, then finds it sent and sends nothing."""
    for message in messages:
        if message.delivery_status is not DeliveryStatus.PENDING:
            continue
        message.status = DeliveryStatus.SENT.value
        message.attempts = 1
        message.sent_at = message.created_at + timedelta(seconds=3)
        message.provider_message_id = (
            outbox.build_email(message)["Message-ID"]
            if message.channel == Channel.EMAIL.value
            else f"demo-wa-{message.id}"
        )


# --- Renewals, invoices and payments (R1-R10) -------------------------------------------------

# Who does each kind of renewal step: the client's ACM, finance (R5-R7) or commercial (R9).
RENEWAL_STEPS: dict[str, Role] = {
    "renewal_date": Role.ACM,
    "notify": Role.ACM,
    "confirm": Role.ACM,
    "ask_discount": Role.ACM,
    "approve": Role.COMMERCIAL,
    "reject": Role.COMMERCIAL,
    "invoice": Role.ACM,
    "split": Role.ACM,
    "wire": Role.ACM,
    "issue": Role.ACM,
    "lost": Role.ACM,
    "wire_confirmed": Role.FINANCE,
    "wire_rejected": Role.FINANCE,
    "paid_online": Role.FINANCE,
    "premises": Role.FINANCE,
    "resolve": Role.FINANCE,
}
# The sweeps a renewal story lives with, at the minute past the hour kamportal/jobs/cron.py
# runs each: R1 opens the renewals, R4 reminds unpaid invoices, R7 flags late wires.
RENEWAL_SWEEPS: tuple[tuple[int, Callable[[datetime], object]], ...] = (
    (10, lambda at: renewals.open_due_renewals(now=at)),
    (20, lambda at: invoices.send_invoice_reminders(now=at)),
    (30, lambda at: payments.flag_late_wire_transfers(now=at)),
)
# How many days before now a story's ACM sets its renewal date: after the demo's last
# reassignment (60 days ago), before the R1 sweep opens the earliest story (35 days ago).
RENEWAL_DATE_SET_AGO = (40.0, 46.0)
# A story's client had subscribed this long before the portal imported it, so the renewal
# date its ACM sets ends a year's term, not a few months'.
TERM_BEFORE_IMPORT = timedelta(days=240)
# Demo invoices are numbered by the portal whatever BILLING_ADAPTER says: no demo invoice
# may reach a real billing system.
DEMO_BILLING = PortalBilling()


@dataclass(frozen=True)
class Step:
    """One thing done on a demo renewal, `ago` days before now, a little into the working
    hours of whoever does it (RENEWAL_STEPS).

    Every story starts with "renewal_date" (its ACM sets the subscription's renewal date,
    weeks before the R1 sweep opens it). Then: "notify" and "confirm" (R2; `share`: the
    amount the client confirmed, as a share of the subscription's); "ask_discount" (R9;
    `share` of the renewal, `text` what for) and commercial's "approve" or "reject"
    (`text`: the note); "invoice" (R3; R8: with `fees`, in US dollars, converted like the
    price list; R9: less the discount if approved); "split" (R10: `parts` installments,
    `every` days apart from that day); "wire" (R7: the ACM reports it) and finance's
    "wire_confirmed" or "wire_rejected" (`text`: why); finance's "paid_online" (the first
    unpaid installment once split) and "premises" (R6: with a receipt); "issue" (R5:
    `text`) and finance's "resolve" (`method`: the channel agreed, `text`); "lost"
    (`text`: why).
    """

    kind: str
    ago: float
    text: str = ""
    share: str = ""
    fees: tuple[tuple[str, int], ...] = ()
    method: str = ""
    parts: int = 0
    every: int = 0


@dataclass(frozen=True)
class RenewalStory:
    """One demo renewal, showing `shows`: the subscription renews `due_in` days from today
    (negative: the date passed). Its ACM sets that renewal date weeks before the R1 sweep
    opens the renewal, then `steps` follow; the sweeps remind (R4) and flag (R7) as they
    would have."""

    shows: str
    due_in: int
    steps: tuple[Step, ...] = ()


# Per team, one entry per ACM in TEAMS order, the stories most worth showing first: an ACM
# with fewer live clients than stories tells only the first ones.
# fmt: off
DEMO_RENEWALS: dict[str, tuple[tuple[RenewalStory, ...], ...]] = {
    "Cairo": (
        (
            RenewalStory(
                "renewal and customization fees on one invoice (R8), unpaid and reminded (R4)",
                1, (Step("notify", 17), Step("confirm", 14),
                    Step("invoice", 12, fees=(("Delivery date picker at checkout", 450),
                                              ("Arabic and English invoice templates", 300)))),
            ),
            RenewalStory("due: opened by the R1 sweep, nothing done yet", 22),
            RenewalStory(
                "wire transfer reported two days ago, waiting for finance (R7)",
                11, (Step("notify", 13), Step("confirm", 10), Step("invoice", 8),
                     Step("wire", 2))),
        ),
        (
            RenewalStory(
                "wire transfer unconfirmed after 4 days, flagged to finance and the ACM (R7)",
                3, (Step("notify", 20), Step("confirm", 18), Step("invoice", 16),
                    Step("wire", 8))),
            RenewalStory(
                "date and amount confirmed, at a lower amount (R2)",
                16, (Step("notify", 9), Step("confirm", 5, share="0.85"))),
        ),
        (
            RenewalStory(
                "installments (R10): the first paid, the second overdue, the third due",
                -5, (Step("notify", 33), Step("confirm", 26), Step("invoice", 23),
                     Step("split", 19, parts=3, every=14), Step("paid_online", 18))),
            RenewalStory("client notified (R2)", 24, (Step("notify", 3),)),
            RenewalStory(
                "confirmed at a higher amount, invoiced and paid online: next term",
                12, (Step("notify", 14), Step("confirm", 11, share="1.15"),
                     Step("invoice", 10), Step("paid_online", 4))),
        ),
        (
            RenewalStory(
                "paid at the premises: finance records the amount and the receipt (R6)",
                6, (Step("notify", 19), Step("confirm", 16), Step("invoice", 15),
                    Step("premises", 5))),
            RenewalStory(
                "lost after the notice",
                19, (Step("notify", 10),
                     Step("lost", 4, text="Moving to marketplaces only: the store closes at "
                          "the end of the term."))),
        ),
    ),
    "Riyadh": (
        (
            RenewalStory(
                "discount approved by commercial, on the invoice (R9), paid online",
                10, (Step("notify", 18), Step("confirm", 15),
                     Step("ask_discount", 14, share="0.10",
                          text="Loyalty discount: a third year with us, paid upfront"),
                     Step("approve", 13, text="Approved for a third renewal paid in full."),
                     Step("invoice", 12), Step("paid_online", 6))),
            RenewalStory(
                "wire transfer reported yesterday, waiting for finance (R7)",
                14, (Step("notify", 12), Step("confirm", 9), Step("invoice", 7),
                     Step("wire", 1))),
        ),
        (
            RenewalStory(
                "renewal date passed, wire transfer flagged after 4 days (R7)",
                -2, (Step("notify", 26), Step("confirm", 22), Step("invoice", 20),
                     Step("wire", 9))),
            RenewalStory("due: opened by the R1 sweep, nothing done yet", 12),
        ),
        (
            RenewalStory(
                "payment issue with finance, open (R5)",
                7, (Step("notify", 17), Step("confirm", 14), Step("invoice", 12),
                    Step("issue", 2, text="The client's bank holds transfers abroad until "
                         "the invoice shows the client's VAT number."))),
            RenewalStory(
                "date and amount confirmed (R2)",
                22, (Step("notify", 7), Step("confirm", 3))),
        ),
        (
            RenewalStory(
                "discount asked of commercial, waiting for a decision (R9)",
                17, (Step("notify", 11), Step("confirm", 6),
                     Step("ask_discount", 2, share="0.15",
                          text="Half of the client's sales moved to marketplaces: renewal "
                          "at 15% less"))),
            RenewalStory(
                "lost after the notice",
                9, (Step("notify", 15),
                    Step("lost", 5, text="The owner is retiring and closing the online "
                         "store."))),
        ),
    ),
    "Dubai": (
        (
            RenewalStory(
                "payment issue resolved: to be paid at the premises, waiting for finance (R5, "
                "R6)",
                4, (Step("notify", 19), Step("confirm", 16), Step("invoice", 14),
                    Step("issue", 9, text="The company card is declined for payments abroad; "
                         "the client wants to pay in cash."),
                    Step("resolve", 8, method="premises",
                         text="Cash at the Dubai office on the client's next visit; finance "
                         "gives the receipt."))),
            RenewalStory("client notified (R2)", 19, (Step("notify", 2),)),
        ),
        (
            RenewalStory(
                "wire transfer confirmed by finance: paid, next term (R7)",
                5, (Step("notify", 20), Step("confirm", 17), Step("invoice", 15),
                    Step("wire", 9), Step("wire_confirmed", 8))),
            RenewalStory(
                "wire transfer flagged after 4 days, rejected by finance with the reason, "
                "reported again with the bank's receipt (R7)",
                11, (Step("notify", 18), Step("confirm", 16), Step("invoice", 14),
                     Step("wire", 10),
                     Step("wire_rejected", 5, text="Nothing from this client in the account "
                          "since October; please ask for the transfer receipt."),
                     Step("wire", 2))),
        ),
        (
            RenewalStory(
                "discount rejected with a note (R9), invoiced at the full amount, reminded "
                "(R4)",
                2, (Step("notify", 16), Step("confirm", 14),
                     Step("ask_discount", 13, share="0.20",
                          text="Match a competitor's offer: 20% off the renewal"),
                     Step("reject", 12, text="The renewal is already at last year's price; we "
                          "can set up the Google Shopping feed for free instead."),
                     Step("invoice", 10))),
            RenewalStory(
                "invoiced yesterday, no reminder yet (R3)",
                20, (Step("notify", 6), Step("confirm", 3), Step("invoice", 1))),
        ),
        (
            RenewalStory(
                "lost after the notice",
                8, (Step("notify", 14),
                    Step("lost", 6, text="Moved to another platform bundled with their "
                         "point of sale."))),
            RenewalStory("due: opened by the R1 sweep, nothing done yet", 27),
            RenewalStory(
                "a customization fee with the renewal (R8), paid online",
                15, (Step("notify", 14), Step("confirm", 12),
                     Step("invoice", 11, fees=(("Google Shopping feed with custom "
                                                "attributes", 600),)),
                     Step("paid_online", 5))),
        ),
    ),
}
# fmt: on

_MARKET_OF_CURRENCY = {market.currency: market for market in MARKETS}


def _seed_renewals(seed: int, now: datetime, people: _People, report: SeedReport) -> None:
    """R1-R10: each ACM's renewal stories (DEMO_RENEWALS) that are missing, each on one of
    the ACM's clients, with the sweeps (R1, R4, R7) as cron would have run them meanwhile.

    A story is keyed on its ACM and its client: the ACM's n-th story is told on the
    ACM's n-th renewal client (`_renewal_clients`, a stable order), and a client with a
    renewal has had its story told; a story without a client is left out. Replayed
    through the services (renewals, discounts, invoices, payments) with the portal clock
    at past instants: every story's steps and every sweep run in the order they happened,
    so each keeps its proofs (timeline, audit, outbox) and a sweep sees what there was at
    its time. Messages of the past look delivered, as for the escalations.
    """
    staff = {person.role: people.by_email[person.email] for person in STAFF}
    calendars = {spec.timezone: _working_week(people.leader(spec.name).team) for spec in TEAMS}
    start = now - timedelta(days=RENEWAL_DATE_SET_AGO[1])
    with _replaying_the_past() as added:
        tales: list[_RenewalTale] = []
        for spec in TEAMS:
            plans = zip(people.acms(spec.name), DEMO_RENEWALS[spec.name], strict=True)
            for acm, stories in plans:
                candidates = _renewal_clients(acm)
                for story in stories:
                    client = _take_client(candidates, before=start)
                    if client is None:
                        break
                    if db.session.scalar(select(exists().where(Renewal.client_id == client.id))):
                        continue
                    tales.append(
                        _RenewalTale(
                            story=story,
                            client=client,
                            acm=acm,
                            due_on=now.date() + timedelta(days=story.due_in),
                            rng=random.Random(f"{seed}:renewal:{acm.email}:{story.shows}"),
                            replay=_Replay(calendars[acm.team.timezone], start),
                        )
                    )
        if tales:
            _replay_renewals(tales, now, staff, calendars)
        db.session.flush()
        _delivered([row for row in added if isinstance(row, OutboxMessage)])
    report.renewals += sum(isinstance(row, Renewal) for row in added)
    report.invoices += sum(isinstance(row, Invoice) for row in added)
    report.events += sum(isinstance(row, TimelineEvent) for row in added)


def _working_week(team: Team) -> BusinessCalendar:
    """The team's working week and hours, public holidays left out: renewal steps fall in
    it, so the rules counted in days (R4, R7) show whenever the demo is seeded, even just
    after a week of Eid."""
    return replace(calendar_for(team), country=None, extra_holidays=frozenset())


def _renewal_clients(acm: User) -> list[Client]:
    """The clients the ACM's renewal stories are told on, in a stable order: live ones
    whose subscription was most of a year old when the portal imported them (the renewal
    date set ends a year's term), and that no escalation moved to or from the ACM (E3), so
    the ACM worked on them all along."""
    moved = exists().where(
        Escalation.client_id == Client.id,
        Escalation.resolution.in_(
            [ResolutionKind.REASSIGNED.value, ResolutionKind.TAKEN_OVER.value]
        ),
    )
    return [
        client
        for client in _acm_clients(acm, (LifecycleStatus.LIVE,), without=moved)
        if client.subscribed_at <= client.created_at - TERM_BEFORE_IMPORT
    ]


def _replay_renewals(
    tales: list[_RenewalTale],
    now: datetime,
    staff: dict[Role, User],
    calendars: dict[str, BusinessCalendar],
) -> None:
    """Every step of `tales` and every sweep run since the earliest renewal was opened, in
    the order they happened. The sweeps run once a day: R1 opens what the UTC date brings,
    as the hourly run would; a reminder (R4) or a flag (R7) comes at most a day after the
    hourly run would have sent it."""
    happenings: list[tuple[datetime, int, Callable[[], object]]] = []
    for order, tale in enumerate(tales, start=1):
        for at, step in _renewal_moments(tale, now, staff, calendars):
            happenings.append((at, order, partial(tale.act, step, at, staff)))
    day = min(min(tale.due_on for tale in tales), now.date()) - renewals.RENEWAL_WINDOW
    while day <= now.date():
        for minute, sweep in RENEWAL_SWEEPS:
            at = datetime.combine(day, time(0, minute), UTC)
            if at < now - timedelta(minutes=1):  # what it sends is delivered by now
                happenings.append((at, 0, partial(_sweep, sweep, at)))
        day += timedelta(days=1)
    for _, _, happen in sorted(happenings, key=lambda happening: happening[:2]):
        happen()


def _sweep(sweep: Callable[[datetime], object], at: datetime) -> None:
    clock.freeze(at)
    sweep(at)


def _renewal_moments(
    tale: _RenewalTale,
    now: datetime,
    staff: dict[Role, User],
    calendars: dict[str, BusinessCalendar],
) -> list[tuple[datetime, Step]]:
    """When each step of `tale` happened, its renewal date set first: `ago` days before
    now, a little into the working hours of whoever does it (at most a weekend and a
    night later), in order, before now."""
    rng = tale.rng
    steps = (Step("renewal_date", rng.uniform(*RENEWAL_DATE_SET_AGO)), *tale.story.steps)
    moments: list[tuple[datetime, Step]] = []
    for step in steps:
        doer = RENEWAL_STEPS[step.kind]
        calendar = (
            tale.replay.calendar
            if doer is Role.ACM
            else calendars.get(staff[doer].timezone, tale.replay.calendar)
        )
        at = calendar.add_business_hours(now - timedelta(days=step.ago), rng.uniform(0.25, 2))
        if at >= now:  # the working hours since then are not over: the last of them
            at = calendar.subtract_business_hours(now, rng.uniform(0.25, 1))
        if moments and at <= moments[-1][0]:
            previous = moments[-1][0]
            at = previous + min(timedelta(minutes=rng.randint(10, 40)), (now - previous) / 2)
        moments.append((at.replace(microsecond=0), step))
    return moments


@dataclass
class _RenewalTale:
    """A renewal story being told on `client`, and what its steps made so far."""

    story: RenewalStory
    client: Client
    acm: User
    due_on: date
    rng: random.Random
    replay: _Replay
    renewal: Renewal | None = None
    invoice: Invoice | None = None
    plan: list[Invoice] = field(default_factory=list)
    quotation: Quotation | None = None
    payment: Payment | None = None
    issue: PaymentIssue | None = None

    def act(self, step: Step, at: datetime, staff: dict[Role, User]) -> None:
        """Do `step` through the services, with the portal clock at `at`."""
        self.replay.go(at)
        client, acm = self.client, self.acm
        if step.kind == "renewal_date":
            profile = {f.name: getattr(client, f.name) for f in fields(ClientProfile)}
            profile["renewal_date"] = self.due_on
            clients_service.update_client(client, ClientProfile(**profile), actor=acm)
            return
        renewal = self.renewal = self.renewal or self._opened_renewal()
        market = _MARKET_OF_CURRENCY[renewal.currency]
        finance, commercial = staff[Role.FINANCE], staff[Role.COMMERCIAL]
        match step.kind:
            case "notify":
                renewals.notify_client(renewal, actor=acm)
            case "confirm":
                amount = renewal.amount
                if step.share:
                    amount = _round_price(amount * Decimal(step.share), market)
                renewals.confirm_renewal(
                    renewal, actor=acm, agreed_on=renewal.due_on, amount=amount
                )
            case "ask_discount":
                self.quotation = discounts.request_discount(
                    client,
                    actor=acm,
                    description=step.text,
                    discount=_round_price(renewal.amount * Decimal(step.share), market),
                )
            case "approve" | "reject":
                discounts.decide_discount(
                    self.quotation, actor=commercial, approve=step.kind == "approve", note=step.text
                )
            case "invoice":
                discount = self.quotation
                if discount and discount.quotation_status is not QuotationStatus.APPROVED:
                    discount = None  # R9: only an approved discount goes on the invoice
                self.invoice = invoices.issue_invoice(
                    client,
                    actor=acm,
                    due_on=renewal.agreed_on or renewal.due_on,
                    renewal=renewal,
                    fees=[
                        Fee(what, _round_price(Decimal(usd) * market.usd_rate, market))
                        for what, usd in step.fees
                    ],
                    quotation=discount,
                    adapter=DEMO_BILLING,
                )
            case "split":
                today = clock.now().date()
                self.plan = invoices.split_into_installments(
                    self.invoice,
                    actor=acm,
                    due_dates=[today + timedelta(days=step.every * n) for n in range(step.parts)],
                    adapter=DEMO_BILLING,
                )
            case "wire":
                self.payment = payments.report_wire_transfer(
                    self.invoice,
                    actor=acm,
                    amount=self.invoice.total,
                    reference=f"FT{self.rng.randrange(10**11, 10**12)}",
                )
            case "wire_confirmed":
                payments.confirm_payment(
                    self.payment,
                    actor=finance,
                    received_amount=self.payment.amount,
                    received_on=clock.in_zone(clock.now(), finance.timezone).date(),
                )
            case "wire_rejected":
                payments.reject_wire_report(self.payment, actor=finance, reason=step.text)
            case "paid_online":
                unpaid = (i for i in self.plan if i.invoice_status is InvoiceStatus.UNPAID)
                payments.record_online_payment(
                    next(unpaid, self.invoice),
                    actor=finance,
                    reference=f"TXN-{self.rng.getrandbits(40):010X}",
                    adapter=DEMO_BILLING,
                )
            case "premises":
                payments.record_premises_payment(
                    self.invoice,
                    actor=finance,
                    amount=self.invoice.total,
                    receipt_number=f"RC-{self.rng.randrange(10000, 100000)}",
                )
            case "issue":
                self.issue = payments.raise_payment_issue(self.invoice, actor=acm, note=step.text)
            case "resolve":
                payments.resolve_payment_issue(
                    self.issue, actor=finance, new_method=step.method, note=step.text
                )
            case "lost":
                renewals.mark_lost(renewal, actor=acm, reason=step.text)
            case _:
                raise ValueError(f"unknown renewal step {step.kind!r}")

    def _opened_renewal(self) -> Renewal:
        """The renewal the R1 sweep opened for the story's term."""
        renewal = db.session.scalar(
            select(Renewal)
            .where(Renewal.client_id == self.client.id)
            .where(Renewal.due_on == self.due_on)
        )
        if renewal is None:
            raise RuntimeError(
                f"demo renewal of {self.client.store_code} due {self.due_on}: not opened "
                f"by {clock.now():%Y-%m-%d %H:%M}"
            )
        return renewal


# --- Onboarding and launch (O1, O2, L1-L5) ----------------------------------------------------


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


@dataclass
class _Onboarding:
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


def _kyc_answers(rng: random.Random, client: Client) -> dict[str, str]:
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


def _first(answers: dict[str, str], share: float) -> dict[str, str]:
    """The first `share` of the answers: a form left half-done."""
    return dict(list(answers.items())[: max(1, round(len(answers) * share))])


def _send_welcome(client: Client, acm: User) -> None:
    """O2: the ACM sends the welcome email as the portal drafts it."""
    onboarding.send_welcome(client, actor=acm, body=onboarding.draft_welcome(client).body)


def _client_answers(client: Client, answers: dict[str, str], *, submit: bool) -> None:
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


def _launch_plan(counts: dict[str, int]) -> list[tuple[float, str, str]]:
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
        "domain": f"{_slug(client.store_name)}.example",
        "drive": f"https://drive.{STAFF_DOMAIN}/lms/{code}",
        "mail": f"https://mail.{STAFF_DOMAIN}/archive/{code}",
        "ticket": f"https://jira.{STAFF_DOMAIN}/browse/LMS-{rng.randrange(1000, 10000)}",
    }
    note, evidence = written
    return note.format(**places), [link.format(**places) for link in evidence]


@dataclass
class _Happenings:
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


def _ticks(
    happenings: _Happenings,
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


def _replay_onboardings(
    new: list[tuple[Client, _Onboarding]],
    seed: int,
    now: datetime,
    people: _People,
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
    with _replaying_the_past() as added:
        for client, plan in new:
            team = people.teams[client.acm.team.name]
            rng = random.Random(f"{seed}:onboarding:{client.store_code}")
            _replay_onboarding(
                client, plan, team=team, calendar=calendars[team.name], now=now, rng=rng
            )
        db.session.flush()
        _delivered([row for row in added if isinstance(row, OutboxMessage)])
    _count_onboarding(added, report)


def _replay_onboarding(
    client: Client,
    plan: _Onboarding,
    *,
    team: TeamSpec,
    calendar: BusinessCalendar,
    now: datetime,
    rng: random.Random,
) -> None:
    """One new store's onboarding (`_replay_onboardings`), as it happened until now."""
    acm = client.acm
    happenings = _Happenings(until=now - timedelta(minutes=10))
    clock.freeze(client.created_at)
    onboarding.client_registered(client)
    if client.plan == Plan.ENTERPRISE.value:  # O2 is the Enterprise plan's
        happenings.at(plan.welcome_at, partial(_send_welcome, client, acm))
    happenings.at(plan.kyc_at, partial(kyc.send_link, client, actor=acm))
    # O1: most clients answer through the link; some leave it half-done, or do not open
    # it, and the ACM fills it in at the onboarding meeting (or still waits).
    answers = _kyc_answers(rng, client)
    during_meeting = plan.meeting_at + timedelta(minutes=rng.randint(15, 40))
    way = rng.random()
    if way < 0.65:
        happenings.at(plan.answered_at, partial(_client_answers, client, answers, submit=True))
    else:
        if way < 0.85 and plan.answered_at < plan.meeting_at:
            half = _first(answers, rng.uniform(0.3, 0.7))
            happenings.at(plan.answered_at, partial(_client_answers, client, half, submit=False))
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
    for share, checklist, item_key in _launch_plan(counts):
        moment = plan.lms_at
        if share:
            moment = _office_time(rng, team, plan.lms_at + span * share)
        if moment < end:
            moments.append((moment, checklist, item_key))
    deliveries = {
        UsageKind.LOGO: (1,),
        UsageKind.SLIDES: (rng.randint(3, 7),),
        UsageKind.PRODUCTS: (rng.randint(60, 190),),
        UsageKind.CATEGORIES: (rng.randint(6, 40),),
    }
    _ticks(
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


def _count_onboarding(added: list[Any], report: SeedReport) -> None:
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
            report.events += 1
            if row.kind == TimelineKind.KYC_LINK_SENT.value:
                report.kyc_links += 1
            elif row.kind == TimelineKind.STORE_LAUNCHED.value:
                report.launched += 1
            elif row.kind == TimelineKind.CHECKLIST_ITEM.value:
                report.checklist_ticks += "ticked" in row.detail.get("changes", ())


# --- Launch stories: a client at each stage of the onboarding (O1, O2, L1-L5) ------------------


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


def _launch_story_clients(seed: int) -> list[tuple[LaunchStory, str, str, str]]:
    """Each launch story with its client's industry, store name and store code: the last
    store names of the seed's order, which the portfolio never reaches (MAX_CLIENTS)."""
    names = _store_names(seed)
    told = []
    for n, story in enumerate(LAUNCH_STORIES):
        index = len(names) - 1 - n
        industry, name = names[index]
        told.append((story, industry, name, _store_code(name, index)))
    return told


def _seed_launch_stories(seed: int, now: datetime, people: _People, report: SeedReport) -> None:
    """O1, O2, L1-L5: the launch stories' clients that are missing (keyed on the store
    code), each registered by its ACM when it subscribed, its contacts added, and its
    steps replayed through the services with the portal clock at their instants.
    Messages of the past look delivered."""
    with _replaying_the_past() as added:
        for story, industry, name, code in _launch_story_clients(seed):
            if db.session.scalar(select(exists().where(Client.store_code == code))):
                continue
            rng = random.Random(f"{seed}:launch:{story.shows}")
            _tell_launch_story(story, industry, name, code, people=people, now=now, rng=rng)
        db.session.flush()
        _delivered([row for row in added if isinstance(row, OutboxMessage)])
    report.clients += sum(isinstance(row, Client) for row in added)
    report.contacts += sum(isinstance(row, Contact) for row in added)
    _count_onboarding(added, report)


def _tell_launch_story(
    story: LaunchStory,
    industry: str,
    name: str,
    code: str,
    *,
    people: _People,
    now: datetime,
    rng: random.Random,
) -> None:
    """One launch story (`_seed_launch_stories`), as it happened until now."""
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
            renewal_date=_anniversary(subscribed.date(), 1),
            recurring_amount=_amount(rng, Plan.ENTERPRISE, store_manager, market),
        ),
        actor=acm,
        acm=acm,
    )
    for n, contact in enumerate(_contacts(rng, market, f"{_slug(name)}.example")):
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

    happenings = _Happenings(until=now - timedelta(minutes=5))
    answers = _kyc_answers(rng, client)
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
    happenings: _Happenings,
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
    for share, checklist, item_key in _launch_plan(dict(story.progress)):
        if not share:  # the first LMS step: the "lms" step ticked it
            continue
        moment = calendar.add_business_hours(started + (end - started) * share, 0.1)
        moments.append((min(moment, end), checklist, item_key))
    deliveries = dict(story.deliveries)
    _ticks(
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
            return [(now_, partial(_send_welcome, client, acm))]
        case "kyc_link":
            return [(now_, partial(kyc.send_link, client, actor=acm))]
        case "kyc_started":
            half = _first(answers, 0.5)
            return [(now_, partial(_client_answers, client, half, submit=False))]
        case "kyc_submitted":
            return [(now_, partial(_client_answers, client, answers, submit=True))]
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
        owed = minutes_service.owe_for_call(client, calls[0], owner=acm, at=calls[0].at)
        if minutes is None:
            minutes_service.mark_no_requests(owed, actor=acm)
            return
        minutes_service.send_minutes(
            owed,
            actor=acm,
            agreed_points=minutes,
            action_items=[],
            recipients=[client.reachable_contact("email")],
        )

    later = timedelta(minutes=5 if minutes is None else 35)
    return [(timedelta(0), call), (later, follow_up)]
