"""A distributed run on the demo web: `govmon run` and `govmon worker` processes, real Redis and PostgreSQL.

Three workers crawl the demo, check its links in shards and probe and judge its sites (the run does
none of it), giving the link outcomes, probe rows and findings of the single-process run (the
session's `demo_run`); a worker killed with -9 in the middle of a site loses its lease, the site is
crawled again by another worker without duplicate rows, and the run completes with the same
findings; one killed while it probes the sites it took to judge loses them too, and another judges
each once, storing its probes and results once; a worker stopped with SIGTERM hands its sites back
at once; a run that leaves the queue gets nothing recorded by a worker still crawling it. Every wait
is for an event (a line, a row, a process's end).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from monitor import db, pipeline, store
from monitor.db import CrawlEventRow, LinkFormRow, LinkTargetRow, PageRow, ProbeRow
from monitor.demo import DemoWeb
from monitor.scale.queue import Queue, connect
from tests.heldsite import HeldSite

ROOT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT_S = 900   # a guard against a hang, far above the ~1 minute these runs take


def govmon(*argv: str) -> list[str]:
    return [sys.executable, "-m", "monitor", *argv]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def scale_config(web: DemoWeb, folder: Path, storage_url: str, redis_url: str, prefix: str, **scale: Any) -> Path:
    path = web.write_config(folder / "sites.toml", storage_url=storage_url, report_dir=str(folder / "reports"))
    keys = {"redis_url": redis_url, "key_prefix": prefix, "poll_s": 0.2, **scale}
    table = "\n".join(f"{k} = {v!r}".replace("'", '"') if isinstance(v, str) else f"{k} = {v}"
                      for k, v in keys.items())
    with path.open("a", encoding="utf-8") as out:
        out.write(f"\n[scale]\n{table}\n")
    return path


class Worker:
    """A `govmon worker` process; its stderr goes to a file, so a full pipe never stops it."""

    def __init__(self, config: Path, folder: Path, name: str, *extra: str) -> None:
        self.log = folder / f"{name}.log"
        self.process = subprocess.Popen(govmon("worker", "--config", str(config), *extra), env=env(), cwd=folder,
                                        stdout=subprocess.DEVNULL, stderr=self.log.open("w"))

    def ready(self) -> str:
        """Wait for the worker's first line (it waits for runs now); its name."""
        while not (found := re.search(r"worker (\S+): waiting for runs", self.log.read_text())):
            assert self.process.poll() is None, self.log.read_text()
            time.sleep(0.05)
        return found.group(1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=60)


def findings(results: store.RunResults, sites: Sequence[str] | None = None) -> dict[tuple[str, str], Any]:
    """Each site's verdicts: status, message and evidence (timings and the order of JSON keys left out)."""
    return {(site, r.check_id): (str(r.status), r.message_key, frozenset(r.evidence))
            for site, rs in results.results.items() if sites is None or site in sites for r in rs}


def run_results(storage_url: str) -> store.RunResults:
    engine = db.make_engine(storage_url)
    try:
        with db.session_factory(engine)() as session:
            [run] = store.list_runs(session, limit=10)
            assert run.status == "complete", run
            return store.load_results(session, run.id)
    finally:
        engine.dispose()


def crawl_rows(storage_url: str, sites: Sequence[str]) -> dict[str, tuple[int, int, int]]:
    """Per site of the database's one run: its pages, link forms and crawl events."""
    engine = db.make_engine(storage_url)
    try:
        with engine.connect() as conn:
            return {site: tuple(conn.scalar(sa.select(sa.func.count()).select_from(t).where(t.site_id == site)) or 0
                                for t in (PageRow, LinkFormRow, CrawlEventRow))   # type: ignore[misc]
                    for site in sites}
    finally:
        engine.dispose()


