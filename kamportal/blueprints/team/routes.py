"""The leader's view (issue 14): a team's portfolio by health, its late items per rule and
ACM (F1, G5, O2, F3, E2, R4, R7, F4), each count opening its items, the ACMs' workload,
12 weeks of trends and the monthly churn. A leader lands here (home.index); an admin sees
every team in one table, each row opening that team.
"""

from collections.abc import Callable

from flask import Response, abort, request, url_for

from kamportal import clock
from kamportal.blueprints.client_tabs import client_page
from kamportal.blueprints.exports import csv_download
from kamportal.blueprints.team import bp
from kamportal.blueprints.team.charts import trend_charts
from kamportal.blueprints.web import acting_user, allow, render
from kamportal.models import Role, Team, User
from kamportal.services import churn, list_exports, team_view, validation
from kamportal.services.team_view import LateItem, Scope

TEAM_ROLES = (Role.LEADER, Role.ADMIN)
# The admin's every-team table, a page at a time.
TEAMS_PER_PAGE = 10
LARGEST_ID = 2**31 - 1

# Where each late item is dealt with.
ITEM_LINKS: dict[str, Callable[[LateItem], str]] = {
    "F1": lambda item: url_for("clients.show", client_id=item.client.id),
    "G5": lambda item: client_page(item.client.id, f"minutes-{item.record.id}"),
    "O2": lambda item: url_for("onboarding.welcome", client_id=item.client.id),
    "F3": lambda item: client_page(item.client.id, "meetings-panel"),
    "E2": lambda item: url_for("escalations.show", escalation_id=item.record.id),
    "R4": lambda item: client_page(item.client.id, "renewal-panel"),
    "R7": lambda item: client_page(item.client.id, "renewal-panel"),
    "F4": lambda item: client_page(item.client.id, f"not-selling-{item.record.id}"),
}


def _wanted_id(name: str) -> int | None:
    """The id the query string names as `name`; None when it names none; 404 for one that
    cannot be an id."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= LARGEST_ID:
        abort(404)
    return int(raw)


def _chosen_team(teams: list[Team], team_id: int | None) -> Team | None:
    """The team asked for among `teams` (404 if it is not one of them), else the first."""
    if team_id is None:
        return teams[0] if teams else None
    team = next((t for t in teams if t.id == team_id), None)
    if team is None:
        abort(404)
    return team


def team_page() -> Response:
    """The signed-in leader's team (the one `?team=` names, else their first); for an admin
    without `?team=`, every team."""
    user = acting_user()
    now = clock.now()
    team_id = _wanted_id("team")
    if team_id is None and user.has_role(Role.ADMIN):
        return _all_teams(now)
    teams = team_view.teams_of(user)
    team = _chosen_team(teams, team_id)
    if team is None:
        return render("team/team.html", team=None, teams=teams)
    scope = Scope((team.id,))
    trends, trends_as_of = team_view.team_trends(team.id, zone=user.timezone, now=now)
    figures = team_view.figures(scope, now=now)
    return render(
        "team/team.html",
        team=team,
        teams=teams,
        members=team_view.members(scope.team_ids),
        rules=team_view.LATE_RULES.values(),
        late_links=_late_links(),
        late=figures.late,
        bands=figures.bands,
        workload=figures.workload,
        charts=trend_charts(trends),
        weeks=trends.weeks,
        trends_as_of=trends_as_of,
        churn_months=churn.monthly_churn(
            user, now=now, within=team_view.team_clients_clause(scope.team_ids)
        ),
    )


def _late_links() -> dict[str, str]:
    """Each rule's drill-down address, for the page to add `?acm=` or `?team=` to."""
    return {rule: url_for("team.late", rule=rule) for rule in team_view.LATE_RULES}


def _all_teams(now) -> Response:
    """Every team, a page of them at a time (`?page=`: the teams grow with the portfolio);
    the pager's swap (HTMX) gets the table alone."""
    at = validation.query_number(request.args.get("page"), default=1) or 1
    page = team_view.every_team_page(page=at, per_page=TEAMS_PER_PAGE)
    figures, as_of = team_view.every_team_figures([t.id for t in page.items], now=now)
    return render(
        "team/teams.html",
        "team/_teams.html",
        teams=page.items,
        teams_page=page,
        rules=team_view.LATE_RULES.values(),
        late_links=_late_links(),
        late=figures.late,
        bands=figures.bands,
        workload=figures.workload,
        as_of=as_of,
    )


@bp.route("/")
@allow(*TEAM_ROLES)
def index() -> Response:
    """The leader's team page; for an admin, every team."""
    return team_page()


def _late_scope(rule: str) -> tuple[Team | None, User | None, Scope]:
    """What `/late/<rule>` asks for: rule `rule`'s late items of one ACM (`?acm=`), or of
    a whole team (`?team=`, else the leader's first; every team for an admin); 404 for an
    unknown rule, or an ACM or team not the user's."""
    if rule not in team_view.LATE_RULES:
        abort(404)
    user = acting_user()
    teams = team_view.teams_of(user)
    acm_id, team_id = _wanted_id("acm"), _wanted_id("team")
    acm: User | None = None
    if acm_id is not None:
        acm = team_view.member_of([t.id for t in teams], acm_id)
        if acm is None or (team_id is not None and acm.team_id != team_id):
            abort(404)
        team_id = acm.team_id
    if team_id is None and user.has_role(Role.ADMIN):
        team, team_ids = None, tuple(t.id for t in teams)
    else:
        team = _chosen_team(teams, team_id)
        team_ids = (team.id,) if team else ()
    return team, acm, Scope(team_ids, acm_id)


@bp.route("/late/<rule>")
@allow(*TEAM_ROLES)
def late(rule: str) -> Response:
    """The items behind one count: rule `rule`'s late items of one ACM, or of a team."""
    team, acm, scope = _late_scope(rule)
    found = team_view.late_items(rule, scope, now=clock.now())
    return render(
        "team/late.html",
        found=found,
        team=team,
        acm=acm,
        link=lambda item: ITEM_LINKS[rule](item),
    )


@bp.route("/late/<rule>/export.csv")
@allow(*TEAM_ROLES)
def export_late(rule: str) -> Response:
    """The same items as CSV, every one (the page shows the longest late)."""
    _, _, scope = _late_scope(rule)
    return csv_download(list_exports.late_items(rule, scope, now=clock.now()))
