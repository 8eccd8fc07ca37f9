from flask import Blueprint

bp = Blueprint("client_reports", __name__)

from kamportal.blueprints.client_reports import routes  # noqa: E402,F401
