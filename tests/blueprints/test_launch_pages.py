"""The launch page through HTTP: the five checklists ticked in place with who and when
(L1, L3, L4, L5) and their notes and evidence; the launch, only with the LMS steps, the
pre-launch checks and the UAT complete or by the team leader's override with a reason
(L1, L4, L5); the contract's limits, a delivery past
one refused with the contract's words, and the leader's agreed exception (L2). Bad input
gets the form again with its errors (422) and changes nothing; other ACMs never learn the
client exists."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from kamportal.models import (
    ChecklistItem,
    ContractException,
    ContractUsage,
    LifecycleStatus,
    Role,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import contract_limits, onboarding
from kamportal.services.launch_checklists import (
    CHECKLISTS,
    LAUNCH_GATE,
    LMS,
    TEST_PAYMENTS_DISABLED,
    UAT,
    definition_of,
)
from tests.blueprints.test_query_counts import counting_queries

HTMX = {"HX-Request": "true"}
# Monday 23 November 2026, 09:00 UTC: 12:00 in Riyadh, where the ACM works.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def text(response) -> str:
    return response.get_data(as_text=True)


def element(page: str, element_id: str, tag: str = "section") -> str:
    """The HTML from the element with `element_id` to the end of the first `tag` after it."""
    start = page.index(f'id="{element_id}"')
    return page[start : page.index(f"</{tag}>", start)]


def triggers(response) -> dict:
    return json.loads(response.headers.get("HX-Trigger", "{}"))


@pytest.fixture
def world(db, make_portfolio, make_team, make_user, frozen_clock):
    """Layla leads Mona (in Riyadh); Mona's client Nile Crafts is onboarding, its
    checklists opened; Omar is an ACM of another team."""
    frozen_clock(NOW)
    cairo = make_portfolio(
        team={"name": "Cairo"},
        leader={"name": "Layla Nour"},
        acm={"name": "Mona Adel", "timezone": "Asia/Riyadh"},
        client={"store_name": "Nile Crafts", "status": LifecycleStatus.ONBOARDING.value},
    )
    other_acm = make_user(Role.ACM, team=make_team(name="Dubai"), name="Omar Said")
    onboarding.client_registered(cairo.client)
    db.session.commit()
    return cairo.as_dict(other_acm=other_acm)


def launch_url(world, rest: str = "") -> str:
    return f"/clients/{world['client'].id}/launch{rest}"


def item_of(db, checklist: str, key: str) -> ChecklistItem:
    db.session.expire_all()
    return db.session.scalars(
        select(ChecklistItem).where(
            ChecklistItem.checklist == checklist, ChecklistItem.item_key == key
        )
    ).one()


def status_of(db, world) -> str:
    db.session.expire_all()
    return db.session.get(type(world["client"]), world["client"].id).status


def tick_for_launch(db, world, *, leave_open: tuple[tuple[str, str], ...] = ()) -> None:
    """Tick every item the launch waits for (L1, L4, L5) but `leave_open` (checklist, key)."""
    for definition in LAUNCH_GATE:
        for item in definition.items:
            if (definition.key, item.key) not in leave_open:
                onboarding.update_item(
                    world["client"], definition.key, item.key, actor=world["acm"], done=True
                )
    db.session.commit()


# --- The page and the checklists (L1, L3, L4, L5) ----------------------------------------


def test_a_client_in_launch_without_checklists_gets_them_on_its_page(
    world, db, make_client, login_as
):
    """A client onboarded before the portal had checklists (or an item added since) gets
    its copy when the page opens: the launch gate counts every item, so every item shows."""
    older = make_client(acm=world["acm"], status=LifecycleStatus.LAUNCHING.value)
    assert onboarding.progress_of(older)[-1].total == 0
    page = text(login_as(world["acm"]).get(f"/clients/{older.id}/launch"))
    assert f'id="item-uat-{UAT.items[0].key}"' in page
    assert onboarding.progress_of(older)[-1].total == len(UAT.items)


def test_the_page_shows_the_five_checklists_with_nothing_done(world, login_as):
    page = text(login_as(world["acm"]).get(launch_url(world)))
    assert 'class="badge badge-onboarding">Onboarding' in page
    for definition in CHECKLISTS.values():
        card = element(page, f"checklist-{definition.key}")
        assert str(escape(definition.title)) in card and f"(rule {definition.rule})" in card
        assert str(escape(definition.intro)) in card
        progress = element(card, f"progress-{definition.key}", "div")
        assert f"0 of {len(definition.items)}" in progress
        assert f'<progress max="{len(definition.items)}" value="0"' in progress
        for item in definition.items:
            assert f'id="item-{definition.key}-{item.key}"' in card
    # Items grouped by section, in the process's order.
    shopping = element(page, "checklist-google_shopping")
    sections = re.findall(r"<h3>([^<]+)</h3>", shopping)
    assert sections == [
        "Google Merchant Centre",
        "Data feed management",
        "Google Analytics",
        "Google Ads",
    ]
    panel = element(page, "launch-panel")
    assert 'class="primary" disabled' in panel
    for definition in LAUNCH_GATE:  # L1, L4, L5: each with its open items
        assert f'href="#checklist-{definition.key}">{escape(definition.title)}</a>' in panel
        assert f"{len(definition.items)} open items" in panel
    assert 'id="limits-panel"' in page


def test_a_tick_comes_back_as_its_row_with_who_and_when_and_the_progress_updated(
    world, db, login_as
):
    """L1: ticked in place by HTMX: the row (no page), who ticked it and when in the
    viewer's time zone, the checklist's progress out of band, the timeline told; the first
    LMS step moves the client from onboarding to launching."""
    http = login_as(world["acm"])
    response = http.post(launch_url(world, "/lms/domain-ssl"), data={"done": "y"}, headers=HTMX)
    assert response.status_code == 200, text(response)[:500]
    body = text(response)
    assert "<html" not in body
    row = element(body, "item-lms-domain-ssl", "li")
    assert 'data-done="true"' in row and " checked" in row
    assert "Ticked by Mona Adel" in body and "23 Nov 2026 12:00 +03" in body
    progress = element(body, "progress-lms", "div")
    assert 'hx-swap-oob="true"' in progress and "1 of 15" in progress
    assert "timeline-changed" in triggers(response)

    # L1: the launch started, and the header says so out of band.
    assert status_of(db, world) == LifecycleStatus.LAUNCHING.value
    lifecycle = element(body, "lifecycle", "span")
    assert 'hx-swap-oob="true"' in lifecycle and "Launching" in body
    assert 'id="launch-panel"' in body  # the launch panel follows the lifecycle
    item = item_of(db, "lms", "domain-ssl")
    assert item.done_at == NOW and item.done_by_id == world["acm"].id
    kinds = db.session.scalars(select(TimelineEvent.kind)).all()
    assert TimelineKind.CHECKLIST_ITEM.value in kinds and TimelineKind.LMS_STARTED.value in kinds

    # Unticked: the box is sent unchecked.
    response = http.post(launch_url(world, "/lms/domain-ssl"), data={}, headers=HTMX)
    body = text(response)
    assert 'data-done="false"' in element(body, "item-lms-domain-ssl", "li")
    assert "Ticked by" not in body
    assert "0 of 15" in element(body, "progress-lms", "div")
    assert item_of(db, "lms", "domain-ssl").done_at is None
    # Unticking does not take the launch back.
    assert status_of(db, world) == LifecycleStatus.LAUNCHING.value


def test_without_javascript_a_tick_comes_back_to_the_page_at_the_item(world, db, login_as):
    http = login_as(world["acm"])
    response = http.post(launch_url(world, "/foundation/facebook-pixel"), data={"done": "y"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/clients/{world['client'].id}/launch#item-foundation-facebook-pixel"
    )
    assert item_of(db, "foundation", "facebook-pixel").done_at == NOW
    page = text(http.get(launch_url(world)))
    total = len(CHECKLISTS["foundation"].items)
    assert f"1 of {total}" in element(page, "progress-foundation", "div")


def test_an_unknown_item_is_not_found(world, login_as):
    http = login_as(world["acm"])
    assert http.post(launch_url(world, "/lms/no-such-step"), headers=HTMX).status_code == 404
    assert http.get(launch_url(world, "/nowhere/domain-ssl/details")).status_code == 404


def test_note_and_evidence_open_in_place_and_bad_evidence_saves_nothing(world, db, login_as):
    """L1: a note and evidence links, one a line; a line that is not a web address gets
    the form again with the error (422) and nothing is saved."""
    http = login_as(world["acm"])
    url = launch_url(world, "/lms/template/details")
    form = text(http.get(url, headers=HTMX))
    assert "<html" not in form and 'id="item-lms-template"' in form
    assert 'id="item-lms-template-evidence"' in form and "<textarea" in form

    refused = http.post(
        url,
        data={"note": "Client chose Aurora", "evidence": "https://mail.example/1\nscreenshot.png"},
        headers=HTMX,
    )
    assert refused.status_code == 422
    field = element(text(refused), "field-item-lms-template-evidence", "div")
    assert "“screenshot.png” is not a web address" in field
    assert "Client chose Aurora" in text(refused)  # what was typed stays
    item = item_of(db, "lms", "template")
    assert item.note is None and item.evidence == [] and item.updated_at is None

    saved = http.post(
        url,
        data={"note": "Client chose Aurora", "evidence": "https://mail.example/1\n\n"},
        headers=HTMX,
    )
    assert saved.status_code == 200
    row = element(text(saved), "item-lms-template", "li")
    assert "Client chose Aurora" in row and 'href="https://mail.example/1"' in row
    assert "timeline-changed" in triggers(saved)
    item = item_of(db, "lms", "template")
    assert item.note == "Client chose Aurora" and item.evidence == ["https://mail.example/1"]
    assert item.done_at is None  # the note does not tick it

    # Cancel puts the row back; without JavaScript the form is a page and comes back.
    assert 'data-done="false"' in text(http.get(launch_url(world, "/lms/template"), headers=HTMX))
    assert "<html" in text(http.get(url))
    plain = http.post(url, data={"note": "", "evidence": "https://mail.example/2"})
    assert plain.status_code == 303
    assert plain.headers["Location"].endswith("/launch#item-lms-template")
    item = item_of(db, "lms", "template")
    assert item.note is None and item.evidence == ["https://mail.example/2"]


# --- The launch (L5) ---------------------------------------------------------------------


def test_the_store_goes_live_only_once_the_lms_pre_launch_and_uat_are_complete(world, db, login_as):
    """L1, L4, L5: refused while the test order (L4) or test payments disabled (L5) is
    open (the panel says which, 422, still launching); each tick refreshes the panel; once
    all are ticked the store is live."""
    http = login_as(world["acm"])
    http.post(launch_url(world, "/lms/domain-ssl"), data={"done": "y"}, headers=HTMX)
    tick_for_launch(
        db, world, leave_open=(("pre_launch", "test-order"), ("uat", TEST_PAYMENTS_DISABLED))
    )

    panel = element(text(http.get(launch_url(world))), "launch-panel")
    assert panel.count("1 open item") == 2
    assert f"{escape(definition_of('pre_launch', 'test-order').text)}</li>" in panel
    assert "Test payments disabled, just before launch" in panel
    assert 'id="override-form"' not in panel  # the ACM cannot override
    refused = http.post(launch_url(world, "/go-live"), headers=HTMX)
    assert refused.status_code == 422
    assert "Pre-launch checks: 1 item(s) open, first “Test order placed" in text(refused)
    assert "Final launch checklist (UAT): 1 item(s) open" in text(refused)
    assert 'id="launch-panel"' in text(refused) and "<html" not in text(refused)
    assert status_of(db, world) == LifecycleStatus.LAUNCHING.value

    # A pre-launch tick refreshes the launch panel out of band: one checklist left.
    ticked = http.post(
        launch_url(world, "/pre_launch/test-order"), data={"done": "y"}, headers=HTMX
    )
    panel = element(text(ticked), "launch-panel")
    assert 'hx-swap-oob="true"' in text(ticked)
    assert 'data-checklist="pre_launch"' not in panel and 'data-checklist="uat"' in panel
    assert 'primary" disabled' in panel

    # The last UAT tick too: the button is enabled.
    ticked = http.post(
        launch_url(world, f"/uat/{TEST_PAYMENTS_DISABLED}"), data={"done": "y"}, headers=HTMX
    )
    panel = element(text(ticked), "launch-panel")
    assert 'hx-swap-oob="true"' in text(ticked)
    assert 'id="launch-complete"' in panel and 'primary" disabled' not in panel

    launched = http.post(launch_url(world, "/go-live"), headers=HTMX)
    assert launched.status_code == 200
    body = text(launched)
    assert "Live since 23 Nov 2026 12:00 +03" in element(body, "launch-panel")
    assert "badge-live" in element(body, "lifecycle", "span")
    assert "timeline-changed" in triggers(launched)
    db.session.expire_all()
    client = db.session.get(type(world["client"]), world["client"].id)
    assert client.status == LifecycleStatus.LIVE.value and client.launched_at == NOW

    # Live: the launch's product limit no longer applies.
    page = text(http.get(launch_url(world)))
    assert "Not applicable after launch" in element(page, "limit-products_lms", "tr")
    assert "Live since" in element(page, "launch-panel")


def test_without_javascript_the_launch_comes_back_to_the_panel(world, db, login_as):
    tick_for_launch(db, world)
    response = login_as(world["acm"]).post(launch_url(world, "/go-live"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/launch#launch-panel")
    assert status_of(db, world) == LifecycleStatus.LIVE.value


def test_the_team_leader_overrides_the_uat_with_a_reason(world, db, login_as):
    """L5: the leader sees the override; without a reason it is refused (422), with one
    the store is live and the reason is on the timeline."""
    http = login_as(world["leader"])
    panel = element(text(http.get(launch_url(world))), "launch-panel")
    assert 'id="override-form"' in panel and 'name="override_reason"' in panel

    refused = http.post(launch_url(world, "/go-live"), data={"override_reason": " "}, headers=HTMX)
    assert refused.status_code == 422
    assert "Say why the store launches before its launch checklists are complete." in element(
        text(refused), "field-override-override_reason", "div"
    )
    assert status_of(db, world) == LifecycleStatus.ONBOARDING.value

    launched = http.post(
        launch_url(world, "/go-live"),
        data={"override_reason": "Ramadan campaign starts tomorrow"},
        headers=HTMX,
    )
    assert launched.status_code == 200
    assert "Live since" in element(text(launched), "launch-panel")
    assert status_of(db, world) == LifecycleStatus.LIVE.value
    summary = db.session.scalar(
        select(TimelineEvent.summary).where(TimelineEvent.kind == TimelineKind.STORE_LAUNCHED.value)
    )
    assert summary == "Store launched by leader override: Ramadan campaign starts tomorrow"


def test_an_acm_posting_an_override_is_refused_and_nothing_changes(world, db, login_as):
    http = login_as(world["acm"])
    assert 'name="override_reason"' not in text(http.get(launch_url(world)))
    refused = http.post(
        launch_url(world, "/go-live"), data={"override_reason": "I say so"}, headers=HTMX
    )
    assert refused.status_code == 422
    assert "Only the client&#39;s team leader can launch a store" in element(
        text(refused), "launch-panel"
    )
    assert status_of(db, world) == LifecycleStatus.ONBOARDING.value
    kinds = db.session.scalars(select(TimelineEvent.kind)).all()
    assert TimelineKind.STORE_LAUNCHED.value not in kinds


# --- The contract's limits (L2) ----------------------------------------------------------


def usage_count(db) -> int:
    return db.session.scalar(select(func.count(ContractUsage.id)))


def test_a_delivery_past_a_limit_is_refused_with_the_contract_and_nothing_recorded(
    world, db, login_as
):
    """L2: one logo; a second is refused next to the quantity, in the contract's words."""
    http = login_as(world["acm"])
    url = launch_url(world, "/usage")
    done = http.post(url, data={"kind": "logo", "quantity": "1", "note": "v1"}, headers=HTMX)
    assert done.status_code == 200
    assert done.headers["HX-Retarget"] == "#limits-panel"
    assert "timeline-changed" in triggers(done)
    panel = text(done)
    assert 'data-used="1" data-allowance="1"' in element(panel, "limit-logo", "tr")
    assert "None left" in element(panel, "limit-logo", "tr")
    assert "Logo designed: <strong>1</strong> — v1" in panel and "Mona Adel" in panel

    refused = http.post(url, data={"kind": "logo", "quantity": "1"}, headers=HTMX)
    assert refused.status_code == 422
    field = element(text(refused), "field-usage-quantity", "div")
    assert "The contract allows 1 logo: 1 recorded, 1 more would make 2." in field
    assert usage_count(db) == 1

    bad = http.post(url, data={"kind": "products", "quantity": "-3"}, headers=HTMX)
    assert bad.status_code == 422
    assert "Give a number from 1 to 10000." in element(text(bad), "field-usage-quantity", "div")
    assert usage_count(db) == 1

    # Without JavaScript the page comes back, with the refusal at the form.
    plain = http.post(url, data={"kind": "logo", "quantity": "1"})
    assert plain.status_code == 422 and "<html" in text(plain)
    assert "The contract allows 1 logo" in element(text(plain), "field-usage-quantity", "div")


