"""monitor/scale/: the Redis queue of a run's sites, the PostgreSQL fence, a worker's refusal, [scale] config.

Real Redis (the `redis_url` fixture) and real PostgreSQL (a fresh schema of `pg_url`).
The distributed runs on the demo web are in tests/test_e2e_scale.py.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor import config, crawl, db, pipeline, store
from monitor.cli import main
from monitor.db import CrawlEventRow, LinkFormRow, PageRow
from monitor.ingest import CrawlIngest
from monitor.scale import coordinator
from monitor.scale import worker as worker_mod
from monitor.scale.fence import FenceLost, SiteFence
from monitor.scale.queue import WIRE_VERSION, Progress, Queue, QueueError, RunQueue, connect, where
from spiders.items import EventRecord, LinkRecord, PageRecord
from spiders.output import line
from tests import builders as b
from tests.heldsite import HeldSite

SITES = ["a", "b", "c", "d", "e"]


@pytest.fixture
def queue(redis_url: str, redis_prefix: str) -> Iterator[Queue]:
    client = connect(redis_url)
    yield Queue(client, redis_prefix)
    client.close()


def opened(queue: Queue, sites: list[str] = SITES, digest: str = "d" * 64) -> RunQueue:
    run = queue.run(f"run-{secrets.token_hex(3)}")
    run.open(digest, sites, lease_s=60)
    return run


def expire(run: RunQueue, site: str) -> None:
    """What the lease's TTL does when its worker stops renewing it."""
    run.queue.client.delete(run.lease_prefix + site)


# The queue ----------------------------------------------------------------------------------------------------

def test_sites_are_leased_in_order_each_to_one_worker(queue: Queue) -> None:
    run = opened(queue)
    assert run.take("w1", 2, lease_s=60) == ["a", "b"]
    assert run.take("w2", 2, lease_s=60) == ["c", "d"]
    assert run.leases() == {"a": "w1", "b": "w1", "c": "w2", "d": "w2"}
    assert run.progress() == Progress(total=5, done=0, by_worker=(), leased=4, waiting=1)


def test_finished_sites_count_per_worker(queue: Queue) -> None:
    run = opened(queue)
    run.take("w1", 3, lease_s=60)
    run.take("w2", 2, lease_s=60)
    run.finish("w1", ["a", "b", "c"])
    run.finish("w2", ["d"])
    progress = run.progress()
    assert progress == Progress(total=5, done=4, by_worker=(("w1", 3), ("w2", 1)), leased=1, waiting=0)
    assert progress.describe() == "sites crawled 4/5 (w1 3, w2 1)"


def test_an_expired_lease_puts_the_site_back_first_for_another_worker(queue: Queue) -> None:
    run = opened(queue)
    assert run.take("w1", 2, lease_s=60) == ["a", "b"]
    expire(run, "b")
    assert run.reap() == [("b", "w1")]
    assert run.reap() == [], "put back once"
    assert run.take("w2", 1, lease_s=60) == ["b"]
    assert run.leases() == {"a": "w1", "b": "w2"}


def test_renewing_keeps_a_lease_and_says_how_many_were_lost(queue: Queue) -> None:
    run = opened(queue)
    run.take("w1", 2, lease_s=60)
    assert run.renew("w1", ["a", "b"], lease_s=60) == 0
    assert queue.client.pttl(run.lease_prefix + "a") > 50_000
    expire(run, "b")
    run.reap()
    run.take("w2", 1, lease_s=60)
    assert run.renew("w1", ["a", "b"], lease_s=60) == 1, "b is w2's now"
    assert run.leases()["b"] == "w2"


def test_a_site_finished_under_its_fence_is_done_though_its_lease_expired(queue: Queue) -> None:
    run = opened(queue)
    run.take("w1", 1, lease_s=60)
    expire(run, "a")
    run.reap()
    assert run.take("w2", 1, lease_s=60) == ["a"]   # w2 waits for the fence w1 still holds
    run.finish("w1", ["a"])
    assert run.is_done("a") and run.done_by() == {"a": "w1"}
    run.give_back("w2", ["a"])                       # w2, holding the fence at last, finds it done
    assert run.progress() == Progress(total=5, done=1, by_worker=(("w1", 1),), leased=0, waiting=4)
    assert run.take("w3", 5, lease_s=60) == ["b", "c", "d", "e"]


