"""monitor.retention and `govmon prune`: old runs lose their crawl snapshot, nothing else, on
SQLite and PostgreSQL; the SQLite file shrinks; a prune stopped midway leaves a consistent database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor import config, db, locks, retention, store
from monitor.cli import main
from monitor.demo import DemoWeb
from reports.render import write_report_set
from tests import builders as b, test_monitor_daemon

ROOT = Path(__file__).resolve().parent.parent
SITES = (b.site("shuangta"), b.site("beipiao", kind="development_reform", level="city"))
T = db.Base.metadata.tables


def seed(session: Session, days_ago: float, *, status: str = "complete", pages: int = 6, links: int = 4,
         crawl: bool = True, text: str = "通知公告") -> str:
    """A run started `days_ago` with, per site, `pages` pages (a date and the same `links` links each),
    link targets, crawl events, DNS answers, probes and (when complete) results with evidence."""
    at = b.utcnow() - timedelta(days=days_ago)
    run_id = store.start_run(session, kind="scheduled", sites=SITES, config_digest="d" * 64, code_version="0.1.0",
                             started_at=at, pid=os.getpid(), host="test-host")
    results = {}
    for site in SITES:
        home = site.url
        if crawl:
            b.store_crawl(session, run_id, site.id,
                          [b.page(f"{home}p{i}.html", title=f"{text} {i}", depth=1,
                                  dates=[b.date_hit(date.today(), snippet=text)]) for i in range(pages)],
                          [b.link(f"{home}p{i}.html", f"{home}a{n}.html", text=f"{text} {n}")
                           for i in range(pages) for n in range(links)], fetched_at=at)
            session.execute(sa.insert(T["crawl_event"]), [
                {"run_id": run_id, "site_id": site.id, "kind": "trap", "url": f"{home}cal?m=13", "detail": "month"}])
            session.commit()
            store.save_link_targets(session, run_id, [b.target(f"{home}a{n}.html") for n in range(links)], at)
        store.save_dns(session, run_id, [b.dns(f"www.{site.id}.gov.cn")], at)
        store.save_probes(session, run_id, site.id, [b.probe("homepage-v4", url=home, at=at)])
        store.save_probes(session, None, site.id, [b.probe(url=home, at=at)])
        results[site.id] = [b.result("links:dead", "fail", message_key="dead", metrics={"dead": 1},
                                     evidence=[b.evidence(f"{home}gone.pdf", source=home, detail="http_4xx 404")]),
                            b.result("availability")]
    if status == "complete":
        store.finish_run(session, run_id, results, finished_at=at + timedelta(minutes=5),
                         summary={"statuses": {"fail": 2, "pass": 2}, "sites": 2, "duration_s": 300.0})
    elif status != "running":
        store.fail_run(session, run_id, "boom", finished_at=at + timedelta(minutes=5), status=status)
    return run_id


def snapshot_rows(session: Session, run_id: str) -> dict[str, int]:
    """The run's rows in each snapshot table, counted independently of monitor.retention."""
    page = T["page"]
    rows = {"page": count(session, page, page.c.run_id == run_id)}
    for name in ("link_form", "link_target", "crawl_event"):
        rows[name] = count(session, T[name], T[name].c.run_id == run_id)
    return rows


def count(session: Session, source: Any, where: Any) -> int:
    n = session.scalar(sa.select(sa.func.count()).select_from(source).where(where)) or 0
    session.rollback()
    return n


