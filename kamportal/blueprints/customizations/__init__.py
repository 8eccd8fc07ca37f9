from flask import Blueprint

bp = Blueprint("customizations", __name__)

from kamportal.blueprints.customizations import (  # noqa: E402,F401
    concept_routes,
    delivery_routes,
    quotation_routes,
    rejection,
    routes,
)
