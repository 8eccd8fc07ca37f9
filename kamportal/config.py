"""Settings, read from the environment (and from `.env` when present).

Every setting is listed in the README's production section.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
load_dotenv(ROOT / ".env")

HTMX_VERSION = "2.0.11"
HTMX_SRI = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
HTMX_CDN_URL = f"https://cdn.jsdelivr.net/npm/htmx.org@{HTMX_VERSION}/dist/htmx.min.js"
# Every demo user's password, printed by `flask kam demo-logins` and so public: refused as
# anyone's password outside the demo (KAM_ENV=development).
DEMO_PASSWORD = "kam-demo-2026"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the app refuses to start."""


def chosen_adapter(
    extensions: dict,
    config: Mapping,
    setting: str,
    builders: Mapping[str, Callable[[Mapping], object]],
    *,
    key: str,
) -> object:
    """The adapter to an outside system (billing, tickets) that `setting` chooses among
    `builders` ("portal", the portal's own, when unset), built from `config` once per app
    and kept in its `extensions` under `key`. ConfigError names the choices for any other
    value; a builder raises it for missing settings of its own."""
    adapter = extensions.get(key)
    if adapter is None:
        kind = config.get(setting) or "portal"
        build = builders.get(kind)
        if build is None:
            choices = " or ".join(repr(name) for name in builders)
            raise ConfigError(f"{setting} must be {choices}, not {kind!r}")
        adapter = extensions[key] = build(config)
    return adapter


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'kamportal.db'}")
    # psycopg 3 is the driver; accept the common `postgres://` and `postgresql://` spellings.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    ENV_NAME = os.environ.get("KAM_ENV", "production")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # PostgreSQL settings for each connection the portal opens (libpq `options`). The
    # portal's statements are short lookups by index: JIT compiles the larger ones (a count
    # over 50,000 clients) at 15-20 ms each and wins nothing back; with the data in
    # memory a random read costs about what a sequential one does; and a parallel scan's
    # workers cost more to start than they save on a page's statements, and take the cores
    # the other requests need; a statement psycopg prepared is planned for each request's
    # values, as one not prepared is, where PostgreSQL's own choice moved some to one
    # plan for all values, slower for some (the day keeps one plan on purpose:
    # database.plan_once) (bench/README.md).
    POSTGRES_OPTIONS = os.environ.get(
        "POSTGRES_OPTIONS",
        "-c jit=off -c random_page_cost=1.1 -c max_parallel_workers_per_gather=0"
        " -c plan_cache_mode=force_custom_plan",
    )
    REDIS_URL = os.environ.get("REDIS_URL") or None

    # Sessions: an intranet behind HTTPS. COOKIE_SECURE=false only for plain-http development.
    SESSION_COOKIE_SECURE = _flag("COOKIE_SECURE", True)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "kam_session"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=int(os.environ.get("SESSION_HOURS", "12")))
    # "Keep me signed in": the remember cookie, and the sign-in it names, last this long.
    REMEMBER_COOKIE_DURATION = timedelta(days=int(os.environ.get("REMEMBER_DAYS", "14")))
    REMEMBER_COOKIE_NAME = "kam_remember"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # An intranet page stays open all day: the CSRF token lives as long as the session.
    WTF_CSRF_TIME_LIMIT = None

    # How many reverse proxies (the HTTPS terminator) sit in front of gunicorn: their
    # X-Forwarded-For/-Proto/-Host are trusted, so throttling sees the user's address.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)
    # Failed sign-ins allowed per account (the email typed) and per client address; a
    # successful sign-in is not counted.
    LOGIN_FAILURES_PER_ACCOUNT = os.environ.get(
        "LOGIN_FAILURES_PER_ACCOUNT", "5 per minute;20 per hour"
    )
    LOGIN_FAILURES_PER_ADDRESS = os.environ.get(
        "LOGIN_FAILURES_PER_ADDRESS", "20 per minute;100 per hour"
    )
    # The counters live in Redis (REDIS_URL). With Redis unreachable they are counted in
    # this process's memory, logged once, until Redis answers again: sign-in and the KYC
    # page keep working.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True

    # htmx: "cdn" (default) or "local" (the vendored copy, for air-gapped intranets).
    HTMX_SOURCE = os.environ.get("HTMX_SOURCE", "cdn")

    # Mail: MAIL_TRANSPORT is "smtp" or "console" (logs the message; development).
    MAIL_TRANSPORT = os.environ.get("MAIL_TRANSPORT", "smtp")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = _flag("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _flag("MAIL_USE_SSL", False)
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "20"))
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "KAM Portal <kam@localhost>")
    # WhatsApp: "fake" records messages in-process; a provider adapter plugs in here.
    WHATSAPP_TRANSPORT = os.environ.get("WHATSAPP_TRANSPORT", "fake")
    # Billing (R3): "portal" numbers invoices itself; "whmcs" creates them in WHMCS through
    # its API (an API credential's identifier and secret, made in WHMCS's admin area).
    BILLING_ADAPTER = os.environ.get("BILLING_ADAPTER", "portal")
    WHMCS_URL = os.environ.get("WHMCS_URL") or None
    WHMCS_IDENTIFIER = os.environ.get("WHMCS_IDENTIFIER") or None
    WHMCS_SECRET = os.environ.get("WHMCS_SECRET") or None
    WHMCS_TIMEOUT = float(os.environ.get("WHMCS_TIMEOUT", "15"))
    # Tickets (C2, C6, G4): "portal" keeps them in the portal; "jira" creates them in Jira
    # Cloud through its REST API (an Atlassian account's email and API token).
    TICKETS_ADAPTER = os.environ.get("TICKETS_ADAPTER", "portal")
    JIRA_URL = os.environ.get("JIRA_URL") or None
    JIRA_EMAIL = os.environ.get("JIRA_EMAIL") or None
    JIRA_API_TOKEN = os.environ.get("JIRA_API_TOKEN") or None
    JIRA_TIMEOUT = float(os.environ.get("JIRA_TIMEOUT", "15"))
    JIRA_ISSUE_TYPE = os.environ.get("JIRA_ISSUE_TYPE", "Task")
    # The project each kind of ticket goes to: the approval of a customization request
    # (C2, the seed's SAL), the customization itself (C6), a client's technical problem (G4).
    TICKETS_APPROVAL_PROJECT = os.environ.get("TICKETS_APPROVAL_PROJECT", "SAL")
    TICKETS_CUSTOMIZATION_PROJECT = os.environ.get("TICKETS_CUSTOMIZATION_PROJECT", "CUST")
    TICKETS_SUPPORT_PROJECT = os.environ.get("TICKETS_SUPPORT_PROJECT", "SUP")
    # C3: the status product's decision moves the approval ticket to (a status, or the
    # name of a transition, of the project's workflow); empty: a comment only.
    TICKETS_ACCEPTED_STATUS = os.environ.get("TICKETS_ACCEPTED_STATUS", "Done")
    TICKETS_REJECTED_STATUS = os.environ.get("TICKETS_REJECTED_STATUS", "Done")
    TICKETS_ON_HOLD_STATUS = os.environ.get("TICKETS_ON_HOLD_STATUS", "In Progress")
    # C7: where the customization ticket goes once the request is closed.
    TICKETS_CLOSED_STATUS = os.environ.get("TICKETS_CLOSED_STATUS", "Done")

    # O2: where clients write out of the ACM's working hours (named in the welcome email).
    SUPPORT_EMAIL = os.environ.get("SUPPORT_EMAIL", "support@expandcart.com")
    # O1: the address clients open the KYC link at (the portal's public address), and how
    # many days a KYC link works.
    PUBLIC_URL = os.environ.get("PUBLIC_URL") or None
    KYC_LINK_DAYS = int(os.environ.get("KYC_LINK_DAYS", "14"))
    KYC_RATE_LIMIT = os.environ.get("KYC_RATE_LIMIT", "60 per minute")
    # F4: calls to the store-figures API allowed per integration token.
    STORE_FIGURES_RATE_LIMIT = os.environ.get("STORE_FIGURES_RATE_LIMIT", "60 per minute")

    # C1: customization requests' attachments, kept outside the web root under generated
    # names, and the largest file taken; no request body is read past MAX_CONTENT_LENGTH.
    ATTACHMENTS_DIR = os.environ.get("ATTACHMENTS_DIR", str(ROOT / "instance" / "attachments"))
    CUSTOMIZATION_ATTACHMENT_MAX_BYTES = int(
        os.environ.get("CUSTOMIZATION_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024))
    )
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(50 * 1024 * 1024)))
    # C2: product's 48 hours to decide a customization request are "calendar" hours
    # (default, README: Customization requests) or "business" hours on the client's team
    # calendar.
    CUSTOMIZATION_DECISION_HOURS = os.environ.get("CUSTOMIZATION_DECISION_HOURS", "calendar")
    # C5, C7: how long a client's link (concept approval, acceptance, survey) works.
    CUSTOMIZATION_LINK_DAYS = int(os.environ.get("CUSTOMIZATION_LINK_DAYS", "14"))
    # F4: store figures by CSV: the largest file and most rows taken, and the most rows
    # checked while the page waits (a larger file is checked in a job, its progress shown).
    FIGURES_UPLOAD_MAX_BYTES = int(
        os.environ.get("FIGURES_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024))
    )
    FIGURES_UPLOAD_MAX_ROWS = int(os.environ.get("FIGURES_UPLOAD_MAX_ROWS", "200000"))
    FIGURES_INLINE_ROWS = int(os.environ.get("FIGURES_INLINE_ROWS", "2000"))

    # P5: business days (on the client's team calendar, the day of the change not counted)
    # to hold a hand-over meeting once the client's point of contact changed.
    HANDOVER_BUSINESS_DAYS = int(os.environ.get("HANDOVER_BUSINESS_DAYS", "5"))
    # F6: the SLA of a client's data-entry request to its store manager, in business hours
    # on the client's team calendar, by the request's size.
    DATA_ENTRY_SLA_HOURS = os.environ.get("DATA_ENTRY_SLA_HOURS", "small=8,medium=24,large=72")
    # P2: GMV bands for the client list, on the store's GMV over its last 30 days in one
    # reference currency: the bands' lower bounds (README: Health and segmentation), and
    # how many units of each store currency make one unit of the reference.
    GMV_BAND_CURRENCY = os.environ.get("GMV_BAND_CURRENCY", "USD")
    GMV_BANDS = os.environ.get("GMV_BANDS", "1000,10000,50000")
    GMV_RATES = os.environ.get(
        "GMV_RATES",
        "EGP=49,SAR=3.75,AED=3.6725,KWD=0.307,BHD=0.376,QAR=3.64,OMR=0.385,JOD=0.709",
    )

    # The client list and the work lists (renewals, unpaid invoices, the escalation and
    # complaint queues) a page at a time: a row weighs 350 to 450 bytes with real names,
    # so 20 keep a page swapped in place under 10 KB (issue 17).
    CLIENTS_PER_PAGE = 20
    TIMELINE_PER_PAGE = 20
    LIST_PER_PAGE = 20
    # Finance's queue: five sections on one page, each a page of this many rows. A row
    # (client and store code, invoice and what it owes, amount and reference, who reported
    # it and when, its age) weighs about 500 bytes: 15 keep a section swapped under 10 KB.
    FINANCE_PER_PAGE = 15

    @classmethod
    def check(cls) -> None:
        """Refuse to start with settings that would be unsafe in production."""
        if not cls.SECRET_KEY:
            raise ConfigError(
                "SECRET_KEY is not set. Set SECRET_KEY in the environment (or in .env) to a long "
                'random string, e.g. the output of: python3 -c "import secrets; '
                'print(secrets.token_urlsafe(48))"'
            )
        if cls.HTMX_SOURCE not in {"cdn", "local"}:
            raise ConfigError(f"HTMX_SOURCE must be 'cdn' or 'local', not {cls.HTMX_SOURCE!r}")
        if cls.CUSTOMIZATION_DECISION_HOURS not in {"calendar", "business"}:
            raise ConfigError(
                "CUSTOMIZATION_DECISION_HOURS must be 'calendar' or 'business', "
                f"not {cls.CUSTOMIZATION_DECISION_HOURS!r}"
            )
        if cls.REMEMBER_COOKIE_DURATION.days < 1:
            raise ConfigError("REMEMBER_DAYS must be at least 1")
        if not 1 <= cls.HANDOVER_BUSINESS_DAYS <= 60:
            raise ConfigError("HANDOVER_BUSINESS_DAYS must be between 1 and 60")
        data_entry_sla_hours(cls.DATA_ENTRY_SLA_HOURS)
        gmv_band_bounds(cls.GMV_BANDS)
        gmv_rates(cls.GMV_RATES)
        for name in TICKET_PROJECT_SETTINGS.values():
            check_project_key(name, getattr(cls, name))


# The setting naming the project of each kind of ticket (C2, C6, G4).
TICKET_PROJECT_SETTINGS = {
    "approval": "TICKETS_APPROVAL_PROJECT",
    "customization": "TICKETS_CUSTOMIZATION_PROJECT",
    "support": "TICKETS_SUPPORT_PROJECT",
}
# Jira's project keys: an uppercase letter, then uppercase letters, digits or underscores.
_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,9}$")


