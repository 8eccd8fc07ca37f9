"""KAM Portal: the key-account-management process as enforced, tracked work."""

from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import urlsplit

from flask import Flask, Response, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from kamportal import database, queue
from kamportal.config import HTMX_CDN_URL, HTMX_SRI, HTMX_VERSION, Config, config_from_env
from kamportal.extensions import csrf, db, limiter, login_manager, migrate


def create_app(config: type[Config] | None = None) -> Flask:
    config = config or config_from_env()
    config.check()
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    configure_logging(app)
    configure_extensions(app)
    configure_blueprints(app)
    configure_security(app)
    configure_errors(app)
    configure_templates(app)
    configure_cli(app)
    configure_jobs(app)
    configure_services(app)
    return app


def configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )


def configure_extensions(app: Flask) -> None:
    import kamportal.models  # noqa: F401  (every table registered before migrate looks)

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database.engine_options(app.config)
    db.init_app(app)
    # Registered after Flask-SQLAlchemy's own teardown, so it runs before it.
    app.teardown_appcontext(database.end_reading_with_commit)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        # A Redis that stops answering costs a request two seconds, then the limiter counts
        # in memory (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) instead of waiting for it.
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2, "socket_timeout": 2}
        )
    limiter.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(cookie_id: str):
        # The session and remember cookies name a sign-in, not the user: see services.sessions.
        from kamportal.services import sessions

        return sessions.signed_in_user(cookie_id)

    @login_manager.unauthorized_handler
    def unauthorized() -> Response:
        if request.headers.get("HX-Request") == "true":
            # Back to the page the user was on, not the fragment it asked for.
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
            same_site = current.netloc in ("", request.host)
            target = (current.path + (f"?{current.query}" if current.query else "")) or "/"
            login_url = url_for("auth.login", next=_safe_next(target) if same_site else None)
            response = Response("Please sign in.", status=401)
            response.headers["HX-Redirect"] = login_url
            return response
        return redirect(url_for("auth.login", next=_safe_next(request.full_path)))


def _safe_next(path: str) -> str | None:
    path = path.rstrip("?")
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//"):
        return None
    return path


def _migrations_dir():
    from kamportal.config import ROOT

    return ROOT / "migrations"


