"""One run, start to finish: start → crawl → ingest → link checks → probes → evaluate → finish → render.

Scheduled, manual, ad-hoc and demo runs all take this one path. Any failure
before `finish_run` marks the run failed (or interrupted on Ctrl-C/SIGTERM), so
a run is never shown half-written as complete.

What belongs to one site is isolated: an exception in one of its probes, in
planning them, or in loading and judging its snapshot becomes `error`
results for that site's checks, with the reason, and the run goes on for the
others (the crawl and the storage of the run as a whole are not per site).

The pipeline knows no check: it gathers what the planned checks declare
(`checks.needs_of`, `checks.probe_plan`). Each site's snapshot is loaded once,
a window of sites at a time (see `_probe_and_evaluate`).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import logging
import os
import shutil
import socket
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import checks
from checks import Probe, ProbePlan, RequirementInfo, Result, SiteInfo, SiteSnapshot
from monitor import __version__, columnprobe, crawl, db, ingest, linkcheck, locks, preflight, probes, store
from monitor import prefetch as prefetch_mod
from monitor.config import Config, Requirement, Site
from monitor.fetch import FetchOutcome
from monitor.resolver import Resolver

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
# A run whose heartbeat is older than this is taken for dead even on another host.
STALE_AFTER = timedelta(hours=6)
_LIBC = ctypes.CDLL(ctypes.util.find_library("c")) if ctypes.util.find_library("c") else None
if _LIBC is not None and not hasattr(_LIBC, "malloc_trim"):   # not glibc
    _LIBC = None
WINDOW_SITES = 8
WINDOW_PAGES = 5_000
"""Sites are probed and judged a window at a time: at most WINDOW_SITES sites, and no more sites once the
window's snapshots hold WINDOW_PAGES crawled pages, so memory does not grow with the number of sites."""
CRAWL_EXAMPLES = 3   # example URLs per kind of crawl event kept in the run summary
LISTED_EVENTS = {"charset": 20}
"""Kinds whose pages the site page lists (more examples), each with its event detail."""


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    status: str                       # complete | failed | interrupted
    results: store.RunResults | None  # None unless complete
    report: Path | None               # the run's HTML page, if rendered
    json_path: Path | None
    error: str | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)


def site_info(site: Site) -> SiteInfo:
    return SiteInfo(id=site.id, name=site.name, url=str(site.url), kind=site.kind, level=site.level,
                    extra_hosts=tuple(site.extra_hosts), scope=site.scope)


def requirement_info(req: Requirement) -> RequirementInfo:
    return RequirementInfo(id=req.id, title=req.title, keywords=tuple(req.keywords), applies_to=tuple(req.applies_to),
                           basis=req.basis, levels=tuple(req.levels), max_age_days=req.max_age_days,
                           stale_status=req.stale_status, deadline=req.deadline, type=req.type,
                           hosts=tuple(req.hosts), urls=tuple(req.urls), max_depth=req.max_depth,
                           for_year=req.for_year, min_ratio=req.min_ratio, pair_keywords=tuple(req.pair_keywords))


def open_store(config: Config) -> Session:
    """A session on the configured database, its schema upgraded to head.

    Runs left `running` by a dead process are marked failed here, so every
    command (status, report, run) sees them as they are.
    """
    engine = db.make_engine(config.storage.url)
    db.upgrade(engine)
    session = db.session_factory(engine)()
    for run_id in store.recover_stale_runs(session, now=utcnow(), host=socket.gethostname(),
                                           is_alive=store.pid_alive, stale_after=STALE_AFTER):
        log.warning("run %s was left running by a dead process; marked failed", run_id)
    return session


