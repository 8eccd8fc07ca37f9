"""Onboarding and launch without HTTP: the welcome email's 48 business hours on the team's
calendar at every boundary (O2), the clients it is owed to, the email itself as a real
SMTP server receives it and its refusals (O2, G1); the launch checklists ticked with who,
when, notes and evidence (L1, L3, L4), the first LMS step starting the launch, and the
launch gate (LMS steps, pre-launch checks, UAT) with the leader's override (L5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from kamportal import clock
from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.models import (
    AuditEvent,
    ChecklistItem,
    Client,
    LifecycleStatus,
    OutboxMessage,
    Plan,
    Role,
    TimelineEvent,
    TimelineKind,
    WelcomeEmail,
)
from kamportal.services import calendar, clients, onboarding
from kamportal.services.launch_checklists import (
    CHECKLISTS,
    LAUNCH_GATE,
    LMS,
    PRE_LAUNCH,
    TEST_PAYMENTS_DISABLED,
    UAT,
    definition_of,
)
from tests.conftest import registered_client

CAIRO = ZoneInfo("Africa/Cairo")
NEW_YORK = ZoneInfo("America/New_York")
# Monday 23 Nov 2026, 11:00 in Cairo: a working day of a Sun-Thu team.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BOOKING_LINK = "https://meetings.example.com/mona-adel"


def cairo(*args) -> datetime:
    return datetime(*args, tzinfo=CAIRO).astimezone(UTC)


def new_york(*args) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK).astimezone(UTC)


@pytest.fixture
def world(make_portfolio, make_team, make_user, frozen_clock):
    """A Sun-Thu team in Cairo (9:00-17:00, Egypt's holidays) with its leader and ACM, and
    an Enterprise client in onboarding with one contact."""
    frozen_clock(NOW)
    portfolio = make_portfolio(
        team={"name": "Cairo", "shared_mailbox": "cairo-kam@kam.example"},
        leader={"name": "Layla Nour", "email": "leader@kam.example"},
        acm={
            "name": "Mona Adel",
            "email": "mona@kam.example",
            "phone": "+201001112233",
            "booking_link": BOOKING_LINK,
        },
        client={
            "store_name": "Nile Crafts",
            "store_code": "NILE01",
            "status": LifecycleStatus.ONBOARDING.value,
            "subscribed_at": NOW,
        },
        contact={"name": "Karim Said", "email": "karim@nile.example", "is_primary": True},
    )
    other_acm = make_user(Role.ACM, team=make_team(name="Dubai"), email="omar@kam.example")
    return portfolio.as_dict(other_acm=other_acm)


def kinds(db, client: Client) -> list[str]:
    return list(
        db.session.scalars(
            select(TimelineEvent.kind)
            .where(TimelineEvent.client_id == client.id)
            .order_by(TimelineEvent.id)
        )
    )


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def profile_of(client: Client, **changes) -> clients.ClientProfile:
    values = {
        "store_name": client.store_name,
        "store_code": client.store_code,
        "plan": client.plan,
        "country": client.country,
        "timezone": client.timezone,
        "currency": client.currency,
        "language": client.language,
        "status": client.status,
        "subscribed_at": client.subscribed_at,
        "renewal_date": client.renewal_date,
        "recurring_amount": client.recurring_amount,
    }
    values.update(changes)
    return clients.ClientProfile(**values)


def register(db, world, **fields) -> Client:
    """A client registered through the service by the leader, for Mona."""
    return registered_client(actor=world["leader"], acm=world["acm"], **fields)


# --- O2: 48 business hours on the team's calendar ---------------------------------------------

# Egypt: Armed Forces Day (observed) is Thursday 8 October 2026; Friday and Saturday are the
# Sun-Thu team's weekend. 48 business hours are six working days of 9:00-17:00.
SUN_THU_CASES = [
    pytest.param(
        cairo(2026, 10, 6, 13, 0),
        # Tue 4 h, Wed 8, (Thu holiday, Fri-Sat weekend), Sun-Wed 32, Thu 4 → Thu 13:00.
        cairo(2026, 10, 15, 13, 0),
        id="inside-working-hours",
    ),
    pytest.param(
        cairo(2026, 10, 6, 7, 30),
        # Counted from Tuesday's opening: Tue, Wed, Sun-Wed = 48 h, ending at closing.
        cairo(2026, 10, 14, 17, 0),
        id="before-opening",
    ),
    pytest.param(
        cairo(2026, 10, 6, 18, 30),
        # Counted from Wednesday's opening: Wed, Sun-Thu = 48 h.
        cairo(2026, 10, 15, 17, 0),
        id="after-closing",
    ),
    pytest.param(
        cairo(2026, 10, 8, 10, 0),
        # On the public holiday: counted from Sunday's opening, six days to Sunday 18th.
        cairo(2026, 10, 18, 17, 0),
        id="on-the-public-holiday",
    ),
    pytest.param(
        cairo(2026, 10, 10, 20, 0),
        # On the weekend (Saturday evening): the same, from Sunday's opening.
        cairo(2026, 10, 18, 17, 0),
        id="on-the-weekend",
    ),
]


@pytest.mark.parametrize(("subscribed_at", "due_at"), SUN_THU_CASES)
def test_welcome_due_48_business_hours_later_on_a_sun_thu_team_in_egypt_O2(
    world, db, subscribed_at, due_at
):
    """O2: the due instant skips the Fri-Sat weekend and Egypt's public holiday."""
    client = world["client"]
    welcome = onboarding.owe_welcome(client, subscribed_at=subscribed_at)
    db.session.commit()
    db.session.expire_all()
    assert welcome.subscribed_at == subscribed_at
    assert welcome.due_at == due_at


# United States: Thanksgiving is Thursday 26 November 2026; a Mon-Fri team in New York.
MON_FRI_CASES = [
    pytest.param(
        new_york(2026, 11, 25, 10, 0),
        # Wed 7 h, (Thu holiday) Fri 8, (weekend) Mon-Thu 32, Fri 1 → Fri 4 Dec 10:00.
        new_york(2026, 12, 4, 10, 0),
        id="inside-working-hours",
    ),
    pytest.param(
        new_york(2026, 11, 25, 6, 0),
        # From Wednesday's opening: Wed, Fri, Mon-Thu = 48 h, ending at closing.
        new_york(2026, 12, 3, 17, 0),
        id="before-opening",
    ),
    pytest.param(
        new_york(2026, 11, 25, 17, 0),
        # At closing: nothing left that day; Fri, Mon-Fri.
        new_york(2026, 12, 4, 17, 0),
        id="at-closing",
    ),
    pytest.param(
        new_york(2026, 11, 21, 12, 0),
        # Saturday: from Monday's opening: Mon-Wed 24, (Thu holiday) Fri 8, Mon-Tue 16.
        new_york(2026, 12, 1, 17, 0),
        id="on-the-weekend",
    ),
]


@pytest.mark.parametrize(("subscribed_at", "due_at"), MON_FRI_CASES)
def test_welcome_due_48_business_hours_later_on_a_mon_fri_team_in_new_york_O2(
    world, db, make_portfolio, subscribed_at, due_at
):
    """O2: the team's calendar, not the client's: Sat-Sun off and Thanksgiving."""
    new_york = make_portfolio(
        team={
            "name": "New York",
            "country": "US",
            "timezone": "America/New_York",
            "working_days": "1,2,3,4,5",
        },
        leader=False,
        acm={"booking_link": BOOKING_LINK},
        # The client sits in Cairo; the due time follows its ACM's team.
        client={"status": LifecycleStatus.ONBOARDING.value},
    )
    welcome = onboarding.owe_welcome(new_york.client, subscribed_at=subscribed_at)
    db.session.commit()
    db.session.expire_all()
    assert welcome.due_at == due_at


def test_an_admin_holiday_moves_the_welcome_due_time_O2(world, db):
    """O2: a day an admin adds to Egypt's calendar is not a business day either."""
    calendar.set_calendar_day(
        "EG", date(2026, 10, 13), is_holiday=True, name="Office closed", actor=None
    )
    db.session.commit()
    welcome = onboarding.owe_welcome(world["client"], subscribed_at=cairo(2026, 10, 6, 13, 0))
    db.session.commit()
    assert welcome.due_at == cairo(2026, 10, 18, 13, 0)  # a day later than without it


def test_the_welcome_is_owed_once_per_client_and_only_on_the_enterprise_plan_O2(
    world, db, make_client
):
    client = world["client"]
    first = onboarding.owe_welcome(client, subscribed_at=NOW)
    again = onboarding.owe_welcome(client, subscribed_at=NOW + timedelta(days=3))
    assert again.id == first.id and again.subscribed_at == NOW
    business = make_client(acm=world["acm"], plan=Plan.BUSINESS.value, status="onboarding")
    assert onboarding.owe_welcome(business, subscribed_at=NOW) is None
    db.session.commit()
    assert count(db, WelcomeEmail) == 1


def test_welcome_standing_before_at_and_after_the_due_instant_O2(world, db, frozen_clock):
    """O2 at the boundary on the controlled clock: hours left, then overdue from the due
    instant itself, and past hours counted in business hours only."""
    client = world["client"]
    welcome = onboarding.owe_welcome(client, subscribed_at=cairo(2026, 10, 6, 13, 0))
    db.session.commit()
    due = cairo(2026, 10, 15, 13, 0)
    assert welcome.due_at == due
    cal = calendar.calendar_for_client(client)

    def standing() -> onboarding.WelcomeStanding:
        return onboarding.welcome_standing(welcome, cal, now=clock.now())

    frozen_clock(cairo(2026, 10, 6, 13, 0))
    assert standing().hours_left == 48 and standing().hours_text == "48 business hours left"
    frozen_clock(cairo(2026, 10, 9, 12, 0))  # the weekend after the holiday
    assert standing().hours_left == 36  # Sun-Wed 32 and Thu 4 to go
    frozen_clock(due - timedelta(minutes=30))
    assert standing().hours_left == 0.5 and not standing().overdue
    assert standing().hours_text == "under 1 business hour left"
    frozen_clock(due - timedelta(seconds=1))
    assert not standing().overdue and standing().hours_left > 0
    frozen_clock(due)
    assert standing().overdue and standing().hours_left == 0
    frozen_clock(due + timedelta(hours=1))
    assert standing().overdue and standing().hours_left == -1
    assert standing().hours_text == "1 business hour past"
    frozen_clock(cairo(2026, 10, 18, 10, 0))  # Sunday: Thu 4 h past, the weekend none, Sun 1
    assert standing().hours_left == -5
    assert standing().hours_text == "5 business hours past"


# --- O2: which clients are owed one ----------------------------------------------------------


def test_registering_an_enterprise_client_opens_its_welcome_from_the_subscription_O2(world, db):
    """O2: counted from the subscription the form gives (Tuesday 13:00 in Cairo)."""
    subscribed = cairo(2026, 10, 6, 13, 0)
    client = register(db, world, subscribed_at=subscribed)
    welcome = onboarding.welcome_of(client)
    assert welcome is not None and welcome.sent_at is None
    assert welcome.subscribed_at == subscribed
    assert welcome.due_at == cairo(2026, 10, 15, 13, 0)


def test_registering_an_enterprise_client_without_a_subscription_date_counts_from_now_O2(world, db):
    """O2: Monday 11:00 in Cairo + 48 business hours: Mon 6, Tue-Thu 24, Sun-Mon 16,
    Tuesday 2 → Tuesday 1 December 11:00."""
    client = register(db, world)
    welcome = onboarding.welcome_of(client)
    assert welcome.subscribed_at == NOW
    assert welcome.due_at == cairo(2026, 12, 1, 11, 0)


def test_no_welcome_for_another_plan_or_a_store_registered_live_O2(world, db):
    business = register(db, world, store_code="BIZ01", plan=Plan.BUSINESS.value)
    live = register(db, world, store_code="LIVE01", status=LifecycleStatus.LIVE.value)
    assert onboarding.welcome_of(business) is None
    assert onboarding.welcome_of(live) is None
    assert count(db, WelcomeEmail) == 0
    # A store already live launched before the portal: no launch checklist either.
    assert onboarding.checklists_of(live)[0].total == 0


def test_upgrading_to_enterprise_opens_the_welcome_from_the_upgrade_O2(world, db, frozen_clock):
    """O2: the subscription to the Enterprise plan is the upgrade, whatever the client's
    first subscription date."""
    client = register(
        db, world, plan=Plan.PROFESSIONAL.value, subscribed_at=cairo(2026, 1, 4, 10, 0)
    )
    assert onboarding.welcome_of(client) is None
    upgraded_at = frozen_clock(cairo(2026, 11, 26, 16, 0))  # Thursday, an hour to closing
    clients.update_client(
        client, profile_of(client, plan=Plan.ENTERPRISE.value), actor=world["acm"]
    )
    db.session.commit()
    welcome = onboarding.welcome_of(client)
    assert welcome.subscribed_at == upgraded_at
    # Thu 1 h, Sun-Wed 32, Thu 8, Sun 7 → Sunday 6 December 16:00.
    assert welcome.due_at == cairo(2026, 12, 6, 16, 0)
    # Editing the profile again owes nothing new.
    clients.update_client(client, profile_of(client, industry="Crafts"), actor=world["acm"])
    assert count(db, WelcomeEmail) == 1


# --- O2: the email at a real SMTP server ------------------------------------------------------


def send_reviewed_welcome(world, db) -> OutboxMessage:
    client = world["client"]
    draft = onboarding.draft_welcome(client)
    message = onboarding.send_welcome(client, actor=world["acm"], body=draft.body)
    db.session.commit()
    return message


def test_the_welcome_email_reaches_the_client_with_every_item_of_o2(
    app, world, db, smtp_server, run_jobs
):
    """O2 at a real SMTP server: the subject, the contact in To, ACM and leader in CC (G1),
    and every item of the rule in the body."""
    client = world["client"]
    onboarding.client_registered(client)
    db.session.commit()
    send_reviewed_welcome(world, db)
    run_jobs()
    [email] = smtp_server.messages
    assert email["Subject"] == "Welcome to ExpandCart – NILE01"
    assert email["To"] == "karim@nile.example"
    cc = {address.strip() for address in email["Cc"].split(",")}
    assert {"mona@kam.example", "leader@kam.example", "cairo-kam@kam.example"} <= cc  # G1
    body = email.get_content()
    assert "Hello Karim," in body
    assert "Mona Adel" in body  # the ACM's name
    assert "mona@kam.example" in body and "+201001112233" in body  # contact information
    assert "OFFICIAL CHANNELS" in body and "WhatsApp is not an official channel" in body
    assert "WHAT I DO FOR YOU" in body and "Weekly follow-up" in body  # role & duties
    assert "Sun–Thu, 09:00–17:00 (Africa/Cairo)" in body  # working hours
    assert app.config["SUPPORT_EMAIL"] in body  # out of hours
    for number, step in enumerate(LMS.items, start=1):  # the roadmap to LMS completion
        assert f"{number}. {step.text}" in body
    assert BOOKING_LINK in body
    welcome = onboarding.welcome_of(client)
    assert welcome.sent_at == NOW and welcome.sent_by_id == world["acm"].id
    assert TimelineKind.WELCOME_EMAIL_SENT.value in kinds(db, client)
    assert client.last_contact_at == NOW  # F1: the email is contact


def test_the_welcome_email_goes_out_once_O2(world, db, smtp_server, run_jobs):
    send_reviewed_welcome(world, db)
    with pytest.raises(RuleViolation) as refused:
        send_reviewed_welcome(world, db)
    assert refused.value.rule == "O2" and "sent once" in refused.value.message
    run_jobs()
    run_jobs()
    assert len(smtp_server.messages) == 1
    assert count(db, OutboxMessage) == 1


def test_the_working_hours_follow_the_teams_week_O2(world, db):
    """O2: a Saturday-Thursday week reads as such, and a Mon-Fri team's as Mon-Fri."""
    team = world["team"]
    team.working_days = "6,7,1,2,3,4"
    db.session.commit()
    assert "Sat–Thu, 09:00–17:00" in onboarding.draft_welcome(world["client"]).body
    team.working_days = "1,2,3,4,5"
    db.session.commit()
    assert "Mon–Fri, 09:00–17:00" in onboarding.draft_welcome(world["client"]).body


def assert_nothing_sent(db, world) -> None:
    welcome = onboarding.welcome_of(world["client"])
    assert welcome is None or welcome.sent_at is None
    assert count(db, OutboxMessage) == 0
    assert TimelineKind.WELCOME_EMAIL_SENT.value not in kinds(db, world["client"])


def test_no_welcome_without_the_acms_booking_link_O2(world, db):
    draft = onboarding.draft_welcome(world["client"])
    world["acm"].booking_link = None
    with pytest.raises(RuleViolation) as refused:
        onboarding.send_welcome(world["client"], actor=world["acm"], body=draft.body)
    assert refused.value.rule == "O2" and "booking link" in refused.value.message
    assert_nothing_sent(db, world)


def test_no_welcome_without_a_contact_email_O2(world, db):
    draft = onboarding.draft_welcome(world["client"])
    world["contact"].email = None
    with pytest.raises(ValidationError) as refused:
        onboarding.send_welcome(world["client"], actor=world["acm"], body=draft.body)
    assert "contact" in refused.value.message
    assert_nothing_sent(db, world)


def test_the_booking_link_cannot_be_removed_from_the_welcome_O2(world, db):
    body = onboarding.draft_welcome(world["client"]).body.replace(BOOKING_LINK, "")
    with pytest.raises(ValidationError) as refused:
        onboarding.send_welcome(world["client"], actor=world["acm"], body=body)
    assert refused.value.field == "body" and BOOKING_LINK in refused.value.message
    assert_nothing_sent(db, world)


def without_section(body: str, heading: str, *, keep_heading: bool = False) -> str:
    """`body` with the section under `heading` deleted up to the next blank line (the
    heading too, unless `keep_heading`)."""
    lines = body.splitlines()
    start = lines.index(heading)
    end = lines.index("", start)
    kept = [heading] if keep_heading else []
    return "\n".join(lines[:start] + kept + lines[end:])


@pytest.mark.parametrize(
    ("heading", "named"),
    [
        ("OFFICIAL CHANNELS", "the official channels"),
        ("WHAT I DO FOR YOU", "your role and responsibilities"),
        ("WORKING HOURS", "your working hours"),
        ("YOUR ROADMAP TO LAUNCH (LMS SERVICE)", "the roadmap to launch"),
    ],
)
@pytest.mark.parametrize("keep_heading", [False, True], ids=["section-deleted", "text-deleted"])
def test_no_welcome_without_each_section_o2_requires_O2(world, db, heading, named, keep_heading):
    """O2: the official channels, the ACM's role and responsibilities, the working hours
    and the roadmap to launch: deleting one (with its heading, or its text under it)
    refuses the email with a field error naming it; nothing is sent."""
    draft = onboarding.draft_welcome(world["client"]).body
    body = without_section(draft, heading, keep_heading=keep_heading)
    assert body != draft
    with pytest.raises(ValidationError) as refused:
        onboarding.send_welcome(world["client"], actor=world["acm"], body=body)
    assert refused.value.field == "body"
    assert refused.value.message.startswith("Keep ")
    assert f"{named} (under “{heading}”" in refused.value.message
    for other in ("official channels", "role and responsibilities", "working hours", "roadmap"):
        if other not in named:
            assert other not in refused.value.message
    assert_nothing_sent(db, world)


def test_each_section_keeps_what_it_must_say_O2(world, db):
    """O2: the channels name email, the official one; the working hours keep the team's
    opening and closing times. A heading in another case or with a colon still counts,
    and edits elsewhere in a section are the ACM's to make."""
    draft = onboarding.draft_welcome(world["client"]).body
    channels = draft[draft.index("OFFICIAL CHANNELS\n") : draft.index("\n\nWHAT I DO FOR YOU")]
    no_email = draft.replace(channels, "OFFICIAL CHANNELS\n- Zoom meetings and phone calls.")
    with pytest.raises(ValidationError) as refused:
        onboarding.send_welcome(world["client"], actor=world["acm"], body=no_email)
    assert "the official channels (under “OFFICIAL CHANNELS”, saying email)" in (
        refused.value.message
    )
    no_hours = draft.replace("Sun–Thu, 09:00–17:00 (Africa/Cairo)", "most days")
    with pytest.raises(ValidationError) as refused:
        onboarding.send_welcome(world["client"], actor=world["acm"], body=no_hours)
    assert "your working hours (under “WORKING HOURS”, saying 09:00 and 17:00)" in (
        refused.value.message
    )
    assert_nothing_sent(db, world)
    edited = (
        draft.replace("WORKING HOURS\n", "Working hours:\n")
        .replace("- Marketing: take part in your marketing plan, activities and ideas.\n", "")
        .replace("Sun–Thu, 09:00–17:00", "Sunday to Thursday, 09:00 to 17:00")
    )
    onboarding.send_welcome(world["client"], actor=world["acm"], body=edited)
    assert "Sunday to Thursday" in db.session.scalars(select(OutboxMessage.body)).one()


def test_only_someone_on_the_client_sends_its_welcome_O2(world, db):
    body = onboarding.draft_welcome(world["client"]).body
    with pytest.raises(NotAllowed):
        onboarding.send_welcome(world["client"], actor=world["other_acm"], body=body)
    assert_nothing_sent(db, world)


# --- L1, L3, L4: the checklists --------------------------------------------------------------


def test_a_new_client_gets_every_checklist_item_once_L1(world, db):
    client = world["client"]
    onboarding.client_registered(client)
    onboarding.client_registered(client)
    assert onboarding.instantiate_checklists(client) == 0
    db.session.commit()
    expected = sum(len(d.items) for d in CHECKLISTS.values())
    assert count(db, ChecklistItem) == expected
    views = onboarding.checklists_of(client)
    assert [v.definition.key for v in views] == list(CHECKLISTS)
    for view in views:
        assert [i.item_key for i in view.items] == [i.key for i in view.definition.items]
        assert view.done == 0 and not view.complete
    assert [v.definition.key for v in onboarding.checklists_of(client, only=UAT.key)] == ["uat"]


def test_ticking_an_item_records_who_when_a_note_and_evidence_L1(world, db, frozen_clock):
    client, acm = world["client"], world["acm"]
    onboarding.client_registered(client)
    ticked_at = frozen_clock(NOW + timedelta(hours=2))
    item = onboarding.update_item(
        client,
        "foundation",
        "facebook-pixel",
        actor=acm,
        done=True,
        note="  Pixel installed with the client on the call  ",
        evidence=["https://mail.example.com/thread/1", "", "http://drive.example.com/shot.png"],
    )
    db.session.commit()
    assert item.done and item.done_at == ticked_at and item.done_by_id == acm.id
    assert item.note == "Pixel installed with the client on the call"
    assert item.evidence == [
        "https://mail.example.com/thread/1",
        "http://drive.example.com/shot.png",
    ]
    assert item.updated_at == ticked_at and item.updated_by_id == acm.id
    [event] = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.CHECKLIST_ITEM.value)
    )
    assert "Setup Facebook Pixel tracking" in event.summary and "ticked" in event.summary

    # The same again changes nothing and records nothing.
    onboarding.update_item(client, "foundation", "facebook-pixel", actor=acm, done=True)
    assert kinds(db, client).count(TimelineKind.CHECKLIST_ITEM.value) == 1

    frozen_clock(NOW + timedelta(hours=3))
    onboarding.update_item(client, "foundation", "facebook-pixel", actor=acm, done=False)
    db.session.commit()
    assert not item.done and item.done_by_id is None
    assert item.note and item.evidence  # unticking keeps the note and the evidence


