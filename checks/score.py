"""Site scores in the style of the national 政府网站检查指标: 单项否决 items, then deductions from 100.

Pure: no I/O, no clock, standard library and checks.base only. `score(results, weights)`
judges one site's results; `rollup` sums up a group of scored sites. The weights are
the config's [score] (monitor.config builds them) or DEFAULT_WEIGHTS; their basis is
written in docs/config.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from checks.base import Result, Severity, Status

GRADES = ("good", "pass", "fail")    # 良好 / 合格 / 不合格, best first
FULL_MARKS = 100.0


@dataclass(frozen=True)
class Rule:
    """How one indicator deducts: points for each warn and fail result it covers, capped.

    `per` adds points per unit of a result metric on warn/fail (链接可用性 counts each
    dead link). `cap` bounds the indicator's sum over all its results, as the national
    rule "单项指标扣分之和不超过本项指标总分值" does.
    """

    fail: float
    warn: float
    cap: float
    per: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Weights:
    """Everything a score depends on; defaults in DEFAULT_WEIGHTS."""

    rules: Mapping[str, Rule]          # by check id ("links:dead") or family ("column" covers column:<req>)
    fallback: Mapping[str, Rule]       # by severity, for a check no rule covers; capped per check
    veto: frozenset[str] = frozenset()       # ids/families whose fail is also a veto
    not_veto: frozenset[str] = frozenset()   # ids/families whose fail is deducted, never a veto
    pass_mark: float = 60.0            # below it: 不合格
    good_mark: float = 80.0            # from it: 良好 (the national rubric's threshold for 加分)
    vetoed_max: float = 59.0           # a vetoed site's total is at most this (不合格 whatever its deductions)


DEFAULT_RULES: Mapping[str, Rule] = MappingProxyType({
    "availability": Rule(fail=20, warn=5, cap=20),
    "freshness:homepage": Rule(fail=20, warn=5, cap=20),
    "links:dead": Rule(fail=0, warn=0, cap=10, per=MappingProxyType({"homepage_dead": 1.0, "dead": 0.1})),
    "column": Rule(fail=5, warn=2, cap=20),
    # 栏目不更新 and 空白栏目: a fail is the checklist's veto; below the veto line each column costs points
    "columns": Rule(fail=0, warn=0, cap=10, per=MappingProxyType({"late": 2.0, "long": 1.0, "blank": 2.0})),
    "ipv6": Rule(fail=4, warn=1, cap=10),
    "https": Rule(fail=5, warn=2, cap=5),
    "footer": Rule(fail=2, warn=2, cap=5),
})
DEFAULT_FALLBACK: Mapping[str, Rule] = MappingProxyType({
    "veto": Rule(fail=20, warn=5, cap=20),
    "major": Rule(fail=5, warn=2, cap=10),
    "minor": Rule(fail=2, warn=1, cap=5),
})
DEFAULT_WEIGHTS = Weights(rules=DEFAULT_RULES, fallback=DEFAULT_FALLBACK)


@dataclass(frozen=True)
class Item:
    check_id: str
    status: str          # warn or fail
    points: float        # before the indicator's cap


@dataclass(frozen=True)
class Deduction:
    key: str                       # the indicator: a rule key, or the check id under a fallback rule
    items: tuple[Item, ...]        # the results that lost points here, in result order
    points: float                  # deducted: the items' sum, capped
    cap: float

    @property
    def capped(self) -> bool:
        return sum(i.points for i in self.items) > self.cap


@dataclass(frozen=True)
class Score:
    total: float                     # 0–100, two decimals; at most `vetoed_max` when vetoed
    points: float                    # 100 minus the deductions, before any veto
    grade: str                       # one of GRADES
    vetoes: tuple[str, ...]          # check ids of the failed 单项否决 items
    deductions: tuple[Deduction, ...]   # largest first
    unscored: tuple[str, ...]        # check ids with error/skip: not scored, so the score is partial

    @property
    def vetoed(self) -> bool:
        return bool(self.vetoes)

    @property
    def partial(self) -> bool:
        return bool(self.unscored)


def covers(key: str, check_id: str) -> bool:
    """True when a rule or veto key names the check id itself or a family it belongs to."""
    return check_id == key or check_id.startswith(key + ":")


def rule_key(check_id: str, keys: Iterable[str]) -> str | None:
    """The most specific key covering the id (`column:negative_list` before `column`), else None."""
    found = [k for k in keys if covers(k, check_id)]
    return max(found, key=len) if found else None


def is_veto(result: Result, weights: Weights) -> bool:
    """A fail of a veto item: by its severity or `weights.veto`, unless `weights.not_veto` says otherwise."""
    if result.status != Status.FAIL:
        return False
    named = rule_key(result.check_id, weights.veto)
    waived = rule_key(result.check_id, weights.not_veto)
    if waived is not None and (named is None or len(waived) >= len(named)):
        return False
    return named is not None or result.severity == Severity.VETO


def _points(rule: Rule, result: Result) -> float:
    base = rule.fail if result.status == Status.FAIL else rule.warn
    for metric, each in rule.per.items():
        value = result.metrics.get(metric)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            base += each * value
    return base


def score(results: Sequence[Result], weights: Weights = DEFAULT_WEIGHTS) -> Score:
    """Score one site's results: vetoes, then warn/fail deductions per indicator, capped, from 100.

    A veto's fail deducts nothing (it decides the grade); error and skip results deduct
    nothing and are listed as unscored. Never raises on unknown ids: a check no rule
    covers is weighed by `weights.fallback` for its severity (nothing when absent).
    """
    vetoes: list[str] = []
    unscored: list[str] = []
    groups: dict[str, tuple[Rule, list[Item]]] = {}
    for r in results:
        if r.status in (Status.ERROR, Status.SKIP):
            unscored.append(r.check_id)
            continue
        if r.status == Status.PASS:
            continue
        if is_veto(r, weights):
            vetoes.append(r.check_id)
            continue
        key = rule_key(r.check_id, weights.rules)
        rule = weights.rules[key] if key is not None else weights.fallback.get(str(r.severity))
        if rule is None:
            continue
        points = round(_points(rule, r), 2)
        if points > 0:
            groups.setdefault(key or r.check_id, (rule, []))[1].append(Item(r.check_id, str(r.status), points))
    deductions = sorted((Deduction(key, tuple(items), round(min(sum(i.points for i in items), rule.cap), 2),
                                   rule.cap) for key, (rule, items) in groups.items()), key=lambda d: -d.points)
    points = round(max(0.0, FULL_MARKS - sum(d.points for d in deductions)), 2)
    total = min(points, weights.vetoed_max) if vetoes else points
    return Score(total, points, grade(total, bool(vetoes), weights), tuple(vetoes), tuple(deductions),
                 tuple(unscored))


def grade(total: float, vetoed: bool, weights: Weights) -> str:
    """不合格 when vetoed or below the pass mark, 良好 from the good mark, else 合格."""
    if vetoed or total < weights.pass_mark:
        return "fail"
    return "good" if total >= weights.good_mark else "pass"


@dataclass(frozen=True)
class Rollup:
    sites: int
    passed: int                      # grade pass or good (合格)
    vetoed: int
    partial: int                     # sites with unscored results
    average: float | None            # mean total, two decimals; None for no sites
    worst: tuple[str, ...]           # site ids below full marks, lowest total first, then lowest points, config order


def rollup(scored: Sequence[tuple[str, Score]], worst: int = 3) -> Rollup:
    """Sum up scored sites (site id, score) in config order: counts, mean total and the `worst` lowest."""
    totals = [s.total for _, s in scored]
    order = sorted(range(len(scored)), key=lambda i: (scored[i][1].total, scored[i][1].points, i))
    return Rollup(len(scored), sum(s.grade != "fail" for _, s in scored), sum(s.vetoed for _, s in scored),
                  sum(s.partial for _, s in scored),
                  round(sum(totals) / len(totals), 2) if totals else None,
                  tuple(scored[i][0] for i in order[:worst] if scored[i][1].total < FULL_MARKS))
