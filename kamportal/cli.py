"""`flask kam ...`: demo data, users, the demo server, sweeps."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from kamportal.errors import DomainError
from kamportal.extensions import db
from kamportal.models import Role


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


@kam.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the portal with the job worker in the same process (embedded queue)."""
    from werkzeug.serving import run_simple

    from kamportal.jobs import queue

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if queue.backend(app).embedded:
        queue.start_embedded_worker(app)
        click.echo("Job worker: embedded (in this process).")
    else:
        click.echo("Job worker: REDIS_URL is set; run `rq worker --with-scheduler` beside this.")
    click.echo(f"KAM Portal on http://{host}:{port}")
    run_simple(host, port, app, threaded=True, use_reloader=False)
