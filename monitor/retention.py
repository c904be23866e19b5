"""Retention: deleting the crawl snapshots of old runs and giving the space back.

Owns which tables are a run's crawl snapshot (SNAPSHOT_TABLES) and which are kept
forever (KEPT_TABLES), which runs keep their snapshot, the batched delete and the
vacuum. Results, evidence, summaries, run_site rows, probes and DNS answers are never
touched: reports and history read only those. Never touches a running run; takes
the run lock so no scheduled or manual run starts meanwhile.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor import locks
from monitor.db import Base, RunRow, StorageError
from monitor.store import HISTORY_KINDS

log = logging.getLogger(__name__)

# A run's crawl snapshot: read while the run collects and evaluates, by no report after it.
SNAPSHOT_TABLES = ("page", "link_form", "link_target", "crawl_event")
# What reports, exports, notifications, history and the daemon read; never pruned.
KEPT_TABLES = ("run", "site", "run_site", "check_result", "probe", "dns_answer", "notification", "apscheduler_jobs")
PAGE_BATCH = 200      # pages (each holds its links and dates) deleted per transaction: a short write lock
ROW_BATCH = 5000      # rows of the other snapshot tables deleted per transaction
VACUUM_STEP = 4096    # SQLite pages freed per incremental_vacuum transaction

Progress = Callable[[str, Mapping[str, int]], None]   # (run id, rows removed so far by table), after each batch


@dataclass(frozen=True)
class PrunedRun:
    run_id: str
    status: str                    # complete | failed | interrupted
    rows: Mapping[str, int]        # table -> rows removed (or, in a dry run, that would be)


@dataclass(frozen=True)
class Pruned:
    keep: int
    kept: tuple[str, ...]          # runs whose crawl snapshot stays, newest first
    runs: tuple[PrunedRun, ...]    # runs whose snapshot went (or would go), oldest first
    dry_run: bool
    bytes_before: int | None = None   # SQLite: the database file with its WAL; None on PostgreSQL
    bytes_after: int | None = None
    vacuum: str = ""               # how the space was given back; "" when nothing was
    rows: Mapping[str, int] = field(default_factory=dict)   # totals by table

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def unclassified(metadata: sa.MetaData = Base.metadata) -> list[str]:
    """Tables that are neither snapshot nor kept: each new table must say which it is."""
    return sorted(set(metadata.tables) - set(SNAPSHOT_TABLES) - set(KEPT_TABLES))


def _tables() -> tuple[sa.Table, list[tuple[sa.Table, sa.Column[int]]], list[sa.Table]]:
    """The page table, the snapshot tables hanging off a page (table, column), the ones keyed by run_id."""
    tables = [Base.metadata.tables[name] for name in SNAPSHOT_TABLES]
    page = Base.metadata.tables["page"]
    children = [(t, fk.parent) for t in tables for fk in t.foreign_keys if fk.column is page.c.id]
    keyed = [t for t in tables if "run_id" in t.c and t is not page]
    reached = {page.name} | {t.name for t, _ in children} | {t.name for t in keyed}
    if reached != set(SNAPSHOT_TABLES):  # a snapshot table must hang off a page or name its run
        raise RuntimeError(f"snapshot tables without a page or run_id: {sorted(set(SNAPSHOT_TABLES) - reached)}")
    return page, children, keyed


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def plan(session: Session, keep: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(kept, to prune): (run id, status) of every run that is not running and still has crawl
    data. Kept are the newest `keep` complete runs of the history, newest first; the rest go,
    oldest first (a stored ad-hoc check too: its report reads only kept tables)."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, not {keep}")
    page, _, keyed = _tables()
    has_data = sa.or_(*(sa.exists().where(t.c.run_id == RunRow.id) for t in (page, *keyed)))
    rows = session.execute(sa.select(RunRow.id, RunRow.status, RunRow.kind).where(RunRow.status != "running", has_data)
                           .order_by(RunRow.started_at.desc(), RunRow.id.desc())).all()
    session.commit()
    kept = [(r.id, r.status) for r in rows if r.status == "complete" and r.kind in HISTORY_KINDS][:keep]
    return kept, [(r.id, r.status) for r in reversed(rows) if (r.id, r.status) not in kept]


def _count(session: Session, run_id: str) -> dict[str, int]:
    page, children, keyed = _tables()
    rows = {"page": session.scalar(sa.select(sa.func.count()).select_from(page).where(page.c.run_id == run_id)) or 0}
    for table, column in children:
        rows[table.name] = session.scalar(sa.select(sa.func.count()).select_from(table.join(page, column == page.c.id))
                                          .where(page.c.run_id == run_id)) or 0
    for table in keyed:
        if table.name not in rows:
            rows[table.name] = session.scalar(sa.select(sa.func.count()).select_from(table)
                                              .where(table.c.run_id == run_id)) or 0
    session.commit()
    return rows


def _deleted(session: Session, stmt: sa.Delete) -> int:
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def _prune_run(session: Session, run_id: str, page_batch: int, progress: Progress | None) -> dict[str, int]:
    """Delete one run's snapshot, one committed batch at a time: a page goes with its rows in
    one transaction, so a prune stopped anywhere leaves no orphan and loses nothing else."""
    page, children, keyed = _tables()
    rows: Counter[str] = Counter(dict.fromkeys(SNAPSHOT_TABLES, 0))
    while ids := session.scalars(sa.select(page.c.id).where(page.c.run_id == run_id).limit(page_batch)).all():
        for table, column in children:
            rows[table.name] += _deleted(session, table.delete().where(column.in_(ids)))
        rows["page"] += _deleted(session, page.delete().where(page.c.id.in_(ids)))
        session.commit()
        if progress is not None:
            progress(run_id, dict(rows))
    for table in keyed:
        while ids := session.scalars(sa.select(table.c.id).where(table.c.run_id == run_id).limit(ROW_BATCH)).all():
            rows[table.name] += _deleted(session, table.delete().where(table.c.id.in_(ids)))
            session.commit()
            if progress is not None:
                progress(run_id, dict(rows))
    session.commit()
    return dict(rows)


def sqlite_path(engine: Engine) -> Path | None:
    """The database file of a SQLite engine; None for PostgreSQL or an in-memory database."""
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def file_bytes(path: Path) -> int:
    """A SQLite database's size on disk: the file and its write-ahead log."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def _vacuum_sqlite(engine: Engine) -> str:
    """Give the free pages back to the file system: incremental vacuum, or once, for a file made
    before govmon set auto_vacuum, a full VACUUM that switches it to incremental."""
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert conn is not None
        if not conn.execute("PRAGMA freelist_count").fetchone()[0]:
            how = ""
        elif conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0:
            log.warning("the database file has auto_vacuum off: running one full VACUUM to switch it to incremental "
                        "(it rewrites the file and needs as much free disk space; later prunes are incremental)")
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            conn.execute("VACUUM")
            how = "full VACUUM (first prune of this file: auto_vacuum switched to incremental)"
        else:
            # executescript steps the pragma to its end; execute() would free one page.
            while conn.execute("PRAGMA freelist_count").fetchone()[0]:
                conn.executescript(f"PRAGMA incremental_vacuum({VACUUM_STEP})")
            how = "incremental vacuum"
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return how
    finally:
        raw.close()


