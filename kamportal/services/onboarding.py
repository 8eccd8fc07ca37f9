"""Onboarding and store launch: the welcome email (O2), the launch checklists (L1, L3-L5)
and the lifecycle onboarding → launching → live.

The KYC questionnaire (O1) is services/kyc.py; the contract limits (L2) are
services/contract_limits.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext, lazy_gettext
from sqlalchemy import ColumnElement, and_, func, insert, select
from sqlalchemy.orm import contains_eager, selectinload

from kamportal import clock, i18n
from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    IN_LAUNCH,
    ChecklistItem,
    Client,
    KycQuestionnaire,
    LifecycleStatus,
    OutboxMessage,
    Plan,
    TimelineKind,
    User,
    WelcomeEmail,
)
from kamportal.services import access, accounts, cadence, kyc, timeline, validation
from kamportal.services.calendar import BusinessCalendar, calendar_for_client
from kamportal.services.launch_checklists import (
    CHECKLISTS,
    LAUNCH_GATE,
    LMS,
    ChecklistDefinition,
    definition_of,
)

# O2: the welcome email is due this many business hours after the Enterprise subscription.
WELCOME_BUSINESS_HOURS = 48
MAX_EVIDENCE_LINKS = 10
MAX_NOTE_LENGTH = 2000

# --- The welcome email (O2) -------------------------------------------------------------


def welcome_due_at(subscribed_at: datetime, calendar: BusinessCalendar) -> datetime:
    """O2: 48 business hours on the team's calendar after the subscription."""
    return calendar.add_business_hours(subscribed_at, WELCOME_BUSINESS_HOURS)


def welcome_of(client: Client) -> WelcomeEmail | None:
    return db.session.scalar(select(WelcomeEmail).where(WelcomeEmail.client_id == client.id))


def owe_welcome(client: Client, *, subscribed_at: datetime) -> WelcomeEmail | None:
    """Open the welcome email a client on the Enterprise plan is owed (O2), once per
    client; None for another plan."""
    if client.plan != Plan.ENTERPRISE.value:
        return None
    existing = welcome_of(client)
    if existing is not None:
        return existing
    welcome = WelcomeEmail(
        client_id=client.id,
        subscribed_at=subscribed_at,
        due_at=welcome_due_at(subscribed_at, calendar_for_client(client)),
    )
    db.session.add(welcome)
    db.session.flush()
    return welcome


@dataclass(frozen=True)
class WelcomeStanding:
    """Where an owed welcome email stands: business hours left before it is due
    (negative once overdue)."""

    welcome: WelcomeEmail
    hours_left: float

    @property
    def sent(self) -> bool:
        return self.welcome.sent_at is not None

    @property
    def overdue(self) -> bool:
        return not self.sent and self.hours_left <= 0

    @property
    def hours_text(self) -> str:
        hours = abs(self.hours_left)
        # Whole hours, rounded down; the last part-hour says so rather than "0".
        shown = "under 1" if 0 < hours < 1 else str(int(hours))
        unit = "business hour" if shown in ("1", "under 1") else "business hours"
        return f"{shown} {unit} past" if self.overdue else f"{shown} {unit} left"


def reschedule_welcome(client: Client, *, subscribed_at: datetime | None = None) -> None:
    """An unsent welcome email follows a corrected subscription date: its 48 business
    hours are counted again (O2). A change of its calendar (a holiday, the team's week or
    zone, another team) is recounted by services/deadlines.py."""
    welcome = welcome_of(client)
    if welcome is None or welcome.sent_at is not None:
        return
    if subscribed_at is not None:
        welcome.subscribed_at = subscribed_at
    welcome.due_at = welcome_due_at(welcome.subscribed_at, calendar_for_client(client))


def welcome_owed_clause() -> ColumnElement[bool]:
    """O2 in SQL (joined to the client): a welcome email not sent, the client on the
    Enterprise plan (one moved off it is not owed) and not churned."""
    return and_(
        WelcomeEmail.sent_at.is_(None),
        Client.plan == Plan.ENTERPRISE.value,
        Client.status != LifecycleStatus.CHURNED.value,
    )


def welcome_late_clause(now: datetime) -> ColumnElement[bool]:
    """O2: an owed welcome email past its 48 business hours at `now` (`due_at` is counted
    on the team's calendar, and recounted when the calendar changes)."""
    return and_(welcome_owed_clause(), WelcomeEmail.due_at <= now)


