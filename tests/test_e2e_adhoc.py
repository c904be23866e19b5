"""`govmon check` after a demo run never touches the runs' history: not the index, the trends, the latest
run, the next run's availability window nor its comparison. Real demo web, real store, real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from sqlalchemy.orm import Session

from monitor import config, db, pipeline, store
from monitor.db import ProbeRow, RunRow
from monitor.demo import DemoWeb
from reports import pages
from reports.build import Frame
from reports.history import Past
from reports.render import write_index

SITES = ("chaoyang", "scjg")   # the model site and one whose homepage answers 500
CHECKED = "scjg"


@dataclass
class Work:
    path: Path
    config_path: Path
    first: str          # the demo run before any check

    @contextmanager
    def session(self) -> Iterator[Session]:
        engine = db.make_engine(f"sqlite:///{self.path / 'govmon.db'}")
        try:
            with db.session_factory(engine)() as session:
                yield session
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def work(demo_web: DemoWeb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Work]:
    path = tmp_path_factory.mktemp("adhoc")
    config_path = demo_web.write_config(path / "sites.toml", storage_url=f"sqlite:///{path / 'govmon.db'}",
                                        report_dir=str(path / "reports"))
    cfg = config.load(config_path)
    outcome = pipeline.execute(cfg, kind="demo", sites=[s for s in cfg.sites if s.id in SITES])
    assert outcome.status == "complete", outcome.error
    yield Work(path, config_path, outcome.run_id)


def govmon(work: Work, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", "-q", *args, "--config", str(work.config_path)],
                          cwd=work.path, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
                          env={**os.environ, "COLUMNS": "160"})


def headline(work: Work) -> list[str]:
    """The index's tiles: pass rate and time of the latest run, its sites, the number of runs."""
    html = BeautifulSoup((work.path / "reports" / "index.html").read_text(encoding="utf-8"), "lxml")
    return [" ".join(tile.get_text(" ").split()) for tile in html.select(".tiles .tile")]


def row_counts(session: Session) -> dict[str, int]:
    counted = {name: session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
               for name, table in db.Base.metadata.tables.items()}
    session.rollback()
    return counted


def history_seen(session: Session) -> tuple[str | None, list[str], list[float | None]]:
    """What the history shows: the latest run, the runs the index lists and its pass-rate trend."""
    latest = store.latest_complete_run(session)
    assert latest is not None
    past = Past(store.result_history(session, latest.id), 52)
    return latest.id, [r.id for r in past.runs], past.pass_rates()


def test_a_check_stores_nothing_and_changes_no_report(work: Work) -> None:
    with work.session() as session:
        before, seen = row_counts(session), history_seen(session)
    index = (work.path / "reports" / "index.html").read_bytes()
    url = config.load(work.config_path).site_by_id(CHECKED).url  # type: ignore[union-attr]
    done = govmon(work, "check", str(url), "--json", str(work.path / "check.json"))
    assert done.returncode == 1, done.stderr
    assert "HTTP 500" in done.stdout and "报告：" not in done.stdout, done.stdout   # printed, no report page
    assert json.loads((work.path / "check.json").read_text())["run"]["kind"] == "adhoc"
    with work.session() as session:
        assert row_counts(session) == before, "every table as it was: crawl, probes, results, sites"
        assert history_seen(session) == seen
    assert (work.path / "reports" / "index.html").read_bytes() == index


def test_a_stored_check_is_shown_only_where_asked_and_the_next_run_ignores_it(work: Work) -> None:
    tiles = headline(work)
    with work.session() as session:
        seen = history_seen(session)
    assert seen[1] == [work.first]
    url = config.load(work.config_path).site_by_id(CHECKED).url  # type: ignore[union-attr]
    done = govmon(work, "check", str(url), "--store")
    assert done.returncode == 1, done.stderr
    with work.session() as session:
        [adhoc] = store.list_runs(session, kinds=["adhoc"])
        assert history_seen(session) == seen, "latest run, listed runs and trend unchanged"
    assert f"runs/{adhoc.id}/index.html" in done.stdout   # its own report page, asked for
    with work.session() as session:   # compared with the run before it, on the site it checked only
        own = pages.run_view(store.load_results(session, adhoc.id), Past(store.result_history(session, adhoc.id), 52),
                             Frame("t", "zh", "Asia/Shanghai"))
    assert own.changes.previous is not None and (own.changes.previous.id, own.changes.previous.sites) == (work.first, 1)
    assert (work.path / "reports" / "runs" / adhoc.id / "index.html").is_file()
    assert headline(work) == tiles   # the index was written again (with the check's page) and says the same
    index = (work.path / "reports" / "index.html").read_text(encoding="utf-8")
    assert adhoc.id not in index and work.first in index
    status = govmon(work, "status")
    assert adhoc.id in status.stdout and "临时" in status.stdout
    report = govmon(work, "report")
    assert report.returncode == 0 and f"runs/{work.first}/index.html" in report.stdout, report.stdout

    cfg = config.load(work.config_path)
    second = pipeline.execute(cfg, kind="demo", sites=[s for s in cfg.sites if s.id in SITES], render=False)
    assert second.results is not None, second.error
    with work.session() as session:
        window = {r.check_id: r for r in second.results.results[CHECKED]}["availability"].metrics["window_probes"]
        runs = [work.first, second.run_id]
        of_runs = session.scalar(sa.select(sa.func.count()).select_from(ProbeRow).where(
            ProbeRow.site_id == CHECKED, ProbeRow.kind == "availability", ProbeRow.run_id.in_(runs)))
        of_check = session.scalar(sa.select(sa.func.count()).select_from(ProbeRow).where(
            ProbeRow.site_id == CHECKED, ProbeRow.kind == "availability", ProbeRow.run_id == adhoc.id))
        assert of_check and window == of_runs, "the window holds both runs' probes, none of the check's"
        past = Past(store.result_history(session, second.run_id), 52)
        view = pages.run_view(store.load_results(session, second.run_id), past, Frame("t", "zh", "Asia/Shanghai"))
        assert view.changes.previous is not None and view.changes.previous.id == work.first
        assert [r.id for r in past.runs] == [work.first, second.run_id]

        # The same database with the check taken for a run of the history (as it used to be stored): each
        # assertion above would have caught it.
        session.execute(sa.update(RunRow).where(RunRow.id == adhoc.id).values(kind="manual"))
        session.commit()
        assert [r.id for r in Past(store.result_history(session, second.run_id), 52).runs] == \
            [work.first, adhoc.id, second.run_id]
        assert Past(store.result_history(session, second.run_id), 52).previous_run().id == adhoc.id  # type: ignore[union-attr]
        site = next(s for s in second.results.sites if s.id == CHECKED)
        counted = store.load_probes(session, second.run_id, site, taken_at=pipeline.utcnow())
        assert len(counted.history.availability) == window + of_check
        session.execute(sa.update(RunRow).where(RunRow.id == second.run_id).values(kind="adhoc"))
        session.commit()
        assert store.latest_complete_run(session).id == adhoc.id  # type: ignore[union-attr]
        write_index(session, work.path / "reports", Frame(cfg.report.title, "zh", cfg.schedule.timezone))
    assert headline(work)[1:] != tiles[1:], "one site, three runs"
