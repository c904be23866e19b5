"""checks.score: vetoes, deductions with caps, grades and roll-ups, on literal results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from checks.base import Result, Severity, Status
from checks.score import DEFAULT_WEIGHTS, Rule, Score, Weights, rollup, rule_key, score

V, MJ, MN = Severity.VETO, Severity.MAJOR, Severity.MINOR


def r(check_id: str, status: str, severity: Severity = MJ, **metrics: Any) -> Result:
    return Result(check_id, Status(status), severity, "basis", "key", metrics=metrics)


def deducted(s: Score) -> Mapping[str, float]:
    return {d.key: d.points for d in s.deductions}


CASES = [
    pytest.param([r("availability", "pass", V), r("https", "pass")], 100, "good", (), {}, (),
                 id="all-pass-is-full-marks"),
    pytest.param([r("availability", "fail", V), r("https", "pass")], 59, "fail", ("availability",), {}, (),
                 id="a-veto-fail-caps-the-total-below-the-pass-mark-and-deducts-nothing"),
    pytest.param([r("availability", "warn", V)], 95, "good", (), {"availability": 5}, (),
                 id="a-veto-item-that-only-warns-is-deducted-not-vetoed"),
    pytest.param([r("https", "fail"), r("footer", "warn", MN)], 93, "good", (), {"https": 5, "footer": 2}, (),
                 id="fail-and-warn-deduct-their-rule-points"),
    pytest.param([r("https", "warn")], 98, "good", (), {"https": 2}, (), id="warn-deducts-less-than-fail"),
    pytest.param([r(f"column:req{i}", "fail") for i in range(8)], 80, "good", (), {"column": 20}, (),
                 id="a-family-rule-caps-the-sum-of-its-checks"),
    pytest.param([r("column:a", "fail", V), r("column:b", "warn")], 59, "fail", ("column:a",), {"column": 2}, (),
                 id="a-result-made-veto-by-its-verdict-vetoes"),
    pytest.param([r("links:dead", "warn", dead=3, homepage_dead=0)], 99.7, "good", (), {"links:dead": 0.3}, (),
                 id="dead-links-cost-a-tenth-each"),
    pytest.param([r("links:dead", "fail", dead=4, homepage_dead=2)], 97.6, "good", (), {"links:dead": 2.4}, (),
                 id="homepage-dead-links-cost-a-point-more-each"),
    pytest.param([r("links:dead", "fail", dead=500, homepage_dead=30)], 90, "good", (), {"links:dead": 10}, (),
                 id="dead-links-stop-at-the-cap"),
    pytest.param([r("ipv6:dns", "error"), r("https", "skip"), r("footer", "pass", MN)], 100, "good", (), {},
                 ("ipv6:dns", "https"), id="error-and-skip-deduct-nothing-and-are-listed-unscored"),
    pytest.param([r("content:privacy", "fail"), r("dates:impossible", "warn", MN)], 94, "good", (),
                 {"content:privacy": 5, "dates:impossible": 1}, (), id="checks-without-a-rule-fall-back-by-severity"),
    pytest.param([r("availability", "warn", V), r("freshness:homepage", "warn", V), r("column:a", "fail"),
                  r("column:b", "fail"), r("column:c", "fail"), r("column:d", "fail"), r("column:e", "fail"),
                  r("column:f", "fail"), r("ipv6:dns", "fail"), r("ipv6:homepage", "fail"), r("ipv6:links", "fail"),
                  r("https", "fail")], 55, "fail", (),
                 {"column": 20, "ipv6": 10, "availability": 5, "freshness:homepage": 5, "https": 5}, (),
                 id="below-the-pass-mark-without-a-veto-fails"),
    pytest.param([r("columns:update", "warn", V, late=2, long=1), r("columns:blank", "warn", V, blank=1)], 93, "good",
                 (), {"columns": 7}, (), id="late-long-and-blank-columns-below-the-veto-line-cost-points-each"),
    pytest.param([r("columns:update", "fail", V, late=5), r("columns:blank", "fail", V, blank=5)], 59, "fail",
                 ("columns:update", "columns:blank"), {}, (), id="five-late-or-blank-columns-are-vetoes"),
]


@pytest.mark.parametrize(("results", "total", "grade", "vetoes", "deductions", "unscored"), CASES)
def test_score(results: list[Result], total: float, grade: str, vetoes: tuple[str, ...],
               deductions: Mapping[str, float], unscored: tuple[str, ...]) -> None:
    s = score(results)
    assert (s.total, s.grade, s.vetoes, dict(deducted(s)), s.unscored) == (total, grade, vetoes, deductions, unscored)
    assert s.partial == bool(unscored) and s.vetoed == bool(vetoes)


def test_deductions_list_their_results_largest_indicator_first() -> None:
    s = score([r("footer", "warn", MN), r("column:a", "fail"), r("column:b", "warn")])
    assert [(d.key, [(i.check_id, i.status, i.points) for i in d.items]) for d in s.deductions] == [
        ("column", [("column:a", "fail", 5), ("column:b", "warn", 2)]), ("footer", [("footer", "warn", 2)])]
    assert not s.deductions[0].capped


def test_the_default_caps_add_up_to_full_marks() -> None:
    assert sum(rule.cap for rule in DEFAULT_WEIGHTS.rules.values()) == 100


WEIGHTED = Weights(rules={"https": Rule(fail=30, warn=0, cap=30), "column:a": Rule(fail=1, warn=1, cap=1),
                          "column": Rule(fail=10, warn=5, cap=50)},
                   fallback={}, veto=frozenset({"https"}), not_veto=frozenset({"availability", "column:b"}),
                   pass_mark=90, good_mark=95, vetoed_max=0)

WEIGHTED_CASES = [
    pytest.param([r("https", "fail")], 0, ("https",), {}, id="config-veto-makes-a-major-check-a-veto"),
    pytest.param([r("availability", "fail", V)], 100, (), {}, id="not-veto-waives-it-and-without-a-rule-nothing-is-lost"),
    pytest.param([r("column:b", "fail", V), r("column:a", "fail")], 89, (),
                 {"column": 10, "column:a": 1}, id="the-most-specific-key-wins-for-rules-and-vetoes"),
    pytest.param([r("footer", "fail", MN)], 100, (), {}, id="no-fallback-no-deduction"),
]


@pytest.mark.parametrize(("results", "total", "vetoes", "deductions"), WEIGHTED_CASES)
def test_score_with_configured_weights(results: list[Result], total: float, vetoes: tuple[str, ...],
                                       deductions: Mapping[str, float]) -> None:
    s = score(results, WEIGHTED)
    assert (s.total, s.vetoes, dict(deducted(s))) == (total, vetoes, deductions)


@pytest.mark.parametrize(("total", "vetoed", "grade"), [
    pytest.param(95, False, "good", id="good-mark-is-good"), pytest.param(94.99, False, "pass", id="below-good-passes"),
    pytest.param(90, False, "pass", id="pass-mark-passes"), pytest.param(89.99, False, "fail", id="below-pass-fails"),
    pytest.param(100, True, "fail", id="vetoed-fails-at-any-score")])
def test_grade_bands(total: float, vetoed: bool, grade: str) -> None:
    from checks.score import grade as grade_of
    assert grade_of(total, vetoed, WEIGHTED) == grade


@pytest.mark.parametrize(("check_id", "key"), [("column:a", "column:a"), ("column:b", "column"),
                                               ("columnist", None), ("https", "https"), ("links:dead", None)])
def test_rule_key_matches_ids_and_families_only(check_id: str, key: str | None) -> None:
    assert rule_key(check_id, WEIGHTED.rules) == key


def test_rollup_counts_averages_and_names_the_worst() -> None:
    scored = [("a", score([r("https", "pass")])), ("b", score([r("availability", "fail", V)])),
              ("c", score([r("https", "fail"), r("ipv6:dns", "error")])), ("d", score([r("footer", "warn", MN)]))]
    up = rollup(scored, worst=2)
    assert (up.sites, up.passed, up.vetoed, up.partial, up.average, up.worst) == (4, 3, 1, 1, 88.0, ("b", "c"))


def test_rollup_of_nothing_and_of_full_marks_names_no_one() -> None:
    assert rollup([]).average is None
    assert rollup([("a", score([r("https", "pass")]))]).worst == ()
