from flask import Blueprint

bp = Blueprint("meetings", __name__)

from kamportal.blueprints.meetings import minutes_routes, routes  # noqa: E402,F401