@pytest.mark.parametrize(
    "evidence",
    [
        ["javascript:alert(1)"],
        ["ftp://files.example.com/logo.png"],
        ["mail.example.com/thread/1"],
        [f"https://drive.example.com/{n}" for n in range(11)],
    ],
    ids=["script", "ftp", "no-scheme", "eleven-links"],
)
def test_evidence_is_web_links_at_most_ten_L1(world, db, evidence):
    client, acm = world["client"], world["acm"]
    onboarding.client_registered(client)
    kept = [f"https://drive.example.com/{n}" for n in range(10)]
    onboarding.update_item(client, "lms", "template", actor=acm, evidence=kept)
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        onboarding.update_item(client, "lms", "template", actor=acm, done=True, evidence=evidence)
    assert refused.value.field == "evidence"
    db.session.rollback()
    item = onboarding.checklist_item(client, "lms", "template")
    assert item.evidence == kept and not item.done


def test_an_unknown_item_or_someone_else_is_refused_L1(world, db):
    client = world["client"]
    with pytest.raises(ValidationError):
        onboarding.update_item(client, "lms", "no-such-step", actor=world["acm"], done=True)
    with pytest.raises(ValidationError):
        onboarding.update_item(client, "no-such-list", "template", actor=world["acm"], done=True)
    with pytest.raises(NotAllowed):
        onboarding.update_item(client, "lms", "template", actor=world["other_acm"], done=True)
    with pytest.raises(ValidationError) as refused:
        onboarding.update_item(client, "lms", "template", actor=world["acm"], note="x" * 2001)
    assert refused.value.field == "note"


