"""What the fetch layer must conclude for any URL of the demo web, and whether a
link to it is dead: DNS by family, allowed networks, TLS, redirects, page
behaviours, soft-404 pages. Derived from the zone and the page specs that
serve, never from a request. Pure; it never touches a socket.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from monitor.demo.spec import (
    LOOPBACK_V4,
    LOOPBACK_V6,
    DemoSite,
    DnsSpec,
    ExpectEnv,
    PageSpec,
)
from monitor.demo.zone import expected_answer, normalise
from checks.links import DEAD_KINDS as LINK_DEAD_KINDS
from monitor.outcomes import FetchKind

MAX_REDIRECTS = 10
DEFAULT_PORTS = {"http": 80, "https": 443}
DEAD_KINDS = frozenset(FetchKind(kind) for kind in LINK_DEAD_KINDS)
"""Link-target kinds that make a link dead: the checks' one table (checks.links.LINK_DISPOSITION)."""
NOT_DEAD_KINDS = frozenset({FetchKind.OK, FetchKind.RATE_LIMITED, FetchKind.BLOCKED, FetchKind.TOO_LARGE,
                            FetchKind.UNSUPPORTED, FetchKind.NO_ROUTE})
"""Kinds a demo link may end in without being dead; any other kind on a site link is a demo bug."""


@dataclass(frozen=True)
class World:
    """What a URL's fate depends on: DNS data, vhosts, listening addresses, allowed networks."""

    zone: Mapping[str, DnsSpec]
    sites: Mapping[str, DemoSite]              # by host
    ipv6: bool                                 # whether [::1] listens
    allowed_networks: Sequence[str] = ()
    faults: Mapping[str, FetchKind] = field(default_factory=dict)   # host → kind of an https fetch (tlsfaults)
    secure: frozenset[str] = frozenset()       # hosts on HTTPS with the demo CA's certificate (DemoSite.https)

    def allowed(self, address: str) -> bool:
        if not self.allowed_networks:
            return True
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.allowed_networks)


@dataclass(frozen=True)
class Walk:
    """The outcome of fetching one URL with retries, and the page spec that answered last."""

    kind: FetchKind
    final_url: str
    chain: tuple[str, ...] = ()
    status: int | None = None
    address: str | None = None
    dns_kind: str | None = None
    site: DemoSite | None = None
    page: PageSpec | None = None
    fallback: bool = False                     # the page is the host's answer for unknown paths

    def as_dict(self) -> dict[str, Any]:
        """The FetchOutcome essentials, as the truth's homepage entries record them."""
        return {"kind": str(self.kind), "status": self.status, "final_url": self.final_url,
                "redirect_chain": list(self.chain), "address": self.address, "dns_kind": self.dns_kind}

    @property
    def link_kind(self) -> FetchKind:
        """The kind a link checker must give: a 200 page that says it does not exist, or that is the
        host's answer to unknown paths, is a soft 404."""
        if self.kind is FetchKind.OK and self.page is not None and (self.page.soft_404 or self.fallback):
            return FetchKind.SOFT_404
        return self.kind

    @property
    def dead(self) -> bool:
        return self.link_kind in DEAD_KINDS


def malformed(href: str) -> bool:
    """A link meant for the web that names no URL: any file: link, or an http(s) one without
    "//", without a host, with a character no host may hold, or with a port out of range."""
    ref = href.strip()
    scheme, colon, rest = ref.partition(":")
    scheme = scheme.lower() if colon else ""
    if scheme == "file":
        return True
    if scheme not in DEFAULT_PORTS:
        return False
    try:
        parts = urlsplit(ref)
        parts.port  # noqa: B018 - raises for a port out of range
    except ValueError:
        return True
    host = parts.hostname or ""
    return not rest.startswith("//") or not host or any(c in host for c in " <>[]^|%\\")


