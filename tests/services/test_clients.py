"""The client registry's rules, without HTTP (P6 timeline and audit, G3, G6, F1, G1)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kamportal import clock
from kamportal.errors import NotAllowed, ValidationError
from kamportal.models import (
    AuditEvent,
    CallOutcome,
    Channel,
    Client,
    OpenWhatsAppRequest,
    OutboxMessage,
    Role,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import access, clients, contact_log, day


def profile(**fields) -> clients.ClientProfile:
    values = {
        "store_name": "Nile Threads",
        "store_code": "nile01",
        "plan": "enterprise",
        "country": "EG",
        "timezone": "Africa/Cairo",
        "currency": "EGP",
        "recurring_amount": Decimal("24000.00"),
    }
    values.update(fields)
    return clients.ClientProfile(**values)


def kinds(db, client) -> list[str]:
    return list(
        db.session.scalars(
            select(TimelineEvent.kind)
            .where(TimelineEvent.client_id == client.id)
            .order_by(TimelineEvent.id)
        )
    )


@pytest.fixture
def team_setup(make_portfolio, make_user):
    portfolio = make_portfolio(team={"name": "Cairo"}, client=False)
    return portfolio.team, portfolio.leader, portfolio.acm, make_user(Role.ACM, team=portfolio.team)


def test_create_client_records_timeline_and_audit_P6(db, team_setup):
    _, leader, acm, _ = team_setup
    client = clients.create_client(profile(), actor=leader, acm=acm)
    db.session.commit()
    assert client.store_code == "NILE01"
    assert kinds(db, client) == [TimelineKind.CLIENT_CREATED]
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "client.create"))
    assert audit.actor_id == leader.id
    assert audit.after["store_code"] == "NILE01"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"timezone": "Cairo/Egypt"}, "timezone"),
        ({"country": "XX"}, "country"),
        ({"currency": "EUX"}, "currency"),
        ({"recurring_amount": Decimal("10.123"), "currency": "USD"}, "recurring_amount"),
        ({"recurring_amount": Decimal("-1")}, "recurring_amount"),
    ],
)
def test_create_client_refuses_invalid_profile(db, team_setup, fields, field):
    _, leader, acm, _ = team_setup
    with pytest.raises(ValidationError) as error:
        clients.create_client(profile(**fields), actor=leader, acm=acm)
    assert error.value.field == field


def test_three_decimal_currency_keeps_its_third_decimal(db, team_setup):
    _, leader, acm, _ = team_setup
    client = clients.create_client(
        profile(currency="KWD", recurring_amount=Decimal("1500.125")), actor=leader, acm=acm
    )
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Client, client.id).recurring_amount == Decimal("1500.125")


def test_store_code_is_unique_whatever_its_case(db, team_setup):
    _, leader, acm, _ = team_setup
    clients.create_client(profile(), actor=leader, acm=acm)
    with pytest.raises(ValidationError, match="already used") as error:
        clients.create_client(profile(store_code="NILE01"), actor=leader, acm=acm)
    assert error.value.field == "store_code"


def test_an_acm_can_only_create_clients_for_themselves(db, team_setup):
    _, _, acm, other_acm = team_setup
    with pytest.raises(ValidationError, match="cannot give"):
        clients.create_client(profile(), actor=acm, acm=other_acm)
    assert clients.create_client(profile(), actor=acm, acm=acm).acm_id == acm.id


def test_update_client_records_only_what_changed(db, team_setup, make_client):
    _, leader, acm, _ = team_setup
    client = clients.create_client(profile(), actor=leader, acm=acm)
    db.session.commit()
    changed = clients.update_client(client, profile(industry="Fashion"), actor=acm)
    db.session.commit()
    assert set(changed) == {"industry"}
    event = db.session.scalar(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.CLIENT_UPDATED)
    )
    assert event.detail["changes"]["industry"] == {"from": None, "to": "Fashion"}
    assert clients.update_client(client, profile(industry="Fashion"), actor=acm) == {}


def test_leader_reassigns_within_the_team_recorded_on_timeline_and_audit(
    db, team_setup, make_client
):
    _, leader, acm, other_acm = team_setup
    client = make_client(acm=acm)
    clients.reassign_client(client, actor=leader, new_acm=other_acm, reason="Workload")
    db.session.commit()
    assert client.acm_id == other_acm.id
    event = db.session.scalar(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.CLIENT_REASSIGNED)
    )
    assert event.detail == {
        "from_acm_id": acm.id,
        "to_acm_id": other_acm.id,
        "reason": "Workload",
        "moved": {"meetings": 0, "minutes": 0},
    }
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "client.reassign"))
    assert audit.before == {"acm_id": acm.id}


def test_acm_cannot_reassign_and_leader_cannot_move_to_another_team(
    db, team_setup, make_client, make_team, make_user
):
    _, leader, acm, other_acm = team_setup
    client = make_client(acm=acm)
    with pytest.raises(NotAllowed):
        clients.reassign_client(client, actor=acm, new_acm=other_acm, reason="x")
    outsider = make_user(Role.ACM, team=make_team())
    with pytest.raises(ValidationError):
        clients.reassign_client(client, actor=leader, new_acm=outsider, reason="x")
    assert client.acm_id == acm.id


def test_contact_phone_is_stored_in_e164_read_in_the_clients_country(db, make_client, team_setup):
    _, _, acm, _ = team_setup
    client = make_client(acm=acm, country="EG")
    contact = clients.add_contact(
        client, clients.ContactDetails(name="Sara", phone="0100 123 4567"), actor=acm
    )
    assert contact.phone == "+201001234567"
    assert contact.is_primary  # the first contact is the point of contact


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"whatsapp": "+20 12"}, "whatsapp"),
        ({}, "email"),
    ],
)
def test_invalid_contact_details_are_refused(db, make_client, team_setup, details, field):
    _, _, acm, _ = team_setup
    client = make_client(acm=acm)
    with pytest.raises(ValidationError) as error:
        clients.add_contact(client, clients.ContactDetails(name="Sara", **details), actor=acm)
    assert error.value.field == field


def test_new_primary_contact_replaces_the_old_one_and_is_recorded_P5(
    db, make_client, make_contact, team_setup
):
    """Rule P5: a change of the client's point of contact is recorded on the timeline."""
    _, _, acm, _ = team_setup
    client = make_client(acm=acm)
    first = make_contact(client, name="Old Point", is_primary=True)
    new = clients.add_contact(
        client,
        clients.ContactDetails(name="New Point", email="new@client.example", is_primary=True),
        actor=acm,
    )
    db.session.commit()
    assert new.is_primary and not first.is_primary
    summaries = [e.summary for e in db.session.scalars(select(TimelineEvent))]
    assert any(
        s.startswith("Point of contact changed from Old Point to New Point; a hand-over")
        for s in summaries
    )


