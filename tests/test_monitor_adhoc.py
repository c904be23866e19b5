"""Ad-hoc checks are stored apart from the runs' history (monitor.store, monitor.retention), on SQLite and
PostgreSQL: never the latest run, never compared with, never charted, never in an availability window."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from checks.snapshot import SiteInfo
from monitor import db, retention, store
from monitor.db import ProbeRow, RunRow, SiteRow
from tests import builders as b

MODEL = b.site("model")
ONLY_CHECKED = b.site("elsewhere")


def _run(session: Session, kind: str, started: datetime, statuses: dict[str, str],
         sites: tuple[SiteInfo, ...] = (MODEL,), probes: dict[str, str] | None = None) -> str:
    """A complete run of `kind` with one availability result per site, and its availability probes."""
    run_id = store.start_run(session, kind=kind, sites=sites, config_digest="d", code_version="t", started_at=started,
                             pid=os.getpid(), host="h")
    for site_id, outcome in (probes or {}).items():
        store.save_probes(session, run_id, site_id, [b.probe(outcome=outcome, at=started)])
    store.finish_run(session, run_id, {s.id: [b.result("availability", statuses[s.id])] for s in sites},
                     finished_at=started + timedelta(seconds=1), summary={})
    return run_id


@pytest.fixture
def history(session: Session) -> dict[str, str]:
    """A demo run, then an ad-hoc check of the same site that fails, then a scheduled run."""
    now = b.utcnow()
    first = _run(session, "demo", now - timedelta(hours=3), {"model": "pass"}, probes={"model": "ok"})
    adhoc = _run(session, "adhoc", now - timedelta(hours=2), {"model": "fail", "elsewhere": "fail"},
                 sites=(MODEL, ONLY_CHECKED), probes={"model": "timeout", "elsewhere": "timeout"})
    second = _run(session, "scheduled", now - timedelta(hours=1), {"model": "pass"}, probes={"model": "ok"})
    return {"first": first, "adhoc": adhoc, "second": second}


def test_the_latest_run_and_the_previous_run_are_never_an_adhoc_check(session: Session,
                                                                       history: dict[str, str]) -> None:
    assert store.latest_complete_run(session).id == history["second"]  # type: ignore[union-attr]
    assert store.previous_complete_run(session, history["second"]).id == history["first"]  # type: ignore[union-attr]
    # The check is stored and listed where asked for it (govmon status), so the filters above are what hide it.
    assert [r.id for r in store.list_runs(session)] == [history["second"], history["adhoc"], history["first"]]
    assert store.previous_complete_run(session, history["second"], kinds=["adhoc"]).id == history["adhoc"]  # type: ignore[union-attr]


def test_result_history_leaves_adhoc_checks_out_but_an_adhoc_check_sees_the_history(
        session: Session, history: dict[str, str]) -> None:
    later = store.result_history(session, history["second"])
    assert [r.id for r in later.runs] == [history["first"], history["second"]]
    assert {p.run_id for p in later.results} == {history["first"], history["second"]}
    own = store.result_history(session, history["adhoc"])
    assert [r.id for r in own.runs] == [history["first"], history["adhoc"]], "compared with the history before it"


def test_the_availability_window_never_counts_an_adhoc_checks_probes(session: Session,
                                                                     history: dict[str, str]) -> None:
    taken_at = b.utcnow()
    window = store.load_probes(session, history["second"], MODEL, taken_at=taken_at).history.availability
    assert [p.outcome for p in window] == ["ok", "ok"]
    own = store.load_probes(session, history["adhoc"], MODEL, taken_at=store.get_run(session, history["adhoc"])
                            .finished_at).history.availability  # type: ignore[union-attr, arg-type]
    assert [p.outcome for p in own] == ["ok", "timeout"], "the check's own probe and the history's before it"
    assert session.scalar(sa.select(sa.func.count()).select_from(ProbeRow)
                          .where(ProbeRow.run_id == history["adhoc"])) == 2   # stored, yet left out above
    session.rollback()


def _rows_of(session: Session, run_id: str) -> dict[str, int]:
    """Rows naming the run, in every table that has a run_id."""
    found = {t.name: session.scalar(sa.select(sa.func.count()).select_from(t).where(t.c.run_id == run_id)) or 0
             for t in db.Base.metadata.tables.values() if "run_id" in t.c}
    found["run"] = session.scalar(sa.select(sa.func.count()).select_from(RunRow).where(RunRow.id == run_id)) or 0
    session.rollback()
    return found


def test_a_discarded_check_leaves_nothing_and_a_run_of_the_history_cannot_be_discarded(
        session: Session, history: dict[str, str]) -> None:
    adhoc = history["adhoc"]
    store.save_link_targets(session, adhoc, [b.target("https://www.model.gov.cn/a.html")], b.utcnow())
    store.save_dns(session, adhoc, [b.dns("www.model.gov.cn")], b.utcnow())
    before = _rows_of(session, adhoc)
    assert all(before[t] for t in ("run", "run_site", "check_result", "probe", "link_target", "dns_answer")), before
    assert store.discard_run(session, adhoc)
    assert set(_rows_of(session, adhoc).values()) == {0}
    sites = set(session.scalars(sa.select(SiteRow.id)))
    session.rollback()
    assert sites == {"model"}, "a site only the check knew goes with it; one the history knows stays"
    assert not store.discard_run(session, adhoc)
    with pytest.raises(ValueError, match="only a finished ad-hoc check"):
        store.discard_run(session, history["first"])
    assert store.get_run(session, history["first"]) is not None


def test_prune_keeps_the_snapshots_of_the_history_not_of_an_adhoc_check(session: Session,
                                                                        history: dict[str, str]) -> None:
    for run_id in history.values():   # a link target is crawl data: each run has a snapshot to prune
        store.save_link_targets(session, run_id, [b.target("https://www.model.gov.cn/a.html")], b.utcnow())
    kept, pruned = retention.plan(session, keep=2)
    assert [k for k, _ in kept] == [history["second"], history["first"]]
    assert [p for p, _ in pruned] == [history["adhoc"]]
    kept, pruned = retention.plan(session, keep=3)
    assert [p for p, _ in pruned] == [history["adhoc"]], "however many are kept, never the check's"
