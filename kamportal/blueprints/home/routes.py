from flask import jsonify
from sqlalchemy import text

from kamportal.blueprints.customizations.routes import queue as customization_queue
from kamportal.blueprints.day.routes import DAY_ROLES, day_page
from kamportal.blueprints.discounts.routes import queue as discount_queue
from kamportal.blueprints.finance.routes import queue as finance_queue
from kamportal.blueprints.home import bp
from kamportal.blueprints.store_management.routes import index as store_manager_page
from kamportal.blueprints.team.routes import team_page
from kamportal.blueprints.web import acting_user, public, render, signed_in
from kamportal.extensions import db
from kamportal.models import Role
from kamportal.services import access


@bp.route("/")
@signed_in
def index():
    """The signed-in user's start page: for a team's leader, their team (the leader's view:
    late items, health, workload); for an ACM or an admin, their day (F1, F3, G5); for
    finance, its queue (R5-R7, R10); for commercial, the discounts to decide (R9); for
    product, the customization requests to decide (C2, C3); for a store manager, their
    clients' duties (F6); for others, who they are and where their work is.

    The page is served here rather than redirected (to /team/ or /day/), so the address a
    signed-in user lands on stays "/" (sign-in, `next=/` and bookmarks keep working)."""
    user = acting_user()
    if user.has_role(Role.LEADER) and access.led_team_ids(user):
        return team_page()
    if user.has_role(*DAY_ROLES):
        return day_page()
    if user.has_role(Role.FINANCE):
        return finance_queue()
    if user.has_role(Role.COMMERCIAL):
        return discount_queue()
    if user.has_role(Role.PRODUCT):
        return customization_queue()
    if user.has_role(Role.STORE_MANAGER):
        return store_manager_page()
    return render("home/index.html")


@bp.route("/healthz")
@public
def health():
    """For the load balancer: the app answers and the database is reachable."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
