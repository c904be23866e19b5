"""A loopback site whose homepage answers only when the test says so: a slow site without a clock."""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.loopback_http import reply, serve

PAGE = b"<html><head><title>held</title></head><body><p>held</p></body></html>"


class HeldSite:
    """Serves `/` on 127.0.0.1 once `release()` was called (at most `wait_s`); anything else is a 404 at once.
    The first `free` requests of `/` are answered at once (a crawl's), the ones after them held."""

    def __init__(self, wait_s: float = 120.0, free: int = 0) -> None:
        self.released, self.asked, self.answered = threading.Event(), threading.Event(), threading.Event()
        self.free = free
        held = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/":
                    with lock:
                        free = held.free > 0
                        held.free -= free
                    if not free:
                        held.asked.set()
                        held.released.wait(wait_s)
                    held.answered.set()
                    self._answer(200, PAGE)
                else:
                    self._answer(404, b"not here")

            def _answer(self, status: int, body: bytes) -> None:
                with contextlib.suppress(OSError):   # the crawl that asked may have been stopped meanwhile
                    reply(self, status, body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = serve(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def add_to(self, config_path: Path, site_id: str = "held") -> None:
        """Add the site to a sites.toml, with a timeout long enough to wait for release()."""
        with config_path.open("a", encoding="utf-8") as file:
            file.write(f'\n[[site]]\nid = "{site_id}"\nname = "{site_id}"\nurl = "{self.url}"\nkind = "portal"\n'
                       'level = "city"\ntimeout_s = 120\nretries = 0\n')