def execute(config: Config, *, kind: str, sites: Sequence[Site] | None = None, json_path: Path | None = None,
            render: bool = True, progress: Progress | None = None,
            has_ipv6_route: Callable[[], bool] | None = None, wait_s: float = 0.0, keep: bool = True) -> RunOutcome:
    """Run the checks for `sites` (default: all configured) and store the run.

    One run at a time per database (ad-hoc checks aside): the run lock is waited for up to
    `wait_s`, then locks.Busy says who holds it. An ad-hoc check with `keep=False` is
    deleted from the database once its results are read (and its JSON written), whether
    it completed or not, and renders no report: it never was part of anything stored.
    """
    if not keep and kind != store.RunKind.ADHOC:
        raise ValueError(f"only an ad-hoc check can be left unstored, not a {kind} run")
    say = progress or (lambda _msg: None)
    preflight.prepare(config)  # a report dir that cannot be written fails now, not after the crawl
    with open_store(config) as session:
        lock = None if kind == "adhoc" else _run_lock(session, wait_s, say)
        if lock is not None:
            running = store.list_runs(session, statuses=("running",), limit=10_000)
            preflight.clean_leftovers(config, {r.id for r in running})
        try:
            return _execute(session, config, kind, list(sites if sites is not None else config.sites), json_path,
                            render and keep, say, has_ipv6_route, keep, lock)
        finally:
            if lock is not None:
                lock.release()


def _run_lock(session: Session, wait_s: float, say: Progress) -> locks.Lock | None:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    holder = locks.holder(engine, locks.RUN)
    if holder is not None and wait_s > 0:
        say(f"waiting up to {wait_s:g} s for the run of {holder}")
    try:
        return locks.acquire(engine, locks.RUN, wait_s=wait_s)
    except ValueError:
        return None  # an in-memory database: no other process can share it
    except locks.Busy as exc:
        raise locks.Busy(f"another govmon run ({exc.holder}) is using this database; wait for it to end "
                         "(govmon status) or pass --wait SECONDS", exc.holder) from None


def _execute(session: Session, config: Config, kind: str, chosen: list[Site], json_path: Path | None,
             render: bool, say: Progress, has_ipv6_route: Callable[[], bool] | None, keep: bool,
             lock: locks.Lock | None) -> RunOutcome:
    run_id = store.start_run(session, kind=kind, sites=[site_info(s) for s in chosen],
                             config_digest=config.digest, code_version=__version__, started_at=utcnow(),
                             pid=os.getpid(), host=socket.gethostname())
    beat = functools.partial(_heartbeat, session, run_id, lock)
    try:
        return _carry_out(session, config, run_id, kind, chosen, json_path, render, say, has_ipv6_route, beat)
    finally:
        if not keep:
            _discard(session, run_id)


def _heartbeat(session: Session, run_id: str, lock: locks.Lock | None) -> bool:
    """Record that the run is alive; False when it was ended elsewhere. The run lock is kept first: taken
    again when a database restart dropped it, locks.LockLost (the run fails) when another run took it."""
    if lock is not None:
        lock.keep()
    return store.heartbeat(session, run_id, utcnow())


def _discard(session: Session, run_id: str) -> None:
    """Delete an unstored ad-hoc check; one left behind (its process killed, the database gone) is marked
    failed, outside the history, and pruned like any failed run."""
    try:
        store.discard_run(session, run_id)
    except Exception as exc:
        log.warning("the ad-hoc check %s could not be removed from the database: %s", run_id, exc)


