"""The declarative vocabulary of the demo web: sites, pages, DNS records, links.

Owns the data types the generator fills in (`DemoSite`, `PageSpec`, `Chrome`,
`DnsSpec`) and `PageContext`, through which a page body writes its links and
dates: every link a body emits is also recorded on the context's `Sheet`, so
the ground truth reads the links of a page from the very call that serves it.
Each behaviour (Redirect, Flaky, Huge, Reset, Garbage) knows both how to serve
itself (`respond`) and what the fetch layer must conclude (`expect`). It must
not start servers or hold state of its own (per-web state lives in
`Exchange.state`).
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from monitor.outcomes import FetchKind, status_kind

if TYPE_CHECKING:
    from aiohttp import web

LOOPBACK_V4 = "127.0.0.1"
LOOPBACK_V6 = "::1"
UNSERVED_V4 = "127.0.0.2"          # loopback, but nothing of the demo listens there
OUTSIDE_V4 = "192.0.2.1"           # TEST-NET-1: never contacted; only resolved

FOLLOWED_TAGS = frozenset({"a", "area", "iframe", "frame", "pager"})
"""Tags whose targets a crawl fetches as pages; every other tag is only checked. "pager" links are the
list pages a crawl generates from a createPageHTML script or a Hanweb datastore (spiders/lists.py)."""
REDIRECT_TAGS = frozenset({"meta-refresh", "js-location"})
"""Tags that make the page a redirect (see `crawlmodel`)."""


@dataclass(frozen=True)
class DnsSpec:
    """The records of one name. `outcome` other than None makes the server misbehave for it."""

    a: tuple[str, ...] = (LOOPBACK_V4,)
    aaaa: tuple[str, ...] = (LOOPBACK_V6,)
    cname: str | None = None
    ns: tuple[str, ...] = ()
    outcome: str | None = None     # None | "nxdomain" | "servfail" | "refused" | "timeout"
    cname_alone: bool = False      # answer this CNAME without following it, as for a target in another zone

    @classmethod
    def dual(cls) -> DnsSpec:
        return cls()

    @classmethod
    def v4_only(cls, address: str = LOOPBACK_V4) -> DnsSpec:
        return cls(a=(address,), aaaa=())

    @classmethod
    def alias(cls, target: str, *, alone: bool = False) -> DnsSpec:
        return cls(a=(), aaaa=(), cname=target, cname_alone=alone)

    @classmethod
    def failing(cls, outcome: str) -> DnsSpec:
        return cls(a=(), aaaa=(), outcome=outcome)

    @classmethod
    def zone_apex(cls, *nameservers: str) -> DnsSpec:
        return cls(a=(), aaaa=(), ns=nameservers)


@dataclass(frozen=True)
class Ref:
    """A URL on another demo host; the port is only known once the demo web listens."""

    host: str
    path: str = "/"
    scheme: str = "http"


Href = str | Ref
"""What a link points at: a reference as written in the page ("/zwgk/", "./a.html",
"mailto:…") or a `Ref` to another demo host."""


@dataclass(frozen=True)
class LinkSpec:
    """A link placed on a page by the catalogue (the dead-link cases)."""

    tag: str                       # a | img | script | link | iframe
    href: Href
    text: str = ""


@dataclass
class Sheet:
    """What one rendering of a page emitted: links as (tag, href as written, text) and dates shown."""

    links: list[tuple[str, str, str]] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)


class UrlFor(Protocol):
    def __call__(self, host: str, path: str = "/", *, scheme: str = "http") -> str: ...


@dataclass(frozen=True)
class PageContext:
    """What a body function may use to render a page; `link` and `date` record on `sheet`."""

    site: DemoSite
    today: date
    url: UrlFor                        # (host, path, scheme=) -> absolute URL on the demo web
    meta_charset: str | None           # the charset a <meta> tag must declare, or None
    path: str = "/"
    query: str = ""
    sheet: Sheet = field(default_factory=Sheet)

    def href(self, target: Href) -> str:
        if isinstance(target, Ref):
            return self.url(target.host, target.path, scheme=target.scheme)
        return target

    def link(self, tag: str, target: Href, text: str = "") -> str:
        """Record a link and return the href to write (unescaped)."""
        href = self.href(target)
        self.sheet.links.append((tag, href, " ".join(text.split())))
        return href

    def date(self, day: date) -> date:
        """Record a publication date shown on the page (future dates too: the truth drops them)."""
        self.sheet.dates.append(day)
        return day


Body = str | bytes | Callable[[PageContext], str]


@dataclass(frozen=True)
class Expect:
    """What the fetch layer must conclude from one hop; `location` means "follow it"."""

    kind: FetchKind
    status: int | None = None
    location: str | None = None


@dataclass(frozen=True)
class ExpectEnv:
    """The fetch settings an expectation depends on."""

    retries: int
    timeout_s: float
    max_bytes: int
    url: UrlFor


@dataclass
class Exchange:
    """One request being served, handed to a behaviour."""

    request: web.BaseRequest
    page: PageSpec
    ctx: PageContext
    state: dict[Any, Any]                       # per-DemoWeb mutable state
    render: Callable[[], web.StreamResponse]    # the page as served without the behaviour


class Behaviour(Protocol):
    async def respond(self, exchange: Exchange) -> web.StreamResponse | None: ...

    def expect(self, page: PageSpec, env: ExpectEnv) -> Expect: ...


@dataclass(frozen=True)
class PageSpec:
    """One path of one site. `declare` says where the charset is announced:
    "both" (header and <meta>), "header", "meta" or "none". `soft_404` marks a
    200 page that says it does not exist; `trap` is "entry" for a real page that
    starts an endless URL sequence and "generated" for a page only a trap reaches."""

    body: Body = ""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"
    declare: str = "both"
    content_type: str = "text/html"
    delay_s: float = 0.0
    behaviour: Behaviour | None = None
    soft_404: bool = False
    trap: str = ""

    def expect(self, env: ExpectEnv) -> Expect:
        if self.delay_s >= env.timeout_s:
            return Expect(FetchKind.TIMEOUT)
        if self.behaviour is not None:
            return self.behaviour.expect(self, env)
        if 300 <= self.status < 400 and "Location" in self.headers:
            return Expect(FetchKind.OK, self.status, self.headers["Location"])
        return Expect(status_expectation(self.status, self.body), self.status)

    @property
    def html(self) -> bool:
        """Read as a page: HTML, or a Hanweb datastore answered as XML (the demo serves no other XML)."""
        return self.content_type in ("text/html", "text/xml")


@dataclass(frozen=True)
class Route:
    """Pages for every path under `prefix` that `match` accepts (None = not served)."""

    prefix: str
    match: Callable[[str], PageSpec | None]


@dataclass(frozen=True)
class Chrome:
    """The look every page of a host shares: navigation, date format, header and footer
    options, and the links the catalogue places on given paths (`extras`)."""

    nav: tuple[tuple[str, Href], ...] = ()
    date_format: str = "iso"           # iso | cn | slash | dot | md | bracket
    clock: bool = False                # a "今天是…" clock in the header
    copyright_since: int | None = None  # "Copyright © <since>-<this year>" in the footer
    assets: bool = True                # the site's own css/js/logo and the shared static files
    extras: Mapping[str, tuple[LinkSpec, ...]] = field(default_factory=dict)
    footer: Callable[[PageContext], str] | None = None  # the site's own footer markup (footercases)
    footer_after_html: bool = False    # the footer follows </html>, as some CMSs append it
    pubdate: int | None = None         # <meta name="PubDate"> this many days before today (a CMS's regeneration time)


@dataclass(frozen=True)
class DemoSite:
    """One virtual host. `listed` sites go into the written config; the others
    only serve (the province's sites, the shared static host, lab pages).
    `not_found` is what unknown paths serve (None: a plain 404)."""

    id: str
    host: str
    name: str
    kind: str
    level: str
    pages: Mapping[str, PageSpec]
    dns: DnsSpec = DnsSpec()
    listed: bool = True
    timeout_s: float | None = None     # per-site crawl overrides written to the config
    case: str = ""                     # what this site demonstrates, one line
    site_code: str = ""                # 网站标识码
    not_found: PageSpec | None = None
    routes: tuple[Route, ...] = ()
    chrome: Chrome = Chrome()
    columns: tuple[Any, ...] = ()      # columns.ColumnPlan, for the column truth
    max_pages: int | None = None
    max_depth: int | None = None
    extra_hosts: tuple[str, ...] = ()  # written to the config; part of the site's scope
    scope: str = "site"                # the config's scope key (checks.scope)
    max_links_per_page: int | None = None   # the config's link-check bound for one page
    https: bool = False                # HTTPS with a certificate of the demo CA; plain HTTP redirects there

    def page_for(self, path: str) -> PageSpec | None:
        page = self.pages.get(path)
        if page is not None:
            return page
        for route in self.routes:
            if path.startswith(route.prefix):
                found = route.match(path)
                if found is not None:
                    return found
        return None


def status_expectation(status: int, body: Body) -> FetchKind:
    """What the monitor makes of a demo page's status: the one mapping, monitor.outcomes.status_kind."""
    return status_kind(status, body if isinstance(body, str) else "")


@dataclass(frozen=True)
class Redirect:
    """A redirect to a path on the same site, or to `host` (absolute URL, same scheme and port)."""

    to: str
    status: int = 302
    host: str | None = None

    async def respond(self, exchange: Exchange) -> web.StreamResponse:
        from aiohttp import web

        location = self.to
        if self.host is not None:
            port = exchange.request.transport.get_extra_info("sockname")[1] if exchange.request.transport else 0
            location = f"{exchange.request.scheme}://{self.host}:{port}{self.to}"
        return web.Response(status=self.status, headers={"Location": location}, text="")

    def expect(self, page: PageSpec, env: ExpectEnv) -> Expect:
        location = env.url(self.host, self.to) if self.host is not None else self.to
        return Expect(FetchKind.OK, self.status, location)


@dataclass(frozen=True)
class Flaky:
    """503 for the first request after `quiet_s` without one (per host and path with query), and
    the page for the request after a 503 however late it comes: a retry always recovers, also
    when a busy machine delays it, and whoever asks meanwhile gets the page too."""

    quiet_s: float = 5.0

    async def respond(self, exchange: Exchange) -> web.StreamResponse:
        from aiohttp import web

        key = ("flaky", exchange.ctx.site.host, exchange.request.path_qs)
        now = time.monotonic()
        last, failed = exchange.state.get(key, (None, False))
        fail = not failed and (last is None or now - last > self.quiet_s)
        exchange.state[key] = (now, fail)
        if fail:
            return web.Response(status=503, text="503 Service Temporarily Unavailable",
                                headers={"Retry-After": "0"})
        return exchange.render()

    def expect(self, page: PageSpec, env: ExpectEnv) -> Expect:
        if env.retries >= 1:
            return Expect(FetchKind.OK, page.status)
        return Expect(FetchKind.HTTP_5XX, 503)


@dataclass(frozen=True)
class Huge:
    """A 200 body of `size` bytes sent chunked (no Content-Length), so only a streaming cap stops it.
    HEAD gets the headers alone (aiohttp would otherwise stream the body after them)."""

    size: int = 12 * 2**20
    chunk: int = 64 * 1024
    content_type: str = "application/octet-stream"

    async def respond(self, exchange: Exchange) -> web.StreamResponse:
        from aiohttp import web

        if exchange.request.method == "HEAD":
            return web.Response(status=200, headers={"Content-Type": self.content_type})
        response = web.StreamResponse(status=200, headers={"Content-Type": self.content_type})
        response.enable_chunked_encoding()
        await response.prepare(exchange.request)
        block = (b"<!-- " + b"0" * (self.chunk - 9) + b" -->\n") if self.content_type == "text/html" \
            else b"0" * self.chunk
        sent = 0
        try:
            while sent < self.size:
                await response.write(block[: self.size - sent])
                sent += len(block)
            await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client stopped reading at its cap: that is the point
        return response

    def expect(self, page: PageSpec, env: ExpectEnv) -> Expect:
        return Expect(FetchKind.TOO_LARGE if self.size > env.max_bytes else FetchKind.OK, 200)


@dataclass(frozen=True)
class Reset:
    """Close the connection with a TCP reset instead of answering."""

    async def respond(self, exchange: Exchange) -> None:
        transport = exchange.request.transport
        if transport is not None:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()

    def expect(self, page: PageSpec, env: ExpectEnv) -> Expect:
        return Expect(FetchKind.RESET)


@dataclass(frozen=True)
class Garbage:
    """Answer with bytes that are not HTTP, then close."""

    data: bytes = b"SSH-2.0-OpenSSH_8.0\r\n\r\n"

    async def respond(self, exchange: Exchange) -> None:
        transport = exchange.request.transport
        if transport is not None:
            transport.write(self.data)
            transport.close()

    def expect(self, page: PageSpec, env: ExpectEnv) -> Expect:
        return Expect(FetchKind.PROTOCOL)
