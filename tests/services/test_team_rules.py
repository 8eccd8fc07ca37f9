"""The rule settings a team starts with are written once (TeamRules): a new team, the team
form and a client whose ACM has no team all say the same numbers (F2, F3, E2, R4)."""

from dataclasses import fields

from kamportal.blueprints.accounts.forms import TeamForm
from kamportal.models import TEAM_RULES, Team, rules_of
from kamportal.services import meetings
from kamportal.services.calendar import calendar_for_client


def test_a_new_team_starts_with_the_rules_defaults(db):
    team = Team(name="New team", country="EG", timezone="Africa/Cairo")
    db.session.add(team)
    db.session.commit()

    for setting in fields(TEAM_RULES):
        assert getattr(team, setting.name) == getattr(TEAM_RULES, setting.name), setting.name


def test_the_team_form_offers_the_same_defaults(app):
    with app.test_request_context():
        form = TeamForm()

    assert form.working_days.data == list(TEAM_RULES.working_weekdays)
    for setting in fields(TEAM_RULES):
        if setting.name != "working_days":
            assert getattr(form, setting.name).data == getattr(TEAM_RULES, setting.name)


def test_a_client_without_a_team_gets_the_same_rules(db, make_user, make_client):
    acm = make_user("acm")  # no team
    client = make_client(acm=acm, timezone="Africa/Cairo", country="EG")

    assert rules_of(None) is TEAM_RULES
    assert meetings.lead_hours_for(acm) == TEAM_RULES.confirmation_lead_hours
    calendar = calendar_for_client(client)
    assert calendar.working_weekdays == frozenset(TEAM_RULES.working_weekdays)
    assert (calendar.opens, calendar.closes) == (TEAM_RULES.workday_starts, TEAM_RULES.workday_ends)