def _carry_out(session: Session, config: Config, run_id: str, kind: str, chosen: list[Site], json_path: Path | None,
              render: bool, say: Progress, has_ipv6_route: Callable[[], bool] | None,
              beat: Callable[[], bool]) -> RunOutcome:
    started = time.monotonic()
    say(f"run {run_id}: {len(chosen)} sites")
    try:
        crawl_notes: dict[str, dict[str, object]] = {}
        results = _collect_and_evaluate(session, config, run_id, chosen, say, crawl_notes, beat, has_ipv6_route)
        summary = _summary(results, time.monotonic() - started)
        summary["requirements"] = {r.id: r.title for r in config.requirements}
        summary["owners"] = {s.id: {"owner": s.owner, "contact": s.contact} for s in chosen
                             if s.owner or s.contact}
        summary["crawl"] = crawl_notes
        store.finish_run(session, run_id, results, finished_at=utcnow(), summary=summary,
                         stored=isinstance(results, StoredResults))
    except (KeyboardInterrupt, SystemExit):
        session.rollback()
        store.fail_run(session, run_id, "interrupted", finished_at=utcnow(), status="interrupted")
        raise
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        log.error("run %s failed: %s", run_id, reason)
        log.debug("run %s failed", run_id, exc_info=True)
        session.rollback()
        try:
            store.fail_run(session, run_id, reason, finished_at=utcnow())
        except db.Unreachable as gone:   # the run's own reason is the one to tell; a later start marks it failed
            log.error("run %s could not be marked failed: %s", run_id, gone)
            raise db.Unreachable(reason) from exc
        return RunOutcome(run_id, "failed", None, None, None, reason)
    stored = store.load_results(session, run_id)
    log.info("run %s complete: kind=%s sites=%d %s duration=%.1fs", run_id, kind, len(chosen),
             " ".join(f"{k}={v}" for k, v in summary["statuses"].items()), summary["duration_s"])
    report = json_out = None
    if render:
        from reports import render as render_mod
        report = render_mod.write_report_set(session, config.report, run_id=run_id,
                                             timezone=config.schedule.timezone, weights=config.score.weights())
    if json_path is not None:
        from reports import export
        json_out = export.write_json(stored, json_path, language=config.report.language,
                                     weights=config.score.weights())
    return RunOutcome(run_id, "complete", stored, report, json_out)


def _collect_and_evaluate(session: Session, config: Config, run_id: str, sites: Sequence[Site],
                          say: Progress, crawl_notes: dict[str, dict[str, object]], beat: Callable[[], bool],
                          has_ipv6_route: Callable[[], bool] | None = None) -> dict[str, list[Result]]:
    planned, needs = plans(config, sites)
    gathered: dict[str, set[str]] = {s.id: set() for s in sites}
    crawled = [s for s in sites if "crawl" in needs[s.id]]
    resolver = Resolver.from_config(config.dns)
    # The IPv6 route is decided once per run: the prefetch and the prober ask the same answer.
    route = functools.cache(has_ipv6_route or probes.route_check_for(config.crawl.allowed_networks))
    prefetched: Mapping[str, tuple[FetchOutcome, int]] = {}
    prefetched_by_site: dict[str, dict[str, tuple[FetchOutcome, int]]] = {}
    prechecked: Mapping[str, linkcheck.Prechecked] = {}
    if crawled:
        with_crawl = [(site_info(s), config.crawl_for(s), needs[s.id]) for s in crawled]
        prefetch = prefetch_mod.start_for(with_crawl, resolver=resolver, crawl=config.crawl, route=route)
        early = prefetch_mod.start_early_checks(with_crawl, resolver=resolver, crawl=config.crawl)
        observers = [o.page for o in (prefetch, early) if o is not None]
        done = False
        try:
            _crawl(session, config, run_id, crawled, say, crawl_notes, beat, prefetch_mod.fan_out(observers))
            done = True
        finally:
            prefetched = prefetch.stop() if prefetch is not None else {}
            prefetched_by_site = prefetch.by_site() if prefetch is not None else {}
            prechecked = early.stop(finish=done) if early is not None else {}
        for s in crawled:
            gathered[s.id].add("crawl")
    if any("probe:links" in needs[s.id] for s in sites):
        say("checking links")
        to_check, known = store.targets_to_check(session, run_id, bounds=_link_bounds(config, sites))
        to_check = _with_site_settings(config, sites, to_check)
        if _distributed(config, sites):   # [scale]: the workers check shards of it (monitor/scale/) into the store
            from monitor.scale import coordinator
            coordinator.check_links(session, config, run_id, to_check, known, prechecked, say, heartbeat=beat)
        else:
            found = linkcheck.check_links(to_check, known=known, resolver=resolver, crawl=config.crawl,
                                          progress=lambda done, total: say(f"links {done}/{total}"),
                                          prechecked=prechecked)
            store.save_link_targets(session, run_id, found, utcnow())
            del found
        del to_check, known, prechecked   # a run's every target and crawled page: not held while judging
        release_memory()
        beat()
        for s in sites:
            if "probe:links" in needs[s.id] and "crawl" in gathered[s.id]:
                gathered[s.id].add("probe:links")
    say("probing and evaluating")
    return _probe_and_evaluate(session, config, run_id, sites, planned, needs, gathered, resolver, say,
                               route, prefetched, beat, prefetched_by_site)