def welcomes_owed() -> list[WelcomeEmail]:
    """The welcome emails still owed (O2), with the client, its ACM and team (for their
    calendar)."""
    return list(
        db.session.scalars(
            select(WelcomeEmail)
            .join(WelcomeEmail.client)
            .options(contains_eager(WelcomeEmail.client).joinedload(Client.acm))
            .where(welcome_owed_clause())
            .order_by(WelcomeEmail.id)
        )
    )


def welcome_standing(
    welcome: WelcomeEmail, calendar: BusinessCalendar, *, now: datetime
) -> WelcomeStanding:
    if now >= welcome.due_at:
        return WelcomeStanding(welcome, -calendar.business_hours_between(welcome.due_at, now))
    return WelcomeStanding(welcome, calendar.business_hours_between(now, welcome.due_at))


def welcome_subject(client: Client) -> str:
    """O2's subject, in the client's language."""
    return i18n.translated(
        client.language, "Welcome to ExpandCart – %(code)s", code=client.store_code
    )


@dataclass(frozen=True)
class WelcomeDraft:
    to: str | None
    subject: str
    body: str


@dataclass(frozen=True)
class WelcomeSection:
    """A headed section of the welcome email (O2): its heading's key in WELCOME_HEADINGS,
    what a refusal calls it, and what its text must still say (case aside)."""

    heading: str
    name: str
    must_say: tuple[object, ...] = ()


# The welcome email's headings, in its order, in the client's language
# (`templates/emails/welcome.txt` writes them from here). The sections O2 requires besides
# the ACM's name and contact information (the first) and the booking link (the last),
# which are checked by their values.
WELCOME_HEADINGS = {
    "acm": lazy_gettext("YOUR ACCOUNT MANAGER"),
    "channels": lazy_gettext("OFFICIAL CHANNELS"),
    "role": lazy_gettext("WHAT I DO FOR YOU"),
    "hours": lazy_gettext("WORKING HOURS"),
    "roadmap": lazy_gettext("YOUR ROADMAP TO LAUNCH (LMS SERVICE)"),
    "booking": lazy_gettext("BOOK OUR ONBOARDING MEETING"),
}
WELCOME_SECTIONS = (
    WelcomeSection("channels", "the official channels", (lazy_gettext("email"),)),
    WelcomeSection("role", "your role and responsibilities"),
    WelcomeSection("hours", "your working hours"),
    WelcomeSection("roadmap", "the roadmap to launch"),
)


def welcome_sections(body: str) -> dict[str, str]:
    """The text under each heading of WELCOME_HEADINGS (in the locale of the call) found in
    `body`, by the heading's key (a heading is a line of its own, case and a trailing
    colon aside), up to the next heading."""
    headings = {str(h).casefold(): key for key, h in WELCOME_HEADINGS.items()}
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in body.splitlines():
        heading = headings.get(line.strip().rstrip(":").strip().casefold())
        if heading is not None:
            current = found.setdefault(heading, [])
        elif current is not None:
            current.append(line)
    return {heading: "\n".join(lines).strip() for heading, lines in found.items()}


def missing_welcome_sections(body: str, calendar: BusinessCalendar) -> list[str]:
    """What of O2's sections `body` lost, as a refusal names it: each section of
    WELCOME_SECTIONS needs its heading, some text under it and what it must say; the
    working hours keep the team's opening and closing times. Headings in the locale of
    the call (the client's language)."""
    sections = welcome_sections(body)
    missing = []
    for section in WELCOME_SECTIONS:
        text = sections.get(section.heading, "")
        must_say = tuple(str(word) for word in section.must_say)
        if section.heading == "hours":
            must_say = (f"{calendar.opens:%H:%M}", f"{calendar.closes:%H:%M}")
        if not text or any(word.casefold() not in text.casefold() for word in must_say):
            said = f", saying {' and '.join(must_say)}" if must_say else ""
            heading = WELCOME_HEADINGS[section.heading]
            missing.append(f"{section.name} (under “{heading}”{said})")
    return missing


