"""Notifications (issue 14), without HTTP: notify is idempotent by key, the badge counts
the unread, marking read touches only the user's own; and each source tells the right
people once: an escalation reaching the leader (E2), a wire flagged after 4 days (R7), a
store not selling (F4), a decision needed (C2 product, R9 commercial). None is emailed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from kamportal import clock
from kamportal.models import Notification, OutboxMessage, Role, User
from kamportal.services import (
    customizations,
    discounts,
    escalations,
    not_selling,
    notifications,
    payments,
)
from tests.services import renewal_world
from tests.services.renewal_world import invoiced
from tests.services.test_customizations import open_request

# Mona Adel (ACM, team Cairo, led by Layla Nour) and Nile Crafts (NILE01); Heba Finance,
# Hany Commercial (tests/services/renewal_world.py).
world = renewal_world.world


def told(db, key_start: str) -> list[tuple[str, str]]:
    """(the user's email, kind) of each notification whose key starts with `key_start`."""
    rows = db.session.execute(
        select(User.email, Notification.kind)
        .join(User, User.id == Notification.user_id)
        .where(Notification.key.startswith(key_start))
    )
    return sorted(tuple(row) for row in rows)


def emails_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


# --- notify, the badge, marking read ----------------------------------------------------------


def test_notify_is_idempotent_by_key_and_per_user(world, db):
    acm, leader = world["acm"], world["leader"]
    first = notifications.notify(
        [acm, leader, acm, None], kind="decision", text="A  decision\n owed", link="/x", key="k"
    )
    assert [n.user_id for n in first] == sorted([acm.id, leader.id])
    assert first[0].text == "A decision owed"
    # The same key again: nobody told twice; a newcomer under that key is told.
    assert notifications.notify(acm, kind="decision", text="Again", link="/x", key="k") == []
    finance = world["finance"]
    [late] = notifications.notify([acm, finance], kind="decision", text="t", link="/", key="k")
    assert late.user_id == finance.id
    db.session.commit()
    assert notifications.unread_count(acm) == 1


def test_the_badge_counts_the_unread_and_marking_read_touches_only_ones_own(world, db):
    acm, other = world["acm"], world["other_acm"]
    mine = [
        notifications.notify(acm, kind="decision", text=f"t{n}", link="/", key=f"k{n}")[0]
        for n in range(3)
    ]
    [theirs] = notifications.notify(other, kind="decision", text="t", link="/", key="k0")
    db.session.commit()
    assert notifications.unread_count(acm) == 3
    # Another user's id changes nothing.
    assert notifications.mark_read(acm, [theirs.id]) == 0
    assert notifications.mark_read(acm, [mine[0].id, theirs.id]) == 1
    db.session.commit()
    assert notifications.unread_count(acm) == 2
    assert notifications.unread_count(other) == 1
    assert notifications.notification_of(acm, theirs.id) is None
    # Read again: nothing changes; all: the rest.
    assert notifications.mark_read(acm, [mine[0].id]) == 0
    assert notifications.mark_read(acm, []) == 0
    assert notifications.mark_read(acm) == 2
    db.session.commit()
    assert notifications.unread_count(acm) == 0
    assert notifications.unread_count(other) == 1


def test_recent_lists_the_newest_first_a_page_at_a_time(world, db):
    acm = world["acm"]
    for n in range(5):
        notifications.notify(acm, kind="decision", text=f"t{n}", link="/", key=f"k{n}")
        clock.advance(timedelta(minutes=1))
    db.session.commit()
    page = notifications.recent(acm, page=1, per_page=2)
    assert [n.text for n in page.items] == ["t4", "t3"]
    assert page.pages == 3
    assert [n.text for n in notifications.recent(acm, page=3, per_page=2).items] == ["t0"]
    assert notifications.recent(acm, page=-4, per_page=2).page == 1


# --- The sources ------------------------------------------------------------------------------


def test_an_escalation_reaching_the_leader_tells_the_leader_once_E2(world, db):
    escalation = escalations.raise_escalation(
        world["client"],
        actor=world["acm"],
        trigger="asked_for_manager",
        said="Manager",
        channel="call",
    )
    db.session.commit()
    escalations.advance_to_leader(escalation, actor=world["acm"], note="Cannot solve it")
    db.session.commit()
    assert told(db, f"escalation-{escalation.id}-") == [("leader@kam.example", "escalation")]
    [notice] = db.session.scalars(select(Notification))
    assert "NILE01" in notice.text
    assert notice.link == f"/escalations/{escalation.id}"
    # The timed step finding it with the leader already does nothing more.
    escalations.run_due_step(escalation.id, "leader")
    db.session.commit()
    assert len(told(db, "escalation-")) == 1


def test_a_wire_flagged_tells_finance_once_and_no_extra_email_R7(world, db, make_user):
    make_user(Role.FINANCE, email="finance2@kam.example")
    make_user(Role.FINANCE, email="gone@kam.example").active = False
    _, invoice = invoiced(world, db)
    payment = payments.report_wire_transfer(invoice, actor=world["acm"], amount="12000")
    db.session.commit()
    before = emails_count(db)
    payments.flag_late_wire_transfers(now=payment.reported_at + timedelta(days=4))
    db.session.commit()
    assert emails_count(db) == before + 1  # the R7 email, as before
    assert told(db, "payment-") == [
        ("finance2@kam.example", "wire_flagged"),
        ("finance@kam.example", "wire_flagged"),
    ]
    payments.flag_late_wire_transfers(now=payment.reported_at + timedelta(days=9))
    db.session.commit()
    assert len(told(db, "payment-")) == 2


def test_a_store_not_selling_tells_its_acm_once_F4(world, db):
    from tests.services.test_not_selling import sell

    client = world["client"]
    client.status = "live"
    client.timezone = "Africa/Cairo"
    today = clock.today("Africa/Cairo")
    sell(client, today - timedelta(days=20), today - timedelta(days=8))
    sell(client, today - timedelta(days=7), today - timedelta(days=1), orders=0, gmv="0")
    assert not_selling.sweep(clock.now()).raised == 1
    db.session.commit()
    assert told(db, "not-selling-") == [("mona@kam.example", "not_selling")]
    [notice] = db.session.scalars(select(Notification))
    assert notice.link == f"/clients/{client.id}"
    assert not_selling.sweep(clock.now()).raised == 0
    db.session.commit()
    assert len(told(db, "not-selling-")) == 1


def test_a_customization_awaiting_product_tells_product_each_time_C2_C3(world, db, make_user):
    make_user(Role.PRODUCT, email="product@kam.example")
    request = open_request(world)
    db.session.commit()
    assert told(db, f"customization-{request.id}-") == [("product@kam.example", "decision")]
    # Put on hold, then answered: a new clock, a new decision owed.
    customizations.decide(request, actor=_product(db), decision="on_hold", reason="Which points?")
    db.session.commit()
    clock.advance(timedelta(hours=1))
    customizations.answer_hold(request, actor=world["acm"], answer="Store credit points")
    db.session.commit()
    assert len(told(db, f"customization-{request.id}-")) == 2


def _product(db) -> User:
    return db.session.scalar(select(User).where(User.email == "product@kam.example"))


def test_a_discount_asked_tells_commercial_R9(world, db):
    quotation = discounts.request_discount(
        world["client"], actor=world["acm"], description="Loyal client", discount="500"
    )
    db.session.commit()
    assert told(db, f"quotation-{quotation.id}-") == [(world["commercial"].email, "decision")]
    [notice] = db.session.scalars(select(Notification))
    assert notice.link == "/discounts/"
    assert "NILE01" in notice.text
