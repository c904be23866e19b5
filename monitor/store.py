"""Every read and write of govmon's data: the only module mapping rows to and
from the dataclasses of checks.snapshot and checks.base.

Every function takes a Session and is one transaction: it commits what it
writes and ends what it reads, so call it outside a transaction of your own
(finish_run commits results and the run's completion together). Never fetches,
never reads the clock (callers pass times), never renders. SQLAlchemy errors
leave as monitor.db.StorageError, with the session rolled back. JSON columns
give back JSON: a tuple stored in metrics comes back as a list.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from checks.base import Evidence, Result, Severity, Status
from checks.snapshot import (DateHit, DnsAnswer, History, Link, LinkTarget, ListBlock, Page, Probe, SiteInfo,
                             SiteSnapshot)
from monitor import pagecodec
from monitor.db import (CheckResultRow, DnsAnswerRow, LinkFormRow, LinkTargetRow, NotificationRow, PageRow, ProbeRow,
                        RunRow, RunSiteRow, SchedulerJobRow, SiteRow, StorageError)
from monitor.linkcheck import KnownPage, TargetToCheck

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


class RunKind(StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    ADHOC = "adhoc"
    DEMO = "demo"


HISTORY_KINDS = (RunKind.SCHEDULED, RunKind.MANUAL, RunKind.DEMO)
"""The kinds of run that make the history (latest run, comparisons, trends, the availability window).
An ad-hoc `govmon check` is never one of them: it covers one site, at someone's whim."""


def _in_history(run_id: str | None = None) -> sa.ColumnElement[bool]:
    """A run of the history, or the run `run_id` itself (whatever its kind)."""
    of_kind = RunRow.kind.in_(HISTORY_KINDS)
    return sa.or_(of_kind, RunRow.id == run_id) if run_id is not None else of_kind


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    INTERRUPTED = "interrupted"    # stopped on purpose (signal, shutdown)


@dataclass(frozen=True)
class RunInfo:
    id: str
    kind: RunKind
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    config_digest: str
    code_version: str
    pid: int | None
    host: str | None
    summary: Mapping[str, Any] = field(default_factory=dict)
    heartbeat_at: datetime | None = None


@dataclass(frozen=True)
class RunResults:
    run: RunInfo
    sites: tuple[SiteInfo, ...]                  # as they were in the run, in config order
    results: Mapping[str, tuple[Result, ...]]    # site id -> results in the order they were given
    pages_crawled: Mapping[str, int]


