"""The Redis side of a distributed run: its sites to crawl, the leases on them, who crawled what.

A queued run has a stage: `crawl` (its items are site ids), `links` (its items are
shards of the link check, queued as run `R/links` once the crawl is done; each
shard's input is in `P:run:R/links:items`) or `judge` (site ids again, queued as run
`R/judge` once the links are checked, each with its input: the run's IPv6 route and
what was gathered of the site). Every stage leases, renews, reaps and finishes its items
the same way.

Keys (prefix `P` from [scale] key_prefix, run id `R`): `P:runs` (the open runs),
`P:run:R` (config digest, govmon version, stage, sites, opened), `P:run:R:alive` (the coordinator is there;
expires), `P:run:R:todo` (sites waiting), `P:run:R:leased` (site → worker),
`P:run:R:lease:<site>` (the worker holding it; expires after lease_s unless
renewed), `P:run:R:done` (site → worker), `P:run:R:failed` (site → reason),
`P:run:R:refused` (worker → why it does not work on the run), `P:run:R:items` (item → its
input, for a stage whose items need one), and `P:worker:<name>`
(a worker is up; expires unless it announces itself again). A shared crawl (`share_from` > 0,
spiders/sharedsite.py) leases a site per worker: `leased` and the lease keys hold `site|worker`,
and each site's crawl state is under `P:run:R:site:<site>`.
Every change of more than one key is one Lua script, so two processes never
see a site half moved. A lease is scheduling only: the PostgreSQL fence
(monitor.scale.fence) decides who may write a site's rows.

Maps redis-py's errors once, to QueueError. Must not touch the database.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import redis
import redis.exceptions

from monitor import __version__
from spiders import sharedsite

# What a run records as its workers' version: govmon's, and the queue's layout, which changed within 0.1.0
# (queue 2: the link check's shards beside the sites; queue 3: the judge stage, whose items are site ids
# that an older worker would crawl again), so a worker of an older layout refuses the run.
WIRE_VERSION = f"{__version__} (queue 4)"

log = logging.getLogger(__name__)

ALIVE_LEASES = 3   # the coordinator's alive key outlives this many leases without a refresh

_TAKE = """
local out = {}
for i = 1, tonumber(ARGV[2]) do
  local site = redis.call('LPOP', KEYS[1])
  if not site then break end
  redis.call('SET', ARGV[4] .. site, ARGV[1], 'PX', ARGV[3])
  redis.call('HSET', KEYS[2], site, ARGV[1])
  table.insert(out, site)
end
return out
"""
# A shared run (share_from > 0): a site's leases are per worker, `site|worker` in `leased` and in the lease key's
# name. First the waiting sites; then, for the room left, the sites under way whose shared frontier holds at
# least share_from URLs that their page budget still lets out (spiders.sharedsite) and that this worker is not
# on yet, the largest frontier first.
_TAKE_SHARED = sharedsite.PRELUDE + """
local out, mine = {}, {}
local function lease(site)
  local item = site .. '|' .. ARGV[1]
  redis.call('SET', ARGV[4] .. item, ARGV[1], 'PX', ARGV[3])
  redis.call('HSET', KEYS[2], item, ARGV[1])
  mine[site] = true
  table.insert(out, site)
end
local n = tonumber(ARGV[2])
while #out < n do
  local site = redis.call('LPOP', KEYS[1])
  if not site then break end
  if not mine[site] then lease(site) end
