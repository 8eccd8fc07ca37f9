from kamportal.blueprints.clients import bp
from kamportal.blueprints.web import allow, render
from kamportal.services.access import CLIENT_REGISTRY_ROLES


@bp.route("/")
@allow(*CLIENT_REGISTRY_ROLES)
def index():
    return render("home/index.html")