def plans(config: Config, sites: Sequence[Site]
          ) -> tuple[dict[str, tuple[checks.PlannedCheck, ...]], dict[str, frozenset[str]]]:
    """Each site's planned checks and what they need (a worker judging a site plans it the same way)."""
    requirements = [requirement_info(r) for r in config.requirements]
    settings = config.checks.model_dump(exclude={"disabled"})
    planned = {s.id: checks.plan(site_info(s), requirements, settings, disabled=config.disabled_for(s)) for s in sites}
    return planned, {s.id: checks.needs_of(planned[s.id]) for s in sites}


def _distributed(config: Config, sites: Sequence[Site]) -> bool:
    """Whether the run's crawl, link check and judging go through the workers of [scale]: ad-hoc URLs (sites not in
    the config) are crawled here."""
    return config.scale is not None and all(config.site_by_id(s.id) is not None for s in sites)


def _link_bounds(config: Config, sites: Sequence[Site]) -> dict[str, tuple[int, int]]:
    own = {s.id: config.crawl_for(s) for s in sites}
    return {site_id: (c.max_link_targets, c.max_links_per_page) for site_id, c in own.items()}


def _with_site_settings(config: Config, sites: Sequence[Site], targets: Sequence[linkcheck.TargetToCheck]
                        ) -> list[linkcheck.TargetToCheck]:
    """Each target with the timeout and retries of the sites linking it (the most generous of them),
    so a site's own `timeout_s` and `retries` reach its link checks."""
    own = {s.id: config.crawl_for(s) for s in sites}
    found = []
    for target in targets:
        settings = [own[site] for site in target.sites if site in own]
        if settings:
            target = replace(target, timeout_s=max(c.timeout_s for c in settings),
                             retries=max(c.retries for c in settings))
        found.append(target)
    return found


@dataclass(frozen=True)
class _Loaded:
    """One site of a window: its crawl snapshot (None: it could not be loaded, `error` says why) and plan."""

    site: Site
    snap: SiteSnapshot | None
    plan: ProbePlan | None            # None: not crawled, or not loaded
    error: str = ""


class StoredResults(dict[str, list[Result]]):
    """Results already in the database (the sites were judged by the workers): finish_run only marks the run."""


