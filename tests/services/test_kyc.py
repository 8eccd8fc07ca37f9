"""The KYC questionnaire without HTTP (O1): the link emailed to the client (at a real SMTP
server, G1 CCs), the token that opens one questionnaire and nothing else, refused when
altered, replaced, revoked, expired or used; saving and coming back, submitting with every
required answer, choices only among those offered; the ACM filling it in during a call."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from kamportal.errors import NotAllowed, ValidationError
from kamportal.models import (
    AuditEvent,
    KycQuestionnaire,
    KycStatus,
    LifecycleStatus,
    OutboxMessage,
    Role,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import kyc
from kamportal.services.kyc import LinkRefused
from kamportal.services.kyc_questions import CHOICE, KYC_SECTIONS, QUESTIONS

# Monday 23 Nov 2026, 09:00 UTC (11:00 in Cairo).
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PUBLIC_URL = "https://kam.example.com"


@pytest.fixture
def world(app, make_portfolio, make_team, make_user, make_client, make_contact, frozen_clock):
    frozen_clock(NOW)
    app.config["PUBLIC_URL"] = PUBLIC_URL
    portfolio = make_portfolio(
        team={"name": "Cairo", "shared_mailbox": "cairo-kam@kam.example"},
        leader={"name": "Layla Nour", "email": "leader@kam.example"},
        acm={"name": "Mona Adel", "email": "mona@kam.example"},
        client={
            "store_name": "Nile Crafts",
            "store_code": "NILE01",
            "status": LifecycleStatus.ONBOARDING.value,
        },
        contact={"name": "Karim Said", "email": "karim@nile.example", "is_primary": True},
    )
    other_acm = make_user(Role.ACM, team=make_team(name="Dubai"), email="omar@kam.example")
    other = make_client(
        acm=portfolio.acm, store_name="Desert Rose", status=LifecycleStatus.ONBOARDING.value
    )
    make_contact(other, name="Hana Ali", email="hana@rose.example", is_primary=True)
    return portfolio.as_dict(other_acm=other_acm, other=other)


def full_answers() -> dict[str, str]:
    """An answer to every question: the first choice offered, or some text."""
    return {
        key: question.choices[0] if question.kind == CHOICE else f"About {key}"
        for key, question in QUESTIONS.items()
    }


def link_sent(world, db, client=None) -> tuple[KycQuestionnaire, str]:
    client = client or world["client"]
    kyc.send_link(client, actor=world["acm"])
    db.session.commit()
    questionnaire = kyc.questionnaire_of(client)
    return questionnaire, kyc.token_for(questionnaire)


def refusal(token: str) -> str:
    with pytest.raises(LinkRefused) as refused:
        kyc.open_link(token)
    return refused.value.reason


def kinds(db, client) -> list[str]:
    return list(
        db.session.scalars(
            select(TimelineEvent.kind)
            .where(TimelineEvent.client_id == client.id)
            .order_by(TimelineEvent.id)
        )
    )


# --- The link ---------------------------------------------------------------------------------


def test_the_link_reaches_the_client_by_email_and_opens_the_questionnaire_O1(
    world, db, smtp_server, run_jobs
):
    """O1 at a real SMTP server: the link in the body opens the client's questionnaire
    without a login (G1: ACM and leader in CC)."""
    client = world["client"]
    kyc.send_link(client, actor=world["acm"])
    db.session.commit()
    run_jobs()
    [email] = smtp_server.messages
    assert email["To"] == "karim@nile.example"
    assert {"mona@kam.example", "leader@kam.example"} <= {a.strip() for a in email["Cc"].split(",")}
    assert "NILE01" in email["Subject"]
    body = email.get_content()
    [link] = re.findall(r"https?://\S+", body)
    assert link.startswith(f"{PUBLIC_URL}/kyc/")
    token = link.rsplit("/", 1)[1]
    questionnaire = kyc.open_link(token)
    assert questionnaire.client_id == client.id
    assert questionnaire.status is KycStatus.SENT
    assert questionnaire.link_sent_to == "karim@nile.example"
    # 14 days on the portal's clock, shown in the client's zone (Cairo, UTC+2).
    assert questionnaire.link_expires_at == NOW + timedelta(days=14)
    assert "7 December 2026, 11:00" in body
    assert kinds(db, client) == [TimelineKind.KYC_LINK_SENT.value]


def test_no_link_without_a_contact_email_or_for_someone_elses_client_O1(world, db):
    client = world["client"]
    with pytest.raises(NotAllowed):
        kyc.send_link(client, actor=world["other_acm"])
    for contact in client.contacts:
        contact.email = None
    with pytest.raises(ValidationError):
        kyc.send_link(client, actor=world["acm"])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_an_altered_token_opens_nothing_O1(world, db):
    _, token = link_sent(world, db)
    first = "f" if token[0] != "f" else "g"
    assert refusal(first + token[1:]) == "altered"
    assert refusal(token[:-3]) == "altered"
    assert refusal("") == "altered"
    assert refusal("not-a-token") == "altered"
    assert kyc.open_link(token).client_id == world["client"].id


def test_a_forged_payload_naming_another_questionnaire_is_refused_O1(world, db):
    """O1: the id in the token is signed; swapping it for another client's is caught."""
    mine, token = link_sent(world, db)
    theirs, their_token = link_sent(world, db, world["other"])
    payload, signature = token.rsplit(".", 1)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims == {"q": mine.id, "n": mine.link_nonce}
    claims["q"] = theirs.id
    forged_payload = (
        base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
        .decode()
        .rstrip("=")
    )
    assert refusal(f"{forged_payload}.{signature}") == "altered"
    # The same payload signed with another key is no better.
    foreign = URLSafeSerializer("another-secret", salt=kyc.TOKEN_SALT)
    assert refusal(foreign.dumps({"q": theirs.id, "n": theirs.link_nonce})) == "altered"
    # Each genuine token opens its own client's questionnaire only.
    assert kyc.open_link(token).client_id == world["client"].id
    assert kyc.open_link(their_token).client_id == world["other"].id
    assert token != their_token


