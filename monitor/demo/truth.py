"""Ground truth of the demo web, derived from the same specs that serve it.

`expect_fetch` walks a URL through the zone and the page specs the way the
fetch layer must (DNS by family, allowed networks, redirects, behaviours), and
`build_truth` records the result for every site and every DNS name as plain,
JSON-ready data. Pure; it never touches a socket.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from monitor.demo.spec import LOOPBACK_V4, LOOPBACK_V6, DemoSite, DnsSpec, ExpectEnv
from monitor.demo.zone import expected_answer, normalise
from monitor.outcomes import FetchKind

SCHEMA = "govmon.demo-truth/1"
RTYPES = ("A", "AAAA", "CNAME", "NS")
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class World:
    """What a URL's fate depends on: DNS data, vhosts, listening addresses, allowed networks."""

    zone: Mapping[str, DnsSpec]
    sites: Mapping[str, DemoSite]              # by host
    ipv6: bool                                 # whether [::1] listens
    allowed_networks: Sequence[str] = ()

    def allowed(self, address: str) -> bool:
        if not self.allowed_networks:
            return True
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.allowed_networks)


def _result(kind: FetchKind, final_url: str, chain: list[str], status: int | None = None,
            address: str | None = None, dns_kind: str | None = None) -> dict[str, Any]:
    return {"kind": str(kind), "status": status, "final_url": final_url, "redirect_chain": list(chain),
            "address": address, "dns_kind": dns_kind}


def _address(world: World, host: str, family: int | None) -> tuple[str | None, str | None]:
    """(address, None) or (None, the DnsKind value that stopped the fetch)."""
    rtypes = {4: ("A",), 6: ("AAAA",), None: ("A", "AAAA")}[family]
    answer: dict[str, Any] = {}
    for rtype in rtypes:
        answer = expected_answer(world.zone, host, rtype)
        if answer["kind"] != "no_answer":
            break
    if answer["kind"] != "ok":
        return None, str(answer["kind"])
    return str(answer["addresses"][0]), None


def expect_fetch(world: World, url: str, env: ExpectEnv, family: int | None = None) -> dict[str, Any]:
    """The FetchOutcome essentials `Fetcher.fetch_retrying(url, retries=env.retries)` must give."""
    chain: list[str] = []
    seen: set[str] = set()
    current = url
    while True:
        parts = urlsplit(current)
        if parts.scheme not in ("http", "https"):
            return _result(FetchKind.UNSUPPORTED, current, chain)
        if current in seen:
            return _result(FetchKind.REDIRECT_LOOP, current, chain)
        if len(chain) > MAX_REDIRECTS:
            return _result(FetchKind.TOO_MANY_REDIRECTS, current, chain)
        seen.add(current)
        host = normalise(parts.hostname or "")
        address, dns_kind = _address(world, host, family)
        if address is None:
            return _result(FetchKind.DNS, current, chain, dns_kind=dns_kind)
        if not world.allowed(address):
            return _result(FetchKind.DISALLOWED, current, chain, address=address)
        if address == LOOPBACK_V6 and not world.ipv6:
            return _result(FetchKind.NO_ROUTE, current, chain, address=address)
        if address not in (LOOPBACK_V4, LOOPBACK_V6):
            return _result(FetchKind.REFUSED, current, chain, address=address)
        site = world.sites.get(host)
        page = site.pages.get(parts.path or "/") if site is not None else None
        if page is None:
            return _result(FetchKind.HTTP_4XX, current, chain, 404, address)
        expect = page.expect(env)
        if expect.location is None:
            return _result(expect.kind, current, chain, expect.status, address)
        chain.append(current)
        current = urljoin(current, expect.location)


def build_truth(sites: Sequence[DemoSite], zone: Mapping[str, DnsSpec], *, url: Callable[[str, str], str],
                ipv6: bool, crawl: Mapping[str, Any], extra_names: Sequence[str] = (),
                meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The truth document: per site the expected homepage outcomes and availability, per DNS name
    the expected answers. `crawl` holds the demo config's timeout_s, retries, max_response_bytes
    and allowed_networks."""
    world = World(zone, {normalise(site.host): site for site in sites}, ipv6, tuple(crawl["allowed_networks"]))
    site_truth: dict[str, Any] = {}
    for site in sites:
        env = ExpectEnv(int(crawl["retries"]), float(site.timeout_s or crawl["timeout_s"]),
                        int(crawl["max_response_bytes"]), url)
        home_url = url(site.host, "/")
        homepage = expect_fetch(world, home_url, env)
        site_truth[site.id] = {
            "host": site.host, "url": home_url, "name": site.name, "kind": site.kind, "level": site.level,
            "listed": site.listed, "case": site.case,
            "availability": "pass" if homepage["kind"] == FetchKind.OK else "fail",
            "homepage": homepage,
            "homepage_v4": expect_fetch(world, home_url, env, 4),
            "homepage_v6": expect_fetch(world, home_url, env, 6),
        }
    names = sorted({normalise(site.host) for site in sites} | set(zone) | {normalise(n) for n in extra_names})
    dns = {name: {rtype: expected_answer(zone, name, rtype) for rtype in RTYPES} for name in names}
    return {"schema": SCHEMA, **(meta or {}), "crawl": dict(crawl), "sites": site_truth, "dns": dns}