def _probe_and_evaluate(session: Session, config: Config, run_id: str, sites: Sequence[Site],
                        planned: Mapping[str, tuple[checks.PlannedCheck, ...]], needs: Mapping[str, frozenset[str]],
                        gathered: Mapping[str, set[str]], resolver: Resolver, say: Progress,
                        has_ipv6_route: Callable[[], bool],
                        prefetched: Mapping[str, tuple[FetchOutcome, int]], beat: Callable[[], bool],
                        prefetched_by_site: Mapping[str, Mapping[str, tuple[FetchOutcome, int]]] | None = None
                        ) -> dict[str, list[Result]]:
    """Each site's snapshot loaded once, its probes planned from it (checks.probe_plan), run, stored,
    added to it, and the site judged; a window of sites at a time, their probes concurrent, in one
    event loop, so an IPv6 link fetch is shared by every site that links to it. Under [scale] the
    workers judge the sites the same way (monitor/scale/judge.py), each storing its sites' results."""
    if _distributed(config, sites):
        from monitor.scale import coordinator
        coordinator.judge(session, config, run_id, sites, gathered, has_ipv6_route(), say, heartbeat=beat,
                          prefetched=prefetched_by_site or {})
        found = store.stored_results(session, run_id)
        return StoredResults({s.id: found.get(s.id, []) for s in sites})
    results: dict[str, list[Result]] = {}
    with asyncio.Runner() as loop:
        prober = prober_for(config, resolver, has_ipv6_route, prefetched)
        try:
            done = 0
            for window in _windows(session, run_id, sites, planned, gathered):
                results.update(judge_window(session, config, run_id, loop, prober, window, planned, needs, gathered,
                                            resolver))
                done += len(window)
                say(f"probed and evaluated {done}/{len(sites)} sites")
                beat()
                window.clear()   # the generator still names this list: empty it so the snapshots go now
                release_memory()
        finally:
            loop.run(prober.aclose())
    return results


def prober_for(config: Config, resolver: Resolver, has_ipv6_route: Callable[[], bool] | None,
               prefetched: Mapping[str, tuple[FetchOutcome, int]] | None = None) -> probes.Prober:
    """The one Prober of a run's judging (or of a worker's batch of sites to judge)."""
    return probes.Prober(resolver=resolver, crawl=config.crawl, clock=utcnow, has_ipv6_route=has_ipv6_route,
                         ipv6_probe_count=config.checks.ipv6_probe_count, prefetched=prefetched or {})


def judge_window(session: Session, config: Config, run_id: str, loop: asyncio.Runner, prober: probes.Prober,
                 window: Sequence[_Loaded], planned: Mapping[str, tuple[checks.PlannedCheck, ...]],
                 needs: Mapping[str, frozenset[str]], gathered: Mapping[str, set[str]], resolver: Resolver
                 ) -> dict[str, list[Result]]:
    """Probe a window of loaded sites (concurrently, on `loop`), store the probe rows, judge each site."""
    found = loop.run(_probe_window(prober, config, window, needs, resolver))
    return _store_and_evaluate(session, config, run_id, window, planned, gathered, *found)


def load_site(session: Session, run_id: str, site: Site, planned: tuple[checks.PlannedCheck, ...],
              gathered: set[str]) -> _Loaded:
    """One site's crawl snapshot, loaded from the store once, and its probes planned from it."""
    crawled = "crawl" in gathered
    try:
        snap = store.load_snapshot(session, run_id, site_info(site), taken_at=utcnow(),
                                   collected=frozenset({"crawl"} if crawled else ()), probes=False)
    except Exception as exc:   # one site's data must not sink the run
        return _Loaded(site, None, None, _site_failed("loading the snapshot of", site.id, exc))
    return _Loaded(site, snap, checks.probe_plan(snap, planned) if crawled else None)


def _windows(session: Session, run_id: str, sites: Sequence[Site],
             planned: Mapping[str, tuple[checks.PlannedCheck, ...]], gathered: Mapping[str, set[str]]
             ) -> Iterator[list[_Loaded]]:
    """The sites in windows (WINDOW_SITES, WINDOW_PAGES), each loaded from the store once and planned."""
    window: list[_Loaded] = []
    pages = 0
    for s in sites:
        window.append(load_site(session, run_id, s, planned[s.id], gathered[s.id]))
        last = window[-1].snap
        pages += len(last.pages) if last is not None else 0
        # The window holds it now. This frame must not: it would keep a judged site's snapshot alive
        # (the caller empties the window) while the next site's loads, two large snapshots at once.
        del last
        if len(window) >= WINDOW_SITES or pages >= WINDOW_PAGES:
            yield window
            window, pages = [], 0
    if window:
        yield window


