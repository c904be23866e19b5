"""Several workers on one site (`[scale] share_from`): real `govmon run` and `govmon worker` processes, real Redis
and PostgreSQL, the demo web.

With sharing on, a worker with nothing waiting joins a site under way: the site's seen URLs, frontier and
page budget are in Redis (spiders/sharedsite.py), so the workers on it fetch each URL once between them
and the run gives the single-process run's findings, pages and crawl events. A worker killed with -9 in
the middle of a shared site leaves behind only what it took and did not store: that goes back to the
site's frontier and another worker goes on from there, so nothing is crawled from scratch and no page is
stored twice or lost; Redis restarting in the middle of a shared site stops the crawl, which the worker takes up
again once Redis is back. Sites are held mid-crawl with the demo web's `hold` (no clock); every wait is for an
event (a line, a row, a process's end).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from monitor import db
from monitor.db import CrawlEventRow, PageRow
from monitor.demo import DemoWeb
from monitor.scale.queue import Queue, connect
from spiders.sharedsite import UNSHARED
from tests.test_e2e_scale import RUN_TIMEOUT_S, Worker, env, findings, govmon, run_results, scale_config
from tests.test_monitor_scale import PrivateRedis

TWO = ("chaoyang", "longcheng")


def pages_and_events(storage_url: str, sites: Sequence[str]) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """The run's page rows as (site, URL) and crawl events as (site, kind), each counted."""
    engine = db.make_engine(storage_url)
    try:
        with engine.connect() as conn:
            pages = Counter((site, url) for site, url in conn.execute(
                sa.select(PageRow.site_id, PageRow.url).where(PageRow.site_id.in_(sites))))
            events = Counter((site, kind) for site, kind in conn.execute(
                sa.select(CrawlEventRow.site_id, CrawlEventRow.kind).where(CrawlEventRow.site_id.in_(sites))))
            return pages, events
    finally:
        engine.dispose()


def _stored(storage_url: str, site: str) -> Counter[tuple[str, str]]:
    """The site's page rows so far; none while the run has not made its tables yet."""
    try:
        return pages_and_events(storage_url, [site])[0]
    except sa.exc.ProgrammingError:
        return Counter()


def _crawled_by(logs: str) -> dict[str, set[str]]:
    """Which workers said they crawled each site (every worker that left it)."""
    found: dict[str, set[str]] = {}
    for worker, site in re.findall(r"worker (\S+): run \S+: crawled (\S+)", logs):
        found.setdefault(site, set()).add(worker)
    return found


def _workers_on(queue: Queue, site: str) -> int:
    """How many workers crawl `site` of the one open run now (0 before the run is queued)."""
    runs = queue.open_runs()
    if not runs:
        return 0
    return int(queue.call("scard", f"{queue.run(runs[0]).site_key(site)}:workers"))


