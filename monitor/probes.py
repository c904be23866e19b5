"""Probes: the network work beyond the crawl, run only when a planned check needs it.

Kinds: availability; dns (A/AAAA/CNAME of the site host, plus a "dns-ns" probe
with the AAAA of the domain's authoritative nameservers); homepage-v4 and
homepage-v6 (`ipv6_probe_count` fetches each, interleaved, pinned to one
family); links-v6 (the secondary and tertiary link targets of checks.ipv6,
from the crawl, each fetched over IPv6 once per run); tls (certificate,
protocol and trust of the homepage's HTTPS, and whether HTTP redirects to it).

Everything goes through the one resolver and the one fetch layer (the TLS
handshakes connect to the address the resolver gave and classify failures with
the fetch layer's `classify_exception`). Before any IPv6 probe, the route check
passed in by the caller decides whether the monitor can reach IPv6 at all; if
not, IPv6 probes are recorded as `no_route` and nothing is sent. Outcomes are
returned as snapshot data for the store. Never raises for a site's failure.

Each probe kind of each site, and the DNS queries of each host, run isolated:
an exception there (a bug, an unforeseen library error) is logged and kept as
the reason that input failed for that site (`Collected.failed`); the input is
then not collected, nothing partial of it is stored, and every other probe and
site goes on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from checks.linktiers import link_tiers
from checks.scope import normal_host
from checks.snapshot import DnsAnswer, Link, Page, Probe, SiteInfo, SiteSnapshot
from monitor.config import Crawl
from monitor.fetch import Fetcher, FetchOutcome, RobotsRules, make_ssl_context
from monitor.outcomes import FetchKind
from monitor.resolver import Answer, Resolver, ip_literal
from monitor.tlsprobe import tls_probe

log = logging.getLogger(__name__)
R = TypeVar("R")

DNS_TYPES = ("A", "AAAA", "CNAME")
SUPPORTED = frozenset({"probe:availability", "dns", "probe:homepage-v4", "probe:homepage-v6", "probe:links-v6",
                       "probe:tls"})
"""The inputs this module can gather; a need outside it stays uncollected (the check says so)."""


@dataclass(frozen=True)
class ProbeTarget:
    site: SiteInfo
    crawl: Crawl                      # the site's effective crawl settings (timeout, retries)
    needs: frozenset[str]             # what its planned checks need
    pages: tuple[Page, ...] | None = None   # the run's crawl of the site, for links-v6 (None: not crawled)
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class Collected:
    probes: Mapping[str, tuple[Probe, ...]] = field(default_factory=dict)   # by site id
    dns: tuple[DnsAnswer, ...] = ()
    collected: Mapping[str, frozenset[str]] = field(default_factory=dict)   # inputs gathered, by site id
    failed: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # site id -> input -> why it failed


def reason_of(exc: BaseException) -> str:
    """The short reason a result shows for our own exception: "ExcType: message"."""
    return f"{type(exc).__name__}: {exc}"


async def isolated(what: str, site_id: str, inputs: Collection[str], failed: dict[str, dict[str, str]],
                   work: Awaitable[R]) -> R | None:
    """Await one probe of one site; an exception becomes the reason its `inputs` failed (None returned).
    Cancellation and KeyboardInterrupt are not exceptions here: they stop the run."""
    try:
        return await work
    except Exception as exc:
        reason = reason_of(exc)
        log.warning("probe %s of site %s failed: %s", what, site_id, reason)
        log.debug("probe %s of site %s failed", what, site_id, exc_info=True)
        for need in inputs:
            failed.setdefault(site_id, {}).setdefault(need, reason)
        return None


def dns_answer(a: Answer) -> DnsAnswer:
    return DnsAnswer(name=a.name, rtype=a.rtype, kind=str(a.kind), addresses=tuple(a.addresses),
                     cname_chain=tuple(a.cname_chain), detail=a.detail)


def probe_from(kind: str, url: str, outcome: FetchOutcome, at: datetime, attempts: int = 1) -> Probe:
    detail: dict[str, object] = {"attempts": attempts, "reason": outcome.detail,
                                 "redirect_chain": list(outcome.redirect_chain), "content_type": outcome.content_type}
    if outcome.dns_kind:
        detail["dns_kind"] = str(outcome.dns_kind)
    if outcome.tls_error:
        detail["tls_error"] = str(outcome.tls_error)
    return Probe(kind=kind, url=url, outcome=str(outcome.kind), at=at, status=outcome.status,
                 address=outcome.address, final_url=outcome.final_url, title=outcome.title, size=outcome.size,
                 elapsed_ms=round(outcome.elapsed_ms, 1), detail=detail)


async def _dns(resolver: Resolver, hosts: Mapping[str, Sequence[str]],
               failed: dict[str, dict[str, str]]) -> tuple[DnsAnswer, ...]:
    """A, AAAA and CNAME of each host (host -> the ids of the sites on it); a query that raises
    fails "dns" for those sites only, the other hosts' answers stand."""
    queries = [(h, t) for h in sorted(hosts) for t in DNS_TYPES]
    answers = await asyncio.gather(*(_query(resolver, h, t, hosts[h], failed) for h, t in queries))
    return tuple(dns_answer(a) for a in answers if a is not None)


