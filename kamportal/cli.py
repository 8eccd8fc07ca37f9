"""`flask kam ...`: demo data, users, the demo server, the job processes, sweeps."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from sqlalchemy import select

from kamportal import demo
from kamportal.errors import DomainError
from kamportal.extensions import db
from kamportal.jobs import worker as job_worker
from kamportal.models import Role, User


@click.group()
def kam() -> None:
    """KAM Portal commands."""


@kam.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Repeat for several roles.",
)
@click.option("--timezone", default="UTC")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_user_command(
    email: str, name: str, roles: tuple[str, ...], timezone: str, password: str
) -> None:
    """Create a user (the first admin, typically)."""
    from kamportal.services import accounts

    try:
        user = accounts.create_user(
            email=email,
            name=name,
            password=password,
            roles=[Role(r) for r in roles],
            timezone=timezone,
            actor=None,
        )
    except DomainError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created {user.email} ({', '.join(sorted(roles))}).")


@kam.command("seed-demo")
@click.option(
    "--clients",
    "client_count",
    default=demo.DEFAULT_CLIENTS,
    show_default=True,
    type=click.IntRange(min=0, max=demo.MAX_CLIENTS),
    help="How many demo client stores, besides the launch stories' (one at each stage of "
    "the onboarding).",
)
@click.option("--seed", default=demo.DEFAULT_SEED, show_default=True, type=int, help="Random seed.")
@click.option(
    "--url",
    "served_at",
    default=demo.DEMO_PUBLIC_URL,
    show_default=True,
    callback=lambda _ctx, _param, value: _web_address(value),
    help="The address the demo is served at (`flask kam serve`): the links in the demo's "
    "emails (KYC questionnaires) open there. PUBLIC_URL, when set, wins.",
)
@with_appcontext
def seed_demo_command(client_count: int, seed: int, served_at: str) -> None:
    """Create the demo teams, users and client portfolio. Running it again adds nothing."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException(
            "seed-demo creates users with a published password: it does not run with "
            "KAM_ENV=production."
        )
    started = time.perf_counter()
    report = demo.seed_demo(clients=client_count, seed=seed, served_at=served_at)
    db.session.commit()
    seconds = time.perf_counter() - started
    if report.nothing_added:
        click.echo("Demo data already in place: nothing added.")
        return
    click.echo(
        f"Demo data added in {seconds:.1f} s: {report.teams} teams, {report.users} users, "
        f"{report.clients} clients, {report.contacts} contacts, "
        f"{report.events} timeline events, {report.meetings} meetings, "
        f"{report.minutes} minutes, {report.escalations} escalations, "
        f"{report.complaints} complaints, {report.renewals} renewals, {report.invoices} invoices."
    )
    click.echo(
        f"Onboarding: {report.welcome_sent} welcome emails sent and {report.welcome_owed} owed, "
        f"{report.kyc_links} KYC links sent and {report.kyc_submitted} questionnaires "
        f"submitted, {report.checklist_ticks} checklist items ticked, "
        f"{report.launched} stores launched."
    )
    click.echo(f"Customization requests (C1-C7): {report.customizations}.")
    click.echo(f"Support: {report.support_tickets} tickets escalated (G4).")
    click.echo(f"Account plans (P1): {report.account_plans}.")
    click.echo(
        f"Store management (F6): {report.store_duties} duties done, "
        f"{report.data_entry_requests} data-entry requests."
    )
    click.echo(f"Points of contact changed: {report.handovers}, a hand-over meeting owed (P5).")
    click.echo(f"Upsell and cross-sell opportunities (P3): {report.opportunities}.")
    click.echo(f"Monthly reports of last month: {report.client_reports}, most sent (P4).")
    click.echo(
        f"Store figures: {report.store_days} days of orders and GMV; "
        f"{report.not_selling} stores not selling (F4)."
    )
    click.echo(f"Health (P2): {report.health_days} daily scores, today's and 12 weeks before.")
    click.echo(f"Apps and marketing actions suggested (F5): {report.suggestions}.")


def _web_address(value: str) -> str:
    """An http(s) address without its trailing slash; a usage error otherwise."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"give a web address such as {demo.DEMO_PUBLIC_URL}")
    return value.rstrip("/")


def served_address(host: str, port: int) -> str:
    """Where a browser on this machine reaches a server listening on `host`:`port` (one
    listening on every interface is reached on 127.0.0.1)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


@kam.command("demo-logins")
@with_appcontext
def demo_logins_command() -> None:
    """Print the demo users and their password (after `flask kam seed-demo`)."""
    _echo_demo_logins()