def _storage(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Make a store function one transaction and map SQLAlchemy errors to StorageError.

    A read ends its transaction too: an open one would pin an old SQLite WAL
    snapshot (later reads would not see other processes' writes) or leave a
    PostgreSQL connection idle in transaction.
    """

    def wrap(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            session = args[0]
            assert isinstance(session, Session)
            try:
                result = func(*args, **kwargs)
                if session.in_transaction():
                    session.commit()
                return result
            except sa.exc.SQLAlchemyError as exc:
                session.rollback()
                reason = getattr(exc, "orig", None) or exc
                raise StorageError(f"{what}: {type(reason).__name__}: {reason}") from exc
        return run

    return wrap


def _insert(session: Session, table: type[Any]) -> Any:
    """The dialect's INSERT, which has on_conflict_do_nothing/do_update."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _update(session: Session, stmt: sa.Update) -> int:
    """Run an UPDATE; the number of rows it matched."""
    return cast(sa.CursorResult[Any], session.execute(stmt)).rowcount


def new_run_id(now: datetime) -> str:
    """A sortable run id: UTC time to the second, then 6 random hex digits."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _upsert_sites(session: Session, sites: Sequence[SiteInfo], at: datetime) -> None:
    for site in sites:
        values = {"name": site.name, "url": site.url, "kind": site.kind, "level": site.level, "updated_at": at}
        session.execute(_insert(session, SiteRow).values(id=site.id, **values)
                        .on_conflict_do_update(index_elements=["id"], set_=values))


@_storage("saving sites")
def sync_sites(session: Session, sites: Sequence[SiteInfo], *, at: datetime) -> None:
    """Upsert the configured sites; needed before probes of a site that no run has seen yet."""
    _upsert_sites(session, sites, at)
    session.commit()


@_storage("starting a run")
def start_run(session: Session, *, kind: str, sites: Sequence[SiteInfo], config_digest: str,
              code_version: str, started_at: datetime, pid: int | None, host: str | None) -> str:
    """Insert a running run, upsert its sites and record them as they are in this run."""
    run_id = new_run_id(started_at)
    _upsert_sites(session, sites, started_at)
    session.add(RunRow(id=run_id, kind=RunKind(kind), status=RunStatus.RUNNING, started_at=started_at,
                       heartbeat_at=started_at, pid=pid, host=host, config_digest=config_digest,
                       code_version=code_version, summary={}))
    session.add_all(RunSiteRow(run_id=run_id, site_id=site.id, position=position, name=site.name, url=site.url,
                               kind=site.kind, level=site.level, pages_crawled=0)
                    for position, site in enumerate(sites))
    session.commit()
    log.debug("run %s started (%s, %d sites)", run_id, kind, len(sites))
    return run_id


@_storage("recording a heartbeat")
def heartbeat(session: Session, run_id: str, at: datetime) -> bool:
    """Mark the run alive at `at`; False if it is no longer running (someone ended it)."""
    done = _update(session, sa.update(RunRow).where(RunRow.id == run_id, RunRow.status == RunStatus.RUNNING)
                   .values(heartbeat_at=at))
    session.commit()
    return bool(done)


def _dns_name(name: str) -> str:
    return name.lower().rstrip(".")


@_storage("saving DNS answers")
def save_dns(session: Session, run_id: str, answers: Sequence[DnsAnswer], at: datetime) -> None:
    """Store the run's DNS answers. Names are compared case-insensitively without the
    trailing dot; a second answer for the same (name, type) in a run is ignored."""
    if not answers:
        return
    rows = [{"run_id": run_id, "name": _dns_name(a.name), "rtype": a.rtype, "kind": str(a.kind),
             "addresses": list(a.addresses), "cname_chain": list(a.cname_chain), "detail": a.detail, "at": at}
            for a in answers]
    session.execute(_insert(session, DnsAnswerRow).on_conflict_do_nothing(
        index_elements=["run_id", "name", "rtype"]), rows)
    session.commit()


def _no_nul(value: Any) -> Any:
    """`value` with NUL removed from every string in it: PostgreSQL refuses NUL in text and JSON,
    and a site's page title or footer text may hold one."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, Mapping):
        return {_no_nul(k): _no_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nul(v) for v in value]
    return value


@_storage("saving probes")
def save_probes(session: Session, run_id: str | None, site_id: str, probes: Sequence[Probe]) -> None:
    """Store probes of one site; run_id None for probes outside any run (availability)."""
    if not probes:
        return
    session.execute(sa.insert(ProbeRow), [
        {"run_id": run_id, "site_id": site_id, "kind": p.kind, "url": _no_nul(p.url), "address": p.address,
         "outcome": str(p.outcome), "status": p.status, "final_url": _no_nul(p.final_url),
         "title": _no_nul(p.title), "size": p.size, "elapsed_ms": p.elapsed_ms, "at": p.at,
         "detail": _no_nul(dict(p.detail))}
        for p in probes])
    session.commit()


@_storage("saving link targets")
def save_link_targets(session: Session, run_id: str, targets: Sequence[LinkTarget], at: datetime) -> None:
    """Store the outcome of each distinct link target of the run; a URL already stored
    for the run keeps its first outcome."""
    if not targets:
        return
    rows = [{"run_id": run_id, "url": t.url, "outcome": str(t.outcome), "http_status": t.http_status,
             "attempts": t.attempts, "final_url": t.final_url, "detail": t.detail, "checked_at": at}
            for t in targets]
    session.execute(_insert(session, LinkTargetRow).on_conflict_do_nothing(index_elements=["run_id", "url"]), rows)
    session.commit()


@_storage("reading the link targets to check")
def targets_to_check(session: Session, run_id: str, bounds: Mapping[str, tuple[int, int]] | None = None
                     ) -> tuple[list[TargetToCheck], dict[str, KnownPage]]:
    """The run's distinct link targets (all sites, first seen first) with the tags they were
    linked as and the sites linking them, and what the crawl knows of those it fetched: a target
    requested as a page, or reached with a 2xx at the end of a page's redirects. Where sites
    crawled one URL differently, a 2xx wins.

    `bounds[site_id] = (max_link_targets, max_links_per_page)`: in crawl order, a site admits
    at most that many distinct http(s) targets, and at most the second number from any one page;
    a target the crawl already answered with a 2xx costs no request and is always admitted.
    A target no site admits carries `over_limit` (the bound it fell past) and is never requested.
    """
    known: dict[str, KnownPage] = {}
    pages = (sa.select(PageRow.url, PageRow.final_url, PageRow.status, PageRow.fetch_kind, PageRow.title,
                       PageRow.content_type).where(PageRow.run_id == run_id).order_by(PageRow.id)
             .execution_options(yield_per=2000))
    for url, final_url, status, fetch_kind, title, content_type in session.execute(pages):
        page = KnownPage(url=url, final_url=final_url, status=status, fetch_kind=fetch_kind, title=title,
                         content_type=content_type)
        for target in (url, final_url) if page.ok else (url,):
            if not (target in known and known[target].ok):
                known[target] = page if target == url else replace(page, url=target)
    tags: dict[str, set[str]] = {}
    sites: dict[str, set[str]] = {}
    admitted: set[str] = set()
    over: dict[str, str] = {}
    per_site: dict[str, set[str]] = defaultdict(set)
    forms = _forms(session, run_id)
    rows = (sa.select(PageRow.site_id, PageRow.extract).where(PageRow.run_id == run_id).order_by(PageRow.id)
            .execution_options(yield_per=2000))
    for site_id, extract in session.execute(rows):
        of_site = forms.get(site_id, {})
        try:
            numbers = pagecodec.forms_of(extract)
        except pagecodec.CorruptValue:
            continue   # _crawl warns about it when the site is loaded
        limits = (bounds or {}).get(site_id)
        page_seen: set[str] = set()
        for n in numbers:
            if n not in of_site:
                continue
            url, tag = of_site[n][0], of_site[n][1]
            tags.setdefault(url, set()).add(tag)
            sites.setdefault(url, set()).add(site_id)
            if limits is None or not url.startswith(("http://", "https://")) or (url in known and known[url].ok):
                admitted.add(url)   # unbounded, never requested, or answered by the crawl: costs nothing
                continue
            site_seen = per_site[site_id]
            if url in site_seen:
                continue
            if len(page_seen) >= limits[1]:
                over.setdefault(url, f"past max_links_per_page = {limits[1]} on the linking page of {site_id}")
                continue
            page_seen.add(url)
            if len(site_seen) >= limits[0]:
                over.setdefault(url, f"past max_link_targets = {limits[0]} of {site_id}")
                continue
            site_seen.add(url)
            admitted.add(url)
    known = {url: page for url, page in known.items() if url in tags}
    return [TargetToCheck(url, frozenset(t), frozenset(sites[url]),
                          None if url in admitted else over[url])   # every url left out has its reason
            for url, t in tags.items()], known


_PROBE_COLUMNS = (ProbeRow.kind, ProbeRow.url, ProbeRow.outcome, ProbeRow.at, ProbeRow.status, ProbeRow.address,
                  ProbeRow.final_url, ProbeRow.title, ProbeRow.size, ProbeRow.elapsed_ms, ProbeRow.detail)


@dataclass(frozen=True)
class Probed:
    """The light part of a site's snapshot: what the run's probes stored, and the history."""

    dns: tuple[DnsAnswer, ...]
    probes: tuple[Probe, ...]
    history: History


@_storage("loading a snapshot")
def load_snapshot(session: Session, run_id: str, site: SiteInfo, *, taken_at: datetime,
                  collected: frozenset[str], hosts: Sequence[str] = (), window_days: int = 7,
                  probes: bool = True) -> SiteSnapshot:
    """What a run collected about one site, plus its history.

    `dns` holds the answers for `hosts` (default: the host of the site's URL);
    `history.availability` every availability probe of the site taken within
    `window_days` up to `taken_at`, oldest first: those stored without a run (the
    daemon's), by runs of the history (HISTORY_KINDS, whatever their status) and by
    this run; never those of another ad-hoc check. `probes=False`
    loads the crawl and its link targets only (add the rest later from `load_probes`).
    """
    pages, links, targets = _crawl(session, run_id, site.id)
    snap = SiteSnapshot(site=site, taken_at=taken_at, collected=collected, pages=pages, links=links, targets=targets)
    if not probes:
        return snap
    probed = _probed(session, run_id, site, taken_at, hosts, window_days)
    return replace(snap, dns=probed.dns, probes=probed.probes, history=probed.history)


@_storage("loading a site's probes")
def load_probes(session: Session, run_id: str, site: SiteInfo, *, taken_at: datetime, hosts: Sequence[str] = (),
                window_days: int = 7) -> Probed:
    """The run's DNS answers and probes of one site and its history, as `load_snapshot` gives them."""
    return _probed(session, run_id, site, taken_at, hosts, window_days)


def _probed(session: Session, run_id: str, site: SiteInfo, taken_at: datetime, hosts: Sequence[str],
            window_days: int) -> Probed:
    names = [_dns_name(h) for h in hosts] or [_dns_name(urlsplit(site.url).hostname or "")]
    dns = session.execute(sa.select(DnsAnswerRow.name, DnsAnswerRow.rtype, DnsAnswerRow.kind,
                                    DnsAnswerRow.addresses, DnsAnswerRow.cname_chain, DnsAnswerRow.detail)
                          .where(DnsAnswerRow.run_id == run_id, DnsAnswerRow.name.in_(names))
                          .order_by(DnsAnswerRow.id))
    probes = session.execute(sa.select(*_PROBE_COLUMNS).where(ProbeRow.run_id == run_id, ProbeRow.site_id == site.id)
                             .order_by(ProbeRow.at, ProbeRow.id)).all()
    counted = sa.or_(ProbeRow.run_id.is_(None), ProbeRow.run_id.in_(sa.select(RunRow.id).where(_in_history(run_id))))
    window = session.execute(sa.select(*_PROBE_COLUMNS).where(
        ProbeRow.site_id == site.id, ProbeRow.kind == "availability", counted,
        ProbeRow.at >= taken_at - timedelta(days=window_days), ProbeRow.at <= taken_at)
        .order_by(ProbeRow.at, ProbeRow.id)).all()
    return Probed(dns=tuple(DnsAnswer(name=name, rtype=rtype, kind=kind, addresses=tuple(addresses),
                                      cname_chain=tuple(chain), detail=detail)
                            for name, rtype, kind, addresses, chain, detail in dns),
                  probes=tuple(Probe(*row) for row in probes),
                  history=History(availability=tuple(Probe(*row) for row in window)))


@_storage("reading a site's crawl")
def crawl_of(session: Session, run_id: str, site_id: str) -> tuple[tuple[Page, ...], tuple[Link, ...]] | None:
    """The pages and links the run's crawl stored for one site (for probes planned from them);
    None when the crawl stored no page for it."""
    pages, links, _ = _crawl(session, run_id, site_id)
    return (pages, links) if pages else None


def _forms(session: Session, run_id: str, site_id: str | None = None) -> dict[str, dict[int, tuple[str, ...]]]:
    """site id -> form number -> (target, tag, text, context, block), one string object per
    distinct value: a large site's forms repeat a few tags, contexts and texts many times."""
    same: dict[str, str] = {}
    forms: dict[str, dict[int, tuple[str, ...]]] = defaultdict(dict)
    query = sa.select(LinkFormRow.site_id, LinkFormRow.n, LinkFormRow.target_url, LinkFormRow.tag, LinkFormRow.text,
                      LinkFormRow.context, LinkFormRow.block).where(LinkFormRow.run_id == run_id)
    if site_id is not None:
        query = query.where(LinkFormRow.site_id == site_id)
    for site, n, *values in session.execute(query.execution_options(yield_per=5000)):
        forms[site][n] = tuple(same.setdefault(v, v) if v else "" for v in values)
    return forms


def _crawl(session: Session, run_id: str, site_id: str
           ) -> tuple[tuple[Page, ...], tuple[Link, ...], Mapping[str, LinkTarget]]:
    # Plain column rows, not ORM objects: a large site has hundreds of thousands of links.
    page_rows = session.execute(sa.select(PageRow.url, PageRow.final_url, PageRow.status, PageRow.fetch_kind,
                                          PageRow.depth, PageRow.content_type, PageRow.encoding, PageRow.size,
                                          PageRow.title, PageRow.redirect_chain, PageRow.lists, PageRow.extract)
                                .where(PageRow.run_id == run_id, PageRow.site_id == site_id)
                                .order_by(PageRow.id).execution_options(yield_per=2000))
    forms = _forms(session, run_id, site_id).get(site_id, {})
    targets_of = {n: form[0] for n, form in forms.items()}
    pages: list[Page] = []
    links: list[Link] = []
    for url, final_url, status, kind, depth, content_type, encoding, size, title, chain, lists, extract in page_rows:
        try:
            numbers, dates = pagecodec.decode(extract, targets_of)
        except pagecodec.CorruptValue as exc:
            log.warning("run %s, site %s: %s: %s (its links and dates are left out)", run_id, site_id, url, exc)
            numbers, dates = [], []
        pages.append(Page(url=url, final_url=final_url, status=status, fetch_kind=kind, depth=depth,
                          content_type=content_type, encoding=encoding, size=size, title=title,
                          redirect_chain=tuple(chain), lists=_lists(lists),
                          dates=tuple(DateHit(d.day, d.source, d.snippet, d.block, d.item) for d in dates)))
        links += (Link(url, *forms[n]) for n in numbers if n in forms)
    if not pages:
        return (), (), {}
    linked = sa.select(LinkFormRow.target_url).where(LinkFormRow.run_id == run_id, LinkFormRow.site_id == site_id)
    targets = {url: LinkTarget(url=url, outcome=outcome, http_status=status, attempts=attempts, final_url=final,
                               detail=detail)
               for url, outcome, status, attempts, final, detail in session.execute(
                   sa.select(LinkTargetRow.url, LinkTargetRow.outcome, LinkTargetRow.http_status,
                             LinkTargetRow.attempts, LinkTargetRow.final_url, LinkTargetRow.detail)
                   .where(LinkTargetRow.run_id == run_id, LinkTargetRow.url.in_(linked)))}
    return tuple(pages), tuple(links), targets


def _lists(stored: Any) -> tuple[ListBlock, ...]:
    """A page's list blocks from their stored JSON (unknown fields ignored)."""
    names = ("key", "region", "heading", "items", "pager", "total", "widget")
    return tuple(ListBlock(**{k: v for k, v in block.items() if k in names}) for block in stored or ()
                 if isinstance(block, dict) and "key" in block)


def _result_row(run_id: str, site_id: str, r: Result) -> dict[str, Any]:
    for part in ("message_params", "metrics"):
        try:
            json.dumps(dict(getattr(r, part)))
        except (TypeError, ValueError) as exc:
            raise StorageError(f"finishing the run: result {r.check_id} of site {site_id}: "
                               f"{part} is not JSON ({exc})") from exc
    return {"run_id": run_id, "site_id": site_id, "check_id": r.check_id, "status": Status(r.status),
            "severity": Severity(r.severity), "basis": r.basis, "message_key": r.message_key,
            "message_params": dict(r.message_params), "metrics": dict(r.metrics),
            "evidence": [asdict(e) for e in r.evidence]}


@_storage("finishing the run")
def finish_run(session: Session, run_id: str, results: Mapping[str, Sequence[Result]], *,
               finished_at: datetime, summary: dict[str, Any]) -> None:
    """Store every result and mark the run complete, in one transaction; also set each
    site's pages_crawled from its stored pages.

    Either all of it is committed or none: on any error the session is rolled
    back, the run stays running and StorageError is raised (call fail_run then).
    Raises StorageError too when the run is not running any more.
    """
    rows = [_result_row(run_id, site_id, r) for site_id, site_results in results.items() for r in site_results]
    pages = (sa.select(sa.func.count(PageRow.id))
             .where(PageRow.run_id == RunSiteRow.run_id, PageRow.site_id == RunSiteRow.site_id)
             .scalar_subquery())
    try:
        # The status update comes first so that it takes the write lock before the inserts.
        marked = _update(session, sa.update(RunRow)
                         .where(RunRow.id == run_id, RunRow.status == RunStatus.RUNNING)
                         .values(status=RunStatus.COMPLETE, finished_at=finished_at, heartbeat_at=finished_at,
                                 summary=summary))
        if not marked:
            raise StorageError(f"finishing the run: run {run_id} is not running")
        session.execute(sa.update(RunSiteRow).where(RunSiteRow.run_id == run_id).values(pages_crawled=pages))
        if rows:
            session.execute(sa.insert(CheckResultRow), rows)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    log.debug("run %s complete: %d results", run_id, len(rows))


@_storage("failing the run")
def fail_run(session: Session, run_id: str, reason: str, *, finished_at: datetime,
             status: str = RunStatus.FAILED) -> bool:
    """Mark a running run failed (or interrupted) with the reason; False if it was not running.

    Discards whatever the session had not committed: that work belonged to the failed run.
    """
    if RunStatus(status) not in (RunStatus.FAILED, RunStatus.INTERRUPTED):
        raise ValueError(f"a run ends as failed or interrupted, not {status!r}")
    session.rollback()
    done = _update(session, sa.update(RunRow).where(RunRow.id == run_id, RunRow.status == RunStatus.RUNNING)
                   .values(status=RunStatus(status), finished_at=finished_at, error=reason))
    session.commit()
    if done:
        log.info("run %s %s: %s", run_id, status, reason)
    return bool(done)


@_storage("discarding an ad-hoc check")
def discard_run(session: Session, run_id: str) -> bool:
    """Delete an ad-hoc check that is not running, with everything it stored (its rows cascade
    with the run), and the sites only it knew; False if there is no such run.

    Never deletes a run of the history: ValueError for any other kind, or for a running check.
    """
    run = session.get(RunRow, run_id)
    if run is None:
        return False
    if run.kind != RunKind.ADHOC or run.status == RunStatus.RUNNING:
        raise ValueError(f"only a finished ad-hoc check is discarded, not the {run.status} {run.kind} run {run_id}")
    sites = list(session.scalars(sa.select(RunSiteRow.site_id).where(RunSiteRow.run_id == run_id)))
    session.execute(sa.delete(RunRow).where(RunRow.id == run_id, RunRow.kind == RunKind.ADHOC))
    session.execute(sa.delete(SiteRow).where(
        SiteRow.id.in_(sites), ~sa.exists().where(RunSiteRow.site_id == SiteRow.id),
        ~sa.exists().where(ProbeRow.site_id == SiteRow.id)))
    session.commit()
    log.debug("ad-hoc check %s discarded", run_id)
    return True


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (the default `is_alive`)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale_reason(run: RunRow, *, now: datetime, host: str, is_alive: Callable[[int], bool],
                  stale_after: timedelta) -> str | None:
    if run.host == host and run.pid is not None and not is_alive(run.pid):
        return f"the process running it (pid {run.pid} on {host}) is gone"
    last = run.heartbeat_at or run.started_at
    if now - last > stale_after:
        return f"no heartbeat since {last.isoformat()} (more than {stale_after} before {now.isoformat()})"
    return None


@_storage("recovering stale runs")
def recover_stale_runs(session: Session, *, now: datetime, host: str, is_alive: Callable[[int], bool],
                       stale_after: timedelta) -> list[str]:
    """Mark failed every running run whose process on this host is dead or whose
    heartbeat is older than stale_after; returns their ids, oldest first."""
    recovered = []
    for run in session.scalars(sa.select(RunRow).where(RunRow.status == RunStatus.RUNNING)
                               .order_by(RunRow.id)).all():
        reason = _stale_reason(run, now=now, host=host, is_alive=is_alive, stale_after=stale_after)
        if reason is None:
            continue
        if _update(session, sa.update(RunRow).where(RunRow.id == run.id, RunRow.status == RunStatus.RUNNING)
                   .values(status=RunStatus.FAILED, finished_at=now, error=f"abandoned: {reason}")):
            recovered.append(run.id)
            log.warning("run %s marked failed: %s", run.id, reason)
    session.commit()
    return recovered


def _run_info(row: RunRow) -> RunInfo:
    return RunInfo(id=row.id, kind=RunKind(row.kind), status=RunStatus(row.status), started_at=row.started_at,
                   finished_at=row.finished_at, error=row.error, config_digest=row.config_digest,
                   code_version=row.code_version, pid=row.pid, host=row.host, summary=dict(row.summary),
                   heartbeat_at=row.heartbeat_at)


_NEWEST_FIRST = (RunRow.started_at.desc(), RunRow.id.desc())


@_storage("listing runs")
def list_runs(session: Session, *, statuses: Sequence[str] = (RunStatus.COMPLETE,), kinds: Sequence[str] = (),
              limit: int = 50) -> list[RunInfo]:
    """Runs with one of `statuses` (and of `kinds`, if given; default: every kind), newest first."""
    query = sa.select(RunRow).where(RunRow.status.in_([RunStatus(s) for s in statuses]))
    if kinds:
        query = query.where(RunRow.kind.in_([RunKind(k) for k in kinds]))
    return [_run_info(r) for r in session.scalars(query.order_by(*_NEWEST_FIRST).limit(limit))]


@_storage("reading a run")
def get_run(session: Session, run_id: str) -> RunInfo | None:
    row = session.get(RunRow, run_id)
    return _run_info(row) if row else None


def latest_complete_run(session: Session) -> RunInfo | None:
    """The newest complete run of the history (never an ad-hoc check); None if none."""
    runs = list_runs(session, kinds=HISTORY_KINDS, limit=1)
    return runs[0] if runs else None


@_storage("reading the previous run")
def previous_complete_run(session: Session, run_id: str, *, kinds: Sequence[str] = HISTORY_KINDS
                          ) -> RunInfo | None:
    """The newest complete run of one of `kinds` (default: the history's) started before `run_id`; None if none."""
    this = session.get(RunRow, run_id)
    if this is None:
        return None
    earlier = sa.or_(RunRow.started_at < this.started_at,
                     sa.and_(RunRow.started_at == this.started_at, RunRow.id < this.id))
    query = sa.select(RunRow).where(RunRow.status == RunStatus.COMPLETE, earlier,
                                    RunRow.kind.in_([RunKind(k) for k in kinds]))
    row = session.scalars(query.order_by(*_NEWEST_FIRST).limit(1)).first()
    return _run_info(row) if row else None


def _result(row: CheckResultRow) -> Result:
    return Result(check_id=row.check_id, status=Status(row.status), severity=Severity(row.severity),
                  basis=row.basis, message_key=row.message_key, message_params=row.message_params,
                  metrics=row.metrics, evidence=tuple(Evidence(**e) for e in row.evidence))


@_storage("loading results")
def load_results(session: Session, run_id: str) -> RunResults:
    """The sites and results of a complete run; LookupError if there is no such complete run."""
    run = get_run(session, run_id)
    if run is None or run.status != RunStatus.COMPLETE:
        raise LookupError(f"no complete run {run_id!r}" + (f" (it is {run.status})" if run else ""))
    site_rows = session.scalars(sa.select(RunSiteRow).where(RunSiteRow.run_id == run_id)
                                .order_by(RunSiteRow.position)).all()
    results: dict[str, list[Result]] = {s.site_id: [] for s in site_rows}
    for row in session.scalars(sa.select(CheckResultRow).where(CheckResultRow.run_id == run_id)
                               .order_by(CheckResultRow.id)):
        results[row.site_id].append(_result(row))
    return RunResults(
        run=run,
        sites=tuple(SiteInfo(id=s.site_id, name=s.name, url=s.url, kind=s.kind, level=s.level) for s in site_rows),
        results={site_id: tuple(rs) for site_id, rs in results.items()},
        pages_crawled={s.site_id: s.pages_crawled for s in site_rows})


@dataclass(frozen=True)
class PastResult:
    run_id: str
    site_id: str
    check_id: str
    status: Status
    metrics: Mapping[str, Any]   # only for the check ids asked for in result_history, else {}
    message_key: str = ""        # what the result said (reports name a finding fixed since by it)


@dataclass(frozen=True)
class ResultHistory:
    runs: tuple[RunInfo, ...]            # complete runs of the history, oldest first; the run asked for is last
    results: tuple[PastResult, ...]      # every result of those runs, in run order


@_storage("reading result history")
def result_history(session: Session, run_id: str, *, limit: int = 52,
                   metrics_for: Sequence[str] = ()) -> ResultHistory:
    """The statuses of the last `limit` complete runs of the history up to and including `run_id`.

    Ad-hoc checks are left out (HISTORY_KINDS), except `run_id` itself when it is one: its
    report compares it with the history, never the history with it. Metrics are loaded
    only for the check ids in `metrics_for` (trend figures); an unknown or incomplete
    `run_id` gives an empty history.
    """
    this = session.get(RunRow, run_id)
    if this is None or this.status != RunStatus.COMPLETE:
        return ResultHistory((), ())
    not_later = sa.or_(RunRow.started_at < this.started_at,
                       sa.and_(RunRow.started_at == this.started_at, RunRow.id <= this.id))
    rows = session.scalars(sa.select(RunRow).where(RunRow.status == RunStatus.COMPLETE, not_later,
                                                   _in_history(run_id))
                           .order_by(*_NEWEST_FIRST).limit(limit)).all()
    runs = tuple(_run_info(r) for r in reversed(rows))
    order = {r.id: i for i, r in enumerate(runs)}
    cr = CheckResultRow
    statuses = session.execute(sa.select(cr.run_id, cr.site_id, cr.check_id, cr.status, cr.message_key)
                               .where(cr.run_id.in_(list(order))).order_by(cr.id)).all()
    metrics: dict[tuple[str, str, str], dict[str, Any]] = {}
    if metrics_for:
        for m in session.execute(sa.select(cr.run_id, cr.site_id, cr.check_id, cr.metrics)
                                 .where(cr.run_id.in_(list(order)), cr.check_id.in_(list(metrics_for)))):
            metrics[(m.run_id, m.site_id, m.check_id)] = dict(m.metrics or {})
    results = sorted((PastResult(s.run_id, s.site_id, s.check_id, Status(s.status),
                                 metrics.get((s.run_id, s.site_id, s.check_id), {}), s.message_key)
                      for s in statuses),
                     key=lambda p: order[p.run_id])
    return ResultHistory(runs, tuple(results))


# --- the daemon: its child runs, notification deliveries, the job store -------------------------------------


@_storage("finding a process's run")
def run_of_process(session: Session, *, pid: int, host: str, since: datetime) -> RunInfo | None:
    """The newest run that process `pid` on `host` started at or after `since`, if any."""
    row = session.scalars(sa.select(RunRow).where(RunRow.pid == pid, RunRow.host == host,
                                                  RunRow.started_at >= since)
                          .order_by(*_NEWEST_FIRST).limit(1)).first()
    return _run_info(row) if row else None


@dataclass(frozen=True)
class NotificationInfo:
    run_id: str
    channel: str
    target: str          # redacted by the caller: never a token
    status: str          # sent | failed
    attempts: int
    error: str | None
    at: datetime


@_storage("recording a notification")
def record_notification(session: Session, n: NotificationInfo) -> None:
    session.add(NotificationRow(run_id=n.run_id, channel=n.channel, target=n.target, status=n.status,
                                attempts=n.attempts, error=n.error, at=n.at))
    session.commit()


@_storage("listing notifications")
def list_notifications(session: Session, run_id: str) -> list[NotificationInfo]:
    """The run's deliveries in the order they were recorded."""
    rows = session.scalars(sa.select(NotificationRow).where(NotificationRow.run_id == run_id)
                           .order_by(NotificationRow.id))
    return [NotificationInfo(run_id=r.run_id, channel=r.channel, target=r.target, status=r.status,
                             attempts=r.attempts, error=r.error, at=r.at) for r in rows]


@_storage("reading the schedule")
def scheduled_jobs(session: Session) -> dict[str, datetime | None]:
    """The daemon's stored jobs by id and their next run time (None: paused)."""
    return {job_id: datetime.fromtimestamp(ts, UTC) if ts is not None else None
            for job_id, ts in session.execute(sa.select(SchedulerJobRow.id, SchedulerJobRow.next_run_time)
                                              .order_by(SchedulerJobRow.id))}