def test_an_exception_agreed_by_the_leader_lets_the_delivery_through(world, db, login_as):
    """L2: the leader records 3 more slides & banners; 10 then fit (7 + 3)."""
    acm = login_as(world["acm"])
    url = launch_url(world, "/usage")
    assert acm.post(url, data={"kind": "slides", "quantity": "10"}, headers=HTMX).status_code == 422
    assert 'id="exception-form"' not in text(acm.get(launch_url(world)))
    assert (
        acm.post(
            launch_url(world, "/exception"),
            data={"limit": "slides", "extra": "3", "reason": "x"},
            headers=HTMX,
        ).status_code
        == 403
    )
    assert db.session.scalar(select(func.count(ContractException.id))) == 0

    leader = login_as(world["leader"])
    assert 'id="exception-form"' in text(leader.get(launch_url(world)))
    refused = leader.post(
        launch_url(world, "/exception"), data={"limit": "slides", "extra": "3"}, headers=HTMX
    )
    assert refused.status_code == 422
    assert "Say what was agreed" in element(text(refused), "field-exception-reason", "div")
    granted = leader.post(
        launch_url(world, "/exception"),
        data={"limit": "slides", "extra": "3", "reason": "Agreed for the Eid campaign"},
        headers=HTMX,
    )
    assert granted.status_code == 200
    assert "7 + 3 agreed" in element(text(granted), "limit-slides", "tr")

    done = acm.post(url, data={"kind": "slides", "quantity": "10"}, headers=HTMX)
    assert done.status_code == 200
    assert 'data-used="10" data-allowance="10"' in element(text(done), "limit-slides", "tr")
    slides = next(s for s in contract_limits.standings(world["client"]) if s.limit.key == "slides")
    assert slides.used == 10 and slides.remaining == 0