async def _query(resolver: Resolver, host: str, rtype: str, site_ids: Sequence[str],
                 failed: dict[str, dict[str, str]]) -> Answer | None:
    lost: dict[str, dict[str, str]] = {}
    answer = await isolated(f"dns {rtype} {host}", ", ".join(site_ids), ("dns",), lost,
                            resolver.aresolve(host, rtype))
    for reason in (r["dns"] for r in lost.values()):
        for site_id in site_ids:
            failed.setdefault(site_id, {}).setdefault("dns", reason)
    return answer


async def _all(works: Sequence[Awaitable[R]]) -> list[R]:
    """Await every one to its end, then raise the first exception if any raised: a probe that fails
    leaves none of its fetches running behind it."""
    done = await asyncio.gather(*works, return_exceptions=True)
    for item in done:
        if isinstance(item, BaseException):
            raise item
    return done  # type: ignore[return-value]


async def _availability(fetchers: Mapping[float, Fetcher], target: ProbeTarget, limit: asyncio.Semaphore,
                        clock: Callable[[], datetime]) -> Probe:
    async with limit:
        fetcher = fetchers[target.crawl.timeout_s]
        outcome, attempts = await fetcher.fetch_retrying(target.site.url, retries=target.crawl.retries)
    return probe_from("availability", target.site.url, outcome, clock(), attempts)


GLOBAL_V6 = "2400:3200::1"
"""Any global IPv6 address: a UDP connect() to it sends nothing but needs a route."""


def has_ipv6_route(address: str = GLOBAL_V6) -> bool:
    """Whether this host can route to `address` over IPv6 (a UDP connect() sends no packet)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.connect((address, 53))
    except OSError:
        return False
    return True


def route_check_for(allowed_networks: Sequence[str]) -> Callable[[], bool]:
    """The default route check: towards the first allowed IPv6 network when the crawl is fenced
    (the demo: ::1), towards a global address otherwise; no allowed IPv6 network means no route."""
    if not allowed_networks:
        return has_ipv6_route
    v6 = [ipaddress.ip_network(n, strict=False) for n in allowed_networks]
    v6 = [n for n in v6 if n.version == 6]
    if not v6:
        return lambda: False
    if v6[0].prefixlen == 0:
        return has_ipv6_route
    first = str(v6[0].network_address if v6[0].num_addresses == 1 else v6[0].network_address + 1)
    return lambda: has_ipv6_route(first)


def _no_route(kind: str, url: str, at: datetime) -> Probe:
    return Probe(kind=kind, url=url, outcome="no_route", at=at,
                 detail={"reason": "the monitor has no IPv6 route; nothing was sent"})


async def _nameservers(resolver: Resolver, host: str, clock: Callable[[], datetime]) -> Probe:
    """NS of the closest enclosing zone the resolver shows (never the TLD alone), with each server's AAAA."""
    labels = host.split(".")
    for i in range(max(len(labels) - 1, 0)):
        zone = ".".join(labels[i:])
        answer = await resolver.aresolve(zone, "NS")
        if answer.ok and answer.addresses:
            servers = sorted({a.rstrip(".").lower() for a in answer.addresses})
            aaaa = await _all([resolver.aresolve(ns, "AAAA") for ns in servers])
            return Probe(kind="dns-ns", url=host, outcome="ok", at=clock(), detail={
                "zone": zone, "nameservers": {ns: list(a.addresses) if a.ok else [] for ns, a in zip(servers, aaaa)},
                "aaaa_kinds": {ns: str(a.kind) for ns, a in zip(servers, aaaa)}})
    return Probe(kind="dns-ns", url=host, outcome="dns", at=clock(), detail={"reason": "no NS record visible"})


