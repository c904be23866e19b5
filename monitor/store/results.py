"""Check results: stored with the run's completion in one transaction (or, judged by the workers of a
distributed run, per site before it), loaded per run, and the history of a run's sites' results for
trends and since-when."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checks.base import Evidence, Result, Severity, Status
from checks.snapshot import SiteInfo
from monitor.db import (CheckResultRow, PageRow, RunRow, RunSiteRow, StorageError)
from monitor.store.common import insert_for, storage, update_count
from monitor.store.runs import NEWEST_FIRST, RunInfo, RunStatus, get_run, in_history, run_info

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResults:
    run: RunInfo
    sites: tuple[SiteInfo, ...]                  # as they were in the run, in config order
    results: Mapping[str, tuple[Result, ...]]    # site id -> results in the order they were given
    pages_crawled: Mapping[str, int]


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


@storage("finishing the run")
def finish_run(session: Session, run_id: str, results: Mapping[str, Sequence[Result]], *,
               finished_at: datetime, summary: dict[str, Any], stored: bool = False) -> None:
    """Store every result and mark the run complete, in one transaction; also set each
    site's pages_crawled from its stored pages. `stored`: the results are in the database
    already (each site's saved by whoever judged it, `save_site_results`): only the run is marked.

    Either all of it is committed or none: on any error the session is rolled
    back, the run stays running and StorageError is raised (call fail_run then).
    Raises StorageError too when the run is not running any more.
    """
    rows = [] if stored else [_result_row(run_id, site_id, r) for site_id, site_results in results.items()
                              for r in site_results]
    pages = (sa.select(sa.func.count(PageRow.id))
             .where(PageRow.run_id == RunSiteRow.run_id, PageRow.site_id == RunSiteRow.site_id)
             .scalar_subquery())
    try:
        # The status update comes first so that it takes the write lock before the inserts.
        marked = update_count(session, sa.update(RunRow)
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


@storage("saving a site's results")
def save_site_results(session: Session, run_id: str, site_id: str, results: Sequence[Result]) -> None:
    """Store one site's results of a running run in one transaction, a site judged by a worker
    (`finish_run(stored=True)` completes the run later); a site with results stored already keeps
    them (insert-or-nothing on (run, site, check))."""
    rows = [_result_row(run_id, site_id, r) for r in results]
    if not rows:
        return
    try:
        session.execute(insert_for(session, CheckResultRow).on_conflict_do_nothing(
            index_elements=["run_id", "site_id", "check_id"]), rows)
        session.commit()
    except BaseException:
        session.rollback()
        raise


@storage("reading a site's results")
def site_judged(session: Session, run_id: str, site_id: str) -> bool:
    """Whether the site's results of the run are stored (all of them: one transaction stores them)."""
    found = session.scalar(sa.select(CheckResultRow.id).where(CheckResultRow.run_id == run_id,
                                                              CheckResultRow.site_id == site_id).limit(1))
    return found is not None


@storage("reading the stored results")
def stored_results(session: Session, run_id: str) -> dict[str, list[Result]]:
    """The results stored so far for a run of any status, per site in stored order (sites without
    any left out)."""
    return _stored(session, run_id)


def _stored(session: Session, run_id: str) -> dict[str, list[Result]]:
    found: dict[str, list[Result]] = {}
    for row in session.scalars(sa.select(CheckResultRow).where(CheckResultRow.run_id == run_id)
                               .order_by(CheckResultRow.id)):
        found.setdefault(row.site_id, []).append(_result(row))
    return found


def _result(row: CheckResultRow) -> Result:
    return Result(check_id=row.check_id, status=Status(row.status), severity=Severity(row.severity),
                  basis=row.basis, message_key=row.message_key, message_params=row.message_params,
                  metrics=row.metrics, evidence=tuple(Evidence(**e) for e in row.evidence))


@storage("loading results")
def load_results(session: Session, run_id: str) -> RunResults:
    """The sites and results of a complete run; LookupError if there is no such complete run."""
    run = get_run(session, run_id)
    if run is None or run.status != RunStatus.COMPLETE:
        raise LookupError(f"no complete run {run_id!r}" + (f" (it is {run.status})" if run else ""))
    site_rows = session.scalars(sa.select(RunSiteRow).where(RunSiteRow.run_id == run_id)
                                .order_by(RunSiteRow.position)).all()
    found = _stored(session, run_id)
    return RunResults(
        run=run,
        sites=tuple(SiteInfo(id=s.site_id, name=s.name, url=s.url, kind=s.kind, level=s.level) for s in site_rows),
        results={s.site_id: tuple(found.get(s.site_id, ())) for s in site_rows},
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


@storage("reading result history")
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
                                                   in_history(run_id))
                           .order_by(*NEWEST_FIRST).limit(limit)).all()
    runs = tuple(run_info(r) for r in reversed(rows))
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