def test_answered_call_counts_as_contact_but_unanswered_does_not_G3_F1(
    db, make_client, make_contact, team_setup, frozen_clock
):
    _, _, acm, _ = team_setup
    client = make_client(acm=acm)
    contact = make_contact(client)
    contact_log.log_call(client, actor=acm, contact=contact, outcome=CallOutcome.NO_ANSWER)
    assert client.last_contact_at is None
    clock.advance(timedelta(hours=1))
    event = contact_log.log_call(
        client, actor=acm, contact=contact, outcome=CallOutcome.ANSWERED, notes="All good"
    )
    db.session.commit()
    assert client.last_contact_at == clock.now()
    assert event.detail["outcome"] == "answered"
    assert event.detail["phone"] == contact.phone
    assert "All good" in event.summary


def test_received_email_is_logged_but_is_not_our_contact_F1(db, make_client, team_setup):
    _, _, acm, _ = team_setup
    client = make_client(acm=acm)
    contact_log.log_email(client, actor=acm, contact=None, direction="received", subject="Question")
    assert client.last_contact_at is None
    contact_log.log_email(client, actor=acm, contact=None, direction="sent", subject="Answer")
    assert client.last_contact_at is not None
    assert kinds(db, client) == [TimelineKind.EMAIL_RECEIVED, TimelineKind.EMAIL_SENT]


