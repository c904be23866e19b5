"""The link-target probe: every distinct link target of a run, checked once.

Owns the rules that decide whether a link works: HEAD or GET, transient
failures retried after the first pass with backoff, Retry-After, backing off
hosts that keep refusing (403/429/WAF challenge) and reporting their links
`blocked`/`rate_limited`, and soft-404 detection (not-found wording, or the
origin's own 404 page, fingerprinted by requesting one random path once).

Every request goes through monitor.fetch. It never resolves names itself,
never touches the database and never raises for a target's failure: each
target ends as a `checks.snapshot.LinkTarget` whose outcome is a FetchKind.

The crawl records a link it cannot make a URL of (`http:/x`, `http://`, a host
with a space or "]", a bad port, any `file:` link) with its href as written; such
a target is `malformed` without a request (`monitor.fetch.url_problem` decides).
Other schemes (mailto:, tel: …) are `unsupported` and never requested.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar
from urllib.parse import unquote, urldefrag, urlsplit

from checks.links import DEAD_KINDS
from checks.snapshot import LinkTarget
from checks.turned import MARK as TURNED_MARK
from checks.turned import classify as classify_page
from checks.turned import parked_by_dns, parked_by_ns
from monitor.config import Crawl
from monitor.fetch import (
    RETRY_AFTER_CAP_S,
    Fetcher,
    FetchOutcome,
    RobotsRules,
    fetcher_for,
    retry_after_s,
    url_problem,
)
from monitor.htmltext import media_type, not_found, visible_text
from monitor.outcomes import TRANSIENT_KINDS, DnsKind, FetchKind
from monitor.resolver import Resolver, ip_literal

__all__ = ["KnownPage", "TargetToCheck", "check_links", "check_targets"]

log = logging.getLogger(__name__)

BACKOFF_S = 2.0
GIVE_UP_STREAK = 5          # refusals in a row after which a host gets no more requests
REFUSING_MIN = 3            # a host with this many refusals, at least half its answers, is refusing
LINK_MAX_BYTES = 2 * 2**20  # soft-404 detection needs the head of a page, never a whole download
RESOURCE_TAGS = frozenset({"img", "script", "link", "embed", "object", "source", "video", "audio", "track", "css",
                           "background"})
ATTACHMENT_EXTENSIONS = frozenset({
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "wps", "et", "dps", "ofd", "ceb", "txt", "csv", "rtf",
    "zip", "rar", "7z", "gz", "tar", "jpg", "jpeg", "png", "gif", "bmp", "webp", "svg", "ico", "tif", "tiff",
    "css", "js", "mp3", "mp4", "avi", "flv", "wmv", "mov", "swf", "apk", "exe", "xml",
})
HTML_TYPES = frozenset({"", "text/html", "application/xhtml+xml"})
OK_KINDS = frozenset({FetchKind.OK, FetchKind.TOO_LARGE})
RETRY_KINDS = TRANSIENT_KINDS | {FetchKind.RATE_LIMITED}
# Failures that happen before a method is sent: a GET after a failed HEAD would fail the same way.
METHOD_INDEPENDENT = frozenset({FetchKind.DNS, FetchKind.TLS, FetchKind.DISALLOWED, FetchKind.UNSUPPORTED,
                                FetchKind.NO_ROUTE, FetchKind.ERROR, FetchKind.MALFORMED})
WEB_SCHEMES = frozenset({"http", "https", "file", ""})   # a target of these schemes that is no valid URL is malformed
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_ROOT_PATH = re.compile(r"^/(?:(?:index|default)\.[a-z]+)?$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")

Progress = Callable[[int, int], None]
_N = TypeVar("_N", int, float)


@dataclass(frozen=True)
class TargetToCheck:
    url: str                                  # absolute, without fragment
    tags: frozenset[str] = frozenset()        # the tags it was linked as (a, img, script, link …)
    sites: frozenset[str] = frozenset()       # the sites whose pages link it
    over_limit: str | None = None             # past the sites' link-check bounds (why); never requested
    timeout_s: float | None = None            # the linking sites' timeout (the largest); None: the checker's
    retries: int | None = None                # the linking sites' retries (the most); None: the checker's


@dataclass(frozen=True)
class KnownPage:
    """What the crawl learned about a URL it fetched as a page."""

    url: str
    final_url: str
    status: int | None
    fetch_kind: str
    title: str = ""
    content_type: str = ""

    @property
    def ok(self) -> bool:
        return self.fetch_kind in OK_KINDS and self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class _Fingerprint:
    probe_url: str
    final_url: str
    title: str
    text_hash: str


@dataclass
class _Host:
    """Per-host pacing and refusal accounting (mutable, private to one check)."""

    pause_until: float = 0.0
    streak: int = 0
    answers: int = 0
    refusals: dict[FetchKind, int] = field(default_factory=lambda: defaultdict(int))
    gave_up: FetchKind | None = None

    def refusing(self) -> bool:
        total = sum(self.refusals.values())
        return self.gave_up is not None or (total >= REFUSING_MIN and 2 * total >= self.answers)

    def refusal_kind(self) -> FetchKind:
        limited = self.refusals[FetchKind.RATE_LIMITED]
        return FetchKind.RATE_LIMITED if 2 * limited > sum(self.refusals.values()) else FetchKind.BLOCKED


@dataclass
class _Item:
    """One distinct URL in progress (mutable, private to one check)."""

    url: str
    host: str
    head_first: bool
    known: KnownPage | None
    timeout_s: float | None = None
    retries: int | None = None
    attempts: int = 0
    last: FetchOutcome | None = None
    ready_at: float = 0.0          # earliest moment of the next attempt (monotonic)
    retry_after: float = 0.0
    result: LinkTarget | None = None

    def finish(self, kind: FetchKind | str, detail: str, *, status: int | None = None,
               final_url: str | None = None) -> None:
        self.result = LinkTarget(url=self.url, outcome=str(kind), http_status=status, attempts=self.attempts,
                                 final_url=final_url, detail=detail)


def _head_first(url: str, tags: Iterable[str]) -> bool:
    tags = set(tags)
    if tags and tags <= RESOURCE_TAGS:
        return True
    path = urlsplit(url).path
    return path.rsplit(".", 1)[-1].lower() in ATTACHMENT_EXTENSIONS if "." in path.rsplit("/", 1)[-1] else False


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _domains_of(host: str) -> list[str]:
    """The names a host's zone may be cut at, nearest first, without the top-level label ("www.a.b.cn" →
    www.a.b.cn, a.b.cn, b.cn); none for an IP literal."""
    if not host or ip_literal(host) is not None:
        return []
    labels = host.rstrip(".").split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def _normalised(text: str, *urls: str) -> str:
    """Text with the requested URLs (a 404 page may echo them) removed and digit runs folded."""
    for url in urls:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        for echo in (url, unquote(url), path, unquote(path), parts.path):
            if len(echo) > 1:
                text = text.replace(echo, " ")
    return " ".join(_DIGITS.sub("0", text).split())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


class _Checker:
    def __init__(self, fetcher: Fetcher, *, retries: int, concurrency: int, backoff_s: float,
                 progress: Progress | None, total: int, robots_agent: str | None = None,
                 fetchers: Mapping[float, Fetcher] | None = None) -> None:
        self.fetcher = fetcher
        self.fetchers = dict(fetchers or {})
        self.progress = progress
        self.total = total
        self.done = self.reported = 0
        self.retries = retries
        self.backoff_s = backoff_s
        self.slots = asyncio.Semaphore(concurrency)
        self.robots = RobotsRules(fetcher, robots_agent, self.slots)
        self.hosts: dict[str, _Host] = defaultdict(_Host)
        self.fingerprints: dict[str, asyncio.Task[_Fingerprint | None]] = {}
        self.parking: dict[str, asyncio.Task[str]] = {}
        self.requests = 0

    def retries_of(self, item: _Item) -> int:
        return self.retries if item.retries is None else item.retries

    def fetcher_of(self, item: _Item) -> Fetcher:
        return self.fetchers.get(item.timeout_s, self.fetcher) if item.timeout_s is not None else self.fetcher

    async def run(self, items: Sequence[_Item]) -> None:
        await self._pass(items, 0)
        for round_ in range(1, max((self.retries_of(i) for i in items), default=0) + 1):
            pending = [i for i in items if i.result is None]
            if not pending:
                break
            delay = self.backoff_s * 2 ** (round_ - 1)
            for item in pending:
                item.ready_at += max(delay, item.retry_after)
            await self._pass(sorted(pending, key=lambda i: i.ready_at), round_)
        for item in items:
            if item.result is None and item.last is not None:
                self._finish_with(item, item.last)
                self._advance()
        for item in items:
            self._blame_refusing_host(item)

    def _advance(self) -> None:
        self.done += 1
        if self.progress is not None and (self.done == self.total
                                          or self.done - self.reported >= max(self.total // 100, 1)):
            self.reported = self.done
            self.progress(self.done, self.total)

    async def _pass(self, items: Sequence[_Item], round_: int) -> None:
        by_host: dict[str, list[_Item]] = defaultdict(list)
        for item in items:
            by_host[item.host].append(item)
        await asyncio.gather(*(self._host_pass(host_items, round_) for host_items in by_host.values()))

    async def _host_pass(self, items: list[_Item], round_: int) -> None:
        queue = iter(items)   # shared by the workers; each item is taken once

        async def worker() -> None:
            for item in queue:
                try:
                    await self._attempt(item, round_)
                except Exception as exc:   # one target's failure is that target's outcome, never the run's
                    log.warning("link check of %s failed: %s: %s", item.url, type(exc).__name__, exc)
                    log.debug("link check of %s failed", item.url, exc_info=True)
                    item.finish(FetchKind.ERROR, f"the link check failed: {type(exc).__name__}: {exc}")
                if item.result is not None:
                    self._advance()

        await asyncio.gather(*(worker() for _ in range(min(self.fetcher.per_host_limit, len(items)))))

    async def _attempt(self, item: _Item, round_: int) -> None:
        host = self.hosts[item.host]
        if round_:
            await _sleep_until(item.ready_at)
        elif item.known is not None and await self._judge_known(item, item.known):
            return
        if round_ == 0 and not await self.robots.allow(item.url):
            item.finish(FetchKind.ROBOTS, "refused by the host's robots.txt; not requested")
            return
        if host.gave_up is not None:
            item.finish(host.gave_up, f"not requested: the host refused {sum(host.refusals.values())} requests "
                                      "(403/429/challenge) and was backed off",
                        status=item.last.status if item.last else None)
            return
        method = "HEAD" if round_ == 0 and item.head_first else "GET"
        outcome = await self._request(item, method)
        if method == "HEAD" and _get_after_head(outcome):
            outcome = await self._request(item, "GET")
        if outcome.kind in RETRY_KINDS and round_ < self.retries_of(item):
            item.retry_after = retry_after_s(outcome.headers.get("retry-after")) or 0.0
            return
        await self._conclude(item, outcome)

    async def _judge_known(self, item: _Item, known: KnownPage) -> bool:
        """Decide from the crawl when it fetched the URL with a 2xx; False: request it."""
        if not known.ok:
            return False
        status, final = known.status, known.final_url
        if not_found(known.title, ""):
            item.finish(FetchKind.SOFT_404, "crawled page whose title says it does not exist",
                        status=status, final_url=final)
            return True
        if media_type(known.content_type) in HTML_TYPES:
            fingerprint = await self._fingerprint(final)
            if fingerprint is not None and _normalised(known.title, item.url, final) == fingerprint.title:
                return False   # titled like the host's 404 page: the body decides
        item.finish(known.fetch_kind, "fetched by the crawl", status=status, final_url=final)
        return True

    async def _request(self, item: _Item, method: str) -> FetchOutcome:
        host = self.hosts[item.host]
        await _sleep_until(host.pause_until)
        async with self.slots:
            outcome = await self.fetcher_of(item).fetch(item.url, method=method)
        self.requests += 1
        item.attempts += 1
        item.last, item.ready_at = replace(outcome, body=b""), _now()   # bodies of many targets would add up
        self._account(host, outcome, method)
        return outcome

    def _account(self, host: _Host, outcome: FetchOutcome, method: str) -> None:
        retry_after = retry_after_s(outcome.headers.get("retry-after")) if outcome.status in (429, 503) else None
        refused = outcome.kind in (FetchKind.RATE_LIMITED, FetchKind.BLOCKED) or outcome.status == 403
        if outcome.status is not None and method == "GET":
            host.answers += 1
            if refused:
                host.streak += 1
                host.refusals[FetchKind.RATE_LIMITED if outcome.status == 429 else FetchKind.BLOCKED] += 1
                if host.streak >= GIVE_UP_STREAK and host.gave_up is None:
                    host.gave_up = host.refusal_kind()
                    log.info("backing off %s: %d refusals in a row", urlsplit(outcome.url).hostname, host.streak)
            else:
                host.streak = 0
        if retry_after or (refused and host.streak >= 2):
            backoff = self.backoff_s * 2 ** (host.streak - 2) if refused and host.streak >= 2 else 0.0
            pause = min(max(retry_after or 0.0, backoff), RETRY_AFTER_CAP_S)
            host.pause_until = max(host.pause_until, _now() + pause)

    async def _conclude(self, item: _Item, outcome: FetchOutcome) -> None:
        if outcome.kind in OK_KINDS and outcome.body and media_type(outcome.content_type) in HTML_TYPES:
            text = visible_text(outcome.text())
            reason = await self._soft_404(item.url, outcome, text)
            if reason:
                item.finish(FetchKind.SOFT_404, reason, status=outcome.status, final_url=outcome.final_url)
                return
            turned = classify_page(outcome.title, text) or await self._parking(outcome.final_url)
            if turned:   # a live page of the wrong kind: links:turned reads the mark
                item.finish(outcome.kind, TURNED_MARK + turned, status=outcome.status, final_url=outcome.final_url)
                return
        self._finish_with(item, outcome)

    def _finish_with(self, item: _Item, outcome: FetchOutcome) -> None:
        kind, detail = outcome.kind, outcome.detail
        if outcome.dns_kind is not None and outcome.dns_kind.value not in detail:
            detail = f"{outcome.dns_kind}: {detail}"
        if outcome.tls_error is not None:
            detail = f"{outcome.tls_error}: {detail}"
        item.finish(kind, detail, status=outcome.status, final_url=outcome.final_url)

    def _blame_refusing_host(self, item: _Item) -> None:
        """A 403 from a host that refuses most requests is the host blocking us, not a dead link."""
        result = item.result
        if result is None or result.http_status != 403 or result.outcome != FetchKind.HTTP_4XX:
            return
        host = self.hosts[item.host]
        if host.refusing():
            item.result = LinkTarget(url=result.url, outcome=str(FetchKind.BLOCKED), http_status=403,
                                     attempts=result.attempts, final_url=result.final_url,
                                     detail=f"HTTP 403 from a host that refused {sum(host.refusals.values())} "
                                            f"of {host.answers} requests")

    def _parking(self, url: str) -> asyncio.Task[str]:
        """"parked: CNAME …" or "parked: NS …" when the page's host is an alias of a parking service or its
        domain's nameservers are a parking service's (checks.turned), once a host."""
        host = (urlsplit(url).hostname or "").lower()
        task = self.parking.get(host)
        if task is None:
            task = self.parking[host] = asyncio.ensure_future(self._dns_parking(host))
        return task

    async def _dns_parking(self, host: str) -> str:
        # The mark is extra evidence: a resolver failure must not cost the link's outcome, nor make a finding.
        resolver = self.fetcher.resolver
        try:
            answer = await resolver.aresolve(host, "A")
            if found := parked_by_dns(answer.cname_chain):
                return found
            for name in _domains_of(host):
                answer = await resolver.aresolve(name, "NS")
                if answer.ok and not answer.cname_chain:    # the zone's own nameservers, not an alias target's
                    return parked_by_ns(answer.addresses)
                if answer.kind not in (DnsKind.NO_ANSWER, DnsKind.NXDOMAIN) and not answer.cname_chain:
                    return ""
        except Exception as exc:
            log.debug("parking check of %s failed: %r", host, exc)
        return ""

    async def _soft_404(self, url: str, outcome: FetchOutcome, text: str) -> str | None:
        if not_found(outcome.title, text):
            return "page says it does not exist"
        fingerprint = await self._fingerprint(outcome.final_url)
        if fingerprint is None or url == fingerprint.final_url:
            return None
        if fingerprint.final_url != fingerprint.probe_url and outcome.final_url == fingerprint.final_url:
            return f"redirects where a missing page does ({fingerprint.final_url})"
        if (_normalised(outcome.title, url, outcome.final_url) == fingerprint.title
                and _digest(_normalised(text, url, outcome.final_url)) == fingerprint.text_hash):
            return f"same page as the host answers for a missing path ({fingerprint.probe_url})"
        return None

    def _fingerprint(self, url: str) -> asyncio.Task[_Fingerprint | None]:
        origin = _origin(url)
        task = self.fingerprints.get(origin)
        if task is None:
            task = self.fingerprints[origin] = asyncio.ensure_future(self._probe_missing(origin))
        return task

    async def _probe_missing(self, origin: str) -> _Fingerprint | None:
        """What the origin answers for a path that cannot exist; None when it answers an error."""
        probe = f"{origin}/govmon-probe-{secrets.token_hex(8)}.html"
        async with self.slots:
            outcome = await self.fetcher.fetch(probe)
        self.requests += 1
        if outcome.kind not in OK_KINDS:
            return None
        if _ROOT_PATH.match(urlsplit(outcome.final_url).path or "/"):
            # Missing pages go to the homepage: its content cannot tell them from a link to it.
            log.info("%s answers missing paths with its homepage; soft-404s there are judged by wording only",
                     origin)
            return None
        log.info("%s answers missing paths with HTTP %s (%s): fingerprinted", origin, outcome.status,
                 outcome.final_url)
        text = visible_text(outcome.text())
        return _Fingerprint(probe_url=probe, final_url=outcome.final_url,
                            title=_normalised(outcome.title, probe, outcome.final_url),
                            text_hash=_digest(_normalised(text, probe, outcome.final_url)))


def _get_after_head(outcome: FetchOutcome) -> bool:
    """HEAD is trusted for a non-HTML 2xx and for failures before any method is sent; a transient
    failure is retried later (with GET); anything else is asked again with GET."""
    if outcome.kind in OK_KINDS:
        return media_type(outcome.content_type) in HTML_TYPES
    return outcome.kind not in METHOD_INDEPENDENT and outcome.kind not in RETRY_KINDS


def _now() -> float:
    return time.monotonic()


async def _sleep_until(moment: float) -> None:
    while (wait := moment - _now()) > 0:
        await asyncio.sleep(wait)


def _items(targets: Sequence[TargetToCheck], known: Mapping[str, KnownPage]
           ) -> tuple[dict[str, _Item], dict[str, LinkTarget]]:
    """The distinct http(s) URLs to check, and the results of targets that are never requested."""
    tags: dict[str, set[str]] = defaultdict(set)
    timeouts: dict[str, float | None] = {}
    retries: dict[str, int | None] = {}
    skipped: dict[str, LinkTarget] = {}
    for target in targets:
        url = target.url.strip()
        scheme = (match.group(1).lower() if (match := _SCHEME.match(url)) else "")
        problem = url_problem(url) if scheme in WEB_SCHEMES else None
        if problem is not None:
            skipped[target.url] = LinkTarget(url=target.url, outcome=str(FetchKind.MALFORMED), http_status=None,
                                             attempts=0, detail=f"malformed link: {problem}; not requested")
            continue
        if scheme not in ("http", "https"):
            skipped[target.url] = LinkTarget(url=target.url, outcome=str(FetchKind.UNSUPPORTED), http_status=None,
                                             attempts=0, detail=f"{scheme}: link, not checked")
            continue
        if target.over_limit is not None:
            skipped[target.url] = LinkTarget(url=target.url, outcome=str(FetchKind.OVER_LIMIT), http_status=None,
                                             attempts=0, detail=f"not requested: {target.over_limit}")
            continue
        url = urldefrag(url)[0]
        tags[url] |= target.tags
        timeouts[url] = _largest(timeouts.get(url), target.timeout_s)
        retries[url] = _largest(retries.get(url), target.retries)
    items = {url: _Item(url=url, host=(urlsplit(url).hostname or "").lower(), head_first=_head_first(url, t),
                        known=known.get(url), timeout_s=timeouts[url], retries=retries[url])
             for url, t in tags.items()}
    return items, skipped


def _largest(a: _N | None, b: _N | None) -> _N | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass(frozen=True)
class Prechecked:
    """A target checked while the crawl ran, with the timeout and retries it was checked with."""

    result: LinkTarget
    timeout_s: float
    retries: int

    def covers(self, item: _Item, timeout_s: float, retries: int) -> bool:
        """Whether this check is as patient as the final one would be (`timeout_s`, `retries`: the defaults)."""
        wanted_timeout = timeout_s if item.timeout_s is None else item.timeout_s
        wanted_retries = retries if item.retries is None else item.retries
        return self.timeout_s >= wanted_timeout and self.retries >= wanted_retries


class EarlyChecks:
    """Link checks started while the crawl runs, in waves, in the caller's running event loop.

    The targets are ones the crawl will not fetch (links to other sites): checking them during the
    crawl takes their timeouts and retry back-offs off the run's critical path. One checker serves
    every wave, so a host's pacing, refusals, robots.txt and 404 fingerprint are shared as in the
    check after the crawl. `add` starts a wave; `finish` waits for all and gives each URL's
    `Prechecked`, which `check_targets(prechecked=)` takes instead of requesting again.
    """

    def __init__(self, fetcher: Fetcher, *, retries: int, concurrency: int, backoff_s: float = BACKOFF_S,
                 robots_agent: str | None = None, fetchers: Mapping[float, Fetcher] | None = None) -> None:
        self.fetcher, self.retries = fetcher, retries
        self.checker = _Checker(fetcher, retries=retries, concurrency=concurrency, backoff_s=backoff_s,
                                progress=None, total=0, robots_agent=robots_agent, fetchers=fetchers)
        self.items: dict[str, _Item] = {}
        self.waves: set[asyncio.Task[None]] = set()

    def add(self, targets: Sequence[TargetToCheck]) -> None:
        """Check the targets not seen before (call it in the event loop's thread)."""
        items, _skipped = _items(targets, {})
        wave = [item for url, item in items.items() if url not in self.items]
        if not wave:
            return
        self.items.update((item.url, item) for item in wave)
        task = asyncio.ensure_future(self.checker.run(wave))
        self.waves.add(task)
        task.add_done_callback(self.waves.discard)

    async def finish(self) -> dict[str, Prechecked]:
        """Wait for every wave; each decided URL's result."""
        while self.waves:
            await asyncio.gather(*self.waves, return_exceptions=True)
        for item in self.items.values():
            self.checker._blame_refusing_host(item)   # a host's refusals are all known now
        return {url: Prechecked(item.result, self.fetcher.timeout_s if item.timeout_s is None else item.timeout_s,
                                self.retries if item.retries is None else item.retries)
                for url, item in self.items.items() if item.result is not None}

    async def cancel(self) -> None:
        for task in list(self.waves):
            task.cancel()
        await asyncio.gather(*self.waves, return_exceptions=True)


async def check_targets(targets: Sequence[TargetToCheck], *, known: Mapping[str, KnownPage], fetcher: Fetcher,
                        retries: int, concurrency: int, backoff_s: float = BACKOFF_S,
                        progress: Progress | None = None, robots_agent: str | None = None,
                        fetchers: Mapping[float, Fetcher] | None = None,
                        prechecked: Mapping[str, Prechecked] | None = None) -> list[LinkTarget]:
    """Check every distinct target once; one LinkTarget per distinct target URL, in input order.

    With `robots_agent` (the user agent), a target its host's robots.txt refuses
    is not requested: its outcome is `robots`. A target with `over_limit` set is
    not requested either (`over_limit`).

    `known` maps URLs the crawl fetched to what it got: a 2xx is taken as is
    (no request) unless it may be the host's 404 page; a failure is checked
    again. Transient failures (5xx, timeout, reset, refused) and 429 are
    retried up to `retries` times (a target's own `retries` where set) after
    the first pass, waiting `backoff_s` doubling per round or the Retry-After
    if longer. A target with its own `timeout_s` is fetched with
    `fetchers[timeout_s]` (else `fetcher`). `concurrency` bounds the requests
    in flight; the fetcher's per-host limit bounds each host. An exception in
    one target's check becomes that target's `error` outcome.
    `prechecked` holds targets checked while the crawl ran (`EarlyChecks`): one the crawl did not
    fetch, checked with at least its timeout and retries, is taken as is.
    `progress(done, total)` is called as distinct URLs are decided (every 1 %).
    """
    started = _now()
    items, skipped = _items(targets, known)
    checker = _Checker(fetcher, retries=retries, concurrency=concurrency, backoff_s=backoff_s, progress=progress,
                       total=len(items), robots_agent=robots_agent, fetchers=fetchers)
    early = 0
    for url, item in items.items():
        done = (prechecked or {}).get(url)
        if done is not None and item.known is None and done.covers(item, fetcher.timeout_s, retries):
            item.result, item.attempts = done.result, done.result.attempts
            early += 1
            checker._advance()
    await checker.run([item for item in items.values() if item.result is None])
    results: dict[str, LinkTarget] = {}
    for target in targets:
        item = items.get(urldefrag(target.url.strip())[0]) if target.url not in skipped else None
        if target.url in results:
            continue
        if item is None or item.result is None:
            results[target.url] = skipped.get(target.url) or LinkTarget(
                url=target.url, outcome=str(FetchKind.ERROR), http_status=None, attempts=0,
                detail="the link check reached no outcome")
        else:
            results[target.url] = replace(item.result, url=target.url)
    counts = Counter(r.outcome for r in results.values())
    log.info("link check: %d targets (%d decided by the crawl, %d checked while it ran, %d over the bounds), "
             "%d requests, %d dead, %d blocked, %d rate-limited in %.1f s", len(results),
             sum(1 for i in items.values() if i.attempts == 0 and i.known), early, counts["over_limit"],
             checker.requests + checker.robots.fetched, sum(n for k, n in counts.items() if k in DEAD_KINDS),
             counts["blocked"], counts["rate_limited"], _now() - started)
    return list(results.values())


def check_links(targets: Sequence[TargetToCheck], *, known: Mapping[str, KnownPage], resolver: Resolver,
                crawl: Crawl, backoff_s: float = BACKOFF_S, progress: Progress | None = None,
                prechecked: Mapping[str, Prechecked] | None = None) -> list[LinkTarget]:
    """`check_targets` in its own event loop, with fetchers built from the [crawl] settings, one
    per distinct timeout (a site's own `timeout_s` reaches the targets it links)."""

    async def main() -> list[LinkTarget]:
        timeouts = {crawl.timeout_s} | {t.timeout_s for t in targets if t.timeout_s is not None}
        cap = min(crawl.max_response_bytes, LINK_MAX_BYTES)
        fetchers = {timeout: fetcher_for(resolver, crawl, timeout_s=timeout, max_bytes=cap)
                    for timeout in sorted(timeouts)}
        try:
            return await check_targets(targets, known=known, fetcher=fetchers[crawl.timeout_s],
                                       retries=crawl.retries, concurrency=crawl.concurrency, backoff_s=backoff_s,
                                       progress=progress, fetchers=fetchers, prechecked=prechecked,
                                       robots_agent=crawl.user_agent if crawl.obey_robots else None)
        finally:
            for fetcher in fetchers.values():
                await fetcher.aclose()

    return asyncio.run(main())
