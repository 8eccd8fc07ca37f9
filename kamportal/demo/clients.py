"""The demo portfolio: the first `clients` store names of the seed's order, each with its
contacts and a timeline told a week of contact at a time (F1, F2, G5, G6), from the day it
was registered or imported until now. A new store's onboarding (onboarding.py) and every
store's meetings (meetings.py) are replayed with it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from kamportal.demo.common import NO_ANSWER_NOTES, SeedReport, anniversary, slug
from kamportal.demo.launches import MAX_CLIENTS
from kamportal.demo.markets import (
    MARKETS,
    Market,
    make_contacts,
    store_code,
    store_names,
    yearly_price,
)
from kamportal.demo.meetings import seed_meetings, seed_todays_meetings
from kamportal.demo.onboarding import Onboarding, replay_onboardings
from kamportal.demo.people import People, TeamSpec, office_time
from kamportal.extensions import db
from kamportal.models import (
    AuditEvent,
    CallOutcome,
    Client,
    Contact,
    LifecycleStatus,
    Plan,
    TimelineEvent,
    TimelineKind,
    User,
)
from kamportal.services import clients as clients_service
from kamportal.services import timeline

# How far back the timelines go: the day the team started working in the portal.
HISTORY_DAYS = 120

STATUS_WEIGHTS = {
    LifecycleStatus.LIVE: 60,
    LifecycleStatus.LAUNCHING: 12,
    LifecycleStatus.ONBOARDING: 8,
    LifecycleStatus.AT_RISK: 13,
    LifecycleStatus.CHURNED: 7,
}
PLAN_WEIGHTS = {Plan.ENTERPRISE: 55, Plan.ULTIMATE: 25, Plan.PROFESSIONAL: 14, Plan.BUSINESS: 6}


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


def seed_clients(count: int, seed: int, now: datetime, people: People, report: SeedReport) -> None:
    names = store_names(seed)[: min(count, MAX_CLIENTS)]  # the last names are the stories'
    codes = [store_code(name, i) for i, (_, name) in enumerate(names)]
    existing: set[str] = set()
    for start in range(0, len(codes), 500):
        batch = codes[start : start + 500]
        existing |= set(
            db.session.scalars(select(Client.store_code).where(Client.store_code.in_(batch)))
        )
    golive = datetime.combine((now - timedelta(days=HISTORY_DAYS)).date(), time(7), UTC)

    new: list[tuple[Client, list[_Event], Onboarding | None]] = []
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
    replay_onboardings(
        [(client, plan) for client, _, plan in new if plan is not None], seed, now, people, report
    )
    for client, _, _ in new:
        event_rows += seed_meetings(client, seed, now, people, report)
    db.session.flush()
    event_rows += seed_todays_meetings([client for client, _, _ in new], now, report)
    # render_nulls keeps every row's columns the same, so the rows go in as one batch.
    db.session.execute(insert(TimelineEvent).execution_options(render_nulls=True), event_rows)
    db.session.execute(insert(AuditEvent).execution_options(render_nulls=True), audit_rows)
    report.clients += len(new)


@dataclass(frozen=True)
class Subscription:
    """A demo store's market, lifecycle, plan and subscription, as the demo draws them."""

    market: Market
    status: LifecycleStatus
    plan: Plan
    store_manager: bool
    subscribed_at: datetime
    renewal: date | None
    churned_at: datetime | None


def draw_subscription(rng: random.Random, now: datetime) -> Subscription:
    """A store's market, status and plan by the demo's weights, and its subscription: when
    it subscribed, its renewal ahead (none once churned) and when it churned."""
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
        renewal = anniversary(subscribed_at.date(), 1)
    elif status is LifecycleStatus.LAUNCHING:
        subscribed_at = now - timedelta(days=rng.uniform(18, 75))
        renewal = anniversary(subscribed_at.date(), 1)
    elif status is LifecycleStatus.CHURNED:
        # Churned at the renewal they did not pay: no renewal ahead any more.
        lapsed = today - timedelta(days=rng.randint(15, 100))
        subscribed_at = _at_hour(rng, anniversary(lapsed, -rng.randint(1, 3)))
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
        while anniversary(renewal, -years) > today - timedelta(days=min_age):
            years += 1
        years += rng.choice((0, 0, 1, 2))
        subscribed_at = _at_hour(rng, anniversary(renewal, -years))

    return Subscription(market, status, plan, store_manager, subscribed_at, renewal, churned_at)


def _weighted(rng: random.Random, weights: dict) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _make_client(
    rng: random.Random,
    index: int,
    industry: str,
    name: str,
    code: str,
    now: datetime,
    golive: datetime,
    people: People,
) -> tuple[Client, list[_Event], Onboarding | None]:
    drawn = draw_subscription(rng, now)
    market, status, plan = drawn.market, drawn.status, drawn.plan
    store_manager, subscribed_at = drawn.store_manager, drawn.subscribed_at
    renewal, churned_at = drawn.renewal, drawn.churned_at
    team = people.teams[market.team]
    acm = rng.choice(people.acms(market.team))
    is_new = subscribed_at > golive
    created_at = (
        min(subscribed_at + timedelta(hours=rng.uniform(0.5, 3)), now - timedelta(minutes=5))
        if is_new
        else golive + timedelta(seconds=index)
    )
    client = Client(
        store_name=name,
        store_code=code,
        plan=plan.value,
        has_store_manager=store_manager,
        country=market.country,
        timezone=rng.choice(market.timezones),
        industry=industry,
        language="ar" if rng.random() < market.arabic_share else "en",
        # A new client starts onboarding; the launch moves it on (onboarding.py).
        status=(LifecycleStatus.ONBOARDING if is_new else status).value,
        acm_id=acm.id,
        subscribed_at=subscribed_at,
        renewal_date=renewal,
        recurring_amount=yearly_price(rng, plan, store_manager, market),
        currency=market.currency,
        created_at=created_at,
        updated_at=created_at,
        contacts=make_contacts(rng, market, f"{slug(name)}.example"),
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
    onboarding: Onboarding | None = None

    def reassign(self, previous: User, at: datetime) -> None:
        self.previous_acm = previous
        self.reassigned_at = self.office_time(at)

    # -- time ------------------------------------------------------------------------------

    def office_time(self, after: datetime) -> datetime:
        return office_time(self.rng, self.team, after)

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
        through the services once the client exists (`Onboarding`)."""
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
        plan = self.onboarding = Onboarding(status, welcome, kyc, answered, meeting)
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
