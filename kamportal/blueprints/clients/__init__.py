from flask import Blueprint

bp = Blueprint("clients", __name__)

from kamportal.blueprints.clients import (  # noqa: E402,F401
    health,
    imports,
    previews,
    routes,
    store_figures,
)
