"""govmon's downloader components: robots refusals as data, redirect loops cut
early, retries with backoff and Retry-After, and bodies not worth downloading.

- `RobotsMiddleware` raises RobotsRefused (an event, not a page) and keeps a
  failed robots.txt download to one debug line: the page's own request then
  records the failure.
- `RedirectGuard` sees each 3xx before Scrapy's RedirectMiddleware and stops a
  chain that loops or grows past MAX_REDIRECTS. A 3xx whose Location is not
  usable (empty, unparsable, `javascript:`, `data:` or any scheme but http(s))
  is kept as the answer: the page is `http_3xx`, as monitor.fetch says.
- `BackoffRetry` retries 5xx/408/429 and transient failures (as
  monitor.outcomes.TRANSIENT_KINDS says) after a doubling backoff, or
  Retry-After when longer, capped; a 429's Retry-After also slows its host.
- `BodyGuard` stops the body of a non-HTML response (attachments are recorded
  by status, type and Content-Length) and of a response announced larger than
  DOWNLOAD_MAXSIZE, so the crawl never downloads what it will not read; a
  linked style sheet (read for links:hidden) is read up to its own cap.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urldefrag, urljoin

from scrapy import signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Headers, Request, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.defer import Deferred
from w3lib.url import safe_url_string

from monitor.htmltext import media_type
from monitor.outcomes import TRANSIENT_KINDS
from spiders.failures import RedirectLoop, RobotsRefused, TooManyRedirects, classify
from spiders.site import HTML_TYPES, SHEET, SHEET_MAX_BYTES, SITE, TOO_LARGE
from spiders.urls import canonical

log = logging.getLogger(__name__)

MAX_REDIRECTS = 10                 # as monitor.fetch allows
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
BACKOFF_S = 0.5                    # first retry waits this long, then doubles
RETRY_AFTER_MAX_S = 30.0
SMALL_BODY = 64 * 1024             # a small non-HTML body is read: closing the connection costs more


class RobotsMiddleware(RobotsTxtMiddleware):
    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest as exc:
            raise RobotsRefused(str(exc)) from None

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            url = urlparse_cached(request)
            robots = Request(f"{url.scheme}://{netloc}/robots.txt", priority=self.DOWNLOAD_PRIORITY,
                             meta={"dont_obey_robotstxt": True}, callback=NO_CALLBACK)
            try:
                response = await self.crawler.engine.download_async(robots)
                await self._parse_robots(response, netloc, request)
            except Exception as exc:  # noqa: BLE001 - no robots.txt means no restriction
                log.debug("robots.txt of %s not read: %s: %s", netloc, type(exc).__name__, exc)
                self._robots_error(exc, netloc)
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser


class RedirectGuard:
    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in REDIRECT_STATUSES or location is None:
            return response
        try:
            written = safe_url_string(location).strip()
        except ValueError:   # w3lib refuses what it cannot parse ("http://host]")
            written = ""
        if not written or canonical(written, request.url) is None:
            request.meta["dont_redirect"] = True   # a browser stays on the 3xx: the page is dead
            return response
        target = urldefrag(urljoin(request.url, written))[0]
        chain = [urldefrag(u)[0] for u in (*request.meta.get("redirect_urls", ()), request.url)]
        if target in chain:
            raise RedirectLoop(f"redirect from {request.url} back to {target}", target)
        if len(chain) > MAX_REDIRECTS:
            raise TooManyRedirects(f"more than {MAX_REDIRECTS} redirects", target)
        return response


def retry_after_s(headers: Headers) -> float | None:
    """A Retry-After given in seconds; HTTP-date forms are ignored (not simple)."""
    value = (headers.get(b"Retry-After") or b"").strip()
    return float(value) if value.isdigit() else None


class BackoffRetry(RetryMiddleware):
    """Scrapy's retry middleware, waiting before each retry (Scrapy 2.19 awaits async methods)."""

    async def process_response(self, request: Request, response: Response  # type: ignore[override]
                               ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        wait = retry_after_s(response.headers)
        if response.status == 429 and wait:
            self._slow_host(request, wait)
        await self._backoff(retry, wait)
        return retry

    async def process_exception(self, request: Request, exception: Exception  # type: ignore[override]
                                ) -> Request | Response | None:
        kind, _ = classify(exception)
        if request.meta.get("dont_retry", False) or kind not in TRANSIENT_KINDS:
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await self._backoff(retry, None)
        return retry

    async def _backoff(self, retry: Request, retry_after: float | None) -> None:
        wait = BACKOFF_S * 2 ** (retry.meta.get("retry_times", 1) - 1)
        await asyncio.sleep(min(max(wait, retry_after or 0.0), RETRY_AFTER_MAX_S))

    def _slow_host(self, request: Request, seconds: float) -> None:
        engine = getattr(self.crawler, "engine", None)
        slot = engine.downloader.slots.get(request.meta.get("download_slot", "")) if engine is not None else None
        if slot is not None:
            slot.delay = max(slot.delay, min(seconds, RETRY_AFTER_MAX_S))


class BodyGuard:
    """Extension: stops bodies the spider will not read (see the module docstring)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    @classmethod
    def from_crawler(cls, crawler: Any) -> BodyGuard:
        guard = cls(crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        crawler.signals.connect(guard.headers_received, signal=signals.headers_received)
        return guard

    def headers_received(self, headers: Headers, body_length: int | str, request: Request, **_: Any) -> None:
        if SITE not in request.meta:
            return  # robots.txt and other requests of Scrapy's own
        length = body_length if isinstance(body_length, int) else -1  # Twisted's UNKNOWN_LENGTH is a str
        if request.meta.get(SHEET):    # read whole up to its own cap (download_maxsize ends a longer unknown length)
            if length > SHEET_MAX_BYTES:
                request.meta[TOO_LARGE] = True
                raise StopDownload(fail=False)
            return
        if self.max_bytes and length > self.max_bytes:
            request.meta[TOO_LARGE] = True
            raise StopDownload(fail=False)
        media = media_type((headers.get(b"Content-Type") or b"").decode("latin-1"))
        if media and media not in HTML_TYPES and not 0 <= length <= SMALL_BODY:
            raise StopDownload(fail=False)
