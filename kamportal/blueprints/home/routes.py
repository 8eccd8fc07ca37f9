from flask import jsonify
from sqlalchemy import text

from kamportal.blueprints.home import bp
from kamportal.blueprints.web import public, render, signed_in
from kamportal.extensions import db


@bp.route("/")
@signed_in
def index():
    """The signed-in user's start page: who they are and where their work is."""
    return render("home/index.html")


@bp.route("/healthz")
@public
def health():
    """For the load balancer: the app answers and the database is reachable."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
