"""The TLS probe: a site's HTTPS certificate, its trust, protocol version and HTTP → HTTPS redirection.

Two handshakes to the address the project's resolver gives: one without
verification, to read the certificate whatever is wrong with it, and one
verified with the configured CA bundle (hostname included), whose failure is
classified by the fetch layer's `classify_exception` into a TlsError kind. The
plain-HTTP side goes through the fetch layer. Owns `cryptography`'s
certificate parsing; must not judge (checks.https does) and never raises for a
site's failure.
"""

from __future__ import annotations

import asyncio
import functools
import contextlib
import ipaddress
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from checks.snapshot import Probe
from monitor.fetch import Fetcher, classify_exception
from monitor.outcomes import FetchKind, TlsError
from monitor.resolver import Resolver

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handshake:
    kind: FetchKind
    der: bytes = b""
    protocol: str = ""
    tls_error: str = ""
    reason: str = ""


@functools.cache
def _unverified() -> ssl.SSLContext:
    """One context for every unverified handshake: it needs no CA certificates, whose loading
    (`create_default_context`) cost ~15 ms a site."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def handshake(address: str, port: int, host: str, context: ssl.SSLContext, timeout_s: float) -> Handshake:
    """One TLS handshake to the pinned `address` with SNI `host`, TCP connect and handshake within
    `timeout_s` together; failures become kinds, never exceptions. A server that takes the TCP
    connection and never completes the handshake is a `timeout` with tls_error "handshake"."""
    family = ipaddress.ip_address(address).version
    writer: asyncio.StreamWriter | None = None
    connected = False
    try:
        async with asyncio.timeout(timeout_s):
            _, writer = await asyncio.open_connection(address, port)
            connected = True
            await writer.start_tls(context, server_hostname=host)
    except TimeoutError:
        _abort(writer)
        if connected:
            return Handshake(FetchKind.TIMEOUT, tls_error=str(TlsError.HANDSHAKE),
                             reason=f"TLS handshake stalled: no answer to the ClientHello within {timeout_s:g} s")
        return Handshake(FetchKind.TIMEOUT, reason=f"no TCP connection within {timeout_s:g} s")
    except (OSError, ssl.SSLError) as exc:
        _abort(writer)
        kind, tls_error, detail = classify_exception(exc, family)
        return Handshake(kind, tls_error=str(tls_error or ""), reason=detail)
    assert writer is not None
    tls = writer.get_extra_info("ssl_object")
    found = Handshake(FetchKind.OK, der=tls.getpeercert(binary_form=True) or b"", protocol=tls.version() or "")
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
        async with asyncio.timeout(timeout_s):
            await writer.wait_closed()
    return found


def _abort(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        writer.transport.abort()


def certificate_facts(der: bytes) -> dict[str, Any]:
    """Expiry, issuer, subject, names and self-signedness of a DER certificate ({} if unreadable)."""
    from cryptography import x509   # ~10 MB a process: imported when a certificate is read, not during the crawl

    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        log.debug("unreadable certificate: %s", exc)
        return {}
    names: list[str] = []
    with contextlib.suppress(x509.ExtensionNotFound):
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [*san.get_values_for_type(x509.DNSName), *(str(ip) for ip in san.get_values_for_type(x509.IPAddress))]
    return {"not_after": cert.not_valid_after_utc.isoformat(), "not_before": cert.not_valid_before_utc.isoformat(),
            "issuer": cert.issuer.rfc4514_string(), "subject": cert.subject.rfc4514_string(), "names": names,
            "self_signed": cert.issuer == cert.subject}


def _https_url(url: str, http_final: str | None, chain: tuple[str, ...]) -> str:
    """The HTTPS URL to test: where HTTP led, the URL itself if https, else https on the default port."""
    for hop in (*chain, http_final or ""):
        if hop.startswith("https://"):
            return hop
    parts = urlsplit(url)
    if parts.scheme == "https":
        return url
    return urlunsplit(("https", parts.hostname or "", parts.path or "/", parts.query, ""))


def _http_url(url: str) -> str | None:
    """The plain-HTTP twin of the site URL; unknown (None) for https on a non-default port."""
    parts = urlsplit(url)
    if parts.scheme == "http":
        return url
    if parts.port not in (None, 443):
        return None
    return urlunsplit(("http", parts.hostname or "", parts.path or "/", parts.query, ""))


async def _http_side(fetcher: Fetcher, url: str) -> dict[str, Any]:
    http_url = _http_url(url)
    if http_url is None:
        return {"http_url": None, "redirects_to_https": None}
    outcome = await fetcher.fetch(http_url)
    to_https = any(u.startswith("https://") for u in (*outcome.redirect_chain, outcome.final_url))
    answered = outcome.ok or to_https
    return {"http_url": http_url, "http_outcome": str(outcome.kind), "http_final_url": outcome.final_url,
            "http_chain": list(outcome.redirect_chain),
            "redirects_to_https": True if to_https else (False if answered else None)}


async def tls_probe(fetcher: Fetcher, resolver: Resolver, url: str, *, verify: ssl.SSLContext, timeout_s: float,
                    clock: Callable[[], datetime]) -> Probe:
    """The "tls" probe of a site whose homepage is `url` (http or https)."""
    started = time.perf_counter()
    detail: dict[str, Any] = await _http_side(fetcher, url)
    https_url = _https_url(url, detail.get("http_final_url"), tuple(detail.get("http_chain", ())))
    parts = urlsplit(https_url)
    host, port = (parts.hostname or "").lower(), parts.port or 443
    detail["host"] = host
    answer = await resolver.aresolve_host(host, None)
    if not answer.ok or not answer.addresses:
        detail.update(dns_kind=str(answer.kind), reason=f"{answer.rtype} {host}: {answer.kind}")
        return Probe(kind="tls", url=https_url, outcome=str(FetchKind.DNS), at=clock(), detail=detail)
    address = answer.addresses[0]
    if not fetcher.allowed(address):
        detail["reason"] = f"{address} is outside the allowed networks; nothing was sent"
        return Probe(kind="tls", url=https_url, outcome=str(FetchKind.DISALLOWED), at=clock(), address=address,
                     detail=detail)
    seen = await handshake(address, port, host, _unverified(), timeout_s)
    outcome = seen
    if seen.kind is FetchKind.OK:
        detail.update(certificate_facts(seen.der), protocol=seen.protocol)
        outcome = await handshake(address, port, host, verify, timeout_s)
    if outcome.tls_error:
        detail["tls_error"] = outcome.tls_error
    if outcome.reason:
        detail["reason"] = outcome.reason
    return Probe(kind="tls", url=https_url, outcome=str(outcome.kind), at=clock(), address=address,
                 elapsed_ms=round((time.perf_counter() - started) * 1000, 1), detail=detail)