async def _homepage(fetcher: Fetcher, target: ProbeTarget, count: int, route: bool, limit: asyncio.Semaphore,
                    clock: Callable[[], datetime]) -> list[Probe]:
    """`count` fetches per family, interleaved v4/v6 so both see the same conditions."""
    url = target.site.url
    found: list[Probe] = []
    for _ in range(count):
        async with limit:
            found.append(probe_from("homepage-v4", url, await fetcher.fetch(url, family=4), clock()))
            if route:
                found.append(probe_from("homepage-v6", url, await fetcher.fetch(url, family=6), clock()))
    if not route:
        found.append(_no_route("homepage-v6", url, clock()))
    return found


class _Once:
    """One IPv6 fetch per URL per run, shared by every site that links to it; a URL the host's
    robots.txt refuses is never requested (when the crawl obeys robots), as in the link checks."""

    def __init__(self, fetcher: Fetcher, limit: asyncio.Semaphore, crawl: Crawl) -> None:
        self.limit = limit
        self.robots = RobotsRules(fetcher, crawl.user_agent if crawl.obey_robots else None, limit)
        self.tasks: dict[str, asyncio.Task[tuple[FetchOutcome, int]]] = {}

    async def fetch(self, url: str, fetcher: Fetcher, retries: int) -> tuple[FetchOutcome, int]:
        """The URL's one IPv6 outcome; the first site to ask gives the timeout (its fetcher) and retries."""
        if url not in self.tasks:
            self.tasks[url] = asyncio.ensure_future(self._fetch(url, fetcher, retries))
        return await asyncio.shield(self.tasks[url])

    async def _fetch(self, url: str, fetcher: Fetcher, retries: int) -> tuple[FetchOutcome, int]:
        if not await self.robots.allow(url):
            return FetchOutcome(url, url, FetchKind.ROBOTS, detail="refused by the host's robots.txt; "
                                                                   "not requested"), 0
        async with self.limit:
            return await fetcher.fetch_retrying(url, retries=retries, family=6)


async def _links_v6(once: _Once, fetcher: Fetcher, target: ProbeTarget, route: bool,
                    clock: Callable[[], datetime]) -> list[Probe]:
    snap = SiteSnapshot(site=target.site, taken_at=clock(), collected=frozenset(), pages=target.pages or (),
                        links=target.links)
    tiers = link_tiers(snap)
    levels = [(u, "secondary") for u in tiers.secondary] + [(u, "tertiary") for u in tiers.tertiary]
    if not route:
        return [_no_route("links-v6", u, clock()) for u, _ in levels]
    outcomes = await _all([once.fetch(u, fetcher, target.crawl.retries) for u, _ in levels])
    found = []
    for (url, level), (outcome, attempts) in zip(levels, outcomes, strict=True):
        probe = probe_from("links-v6", url, outcome, clock(), attempts)
        found.append(replace(probe, detail={**probe.detail, "level": level}))
    return found


def _gathered(target: ProbeTarget) -> frozenset[str]:
    wanted = target.needs & SUPPORTED
    return wanted - {"probe:links-v6"} if target.pages is None else wanted