def _vacuum_postgresql(engine: Engine) -> str:
    quote = engine.dialect.identifier_preparer.quote
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(quote(t) for t in SNAPSHOT_TABLES)}")
    return "VACUUM (the space is reused by later runs; PostgreSQL keeps the files' size)"


def _run_lock(engine: Engine) -> locks.Lock | None:
    try:
        return locks.try_acquire(engine, locks.RUN)
    except ValueError:
        return None  # an in-memory database: no other process shares it
    except locks.Busy as exc:
        raise locks.Busy(f"a govmon run ({exc.holder}) is using this database; prune after it has ended "
                         "(govmon status)", exc.holder) from None


def prune(session: Session, keep: int, *, dry_run: bool = False, page_batch: int = PAGE_BATCH,
          progress: Progress | None = None) -> Pruned:
    """Delete the crawl snapshots of every run but the newest `keep` complete ones that crawled
    (failed and interrupted runs' leftovers go too), then shrink the database.

    Takes the run lock (locks.Busy while a run holds it; a dry run, which only counts, does not).
    Call it outside a transaction. StorageError if the database fails; what was committed
    before stays deleted, and the next prune finishes the job.
    """
    engine = _engine(session)
    lock = None if dry_run else _run_lock(engine)
    try:
        try:
            return _prune(session, engine, keep, dry_run, page_batch, progress)
        except sa.exc.SQLAlchemyError as exc:
            session.rollback()
            reason = getattr(exc, "orig", None) or exc
            raise StorageError(f"pruning crawl snapshots: {type(reason).__name__}: {reason}") from exc
    finally:
        if lock is not None:
            lock.release()


