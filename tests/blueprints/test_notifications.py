"""Notifications in the header (issue 14), over HTTP: the badge on every page of a
signed-in user, counted again by HTMX; the page listing them, the newest first, paged;
marking one read in place and all at once; another user's notification is not found and
nothing changes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from kamportal import clock
from kamportal.models import Role
from kamportal.services import notifications

HTMX = {"HX-Request": "true"}


@pytest.fixture
def owed(db, login_as, make_user, frozen_clock):
    http = login_as(Role.FINANCE)
    user = http.user
    made = []
    for n in range(3):
        made += notifications.notify(
            user, kind=notifications.WIRE_FLAGGED, text=f"Wire {n}", link="/finance/", key=f"w{n}"
        )
        clock.advance(timedelta(minutes=1))
    other = make_user(Role.FINANCE)
    [theirs] = notifications.notify(other, kind="decision", text="Theirs", link="/", key="t")
    db.session.commit()
    return {"http": http, "user": user, "mine": made, "theirs": theirs, "other": other}


def badge_of(page: str) -> str:
    start = page.index('id="notification-badge"')
    return page[start : page.index("</a>", start)]


def test_every_page_shows_the_badge_with_the_unread_count(owed):
    page = owed["http"].get("/finance/").get_data(as_text=True)
    badge = badge_of(page)
    assert 'aria-label="Notifications: 3 unread"' in badge
    assert "every 60s" in badge and "notifications-changed from:body" in badge


def test_the_badge_alone_for_htmx_and_nothing_when_none_unread(owed, db):
    answer = owed["http"].get("/notifications/badge", headers=HTMX)
    assert answer.status_code == 200
    assert "3 unread" in answer.get_data(as_text=True)
    notifications.mark_read(owed["user"])
    db.session.commit()
    body = owed["http"].get("/notifications/badge", headers=HTMX).get_data(as_text=True)
    assert "0 unread" in body and "badge-unread" not in body


def test_the_list_is_the_users_own_newest_first_and_paged(owed, db):
    body = owed["http"].get("/notifications/").get_data(as_text=True)
    assert body.index("Wire 2") < body.index("Wire 1") < body.index("Wire 0")
    assert "Theirs" not in body
    user = owed["user"]
    for n in range(notifications.PER_PAGE):
        notifications.notify(user, kind="decision", text=f"More {n}", link="/", key=f"m{n}")
    db.session.commit()
    second = owed["http"].get("/notifications/?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second
    assert owed["http"].get("/notifications/?page=99999").status_code == 200


def test_mark_one_read_in_place_and_the_badge_is_told(owed, db):
    first = owed["mine"][0]
    answer = owed["http"].post(f"/notifications/{first.id}/read", headers=HTMX)
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert f'id="notification-{first.id}"' in body and 'data-read="yes"' in body
    assert "notifications-changed" in json.loads(answer.headers["HX-Trigger"])
    assert notifications.unread_count(owed["user"]) == 2
    # A plain form post goes back to the list.
    again = owed["http"].post(f"/notifications/{owed['mine'][1].id}/read")
    assert again.status_code == 303
    assert notifications.unread_count(owed["user"]) == 1


def test_another_users_notification_is_not_found_and_stays_unread(owed, db):
    theirs = owed["theirs"]
    assert owed["http"].post(f"/notifications/{theirs.id}/read", headers=HTMX).status_code == 404
    assert owed["http"].post("/notifications/2147483647/read").status_code == 404
    db.session.expire_all()
    assert notifications.unread_count(owed["other"]) == 1
    assert notifications.unread_count(owed["user"]) == 3


def test_mark_all_read_reads_only_ones_own(owed, db):
    answer = owed["http"].post("/notifications/read", headers=HTMX)
    assert answer.status_code == 200
    assert 'data-read="no"' not in answer.get_data(as_text=True)
    assert notifications.unread_count(owed["user"]) == 0
    assert notifications.unread_count(owed["other"]) == 1


def test_anonymous_and_public_pages_have_no_badge(client):
    assert 'id="notification-badge"' not in client.get("/login").get_data(as_text=True)
