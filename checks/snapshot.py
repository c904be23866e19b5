"""The input of every check: what was collected about one site in one run.

Frozen dataclasses, built by monitor.store from the database (or by
tests/builders.py). Pure data: no I/O, no clock; `taken_at` is "now" for checks.
Outcome kinds are plain strings carrying monitor.outcomes values, because
checks/ imports nothing outside the standard library. The per-page and
per-link types use slots: a large site has hundreds of thousands of links.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

@dataclass(frozen=True)
class SiteInfo:
    id: str
    name: str
    url: str
    kind: str
    level: str
    extra_hosts: tuple[str, ...] = ()     # hosts of the site beyond its homepage's domain (config extra_hosts)
    scope: str = "site"                   # "site" | "host": see checks.scope


@dataclass(frozen=True)
class RequirementInfo:
    """One requirement, as the config's [[requirement]] says: a column (栏目/专题), a service link,
    a yearly document or policy documents paired with their 解读 (`type`, the check family it plans)."""

    id: str
    title: str
    keywords: tuple[str, ...]
    applies_to: tuple[str, ...]
    basis: str
    levels: tuple[str, ...] = ()         # empty = every level
    max_age_days: int | None = None
    stale_status: str = "warn"            # "warn" | "fail" when older than max_age_days
    deadline: str | None = None           # "MM-DD": the year's item must be dated on or before
    type: str = "column"                  # column | link | document | pairing
    hosts: tuple[str, ...] = ()           # link: target hosts (a sub-domain matches too)
    urls: tuple[str, ...] = ()            # link: target URL prefixes
    max_depth: int = 2                    # link: clicks from the homepage to its target (1: on the homepage)
    for_year: str = "previous"            # document: "previous" | "current" year, seen from its deadline
    min_ratio: float = 1.0                # pairing: the share of documents that must have a 解读
    pair_keywords: tuple[str, ...] = ()   # pairing: words of a 解读 (empty = checks.pairing's defaults)


@dataclass(frozen=True, slots=True)
class DateHit:
    date: date
    source: str                           # list-item | meta | header | text
    snippet: str = ""
    block: str = ""                       # list-item dates: the ListBlock.key of the item's list
    item: str = ""                        # list-item dates: the item's link URL ("" unknown)


@dataclass(frozen=True, slots=True)
class ListBlock:
    """One list of dated items on a page, as the crawl found it (spiders/lists.py)."""

    key: str                              # "L1", "L2"… in document order
    region: str = "body"                  # body | side | nav | header | footer
    heading: str = ""                     # the box title above the list
    items: int = 0                        # dated rows on the page
    pager: bool = False                   # a pager belongs to it
    total: int | None = None              # records the list says it has in all (Hanweb totalrecord)
    widget: bool = False                  # a 最新/热点/排行/相关/滚动 box or ticker


@dataclass(frozen=True, slots=True)
class Finding:
    """What the crawl's screening found on a page (spiders/screen.py): personal numbers come masked."""

    kind: str                             # id_card | mobile | bank_card | wording
    masked: str                           # "138****5678", "2113**********1234"; wording: the wrong form
    context: str = ""                     # a few characters either side, numbers masked
    right: str = ""                       # wording: the form to suggest ("" = must not appear)
    severity: str = ""                    # wording: fail | warn
    source: str = ""                      # wording: the entry's norm, or the operator word list
    count: int = 1                        # occurrences on the page


@dataclass(frozen=True, slots=True)
class Page:
    url: str
    final_url: str
    status: int | None
    fetch_kind: str
    depth: int
    content_type: str = ""
    encoding: str = ""
    size: int = 0
    title: str = ""
    redirect_chain: tuple[str, ...] = ()
    dates: tuple[DateHit, ...] = ()
    lists: tuple[ListBlock, ...] = ()
    findings: tuple[Finding, ...] = ()    # screening of its visible text (content:privacy, content:wording)
    placeholder: str = ""                 # wording in its content that shows it empty (暂无信息…), with context
    published: date | None = None         # the 发布日期 its text states beside a 成文日期 (see `issued`)
    issued: date | None = None            # the 成文/发文/印发日期 its text states
    hidden: tuple[tuple[str, str], ...] = ()   # (off-site link URL, why it is hidden from readers)
    sheets: tuple[str, ...] = ()          # linked style sheets of a page with off-site links not hidden by itself
    hooks: tuple[tuple[str, str], ...] = ()    # (such a link's URL, its hooks: checks.cssrules.chain form)
    hides: tuple[tuple[str, str], ...] = ()    # a linked sheet's record: (why, selector) of its hiding rules
    future: tuple[tuple[str, date], ...] = ()  # (item URL, its date) of items dated after the crawl day
    messages: tuple[tuple[str, date, date | None], ...] = ()   # 留言 it lists: (title, asked, replied or None)