def working_hours_text(calendar: BusinessCalendar) -> str:
    """The team's week and hours as the client reads them (Sun-Thu, 09:00-17:00, zone), in
    the locale of the call."""
    # The week starts after its longest break (Sat-Thu, not Sun-Sat), as the team page says.
    days = calendar.working_weekdays
    week = accounts.describe_week(days, i18n.weekday_names()) if days else gettext("by appointment")
    hours = f"{calendar.opens:%H:%M}–{calendar.closes:%H:%M}"
    return gettext(
        "%(week)s, %(hours)s (%(zone)s), except public holidays",
        week=week,
        hours=hours,
        zone=calendar.zone,
    )


def draft_welcome(client: Client) -> WelcomeDraft:
    """The welcome email as the portal composes it (O2), for the ACM to review: every item
    of the rule, from the ACM's profile, the team's calendar and the LMS checklist."""
    acm = client.acm
    contact = client.reachable_contact("email")
    with i18n.client_language(client.language):
        body = outbox.render_email(
            "welcome.txt",
            client=client,
            contact=contact,
            acm=acm,
            working_hours=working_hours_text(calendar_for_client(client)),
            support_email=current_app.config["SUPPORT_EMAIL"],
            roadmap=[gettext(step.text) for step in LMS.items],
            headings=WELCOME_HEADINGS,
        )
    return WelcomeDraft(
        to=contact.email if contact else None, subject=welcome_subject(client), body=body
    )


def send_welcome(client: Client, *, actor: User, body: str) -> OutboxMessage:
    """The ACM sends the reviewed welcome email (O2): subject as the rule says, to the
    client's contact, ACM and leader in CC (G1). Sent once per client: the outbox key
    and the row both refuse a second one.

    Raises RuleViolation if it went out already or the ACM has no booking link (the email
    gives it), ValidationError without a contact email, or with the ACM's name or email,
    the support address, the booking link or a section O2 requires (the official
    channels, the role and responsibilities, the working hours, the roadmap) removed."""
    access.check_works_on(actor, client)
    welcome = welcome_of(client) or owe_welcome(
        client, subscribed_at=client.subscribed_at or clock.now()
    )
    if welcome is not None and welcome.sent_at is not None:
        sent_on = clock.in_zone(welcome.sent_at, actor.timezone)  # the reader's date
        raise RuleViolation(
            "O2", f"The welcome email went out on {sent_on:%d %b %Y}; it is sent once."
        )
    acm = client.acm
    if acm is None or not acm.booking_link:
        raise RuleViolation(
            "O2",
            "The welcome email gives the ACM's booking link, and "
            f"{acm.name if acm else 'the client'} has none: ask an admin to add it to the "
            "ACM's profile.",
        )
    text = validation.required_text(body, field="body", message="The email needs a message.")
    kept = {
        "your name": acm.name,
        "your email": acm.email,
        "the support address": current_app.config["SUPPORT_EMAIL"],
        "the booking link": acm.booking_link,
    }
    missing = [f"{item} ({value})" for item, value in kept.items() if value not in text]
    with i18n.client_language(client.language):
        missing += missing_welcome_sections(text, calendar_for_client(client))
    if missing:
        raise ValidationError(
            f"Keep {', '.join(missing)} in the email: the client needs them (O2).", field="body"
        )
    contact = client.reachable_contact("email")
    if contact is None:
        raise ValidationError("Add the client's contact with an email address first.", field="body")
    message = outbox.queue_client_email(
        client,
        key=f"welcome:{client.id}",
        to=[contact.email],
        subject=welcome_subject(client),
        body=text + "\n",
        actor=actor,
    )
    now = clock.now()
    if welcome is None:  # a client on another plan may be welcomed too, without a clock
        welcome = WelcomeEmail(client_id=client.id, subscribed_at=now, due_at=now)
        db.session.add(welcome)
    welcome.sent_at = now
    welcome.sent_by_id = actor.id
    welcome.outbox_message_id = message.id
    timeline.record(
        client,
        TimelineKind.WELCOME_EMAIL_SENT,
        actor=actor,
        summary=f"Welcome email to {contact.name} ({contact.email})",
        detail={"contact_id": contact.id, "due_at": welcome.due_at},
        outbox_message=message,
    )
    cadence.record_contact(client, now)
    db.session.flush()
    return message


# --- Lifecycle --------------------------------------------------------------------------------


def client_registered(client: Client) -> None:
    """A new client's onboarding starts: its welcome email is owed on the Enterprise plan
    (from the subscription, else now) and it gets its launch checklists. A store that
    comes to the portal already live launched before it: neither applies."""
    if not client.in_launch:
        return
    owe_welcome(client, subscribed_at=client.subscribed_at or clock.now())
    instantiate_checklists(client)
    if client.status == LifecycleStatus.LAUNCHING.value:
        client.lms_started_at = client.lms_started_at or clock.now()