# --- Access ------------------------------------------------------------------------------


def test_another_acm_never_learns_the_client_exists(world, db, login_as):
    http = login_as(world["other_acm"])
    requests = [
        ("GET", launch_url(world), {}),
        ("GET", launch_url(world, "/lms/domain-ssl"), {}),
        ("POST", launch_url(world, "/lms/domain-ssl"), {"done": "y"}),
        ("GET", launch_url(world, "/lms/domain-ssl/details"), {}),
        ("POST", launch_url(world, "/lms/domain-ssl/details"), {"note": "x"}),
        ("POST", launch_url(world, "/go-live"), {}),
        ("POST", launch_url(world, "/go-live"), {"override_reason": "x"}),
        ("POST", launch_url(world, "/usage"), {"kind": "logo", "quantity": "1"}),
        ("POST", launch_url(world, "/exception"), {"limit": "logo", "extra": "1", "reason": "x"}),
    ]
    for method, url, data in requests:
        for headers in ({}, HTMX):
            response = http.open(url, method=method, data=data, headers=headers)
            assert response.status_code == 404, (method, url, response.status_code)
    assert item_of(db, "lms", "domain-ssl").done_at is None
    assert usage_count(db) == 0
    assert status_of(db, world) == LifecycleStatus.ONBOARDING.value