def test_a_site_given_back_is_waiting_again_at_the_head(queue: Queue) -> None:
    run = opened(queue)
    run.take("w1", 2, lease_s=60)
    run.give_back("w1", ["b"])
    run.give_back("w2", ["a"])   # not w2's: nothing happens
    assert run.leases() == {"a": "w1"}
    assert run.take("w2", 1, lease_s=60) == ["b"]


def test_a_closed_run_is_gone_for_its_workers(queue: Queue) -> None:
    run = opened(queue)
    run.take("w1", 1, lease_s=60)
    assert queue.open_runs() == [run.run_id]
    assert run.info() is not None and run.info().sites == 5   # type: ignore[union-attr]
    run.close(SITES)
    assert queue.open_runs() == []
    assert run.info() is None
    assert run.renew("w1", ["a"], lease_s=60) is None
    assert run.take("w1", 1, lease_s=60) == []
    assert run.finish("w1", ["a"]) is False
    run.give_back("w1", ["a"])
    run.fail("w1", ["a"], "too late")
    run.refuse("w2", "too late")
    assert list(queue.client.scan_iter(f"{queue.prefix}:*")) == [], "a late worker leaves no key behind"


def test_a_run_whose_coordinator_is_gone_is_not_offered_nor_renewed(queue: Queue) -> None:
    run = opened(queue)
    run.take("w1", 1, lease_s=60)
    queue.client.delete(run.alive)   # what its expiry does when the coordinator stops refreshing it
    assert run.info() is None
    assert run.renew("w1", ["a"], lease_s=60) is None, "the worker stops: nobody would judge its crawl"
    assert run.keep_alive(lease_s=60) is True, "the run's keys are there; the coordinator refreshes"
    assert run.info() is not None and run.renew("w1", ["a"], lease_s=60) == 0


def test_the_keys_of_a_dead_coordinators_run_are_removed(queue: Queue) -> None:
    dead, alive = opened(queue), opened(queue)
    dead.take("w1", 2, lease_s=60)
    queue.client.delete(dead.alive)
    assert queue.forget_dead() == [dead.run_id]
    assert queue.open_runs() == [alive.run_id]
    assert sorted(queue.client.scan_iter(f"{dead.key}*")) == []
    assert alive.info() is not None


def test_failures_are_recorded_for_the_coordinator(queue: Queue) -> None:
    run = opened(queue)
    run.fail("w1", ["a"], "RuntimeError: crawl failed")
    assert run.failures() == {"a": "w1: RuntimeError: crawl failed"}


def test_an_unreachable_redis_is_one_queue_error(tmp_path: Path) -> None:
    with pytest.raises(QueueError, match=r"^Redis at unix://.*nothing\.sock: ConnectionError"):
        connect(f"unix://{tmp_path / 'nothing.sock'}")


# The fence and the rows of a site crawled again --------------------------------------------------------------

@pytest.fixture
def pg_engine(scale_db: str) -> Iterator[Engine]:
    engine = db.make_engine(scale_db)
    db.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def start(session: Session) -> str:
    return store.start_run(session, kind="manual", sites=(b.site("chaoyang"), b.site("lingyuan")),
                           config_digest="d" * 64, code_version="0.1.0", started_at=b.utcnow(), pid=os.getpid(),
                           host="monitor-1")


