"""One site's crawl state in Redis, so several workers can crawl the same site (issue 16).

A single crawl process keeps a site's state in `spiders.site._SiteState`: the URLs seen,
the waiting frontier, the page budget, pagers' last pages, the hosts its homepage
redirected to, event counts. In a distributed run with `[scale] share_from`, each site's
state is here instead, per (run, site), so a worker with nothing else to do can join a
site under way and take its waiting URLs, with the same budget and the same dedupe as
the one process that would crawl it alone.

Keys (`K` = `P:run:R:site:S`, P the key prefix, R the run, S the site):
- `K:seen` (set): every URL requested or waiting, and every redirect hop, as in `_SiteState.seen`.
  The URLs themselves, so the dedupe is exact: about 100-200 bytes of Redis memory a URL (a
  max_pages 2000 site with 10 links a page: a few MB, for the run's length);
- `K:cut` (set): URLs cut as traps (an event is said once for each);
- `K:frontier` (sorted set): waiting entries, member `<kind><url>` (kind "p" a page, "s" a
  linked style sheet), score `depth * 2**32 + order`, so the shallowest go first and, within a
  depth, the first offered (FIFO, as the single process's heap). An entry put back by `requeue`
  scores `depth * 2**32 - 2**31 + order`: ahead of its depth, behind the depth above. `order`
  stays below 2**31 and depth small, so every score is an exact double;
- `K:n` (hash): `pages`, `pending`, `scheduled`, `sheets`, `order`, `max_pages`, `cap`
  (fetches at most), `opened`, `ev:<kind>` (events said of each kind), `said_max_pages`, `pagers_v`,
  `forms` (link-form numbers reserved by the workers' ingests);
- `K:pagers` (hash): pager list key -> its last page, the largest learned by any worker;
- `K:hosts` (set): hosts the homepage redirected to, in the site's scope from then on;
- `K:flagged` (set): "<kind> <host>" said once (blocked, rate_limited);
- `K:inflight:<worker>` (hash): member -> state, the entries `worker` took and has not
  committed: "d:<depth>" requested, "a:<depth>" answered (no page), "p:<depth>" answered as a page.
  The crawl child adds an entry as it takes it and marks it answered; the worker's parent deletes
  it once the segment holding its record is committed to PostgreSQL. So a worker that dies
  leaves exactly what it took and did not store, and `requeue` puts that back.
- `K:workers` (set): the workers crawling the site now;
- `K:joined` (set): every worker that ever opened the site, so `forget` finds their inflight keys
  without a SCAN of the keyspace.

Every multi-key change is one Lua script. Redis errors propagate (redis.RedisError); the
caller maps them. Must not touch the database; imports redis only through the client given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

UNSHARED = "the shared crawl state in Redis does not answer"    # a shared crawl stopped by Redis: its reason
PAGE, SHEET = "p", "s"       # the kind of a frontier entry
ORDER_BITS = 32              # score = depth * 2**ORDER_BITS + order

_KEYS = ("seen", "cut", "frontier", "n", "pagers", "hosts", "flagged", "workers", "joined")
_FORGET_BATCH = 500

# SPAN and HALF are the score's depth unit and the requeued entries' offset; budget() is _SiteState.budget (the
# queue's join script asks it too: monitor.scale.queue).
PRELUDE = f"""
local SPAN, HALF = {2 ** ORDER_BITS}, {2 ** (ORDER_BITS - 1)}
local function counts(n)
  local v = redis.call('HMGET', n, 'pages', 'pending', 'scheduled', 'max_pages', 'cap')
  return tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0, tonumber(v[4]) or 0, tonumber(v[5]) or 0
end
local function budget(n)
  local pages, pending, scheduled, most, cap = counts(n)
  return pages + pending < most and scheduled < cap
