"""Score views: each site's checks.score Score, and the roll-ups by level and kind.

Builds reports.views from stored results with the frame's weights (the config's
[score]); reads nothing itself and scores nothing but through checks.score.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from checks import REGISTRY
from checks.base import Result
from checks.score import Deduction, Score, Weights, rollup, score
from checks.snapshot import SiteInfo
from monitor.store import RunResults
from reports import build, i18n
from reports.build import Frame
from reports.views import RollupRow, ScoreDeduction, ScoreItem, ScoreMark, ScoreView, WorstSite

# Roll-up groups, each with the test of a site: the all-sites row, then a partition in the 考评 way:
# the city-level portals, the counties (their portals and any county-level site), the city's department sites.
GROUPS: tuple[tuple[str, Callable[[SiteInfo], bool]], ...] = (
    ("all", lambda s: True),
    ("city", lambda s: s.level != "county" and s.kind == "portal"),
    ("county", lambda s: s.level == "county"),
    ("department", lambda s: s.level != "county" and s.kind != "portal"),
)
WORST = 3


def points(value: float) -> str:
    """A score or a deduction as people write it: 87.5, 100, 0.3."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def site_scores(rr: RunResults, weights: Weights) -> dict[str, Score]:
    """Every site of the run, scored; in config order."""
    return {s.id: score(rr.results.get(s.id, ()), weights) for s in rr.sites}


def score_mark(s: Score, language: str) -> ScoreMark:
    return ScoreMark(points(s.total), s.grade, i18n.ui(f"grade_{s.grade}", language), s.vetoed, s.partial)


def indicator_name(key: str, language: str, titles: Mapping[str, str]) -> str:
    """A rule key in words: a family by its family name, a check id by its title."""
    if key in i18n.FAMILIES and (key not in REGISTRY or REGISTRY[key].parameterised):
        return i18n.family_name(key, language)
    return i18n.check_title(key, language, titles)


def _item(result: Result, lost: float | None, frame: Frame, titles: Mapping[str, str], failed: bool = False
          ) -> ScoreItem:
    title = (i18n.failure_title if failed else i18n.check_title)(result.check_id, frame.language, titles)
    return ScoreItem(title, f"#{build.anchor(result.check_id)}", build.mark(result, frame.language),
                     points(lost) if lost else "")


def score_rule(frame: Frame) -> str:
    w = frame.weights
    return frame.t("score_rule", pass_mark=points(w.pass_mark), good_mark=points(w.good_mark),
                   vetoed_max=points(w.vetoed_max))


def score_view(results: Sequence[Result], frame: Frame, titles: Mapping[str, str]) -> ScoreView:
    """One site's score: total and grade, the failed veto items, the deductions by indicator, the unscored."""
    s = score(results, frame.weights)
    by_id = {r.check_id: r for r in results}
    deductions = tuple(
        ScoreDeduction(d.key, indicator_name(d.key, frame.language, titles), points(d.points), points(d.cap),
                       d.capped, tuple(_item(by_id[i.check_id], i.points, frame, titles) for i in d.items))
        for d in s.deductions)
    return ScoreView(score_mark(s, frame.language), points(s.points), points(sum(d.points for d in s.deductions)),
                     tuple(_item(by_id[c], None, frame, titles, failed=True) for c in s.vetoes), deductions,
                     tuple(_item(by_id[c], None, frame, titles) for c in s.unscored), score_rule(frame))


def rollups(rr: RunResults, scores: Mapping[str, Score], frame: Frame, href_of: Mapping[str, str]
            ) -> tuple[RollupRow, ...]:
    """The roll-up rows of GROUPS: all sites, then each group that has sites."""
    names = {s.id: s.name for s in rr.sites}
    rows = []
    for group, member in GROUPS:
        scored = [(s.id, scores[s.id]) for s in rr.sites if member(s)]
        if not scored and group != "all":
            continue
        up = rollup(scored, WORST)
        worst = tuple(WorstSite(names[i], href_of[i], score_mark(scores[i], frame.language)) for i in up.worst)
        rows.append(RollupRow(group, frame.t(f"group_{group}"), up.sites, up.passed, up.vetoed, up.partial,
                              points(up.average) if up.average is not None else "—", worst))
    return tuple(rows)


def group_of(site: SiteInfo) -> str:
    """The site's roll-up group other than "all"."""
    return next(g for g, member in GROUPS[1:] if member(site))


def score_table(rr: RunResults, frame: Frame) -> tuple[list[str], list[list[object]]]:
    """(header, rows) of the 得分 sheet: one row per site, lowest total first; then one column of
    deducted points per indicator that deducted anywhere in the run."""
    titles = build.requirement_titles(rr.run)
    scores = site_scores(rr, frame.weights)
    keys = list(dict.fromkeys(d.key for s in scores.values() for d in s.deductions))
    head = [frame.t(k) for k in ("site_id", "site", "group", "score_total", "grade", "score_points", "veto_items",
                                 "deductions", "unscored")] + [indicator_name(k, frame.language, titles) for k in keys]
    position = {s.id: i for i, s in enumerate(rr.sites)}
    rows: list[list[object]] = []
    for site in sorted(rr.sites, key=lambda s: (scores[s.id].total, position[s.id])):
        s = scores[site.id]
        deducted = {d.key: d.points for d in s.deductions}
        rows.append([site.id, site.name, frame.t(f"group_{group_of(site)}"), s.total,
                     frame.t(f"grade_{s.grade}"), s.points,
                     "、".join(i18n.failure_title(c, frame.language, titles) for c in s.vetoes),
                     "; ".join(_deduction_text(d, frame.language, titles) for d in s.deductions),
                     "、".join(i18n.check_title(c, frame.language, titles) for c in s.unscored)]
                    + [deducted.get(k) for k in keys])
    return head, rows


def _deduction_text(d: Deduction, language: str, titles: Mapping[str, str]) -> str:
    """"专栏专题 -7 (助企纾困专题 -5, 市场准入负面清单 -2)": the results only when the indicator is not one check."""
    text = f"{indicator_name(d.key, language, titles)} -{points(d.points)}"
    if [i.check_id for i in d.items] == [d.key]:
        return text
    each = (f"{i18n.check_title(i.check_id, language, titles)} -{points(i.points)}" for i in d.items)
    return f"{text} ({', '.join(each)})"


def rollup_table(rr: RunResults, frame: Frame) -> tuple[list[str], list[list[object]]]:
    """(header, rows) of the roll-up sheet: the run page's roll-up rows."""
    rows = rollups(rr, site_scores(rr, frame.weights), frame, {s.id: "" for s in rr.sites})
    head = [frame.t(k) for k in ("group", "sites", "passed_sites", "vetoed_sites", "partial_score", "average_score",
                                 "lowest_scores")]
    return head, [[r.label, r.sites, r.passed, r.vetoed, r.partial, float(r.average) if r.average != "—" else None,
                   "、".join(f"{w.name} {w.score.total}" for w in r.worst)] for r in rows]