def test_one_process_at_a_time_holds_a_site_and_death_lets_go(pg_engine: Engine) -> None:
    first, second = SiteFence(pg_engine, "run-1"), SiteFence(pg_engine, "run-1")
    assert first.hold(["a", "b"]) == ["a", "b"]
    assert second.hold(["a", "c"]) == ["c"]
    assert SiteFence(pg_engine, "run-2").hold(["a"]) == ["a"], "another run's site is another lock"
    first.conn.invalidate()   # the connection gone, as when its process is killed
    deadline = time.monotonic() + 30   # a guard: the server lets go once its backend sees the socket closed
    while (taken := second.hold(["a", "b"])) != ["a", "b"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert taken == ["a", "b"]
    assert second.conn.exec_driver_sql("SHOW tcp_keepalives_idle").scalar() == "30", "a dead machine lets go too"
    second.release()


def test_a_site_let_go_is_free_for_others_and_the_fence_still_checks(pg_engine: Engine) -> None:
    first, second = SiteFence(pg_engine, "run-1"), SiteFence(pg_engine, "run-1")
    try:
        assert first.hold(["a", "b"]) == ["a", "b"]
        first.let_go(["a", "unknown"])
        assert second.hold(["a", "b"]) == ["a"], "a done site's fence is free; the others stay held"
        first.check()   # the locks still held are the sites still held
        assert first.held == {"b"}
    finally:
        first.release()
        second.release()


def test_a_fence_whose_server_session_ended_is_lost_also_after_a_reconnect(pg_engine: Engine) -> None:
    fence, other = SiteFence(pg_engine, "run-1"), SiteFence(pg_engine, "run-1")
    assert fence.hold(["a", "b"]) == ["a", "b"]
    fence.check()   # held: nothing raised
    backend = fence.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with pg_engine.connect() as admin:   # what a restart does to it: the server ends the session
        admin.execute(sa.text("SELECT pg_terminate_backend(:p, 5000)"), {"p": backend})
    with pytest.raises(FenceLost):
        fence.check()
    fence.conn.rollback()   # SQLAlchemy reconnects on the next use
    with pytest.raises(FenceLost, match="0 of 2 locks still held"):
        fence.check()
    assert other.hold(["a", "b"]) == ["a", "b"], "another process may take the sites now"
    fence.release()
    other.release()


def page(site: str, url: str) -> PageRecord:
    return PageRecord(site_id=site, url=url, final_url=url, status=200, fetch_kind="ok", depth=0,
                      fetched_at=b.utcnow().isoformat(timespec="seconds"), content_type="text/html",
                      encoding="utf-8", size=10, title="t", body_sha256="ab" * 32)


def crawl_rows(session: Session, run_id: str) -> dict[str, tuple[int, int, int]]:
    found = {}
    for site in ("chaoyang", "lingyuan"):
        found[site] = tuple(session.scalar(sa.select(sa.func.count()).select_from(table)
                                           .where(table.run_id == run_id, table.site_id == site)) or 0
                            for table in (PageRow, LinkFormRow, CrawlEventRow))
    session.rollback()
    return found   # type: ignore[return-value]


def test_clearing_a_site_deletes_its_crawl_rows_and_only_those(pg_engine: Engine, tmp_path: Path) -> None:
    with db.session_factory(pg_engine)() as session:
        run_id = start(session)
        spool = tmp_path / "crawl-000001.jsonl"
        home = "http://www.chaoyang.gov.test/"
        records = [page("chaoyang", home), LinkRecord("chaoyang", home, home + "a.html", "a"),
                   EventRecord("chaoyang", "trap", home + "cal"), page("lingyuan", "http://www.lingyuan.gov.test/")]
        spool.write_text("".join(line(r) for r in records), encoding="utf-8")
        CrawlIngest(session, run_id).segment(spool)
        assert crawl_rows(session, run_id) == {"chaoyang": (1, 1, 1), "lingyuan": (1, 0, 0)}
        assert store.clear_crawl(session, run_id, ["chaoyang"]) == 1
        assert crawl_rows(session, run_id) == {"chaoyang": (0, 0, 0), "lingyuan": (1, 0, 0)}
        again = tmp_path / "crawl-000002.jsonl"
        again.write_text("".join(line(r) for r in records[:3]), encoding="utf-8")
        CrawlIngest(session, run_id).segment(again)   # the site crawled again: no duplicate, no refusal
        assert crawl_rows(session, run_id) == {"chaoyang": (1, 1, 1), "lingyuan": (1, 0, 0)}


# The worker ----------------------------------------------------------------------------------------------------

def scale_config(tmp_path: Path, redis_url: str, prefix: str, extra: str = "") -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(f'''[storage]
url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
work_dir = "{tmp_path / "work"}"

[report]
dir = "{tmp_path / "reports"}"

[crawl]
allowed_networks = ["127.0.0.0/8"]

[dns]
nameservers = ["127.0.0.1"]
port = 9

[scale]
redis_url = "{redis_url}"
key_prefix = "{prefix}"
poll_s = 0.1
{extra}
[[site]]
id = "a"
name = "A"
url = "http://a.gov.test/"
kind = "portal"
level = "city"
''', encoding="utf-8")
    return path


@pytest.mark.parametrize(("digest", "version", "why"), [
    pytest.param("0" * 64, WIRE_VERSION, "its config digest is {mine} ({path}), the run's 000000000000: every worker "
                 "needs the same config file", id="another-config"),
    pytest.param(None, "0.0.1", f"it runs govmon {WIRE_VERSION}, the run 0.0.1: run one version everywhere",
                 id="another-govmon-version"),
])
def test_a_worker_refuses_a_run_it_would_not_crawl_the_same(tmp_path: Path, redis_url: str, redis_prefix: str,
                                                             queue: Queue, digest: str | None, version: str,
                                                             why: str) -> None:
    cfg = config.load(scale_config(tmp_path, redis_url, redis_prefix))
    run = queue.run("run-1")
    run.open(digest or cfg.digest, ["a"], lease_s=60, version=version)
    said: list[str] = []
    assert worker_mod.serve(cfg, say=said.append, once=True, name="w1") == 0
    reason = why.format(mine=cfg.digest[:12], path=cfg.path)
    assert said[-1] == f"worker w1: not working on run run-1: {reason}"
    assert run.progress().waiting == 1 and run.leases() == {}
    assert run.refusals() == {"w1": reason}, "the run's coordinator can say who refused it"


def test_a_worker_says_where_it_waits_and_stops_when_told(tmp_path: Path, redis_url: str,
                                                                redis_prefix: str) -> None:
    cfg = config.load(scale_config(tmp_path, redis_url, redis_prefix))
    stop = threading.Event()
    said: list[str] = []

    def say(line: str) -> None:
        said.append(line)
        stop.set()

    assert worker_mod.serve(cfg, say=say, stop=stop, name="w1") == 0
    assert len(said) == 1 and said[0].startswith("worker w1: waiting for runs at ")


# Config and command line ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "errors"), [
    pytest.param('[scale]\nredis_url = "redis://127.0.0.1:6379/0"\n',
                 ["c.toml:1: scale: [scale] needs a PostgreSQL storage.url that every worker reaches "
                  "(postgresql+psycopg://…); SQLite is one machine's file"], id="sqlite-storage-is-refused"),
    pytest.param('[storage]\nurl = "postgresql+psycopg://u@h/db"\n[scale]\nredis_url = "http://x"\nlease_s = 0.5\n'
                 'batch = 3\n',
                 ["c.toml:4: scale.redis_url: expected redis://HOST:PORT/DB, rediss://… or unix://PATH, "
                  "got 'http://x'",
                  "c.toml:5: scale.lease_s: must be >= 1.0, got 0.5",
                  "c.toml:6: scale.batch: unknown key 'batch' (did you mean 'batch_sites'?)"],
                 id="each-bad-key-is-one-line"),
])
def test_scale_config_errors(text: str, errors: list[str]) -> None:
    with pytest.raises(config.ConfigError) as exc:
        config.loads(text, "c.toml")
    assert exc.value.errors == errors


