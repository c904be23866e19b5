"""Failing streaks, changes and trend values from earlier runs; the store's result history."""

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from checks.base import Status
from monitor import store
from monitor.store import PastResult, ResultHistory, RunInfo
from reports.history import Past, direction
from tests import builders as b


def _runs(statuses: list[str]) -> Past:
    """One site 's', one check 'c', one run per status ('' = the check is not in that run)."""
    now = b.utcnow()
    runs = tuple(RunInfo(id=f"r{i}", kind="scheduled", status="complete",
                         started_at=now - timedelta(days=7 * (len(statuses) - i)), finished_at=None, error=None,
                         config_digest="d", code_version="t", pid=None, host=None)
                 for i in range(len(statuses)))
    results = tuple(PastResult(f"r{i}", "s", "c", Status(st), {}) for i, st in enumerate(statuses) if st)
    return Past(ResultHistory(runs, results), limit=10)


@pytest.mark.parametrize(("statuses", "runs", "first"), [
    (["pass", "fail"], 1, 1),
    (["fail", "fail", "fail"], 3, 0),
    (["pass", "warn", "fail"], 2, 1),
    (["fail", "error", "fail"], 2, 0),
    (["fail", "", "fail"], 2, 0),
    (["fail", "pass", "fail", "fail"], 2, 2),
], ids=["new-after-pass", "three-in-a-row", "warn-then-fail-is-one-streak", "undecided-run-neither-breaks-nor-counts",
        "run-without-the-check-is-passed-over", "a-pass-ends-the-streak"])
def test_streak_counts_consecutive_failing_runs(statuses: list[str], runs: int, first: int) -> None:
    past = _runs(statuses)
    streak = past.streak("s", "c")
    assert streak is not None
    assert (streak.runs, streak.first_seen, streak.new) == (runs, past.runs[first].started_at, runs == 1)


@pytest.mark.parametrize("statuses", [["fail", "pass"], ["fail", "error"], ["fail", "fail", ""]])
def test_no_streak_unless_this_run_fails(statuses: list[str]) -> None:
    assert _runs(statuses).streak("s", "c") is None


def test_streak_reaching_past_the_loaded_runs_is_capped() -> None:
    past = _runs(["fail"] * 10)
    streak = past.streak("s", "c")
    assert streak is not None and streak.capped and streak.runs == 10
    assert not _runs(["pass"] + ["fail"] * 9).streak("s", "c").capped  # type: ignore[union-attr]


@pytest.mark.parametrize(("before", "after", "expected"), [
    ("pass", "fail", "worse"), ("warn", "fail", "worse"), ("pass", "warn", "worse"), ("fail", "pass", "better"),
    ("fail", "warn", "better"), ("fail", "fail", None), ("pass", "error", None), ("error", "fail", None),
    (None, "fail", None),
])
def test_direction(before: str | None, after: str, expected: str | None) -> None:
    assert direction(before, after) == expected


@pytest.mark.parametrize(("kind", "rates", "previous"), [
    ("adhoc", [1.0, 0.0], ["pass"]),
    ("scheduled", [0.5, 0.0], ["pass", "fail"]),
], ids=["an-adhoc-check-is-compared-on-its-own-site", "a-run-of-the-history-is-read-whole"])
def test_an_adhoc_checks_figures_cover_its_sites_only(kind: str, rates: list[float], previous: list[str]) -> None:
    now = b.utcnow()
    runs = tuple(RunInfo(id=f"r{i}", kind=k, status="complete", started_at=now - timedelta(days=2 - i),
                         finished_at=None, error=None, config_digest="d", code_version="t", pid=None, host=None)
                 for i, k in enumerate(["scheduled", kind]))
    results = (PastResult("r0", "checked", "c", Status.PASS, {}), PastResult("r0", "other", "c", Status.FAIL, {}),
               PastResult("r1", "checked", "c", Status.FAIL, {}))
    past = Past(ResultHistory(runs, results), limit=10)
    assert past.pass_rates() == rates
    assert [str(p.status) for p in past.by_run[0] if past.in_scope(p)] == previous
    assert past.pass_rates("other") == [0.0, None], "a site asked for by name is always its own"


def test_previous_result_skips_runs_without_the_check_but_the_previous_run_is_the_one_before() -> None:
    # Ad-hoc checks never reach a Past as earlier runs: monitor.store.result_history leaves them out
    # (tests/test_monitor_adhoc.py).
    past = _runs(["warn", "", "fail"])
    assert past.previous_status("s", "c") == "warn"
    assert past.previous_run() is not None and past.previous_run().id == "r1"  # type: ignore[union-attr]
    assert past.trend_runs == (0, 1, 2)
    assert past.pass_rates() == [0.0, None, 0.0]


def test_store_result_history_returns_runs_up_to_the_one_asked_oldest_first(session: Session) -> None:
    now = b.utcnow()
    ids = []
    for k, status in enumerate(["pass", "fail", "fail"]):
        started = now - timedelta(days=3 - k)
        run_id = store.start_run(session, kind="scheduled", sites=[b.site("s")], config_digest="d", code_version="t",
                                 started_at=started, pid=1, host="h")
        results = {"s": [b.result("links:dead", status, metrics={"dead": k, "checked": 10}),
                         b.result("availability", "pass", metrics={"status": 200})]}
        store.finish_run(session, run_id, results, finished_at=started + timedelta(seconds=1), summary={})
        ids.append(run_id)
    failed = store.start_run(session, kind="scheduled", sites=[b.site("s")], config_digest="d", code_version="t",
                             started_at=now - timedelta(hours=36), pid=1, host="h")
    store.fail_run(session, failed, "boom", finished_at=now)

    history = store.result_history(session, ids[1], limit=5, metrics_for=["links:dead"])
    assert [r.id for r in history.runs] == ids[:2], "later runs and failed runs are left out"
    by_check = {(p.run_id, p.check_id): p for p in history.results}
    assert by_check[(ids[1], "links:dead")].metrics == {"dead": 1, "checked": 10}
    assert by_check[(ids[1], "availability")].metrics == {}, "metrics only for the checks asked for"
    assert [r.id for r in store.result_history(session, ids[2], limit=2).runs] == ids[1:]
    assert store.result_history(session, failed).runs == ()
    streak = Past(store.result_history(session, ids[2]), 52).streak("s", "links:dead")
    assert streak is not None and streak.runs == 2
