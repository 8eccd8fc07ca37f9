from flask import Blueprint

bp = Blueprint("support", __name__)

from kamportal.blueprints.support import routes  # noqa: E402,F401
