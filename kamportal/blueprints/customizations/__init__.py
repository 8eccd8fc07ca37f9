from flask import Blueprint

bp = Blueprint("customizations", __name__)

from kamportal.blueprints.customizations import (  # noqa: E402,F401
    quotation_routes,
    rejection,
    routes,
)