def check_project_key(setting: str, key: object) -> str:
    """`key` if it is a project key Jira would accept (e.g. SAL); ConfigError otherwise."""
    if not isinstance(key, str) or not _PROJECT_KEY.match(key):
        raise ConfigError(
            f"{setting} must be a project key: 2 to 10 uppercase letters, digits or "
            f"underscores, starting with a letter (e.g. SAL), not {key!r}"
        )
    return key


DATA_ENTRY_SIZES = ("small", "medium", "large")


def data_entry_sla_hours(setting: str) -> dict[str, int]:
    """DATA_ENTRY_SLA_HOURS ("small=8,medium=24,large=72"): business hours per request
    size, each size given, 1 to 2000 hours; ConfigError otherwise."""
    hours: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in setting.split(","))):
        size, _, value = part.partition("=")
        if size.strip() in DATA_ENTRY_SIZES and value.strip().isdigit():
            hours[size.strip()] = int(value.strip())
    if set(hours) != set(DATA_ENTRY_SIZES) or not all(1 <= h <= 2000 for h in hours.values()):
        raise ConfigError(
            "DATA_ENTRY_SLA_HOURS must give business hours (1 to 2000) for small, medium and "
            f"large, e.g. small=8,medium=24,large=72, not {setting!r}"
        )
    return hours


