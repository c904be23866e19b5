"""Why a crawl request got no usable response: the one mapping of Scrapy and
Twisted download failures to `monitor.outcomes.FetchKind`.

Also owns the exceptions govmon's own downloader middlewares raise (robots
refusal, redirect loop, too many redirects). Pure: no I/O; the gate is only asked
what it already knows.
"""

from __future__ import annotations

from OpenSSL.SSL import Error as OpenSSLError  # pyOpenSSL is a dependency of Scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotSupported,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from twisted.internet import error as tx
from twisted.python.failure import Failure
from twisted.web import _newclient

from monitor.outcomes import FetchKind, not_tls
from spiders.resolver import HostGate

DETAIL_MAX = 300


class RobotsRefused(IgnoreRequest):
    """robots.txt forbids the URL for govmon's user agent; recorded as an event, not a page."""


class RedirectStop(IgnoreRequest):
    """A redirect the crawl does not follow; `target` is where it pointed."""

    def __init__(self, message: str, target: str) -> None:
        super().__init__(message)
        self.target = target


class RedirectLoop(RedirectStop):
    """A redirect leads back to a URL of its own chain."""


class TooManyRedirects(RedirectStop):
    """The chain went past the crawl's redirect limit."""


ExcTypes = type[BaseException] | tuple[type[BaseException], ...]
_OWN: tuple[tuple[ExcTypes, FetchKind], ...] = (
    (RedirectLoop, FetchKind.REDIRECT_LOOP),
    (TooManyRedirects, FetchKind.TOO_MANY_REDIRECTS),
)
_DIRECT: tuple[tuple[ExcTypes, FetchKind], ...] = (
    ((DownloadConnectionRefusedError, tx.ConnectionRefusedError), FetchKind.REFUSED),
    ((DownloadTimeoutError, tx.TimeoutError, tx.TCPTimedOutError, tx.ConnectingCancelledError), FetchKind.TIMEOUT),
    (tx.NoRouteError, FetchKind.NO_ROUTE),
    ((OpenSSLError, tx.SSLError, tx.CertificateError, tx.VerifyError), FetchKind.TLS),
    # DOWNLOAD_MAXSIZE is the crawl's only reason to cancel a download.
    (DownloadCancelledError, FetchKind.TOO_LARGE),
    ((ResponseDataLossError, tx.ConnectionClosed, _newclient.ConnectionAborted), FetchKind.RESET),
    (_newclient.ParseError, FetchKind.PROTOCOL),
    ((UnsupportedURLSchemeError, NotSupported), FetchKind.UNSUPPORTED),
    (tx.ConnectError, FetchKind.REFUSED),
)


def _text(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text[:DETAIL_MAX]


def _reasons(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (Twisted's ResponseFailed reasons, __cause__), outermost first."""
    found: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(found) < 20:
        current = todo.pop(0)
        found.append(current)
        if isinstance(current, _newclient._WrapperException):
            todo += [r.value for r in current.reasons if isinstance(r, Failure) and r.value is not None]
        if current.__cause__ is not None:
            todo.append(current.__cause__)
    return found


def classify(exc: BaseException, gate: HostGate | None = None, host: str = "") -> tuple[FetchKind, str]:
    """(FetchKind, detail in words) for a failed download of a URL on `host`."""
    for kind_of, kind in _OWN:
        if isinstance(exc, kind_of):
            return kind, str(exc)[:DETAIL_MAX]
    chain = _reasons(exc)
    if any(isinstance(e, (CannotResolveHostError, tx.DNSLookupError)) for e in chain):
        verdict = gate.verdict(host) if gate is not None and host else None
        if verdict is not None and verdict.kind is not FetchKind.OK:
            return verdict.kind, verdict.detail
        return FetchKind.DNS, _text(exc)
    if any(type(e).__name__ == "_DecompressionMaxSizeExceeded" for e in chain):
        return FetchKind.TOO_LARGE, _text(exc)
    # The innermost cause names the failure best (a TLS error inside ResponseNeverReceived).
    for cause in reversed(chain):
        for kind_of, kind in _DIRECT:
            if isinstance(cause, kind_of):
                if kind is FetchKind.TLS and not_tls(str(cause)):
                    return kind, f"not a TLS server: the answer to the ClientHello is not TLS ({_text(cause)})"
                return kind, _text(cause)
    if any(isinstance(e, (DownloadFailedError, _newclient.ResponseFailed)) for e in chain):
        return FetchKind.RESET, _text(chain[-1])
    return FetchKind.ERROR, _text(exc)
