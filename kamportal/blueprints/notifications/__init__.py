from flask import Blueprint

bp = Blueprint("notifications", __name__)

from kamportal.blueprints.notifications import routes  # noqa: E402,F401
