"""One run, start to finish: start → crawl → ingest → link checks → probes → evaluate → finish → render.

Scheduled, manual, ad-hoc and demo runs all take this one path. Any failure
before `finish_run` marks the run failed (or interrupted on Ctrl-C/SIGTERM), so
a run is never shown half-written as complete.

What belongs to one site is isolated: an exception in one of its probes, in
reading its crawl or in building and judging its snapshot becomes `error`
results for that site's checks, with the reason, and the run goes on for the
others (the crawl and the storage of the run as a whole are not per site).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
import shutil
import socket
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import checks
from checks.base import Result
from checks.snapshot import Probe, RequirementInfo, SiteInfo, SiteSnapshot
from checks.columns import COLUMN_PROBE, footer_url, offsite_column
from checks.freshness import homepage_chain, homepage_urls
from checks.linktiers import link_tiers
from monitor import __version__, columnprobe, crawl, db, ingest, linkcheck, locks, preflight, probes, store
from monitor.config import Config, Requirement, Site
from monitor.resolver import Resolver

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
# A run whose heartbeat is older than this is taken for dead even on another host.
STALE_AFTER = timedelta(hours=6)
_LIBC = ctypes.CDLL(ctypes.util.find_library("c")) if ctypes.util.find_library("c") else None
if _LIBC is not None and not hasattr(_LIBC, "malloc_trim"):   # not glibc
    _LIBC = None
REDIRECT_TAGS = frozenset({"meta-refresh", "js-location"})
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
                           stale_status=req.stale_status, deadline=req.deadline)


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
            has_ipv6_route: Callable[[], bool] | None = None, wait_s: float = 0.0) -> RunOutcome:
    """Run the checks for `sites` (default: all configured) and store the run.

    One run at a time per database (ad-hoc checks aside): the run lock is waited for up to
    `wait_s`, then locks.Busy says who holds it.
    """
    say = progress or (lambda _msg: None)
    preflight.prepare(config)  # a report dir that cannot be written fails now, not after the crawl
    with open_store(config) as session:
        lock = None if kind == "adhoc" else _run_lock(session, wait_s, say)
        if lock is not None:
            running = store.list_runs(session, statuses=("running",), limit=10_000)
            preflight.clean_leftovers(config, {r.id for r in running})
        try:
            return _execute(session, config, kind, list(sites if sites is not None else config.sites), json_path,
                            render, say, has_ipv6_route)
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
             render: bool, say: Progress, has_ipv6_route: Callable[[], bool] | None) -> RunOutcome:
    started = time.monotonic()
    run_id = store.start_run(session, kind=kind, sites=[site_info(s) for s in chosen],
                             config_digest=config.digest, code_version=__version__, started_at=utcnow(),
                             pid=os.getpid(), host=socket.gethostname())
    say(f"run {run_id}: {len(chosen)} sites")
    try:
        crawl_notes: dict[str, dict[str, object]] = {}
        results = _collect_and_evaluate(session, config, run_id, chosen, say, crawl_notes, has_ipv6_route)
        summary = _summary(results, time.monotonic() - started)
        summary["requirements"] = {r.id: r.title for r in config.requirements}
        summary["crawl"] = crawl_notes
        store.finish_run(session, run_id, results, finished_at=utcnow(), summary=summary)
    except (KeyboardInterrupt, SystemExit):
        session.rollback()
        store.fail_run(session, run_id, "interrupted", finished_at=utcnow(), status="interrupted")
        raise
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        log.error("run %s failed: %s", run_id, reason)
        log.debug("run %s failed", run_id, exc_info=True)
        session.rollback()
        store.fail_run(session, run_id, reason, finished_at=utcnow())
        return RunOutcome(run_id, "failed", None, None, None, reason)
    stored = store.load_results(session, run_id)
    log.info("run %s complete: kind=%s sites=%d %s duration=%.1fs", run_id, kind, len(chosen),
             " ".join(f"{k}={v}" for k, v in summary["statuses"].items()), summary["duration_s"])
    report = json_out = None
    if render:
        from reports import render as render_mod
        report = render_mod.write_report_set(session, config.report, run_id=run_id,
                                             timezone=config.schedule.timezone)
    if json_path is not None:
        from reports import export
        json_out = export.write_json(stored, json_path, language=config.report.language)
    return RunOutcome(run_id, "complete", stored, report, json_out)


def _collect_and_evaluate(session: Session, config: Config, run_id: str, sites: Sequence[Site],
                          say: Progress, crawl_notes: dict[str, dict[str, object]],
                          has_ipv6_route: Callable[[], bool] | None = None) -> dict[str, list[Result]]:
    requirements = [requirement_info(r) for r in config.requirements]
    settings = config.checks.model_dump(exclude={"disabled"})
    planned = {s.id: checks.plan(site_info(s), requirements, settings, disabled=config.disabled_for(s)) for s in sites}
    needs = {s.id: checks.needs_of(planned[s.id]) for s in sites}
    gathered: dict[str, set[str]] = {s.id: set() for s in sites}
    crawled = [s for s in sites if "crawl" in needs[s.id]]
    if crawled:
        _crawl(session, config, run_id, crawled, say, crawl_notes)
        for s in crawled:
            gathered[s.id].add("crawl")
    resolver = Resolver.from_config(config.dns)
    if any("probe:links" in needs[s.id] for s in sites):
        say("checking links")
        to_check, known = store.targets_to_check(session, run_id, bounds=_link_bounds(config, sites))
        to_check = _with_site_settings(config, sites, to_check)
        found = linkcheck.check_links(to_check, known=known, resolver=resolver, crawl=config.crawl,
                                      progress=lambda done, total: say(f"links {done}/{total}"))
        store.save_link_targets(session, run_id, found, utcnow())
        store.heartbeat(session, run_id, utcnow())
        for s in sites:
            if "probe:links" in needs[s.id] and "crawl" in gathered[s.id]:
                gathered[s.id].add("probe:links")
    failed: dict[str, dict[str, str]] = defaultdict(dict)   # site id -> input -> why we failed collecting it
    targets = []
    for s in sites:
        targets.append(_probe_target(session, config, run_id, s, needs[s.id], "crawl" in gathered[s.id], failed))
        release_memory()
    say("probing")
    collected = asyncio.run(probes.collect(targets, resolver=resolver, crawl=config.crawl, clock=utcnow,
                                           has_ipv6_route=has_ipv6_route,
                                           ipv6_probe_count=config.checks.ipv6_probe_count))
    for site_id, reasons in collected.failed.items():
        failed[site_id].update(reasons)
    store.save_dns(session, run_id, collected.dns, utcnow())
    for site_id, site_probes in collected.probes.items():
        _save_probes(session, run_id, site_id, site_probes, collected.collected.get(site_id, frozenset()), failed)
    store.heartbeat(session, run_id, utcnow())
    _probe_columns(session, config, run_id, sites, planned, needs, gathered, resolver, say, failed)
    say("evaluating")
    taken_at = utcnow()
    results: dict[str, list[Result]] = {}
    for s in sites:
        inputs = frozenset(gathered[s.id] | collected.collected.get(s.id, frozenset())) - set(failed[s.id])
        try:
            results[s.id] = _evaluate(session, config, run_id, s, planned[s.id], taken_at, inputs, failed[s.id])
        except Exception as exc:  # one site's data must not sink the run
            results[s.id] = checks.unevaluated(planned[s.id], _site_failed("evaluating", s.id, exc))
        release_memory()
    return results


def _link_bounds(config: Config, sites: Sequence[Site]) -> dict[str, tuple[int, int]]:
    return {s.id: (config.crawl_for(s).max_link_targets, config.crawl_for(s).max_links_per_page) for s in sites}


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


def _evaluate(session: Session, config: Config, run_id: str, site: Site, planned: Sequence[checks.PlannedCheck],
              taken_at: datetime, inputs: frozenset[str], failed: Mapping[str, str]) -> list[Result]:
    snap = store.load_snapshot(session, run_id, site_info(site), taken_at=taken_at, collected=inputs,
                               window_days=config.checks.availability_window_days)
    return checks.evaluate(replace(snap, failed=dict(failed)), planned)


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


def _probe_columns(session: Session, config: Config, run_id: str, sites: Sequence[Site],
                   planned: Mapping[str, tuple[checks.PlannedCheck, ...]], needs: Mapping[str, frozenset[str]],
                   gathered: dict[str, set[str]], resolver: Resolver, say: Progress,
                   failed: dict[str, dict[str, str]]) -> None:
    """Read each crawled homepage's footer and the columns a site links on other hosts (probe rows);
    a site whose crawl cannot be read, or a probe that raises, leaves its reason in `failed`."""
    jobs: dict[str, tuple[str | None, list[str]]] = {}
    for s in sites:
        cols = [p for p in planned[s.id] if p.spec_id == "column" and not p.disabled]
        wants_footer = "probe:footer" in needs[s.id]
        if "crawl" not in gathered[s.id] or not (cols or wants_footer):
            continue
        try:
            jobs[s.id] = _column_job(session, run_id, s, cols, wants_footer)
        except Exception as exc:
            reason = _site_failed("finding the footer and off-site columns of", s.id, exc)
            failed[s.id].update({COLUMN_PROBE: reason, **({"probe:footer": reason} if wants_footer else {})})
        release_memory()
    if not jobs:
        return
    say("reading footers and off-site columns")
    extra = asyncio.run(columnprobe.collect(jobs, resolver=resolver, crawl=config.crawl, clock=utcnow,
                                            failed=failed, site_crawl={s.id: config.crawl_for(s) for s in sites}))
    for site_id, site_probes in extra.items():
        footer, offsite = jobs[site_id]
        lost = [f"{COLUMN_PROBE} {u}" for u in offsite] + (["probe:footer"] if footer else [])
        _save_probes(session, run_id, site_id, site_probes, lost, failed)
    for site_id, (footer, _) in jobs.items():
        if footer and "probe:footer" not in failed[site_id]:
            gathered[site_id].add("probe:footer")
    store.heartbeat(session, run_id, utcnow())


def _column_job(session: Session, run_id: str, site: Site, cols: Sequence[checks.PlannedCheck],
                wants_footer: bool) -> tuple[str | None, list[str]]:
    """(the page to read the footer of or None, the off-site column URLs to probe) of one site."""
    snap = store.load_snapshot(session, run_id, site_info(site), taken_at=utcnow(), collected=frozenset({"crawl"}))
    offsite = [u for p in cols if (u := offsite_column(snap, p.params["requirement"]))]
    return footer_url(snap) if wants_footer else None, offsite


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


def _probe_target(session: Session, config: Config, run_id: str, site: Site, needs: frozenset[str],
                  crawled: bool, failed: dict[str, dict[str, str]]) -> probes.ProbeTarget:
    """What the probes need of one site; where links-v6 is planned, the part of its crawl the link tiers use.

    Only the links of the homepage and its secondary pages are kept (plus redirects), so that every site's
    target does not hold its whole crawl in memory while all sites are probed together. A crawl that
    cannot be read fails links-v6 (its reason in `failed`); the other probes still run.
    """
    bare = probes.ProbeTarget(site_info(site), config.crawl_for(site), needs)
    if "probe:links-v6" not in needs or not crawled:
        return bare
    try:
        return _with_crawl(session, config, run_id, site, needs)
    except Exception as exc:
        failed[site.id]["probe:links-v6"] = _site_failed("reading the crawl of", site.id, exc)
        return bare


def _with_crawl(session: Session, config: Config, run_id: str, site: Site, needs: frozenset[str]
                ) -> probes.ProbeTarget:
    pages, links = store.crawl_of(session, run_id, site.id) or ((), ())
    snap = SiteSnapshot(site=site_info(site), taken_at=utcnow(), collected=frozenset(), pages=pages, links=links)
    tiers = link_tiers(snap)
    sources = set(homepage_urls(homepage_chain(snap))) | set(tiers.secondary)
    kept = tuple(k for k in links if k.source_url in sources or k.tag in REDIRECT_TAGS)
    return probes.ProbeTarget(site_info(site), config.crawl_for(site), needs, pages=pages, links=kept)


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
           crawl_notes: dict[str, dict[str, object]]) -> None:
    """Crawl in the child process, ingesting each spool segment as it is complete; raises if either fails
    (the run then fails, with the segments ingested so far stored).

    Fills `crawl_notes` with what cut the crawl short, per site, for the report.
    """
    if config.path is None:
        raise RuntimeError("the crawl needs the config as a file")
    spool = preflight.spool_dir(config, run_id)
    spool.mkdir(parents=True, exist_ok=True)
    adhoc = [str(s.url) for s in sites if config.site_by_id(s.id) is None]
    ingesting = ingest.CrawlIngest(session, run_id)
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
        heartbeat=lambda: store.heartbeat(session, run_id, utcnow()), on_segment=on_segment)
    if not result.ok:
        raise RuntimeError(f"crawl failed: {result.reason}; {result.stderr_tail.strip()[-500:]}")
    stats = ingesting.finish()
    crawl_notes.update(_crawl_notes(ingest.load_events(session, run_id)))
    log.info("run %s crawl: %d pages, %d links in %.1fs", run_id, stats.pages, stats.links, result.elapsed_s)
    if kept:
        log.warning("run %s: %d crawl spool segments in %s had unreadable lines; kept until the next run", run_id,
                    len(kept), spool)
    else:
        shutil.rmtree(spool, ignore_errors=True)


def _summary(results: dict[str, list[Result]], duration_s: float) -> dict[str, object]:
    statuses = Counter(str(r.status) for rs in results.values() for r in rs)
    return {"sites": len(results), "statuses": dict(sorted(statuses.items())), "duration_s": round(duration_s, 2)}