def gmv_band_bounds(setting: str) -> list[Decimal]:
    """GMV_BANDS ("1000,10000,50000"): the bands' lower bounds past the first band's 0,
    rising; ConfigError otherwise."""
    try:
        bounds = [Decimal(part.strip()) for part in setting.split(",") if part.strip()]
    except InvalidOperation:
        bounds = []
    if (
        not bounds
        or any(not b.is_finite() or b <= 0 for b in bounds)
        or bounds != sorted(set(bounds))
    ):
        raise ConfigError(
            f"GMV_BANDS must be rising positive amounts separated by commas (e.g. "
            f"1000,10000,50000), not {setting!r}"
        )
    return bounds


def gmv_rates(setting: str) -> dict[str, Decimal]:
    """GMV_RATES ("EGP=49,SAR=3.75"): units of each currency per unit of the reference
    currency; ConfigError otherwise."""
    rates: dict[str, Decimal] = {}
    for part in filter(None, (p.strip() for p in setting.split(","))):
        code, _, value = part.partition("=")
        try:
            rate = Decimal(value.strip())
        except InvalidOperation:
            rate = Decimal(0)
        if not re.fullmatch(r"[A-Z]{3}", code.strip()) or not rate.is_finite() or rate <= 0:
            raise ConfigError(
                f"GMV_RATES must be CODE=rate pairs separated by commas (e.g. EGP=49,SAR=3.75),"
                f" not {setting!r}"
            )
        rates[code.strip()] = rate
    return rates