def test_the_first_lms_step_ticked_starts_the_launch_L1(world, db, frozen_clock):
    client, acm = world["client"], world["acm"]
    onboarding.client_registered(client)
    # Marketing accounts do not start the LMS service.
    onboarding.update_item(client, "foundation", "linkedin", actor=acm, done=True)
    assert client.status == LifecycleStatus.ONBOARDING.value
    started = frozen_clock(NOW + timedelta(days=1))
    onboarding.update_item(client, "lms", "domain-ssl", actor=acm, done=True)
    db.session.commit()
    assert client.status == LifecycleStatus.LAUNCHING.value
    assert client.lms_started_at == started
    frozen_clock(NOW + timedelta(days=2))
    onboarding.update_item(client, "lms", "template", actor=acm, done=True)
    db.session.commit()
    assert client.lms_started_at == started
    assert kinds(db, client).count(TimelineKind.LMS_STARTED.value) == 1
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "client.lms_start")
    ).one()
    assert audit.before == {"status": "onboarding"} and audit.after == {"status": "launching"}


def test_progress_counts_each_checklists_items_done_L1(world, db):
    client, acm = world["client"], world["acm"]
    onboarding.client_registered(client)
    for key in ("domain-ssl", "template", "branding"):
        onboarding.update_item(client, "lms", key, actor=acm, done=True)
    onboarding.update_item(client, "pre_launch", "test-order", actor=acm, done=True)
    onboarding.update_item(client, "lms", "branding", actor=acm, done=False)
    db.session.commit()
    progress = {p.definition.key: (p.done, p.total) for p in onboarding.progress_of(client)}
    assert progress == {
        "lms": (2, len(LMS.items)),
        "foundation": (0, len(CHECKLISTS["foundation"].items)),
        "google_shopping": (0, len(CHECKLISTS["google_shopping"].items)),
        "pre_launch": (1, len(CHECKLISTS["pre_launch"].items)),
        "uat": (0, len(UAT.items)),
    }
    lms = onboarding.progress_of(client)[0]
    assert lms.percent == round(100 * 2 / len(LMS.items))


