"""The one Jinja environment and the writing of the report set.

Reads only stored results (never the network). Every file is written to a
temporary name and renamed, so a reader never sees half a report. Layout:
index.html; runs/<run id>/index.html, <site id>.html, findings.xlsx,
findings.csv, evidence.csv, result.json.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy.orm import Session

from checks.score import DEFAULT_WEIGHTS, Weights
from monitor import store
from reports import advice, export, i18n, pages
from reports.build import Frame
from reports.files import write_atomic
from reports.history import TREND_METRICS, Past
from reports.safe import MAX_TEXT, clip, css_string, link_url

log = logging.getLogger(__name__)

HISTORY_RUNS = 52     # a year of weekly runs: the reach of "since when" and of the trends
INDEX_RUNS = 100

__all__ = ["MAX_TEXT", "clip", "environment", "link_url", "render", "write_atomic", "write_index",
           "write_report_set"]


def environment(language: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("reports", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["link_url"] = link_url
    env.filters["clip"] = clip
    env.filters["css_string"] = css_string
    env.globals["t"] = lambda key, **params: i18n.ui(key, language, **params)
    env.globals["status_word"] = lambda s: i18n.status_word(s, language)
    env.globals["marks"] = i18n.STATUS_MARKS
    env.globals["status_order"] = i18n.STATUS_ORDER
    return env


def render(env: jinja2.Environment, template: str, view: Any) -> str:
    return env.get_template(template).render(v=view)


def frame_of(report: Any, timezone: str, weights: Weights = DEFAULT_WEIGHTS) -> Frame:
    """The Frame of a config's [report] section (title, language, rectify_days) in `timezone`,
    scoring sites by `weights`."""
    days = getattr(report, "rectify_days", None)
    return Frame(report.title, report.language, timezone, weights=weights,
                 rectify_days=dict(days.model_dump()) if days is not None else None)


def write_report_set(session: Session, report: Any, *, run_id: str | None = None, timezone: str,
                     weights: Weights | None = None) -> Path:
    """Render one run (default: the latest complete one) with its exports, then the index; return the run's page.

    `report` is the config's [report] section (dir, language, title); `weights` score the
    sites (the config's `score.weights()`; None = the shipped defaults). Raises
    LookupError when there is no such complete run.
    """
    out = Path(report.dir)
    frame = frame_of(report, timezone, weights or DEFAULT_WEIGHTS)
    env = environment(frame.language)
    run = store.get_run(session, run_id) if run_id else store.latest_complete_run(session)
    if run is None or run.status != "complete":
        raise LookupError(f"no complete run {run_id or ''}".strip())
    rr = store.load_results(session, run.id)
    past = Past(store.result_history(session, run.id, limit=HISTORY_RUNS, metrics_for=TREND_METRICS), HISTORY_RUNS)
    run_dir = out / "runs" / run.id
    where = advice.placements(rr.results)
    for site in rr.sites:
        write_atomic(run_dir / pages.site_href(site.id),
                     render(env, "site.html", pages.site_view(rr, site.id, past, frame, where)))
    export.write_exports(rr, past, run_dir, frame)
    write_atomic(run_dir / "index.html", render(env, "run.html", pages.run_view(rr, past, frame)))
    write_index(session, out, frame)
    log.debug("report of run %s written to %s", run.id, run_dir)
    return run_dir / "index.html"


def write_index(session: Session, out: Path, frame: Frame) -> Path:
    """The index of every complete run (newest first, up to INDEX_RUNS) with the overall trends."""
    env = environment(frame.language)
    latest = store.latest_complete_run(session)
    past = Past(store.result_history(session, latest.id, limit=INDEX_RUNS, metrics_for=TREND_METRICS)
                if latest else store.ResultHistory((), ()), INDEX_RUNS)
    rendered = {r.id for r in past.runs if (out / pages.run_href(r.id)).is_file()}
    path = out / "index.html"
    write_atomic(path, render(env, "index.html", pages.index_view(past, frame, rendered)))
    return path