def configure_blueprints(app: Flask) -> None:
    from kamportal.blueprints.account_plans import bp as account_plans_bp
    from kamportal.blueprints.accounts import bp as accounts_bp
    from kamportal.blueprints.api import bp as api_bp
    from kamportal.blueprints.auth import bp as auth_bp
    from kamportal.blueprints.client_reports import bp as client_reports_bp
    from kamportal.blueprints.clients import bp as clients_bp
    from kamportal.blueprints.customizations import bp as customizations_bp
    from kamportal.blueprints.day import bp as day_bp
    from kamportal.blueprints.discounts import bp as discounts_bp
    from kamportal.blueprints.escalations import bp as escalations_bp
    from kamportal.blueprints.figures import bp as figures_bp
    from kamportal.blueprints.finance import bp as finance_bp
    from kamportal.blueprints.followups import bp as followups_bp
    from kamportal.blueprints.home import bp as home_bp
    from kamportal.blueprints.meetings import bp as meetings_bp
    from kamportal.blueprints.metrics import bp as metrics_bp
    from kamportal.blueprints.notifications import bp as notifications_bp
    from kamportal.blueprints.onboarding import bp as onboarding_bp
    from kamportal.blueprints.opportunities import bp as opportunities_bp
    from kamportal.blueprints.planning import bp as planning_bp
    from kamportal.blueprints.renewals import bp as renewals_bp
    from kamportal.blueprints.search import bp as search_bp
    from kamportal.blueprints.store_management import bp as store_management_bp
    from kamportal.blueprints.support import bp as support_bp
    from kamportal.blueprints.team import bp as team_bp
    from kamportal.blueprints.web import DatabaseId, enforce_access

    app.url_map.converters["int"] = DatabaseId
    app.register_blueprint(home_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(clients_bp, url_prefix="/clients")
    app.register_blueprint(accounts_bp, url_prefix="/admin")
    app.register_blueprint(meetings_bp)
    app.register_blueprint(day_bp, url_prefix="/day")
    app.register_blueprint(team_bp, url_prefix="/team")
    app.register_blueprint(followups_bp)
    app.register_blueprint(escalations_bp)
    app.register_blueprint(support_bp)
    app.register_blueprint(renewals_bp)
    app.register_blueprint(finance_bp)
    app.register_blueprint(figures_bp)
    app.register_blueprint(discounts_bp)
    app.register_blueprint(customizations_bp)
    app.register_blueprint(onboarding_bp)
    app.register_blueprint(metrics_bp)
    app.register_blueprint(planning_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(account_plans_bp)
    app.register_blueprint(store_management_bp)
    app.register_blueprint(opportunities_bp)
    app.register_blueprint(client_reports_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(api_bp, url_prefix="/api")
    app.before_request(enforce_access)


def content_security_policy(app: Flask) -> str:
    script_src = "'self'"
    if app.config["HTMX_SOURCE"] == "cdn":
        # The one file, not the CDN host: anything else published there stays out.
        script_src += f" {HTMX_CDN_URL}"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script_src}",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    )


def configure_security(app: Flask) -> None:
    csp = content_security_policy(app)

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        # Pages differ for HTMX and plain requests: keep caches from mixing them up.
        response.vary.add("HX-Request")
        if current_user and current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def configure_errors(app: Flask) -> None:
    from kamportal.blueprints.web import fragment, is_htmx

    def message_response(status: int, title: str, message: str) -> Response:
        from flask import render_template

        if is_htmx() or request.headers.get("HX-Request") == "true":
            response = fragment("_message.html", status=status, title=title, message=message)
            # Show it in the flash area, whatever the request aimed to swap.
            response.headers["HX-Retarget"] = "#flashes"
            response.headers["HX-Reswap"] = "beforeend"
            return response
        return Response(
            render_template("error.html", status=status, title=title, message=message), status
        )

    @app.errorhandler(403)
    def forbidden(error: HTTPException):
        return message_response(403, "Not allowed", "You do not have access to this page.")

    @app.errorhandler(404)
    def not_found(error: HTTPException):
        return message_response(404, "Not found", "There is nothing here, or not for you.")

    @app.errorhandler(405)
    def method_not_allowed(error: HTTPException):
        return message_response(405, "Not allowed", "This action cannot be done that way.")

    @app.errorhandler(429)
    def too_many(error: HTTPException):
        if error.response is not None:  # the page's own answer (the sign-in page's)
            return error.response
        return message_response(
            429, "Too many attempts", "Too many attempts. Wait a minute and try again."
        )

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        if request.headers.get("HX-Request") == "true":
            # The page is stale (new session or deploy): reload it rather than swap nothing.
            response = Response(status=400)
            response.headers["HX-Refresh"] = "true"
            return response
        return message_response(
            400, "Page expired", "This page had expired. Go back, reload it and try again."
        )


def configure_templates(app: Flask) -> None:
    from kamportal import i18n
    from kamportal.blueprints import formatting

    i18n.init_app(app)
    formatting.register(app)

    @app.context_processor
    def htmx_source() -> dict:
        if app.config["HTMX_SOURCE"] == "local":
            src = url_for("static", filename=f"vendor/htmx-{HTMX_VERSION}.min.js")
            return {"htmx_script": {"src": src, "integrity": HTMX_SRI, "crossorigin": None}}
        return {
            "htmx_script": {"src": HTMX_CDN_URL, "integrity": HTMX_SRI, "crossorigin": "anonymous"}
        }

    @app.context_processor
    def current_year() -> dict:
        from kamportal import clock

        now: datetime = clock.now()
        return {"now_utc": now}


def configure_cli(app: Flask) -> None:
    from kamportal.cli import kam

    app.cli.add_command(kam)


def configure_services(app: Flask) -> None:
    # The services that act on what others do listen once imported (services/events.py):
    # imported with the app, no event goes unheard in a page, a job or the CLI.
    from kamportal.services import (  # noqa: F401
        churn,
        customization_tickets,
        deadlines,
        escalations,
        followups,
    )


def configure_jobs(app: Flask) -> None:
    queue.init_app(app)


# A worker process imports a job (kamportal.jobs....), which loads this package first: the
# jobs build their app from here (`flask kam worker` builds it once, before forking).
queue.app_factory = create_app