# --- L5: the launch gate (L1, L4, L5) ---------------------------------------------------------


def launching(world, db) -> Client:
    client = world["client"]
    onboarding.client_registered(client)
    onboarding.update_item(client, "lms", "domain-ssl", actor=world["acm"], done=True)
    db.session.commit()
    assert client.status == LifecycleStatus.LAUNCHING.value
    return client


def tick_for_launch(world, db, *, leave_open: tuple[tuple[str, str], ...] = ()) -> None:
    """Tick every item the launch waits for (L1, L4, L5) but `leave_open` (checklist, key)."""
    for definition in LAUNCH_GATE:
        for item in definition.items:
            if (definition.key, item.key) not in leave_open:
                onboarding.update_item(
                    world["client"], definition.key, item.key, actor=world["acm"], done=True
                )
    db.session.commit()


def assert_not_launched(db, client: Client) -> None:
    assert client.status == LifecycleStatus.LAUNCHING.value and client.launched_at is None
    assert TimelineKind.STORE_LAUNCHED.value not in kinds(db, client)


def test_no_launch_while_the_uat_is_open_L5(world, db):
    client = launching(world, db)
    tick_for_launch(world, db, leave_open=(("uat", "navigation"), ("uat", "checkout")))
    with pytest.raises(RuleViolation) as refused:
        onboarding.launch(client, actor=world["acm"])
    assert refused.value.rule == "L5"
    assert "2 item(s) open" in refused.value.message and "Navigation works" in refused.value.message
    assert_not_launched(db, client)


