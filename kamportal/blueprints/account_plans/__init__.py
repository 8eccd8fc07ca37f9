from flask import Blueprint

bp = Blueprint("account_plans", __name__)

from kamportal.blueprints.account_plans import routes  # noqa: E402,F401
