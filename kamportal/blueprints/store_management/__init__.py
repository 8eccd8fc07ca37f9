from flask import Blueprint

bp = Blueprint("store_management", __name__)

from kamportal.blueprints.store_management import routes  # noqa: E402,F401
