"""`govmon serve`: the report set over HTTP, read-only.

Serves files under one directory with GET and HEAD only (anything else is
501), no directory listings, and the same Content-Security-Policy as the
pages carry. Never writes, never renders: `govmon report` does that.
"""

from __future__ import annotations

import html
import logging
import socket
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


ERROR_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>%(code)d</title></head>
<body><h1>%(code)d</h1><p>%(zh)s</p><p lang="en">%(message)s</p></body></html>
"""
ERROR_WORDS = {404: "页面不存在", 501: "只支持 GET 和 HEAD 请求", 400: "请求有误", 414: "地址过长"}


class ReportHandler(SimpleHTTPRequestHandler):
    """Static files of the report set; a directory without index.html is 404, not a listing.

    Errors are a small page of its own with the same headers as the pages; no
    header or page names the server software or the Python version."""

    error_content_type = "text/html; charset=utf-8"

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,  # noqa: RUF012  (the base declares it so)
                      ".html": "text/html; charset=utf-8", ".csv": "text/csv; charset=utf-8",
                      ".json": "application/json; charset=utf-8",
                      ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

    def version_string(self) -> str:
        return "govmon"

    def list_directory(self, path: str | Any) -> None:
        self.send_error(404, "Not found")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The base page quotes the request; this one says only what went wrong, in both languages.
        self.error_message_format = ERROR_PAGE % {
            "code": code, "zh": html.escape(ERROR_WORDS.get(code, "请求未能完成")),
            "message": html.escape(self.responses.get(code, ("Error",))[0])}
        super().send_error(code, message, explain)

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
