"""The three page views: index of runs, one run, one site.

Assembles reports.views from a RunResults and its Past with the helpers of
reports.build. Paths are relative: the run page is runs/<id>/index.html, a
site page runs/<id>/<site id>.html, the exports sit beside them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Sequence

from checks.base import Result
from checks.score import score
from monitor.store import RunResults
from reports import advice, build, charts, i18n, scoring
from reports.build import Frame
from reports.history import Past, direction
from reports.safe import link_url
from reports.views import CrawlNote, IndexView, Link, Matrix, MatrixCell, MatrixColumn, MatrixGroup, RunView, SiteLine, SiteView

EXPORTS = (("xlsx", "findings.xlsx"), ("csv", "findings.csv"), ("csv_evidence", "evidence.csv"),
           ("json", "result.json"))


def run_href(run_id: str) -> str:
    return f"runs/{run_id}/index.html"


def site_href(site_id: str) -> str:
    """The site page's file name; an id that is not a plain name (config ids are) or is "index" is hashed."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,100}", site_id) and site_id != "index":
        return f"{site_id}.html"
    return f"site-{hashlib.sha256(site_id.encode()).hexdigest()[:16]}.html"


def _site_line(rr: RunResults, site_id: str, name: str, columns: Sequence[str], past: Past, frame: Frame
               ) -> SiteLine:
    results = rr.results.get(site_id, ())
    by_id = {r.check_id: r for r in results}
    statuses = [str(r.status) for r in results]
    cells = tuple(MatrixCell(build.mark(by_id.get(c), frame.language),
                             f"{site_href(site_id)}#{build.anchor(c)}" if c in by_id else "") for c in columns)
    ways = [direction(past.previous_status(site_id, r.check_id), str(r.status)) for r in results]
    labels, _ = build.trend_labels(past, frame)
    spark = charts.sparkline(name, labels, past.pass_rates(site_id)) if len(past.trend_runs) > 1 else None
    vetoes = sum(str(r.status) == "fail" and str(r.severity) == "veto" for r in results)
    return SiteLine(site_id, name, site_href(site_id), vetoes, statuses.count("fail"), statuses.count("warn"),
                    statuses.count("error"), build.pass_rate(statuses), ways.count("worse"), ways.count("better"),
                    spark, cells, scoring.score_mark(score(results, frame.weights), frame.language))


def matrix(rr: RunResults, past: Past, frame: Frame) -> Matrix:
    titles = build.requirement_titles(rr.run)
    ids = sorted({r.check_id for rs in rr.results.values() for r in rs},
                 key=lambda c: build.check_order(c, list(titles)))
    groups: list[MatrixGroup] = []
    for check_id in ids:
        name = i18n.family_name(i18n.family_of(check_id), frame.language)
        if groups and groups[-1].name == name:
            groups[-1] = MatrixGroup(name, groups[-1].span + 1)
        else:
            groups.append(MatrixGroup(name, 1))
    position = {s.id: i for i, s in enumerate(rr.sites)}
    rows = sorted((_site_line(rr, s.id, s.name, ids, past, frame) for s in rr.sites),
                  key=lambda r: (-r.vetoes, -r.fails, -r.warns, -r.errors, position[r.site_id]))
    return Matrix(tuple(groups), tuple(MatrixColumn(c, i18n.check_title(c, frame.language, titles)) for c in ids),
                  tuple(rows))


def run_view(rr: RunResults, past: Past, frame: Frame) -> RunView:
    statuses = build.statuses_of(rr)
    line = build.run_line(rr.run, statuses, len(rr.sites), frame, "index.html")
    vetoes = sum(str(r.status) == "fail" and str(r.severity) == "veto" for rs in rr.results.values() for r in rs)
    page = build.page(frame, f"{frame.t('run')} {line.started}", "../../",
                      [Link(frame.t("all_runs"), "../../index.html")])
    href_of = {s.id: site_href(s.id) for s in rr.sites}
    return RunView(page, line, sum(rr.pages_crawled.values()), vetoes, build.changes(rr, past, frame, href_of),
                   matrix(rr, past, frame), build.trends(past, frame),
                   tuple(Link(frame.t(key), name) for key, name in EXPORTS),
                   scoring.rollups(rr, scoring.site_scores(rr, frame.weights), frame, href_of),
                   scoring.score_rule(frame))


def _checks_first_failing(results: Sequence[Result], titles: Sequence[str]) -> list[Result]:
    return sorted(results, key=lambda r: (i18n.STATUS_ORDER.index(str(r.status)), build.check_order(r.check_id, titles)))


CRAWL_NOTE_KINDS = ("trap", "robots", "max_pages", "max_depth", "blocked", "rate_limited", "charset")


def crawl_notes(rr: RunResults, site_id: str, frame: Frame) -> tuple[CrawlNote, ...]:
    """Sentences on what cut the site's crawl short, from the run summary the pipeline wrote."""
    notes = (rr.run.summary or {}).get("crawl", {}).get(site_id, {})
    counts, examples = notes.get("counts", {}), notes.get("examples", {})
    return tuple(CrawlNote(frame.t(f"crawl_{kind}", n=counts[kind]), tuple(map(str, examples.get(kind, ()))))
                 for kind in CRAWL_NOTE_KINDS if counts.get(kind))


def site_view(rr: RunResults, site_id: str, past: Past, frame: Frame,
              where: advice.Placements | None = None) -> SiteView:
    """One site's page; `where` (advice.placements of the run) tells where a missing column belongs."""
    site = next(s for s in rr.sites if s.id == site_id)
    book = build.site_fixes(rr, site_id, past, frame, where if where is not None else advice.placements(rr.results))
    results = rr.results.get(site_id, ())
    titles = build.requirement_titles(rr.run)
    line = build.run_line(rr.run, build.statuses_of(rr), len(rr.sites), frame, "index.html")
    page = build.page(frame, site.name, "../../", [Link(frame.t("all_runs"), "../../index.html"),
                                                    Link(f"{frame.t('run')} {line.started}", "index.html")])
    return SiteView(
        page, line, site.id, site.name, site.url, link_url(site.url) or "", site.kind, site.level,
        rr.pages_crawled.get(site_id, 0), crawl_notes(rr, site_id, frame),
        build.counts((str(r.status) for r in results), frame.language),
        book.owner, book.contact, book.fixes, book.undecided, book.resolved,
        build.changes(rr, past, frame, {site_id: ""}, [site_id]),
        tuple(build.check_view(site_id, r, past, frame, titles) for r in _checks_first_failing(results, list(titles))),
        build.trends(past, frame, site_id), scoring.score_view(results, frame, titles))


def index_view(past: Past, frame: Frame, rendered: Collection[str]) -> IndexView:
    """Every run of `past`, newest first; a run links to its page only when that page exists (`rendered`)."""
    lines = []
    for i in reversed(range(len(past.runs))):
        run = past.runs[i]
        results = past.by_run.get(i, ())
        lines.append(build.run_line(run, [str(p.status) for p in results], len({p.site_id for p in results}), frame,
                                    run_href(run.id) if run.id in rendered else ""))
    return IndexView(build.page(frame, frame.t("runs"), ""), tuple(lines), build.trends(past, frame))
