"""monitor.store on SQLite and PostgreSQL: runs, snapshots, results, recovery."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from checks.base import Result, Severity, Status
from checks.snapshot import DateHit, SiteInfo
from monitor import db, store
from monitor.store import RunKind, RunStatus
from tests import builders as b

HOST = "monitor-1"
SITES = (b.site("shuangta"), b.site("beipiao", kind="development_reform", level="city"))


def start(session: Session, *, at: datetime | None = None, pid: int | None = None, host: str = HOST,
          sites: tuple[SiteInfo, ...] = SITES, kind: str = "manual") -> str:
    return store.start_run(session, kind=kind, sites=sites, config_digest="d1" * 32, code_version="0.1.0",
                           started_at=at or b.utcnow(), pid=pid if pid is not None else os.getpid(), host=host)


def count(session: Session, table: type, **where: object) -> int:
    stmt = sa.select(sa.func.count()).select_from(table).filter_by(**where)
    n = session.scalar(stmt) or 0
    session.rollback()
    return n


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_run_ids_sort_by_start_time() -> None:
    now = b.utcnow()
    ids = [store.new_run_id(now + timedelta(seconds=s)) for s in (0, 1, 3600, 86400 * 40)]
    assert ids == sorted(ids) and len(set(ids)) == 4
    shanghai = now.astimezone(timezone(timedelta(hours=8)))
    assert store.new_run_id(shanghai)[:16] == f"{now:%Y%m%dT%H%M%SZ}"


def test_start_run_records_a_running_run_and_its_sites(session: Session) -> None:
    at = b.utcnow().astimezone(timezone(timedelta(hours=8)))
    run_id = start(session, at=at, kind="scheduled")
    run = store.get_run(session, run_id)
    assert run is not None
    assert (run.status, run.kind, run.pid, run.host) == (RunStatus.RUNNING, RunKind.SCHEDULED, os.getpid(), HOST)
    assert run.started_at == at and run.started_at.tzinfo == UTC and run.heartbeat_at == at
    assert run.finished_at is None and run.error is None
    assert count(session, db.RunSiteRow, run_id=run_id) == 2


def test_sites_are_upserted_but_each_run_keeps_its_own_copy(session: Session) -> None:
    first = start(session)
    store.finish_run(session, first, {}, finished_at=b.utcnow(), summary={})
    renamed = b.site("shuangta", name="双塔区政府（新）", url="https://new.shuangta.gov.cn/")
    second = start(session, sites=(renamed,))
    store.finish_run(session, second, {}, finished_at=b.utcnow(), summary={})
    assert session.get(db.SiteRow, "shuangta").name == "双塔区政府（新）"  # type: ignore[union-attr]
    assert store.load_results(session, first).sites == SITES
    assert store.load_results(session, second).sites == (renamed,)


def test_naive_datetimes_are_refused(session: Session) -> None:
    with pytest.raises(db.StorageError, match="naive datetime"):
        start(session, at=datetime.now())
    assert count(session, db.RunRow) == 0


def test_snapshot_holds_this_runs_dns_and_probes_of_the_site(session: Session) -> None:
    site = SITES[0]
    older = start(session)
    run_id = start(session)
    now = b.utcnow()
    answers = [b.dns("WWW.Shuangta.gov.cn.", "A", addresses=["192.0.2.1"]),
               b.dns("www.shuangta.gov.cn", "AAAA", "no_answer"),
               b.dns("cdn.shuangta.gov.cn", "A", cname_chain=["x.cdn.net"], addresses=["192.0.2.9"]),
               b.dns("www.beipiao.gov.cn", "A", addresses=["192.0.2.2"])]
    store.save_dns(session, run_id, answers, now)
    store.save_dns(session, run_id, [b.dns("www.shuangta.gov.cn", "A", "timeout")], now)  # a repeat is ignored
    store.save_dns(session, older, [b.dns("www.shuangta.gov.cn", "CNAME")], now)
    v4 = b.probe("homepage-v4", at=now - timedelta(seconds=2), address="192.0.2.1", title="首页",
                 detail={"tls": {"version": "TLSv1.3"}, "hops": ["https://www.shuangta.gov.cn/"]})
    v6 = b.probe("homepage-v6", "no_route", at=now - timedelta(seconds=1), elapsed_ms=None)
    store.save_probes(session, run_id, site.id, [v6, v4])
    store.save_probes(session, run_id, "beipiao", [b.probe("homepage-v4", at=now)])
    store.save_probes(session, older, site.id, [b.probe("homepage-v4", "timeout", at=now)])

    snap = store.load_snapshot(session, run_id, site, taken_at=now, collected=frozenset({"dns"}))
    assert snap.dns == (b.dns("www.shuangta.gov.cn", "A", addresses=["192.0.2.1"]),
                        b.dns("www.shuangta.gov.cn", "AAAA", "no_answer"))
    assert snap.probes == (v4, v6)
    assert snap.site == site and snap.taken_at == now and snap.collected == {"dns"}
    assert (snap.pages, snap.links, dict(snap.targets)) == ((), (), {})
    extra = store.load_snapshot(session, run_id, site, taken_at=now, collected=frozenset(),
                                hosts=["cdn.shuangta.gov.cn"])
    assert [d.name for d in extra.dns] == ["cdn.shuangta.gov.cn"] and extra.dns[0].cname_chain == ("x.cdn.net",)
    crawl_only = store.load_snapshot(session, run_id, site, taken_at=now, collected=frozenset(), probes=False)
    assert (crawl_only.dns, crawl_only.probes, crawl_only.history.availability) == ((), (), ())
    probed = store.load_probes(session, run_id, site, taken_at=now)   # the rest, as the pipeline adds it
    assert (probed.dns, probed.probes, probed.history) == (snap.dns, snap.probes, snap.history)


def test_history_holds_every_availability_probe_of_the_window(session: Session) -> None:
    site = SITES[0]
    earlier_run, run_id = start(session), start(session)
    taken_at = b.utcnow()

    def at(days: float) -> datetime:
        return taken_at - timedelta(days=days)

    outside = [b.probe(at=at(7.001)), b.probe(at=taken_at + timedelta(minutes=1))]
    inside = [b.probe(at=at(7)), b.probe("availability", "timeout", at=at(3)), b.probe(at=at(1)),
              b.probe(at=taken_at)]
    store.save_probes(session, None, site.id, outside + [inside[0], inside[2]])
    store.save_probes(session, earlier_run, site.id, [inside[1]])
    store.save_probes(session, run_id, site.id, [inside[3], b.probe("homepage-v4", at=at(1))])
    store.save_probes(session, None, "beipiao", [b.probe(at=at(1))])

    snap = store.load_snapshot(session, run_id, site, taken_at=taken_at, collected=frozenset())
    assert snap.history.availability == tuple(inside)
    narrow = store.load_snapshot(session, run_id, site, taken_at=taken_at, collected=frozenset(), window_days=2)
    assert narrow.history.availability == tuple(inside[2:])


def test_snapshot_loads_the_crawl_and_finish_counts_pages(session: Session) -> None:
    site = SITES[0]
    run_id = start(session)
    home, news = "https://www.shuangta.gov.cn/", "https://www.shuangta.gov.cn/news/"
    today = date.today()
    b.store_crawl(session, run_id, site.id,
                  [b.page(home, title="首页", size=10), b.page(news, title="新闻", depth=1, size=10,
                                                              dates=[b.date_hit(today, snippet=f"{today}")])],
                  [b.link(home, news, text="新闻", context="nav"), b.link(news, "https://gone.example.cn/x", tag="img")])
    session.add_all([
        db.LinkTargetRow(run_id=run_id, url="https://gone.example.cn/x", outcome="http_4xx", http_status=404,
                         attempts=2, final_url=None, detail="404"),
        db.LinkTargetRow(run_id=run_id, url="https://elsewhere.example.cn/", outcome="ok", http_status=200,
                         attempts=1, final_url=None, detail=""),
    ])
    session.commit()

    snap = store.load_snapshot(session, run_id, site, taken_at=b.utcnow(), collected=frozenset({"crawl"}))
    assert snap.pages == (b.page(home, title="首页", size=10),
                          b.page(news, title="新闻", depth=1, size=10, dates=[b.date_hit(today, snippet=f"{today}")]))
    assert snap.links == (b.link(home, news, text="新闻", context="nav"),
                          b.link(news, "https://gone.example.cn/x", tag="img"))
    assert dict(snap.targets) == {"https://gone.example.cn/x": b.target("https://gone.example.cn/x", "http_4xx",
                                                                        http_status=404, attempts=2, detail="404")}
    store.finish_run(session, run_id, {}, finished_at=b.utcnow(), summary={})
    assert store.load_results(session, run_id).pages_crawled == {"shuangta": 2, "beipiao": 0}


def _results() -> dict[str, list[Result]]:
    return {
        "shuangta": [
            b.result("availability", Status.PASS, severity="veto", metrics={"probes": 336, "failed_ratio": 0.0119}),
            b.result("links:dead", "fail", severity="major", basis="national", message_key="dead",
                     message_params={"n": 2, "site": "双塔区"}, metrics={"checked": 812, "dead": 2},
                     evidence=[b.evidence("https://x.gov.cn/a.pdf", source="https://www.shuangta.gov.cn/",
                                          detail="http_4xx 404", text="通知<附件>"),
                               b.evidence("https://y.gov.cn/", detail="dns nxdomain", expected="2xx", actual="")]),
            b.result("freshness:homepage", "error", severity="veto", message_key="runner.missing_input",
                     message_params={"inputs": "crawl"}, metrics={"latest": "2025-01-01", "ages": [1, 2]}),
        ],
        "beipiao": [b.result("ipv6:dns", "skip", severity="minor", message_key="runner.disabled"),
                    Result(check_id="https", status=Status.WARN, severity=Severity.MINOR, basis="", message_key="k")],
    }


def test_finish_run_round_trips_results_exactly(session: Session) -> None:
    run_id = start(session)
    results = _results()
    finished = b.utcnow()
    store.finish_run(session, run_id, results, finished_at=finished, summary={"sites": 2, "fail": 1})

    loaded = store.load_results(session, run_id)
    assert loaded.results == {site_id: tuple(rs) for site_id, rs in results.items()}
    assert loaded.sites == SITES and loaded.pages_crawled == {"shuangta": 0, "beipiao": 0}
    assert loaded.run.status == RunStatus.COMPLETE and loaded.run.finished_at == finished
    assert loaded.run.summary == {"sites": 2, "fail": 1}
    assert [r.id for r in store.list_runs(session)] == [run_id]
    assert store.latest_complete_run(session) == loaded.run


def test_a_site_judged_twice_keeps_its_first_results_and_finish_run_keeps_what_was_stored(session: Session
                                                                                          ) -> None:
    run_id = start(session)
    results = _results()
    assert not store.site_judged(session, run_id, "shuangta")
    store.save_site_results(session, run_id, "shuangta", results["shuangta"])
    again = [b.result("availability", Status.FAIL, severity="veto")]   # a second judging of the same site
    store.save_site_results(session, run_id, "shuangta", again)
    store.save_site_results(session, run_id, "beipiao", results["beipiao"])
    assert store.site_judged(session, run_id, "shuangta")
    assert store.stored_results(session, run_id) == results
    store.finish_run(session, run_id, store.stored_results(session, run_id), finished_at=b.utcnow(), summary={},
                     stored=True)
    assert store.load_results(session, run_id).results == {site_id: tuple(rs) for site_id, rs in results.items()}


@pytest.mark.parametrize("bad", ["unknown-site", "duplicate-check-id"])
def test_a_failure_inside_finish_run_leaves_no_results_and_the_run_running(session: Session, bad: str) -> None:
    run_id = start(session)
    results = _results()
    if bad == "unknown-site":
        results["nowhere"] = [b.result("availability")]
    else:
        results["beipiao"].append(b.result("ipv6:dns", "fail"))

    with pytest.raises(db.StorageError, match="finishing the run"):
        store.finish_run(session, run_id, results, finished_at=b.utcnow(), summary={})
    assert count(session, db.CheckResultRow) == 0
    assert store.get_run(session, run_id).status == RunStatus.RUNNING  # type: ignore[union-attr]
    assert store.list_runs(session) == []

    assert store.fail_run(session, run_id, "finishing the run: integrity", finished_at=b.utcnow())
    failed = store.get_run(session, run_id)
    assert failed is not None and failed.status == RunStatus.FAILED and failed.error == "finishing the run: integrity"
    with pytest.raises(LookupError, match="failed"):
        store.load_results(session, run_id)


def test_a_result_that_is_not_json_is_refused_before_anything_is_written(session: Session) -> None:
    run_id = start(session)
    results = {"shuangta": [b.result("freshness:homepage", metrics={"latest": date.today()})]}
    with pytest.raises(db.StorageError, match="freshness:homepage of site shuangta: metrics is not JSON"):
        store.finish_run(session, run_id, results, finished_at=b.utcnow(), summary={})
    assert store.get_run(session, run_id).status == RunStatus.RUNNING  # type: ignore[union-attr]


def test_probe_text_with_nul_is_stored_without_it(session: Session) -> None:
    run_id = start(session)
    now = b.utcnow()
    probe = b.probe("footer", at=now, title="首\x00页", detail={"icp": "辽ICP备\x00001号", "forms": {"icp": ["a\x00"]}})
    store.save_probes(session, run_id, SITES[0].id, [probe])
    [got] = store.load_snapshot(session, run_id, SITES[0], taken_at=now, collected=frozenset()).probes
    assert (got.title, got.detail) == ("首页", {"icp": "辽ICP备001号", "forms": {"icp": ["a"]}})


def test_availability_probes_outside_runs_need_only_the_site(session: Session) -> None:
    new_site = b.site("kazuo")
    taken_at = b.utcnow()
    with pytest.raises(db.StorageError, match="saving probes"):
        store.save_probes(session, None, new_site.id, [b.probe(at=taken_at)])
    store.sync_sites(session, [new_site], at=taken_at)
    store.save_probes(session, None, new_site.id, [b.probe(at=taken_at)])
    run_id = start(session, sites=(new_site,))
    snap = store.load_snapshot(session, run_id, new_site, taken_at=taken_at, collected=frozenset())
    assert snap.history.availability == (b.probe(at=taken_at),) and snap.probes == ()


def test_an_ended_run_cannot_be_finished_failed_or_kept_alive(session: Session) -> None:
    run_id = start(session)
    assert store.fail_run(session, run_id, "stopped", finished_at=b.utcnow(), status="interrupted")
    with pytest.raises(db.StorageError, match="not running"):
        store.finish_run(session, run_id, _results(), finished_at=b.utcnow(), summary={})
    assert count(session, db.CheckResultRow) == 0
    assert not store.fail_run(session, run_id, "again", finished_at=b.utcnow())
    assert not store.heartbeat(session, run_id, b.utcnow())
    assert store.get_run(session, run_id).status == RunStatus.INTERRUPTED  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        store.fail_run(session, run_id, "no", finished_at=b.utcnow(), status="complete")


def test_only_complete_runs_are_listed_newest_first(session: Session) -> None:
    now = b.utcnow()
    ids = [start(session, at=now - timedelta(days=d)) for d in (3, 2, 1, 0)]
    for run_id in ids[:2]:
        store.finish_run(session, run_id, {}, finished_at=now, summary={})
    store.fail_run(session, ids[2], "crawl child exited 1", finished_at=now)

    assert [r.id for r in store.list_runs(session)] == [ids[1], ids[0]]
    assert [r.id for r in store.list_runs(session, limit=1)] == [ids[1]]
    assert [r.id for r in store.list_runs(session, statuses=("running", "failed"))] == [ids[3], ids[2]]
    assert store.latest_complete_run(session).id == ids[1]  # type: ignore[union-attr]
    assert store.previous_complete_run(session, ids[3]).id == ids[1]  # type: ignore[union-attr]
    assert store.previous_complete_run(session, ids[1]).id == ids[0]  # type: ignore[union-attr]
    assert store.previous_complete_run(session, ids[0]) is None
    assert store.get_run(session, "19700101T000000Z-000000") is None
    with pytest.raises(LookupError):
        store.load_results(session, "19700101T000000Z-000000")


def test_recover_marks_runs_whose_process_died_on_this_host(session: Session) -> None:
    now = b.utcnow()
    dead = start(session, pid=dead_pid())
    alive = start(session, pid=os.getpid())
    elsewhere = start(session, pid=dead_pid(), host="monitor-2")  # its pid means nothing here

    recovered = store.recover_stale_runs(session, now=now, host=HOST, is_alive=store.pid_alive,
                                         stale_after=timedelta(hours=1))
    assert recovered == [dead]
    run = store.get_run(session, dead)
    assert run is not None and run.status == RunStatus.FAILED and run.finished_at == now
    assert f"pid {run.pid} on {HOST}" in (run.error or "")
    assert {store.get_run(session, r).status for r in (alive, elsewhere)} == {RunStatus.RUNNING}  # type: ignore[union-attr]


def test_recover_marks_runs_whose_heartbeat_is_old(session: Session) -> None:
    now = b.utcnow()
    quiet = start(session, at=now - timedelta(hours=3), host="monitor-2")
    beating = start(session, at=now - timedelta(hours=3), host="monitor-2")
    assert store.heartbeat(session, beating, now - timedelta(minutes=5))

    recovered = store.recover_stale_runs(session, now=now, host=HOST, is_alive=store.pid_alive,
                                         stale_after=timedelta(hours=1))
    assert recovered == [quiet]
    assert "no heartbeat since" in (store.get_run(session, quiet).error or "")  # type: ignore[union-attr]
    assert store.get_run(session, beating).status == RunStatus.RUNNING  # type: ignore[union-attr]


CHILD = textwrap.dedent("""
    import os, socket, sys, time
    import sqlalchemy as sa
    from monitor import db, store
    from tests import builders as b
    engine = db.make_engine(sys.argv[1])
    with db.session_factory(engine)() as session:
        run_id = store.start_run(session, kind="manual", sites=[b.site("shuangta")], config_digest="d",
                                 code_version="0", started_at=b.utcnow(), pid=os.getpid(), host=socket.gethostname())
        # finish_run-like work left uncommitted when the process is killed
        session.execute(sa.insert(db.CheckResultRow), [dict(
            run_id=run_id, site_id="shuangta", check_id=f"c{i}", status="pass", severity="minor", basis="",
            message_key="ok", message_params={}, metrics={}, evidence=[]) for i in range(50)])
        session.flush()
        print(run_id, flush=True)
        time.sleep(60)