def test_test_payments_still_enabled_alone_blocks_the_launch_L5(world, db):
    """L5: test payments disabled just before launch is part of the UAT."""
    client = launching(world, db)
    tick_for_launch(world, db, leave_open=(("uat", TEST_PAYMENTS_DISABLED),))
    [still_open] = onboarding.launch_open(client)
    assert still_open.definition is UAT
    assert still_open.items == ("Test payments disabled, just before launch",)
    with pytest.raises(RuleViolation) as refused:
        onboarding.launch(client, actor=world["acm"])
    assert refused.value.rule == "L5" and "Test payments disabled" in refused.value.message
    with pytest.raises(RuleViolation):  # the leader too, without an override
        onboarding.launch(client, actor=world["leader"])
    assert_not_launched(db, client)


def test_a_complete_uat_launches_the_store_L5(world, db, frozen_clock):
    client = launching(world, db)
    tick_for_launch(world, db)
    launched = frozen_clock(NOW + timedelta(days=10))
    onboarding.launch(client, actor=world["acm"])
    db.session.commit()
    assert client.status == LifecycleStatus.LIVE.value and client.launched_at == launched
    event = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.STORE_LAUNCHED.value)
    ).one()
    assert event.actor_id == world["acm"].id and "UAT checklist complete" in event.summary
    assert event.detail["open"] == {}
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "client.launch")).one()
    assert audit.actor_id == world["acm"].id
    assert audit.before["status"] == "launching" and audit.after["status"] == "live"
    # Live now: launching again is refused.
    with pytest.raises(RuleViolation) as refused:
        onboarding.launch(client, actor=world["acm"])
    assert refused.value.rule == "L5"