def kept_tables(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table retention keeps, in key order."""
    dump = {}
    for name in retention.KEPT_TABLES:
        table = T[name]
        dump[name] = [tuple(r) for r in session.execute(sa.select(table).order_by(*table.primary_key.columns))]
    session.rollback()
    return dump


def orphans(session: Session) -> int:
    """Snapshot rows whose run is gone (a prune stopped midway must leave none)."""
    runs = sa.select(T["run"].c.id)
    return sum(count(session, T[name], T[name].c.run_id.not_in(runs)) for name in retention.SNAPSHOT_TABLES)


def test_every_table_is_either_a_snapshot_or_kept() -> None:
    assert retention.unclassified() == []
    extra = sa.MetaData()
    for name in (*retention.SNAPSHOT_TABLES, *retention.KEPT_TABLES, "link_occurrence"):
        sa.Table(name, extra, sa.Column("id", sa.Integer, primary_key=True))
    assert retention.unclassified(extra) == ["link_occurrence"]


def test_a_run_without_crawl_events_or_link_targets_still_reports_every_table(session: Session) -> None:
    old = seed(session, 20)
    seed(session, 10)
    session.execute(T["crawl_event"].delete())
    session.execute(T["link_target"].delete().where(T["link_target"].c.run_id == old))
    session.commit()
    dry = retention.prune(session, 1, dry_run=True)
    real = retention.prune(session, 1)
    assert dry.runs == real.runs
    assert real.runs[0].rows == {"page": 12, "link_form": 8, "link_target": 0, "crawl_event": 0}


def test_prune_keeps_the_newest_complete_runs_snapshots_and_every_result(session: Session) -> None:
    oldest = seed(session, 40)
    failed = seed(session, 30, status="failed")
    interrupted = seed(session, 25, status="interrupted")
    older, newer = seed(session, 20), seed(session, 10)
    no_crawl = seed(session, 5, crawl=False)           # complete, but crawled nothing: does not count
    running = seed(session, 0, status="running")
    before = {r: snapshot_rows(session, r) for r in (oldest, failed, interrupted, older, newer, running)}
    kept = kept_tables(session)
    assert before[oldest] == {"page": 12, "link_form": 8, "link_target": 8, "crawl_event": 2}

    pruned = retention.prune(session, 2)

    assert pruned.kept == (newer, older)
    assert [(r.run_id, r.status) for r in pruned.runs] == [(oldest, "complete"), (failed, "failed"),
                                                          (interrupted, "interrupted")]
    assert all(r.rows == before[r.run_id] for r in pruned.runs)
    assert pruned.total == 3 * sum(before[oldest].values())
    for run_id in (oldest, failed, interrupted):
        assert snapshot_rows(session, run_id) == dict.fromkeys(before[oldest], 0)
    for run_id in (older, newer, running):
        assert snapshot_rows(session, run_id) == before[run_id]
    assert kept_tables(session) == kept    # results, evidence, summaries, probes, DNS, run sites: all of it
    assert orphans(session) == 0
    assert no_crawl in {r.id for r in store.list_runs(session)}
    history = store.result_history(session, newer)
    assert [r.id for r in history.runs] == [oldest, older, newer] and len(history.results) == 12
    again = retention.prune(session, 2)
    assert again.runs == () and retention.describe(again)[0].startswith("nothing to prune (keep_snapshots = 2: 2")


def test_a_dry_run_counts_what_a_prune_removes_and_removes_nothing(session: Session) -> None:
    runs = [seed(session, days) for days in (30, 20, 10)]
    before = {r: snapshot_rows(session, r) for r in runs}
    dry = retention.prune(session, 1, dry_run=True)
    assert {r: snapshot_rows(session, r) for r in runs} == before
    real = retention.prune(session, 1)
    assert dry.runs == real.runs and [r.run_id for r in real.runs] == runs[:2]
    lines = retention.describe(dry)
    assert lines[0].startswith(f"would prune the crawl snapshots of 2 run(s): {real.total:,} rows (keep_snapshots")
    assert lines[1].split() == [runs[0], "complete", "page", "12", "link_form", "8", "link_target",
                                "8", "crawl_event", "2"]
    assert lines[-1] == "nothing was removed (--dry-run)"


def test_a_prune_stopped_after_its_first_batch_leaves_a_consistent_database(session: Session) -> None:
    old, kept_run = seed(session, 20, pages=12), seed(session, 10, pages=12)
    kept, kept_snapshot = kept_tables(session), snapshot_rows(session, kept_run)

    def stop(run_id: str, rows: object) -> None:
        raise KeyboardInterrupt   # as a Ctrl-C between two batches

    with pytest.raises(KeyboardInterrupt):
        retention.prune(session, 1, page_batch=5, progress=stop)
    left = snapshot_rows(session, old)
    assert left["page"] == 24 - 5 and left["link_form"] == 8, "a page's links and dates go with it; forms go last"
    assert orphans(session) == 0
    assert snapshot_rows(session, kept_run) == kept_snapshot and kept_tables(session) == kept
    # The lock went with the stopped prune; the next one finishes the job.
    finished = retention.prune(session, 1)
    assert [r.run_id for r in finished.runs] == [old] and finished.runs[0].rows["page"] == 19
    assert sum(snapshot_rows(session, old).values()) == 0


def test_an_old_runs_report_renders_the_same_after_its_snapshot_is_pruned(session: Session, tmp_path: Path) -> None:
    old = seed(session, 20)
    seed(session, 10)
    report = config.Report(dir=str(tmp_path / "reports"), language="en")

    def rendered() -> dict[str, str]:
        write_report_set(session, report, run_id=old, timezone="Asia/Shanghai")
        folder = tmp_path / "reports" / "runs" / old
        return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())
                if p.suffix in (".html", ".csv", ".json")}

    before = rendered()
    assert [r.run_id for r in retention.prune(session, 1).runs] == [old]
    after = rendered()
    assert after == before and {"index.html", "shuangta.html", "beipiao.html"} <= set(after)
    # Built from results and run_site rows only: the pages crawled are still counted, the evidence still listed.
    assert "<span>Pages crawled 12</span>" in after["index.html"]
    assert "<span>Pages crawled 6</span>" in after["shuangta.html"] and "gone.pdf" in after["shuangta.html"]


def old_sqlite_file(path: Path) -> None:
    """A database file as govmon made it before it set auto_vacuum (WAL first, then the tables)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE early (id INTEGER PRIMARY KEY)")
    conn.close()


@pytest.mark.parametrize("made_before_auto_vacuum", [False, True], ids=["new-file", "file-without-auto-vacuum"])
def test_the_sqlite_file_shrinks_after_a_prune(tmp_path: Path, made_before_auto_vacuum: bool) -> None:
    path = tmp_path / "govmon.db"
    if made_before_auto_vacuum:
        old_sqlite_file(path)
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with db.session_factory(engine)() as session:
        for days in (40, 30, 20, 10):
            seed(session, days, pages=150, links=20, text="关于印发政府信息公开工作要点的通知" * 3)
        with engine.connect() as conn:   # everything in the main file: its size is the database's
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        full = os.path.getsize(path)
        pruned = retention.prune(session, 1)
        assert pruned.bytes_before == full and pruned.bytes_after is not None
        assert os.path.getsize(path) == pruned.bytes_after < full * 0.45   # 3 runs of 4 go: most of the file
        assert pruned.bytes_after == retention.file_bytes(path)
        if made_before_auto_vacuum:
            assert pruned.vacuum.startswith("full VACUUM (first prune of this file")
        else:
            assert pruned.vacuum == "incremental vacuum"
        assert retention.describe(pruned)[-1] == f"space: {pruned.vacuum}"
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2   # incremental from now on
            assert conn.exec_driver_sql("PRAGMA freelist_count").scalar() == 0
        # Later prunes are incremental either way.
        for days in (5, 4):
            seed(session, days, pages=150, links=20, text="关于印发政府信息公开工作要点的通知" * 3)
        second = retention.prune(session, 1)
        assert second.vacuum == "incremental vacuum" and second.bytes_after < second.bytes_before
    engine.dispose()


# --- govmon prune -----------------------------------------------------------------------------------------------


def govmon(*argv: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    return int(exited.value.code)


def config_for(tmp_path: Path, db_url: str, keep: int = 4) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(f'[storage]\nurl = "{db_url}"\nkeep_snapshots = {keep}\n[report]\ndir = "{tmp_path / "r"}"\n',
                    encoding="utf-8")
    return path


def test_govmon_prune_dry_run_then_prune_then_nothing(session: Session, db_url: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    runs = [seed(session, days) for days in (40, 30, 20)]
    path = config_for(tmp_path, db_url, keep=2)
    assert govmon("prune", "--config", str(path), "--dry-run") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("would prune the crawl snapshots of 1 run(s): 30 rows (keep_snapshots = 2: 2 ")
    assert out[1].split()[:2] == [runs[0], "complete"] and out[-1] == "nothing was removed (--dry-run)"
    assert snapshot_rows(session, runs[0])["page"] == 12

    assert govmon("prune", "--config", str(path), "--keep", "1") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("pruned the crawl snapshots of 2 run(s): 60 rows")
    assert "database file" in out[0] if db_url.startswith("sqlite") else "VACUUM" in out[-1]
    assert [line.split()[0] for line in out[1:3]] == runs[:2]
    assert [snapshot_rows(session, r)["page"] for r in runs] == [0, 0, 12]

    assert govmon("prune", "--config", str(path)) == 0
    assert capsys.readouterr().out.startswith("nothing to prune (keep_snapshots = 2: 1 complete run(s)")


def test_govmon_prune_refuses_while_a_run_holds_the_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'govmon.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_factory(engine)() as session:
        old = seed(session, 20)
        seed(session, 10)
    path = config_for(tmp_path, url, keep=1)
    lock = locks.try_acquire(engine, locks.RUN)
    try:
        busy = subprocess.run([sys.executable, "-m", "monitor", "prune", "--config", str(path)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=False)
    finally:
        lock.release()
    assert busy.returncode == 3, busy.stderr
    assert busy.stderr.strip() == (f"govmon: a govmon run ({locks.me()}) is using this database; "
                                   "prune after it has ended (govmon status)")
    with db.session_factory(engine)() as session:
        assert snapshot_rows(session, old)["page"] == 12
    engine.dispose()


def test_govmon_prune_keep_must_be_positive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = config_for(tmp_path, f"sqlite:///{tmp_path / 'govmon.db'}")
    assert govmon("prune", "--config", str(path), "--keep", "0") == 2
    assert "--keep" in capsys.readouterr().err
    path.write_text(path.read_text(encoding="utf-8").replace("keep_snapshots = 4", "keep_snapshots = 0"),
                    encoding="utf-8")
    assert govmon("prune", "--config", str(path)) == 2
    assert "storage.keep_snapshots" in capsys.readouterr().err


def test_a_failed_prune_is_logged_and_the_daemon_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    from monitor import daemon

    def broken() -> Session:
        raise db.StorageError("database is locked")

    d = daemon.Daemon.__new__(daemon.Daemon)
    d.sessions = broken  # type: ignore[assignment]
    d._prune(4)
    assert "prune: StorageError: database is locked" in caplog.text



# --- the daemon -------------------------------------------------------------------------------------------------

daemons = test_monitor_daemon.daemons   # the fixture


def test_the_daemon_prunes_after_each_complete_run(demo_web: DemoWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   daemons: Callable[..., test_monitor_daemon.Daemon]) -> None:
    # The daemon and its run children import this checkout's code, wherever the test runs from.
    monkeypatch.setitem(test_monitor_daemon.ENV, "PYTHONPATH", str(ROOT))
    path = test_monitor_daemon.write_config(tmp_path / "sites.toml", demo_web)
    path.write_text(path.read_text(encoding="utf-8").replace("[storage]\n", "[storage]\nkeep_snapshots = 1\n", 1),
                    encoding="utf-8")
    engine = db.make_engine(config.load(path).storage.url)
    db.upgrade(engine)
    with db.session_factory(engine)() as session:
        seeded = [seed(session, 20), seed(session, 10)]
    d = daemons(path, run=test_monitor_daemon.EVERY_2S)
    d.wait_for("pruned the crawl snapshots of ")
    assert d.stop() == 0
    newest = next(r for r in reversed(test_monitor_daemon.runs(path)) if r.status == "complete")
    assert newest.kind == "scheduled"
    with db.session_factory(engine)() as session:
        assert [sum(snapshot_rows(session, r).values()) for r in seeded] == [0, 0]
        assert snapshot_rows(session, newest.id)["page"] > 0
        assert len(store.load_results(session, seeded[0]).results["shuangta"]) == 2
    engine.dispose()
    assert "(keep_snapshots = 1: 1 complete run(s) keep their crawl snapshot)" in d.log