async def _probe_window(prober: probes.Prober, config: Config, window: Sequence[_Loaded],
                        needs: Mapping[str, frozenset[str]], resolver: Resolver
                        ) -> tuple[probes.Collected, probes.Collected]:
    """The window's probes, all at once: those of probes.py and the footer and column probes."""
    targets = [probes.ProbeTarget(site_info(w.site), config.crawl_for(w.site), needs[w.site.id], w.plan)
               for w in window]
    plans = {w.site.id: w.plan for w in window if w.plan is not None}
    return await asyncio.gather(
        prober.collect(targets),
        columnprobe.collect(plans, resolver=resolver, crawl=config.crawl, clock=utcnow,
                            site_crawl={w.site.id: config.crawl_for(w.site) for w in window}))


def _store_and_evaluate(session: Session, config: Config, run_id: str, window: Sequence[_Loaded],
                        planned: Mapping[str, tuple[checks.PlannedCheck, ...]], gathered: Mapping[str, set[str]],
                        found: probes.Collected, extra: probes.Collected) -> dict[str, list[Result]]:
    """Store the window's probe rows, add them (as stored) to each site's snapshot and judge it."""
    store.save_dns(session, run_id, found.dns, utcnow())
    failed: dict[str, dict[str, str]] = {}
    inputs: dict[str, set[str]] = {}
    for w in window:
        sid = w.site.id
        failed[sid] = {**(w.plan.failed if w.plan else {}), **found.failed.get(sid, {}), **extra.failed.get(sid, {})}
        inputs[sid] = set(found.collected.get(sid, ())) | set(extra.collected.get(sid, ()))
        # Rows that cannot be stored fail every input they carry, and every probe planned from the crawl.
        lost = inputs[sid] | set(w.plan.fetches if w.plan else ())
        _save_probes(session, run_id, sid, (*found.probes.get(sid, ()), *extra.probes.get(sid, ())), lost, failed)
    taken_at = utcnow()
    results: dict[str, list[Result]] = {}
    for w in window:
        sid = w.site.id
        if w.snap is None:
            results[sid] = checks.unevaluated(planned[sid], w.error)
            continue
        try:
            probed = store.load_probes(session, run_id, w.snap.site, taken_at=taken_at,
                                       window_days=config.checks.availability_window_days)
            snap = replace(w.snap, taken_at=taken_at, dns=probed.dns, probes=probed.probes, history=probed.history,
                           collected=frozenset(gathered[sid] | inputs[sid]) - set(failed[sid]),
                           failed=failed[sid])
            results[sid] = checks.evaluate(snap, planned[sid])
        except Exception as exc:  # one site's data must not sink the run
            results[sid] = checks.unevaluated(planned[sid], _site_failed("evaluating", sid, exc))
    return results


def _save_probes(session: Session, run_id: str, site_id: str, site_probes: Sequence[Probe], inputs: Iterable[str],
                 failed: dict[str, dict[str, str]]) -> None:
    """Store one site's probes; rows that cannot be stored fail that site's `inputs`, not the run."""
    try:
        store.save_probes(session, run_id, site_id, site_probes)
    except Exception as exc:
        reason = _site_failed("saving the probes of", site_id, exc)
        for need in inputs:
            failed[site_id].setdefault(need, reason)


def _site_failed(what: str, site_id: str, exc: Exception) -> str:
    """Log one site's step that raised; its short reason, for that site's results."""
    reason = probes.reason_of(exc)
    log.warning("%s site %s failed: %s", what, site_id, reason)
    log.debug("%s site %s failed", what, site_id, exc_info=True)
    return reason


