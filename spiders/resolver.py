"""Twisted name resolution for the crawl child, answered by monitor.resolver.

Owns the one gate every connection of the crawl passes: a host's addresses come
from `monitor.resolver` (dnspython; IP literals, "[::1]" included, answer
themselves) and addresses outside `crawl.allowed_networks` are dropped before
Twisted sees them, so they are never connected. The gate remembers why a host
has no usable address, for the spider's errback to record (`dns` or
`disallowed`). Must not open any connection except the resolver's DNS queries.

Scrapy 2.19 installs the reactor's resolver from the TWISTED_DNS_RESOLVER
setting (DNS_RESOLVER before 2.15) of the settings the process starts with;
a spider's custom_settings cannot change it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IHostnameResolver, IHostResolution, IResolutionReceiver
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped]

from monitor.outcomes import FetchKind
from monitor.resolver import Resolver, normalise_name

log = logging.getLogger(__name__)

GATE_SETTING = "GOVMON_HOST_GATE"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Verdict:
    """What the gate decided for one host: the addresses to use, or why there are none."""

    host: str
    addresses: tuple[str, ...]
    kind: FetchKind = FetchKind.OK        # OK, DNS or DISALLOWED
    detail: str = ""


class HostGate:
    """Resolves hosts through the project's resolver and applies the allowed networks.

    One instance is shared by the reactor's resolver and the spider; Scrapy
    deep-copies settings for each crawler, so copying returns the same gate.
    """

    def __init__(self, resolver: Resolver, networks: Sequence[Network] = ()) -> None:
        self.resolver = resolver
        self.networks = tuple(networks)
        self._verdicts: dict[str, Verdict] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> HostGate:
        return self

    def allowed(self, address: str) -> bool:
        if not self.networks:
            return True
        ip = ipaddress.ip_address(address)
        return any(ip in network for network in self.networks)

    async def check(self, host: str) -> Verdict:
        """The host's verdict, resolving it on first use (A, then AAAA when there is no A)."""
        name = normalise_name(host)
        known = self._verdicts.get(name)
        if known is not None:
            return known
        answer = await self.resolver.aresolve_host(name, None)
        if not answer.ok:
            verdict = Verdict(name, (), FetchKind.DNS, f"{answer.kind}: {answer.detail}".rstrip(": "))
        else:
            usable = tuple(a for a in answer.addresses if self.allowed(a))
            refused = [a for a in answer.addresses if a not in usable]
            if usable:
                verdict = Verdict(name, usable)
            else:
                verdict = Verdict(name, (), FetchKind.DISALLOWED,
                                  f"address {', '.join(refused)} is outside crawl.allowed_networks")
        self._verdicts[name] = verdict
        if verdict.kind is not FetchKind.OK:
            log.debug("host %s: %s (%s)", name, verdict.kind, verdict.detail)
        return verdict

    def verdict(self, host: str) -> Verdict | None:
        """The verdict already reached for `host`, if any."""
        return self._verdicts.get(normalise_name(host))


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str) -> None:
        self.name = name

    def cancel(self) -> None:
        """Twisted never cancels a resolution in practice; the answer is then ignored."""


@implementer(IHostnameResolver)
class GateResolver:
    """The reactor's IHostnameResolver (IPv4 and IPv6) over a HostGate."""

    def __init__(self, reactor: Any, gate: HostGate) -> None:
        self.reactor = reactor
        self.gate = gate

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GateResolver:
        gate = crawler.settings.get(GATE_SETTING)
        if not isinstance(gate, HostGate):
            raise TypeError(f"{GATE_SETTING} must hold the crawl's HostGate (see spiders.settings)")
        return cls(reactor, gate)

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def resolveHostName(self, resolutionReceiver: IResolutionReceiver, hostName: str, portNumber: int = 0,
                        addressTypes: Sequence[type[Any]] | None = None,
                        transportSemantics: str = "TCP") -> IHostResolution:
        receiver: Any = resolutionReceiver  # a zope interface: mypy cannot read its methods
        resolution: Any = _Resolution(hostName)
        receiver.resolutionBegan(resolution)
        found: Deferred[Verdict] = Deferred.fromFuture(asyncio.ensure_future(self.gate.check(hostName)))

        def deliver(verdict: Verdict) -> None:
            for address in verdict.addresses:
                ip = ipaddress.ip_address(address)
                kind = IPv6Address if ip.version == 6 else IPv4Address
                if addressTypes is None or kind in addressTypes:
                    receiver.addressResolved(kind(transportSemantics, address, portNumber))  # type: ignore[arg-type]
            receiver.resolutionComplete()

        def fail(failure: Failure) -> None:
            log.warning("resolving %s failed: %s", hostName, failure.getErrorMessage())
            receiver.resolutionComplete()

        found.addCallbacks(deliver, fail)
        return resolution  # type: ignore[no-any-return]
