"""Terminal output: the tables `govmon check`, `run`, `demo` and `status` print.

Readable at 80 columns and in a pipe: one row per site with counts, worst
first, and the details left to the report. Rich measures CJK characters as
double width, so Chinese tables stay aligned; it takes the width from the
terminal, else $COLUMNS, else 80, and prints no colour codes into a pipe.
Column headers never wrap or shorten; long cells end in "…".
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from monitor.store import RunInfo, RunResults
from reports import codes, i18n
from reports.build import check_order, requirement_titles

STYLES = {"pass": "green", "warn": "yellow", "fail": "bold red", "error": "magenta", "skip": "dim"}
SITE_MIN, SITE_MAX = 16, 24   # the site column's width (cells) in the run summary: as wide as the names, within these
PROBLEMS_MIN = 12             # cells kept for the titles of the checks not passed before site names give way
RESULTS_MIN = 10              # cells for a run's counts (or error) in `govmon status`
GAP = 2                       # blanks between columns
COUNTED = ("fail", "error", "warn", "pass")   # skip is left out: it is no finding and no pass
class ProgressLine:
    """One status line on a terminal's stderr, rewritten in place; call done() before printing tables."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, message: str) -> None:
        sys.stderr.write(f"\r\x1b[2K… {message}")
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()
            self.shown = False


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def _word(key: str, language: str) -> str:
    return i18n.ui(f"terminal_{key}", language)


def _status(status: str, language: str) -> str:
    return f"[{STYLES[status]}]{i18n.STATUS_MARKS[status]} {i18n.status_word(status, language)}[/]"


def _table() -> Table:
    # Two blanks between columns (right padding and the box's blank separator): room at 80 columns.
    return Table(box=box.SIMPLE_HEAD, expand=False, pad_edge=False, show_edge=False, padding=(0, 1, 0, 0))


def _counts(statuses: Sequence[str]) -> dict[str, int]:
    return {s: statuses.count(s) for s in COUNTED}


def _worst_first(counts: Mapping[str, int]) -> tuple[int, ...]:
    return tuple(-counts[s] for s in COUNTED[:3])


def print_checks(rr: RunResults, language: str) -> None:
    """One table per site: check, status, one-line summary (wrapped to the width), worst first."""
    console = _console()
    titles = requirement_titles(rr.run)
    for site in rr.sites:
        console.print(f"[bold]{escape(site.name)}[/]  {escape(site.url)}", overflow="ellipsis", no_wrap=True)
        table = _table()
        table.add_column(i18n.ui("check", language), no_wrap=True, overflow="ellipsis", max_width=24)
        table.add_column(i18n.ui("status", language), no_wrap=True)
        table.add_column(i18n.ui("summary", language), overflow="fold")
        results = sorted(rr.results.get(site.id, ()), key=lambda r: (
            i18n.STATUS_ORDER.index(str(r.status)), check_order(r.check_id, list(titles))))
        for r in results:
            table.add_row(escape(i18n.check_title(r.check_id, language, titles)), _status(str(r.status), language),
                          escape(i18n.message(r, language)))
        console.print(table)


def print_matrix(rr: RunResults, language: str) -> None:
    """One row per site, worst first: counts by status and the titles of the checks not passed."""
    console = _console()
    titles = requirement_titles(rr.run)
    rows = []
    for site in rr.sites:
        results = rr.results.get(site.id, ())
        counts = _counts([str(r.status) for r in results])
        problems = sorted((r for r in results if str(r.status) in COUNTED[:3]),
                          key=lambda r: (COUNTED.index(str(r.status)), check_order(r.check_id, list(titles))))
        rows.append((counts, site.name, problems))
    rows.sort(key=lambda row: _worst_first(row[0]))   # stable: config order among equals
    # Widths set here, not left to rich: squeezed, rich shrinks every column alike, headers and counts too.
    heads = [f"{i18n.STATUS_MARKS[s]} {i18n.status_word(s, language)}" for s in COUNTED]
    site_head, problems_head = i18n.ui("site", language), _word("problems", language)
    fixed = sum(cell_len(h) for h in heads) + GAP * (len(heads) + 1)
    longest = max((cell_len(name) for _, name, _ in rows), default=0)
    site_w = max(cell_len(site_head), min(longest, SITE_MAX))
    room = console.width - fixed - site_w
    if room < cell_len(problems_head) + PROBLEMS_MIN:
        site_w = max(cell_len(site_head), min(site_w, SITE_MIN))
        room = console.width - fixed - site_w
    table = _table()
    table.add_column(site_head, no_wrap=True, overflow="ellipsis", width=site_w)
    for status, head in zip(COUNTED, heads, strict=True):
        table.add_column(f"[{STYLES[status]}]{head}[/]", justify="right", no_wrap=True, width=cell_len(head))
    table.add_column(problems_head, no_wrap=True, overflow="ellipsis", width=max(room, cell_len(problems_head)))
    for counts, name, problems in rows:
        listed = ("、" if language == "zh" else ", ").join(
            f"{i18n.STATUS_MARKS[str(r.status)]}{i18n.check_title(r.check_id, language, titles)}" for r in problems)
        table.add_row(escape(name), *(_count(counts[s], s) for s in COUNTED), escape(listed) or _word("none", language))
    console.print(table)
    console.print(_word("details", language))


def _count(n: int, status: str) -> str:
    return f"[{STYLES[status]}]{n}[/]" if n else "0"


def print_runs(runs: Sequence[RunInfo], language: str, timezone: str) -> None:
    """The latest runs: id, kind and status, start time (with its zone) and duration, counts or the error.

    Two lines a run keep it within 80 columns in either language."""
    console = _console()
    table = _table()
    table.add_column(i18n.ui("run", language), no_wrap=True)
    table.add_column(f"{i18n.ui('kind', language)} / {_word('run_status', language)}", no_wrap=True)
    table.add_column(f"{i18n.ui('started', language)} / {i18n.ui('duration', language)}", no_wrap=True)
    table.add_column(_word("results", language), overflow="fold", min_width=RESULTS_MIN)
    seconds = i18n.ui("seconds", language)
    for run in runs:
        duration = f"{(run.finished_at - run.started_at).total_seconds():.0f} {seconds}" if run.finished_at else "—"
        statuses = (run.summary or {}).get("statuses", {})
        kind = i18n.run_kind(run.kind, language)
        status = i18n.run_status(run.status, language)
        table.add_row(run.id, f"{kind}\n{status}", f"{compact_time(run.started_at, timezone)}\n{duration}",
                      _run_detail(run, statuses, language))
    console.print(table)
    legend = "  ".join(f"{i18n.STATUS_MARKS[k]} {i18n.status_word(k, language)}" for k in i18n.STATUS_ORDER)
    console.print(i18n.ui("terminal_legend", language, legend=legend))


def _run_detail(run: RunInfo, statuses: Mapping[str, int], language: str) -> str:
    """A run's counts by status, or why it ended: in words, the raw text dimmed behind them."""
    if not run.error:
        return " ".join(f"{i18n.STATUS_MARKS[k]}{statuses[k]}" for k in i18n.STATUS_ORDER if statuses.get(k))
    if run.error == run.status:    # "interrupted": the status column says it
        return ""
    words, raw = codes.reason(run.error, language)
    return escape(words) + (f"\n[dim]{escape(i18n.ui('terminal_raw', language, raw=raw))}[/]" if raw else "")


def compact_time(at: datetime, timezone: str) -> str:
    """2026-12-07 09:30 UTC+8: the report's time with its zone, in fewer columns than the zh date."""
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local:%Y-%m-%d %H:%M} {i18n.zone_label(local)}"
