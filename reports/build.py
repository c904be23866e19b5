"""Builds the view models of reports.views from stored results and their history.

Reads nothing itself: callers pass a monitor.store.RunResults and a
reports.history.Past. Every crawled string is cut and cleaned here (reports.safe);
escaping is left to the templates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from checks import REGISTRY, spec_for
from checks.base import Result
from checks.score import DEFAULT_WEIGHTS, Weights
from monitor.store import RunInfo, RunResults
from reports import advice, charts, codes, i18n, ledger
from reports.history import DEAD_LINKS, IPV6_DNS, IPV6_RATIOS, Past, Streak, direction
from reports.safe import clip, link_url
from reports.views import (
    Change,
    Changes,
    Chart,
    CheckView,
    Dependent,
    EvidenceRow,
    EvidenceTable,
    Figure,
    Fix,
    Link,
    Mark,
    Page,
    Resolved,
    RunLine,
    Since,
    StatusCount,
)

EVIDENCE_ON_PAGE = 100
EVIDENCE_IN_FIX = 3
SUMMARY_LIMIT = 500
EVIDENCE_COLUMNS = ("source", "detail", "text", "expected", "actual")


@dataclass(frozen=True)
class Frame:
    """What every page shares: the report title, language and time zone, the weights sites are scored by
    and the days allowed to fix by severity."""

    title: str
    language: str
    timezone: str
    weights: Weights = DEFAULT_WEIGHTS
    rectify_days: Mapping[str, int] | None = None   # [report] rectify_days; None = ledger.DEFAULT_RECTIFY_DAYS

    def t(self, key: str, **params: Any) -> str:
        return i18n.ui(key, self.language, **params)


def page(frame: Frame, heading: str, root: str, crumbs: Sequence[Link] = ()) -> Page:
    return Page(frame.title, heading, frame.language, "zh-CN" if frame.language == "zh" else "en", root,
                tuple(crumbs))


def requirement_titles(run: RunInfo) -> Mapping[str, str]:
    """{requirement id: title} the pipeline stored in the run's summary; empty when absent."""
    titles = (run.summary or {}).get("requirements")
    return {str(k): str(v) for k, v in titles.items()} if isinstance(titles, Mapping) else {}


def check_order(check_id: str, requirements: Sequence[str] = ()) -> tuple[int, int, str]:
    """Families in report order, then registry order, then requirement (config) order."""
    families = list(i18n.FAMILIES)
    family = i18n.family_of(check_id)
    first = families.index(family) if family in families else len(families)
    keys = list(REGISTRY)
    rest = check_id.split(":", 1)[1] if ":" in check_id else ""
    second = keys.index(check_id) if check_id in keys else \
        list(requirements).index(rest) if family in i18n.REQUIREMENT_FAMILIES and rest in requirements else len(keys)
    return first, second, check_id


def anchor(check_id: str) -> str:
    return "check-" + check_id.replace(":", "-")


def mark(result: Result | None, language: str) -> Mark:
    if result is None:
        return Mark("", "", "", "", "")
    summary, raw = i18n.message_and_raw(result, language)
    return status_mark(str(result.status), language, clip(summary, SUMMARY_LIMIT), clip(raw, SUMMARY_LIMIT))


def status_mark(status: str, language: str, summary: str = "", raw: str = "") -> Mark:
    return Mark(status, i18n.STATUS_MARKS[status], i18n.status_word(status, language), summary, raw)


def counts(statuses: Iterable[str], language: str) -> tuple[StatusCount, ...]:
    c = Counter(statuses)
    return tuple(StatusCount(s, i18n.STATUS_MARKS[s], i18n.status_word(s, language), c.get(s, 0))
                 for s in i18n.STATUS_ORDER)


def pass_rate(statuses: Iterable[str]) -> str:
    decided = [s for s in statuses if s != "skip"]
    return f"{sum(s == 'pass' for s in decided) / len(decided):.0%}" if decided else "—"


