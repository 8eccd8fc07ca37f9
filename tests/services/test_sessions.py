"""Sign-ins kept on the server, without HTTP: what a cookie id opens, until when, and what
ends it (a sign-out, a password reset, a deactivation)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kamportal import clock
from kamportal.models import Role, User, UserSession
from kamportal.services import accounts, sessions


def cookie_id_of(user) -> str:
    return user.get_id()


@pytest.mark.config(
    PERMANENT_SESSION_LIFETIME=timedelta(hours=12), REMEMBER_COOKIE_DURATION=timedelta(days=14)
)
@pytest.mark.parametrize(
    ("remember", "lasts"), [(False, timedelta(hours=12)), (True, timedelta(days=14))]
)
def test_a_sign_in_opens_until_its_lifetime_and_not_a_second_longer(
    db, make_user, frozen_clock, remember, lasts
):
    user = make_user(Role.ACM)
    record = sessions.start(user, remember=remember)
    db.session.commit()
    cookie_id = cookie_id_of(user)
    assert record.expires_at == record.created_at + lasts
    clock.advance(lasts - timedelta(seconds=1))
    assert sessions.signed_in_user(cookie_id) == user
    clock.advance(timedelta(seconds=1))
    assert sessions.signed_in_user(cookie_id) is None


def test_the_cookie_id_names_the_sign_in_and_only_its_hash_is_stored(db, make_user):
    user = make_user(Role.ACM)
    record = sessions.start(user, remember=False)
    db.session.commit()
    sign_in_id, _, secret = cookie_id_of(user).partition(":")
    assert int(sign_in_id) == record.id
    assert secret not in record.secret_hash
    for forged in (
        f"{record.id}:wrong",
        f"{record.id}:",
        f"{user.id}",
        "x:y",
        "",
        f"9{record.id}:{secret}",
        f"99999999999:{secret}",  # past what an id column holds (PostgreSQL would refuse)
        f"{'9' * 40}:{secret}",
        f"١:{secret}",
    ):
        assert sessions.signed_in_user(forged) is None


def test_a_user_has_no_cookie_id_without_a_sign_in():
    with pytest.raises(RuntimeError):
        User(id=1).get_id()


def test_signing_out_ends_that_sign_in_only(db, make_user):
    user = make_user(Role.ACM)
    sessions.start(user, remember=True)
    office = cookie_id_of(user)
    sessions.start(user, remember=False)
    laptop = cookie_id_of(user)
    db.session.commit()

    signed_in = sessions.signed_in_user(office)
    sessions.end(signed_in)
    db.session.commit()
    assert sessions.signed_in_user(office) is None
    assert sessions.signed_in_user(laptop) == user


@pytest.mark.parametrize(
    ("end", "reason"),
    [
        (
            lambda u: accounts.reset_password(u, actor=None, new_password="plum-orbit-tandem-93"),
            "password reset",
        ),
        (lambda u: accounts.deactivate_user(u, actor=None), "deactivated"),
    ],
)
def test_a_password_reset_or_a_deactivation_ends_every_sign_in_of_the_user_only(
    db, make_user, end, reason
):
    user, other = make_user(Role.ACM), make_user(Role.ACM)
    cookie_ids = []
    for _ in range(2):
        sessions.start(user, remember=False)
        cookie_ids.append(cookie_id_of(user))
    sessions.start(other, remember=False)
    other_cookie_id = cookie_id_of(other)
    db.session.commit()

    end(user)
    db.session.commit()
    assert [sessions.signed_in_user(c) for c in cookie_ids] == [None, None]
    assert sessions.signed_in_user(other_cookie_id) == other
    reasons = db.session.scalars(
        select(UserSession.end_reason).where(UserSession.user_id == user.id)
    )
    assert set(reasons) == {reason}


def test_sign_ins_long_expired_are_deleted_at_the_users_next_sign_in(db, make_user, frozen_clock):
    user = make_user(Role.ACM)
    sessions.start(user, remember=False)
    db.session.commit()
    clock.advance(sessions.KEPT_AFTER_EXPIRY + timedelta(days=1))
    sessions.start(user, remember=False)
    db.session.commit()
    count = db.session.scalar(
        select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)
    )
    assert count == 1
