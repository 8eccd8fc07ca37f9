from flask import Blueprint

bp = Blueprint("finance", __name__)

from kamportal.blueprints.finance import routes  # noqa: E402,F401
