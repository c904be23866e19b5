"""A test's own HTTP server on 127.0.0.1 (port 0): started in a thread, and the one way its handlers answer."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes,
          content_type: str = "text/html; charset=utf-8") -> None:
    """Answer the request with `status` and `body`, its length given."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def serve(handler: type[BaseHTTPRequestHandler], name: str | None = None) -> ThreadingHTTPServer:
    """A server of `handler` on 127.0.0.1 and a free port, answering in daemon threads until shut down."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server