def canonical(url: str) -> str:
    """The form the tool records: lower-case scheme and host, default port dropped, "/" for an
    empty path, no fragment. Other schemes (mailto:, tel:, javascript:) are returned as written."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return url
    host = (parts.hostname or "").rstrip(".").lower()
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None and parts.port != DEFAULT_PORTS[scheme]:
        netloc += f":{parts.port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def resolve(base: str, href: str) -> str:
    """The target the tool records for `href` on `base`: canonical, or as written when malformed."""
    return href.strip() if malformed(href) else canonical(urljoin(base, href.strip()))


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _address(world: World, host: str, family: int | None) -> tuple[str | None, str | None]:
    """(address, None) or (None, the DnsKind value that stopped the fetch); IP literals answer themselves."""
    literal = _literal(host)
    if literal is not None:
        if family is None or family == literal.version:
            return str(literal), None
        return None, "no_answer"
    rtypes = {4: ("A",), 6: ("AAAA",), None: ("A", "AAAA")}[family]
    answer: dict[str, Any] = {}
    for rtype in rtypes:
        answer = expected_answer(world.zone, host, rtype)
        if answer["kind"] != "no_answer":
            break
    if answer["kind"] != "ok":
        return None, str(answer["kind"])
    return str(answer["addresses"][0]), None


def address_of(world: World, host: str) -> str | None:
    """The address the tool connects to for `host` (None: DNS gives none)."""
    return _address(world, normalise(host), None)[0]


def walk(world: World, url: str, env: ExpectEnv, family: int | None = None) -> Walk:
    """What `Fetcher.fetch_retrying(url, retries=env.retries)` must end with."""
    chain: list[str] = []
    seen: set[str] = set()
    current = url
    while True:
        parts = urlsplit(current)
        if parts.scheme not in DEFAULT_PORTS:
            return Walk(FetchKind.UNSUPPORTED, current, tuple(chain))
        if current in seen:
            return Walk(FetchKind.REDIRECT_LOOP, current, tuple(chain))
        if len(chain) > MAX_REDIRECTS:
            return Walk(FetchKind.TOO_MANY_REDIRECTS, current, tuple(chain))
        seen.add(current)
        host = normalise(parts.hostname or "")
        address, dns_kind = _address(world, host, family)
        if address is None:
            return Walk(FetchKind.DNS, current, tuple(chain), dns_kind=dns_kind)
        if not world.allowed(address):
            return Walk(FetchKind.DISALLOWED, current, tuple(chain), address=address)
        if address == LOOPBACK_V6 and not world.ipv6:
            return Walk(FetchKind.NO_ROUTE, current, tuple(chain), address=address)
        if address not in (LOOPBACK_V4, LOOPBACK_V6):
            return Walk(FetchKind.REFUSED, current, tuple(chain), address=address)
        if host in world.faults:
            # A hostile TLS listener: it stalls (timeout) or answers garbage (tls). Neither answers
            # plain HTTP: the garbage listener waits for the end of a request that never comes.
            kind = world.faults[host] if parts.scheme == "https" else FetchKind.TIMEOUT
            return Walk(kind, current, tuple(chain), address=address)
        if parts.scheme == "https" and host not in world.secure:
            # The demo's certificate is self-signed (or, without a TLS listener, the link
            # points at the plain port): no client the demo config makes trusts it.
            return Walk(FetchKind.TLS, current, tuple(chain), address=address)
        if parts.scheme == "http" and host in world.secure:
            # An HTTPS site answers plain HTTP with a 301 to the same path over HTTPS.
            chain.append(current)
            current = canonical(env.url(host, parts.path + (f"?{parts.query}" if parts.query else ""),
                                        scheme="https"))
            continue
        site = world.sites.get(host)
        page = site.page_for(parts.path or "/") if site is not None else None
        fallback = page is None and site is not None and site.not_found is not None
        if page is None:
            if not fallback:
                return Walk(FetchKind.HTTP_4XX, current, tuple(chain), 404, address, site=site)
            page = site.not_found  # type: ignore[union-attr]
        assert page is not None
        expect = page.expect(env)
        if expect.location is None:
            return Walk(expect.kind, current, tuple(chain), expect.status, address, site=site, page=page,
                        fallback=fallback)
        location = expect.location.strip()
        following = "" if not location or malformed(location) else urljoin(current, location)
        if urlsplit(following).scheme not in DEFAULT_PORTS or malformed(following):
            # A browser cannot follow such a Location: the 3xx is the answer.
            return Walk(FetchKind.HTTP_3XX, current, tuple(chain), expect.status, address, site=site, page=page)
        chain.append(current)
        current = following


def expect_fetch(world: World, url: str, env: ExpectEnv, family: int | None = None) -> dict[str, Any]:
    """The FetchOutcome essentials `Fetcher.fetch_retrying(url, retries=env.retries)` must give."""
    return walk(world, url, env, family).as_dict()
