"""Churn from the complaint process (issue 14, E3): a confirmed cancellation churns the
client and loses its open renewal; a refund request waits in finance's queue with its
amount until finance decides; churned clients leave the active lists and the forecast; the
monthly churn figure counts them per month of the leader's zone and per currency."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kamportal import clock
from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.models import AuditEvent, LifecycleStatus, Renewal, Role, TimelineEvent
from kamportal.models.types import utc
from kamportal.services import churn, clients, escalations, renewals
from kamportal.services.clients import ClientProfile

# Cairo is UTC+2: 31 Oct 22:30 UTC is 1 Nov 00:30 at the leader's.
LAST_OCTOBER_NIGHT_UTC = datetime(2026, 10, 31, 22, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def setup(make_portfolio, make_user, frozen_clock):
    frozen_clock(NOW)
    portfolio = make_portfolio(
        leader={"timezone": "Africa/Cairo"},
        client={"renewal_date": date(2026, 12, 10), "recurring_amount": Decimal("12000.00")},
    )
    finance = make_user(Role.FINANCE)
    return portfolio.as_dict(finance=finance)


def cancellation(setup, db):
    complaint = escalations.record_complaint(
        setup["client"], actor=setup["acm"], kind="cancellation", said="Cancel", channel="call"
    )
    db.session.commit()
    return complaint


def kinds(db, client):
    return [
        e.kind
        for e in db.session.scalars(
            select(TimelineEvent).where(TimelineEvent.client_id == client.id)
        )
    ]


def test_recording_a_cancellation_only_opens_complaint_handling(setup, db):
    renewals.open_due_renewals(now=clock.now())
    cancellation(setup, db)
    assert setup["client"].status == LifecycleStatus.LIVE.value
    assert db.session.scalar(select(Renewal)).stage == "due"


def test_a_confirmed_cancellation_churns_the_client_and_loses_its_renewal(setup, db):
    client = setup["client"]
    [renewal] = renewals.open_due_renewals(now=clock.now())
    complaint = cancellation(setup, db)
    with pytest.raises(ValidationError) as no_reason:
        escalations.update_complaint(complaint, actor=setup["acm"], status="confirmed")
    assert no_reason.value.field == "note"
    escalations.update_complaint(
        complaint, actor=setup["acm"], status="confirmed", note="Moving to another platform"
    )
    db.session.commit()
    assert client.status == LifecycleStatus.CHURNED.value
    assert client.churned_at == NOW
    assert "Moving to another platform" in client.churn_reason
    assert renewal.stage == "lost" and "Moving to another platform" in renewal.lost_reason
    assert complaint.closed_at == NOW
    assert {"client_churned", "renewal_lost"} <= set(kinds(db, client))
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"client.churn", "renewal.lose", "complaint.update"} <= actions
    with pytest.raises(RuleViolation):
        escalations.update_complaint(complaint, actor=setup["acm"], status="open")


def test_only_a_cancellation_is_confirmed(setup, db):
    complaint = escalations.record_complaint(
        setup["client"], actor=setup["acm"], kind="complaint", said="Slow", channel="call"
    )
    with pytest.raises(ValidationError):
        escalations.update_complaint(complaint, actor=setup["acm"], status="confirmed", note="x")
    assert setup["client"].status == LifecycleStatus.LIVE.value


def test_a_refund_request_waits_for_finance_with_its_amount(setup, db):
    client = setup["client"]
    for bad in ("", "1e30", "-5", "abc", "12.3456", "\x00"):
        with pytest.raises(ValidationError) as refused:
            escalations.record_complaint(
                client,
                actor=setup["acm"],
                kind="refund",
                said="Refund me",
                channel="email",
                refund_amount=bad,
            )
        assert refused.value.field == "refund_amount"
    refund = escalations.record_complaint(
        client,
        actor=setup["acm"],
        kind="refund",
        said="Refund me",
        channel="email",
        refund_amount="1,500.50",
    )
    db.session.commit()
    assert (refund.refund_amount, refund.refund_currency) == (Decimal("1500.50"), "EGP")
    assert churn.refunds_requested() == [refund]
    with pytest.raises(NotAllowed):
        churn.decide_refund(refund, actor=setup["acm"], decision="refunded", note="done")
    with pytest.raises(ValidationError):
        churn.decide_refund(refund, actor=setup["finance"], decision="refunded", note=" ")
    with pytest.raises(ValidationError):
        churn.decide_refund(refund, actor=setup["finance"], decision="maybe", note="x")
    churn.decide_refund(refund, actor=setup["finance"], decision="declined", note="Out of term")
    db.session.commit()
    assert churn.refunds_requested() == []
    assert refund.refund_status == "declined" and refund.refund_decided_by == setup["finance"]
    assert "refund_decided" in kinds(db, client)
    with pytest.raises(RuleViolation):
        churn.decide_refund(refund, actor=setup["finance"], decision="refunded", note="x")


def test_churned_clients_leave_the_client_list_and_the_forecast(setup, db, make_client):
    kept = make_client(acm=setup["acm"], renewal_date=date(2026, 12, 12))
    renewals.open_due_renewals(now=clock.now())
    churn.churn_client(setup["client"], actor=setup["leader"], reason="Closed the shop")
    db.session.commit()
    listed = db.session.scalars(
        clients.client_list_query(setup["acm"], clients.ClientFilters())
    ).all()
    assert listed == [kept]
    churned = db.session.scalars(
        clients.client_list_query(setup["acm"], clients.ClientFilters(status="churned"))
    ).all()
    assert churned == [setup["client"]]
    every = db.session.scalars(
        clients.client_list_query(setup["acm"], clients.ClientFilters(status="all"))
    ).all()
    assert set(every) == {kept, setup["client"]}
    rows = renewals.forecast(setup["leader"], today=date(2026, 11, 20))
    assert {row.at_risk for row in rows if row.days == 30} == {Decimal("12000.00")}


def test_monthly_churn_counts_per_month_of_the_leaders_zone(setup, db, make_client, make_user):
    acm, leader = setup["acm"], setup["leader"]
    october_utc = make_client(acm=acm)
    usd = make_client(acm=acm, currency="USD", recurring_amount=Decimal("300.00"))
    none = make_client(acm=acm, recurring_amount=None)
    clock.freeze(LAST_OCTOBER_NIGHT_UTC - timedelta(hours=1))  # 31 Oct 23:30 in Cairo
    churn.churn_client(october_utc, actor=leader, reason="x")
    clock.freeze(LAST_OCTOBER_NIGHT_UTC)  # 1 Nov 00:30 in Cairo
    churn.churn_client(setup["client"], actor=leader, reason="x")
    churn.churn_client(usd, actor=leader, reason="x")
    churn.churn_client(none, actor=leader, reason="x")
    db.session.commit()
    clock.freeze(NOW)
    months = churn.monthly_churn(leader, months=3)
    assert [m.month for m in months] == [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    september, october, november = months
    assert september.count == 0 and september.amounts == {}
    assert october.count == 1 and october.amounts == {"EGP": Decimal("12000.00")}
    assert november.count == 3
    assert november.amounts == {"EGP": Decimal("12000.00"), "USD": Decimal("300.00")}
    assert november.counts == {"EGP": 2, "USD": 1}
    # An ACM of no team sees none of it.
    assert sum(m.count for m in churn.monthly_churn(make_user(Role.ACM), months=3)) == 0


def test_finance_decides_a_refund_from_its_queue(setup, db, login_as):
    refund = escalations.record_complaint(
        setup["client"],
        actor=setup["acm"],
        kind="refund",
        said="Refund me",
        channel="email",
        refund_amount="1500",
    )
    db.session.commit()
    http = login_as(setup["finance"])
    page = http.get("/finance/").get_data(as_text=True)
    assert f'id="refund-{refund.id}"' in page and "Refunds requested" in page
    refused = http.post(
        f"/finance/refunds/{refund.id}",
        data={"decision": "refunded"},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 422
    done = http.post(
        f"/finance/refunds/{refund.id}",
        data={"decision": "refunded", "note": "Sent by bank"},
        headers={"HX-Request": "true"},
    )
    assert done.status_code == 200
    db.session.expire_all()
    assert db.session.get(type(refund), refund.id).refund_status == "refunded"


def test_a_client_marked_churned_by_hand_counts_from_then_and_not_once_back(
    db, make_portfolio, frozen_clock
):
    frozen_clock(utc(2026, 11, 10, 9))
    world = make_portfolio()
    client = world.client

    def set_status(status: str) -> None:
        profile = {f.name: getattr(client, f.name) for f in fields(ClientProfile)}
        clients.update_client(
            client, ClientProfile(**{**profile, "status": status}), actor=world.acm
        )
        db.session.commit()

    set_status(LifecycleStatus.CHURNED.value)
    assert client.churned_at == utc(2026, 11, 10, 9)
    assert client.churn_reason == "Marked churned on the client's profile"
    set_status(LifecycleStatus.LIVE.value)
    assert client.churned_at is None and client.churn_reason is None
