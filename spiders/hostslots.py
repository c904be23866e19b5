"""One host's request slots, shared by every crawl process of a distributed run (issue 16).

Scrapy bounds a host's requests in flight per process (CONCURRENT_REQUESTS_PER_DOMAIN,
DOWNLOAD_SLOTS). Several sites of a city often live on one host (department sites under
www.<city>.gov.cn, a shared 信息公开 platform), so two workers crawling two of them would
each send that many, and the host would see twice the limit. Under [scale] the crawl
child (`--scale-run`) registers `HostSlotMiddleware`: a request first takes one of its
host's slots in Redis and gives it back when its answer or failure comes in, so the
limit holds across every process using the same Redis and key prefix.

A host's slots are a sorted set `P:host:<host>:slots` of holder -> expiry (Redis' own
clock, ms). Taking is one Lua script (drop expired holders, count, add); giving back is
one ZREM, idempotent. A slot is a lease of LEASE_TIMEOUTS x the request's timeout, so a
killed child's slots come back by themselves (a request held up longer, on a host slowed by
its Retry-After, may outlive its lease: the host then briefly sees one more). Waiting for a slot polls with a growing
backoff on the reactor's asyncio loop (redis.asyncio), never blocking it. Redis
unreachable: one warning, and the process keeps to its own limit for the rest of its
crawl. Imports redis only when the middleware is built: a crawl without [scale] never does.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import socket
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.http import Request, Response

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

SHARED_SETTING = "GOVMON_HOST_SLOTS"   # {"redis_url", "key_prefix", "run_id"}; set only in a distributed crawl
HELD = "govmon_host_slot"              # request.meta: (host, holder) while the request holds a slot
LEASE_TIMEOUTS = 3     # a request waits at most about one timeout in its local slot (AutoThrottle's delay is
                       # latency / concurrency), then downloads for at most one more
FIRST_WAIT_S = 0.05
MAX_WAIT_S = 0.5
REDIS_TIMEOUT_S = 2.0

_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local lease = tonumber(ARGV[3])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
return 1
"""


class HostSlots:
    """The slot tables of one key prefix in Redis. Redis errors propagate (redis.RedisError)."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self.client, self.prefix = client, prefix
        self._take = client.register_script(_TAKE)

    def key(self, host: str) -> str:
        return f"{self.prefix}:host:{host}:slots"

    async def take(self, host: str, holder: str, limit: int, lease_s: float) -> bool:
        """Hold one of `host`'s `limit` slots for `lease_s` (True), or none is free (False).
        A holder that already holds a slot renews it."""
        taken = await self._take(keys=[self.key(host)], args=[holder, limit, max(1, round(lease_s * 1000))])
        return bool(taken)

    async def give_back(self, host: str, *holders: str) -> None:
        """Free the slots of `holders`; a slot already freed or expired is no error."""
        if holders:
            await self.client.zrem(self.key(host), *holders)

    async def holders(self, host: str) -> list[str]:
        """Who holds `host`'s slots now, expired holders included until the next take."""
        return [h.decode() if isinstance(h, bytes) else h for h in await self.client.zrange(self.key(host), 0, -1)]


def connect(redis_url: str) -> Redis:
    from redis.asyncio import Redis

    return Redis.from_url(redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S)


class HostSlotMiddleware:
    """Downloader middleware, placed after every other one so a slot is held only while the downloader has
    the request: a retry's backoff and a robots.txt wait hold none."""

    def __init__(self, crawler: Any, slots: HostSlots, run_id: str) -> None:
        from redis import RedisError

        self.crawler, self.slots = crawler, slots
        self.errors: tuple[type[BaseException], ...] = (RedisError, OSError)
        settings = crawler.settings
        self.default_limit = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.limits = {host: int(s["concurrency"]) for host, s in settings.getdict("DOWNLOAD_SLOTS").items()
                       if "concurrency" in s}
        self.timeout_s = settings.getfloat("DOWNLOAD_TIMEOUT")
        self.me = f"{run_id}/{socket.gethostname()}:{os.getpid()}"
        self.numbers = itertools.count(1)
        self.held: dict[str, str] = {}       # holder -> host, given back together when the spider closes
        self.local = False                    # Redis failed: the process's own limit only

    @classmethod
    def from_crawler(cls, crawler: Any) -> HostSlotMiddleware:
        shared = crawler.settings.getdict(SHARED_SETTING)
        middleware = cls(crawler, HostSlots(connect(shared["redis_url"]), shared["key_prefix"]), shared["run_id"])
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    async def process_request(self, request: Request) -> None:
        if self.local:
            return
        host = self.crawler.engine.downloader.get_slot_key(request)
        holder = f"{self.me}/{next(self.numbers)}"
        limit = self.limits.get(host, self.default_limit)
        lease_s = LEASE_TIMEOUTS * float(request.meta.get("download_timeout") or self.timeout_s)
        wait = FIRST_WAIT_S
        try:
            while not await self.slots.take(host, holder, limit, lease_s):
                await asyncio.sleep(wait * random.uniform(0.5, 1.0))   # jitter: waiting processes do not poll in step
                wait = min(2 * wait, MAX_WAIT_S)
        except self.errors as exc:
            self._lost(exc)
            return
        request.meta[HELD] = (host, holder)
        self.held[holder] = host

    async def process_response(self, request: Request, response: Response) -> Response:
        await self._give_back(request)
        return response

    async def process_exception(self, request: Request, exception: Exception) -> None:
        await self._give_back(request)

    async def _give_back(self, request: Request) -> None:
        # Popped before a retry or a redirect copies the meta: the new request takes its own slot.
        held = request.meta.pop(HELD, None)
        if held is None:
            return
        host, holder = held
        self.held.pop(holder, None)
        if self.local:
            return
        try:
            await self.slots.give_back(host, holder)
        except self.errors as exc:
            self._lost(exc)

    def _lost(self, exc: BaseException) -> None:
        if not self.local:
            self.local = True
            log.warning("host slots: Redis failed (%s: %s); this crawl keeps to its own per-host limit from now on",
                        type(exc).__name__, exc)

    async def spider_closed(self) -> None:
        by_host: dict[str, list[str]] = {}
        for holder, host in self.held.items():
            by_host.setdefault(host, []).append(holder)
        self.held.clear()
        try:
            if not self.local:
                for host, holders in by_host.items():
                    await self.slots.give_back(host, *holders)
        except self.errors as exc:
            self._lost(exc)
        finally:
            await self.slots.client.aclose()