def run_line(run: RunInfo, statuses: Sequence[str], sites: int, frame: Frame, href: str) -> RunLine:
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
    kind = i18n.run_kind(run.kind, frame.language)
    return RunLine(run.id, href, kind, i18n.when(run.started_at, frame.timezone, frame.language),
                   i18n.when(run.finished_at, frame.timezone, frame.language), round(duration, 1), sites,
                   counts(statuses, frame.language), pass_rate(statuses))


def statuses_of(rr: RunResults) -> list[str]:
    return [str(r.status) for rs in rr.results.values() for r in rs]


def value_text(check_id: str, name: str, value: Any, language: str) -> tuple[str, str]:
    """A metric value as text, codes in words as its check declares them, and as a link target when it
    is a safe URL."""
    if value is None:
        return "—", ""
    if isinstance(value, bool):
        return codes.yes_no(value, language), ""
    kind = i18n.metric_values(check_id, name)
    if kind:
        return clip(codes.coded_words(kind, value, language, spec_for(check_id))[0], 200), ""
    if isinstance(value, int | float):
        if name.endswith(("_ratio", "_rate", "_share", "_threshold")) and 0 <= value <= 1:
            return charts.fmt(float(value), percent=True), ""
        if name == "year" or name.endswith("_year"):     # a year is a name, not a quantity: 2025, not 2,025
            return str(value), ""
        return (f"{value:,}" if isinstance(value, int) else f"{value:,.2f}".rstrip("0").rstrip(".")), ""
    if isinstance(value, str):
        return clip(value, 200), link_url(value) or ""
    if isinstance(value, list | tuple):
        if not value:
            return "—", ""
        return clip(", ".join(str(v) for v in value), 200), ""
    if isinstance(value, Mapping):
        joined = "；" if language == "zh" else "; "
        return clip(joined.join(f"{k}：{v}" if language == "zh" else f"{k}: {v}" for k, v in value.items()), 200), ""
    return clip(str(value), 200), ""


def figures(result: Result, language: str) -> tuple[tuple[Figure, ...], tuple[Figure, ...]]:
    """(highlights, other figures) of a result's metrics."""
    made = []
    for name, value in result.metrics.items():
        if not i18n.metric_shown(result.check_id, name):
            continue
        text, href = value_text(result.check_id, name, value, language)
        made.append(Figure(name, i18n.metric_name(result.check_id, name, language), text, href,
                           i18n.metric_help(result.check_id, name, language)))
    highlights = tuple(sorted((f for f in made if f.name in i18n.HIGHLIGHTS), key=lambda f: i18n.HIGHLIGHTS.index(f.name)))
    return highlights, tuple(f for f in made if f.name not in i18n.HIGHLIGHTS)


def evidence_rows(result: Result, limit: int, language: str) -> tuple[EvidenceRow, ...]:
    rows = []
    for e in result.evidence[:limit]:
        detail, raw = i18n.evidence_detail(result.check_id, e, language)
        rows.append(EvidenceRow(clip(e.url), link_url(e.url) or "", clip(e.source), link_url(e.source) or "",
                                clip(detail), clip(raw), clip(i18n.evidence_text(result.check_id, e, language)),
                                clip(e.expected), clip(e.actual)))
    return tuple(rows)


def evidence_table(result: Result, language: str, limit: int = EVIDENCE_ON_PAGE) -> EvidenceTable:
    rows = evidence_rows(result, limit, language)
    columns = tuple(c for c in EVIDENCE_COLUMNS if any(getattr(r, c) for r in rows))
    return EvidenceTable(columns, rows, max(0, len(result.evidence) - limit))


def since(streak: Streak | None, frame: Frame) -> Since | None:
    if streak is None:
        return None
    text = frame.t("new_finding") if streak.new else \
        frame.t("streak_more" if streak.capped else "streak", n=streak.runs)
    return Since(i18n.day(streak.first_seen, frame.timezone, frame.language), streak.runs, text, streak.new)


