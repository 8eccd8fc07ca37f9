from flask import Blueprint

bp = Blueprint("figures", __name__)

from kamportal.blueprints.figures import routes  # noqa: E402,F401
