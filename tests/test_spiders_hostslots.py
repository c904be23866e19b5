"""spiders.hostslots: a host's slots in real Redis (at most N holders, leases, idempotent release), and the
settings that register the middleware only in a worker's crawl."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from monitor import config
from spiders.hostslots import SHARED_SETTING, HostSlots, connect
from monitor.resolver import Resolver
from spiders.resolver import HostGate
from spiders.settings import build_settings

ROOT = Path(__file__).resolve().parent.parent
MIDDLEWARE = "spiders.hostslots.HostSlotMiddleware"
T = TypeVar("T")


def with_slots(redis_url: str, prefix: str, body: Callable[[HostSlots], Awaitable[T]]) -> T:
    async def main() -> T:
        client = connect(redis_url)
        try:
            return await body(HostSlots(client, prefix))
        finally:
            await client.aclose()
    return asyncio.run(main())


def test_at_most_limit_holders_take_a_host_and_a_freed_slot_is_taken_again(redis_url: str, redis_prefix: str
                                                                           ) -> None:
    async def body(slots: HostSlots) -> tuple[list[bool], list[bool], bool, list[str]]:
        first = [await slots.take("gov.test", f"w{n}", 2, 60) for n in range(4)]
        other = [await slots.take("other.test", "w2", 2, 60)]   # another host has its own slots
        await slots.give_back("gov.test", "w0")
        again = await slots.take("gov.test", "w3", 2, 60)
        return first, other, again, sorted(await slots.holders("gov.test"))

    first, other, again, holders = with_slots(redis_url, redis_prefix, body)
    assert first == [True, True, False, False]
    assert other == [True]
    assert again and holders == ["w1", "w3"]


def test_a_holder_taking_again_renews_its_slot_and_takes_no_second_one(redis_url: str, redis_prefix: str) -> None:
    async def body(slots: HostSlots) -> tuple[bool, bool, list[str]]:
        taken = await slots.take("gov.test", "w0", 1, 60)
        renewed = await slots.take("gov.test", "w0", 1, 60)
        return taken, renewed, await slots.holders("gov.test")

    assert with_slots(redis_url, redis_prefix, body) == (True, True, ["w0"])


def test_a_dead_holders_slot_comes_back_when_its_lease_expires(redis_url: str, redis_prefix: str) -> None:
    async def body(slots: HostSlots) -> tuple[bool, bool, int, list[str]]:
        dead = await slots.take("gov.test", "dead", 1, 0.05)   # never given back
        refused = await slots.take("gov.test", "live", 1, 60)
        polls = 1
        while not await slots.take("gov.test", "live", 1, 60):   # Redis' clock passes the lease; bounded below
            polls += 1
            assert polls < 200, "the dead holder's lease never expired"
            await asyncio.sleep(0.01)
        return dead, refused, polls, await slots.holders("gov.test")

    dead, refused, polls, holders = with_slots(redis_url, redis_prefix, body)
    assert dead and not refused and polls > 1
    assert holders == ["live"]


def test_giving_back_is_idempotent_and_the_table_leaves_no_key(redis_url: str, redis_prefix: str) -> None:
    async def body(slots: HostSlots) -> tuple[list[bool], list[str], int]:
        await slots.take("gov.test", "w0", 2, 60)
        await slots.take("gov.test", "w1", 2, 60)
        await slots.give_back("gov.test", "w0")
        await slots.give_back("gov.test", "w0")            # twice: w1 keeps its slot
        await slots.give_back("gov.test", "nobody")
        taken = [await slots.take("gov.test", f"n{n}", 2, 60) for n in range(2)]
        holders = sorted(await slots.holders("gov.test"))
        await slots.give_back("gov.test", *holders)
        return taken, holders, await slots.client.exists(slots.key("gov.test"))

    taken, holders, left = with_slots(redis_url, redis_prefix, body)
    assert taken == [True, False]
    assert holders == ["n0", "w1"]
    assert left == 0


def test_the_table_key_expires_with_its_longest_lease(redis_url: str, redis_prefix: str) -> None:
    async def body(slots: HostSlots) -> tuple[int, int]:
        await slots.take("gov.test", "long", 3, 60)
        await slots.take("gov.test", "short", 3, 1)
        return await slots.client.pttl(slots.key("gov.test")), await slots.client.zcard(slots.key("gov.test"))

    ttl, count = with_slots(redis_url, redis_prefix, body)
    assert 50_000 < ttl <= 60_000 and count == 2


def _config(tmp_path: Path, scale: bool) -> config.Config:
    text = ('[storage]\nurl = "postgresql+psycopg://postgres@127.0.0.1:5432/unused"\n'
            '[[site]]\nid = "a"\nname = "A"\nurl = "http://127.0.0.1:9/a/"\nkind = "portal"\nlevel = "city"\n')
    if scale:
        text += '[scale]\nredis_url = "redis://127.0.0.1:6379/0"\nkey_prefix = "p"\n'
    path = tmp_path / "sites.toml"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def test_only_a_workers_crawl_registers_the_shared_slots(tmp_path: Path) -> None:
    cfg = _config(tmp_path, scale=True)
    gate = HostGate(Resolver.from_config(cfg.dns))
    worker = build_settings(cfg, cfg.sites, gate=gate, out=tmp_path, scale_run="r7")
    assert MIDDLEWARE in worker["DOWNLOADER_MIDDLEWARES"]
    assert worker[SHARED_SETTING] == {"redis_url": "redis://127.0.0.1:6379/0", "key_prefix": "p", "run_id": "r7"}
    local = build_settings(cfg, cfg.sites, gate=gate, out=tmp_path)
    assert MIDDLEWARE not in local["DOWNLOADER_MIDDLEWARES"] and SHARED_SETTING not in local
    plain = _config(tmp_path, scale=False)
    without = build_settings(plain, plain.sites, gate=gate, out=tmp_path, scale_run="r7")
    assert MIDDLEWARE not in without["DOWNLOADER_MIDDLEWARES"]


def test_the_crawl_child_without_scale_imports_no_redis() -> None:
    code = ("import sys, spiders.crawl, spiders.settings, spiders.hostslots, spiders.site, spiders.middlewares; "
            "print('redis' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert result.stdout.strip() == "False", result.stderr
    built = code.replace("print(", "spiders.hostslots.connect('redis://127.0.0.1:9'); print(")
    negative = subprocess.run([sys.executable, "-c", built], cwd=ROOT, capture_output=True, text=True, check=True,
                              env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert negative.stdout.strip() == "True", negative.stderr