""")


def test_a_run_whose_process_is_killed_mid_finish_is_recovered_as_failed(session: Session, db_url: str) -> None:
    root = Path(__file__).resolve().parents[1]
    child = subprocess.Popen([sys.executable, "-c", CHILD, db_url], stdout=subprocess.PIPE, text=True, cwd=root)
    try:
        run_id = (child.stdout.readline() if child.stdout else "").strip()
        assert run_id, "the child did not start its run"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        if child.stdout:
            child.stdout.close()

    recovered = store.recover_stale_runs(session, now=b.utcnow(), host=socket.gethostname(),
                                         is_alive=store.pid_alive, stale_after=timedelta(hours=1))
    assert recovered == [run_id]
    assert store.get_run(session, run_id).status == RunStatus.FAILED  # type: ignore[union-attr]
    assert count(session, db.CheckResultRow) == 0


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/var/nested/govmon.db")
    with engine.connect() as conn:
        pragmas = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar()
                   for p in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")}
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000, "synchronous": 1}
    assert (tmp_path / "var" / "nested" / "govmon.db").exists()
    engine.dispose()


def test_a_long_lived_session_sees_what_other_processes_wrote(session: Session, db_engine: sa.Engine) -> None:
    assert store.list_runs(session) == []
    with db.session_factory(db_engine)() as other:  # another connection, as the daemon's pipeline would use
        run_id = start(other)
        store.finish_run(other, run_id, {}, finished_at=b.utcnow(), summary={})
    assert [r.id for r in store.list_runs(session)] == [run_id]


# ---------------------------------------------------------------------------- link targets

def crawl_rows(session: Session, run_id: str, site_id: str, pages: list[tuple[str, int | None, str, str]],
               links: list[tuple[str, str, str]]) -> None:
    """Pages (url, status, fetch_kind, final_url) and links (source, target, tag), stored by the ingest;
    a page's first link is a dated list item, so its date names it (as a list page's do)."""
    first = {}
    for source, target, _ in links:
        first.setdefault(source, target)
    b.store_crawl(session, run_id, site_id,
                  [b.page(url, status=status, fetch_kind=kind, final_url=final_url, title=f"{site_id} {url}", size=100,
                          dates=[DateHit(date.today(), "list-item", block="L1", item=first[url])] if url in first
                          else [])
                   for url, status, kind, final_url in pages],
                  [b.link(source, target, tag=tag) for source, target, tag in links])


def test_link_targets_are_shared_by_sites_and_each_snapshot_sees_its_own(session: Session) -> None:
    run_id, other_run = start(session), start(session)
    home1, home2 = "https://www.shuangta.gov.cn/", "https://www.beipiao.gov.cn/"
    a, shared, c = "https://www.shuangta.gov.cn/a.html", "https://www.gov.cn/", "https://cdn.example.cn/x.js"
    crawl_rows(session, run_id, "shuangta", [(home1, 200, "ok", home1)], [(home1, a, "a"), (home1, shared, "img")])
    crawl_rows(session, run_id, "beipiao", [(home2, 200, "ok", home2)], [(home2, shared, "a"), (home2, c, "script")])
    now = b.utcnow()
    store.save_link_targets(session, run_id, [b.target(a), b.target(shared, "http_4xx", http_status=404),
                                              b.target(c, "dns", detail="nxdomain")], now)
    store.save_link_targets(session, run_id, [b.target(shared)], now)  # a repeat keeps the first outcome
    store.save_link_targets(session, other_run, [b.target(a, "timeout")], now)
    first = store.load_snapshot(session, run_id, SITES[0], taken_at=now, collected=frozenset())
    second = store.load_snapshot(session, run_id, SITES[1], taken_at=now, collected=frozenset())
    assert dict(first.targets) == {a: b.target(a), shared: b.target(shared, "http_4xx", http_status=404)}
    assert dict(second.targets) == {shared: b.target(shared, "http_4xx", http_status=404),
                                    c: b.target(c, "dns", detail="nxdomain")}
    assert count(session, db.LinkTargetRow, run_id=run_id) == 3


def test_targets_to_check_are_distinct_with_their_tags_and_what_the_crawl_knows(session: Session) -> None:
    run_id, other_run = start(session), start(session)
    home1, home2 = "https://www.shuangta.gov.cn/", "https://www.beipiao.gov.cn/"
    moved, landed = home1 + "old.html", home1 + "new.html"
    flaky, broken, ext = home1 + "flaky.html", home1 + "broken.html", "https://www.gov.cn/"
    crawl_rows(session, run_id, "shuangta",
               [(home1, 200, "ok", home1), (moved, 200, "ok", landed), (flaky, 503, "http_5xx", flaky),
                (broken, 404, "http_4xx", broken)],
               [(home1, moved, "a"), (home1, ext, "a"), (home1, ext, "img"), (home1, landed, "a"),
                (home1, flaky, "a"), (home1, broken, "a")])
    crawl_rows(session, run_id, "beipiao", [(home2, 200, "ok", home2), (flaky, 200, "ok", flaky)],
               [(home2, ext, "script"), (home2, flaky, "a")])
    crawl_rows(session, other_run, "shuangta", [(home1, 200, "ok", home1)], [(home1, home1 + "x.html", "a")])
    targets, known = store.targets_to_check(session, run_id)
    assert [(t.url, set(t.tags)) for t in targets] == [
        (moved, {"a"}), (ext, {"a", "img", "script"}), (landed, {"a"}), (flaky, {"a"}), (broken, {"a"})]
    assert set(known) == {moved, landed, flaky, broken}
    assert (known[landed].url, known[landed].final_url, known[landed].status) == (landed, landed, 200)
    assert (known[flaky].status, known[flaky].title) == (200, f"beipiao {flaky}")   # the 2xx wins
    assert (known[broken].fetch_kind, known[broken].ok) == ("http_4xx", False)


def test_a_page_with_50000_links_admits_only_the_per_page_bound(session: Session) -> None:
    """The fault: one page with 50,000 distinct links made 50,000 requests."""
    run_id = start(session)
    home, directory = "https://www.shuangta.gov.cn/", "https://www.shuangta.gov.cn/wzdh/"
    links = [(home, directory, "a"), (home, "https://www.gov.cn/", "a")]
    links += [(directory, f"https://dh.example.cn/zd/{n}.html", "a") for n in range(50_000)]
    links += [(directory, "mailto:a@shuangta.gov.cn", "a"), (directory, home, "a")]   # free: never requested / crawled
    crawl_rows(session, run_id, "shuangta", [(home, 200, "ok", home), (directory, 200, "ok", directory)], links)
    targets, _ = store.targets_to_check(session, run_id, bounds={"shuangta": (5000, 1000)})
    admitted = [t.url for t in targets if t.over_limit is None]
    over = [t for t in targets if t.over_limit is not None]
    assert admitted[:3] == [directory, "https://www.gov.cn/", "https://dh.example.cn/zd/0.html"]
    assert len(admitted) == 2 + 1000 + 2 and "mailto:a@shuangta.gov.cn" in admitted and home in admitted
    assert len(over) == 49_000 and over[0].url == "https://dh.example.cn/zd/1000.html"
    assert "max_links_per_page = 1000" in over[0].over_limit
    assert all(t.sites == {"shuangta"} for t in targets)


def test_a_site_admits_at_most_max_link_targets_and_another_sites_links_still_count(session: Session) -> None:
    run_id = start(session)
    home1, home2 = "https://www.shuangta.gov.cn/", "https://www.beipiao.gov.cn/"
    pages1 = [home1 + f"p{n}.html" for n in range(5)]
    crawl_rows(session, run_id, "shuangta", [(home1, 200, "ok", home1)] + [(p, 200, "ok", p) for p in pages1],
               [(home1, p, "a") for p in pages1]
               + [(p, f"https://ext.example.cn/{i}/{n}.html", "a") for i, p in enumerate(pages1) for n in range(3)])
    crawl_rows(session, run_id, "beipiao", [(home2, 200, "ok", home2)],
               [(home2, "https://ext.example.cn/4/2.html", "a")])
    targets, _ = store.targets_to_check(session, run_id, bounds={"shuangta": (10, 1000), "beipiao": (10, 1000)})
    by_url = {t.url: t for t in targets}
    over = sorted(u for u, t in by_url.items() if t.over_limit is not None)
    # the 5 crawled pages cost nothing; 10 of the 15 external targets fit, in crawl order
    assert over == [f"https://ext.example.cn/{i}/{n}.html" for i in (3, 4) for n in range(3) if (i, n) != (3, 0)
                    and (i, n) != (4, 2)]
    assert "max_link_targets = 10" in by_url["https://ext.example.cn/3/1.html"].over_limit
    assert by_url["https://ext.example.cn/4/2.html"].over_limit is None       # beipiao's own link admits it
    assert by_url["https://ext.example.cn/4/2.html"].sites == {"shuangta", "beipiao"}