def test_a_new_link_replaces_the_old_one_O1(world, db):
    _, old = link_sent(world, db)
    _, new = link_sent(world, db)
    assert refusal(old) == "revoked"
    assert kyc.open_link(new).client_id == world["client"].id
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_a_revoked_link_stops_working_at_once_O1(world, db):
    _, token = link_sent(world, db)
    kyc.revoke_link(world["client"], actor=world["acm"])
    db.session.commit()
    assert refusal(token) == "revoked"
    assert kinds(db, world["client"])[-1] == TimelineKind.KYC_LINK_REVOKED.value
    with pytest.raises(ValidationError):  # nothing left to revoke
        kyc.revoke_link(world["client"], actor=world["acm"])
    with pytest.raises(NotAllowed):
        kyc.revoke_link(world["other"], actor=world["other_acm"])


@pytest.mark.parametrize(
    ("after", "works"),
    [
        (timedelta(days=13, hours=23, minutes=59, seconds=59), True),
        (timedelta(days=14), False),
        (timedelta(days=14, seconds=1), False),
        (timedelta(days=60), False),
    ],
)
def test_the_link_expires_after_kyc_link_days_O1(world, db, frozen_clock, after, works):
    """O1: the link expires KYC_LINK_DAYS (14) after it was sent, to the second."""
    _, token = link_sent(world, db)
    frozen_clock(NOW + after)
    if works:
        assert kyc.open_link(token).client_id == world["client"].id
    else:
        assert refusal(token) == "expired"


@pytest.mark.config(KYC_LINK_DAYS=3)
def test_the_links_lifetime_is_a_setting_O1(world, db, frozen_clock):
    _, token = link_sent(world, db)
    frozen_clock(NOW + timedelta(days=3) - timedelta(seconds=1))
    assert kyc.open_link(token)
    frozen_clock(NOW + timedelta(days=3))
    assert refusal(token) == "expired"


def test_a_fresh_link_after_expiry_works_again_O1(world, db, frozen_clock):
    _, old = link_sent(world, db)
    frozen_clock(NOW + timedelta(days=20))
    _, new = link_sent(world, db)
    assert refusal(old) == "revoked"
    assert kyc.open_link(new)


