"""Runs and sites: starting, heartbeats, finishing as failed or interrupted, discarding an ad-hoc
check, recovering runs a dead process left, and finding runs (the history's kinds only, where it says)."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checks.snapshot import SiteInfo
from monitor.db import (ProbeRow,
                        RunRow, RunSiteRow, SiteRow)
from monitor.store.common import insert_for, storage, update_count

log = logging.getLogger(__name__)


class RunKind(StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    ADHOC = "adhoc"
    DEMO = "demo"


HISTORY_KINDS = (RunKind.SCHEDULED, RunKind.MANUAL, RunKind.DEMO)
"""The kinds of run that make the history (latest run, comparisons, trends, the availability window).
An ad-hoc `govmon check` is never one of them: it covers one site, at someone's whim."""


def in_history(run_id: str | None = None) -> sa.ColumnElement[bool]:
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


def new_run_id(now: datetime) -> str:
    """A sortable run id: UTC time to the second, then 6 random hex digits."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _upsert_sites(session: Session, sites: Sequence[SiteInfo], at: datetime) -> None:
    for site in sites:
        values = {"name": site.name, "url": site.url, "kind": site.kind, "level": site.level, "updated_at": at}
        session.execute(insert_for(session, SiteRow).values(id=site.id, **values)
                        .on_conflict_do_update(index_elements=["id"], set_=values))


@storage("saving sites")
def sync_sites(session: Session, sites: Sequence[SiteInfo], *, at: datetime) -> None:
    """Upsert the configured sites; needed before probes of a site that no run has seen yet."""
    _upsert_sites(session, sites, at)
    session.commit()


@storage("starting a run")
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


@storage("recording a heartbeat")
def heartbeat(session: Session, run_id: str, at: datetime) -> bool:
    """Mark the run alive at `at`; False if it is no longer running (someone ended it)."""
    done = update_count(session, sa.update(RunRow).where(RunRow.id == run_id, RunRow.status == RunStatus.RUNNING)
                   .values(heartbeat_at=at))
    session.commit()
    return bool(done)


@storage("failing the run")
def fail_run(session: Session, run_id: str, reason: str, *, finished_at: datetime,
             status: str = RunStatus.FAILED) -> bool:
    """Mark a running run failed (or interrupted) with the reason; False if it was not running.

    Discards whatever the session had not committed: that work belonged to the failed run.
    """
    if RunStatus(status) not in (RunStatus.FAILED, RunStatus.INTERRUPTED):
        raise ValueError(f"a run ends as failed or interrupted, not {status!r}")
    session.rollback()
    done = update_count(session, sa.update(RunRow).where(RunRow.id == run_id, RunRow.status == RunStatus.RUNNING)
                   .values(status=RunStatus(status), finished_at=finished_at, error=reason))
    session.commit()
    if done:
        log.info("run %s %s: %s", run_id, status, reason)
    return bool(done)


@storage("discarding an ad-hoc check")
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


@storage("recovering stale runs")
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
        if update_count(session, sa.update(RunRow).where(RunRow.id == run.id, RunRow.status == RunStatus.RUNNING)
                   .values(status=RunStatus.FAILED, finished_at=now, error=f"abandoned: {reason}")):
            recovered.append(run.id)
            log.warning("run %s marked failed: %s", run.id, reason)
    session.commit()
    return recovered


def run_info(row: RunRow) -> RunInfo:
    return RunInfo(id=row.id, kind=RunKind(row.kind), status=RunStatus(row.status), started_at=row.started_at,
                   finished_at=row.finished_at, error=row.error, config_digest=row.config_digest,
                   code_version=row.code_version, pid=row.pid, host=row.host, summary=dict(row.summary),
                   heartbeat_at=row.heartbeat_at)


NEWEST_FIRST = (RunRow.started_at.desc(), RunRow.id.desc())


@storage("listing runs")
def list_runs(session: Session, *, statuses: Sequence[str] = (RunStatus.COMPLETE,), kinds: Sequence[str] = (),
              limit: int = 50) -> list[RunInfo]:
    """Runs with one of `statuses` (and of `kinds`, if given; default: every kind), newest first."""
    query = sa.select(RunRow).where(RunRow.status.in_([RunStatus(s) for s in statuses]))
    if kinds:
        query = query.where(RunRow.kind.in_([RunKind(k) for k in kinds]))
    return [run_info(r) for r in session.scalars(query.order_by(*NEWEST_FIRST).limit(limit))]


@storage("reading a run")
def get_run(session: Session, run_id: str) -> RunInfo | None:
    row = session.get(RunRow, run_id)
    return run_info(row) if row else None


def latest_complete_run(session: Session) -> RunInfo | None:
    """The newest complete run of the history (never an ad-hoc check); None if none."""
    runs = list_runs(session, kinds=HISTORY_KINDS, limit=1)
    return runs[0] if runs else None


@storage("reading the previous run")
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
    row = session.scalars(query.order_by(*NEWEST_FIRST).limit(1)).first()
    return run_info(row) if row else None


@storage("finding a process's run")
def run_of_process(session: Session, *, pid: int, host: str, since: datetime) -> RunInfo | None:
    """The newest run that process `pid` on `host` started at or after `since`, if any."""
    row = session.scalars(sa.select(RunRow).where(RunRow.pid == pid, RunRow.host == host,
                                                  RunRow.started_at >= since)
                          .order_by(*NEWEST_FIRST).limit(1)).first()
    return run_info(row) if row else None
