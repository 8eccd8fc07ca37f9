from kamportal.blueprints.accounts import bp
from kamportal.blueprints.web import allow, render
from kamportal.models import Role


@bp.route("/users")
@allow(Role.ADMIN)
def users():
    return render("home/index.html")


@bp.route("/teams")
@allow(Role.ADMIN)
def teams():
    return render("home/index.html")
