from flask import Blueprint

bp = Blueprint("accounts", __name__)

from kamportal.blueprints.accounts import integration_routes, routes  # noqa: E402,F401
