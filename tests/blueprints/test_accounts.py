"""The admin pages for users and teams, through HTTP: forms, 422 on bad input, HTMX row
swaps, the audit log, and access (admins only; everyone else 403, anonymous to /login)."""

import re
from datetime import time

import pytest
from sqlalchemy import func, select

from kamportal.config import DEMO_PASSWORD
from kamportal.errors import ValidationError
from kamportal.models import AuditEvent, Role, Team, User
from kamportal.services import accounts
from tests.conftest import PASSWORD, sign_in

HTMX = {"HX-Request": "true"}


@pytest.fixture
def admin_client(login_as):
    return login_as(Role.ADMIN)


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit_actions(db, obj) -> list[tuple[str, int | None]]:
    rows = db.session.execute(
        select(AuditEvent.action, AuditEvent.actor_id)
        .where(AuditEvent.object_type == type(obj).__name__.lower())
        .where(AuditEvent.object_id == obj.id)
        .order_by(AuditEvent.id)
    )
    return [tuple(row) for row in rows]


def user_form(**overrides) -> dict:
    data = {
        "name": "Mona Adel",
        "email": "mona@kam.example",
        "password": "a long initial password",
        "roles": ["acm", "leader"],
        "team": "0",
        "timezone": "Africa/Cairo",
        "phone": "+20 100 123 4567",
        "booking_link": "https://cal.example/mona",
    }
    data.update(overrides)
    return data


def team_form(**overrides) -> dict:
    data = {
        "name": "Cairo Enterprise",
        "country": "EG",
        "timezone": "Africa/Cairo",
        "working_days": ["7", "1", "2", "3", "4"],
        "workday_starts": "09:00",
        "workday_ends": "17:00",
        "shared_mailbox": "cairo-kam@kam.example",
        "leader": "0",
        "confirmation_lead_hours": "24",
        "no_reply_whatsapp_after_hours": "24",
        "escalation_whatsapp_after_hours": "4",
        "escalation_leader_after_hours": "8",
        "invoice_reminder_days": "3",
        "support_sla_highest_hours": "4",
        "support_sla_high_hours": "8",
        "support_sla_medium_hours": "24",
        "support_sla_low_hours": "72",
        "support_sla_lowest_hours": "120",
        "not_selling_days": "7",
        "not_selling_drop_percent": "50",
    }
    data.update(overrides)
    return data


def input_value(page: str, name: str) -> str | None:
    """The value an <input> shows back to the admin."""
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)
    assert tag, name
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


def field_errors(page: str, name: str) -> list[str]:
    """The errors shown under one field of a form."""
    block = re.search(rf'<div class="field[^"]*" id="field-{name}">(.*?)</div>', page, re.S)
    assert block, name
    return re.findall(r'<small class="error" role="alert">(.*?)</small>', block.group(1))


# --- users --------------------------------------------------------------------------------


def test_users_page_lists_name_email_roles_team_and_status(admin_client, make_user, make_team):
    team = make_team(name="Gulf")
    make_user(Role.ACM, Role.FINANCE, team=team, name="Omar Fathy", email="omar@kam.example")
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "Omar Fathy" in page
    assert "omar@kam.example" in page
    assert "Account manager" in page and "Finance" in page
    assert "Gulf" in page
    assert "Active" in page


def test_users_list_filters_by_role_team_and_status(admin_client, make_user, make_team, db):
    team = make_team(name="Gulf")
    make_user(Role.ACM, team=team, name="Omar Gulf")
    make_user(Role.FINANCE, name="Fatma Finance")
    gone = make_user(Role.ACM, name="Gone Person")
    gone.active = False
    db.session.commit()

    by_role = admin_client.get("/admin/users?role=finance").get_data(as_text=True)
    assert "Fatma Finance" in by_role and "Omar Gulf" not in by_role
    by_team = admin_client.get(f"/admin/users?team={team.id}").get_data(as_text=True)
    assert "Omar Gulf" in by_team and "Fatma Finance" not in by_team
    inactive = admin_client.get("/admin/users?status=inactive").get_data(as_text=True)
    assert "Gone Person" in inactive and "Omar Gulf" not in inactive