def _echo_demo_logins() -> None:
    rows = demo.demo_logins()
    present = set(
        db.session.scalars(select(User.email).where(User.email.in_(r.email for r in rows)))
    )
    rows = [r for r in rows if r.email in present]
    if not rows:
        raise click.ClickException("No demo users yet: run `flask kam seed-demo` first.")
    header = ("role", "name", "email", "team", "password")
    table = [header, *((r.role, r.name, r.email, r.team, r.password) for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    table.insert(1, tuple("-" * w for w in widths))
    click.echo("Demo logins:")
    for row in table:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo(("  " + "  ".join(cells)).rstrip())


@kam.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Run every periodic job once, now (what `flask kam cron` runs on schedule)."""
    from kamportal import queue
    from kamportal.jobs import cron

    for entry in cron.entries():
        func = entry["func"]
        result = func(*entry.get("args", ()), **entry.get("kwargs", {}))
        click.echo(f"{func.__module__}.{func.__name__}: {result}")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if queue.backend(app).embedded:
        # The embedded queue lives in this process: run what the sweeps queued before exiting.
        queue.run_worker_burst(app)
        click.echo("Ran the jobs they queued (embedded queue).")
    else:
        click.echo("Jobs they queued are on Redis for `flask kam worker`.")


def _redis_app():
    """The app of a job process: refused without REDIS_URL (the embedded queue has none)."""
    from kamportal import queue

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if queue.backend(app).embedded:
        raise click.ClickException(
            "REDIS_URL is not set: `flask kam serve` runs the jobs and sweeps in-process."
        )
    return app


@kam.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs due now, then exit.")
@click.option(
    "--job-monitoring-interval",
    type=click.IntRange(min=1),
    default=job_worker.JOB_MONITORING_INTERVAL,
    show_default=True,
    help="Seconds between the heartbeats of a running job.",
)
@click.option(
    "--heartbeat-grace",
    type=click.IntRange(min=1),
    default=job_worker.HEARTBEAT_GRACE,
    show_default=True,
    help="Extra seconds a running job's heartbeat lasts: a job whose worker died counts "
    "as abandoned at most the monitoring interval plus this after the death.",
)
@click.option(
    "--maintenance-interval",
    type=click.IntRange(min=1),
    default=job_worker.MAINTENANCE_INTERVAL,
    show_default=True,
    help="Seconds between settling abandoned jobs and checking the scheduler lock.",
)
@click.option(
    "--worker-ttl",
    type=click.IntRange(min=16),
    default=job_worker.WORKER_TTL,
    show_default=True,
    help="RQ's worker TTL, seconds: the worker waits for a job this less 15 s at a time, "
    "and sees to its maintenance between waits.",
)
@with_appcontext
def worker_command(
    burst: bool,
    job_monitoring_interval: int,
    heartbeat_grace: int,
    maintenance_interval: int,
    worker_ttl: int,
) -> None:
    """Run the jobs queued on Redis, scheduled ones included (one or more per deployment).

    The app is built once; each job runs in a fork of this process. It rides out Redis going
    away, in the middle of a job too. Exits with status 1 if Redis is unreachable at
    start or on another error: run it under a supervisor that starts it again (README,
    Processes).
    """
    app = _redis_app()
    try:
        stopped_as_asked = job_worker.run_worker(
            app,
            burst=burst,
            job_monitoring_interval=job_monitoring_interval,
            heartbeat_grace=heartbeat_grace,
            maintenance_interval=maintenance_interval,
            worker_ttl=worker_ttl,
        )
    except RedisError as error:
        raise click.ClickException(f"Redis: {error}") from error
    if not stopped_as_asked:
        raise click.ClickException("the worker stopped on an error (see the log above)")


@kam.command("cron")
@click.option(
    "--config",
    default="kamportal.jobs.cron",
    show_default=True,
    help="The module that registers the periodic jobs (`rq.cron.register`).",
)
@with_appcontext
def cron_command(config: str) -> None:
    """Enqueue the periodic sweeps on schedule (exactly one per deployment). It keeps
    running while Redis is away and carries on when it is back."""
    job_worker.run_cron(_redis_app(), config=config)


@kam.command("open-checklists")
@with_appcontext
def open_checklists_command() -> None:
    """Give every client being onboarded or launched the launch checklist items it lacks
    (clients registered before the portal had checklists; items added to the data)."""
    from kamportal.extensions import db
    from kamportal.services import onboarding

    clients, items = onboarding.open_missing_checklists()
    db.session.commit()
    click.echo(f"{items} checklist items added for {clients} clients.")


@kam.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(min=0, max=65535))
@click.option(
    "--demo-logins",
    "with_logins",
    is_flag=True,
    help="Print the demo logins once the server is up, after the start-up messages.",
)
@with_appcontext
def serve_command(host: str, port: int, with_logins: bool) -> None:
    """Serve the portal with the job worker in the same process (embedded queue).

    With the embedded queue, what the worker's first pass does (the reconcilers re-create
    the jobs a previous run left, and what is due runs) is done before serving, so its
    messages come first and the address and the demo logins last."""
    from werkzeug.serving import make_server

    from kamportal import queue
    from kamportal.jobs import cron

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if queue.backend(app).embedded:
        # RQ's cron says each time it enqueues a sweep: the sweeps say what they did.
        logging.getLogger("rq.cron").setLevel(logging.WARNING)
        for entry in cron.entries():
            if "interval" in entry:  # the reconcilers, which the first pass runs at once
                entry["func"](*entry.get("args", ()), **entry.get("kwargs", {}))
        queue.run_worker_burst(app)
        queue.start_embedded_worker(app, cron_entries=cron.entries())
        click.echo("Job worker: embedded (in this process), periodic sweeps included.")
    else:
        click.echo("Job worker: REDIS_URL is set; run `flask kam worker` beside this.")
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as error:
        raise click.ClickException(
            f"Cannot serve on {host}:{port} ({error.strerror or error}): another server may "
            "be using the port. Choose another: `PORT=8080 make demo`, or `--port`."
        ) from error
    click.echo(f"KAM Portal on {served_address(host, server.server_port)} (Ctrl-C to stop)")
    if with_logins:
        try:
            _echo_demo_logins()
        except click.ClickException as error:  # no demo users: serve all the same
            click.echo(error.message)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.server_close()
