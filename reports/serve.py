"""`govmon serve`: the report set over HTTP, read-only.

Serves files under one directory with GET and HEAD only (anything else is
501), no directory listings, and the same Content-Security-Policy as the
pages carry. Never writes, never renders: `govmon report` does that.
"""

from __future__ import annotations

import logging
import socket
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


class ReportHandler(SimpleHTTPRequestHandler):
    """Static files of the report set; a directory without index.html is 404, not a listing."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,  # noqa: RUF012  (the base declares it so)
                      ".html": "text/html; charset=utf-8", ".csv": "text/csv; charset=utf-8",
                      ".json": "application/json; charset=utf-8",
                      ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

    def list_directory(self, path: str | Any) -> None:
        self.send_error(404, "Not found")

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 8800) -> ThreadingHTTPServer:
    """A bound server for `directory` (port 0: the OS chooses); call serve_forever(). OSError if it cannot bind."""
    handler = partial(ReportHandler, directory=str(Path(directory).resolve()))
    server_class = _Server6 if ":" in host else _Server
    return server_class((host, port), handler)
