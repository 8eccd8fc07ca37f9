from flask import Blueprint

bp = Blueprint("escalations", __name__)

from kamportal.blueprints.escalations import routes  # noqa: E402,F401
