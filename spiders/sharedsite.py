"""One site's crawl state in Redis, so several workers can crawl the same site (issue 16).

A single crawl process keeps a site's state in `spiders.site._SiteState`: the URLs seen,
the waiting frontier, the page budget, pagers' last pages, the hosts its homepage
redirected to, event counts. In a distributed run with `[scale] share_from`, each site's
state is here instead, per (run, site), so a worker with nothing else to do can join a
site under way and take its waiting URLs, with the same budget and the same dedupe as
the one process that would crawl it alone.

Keys (`K` = `P:run:R:site:S`, P the key prefix, R the run, S the site):
- `K:seen` (set): every URL requested or waiting, and every redirect hop, as in `_SiteState.seen`;
- `K:cut` (set): URLs cut as traps (an event is said once for each);
- `K:frontier` (sorted set): waiting entries, member `<kind><url>` (kind "p" a page, "s" a
  linked style sheet), score `depth * 2**32 + order`, so the shallowest go first and, within a
  depth, the first offered (FIFO, as the single process's heap);
- `K:n` (hash): `pages`, `pending`, `scheduled`, `sheets`, `order`, `max_pages`, `cap`
  (fetches at most), `opened`, `ev:<kind>` (events said of each kind), `said_max_pages`, `pagers_v`;
- `K:pagers` (hash): pager list key -> its last page, the largest learned by any worker;
- `K:hosts` (set): hosts the homepage redirected to, in the site's scope from then on;
- `K:flagged` (set): "<kind> <host>" said once (blocked, rate_limited);
- `K:inflight:<worker>` (hash): member -> state, the entries `worker` took and has not
  committed: "d:<depth>" requested, "a:<depth>" answered (no page), "p:<depth>" answered as a page.
  The crawl child adds an entry as it takes it and marks it answered; the worker's parent deletes
  it once the segment holding its record is committed to PostgreSQL. So a worker that dies
  leaves exactly what it took and did not store, and `requeue` puts that back.
- `K:workers` (set): the workers crawling the site now.

Every multi-key change is one Lua script. Redis errors propagate (redis.RedisError); the
caller maps them. Must not touch the database; imports redis only through the client given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

PAGE, SHEET = "p", "s"       # the kind of a frontier entry
ORDER_BITS = 32              # score = depth * 2**ORDER_BITS + order


def site_key(prefix: str, run_id: str, site_id: str) -> str:
    """`K` of a (run, site)."""
    return f"{prefix}:run:{run_id}:site:{site_id}"


@dataclass(frozen=True)
class Entry:
    """A frontier entry taken: the URL, its depth, and whether it is a linked style sheet."""

    url: str
    depth: int
    sheet: bool = False


@dataclass(frozen=True)
class Status:
    """A site's shared state at one moment."""

    waiting: int        # entries in the frontier
    pending: int        # entries taken and not answered, by every worker
    budget: bool        # pages + pending < max_pages and scheduled < cap: one more may be taken

    @property
    def settled(self) -> bool:
        """Nothing of the site will come again unless a dead worker's entries are put back: nothing is
        pending, and nothing waits that the budget would let out."""
        return self.pending == 0 and (self.waiting == 0 or not self.budget)


