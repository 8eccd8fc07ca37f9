"""Serve the portal with gunicorn as production does and time its pages over HTTP, beside
a bare one-query route, for each role; then 100 signed-in users with think time.

Run: BENCH_DATABASE_URL=postgresql://... python -m bench.served [--workers 2]
     [--worker-class sync|gthread] [--threads 4] [--rounds 20] [--users 100] [--seconds 60]
     [--small-database-url postgresql://...]
     [--before ../an-earlier-checkout [--only "the day"]]
With --before, the two checkouts are served side by side on the one database and each
measured page is asked of one, then the other, round after round: a change measured
against what came before under the same drift in the machine's speed.
See bench/README.md. The databases are only read (signing in writes sessions).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench.client_pages import build_app, signed_in, statements_counted
from kamportal.blueprints.client_tabs import TABS
from kamportal.config import DEMO_PASSWORD
from kamportal.extensions import db
from kamportal.jobs.snapshots import refresh_platform_figures
from kamportal.models import Client, Role, Team, User, UserRole
from kamportal.services.snapshots import REFRESHED_EVERY

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("acm", "leader", "admin", "finance")
# The mixed load's users per 100: the portal's people in proportion.
MIX = {"acm": 80, "leader": 12, "admin": 4, "finance": 4}
SEARCH = "nile"  # about 1 client in 40 at any size (the demo's store names)


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    htmx: bool = False  # asked as htmx asks (HX-Request): the partial alone
    target: str | None = None  # the element a swap replaces (HX-Target), where it matters

    @property
    def headers(self) -> dict[str, str]:
        if not self.htmx:
            return {}
        return {"HX-Request": "true", **({"HX-Target": self.target} if self.target else {})}


def swapped(name: str, path: str, target: str | None = None) -> Page:
    """A list swapped in place by its pager (HTMX): the partial alone."""
    return Page(f"{name} (htmx)", path, htmx=True, target=target)


BARE = Page("bare route (one indexed query)", "/bare/")


def pages_of(role: str, client_id: int | None) -> list[Page]:
    """The pages `role` works in, on one of its clients."""
    finance = [
        Page("finance's queue", "/finance/"),
        swapped("finance's wires, page 2", "/finance/?wires_page=2", "wires"),
        swapped("finance's payment issues, page 2", "/finance/?issues_page=2", "issues"),
    ]
    if role == "finance":
        return [*finance, Page("renewal forecast", "/renewals/forecast")]
    client = f"/clients/{client_id}"
    pages = [
        Page("the day", "/day/"),
        Page("client list", "/clients/"),
        Page(f"client search '{SEARCH}'", f"/clients/?q={SEARCH}"),
        Page("client page", client),
        *(
            Page(f"client page, {name} tab (htmx)", f"{client}/tabs/{name}", htmx=True)
            for name in TABS
            if name != "overview"
        ),
        Page("timeline page 2 (htmx)", f"{client}/timeline?page=2", htmx=True),
        swapped("client list, page 2", "/clients/?page=2", "client-table"),
        swapped("the day's action items, page 2", "/day/items/actions?page=2"),
        Page("escalation queue", "/escalations/"),
        swapped("escalation queue, page 2", "/escalations/?page=2", "escalation-queue"),
        Page("complaints queue", "/complaints/"),
        swapped("complaints queue, page 2", "/complaints/?page=2", "complaint-queue"),
        Page("renewals and unpaid invoices", "/renewals/"),
        swapped("renewals, page 2", "/renewals/?page=2", "open-renewals"),
        swapped("unpaid invoices, page 2", "/renewals/?invoices_page=2", "unpaid-invoices"),
        Page("renewal forecast", "/renewals/forecast"),
    ]
    if role == "leader":
        pages.append(Page("the team (leader's view)", "/team/"))
    if role == "admin":
        pages += [*finance, Page("every team (leader's view)", "/team/")]
    return pages


@dataclass(frozen=True)
class Visitor:
    role: str
    email: str
    client_id: int | None

    @property
    def pages(self) -> list[Page]:
        return pages_of(self.role, self.client_id)


@dataclass
class Portfolio:
    """A database of bench.portfolio as the bench uses it: its size, the measured user of
    each role, the mixed load's users, and the SQL statements of one request of each
    measured user's pages."""

    clients: int
    busiest: int  # the busiest ACM's clients
    measured: dict[str, Visitor]
    mixed: list[Visitor]
    statements: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def facts(self) -> str:
        return f"{self.clients:,} clients; the busiest ACM has {self.busiest}"


