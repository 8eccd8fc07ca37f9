"""Users and teams without HTTP: profile and role changes, deactivation, password resets,
team calendars and leaders, and the audit log every change writes (P6)."""

from datetime import time

import pytest
from sqlalchemy import select

from kamportal.config import DEMO_PASSWORD
from kamportal.errors import RuleViolation, ValidationError
from kamportal.models import AuditEvent, Role, Team, User
from kamportal.services import accounts
from tests.conftest import PASSWORD


def audit_events(db, action: str, obj) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.object_id == obj.id)
            .order_by(AuditEvent.id)
        )
    )


def team_settings(**overrides) -> dict:
    values = {
        "name": "Cairo Enterprise",
        "country": "EG",
        "timezone": "Africa/Cairo",
        "working_days": [7, 1, 2, 3, 4],
        "workday_starts": time(9, 0),
        "workday_ends": time(17, 0),
        "shared_mailbox": "cairo-kam@kam.example",
        "leader": None,
    }
    values.update(overrides)
    return values


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Ada Admin")


# --- users --------------------------------------------------------------------------------


def test_create_user_with_two_roles_writes_an_audit_event(db, admin, make_team):
    team = make_team()
    user = accounts.create_user(
        actor=admin,
        email=" Mona@KAM.example ",
        name="Mona Adel",
        password=PASSWORD,
        roles=[Role.ACM, Role.LEADER],
        team=team,
        timezone="Africa/Cairo",
        phone="+20 100 123 4567",
    )
    db.session.commit()
    assert user.email == "mona@kam.example"
    assert user.roles == {Role.ACM, Role.LEADER}
    assert user.phone == "+201001234567"
    [event] = audit_events(db, "user.create", user)
    assert event.actor_id == admin.id
    assert event.after["roles"] == ["acm", "leader"]
    assert "password" not in str(event.after)


def test_create_user_refuses_a_taken_email_whatever_its_case(db, admin, make_user):
    make_user(Role.ACM, email="mona@kam.example")
    with pytest.raises(ValidationError) as refused:
        accounts.create_user(
            actor=admin, email="MONA@kam.example", name="Other", password=PASSWORD, roles=[Role.ACM]
        )
    assert refused.value.field == "email"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"roles": []}, "roles"),
        ({"name": "  "}, "name"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"password": "short"}, "password"),
        ({"phone": "12"}, "phone"),
        ({"booking_link": "javascript:alert(1)"}, "booking_link"),
    ],
)
def test_create_user_refuses_bad_input_and_saves_nothing(db, admin, changes, field):
    values = {"email": "new@kam.example", "name": "New", "password": PASSWORD, "roles": [Role.ACM]}
    values.update(changes)
    with pytest.raises(ValidationError) as refused:
        accounts.create_user(actor=admin, **values)
    assert refused.value.field == field
    db.session.rollback()
    assert accounts.find_user_by_email("new@kam.example") is None


def test_update_user_changes_roles_team_and_profile_and_audits_before_and_after(
    db, admin, make_user, make_team
):
    team = make_team(country="SA")
    user = make_user(Role.ACM, name="Omar")
    accounts.update_user(
        user,
        actor=admin,
        name="Omar Fathy",
        roles=[Role.ACM, Role.FINANCE],
        team=team,
        timezone="Asia/Riyadh",
        phone="0501234567",  # read as a Saudi number: the team's country
        booking_link="https://cal.example/omar",
    )
    db.session.commit()
    assert user.roles == {Role.ACM, Role.FINANCE}
    assert user.team == team
    assert user.phone == "+966501234567"
    [event] = audit_events(db, "user.update", user)
    assert event.before["roles"] == ["acm"]
    assert event.after["roles"] == ["acm", "finance"]
    assert event.before["team_id"] is None
    assert event.after["team_id"] == team.id
    assert event.after["timezone"] == "Asia/Riyadh"


def test_update_user_without_changes_writes_no_audit_event(db, admin, make_user):
    user = make_user(Role.ACM, name="Omar")
    accounts.update_user(
        user,
        actor=admin,
        name="Omar",
        roles=[Role.ACM],
        team=None,
        timezone="UTC",
        phone=None,
        booking_link=None,
    )
    assert audit_events(db, "user.update", user) == []