def test_whatsapp_request_is_logged_and_answered_with_the_email_redirect_G6(
    db, make_client, make_contact, team_setup
):
    _, _, acm, _ = team_setup
    client = make_client(acm=acm)
    contact = make_contact(client, name="Omar Khaled", whatsapp="+201001112223")
    contact_log.log_whatsapp_request(client, actor=acm, contact=contact, message="Change my logo")
    preview = contact_log.whatsapp_redirect_preview(client, contact)
    assert "Omar" in preview and acm.email in preview
    message = contact_log.reply_to_whatsapp_with_email_redirect(
        client, actor=acm, contact=contact, key="wa-1"
    )
    again = contact_log.reply_to_whatsapp_with_email_redirect(
        client, actor=acm, contact=contact, key="wa-1"
    )
    db.session.commit()
    assert again.id == message.id
    assert message.channel == Channel.WHATSAPP
    assert message.template == "redirect_to_email"
    assert kinds(db, client) == [TimelineKind.WHATSAPP_RECEIVED, TimelineKind.WHATSAPP_SENT]


def waiting(client) -> list[str]:
    """The messages of `client`'s WhatsApp requests not answered yet (G6)."""
    return [pending.message for pending in contact_log.unanswered_whatsapp_requests(client)]


def test_a_whatsapp_request_waits_until_its_contact_gets_the_template_reply_G6(
    db, make_client, make_contact, team_setup, frozen_clock
):
    """G6: a request stays unanswered until the email redirect goes to the contact who
    wrote; a reply to another contact, or one sent before the request, does not answer
    it; a request logged without a contact is answered by a reply to any contact."""
    _, _, acm, _ = team_setup
    client = make_client(acm=acm)
    omar = make_contact(client, name="Omar Khaled", whatsapp="+201001112223")
    sara = make_contact(client, name="Sara Adel", whatsapp="+201004445556")
    contact_log.reply_to_whatsapp_with_email_redirect(client, actor=acm, contact=omar, key="early")
    clock.advance(timedelta(minutes=5))
    contact_log.log_whatsapp_request(client, actor=acm, contact=omar, message="Change my logo")
    contact_log.log_whatsapp_request(client, actor=acm, contact=None, message="Any news?")
    db.session.commit()
    assert waiting(client) == ["Change my logo", "Any news?"]
    [mine, anyone] = contact_log.unanswered_whatsapp_requests(client)
    assert mine.answer_to == (omar,) and "Omar" in mine.preview
    assert anyone.asked_by is None and set(anyone.answer_to) == {omar, sara}

    clock.advance(timedelta(minutes=5))
    contact_log.reply_to_whatsapp_with_email_redirect(client, actor=acm, contact=sara, key="s")
    db.session.commit()
    assert waiting(client) == ["Change my logo"]  # Sara's reply answers the anonymous one
    contact_log.reply_to_whatsapp_with_email_redirect(client, actor=acm, contact=omar, key="o")
    db.session.commit()
    assert waiting(client) == []
    # Omar writes again (within the same minute as the reply): this one waits again.
    contact_log.log_whatsapp_request(client, actor=acm, contact=omar, message="And the banner?")
    db.session.commit()
    assert waiting(client) == ["And the banner?"]


