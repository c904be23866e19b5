"""Probes: the network work beyond the crawl, run only when a planned check needs it.

Kinds: availability; dns (A/AAAA/CNAME of the site host, plus a "dns-ns" probe
with the AAAA of the domain's authoritative nameservers); homepage-v4 and
homepage-v6 (`ipv6_probe_count` fetches each, interleaved, pinned to one
family); links-v6 (the URLs the site's plan lists, checks.probe_plan: the
secondary and tertiary link targets of its crawl, each fetched over IPv6 once
per run); tls (certificate,
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

from checks.plans import LINKS_V6, ProbePlan
from checks.scope import normal_host
from checks.snapshot import DnsAnswer, Probe, SiteInfo
from monitor.config import Crawl
from monitor.fetch import Fetcher, FetchOutcome, RobotsRules, fetcher_for, make_ssl_context
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
    plan: ProbePlan | None = None     # what its crawl planned (checks.probe_plan); None: not crawled


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


async def _availability(fetcher: Fetcher, target: ProbeTarget, limit: asyncio.Semaphore,
                        clock: Callable[[], datetime]) -> Probe:
    async with limit:
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
    robots.txt refuses is never requested (when the crawl obeys robots), as in the link checks.

    Outcomes are kept without their bodies, and only the last `keep` or so finished ones: the
    memory of a run's probes must not grow with its number of sites. `known` holds outcomes
    fetched before (monitor.prefetch, while the crawl ran), taken instead of a fetch.
    """

    def __init__(self, fetcher: Fetcher, limit: asyncio.Semaphore, crawl: Crawl, keep: int = 20_000,
                 known: Mapping[str, tuple[FetchOutcome, int]] | None = None) -> None:
        self.limit = limit
        self.keep = keep
        self.known = known or {}
        self.robots = RobotsRules(fetcher, crawl.user_agent if crawl.obey_robots else None, limit)
        self.tasks: dict[str, asyncio.Task[tuple[FetchOutcome, int]]] = {}

    async def fetch(self, url: str, fetcher: Fetcher, retries: int) -> tuple[FetchOutcome, int]:
        """The URL's one IPv6 outcome; the first site to ask gives the timeout (its fetcher) and retries."""
        if url in self.known:
            return self.known[url]
        if url not in self.tasks:
            self.tasks[url] = asyncio.ensure_future(fetch_v6(url, fetcher, retries, self.robots, self.limit))
            if len(self.tasks) > 2 * self.keep:   # trimmed in batches: amortised O(1) per URL
                done = [u for u, task in self.tasks.items() if task.done()]
                for old in done[:len(self.tasks) - self.keep]:
                    del self.tasks[old]
        return await asyncio.shield(self.tasks[url])


async def fetch_v6(url: str, fetcher: Fetcher, retries: int, robots: RobotsRules, limit: asyncio.Semaphore
                   ) -> tuple[FetchOutcome, int]:
    """A links-v6 URL's IPv6 outcome (without its body) and attempts; robots.txt first, and a
    URL it refuses is not requested."""
    if not await robots.allow(url):
        return FetchOutcome(url, url, FetchKind.ROBOTS, detail="refused by the host's robots.txt; "
                                                               "not requested"), 0
    async with limit:
        outcome, attempts = await fetcher.fetch_retrying(url, retries=retries, family=6)
    return replace(outcome, body=b"", headers={}), attempts


async def _links_v6(once: _Once, fetcher: Fetcher, target: ProbeTarget, route: bool,
                    clock: Callable[[], datetime]) -> list[Probe]:
    levels = [(f.url, f.tier) for f in target.plan.fetches.get(LINKS_V6, ())] if target.plan else []
    if not route:
        return [_no_route("links-v6", u, clock()) for u, _ in levels]
    outcomes = await _all([once.fetch(u, fetcher, target.crawl.retries) for u, _ in levels])
    found = []
    for (url, level), (outcome, attempts) in zip(levels, outcomes, strict=True):
        probe = probe_from("links-v6", url, outcome, clock(), attempts)
        # Kept with the run's results for good, one a link: only what ipv6:links and its evidence read.
        detail = {k: v for k, v in probe.detail.items() if k in ("attempts", "dns_kind", "tls_error")
                  or (k == "reason" and probe.outcome != FetchKind.OK)}
        found.append(replace(probe, title="", final_url=None if probe.final_url == url else probe.final_url,
                             detail={**detail, "level": level}))
    return found


def _planned_links(target: ProbeTarget) -> bool:
    return target.plan is not None and LINKS_V6 in target.plan.fetches


def _gathered(target: ProbeTarget) -> frozenset[str]:
    wanted = target.needs & SUPPORTED
    return wanted if _planned_links(target) else wanted - {LINKS_V6}


async def collect(targets: Sequence[ProbeTarget], *, resolver: Resolver, crawl: Crawl,
                  clock: Callable[[], datetime], has_ipv6_route: Callable[[], bool] | None = None,
                  ipv6_probe_count: int = 3) -> Collected:
    """Run the probes the targets need; one fetcher per distinct site timeout.

    `has_ipv6_route` is asked once, and only when some target needs an IPv6 probe;
    None means `route_check_for(crawl.allowed_networks)`.
    """
    prober = Prober(resolver=resolver, crawl=crawl, clock=clock, has_ipv6_route=has_ipv6_route,
                    ipv6_probe_count=ipv6_probe_count)
    try:
        return await prober.collect(targets)
    finally:
        await prober.aclose()