def test_update_user_refuses_an_email_another_user_has_and_changes_nothing(db, admin, make_user):
    make_user(Role.ACM, email="taken@kam.example")
    user = make_user(Role.ACM, name="Omar", email="omar@kam.example")
    with pytest.raises(ValidationError) as refused:
        accounts.update_user(
            user,
            actor=admin,
            email="Taken@kam.example",
            name="Renamed",
            roles=[Role.ACM],
            team=None,
            timezone="UTC",
            phone=None,
            booking_link=None,
        )
    assert refused.value.field == "email"
    assert (user.email, user.name) == ("omar@kam.example", "Omar")


def test_an_admin_cannot_remove_their_own_admin_role(db, admin):
    with pytest.raises(ValidationError, match="your own admin role"):
        accounts.update_user(
            admin,
            actor=admin,
            name=admin.name,
            roles=[Role.ACM],
            team=None,
            timezone="UTC",
            phone=None,
            booking_link=None,
        )
    assert admin.roles == {Role.ADMIN}


def test_the_leader_role_stays_while_the_user_leads_a_team(db, admin, make_user, make_team):
    leader = make_user(Role.LEADER, name="Laila")
    make_team(name="Gulf", leader=leader)
    with pytest.raises(ValidationError, match="Laila leads Gulf") as refused:
        accounts.update_user(
            leader,
            actor=admin,
            name="Laila",
            roles=[Role.ACM],
            team=None,
            timezone="UTC",
            phone=None,
            booking_link=None,
        )
    assert refused.value.field == "roles"
    assert leader.roles == {Role.LEADER}


def test_deactivated_user_can_no_longer_sign_in_and_activation_restores_it(db, admin, make_user):
    user = make_user(Role.ACM)
    accounts.deactivate_user(user, actor=admin)
    db.session.commit()
    assert accounts.authenticate(user.email, PASSWORD) is None
    [event] = audit_events(db, "user.deactivate", user)
    assert (event.before["active"], event.after["active"]) == (True, False)

    accounts.activate_user(user, actor=admin)
    db.session.commit()
    assert accounts.authenticate(user.email, PASSWORD) == user
    assert len(audit_events(db, "user.activate", user)) == 1


def test_an_admin_cannot_deactivate_themselves(db, admin):
    with pytest.raises(ValidationError, match="your own account"):
        accounts.deactivate_user(admin, actor=admin)
    assert admin.active
    assert audit_events(db, "user.deactivate", admin) == []


def test_a_team_leader_cannot_be_deactivated_until_the_team_has_another_leader(
    db, admin, make_user, make_team
):
    leader = make_user(Role.LEADER, name="Laila")
    team = make_team(name="Gulf", leader=leader)
    with pytest.raises(ValidationError, match="another leader"):
        accounts.deactivate_user(leader, actor=admin)
    assert leader.active
    accounts.update_team(team, actor=admin, **team_settings(name="Gulf", leader=None))
    accounts.deactivate_user(leader, actor=admin)
    assert not leader.active


def test_deactivating_twice_writes_one_audit_event(db, admin, make_user):
    user = make_user(Role.ACM)
    accounts.deactivate_user(user, actor=admin)
    accounts.deactivate_user(user, actor=admin)
    assert len(audit_events(db, "user.deactivate", user)) == 1


def test_reset_password_refuses_the_old_one_and_accepts_the_new_one(db, admin, make_user):
    user = make_user(Role.ACM)
    accounts.reset_password(user, actor=admin, new_password="a brand new secret")
    db.session.commit()
    assert accounts.authenticate(user.email, PASSWORD) is None
    assert accounts.authenticate(user.email, "a brand new secret") == user
    [event] = audit_events(db, "user.password_reset", user)
    assert event.actor_id == admin.id
    assert event.before is None and event.after is None  # never the password or its hash


def test_reset_password_refuses_a_short_password_and_keeps_the_old_one(db, admin, make_user):
    user = make_user(Role.ACM)
    with pytest.raises(ValidationError) as refused:
        accounts.reset_password(user, actor=admin, new_password="short")
    assert refused.value.field == "password"
    assert accounts.authenticate(user.email, PASSWORD) == user