def test_the_client_summary_links_each_checklist_to_the_launch_page(world, db, app):
    """The partial the client page includes: each checklist's progress (L1, L3-L5)."""
    onboarding.update_item(world["client"], LMS.key, "template", actor=world["acm"], done=True)
    db.session.commit()
    client = world["client"]
    with app.test_request_context():
        from flask import render_template

        html = render_template(
            "onboarding/_launch_summary.html",
            client=client,
            progress=onboarding.progress_of(client),
        )
    assert 'id="launch-summary"' in html
    assert f'href="/clients/{client.id}/launch#checklist-lms"' in html
    assert "1 of 15" in element(html, "summary-lms", "li")
    assert "0 of 12" in element(html, "summary-uat", "li")


# --- Query counts ------------------------------------------------------------------------


def progressed(db, client, people, recorders, *, deliveries: int) -> None:
    """Every item of `client` ticked, with a note and evidence, by `people` in turn, and
    `deliveries` recorded by `recorders` in turn."""
    n = 0
    for definition in CHECKLISTS.values():
        for item in definition.items:
            onboarding.update_item(
                client,
                definition.key,
                item.key,
                actor=people[n % len(people)],
                done=True,
                note=f"note {n}",
                evidence=[f"https://evidence.example/{n}"],
            )
            n += 1
    for k in range(deliveries):
        contract_limits.record_usage(client, "categories", 1, actor=recorders[k % len(recorders)])
    db.session.commit()


def test_the_launch_page_query_count_does_not_grow_with_what_was_done(
    world, db, make_user, make_client, login_as
):
    """Ticks by many people, notes and evidence, deliveries by many others: the page
    issues as many queries for a client with little done as for one with much more."""
    http = login_as(world["leader"])
    little = make_client(acm=world["acm"], status=LifecycleStatus.LAUNCHING.value)
    much = make_client(acm=world["acm"], status=LifecycleStatus.LAUNCHING.value)
    for client in (little, much):
        onboarding.client_registered(client)
    admins = [make_user(Role.ADMIN, name=f"Admin {n}") for n in range(12)]
    progressed(db, little, [admins[0]], [admins[1]], deliveries=1)
    progressed(db, much, admins[:6], admins[6:], deliveries=18)

    counts = {}
    for name, client in (("fresh", world["client"]), ("little", little), ("much", much)):
        with counting_queries(db.engine) as statements:
            assert http.get(f"/clients/{client.id}/launch").status_code == 200
        counts[name] = len(statements)
    assert counts["little"] == counts["much"], counts
    # Who ticked the items and who recorded the deliveries: one query each (and the
    # people's roles), however many people; the header's notification badge one more.
    assert counts["much"] <= counts["fresh"] + 4 <= 21, counts
