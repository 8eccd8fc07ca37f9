from flask import jsonify
from sqlalchemy import text

from kamportal.blueprints.customizations.routes import queue as customization_queue
from kamportal.blueprints.day.routes import DAY_ROLES, day_page
from kamportal.blueprints.discounts.routes import queue as discount_queue
from kamportal.blueprints.finance.routes import queue as finance_queue
from kamportal.blueprints.home import bp
from kamportal.blueprints.store_management.routes import index as store_manager_page
from kamportal.blueprints.web import acting_user, public, render, signed_in
from kamportal.extensions import db
from kamportal.models import Role


@bp.route("/")
@signed_in
def index():
    """The signed-in user's start page: for an ACM, a leader or an admin, their day (F1,
    F3, G5; a leader's escalations to decide, E3); for finance, its queue (R5-R7, R10);
    for commercial, the discounts to decide (R9); for product, the customization requests
    to decide (C2, C3); for a store manager, their clients' duties (F6); for others, who
    they are and where their work is.

    The day is served here rather than redirected to /day/, so the address a signed-in
    user lands on stays "/" (sign-in, `next=/` and bookmarks keep working)."""
    user = acting_user()
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