def check_view(site_id: str, result: Result, past: Past, frame: Frame, titles: Mapping[str, str]) -> CheckView:
    highlights, rest = figures(result, frame.language)
    return CheckView(result.check_id, anchor(result.check_id), i18n.check_title(result.check_id, frame.language, titles),
                     i18n.family_name(i18n.family_of(result.check_id), frame.language), mark(result, frame.language),
                     str(result.severity), i18n.severity_word(str(result.severity), frame.language), result.basis,
                     i18n.description(result.check_id, frame.language), highlights, rest,
                     evidence_table(result, frame.language),
                     since(past.streak(site_id, result.check_id), frame))


def fix_order(result: Result, requirements: Sequence[str] = ()) -> tuple[int, int, tuple[int, int, str]]:
    """The 整改清单 order: veto > major > minor, then fail > warn > error, then report order."""
    severity = str(result.severity)
    return (i18n.SEVERITY_ORDER.index(severity) if severity in i18n.SEVERITY_ORDER else len(i18n.SEVERITY_ORDER),
            ("fail", "warn", "error", "pass", "skip").index(str(result.status)), check_order(result.check_id, requirements))


@dataclass(frozen=True)
class SiteFixes:
    """A site's 整改清单 as views: the items, the undecided results, and what was fixed since last time."""

    owner: str
    contact: str
    fixes: tuple[Fix, ...]
    undecided: tuple[Fix, ...]
    resolved: tuple[Resolved, ...]


def site_fixes(rr: RunResults, site_id: str, past: Past, frame: Frame, where: advice.Placements,
               evidence: int = EVIDENCE_IN_FIX) -> SiteFixes:
    """The site's items with advice, owner and deadline; results another finding explains folded under it."""
    titles = requirement_titles(rr.run)
    results = rr.results.get(site_id, ())
    name = next((s.name for s in rr.sites if s.id == site_id), site_id)
    owner, contact = ledger.owner_of(rr.run.summary, site_id)
    owner, contact = owner or name, contact or frame.t("unassigned")
    book = ledger.site_ledger(site_id, results, frame.language, titles, where,
                              key=lambda r: fix_order(r, list(titles)))
    fixes = []
    for item in book.items:
        r = item.result
        streak = past.streak(site_id, r.check_id)
        due = ledger.deadline(streak.first_seen if streak else rr.run.started_at, str(r.severity),
                              frame.rectify_days, frame.timezone)
        late = ledger.overdue_days(due, rr.run.started_at, frame.timezone)
        dependents = tuple(Dependent(anchor(f.result.check_id),
                                     i18n.check_title(f.result.check_id, frame.language, titles),
                                     mark(f.result, frame.language), f.reason) for f in item.dependents)
        fixes.append(Fix(anchor(r.check_id), item.headline, str(r.severity),
                         i18n.severity_word(str(r.severity), frame.language), mark(r, frame.language), r.basis,
                         since(streak, frame), evidence_rows(r, evidence, frame.language), max(0, len(r.evidence) - evidence),
                         item.advice, due_text(due, frame),
                         frame.t("overdue", n=late) if late else "", owner, contact, dependents))
    undecided = tuple(Fix(anchor(r.check_id), i18n.check_title(r.check_id, frame.language, titles), str(r.severity),
                          i18n.severity_word(str(r.severity), frame.language), mark(r, frame.language), r.basis,
                          None, (), 0, "", "", "", owner, contact, ())
                      for r in book.undecided)
    return SiteFixes(owner, contact, tuple(fixes), undecided, resolved(site_id, results, past, frame, titles))


def due_text(due: date, frame: Frame) -> str:
    """A deadline as a date with the report's zone on that day, e.g. 2026年12月08日（UTC+8）."""
    zone = i18n.zone_label(datetime.combine(due, time(12), ZoneInfo(frame.timezone)))
    return f"{due:%Y年%m月%d日}（{zone}）" if frame.language == "zh" else f"{due:%Y-%m-%d} ({zone})"