@dataclass
class Options:
    database_url: str
    small_database_url: str | None = None  # statements counted there too (about 3,000 clients)
    redis_url: str | None = None
    workers: int = 2
    worker_class: str = "sync"
    threads: int = 1
    rounds: int = 20
    warmup: int = 1  # rounds first, unrecorded: the workers' caches
    users: int = 100
    seconds: float = 60.0
    think: tuple[float, float] = (1.0, 3.0)
    seed: int = 2026

    @property
    def command(self) -> str:
        threads = f" --threads {self.threads}" if self.worker_class == "gthread" else ""
        return (
            f"python -m bench.served --workers {self.workers} --worker-class "
            f"{self.worker_class}{threads} --rounds {self.rounds} --users {self.users} "
            f"--seconds {self.seconds:g} --think {self.think[0]:g}-{self.think[1]:g}"
            + (f" --seed {self.seed}" if self.seed != Options.seed else "")
        )

    @property
    def served_as(self) -> str:
        if self.worker_class == "gthread":
            return f"{self.workers} gthread workers × {self.threads} threads"
        return f"{self.workers} {self.worker_class} workers"


@dataclass
class Sample:
    role: str
    page: str
    ms: float
    status: int | str
    size: int = 0


@dataclass
class Report:
    options: Options
    pages: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)
    # where statements were counted: the small portfolio (when given), then the served one
    portfolios: list[Portfolio] = field(default_factory=list)
    load: list[Sample] = field(default_factory=list)
    load_users: dict[str, int] = field(default_factory=dict)
    memory: dict[str, list[float]] = field(default_factory=dict)
    facts: str = ""

    @property
    def errors(self) -> list[Sample]:
        every = [s for samples in self.pages.values() for s in samples] + self.load
        return [s for s in every if s.status != 200]

    def markdown(self) -> str:
        return "\n".join(_markdown(self))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


# -- who signs in ------------------------------------------------------------------------


def _holders(role: Role):
    return (
        select(User)
        .where(User.active.is_(True), User.role_rows.any(UserRole.role == role.value))
        .order_by(User.id)
    )


def _random_client(rng: random.Random, where) -> int | None:
    ids = db.session.scalars(select(Client.id).where(*where).order_by(Client.id)).all()
    return rng.choice(ids) if ids else None


def choose_visitors(app, options: Options) -> Portfolio:
    """The measured user of each role (the busiest ACM, their leader, the first admin and
    finance user, on the ACM's most recently contacted client) and the mixed load's users
    (MIX in proportion, sampled; repeated when the portfolio has fewer)."""
    rng = random.Random(options.seed)
    with app.app_context():
        acm_id, most = db.session.execute(
            select(Client.acm_id, func.count())
            .where(Client.acm_id.is_not(None))
            .group_by(Client.acm_id)
            .order_by(func.count().desc(), Client.acm_id)
            .limit(1)
        ).one()
        acm = db.session.get(User, acm_id)
        client_id = db.session.scalar(
            select(Client.id)
            .where(Client.acm_id == acm.id)
            .order_by(Client.last_contact_at.desc().nulls_last(), Client.id)
            .limit(1)
        )
        people = {
            "acm": db.session.scalars(_holders(Role.ACM)).all(),
            "leader": db.session.scalars(
                _holders(Role.LEADER).where(User.id.in_(select(Team.leader_id)))
            ).all(),
            "admin": db.session.scalars(_holders(Role.ADMIN)).all(),
            "finance": db.session.scalars(_holders(Role.FINANCE)).all(),
        }
        measured = {
            "acm": Visitor("acm", acm.email, client_id),
            "leader": Visitor("leader", acm.team.leader.email, client_id),
            "admin": Visitor("admin", people["admin"][0].email, client_id),
            "finance": Visitor("finance", people["finance"][0].email, None),
        }
        mixed = []
        for role, count in mix_of(options.users).items():
            chosen = rng.sample(people[role], min(count, len(people[role])))
            for n in range(count):
                user = chosen[n % len(chosen)]
                if role == "acm":
                    where = [Client.acm_id == user.id]
                elif role == "leader":
                    led = select(User.id).join(Team, User.team_id == Team.id)
                    where = [Client.acm_id.in_(led.where(Team.leader_id == user.id))]
                else:
                    where = [Client.id.is_not(None)]
                client = _random_client(rng, where) if role != "finance" else None
                mixed.append(Visitor(role, user.email, client))
        clients = db.session.scalar(select(func.count()).select_from(Client))
        db.session.remove()
    return Portfolio(clients, most, measured, mixed)


