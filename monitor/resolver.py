"""THE resolver: every name resolution of govmon goes through this module.

Owns dnspython (sync and asyncio resolvers), the mapping of its exceptions to
`DnsKind`, and a per-instance answer cache (one query per name and type for the
life of a Resolver; a run is short, so TTLs are not honoured). IP literals
answer themselves without a query. A CNAME chain that a response leaves
unfinished (its target is in another zone) is followed by querying the target,
within the one `timeout_s`; a chain that comes back to one of its names is a
`cname_loop`, whether one response holds it or several. It never raises for DNS
outcomes: every result, good or bad, is an `Answer`. It must not open
connections other than DNS queries to the configured nameservers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver

from monitor.outcomes import DnsKind

log = logging.getLogger(__name__)

RTYPES = ("A", "AAAA", "CNAME", "NS")
MAX_CHAIN = 16        # CNAME steps followed from one name, as dnspython allows in one response
_FAMILY_RTYPE = {4: "A", 6: "AAAA"}


@dataclass(frozen=True)
class Answer:
    """The outcome of one query.

    `addresses` holds the record values of the asked type (IPs for A/AAAA,
    target names for CNAME/NS), sorted so the address a fetch pins is stable.
    `cname_chain` holds the CNAME targets followed from `name`, in order; its
    last element is the canonical name.
    """

    name: str
    rtype: str
    kind: DnsKind
    addresses: tuple[str, ...] = ()
    cname_chain: tuple[str, ...] = ()
    ttl: int | None = None
    detail: str = ""
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.kind is DnsKind.OK


class DnsSettings(Protocol):
    """What `Resolver.from_config` reads (monitor.config.Dns has these)."""

    @property
    def nameservers(self) -> Sequence[str]: ...

    @property
    def port(self) -> int: ...

    @property
    def timeout_s(self) -> float: ...


def normalise_name(name: str) -> str:
    """Lower-case, without a trailing dot or IPv6 brackets."""
    name = name.strip().rstrip(".").lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address if `host` is an IP literal ("127.0.0.1", "::1", "[::1]"), else None."""
    try:
        return ipaddress.ip_address(normalise_name(host))
    except ValueError:
        return None


class Resolver:
    """Resolves names through the configured nameservers (empty = the system's)."""

    def __init__(self, nameservers: Sequence[str] = (), port: int = 53, timeout_s: float = 5.0) -> None:
        self.nameservers = tuple(nameservers)
        self.port = port
        self.timeout_s = timeout_s
        self._sync = self._configure(dns.resolver.Resolver)
        self._async = self._configure(dns.asyncresolver.Resolver)
        self._cache: dict[tuple[str, str], Answer] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._inflight: dict[tuple[int, str, str], asyncio.Future[Answer]] = {}

    @classmethod
    def from_config(cls, dns_settings: DnsSettings) -> Resolver:
        return cls(dns_settings.nameservers, dns_settings.port, dns_settings.timeout_s)

    def _configure(self, factory: Any) -> Any:
        try:
            resolver = factory(configure=not self.nameservers)
        except dns.resolver.NoResolverConfiguration as exc:
            # No usable /etc/resolv.conf: every query will answer kind "error" with this reason.
            log.warning("no system DNS configuration: %s", exc)
            resolver = factory(configure=False)
        if self.nameservers:
            resolver.port = self.port
            resolver.nameservers = list(self.nameservers)
        resolver.timeout = self.timeout_s
        resolver.lifetime = self.timeout_s
        resolver.cache = None
        return resolver

    def resolve(self, name: str, rtype: str) -> Answer:
        """Answer `rtype` for `name`, from the cache after the first query."""
        key = (normalise_name(name), rtype.upper())
        literal = _literal_answer(*key)
        if literal is not None:
            return literal
        with self._lock_for(key):
            cached = self._cache.get(key)
            if cached is None:
                cached = self._cache[key] = self._query_sync(*key)
        return cached

    async def aresolve(self, name: str, rtype: str) -> Answer:
        """The asyncio twin of `resolve`; concurrent calls share one query."""
        key = (normalise_name(name), rtype.upper())
        literal = _literal_answer(*key)
        if literal is not None:
            return literal
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        loop = asyncio.get_running_loop()
        flight_key = (id(loop), *key)
        pending = self._inflight.get(flight_key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Answer] = loop.create_future()
        self._inflight[flight_key] = future
        try:
            answer = self._cache[key] = await self._query_async(*key)
            future.set_result(answer)
        except BaseException:  # cancelled: the waiters must not hang
            future.cancel()
            raise
        finally:
            del self._inflight[flight_key]
        return answer

    def resolve_host(self, host: str, family: int | None) -> Answer:
        """The sync twin of `aresolve_host`."""
        if family is not None:
            return self.resolve(host, _FAMILY_RTYPE[family])
        first = self.resolve(host, "A")
        return first if first.kind is not DnsKind.NO_ANSWER else self.resolve(host, "AAAA")

    async def aresolve_host(self, host: str, family: int | None) -> Answer:
        """Family 4 → A, 6 → AAAA, None → A, then AAAA only when the name has no A."""
        if family is not None:
            return await self.aresolve(host, _FAMILY_RTYPE[family])
        first = await self.aresolve(host, "A")
        return first if first.kind is not DnsKind.NO_ANSWER else await self.aresolve(host, "AAAA")

    def _lock_for(self, key: tuple[str, str]) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def _query_sync(self, name: str, rtype: str) -> Answer:
        started = time.perf_counter()
        chase = _Chase(name, rtype, started + self.timeout_s)
        target: str | None = name
        while target is not None:
            answer = self._ask_sync(target, rtype, chase.remaining())
            target = chase.next(answer)
        return chase.answer(started)

    async def _query_async(self, name: str, rtype: str) -> Answer:
        started = time.perf_counter()
        chase = _Chase(name, rtype, started + self.timeout_s)
        target: str | None = name
        while target is not None:
            answer = await self._ask_async(target, rtype, chase.remaining())
            target = chase.next(answer)
        return chase.answer(started)

    def _ask_sync(self, name: str, rtype: str, lifetime: float) -> Answer:
        started = time.perf_counter()
        try:
            qname = dns.name.from_text(name)
            result = self._sync.resolve(qname, rtype, search=False, lifetime=lifetime)
        except Exception as exc:  # noqa: BLE001 - dnspython failures become data
            return _failure(name, rtype, exc, started, self.timeout_s)
        return _success(name, rtype, result.response, started)

    async def _ask_async(self, name: str, rtype: str, lifetime: float) -> Answer:
        started = time.perf_counter()
        try:
            qname = dns.name.from_text(name)
            result = await self._async.resolve(qname, rtype, search=False, lifetime=lifetime)
        except Exception as exc:  # noqa: BLE001 - dnspython failures become data
            return _failure(name, rtype, exc, started, self.timeout_s)
        return _success(name, rtype, result.response, started)