def test_scale_config_defaults_and_none_without_the_table() -> None:
    cfg = config.loads('[storage]\nurl = "postgresql+psycopg://u@h/db"\n[scale]\nredis_url = "redis://r:6379/1"\n')
    assert cfg.scale is not None
    assert (cfg.scale.key_prefix, cfg.scale.lease_s, cfg.scale.batch_sites, cfg.scale.run_works) == (
        "govmon", 60.0, 16, True)
    assert "redis://r" not in repr(cfg.scale), "a URL may hold a password"
    assert config.loads("").scale is None


def govmon(*argv: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    return int(exited.value.code)


@pytest.mark.parametrize("argv", [["worker"], ["run", "--distributed"], ["run", "--no-work"]])
def test_worker_and_distributed_run_need_scale(demo_config_path: Path, argv: list[str],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert govmon(*argv, "--config", str(demo_config_path)) == 2
    assert "a [scale] table with redis_url (see docs/operations.md)" in capsys.readouterr().err


def test_a_worker_without_redis_says_so_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scale_config(tmp_path, f"unix://{tmp_path / 'nothing.sock'}", "p")
    assert govmon("worker", "--once", "--config", str(path)) == 3
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"govmon: Redis at unix://{tmp_path}/nothing.sock: ConnectionError: "
                                        + err.split(": ConnectionError: ", 1)[1].strip()]


# The coordinator ----------------------------------------------------------------------------------------------

def pg_config(tmp_path: Path, engine: Engine, redis_url: str, prefix: str, extra: str = "") -> config.Config:
    path = scale_config(tmp_path, redis_url, prefix, extra)
    text = path.read_text(encoding="utf-8").replace(
        'url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"',
        f'url = "{engine.url.render_as_string(hide_password=False)}"')
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def as_other_worker(queue: Queue, act: Callable[[RunQueue], None]) -> threading.Thread:
    """A thread that waits for the run to be queued, then does `act` to it as another worker would."""
    def work() -> None:
        while not (runs := queue.open_runs()):
            time.sleep(0.02)
        act(queue.run(runs[0]))

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_the_coordinator_waits_for_the_workers_sites(tmp_path: Path, pg_engine: Engine, redis_url: str,
                                                     redis_prefix: str, queue: Queue) -> None:
    cfg = pg_config(tmp_path, pg_engine, redis_url, redis_prefix, "run_works = false\n")
    said: list[str] = []
    with db.session_factory(pg_engine)() as session:
        run_id = store.start_run(session, kind="manual", sites=[b.site("a")], config_digest=cfg.digest,
                                 code_version="0.1.0", started_at=b.utcnow(), pid=os.getpid(), host="monitor-1")

        def crawl_a(run: RunQueue) -> None:
            assert run.take("w9", 4, lease_s=60) == ["a"]
            run.finish("w9", ["a"])

        def crawl_a_after_one_refused(run: RunQueue) -> None:
            run.refuse("w8", "its config digest is eeeeeeeeeeee")
            while not any(line.startswith("no worker is up") for line in said):
                time.sleep(0.02)
            queue.announce("w9", 60)
            crawl_a(run)

        helper = as_other_worker(queue, crawl_a_after_one_refused)
        progress = coordinator.crawl(session, cfg, run_id, cfg.sites, said.append)
        helper.join()
    assert progress.by_worker == (("w9", 1),)
    assert said[-1] == "sites crawled 1/1 (w9 1)"
    assert f"worker w8 does not work on run {run_id}: its config digest is eeeeeeeeeeee" in said
    assert said.count(f"no worker is up at {where(queue.client)}: start `govmon worker` with this config on any "
                      "machine") == 1
    assert queue.workers() == ["w9"]
    assert "(this process does not crawl)" in said[0]
    assert queue.open_runs() == [] and list(queue.client.scan_iter(f"{redis_prefix}:run*")) == []


def test_a_failed_crawl_on_a_worker_fails_the_coordinators_crawl(tmp_path: Path, pg_engine: Engine, redis_url: str,
                                                                  redis_prefix: str, queue: Queue) -> None:
    cfg = pg_config(tmp_path, pg_engine, redis_url, redis_prefix, "run_works = false\n")
    with db.session_factory(pg_engine)() as session:
        run_id = store.start_run(session, kind="manual", sites=[b.site("a")], config_digest=cfg.digest,
                                 code_version="0.1.0", started_at=b.utcnow(), pid=os.getpid(), host="monitor-1")
        helper = as_other_worker(queue, lambda run: run.fail("w9", ["a"], "RuntimeError: crawl failed: boom"))
        with pytest.raises(RuntimeError, match=r"^the crawl of site a failed on worker w9: RuntimeError: crawl "
                                               r"failed: boom$"):
            coordinator.crawl(session, cfg, run_id, cfg.sites, lambda _line: None)
        helper.join()
    assert list(queue.client.scan_iter(f"{redis_prefix}:*")) == [], "the run's keys leave Redis"


def test_a_failure_elsewhere_fails_the_run_while_the_coordinator_still_crawls(
        tmp_path: Path, pg_engine: Engine, redis_url: str, redis_prefix: str, queue: Queue) -> None:
    # The coordinator's crawl is fed as long as the queue has sites, so it looks at the run from its heartbeat.
    held = HeldSite()
    try:
        cfg = pg_config(tmp_path, pg_engine, redis_url, redis_prefix, "lease_s = 2\n")
        assert cfg.path is not None
        held.add_to(cfg.path)
        cfg = config.load(cfg.path)
        site = cfg.site_by_id("held")
        assert site is not None
        with db.session_factory(pg_engine)() as session:
            run_id = store.start_run(session, kind="manual", sites=[pipeline.site_info(site)],
                                     config_digest=cfg.digest, code_version="0.1.0", started_at=b.utcnow(),
                                     pid=os.getpid(), host="monitor-1")

            def fail_once_held(run: RunQueue) -> None:
                held.asked.wait(120)
                run.fail("w9", ["x"], "RuntimeError: boom")

            helper = as_other_worker(queue, fail_once_held)
            with pytest.raises(RuntimeError, match="the crawl of site x failed on worker w9: RuntimeError: boom"):
                coordinator.crawl(session, cfg, run_id, [site], lambda _line: None)
            helper.join()
        assert held.asked.is_set() and not held.answered.is_set(), "failed while its own site was still crawled"
    finally:
        held.close()
    assert list(queue.client.scan_iter(f"{redis_prefix}:run*")) == [], "the run's keys leave Redis"


def test_a_fed_crawl_takes_more_sites_and_never_clears_one_it_crawls(
        tmp_path: Path, pg_engine: Engine, redis_url: str, redis_prefix: str, queue: Queue) -> None:
    cfg = pg_config(tmp_path, pg_engine, redis_url, redis_prefix, "batch_sites = 2\n")
    with db.session_factory(pg_engine)() as session:
        run_id = start(session)
        spool = tmp_path / "crawl-000001.jsonl"
        spool.write_text(line(page("chaoyang", "http://www.chaoyang.gov.test/")), encoding="utf-8")
        CrawlIngest(session, run_id).segment(spool)   # rows of the site under way
        run = queue.run(run_id)
        run.open(cfg.digest, ["chaoyang", "lingyuan"], lease_s=60)
        try:
            assert run.take("w1", 1, lease_s=60) == ["chaoyang"]
            me = worker_mod.Worker(cfg, queue, pg_engine, "w1", lambda _line: None)
            with SiteFence(pg_engine, run_id) as fence:
                fence.hold(["chaoyang"])
                keeper = worker_mod.LeaseKeeper(run, "w1", ["chaoyang"], 60)   # not started: no renewal
                fed = worker_mod._Fed(me, session, run, fence, keeper, ["chaoyang"], ["chaoyang"])
                feed = fed.feed = crawl.Feed(tmp_path / "feed.txt")
                queue.client.delete(run.lease_prefix + "chaoyang")   # this process stalled past its lease
                fed.take_more()    # reaped, it comes back to us first: already crawled, not cleared
                assert crawl_rows(session, run_id)["chaoyang"][0] == 1
                assert feed.path.read_text() == "end\n" and fed.crawling == {"chaoyang"}
                fed.feed = feed = crawl.Feed(tmp_path / "feed-2.txt")
                fed.take_more()    # room for one more: the next site is taken, fenced and fed
                assert feed.path.read_text() == "site lingyuan\n" and fed.crawling == {"chaoyang", "lingyuan"}
                assert keeper.sites == {"chaoyang", "lingyuan"} and run.leases() == {"chaoyang": "w1",
                                                                                     "lingyuan": "w1"}
        finally:
            run.close(["chaoyang", "lingyuan"])


class StoppedInADatabaseCall(worker_mod.Worker):
    """A worker whose SIGTERM lands inside a database call: the driver's cleanup raises its own error while the
    stop unwinds (psycopg: "can't change 'autocommit' now"), with the stop as its context."""

    def _crawl(self, *_args: Any, **_kwargs: Any) -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise db.StorageError("ProgrammingError: can't change 'autocommit' now") from None


def test_a_stop_that_lands_in_a_database_call_hands_the_sites_back_and_stops(
        tmp_path: Path, pg_engine: Engine, redis_url: str, redis_prefix: str, queue: Queue) -> None:
    cfg = pg_config(tmp_path, pg_engine, redis_url, redis_prefix)
    run = queue.run("r-stop")
    run.open(cfg.digest, ["a"], lease_s=60)
    try:
        assert run.take("w1", 1, lease_s=60) == ["a"]
        me = StoppedInADatabaseCall(cfg, queue, pg_engine, "w1", lambda _line: None)
        with db.session_factory(pg_engine)() as session, pytest.raises(KeyboardInterrupt):
            me.crawl_batch(session, run, ["a"])
        assert run.failures() == {}, "a stopped worker is no failed crawl"
        assert run.take("w2", 1, lease_s=60) == ["a"], "its site is handed back at once"
    finally:
        run.close(["a"])


def test_a_stop_is_told_by_the_exception_chain() -> None:
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise db.StorageError("cleanup failed") from None   # `from None` hides it from tracebacks only
    except db.StorageError as exc:
        assert worker_mod.stopped(exc)
    assert not worker_mod.stopped(db.StorageError("a refused query"))


def test_a_run_without_its_redis_fails_with_one_line(tmp_path: Path, pg_engine: Engine) -> None:
    cfg = pg_config(tmp_path, pg_engine, f"unix://{tmp_path / 'nothing.sock'}", "p")
    outcome = pipeline.execute(cfg, kind="manual", render=False, has_ipv6_route=lambda: False)
    assert outcome.status == "failed" and outcome.results is None
    assert outcome.error is not None and outcome.error.startswith(
        f"QueueError: Redis at unix://{tmp_path}/nothing.sock: ConnectionError")
    with db.session_factory(pg_engine)() as session:
        run = store.get_run(session, outcome.run_id)
    assert run is not None and (run.status, run.error) == ("failed", outcome.error)


class PrivateRedis:
    """A redis-server of the test's own on a unix socket, to stop and start again mid-run."""

    def __init__(self, folder: Path, persist: bool) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("no redis-server to restart")
        self.socket = folder / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.command = [binary, "--port", "0", "--unixsocket", str(self.socket), "--dir", str(folder),
                        "--save", "", "--appendonly", "yes" if persist else "no"]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:   # until it answers, or exits
            try:
                if redis.Redis.from_url(self.url).ping():
                    return
            except redis.RedisError:
                assert self.process.poll() is None, "redis-server exited"
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()   # a clean shutdown: the append-only file is written out
            self.process.wait()


@pytest.mark.parametrize("persist", [True, False], ids=["restarted-with-its-data-resumes",
                                                        "restarted-without-its-data-fails-cleanly"])
def test_the_coordinator_across_a_redis_restart(tmp_path: Path, pg_engine: Engine, persist: bool) -> None:
    server = PrivateRedis(tmp_path, persist)
    server.start()
    try:
        cfg = pg_config(tmp_path, pg_engine, server.url, "p", "run_works = false\nlease_s = 30\n")
        queue = Queue(connect(server.url), "p")

        def restart_then_crawl_a(run: RunQueue) -> None:
            server.stop()
            server.start()
            if persist:
                again = Queue(connect(server.url), "p").run(run.run_id)
                assert again.take("w9", 4, lease_s=60) == ["a"]
                again.finish("w9", ["a"])

        with db.session_factory(pg_engine)() as session:
            run_id = store.start_run(session, kind="manual", sites=[b.site("a")], config_digest=cfg.digest,
                                     code_version="0.1.0", started_at=b.utcnow(), pid=os.getpid(), host="monitor-1")
            helper = as_other_worker(queue, restart_then_crawl_a)
            try:
                if persist:
                    assert coordinator.crawl(session, cfg, run_id, cfg.sites, lambda _l: None).by_worker == (
                        ("w9", 1),)
                else:
                    with pytest.raises(coordinator.RunLost, match=rf"^the queue of run {run_id} is gone from Redis "
                                                                  rf"at unix://{tmp_path}/redis.sock"):
                        coordinator.crawl(session, cfg, run_id, cfg.sites, lambda _l: None)
            finally:
                helper.join()
    finally:
        server.stop()


def test_a_worker_that_cannot_write_its_spool_says_so_before_taking_anything(
        tmp_path: Path, redis_url: str, redis_prefix: str, queue: Queue, capsys: pytest.CaptureFixture[str]) -> None:
    path = scale_config(tmp_path, redis_url, redis_prefix)
    (tmp_path / "work").write_text("a file, not a folder", encoding="utf-8")
    run = opened(queue, ["a"])
    assert govmon("worker", "--once", "--config", str(path)) == 3
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
        f"govmon: storage.work_dir: cannot write in {tmp_path / 'work'}: ")
    assert run.progress().waiting == 1


def test_a_worker_removes_the_spools_of_dead_workers_on_this_machine(tmp_path: Path, redis_url: str,
                                                                      redis_prefix: str) -> None:
    cfg = config.load(scale_config(tmp_path, redis_url, redis_prefix))
    dead = subprocess.Popen(["true"])
    dead.wait()
    work = tmp_path / "work"
    gone = work / "run-1" / f"worker-{dead.pid}-a"
    alive = work / "run-2" / f"worker-{os.getppid()}-b"
    other = work / "run-3" / "crawl-000001.jsonl.part"   # a single-process run's spool: not a worker's
    for path in (gone / "crawl-000001.jsonl", alive / "crawl-000001.jsonl", other):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n", encoding="utf-8")
    stop = threading.Event()
    stop.set()
    worker_mod.serve(cfg, say=lambda _line: None, stop=stop, name="w1")
    assert not (work / "run-1").exists()
    assert (alive / "crawl-000001.jsonl").exists() and other.exists()
