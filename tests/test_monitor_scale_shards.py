"""monitor/scale/: the link check of a distributed run in shards of whole hosts, leased like sites.

The cut and the shard's text are pure (literal targets); the links stage of the queue runs on
real Redis; a shard's check by a `govmon worker` process on the demo web and real PostgreSQL,
including a worker killed with -9 holding a shard; a shard whose outcomes the database does not
take (away, as in a restart) goes back to the queue. The whole demo run is in
tests/test_e2e_scale.py.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from checks.snapshot import LinkTarget
from monitor import config, db, store
from monitor.db import LinkTargetRow
from monitor.demo import DemoWeb
from monitor.demo.externals import LAB_HOST
from monitor.linkcheck import KnownPage, Prechecked, TargetToCheck
from monitor.scale import coordinator, shards
from monitor.scale.queue import CRAWL, LINKS, Queue, connect, links_of, run_of
from monitor.scale.shards import Shard
from monitor.scale import worker as worker_mod
from monitor.scale.worker import worker_name
from tests import builders as b
from tests.test_e2e_scale import Worker, scale_config


def target(url: str, *sites: str) -> TargetToCheck:
    return TargetToCheck(url, frozenset({"a"}), frozenset(sites or ("s1",)))


# The cut -------------------------------------------------------------------------------------------------------

RUN = [target("http://a.test/1"), target("http://b.test/1"), target("http://a.test/2#top"),
       target("mailto:x@a.test"), target("http://c.test/1"), target("http://A.test:8080/3"), target("http:/x")]


@pytest.mark.parametrize(("size", "expected"), [
    pytest.param(1000, [["http://a.test/1", "http://a.test/2#top", "http://A.test:8080/3"],
                        ["mailto:x@a.test", "http:/x"], ["http://b.test/1"], ["http://c.test/1"]],
                 id="a-small-run-is-one-shard-a-host-up-to-the-minimum"),
    pytest.param(1, [["http://a.test/1", "http://a.test/2#top", "http://A.test:8080/3"],
                     ["mailto:x@a.test", "http:/x"], ["http://b.test/1"], ["http://c.test/1"]],
                 id="a-host-is-never-cut"),
])
def test_the_cut_keeps_each_host_whole_in_the_runs_order(size: int, expected: list[list[str]]) -> None:
    cut = shards.split(RUN, {}, {}, size=size)
    assert [[t.url for t in s.targets] for s in cut] == expected
    assert cut[0].hosts() == ["a.test"] and cut[1].hosts() == [""]


def test_the_cut_packs_hosts_into_shards_of_about_the_size_largest_first() -> None:
    many = [target(f"http://h{n % 20}.test/{n}") for n in range(400)]   # 20 hosts of 20 targets
    cut = shards.split(many, {}, {}, size=50)
    assert len(cut) == shards.MIN_SHARDS   # 400 / 50 = 8
    assert sorted(len(s.targets) for s in cut) == [40, 40, 40, 40, 60, 60, 60, 60]
    assert sorted(t.url for s in cut for t in s.targets) == sorted(t.url for t in many), "each target once"
    assert all(len(set(s.hosts()) & set(o.hosts())) == 0 for s in cut for o in cut if o is not s)
    assert len(shards.split(many, {}, {}, size=10)) == 20, "no more shards than hosts"


def test_a_shard_carries_what_the_run_knew_of_its_own_targets_only() -> None:
    page = KnownPage("http://a.test/2", "http://a.test/2", 200, "ok", "Two", "text/html")
    early = Prechecked(LinkTarget("http://b.test/1", "http_4xx", 404, 1, None, "gone"), 2.0, 1)
    [a, _none, b_, _c] = shards.split(RUN, {"http://a.test/2": page, "http://z.test/": page},
                                      {"http://b.test/1": early}, size=1000)
    assert a.known == {"http://a.test/2": page} and a.prechecked == {}
    assert b_.known == {} and b_.prechecked == {"http://b.test/1": early}


def test_a_shard_reads_back_as_it_was_written() -> None:
    shard = Shard(
        (TargetToCheck("http://a.test/政务", frozenset({"a", "img"}), frozenset({"s1", "s2"}), None, 2.5, 3),
         TargetToCheck("http://a.test/9", frozenset(), frozenset({"s1"}), "max_link_targets 1", None, None)),
        {"http://a.test/政务": KnownPage("http://a.test/政务", "http://a.test/x", 301, "ok", "标题", "")},
        {"http://a.test/9": Prechecked(LinkTarget("http://a.test/9", "timeout", None, 2, None, "slow"), 2.0, 1)})
    assert shards.decode(shards.encode(shard)) == shard


def deflated(raw: bytes) -> str:
    return base64.b64encode(zlib.compress(raw)).decode()


@pytest.mark.parametrize("text", ["", "not base64 at all", deflated(b"no json"), deflated(b'{"targets": 1}')],
                         ids=["empty", "not-base64", "deflated-text-that-is-no-json", "json-of-another-shape"])
def test_other_text_is_no_shard(text: str) -> None:
    with pytest.raises(ValueError, match="^not a link-check shard: "):
        shards.decode(text)


# The links stage in the queue ----------------------------------------------------------------------------------

@pytest.fixture
def queue(redis_url: str, redis_prefix: str) -> Iterator[Queue]:
    client = connect(redis_url)
    yield Queue(client, redis_prefix)
    client.close()


def test_a_links_stage_is_queued_beside_its_run_with_each_shards_input(queue: Queue) -> None:
    crawl, links = queue.run("r1"), queue.run(links_of("r1"))
    crawl.open("d" * 64, ["a"], lease_s=60)
    links.open("d" * 64, ["0", "1"], lease_s=60, stage=LINKS, inputs={"0": "zero", "1": "one"})
    assert queue.open_runs() == ["r1", "r1/links"] and run_of(links.run_id) == run_of("r1") == "r1"
    assert (crawl.info().stage, links.info().stage) == (CRAWL, LINKS)   # type: ignore[union-attr]
    assert links.take("w1", 1, lease_s=60) == ["0"] and links.input_of("0") == "zero"
    assert crawl.take("w1", 1, lease_s=60) == ["a"], "the stages lease apart"
    links.close(["0", "1"])
    assert links.input_of("1") is None
    crawl.close(["a"])
    assert list(queue.client.scan_iter(f"{queue.prefix}:*")) == []


def test_a_shard_finished_twice_stays_done_by_its_first_worker(queue: Queue) -> None:
    links = queue.run(links_of("r1"))
    links.open("d" * 64, ["0"], lease_s=60, stage=LINKS, inputs={"0": "zero"})
    links.take("w1", 1, lease_s=60)
    queue.client.delete(links.lease_prefix + "0")   # w1 stalled past its lease
    links.reap()
    assert links.take("w2", 1, lease_s=60) == ["0"]
    assert links.finish("w1", ["0"]) and links.finish("w2", ["0"])
    assert links.done_by() == {"0": "w1"} and links.leases() == {}


# Workers checking shards ---------------------------------------------------------------------------------------

@pytest.fixture
def engine(scale_db: str) -> Iterator[Engine]:
    found = db.make_engine(scale_db)
    db.upgrade(found)
    yield found
    found.dispose()


def stored(engine: Engine, run_id: str) -> dict[str, tuple[str, int | None]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(LinkTargetRow.url, LinkTargetRow.outcome, LinkTargetRow.http_status)
                            .where(LinkTargetRow.run_id == run_id))
        found = [(url, (outcome, status)) for url, outcome, status in rows]
    assert len(found) == len(dict(found)), "one row a target"
    return dict(found)


def test_a_shard_whose_worker_is_killed_is_checked_again_by_another(
        demo_web: DemoWeb, scale_db: str, engine: Engine, redis_url: str, redis_prefix: str,  # noqa: F811
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = scale_config(demo_web, tmp_path, scale_db, redis_url, redis_prefix, lease_s=2)
    cfg = config.load(path)
    assert cfg.scale is not None
    cfg = cfg.model_copy(update={"scale": cfg.scale.model_copy(update={"run_works": False})})   # as --no-work
    slow, ok = demo_web.url(LAB_HOST, "/slow"), demo_web.url("www.chaoyang.gov.test", "/")
    targets = [target(slow, "chaoyang"), target(ok, "chaoyang"), target("mailto:office@chaoyang.gov.test")]
    slow_shard = str(next(n for n, s in enumerate(shards.split(targets, {}, {})) if s.hosts() == [LAB_HOST]))
    queue = Queue(connect(redis_url), redis_prefix)
    victim = Worker(path, tmp_path, "victim")
    victim_name = victim.ready()
    survivors: list[Worker] = []

    def kill_it_holding_the_slow_shard() -> None:
        while not any(queue.run(r).leases().get(slow_shard) == victim_name for r in queue.open_runs()):
            assert victim.process.poll() is None, victim.log.read_text()
            time.sleep(0.05)
        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.wait()
        survivors.append(Worker(path, tmp_path, "survivor"))

    said: list[str] = []
    killer = threading.Thread(target=kill_it_holding_the_slow_shard)
    try:
        with db.session_factory(engine)() as session:
            run_id = store.start_run(session, kind="manual", sites=[b.site("chaoyang")], config_digest=cfg.digest,
                                     code_version="0", started_at=b.utcnow(), pid=os.getpid(), host="here")
            killer.start()
            done_by = coordinator.check_links(session, cfg, run_id, targets, {}, {}, said.append)
            killer.join()
    finally:
        for w in (victim, *survivors):
            w.stop()
    survivor = survivors[0].ready()
    assert done_by[slow_shard] == survivor
    logs = caplog.text + survivors[0].log.read_text()   # whoever reaped it
    assert f"the lease of {victim_name} on site {slow_shard} expired; the site is queued again" in logs
    assert stored(engine, run_id) == {slow: ("timeout", None), ok: ("ok", 200),
                                      "mailto:office@chaoyang.gov.test": ("unsupported", None)}
    assert said[0].startswith(f"run {run_id}: 3 link targets of 3 hosts in 3 shards queued for the workers at ")
    assert said[0].endswith("(this process checks no links)")
    assert said[-1].startswith("links: 3 of 3 shards (") and survivor in said[-1]
    assert queue.open_runs() == []


def test_the_coordinator_checks_the_shards_itself_when_it_works(
        demo_web: DemoWeb, scale_db: str, engine: Engine, redis_url: str, redis_prefix: str,  # noqa: F811
        tmp_path: Path) -> None:
    cfg = config.load(scale_config(demo_web, tmp_path, scale_db, redis_url, redis_prefix))
    ok, gone = demo_web.url(LAB_HOST, "/ok"), demo_web.url("www.chaoyang.gov.test", "/no-such-page")
    early = Prechecked(LinkTarget(ok, "ok", 200, 1, ok, "checked while the crawl ran"), 2.0, 1)
    said: list[str] = []
    with db.session_factory(engine)() as session:
        run_id = store.start_run(session, kind="manual", sites=[b.site("chaoyang")], config_digest=cfg.digest,
                                 code_version="0", started_at=b.utcnow(), pid=os.getpid(), host="here")
        done_by = coordinator.check_links(session, cfg, run_id, [target(ok), target(gone)], {}, {ok: early},
                                          said.append)
    [me] = set(done_by.values())
    assert sorted(done_by) == ["0", "1"] and me == worker_name()
    assert stored(engine, run_id) == {ok: ("ok", 200), gone: ("http_4xx", 404)}
    with engine.connect() as conn:
        detail = conn.scalar(sa.select(LinkTargetRow.detail).where(LinkTargetRow.url == ok))
    assert detail == "checked while the crawl ran", "the early check's outcome is taken, not requested again"
    assert said[-1] == f"links: 2 of 2 shards ({me} 2)"


def test_a_shard_the_database_cut_goes_back_to_the_queue_unreported(
        demo_web: DemoWeb, scale_db: str, queue: Queue, redis_url: str, redis_prefix: str,  # noqa: F811
        tmp_path: Path) -> None:
    cfg = config.load(scale_config(demo_web, tmp_path, scale_db, redis_url, redis_prefix))
    with socket.socket() as probe:   # a port nothing listens on: the database away, as during a restart
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    away = db.make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres")
    cut = shards.split([target("mailto:office@chaoyang.gov.test")], {}, {})
    links = queue.run(links_of("r1"))
    links.open(cfg.digest, ["0"], lease_s=60, stage=LINKS, inputs={"0": shards.encode(cut[0])})
    me = worker_mod.Worker(cfg, queue, away, "w1", lambda _line: None)
    try:
        assert links.take("w1", 1, lease_s=60) == ["0"]
        with db.session_factory(away)() as session, pytest.raises(db.Unreachable):
            me.check_batch(session, links, ["0"])
        assert links.failures() == {} and links.leases() == {}, "not a failed check: the run waits"
        assert links.take("w2", 1, lease_s=60) == ["0"], "the shard is checked again"
    finally:
        links.close(["0"])
        away.dispose()


@pytest.mark.parametrize(("module", "imports_redis"), [
    pytest.param("monitor.pipeline", False, id="a-run-without-scale-needs-no-redis"),
    pytest.param("monitor.scale.coordinator", True, id="the-scale-package-does"),
])
def test_redis_is_imported_only_by_the_scale_package(module: str, imports_redis: bool) -> None:
    import subprocess
    import sys

    code = f"import sys, {module}; print('redis' in sys.modules, 'monitor.scale.queue' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert done.stdout.split() == [str(imports_redis)] * 2
