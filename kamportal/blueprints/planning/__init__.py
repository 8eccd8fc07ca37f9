from flask import Blueprint

bp = Blueprint("planning", __name__)

from kamportal.blueprints.planning import catalogue, suggestions  # noqa: E402,F401