end
local from = tonumber(ARGV[6])
if #out < n and from > 0 then
  local others = {}
  for _, item in ipairs(redis.call('HKEYS', KEYS[2])) do
    local bar = string.find(item, '|', 1, true)
    local site, worker = string.sub(item, 1, bar - 1), string.sub(item, bar + 1)
    if worker == ARGV[1] then mine[site] = true else others[site] = true end
  end
  local open = {}
  for site in pairs(others) do
    if not mine[site] then
      local size = redis.call('ZCARD', ARGV[5] .. site .. ':frontier')
      if size >= from and budget(ARGV[5] .. site .. ':n') then table.insert(open, {site, size}) end
    end
  end
  table.sort(open, function(a, b) return a[2] > b[2] or (a[2] == b[2] and a[1] < b[1]) end)
  for i = 1, math.min(#open, n - #out) do lease(open[i][1]) end
end
return out
"""
# Leases whose key expired: the site goes back to the head of the queue unless it is done. A shared run's
# expired `site|worker` leases are returned apart: the caller puts the worker's entries of the site back first
# (spiders.sharedsite.requeue), then forgets the lease (_FORGET), so a caller dying in between loses nothing.
_REAP = """
local leased = redis.call('HGETALL', KEYS[1])
local back, shared = {}, {}
for i = 1, #leased, 2 do
  local site = leased[i]
  if redis.call('EXISTS', ARGV[1] .. site) == 0 then
    if string.find(site, '|', 1, true) then
      table.insert(shared, site)
    else
      redis.call('HDEL', KEYS[1], site)
      if redis.call('HEXISTS', KEYS[3], site) == 0 then
        redis.call('LPUSH', KEYS[2], site)
        table.insert(back, site)
        table.insert(back, leased[i + 1])
      end
    end
  end
end
return {back, shared}
"""
_FORGET = """
for i = 1, #ARGV - 1 do
  if redis.call('EXISTS', ARGV[#ARGV] .. ARGV[i]) == 0 then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 1
"""
_LET_GO = """
if redis.call('GET', ARGV[2] .. ARGV[3]) == ARGV[1] then redis.call('DEL', ARGV[2] .. ARGV[3]) end
redis.call('HDEL', KEYS[1], ARGV[3])
return 1
"""
_RENEW = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local lost = 0
for i = 4, #ARGV do
  if redis.call('GET', ARGV[2] .. ARGV[i]) == ARGV[1] then
    redis.call('PEXPIRE', ARGV[2] .. ARGV[i], ARGV[3])
  else
    lost = lost + 1
  end
end
return lost
"""
# A shared run: a lease that expired (its worker stalled, and may have been reaped) is taken again and the
# worker is (back) among the site's workers, so its crawl of the site goes on; what was put back meanwhile is
# taken by whoever comes first. A worker renews only the sites it has not left.
_RENEW_SHARED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local lost = 0
for i = 5, #ARGV do
  local item = ARGV[i] .. '|' .. ARGV[1]
  if redis.call('GET', ARGV[2] .. item) == ARGV[1] then
    redis.call('PEXPIRE', ARGV[2] .. item, ARGV[3])
  else
    redis.call('SET', ARGV[2] .. item, ARGV[1], 'PX', ARGV[3])
    redis.call('HSET', KEYS[2], item, ARGV[1])
    lost = lost + 1
  end
  redis.call('SADD', ARGV[4] .. ARGV[i] .. ':workers', ARGV[1])
end
return lost
"""
# A site crawled whole under the fence is done even if its lease expired meanwhile: take it out of
# the queue; a worker that leased it since sees it done once it holds the fence, and lets go.
# An item finished twice (a link shard whose slow worker outlived its lease) stays done by the first.
_DONE = """
if redis.call('EXISTS', KEYS[4]) == 0 then return 0 end
for i = 3, #ARGV do
  local site = ARGV[i]
  redis.call('HSETNX', KEYS[3], site, ARGV[1])
  redis.call('LREM', KEYS[1], 0, site)
  if redis.call('GET', ARGV[2] .. site) == ARGV[1] then
    redis.call('DEL', ARGV[2] .. site)
    redis.call('HDEL', KEYS[2], site)
  end
end
return 1
"""
# Only while the run is queued: a run that left the queue gets no key back.
_SET_IF_OPEN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
"""
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[4]) == 0 then return 0 end
for i = 3, #ARGV do
  local site = ARGV[i]
  if redis.call('GET', ARGV[2] .. site) == ARGV[1] then
    redis.call('DEL', ARGV[2] .. site)
    redis.call('HDEL', KEYS[2], site)
    if redis.call('HEXISTS', KEYS[3], site) == 0 then redis.call('LPUSH', KEYS[1], site) end
  end
end
return 1
"""


class QueueError(Exception):
    """Redis could not be reached or refused a command; the message names the server."""


CRAWL, LINKS, JUDGE = "crawl", "links", "judge"   # the stages of a run in the queue


def links_of(run_id: str) -> str:
    """The queue's name for the link-check stage of run `run_id`."""
    return f"{run_id}/{LINKS}"


def judge_of(run_id: str) -> str:
    """The queue's name for the judge stage (probes, evaluation, results) of run `run_id`."""
    return f"{run_id}/{JUDGE}"


def run_of(queued: str) -> str:
    """The run a queued stage belongs to (the inverse of links_of and judge_of; a crawl stage is named as its
    run)."""
    return queued.removesuffix(f"/{LINKS}").removesuffix(f"/{JUDGE}")


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    digest: str
    version: str
    sites: int
    stage: str = CRAWL
    share_from: int = 0


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    by_worker: tuple[tuple[str, int], ...]   # (worker, sites done), most first
    leased: int
    waiting: int

    def describe(self) -> str:
        workers = ", ".join(f"{worker} {n}" for worker, n in self.by_worker)
        return f"sites crawled {self.done}/{self.total}" + (f" ({workers})" if workers else "")


def connect(url: str) -> redis.Redis:
    """A client for the [scale] redis_url; QueueError when the server does not answer."""
    client = redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=30, health_check_interval=30,
                                  decode_responses=True)
    _call(client, "ping", what=url)
    return client


def where(client: redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"


def _failed(client: redis.Redis, exc: redis.exceptions.RedisError, what: str = "") -> QueueError:
    """The one mapping of redis-py's errors: which server, and what went wrong."""
    return QueueError(f"Redis at {what or where(client)}: {type(exc).__name__}: {exc}")


def _call(client: redis.Redis, method: str, *args: Any, what: str = "", **kwargs: Any) -> Any:
    with mapped(client, what):
        return getattr(client, method)(*args, **kwargs)


@contextlib.contextmanager
def mapped(client: redis.Redis, what: str = "") -> Iterator[None]:
    """redis-py's errors inside as QueueError (`_failed`), for calls made through another module's scripts."""
    try:
        yield
    except redis.exceptions.RedisError as exc:
        raise _failed(client, exc, what) from None


class Queue:
    """The open runs of one key prefix."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client, self.prefix = client, prefix

    def run(self, run_id: str) -> RunQueue:
        return RunQueue(self, run_id)

    def open_runs(self) -> list[str]:
        return sorted(_call(self.client, "smembers", f"{self.prefix}:runs"))

    def announce(self, worker: str, ttl_s: float) -> None:
        """`worker` is up, for the next `ttl_s` seconds."""
        self.call("set", f"{self.prefix}:worker:{worker}", "1", px=_ms(ttl_s))

    def workers(self) -> list[str]:
        """The workers that announced themselves lately."""
        start = len(f"{self.prefix}:worker:")
        try:
            return sorted(key[start:] for key in self.client.scan_iter(match=f"{self.prefix}:worker:*", count=1000))
        except redis.exceptions.RedisError as exc:
            raise _failed(self.client, exc) from None

    def forget_dead(self) -> list[str]:
        """Remove the keys of open runs whose coordinator is gone (killed before it could close them)."""
        dead = []
        for run_id in self.open_runs():
            run = self.run(run_id)
            if not self.call("exists", run.alive):
                run.share_from = int(self.call("hget", run.key, "share_from") or 0)
                leased = list(self.call("hkeys", run.leased))
                if run.share_from:   # every site with crawl state: leased (`site|worker`), done or queued again
                    sites = {p.partition("|")[0] for p in leased}
                    sites |= {*self.call("hkeys", run.done_key), *self.call("lrange", run.todo, 0, -1)}
                    leased = sorted(sites)
                run.close(leased)
                dead.append(run_id)
        return dead

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _call(self.client, method, *args, **kwargs)

    def script(self, source: str, keys: list[str], args: list[Any]) -> Any:
        try:
            return self.client.eval(source, len(keys), *keys, *args)
        except redis.exceptions.RedisError as exc:
            raise _failed(self.client, exc) from None


class RunQueue:
    """One run's sites in the queue."""

    def __init__(self, queue: Queue, run_id: str) -> None:
        self.queue, self.run_id = queue, run_id
        self.key = f"{queue.prefix}:run:{run_id}"
        self.todo, self.leased, self.done_key, self.failed_key, self.refused = (
            f"{self.key}:{k}" for k in ("todo", "leased", "done", "failed", "refused"))
        self.alive, self.lease_prefix = f"{self.key}:alive", f"{self.key}:lease:"
        self.items = f"{self.key}:items"
        self.share_from = 0     # > 0: a shared run (spiders.sharedsite); set by `open`, or from `info`

    # The coordinator's side.
    def open(self, digest: str, sites: list[str], lease_s: float, version: str = WIRE_VERSION, *,
             stage: str = CRAWL, inputs: Mapping[str, str] | None = None, share_from: int = 0) -> None:
        """Queue `sites` for the run (any earlier keys of the run id are dropped first); `inputs`: each
        item's input, which a worker reads with `input_of`; `share_from` > 0: a shared crawl, whose workers join
        sites under way with that many URLs waiting."""
        self.close(sites)
        self.share_from = share_from
        pipe = self.queue.client.pipeline()
        pipe.hset(self.key, mapping={"digest": digest, "version": version, "sites": len(sites), "stage": stage,
                                     "opened": time.time(), "share_from": share_from})
        if inputs:
            pipe.hset(self.items, mapping=dict(inputs))
        if sites:
            pipe.rpush(self.todo, *sites)
        pipe.set(self.alive, "1", px=_ms(lease_s * ALIVE_LEASES))
        pipe.sadd(f"{self.queue.prefix}:runs", self.run_id)
        try:
            pipe.execute()
        except redis.exceptions.RedisError as exc:
            raise _failed(self.queue.client, exc) from None

    def keep_alive(self, lease_s: float) -> bool:
        """Refresh the coordinator's presence; False when the run's keys are gone (Redis lost them)."""
        if not self.queue.call("exists", self.key):
            return False
        self.queue.call("set", self.alive, "1", px=_ms(lease_s * ALIVE_LEASES))
        return True

    def close(self, sites: list[str]) -> None:
        """Take the run out of the queue with every key it has; workers holding its sites see it gone."""
        pairs = [p for p in self.queue.call("hkeys", self.leased) if "|" in p] if self.share_from else []
        keys = [self.key, self.alive, self.todo, self.leased, self.done_key, self.failed_key, self.refused,
                self.items, *(self.lease_prefix + s for s in (*sites, *pairs))]
        self.queue.call("srem", f"{self.queue.prefix}:runs", self.run_id)
        self.queue.call("delete", *keys)
        if self.share_from:
            with mapped(self.queue.client):
                sharedsite.forget(self.queue.client, self.queue.prefix, self.run_id, sites)

    def reap(self) -> list[tuple[str, str]]:
        """Put back the sites whose lease expired (their worker died or stalled): (site, worker) each. In a
        shared run, a worker's entries of the site go back to its frontier, and the site to the queue when no
        worker is left on it."""
        back, shared = self.queue.script(_REAP, [self.leased, self.todo, self.done_key], [self.lease_prefix])
        pairs = list(zip(back[::2], back[1::2]))
        for site, worker in pairs:
            log.warning("run %s: the lease of %s on site %s expired; the site is queued again",
                        self.run_id, worker, site)
        for item in shared:
            site, _, worker = item.partition("|")
            with mapped(self.queue.client):
                n = sharedsite.requeue(self.queue.client, self.site_key(site), worker, site, self.todo,
                                       self.done_key)
            log.warning("run %s: the lease of %s on site %s expired; its %d URLs under way are queued again",
                        self.run_id, worker, site, n)
            pairs.append((site, worker))
        if shared:
            self.queue.script(_FORGET, [self.leased], [*shared, self.lease_prefix])
        return pairs

    def site_key(self, site: str) -> str:
        """The key of a site's shared crawl state (spiders.sharedsite)."""
        return sharedsite.site_key(self.queue.prefix, self.run_id, site)

    def progress(self) -> Progress:
        pipe = self.queue.client.pipeline()
        pipe.hget(self.key, "sites").hvals(self.done_key).hlen(self.leased).llen(self.todo)
        try:
            total, done, leased, waiting = pipe.execute()
        except redis.exceptions.RedisError as exc:
            raise _failed(self.queue.client, exc) from None
        by_worker = tuple(sorted(Counter(done).items(), key=lambda item: (-item[1], item[0])))
        return Progress(int(total or 0), len(done), by_worker, int(leased), int(waiting))

    def failures(self) -> dict[str, str]:
        return dict(self.queue.call("hgetall", self.failed_key))

    def refusals(self) -> dict[str, str]:
        """Workers that refused the run: worker → why."""
        return dict(self.queue.call("hgetall", self.refused))

    def done_by(self) -> dict[str, str]:
        return dict(self.queue.call("hgetall", self.done_key))

    def leases(self) -> dict[str, str]:
        return dict(self.queue.call("hgetall", self.leased))

    # A worker's side.
    def info(self) -> RunInfo | None:
        """The run as queued; None when it is not open or its coordinator is gone."""
        data = self.queue.call("hgetall", self.key)
        if not data or not self.queue.call("exists", self.alive):
            return None
        self.share_from = int(data.get("share_from", 0))
        return RunInfo(self.run_id, data.get("digest", ""), data.get("version", ""), int(data.get("sites", 0)),
                       data.get("stage", CRAWL), self.share_from)

    def input_of(self, item: str) -> str | None:
        """The input queued with `item`; None when the run has left the queue."""
        found = self.queue.call("hget", self.items, item)
        return None if found is None else str(found)

    def take(self, worker: str, n: int, lease_s: float) -> list[str]:
        """Lease up to `n` waiting sites for `worker` (in a shared run, then sites under way to join)."""
        if self.share_from:
            return list(self.queue.script(_TAKE_SHARED, [self.todo, self.leased], [
                worker, n, _ms(lease_s), self.lease_prefix, self.site_key(""), self.share_from]))
        return list(self.queue.script(_TAKE, [self.todo, self.leased], [worker, n, _ms(lease_s), self.lease_prefix]))

    def renew(self, worker: str, sites: list[str], lease_s: float) -> int | None:
        """Extend `worker`'s leases on `sites`; how many it no longer holds, None when the run is gone
        (closed, or its coordinator silent for ALIVE_LEASES leases: nobody would judge the crawl). In a shared
        run a lease lost is taken again, the worker back on the site."""
        if self.share_from:
            lost = self.queue.script(_RENEW_SHARED, [self.alive, self.leased],
                                     [worker, self.lease_prefix, _ms(lease_s), self.site_key(""), *sites])
        else:
            lost = self.queue.script(_RENEW, [self.alive], [worker, self.lease_prefix, _ms(lease_s), *sites])
        return None if int(lost) < 0 else int(lost)

    def finish(self, worker: str, sites: list[str]) -> bool:
        """`sites` are crawled and stored whole by `worker`; False when the run has left the queue
        (or its coordinator is gone): then nothing is recorded."""
        if not sites:
            return True
        if self.share_from:
            return self.leave(worker, sites)
        keys = [self.todo, self.leased, self.done_key, self.alive]
        return bool(self.queue.script(_DONE, keys, [worker, self.lease_prefix, *sites]))

    def leave(self, worker: str, sites: list[str]) -> bool:
        """A shared run: `worker` stops crawling `sites` (spiders.sharedsite.SharedSite.leave: what it took and
        did not store goes back; the last worker of a settled site marks it done, of any other queues it
        again); False when the run has left the queue."""
        if not self.queue.call("exists", self.alive):
            return False
        client = self.queue.client
        for site in sites:
            with mapped(client):
                sharedsite.SharedSite(client, self.site_key(site), worker).leave(site, self.todo, self.done_key)
            self.queue.script(_LET_GO, [self.leased], [worker, self.lease_prefix, f"{site}|{worker}"])
        return True

    def give_back(self, worker: str, sites: list[str]) -> None:
        """Return sites `worker` leased but will not crawl (unless done meanwhile) to the head of the queue."""
        if sites and self.share_from:
            self.leave(worker, sites)
        elif sites:
            keys = [self.todo, self.leased, self.done_key, self.alive]
            self.queue.script(_GIVE_BACK, keys, [worker, self.lease_prefix, *sites])

    def refuse(self, worker: str, why: str) -> None:
        """`worker` will not work on the run, for the reason `why`."""
        self.queue.script(_SET_IF_OPEN, [self.alive, self.refused], [worker, why])

    def is_done(self, site: str) -> bool:
        return bool(self.queue.call("hexists", self.done_key, site))

    def fail(self, worker: str, sites: list[str], reason: str) -> None:
        """The crawl of `sites` failed on `worker`: the coordinator fails the run with `reason`."""
        if sites:
            why = f"{worker}: {reason}"[:2000]
            self.queue.script(_SET_IF_OPEN, [self.alive, self.failed_key], [x for s in sites for x in (s, why)])


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
