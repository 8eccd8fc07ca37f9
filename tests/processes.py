"""The portal's processes as production runs them, started by a test: `flask kam worker`,
`flask kam cron`, gunicorn serving `wsgi:app`, each in a session of its own with its output
kept in a file, on the test's database and Redis."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from flask import Flask

from kamportal.config import ROOT
from tests.conftest import free_port

BIN = Path(sys.executable).parent
FLASK = BIN / "flask"
GUNICORN = BIN / "gunicorn"


def production_environment(
    app: Flask, *, redis_url: str | None = None, mail_port: int | None = None
) -> dict[str, str]:
    """The environment of a production process on `app`'s database and Redis (or
    `redis_url`), sending mail to 127.0.0.1:`mail_port`, over plain HTTP."""
    return {
        **os.environ,
        "KAM_ENV": "production",
        "SECRET_KEY": "job-process-test-secret",
        "FLASK_APP": "wsgi",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url or app.config["REDIS_URL"],
        "MAIL_TRANSPORT": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(mail_port or free_port()),
        "MAIL_TIMEOUT": "120",
        "COOKIE_SECURE": "false",
    }


def session_pids(session: int) -> list[int]:
    """The processes of session `session` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (command) state ppid pgrp session ...: the command may hold spaces.
        fields = stat.rpartition(")")[2].split()
        if int(fields[3]) == session:
            pids.append(int(entry.name))
    return pids


class Process:
    """`command` in a session of its own, its output kept in the file `log`."""

    def __init__(self, command: list[str], environment: dict[str, str], log: Path) -> None:
        self.command = command
        self.log = log
        with log.open("w") as out:
            self.popen = subprocess.Popen(
                command,
                cwd=ROOT,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait(self, timeout: float = 120) -> int:
        return self.popen.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL every process of its session, as a crash would: the worker, the
        scheduler it forked and the work horse running a job (a process group of its own)."""
        for pid in session_pids(self.popen.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM, as a supervisor stops it; its exit status."""
        self.popen.terminate()
        try:
            return self.popen.wait(timeout=30)
        finally:
            if self.alive:
                self.kill()


class JobProcess(Process):
    """`flask kam <args>`: the worker or the cron process."""

    def __init__(self, args: list[str], environment: dict[str, str], log: Path) -> None:
        self.args = args
        super().__init__([str(FLASK), "kam", *args], environment, log)


class WebProcess(Process):
    """gunicorn serving the portal (`wsgi:app`) on 127.0.0.1:`port`, one sync worker."""

    def __init__(self, port: int, environment: dict[str, str], log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        command = [str(GUNICORN), "--workers=1", f"--bind=127.0.0.1:{port}", "wsgi:app"]
        super().__init__(command, environment, log)
