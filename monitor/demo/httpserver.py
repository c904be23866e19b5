"""The demo's virtual-host HTTP(S) servers (aiohttp low-level server).

Listens on 127.0.0.1 and [::1] on one port (v4-only when the machine has no
::1), picks the site by the Host header and serves its `PageSpec`s (exact
paths, then routes, then the site's own not-found page), handing special pages
to their behaviour. Counts requests by (host, path with query). Runs inside the
demo's event loop; binds only loopback.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
import threading
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from aiohttp import web

from monitor.demo import content
from monitor.demo.spec import (
    LOOPBACK_V4,
    LOOPBACK_V6,
    DemoSite,
    Exchange,
    PageContext,
    PageSpec,
    UrlFor,
)

log = logging.getLogger(__name__)

BIND_ATTEMPTS = 50
SHUTDOWN_S = 0.5


HOLD_POLL_S = 0.02     # how often a held answer looks whether it was released


def ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind((LOOPBACK_V6, 0))
    except OSError:
        return False
    return True


def bind_listeners(with_v6: bool) -> list[socket.socket]:
    """Listening sockets on 127.0.0.1 (port chosen by the OS) and, if asked, [::1] on the same port."""
    for _ in range(BIND_ATTEMPTS):
        v4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        v4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        v4.bind((LOOPBACK_V4, 0))
        socks = [v4]
        if with_v6:
            v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            v6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                v6.bind((LOOPBACK_V6, v4.getsockname()[1]))
            except OSError as exc:
                v4.close()
                v6.close()
                if exc.errno != errno.EADDRINUSE:
                    raise
                continue
            socks.append(v6)
        for sock in socks:
            sock.listen(128)
            sock.setblocking(False)
        return socks
    raise OSError(errno.EADDRINUSE, "no port free on both 127.0.0.1 and ::1")


def host_of(header: str) -> str:
    """The Host header without port, brackets or trailing dot, lower-cased."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1: header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0].rstrip(".") if ":" in header else header.rstrip(".")


class Hold:
    """A host's answers held back (a slow site without a clock, for tests): the first `free` requests other
    than the homepage are answered, the rest wait until `release()`. Thread-safe: set from the test's thread."""

    def __init__(self, free: int = 0) -> None:
        self.free = free
        self.held = 0                       # requests waiting now
        self.released = threading.Event()

    def release(self) -> None:
        self.released.set()

    async def wait(self, path: str) -> None:
        if path == "/" or self.released.is_set():
            return
        if self.free > 0:
            self.free -= 1                  # the server's one event loop: no other task runs between
            return
        self.held += 1
        try:
            while not self.released.is_set():
                await asyncio.sleep(HOLD_POLL_S)
        finally:
            self.held -= 1


class VhostServer:
    """Serves `sites` by Host on plain HTTP and, when `tls` is given, HTTPS too; plain HTTP to a host of
    `secure` is a 301 to the same path over HTTPS (`url(host, path, scheme="https")`)."""

    def __init__(self, sites: Iterable[DemoSite], today: date, url: UrlFor,
                 tls: ssl.SSLContext | None = None, secure: frozenset[str] = frozenset()) -> None:
        self.sites = {site.host.lower(): site for site in sites}
        self.today = today
        self.url = url
        self.tls = tls
        self.secure = secure
        self.state: dict[Any, Any] = {}
        self.requests = 0
        self.hits: Counter[tuple[str, str]] = Counter()
        self.holds: dict[str, Hold] = {}    # host -> its answers held back (DemoWeb.hold)
        self.http_port = 0
        self.https_port: int | None = None
        self.ipv6 = False
        self._runner: web.ServerRunner | None = None

    async def start(self) -> None:
        self.ipv6 = ipv6_loopback_available()
        server = web.Server(self.handle, handler_cancellation=True, access_log=None)
        self._runner = web.ServerRunner(server, shutdown_timeout=SHUTDOWN_S)
        await self._runner.setup()
        plain = bind_listeners(self.ipv6)
        self.http_port = plain[0].getsockname()[1]
        sites = [web.SockSite(self._runner, sock) for sock in plain]
        if self.tls is not None:
            secure = bind_listeners(self.ipv6)
            self.https_port = secure[0].getsockname()[1]
            sites += [web.SockSite(self._runner, sock, ssl_context=self.tls) for sock in secure]
        for site in sites:
            await site.start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        self.requests += 1
        host = host_of(request.headers.get("Host", ""))
        self.hits[(host, request.path_qs)] += 1
        site = self.sites.get(host)
        if site is None:
            return web.Response(status=404, text=content.UNKNOWN_HOST_PAGE, content_type="text/html")
        if host in self.secure and not request.secure:
            return web.Response(status=301, headers={"Location": self.url(host, request.path_qs, scheme="https")})
        page = site.page_for(request.path) or site.not_found or PageSpec(status=404, body=content.NOT_FOUND_PLAIN)
        ctx = PageContext(site, self.today, self.url, _meta_charset(page), request.path, request.query_string)
        if (hold := self.holds.get(host)) is not None:
            await hold.wait(request.path)
        if page.delay_s:
            await asyncio.sleep(page.delay_s)
        if page.behaviour is None:
            return render(page, ctx)
        exchange = Exchange(request, page, ctx, self.state, lambda: render(page, ctx))
        response = await page.behaviour.respond(exchange)
        if response is None:
            # The behaviour dropped the connection; aiohttp must not write anything more.
            raise asyncio.CancelledError
        return response


def _meta_charset(page: PageSpec) -> str | None:
    return page.encoding if page.declare in ("both", "meta") else None


def render(page: PageSpec, ctx: PageContext) -> web.Response:
    """The page's bytes in its encoding, with the charset announced where `declare` says."""
    body = page.body(ctx) if callable(page.body) else page.body
    data = body if isinstance(body, bytes) else body.encode(page.encoding)
    content_type = page.content_type
    if page.declare in ("both", "header"):
        content_type += f"; charset={page.encoding}"
    headers = {"Content-Type": content_type, **page.headers}
    return web.Response(status=page.status, body=data, headers=headers)
