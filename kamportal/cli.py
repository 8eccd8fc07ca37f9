"""`flask kam ...`: demo data, users, the demo server, sweeps."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from kamportal import demo
from kamportal.errors import DomainError
from kamportal.extensions import db
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
@with_appcontext
def seed_demo_command(client_count: int, seed: int) -> None:
    """Create the demo teams, users and client portfolio. Running it again adds nothing."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException(
            "seed-demo creates users with a published password: it does not run with "
            "KAM_ENV=production."
        )
    started = time.perf_counter()
    report = demo.seed_demo(clients=client_count, seed=seed)
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


@kam.command("demo-logins")
@with_appcontext
def demo_logins_command() -> None:
    """Print the demo users and their password (after `flask kam seed-demo`)."""
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
    """Run every periodic job once, now (what `rq cron kamportal.jobs.cron` runs on schedule)."""
    from kamportal.jobs import cron, queue

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
        click.echo("Jobs they queued are on Redis for `rq worker`.")


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
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the portal with the job worker in the same process (embedded queue)."""
    from werkzeug.serving import run_simple

    from kamportal.jobs import cron, queue

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if queue.backend(app).embedded:
        queue.start_embedded_worker(app, cron_entries=cron.entries())
        click.echo("Job worker: embedded (in this process), periodic sweeps included.")
    else:
        click.echo("Job worker: REDIS_URL is set; run `rq worker --with-scheduler` beside this.")
    click.echo(f"KAM Portal on http://{host}:{port}")
    run_simple(host, port, app, threaded=True, use_reloader=False)