# --- passwords: refused when easy to guess, wherever one is set ----------------------------


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("1234567890", "This is a top-100 common password."),
        ("password123", "This is a very common password."),
        ("qwertyuiop", "This is a top-100 common password."),
        ("Passw0rd!2024", "This is similar to a commonly used password."),
        (DEMO_PASSWORD, "This is the demo's published password: choose another."),
        ("KAM-demo-2026!", "This password is too easy to guess."),
        ("expandcart123", "This password is too easy to guess."),
        ("Mona.Adel.2026", "A password must not contain the user's name or email address."),
        ("mona.adel.kam", "A password must not contain the user's name or email address."),
    ],
)
def test_a_common_or_guessable_password_is_refused_saying_why(db, admin, make_user, password, why):
    user = make_user(Role.ACM, name="Mona Adel", email="mona.adel@kam.example")
    with pytest.raises(ValidationError) as refused:
        accounts.reset_password(user, actor=admin, new_password=password)
    assert refused.value.field == "password"
    assert why in refused.value.message
    db.session.rollback()
    assert accounts.authenticate(user.email, PASSWORD) == user
    with pytest.raises(ValidationError) as refused:
        accounts.create_user(
            actor=admin,
            email="mona.adel@another.example",
            name="Mona Adel",
            password=password,
            roles=[Role.ACM],
        )
    assert refused.value.field == "password"
    assert why in refused.value.message


@pytest.mark.parametrize("password", ["correct horse battery", "plum-orbit-tandem-93"])
def test_a_strong_password_is_accepted(db, admin, password):
    user = accounts.create_user(
        actor=admin, email="new@kam.example", name="New", password=password, roles=[Role.ACM]
    )
    db.session.commit()
    assert accounts.authenticate("new@kam.example", password) == user


@pytest.mark.config(ENV_NAME="development")
def test_the_demo_password_is_accepted_in_the_demo(db, admin):
    user = accounts.create_user(
        actor=admin, email="new@kam.example", name="New", password=DEMO_PASSWORD, roles=[Role.ACM]
    )
    db.session.commit()
    assert accounts.authenticate("new@kam.example", DEMO_PASSWORD) == user


def test_create_user_on_the_command_line_refuses_a_common_password(app, db):
    command = "kam create-user --email boss@kam.example --name Boss --role admin --password"
    result = app.test_cli_runner().invoke(args=[*command.split(), "1234567890"])
    assert result.exit_code != 0
    assert "This password is too easy to guess." in result.output
    assert accounts.find_user_by_email("boss@kam.example") is None


def test_list_users_filters_by_role_team_and_status(db, admin, make_user, make_team):
    team = make_team()
    acm = make_user(Role.ACM, team=team, name="B acm")
    finance = make_user(Role.FINANCE, name="C finance")
    gone = make_user(Role.ACM, name="D gone")
    accounts.deactivate_user(gone, actor=admin)
    assert accounts.list_users(role=Role.ACM) == [acm, gone]
    assert accounts.list_users(team=team) == [acm]
    assert accounts.list_users(no_team=True, active=True) == [admin, finance]
    assert accounts.list_users(active=False) == [gone]


# --- teams --------------------------------------------------------------------------------


def test_create_team_with_leader_sunday_to_thursday_hours_and_mailbox(db, admin, make_user):
    leader = make_user(Role.LEADER, Role.ACM)
    team = accounts.create_team(
        actor=admin,
        **team_settings(
            working_days=[1, 2, 3, 4, 7],
            workday_starts=time(8, 30),
            workday_ends=time(16, 30),
            shared_mailbox="Cairo-KAM@kam.example",
            leader=leader,
        ),
    )
    db.session.commit()
    assert team.leader == leader
    assert team.working_days == "7,1,2,3,4"  # stored in the team's week order
    assert accounts.describe_week(team.working_weekdays) == "Sun–Thu"
    assert (team.workday_starts, team.workday_ends) == (time(8, 30), time(16, 30))
    assert team.shared_mailbox == "cairo-kam@kam.example"
    [event] = audit_events(db, "team.create", team)
    assert event.after["leader_id"] == leader.id
    assert event.after["working_days"] == "7,1,2,3,4"
    assert event.after["workday_starts"] == "08:30:00"


