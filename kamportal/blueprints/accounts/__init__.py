from flask import Blueprint

bp = Blueprint("accounts", __name__)

from kamportal.blueprints.accounts import routes  # noqa: E402,F401
