"""A distributed run's link check on the demo web: two `govmon worker` processes check its shards.

The run (`run_works = false`) checks no link itself; its link outcomes and findings are those
of the single-process run (the session's `demo_run`), and its progress lines say which worker
checked how many shards. Every wait is for an event (a line, a process's end).
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from monitor import db
from monitor.db import LinkTargetRow
from monitor.demo import DemoWeb
from tests.test_e2e_scale import (  # noqa: F401  (scale_db: a fixture)
    findings,
    run_results,
    run_with_workers,
    scale_config,
    scale_db,
)


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


def test_two_workers_check_the_links_of_a_run_as_one_process_does(
        demo_web: DemoWeb, demo_run: tuple, scale_db: str, redis_url: str, redis_prefix: str,  # noqa: F811
        tmp_path: Path) -> None:
    path = scale_config(demo_web, tmp_path, scale_db, redis_url, redis_prefix, batch_sites=14)
    workers, names, done = run_with_workers(path, tmp_path, 2)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    outcome, work = demo_run
    assert link_outcomes(scale_db) == link_outcomes(f"sqlite:///{work / 'govmon.db'}")
    assert findings(run_results(scale_db)) == findings(outcome.results)
    queued = re.search(r"(\d+) link targets of \d+ hosts in (\d+) shards queued for the workers at \S+ "
                       r"\(this process checks no links\)", done.stderr)
    assert queued is not None, done.stderr[-3000:]
    shards = int(queued.group(2))
    assert shards > 1
    line = re.search(rf"distributed link check: links: {shards} of {shards} shards \((.*)\); (.*)", done.stderr)
    assert line is not None, done.stderr[-3000:]
    by_worker = {name: int(n) for name, n in re.findall(r"(\S+) (\d+)", line.group(1))}
    assert sorted(by_worker) == sorted(names), "every shard checked by a worker, the run checking none"
    assert sum(by_worker.values()) == shards and all(n > 0 for n in by_worker.values()), by_worker
    recorded = dict(re.findall(r"shard (\d+) (\S+?)(?:,|$)", line.group(2)))
    assert sorted(recorded, key=int) == [str(n) for n in range(shards)] and set(recorded.values()) == set(names)
    checked = "".join(w.log.read_text() for w in workers)
    for shard, name in recorded.items():
        assert len(re.findall(rf"worker {re.escape(name)}: run \S+: checked links shard {shard} \(", checked)) == 1