def plan_changed(client: Client, *, previous_plan: str) -> None:
    """A client moved to the Enterprise plan: its welcome email is owed from now (O2)."""
    if (
        client.plan == Plan.ENTERPRISE.value
        and previous_plan != Plan.ENTERPRISE.value
        and client.status != LifecycleStatus.CHURNED.value
    ):
        owe_welcome(client, subscribed_at=clock.now())


def check_status_change(client: Client, new_status: str) -> None:
    """L5: the profile form cannot mark a store live that was onboarded in the portal and
    never launched (not even through at risk or churned); the launch does, once its
    launch checklists are complete, or a leader's override. A store that came to the portal live (no
    checklists) or launched before may go back to live."""
    if (
        new_status == LifecycleStatus.LIVE.value
        and client.status != LifecycleStatus.LIVE.value
        and client.launched_at is None
        and (client.in_launch or has_checklists(client))
    ):
        raise RuleViolation(
            "L5",
            "A store goes live from its launch page: complete the LMS steps, the "
            "pre-launch checks and the UAT checklist and launch it there, or ask the team "
            "leader to override.",
            field="status",
        )


def status_changed(client: Client, *, previous_status: str, actor: User | None) -> None:
    """A status set by hand: a client back in onboarding or launching gets the checklists
    it lacks; a launch started so is dated (L1)."""
    if not client.in_launch or client.status == previous_status:
        return
    instantiate_checklists(client)
    if client.status == LifecycleStatus.LAUNCHING.value and client.lms_started_at is None:
        client.lms_started_at = clock.now()


def has_checklists(client: Client) -> bool:
    return (
        db.session.scalar(
            select(ChecklistItem.id).where(ChecklistItem.client_id == client.id).limit(1)
        )
        is not None
    )


def start_lms(client: Client, *, actor: User | None) -> bool:
    """Onboarding → launching: the LMS service started (L1). False if it had already."""
    if client.status != LifecycleStatus.ONBOARDING.value:
        return False
    now = clock.now()
    client.status = LifecycleStatus.LAUNCHING.value
    client.lms_started_at = now
    client.updated_at = now
    timeline.record(
        client, TimelineKind.LMS_STARTED, actor=actor, summary="Launch (LMS service) started"
    )
    timeline.audit(
        actor,
        "client.lms_start",
        client,
        before={"status": LifecycleStatus.ONBOARDING.value},
        after={"status": client.status},
    )
    return True


@dataclass(frozen=True)
class OpenChecklist:
    """A checklist the launch waits for (LAUNCH_GATE), with the texts of its items still
    open, in the checklist's order."""

    definition: ChecklistDefinition
    items: tuple[str, ...]

    @property
    def summary(self) -> str:
        """What a refusal says of it: `Pre-launch checks: 1 item(s) open, first “…”`."""
        return f"{self.definition.title}: {len(self.items)} item(s) open, first “{self.items[0]}”"


def launch_open(client: Client) -> list[OpenChecklist]:
    """What the launch still waits for (L1, L4, L5): each checklist of LAUNCH_GATE with
    items not ticked yet, in the launch's order; empty once the store may go live."""
    done = set(
        db.session.execute(
            select(ChecklistItem.checklist, ChecklistItem.item_key).where(
                ChecklistItem.client_id == client.id,
                ChecklistItem.checklist.in_([d.key for d in LAUNCH_GATE]),
                ChecklistItem.done_at.is_not(None),
            )
        ).tuples()
    )
    found = []
    for definition in LAUNCH_GATE:
        items = tuple(i.text for i in definition.items if (definition.key, i.key) not in done)
        if items:
            found.append(OpenChecklist(definition, items))
    return found