def test_two_workers_share_a_site_and_give_the_findings_of_one_process(
        demo_web: DemoWeb, demo_run: tuple, scale_db: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    # Each worker takes one site; chaoyang's pages are held after its homepage, so the worker done with
    # longcheng finds chaoyang under way with URLs waiting, and joins it. The pages go once both are on it.
    path = scale_config(demo_web, tmp_path, scale_db, redis_url, redis_prefix, batch_sites=1, share_from=1)
    hold = demo_web.hold(demo_web.site("chaoyang").host)
    workers = [Worker(path, tmp_path, f"worker-{i}") for i in range(2)]
    log = tmp_path / "run.log"
    try:
        names = [w.ready() for w in workers]
        run = subprocess.Popen(govmon("-v", "run", "--no-work", "--config", str(path),
                                      *(a for s in TWO for a in ("--site", s))),
                               env=env(), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log.open("w"))
        queue = Queue(connect(redis_url), redis_prefix)
        while _workers_on(queue, "chaoyang") < 2:
            assert run.poll() is None, log.read_text()[-3000:]
            time.sleep(0.05)
        hold.release()
        assert run.wait(timeout=RUN_TIMEOUT_S) in (0, 1), log.read_text()[-3000:]
    finally:
        demo_web.unhold(demo_web.site("chaoyang").host)
        for w in workers:
            w.stop()
    worked = "".join(w.log.read_text() for w in workers)
    assert _crawled_by(worked) == {"chaoyang": set(names), "longcheng": set(names) & _crawled_by(worked)["longcheng"]}
    stored = dict(re.findall(r"worker (\S+): run \S+: chaoyang: (\d+) pages", worked))
    assert sorted(stored) == sorted(names) and all(int(n) > 0 for n in stored.values()), stored
    outcome, work = demo_run
    assert findings(run_results(scale_db)) == findings(outcome.results, TWO)
    single = f"sqlite:///{work / 'govmon.db'}"
    assert pages_and_events(scale_db, TWO) == pages_and_events(single, TWO), "each page once, none missing"
    assert sum(int(n) for n in stored.values()) == sum(
        n for (site, _), n in pages_and_events(single, ["chaoyang"])[0].items()), "no page fetched twice"


def test_a_worker_killed_in_a_shared_site_leaves_what_it_did_not_store_and_the_run_completes_the_same(
        demo_web: DemoWeb, demo_run: tuple, scale_db: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    # The victim crawls chaoyang alone; its answers are held after 30 pages, so it is killed with -9 with a
    # segment stored and the rest of the site taken or waiting.
    site = "chaoyang"
    path = scale_config(demo_web, tmp_path, scale_db, redis_url, redis_prefix, batch_sites=1, share_from=1,
                        lease_s=3)
    hold = demo_web.hold(demo_web.site(site).host, free=30)
    log = tmp_path / "run.log"
    victim = Worker(path, tmp_path, "victim", "--segment-bytes", "20000")
    survivors: list[Worker] = []
    run = None
    try:
        name = victim.ready()
        run = subprocess.Popen(govmon("-v", "run", "--no-work", "--config", str(path), "--site", site), env=env(),
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log.open("w"))
        while not hold.held or not (stored := _stored(scale_db, site)):
            assert run.poll() is None and victim.process.poll() is None, log.read_text()[-3000:]
            time.sleep(0.05)
        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.wait()
        hold.release()
        queue = Queue(connect(redis_url), redis_prefix)
        [run_id] = queue.open_runs()
        assert not queue.run(run_id).is_done(site)
        survivors = [Worker(path, tmp_path, f"worker-{i}") for i in range(2)]
        assert run.wait(timeout=RUN_TIMEOUT_S) in (0, 1), log.read_text()[-3000:]
    finally:
        demo_web.unhold(demo_web.site(site).host)
        for w in (victim, *survivors):
            w.stop()
        if run is not None and run.poll() is None:
            run.kill()
    logs = "".join(p.read_text() for p in (log, *(w.log for w in survivors)))
    assert re.search(rf"the lease of {re.escape(name)} on site {site} expired; its [1-9]\d* URLs under way are "
                     "queued again", logs), logs[-3000:]
    assert "pages of an earlier attempt" not in logs, "a shared site is never crawled again from scratch"
    outcome, work = demo_run
    assert findings(run_results(scale_db)) == findings(outcome.results, [site])
    single = f"sqlite:///{work / 'govmon.db'}"
    pages, events = pages_and_events(scale_db, [site])
    assert set(stored) <= set(pages)
    assert (pages, events) == pages_and_events(single, [site]), "each page once, none missing"
    again = sum(int(n) for n in re.findall(rf"worker \S+: run \S+: {site}: (\d+) pages", logs))
    assert again < sum(pages.values()), "the survivors went on from where the victim stopped"


def test_a_redis_restart_in_a_shared_site_is_waited_out_and_the_run_completes_the_same(
        demo_web: DemoWeb, demo_run: tuple, scale_db: str, tmp_path: Path) -> None:
    # Redis restarts (with its data) while the worker's crawl of chaoyang is held mid-site: the crawl child stops
    # on the first call that fails, the worker waits for Redis, and once its lease is reaped takes the site again
    # and goes on from what it had stored.
    site = "chaoyang"
    (tmp_path / "redis").mkdir()
    private_redis = PrivateRedis(tmp_path / "redis", persist=True)
    private_redis.start()
    path = scale_config(demo_web, tmp_path, scale_db, private_redis.url, "govmon", batch_sites=1, share_from=1,
                        lease_s=4)
    hold = demo_web.hold(demo_web.site(site).host, free=30)
    log = tmp_path / "run.log"
    worker = Worker(path, tmp_path, "worker", "--segment-bytes", "20000")
    run = None
    try:
        worker.ready()
        run = subprocess.Popen(govmon("-v", "run", "--no-work", "--config", str(path), "--site", site), env=env(),
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log.open("w"))
        while not hold.held or not _stored(scale_db, site):
            assert run.poll() is None and worker.process.poll() is None, log.read_text()[-3000:]
            time.sleep(0.05)
        private_redis.stop()
        hold.release()   # the held answers come back to a crawl that now fails at its next Redis call
        while UNSHARED not in worker.log.read_text():
            assert worker.process.poll() is None, worker.log.read_text()[-3000:]
            time.sleep(0.05)
        private_redis.start()
        assert run.wait(timeout=RUN_TIMEOUT_S) in (0, 1), log.read_text()[-3000:]
        assert worker.process.poll() is None, worker.log.read_text()[-3000:]
    finally:
        demo_web.unhold(demo_web.site(site).host)
        worker.stop()
        if run is not None and run.poll() is None:
            run.kill()
        private_redis.stop()
    logs = log.read_text() + worker.log.read_text()
    assert "Traceback" not in logs, logs[-3000:]
    assert re.search(r"its \d+ URLs under way are queued again", logs), logs[-3000:]
    outcome, work = demo_run
    assert findings(run_results(scale_db)) == findings(outcome.results, [site])
    single = f"sqlite:///{work / 'govmon.db'}"
    assert pages_and_events(scale_db, [site]) == pages_and_events(single, [site]), "each page once, none missing"