def mix_of(users: int) -> dict[str, int]:
    """MIX scaled to `users` (at least one of each role from 4 users up)."""
    counts = {role: max(1, round(users * share / 100)) for role, share in MIX.items()}
    counts["acm"] = max(1, users - sum(c for r, c in counts.items() if r != "acm"))
    return counts


# -- statements, in-process --------------------------------------------------------------


def statements_per_page(app, measured: dict[str, Visitor]) -> dict[tuple[str, str], int]:
    """SQL statements of one request of each page (the app in this process on the same
    database: not measurable over HTTP)."""
    counts = {}
    for role, visitor in measured.items():
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == visitor.email))
            db.session.expunge_all()
        http = signed_in(app, user)
        for page in visitor.pages:
            headers = page.headers
            with app.app_context():
                http.get(page.path, headers=headers)  # warm caches
                with statements_counted(db.engine) as seen:
                    http.get(page.path, headers=headers)
            counts[role, page.name] = len(seen)
    return counts


def _psycopg(database_url: str) -> str:
    return database_url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextmanager
def swept(database_url: str) -> Iterator[None]:
    """The platform-wide figures' sweep as the cron process runs it in production: once
    now, then every `REFRESHED_EVERY` in a thread until the block ends (finance's and the
    admin's pages read its figures while they are fresh)."""
    app = build_app(_psycopg(database_url))
    stop = threading.Event()

    def sweep() -> None:
        with app.app_context():
            refresh_platform_figures()

    def every_few_minutes() -> None:
        while not stop.wait(REFRESHED_EVERY.total_seconds()):
            sweep()

    sweep()
    thread = threading.Thread(target=every_few_minutes, name="sweep", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        with app.app_context():
            db.engine.dispose()


def portfolio_at(database_url: str, options: Options) -> Portfolio:
    """The portfolio at `database_url`: its visitors, and the statements of their pages."""
    app = build_app(_psycopg(database_url))
    portfolio = choose_visitors(app, options)
    portfolio.statements = statements_per_page(app, portfolio.measured)
    with app.app_context():
        db.engine.dispose()
    return portfolio


# -- gunicorn ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def memory(self) -> list[float]:
        """RSS in MB: the master, then each worker."""
        pids = [self.process.pid, *_children(self.process.pid)]
        return [rss_mb(pid) for pid in pids]


@contextmanager
def served(options: Options, root: Path = ROOT) -> Iterator[Server]:
    """gunicorn serving bench.served_app (the portal of `wsgi:app`, and the bare route) of
    the checkout at `root` with production's settings on the database named, until the
    block ends."""
    port = _free_port()
    env = {
        **os.environ,
        "KAM_ENV": "production",
        "DATABASE_URL": options.database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "COOKIE_SECURE": "false",  # plain http on 127.0.0.1, no HTTPS proxy in front
        "PYTHONPATH": str(root),
    }
    env.pop("REDIS_URL", None)
    if options.redis_url:
        env["REDIS_URL"] = options.redis_url
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        f"--workers={options.workers}",
        f"--worker-class={options.worker_class}",
        f"--threads={options.threads}",
        f"--bind=127.0.0.1:{port}",
        f"--chdir={root}",
        "bench.served_app:app",
    ]
    with tempfile.TemporaryFile("w+") as log:
        # Started in `root`: `python -m` puts the working folder first on the import path.
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        server = Server(f"http://127.0.0.1:{port}", process)
        try:
            _wait_until_up(server, options.workers, log)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(server: Server, workers: int, log) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"gunicorn stopped:\n{log.read()[-3000:]}")
        try:
            up = httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
        except httpx.HTTPError:
            up = False
        if up and len(_children(server.process.pid)) >= workers:
            return
        time.sleep(0.3)
    log.seek(0)
    raise RuntimeError(f"gunicorn did not answer within 120 s:\n{log.read()[-3000:]}")


