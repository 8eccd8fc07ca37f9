from flask import Blueprint

bp = Blueprint("followups", __name__)

from kamportal.blueprints.followups import routes  # noqa: E402,F401