def launch(client: Client, *, actor: User, override_reason: str | None = None) -> None:
    """L5: mark the store launched (live). Only with the LMS steps (L1), the pre-launch
    checks with the test order (L4) and the UAT checklist, test payments disabled
    included (L5), all complete; otherwise the client's team leader (or an admin) may
    override with a reason, recorded on the timeline and in the audit log.

    Raises RuleViolation if the store is not being launched or something is still open
    without an override (naming each checklist still open), NotAllowed if someone else
    overrides, ValidationError without a reason."""
    access.check_works_on(actor, client)
    db.session.refresh(client, with_for_update={"of": Client})  # two launches at once: one waits
    if not client.in_launch:
        raise RuleViolation("L5", f"The store is {client.lifecycle.label.lower()}, not launching.")
    still_open = launch_open(client)
    reason = (override_reason or "").strip()
    if still_open and override_reason is None:
        raise RuleViolation(
            "L5",
            "The store cannot go live yet. "
            + "; ".join(o.summary for o in still_open)
            + ". Complete them, or ask the team leader to override.",
        )
    if still_open:
        if not access.can_reassign_client(actor, client):
            raise NotAllowed(
                "Only the client's team leader can launch a store before its launch "
                "checklists are complete."
            )
        if not reason:
            raise ValidationError(
                "Say why the store launches before its launch checklists are complete.",
                field="override_reason",
            )
    now = clock.now()
    before = timeline.snapshot(client, ("status", "launched_at"))
    client.status = LifecycleStatus.LIVE.value
    client.launched_at = now
    client.lms_started_at = client.lms_started_at or now
    client.updated_at = now
    after = timeline.snapshot(client, ("status", "launched_at"))
    left_open = {o.definition.key: list(o.items) for o in still_open}
    if still_open:  # the override's reason belongs in the append-only log too
        after |= {"override_reason": reason, "open": left_open}
    timeline.audit(
        actor,
        "client.launch_override" if still_open else "client.launch",
        client,
        before=before,
        after=after,
    )
    if still_open:
        summary = f"Store launched by leader override: {reason}"
    else:
        summary = "Store launched: LMS steps, pre-launch checks and UAT checklist complete"
    timeline.record(
        client,
        TimelineKind.STORE_LAUNCHED,
        actor=actor,
        summary=summary,
        detail={"override_reason": reason or None, "open": left_open},
    )


# --- The launch checklists (L1, L3, L4, L5) -------------------------------------------------


def instantiate_checklists(client: Client) -> int:
    """Give `client` its copy of every checklist item it lacks; returns how many were
    added (none the second time)."""
    have = set(
        db.session.execute(
            select(ChecklistItem.checklist, ChecklistItem.item_key).where(
                ChecklistItem.client_id == client.id
            )
        ).tuples()
    )
    rows = [
        {
            "client_id": client.id,
            "checklist": definition.key,
            "item_key": item.key,
            "position": position,
            "section": item.section or None,
            "text": item.text,
            "evidence": [],
        }
        for definition in CHECKLISTS.values()
        for position, item in enumerate(definition.items)
        if (definition.key, item.key) not in have
    ]
    if rows:
        # One multi-row INSERT: a new client's ~80 items are written at once.
        db.session.execute(insert(ChecklistItem), rows)
    return len(rows)


def open_missing_checklists() -> tuple[int, int]:
    """Every client in onboarding or launching gets the items it lacks: (clients, items)."""
    clients = added = 0
    for client in db.session.scalars(select(Client).where(Client.status.in_(IN_LAUNCH))):
        count = instantiate_checklists(client)
        clients += bool(count)
        added += count
    return clients, added


@dataclass(frozen=True)
class ChecklistView:
    definition: ChecklistDefinition
    items: list[ChecklistItem]

    @property
    def done(self) -> int:
        return sum(1 for i in self.items if i.done)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def checklists_of(client: Client, *, only: str | None = None) -> list[ChecklistView]:
    """The client's checklists in the process's order, items in order (one query)."""
    query = (
        select(ChecklistItem)
        .where(ChecklistItem.client_id == client.id)
        .options(selectinload(ChecklistItem.done_by))
        .order_by(ChecklistItem.position, ChecklistItem.id)
    )
    if only is not None:
        query = query.where(ChecklistItem.checklist == only)
    rows = list(db.session.scalars(query))
    views = []
    for definition in CHECKLISTS.values():
        if only is not None and definition.key != only:
            continue
        views.append(ChecklistView(definition, [r for r in rows if r.checklist == definition.key]))
    return views


