from flask import Blueprint

from kamportal.extensions import csrf

bp = Blueprint("api", __name__)
# A machine's call with its bearer token: no form, no session, nothing a page posts.
csrf.exempt(bp)

from kamportal.blueprints.api import routes  # noqa: E402,F401
