from flask import Blueprint

bp = Blueprint("metrics", __name__)

from kamportal.blueprints.metrics import not_selling  # noqa: E402,F401
