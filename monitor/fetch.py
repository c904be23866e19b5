"""THE fetch layer: every HTTP(S) request of govmon outside the Scrapy crawl.

Owns httpx and the mapping of its exceptions to `FetchKind`/`TlsError`. Each
hop resolves its host through `monitor.resolver`, refuses addresses outside
`allowed_networks` before sending anything, and connects to the pinned address
with the original `Host` header and TLS server name, so one family is tested at
a time and never silently swapped for the other. Redirects are followed by
hand. It never raises for network outcomes; a `FetchOutcome` says what
happened. It must not resolve names any other way (no getaddrinfo, no proxies).

A redirect is followed only to a usable `Location`: an absolute http(s) URL
with a valid host and port, or a reference that resolves to one. Anything else
(missing, empty, unparsable, `javascript:`, `data:`, another scheme) ends the
fetch with the 3xx as `http_3xx`: a browser goes nowhere. `url_problem` is the
one rule for "a URL a browser can request"; the link check uses it for the
malformed links the crawl records as written.

A body larger than `max_bytes` stops the download: a 2xx answer becomes
`too_large` (`truncated=True`, `size` = bytes received, `body` = the first
`max_bytes`); an error status keeps its kind with the truncated body.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import ipaddress
import logging
import re
import ssl
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from http.cookiejar import CookieJar
from urllib.parse import unquote, urlsplit
from urllib.robotparser import RobotFileParser

import certifi

# httpx imports its command-line client (click, rich's Syntax, Pygments' lexers: ~6 MB a process) whenever those
# happen to be installed, and govmon never runs it. A None entry makes that import fail, which httpx 0.28 expects
# (its __init__ falls back to a stub `main`). The run's processes import httpx here first.
sys.modules.setdefault("httpx._main", None)
import httpx  # noqa: E402

from monitor.htmltext import declared_charset, decode_html, extract_title, media_type
from monitor.outcomes import TRANSIENT_KINDS, DnsKind, FetchKind, TlsError, not_tls, status_kind
from monitor.resolver import Resolver, ip_literal

if TYPE_CHECKING:
    from monitor.config import Crawl

__all__ = ["FetchOutcome", "Fetcher", "causes", "classify_exception", "decode_html", "extract_title", "fetcher_for",
           "make_ssl_context",
           "redirect_target", "retry_after_s", "status_kind", "url_problem"]

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_CAP_S = 30.0
RETRYABLE_KINDS = TRANSIENT_KINDS | {FetchKind.RATE_LIMITED}
_VERIFY_CODES = {
    9: TlsError.NOT_YET_VALID, 10: TlsError.EXPIRED,
    18: TlsError.SELF_SIGNED, 19: TlsError.SELF_SIGNED,
    20: TlsError.UNTRUSTED, 21: TlsError.UNTRUSTED, 62: TlsError.HOSTNAME_MISMATCH,
}
_NO_ROUTE_ERRNOS = frozenset({errno.ENETUNREACH, errno.EADDRNOTAVAIL})
_RESET_ERRNOS = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# WHATWG forbidden domain code points: a host holding one is no URL at all.
_FORBIDDEN_HOST = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
_EDGE = "\x00\t\n\r\f\v "
_HIDDEN_LOCATION = "x-govmon-location"


@dataclass(frozen=True)
class FetchOutcome:
    """What one fetch (all its redirect hops) ended with.

    `redirect_chain` lists the URLs that answered with a redirect, in order;
    `final_url` is the last URL requested. `address`/`family` are the pinned
    address of the last hop that got one.
    """

    url: str
    final_url: str
    kind: FetchKind
    status: int | None = None
    address: str | None = None
    family: int | None = None
    redirect_chain: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = ""
    encoding: str | None = None
    body: bytes = b""
    size: int = 0
    elapsed_ms: float = 0.0
    detail: str = ""
    dns_kind: DnsKind | None = None
    tls_error: TlsError | None = None
    title: str = ""
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.kind is FetchKind.OK

    def text(self) -> str:
        """The body decoded by the same rule as the title (`decode_html`)."""
        return decode_html(self.body, self.encoding)[0]


def _partial(kind: FetchKind, status: int | None = None, **fields: Any) -> FetchOutcome:
    """One hop's outcome; `_outcome` fills in the URLs and what the whole fetch knows."""
    return FetchOutcome("", "", kind, status, **fields)