def test_the_leader_overrides_an_incomplete_uat_with_a_reason_L5(world, db):
    client = launching(world, db)
    tick_for_launch(world, db, leave_open=(("uat", TEST_PAYMENTS_DISABLED), ("uat", "plugins")))
    reason = "The client's TV campaign starts tonight; payments gateway switched by hand"
    onboarding.launch(client, actor=world["leader"], override_reason=f"  {reason} ")
    db.session.commit()
    assert client.status == LifecycleStatus.LIVE.value and client.launched_at == NOW
    event = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.STORE_LAUNCHED.value)
    ).one()
    assert event.actor_id == world["leader"].id
    assert reason in event.summary and "override" in event.summary
    assert event.detail["override_reason"] == reason
    assert event.detail["open"] == {
        "uat": [
            "Test payments disabled, just before launch",
            "Installed plugins and apps work and do not slow the store",
        ]
    }
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "client.launch_override")
    ).one()
    assert audit.actor_id == world["leader"].id
    assert audit.after["status"] == "live"
    assert audit.after["override_reason"] == reason
    assert audit.after["open"] == event.detail["open"]


def test_only_the_leader_overrides_and_only_with_a_reason_L5(world, db):
    client = launching(world, db)
    tick_for_launch(world, db, leave_open=(("uat", TEST_PAYMENTS_DISABLED),))
    with pytest.raises(NotAllowed):
        onboarding.launch(client, actor=world["acm"], override_reason="The client insists")
    for blank in ("", "   "):
        with pytest.raises(ValidationError) as refused:
            onboarding.launch(client, actor=world["leader"], override_reason=blank)
        assert refused.value.field == "override_reason"
    assert_not_launched(db, client)
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("client.launch%"))
    ).all()