def test_users_filter_over_htmx_returns_only_the_table(admin_client, make_user):
    make_user(Role.FINANCE, name="Fatma Finance")
    response = admin_client.get("/admin/users?role=finance", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="users-table">')
    assert "<html" not in body
    assert "Fatma Finance" in body
    assert "HX-Request" in response.headers["Vary"]


def test_admin_creates_a_user_with_two_roles_who_can_then_sign_in(admin_client, app, db):
    response = admin_client.post("/admin/users/new", data=user_form())
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/users"
    user = accounts.find_user_by_email("mona@kam.example")
    assert user.roles == {Role.ACM, Role.LEADER}
    assert user.timezone == "Africa/Cairo"
    assert user.phone == "+201001234567"
    assert audit_actions(db, user) == [("user.create", admin_client.user.id)]
    assert "Mona Adel can now sign in" in admin_client.get("/admin/users").get_data(as_text=True)

    newcomer = app.test_client()
    sign_in(newcomer, user, "a long initial password")
    assert "Hello, Mona Adel" in newcomer.get("/").get_data(as_text=True)


def test_new_user_form_offers_roles_as_checkboxes_and_zones_and_teams(admin_client, make_team):
    make_team(name="Gulf")
    page = admin_client.get("/admin/users/new").get_data(as_text=True)
    assert 'type="checkbox"' in page and 'value="commercial"' in page
    assert '<option value="Asia/Riyadh">' in page
    assert "Gulf" in page


def test_a_duplicate_email_is_refused_with_422_and_nothing_is_saved(admin_client, make_user, db):
    make_user(Role.ACM, email="mona@kam.example")
    users_before = count(db, User)
    response = admin_client.post("/admin/users/new", data=user_form(email="MONA@kam.example"))
    assert response.status_code == 422
    assert "A user with this email already exists." in response.get_data(as_text=True)
    assert count(db, User) == users_before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"roles": []}, "Choose at least one role."),
        ({"timezone": "Mars/Olympus"}, "Choose a time zone (IANA name, e.g. Africa/Cairo)."),
        ({"password": "short"}, "Field must be between 10 and 200 characters long."),
        ({"password": "1234567890"}, "This password is too easy to guess."),
        ({"phone": "12345"}, "Not a phone number."),
        ({"phone": "+20 12"}, "This phone number is not valid for its country."),
        ({"email": "not-an-email"}, "Not a valid email address."),
    ],
)
def test_a_new_user_with_bad_input_is_refused_with_the_reason(admin_client, db, changes, message):
    users_before = count(db, User)
    response = admin_client.post("/admin/users/new", data=user_form(**changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(db, User) == users_before


def test_admin_edits_roles_team_and_profile_and_the_change_is_audited(
    admin_client, make_user, make_team, db
):
    team = make_team(name="Gulf", country="SA")
    user = make_user(Role.ACM, name="Omar", email="omar@kam.example")
    form_page = admin_client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="acm"', form_page)
    assert "required" not in form_page.split('id="field-roles"')[1].split("</fieldset>")[0]

    response = admin_client.post(
        f"/admin/users/{user.id}/edit",
        data=user_form(
            name="Omar Fathy",
            email="omar@kam.example",
            roles=["acm", "product"],
            team=str(team.id),
            timezone="Asia/Riyadh",
            phone="0501234567",
        ),
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert user.name == "Omar Fathy"
    assert user.roles == {Role.ACM, Role.PRODUCT}
    assert user.team_id == team.id
    assert user.phone == "+966501234567"
    assert audit_actions(db, user)[-1] == ("user.update", admin_client.user.id)


def test_an_admin_cannot_remove_their_own_admin_role_through_the_form(admin_client, db):
    me = admin_client.user
    response = admin_client.post(
        f"/admin/users/{me.id}/edit",
        data=user_form(name=me.name, email=me.email, roles=["acm"], timezone="UTC"),
    )
    assert response.status_code == 422
    assert "You cannot remove your own admin role." in response.get_data(as_text=True)
    db.session.expire_all()
    assert me.roles == {Role.ADMIN}


def test_editing_a_user_that_does_not_exist_is_404(admin_client):
    assert admin_client.get("/admin/users/999999/edit").status_code == 404
    assert admin_client.post("/admin/users/999999/deactivate").status_code == 404


def test_a_deactivated_user_can_no_longer_sign_in_and_their_open_session_ends(
    admin_client, app, make_user, db
):
    user = make_user(Role.ACM)
    their_browser = app.test_client()
    sign_in(their_browser, user)
    assert their_browser.get("/").status_code == 200

    response = admin_client.post(f"/admin/users/{user.id}/deactivate")
    assert response.status_code == 303
    assert "can no longer sign in" in admin_client.get("/admin/users").get_data(as_text=True)

    open_session = their_browser.get("/")
    assert open_session.status_code == 302
    assert "/login" in open_session.headers["Location"]
    again = app.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
    assert again.status_code == 401
    assert audit_actions(db, user)[-1] == ("user.deactivate", admin_client.user.id)


def test_deactivate_over_htmx_swaps_the_users_row_in_place(admin_client, make_user, db):
    user = make_user(Role.ACM, name="Omar")
    response = admin_client.post(f"/admin/users/{user.id}/deactivate", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="user-{user.id}" class="inactive">')
    assert "<html" not in body
    assert "Inactive" in body
    assert f"/admin/users/{user.id}/activate" in body
    # The flash rides out of band, wrapped so the parser keeps it next to a <tr>.
    assert re.search(r'<template>\s*<div id="flashes"[^>]*hx-swap-oob="true"', body)
    assert "Omar is deactivated" in body
    db.session.expire_all()
    assert not user.active


def test_activate_over_htmx_swaps_the_row_back_and_the_user_can_sign_in(
    admin_client, app, make_user, db
):
    user = make_user(Role.ACM)
    accounts.deactivate_user(user, actor=None)
    db.session.commit()
    response = admin_client.post(f"/admin/users/{user.id}/activate", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="user-{user.id}">')
    assert f"/admin/users/{user.id}/deactivate" in body
    sign_in(app.test_client(), user)
    assert audit_actions(db, user)[-1] == ("user.activate", admin_client.user.id)


def test_an_admin_cannot_deactivate_themselves(admin_client, db):
    me = admin_client.user
    response = admin_client.post(f"/admin/users/{me.id}/deactivate")
    assert response.status_code == 303
    assert "You cannot deactivate your own account." in admin_client.get("/admin/users").get_data(
        as_text=True
    )

    htmx = admin_client.post(f"/admin/users/{me.id}/deactivate", headers=HTMX)
    assert htmx.status_code == 422
    assert "You cannot deactivate your own account." in htmx.get_data(as_text=True)
    db.session.expire_all()
    assert me.active
    assert admin_client.get("/admin/users").status_code == 200
    assert ("user.deactivate", me.id) not in audit_actions(db, me)


def test_the_users_own_row_offers_no_deactivate_button(admin_client):
    me = admin_client.user
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/{me.id}/deactivate" not in page


def test_reset_password_refuses_the_old_password_and_accepts_the_new_one(
    admin_client, app, make_user, db
):
    user = make_user(Role.ACM)
    assert admin_client.get(f"/admin/users/{user.id}/password").status_code == 200
    response = admin_client.post(
        f"/admin/users/{user.id}/password",
        data={"password": "a brand new secret", "confirm": "a brand new secret"},
    )
    assert response.status_code == 303
    old = app.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
    assert old.status_code == 401
    sign_in(app.test_client(), user, "a brand new secret")
    assert audit_actions(db, user)[-1] == ("user.password_reset", admin_client.user.id)


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("a brand new secret", "something else", "The two passwords differ."),
        ("short", "short", "Field must be between 10 and 200 characters long."),
        ("password123", "password123", "This password is too easy to guess."),
        (DEMO_PASSWORD, DEMO_PASSWORD, "published password: choose another."),
    ],
)
def test_a_bad_password_reset_is_refused_and_the_old_password_still_works(
    admin_client, app, make_user, password, confirm, message
):
    user = make_user(Role.ACM)
    response = admin_client.post(
        f"/admin/users/{user.id}/password", data={"password": password, "confirm": confirm}
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    sign_in(app.test_client(), user)


# --- teams --------------------------------------------------------------------------------


def test_admin_creates_a_team_with_leader_sunday_to_thursday_hours_and_mailbox(
    admin_client, make_user, db
):
    leader = make_user(Role.LEADER, name="Laila Leader")
    form_page = admin_client.get("/admin/teams/new").get_data(as_text=True)
    assert "Laila Leader" in form_page
    assert '<option value="EG">Egypt</option>' in form_page

    response = admin_client.post(
        "/admin/teams/new",
        data=team_form(leader=str(leader.id), workday_starts="08:30", workday_ends="16:30"),
    )
    assert response.status_code == 303
    team = db.session.scalar(select(Team).where(Team.name == "Cairo Enterprise"))
    assert team.leader_id == leader.id
    assert team.working_days == "7,1,2,3,4"
    assert (team.workday_starts, team.workday_ends) == (time(8, 30), time(16, 30))
    assert team.shared_mailbox == "cairo-kam@kam.example"
    assert audit_actions(db, team) == [("team.create", admin_client.user.id)]

    listing = admin_client.get("/admin/teams").get_data(as_text=True)
    assert f'id="team-{team.id}"' in listing
    for shown in ("Cairo Enterprise", "Laila Leader", "Egypt", "Sun–Thu", "08:30–16:30"):
        assert shown in listing
    assert "cairo-kam@kam.example" in listing


def test_admin_edits_a_team_and_the_change_is_audited(admin_client, make_user, make_team, db):
    team = make_team(name="Gulf", country="SA", timezone="Asia/Riyadh")
    leader = make_user(Role.LEADER, team=team, name="Laila Leader")
    page = admin_client.get(f"/admin/teams/{team.id}/edit").get_data(as_text=True)
    assert 'value="Gulf"' in page
    assert "Laila Leader" in page  # among the members and the leader choices

    response = admin_client.post(
        f"/admin/teams/{team.id}/edit",
        data=team_form(
            name="Gulf Enterprise",
            country="SA",
            timezone="Asia/Riyadh",
            working_days=["1", "2", "3", "4", "5"],
            leader=str(leader.id),
            shared_mailbox="",
        ),
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert team.name == "Gulf Enterprise"
    assert team.leader_id == leader.id
    assert team.working_days == "1,2,3,4,5"
    assert team.shared_mailbox is None
    assert audit_actions(db, team)[-1] == ("team.update", admin_client.user.id)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Cairo/Nowhere"}, "Choose a time zone (IANA name, e.g. Africa/Cairo)."),
        ({"country": "XX"}, "Choose a country (ISO 3166 code, e.g. EG)."),
        ({"workday_starts": "17:00", "workday_ends": "09:00"}, "must start before it ends"),
        ({"working_days": []}, "Choose at least one working day."),
        ({"shared_mailbox": "nobody"}, "The shared mailbox is not a valid email address."),
        ({"name": "Taken"}, "A team with this name already exists."),
    ],
)
def test_bad_team_settings_are_refused_with_422_and_nothing_changes(
    admin_client, make_team, db, changes, message
):
    make_team(name="Taken")
    team = make_team(name="Gulf", country="SA", timezone="Asia/Riyadh")
    before = accounts.team_snapshot(team)
    response = admin_client.post(f"/admin/teams/{team.id}/edit", data=team_form(**changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert accounts.team_snapshot(team) == before
    assert audit_actions(db, team) == []


def test_a_new_team_with_a_bad_time_zone_is_not_created(admin_client, db):
    response = admin_client.post("/admin/teams/new", data=team_form(timezone="Cairo"))
    assert response.status_code == 422
    assert "Choose a time zone" in response.get_data(as_text=True)
    assert count(db, Team) == 1  # the admin's own, from login_as


def test_only_active_leaders_are_offered_as_team_leader(admin_client, make_user, db):
    make_user(Role.LEADER, name="Laila Leader")
    make_user(Role.ACM, name="Adam Acm")
    page = admin_client.get("/admin/teams/new").get_data(as_text=True)
    assert "Laila Leader" in page
    assert "Adam Acm" not in page


def test_a_non_leader_posted_as_leader_is_refused(admin_client, make_user, db):
    acm = make_user(Role.ACM)
    response = admin_client.post("/admin/teams/new", data=team_form(leader=str(acm.id)))
    assert response.status_code == 422
    assert count(db, Team) == 1


# --- access -------------------------------------------------------------------------------


def admin_routes(app, user_id: int, team_id: int) -> list[tuple[str, str]]:
    """Every (method, url) of the accounts blueprint, with real ids filled in."""
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("accounts."):
                continue
            values = {"user_id": user_id, "team_id": team_id, "day_id": 1, "integration_id": 1}
            url = rule.build({k: v for k, v in values.items() if k in rule.arguments})[1]
            routes += [(m, url) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def test_the_accounts_blueprint_has_the_routes_the_access_matrix_expects(app):
    endpoints = {
        (rule.endpoint, frozenset(rule.methods - {"HEAD", "OPTIONS"}))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("accounts.")
    }
    assert endpoints == {
        ("accounts.users", frozenset({"GET"})),
        ("accounts.new_user", frozenset({"GET", "POST"})),
        ("accounts.edit_user", frozenset({"GET", "POST"})),
        ("accounts.deactivate_user", frozenset({"POST"})),
        ("accounts.activate_user", frozenset({"POST"})),
        ("accounts.reset_password", frozenset({"GET", "POST"})),
        ("accounts.teams", frozenset({"GET"})),
        ("accounts.new_team", frozenset({"GET", "POST"})),
        ("accounts.edit_team", frozenset({"GET", "POST"})),
        ("accounts.calendar", frozenset({"GET"})),
        ("accounts.add_calendar_day", frozenset({"POST"})),
        ("accounts.remove_calendar_day", frozenset({"POST"})),
        ("accounts.integrations_list", frozenset({"GET"})),
        ("accounts.new_integration", frozenset({"GET", "POST"})),
        ("accounts.revoke_integration", frozenset({"GET", "POST"})),
        ("accounts.integration_stores", frozenset({"GET", "POST"})),
    }


@pytest.mark.parametrize(
    "role", [Role.ACM, Role.LEADER, Role.FINANCE, Role.PRODUCT, Role.COMMERCIAL]
)
def test_non_admins_get_403_on_every_admin_route(app, login_as, make_user, make_team, db, role):
    http = login_as(role)
    target = make_user(Role.ACM)
    team = make_team()
    events_before = count(db, AuditEvent)
    for method, url in admin_routes(app, target.id, team.id):
        response = http.open(url, method=method, data={"name": "x"})
        assert response.status_code == 403, (method, url)
    db.session.expire_all()
    assert target.active
    assert count(db, AuditEvent) == events_before


def test_anonymous_visitors_are_sent_to_sign_in_from_every_admin_route(
    app, client, make_user, make_team
):
    target = make_user(Role.ACM)
    team = make_team()
    for method, url in admin_routes(app, target.id, team.id):
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/login"), (method, url)


def test_an_anonymous_htmx_request_is_told_to_redirect_to_sign_in(client, make_user):
    target = make_user(Role.ACM)
    response = client.post(f"/admin/users/{target.id}/deactivate", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_admin_pages_carry_no_inline_script_style_or_hx_on(admin_client, make_user, make_team):
    user = make_user(Role.ACM)
    team = make_team()
    for url in (
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{user.id}/edit",
        f"/admin/users/{user.id}/password",
        "/admin/teams",
        "/admin/teams/new",
        f"/admin/teams/{team.id}/edit",
        "/admin/calendar",
    ):
        response = admin_client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert "<script>" not in page and "style=" not in page and "hx-on" not in page, url


def test_a_password_reset_ends_the_users_open_sessions(app, login_as, make_user, db):
    from kamportal.services import accounts

    user = make_user(Role.ACM)
    http = login_as(user)
    assert http.get("/").status_code == 200
    accounts.reset_password(user, actor=None, new_password="a brand new password")
    db.session.commit()
    response = http.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_admin_sets_the_team_cadence(admin_client, make_team, db):
    """F2 and F3 settings on the team form."""
    team = make_team(name="Gulf")
    response = admin_client.post(
        f"/admin/teams/{team.id}/edit",
        data=team_form(
            name="Gulf",
            confirmation_lead_hours="6",
            followup_email_auto="y",
            no_reply_whatsapp_after_hours="8",
        ),
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert (team.confirmation_lead_hours, team.no_reply_whatsapp_after_hours) == (6, 8)
    assert team.followup_email_auto is True
    page = admin_client.get(f"/admin/teams/{team.id}/edit").get_data(as_text=True)
    assert "Meeting confirmation, hours before" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"confirmation_lead_hours": "3"}, "at least 4 hours before the meeting"),
        ({"no_reply_whatsapp_after_hours": "0"}, "Wait at least 1 business hour"),
        ({"confirmation_lead_hours": "soon"}, "Not a valid integer value"),
    ],
)
def test_bad_cadence_settings_are_refused_with_422(admin_client, make_team, db, changes, message):
    team = make_team(name="Gulf")
    response = admin_client.post(
        f"/admin/teams/{team.id}/edit", data=team_form(name="Gulf", **changes)
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert (team.confirmation_lead_hours, team.no_reply_whatsapp_after_hours) == (24, 24)


E2_WAITS = ("escalation_whatsapp_after_hours", "escalation_leader_after_hours")


def test_a_new_team_is_offered_the_e2_waits_of_4_and_8_business_hours(admin_client, db):
    page = admin_client.get("/admin/teams/new").get_data(as_text=True)
    shown = {name: input_value(page, name) for name in E2_WAITS}
    assert shown == {"escalation_whatsapp_after_hours": "4", "escalation_leader_after_hours": "8"}
    assert "we tried to call you" in page
    assert "goes to the team leader" in page

    response = admin_client.post("/admin/teams/new", data=team_form(**shown))
    assert response.status_code == 303
    team = db.session.scalar(select(Team).where(Team.name == "Cairo Enterprise"))
    assert (team.escalation_whatsapp_after_hours, team.escalation_leader_after_hours) == (4, 8)


def test_admin_sets_the_escalation_waits_and_sees_them_on_the_form_e2(admin_client, make_team, db):
    """E2: business hours before the WhatsApp step, then before the leader."""
    team = make_team(name="Gulf")
    response = admin_client.post(
        f"/admin/teams/{team.id}/edit",
        data=team_form(
            name="Gulf", escalation_whatsapp_after_hours="2", escalation_leader_after_hours="16"
        ),
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert (team.escalation_whatsapp_after_hours, team.escalation_leader_after_hours) == (2, 16)
    event = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "team.update", AuditEvent.object_id == team.id
        )
    ).one()
    assert event.actor_id == admin_client.user.id
    assert [event.before[name] for name in E2_WAITS] == [4, 8]
    assert [event.after[name] for name in E2_WAITS] == [2, 16]

    page = admin_client.get(f"/admin/teams/{team.id}/edit").get_data(as_text=True)
    assert [input_value(page, name) for name in E2_WAITS] == ["2", "16"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "escalation_whatsapp_after_hours",
            "0",
            "Wait at least 1 business hour after the email before the escalation WhatsApp (E2).",
        ),
        (
            "escalation_whatsapp_after_hours",
            "-3",
            "Wait at least 1 business hour after the email before the escalation WhatsApp (E2).",
        ),
        ("escalation_whatsapp_after_hours", "soon", "Not a valid integer value."),
        ("escalation_whatsapp_after_hours", "", "This field is required."),
        ("escalation_whatsapp_after_hours", None, "This field is required."),
        (
            "escalation_leader_after_hours",
            "0",
            "Wait at least 1 business hour after the WhatsApp before the escalation goes to "
            "the team leader (E2).",
        ),
        (
            "escalation_leader_after_hours",
            "-8",
            "Wait at least 1 business hour after the WhatsApp before the escalation goes to "
            "the team leader (E2).",
        ),
        ("escalation_leader_after_hours", "2.5", "Not a valid integer value."),
        ("escalation_leader_after_hours", "337", "At most 336 hours."),
        ("escalation_leader_after_hours", None, "This field is required."),
    ],
)
def test_a_bad_escalation_wait_is_refused_on_its_field_with_422_and_nothing_changes(
    admin_client, make_team, db, field, value, message
):
    """E2: the form comes back with the error under the wait concerned; the team is as it was."""
    team = make_team(
        name="Gulf", escalation_whatsapp_after_hours=3, escalation_leader_after_hours=6
    )
    before = accounts.team_snapshot(team)
    data = team_form(
        name="Gulf Renamed", escalation_whatsapp_after_hours="5", escalation_leader_after_hours="10"
    )
    if value is None:
        del data[field]
    else:
        data[field] = value
    response = admin_client.post(f"/admin/teams/{team.id}/edit", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in field_errors(page, field)
    [other] = [name for name in E2_WAITS if name != field]
    assert field_errors(page, other) == []
    db.session.expire_all()
    assert accounts.team_snapshot(team) == before
    assert audit_actions(db, team) == []


def test_a_deactivation_refused_after_the_change_shows_and_keeps_the_user_active(
    admin_client, make_user, db, monkeypatch
):
    """Issue 12: a refusal rolls back what the service had changed before it refused, so
    the row shown is the user as saved, still active, and nothing is audited."""
    user = make_user(Role.ACM, name="Omar")
    deactivate = accounts.deactivate_user

    def deactivate_then_refuse(user, *, actor):
        deactivate(user, actor=actor)
        raise ValidationError("Omar holds an open escalation.")

    monkeypatch.setattr(accounts, "deactivate_user", deactivate_then_refuse)
    response = admin_client.post(f"/admin/users/{user.id}/deactivate", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith(f'<tr id="user-{user.id}">')
    assert "Omar holds an open escalation." in body
    db.session.expire_all()
    assert user.active
    assert ("user.deactivate", admin_client.user.id) not in audit_actions(db, user)
