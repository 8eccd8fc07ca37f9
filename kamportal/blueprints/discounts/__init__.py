from flask import Blueprint

bp = Blueprint("discounts", __name__)

from kamportal.blueprints.discounts import routes  # noqa: E402,F401
