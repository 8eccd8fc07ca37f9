from flask import Blueprint

bp = Blueprint("customizations", __name__)

from kamportal.blueprints.customizations import rejection, routes  # noqa: E402,F401