def test_the_profile_form_cannot_mark_a_launching_store_live_L5(world, db):
    client = launching(world, db)
    tick_for_launch(world, db, leave_open=(("uat", "policies"),))
    with pytest.raises(RuleViolation) as refused:
        clients.update_client(
            client, profile_of(client, status=LifecycleStatus.LIVE.value), actor=world["leader"]
        )
    assert refused.value.rule == "L5" and refused.value.field == "status"
    assert_not_launched(db, client)
    # Other changes to a launching store's profile go through.
    clients.update_client(client, profile_of(client, industry="Crafts"), actor=world["acm"])
    assert client.industry == "Crafts"


def test_a_store_with_nothing_ticked_names_each_open_checklist_and_its_first_item_L5(world, db):
    """L5: the refusal names each checklist the launch waits for (L1, L4, L5), counts its
    open items and names the first in the checklist's order."""
    client = launching(world, db)  # the first LMS step ticked
    with pytest.raises(RuleViolation) as refused:
        onboarding.launch(client, actor=world["acm"])
    message = refused.value.message
    assert f"LMS service: {len(LMS.items) - 1} item(s) open, first “{LMS.items[1].text}”" in (
        message
    )
    assert (
        f"Pre-launch checks: {len(PRE_LAUNCH.items)} item(s) open, "
        f"first “{PRE_LAUNCH.items[0].text}”" in message
    )
    assert (
        f"Final launch checklist (UAT): {len(UAT.items)} item(s) open, "
        f"first “{UAT.items[0].text}”" in message
    )
    assert "Google" not in message and "foundation" not in message  # L3 does not hold it


@pytest.mark.parametrize(
    ("checklist", "key"),
    [
        ("lms", "developer-accounts"),  # L1: the last LMS step
        ("pre_launch", "test-order"),  # L4: the test order through every method
        ("pre_launch", "mobile-checkout"),  # L4: any other pre-launch check
        ("uat", "navigation"),  # L5
    ],
)
def test_one_open_item_of_the_lms_pre_launch_or_uat_alone_blocks_the_launch_L1_L4_L5(
    world, db, checklist, key
):
    client = launching(world, db)
    tick_for_launch(world, db, leave_open=((checklist, key),))
    text = definition_of(checklist, key).text
    with pytest.raises(RuleViolation) as refused:
        onboarding.launch(client, actor=world["acm"])
    assert refused.value.rule == "L5"
    assert f"{CHECKLISTS[checklist].title}: 1 item(s) open, first “{text}”" in (
        refused.value.message
    )
    assert_not_launched(db, client)
    # The leader's override, with a reason, still launches it; the open item is recorded.
    onboarding.launch(client, actor=world["leader"], override_reason="Agreed with the client")
    assert client.status == LifecycleStatus.LIVE.value
    event = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.STORE_LAUNCHED.value)
    ).one()
    assert event.detail["open"] == {checklist: [text]}


