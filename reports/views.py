"""View models: everything a template may use, built from stored results only.

Templates receive these dataclasses and nothing else; each field says what it
holds in its metadata, so the contract of every page is written down.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from checks import REGISTRY
from checks.base import Result
from monitor.store import RunInfo, RunResults
from reports import i18n


def doc(help_text: str) -> dict[str, str]:
    return {"help": help_text}


@dataclass(frozen=True)
class Page:
    title: str = field(metadata=doc("report title from [report].title"))
    language: str = field(metadata=doc("zh or en"))
    root: str = field(metadata=doc("relative path from this page to the report set's root, ending in / or empty"))


@dataclass(frozen=True)
class Cell:
    status: str = field(metadata=doc("pass/warn/fail/error/skip, or '' when the check does not apply"))
    mark: str = field(metadata=doc("status mark readable without colour"))
    word: str = field(metadata=doc("status word in the report language"))
    summary: str = field(metadata=doc("the result's one-line message"))


@dataclass(frozen=True)
class Column:
    check_id: str = field(metadata=doc("check id"))
    title: str = field(metadata=doc("check title in the report language"))


@dataclass(frozen=True)
class Row:
    site_id: str = field(metadata=doc("config site id"))
    name: str = field(metadata=doc("site name"))
    href: str = field(metadata=doc("link to the site page, relative to the run page"))
    cells: tuple[Cell, ...] = field(metadata=doc("one cell per matrix column"))
    failing: int = field(metadata=doc("number of fail results"))


@dataclass(frozen=True)
class RunLine:
    id: str = field(metadata=doc("run id"))
    href: str = field(metadata=doc("link to the run page, relative to the report root"))
    kind: str = field(metadata=doc("run kind in the report language"))
    started: str = field(metadata=doc("start time, local, formatted"))
    finished: str = field(metadata=doc("finish time, local, formatted"))
    duration_s: float = field(metadata=doc("run duration in seconds"))
    sites: int = field(metadata=doc("number of sites in the run"))
    counts: Mapping[str, int] = field(metadata=doc("results by status"))
    pass_rate: str = field(metadata=doc("share of decided results that passed, formatted"))


@dataclass(frozen=True)
class EvidenceLine:
    url: str = field(metadata=doc("the URL concerned (rendered as a link only when http/https)"))
    source: str = field(metadata=doc("the page it was found on, or ''"))
    detail: str = field(metadata=doc("kind, code or reason"))
    text: str = field(metadata=doc("link text or snippet"))


@dataclass(frozen=True)
class CheckRow:
    check_id: str = field(metadata=doc("check id"))
    title: str = field(metadata=doc("check title"))
    cell: Cell = field(metadata=doc("status and summary"))
    basis: str = field(metadata=doc("clause of the seed or national rule"))
    severity: str = field(metadata=doc("veto/major/minor"))
    metrics: tuple[tuple[str, str], ...] = field(metadata=doc("figures as (name, value) strings"))
    evidence: tuple[EvidenceLine, ...] = field(metadata=doc("evidence lines"))


@dataclass(frozen=True)
class IndexView:
    page: Page = field(metadata=doc("page frame"))
    runs: tuple[RunLine, ...] = field(metadata=doc("complete runs, newest first"))


@dataclass(frozen=True)
class RunView:
    page: Page = field(metadata=doc("page frame"))
    run: RunLine = field(metadata=doc("this run"))
    columns: tuple[Column, ...] = field(metadata=doc("matrix columns"))
    rows: tuple[Row, ...] = field(metadata=doc("matrix rows, worst sites first"))


@dataclass(frozen=True)
class SiteView:
    page: Page = field(metadata=doc("page frame"))
    run: RunLine = field(metadata=doc("the run this page belongs to"))
    site_id: str = field(metadata=doc("config site id"))
    name: str = field(metadata=doc("site name"))
    url: str = field(metadata=doc("site homepage URL"))
    kind: str = field(metadata=doc("site kind id"))
    checks: tuple[CheckRow, ...] = field(metadata=doc("every check of the site, failures first"))


def counts_of(results: Sequence[Result]) -> dict[str, int]:
    c = Counter(str(r.status) for r in results)
    return {s: c.get(s, 0) for s in i18n.STATUS_ORDER}


def pass_rate(counts: Mapping[str, int]) -> str:
    decided = counts["pass"] + counts["warn"] + counts["fail"] + counts["error"]
    return f"{counts['pass'] / decided:.0%}" if decided else "—"


def run_line(run: RunInfo, results: Sequence[Result], sites: int, language: str, tz: str) -> RunLine:
    counts = counts_of(results)
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
    return RunLine(id=run.id, href=f"runs/{run.id}/index.html", kind=i18n.RUN_KINDS[run.kind].get(language),
                   started=i18n.when(run.started_at, tz, language), finished=i18n.when(run.finished_at, tz, language),
                   duration_s=round(duration, 1), sites=sites, counts=counts, pass_rate=pass_rate(counts))


def cell(result: Result | None, language: str) -> Cell:
    if result is None:
        return Cell("", "", "", "")
    status = str(result.status)
    return Cell(status, i18n.STATUS_MARKS[status], i18n.status_word(status, language), i18n.message(result, language))


def _order(check_id: str) -> tuple[int, str]:
    keys = list(REGISTRY)
    head = check_id.split(":", 1)[0]
    return (keys.index(check_id) if check_id in keys else keys.index(head) if head in keys else len(keys), check_id)


def run_view(rr: RunResults, title: str, language: str, tz: str) -> RunView:
    everything = [r for rs in rr.results.values() for r in rs]
    ids = sorted({r.check_id for r in everything}, key=_order)
    columns = tuple(Column(c, i18n.check_title(c, language)) for c in ids)
    rows = []
    for site in rr.sites:
        by_id = {r.check_id: r for r in rr.results.get(site.id, ())}
        cells = tuple(cell(by_id.get(c), language) for c in ids)
        rows.append(Row(site.id, site.name, f"{site.id}.html", cells, sum(c.status == "fail" for c in cells)))
    rows.sort(key=lambda r: -r.failing)
    return RunView(Page(title, language, "../../"), run_line(rr.run, everything, len(rr.sites), language, tz),
                   columns, tuple(rows))


def _evidence(result: Result) -> tuple[EvidenceLine, ...]:
    return tuple(EvidenceLine(e.url, e.source or "", e.detail or "", e.text or "") for e in result.evidence)


def site_view(rr: RunResults, site_id: str, title: str, language: str, tz: str) -> SiteView:
    site = next(s for s in rr.sites if s.id == site_id)
    results = sorted(rr.results.get(site_id, ()),
                     key=lambda r: (i18n.STATUS_ORDER.index(str(r.status)), _order(r.check_id)))
    rows = tuple(CheckRow(r.check_id, i18n.check_title(r.check_id, language), cell(r, language), r.basis,
                          str(r.severity), tuple((k, "—" if v is None else str(v)) for k, v in r.metrics.items()),
                          _evidence(r)) for r in results)
    everything = [r for rs in rr.results.values() for r in rs]
    return SiteView(Page(title, language, "../../"), run_line(rr.run, everything, len(rr.sites), language, tz),
                    site.id, site.name, site.url, site.kind, rows)


def index_view(runs: Sequence[RunResults], title: str, language: str, tz: str) -> IndexView:
    lines = tuple(run_line(rr.run, [r for rs in rr.results.values() for r in rs], len(rr.sites), language, tz)
                  for rr in runs)
    return IndexView(Page(title, language, ""), lines)
