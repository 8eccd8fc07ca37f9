from flask import Blueprint

bp = Blueprint("customizations", __name__)

from kamportal.blueprints.customizations import quotation_routes, routes  # noqa: E402,F401
