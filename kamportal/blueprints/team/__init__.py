from flask import Blueprint

bp = Blueprint("team", __name__)

from kamportal.blueprints.team import routes  # noqa: E402,F401
