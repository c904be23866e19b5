"""Tells a stalled TLS handshake from a slow answer in the crawl.

Scrapy reports both as a download timeout. The https download handler here
wraps the TLS connection creator of Scrapy's own handler, so every TLS
connection the crawl opens is remembered by (host, port); a timeout on a URL
whose connection never finished its handshake is a stalled handshake. Only
Scrapy 2.19's handler is wrapped (pyproject pins it); tests/test_spiders_crawl.py
fails if the wrapping stops seeing connections. Opens nothing itself.
"""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer  # type: ignore[import-untyped]

WATCH_SETTING = "GOVMON_TLS_WATCH"
Netloc = tuple[str, int]


class HandshakeWatch:
    """TLS connections by (host, port) whose handshake may still be running; shared through the
    settings like the HostGate (Scrapy deep-copies settings, copying returns the same watch)."""

    def __init__(self) -> None:
        self._open: dict[Netloc, list[Any]] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> HandshakeWatch:
        return self

    def opened(self, netloc: Netloc, connection: Any) -> None:
        # Connections whose handshake finished say nothing more; dropping them bounds the lists.
        live = [c for c in self._open.get(netloc, ()) if c.get_finished() is None]
        self._open[netloc] = [*live, connection]

    def stalled(self, host: str, port: int) -> bool:
        """Whether a connection to (host, port) got no further than the ClientHello; forgets them."""
        waiting = [c for c in self._open.pop((host.lower(), port), ()) if c.get_finished() is None]
        return bool(waiting)


@implementer(IOpenSSLClientConnectionCreator)
class _WatchedCreator:
    def __init__(self, creator: Any, watch: HandshakeWatch, netloc: Netloc) -> None:
        self.creator, self.watch, self.netloc = creator, watch, netloc

    def clientConnectionForTLS(self, tlsProtocol: Any) -> Any:  # noqa: N802 - Twisted's interface
        connection = self.creator.clientConnectionForTLS(tlsProtocol)
        self.watch.opened(self.netloc, connection)
        return connection


@implementer(IPolicyForHTTPS)
class _WatchedPolicy:
    def __init__(self, policy: Any, watch: HandshakeWatch) -> None:
        self.policy, self.watch = policy, watch

    def creatorForNetloc(self, hostname: bytes, port: int) -> _WatchedCreator:  # noqa: N802
        creator = self.policy.creatorForNetloc(hostname, port)
        return _WatchedCreator(creator, self.watch, (hostname.decode("ascii").lower(), port))


class WatchedHTTPSHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler whose TLS connections report to the crawl's HandshakeWatch."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        watch = crawler.settings.get(WATCH_SETTING)
        if not isinstance(watch, HandshakeWatch):
            raise TypeError(f"{WATCH_SETTING} must hold the crawl's HandshakeWatch (see spiders.settings)")
        self._contextFactory = _WatchedPolicy(self._contextFactory, watch)