def test_update_team_audits_the_fields_before_and_after(db, admin, make_user):
    team = accounts.create_team(actor=admin, **team_settings())
    leader = make_user(Role.LEADER)
    accounts.update_team(
        team,
        actor=admin,
        **team_settings(
            name="Riyadh Enterprise",
            country="SA",
            timezone="Asia/Riyadh",
            working_days=[1, 2, 3, 4, 5],
            leader=leader,
            shared_mailbox="",
        ),
    )
    db.session.commit()
    assert (team.name, team.country, team.working_days) == ("Riyadh Enterprise", "SA", "1,2,3,4,5")
    assert team.shared_mailbox is None
    [event] = audit_events(db, "team.update", team)
    assert event.before["name"] == "Cairo Enterprise"
    assert event.after["name"] == "Riyadh Enterprise"
    assert event.before["leader_id"] is None
    assert event.after["leader_id"] == leader.id


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"timezone": "Cairo"}, "timezone", "Choose a time zone"),
        ({"country": "XX"}, "country", "Choose a country"),
        ({"country": "Egypt"}, "country", "Choose a country"),
        ({"working_days": []}, "working_days", "at least one working day"),
        ({"working_days": [0, 8]}, "working_days", "ISO weekdays"),
        ({"workday_starts": time(17, 0), "workday_ends": time(9, 0)}, "workday_ends", "start"),
        ({"workday_starts": time(9, 0), "workday_ends": time(9, 0)}, "workday_ends", "start"),
        ({"shared_mailbox": "not a mailbox"}, "shared_mailbox", "valid email"),
        ({"name": " "}, "name", "needs a name"),
    ],
)
def test_update_team_refuses_bad_settings_and_changes_nothing(db, admin, changes, field, message):
    team = accounts.create_team(actor=admin, **team_settings())
    db.session.commit()
    before = accounts.team_snapshot(team)
    # Valid changes beside the bad one: none of them may be applied either.
    valid = {"name": "Renamed", "country": "SA", "timezone": "Asia/Riyadh", "leader": None}
    with pytest.raises(ValidationError, match=message) as refused:
        accounts.update_team(team, actor=admin, **team_settings(**{**valid, **changes}))
    assert refused.value.field == field
    assert accounts.team_snapshot(team) == before
    assert audit_events(db, "team.update", team) == []


def test_team_names_are_unique_whatever_their_case(db, admin):
    accounts.create_team(actor=admin, **team_settings(name="Cairo"))
    with pytest.raises(ValidationError, match="already exists") as refused:
        accounts.create_team(actor=admin, **team_settings(name=" cairo "))
    assert refused.value.field == "name"


def test_a_team_keeps_its_own_name_when_saved_again(db, admin):
    team = accounts.create_team(actor=admin, **team_settings(name="Cairo"))
    accounts.update_team(team, actor=admin, **team_settings(name="Cairo", workday_ends=time(18)))
    assert team.workday_ends == time(18, 0)


@pytest.mark.parametrize("roles", [(Role.ACM,), (Role.ADMIN, Role.FINANCE)])
def test_a_team_leader_must_hold_the_leader_role(db, admin, make_user, roles):
    not_a_leader = make_user(*roles)
    with pytest.raises(ValidationError, match="leader role") as refused:
        accounts.create_team(actor=admin, **team_settings(leader=not_a_leader))
    assert refused.value.field == "leader"
    db.session.rollback()
    assert db.session.scalars(select(Team)).all() == []


def test_an_inactive_leader_cannot_lead_a_team(db, admin, make_user):
    leader = make_user(Role.LEADER)
    accounts.deactivate_user(leader, actor=admin)
    with pytest.raises(ValidationError, match="active"):
        accounts.create_team(actor=admin, **team_settings(leader=leader))


def test_eligible_leaders_are_the_active_users_with_the_leader_role(db, admin, make_user):
    leader = make_user(Role.LEADER, name="A leader")
    make_user(Role.ACM)
    gone = make_user(Role.LEADER)
    accounts.deactivate_user(gone, actor=admin)
    assert accounts.eligible_leaders() == [leader]


