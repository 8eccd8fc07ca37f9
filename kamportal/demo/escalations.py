"""Escalations and complaints (E1, E2, E3): each ACM's stories (DEMO_ESCALATIONS,
DEMO_COMPLAINTS), told on clients of theirs through services/escalations.py."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, or_, select

from kamportal.demo.common import (
    NO_ANSWER_NOTES,
    Replay,
    SeedReport,
    acm_clients,
    replaying_the_past,
    send_call_minutes,
    take_client,
)
from kamportal.demo.launches import launch_story_clients
from kamportal.demo.people import TEAMS, People
from kamportal.extensions import db
from kamportal.models import (
    CallOutcome,
    Client,
    Complaint,
    ComplaintKind,
    ComplaintStatus,
    ContactChannel,
    Escalation,
    EscalationTrigger,
    LadderStep,
    LifecycleStatus,
    Minutes,
    Renewal,
    TimelineEvent,
    User,
)
from kamportal.services import contact_log, escalations
from kamportal.services.calendar import calendar_for


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


def seed_escalations(seed: int, now: datetime, people: People, report: SeedReport) -> None:
    """E1-E3: each ACM's escalations and complaints (DEMO_ESCALATIONS, DEMO_COMPLAINTS)
    that are missing, each on a client of theirs that has neither yet. One the ACM already
    raised (the same words) is not told again; one without a fitting client is left out.

    Replayed through services/escalations.py with the portal clock at past instants in the
    team's business hours, so each keeps the proofs real use leaves (steps, timeline, audit,
    outbox); the steps still ahead are due after `now`, their jobs enqueued at the commit.
    Messages of the past look delivered, as the delivery job would have left them (their
    jobs then find them sent and send nothing).
    """
    launch_codes = [code for _, _, _, code in launch_story_clients(seed)]
    with replaying_the_past() as added:
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
    report.escalations += sum(isinstance(row, Escalation) for row in added)
    report.complaints += sum(isinstance(row, Complaint) for row in added)
    report.minutes += sum(isinstance(row, Minutes) for row in added)


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
    return acm_clients(acm, _STORY_STATUSES, without=told)


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
    client = take_client(candidates, before=start, whatsapp=story.needs_whatsapp)
    if client is None:
        return

    def text(value: str) -> str:
        return value.format(acm=acm.name.split()[0], new=new.name)

    replay = Replay(calendar, start)
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
    replay: Replay, story: EscalationStory, escalation: Escalation, after: float
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
    send_call_minutes(db.session.get(Client, call.client_id), call, acm, story.minutes)


def _tell_complaint(
    story: ComplaintStory, *, acm: User, candidates: list[Client], now: datetime
) -> None:
    told = exists().where(Complaint.raised_by_id == acm.id, Complaint.said == story.said)
    if acm.team is None or db.session.scalar(select(told)):
        return
    calendar = calendar_for(acm.team)
    start = calendar.subtract_business_hours(now, story.raised_ago)
    client = take_client(candidates, before=start)
    if client is None:
        return
    replay = Replay(calendar, start)
    replay.go(start)
    complaint = escalations.record_complaint(
        client,
        actor=acm,
        kind=story.kind,
        said=story.said,
        channel=story.channel,
        # A refund asks for the term's subscription back.
        refund_amount=client.recurring_amount if story.kind is ComplaintKind.REFUND else None,
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
