"""Probes: the network work beyond the crawl, run only when a planned check needs it.

Everything goes through the one resolver and the one fetch layer; outcomes are
returned as snapshot data for the store. Never raises for a site's failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from checks.snapshot import DnsAnswer, Probe, SiteInfo
from monitor.config import Crawl
from monitor.fetch import FetchOutcome, Fetcher
from monitor.resolver import Answer, Resolver

log = logging.getLogger(__name__)

DNS_TYPES = ("A", "AAAA", "CNAME")
SUPPORTED = frozenset({"probe:availability", "dns"})
"""The inputs this module can gather; a need outside it stays uncollected (the check says so)."""


@dataclass(frozen=True)
class ProbeTarget:
    site: SiteInfo
    crawl: Crawl                      # the site's effective crawl settings (timeout, retries)
    needs: frozenset[str]             # what its planned checks need


@dataclass(frozen=True)
class Collected:
    probes: Mapping[str, tuple[Probe, ...]] = field(default_factory=dict)   # by site id
    dns: tuple[DnsAnswer, ...] = ()
    collected: Mapping[str, frozenset[str]] = field(default_factory=dict)   # inputs gathered, by site id


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


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


async def _dns(resolver: Resolver, hosts: set[str]) -> tuple[DnsAnswer, ...]:
    queries = [(h, t) for h in sorted(hosts) for t in DNS_TYPES]
    answers = await asyncio.gather(*(resolver.aresolve(h, t) for h, t in queries))
    return tuple(dns_answer(a) for a in answers)


async def _availability(fetchers: Mapping[float, Fetcher], target: ProbeTarget, limit: asyncio.Semaphore,
                        clock: Callable[[], datetime]) -> Probe:
    async with limit:
        fetcher = fetchers[target.crawl.timeout_s]
        outcome, attempts = await fetcher.fetch_retrying(target.site.url, retries=target.crawl.retries)
    return probe_from("availability", target.site.url, outcome, clock(), attempts)


async def collect(targets: Sequence[ProbeTarget], *, resolver: Resolver, crawl: Crawl,
                  clock: Callable[[], datetime]) -> Collected:
    """Run the probes the targets need; one fetcher per distinct site timeout."""
    limit = asyncio.Semaphore(crawl.concurrency)
    timeouts = {t.crawl.timeout_s for t in targets}
    fetchers = {t: Fetcher(resolver, timeout_s=t, user_agent=crawl.user_agent, max_bytes=crawl.max_response_bytes,
                           allowed_networks=crawl.allowed_networks, verify=crawl.ca_bundle or True,
                           per_host_limit=crawl.per_host_concurrency) for t in timeouts}
    for f in fetchers.values():
        await f.__aenter__()
    try:
        want_avail = [t for t in targets if "probe:availability" in t.needs]
        avail = await asyncio.gather(*(_availability(fetchers, t, limit, clock) for t in want_avail))
        dns_hosts = {host_of(t.site.url) for t in targets if "dns" in t.needs}
        dns = await _dns(resolver, dns_hosts)
    finally:
        for f in fetchers.values():
            await f.__aexit__(None, None, None)
    probes: dict[str, list[Probe]] = defaultdict(list)
    for t, p in zip(want_avail, avail, strict=True):
        probes[t.site.id].append(p)
    gathered = {t.site.id: t.needs & SUPPORTED for t in targets}
    return Collected(probes={k: tuple(v) for k, v in probes.items()}, dns=dns, collected=gathered)
