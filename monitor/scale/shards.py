"""The link check of a run cut into shards by host, and a shard's input as text for the queue.

A host's targets stay in one shard: its pacing, refusal count, robots.txt and 404
fingerprint are then one checker's, as in the single-process check, so a shard's
outcomes are the ones that check gives. Each shard carries what the check needs
of the run for its targets: what the crawl knew of them and what the early check
(monitor.prefetch, on the coordinator) decided. Pure: no Redis, no database, no requests.
"""

from __future__ import annotations

import base64
import heapq
import json
import math
import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urldefrag, urlsplit

from checks.snapshot import LinkTarget
from monitor.linkcheck import KnownPage, Prechecked, TargetToCheck

SHARD_TARGETS = 1_000   # targets a shard holds before the check is cut into more shards
MIN_SHARDS = 8          # a small run still gives several workers something to check


@dataclass(frozen=True)
class Shard:
    """Targets of some hosts, in the run's order, with the crawl's and the early check's knowledge of them."""

    targets: tuple[TargetToCheck, ...]
    known: Mapping[str, KnownPage]
    prechecked: Mapping[str, Prechecked]

    def hosts(self) -> list[str]:
        return sorted({host_of(t.url) for t in self.targets})


def host_of(url: str) -> str:
    """The host a target's requests go to ("" for one that makes none: mailto:, a malformed href)."""
    try:
        return (urlsplit(urldefrag(url.strip())[0]).hostname or "").lower()
    except ValueError:
        return ""


def split(targets: Sequence[TargetToCheck], known: Mapping[str, KnownPage],
          prechecked: Mapping[str, Prechecked], size: int = SHARD_TARGETS) -> list[Shard]:
    """The targets in shards of whole hosts, about `size` targets each (a bigger host is one shard),
    the largest first; each target keeps its place in the run's order within its shard."""
    by_host: dict[str, list[int]] = defaultdict(list)
    for n, target in enumerate(targets):
        by_host[host_of(target.url)].append(n)
    count = min(len(by_host), max(MIN_SHARDS, math.ceil(len(targets) / size)))
    loads = [(0, i) for i in range(count)]   # (targets, shard): the hosts go to the emptiest, largest first
    members: list[list[int]] = [[] for _ in range(count)]
    for host in sorted(by_host, key=lambda h: (-len(by_host[h]), h)):
        load, i = heapq.heappop(loads)
        members[i].extend(by_host[host])
        heapq.heappush(loads, (load + len(by_host[host]), i))
    shards = []
    for indices in sorted(members, key=len, reverse=True):
        chosen = tuple(targets[n] for n in sorted(indices))
        urls = {urldefrag(t.url.strip())[0] for t in chosen} | {t.url for t in chosen}
        shards.append(Shard(chosen, {u: known[u] for u in urls if u in known},
                            {u: prechecked[u] for u in urls if u in prechecked}))
    return shards


def encode(shard: Shard) -> str:
    """The shard as compact text (JSON, deflated, base64) for a Redis hash."""
    data = {
        "targets": [[t.url, sorted(t.tags), sorted(t.sites), t.over_limit, t.timeout_s, t.retries]
                    for t in shard.targets],
        "known": {u: [k.url, k.final_url, k.status, k.fetch_kind, k.title, k.content_type]
                  for u, k in shard.known.items()},
        "prechecked": {u: [_target(p.result), p.timeout_s, p.retries] for u, p in shard.prechecked.items()},
    }
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")


def decode(text: str) -> Shard:
    """The shard `encode` wrote; ValueError when the text is not one."""
    try:
        data = json.loads(zlib.decompress(base64.b64decode(text)))
        targets = tuple(TargetToCheck(url, frozenset(tags), frozenset(sites), over, timeout, retries)
                        for url, tags, sites, over, timeout, retries in data["targets"])
        known = {u: KnownPage(*fields) for u, fields in data["known"].items()}
        prechecked = {u: Prechecked(LinkTarget(*result), timeout, retries)
                      for u, (result, timeout, retries) in data["prechecked"].items()}
    except (ValueError, zlib.error, KeyError, TypeError) as exc:   # binascii and JSON errors are ValueErrors
        raise ValueError(f"not a link-check shard: {type(exc).__name__}: {exc}") from None
    return Shard(targets, known, prechecked)


def _target(t: LinkTarget) -> list[object]:
    return [t.url, t.outcome, t.http_status, t.attempts, t.final_url, t.detail]
