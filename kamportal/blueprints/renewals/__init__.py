from flask import Blueprint

bp = Blueprint("renewals", __name__)

from kamportal.blueprints.renewals import routes  # noqa: E402,F401