class Prober:
    """The probes of one run, over one or more calls of `collect` in one event loop (the pipeline
    probes its sites a window at a time): one fetcher per site timeout, the route check asked once,
    one IPv6 fetch per links-v6 URL across all calls (`prefetched`: those fetched while the crawl
    ran, monitor.prefetch). `aclose` when done."""

    def __init__(self, *, resolver: Resolver, crawl: Crawl, clock: Callable[[], datetime],
                 has_ipv6_route: Callable[[], bool] | None = None, ipv6_probe_count: int = 3,
                 prefetched: Mapping[str, tuple[FetchOutcome, int]] | None = None) -> None:
        self.resolver, self.crawl, self.clock, self.count = resolver, crawl, clock, ipv6_probe_count
        self.prefetched = prefetched
        self.limit = asyncio.Semaphore(crawl.concurrency)
        self.verify = make_ssl_context(crawl.ca_bundle or True)
        self.fetchers: dict[float, Fetcher] = {}
        self.once: _Once | None = None
        self._route_check = has_ipv6_route or route_check_for(crawl.allowed_networks)
        self._route: bool | None = None

    def fetcher(self, timeout_s: float) -> Fetcher:
        if timeout_s not in self.fetchers:
            self.fetchers[timeout_s] = fetcher_for(self.resolver, self.crawl, timeout_s=timeout_s)
        return self.fetchers[timeout_s]

    def route(self) -> bool:
        if self._route is None:
            self._route = self._route_check()
            if not self._route:
                log.warning("the monitor has no IPv6 route: IPv6 probes are recorded as no_route")
        return self._route

    async def collect(self, targets: Sequence[ProbeTarget]) -> Collected:
        """Run the probes the targets need (see the module docstring); never raises for a site's failure."""
        if targets and self.once is None:
            self.once = _Once(self.fetcher(min(t.crawl.timeout_s for t in targets)), self.limit, self.crawl,
                              known=self.prefetched)
        wants_v6 = any(n in t.needs for t in targets for n in ("probe:homepage-v6", LINKS_V6))
        route = self.route() if wants_v6 else False
        probes: dict[str, list[Probe]] = defaultdict(list)
        failed: dict[str, dict[str, str]] = {}
        dns = await _gather(self, targets, route, probes, failed)
        return Collected(probes={k: tuple(v) for k, v in probes.items()}, dns=dns,
                         collected={t.site.id: _gathered(t) - set(failed.get(t.site.id, {})) for t in targets},
                         failed={k: dict(v) for k, v in failed.items()})

    async def aclose(self) -> None:
        fetchers, self.fetchers = list(self.fetchers.values()), {}
        for f in fetchers:
            await f.aclose()


async def _gather(prober: Prober, targets: Sequence[ProbeTarget], route: bool, probes: dict[str, list[Probe]],
                  failed: dict[str, dict[str, str]]) -> tuple[DnsAnswer, ...]:
    """Each site once (a site listed twice is probed once), all sites concurrently; each probe kind
    isolated (see `isolated`): a kind that raises adds no probe rows and fails its inputs."""
    resolver, limit, clock, count, once = prober.resolver, prober.limit, prober.clock, prober.count, prober.once
    unique = list({t.site.id: t for t in targets}.values())

    async def site(t: ProbeTarget) -> None:
        fetcher = prober.fetcher(t.crawl.timeout_s)
        host = normal_host(t.site.url)
        sid = t.site.id

        async def run(what: str, inputs: Collection[str], work: Awaitable[list[Probe]]) -> None:
            found = await isolated(what, sid, inputs, failed, work)
            probes[sid].extend(found or ())

        async def one(work: Awaitable[Probe]) -> list[Probe]:
            return [await work]

        async def tls() -> list[Probe]:
            async with limit:
                return [await tls_probe(fetcher, resolver, t.site.url, verify=prober.verify,
                                        timeout_s=t.crawl.timeout_s, clock=clock)]

        if "probe:availability" in t.needs:
            await run("availability", ("probe:availability",), one(_availability(fetcher, t, limit, clock)))
        if "dns" in t.needs and host and ip_literal(host) is None:
            await run("dns-ns", ("dns",), one(_nameservers(resolver, host, clock)))
        if "probe:homepage-v4" in t.needs or "probe:homepage-v6" in t.needs:
            await run("homepage", ("probe:homepage-v4", "probe:homepage-v6"),
                      _homepage(fetcher, t, count, route, limit, clock))
        if LINKS_V6 in t.needs and _planned_links(t) and once is not None:
            await run("links-v6", ("probe:links-v6",), _links_v6(once, fetcher, t, route, clock))
        if "probe:tls" in t.needs:
            await run("tls", ("probe:tls",), tls())

    await asyncio.gather(*(site(t) for t in unique))
    hosts: dict[str, list[str]] = defaultdict(list)
    for t in unique:
        if "dns" in t.needs and (host := normal_host(t.site.url)):
            hosts[host].append(t.site.id)
    return await _dns(resolver, hosts, failed)