@pytest.mark.parametrize(
    ("days", "order", "label"),
    [
        ([1, 2, 3, 4, 7], (7, 1, 2, 3, 4), "Sun–Thu"),
        ([5, 4, 3, 2, 1], (1, 2, 3, 4, 5), "Mon–Fri"),
        ([6, 7, 1, 2, 3], (6, 7, 1, 2, 3), "Sat–Wed"),
        ([1, 3, 5], (1, 3, 5), "Mon, Wed, Fri"),
        ([1, 2, 3, 4, 5, 6, 7], (1, 2, 3, 4, 5, 6, 7), "Mon–Sun"),
        ([2], (2,), "Tue"),
    ],
)
def test_working_days_are_kept_in_the_teams_week_order(days, order, label):
    assert accounts.week_order(days) == order
    assert accounts.describe_week(days) == label


def test_services_leave_the_commit_to_the_caller(db, admin, make_user):
    user = make_user(Role.ACM, name="Omar")
    accounts.update_user(
        user,
        actor=admin,
        name="Omar Renamed",
        roles=[Role.ACM],
        team=None,
        timezone="UTC",
        phone=None,
        booking_link=None,
    )
    db.session.rollback()
    assert db.session.get(User, user.id).name == "Omar"


# --- team cadence (F2, F3) ----------------------------------------------------------------


def test_team_cadence_settings_are_saved_and_audited(db, admin):
    team = accounts.create_team(actor=admin, **team_settings())
    assert (team.confirmation_lead_hours, team.no_reply_whatsapp_after_hours) == (24, 24)
    assert team.followup_email_auto is False
    accounts.update_team(
        team,
        actor=admin,
        **team_settings(
            confirmation_lead_hours=4, followup_email_auto=True, no_reply_whatsapp_after_hours=1
        ),
    )
    db.session.commit()
    assert (team.confirmation_lead_hours, team.no_reply_whatsapp_after_hours) == (4, 1)
    assert team.followup_email_auto is True
    [event] = audit_events(db, "team.update", team)
    assert event.before["confirmation_lead_hours"] == 24
    assert event.after["followup_email_auto"] is True


def test_an_edit_without_cadence_settings_keeps_them(db, admin):
    team = accounts.create_team(
        actor=admin, **team_settings(confirmation_lead_hours=48, followup_email_auto=True)
    )
    accounts.update_team(team, actor=admin, **team_settings(name="Renamed"))
    assert (team.confirmation_lead_hours, team.followup_email_auto) == (48, True)


def test_a_confirmation_lead_time_under_4_hours_breaks_f3(db, admin):
    team = accounts.create_team(actor=admin, **team_settings())
    with pytest.raises(RuleViolation) as refused:
        accounts.update_team(
            team, actor=admin, **team_settings(name="Renamed", confirmation_lead_hours=3)
        )
    assert (refused.value.rule, refused.value.field) == ("F3", "confirmation_lead_hours")
    assert (team.name, team.confirmation_lead_hours) == ("Cairo Enterprise", 24)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"no_reply_whatsapp_after_hours": 0}, "no_reply_whatsapp_after_hours", "at least 1"),
        ({"no_reply_whatsapp_after_hours": 1.5}, "no_reply_whatsapp_after_hours", "whole"),
        ({"confirmation_lead_hours": "24"}, "confirmation_lead_hours", "whole"),
        ({"confirmation_lead_hours": 10_000}, "confirmation_lead_hours", "At most"),
    ],
)
def test_cadence_settings_out_of_range_are_refused(db, admin, changes, field, message):
    team = accounts.create_team(actor=admin, **team_settings())
    with pytest.raises(ValidationError, match=message) as refused:
        accounts.update_team(team, actor=admin, **team_settings(**changes))
    assert refused.value.field == field


# --- team escalation waits (E2) -----------------------------------------------------------


def test_a_new_team_waits_4_then_8_business_hours_on_the_escalation_ladder_e2(db, admin):
    team = accounts.create_team(actor=admin, **team_settings())
    db.session.commit()
    assert (team.escalation_whatsapp_after_hours, team.escalation_leader_after_hours) == (4, 8)
    [event] = audit_events(db, "team.create", team)
    assert event.after["escalation_whatsapp_after_hours"] == 4
    assert event.after["escalation_leader_after_hours"] == 8


