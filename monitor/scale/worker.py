"""A worker: lease sites of a queued run, crawl them, write them into the run's database; lease
shards of a run's link check, check them, write their outcomes.

A leased batch of sites is crawled by one fed crawl child (monitor.crawl.run_crawl
with a Feed, the single-process crawl otherwise unchanged) and ingested segment by
segment (monitor.ingest.CrawlIngest), under the fence of each site (monitor.scale.fence):
the site's rows of an earlier, lost attempt are deleted first, in one transaction,
so a site crawled again never leaves duplicate rows. Each site the child announces
done is marked done in the queue at once, and the worker takes another site of the
run into the same child while the queue has any (at most batch_sites under way), so
one slow site does not idle the rest of the batch's slots; the child is told to end
once the queue is empty. Leases are renewed by a thread while the batch runs. A run
queued with another config digest or by another govmon version is refused: the workers
must crawl as the run's own process would.
A link-check shard (monitor.scale.shards) is checked by monitor.linkcheck as the
single-process run checks it; its outcomes go to the run's link_target rows, whose
(run, url) key keeps the first outcome stored, so a shard checked twice adds nothing.
PostgreSQL going away mid-batch (a restart cuts the open transaction and drops the
fence) gives the batch's sites not done back to the queue, to be crawled again from scratch
once the database answers: only the batch knows what the cut transaction held, and
the fence and store.clear_crawl make a second crawl safe. A shard the database cut
goes back too, without a fence: its outcomes are written in one insert-or-nothing
transaction.
A shared run (`[scale] share_from`, spiders/sharedsite.py) has no fence and clears nothing: the
crawl child keeps each site's state in Redis, the worker may join a site others crawl, its ingest
stores a page once whoever fetched it, and what it took and did not store goes back to the site's
frontier when it leaves the site or its lease is reaped.
The sites of a run's judge stage are probed, judged and stored by monitor.scale.judge.
Must not render anything: the coordinator does that once, from the stored results.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import redis.exceptions
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor import crawl, db, ingest, linkcheck, preflight, store
from monitor.config import Config
from monitor.fetch import causes
from monitor.config_scale import Scale
from monitor.resolver import Resolver
from monitor.scale import shards
from monitor.scale.fence import SiteFence
from spiders.sharedsite import UNSHARED, SharedSite
from monitor.scale.queue import (JUDGE, LINKS, WIRE_VERSION, Queue, QueueError, RunInfo, RunQueue, connect, mapped,
                                 run_of, where)

log = logging.getLogger(__name__)

Say = Callable[[str], None]
HEARTBEAT_S = 30.0


def stopped(exc: BaseException) -> bool:
    """Whether `exc` was raised while a stop (SIGTERM, Ctrl-C: KeyboardInterrupt) unwound: a stop that lands
    inside a database call leaves the driver mid-query, and the cleanup's own error (psycopg: "can't change
    'autocommit' now") replaces it. That is a stopped worker, not a failed crawl."""
    return any(isinstance(e, KeyboardInterrupt) for e in causes(exc))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class LeaseKeeper:
    """Renews a worker's leases every third of lease_s in its own thread; `gone` once the run left the queue.
    `on_beat` is called at each renewal too (the coordinator keeps its run alive with it)."""

    def __init__(self, run: RunQueue, worker: str, sites: Sequence[str], lease_s: float,
                 on_beat: Callable[[], object] | None = None) -> None:
        self.run, self.worker, self.sites, self.lease_s = run, worker, set(sites), lease_s
        self.on_beat = on_beat
        self.gone = False
        self._stop = threading.Event()
        self._lock = threading.Lock()   # the sites change on the caller's thread while this one renews them
        self._thread = threading.Thread(target=self._beat, name="lease-keeper", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def add(self, sites: Sequence[str]) -> None:
        with self._lock:
            self.sites.update(sites)

    def drop(self, sites: Sequence[str]) -> None:
        """Renew the leases of `sites` no more (they are done: their lease keys are gone)."""
        with self._lock:
            self.sites.difference_update(sites)

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                self.run.queue.announce(self.worker, self.lease_s)
                if self.on_beat is not None:
                    self.on_beat()
                with self._lock:
                    lost = self.run.renew(self.worker, sorted(self.sites), self.lease_s)
            except QueueError as exc:
                log.warning("worker %s: renewing leases of run %s: %s", self.worker, self.run.run_id, exc)
                continue
            if lost is None:
                self.gone = True
                return
            if lost:
                # Another worker may lease the site; the fence still keeps its rows ours until we finish.
                log.warning("worker %s: %d of its leases in run %s expired", self.worker, lost, self.run.run_id)


class RunGone(Exception):
    """The run left the queue while a batch of it was crawled (it ended or failed elsewhere)."""


@dataclass
class Worker:
    config: Config
    queue: Queue
    engine: Engine
    name: str
    say: Say
    segment_bytes: int | None = None

    @property
    def scale(self) -> Scale:
        assert self.config.scale is not None
        return self.config.scale

    def crawl_batch(self, session: Session, run: RunQueue, sites: Sequence[str], *,
                    on_page: ingest.PageObserver | None = None,
                    heartbeat: Callable[[], bool | None] | None = None) -> list[str]:
        """Crawl the leased `sites` into the run's database, and more sites of the run as these are done
        while its queue has any (batch_sites at most at once); the sites done.

        Each site is marked done in the queue as soon as the crawl child announces it. A site
        whose fence another process holds (a worker whose lease expired, still writing) goes
        back to the queue; one found done meanwhile is let go. A failed crawl is reported to
        the run for the sites not done (its coordinator fails it) and raised. The database
        away (db.Unreachable, before or during the crawl) gives every site not done back,
        unreported, and is raised: the caller waits for the database.
        """
        taken = list(sites)   # grows as the crawl is fed
        if run.share_from:
            return self._shared_batch(session, run, taken, on_page, heartbeat)
        try:
            fence = SiteFence(self.engine, run.run_id)
        except db.Unreachable:   # nothing written; the caller says that the database is away
            run.give_back(self.name, taken)
            raise
        try:
            with fence:
                return self._batch(session, run, taken, fence, on_page, heartbeat)
        except db.Unreachable as exc:   # what was written of these sites is cleared by their next crawl
            log.warning("worker %s: run %s: the database at %s went away during the batch %s (%s); "
                        "its sites go back to the queue (those not done yet)", self.name, run.run_id,
                        db.where(self.engine), ", ".join(taken), exc)
            run.give_back(self.name, taken)   # those still leased to this worker and not done
            raise

    def _shared_batch(self, session: Session, run: RunQueue, taken: list[str], on_page: ingest.PageObserver | None,
                      heartbeat: Callable[[], bool | None] | None) -> list[str]:
        """A shared run's batch (spiders/sharedsite.py): no fence and nothing cleared. Several workers write a
        site's rows, each page once (insert-or-nothing on its URL), and what a worker took and did not store
        goes back to the site's frontier when it leaves or its lease is reaped, so a site is never crawled
        again from scratch."""
        try:
            return self._batch(session, run, taken, None, on_page, heartbeat)
        except db.Unreachable as exc:   # what it took and did not store goes back to the sites' frontiers
            log.warning("worker %s: run %s: the database at %s went away during the batch %s (%s); "
                        "what it had not stored goes back to the sites' frontiers", self.name, run.run_id,
                        db.where(self.engine), ", ".join(taken), exc)
            run.give_back(self.name, taken)
            raise

    def _hold(self, run: RunQueue, fence: SiteFence, sites: Sequence[str]) -> list[str]:
        """The sites of `sites` to crawl: those whose fence this process took and that are not done; the
        others go back to the queue (a site done stays done)."""
        held = fence.hold(sites)
        run.give_back(self.name, [s for s in sites if s not in held])
        todo = [s for s in held if not run.is_done(s)]
        done = [s for s in held if s not in todo]
        run.give_back(self.name, done)
        fence.let_go(done)
        return todo

    def _batch(self, session: Session, run: RunQueue, taken: list[str], fence: SiteFence | None,
               on_page: ingest.PageObserver | None, heartbeat: Callable[[], bool | None] | None) -> list[str]:
        todo = self._hold(run, fence, taken) if fence is not None else list(taken)
        if not todo:
            return []
        with LeaseKeeper(run, self.name, todo, self.scale.lease_s) as keeper:
            fed = _Fed(self, session, run, fence, keeper, taken, todo)
            try:
                self._crawl(session, run, fed, on_page, heartbeat)
            except RunGone:
                log.warning("worker %s: run %s left the queue; its crawl was stopped", self.name, run.run_id)
                return fed.done
            except KeyboardInterrupt:   # stopped (SIGTERM, Ctrl-C): the sites go back now, not after lease_s
                run.give_back(self.name, taken)   # those done stay done
                raise
            except (db.Unreachable, QueueError):   # not a failed crawl: the sites not done go back, or expire
                raise
            except Exception as exc:
                if stopped(exc):
                    run.give_back(self.name, taken)
                    raise KeyboardInterrupt from exc
                if not keeper.gone:
                    run.fail(self.name, sorted(fed.crawling), f"{type(exc).__name__}: {exc}")
                raise
        return fed.done

    def _finish(self, run: RunQueue, sites: list[str], fence: SiteFence | None) -> bool:
        """Mark `sites` done (RunQueue.finish), the fence checked first: held since the crawl began, so every
        row is ours. Redis away is waited out for up to lease_s: the crawl is whole, and giving up would
        cost the batch's crawl again once its leases expire. An expired lease does not matter meanwhile:
        the fence keeps others from the sites, and a site done under it is done."""
        since: float | None = None
        while True:
            if fence is not None:
                fence.check()
            try:
                return run.finish(self.name, sites)
            except QueueError as exc:
                now = time.monotonic()
                if since is None:
                    since = now
                    log.warning("worker %s: run %s: marking %s done: %s; waiting up to %g s (lease_s)", self.name,
                                run.run_id, ", ".join(sites), exc, self.scale.lease_s)
                if now - since > self.scale.lease_s:
                    raise
                time.sleep(self.scale.poll_s)

    def check_batch(self, session: Session, run: RunQueue, items: Sequence[str], *,
                    on_beat: Callable[[], object] | None = None) -> list[str]:
        """Check the leased link-check shards `items` of the run's links stage and store their outcomes;
        the shards done. A failed check is reported to the run (its coordinator fails it) and raised. The
        database away (db.Unreachable) gives the shard and those after it back, unreported, and is raised."""
        done: list[str] = []
        resolver = Resolver.from_config(self.config.dns)
        with LeaseKeeper(run, self.name, items, self.scale.lease_s, on_beat) as keeper:
            for n, item in enumerate(items):
                text = None if keeper.gone or run.is_done(item) else run.input_of(item)
                if text is None:   # done meanwhile by a worker that outlived its lease, or the run is gone
                    run.give_back(self.name, [item])
                    continue
                try:
                    found, hosts = self._check_shard(session, run, text, resolver, keeper)
                except KeyboardInterrupt:
                    run.give_back(self.name, list(items[n:]))
                    raise
                except RunGone:
                    log.warning("worker %s: run %s left the queue; its link check was stopped", self.name,
                                run.run_id)
                    return done
                except db.Unreachable as exc:   # one transaction: stored whole or not at all, never twice
                    log.warning("worker %s: run %s: the database at %s went away while shard %s was stored (%s); "
                                "it goes back to the queue", self.name, run_of(run.run_id), db.where(self.engine),
                                item, exc)
                    run.give_back(self.name, list(items[n:]))
                    raise
                except Exception as exc:
                    if stopped(exc):
                        run.give_back(self.name, list(items[n:]))
                        raise KeyboardInterrupt from exc
                    if not keeper.gone:
                        run.fail(self.name, [item], f"{type(exc).__name__}: {exc}")
                    raise
                if not run.finish(self.name, [item]):
                    return done
                done.append(item)
                self.say(f"worker {self.name}: run {run_of(run.run_id)}: checked links shard {item} "
                         f"({found} targets; {_listed(hosts)})")
        return done

    def _check_shard(self, session: Session, run: RunQueue, text: str, resolver: Resolver, keeper: LeaseKeeper
                     ) -> tuple[int, list[str]]:
        shard = shards.decode(text)
        found = linkcheck.check_links(shard.targets, known=shard.known, resolver=resolver, crawl=self.config.crawl,
                                      prechecked=shard.prechecked)
        if keeper.gone:
            raise RunGone(run.run_id)
        store.save_link_targets(session, run_of(run.run_id), found, datetime.now(UTC))
        return len(found), shard.hosts()

    def _clear(self, session: Session, run: RunQueue, sites: Sequence[str]) -> None:
        cleared = store.clear_crawl(session, run.run_id, sites)
        if cleared:
            log.warning("worker %s: run %s: %d pages of an earlier attempt at %s deleted", self.name, run.run_id,
                        cleared, ", ".join(sites))

    def _crawl(self, session: Session, run: RunQueue, fed: _Fed, on_page: ingest.PageObserver | None,
               heartbeat: Callable[[], bool | None] | None) -> None:
        from monitor.pipeline import crawl_time_limit

        config, fence, keeper = self.config, fed.fence, fed.keeper
        if config.path is None:
            raise RuntimeError("the crawl needs the config as a file")
        sites = sorted(fed.crawling)
        if fence is not None:
            self._clear(session, run, sites)
        spool = preflight.spool_dir(config, run.run_id) / f"worker-{os.getpid()}-{sites[0]}"
        shutil.rmtree(spool, ignore_errors=True)   # an earlier attempt's segments would be swept into this one
        spool.mkdir(parents=True, exist_ok=True)
        shared = _Shared(run, self.name) if fence is None else None
        ingesting = fed.ingesting = ingest.CrawlIngest(
            session, run.run_id, on_page=on_page, numbers=shared.reserve if shared else None,
            on_committed=shared.committed if shared else None)
        feed = fed.feed = crawl.Feed(spool / crawl.FEED_NAME)
        fed.take_more()
        kept: list[Path] = []

        def on_segment(path: Path) -> None:
            if fence is not None:
                fence.check()
            stats = ingesting.segment(path)
            if stats.malformed or stats.truncated:
                kept.append(path)
            else:
                path.unlink(missing_ok=True)

        def beat() -> bool | None:
            if keeper.gone:
                return False
            return heartbeat() if heartbeat is not None else None

        chosen = [s for s in config.sites if s.id in set(sites)]
        result = crawl.run_crawl(config.path, spool, site_ids=sites, timeout_s=crawl_time_limit(config, chosen),
                                 heartbeat=beat, heartbeat_every_s=min(HEARTBEAT_S, self.scale.lease_s / 2),
                                 on_segment=on_segment, segment_bytes=self.segment_bytes, scale_run=run.run_id,
                                 feed=feed, on_site_done=fed.site_done, share_as=self.name if shared else None)
        if keeper.gone:
            raise RunGone(run.run_id)
        if not result.ok and UNSHARED in result.stderr_tail:   # Redis away: waited out as any Redis outage
            raise QueueError(f"the crawl of {', '.join(sorted(fed.crawling))} stopped: {result.stderr_tail.strip()[-300:]}")
        if not result.ok:
            raise RuntimeError(f"crawl failed: {result.reason}; {result.stderr_tail.strip()[-500:]}")
        stats = ingesting.finish()
        feed.end()   # nothing more is fed to a child that has ended
        for site_id in sorted(fed.crawling):   # not announced (a child ends announcing every site): whole now
            fed.site_done(site_id)
        log.info("worker %s: run %s: %s: %d pages, %d links in %.1fs", self.name, run.run_id, ", ".join(fed.done),
                 stats.pages, stats.links, result.elapsed_s)
        if kept:
            log.warning("run %s: %d crawl spool segments in %s had unreadable lines; kept until the next run",
                        run.run_id, len(kept), spool)
        else:
            shutil.rmtree(spool, ignore_errors=True)


class _Fed:
    """The sites of one worker's fed crawl child: each announced done is marked done in the queue (its
    fence checked first) and replaced by sites taken from the queue while it has any."""

    def __init__(self, worker: Worker, session: Session, run: RunQueue, fence: SiteFence | None, keeper: LeaseKeeper,
                 taken: list[str], sites: Sequence[str]) -> None:
        self.worker, self.session, self.run, self.fence, self.keeper = worker, session, run, fence, keeper
        self.taken = taken                      # every site leased for this crawl (given back on failure)
        self.crawling = set(sites)              # fed and not done
        self.done: list[str] = []
        self.feed: crawl.Feed | None = None
        self.ingesting: ingest.CrawlIngest | None = None

    def site_done(self, site_id: str) -> None:
        """The child closed the segments with every line of `site_id`, all ingested by now: the site is done."""
        if site_id not in self.crawling:
            return
        me, run, fence = self.worker, self.run, self.fence
        if fence is None:   # a shared site: its lease no longer renewed before it is left (renewing rejoins)
            self.keeper.drop([site_id])
        if not me._finish(run, [site_id], fence):
            raise RunGone(run.run_id)
        self.crawling.discard(site_id)
        if fence is not None:   # renewed while it was marked done: the fence kept it ours
            self.keeper.drop([site_id])
            fence.let_go([site_id])
        if self.ingesting is not None:
            self.ingesting.forget(site_id)
        self.done.append(site_id)
        me.say(f"worker {me.name}: run {run.run_id}: crawled {site_id}")
        self.take_more()

    def take_more(self) -> None:
        """Feed the child sites of the queue up to batch_sites under way; end its feed once the queue gave none."""
        from monitor.pipeline import crawl_time_limit

        me, run, feed = self.worker, self.run, self.feed
        if feed is None or feed.ended or self.keeper.gone:
            return
        room = me.scale.batch_sites - len(self.crawling)
        if room <= 0:
            return
        try:
            run.reap()
            got = run.take(me.name, room, me.scale.lease_s)
        except QueueError as exc:   # the sites under way go on; the next site done tries again
            log.warning("worker %s: run %s: taking more sites: %s", me.name, run.run_id, exc)
            if not self.crawling:
                feed.end()
            return
        self.taken.extend(got)
        # A site of ours whose lease expired (this process stalled) was reaped and may come back to us: it is
        # crawled already, and clearing its rows now would lose them. A shared one is rejoined (renew).
        if self.fence is None and (back := [s for s in got if s in self.crawling]):
            run.renew(me.name, back, me.scale.lease_s)
        got = [s for s in got if s not in self.crawling]
        new = (me._hold(run, self.fence, got) if self.fence is not None else got) if got else []
        if not new:
            if not got or not self.crawling:   # the queue is empty (or gave only sites held or done elsewhere)
                feed.end()
            return
        self.keeper.add(new)
        if self.fence is not None:
            me._clear(self.session, run, new)
        self.crawling.update(new)
        chosen = [s for s in me.config.sites if s.id in set(new)]
        feed.add(new, more_s=crawl_time_limit(me.config, chosen) - crawl_time_limit(me.config, []))


class _Shared:
    """A shared run's side of the worker's ingest: link-form numbers reserved per site across every worker's
    ingest (a block at a time), and the entries whose records are committed dropped from the site's inflight
    (spiders.sharedsite), so a worker that dies now puts back only what it did not store."""

    def __init__(self, run: RunQueue, worker: str) -> None:
        self.run, self.worker = run, worker

    def reserve(self, site_id: str, count: int) -> int:
        client = self.run.queue.client
        with mapped(client):
            return SharedSite(client, self.run.site_key(site_id), self.worker).reserve_forms(count)

    def committed(self, by_site: dict[str, list[str]]) -> None:
        client = self.run.queue.client
        try:
            for site_id, urls in by_site.items():
                if urls:
                    SharedSite(client, self.run.site_key(site_id), self.worker).committed(urls)
        except redis.exceptions.RedisError as exc:   # left inflight: fetched again after a reap, stored once
            log.warning("worker %s: run %s: telling Redis what is stored: %s", self.worker, self.run.run_id, exc)


def refusal(config: Config, info: RunInfo) -> str | None:
    """Why a worker with `config` must not work on the run `info` (None: it may)."""
    if info.digest != config.digest:
        return (f"its config digest is {config.digest[:12]} ({config.path}), the run's {info.digest[:12]}: "
                "every worker needs the same config file")
    if info.version != WIRE_VERSION:
        return f"it runs govmon {WIRE_VERSION}, the run {info.version or 'unknown'}: run one version everywhere"
    return None


def serve(config: Config, *, say: Say, once: bool = False, segment_bytes: int | None = None,
          name: str | None = None, stop: threading.Event | None = None) -> int:
    """Work on the queued runs of the config's [scale] until stopped; the number of sites crawled,
    link-check shards checked and sites judged.

    With `once`, return when no open run has a site to take. Redis or PostgreSQL going
    away is waited out (QueueError, db.Unreachable: logged once, retried every poll_s),
    except with `once`, where it is raised. A batch that fails is reported to its run and
    logged; the worker goes on.
    """
    scale = config.scale
    if scale is None:
        raise ValueError("govmon worker needs a [scale] table with redis_url in the config")
    _check_work_dir(config)
    client = connect(scale.redis_url)
    queue = Queue(client, scale.key_prefix)
    engine = db.make_engine(config.storage.url)
    worker = Worker(config, queue, engine, name or worker_name(), say, segment_bytes)
    say(f"worker {worker.name}: waiting for runs at {where(client)}")
    refused: set[str] = set()
    crawled = 0
    away: dict[type[Exception], str] = {}   # what does not answer, said once until it answers again
    try:
        with db.session_factory(engine)() as session:
            while stop is None or not stop.is_set():
                try:
                    queue.announce(worker.name, max(scale.lease_s, 3 * scale.poll_s))
                    _answers(worker.name, away, QueueError)
                    done = _work_once(worker, session, refused)
                    if done is not None:   # a batch was tried: the database answered
                        _answers(worker.name, away, db.Unreachable)
                except (QueueError, db.Unreachable) as exc:
                    if once:
                        raise
                    kind = QueueError if isinstance(exc, QueueError) else db.Unreachable
                    if kind not in away:
                        away[kind] = f"Redis at {where(client)}" if kind is QueueError else \
                            f"the database at {db.where(engine)}"
                        log.warning("worker %s: %s; waiting for %s, trying every %g s", worker.name, exc,
                                    away[kind], scale.poll_s)
                    done = None
                if done:
                    crawled += len(done)
                elif done is None and once:
                    break
                else:   # nothing to take, or a batch failed: not again at once
                    time.sleep(scale.poll_s)
    finally:
        engine.dispose()
    return crawled


def _answers(worker: str, away: dict[type[Exception], str], kind: type[Exception]) -> None:
    if kind in away:
        log.warning("worker %s: %s answers again", worker, away.pop(kind))


def _listed(hosts: Sequence[str], most: int = 3) -> str:
    named = [h or "no host" for h in hosts[:most]]
    return ", ".join(named) + (f" and {len(hosts) - most} more hosts" if len(hosts) > most else "")


def _check_work_dir(config: Config) -> None:
    """The spool folder must be writable here before any site is taken (PreflightError, one line).
    Spools left on this machine by workers that died (`worker-<pid>-<site>`) are removed."""
    work = Path(config.storage.work_dir)
    try:
        work.mkdir(parents=True, exist_ok=True)
        probe = work / f".govmon-write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise preflight.PreflightError([f"storage.work_dir: cannot write in {work}: {exc.strerror or exc}"]) from None
    for left in work.glob("*/worker-*-*"):
        pid = left.name.split("-")[1]
        if pid.isdigit() and int(pid) != os.getpid() and not store.pid_alive(int(pid)):
            shutil.rmtree(left, ignore_errors=True)
            with contextlib.suppress(OSError):
                left.parent.rmdir()   # the run's folder, once no spool is left in it


def _work_once(worker: Worker, session: Session, refused: set[str]) -> list[str] | None:
    """Take and crawl one batch of the first open run with sites waiting; None when there was none."""
    scale = worker.scale
    for run_id in worker.queue.open_runs():
        run = worker.queue.run(run_id)
        info = run.info()
        if info is None:
            continue
        why = refusal(worker.config, info)
        if why is not None:
            if run_id not in refused:
                refused.add(run_id)
                log.warning("worker %s: not working on run %s: %s", worker.name, run_id, why)
                worker.say(f"worker {worker.name}: not working on run {run_id}: {why}")
                run.refuse(worker.name, why)
            continue
        run.reap()
        from monitor.scale import judge
        links, judging = info.stage == LINKS, info.stage == JUDGE
        sites = run.take(worker.name, 1 if links else judge.BATCH if judging else scale.batch_sites, scale.lease_s)
        if not sites:
            continue
        try:
            if links:
                return worker.check_batch(session, run, sites) or None
            if judging:
                return judge.judge_batch(worker, session, run, sites) or None
            return worker.crawl_batch(session, run, sites) or None
        except (QueueError, db.Unreachable):
            raise
        except Exception as exc:   # reported to the run, which fails; this worker serves the next one
            log.error("worker %s: crawling %s of run %s failed: %s: %s", worker.name, ", ".join(sites), run_id,
                      type(exc).__name__, exc)
            log.debug("worker %s: batch failed", worker.name, exc_info=True)
            return []
    return None