# --- The answers ------------------------------------------------------------------------------


def test_the_client_saves_and_comes_back_then_submits_O1(world, db, frozen_clock):
    questionnaire, token = link_sent(world, db)
    kyc.save_answers(
        kyc.open_link(token),
        {"location": " Cairo, Egypt ", "communication": "Email", "evil": "<script>"},
        actor=None,
    )
    db.session.commit()
    db.session.expire_all()
    again = kyc.open_link(token)  # the link still works after a save
    assert again.answers == {"location": "Cairo, Egypt", "communication": "Email"}
    assert again.status is KycStatus.STARTED and again.submitted_at is None
    assert again.updated_by_id is None

    submitted_at = frozen_clock(NOW + timedelta(days=2))
    kyc.save_answers(again, full_answers() | {"evil": "dropped"}, actor=None, submit=True)
    db.session.commit()
    db.session.expire_all()
    questionnaire = kyc.questionnaire_of(world["client"])
    assert questionnaire.answers == full_answers()
    assert questionnaire.submitted_at == submitted_at and questionnaire.submitted_by_id is None
    assert questionnaire.status is KycStatus.SUBMITTED
    assert refusal(token) == "submitted"
    [event] = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.KYC_SUBMITTED.value)
    )
    assert "by the client through the link" in event.summary and event.actor_id is None
    # Submitted: no more saving through the link, and no new link.
    with pytest.raises(ValidationError):
        kyc.save_answers(questionnaire, {"location": "Alexandria"}, actor=None)
    with pytest.raises(ValidationError):
        kyc.send_link(world["client"], actor=world["acm"])
    assert kyc.questionnaire_of(world["client"]).answers["location"] == "About location"


def test_submitting_needs_every_question_that_is_not_optional_O1(world, db):
    questionnaire, token = link_sent(world, db)
    required = [q.key for s in KYC_SECTIONS for q in s.questions if not q.optional]
    optional = [q.key for s in KYC_SECTIONS for q in s.questions if q.optional]
    assert "special_requirements" in optional
    # Without the optional question, it goes through (checked below); without a required
    # one, the refusal names that question's field.
    for missing in ("location", "communication", "main_products", required[-1]):
        answers = full_answers()
        answers[missing] = "   "
        with pytest.raises(ValidationError) as refused:
            kyc.save_answers(questionnaire, answers, actor=None, submit=True)
        assert refused.value.field == missing
    db.session.rollback()
    questionnaire = kyc.open_link(token)
    assert questionnaire.submitted_at is None and questionnaire.answers == {}

    answers = {k: v for k, v in full_answers().items() if k not in optional}
    kyc.save_answers(questionnaire, answers, actor=None, submit=True)
    db.session.commit()
    assert questionnaire.submitted_at is not None


def test_a_choice_outside_those_offered_is_refused_and_nothing_is_saved_O1(world, db):
    questionnaire, token = link_sent(world, db)
    kyc.save_answers(questionnaire, {"location": "Cairo", "trend": "Uptrend"}, actor=None)
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        kyc.save_answers(
            questionnaire,
            {"location": "Giza", "trend": "Sideways", "communication": "Email"},
            actor=None,
        )
    assert refused.value.field == "trend"
    with pytest.raises(ValidationError) as refused:
        kyc.save_answers(questionnaire, {"main_products": "x" * 2001}, actor=None)
    assert refused.value.field == "main_products"
    db.session.rollback()
    db.session.expire_all()
    assert kyc.open_link(token).answers == {"location": "Cairo", "trend": "Uptrend"}