class DevelopmentConfig(Config):
    """`make demo`: SQLite, embedded queue, console mail, plain http on localhost."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-not-secret"
    SESSION_COOKIE_SECURE = _flag("COOKIE_SECURE", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    MAIL_TRANSPORT = os.environ.get("MAIL_TRANSPORT", "console")
    HTMX_SOURCE = os.environ.get("HTMX_SOURCE", "local")


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    RATELIMIT_ENABLED = False
    MAIL_TRANSPORT = "memory"
    WHATSAPP_TRANSPORT = "fake"
    # A developer's .env must never point the tests at a real WHMCS.
    BILLING_ADAPTER = "portal"
    WHMCS_URL = None
    WHMCS_IDENTIFIER = None
    WHMCS_SECRET = None
    # Nor at a real Jira.
    TICKETS_ADAPTER = "portal"
    JIRA_URL = None
    JIRA_EMAIL = None
    JIRA_API_TOKEN = None
    HTMX_SOURCE = "local"
    PASSWORD_HASH_CHEAP = True


CONFIGS = {"production": Config, "development": DevelopmentConfig, "test": TestConfig}


def config_from_env() -> type[Config]:
    name = os.environ.get("KAM_ENV", "production")
    if name not in CONFIGS:
        raise ConfigError(f"KAM_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]
