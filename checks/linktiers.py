"""The secondary and tertiary link tiers of a site, as the national IPv6 monitoring counts them.

Secondary: the distinct same-site targets linked from the homepage; tertiary:
the distinct same-site targets linked from the secondary pages, not already
counted; same-site: a host the site's scope covers (checks.scope). Shared by
the ipv6:links check (judging) and its links-v6 plan (what to fetch over IPv6);
registers no check. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from checks.freshness import answered, homepage_chain, homepage_urls
from checks.plans import Fetch
from checks.scope import normal_host, site_scope
from checks.snapshot import SiteSnapshot

TIER_TAGS = frozenset({"a", "area", "iframe", "frame"})


@dataclass(frozen=True)
class Tiers:
    secondary: tuple[str, ...]      # distinct same-site targets linked from the homepage
    tertiary: tuple[str, ...]       # distinct same-site targets linked from secondary pages, not counted above
    offsite: tuple[str, ...]        # distinct off-site targets of the homepage and secondary pages
    source: Mapping[str, str]       # target → the first page it was found on


def tier_target(target: str, tag: str) -> str | None:
    """The URL a link counts as in the tiers: an http(s) page link (TIER_TAGS) to a named host, without
    its fragment; None for any other link."""
    if tag not in TIER_TAGS:
        return None
    url = target.partition("#")[0]
    return url if url.startswith(("http://", "https://")) and normal_host(url) else None


def link_tiers(snap: SiteSnapshot) -> Tiers:
    """Secondary and tertiary link targets from the crawl, in the order a reader meets them: the homepage's links
    in document order, then each secondary page's, in the secondary order. Never the order pages were fetched
    in, which concurrency varies (a distributed run would name other examples). http(s) page links only."""
    chain = homepage_chain(snap)
    source: dict[str, str] = {}
    scope = site_scope(snap)
    by_source = snap.links_by_source

    def targets(sources: Iterable[str], skip: set[str]) -> tuple[list[str], list[str]]:
        own: list[str] = []
        other: list[str] = []
        for page_url in dict.fromkeys(sources):
            for link in by_source.get(page_url, ()):
                url = tier_target(link.target_url, link.tag)
                if url is None or url in skip:
                    continue
                skip.add(url)
                source.setdefault(url, link.source_url)
                (own if scope.covers(url) else other).append(url)
        return own, other

    seen = set(homepage_urls(chain))
    secondary, off1 = targets((u for p in chain for u in (p.url, p.final_url)), seen)
    pages = snap.page_by_url
    second_pages = [u for url in secondary if url in pages and answered(pages[url])
                    for u in (url, pages[url].final_url)]
    tertiary, off2 = targets(second_pages, seen)
    return Tiers(tuple(secondary), tuple(tertiary), tuple(off1 + off2), source)


def plan_links_v6(snap: SiteSnapshot, params: Mapping[str, Any]) -> tuple[Fetch, ...]:
    """The links-v6 probe's plan: every secondary, then every tertiary target, each with its tier."""
    tiers = link_tiers(snap)
    return (*(Fetch(u, "secondary") for u in tiers.secondary), *(Fetch(u, "tertiary") for u in tiers.tertiary))