class _Chase:
    """Joins the answers of one name's CNAME chain across queries and spots a loop."""

    def __init__(self, name: str, rtype: str, deadline: float) -> None:
        self.name, self.rtype, self.deadline = name, rtype, deadline
        self.chain: list[str] = []
        self.last: Answer | None = None

    def remaining(self) -> float:
        return max(self.deadline - time.perf_counter(), 0.001)

    def next(self, answer: Answer) -> str | None:
        """The name to query next, or None when `answer` ends the chain."""
        self.last = answer
        seen = {self.name, *self.chain}
        for target in answer.cname_chain:
            self.chain.append(target)
            if target in seen:
                self.last = replace(answer, kind=DnsKind.CNAME_LOOP, addresses=(), ttl=None)
                return None
            seen.add(target)
        if answer.kind is DnsKind.CNAME_LOOP:
            return None
        unfinished = answer.kind is DnsKind.NO_ANSWER and answer.cname_chain and self.rtype != "CNAME"
        if not unfinished:
            return None
        if len(self.chain) >= MAX_CHAIN:
            self.last = replace(answer, kind=DnsKind.ERROR, detail=f"CNAME chain longer than {MAX_CHAIN}")
            return None
        if time.perf_counter() >= self.deadline:
            self.last = replace(answer, kind=DnsKind.TIMEOUT, detail="no end of the CNAME chain in time")
            return None
        return self.chain[-1]

    def answer(self, started: float) -> Answer:
        assert self.last is not None
        last = self.last
        chain = tuple(self.chain)
        detail = last.detail
        if last.kind is DnsKind.CNAME_LOOP:
            detail = "CNAME loop: " + " → ".join((self.name, *chain))
        return replace(last, name=self.name, cname_chain=chain, detail=detail, elapsed_ms=_elapsed_ms(started))


