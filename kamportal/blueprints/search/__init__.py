from flask import Blueprint

bp = Blueprint("search", __name__)

from kamportal.blueprints.search import routes  # noqa: E402,F401