@dataclass(frozen=True, slots=True)
class Link:
    source_url: str
    target_url: str
    tag: str                              # a | iframe | img | script | link | ...
    text: str = ""
    context: str = "body"                 # nav | subnav | list | body | footer
    block: str = ""                       # the ListBlock.key it is an item or pager link of


@dataclass(frozen=True, slots=True)
class LinkTarget:
    url: str
    outcome: str                          # a FetchKind value
    http_status: int | None = None
    attempts: int = 1
    final_url: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DnsAnswer:
    name: str
    rtype: str                            # A | AAAA | CNAME | NS
    kind: str                             # a DnsKind value
    addresses: tuple[str, ...] = ()
    cname_chain: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Probe:
    """One network probe beyond the crawl (availability, homepage-v4/-v6, tls)."""

    kind: str
    url: str
    outcome: str                          # a FetchKind value
    at: datetime
    status: int | None = None
    address: str | None = None
    final_url: str | None = None
    title: str = ""
    size: int = 0
    elapsed_ms: float | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class History:
    """What cross-run rules need, computed by the store so checks stay pure."""

    availability: tuple[Probe, ...] = ()  # availability probes in the window, oldest first


@dataclass(frozen=True)
class SiteSnapshot:
    site: SiteInfo
    taken_at: datetime
    collected: frozenset[str]             # the inputs gathered for this run (see CheckSpec.needs)
    pages: tuple[Page, ...] = ()
    links: tuple[Link, ...] = ()
    targets: Mapping[str, LinkTarget] = field(default_factory=dict)
    dns: tuple[DnsAnswer, ...] = ()
    probes: tuple[Probe, ...] = ()
    history: History = field(default_factory=History)
    failed: Mapping[str, str] = field(default_factory=dict)
    """Why an input is missing when the tool itself failed collecting it: input -> "ExcType: message".
    Keys are needs ("dns", "probe:tls" …) or "probe:column <url>" for one off-site column probe."""

    @cached_property
    def page_by_url(self) -> Mapping[str, Page]:
        return {p.url: p for p in self.pages}

    @cached_property
    def links_by_source(self) -> Mapping[str, tuple[Link, ...]]:
        """Each source page's links, in its document order."""
        found: dict[str, list[Link]] = {}
        for link in self.links:
            found.setdefault(link.source_url, []).append(link)
        return {source: tuple(links) for source, links in found.items()}

    @cached_property
    def pages_in_order(self) -> tuple[Page, ...]:
        """The homepage (the site's URL) first, then the pages by depth (clicks from the homepage), then URL.
        `pages` is in fetch order, which concurrency and a distributed run vary: evidence picked by it
        changes from run to run."""
        return tuple(sorted(self.pages, key=lambda p: (p.url != self.site.url, p.depth, p.url)))

    @cached_property
    def page_by_any_url(self) -> Mapping[str, Page]:
        """Each URL a page was requested as or landed on after redirects -> that page; a URL two pages share
        names the first in reading order (`pages_in_order`), never the first fetched."""
        found: dict[str, Page] = {}
        for p in self.pages_in_order:
            found.setdefault(p.url, p)
            found.setdefault(p.final_url, p)
        return found

    @cached_property
    def links_in_order(self) -> tuple[Link, ...]:
        """The links by source page in `pages_in_order`, each page's in document order (that order is
        the page's own); links of no crawled page last, by source URL."""
        position = {p.url: n for n, p in enumerate(self.pages_in_order)}
        for url in sorted({lk.source_url for lk in self.links} - position.keys()):
            position[url] = len(position)
        # An int key and a stable sort: a page's links stay in document order, and a 10,000-page site's
        # ~600,000 links cost no tuple of keys each (the parent's peak after the crawl).
        return tuple(sorted(self.links, key=lambda lk: position[lk.source_url]))

    def probes_of(self, kind: str) -> tuple[Probe, ...]:
        return tuple(p for p in self.probes if p.kind == kind)

    def dns_of(self, name: str, rtype: str) -> DnsAnswer | None:
        return next((d for d in self.dns if d.name == name and d.rtype == rtype), None)