class SharedSite:
    """The shared state of one (run, site), as seen by `worker` (its name: inflight entries are per worker).

    `client` is a synchronous redis.Redis with decode_responses=True.
    """

    def __init__(self, client: Any, key: str, worker: str) -> None:
        raise NotImplementedError

    # -- the crawl child's side -------------------------------------------------------------------
    def open(self, max_pages: int, cap: int) -> bool:
        """Record the site's bounds (first call wins) and join its workers; True for the first process to open
        the site (it requests the homepage), False for a joiner (the homepage is offered already)."""
        raise NotImplementedError

    def offer(self, urls: Sequence[str], depth: int) -> list[str]:
        """Add to the frontier, as pages at `depth`, those of `urls` not seen yet (they are seen from now on),
        in the order given; the URLs added."""
        raise NotImplementedError

    def take(self, n: int) -> list[Entry]:
        """Up to `n` waiting entries, shallowest first and FIFO within a depth, as far as the budget lets:
        each counts as pending and scheduled, and is this worker's inflight entry ("d:<depth>"). A worker that
        is not among the site's workers (reaped: its lease expired) gets none."""
        raise NotImplementedError

    def claim_sheets(self, urls: Sequence[str], depth: int, limit: int) -> list[str]:
        """Of `urls` (linked style sheets), those not seen yet while fewer than `limit` sheets were claimed for
        the site: seen, counted as sheets, pending and scheduled, and this worker's inflight entries (kind
        SHEET, so `requeue` puts them back as sheets). The URLs claimed."""
        raise NotImplementedError

    def answered(self, url: str, *, sheet: bool = False, page: bool = False) -> bool:
        """This worker's entry for `url` was answered (its callback ran to its end): no longer pending, a page
        counted when `page`. False (nothing changed) when it is not this worker's inflight entry any more
        (requeued after its lease expired: another worker answers for it now)."""
        raise NotImplementedError

    def see(self, urls: Iterable[str]) -> bool:
        """The hops of a redirect: whether any was seen before; all are seen from now on."""
        raise NotImplementedError

    def cut(self, url: str) -> bool:
        """`url` is cut as a trap: True the first time for the site (the caller says the event)."""
        raise NotImplementedError

    def event(self, kind: str, limit: int) -> bool:
        """Count one event of `kind`: True while at most `limit` were counted (the caller says it)."""
        raise NotImplementedError

    def flag(self, kind: str, host: str) -> bool:
        """True the first time `host` is flagged `kind` for the site (blocked, rate_limited)."""
        raise NotImplementedError

    def learn_pagers(self, last_pages: Sequence[tuple[str, int]], most: int) -> None:
        """Each list's last page, the largest wins; at most `most` lists are remembered."""
        raise NotImplementedError

    def pagers(self, since: int) -> tuple[int, dict[str, int] | None]:
        """(version, the lists' last pages) when they changed since version `since`, else (since, None)."""
        raise NotImplementedError

    def add_host(self, host: str) -> None:
        """The homepage redirected to `host`: in the site's scope for every worker from now on."""
        raise NotImplementedError

    def hosts(self) -> set[str]:
        raise NotImplementedError

    def status(self) -> Status:
        raise NotImplementedError

    def max_pages_left(self) -> tuple[str, int] | None:
        """Once for the site, when max_pages held URLs back (waiting entries and no budget): the first waiting
        URL and how many wait. None otherwise, and for every later caller."""
        raise NotImplementedError

    # -- the worker's side (its parent process) -----------------------------------------------------
    def committed(self, urls: Iterable[str]) -> None:
        """The records of `urls` are committed to PostgreSQL: drop this worker's inflight entries for them
        (a URL taken as a page or as a sheet alike)."""
        raise NotImplementedError

    def leave(self, site_id: str, todo_key: str, done_key: str) -> bool:
        """This worker stops crawling the site: its inflight entries left (none when every record was
        committed) are put back, it leaves the site's workers. When no worker is left: a settled site is
        done (`HSETNX done_key site_id worker`, True), any other goes back to the run's queue for a worker
        to join (`LPUSH todo_key site_id` unless it is in it). Whether the site is done."""
        raise NotImplementedError


def requeue(client: Any, key: str, worker: str, site_id: str, todo_key: str, done_key: str) -> int:
    """Put `worker`'s inflight entries of the site back (its lease expired: dead or stalled): each goes back
    to the frontier at its depth and kind, ahead of entries of the same depth; one not answered is no longer
    pending, one answered as a page no longer counts as one. `worker` leaves the site's workers, and when
    none is left the site is done or queued as `leave` does it (the done worker recorded is `worker`'s:
    whoever stored the site's last record). Idempotent: a worker with nothing inflight changes nothing but
    the workers set. How many entries were put back."""
    raise NotImplementedError
