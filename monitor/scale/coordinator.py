"""The crawl, link-check and judge stages of a distributed run: queue the items, work as one worker too, wait
for all.

`monitor.pipeline` hands its crawl stage, its link check and its probing and judging
here when the config has [scale]; what comes after (crawl notes, finish_run, reports)
reads the run's database as it does after the local stages. Each stage returns only when
every item is done and stored whole (a site crawled, a link-check shard's
outcomes in link_target, a site's probes and results stored); it raises (the run then fails) when a worker reports a
failure or the queue is lost. The stage's keys leave Redis either way.

Redis or PostgreSQL away (a restart) is waited out in every stage for up to lease_s,
checked every poll_s; longer, the stage raises QueueError or db.Unreachable naming the server.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor import db, ingest, linkcheck, store
from monitor.config import Config, Site
from monitor.fetch import FetchOutcome
from monitor.scale import judge as judging
from monitor.scale import shards
from monitor.scale.queue import (CRAWL, JUDGE, LINKS, Progress, Queue, QueueError, RunQueue, connect, judge_of,
                                 links_of, where)
from monitor.scale.worker import Worker, worker_name

log = logging.getLogger(__name__)


def crawl(session: Session, config: Config, run_id: str, sites: Sequence[Site], say: Callable[[str], None],
          on_page: ingest.PageObserver | None = None, heartbeat: Heartbeat | None = None) -> Progress:
    """Crawl `sites` of run `run_id` through the queue of the config's [scale]; the final progress.
    `heartbeat()` (default: store.heartbeat) says the run is alive, False when it was ended elsewhere."""
    ids = [s.id for s in sites]

    def work(me: Worker, run: RunQueue, taken: list[str], beat: Callable[[], bool]) -> None:
        me.crawl_batch(session, run, taken, on_page=on_page, heartbeat=beat)

    stage = _Stage(run_id, CRAWL, ids, {}, f"{len(ids)} sites queued for the workers", "does not crawl",
                   Progress.describe, work)
    progress, _done_by = _drive(session, config, run_id, stage, say, heartbeat)
    log.info("run %s distributed crawl: %s", run_id, progress.describe())
    return progress


def check_links(session: Session, config: Config, run_id: str, targets: Sequence[linkcheck.TargetToCheck],
                known: Mapping[str, linkcheck.KnownPage], prechecked: Mapping[str, linkcheck.Prechecked],
                say: Callable[[str], None], heartbeat: Heartbeat | None = None) -> dict[str, str]:
    """Check the run's link `targets` through the queue, in shards of whole hosts (monitor.scale.shards); the
    outcomes are in the run's link_target rows when it returns. Which worker checked each shard.
    `heartbeat` as for crawl()."""
    if not targets:
        return {}
    cut = shards.split(targets, known, prechecked)
    ids = [str(n) for n in range(len(cut))]
    inputs = {i: shards.encode(shard) for i, shard in zip(ids, cut, strict=True)}
    hosts = sum(len(shard.hosts()) for shard in cut)
    del cut

    def work(me: Worker, run: RunQueue, taken: list[str], _beat: Callable[[], bool]) -> None:
        # The lease keeper's thread keeps the run alive in Redis; the session stays on this thread.
        me.check_batch(session, run, taken, on_beat=lambda: run.keep_alive(me.scale.lease_s))

    stage = _Stage(links_of(run_id), LINKS, ids, inputs,
                   f"{len(targets)} link targets of {hosts} hosts in {len(ids)} shards queued for the workers",
                   "checks no links", _describe_shards, work, batch=1)
    progress, done_by = _drive(session, config, run_id, stage, say, heartbeat)
    log.info("run %s distributed link check: %s; %s", run_id, _describe_shards(progress),
             ", ".join(f"shard {k} {w}" for k, w in sorted(done_by.items(), key=lambda kv: int(kv[0]))))
    return done_by


def judge(session: Session, config: Config, run_id: str, sites: Sequence[Site], gathered: Mapping[str, set[str]],
          ipv6_route: bool, say: Callable[[str], None], heartbeat: Heartbeat | None = None,
          prefetched: Mapping[str, Mapping[str, tuple[FetchOutcome, int]]] | None = None) -> dict[str, str]:
    """Probe and judge `sites` through the queue (monitor.scale.judge), a site an item; every site's probes
    and results are stored when it returns. `ipv6_route` is the run's IPv6 route, decided here once and given
    to every worker; `gathered`, what the run gathered of each site; `prefetched`, the links-v6 outcomes this
    process fetched while it crawled, by site (monitor.prefetch), so the worker judging a site does not fetch
    them again. Which worker judged each site."""
    ids = [s.id for s in sites]
    inputs = {s.id: judging.encode(ipv6_route, gathered[s.id], (prefetched or {}).get(s.id, {})) for s in sites}

    def work(me: Worker, run: RunQueue, taken: list[str], _beat: Callable[[], bool]) -> None:
        judging.judge_batch(me, session, run, taken, on_beat=lambda: run.keep_alive(me.scale.lease_s))

    stage = _Stage(judge_of(run_id), JUDGE, ids, inputs, f"{len(ids)} sites to probe and judge queued for the workers",
                   "judges no site", _describe_judged, work, batch=judging.BATCH)
    progress, done_by = _drive(session, config, run_id, stage, say, heartbeat)
    log.info("run %s distributed judging: %s", run_id, _describe_judged(progress))
    return done_by


Work = Callable[[Worker, RunQueue, list[str], Callable[[], bool]], None]
Heartbeat = Callable[[], bool]


@dataclass(frozen=True)
class _Stage:
    """A stage of a run in the queue: its items, what a batch of them is done with, and its wording."""

    queued: str                         # its name in the queue
    kind: str                           # queue.CRAWL | queue.LINKS | queue.JUDGE
    items: list[str]
    inputs: Mapping[str, str]           # an item's input for the workers, where it needs one
    opening: str                        # "N sites queued for the workers"
    idle: str                           # what this process does not do with run_works = false
    describe: Callable[[Progress], str]
    work: Work
    batch: int | None = None            # items taken at once; None: [scale] batch_sites


def _drive(session: Session, config: Config, run_id: str, stage: _Stage, say: Callable[[str], None],
           heartbeat: Heartbeat | None = None) -> tuple[Progress, dict[str, str]]:
    """Queue the stage of run `run_id`, take batches of it while run_works, wait for every item; the final
    progress and which worker did each item."""
    scale = config.scale
    if scale is None:
        raise ValueError("a distributed run needs [scale] in the config")
    client = connect(scale.redis_url)
    queue = Queue(client, scale.key_prefix)
    for dead in queue.forget_dead():
        log.warning("run %s was left in the queue by a coordinator that is gone; its keys are removed", dead)
    run = queue.run(stage.queued)
    run.open(config.digest, stage.items, scale.lease_s, stage=stage.kind, inputs=stage.inputs,
             share_from=scale.share_from if stage.kind == CRAWL else 0)
    bind = session.get_bind()
    me = Worker(config, run.queue, bind if isinstance(bind, Engine) else bind.engine, worker_name(), say)
    opened = f"run {run_id}: {stage.opening} at {where(client)}" + (
        "" if scale.run_works else f" (this process {stage.idle})")
    log.info("%s", opened)
    say(opened)

    alive = heartbeat or (lambda: store.heartbeat(session, run_id, datetime.now(UTC)))
    watch = _Watch(run, config, say, stage.describe, stage.kind)

    def beat() -> bool:
        """While this process crawls (its crawl is fed as long as the queue has sites): the run's look too,
        so expired leases are reaped, failures fail the run and progress is said meanwhile."""
        try:
            if not run.keep_alive(scale.lease_s):
                return False
            watch.look()
        except QueueError as exc:   # a Redis restart while this process works: the next look decides
            log.warning("run %s: %s", run_id, exc)
        return alive()

    outage = _Outage(run_id, scale.lease_s)
    try:
        while True:
            try:
                progress = watch.look()
                left = progress.done < progress.total
                done_by = {} if left else run.done_by()
                taken = (run.take(me.name, stage.batch or scale.batch_sites, scale.lease_s)
                         if left and scale.run_works else [])
                if taken:   # a database gone mid-batch: the batch's items are back in the queue (see Worker)
                    stage.work(me, run, taken, beat)
                elif left and not alive():
                    raise RuntimeError(f"run {run_id} was ended elsewhere while its {stage.kind} stage ran")
                outage.over()
                if not left:
                    break
                if taken:
                    continue
            except QueueError as exc:   # leases expire meanwhile; the run's keys survive a restart with its data
                outage.wait(f"Redis at {where(client)}", exc)
            except db.Unreachable as exc:
                outage.wait(f"the database at {db.where(me.engine)}", exc)
            time.sleep(scale.poll_s)
    finally:
        try:
            run.close(stage.items)
        except QueueError as exc:
            log.warning("run %s: its keys could not be removed from Redis: %s", run_id, exc)
    return progress, done_by


def _describe_judged(progress: Progress) -> str:
    workers = ", ".join(f"{worker} {n}" for worker, n in progress.by_worker)
    return f"sites judged {progress.done}/{progress.total}" + (f" ({workers})" if workers else "")


def _describe_shards(progress: Progress) -> str:
    workers = ", ".join(f"{worker} {n}" for worker, n in progress.by_worker)
    return f"links: {progress.done} of {progress.total} shards" + (f" ({workers})" if workers else "")


class _Watch:
    """What the coordinator looks at between batches: the run still queued, expired leases, failures,
    refusals and progress (said when it changes)."""

    def __init__(self, run: RunQueue, config: Config, say: Callable[[str], None],
                 describe: Callable[[Progress], str] = Progress.describe, stage: str = CRAWL) -> None:
        self.run, self.config, self.say, self.describe, self.stage = run, config, say, describe, stage
        self.last = ""
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
            item, why = sorted(failures.items())[0]
            what = {LINKS: f"the link check of shard {item}", JUDGE: f"judging site {item}"}.get(
                self.stage, f"the crawl of site {item}")
            raise RuntimeError(f"{what} failed on worker {why}")
        for worker, why in sorted(run.refusals().items()):
            if worker not in self.refused:
                self.refused.add(worker)
                self.say(f"worker {worker} does not work on run {run.run_id}: {why}")
        progress = run.progress()
        if (said := self.describe(progress)) != self.last:
            self.say(said)
            self.last = said
        alone = not scale.run_works and progress.done < progress.total and not run.queue.workers()
        if alone and not self.alone:
            self.say(f"no worker is up at {where(run.queue.client)}: start `govmon worker` with this config "
                     "on any machine")
        self.alone = alone
        return progress


class _Outage:
    """How long Redis or the database has not answered; past `bound_s` the stage gives up with one clear line."""

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