end
"""
_OPEN = """
redis.call('HSETNX', KEYS[1], 'max_pages', ARGV[1])
redis.call('HSETNX', KEYS[1], 'cap', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[3])
return redis.call('HSETNX', KEYS[1], 'opened', 1)
"""
# A URL cut as a trap is not offered again, as _follow skips `state.cut`.
_OFFER = """
local base = tonumber(ARGV[1]) * SPAN
local added = {}
for i = 2, #ARGV do
  local url = ARGV[i]
  if redis.call('SISMEMBER', KEYS[3], url) == 0 and redis.call('SADD', KEYS[2], url) == 1 then
    redis.call('ZADD', KEYS[4], base + redis.call('HINCRBY', KEYS[1], 'order', 1), 'p' .. url)
    added[#added + 1] = url
  end
end
return added
"""
_TAKE = """
if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 0 then return {} end
local pages, pending, scheduled, most, cap = counts(KEYS[1])
local out, taken = {}, 0
while taken < tonumber(ARGV[2]) and pages + pending + taken < most and scheduled + taken < cap do
  local top = redis.call('ZPOPMIN', KEYS[2])
  if #top == 0 then break end
  local depth = math.floor((tonumber(top[2]) + HALF) / SPAN)
  redis.call('HSET', KEYS[3], top[1], 'd:' .. depth)
  out[#out + 1] = top[1]
  out[#out + 1] = depth
  taken = taken + 1
end
if taken > 0 then
  redis.call('HINCRBY', KEYS[1], 'pending', taken)
  redis.call('HINCRBY', KEYS[1], 'scheduled', taken)
end
return out
"""
_CLAIM_SHEETS = """
if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 0 then return {} end
local sheets, limit = tonumber(redis.call('HGET', KEYS[1], 'sheets')) or 0, tonumber(ARGV[3])
local out = {}
for i = 4, #ARGV do
  if sheets + #out >= limit then break end
  if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then
    redis.call('HSET', KEYS[3], 's' .. ARGV[i], 'd:' .. ARGV[2])
    out[#out + 1] = ARGV[i]
  end
end
if #out > 0 then
  for _, field in ipairs({'sheets', 'pending', 'scheduled'}) do redis.call('HINCRBY', KEYS[1], field, #out) end
end
return out
"""
_ANSWERED = """
local state = redis.call('HGET', KEYS[2], ARGV[1])
if not state or string.sub(state, 1, 2) ~= 'd:' then return 0 end
redis.call('HINCRBY', KEYS[1], 'pending', -1)
if ARGV[2] == '1' then
  redis.call('HINCRBY', KEYS[1], 'pages', 1)
  redis.call('HSET', KEYS[2], ARGV[1], 'p' .. string.sub(state, 2))
else
  redis.call('HSET', KEYS[2], ARGV[1], 'a' .. string.sub(state, 2))
end
return 1
"""
_LEARN_PAGERS = """
local most, changed = tonumber(ARGV[1]), false
for i = 2, #ARGV, 2 do
  local known, last = redis.call('HGET', KEYS[2], ARGV[i]), tonumber(ARGV[i + 1])
  if (known and last > tonumber(known)) or (not known and redis.call('HLEN', KEYS[2]) < most) then
    redis.call('HSET', KEYS[2], ARGV[i], last)
    changed = true
  end
end
if changed then redis.call('HINCRBY', KEYS[1], 'pagers_v', 1) end
return 0
"""
_PAGERS = """
local version = tonumber(redis.call('HGET', KEYS[1], 'pagers_v')) or 0
if version == tonumber(ARGV[1]) then return {version} end
return {version, redis.call('HGETALL', KEYS[2])}
"""
_MAX_PAGES_LEFT = """
local waiting = redis.call('ZCARD', KEYS[2])
if waiting == 0 or budget(KEYS[1]) or redis.call('HSETNX', KEYS[1], 'said_max_pages', 1) == 0 then return false end
return {redis.call('ZRANGE', KEYS[2], 0, 0)[1], waiting}
"""
# A call that finds the worker gone and nothing inflight changes nothing: a second reap of the same lease, or
# a leave after a reap, must not queue the site again. A done site never goes back to the queue.
_REQUEUE = """
local entries = redis.call('HGETALL', KEYS[3])
local put = 0
for i = 1, #entries, 2 do
  local state = entries[i + 1]
  local was = string.sub(state, 1, 1)
  if was == 'd' then
    redis.call('HINCRBY', KEYS[1], 'pending', -1)
  elseif was == 'p' then
    redis.call('HINCRBY', KEYS[1], 'pages', -1)
  end
  local order = redis.call('HINCRBY', KEYS[1], 'order', 1)
  redis.call('ZADD', KEYS[2], tonumber(string.sub(state, 3)) * SPAN - HALF + order, entries[i])
  put = put + 1
end
redis.call('DEL', KEYS[3])
local left = redis.call('SREM', KEYS[4], ARGV[1])
local done = redis.call('HEXISTS', KEYS[6], ARGV[2])
if (left == 0 and put == 0) or redis.call('SCARD', KEYS[4]) > 0 then return {put, done} end
local _, pending = counts(KEYS[1])
if pending == 0 and (redis.call('ZCARD', KEYS[2]) == 0 or not budget(KEYS[1])) then
  redis.call('HSETNX', KEYS[6], ARGV[2], ARGV[1])
  return {put, 1}
end
if done == 0 and not redis.call('LPOS', KEYS[5], ARGV[2]) then redis.call('LPUSH', KEYS[5], ARGV[2]) end
return {put, done}
"""


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


def _script(client: Any, source: str) -> Any:
    return client.register_script(PRELUDE + source)


def _requeue(client: Any, key: str, worker: str, site_id: str, todo_key: str, done_key: str) -> tuple[int, bool]:
    put, done = _script(client, _REQUEUE)(
        keys=[f"{key}:n", f"{key}:frontier", f"{key}:inflight:{worker}", f"{key}:workers", todo_key, done_key],
        args=[worker, site_id])
    return int(put), bool(done)


class SharedSite:
    """The shared state of one (run, site), as seen by `worker` (its name: inflight entries are per worker).

    `client` is a synchronous redis.Redis with decode_responses=True.
    """

    def __init__(self, client: Any, key: str, worker: str) -> None:
        self.client, self.key, self.worker = client, key, worker
        self._n, self._seen, self._cut, self._frontier = (f"{key}:{k}" for k in ("n", "seen", "cut", "frontier"))
        self._pagers, self._hosts, self._flagged = (f"{key}:{k}" for k in ("pagers", "hosts", "flagged"))
        self._workers, self._joined = f"{key}:workers", f"{key}:joined"
        self._inflight = f"{key}:inflight:{worker}"
        self._open, self._offer, self._take, self._claim_sheets, self._answered = (
            _script(client, s) for s in (_OPEN, _OFFER, _TAKE, _CLAIM_SHEETS, _ANSWERED))
        self._learn_pagers, self._get_pagers, self._max_pages_left = (
            _script(client, s) for s in (_LEARN_PAGERS, _PAGERS, _MAX_PAGES_LEFT))

    # -- the crawl child's side -------------------------------------------------------------------
    def open(self, max_pages: int, cap: int) -> bool:
        """Record the site's bounds (first call wins) and join its workers; True for the first process to open
        the site (it requests the homepage), False for a joiner (the homepage is offered already)."""
        return bool(self._open(keys=[self._n, self._workers, self._joined], args=[max_pages, cap, self.worker]))

    def offer(self, urls: Sequence[str], depth: int) -> list[str]:
        """Add to the frontier, as pages at `depth`, those of `urls` not seen yet (they are seen from now on)
        nor cut as traps, in the order given; the URLs added."""
        if not urls:
            return []
        return list(self._offer(keys=[self._n, self._seen, self._cut, self._frontier], args=[depth, *urls]))

    def take(self, n: int) -> list[Entry]:
        """Up to `n` waiting entries, shallowest first and FIFO within a depth, as far as the budget lets:
        each counts as pending and scheduled, and is this worker's inflight entry ("d:<depth>"). A worker that
        is not among the site's workers (reaped: its lease expired) gets none."""
        if n <= 0:
            return []
        flat = self._take(keys=[self._n, self._frontier, self._inflight, self._workers], args=[self.worker, n])
        return [Entry(member[1:], int(depth), member[0] == SHEET) for member, depth in zip(flat[::2], flat[1::2])]

    def claim_sheets(self, urls: Sequence[str], depth: int, limit: int) -> list[str]:
        """Of `urls` (linked style sheets), those not seen yet while fewer than `limit` sheets were claimed for
        the site: seen, counted as sheets, pending and scheduled, and this worker's inflight entries (kind
        SHEET, so `requeue` puts them back as sheets, at `depth`: the sheets' own, their page's plus one).
        The URLs claimed; none for a worker not among the site's workers, as `take`."""
        if not urls:
            return []
        return list(self._claim_sheets(keys=[self._n, self._seen, self._inflight, self._workers],
                                       args=[self.worker, depth, limit, *urls]))

    def answered(self, url: str, *, sheet: bool = False, page: bool = False) -> bool:
        """This worker's entry for `url` was answered (its callback ran to its end): no longer pending, a page
        counted when `page`. False (nothing changed) when it is not this worker's inflight entry any more
        (requeued after its lease expired: another worker answers for it now), or was answered already."""
        member = (SHEET if sheet else PAGE) + url
        return bool(self._answered(keys=[self._n, self._inflight], args=[member, int(page)]))

    def see(self, urls: Iterable[str]) -> bool:
        """The hops of a redirect: whether any was seen before; all are seen from now on."""
        hops = set(urls)
        return bool(hops) and self.client.sadd(self._seen, *hops) < len(hops)

    def cut(self, url: str) -> bool:
        """`url` is cut as a trap: True the first time for the site (the caller says the event)."""
        return bool(self.client.sadd(self._cut, url))

    def event(self, kind: str, limit: int) -> bool:
        """Count one event of `kind`: True while at most `limit` were counted (the caller says it)."""
        return int(self.client.hincrby(self._n, f"ev:{kind}", 1)) <= limit

    def flag(self, kind: str, host: str) -> bool:
        """True the first time `host` is flagged `kind` for the site (blocked, rate_limited)."""
        return bool(self.client.sadd(self._flagged, f"{kind} {host}"))

    def learn_pagers(self, last_pages: Sequence[tuple[str, int]], most: int) -> None:
        """Each list's last page, the largest wins; at most `most` lists are remembered."""
        if last_pages:
            self._learn_pagers(keys=[self._n, self._pagers],
                               args=[most, *(x for key, last in last_pages for x in (key, last))])

    def pagers(self, since: int) -> tuple[int, dict[str, int] | None]:
        """(version, the lists' last pages) when they changed since version `since`, else (since, None)."""
        got = self._get_pagers(keys=[self._n, self._pagers], args=[since])
        if len(got) == 1:
            return since, None
        flat = got[1]
        return int(got[0]), {key: int(last) for key, last in zip(flat[::2], flat[1::2])}

    def add_host(self, host: str) -> None:
        """The homepage redirected to `host`: in the site's scope for every worker from now on."""
        self.client.sadd(self._hosts, host)

    def hosts(self) -> set[str]:
        return set(self.client.smembers(self._hosts))

    def status(self) -> Status:
        pipe = self.client.pipeline(transaction=True)
        pipe.zcard(self._frontier)
        pipe.hmget(self._n, "pages", "pending", "scheduled", "max_pages", "cap")
        waiting, values = pipe.execute()
        pages, pending, scheduled, most, cap = (int(v or 0) for v in values)
        return Status(int(waiting), pending, pages + pending < most and scheduled < cap)

    def max_pages_left(self) -> tuple[str, int] | None:
        """Once for the site, when max_pages held URLs back (waiting entries and no budget): the first waiting
        URL and how many wait. None otherwise, and for every later caller."""
        got = self._max_pages_left(keys=[self._n, self._frontier])
        return None if got is None else (got[0][1:], int(got[1]))

    # -- the worker's side (its parent process) -----------------------------------------------------
    def reserve_forms(self, count: int) -> int:
        """The first of `count` link-form numbers reserved for this worker's ingest of the site, numbers no other
        worker's ingest gets (monitor.ingest numbers a site's distinct links)."""
        return int(self.client.hincrby(self._n, "forms", count)) - count

    def committed(self, urls: Iterable[str]) -> None:
        """The records of `urls` are committed to PostgreSQL: drop this worker's inflight entries for them
        (a URL taken as a page or as a sheet alike)."""
        members = [kind + url for url in urls for kind in (PAGE, SHEET)]
        if members:
            self.client.hdel(self._inflight, *members)

    def leave(self, site_id: str, todo_key: str, done_key: str) -> bool:
        """This worker stops crawling the site: its inflight entries left (none when every record was
        committed) are put back, it leaves the site's workers. When no worker is left: a settled site is
        done (`HSETNX done_key site_id worker`, True), any other goes back to the run's queue for a worker
        to join (`LPUSH todo_key site_id` unless it is in it, or done). Whether the site is done."""
        return _requeue(self.client, self.key, self.worker, site_id, todo_key, done_key)[1]


def requeue(client: Any, key: str, worker: str, site_id: str, todo_key: str, done_key: str) -> int:
    """Put `worker`'s inflight entries of the site back (its lease expired: dead or stalled): each goes back
    to the frontier at its depth and kind, ahead of entries of the same depth; one not answered is no longer
    pending, one answered as a page no longer counts as one. `worker` leaves the site's workers, and when
    none is left the site is done or queued as `leave` does it (the done worker recorded is `worker`'s:
    whoever stored the site's last record). Idempotent: a worker with nothing inflight changes nothing but
    the workers set. How many entries were put back."""
    return _requeue(client, key, worker, site_id, todo_key, done_key)[0]


def forget(client: Any, prefix: str, run_id: str, site_ids: Iterable[str]) -> None:
    """Delete every key of the sites `site_ids` of run `run_id` (the run is closed). The inflight keys are
    found through `K:joined`, every worker that ever opened the site."""
    keys = [site_key(prefix, run_id, site_id) for site_id in site_ids]
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.smembers(f"{key}:joined")
    doomed = [f"{key}:{k}" for key, joined in zip(keys, pipe.execute()) for k in
              (*_KEYS, *(f"inflight:{worker}" for worker in joined))]
    for start in range(0, len(doomed), _FORGET_BATCH):
        client.unlink(*doomed[start:start + _FORGET_BATCH])