def test_the_escalation_waits_are_saved_and_audited_before_and_after_e2(db, admin):
    team = accounts.create_team(actor=admin, **team_settings())
    accounts.update_team(
        team,
        actor=admin,
        **team_settings(escalation_whatsapp_after_hours=2, escalation_leader_after_hours=16),
    )
    db.session.commit()
    db.session.expire_all()
    assert (team.escalation_whatsapp_after_hours, team.escalation_leader_after_hours) == (2, 16)
    [event] = audit_events(db, "team.update", team)
    assert event.actor_id == admin.id
    assert (
        event.before["escalation_whatsapp_after_hours"],
        event.before["escalation_leader_after_hours"],
    ) == (4, 8)
    assert (
        event.after["escalation_whatsapp_after_hours"],
        event.after["escalation_leader_after_hours"],
    ) == (2, 16)


def test_an_edit_without_the_escalation_waits_keeps_them_e2(db, admin):
    team = accounts.create_team(
        actor=admin,
        **team_settings(escalation_whatsapp_after_hours=1, escalation_leader_after_hours=336),
    )
    accounts.update_team(team, actor=admin, **team_settings(name="Renamed"))
    assert team.name == "Renamed"
    assert (team.escalation_whatsapp_after_hours, team.escalation_leader_after_hours) == (1, 336)


@pytest.mark.parametrize(
    "field", ["escalation_whatsapp_after_hours", "escalation_leader_after_hours"]
)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, r"at least 1 business hour .*\(E2\)"),
        (-4, r"at least 1 business hour .*\(E2\)"),
        (1.5, "whole number of hours"),
        ("8", "whole number of hours"),
        (None, "whole number of hours"),
        (True, "whole number of hours"),
        (337, "At most 336 hours"),
    ],
)
def test_an_escalation_wait_out_of_range_is_refused_and_nothing_changes_e2(
    db, admin, field, value, message
):
    team = accounts.create_team(actor=admin, **team_settings())
    db.session.commit()
    with pytest.raises(ValidationError, match=message) as refused:
        accounts.update_team(team, actor=admin, **team_settings(name="Renamed", **{field: value}))
    assert refused.value.field == field
    assert team.name == "Cairo Enterprise"
    assert (team.escalation_whatsapp_after_hours, team.escalation_leader_after_hours) == (4, 8)
    assert audit_events(db, "team.update", team) == []


def test_the_invoice_reminder_interval_is_set_per_team_r4(db, admin):
    team = accounts.create_team(actor=admin, **team_settings())
    assert team.invoice_reminder_days == 3
    accounts.update_team(team, actor=admin, **team_settings(invoice_reminder_days=7))
    assert team.invoice_reminder_days == 7
    [event] = audit_events(db, "team.update", team)
    assert (event.before["invoice_reminder_days"], event.after["invoice_reminder_days"]) == (3, 7)


@pytest.mark.parametrize("value", [0, 31, -1, 2.5, "3", None, True])
def test_an_invoice_reminder_interval_out_of_range_is_refused_r4(db, admin, value):
    team = accounts.create_team(actor=admin, **team_settings())
    db.session.commit()
    with pytest.raises(ValidationError, match=r"1 to 30 days .*\(R4\)") as refused:
        accounts.update_team(team, actor=admin, **team_settings(invoice_reminder_days=value))
    assert refused.value.field == "invoice_reminder_days"
    assert team.invoice_reminder_days == 3


def test_the_support_sla_is_set_per_team_and_priority_g4(db, admin):
    team = accounts.create_team(actor=admin, **team_settings())
    assert (team.support_sla_highest_hours, team.support_sla_lowest_hours) == (4, 120)
    accounts.update_team(
        team, actor=admin, **team_settings(support_sla_highest_hours=2, support_sla_low_hours=336)
    )
    assert (team.support_sla_highest_hours, team.support_sla_low_hours) == (2, 336)
    [event] = audit_events(db, "team.update", team)
    assert (
        event.before["support_sla_highest_hours"],
        event.after["support_sla_highest_hours"],
    ) == (
        4,
        2,
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [(0, "at least 1 hour on a High ticket"), (337, "At most 336 hours"), (2.5, "whole number")],
)
def test_a_support_sla_out_of_range_is_refused_g4(db, admin, value, message):
    team = accounts.create_team(actor=admin, **team_settings())
    db.session.commit()
    with pytest.raises(ValidationError, match=message) as refused:
        accounts.update_team(team, actor=admin, **team_settings(support_sla_high_hours=value))
    assert refused.value.field == "support_sla_high_hours"
    assert team.support_sla_high_hours == 8
