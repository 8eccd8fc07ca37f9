from flask import Blueprint

bp = Blueprint("customizations", __name__)

from kamportal.blueprints.customizations import concept_routes, routes  # noqa: E402,F401