# One WhatsApp event as a test writes it: a request (from contact 0 or 1, or none) or a
# reply (to contact 0 or 1, the redirect template or another), minutes after the first.
WHATSAPP_EVENT = st.tuples(
    st.sampled_from(["request", "redirect", "other reply"]),
    st.sampled_from([0, 1, None]),
    st.integers(min_value=0, max_value=30),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(written=st.lists(WHATSAPP_EVENT, max_size=8))
def test_the_open_whatsapp_requests_agree_with_the_timeline_in_any_order_G6(
    db, make_client, make_contact, team_setup, written
):
    """The day reads the open requests off their own table: whatever order requests and
    replies are written in, at whatever times, it holds exactly the requests the timeline
    says are unanswered, and rebuilding it from the timeline changes nothing."""
    _, _, acm, _ = team_setup
    client = make_client(acm=acm)
    contacts = [make_contact(client, whatsapp=f"+2010000000{n}") for n in range(2)]
    start = clock.now()
    for kind, who, minutes in written:
        contact_id = None if who is None else contacts[who].id
        if kind == "request":
            detail = {"message": "hello", "contact_id": contact_id}
        else:
            template = "redirect_to_email" if kind == "redirect" else "check_your_email"
            detail = {"template": template, "contact_id": contact_id or contacts[0].id}
        db.session.add(
            TimelineEvent(
                client_id=client.id,
                kind=(
                    TimelineKind.WHATSAPP_RECEIVED
                    if kind == "request"
                    else TimelineKind.WHATSAPP_SENT
                ).value,
                at=start + timedelta(minutes=minutes),
                summary="WhatsApp",
                detail=detail,
            )
        )
        db.session.flush()

    def open_ids() -> set[int]:  # the table itself, as the writes kept it
        return set(
            db.session.scalars(
                select(OpenWhatsAppRequest.event_id).where(
                    OpenWhatsAppRequest.client_id == client.id
                )
            )
        )

    truth = set(
        db.session.scalars(
            select(TimelineEvent.id).where(
                TimelineEvent.client_id == client.id,
                contact_log._unanswered_on_the_timeline(),
            )
        )
    )
    assert open_ids() == truth
    contact_log.rebuild_open_whatsapp_requests()
    assert open_ids() == truth


def test_a_request_left_open_by_a_reply_written_at_once_is_not_shown_as_waiting_G6(
    db, make_client, make_contact, team_setup, frozen_clock
):
    """A request and its reply written at the same moment in two transactions each miss
    the other: the reply cannot close a request it does not see, and the request stays in
    the table of open ones. The ACM's day and the client page ask the timeline as well,
    and show it answered."""
    _, _, acm, _ = team_setup
    client = make_client(acm=acm)
    omar = make_contact(client, name="Omar Khaled", whatsapp="+201001112223")
    request = contact_log.log_whatsapp_request(
        client, actor=acm, contact=omar, message="Change my logo"
    )
    contact_log.reply_to_whatsapp_with_email_redirect(client, actor=acm, contact=omar, key="o")
    db.session.flush()
    assert waiting(client) == []
    db.session.add(OpenWhatsAppRequest(event_id=request.id, client_id=client.id))  # the race
    db.session.commit()

    assert waiting(client) == []
    assert day.whatsapp_requests(acm, now=clock.now()).items == []


def test_whatsapp_requests_not_answered_are_on_the_acms_and_the_leaders_day_G6(
    db, make_client, make_contact, team_setup, frozen_clock
):
    """G6: the ACM's day lists each request not answered yet with its age; the team
    leader's day lists the team's, naming the ACM; another ACM's day does not; answered,
    it leaves both."""
    _, leader, acm, other_acm = team_setup
    client = make_client(acm=acm, store_name="Nile Threads")
    omar = make_contact(client, name="Omar Khaled", whatsapp="+201001112223")
    contact_log.log_whatsapp_request(client, actor=acm, contact=omar, message="Change my logo")
    db.session.commit()
    asked = clock.now()
    clock.advance(timedelta(hours=5))

    def items(user):
        return day.whatsapp_requests(user, now=clock.now()).items

    [item] = items(acm)
    assert (item.rule, item.client.id, item.since, item.age) == ("G6", client.id, asked, "5 h")
    assert item.title == "WhatsApp request not answered" and "Change my logo" in item.note
    [led] = items(leader)
    assert led.client.id == client.id and f"ACM {acm.name}" in led.note
    assert items(other_acm) == []
    contact_log.reply_to_whatsapp_with_email_redirect(client, actor=acm, contact=omar, key="r")
    db.session.commit()
    assert items(acm) == items(leader) == []


def test_emailing_a_contact_goes_through_the_outbox_with_g1_ccs_once_per_key(
    db, make_client, make_contact, team_setup
):
    team, leader, acm, _ = team_setup
    team.shared_mailbox = "cairo-kam@kam.example"
    client = make_client(acm=acm)
    contact = make_contact(client, email="owner@nile.example")
    for _ in range(2):
        contact_log.email_contact(
            client, actor=acm, contact=contact, subject="Hello", body="Hi", key="k1"
        )
    db.session.commit()
    messages = list(db.session.scalars(select(OutboxMessage)))
    assert len(messages) == 1
    assert messages[0].to_addrs == ["owner@nile.example"]
    assert set(messages[0].cc_addrs) == {acm.email, leader.email, "cairo-kam@kam.example"}
    assert kinds(db, client) == [TimelineKind.EMAIL_SENT]
    assert client.last_contact_at is not None


def test_client_list_shows_each_user_only_what_they_may_see(
    db, team_setup, make_client, make_user, make_team
):
    _, leader, acm, other_acm = team_setup
    mine = make_client(acm=acm, store_name="Mine")
    teammate = make_client(acm=other_acm, store_name="Teammate's")
    other_team_acm = make_user(Role.ACM, team=make_team())
    elsewhere = make_client(acm=other_team_acm, store_name="Elsewhere")
    admin = make_user(Role.ADMIN)
    finance = make_user(Role.FINANCE)

    def names(user):
        query = clients.client_list_query(user, clients.ClientFilters())
        return {c.store_name for c in db.session.scalars(query)}

    assert names(acm) == {"Mine"}
    assert names(leader) == {"Mine", "Teammate's"}
    assert names(admin) == {"Mine", "Teammate's", "Elsewhere"}
    assert names(finance) == set()
    assert access.can_see_client(acm, mine) and not access.can_see_client(acm, teammate)
    assert not access.can_see_client(leader, elsewhere)


def test_the_industry_filter_offers_the_industries_each_user_may_see(
    db, team_setup, make_client, make_user, make_team
):
    """An admin's come off the industry index a value at a time (issue 17), the same as a
    DISTINCT over every client: each once, in order, without the blank."""
    _, leader, acm, other_acm = team_setup
    for owner, industry in [
        (acm, "Fashion"),
        (acm, "Fashion"),
        (acm, None),
        (other_acm, "Beauty"),
        (make_user(Role.ACM, team=make_team()), "Toys"),
        (make_user(Role.ACM, team=make_team()), "Electronics"),
    ]:
        make_client(acm=owner, industry=industry)
    assert clients.industries(acm) == ["Fashion"]
    assert clients.industries(leader) == ["Beauty", "Fashion"]
    every = ["Beauty", "Electronics", "Fashion", "Toys"]
    assert clients.industries(make_user(Role.ADMIN)) == every
    distinct = select(Client.industry).where(Client.industry.is_not(None)).distinct()
    assert sorted(db.session.scalars(distinct)) == every


def test_client_search_matches_name_code_and_contact(db, team_setup, make_client, make_contact):
    _, _, acm, _ = team_setup
    a = make_client(acm=acm, store_name="Desert Rose", store_code="DR001")
    b = make_client(acm=acm, store_name="Blue Lagoon", store_code="BL002")
    make_contact(b, name="Yasmin Fahmy", email="yasmin@lagoon.example")

    def found(q):
        query = clients.client_list_query(acm, clients.ClientFilters(q=q))
        return [c.id for c in db.session.scalars(query)]

    assert found("desert") == [a.id]
    assert found("bl00") == [b.id]
    assert found("yasmin") == [b.id]
    assert found("lagoon.example") == [b.id]
    assert found("nothing-like-this") == []


def test_client_search_takes_like_wildcards_literally(db, team_setup, make_client, make_contact):
    """`%`, `_` and `\\` typed in the search match only names that contain them."""
    _, _, acm, _ = team_setup
    percent = make_client(acm=acm, store_name="100% Cotton", store_code="PC001")
    underscore = make_client(acm=acm, store_name="Under_Score", store_code="US002")
    backslash = make_client(acm=acm, store_name="Back\\Slash", store_code="BS003")
    plain = make_client(acm=acm, store_name="Plain Goods", store_code="PG004")
    make_contact(plain, name="Nour Adel", email="nour@plain.example")

    def found(q):
        query = clients.client_list_query(acm, clients.ClientFilters(q=q))
        return {c.id for c in db.session.scalars(query)}

    assert found("0% c") == {percent.id}
    assert found("r_s") == {underscore.id}
    assert found("k\\s") == {backslash.id}
    assert found("%%%") == found("___") == found("\\%_") == set()
    # Contacts' names, emails and phones are searched the same way.
    assert found("r_a") == set()
    assert found("r@plain") == {plain.id}


def test_client_filters_read_from_the_query_string_ignore_bad_values():
    filters = clients.ClientFilters.from_args(
        {"status": "bogus", "sort": "drop table", "page": "-3", "acm": "x", "plan": "ultimate"}
    )
    assert filters.status == "" and filters.sort == "name" and filters.page == 1
    # An ACM is chosen by id, or by any part of a name typed (issue 17's type-ahead).
    assert filters.acm_id is None and filters.acm_name == "x" and filters.plan == "ultimate"
    assert filters.args(page=2) == {"acm": "x", "plan": "ultimate", "page": 2}


def test_a_clients_contact_email_is_not_added_twice(db, make_client, make_contact, team_setup):
    _, _, acm, _ = team_setup
    client = make_client(acm=acm)
    sara = make_contact(client, name="Sara", email="sara@nile.example")
    with pytest.raises(ValidationError, match="already a contact") as error:
        clients.add_contact(
            client, clients.ContactDetails(name="Sara again", email="SARA@nile.example"), actor=acm
        )
    assert error.value.field == "email"
    # Saving Sara herself with her own address is fine.
    clients.update_contact(
        sara, clients.ContactDetails(name="Sara N.", email="sara@nile.example"), actor=acm
    )
    assert sara.name == "Sara N."


def test_reassignment_moves_upcoming_meetings_and_owed_minutes_to_the_new_acm_F3_G5(
    db, team_setup, make_client, make_contact, frozen_clock
):
    from kamportal.models import Meeting, MeetingType, Minutes
    from kamportal.services import meetings

    _, leader, acm, other_acm = team_setup
    client = make_client(acm=acm)
    contact = make_contact(client)
    upcoming = meetings.schedule_meeting(
        client,
        actor=acm,
        kind=MeetingType.WEEKLY,
        starts_at=clock.now() + timedelta(days=2),
        duration_minutes=30,
        zoom_link="https://zoom.us/j/1234567890",
        agenda="Weekly",
        attendees=[contact],
    )
    answered = contact_log.log_call(
        client, actor=acm, contact=contact, outcome=CallOutcome.ANSWERED
    )
    db.session.commit()

    clients.reassign_client(client, actor=leader, new_acm=other_acm, reason="Workload")
    db.session.commit()

    assert db.session.get(Meeting, upcoming.id).organizer_id == other_acm.id
    owed = db.session.scalar(select(Minutes).where(Minutes.call_event_id == answered.id))
    assert owed.owner_id == other_acm.id
    event = db.session.scalar(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.CLIENT_REASSIGNED)
    )
    assert event.detail["moved"] == {"meetings": 1, "minutes": 1}
    assert "1 upcoming meeting(s) and 1 owed minutes moved too" in event.summary