def make_ssl_context(verify: bool | str | ssl.SSLContext) -> ssl.SSLContext:
    """True: the system store plus certifi's bundle; str: a CA bundle file; False: no checks. One context per
    setting a process: loading the stores costs ~30 ms each time, and every Fetcher and Prober asked anew."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    return _ssl_context(verify)


@functools.lru_cache(maxsize=8)
def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    context = ssl.create_default_context()
    if verify:
        context.load_verify_locations(cafile=certifi.where())
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class RobotsRules:
    """robots.txt rules per origin, fetched once through a Fetcher and shared by its callers.

    A missing or failing robots.txt allows everything. `agent` None obeys nothing.
    `fetched` counts the robots.txt requests made.
    """

    def __init__(self, fetcher: Fetcher, agent: str | None, limit: asyncio.Semaphore) -> None:
        self.fetcher, self.agent, self.limit = fetcher, agent, limit
        self.fetched = 0
        self._rules: dict[str, asyncio.Task[RobotFileParser | None]] = {}

    async def allow(self, url: str) -> bool:
        if self.agent is None:
            return True
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        if origin not in self._rules:
            self._rules[origin] = asyncio.ensure_future(self._load(origin))
        rules = await asyncio.shield(self._rules[origin])
        return rules is None or rules.can_fetch(self.agent, url)

    async def _load(self, origin: str) -> RobotFileParser | None:
        async with self.limit:
            outcome = await self.fetcher.fetch(f"{origin}/robots.txt")
        self.fetched += 1
        if not outcome.ok:
            return None
        rules = RobotFileParser()
        rules.parse(outcome.text().splitlines())
        return rules


def fetcher_for(resolver: Resolver, crawl: Crawl, *, timeout_s: float | None = None,
                max_bytes: int | None = None) -> Fetcher:
    """A Fetcher with the [crawl] settings (agent, size cap, allowed networks, CA, per-host limit);
    `timeout_s` for a site's own timeout, `max_bytes` for a smaller cap."""
    return Fetcher(resolver, timeout_s=crawl.timeout_s if timeout_s is None else timeout_s,
                   user_agent=crawl.user_agent,
                   max_bytes=crawl.max_response_bytes if max_bytes is None else max_bytes,
                   allowed_networks=crawl.allowed_networks, verify=crawl.ca_bundle or True,
                   per_host_limit=crawl.per_host_concurrency)