def _literal_answer(name: str, rtype: str) -> Answer | None:
    address = ip_literal(name)
    if address is None:
        return None
    if _FAMILY_RTYPE.get(address.version) == rtype:
        return Answer(name, rtype, DnsKind.OK, (str(address),), detail="IP literal")
    return Answer(name, rtype, DnsKind.NO_ANSWER, detail=f"IPv{address.version} literal has no {rtype}")


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _chain(response: dns.message.Message | None) -> tuple[tuple[str, ...], Any]:
    """(CNAME targets followed, the final answer RRset or None) from a response; a chain that
    returns to one of its names stops at the repeated name."""
    if not isinstance(response, dns.message.QueryMessage) or len(response.question) != 1:
        return (), None
    question = response.question[0]
    qname = question.name
    names: list[str] = []
    seen = {qname}
    for _ in range(MAX_CHAIN):
        try:
            return tuple(names), response.find_rrset(response.answer, qname, question.rdclass, question.rdtype)
        except KeyError:
            pass
        if question.rdtype == dns.rdatatype.CNAME:
            break
        try:
            alias = response.find_rrset(response.answer, qname, question.rdclass, dns.rdatatype.CNAME)
        except KeyError:
            break
        if not len(alias):
            break
        qname = alias[0].target
        names.append(qname.to_text().rstrip(".").lower())
        if qname in seen:
            break
        seen.add(qname)
    return tuple(names), None


def _asked(response: Any) -> str:
    question = getattr(response, "question", None)
    return question[0].name.to_text().rstrip(".").lower() if question else ""


def _success(name: str, rtype: str, response: dns.message.Message, started: float) -> Answer:
    chain, rrset = _chain(response)
    if rtype == "CNAME":
        # A CNAME query answers with the alias record itself, not a followed chain.
        chain = ()
    if rrset is None:
        return Answer(name, rtype, DnsKind.NO_ANSWER, cname_chain=chain,
                      detail=f"no {rtype} record", elapsed_ms=_elapsed_ms(started))
    values = tuple(sorted(_rdata_text(rdata) for rdata in rrset))
    return Answer(name, rtype, DnsKind.OK, values, chain, rrset.ttl, elapsed_ms=_elapsed_ms(started))


def _rdata_text(rdata: Any) -> str:
    target = getattr(rdata, "target", None)
    if target is not None:
        return str(target.to_text()).rstrip(".").lower()
    return str(rdata.to_text())


def _failure(name: str, rtype: str, exc: Exception, started: float, timeout_s: float) -> Answer:
    kind, detail, chain = _classify(exc, rtype, timeout_s)
    log.debug("dns %s %s: %s (%s)", name, rtype, kind, detail)
    return Answer(name, rtype, kind, cname_chain=chain, detail=detail, elapsed_ms=_elapsed_ms(started))


def _classify(exc: Exception, rtype: str, timeout_s: float) -> tuple[DnsKind, str, tuple[str, ...]]:
    """The one place dnspython exceptions become DnsKind values."""
    if isinstance(exc, dns.resolver.NXDOMAIN):
        responses = list((exc.kwargs.get("responses") or {}).values())
        chain, _ = _chain(responses[0] if responses else None)
        return DnsKind.NXDOMAIN, "the name does not exist", chain
    if isinstance(exc, dns.resolver.NoAnswer):
        chain, _ = _chain(exc.kwargs.get("response"))
        return DnsKind.NO_ANSWER, f"no {rtype} record", chain
    if isinstance(exc, dns.exception.Timeout):
        return DnsKind.TIMEOUT, f"no answer within {timeout_s:g} s", ()
    if isinstance(exc, dns.resolver.NoNameservers):
        return _classify_servers(exc)
    if isinstance(exc, (dns.name.NameTooLong, dns.name.LabelTooLong, dns.name.EmptyLabel,
                        dns.exception.SyntaxError, UnicodeError)):
        return DnsKind.ERROR, f"invalid name: {exc}", ()
    return DnsKind.ERROR, f"{type(exc).__name__}: {exc}", ()


def _classify_servers(exc: dns.resolver.NoNameservers) -> tuple[DnsKind, str, tuple[str, ...]]:
    errors = exc.kwargs.get("errors") or []
    for error in errors:
        if len(error) > 4 and isinstance(error[3], dns.message.ChainTooLong):
            # dnspython gives up after 16 steps in one response; a loop is the usual reason.
            chain, _ = _chain(error[4])
            looped = len(set(chain)) < len(chain) or _asked(error[4]) in chain
            return (DnsKind.CNAME_LOOP, "CNAME loop", chain) if looped else (
                DnsKind.ERROR, f"CNAME chain longer than {MAX_CHAIN}", chain)
    rcodes = []
    for error in errors:
        response = error[4] if len(error) > 4 else None
        if isinstance(response, dns.message.Message):
            rcodes.append(response.rcode())
    detail = "; ".join(f"{error[0]}: {error[3]}" for error in errors) or str(exc)
    if rcodes and all(code == dns.rcode.REFUSED for code in rcodes):
        return DnsKind.REFUSED, detail, ()
    if rcodes and all(code in (dns.rcode.SERVFAIL, dns.rcode.REFUSED) for code in rcodes):
        return DnsKind.SERVFAIL, detail, ()
    return DnsKind.ERROR, detail, ()
