"""A fake outside system (WHMCS, Jira) served for real on 127.0.0.1, in a thread, so the
portal's real HTTP client talks to it."""

from __future__ import annotations

import threading

from werkzeug.serving import make_server


class LocalServer:
    """Subclasses answer in `wsgi`; `start()` serves it on a free port and gives its base
    URL, `stop()` ends it. A slow answer waits on `_stopping`, so stopping cuts it short."""

    thread_name = "fake-server"

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._server = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def wsgi(self, environ, start_response):
        raise NotImplementedError

    def start(self) -> str:
        """Serve on a free port of 127.0.0.1 in a thread; returns the base URL."""
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.port}"
        return self.url

    def stop(self) -> None:
        self._stopping.set()  # a slow answer still waiting gives up
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
