from flask import Blueprint

bp = Blueprint("day", __name__)

from kamportal.blueprints.day import links, routes  # noqa: E402,F401
