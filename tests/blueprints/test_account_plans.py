"""P1: the account plan's page over HTTP: each part saved in place (HTMX) as a version,
bad input shown with its errors and nothing saved, the client page's line, the review."""

from datetime import date

import pytest
from sqlalchemy import func, select

from kamportal.models import AccountPlanVersion, Role
from kamportal.services import account_plans

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(make_portfolio):
    return make_portfolio(team={"name": "Cairo"}, contact={"name": "Hoda Owner", "role": "Owner"})


def versions(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AccountPlanVersion))


def new_goal(**changes) -> dict:
    values = {
        "new-goal-title": "Grow online revenue",
        "new-goal-metric": "Monthly GMV",
        "new-goal-target": "EGP 500,000",
        "new-goal-due_on": "2027-06-30",
        "new-goal-status": "on_track",
    }
    return {**values, **changes}


def test_an_objective_added_in_place_shows_the_new_version_P1(db, world, login_as):
    http = login_as(world.acm)
    url = f"/clients/{world.client.id}/plan"
    assert "No account plan yet" in http.get(url).get_data(as_text=True)
    response = http.post(f"{url}/goals", data=new_goal(), headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="account-plan">') and "<html" not in html
    assert "Grow online revenue" in html and "Version 1" in html
    assert "Goal added: Grow online revenue" in html
    assert "plan-changed" in response.headers["HX-Trigger"]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"new-goal-metric": ""}, "Say how it is measured."),
        ({"new-goal-due_on": "9999-12-31"}, "Give a date"),
        ({"new-goal-title": "Grow\x00"}, "invisible"),
        ({"new-goal-status": "finished"}, "Not a valid choice"),
    ],
)
def test_a_bad_objective_comes_back_with_its_error_and_saves_nothing_P1(
    db, world, login_as, changes, error
):
    response = login_as(world.acm).post(
        f"/clients/{world.client.id}/plan/goals", data=new_goal(**changes), headers=HTMX
    )
    assert response.status_code == 422
    assert error in response.get_data(as_text=True)
    assert versions(db) == 0


def test_the_goal_is_edited_and_removed_from_its_row_P1(db, world, login_as):
    version = account_plans.add_goal(
        world.client,
        account_plans.GoalInput(
            "Launch on the marketplace", "Listed products", "200", date(2027, 3, 1)
        ),
        actor=world.acm,
    )
    db.session.commit()
    key = version.content["goals"][0]["key"]
    http = login_as(world.leader)
    base = f"/clients/{world.client.id}/plan/goals/{key}"
    edited = http.post(
        base,
        data={
            f"goal-{key}-title": "Launch on the marketplace",
            f"goal-{key}-metric": "Listed products",
            f"goal-{key}-target": "250",
            f"goal-{key}-due_on": "2027-03-01",
            f"goal-{key}-status": "achieved",
        },
        headers=HTMX,
    ).get_data(as_text=True)
    assert "target 200 → 250; status not started → achieved" in edited
    removed = http.post(f"{base}/remove", headers=HTMX).get_data(as_text=True)
    assert "Goal removed: Launch on the marketplace" in removed and versions(db) == 3


def test_stakeholders_are_chosen_from_the_contacts_P1(db, world, login_as):
    http = login_as(world.acm)
    page = http.get(f"/clients/{world.client.id}/plan").get_data(as_text=True)
    assert f'<option value="{world.contact.id}">Hoda Owner</option>' in page
    response = http.post(
        f"/clients/{world.client.id}/plan/stakeholders",
        data={"contact_id": str(world.contact.id), "influence": "high"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Stakeholder added: Hoda Owner" in response.get_data(as_text=True)
    again = http.post(
        f"/clients/{world.client.id}/plan/stakeholders",
        data={"contact_id": str(world.contact.id), "influence": "low"},
        headers=HTMX,
    )
    assert again.status_code == 422 and "a stakeholder already" in again.get_data(as_text=True)


def test_the_review_is_recorded_from_the_plan_P1(db, world, login_as):
    account_plans.save_summary(world.client, actor=world.acm, value_proposition="V", roadmap="")
    db.session.commit()
    http = login_as(world.acm)
    response = http.post(
        f"/clients/{world.client.id}/plan/review",
        data={"notes": "Goals on track; roadmap moved a quarter."},
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Goals on track; roadmap moved a quarter." in html
    empty = http.post(f"/clients/{world.client.id}/plan/review", data={"notes": ""}, headers=HTMX)
    assert empty.status_code == 422


def test_the_client_page_says_where_the_plan_stands_P1(db, world, login_as):
    http = login_as(world.acm)
    page = http.get(f"/clients/{world.client.id}?tab=growth").get_data(as_text=True)
    assert "No account plan yet." in page and "Write the plan" in page
    account_plans.save_summary(world.client, actor=world.acm, value_proposition="V", roadmap="")
    db.session.commit()
    page = http.get(f"/clients/{world.client.id}?tab=growth").get_data(as_text=True)
    assert "Version 1, saved" in page and "next quarterly review due" in page


def test_another_acm_never_learns_of_the_plan_P1(db, world, login_as, make_user):
    account_plans.save_summary(world.client, actor=world.acm, value_proposition="V", roadmap="")
    db.session.commit()
    other = make_user(Role.ACM, name="Other ACM")
    assert login_as(other).get(f"/clients/{world.client.id}/plan").status_code == 404