def run_with_workers(path: Path, folder: Path, count: int
                     ) -> tuple[list[Worker], list[str], subprocess.CompletedProcess[str]]:
    """`govmon run --no-work` with `count` workers up first (stopped after): the workers, their names, the run."""
    workers = [Worker(path, folder, f"worker-{i}") for i in range(count)]
    try:
        names = [w.ready() for w in workers]
        done = subprocess.run(govmon("-v", "run", "--no-work", "--config", str(path)), env=env(), cwd=folder,
                              capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    finally:
        for w in workers:
            w.stop()
    return workers, names, done


def link_outcomes(storage_url: str) -> dict[str, tuple[str, int | None, str | None]]:
    """Each link target of the database's one run: its outcome, HTTP status and final URL."""
    engine = db.make_engine(storage_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(LinkTargetRow.url, LinkTargetRow.outcome, LinkTargetRow.http_status,
                                          LinkTargetRow.final_url))
            return {url: (outcome, status, final) for url, outcome, status, final in rows}
    finally:
        engine.dispose()


def probe_rows(storage_url: str, sites: Sequence[str] | None = None) -> Counter[tuple[str, str, str]]:
    """The run's probe rows by site, kind and URL (the database holds one run)."""
    engine = db.make_engine(storage_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(ProbeRow.site_id, ProbeRow.kind, ProbeRow.url)
                                .where(ProbeRow.run_id.is_not(None)))
            return Counter((site, kind, url) for site, kind, url in rows if sites is None or site in sites)
    finally:
        engine.dispose()


def test_three_workers_crawl_and_check_links_with_the_findings_of_one_process(
        demo_web: DemoWeb, demo_run: tuple, scale_db: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    # One distributed run of the whole demo for both stages (run_works = false: --no-work).
    path = scale_config(demo_web, tmp_path, scale_db, redis_url, redis_prefix, batch_sites=14)
    workers, names, done = run_with_workers(path, tmp_path, 3)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    outcome, work = demo_run
    assert findings(run_results(scale_db)) == findings(outcome.results)
    assert link_outcomes(scale_db) == link_outcomes(f"sqlite:///{work / 'govmon.db'}")
    total = len(outcome.results.results)
    line = re.search(rf"distributed crawl: sites crawled {total}/{total} \((.*)\)", done.stderr)
    assert line is not None, done.stderr[-3000:]
    by_worker = dict(re.findall(r"(\S+) (\d+)", line.group(1)))
    assert sorted(by_worker) == sorted(names), "every site crawled by a worker, the run crawling none"
    assert all(int(n) > 0 for n in by_worker.values()), by_worker
    queued = re.search(r"(\d+) link targets of \d+ hosts in (\d+) shards queued for the workers at \S+ "
                       r"\(this process checks no links\)", done.stderr)
    assert queued is not None, done.stderr[-3000:]
    shards = int(queued.group(2))
    assert shards > 1
    line = re.search(rf"distributed link check: links: {shards} of {shards} shards \((.*)\); (.*)", done.stderr)
    assert line is not None, done.stderr[-3000:]
    checked_by = {name: int(n) for name, n in re.findall(r"(\S+) (\d+)", line.group(1))}
    assert sorted(checked_by) == sorted(names), "every shard checked by a worker, the run checking none"
    assert sum(checked_by.values()) == shards and all(n > 0 for n in checked_by.values()), checked_by
    recorded = dict(re.findall(r"shard (\d+) (\S+?)(?:,|$)", line.group(2)))
    assert sorted(recorded, key=int) == [str(n) for n in range(shards)] and set(recorded.values()) == set(names)
    checked = "".join(w.log.read_text() for w in workers)
    for shard, name in recorded.items():
        assert len(re.findall(rf"worker {re.escape(name)}: run \S+: checked links shard {shard} \(", checked)) == 1
    # Probed and judged by the workers too, each site once, the run judging none; its probe rows are the
    # single-process run's (none twice).
    assert re.search(rf"{total} sites to probe and judge queued for the workers at \S+ \(this process judges no "
                     r"site\)", done.stderr), done.stderr[-3000:]
    line = re.search(rf"distributed judging: sites judged {total}/{total} \((.*)\)", done.stderr)
    assert line is not None, done.stderr[-3000:]
    judged_by = {name: int(n) for name, n in re.findall(r"(\S+) (\d+)", line.group(1))}
    assert sorted(judged_by) == sorted(names) and all(n > 0 for n in judged_by.values()), judged_by
    judged = re.findall(r"worker (\S+): run \S+: judged site (\S+) \(", checked)
    assert sorted(site for _, site in judged) == sorted(outcome.results.results), "each site judged once"
    assert Counter(name for name, _ in judged) == Counter(judged_by)
    assert probe_rows(scale_db) == probe_rows(f"sqlite:///{work / 'govmon.db'}")


SUBSET = ("chaoyang", "shuangta", "longcheng", "yshj", "longtan", "fgw")


def test_a_worker_killed_mid_site_loses_it_and_the_run_completes_the_same(
        demo_web: DemoWeb, demo_run: tuple, scale_db: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    # lease_s long enough that the survivors' own leases (renewed every lease_s / 3) do not lapse on a loaded
    # machine. With 2 s this test lost one page row of a site now and then under load: an open question
    # (issue 16's notes) that this test, about a killed worker, is not the place to answer.
    path = scale_config(demo_web, tmp_path, scale_db, redis_url, redis_prefix, batch_sites=2, lease_s=10)
    sites = [arg for site in SUBSET for arg in ("--site", site)]
    coordinator_log = tmp_path / "run.log"
    run = subprocess.Popen(govmon("-v", "run", "--no-work", "--config", str(path), *sites), env=env(), cwd=tmp_path,
                           stdout=subprocess.DEVNULL, stderr=coordinator_log.open("w"))
    victim = Worker(path, tmp_path, "victim", "--segment-bytes", "20000")
    survivors: list[Worker] = []
    try:
        name = victim.ready()
        queue = Queue(connect(redis_url), redis_prefix)
        held = _holding_rows(queue, name, scale_db, run)
        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.wait()
        [run_id] = queue.open_runs()
        assert not queue.run(run_id).is_done(held), "killed holding a site whose rows were partly written"
        partial = crawl_rows(scale_db, [held])[held]
        survivors = [Worker(path, tmp_path, f"worker-{i}") for i in range(2)]
        assert run.wait(timeout=RUN_TIMEOUT_S) in (0, 1), coordinator_log.read_text()[-3000:]
    finally:
        for w in (victim, *survivors):
            w.stop()
        if run.poll() is None:
            run.kill()
    logs = "".join(p.read_text() for p in (coordinator_log, *(w.log for w in survivors)))   # whoever reaped it
    assert f"the lease of {name} on site {held} expired; the site is queued again" in logs
    outcome, work = demo_run
    assert findings(run_results(scale_db)) == findings(outcome.results, SUBSET)
    single = f"sqlite:///{work / 'govmon.db'}"
    assert partial[0] > 0
    assert crawl_rows(scale_db, SUBSET) == crawl_rows(single, SUBSET), "no row twice, none missing"


def test_a_site_whose_judging_worker_dies_is_judged_again_by_another_and_stored_once(
        demo_web: DemoWeb, demo_run: tuple, scale_db: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    # The held site's homepage is answered to the crawl and held from its probes on: the victim, alone, crawls
    # the sites, checks their links and takes them to judge, and is killed with -9 while it probes them.
    held = HeldSite(free=1)
    sites, demo = ["held", "fgw", "longtan"], ["fgw", "longtan"]
    victim = survivors = None
    try:
        path = scale_config(demo_web, tmp_path, scale_db, redis_url, redis_prefix, lease_s=2)
        held.add_to(path)
        log = tmp_path / "run.log"
        run = subprocess.Popen(govmon("-v", "run", "--no-work", "--config", str(path),
                                      *[arg for site in sites for arg in ("--site", site)]),
                               env=env(), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log.open("w"))
        try:
            victim = Worker(path, tmp_path, "victim")
            name = victim.ready()
            while not held.asked.is_set():   # the victim probes the held site: it is judging it
                assert run.poll() is None and victim.process.poll() is None, log.read_text()[-3000:]
                time.sleep(0.05)
            queue = Queue(connect(redis_url), redis_prefix)
            [judging] = [r for r in queue.open_runs() if r.endswith("/judge")]
            assert queue.run(judging).leases() == {site: name for site in sites}
            os.kill(victim.process.pid, signal.SIGKILL)
            victim.process.wait()
            held.release()
            survivors = [Worker(path, tmp_path, f"worker-{i}") for i in range(2)]
            assert run.wait(timeout=RUN_TIMEOUT_S) in (0, 1), log.read_text()[-3000:]
        finally:
            for w in (victim, *(survivors or ())):
                if w is not None:
                    w.stop()
            if run.poll() is None:
                run.kill()
    finally:
        held.close()
    assert survivors is not None
    logs = "".join(p.read_text() for p in (log, *(w.log for w in survivors)))   # whoever reaped them
    assert all(f"the lease of {name} on site {site} expired" in logs for site in sites), logs[-3000:]
    assert "judged site" not in victim.log.read_text()
    judged = re.findall(r"worker \S+: run \S+: judged site (\S+) \(", logs)
    assert sorted(judged) == sorted(sites), "each site judged again, once"
    outcome, work = demo_run
    results = run_results(scale_db)
    assert findings(results, demo) == findings(outcome.results, demo)
    assert len(results.results["held"]) == len({r.check_id for r in results.results["held"]}) > 0
    assert probe_rows(scale_db, demo) == probe_rows(f"sqlite:///{work / 'govmon.db'}", demo), "no probe twice"
    kinds = Counter(kind for (_site, kind, _url), n in probe_rows(scale_db, ["held"]).items() for _ in range(n))
    assert kinds["availability"] == 1 and kinds["homepage-v4"] == sum(
        n for (_site, kind, _url), n in probe_rows(scale_db, ["fgw"]).items() if kind == "homepage-v4")


def _holding_rows(queue: Queue, worker: str, storage_url: str, run: subprocess.Popen[bytes]) -> str:
    """Wait until `worker` holds a site of the run that has pages stored; that site."""
    while True:
        assert run.poll() is None, "the run ended before the worker wrote anything"
        for run_id in queue.open_runs():
            mine = [site for site, holder in queue.run(run_id).leases().items() if holder == worker]
            if mine:
                rows = crawl_rows(storage_url, mine)
                written = [site for site in mine if rows[site][0] > 0]
                if written:
                    return written[0]
        time.sleep(0.05)


def test_a_stopped_worker_hands_its_sites_back_at_once(demo_web: DemoWeb, demo_run: tuple, scale_db: str,
                                                       redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    # A lease that is not handed back would hold the sites for ten minutes: the test would fail, not wait.
    path = scale_config(demo_web, tmp_path, scale_db, redis_url, redis_prefix, batch_sites=2, lease_s=600)
    two = ("chaoyang", "fgw")
    run = subprocess.Popen(govmon("run", "--no-work", "--config", str(path), *(a for s in two for a in ("--site", s))),
                           env=env(), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stopped = Worker(path, tmp_path, "stopped", "--segment-bytes", "20000")
    survivor = None
    try:
        name = stopped.ready()
        queue = Queue(connect(redis_url), redis_prefix)
        _holding_rows(queue, name, scale_db, run)
        stopped.process.send_signal(signal.SIGTERM)
        assert stopped.process.wait(timeout=60) == 130
        [run_id] = queue.open_runs()
        assert queue.run(run_id).leases() == {} and queue.run(run_id).progress().waiting == 2
        survivor = Worker(path, tmp_path, "survivor")
        assert run.wait(timeout=RUN_TIMEOUT_S) in (0, 1)
    finally:
        for w in (stopped, survivor):
            if w is not None:
                w.stop()
        if run.poll() is None:
            run.kill()
    outcome, work = demo_run
    assert findings(run_results(scale_db)) == findings(outcome.results, two)
    assert crawl_rows(scale_db, two) == crawl_rows(f"sqlite:///{work / 'govmon.db'}", two)


def test_a_run_that_left_the_queue_gets_nothing_from_its_worker(demo_web: DemoWeb, scale_db: str, redis_url: str,
                                                           redis_prefix: str, tmp_path: Path) -> None:
    from monitor import config as config_mod
    from monitor.scale.worker import Worker as InProcess

    # The worker stops the crawl at its next heartbeat, or finds the run gone when it finishes: either way
    # nothing is recorded for it.
    path = scale_config(demo_web, tmp_path, scale_db, redis_url, redis_prefix, lease_s=3)
    cfg = config_mod.load(path)
    engine = db.make_engine(scale_db)
    db.upgrade(engine)
    queue = Queue(connect(redis_url), redis_prefix)
    try:
        with db.session_factory(engine)() as session:
            site = cfg.site_by_id("chaoyang")
            assert site is not None
            run_id = store.start_run(session, kind="manual", sites=[pipeline.site_info(site)],
                                     config_digest=cfg.digest, code_version="0", started_at=datetime.now(UTC),
                                     pid=os.getpid(), host="here")
            run = queue.run(run_id)
            run.open(cfg.digest, ["chaoyang"], lease_s=3)
            worker = InProcess(cfg, queue, engine, "w1", lambda _line: None, segment_bytes=20000)

            def close_once_rows_are_in() -> None:
                while crawl_rows(scale_db, ["chaoyang"])["chaoyang"][0] == 0:
                    time.sleep(0.05)
                run.close(["chaoyang"])   # what the run's end (or failure) does to its keys

            closer = threading.Thread(target=close_once_rows_are_in)
            closer.start()
            assert worker.crawl_batch(session, run, run.take("w1", 1, lease_s=3)) == [], "nothing done"
            closer.join()
    finally:
        engine.dispose()
    assert queue.open_runs() == [] and run.done_by() == {} and run.failures() == {}


def test_a_slow_site_does_not_hold_back_the_sites_after_it(demo_web: DemoWeb, scale_db: str, redis_url: str,
                                                           redis_prefix: str, tmp_path: Path) -> None:
    from monitor import config as config_mod
    from monitor.scale.worker import Worker as InProcess

    # One crawl child, fed: while the held site's homepage waits, the batch's other slot crawls every fast
    # site one after another, each marked done as it ends; the child ends once the held site is done.
    fast = ["fgw", "longtan", "yshj"]
    held = HeldSite()
    engine = db.make_engine(scale_db)
    try:
        path = scale_config(demo_web, tmp_path, scale_db, redis_url, redis_prefix, batch_sites=2, lease_s=60)
        held.add_to(path)
        cfg = config_mod.load(path)
        db.upgrade(engine)
        queue = Queue(connect(redis_url), redis_prefix)
        said: list[str] = []
        outcome: dict[str, list[str]] = {}
        with db.session_factory(engine)() as session:
            chosen = [cfg.site_by_id(s) for s in ["held", *fast]]
            run_id = store.start_run(session, kind="manual", sites=[pipeline.site_info(s) for s in chosen if s],
                                     config_digest=cfg.digest, code_version="0", started_at=datetime.now(UTC),
                                     pid=os.getpid(), host="here")
            run = queue.run(run_id)
            run.open(cfg.digest, ["held", *fast], lease_s=60)
            worker = InProcess(cfg, queue, engine, "w1", said.append, segment_bytes=20000)
            taken = run.take("w1", 2, lease_s=60)
            assert taken == ["held", "fgw"]
            crawling = threading.Thread(
                target=lambda: outcome.update(done=worker.crawl_batch(session, run, taken)))
            crawling.start()
            guard = time.monotonic() + RUN_TIMEOUT_S   # against a hang only: each step waits for an event
            while sorted(run.done_by()) != sorted(fast):
                assert crawling.is_alive() and time.monotonic() < guard, (said, run.done_by())
                time.sleep(0.05)
            assert held.asked.is_set() and run.leases() == {"held": "w1"}, "the held site is still crawled"
            assert all(rows[0] > 0 for rows in crawl_rows(scale_db, fast).values()), "each stored when done"
            held.release()
            crawling.join(timeout=RUN_TIMEOUT_S)
            assert not crawling.is_alive()
            assert sorted(outcome["done"]) == sorted(["held", *fast]) and outcome["done"][-1] == "held"
            assert run.done_by() == {site: "w1" for site in ["held", *fast]}
            assert [line for line in said if ": crawled " in line] == [
                f"worker w1: run {run_id}: crawled {site}" for site in outcome["done"]], "one line per site"
            assert crawl_rows(scale_db, ["held"])["held"][0] == 1
            run.close(["held", *fast])
    finally:
        held.close()
        engine.dispose()
