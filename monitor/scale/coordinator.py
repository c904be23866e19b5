"""The crawl stage of a distributed run: queue the sites, crawl as one worker too, wait for all.

`monitor.pipeline` hands its crawl stage here when the config has [scale]; what
comes after (crawl notes, link check, probes, evaluation, reports) reads the
run's database as it does after a local crawl. Returns only when every site is
crawled and stored whole; raises (the run then fails) when a worker reports a
failed crawl or the queue is lost. The run's keys leave Redis either way.

Redis or PostgreSQL away (a restart) is waited out for up to lease_s, checked every
poll_s; longer, the crawl raises QueueError or db.Unreachable naming the server.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor import db, ingest, store
from monitor.config import Config, Site
from monitor.scale.queue import Progress, Queue, QueueError, RunQueue, connect, where
from monitor.scale.worker import Worker, worker_name

log = logging.getLogger(__name__)


def crawl(session: Session, config: Config, run_id: str, sites: Sequence[Site], say: Callable[[str], None],
          on_page: ingest.PageObserver | None = None) -> Progress:
    """Crawl `sites` of run `run_id` through the queue of the config's [scale]; the final progress."""
    scale = config.scale
    if scale is None:
        raise ValueError("a distributed crawl needs [scale] in the config")
    client = connect(scale.redis_url)
    queue = Queue(client, scale.key_prefix)
    for dead in queue.forget_dead():
        log.warning("run %s was left in the queue by a coordinator that is gone; its keys are removed", dead)
    run = queue.run(run_id)
    ids = [s.id for s in sites]
    run.open(config.digest, ids, scale.lease_s)
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    me = Worker(config, run.queue, engine, worker_name(), say)
    say(f"run {run_id}: {len(ids)} sites queued for the workers at {where(client)}"
        + ("" if scale.run_works else " (this process does not crawl)"))

    def beat() -> bool:
        try:
            if not run.keep_alive(scale.lease_s):
                return False
        except QueueError as exc:   # a Redis restart while this process crawls: the next look decides
            log.warning("run %s: %s", run_id, exc)
        return store.heartbeat(session, run_id, datetime.now(UTC))

    watch = _Watch(run, config, say)
    outage = _Outage(run_id, scale.lease_s)
    try:
        while True:
            try:
                progress = watch.look()
                if progress.done >= progress.total:
                    break
                taken = run.take(me.name, scale.batch_sites, scale.lease_s) if scale.run_works else []
                if taken:   # a database gone mid-batch: its sites are back in the queue (Worker.crawl_batch)
                    me.crawl_batch(session, run, taken, on_page=on_page, heartbeat=beat)
                elif not store.heartbeat(session, run_id, datetime.now(UTC)):
                    raise RuntimeError(f"run {run_id} was ended elsewhere while its sites were crawled")
                outage.over()
                if taken:
                    continue
            except QueueError as exc:   # leases expire meanwhile; the run's keys survive a restart with its data
                outage.wait(f"Redis at {where(client)}", exc)
            except db.Unreachable as exc:
                outage.wait(f"the database at {db.where(engine)}", exc)
            time.sleep(scale.poll_s)
    finally:
        try:
            run.close(ids)
        except QueueError as exc:
            log.warning("run %s: its keys could not be removed from Redis: %s", run_id, exc)
    log.info("run %s distributed crawl: %s", run_id, progress.describe())
    return progress


class _Watch:
    """What the coordinator looks at between batches: the run still queued, expired leases, failures,
    refusals and progress (said when it changes)."""

    def __init__(self, run: RunQueue, config: Config, say: Callable[[str], None]) -> None:
        self.run, self.config, self.say = run, config, say
        self.last: Progress | None = None
        self.refused: set[str] = set()
        self.alone = False

    def look(self) -> Progress:
        run, scale = self.run, self.config.scale
        assert scale is not None
        if not run.keep_alive(scale.lease_s):
            raise RunLost(f"the queue of run {run.run_id} is gone from Redis at {where(run.queue.client)} "
                          "(restarted without its data?)")
        run.reap()
        failures = run.failures()
        if failures:
            site, why = sorted(failures.items())[0]
            raise RuntimeError(f"the crawl of site {site} failed on worker {why}")
        for worker, why in sorted(run.refusals().items()):
            if worker not in self.refused:
                self.refused.add(worker)
                self.say(f"worker {worker} does not work on run {run.run_id}: {why}")
        progress = run.progress()
        if progress != self.last:
            self.say(progress.describe())
            self.last = progress
        alone = not scale.run_works and progress.done < progress.total and not run.queue.workers()
        if alone and not self.alone:
            self.say(f"no worker is up at {where(run.queue.client)}: start `govmon worker` with this config "
                     "on any machine")
        self.alone = alone
        return progress


class _Outage:
    """How long Redis or the database has not answered; past `bound_s` the crawl gives up with one clear line."""

    def __init__(self, run_id: str, bound_s: float) -> None:
        self.run_id, self.bound_s = run_id, bound_s
        self.since: float | None = None
        self.what = ""

    def wait(self, what: str, exc: QueueError | db.Unreachable) -> None:
        """Note that `what` did not answer; raise (the same kind of error) once that lasted past the bound."""
        now = time.monotonic()
        if self.since is None or what != self.what:
            self.since, self.what = now, what
            log.warning("run %s: %s does not answer; waiting up to %g s (lease_s): %s", self.run_id, what,
                        self.bound_s, exc)
        else:
            log.debug("run %s: %s", self.run_id, exc)
        if now - self.since > self.bound_s:
            message = f"{what} did not answer for {self.bound_s:g} s (lease_s): {exc}"
            raise QueueError(message) if isinstance(exc, QueueError) else db.Unreachable(message)

    def over(self) -> None:
        if self.since is not None:
            log.warning("run %s: %s answers again", self.run_id, self.what)
            self.since = None


class RunLost(Exception):
    """Redis answers but no longer holds the run (restarted without its data): the run cannot finish."""