class Fetcher:
    """Async HTTP(S) client over pinned addresses; use as `async with Fetcher(...) as f`.

    Plain HTTP shares one httpx client. HTTPS gets one client per TLS server
    name, because httpx pools connections by URL origin (here the IP and port)
    and would otherwise reuse a connection negotiated for another name.
    """

    def __init__(self, resolver: Resolver, *, timeout_s: float = 15.0, user_agent: str = "govmon",
                 max_bytes: int = 10 * 2**20, max_redirects: int = 10,
                 allowed_networks: Sequence[str] = (), verify: bool | str | ssl.SSLContext = True,
                 per_host_limit: int = 4) -> None:
        self.resolver = resolver
        self.timeout_s = timeout_s
        self.user_agent = user_agent
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.networks = tuple(ipaddress.ip_network(net, strict=False) for net in allowed_networks)
        self.per_host_limit = per_host_limit
        self._ssl = make_ssl_context(verify)
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._limits: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    def allowed(self, address: str) -> bool:
        if not self.networks:
            return True
        ip = ipaddress.ip_address(address)
        return any(ip in net for net in self.networks)

    async def fetch(self, url: str, *, family: int | None = None, method: str = "GET") -> FetchOutcome:
        """Fetch `url` (following redirects by hand); never raises for network outcomes."""
        started = time.perf_counter()
        chain: list[str] = []
        seen: set[str] = set()
        current = url
        while True:
            target = _parse(current)
            if isinstance(target, FetchOutcome):
                return _outcome(url, current, target, chain, started)
            current = str(target)
            if current in seen:
                hop = _partial(FetchKind.REDIRECT_LOOP, detail=f"{current} was already visited")
                return _outcome(url, current, hop, chain, started)
            if len(chain) > self.max_redirects:
                hop = _partial(FetchKind.TOO_MANY_REDIRECTS, detail=f"more than {self.max_redirects} redirects")
                return _outcome(url, current, hop, chain, started)
            seen.add(current)
            hop = await self._hop(target, family, method)
            if hop.status not in REDIRECT_STATUSES:
                return _outcome(url, current, hop, chain, started)
            location = hop.headers.get("location")
            following = redirect_target(current, location) if location is not None else None
            if following is None:
                why = "without Location" if location is None else f"with an unusable Location {location[:200]!r}"
                return _outcome(url, current, replace(hop, detail=f"HTTP {hop.status} {why}"), chain, started)
            chain.append(current)
            current = following
            if hop.status == 303 and method != "HEAD":
                method = "GET"

    async def fetch_retrying(self, url: str, *, retries: int, family: int | None = None,
                             backoff_s: float = 0.5, method: str = "GET") -> tuple[FetchOutcome, int]:
        """Fetch, retrying transient kinds (and 429) up to `retries` times; returns (outcome, attempts).

        The wait doubles from `backoff_s`; a Retry-After on 429/503 extends it (capped at 30 s).
        """
        attempt = 1
        outcome = await self.fetch(url, family=family, method=method)
        while attempt <= retries and outcome.kind in RETRYABLE_KINDS:
            delay = backoff_s * 2 ** (attempt - 1)
            if outcome.status in (429, 503):
                delay = max(delay, retry_after_s(outcome.headers.get("retry-after")) or 0.0)
            log.debug("retrying %s in %.1f s after %s", url, delay, outcome.kind)
            await asyncio.sleep(delay)
            attempt += 1
            outcome = await self.fetch(url, family=family, method=method)
        return outcome, attempt

    async def _hop(self, target: httpx.URL, family: int | None, method: str) -> FetchOutcome:
        host = target.raw_host.decode("ascii")
        answer = await self.resolver.aresolve_host(host, family)
        if not answer.ok or not answer.addresses:
            kind = answer.kind if answer.kind is not DnsKind.OK else DnsKind.NO_ANSWER
            return _partial(FetchKind.DNS, family=family, dns_kind=kind,
                        detail=f"{answer.rtype} {host}: {kind} {answer.detail}".strip())
        address = answer.addresses[0]
        pinned_family = ipaddress.ip_address(address).version
        if not self.allowed(address):
            return _partial(FetchKind.DISALLOWED, address=address, family=pinned_family,
                        detail=f"{address} is outside the allowed networks; nothing was sent")
        async with self._limit(host):
            hop = await self._exchange(target, host, address, method)
        return replace(hop, address=address, family=pinned_family)

    async def _exchange(self, target: httpx.URL, host: str, address: str, method: str) -> FetchOutcome:
        literal = ip_literal(host)
        secure = target.scheme == "https"
        client = self._client(host if secure and literal is None else "")
        port = f":{target.port}" if target.port is not None else ""
        host_header = (f"[{host}]" if literal is not None and literal.version == 6 else host) + port
        events: list[str] = []

        async def trace(event: str, info: Mapping[str, Any]) -> None:
            events.append(event)

        extensions: dict[str, Any] = {"trace": trace}
        if secure and literal is None:
            extensions["sni_hostname"] = host
        try:
            request = client.build_request(method, target.copy_with(host=address),
                                           headers={"Host": host_header}, extensions=extensions)
            async with asyncio.timeout(self.timeout_s):
                response = await client.send(request, stream=True)
                try:
                    return await self._read(response, method)
                finally:
                    await response.aclose()
        except TimeoutError:
            hop = _partial(FetchKind.TIMEOUT, detail=f"no complete response within {self.timeout_s:g} s")
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ssl.SSLError) as exc:
            kind, tls_error, detail = classify_exception(exc, ipaddress.ip_address(address).version)
            hop = _partial(kind, detail=detail, tls_error=tls_error)
        if hop.kind is FetchKind.TIMEOUT and "connection.start_tls.started" in events \
                and "connection.start_tls.complete" not in events:
            # TCP connected, the ClientHello went out and no handshake came back.
            return replace(hop, tls_error=TlsError.HANDSHAKE,
                           detail=f"TLS handshake stalled: no answer to the ClientHello within {self.timeout_s:g} s")
        return hop

    async def _read(self, response: httpx.Response, method: str) -> FetchOutcome:
        headers = _header_dict(response.headers)
        chunks: list[bytes] = []
        size = 0
        truncated = False
        declared = headers.get("content-length", "")
        if method == "HEAD":
            pass
        elif declared.isdigit() and int(declared) > self.max_bytes:
            truncated = True
        else:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    chunks.append(chunk[: len(chunk) - (size - self.max_bytes)])
                    truncated = True
                    break
                chunks.append(chunk)
        body = b"".join(chunks)
        status = response.status_code
        kind = status_kind(status, body)
        detail = f"HTTP {status}"
        if truncated:
            detail = f"body over {self.max_bytes} bytes (Content-Length {declared or 'unknown'})"
            if kind is FetchKind.OK:
                kind = FetchKind.TOO_LARGE
        return _partial(kind, status, headers=headers, body=body, size=size, truncated=truncated, detail=detail)

    def _client(self, tls_name: str) -> httpx.AsyncClient:
        client = self._clients.get(tls_name)
        if client is None:
            client = self._clients[tls_name] = httpx.AsyncClient(
                verify=self._ssl, timeout=httpx.Timeout(self.timeout_s), follow_redirects=False,
                trust_env=False,  # proxies from the environment would bypass the pinned address
                headers={"User-Agent": self.user_agent},
                # Cookies would be keyed by the pinned IP and leak across virtual hosts.
                cookies=_NoCookies(),
                event_hooks={"response": [_hide_location]},
            )
        return client

    def _limit(self, host: str) -> asyncio.Semaphore:
        semaphore = self._limits.get(host)
        if semaphore is None:
            semaphore = self._limits[host] = asyncio.Semaphore(self.per_host_limit)
        return semaphore