def test_the_marketing_foundation_and_google_shopping_do_not_hold_the_launch_L3_L5(world, db):
    client = launching(world, db)
    tick_for_launch(world, db)
    assert not onboarding.launch_open(client)
    onboarding.launch(client, actor=world["acm"])
    assert client.status == LifecycleStatus.LIVE.value


def test_l1_a_launch_started_from_the_profile_form_records_when(
    frozen_clock, db, make_team, make_user
):
    """L1: moving a client to launching by hand dates the launch like a first LMS tick."""
    frozen_clock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    acm = make_user(Role.ACM, team=make_team())
    profile = clients.ClientProfile(
        store_name="Hand Set",
        store_code="HAND01",
        plan=Plan.BUSINESS.value,
        country="EG",
        timezone="Africa/Cairo",
        currency="EGP",
    )
    client = clients.create_client(profile, actor=acm, acm=acm)
    profile.status = LifecycleStatus.LAUNCHING.value
    clients.update_client(client, profile, actor=acm)
    assert client.status == "launching"
    assert client.lms_started_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_the_profile_form_cannot_reach_live_through_at_risk_either_L5(world, db):
    """L5: a store onboarded in the portal goes live only by its launch, not by two saves
    (launching → at risk → live); once launched it may come back to live."""
    client = launching(world, db)
    clients.update_client(
        client, profile_of(client, status=LifecycleStatus.AT_RISK.value), actor=world["acm"]
    )
    with pytest.raises(RuleViolation) as refused:
        clients.update_client(
            client, profile_of(client, status=LifecycleStatus.LIVE.value), actor=world["acm"]
        )
    assert refused.value.rule == "L5" and client.launched_at is None
    db.session.rollback()
    tick_for_launch(world, db)
    clients.update_client(
        client, profile_of(client, status=LifecycleStatus.LAUNCHING.value), actor=world["acm"]
    )
    onboarding.launch(client, actor=world["acm"])
    clients.update_client(
        client, profile_of(client, status=LifecycleStatus.AT_RISK.value), actor=world["acm"]
    )
    clients.update_client(
        client, profile_of(client, status=LifecycleStatus.LIVE.value), actor=world["acm"]
    )
    assert client.status == LifecycleStatus.LIVE.value


def test_a_client_brought_back_into_onboarding_gets_its_checklists_L1(world, db, make_client):
    """L1: a store that came to the portal live and is set back to onboarding (a relaunch)
    gets every checklist item; a store registered live can still be set live again."""
    store = make_client(acm=world["acm"], store_code="BACK01")
    assert not onboarding.has_checklists(store)
    clients.update_client(
        store, profile_of(store, status=LifecycleStatus.ONBOARDING.value), actor=world["acm"]
    )
    assert onboarding.progress_of(store)[0].total == len(LMS.items)
    # `flask kam open-checklists`: the world's client, registered before it had any.
    every_item = sum(len(c.items) for c in CHECKLISTS.values())
    assert onboarding.open_missing_checklists() == (1, every_item)
    assert onboarding.open_missing_checklists() == (0, 0)


def test_the_launch_itself_dates_an_lms_never_started_L1_L5(world, db):
    client = world["client"]
    onboarding.client_registered(client)
    tick_for_launch(world, db)
    onboarding.launch(client, actor=world["acm"])
    assert client.lms_started_at == NOW == client.launched_at


def test_flask_kam_open_checklists_gives_clients_in_launch_their_items_L1(app, world, db):
    runner = app.test_cli_runner()
    every_item = sum(len(c.items) for c in CHECKLISTS.values())
    result = runner.invoke(args=["kam", "open-checklists"])
    assert result.exit_code == 0, result.output
    assert f"{every_item} checklist items added for 1 clients." in result.output
    assert onboarding.progress_of(world["client"])[0].total == len(LMS.items)
    assert "0 checklist items added" in runner.invoke(args=["kam", "open-checklists"]).output


def test_an_unsent_welcome_follows_a_corrected_subscription_and_a_new_team_O2(
    world, db, make_team, make_user
):
    """O2: correcting the subscription date counts the 48 business hours again; so does
    moving the client to an ACM of a team on another calendar. A sent one stays as sent."""
    client = register(db, world, subscribed_at=NOW)
    assert onboarding.welcome_of(client).due_at == cairo(2026, 12, 1, 11, 0)
    clients.update_client(
        client, profile_of(client, subscribed_at=cairo(2026, 10, 6, 13, 0)), actor=world["acm"]
    )
    assert onboarding.welcome_of(client).due_at == cairo(2026, 10, 15, 13, 0)
    # An admin gives the client to a Mon-Fri team in New York: Thanksgiving counts now.
    new_york_team = make_team(
        name="New York", country="US", timezone="America/New_York", working_days="1,2,3,4,5"
    )
    new_acm = make_user(Role.ACM, team=new_york_team, booking_link=BOOKING_LINK)
    admin = make_user(Role.ADMIN)
    clients.update_client(
        client, profile_of(client, subscribed_at=new_york(2026, 11, 25, 10, 0)), actor=admin
    )
    clients.reassign_client(client, actor=admin, new_acm=new_acm, reason="Moves to the US team")
    assert onboarding.welcome_of(client).due_at == new_york(2026, 12, 4, 10, 0)
