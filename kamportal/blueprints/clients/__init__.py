from flask import Blueprint

bp = Blueprint("clients", __name__)

from kamportal.blueprints.clients import health, imports, routes, store_figures  # noqa: E402,F401