@dataclass(frozen=True)
class Progress:
    definition: ChecklistDefinition
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def progress_of(client: Client) -> list[Progress]:
    """Each checklist's items done and total, for the client page (one query)."""
    counts = {
        checklist: (done or 0, total)
        for checklist, done, total in db.session.execute(
            select(
                ChecklistItem.checklist,
                func.count(ChecklistItem.done_at),
                func.count(ChecklistItem.id),
            )
            .where(ChecklistItem.client_id == client.id)
            .group_by(ChecklistItem.checklist)
        ).tuples()
    }
    return [Progress(d, *counts.get(d.key, (0, 0))) for d in CHECKLISTS.values()]


def checklist_item(client: Client, checklist: str, item_key: str) -> ChecklistItem | None:
    return db.session.scalar(
        select(ChecklistItem).where(
            ChecklistItem.client_id == client.id,
            ChecklistItem.checklist == checklist,
            ChecklistItem.item_key == item_key,
        )
    )


def evidence_links(lines: Iterable[str]) -> list[str]:
    """Evidence as links (emails in the archive, screenshots, tickets): http(s) only."""
    links = [line.strip() for line in lines if line.strip()]
    if len(links) > MAX_EVIDENCE_LINKS:
        raise ValidationError(
            f"At most {MAX_EVIDENCE_LINKS} evidence links per item.", field="evidence"
        )
    for link in links:
        validation.web_link(
            link, field="evidence", message=f"“{link[:60]}” is not a web address (https://…)."
        )
    return links


def update_item(
    client: Client,
    checklist: str,
    item_key: str,
    *,
    actor: User,
    done: bool | None = None,
    note: str | None = None,
    evidence: list[str] | None = None,
) -> ChecklistItem:
    """Tick or untick an item, or change its note and evidence (None leaves a part as it
    is). Ticking an LMS step starts the launch (onboarding → launching, L1).

    Raises NotAllowed for someone not on the client, ValidationError for an unknown item,
    a note too long or evidence that is not links."""
    access.check_works_on(actor, client)
    item = checklist_item(client, checklist, item_key)
    if item is None:
        if definition_of(checklist, item_key) is None:
            raise ValidationError("There is no such checklist item.", field="item")
        instantiate_checklists(client)
        item = checklist_item(client, checklist, item_key)
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise ValidationError(f"A note has at most {MAX_NOTE_LENGTH} characters.", field="note")
    links = evidence_links(evidence) if evidence is not None else None
    now = clock.now()
    changes = []
    if done is True and item.done_at is None:
        item.done_at, item.done_by_id = now, actor.id
        changes.append("ticked")
    elif done is False and item.done_at is not None:
        item.done_at, item.done_by_id = None, None
        changes.append("unticked")
    if note is not None and (note.strip() or None) != item.note:
        item.note = note.strip() or None
        changes.append("note")
    if links is not None and links != list(item.evidence or []):
        item.evidence = links
        changes.append("evidence")
    if not changes:
        return item
    item.updated_at, item.updated_by_id = now, actor.id
    timeline.audit(
        actor,
        "checklist.update",
        item,
        after={
            "client_id": client.id,
            "checklist": checklist,
            "item": item_key,
            "done": item.done,
            "note": item.note,
            "evidence": list(item.evidence or []),
        },
    )
    title = CHECKLISTS[checklist].title
    timeline.record(
        client,
        TimelineKind.CHECKLIST_ITEM,
        actor=actor,
        summary=f"{title}: “{item.text}” {', '.join(changes)}",
        detail={"checklist": checklist, "item": item_key, "changes": changes},
    )
    if checklist == LMS.key and done:
        start_lms(client, actor=actor)
    db.session.flush()
    return item


# --- The client page ------------------------------------------------------------------------


@dataclass(frozen=True)
class OnboardingPanel:
    """What the client page shows of the onboarding: the welcome email and where it
    stands, and each launch checklist's progress."""

    welcome: WelcomeStanding | None
    questionnaire: KycQuestionnaire | None
    progress: list[Progress]


def onboarding_panel(client: Client, *, now: datetime) -> OnboardingPanel:
    welcome = welcome_of(client)
    if welcome is not None and welcome.sent_at is None and client.plan != Plan.ENTERPRISE.value:
        welcome = None  # moved off the Enterprise plan before it went: no longer owed
    standing = (
        welcome_standing(welcome, calendar_for_client(client), now=now)
        if welcome is not None and welcome.sent_at is None
        else None
    )
    if welcome is not None and standing is None:
        standing = WelcomeStanding(welcome, 0.0)
    return OnboardingPanel(standing, kyc.questionnaire_of(client), progress_of(client))
