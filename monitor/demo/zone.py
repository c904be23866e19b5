"""The demo's DNS data and the one function that answers from it.

`lookup` is what the demo nameserver serves and what the ground truth expects,
so the two cannot drift apart. Answers look like an authoritative server's: a
CNAME chain is followed inside the zone and returned with the final records,
except past an alias marked `cname_alone` (a target in another zone), which the
resolver must query itself. A chain that comes back to one of its names is a
loop: the server answers the loop's CNAME records with NOERROR, as BIND does.
Pure; no sockets.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from monitor.demo.spec import DemoSite, DnsSpec

MAX_CHAIN = 16
_OUTCOME_RCODE = {"servfail": "SERVFAIL", "refused": "REFUSED", "timeout": "DROP"}
_RCODE_KIND = {"NXDOMAIN": "nxdomain", "SERVFAIL": "servfail", "REFUSED": "refused", "DROP": "timeout"}
_FAILED = ("timeout", "servfail", "refused")


@dataclass(frozen=True)
class Lookup:
    """`rcode` is a DNS rcode name, or DROP for "never answer"."""

    rcode: str
    chain: tuple[tuple[str, str], ...] = ()    # (alias, target) steps followed, in order
    owner: str = ""                            # the name the records below belong to
    values: tuple[str, ...] = ()               # records of the asked type at `owner`
    loop: bool = False                         # the chain's last step goes back to a name in it


def normalise(name: str) -> str:
    return name.strip().rstrip(".").lower()


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def build_zone(sites: Iterable[DemoSite], extra: Mapping[str, DnsSpec]) -> dict[str, DnsSpec]:
    """Name → records; a name whose outcome is "nxdomain" is left out, and so are hosts that
    are IP literals (they need no DNS). Duplicate names are an error."""
    zone: dict[str, DnsSpec] = {}
    entries = [(site.host, site.dns) for site in sites if not is_ip_literal(site.host)] + list(extra.items())
    for name, spec in entries:
        key = normalise(name)
        if key in zone:
            raise ValueError(f"demo DNS name defined twice: {key}")
        if spec.outcome != "nxdomain":
            zone[key] = spec
    return zone


def _values(spec: DnsSpec, rtype: str) -> tuple[str, ...]:
    records = {"A": spec.a, "AAAA": spec.aaaa, "NS": spec.ns, "CNAME": (spec.cname,) if spec.cname else ()}
    return tuple(records.get(rtype, ()))


def lookup(zone: Mapping[str, DnsSpec], name: str, rtype: str, *, whole: bool = False) -> Lookup:
    """What the demo server answers; `whole` follows `cname_alone` aliases too (what a resolver
    that queries each target ends with)."""
    current = normalise(name)
    chain: list[tuple[str, str]] = []
    seen = {current}
    for _ in range(MAX_CHAIN):
        spec = zone.get(current)
        if spec is None:
            exists = any(other.endswith("." + current) for other in zone)
            return Lookup("NOERROR" if exists else "NXDOMAIN", tuple(chain), current)
        if spec.outcome is not None:
            return Lookup(_OUTCOME_RCODE[spec.outcome], tuple(chain), current)
        if spec.cname and rtype != "CNAME":
            target = normalise(spec.cname)
            chain.append((current, target))
            if target in seen:
                return Lookup("NOERROR", tuple(chain), target, loop=True)
            seen.add(target)
            current = target
            if spec.cname_alone and not whole:
                return Lookup("NOERROR", tuple(chain), current)
            continue
        return Lookup("NOERROR", tuple(chain), current, _values(spec, rtype))
    return Lookup("SERVFAIL", tuple(chain), current)


def expected_answer(zone: Mapping[str, DnsSpec], name: str, rtype: str) -> dict[str, object]:
    """What monitor.resolver must answer for `name`/`rtype`, as JSON-ready data."""
    found = lookup(zone, name, rtype, whole=True)
    if found.loop:
        kind = "cname_loop"
    elif found.rcode == "NOERROR":
        kind = "ok" if found.values else "no_answer"
    else:
        kind = _RCODE_KIND[found.rcode]
    if kind in _FAILED:
        return {"kind": kind, "addresses": [], "cname_chain": []}
    return {"kind": kind, "addresses": sorted(found.values) if kind == "ok" else [],
            "cname_chain": [target for _, target in found.chain]}