def _crawl_notes(events: Sequence[ingest.CrawlEvent]) -> dict[str, dict[str, object]]:
    """Per site: how many crawl events of each kind (trap, robots, max_pages, charset …) and a few example
    URLs; a charset example carries its detail, "URL (declared → used)"."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for event in events:
        counts[event.site_id][event.kind] += 1
        urls = examples[event.site_id].setdefault(event.kind, [])
        if event.url and len(urls) < LISTED_EVENTS.get(event.kind, CRAWL_EXAMPLES):
            listed = event.kind in LISTED_EVENTS and event.detail
            urls.append(f"{event.url} ({event.detail})" if listed else event.url)
    return {site: {"counts": dict(c), "examples": examples[site]} for site, c in counts.items()}


def release_memory() -> None:
    """Hand freed memory back to the OS between phases that load whole crawls.

    Each phase builds and drops large snapshots (freed by reference counting;
    they hold no cycles); without this glibc keeps the freed heap, and the
    process's peak grows phase after phase.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def crawl_time_limit(config: Config, sites: Sequence[Site]) -> float:
    """A hard limit for the crawl child: generous, from the sites' bounds."""
    work = sum(config.crawl_for(s).max_pages * config.crawl_for(s).timeout_s for s in sites)
    return 600 + 2 * work / config.crawl.concurrency


def _crawl(session: Session, config: Config, run_id: str, sites: Sequence[Site], say: Progress,
           crawl_notes: dict[str, dict[str, object]], beat: Callable[[], bool],
           on_page: ingest.PageObserver | None = None) -> None:
    """Crawl in the child process, ingesting each spool segment as it is complete; raises if either fails
    (the run then fails, with the segments ingested so far stored).

    Fills `crawl_notes` with what cut the crawl short, per site, for the report.
    """
    if config.path is None:
        raise RuntimeError("the crawl needs the config as a file")
    if _distributed(config, sites):
        # [scale]: the workers crawl (monitor/scale/); what follows reads the same rows.
        from monitor.scale import coordinator
        coordinator.crawl(session, config, run_id, sites, say, on_page=on_page, heartbeat=beat)
        crawl_notes.update(_crawl_notes(ingest.load_events(session, run_id)))
        return
    spool = preflight.spool_dir(config, run_id)
    spool.mkdir(parents=True, exist_ok=True)
    adhoc = [str(s.url) for s in sites if config.site_by_id(s.id) is None]
    ingesting = ingest.CrawlIngest(session, run_id, on_page=on_page)
    kept: list[Path] = []

    def on_segment(path: Path) -> None:
        stats = ingesting.segment(path)
        # The rows hold everything the segment did; keep it only when the ingest had to skip something
        # (the next run removes it).
        if stats.malformed or stats.truncated:
            kept.append(path)
        else:
            path.unlink(missing_ok=True)

    say(f"crawling {len(sites)} sites")
    result = crawl.run_crawl(
        config.path, spool, site_ids=[s.id for s in sites if config.site_by_id(s.id) is not None], urls=adhoc,
        timeout_s=crawl_time_limit(config, sites),
        on_progress=lambda p: say(f"crawl: {p.sites_done}/{p.sites} sites, {p.pages} pages, {p.links} links, "
                                  f"{p.errors} errors"),
        heartbeat=beat, on_segment=on_segment)
    if not result.ok:
        raise RuntimeError(f"crawl failed: {result.reason}; {result.stderr_tail.strip()[-500:]}")
    stats = ingesting.finish()
    crawl_notes.update(_crawl_notes(ingest.load_events(session, run_id)))
    log.info("run %s crawl: %d pages, %d links in %.1fs; screening %.2fs CPU", run_id, stats.pages, stats.links,
             result.elapsed_s, result.screen_ms / 1000)
    if kept:
        log.warning("run %s: %d crawl spool segments in %s had unreadable lines; kept until the next run", run_id,
                    len(kept), spool)
    else:
        shutil.rmtree(spool, ignore_errors=True)


def _summary(results: dict[str, list[Result]], duration_s: float) -> dict[str, object]:
    statuses = Counter(str(r.status) for rs in results.values() for r in rs)
    return {"sites": len(results), "statuses": dict(sorted(statuses.items())), "duration_s": round(duration_s, 2)}