def resolved(site_id: str, results: Sequence[Result], past: Past, frame: Frame,
             titles: Mapping[str, str]) -> tuple[Resolved, ...]:
    """已整改: the checks that were warn/fail in the previous run of the site and pass now."""
    done = []
    for r in sorted(results, key=lambda r: check_order(r.check_id, list(titles))):
        before = past.previous(site_id, r.check_id)
        if str(r.status) == "pass" and before is not None and str(before.status) in ledger.PROBLEMS:
            was = Result(r.check_id, before.status, r.severity, r.basis, before.message_key)
            done.append(Resolved(anchor(r.check_id), advice.headline(was, frame.language, titles),
                                 status_mark(str(before.status), frame.language)))
    return tuple(done)


def changes(rr: RunResults, past: Past, frame: Frame, href_of: Mapping[str, str],
            site_ids: Sequence[str] | None = None) -> Changes:
    """Per site and check, this run's status against the previous result of the same site and check."""
    previous = past.previous_run()
    if previous is None:
        return Changes(None, (), ())
    titles = requirement_titles(rr.run)
    names = {s.id: s.name for s in rr.sites}
    found: dict[str, list[Change]] = {"worse": [], "better": []}
    for site_id in site_ids if site_ids is not None else [s.id for s in rr.sites]:
        for r in rr.results.get(site_id, ()):
            before = past.previous_status(site_id, r.check_id)
            way = direction(before, str(r.status))
            if way is None or before is None:
                continue
            found[way].append(Change(site_id, names.get(site_id, site_id), f"{href_of[site_id]}#{anchor(r.check_id)}",
                                     r.check_id, i18n.check_title(r.check_id, frame.language, titles),
                                     status_mark(before, frame.language), mark(r, frame.language), way))
    before = [p for p in past.by_run.get(past.runs.index(previous), ()) if past.in_scope(p)]
    prev_statuses = [str(p.status) for p in before]
    prev_sites = len({p.site_id for p in before})
    return Changes(run_line(previous, prev_statuses, prev_sites, frame, ""), tuple(found["worse"]),
                   tuple(found["better"]))


def trend_labels(past: Past, frame: Frame) -> tuple[list[str], list[str]]:
    runs = [past.runs[i] for i in past.trend_runs]
    days = [i18n.short_day(r.started_at, frame.timezone) for r in runs]
    if len(set(days)) < len(days):   # several runs a day: tell them apart by time
        days = [i18n.short_time(r.started_at, frame.timezone) for r in runs]
    return (days,
            [i18n.when(r.started_at, frame.timezone, frame.language) for r in runs])


def trends(past: Past, frame: Frame, site_id: str | None = None) -> tuple[Chart, ...]:
    """Pass rate, dead links and IPv6 support over runs; a chart only when its data exists."""
    if len(past.trend_runs) < 2:
        return ()
    labels, tips = trend_labels(past, frame)
    made = [charts.line_chart(frame.t("trend_pass"), labels, [(frame.t("pass_rate"), past.pass_rates(site_id))],
                              percent=True, tooltip_labels=tips),
            charts.line_chart(frame.t("trend_dead"), labels,
                              [(i18n.metric_name(DEAD_LINKS[0], DEAD_LINKS[1], frame.language),
                                past.metric_sum(DEAD_LINKS[0], DEAD_LINKS[1], site_id))],
                              percent=False, tooltip_labels=tips)]
    ipv6 = [(i18n.metric_name(IPV6_RATIOS[0], m, frame.language), past.metric_mean(IPV6_RATIOS[0], m, site_id))
            for m in IPV6_RATIOS[1]]
    ipv6.append((frame.t("ipv6_dns_share"), past.pass_share(IPV6_DNS, site_id)))
    made.append(charts.line_chart(frame.t("trend_ipv6"), labels, ipv6, percent=True, tooltip_labels=tips))
    return tuple(c for c in made if c is not None)