def _header_dict(headers: httpx.Headers) -> dict[str, str]:
    """The response's headers by lower-case name, repeated ones joined by ", " (as httpx's `items()`), the
    hidden Location under its own name. Decoded once here: httpx's `items()` works out the headers'
    encoding again for every header, a measurable share of a small fetch."""
    raw = headers.raw
    for encoding in ("ascii", "utf-8", "iso-8859-1"):
        try:
            pairs = [(key.lower().decode(encoding), value.decode(encoding)) for key, value in raw]
            break
        except UnicodeDecodeError:
            continue
    found: dict[str, str] = {}
    for key, value in pairs:
        found[key] = f"{found[key]}, {value}" if key in found else value
    if _HIDDEN_LOCATION in found:
        found["location"] = found.pop(_HIDDEN_LOCATION)
    return found


def retry_after_s(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After value (delta seconds or HTTP date), capped at 30 s."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), RETRY_AFTER_CAP_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(when.timestamp() - time.time(), 0.0), RETRY_AFTER_CAP_S)


class _NoCookies(CookieJar):
    """A jar that keeps and sends nothing. httpx hands every request and response to its jar; a
    refusing policy would still parse each Set-Cookie header, this skips the work."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def add_cookie_header(self, request: Any) -> None:
        return None


async def _hide_location(response: httpx.Response) -> None:
    """httpx builds the next request of a redirect even when not following it, and raises on a
    Location it cannot parse (`javascript:…`); redirects are followed here, so it never sees one."""
    if "location" in response.headers:
        response.headers[_HIDDEN_LOCATION] = response.headers["location"]
        del response.headers["location"]


def url_problem(url: str) -> str | None:
    """Why `url` is not an absolute http(s) URL a browser can request, or None when it is.

    A valid URL has an http or https scheme, "//", a host without WHATWG
    forbidden characters (space, "]", "<" …, also percent-encoded) and a port
    in range. Fragments are allowed.
    """
    scheme = _SCHEME.match(url)
    if scheme is None:
        return "no scheme"
    if scheme.group(1).lower() not in ("http", "https"):
        return f"scheme {scheme.group(1).lower()!r} is not http(s)"
    if not url[scheme.end():].startswith("//"):
        return "no // after the scheme"
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        return str(exc)
    if not host:
        return "no host"
    if "[" not in parts.netloc and _FORBIDDEN_HOST.search(unquote(host)):
        return f"invalid character in host {host!r}"
    if port == 0:
        return "port 0"
    return None


def redirect_target(base: str, location: str) -> str | None:
    """The URL a redirect from `base` goes to, or None when its Location is not usable.

    Usable: an absolute http(s) URL that passes `url_problem`, a scheme-relative
    "//host/…" that does on the base's scheme, or a path reference (resolved
    against `base`). Empty values, other schemes (`javascript:`, `data:`,
    `ftp:` …) and malformed URLs are not: a browser stays on the 3xx.
    """
    location = location.strip(_EDGE)
    if not location:
        return None
    if _SCHEME.match(location) is not None or location.startswith(("//", "\\\\", "/\\", "\\/")):
        absolute = location if _SCHEME.match(location) else f"{urlsplit(base).scheme}:{location}"
        if url_problem(absolute.replace("\\", "/")) is not None:
            return None
    try:
        joined = str(httpx.URL(base).join(location))
    except (httpx.InvalidURL, ValueError, TypeError):
        return None
    return joined if url_problem(joined) is None else None


def _parse(url: str) -> httpx.URL | FetchOutcome:
    scheme = _SCHEME.match(url)
    if scheme is not None and scheme.group(1).lower() not in ("http", "https", "file"):
        return _partial(FetchKind.UNSUPPORTED, detail=f"scheme {scheme.group(1).lower()!r} is not fetched")
    problem = url_problem(url)
    if problem is not None:
        return _partial(FetchKind.MALFORMED, detail=f"malformed URL: {problem}")
    try:
        target = httpx.URL(url)
        if not target.raw_host:
            return _partial(FetchKind.MALFORMED, detail="malformed URL: no host")
        return target.copy_with(fragment=None) if "#" in url else target   # each copy parses the URL again
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        return _partial(FetchKind.MALFORMED, detail=f"malformed URL: {exc}")


def _outcome(url: str, final_url: str, hop: FetchOutcome, chain: list[str], started: float) -> FetchOutcome:
    """The last hop's outcome, completed with what the whole fetch knows."""
    content_type = hop.headers.get("content-type", "")
    encoding = declared_charset(content_type)
    media = media_type(content_type)
    title = ""
    if hop.body and (media in ("text/html", "application/xhtml+xml") or not media):
        title = extract_title(decode_html(hop.body, encoding)[0])
    return replace(hop, url=url, final_url=final_url, redirect_chain=tuple(chain), content_type=media,
                   encoding=encoding, elapsed_ms=round((time.perf_counter() - started) * 1000, 3), title=title)


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and the members of exception groups (each once)."""
    stack: list[BaseException] = [exc]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def classify_exception(exc: BaseException, family: int) -> tuple[FetchKind, TlsError | None, str]:
    """(kind, TLS error, detail) for a failed exchange: the one place httpx, ssl and socket
    failures become FetchKind values. `family` is the pinned address's (4 or 6)."""
    chain = list(causes(exc))
    root = next((c for c in chain if isinstance(c, OSError) and c.errno), None)
    detail = f"{type(exc).__name__}: {root if root is not None else exc}".rstrip(": ")
    verify = next((c for c in chain if isinstance(c, ssl.SSLCertVerificationError)), None)
    if verify is not None:
        code = getattr(verify, "verify_code", None)
        tls = _VERIFY_CODES.get(code, TlsError.OTHER) if isinstance(code, int) else TlsError.OTHER
        return FetchKind.TLS, tls, f"certificate: {getattr(verify, 'verify_message', '') or verify}"
    failed = next((c for c in chain if isinstance(c, ssl.SSLError)), None)
    if failed is not None:
        if not_tls(str(failed)):
            return FetchKind.TLS, TlsError.HANDSHAKE, f"not a TLS server: the answer to the ClientHello is not TLS ({failed})"
        return FetchKind.TLS, TlsError.HANDSHAKE, detail
    if any(isinstance(c, (httpx.TimeoutException, TimeoutError)) for c in chain):
        return FetchKind.TIMEOUT, None, detail if root is not None else f"{type(exc).__name__}: timed out"
    code = root.errno if root is not None else None
    if code == errno.ECONNREFUSED:
        return FetchKind.REFUSED, None, detail
    if code in _NO_ROUTE_ERRNOS or (code == errno.EHOSTUNREACH and family == 6):
        return FetchKind.NO_ROUTE, None, detail
    if code == errno.EHOSTUNREACH:
        # Over IPv4 an unreachable host is the site's failure; filtered ICMP would show it as a timeout.
        return FetchKind.TIMEOUT, None, detail
    if code in _RESET_ERRNOS or isinstance(exc, httpx.ReadError | httpx.WriteError):
        return FetchKind.RESET, None, detail
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc).lower()
        return (FetchKind.RESET if "disconnected" in text or "closed" in text else FetchKind.PROTOCOL), None, detail
    if isinstance(exc, (httpx.ProtocolError, httpx.DecodingError)):
        return FetchKind.PROTOCOL, None, detail
    if isinstance(exc, httpx.UnsupportedProtocol):
        return FetchKind.UNSUPPORTED, None, detail
    if isinstance(exc, httpx.InvalidURL):
        return FetchKind.MALFORMED, None, detail
    return FetchKind.ERROR, None, detail