# -- over HTTP ---------------------------------------------------------------------------


def connection(url: str) -> httpx.Client:
    """A connection per request, as a reverse proxy talks to gunicorn (nginx's default): a
    kept-alive connection that gunicorn closes after its 2 idle seconds (--keep-alive)
    while the next request is on its way would count as an error that no user sees."""
    return httpx.Client(base_url=url, timeout=120, limits=httpx.Limits(max_keepalive_connections=0))


def sign_in(url: str, email: str) -> httpx.Client:
    """A browser's session: the CSRF token read from the sign-in page, then the form."""
    http = connection(url)
    page = http.get("/login").text
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    answer = http.post(
        "/login",
        data={"email": email, "password": DEMO_PASSWORD},
        headers={"X-CSRFToken": token},
    )
    if answer.status_code != 302:
        raise RuntimeError(f"signing in as {email}: {answer.status_code}")
    return http


def fetch(http: httpx.Client, role: str, page: Page) -> Sample:
    headers = page.headers
    started = time.perf_counter()
    try:
        answer = http.get(page.path, headers=headers)
    except httpx.HTTPError as error:
        return Sample(role, page.name, (time.perf_counter() - started) * 1000, type(error).__name__)
    ms = (time.perf_counter() - started) * 1000
    return Sample(role, page.name, ms, answer.status_code, len(answer.content))


def interleaved(server: Server, measured: dict[str, Visitor], options: Options, report: Report):
    """Every role's pages in turn, the bare route after each role's, `options.rounds` times
    after `options.warmup` unrecorded: drift in the machine's load hits all alike."""
    sessions = {role: sign_in(server.url, v.email) for role, v in measured.items()}
    bare = connection(server.url)
    schedule = []
    for role, visitor in measured.items():
        schedule += [(sessions[role], role, page) for page in visitor.pages]
        schedule.append((bare, "—", BARE))
    for n in range(options.warmup + options.rounds):
        for http, role, page in schedule:
            sample = fetch(http, role, page)
            if n >= options.warmup:
                report.pages.setdefault((role, page.name), []).append(sample)
    for http in [*sessions.values(), bare]:
        http.close()