def _prune(session: Session, engine: Engine, keep: int, dry_run: bool, page_batch: int,
           progress: Progress | None) -> Pruned:
    kept, doomed = plan(session, keep)
    path = sqlite_path(engine)
    before = file_bytes(path) if path is not None else None
    runs = []
    for run_id, status in doomed:
        rows = _count(session, run_id) if dry_run else _prune_run(session, run_id, page_batch, progress)
        runs.append(PrunedRun(run_id, status, rows))
        if not dry_run:
            log.debug("run %s: crawl snapshot pruned: %s", run_id, rows)
    totals: Counter[str] = Counter()
    for run in runs:
        totals.update(run.rows)
    vacuum = ""
    if not dry_run:
        try:
            if path is not None:
                vacuum = _vacuum_sqlite(engine)
            elif engine.dialect.name == "postgresql" and sum(totals.values()):
                vacuum = _vacuum_postgresql(engine)
        except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
            # The deletes are committed; the free space stays in the file until the next prune.
            reason = getattr(exc, "orig", None) or exc
            raise StorageError(f"pruned the crawl snapshots of {len(runs)} run(s), but giving the space back "
                               f"failed: {type(reason).__name__}: {reason} (the next prune tries again)") from exc
    after = file_bytes(path) if path is not None and not dry_run else before
    pruned = Pruned(keep, tuple(r for r, _ in kept), tuple(runs), dry_run, before, after, vacuum, dict(totals))
    if not dry_run:
        log.info("%s", describe(pruned)[0])
    return pruned


def _mb(n: int) -> str:
    return f"{n / 1_000_000:,.1f} MB"


def describe(pruned: Pruned) -> list[str]:
    """What a prune did (or would do), for the terminal and the log; the first line says it all."""
    kept = f"keep_snapshots = {pruned.keep}: {len(pruned.kept)} complete run(s) keep their crawl snapshot"
    if not pruned.runs:
        return [f"nothing to prune ({kept})"] + ([f"space: {pruned.vacuum}"] if pruned.vacuum else [])
    verb = "would prune" if pruned.dry_run else "pruned"
    size = ""
    if pruned.bytes_before is not None and pruned.bytes_after is not None and not pruned.dry_run:
        size = f"; database file {_mb(pruned.bytes_before)} → {_mb(pruned.bytes_after)}"
    lines = [f"{verb} the crawl snapshots of {len(pruned.runs)} run(s): {pruned.total:,} rows{size} ({kept})"]
    for run in pruned.runs:
        lines.append(f"  {run.run_id}  {run.status:<11}  " + "  ".join(
            f"{table} {run.rows.get(table, 0):,}" for table in SNAPSHOT_TABLES))
    if pruned.vacuum:
        lines.append(f"space: {pruned.vacuum}")
    if pruned.dry_run:
        lines.append("nothing was removed (--dry-run)")
    return lines