async def collect(targets: Sequence[ProbeTarget], *, resolver: Resolver, crawl: Crawl,
                  clock: Callable[[], datetime], has_ipv6_route: Callable[[], bool] | None = None,
                  ipv6_probe_count: int = 3) -> Collected:
    """Run the probes the targets need; one fetcher per distinct site timeout.

    `has_ipv6_route` is asked once, and only when some target needs an IPv6 probe;
    None means `route_check_for(crawl.allowed_networks)`.
    """
    limit = asyncio.Semaphore(crawl.concurrency)
    timeouts = {t.crawl.timeout_s for t in targets}
    fetchers = {t: Fetcher(resolver, timeout_s=t, user_agent=crawl.user_agent, max_bytes=crawl.max_response_bytes,
                           allowed_networks=crawl.allowed_networks, verify=crawl.ca_bundle or True,
                           per_host_limit=crawl.per_host_concurrency) for t in timeouts}
    wants_v6 = any(n in t.needs for t in targets for n in ("probe:homepage-v6", "probe:links-v6"))
    route = (has_ipv6_route or route_check_for(crawl.allowed_networks))() if wants_v6 else False
    if wants_v6 and not route:
        log.warning("the monitor has no IPv6 route: IPv6 probes are recorded as no_route")
    probes: dict[str, list[Probe]] = defaultdict(list)
    failed: dict[str, dict[str, str]] = {}
    try:
        dns = await _gather(targets, fetchers, resolver, crawl, route, ipv6_probe_count, limit, clock, probes,
                            failed)
    finally:
        for f in fetchers.values():
            await f.aclose()
    return Collected(probes={k: tuple(v) for k, v in probes.items()}, dns=dns,
                     collected={t.site.id: _gathered(t) - set(failed.get(t.site.id, {})) for t in targets},
                     failed={k: dict(v) for k, v in failed.items()})


async def _gather(targets: Sequence[ProbeTarget], fetchers: Mapping[float, Fetcher], resolver: Resolver, crawl: Crawl,
                  route: bool, count: int, limit: asyncio.Semaphore, clock: Callable[[], datetime],
                  probes: dict[str, list[Probe]], failed: dict[str, dict[str, str]]) -> tuple[DnsAnswer, ...]:
    """Each site once (a site listed twice is probed once), all sites concurrently; each probe kind
    isolated (see `isolated`): a kind that raises adds no probe rows and fails its inputs."""
    verify = make_ssl_context(crawl.ca_bundle or True)
    once = _Once(fetchers[min(fetchers)], limit, crawl) if fetchers else None
    unique = list({t.site.id: t for t in targets}.values())

    async def site(t: ProbeTarget) -> None:
        fetcher = fetchers[t.crawl.timeout_s]
        host = normal_host(t.site.url)
        sid = t.site.id

        async def run(what: str, inputs: Collection[str], work: Awaitable[list[Probe]]) -> None:
            found = await isolated(what, sid, inputs, failed, work)
            probes[sid].extend(found or ())

        async def one(work: Awaitable[Probe]) -> list[Probe]:
            return [await work]

        async def tls() -> list[Probe]:
            async with limit:
                return [await tls_probe(fetcher, resolver, t.site.url, verify=verify, timeout_s=t.crawl.timeout_s,
                                        clock=clock)]

        if "probe:availability" in t.needs:
            await run("availability", ("probe:availability",), one(_availability(fetchers, t, limit, clock)))
        if "dns" in t.needs and host and ip_literal(host) is None:
            await run("dns-ns", ("dns",), one(_nameservers(resolver, host, clock)))
        if "probe:homepage-v4" in t.needs or "probe:homepage-v6" in t.needs:
            await run("homepage", ("probe:homepage-v4", "probe:homepage-v6"),
                      _homepage(fetcher, t, count, route, limit, clock))
        if "probe:links-v6" in t.needs and t.pages is not None and once is not None:
            await run("links-v6", ("probe:links-v6",), _links_v6(once, fetcher, t, route, clock))
        if "probe:tls" in t.needs:
            await run("tls", ("probe:tls",), tls())

    await asyncio.gather(*(site(t) for t in unique))
    hosts: dict[str, list[str]] = defaultdict(list)
    for t in unique:
        if "dns" in t.needs and (host := normal_host(t.site.url)):
            hosts[host].append(t.site.id)
    return await _dns(resolver, hosts, failed)