def mixed_load(server: Server, visitors: list[Visitor], options: Options) -> list[Sample]:
    """Each visitor signed in, then in a thread of its own: think (a random pause), get one
    of its role's pages at random, again, for `options.seconds`."""
    with ThreadPoolExecutor(4) as pool:
        sessions = list(pool.map(lambda v: sign_in(server.url, v.email), visitors))
    samples: list[Sample] = []
    lock = threading.Lock()
    deadline = time.monotonic() + options.seconds
    low, high = options.think

    def work(n: int, visitor: Visitor, http: httpx.Client) -> None:
        rng = random.Random(f"{options.seed}:{n}")
        pages = visitor.pages
        time.sleep(rng.uniform(0, high))  # users arrive spread over one think time
        while time.monotonic() < deadline:
            sample = fetch(http, visitor.role, rng.choice(pages))
            with lock:
                samples.append(sample)
            time.sleep(rng.uniform(low, high))

    threads = [
        threading.Thread(target=work, args=(n, v, s), daemon=True)
        for n, (v, s) in enumerate(zip(visitors, sessions, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for http in sessions:
        http.close()
    return samples


def run(options: Options, out: Callable[[str], None] = print) -> Report:
    report = Report(options)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    out("counting statements in-process")
    urls = [url for url in (options.small_database_url, options.database_url) if url]
    with ExitStack() as sweeps:
        for url in urls:
            sweeps.enter_context(swept(url))
        _measure(options, urls, report, out)
    return report


def _measure(options: Options, urls: list[str], report: Report, out: Callable[[str], None]):
    report.portfolios = [portfolio_at(url, options) for url in urls]
    served_portfolio = report.portfolios[-1]
    out("; ".join(p.facts for p in report.portfolios))
    measured, mixed = served_portfolio.measured, served_portfolio.mixed
    load = os.getloadavg()[0]
    with served(options) as server:
        out(f"served as {options.served_as}; {options.rounds} interleaved rounds")
        interleaved(server, measured, options, report)
        report.memory["after the pages"] = server.memory()
        out(f"{len(mixed)} users for {options.seconds:g} s")
        report.load = mixed_load(server, mixed, options)
        report.load_users = {role: sum(v.role == role for v in mixed) for role in ROLES}
        report.memory["after the mixed load"] = server.memory()
    report.facts = (
        f"{served_portfolio.facts} clients. {datetime.now(UTC).date().isoformat()}, "
        f"{os.cpu_count()} cores, load {load:.1f} at the start"
    )


def compared(
    options: Options, before: Path, only: str = "", out: Callable[[str], None] = print
) -> dict[tuple[str, str], dict[str, list[Sample]]]:
    """The measured pages whose name has `only`, asked of the checkout at `before` and of
    this one in turn (which goes first alternating), `options.rounds` times after
    `options.warmup`; the samples by (role, page) and side."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = build_app(_psycopg(options.database_url))
    measured = choose_visitors(app, options).measured
    with app.app_context():
        db.engine.dispose()
    asked = [(role, page) for role, v in measured.items() for page in v.pages if only in page.name]
    samples: dict[tuple[str, str], dict[str, list[Sample]]] = {
        (role, page.name): {"before": [], "after": []} for role, page in asked
    }
    with (
        swept(options.database_url),
        served(options, root=before) as earlier,
        served(options) as later,
    ):
        out(f"{len(asked)} pages, {options.rounds} rounds, each side in turn")
        servers = {"before": earlier, "after": later}
        sessions = {
            (side, role): sign_in(server.url, measured[role].email)
            for side, server in servers.items()
            for role in measured
        }
        for n in range(options.warmup + options.rounds):
            for role, page in asked:
                for side in ("before", "after") if n % 2 else ("after", "before"):
                    sample = fetch(sessions[side, role], role, page)
                    if n >= options.warmup:
                        samples[role, page.name][side].append(sample)
        for http in sessions.values():
            http.close()
    return samples


def comparison_markdown(samples: dict[tuple[str, str], dict[str, list[Sample]]]) -> str:
    rows = [
        "| page | as | before: p50 / p95 ms | after: p50 / p95 ms | p50 change |",
        "|---|---|---|---|---|",
    ]
    for (role, page), sides in samples.items():
        before, after = ([x.ms for x in sides[side]] for side in ("before", "after"))
        change = statistics.median(after) / statistics.median(before) - 1
        errors = sum(x.status != 200 for side in sides.values() for x in side)
        rows.append(
            f"| {page} | {role} | {_ms(before)} | {_ms(after)} | {change:+.0%} |"
            + (f" {errors} errors |" if errors else "")
        )
    return "\n".join(rows)


# -- the tables --------------------------------------------------------------------------


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} / {percentile(values, 0.95):.1f}"


def _statements_heading(portfolios: list[Portfolio]) -> str:
    """The statements column's heading; with two portfolios, their clients beside it:
    "statements at 3,150 / 50,400"."""
    if len(portfolios) == 1:
        return "statements"
    return "statements at " + " / ".join(f"{p.clients:,}" for p in portfolios)


def _markdown(report: Report) -> Iterator[str]:
    options = report.options
    yield f"### gunicorn, {options.served_as}"
    yield ""
    yield "```"
    small = " BENCH_SMALL_DATABASE_URL=postgresql://..." if options.small_database_url else ""
    redis = " BENCH_REDIS_URL=redis://..." if options.redis_url else ""
    yield f"BENCH_DATABASE_URL=postgresql://...{small}{redis} .venv/bin/{options.command}"
    yield "```"
    yield ""
    yield f"{report.facts}. Median / p95 in ms over HTTP, {options.rounds} rounds interleaved."
    yield ""
    statements = _statements_heading(report.portfolios)
    yield f"| page | as | p50 / p95 ms | p95 ÷ bare | KB | {statements} |"
    yield "|---|---|---|---|---|---|"
    bare = [s.ms for s in report.pages[("—", BARE.name)]]
    floor = percentile(bare, 0.95)
    one_each = " / ".join("1" for _ in report.portfolios)
    yield f"| {BARE.name} | — | {_ms(bare)} | 1.0 | — | {one_each} |"
    for (role, name), samples in report.pages.items():
        if role == "—":
            continue
        times = [s.ms for s in samples]
        ratio = percentile(times, 0.95) / floor
        size = max(s.size for s in samples) / 1024
        statements = " / ".join(str(p.statements.get((role, name), "?")) for p in report.portfolios)
        yield f"| {name} | {role} | {_ms(times)} | {ratio:.1f}× | {size:.1f} | {statements} |"
    yield ""
    memory = "; ".join(
        f"{when}: master {mb[0]:.0f}, workers " + ", ".join(f"{m:.0f}" for m in mb[1:])
        for when, mb in report.memory.items()
    )
    yield f"Memory (RSS, MB) {memory}."
    yield ""
    low, high = options.think
    yield (
        f"Mixed load: {sum(report.load_users.values())} signed-in users, {options.seconds:g} s, "
        f"think {low:g}–{high:g} s, each on its role's pages at random:"
    )
    yield ""
    yield "| role | users | requests | p50 / p95 ms | errors |"
    yield "|---|---|---|---|---|"
    for role in (*ROLES, "all"):
        samples = [s for s in report.load if role in (s.role, "all")]
        if not samples:
            continue
        users = report.load_users.get(role) or sum(report.load_users.values())
        errors = sum(s.status != 200 for s in samples)
        yield f"| {role} | {users} | {len(samples)} | {_ms([s.ms for s in samples])} | {errors} |"
    if report.load:
        per_second = len(report.load) / options.seconds
        by_page: dict[tuple[str, str], list[float]] = {}
        for s in report.load:
            by_page.setdefault((s.role, s.page), []).append(s.ms)
        slowest = sorted(by_page.items(), key=lambda item: -percentile(item[1], 0.95))[:5]
        yield ""
        yield f"{per_second:.1f} requests a second. Slowest under load (p95 ms): " + "; ".join(
            f"{name} as {role} {percentile(times, 0.95):.0f}" for (role, name), times in slowest
        )
    kinds = sorted({str(s.status) for s in report.errors})
    if kinds:
        yield ""
        yield f"Errors: {len(report.errors)} ({', '.join(kinds)})."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=4, help="per gthread worker")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", default="1-3", help="seconds between a user's requests")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--small-database-url",
        default=os.environ.get("BENCH_SMALL_DATABASE_URL"),
        metavar="URL",
        help="a portfolio of about 3,000 clients: statements counted there too, beside the "
        "served one's (default: BENCH_SMALL_DATABASE_URL)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        metavar="DIR",
        help="another checkout of the portal (an earlier commit): its pages and this one's "
        "asked in turn, instead of the whole bench",
    )
    parser.add_argument("--only", default="", help="with --before: the pages whose name has this")
    parser.add_argument("--out", help="also write the tables to this file")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url.startswith("postgres"):
        parser.error("BENCH_DATABASE_URL must name the PostgreSQL database of bench.portfolio")
    if args.small_database_url and not args.small_database_url.startswith("postgres"):
        parser.error("--small-database-url must name a PostgreSQL database of bench.portfolio")
    low, high = (float(part) for part in args.think.split("-"))
    options = Options(
        database_url=url,
        small_database_url=args.small_database_url,
        redis_url=os.environ.get("BENCH_REDIS_URL"),
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads if args.worker_class == "gthread" else 1,
        rounds=args.rounds,
        users=args.users,
        seconds=args.seconds,
        think=(low, high),
        seed=args.seed,
    )
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    if args.before:
        text = comparison_markdown(compared(options, args.before.resolve(), args.only, out=log))
    else:
        text = run(options, out=log).markdown()
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