def test_the_acm_fills_the_questionnaire_in_during_a_call_O1(world, db):
    """O1: no link needed; the answers are the client's, recorded by the ACM."""
    client, acm = world["client"], world["acm"]
    kyc.answers_for_acm(client, {"industry": "Handmade crafts"}, actor=acm)
    db.session.commit()
    questionnaire = kyc.questionnaire_of(client)
    assert questionnaire.answers == {"industry": "Handmade crafts"}
    assert questionnaire.updated_by_id == acm.id and questionnaire.link_nonce is None
    kyc.answers_for_acm(client, full_answers(), actor=acm, submit=True)
    db.session.commit()
    assert questionnaire.submitted_by_id == acm.id and questionnaire.status is KycStatus.SUBMITTED
    [event] = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.KYC_SUBMITTED.value)
    )
    assert event.actor_id == acm.id and "by Mona Adel during a call" in event.summary
    with pytest.raises(NotAllowed):
        kyc.answers_for_acm(client, {"industry": "Food"}, actor=world["other_acm"])
    # The ACM may still correct a submitted answer; it stays submitted, once.
    kyc.answers_for_acm(client, full_answers() | {"industry": "Food"}, actor=acm, submit=True)
    db.session.commit()
    assert questionnaire.answers["industry"] == "Food"
    assert kinds(db, client).count(TimelineKind.KYC_SUBMITTED.value) == 1


def test_an_acm_submission_closes_the_clients_link_O1(world, db):
    _, token = link_sent(world, db)
    kyc.answers_for_acm(world["client"], full_answers(), actor=world["acm"], submit=True)
    db.session.commit()
    assert refusal(token) == "submitted"
    # The other client's questionnaire is untouched.
    assert kyc.questionnaire_of(world["other"]) is None


def test_a_correction_after_submission_keeps_every_answer_and_is_recorded_O1(world, db):
    """O1, P6: submitted answers stay complete; each correction is on the timeline and in
    the audit log with what it changed."""
    client, acm = world["client"], world["acm"]
    kyc.answers_for_acm(client, full_answers(), actor=acm, submit=True)
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        kyc.answers_for_acm(client, full_answers() | {"industry": ""}, actor=acm)
    assert refused.value.field == "industry"
    db.session.rollback()
    kyc.answers_for_acm(client, full_answers() | {"industry": "Food"}, actor=acm)
    db.session.commit()
    [event] = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.KYC_CORRECTED.value)
    )
    assert "What industry is the store in?" in event.summary and event.actor_id == acm.id
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "kyc.correct")).one()
    assert audit.after == {"industry": "Food"} and audit.before["industry"] != "Food"


def test_the_link_is_on_public_url_else_on_the_address_the_acm_used_O1(app, world, db):
    """O1: the emailed link opens where clients reach the portal: PUBLIC_URL when set,
    else the address the ACM sent it from; with neither, nothing is sent."""
    app.config["PUBLIC_URL"] = None
    with pytest.raises(RuntimeError, match="Set PUBLIC_URL"):
        kyc.send_link(world["client"], actor=world["acm"])
    db.session.rollback()
    message = kyc.send_link(world["client"], actor=world["acm"], base_url="http://kam.intra/")
    assert "http://kam.intra/kyc/" in message.body
    app.config["PUBLIC_URL"] = "https://kam.example.com"
    message = kyc.send_link(world["client"], actor=world["acm"], base_url="http://kam.intra/")
    assert "https://kam.example.com/kyc/" in message.body


def test_the_kyc_standing_says_the_status_its_badge_and_whether_the_link_expired(world, db):
    """O1: the panel reads the status, its badge and the link's expiry from the service,
    the expiry at the instant it passes."""
    client, acm = world["client"], world["acm"]
    assert kyc.kyc_standing(None) == kyc.KycStanding(KycStatus.NOT_SENT, "owed", False, False)
    kyc.send_link(client, actor=acm)
    questionnaire = kyc.questionnaire_of(client)
    expires = questionnaire.link_expires_at
    sent = kyc.kyc_standing(questionnaire, now=expires - timedelta(seconds=1))
    assert (sent.status, sent.badge, sent.link_out, sent.link_expired) == (
        KycStatus.SENT,
        "scheduled",
        True,
        False,
    )
    assert kyc.kyc_standing(questionnaire, now=expires).link_expired
    kyc.revoke_link(client, actor=acm)
    revoked = kyc.kyc_standing(questionnaire, now=expires)
    assert not revoked.link_out and not revoked.link_expired
