"""Site scope: which hosts belong to a site. The one definition the crawl, the
dead-link evidence, the IPv6 link tiers, the column search, the probes and the
demo's ground truth all use.

Rule ("site", the default): the homepage host, its base domain (the homepage
host without a leading "www.") and every sub-domain of that base domain, plus
the site's extra_hosts. So www.longcheng.gov.cn covers longcheng.gov.cn and
xxgk.longcheng.gov.cn; fgw.chaoyang.gov.cn covers its own sub-domains but not
www.chaoyang.gov.cn. "host" narrows a site to its homepage host and
extra_hosts. Hosts compare case-insensitively, without a trailing dot or a
port. An IP-literal homepage covers only itself; so does a homepage whose base
domain would be a registry suffix (www.gov.cn would otherwise cover every
*.gov.cn site).

Pure: standard library only (spiders/ imports this module), no I/O.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from checks.snapshot import SiteSnapshot

SCOPES = ("site", "host")
"""The values of a site's `scope` key."""
REGISTRY_SUFFIXES = frozenset({"gov.cn", "com.cn", "net.cn", "org.cn", "edu.cn", "ac.cn", "mil.cn"})
"""Second-level suffixes anyone registers under; never a site's base domain."""


@functools.lru_cache(maxsize=1 << 15)
def normal_host(value: str) -> str:
    """The comparable form of a host, a host:port or an absolute URL: lower case, no trailing dot, no port,
    no IPv6 brackets, IDNA (punycode) labels. "" when there is no host to read.

    Remembered for the last 32,768 values: a site's menus repeat the same targets on every page, and
    the link tiers, the prefetch and several checks ask it of each occurrence (urlsplit each time was
    a tenth of a 60-site run's parent)."""
    text = value.strip()
    if "/" in text:
        try:
            host = urlsplit(text if "://" in text else f"//{text}").hostname or ""
        except ValueError:   # e.g. "http://host]": no host a browser would reach
            return ""
    elif text.startswith("["):
        host = text[1:text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        host = text.partition(":")[0]
    else:
        host = text
    host = host.rstrip(".").lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def base_domain(host: str) -> str | None:
    """The domain whose sub-domains a homepage host covers, or None (an IP literal, a one-label name,
    a registry suffix)."""
    if not host or _is_ip(host):
        return None
    base = host.removeprefix("www.")
    if "." not in base or base in REGISTRY_SUFFIXES:
        return None
    return base


@dataclass(frozen=True)
class SiteScope:
    """The hosts of one site; build it with `SiteScope.of`."""

    hosts: frozenset[str]           # covered exactly: homepage host, extra_hosts, a redirect's landing host
    base: str | None = None         # covered with every sub-domain; None under scope "host"
    suffix: str = field(init=False, repr=False, compare=False, default="/")   # ".<base>"; "/" ends no host

    def __post_init__(self) -> None:
        object.__setattr__(self, "suffix", f".{self.base}" if self.base else "/")

    @classmethod
    def of(cls, url: str, extra_hosts: Iterable[str] = (), mode: str = "site") -> SiteScope:
        """The scope of a site whose homepage is `url`; `mode` is "site" or "host" (ValueError otherwise)."""
        if mode not in SCOPES:
            raise ValueError(f"unknown scope {mode!r}: expected one of {', '.join(SCOPES)}")
        home = normal_host(url)
        hosts = frozenset(h for h in (home, *(normal_host(x) for x in extra_hosts)) if h)
        return cls(hosts, base_domain(home) if mode == "site" else None)

    def with_hosts(self, *hosts: str) -> SiteScope:
        """This scope plus exact hosts (the host the homepage redirects to stays the site's)."""
        added = frozenset(h for h in map(normal_host, hosts) if h)
        return self if added <= self.hosts else SiteScope(self.hosts | added, self.base)

    def covers(self, host_or_url: str) -> bool:
        """Whether a host (or the host of an absolute URL) belongs to the site."""
        return self.covers_host(normal_host(host_or_url))

    def covers_host(self, host: str) -> bool:
        """`covers` for a lower-case host without port or brackets (the crawl's hot path)."""
        if host in self.hosts or host.endswith(self.suffix) or host == self.base:
            return True
        return host[-1:] == "." and self.covers_host(host.rstrip("."))


@dataclass
class RunScope:
    """Whether a host belongs to any site of a run: `SiteScope`'s rule over all of them at once, a set lookup
    a label rather than a comparison a site (the early link check asks it of every target a run links)."""

    hosts: set[str]                 # every site's exact hosts
    bases: set[str]                 # every site's base domain (covered with its sub-domains)

    @classmethod
    def of(cls, scopes: Iterable[SiteScope]) -> RunScope:
        scopes = list(scopes)
        return cls({h for scope in scopes for h in scope.hosts}, {scope.base for scope in scopes if scope.base})

    def add_host(self, host_or_url: str) -> bool:
        """Cover one more exact host (a homepage's landing host); whether it was new."""
        host = normal_host(host_or_url)
        if not host or host in self.hosts:
            return False
        self.hosts.add(host)
        return True

    def covers_host(self, host: str) -> bool:
        """Whether a lower-case host without port or brackets is one of the sites' (as `SiteScope.covers_host`)."""
        host = host.rstrip(".")
        if host in self.hosts:
            return True
        labels = host.split(".")
        return any(".".join(labels[i:]) in self.bases for i in range(len(labels) - 1))


def site_scope(snap: SiteSnapshot) -> SiteScope:
    """The scope of a snapshot's site, with the host its homepage landed on after redirects."""
    site = snap.site
    scope = SiteScope.of(site.url, site.extra_hosts, site.scope)
    return scope.with_hosts(*(p.final_url for p in snap.pages if p.depth == 0 and p.redirect_chain))
