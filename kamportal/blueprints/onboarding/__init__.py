from flask import Blueprint

bp = Blueprint("onboarding", __name__)

from kamportal.blueprints.onboarding import kyc_routes, launch_routes, routes  # noqa: E402,F401
