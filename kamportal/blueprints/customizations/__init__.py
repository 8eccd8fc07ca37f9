from flask import Blueprint

bp = Blueprint("customizations", __name__)

from kamportal.blueprints.customizations import delivery_routes, routes  # noqa: E402,F401
