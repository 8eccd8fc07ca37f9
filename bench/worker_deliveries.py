"""Time outbox deliveries through a real worker process on Redis: `flask kam worker`
(the app built once, inherited by each job's fork) against plain `rq worker` (which
builds the app again in every job's fork).

Run: python -m bench.worker_deliveries --messages 150 [--worker kam|rq|both]
See bench/README.md. Needs `redis-server` on the PATH (started on a free port) and the
dev dependencies (aiosmtpd receives the emails).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from redis import Redis
from sqlalchemy import func, select

from bench.client_pages import reset_schema
from kamportal import create_app
from kamportal.config import ROOT, TestConfig
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import DeliveryStatus, OutboxMessage


class Sink:
    """An SMTP server that counts what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.received = 0
        self.port = _free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        self.received += 1
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(worker: str, redis_url: str) -> list[str]:
    bin_dir = Path(sys.executable).parent
    if worker == "kam":
        return [str(bin_dir / "flask"), "kam", "worker", "--burst"]
    return [str(bin_dir / "rq"), "worker", "--burst", "--url", redis_url, "kamportal"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=150)
    parser.add_argument("--worker", choices=["kam", "rq", "both"], default="both")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not on the PATH")

    with tempfile.TemporaryDirectory() as scratch:
        database_url = (
            os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(scratch) / 'bench.db'}"
        )
        database_url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        reset_schema(database_url)
        redis_port = _free_port()
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        redis_server = subprocess.Popen(
            [
                *("redis-server", "--port", str(redis_port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", scratch),
            ],
            stdout=subprocess.DEVNULL,
        )
        sink = Sink()
        sink.controller.start()
        try:
            for _ in range(50):
                try:
                    Redis.from_url(redis_url).ping()
                    break
                except Exception:
                    time.sleep(0.1)

            class BenchConfig(TestConfig):
                TESTING = False
                SQLALCHEMY_DATABASE_URI = database_url
                REDIS_URL = redis_url

            app = create_app(BenchConfig)
            environment = {
                **os.environ,
                "KAM_ENV": "production",
                "SECRET_KEY": "bench-secret",
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "MAIL_TRANSPORT": "smtp",
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": str(sink.port),
                "FLASK_APP": "wsgi",
            }
            workers = ["kam", "rq"] if args.worker == "both" else [args.worker]
            with app.app_context():
                upgrade()
                for worker in workers:
                    for n in range(args.messages):
                        outbox.queue_email(
                            key=f"bench-{worker}-{n}",
                            to=[f"client{n}@store.example"],
                            subject=f"Message {n}",
                            body="Hello.",
                        )
                    db.session.commit()
                    before = sink.received
                    started = time.perf_counter()
                    log = Path(scratch) / f"{worker}.log"
                    with log.open("w") as out:
                        subprocess.run(
                            _command(worker, redis_url),
                            cwd=ROOT,
                            env=environment,
                            check=True,
                            stdout=out,
                            stderr=subprocess.STDOUT,
                        )
                    seconds = time.perf_counter() - started
                    db.session.rollback()
                    sent = db.session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.idempotency_key.like(f"bench-{worker}-%"))
                        .where(OutboxMessage.status == DeliveryStatus.SENT.value)
                    )
                    print(
                        f"{worker:>3} worker: {sent} of {args.messages} sent "
                        f"({sink.received - before} received) in {seconds:.1f} s, "
                        f"{seconds / args.messages * 1000:.0f} ms a message "
                        f"(process start included)"
                    )
                    if sent != args.messages:
                        failures = [
                            line for line in log.read_text().splitlines() if "Error" in line
                        ]
                        print("\n".join(failures[-10:]))
                db.engine.dispose()
        finally:
            sink.controller.stop()
            redis_server.terminate()
            redis_server.wait()


if __name__ == "__main__":
    main()
