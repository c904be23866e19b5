"""Terminal output: the tables `govmon check`, `run`, `demo` and `status` print.

Rich measures CJK characters as double width, so Chinese tables stay aligned.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from monitor.store import RunInfo, RunResults
from reports import i18n
from reports.build import check_order, requirement_titles

COMPACT_OVER = 4   # more check columns than this and the matrix shows marks only
STYLES = {"pass": "green", "warn": "yellow", "fail": "bold red", "error": "magenta", "skip": "dim"}


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


def _status(status: str, language: str) -> str:
    return f"[{STYLES[status]}]{i18n.STATUS_MARKS[status]} {i18n.status_word(status, language)}[/]"


def print_checks(rr: RunResults, language: str) -> None:
    """One table per site: check, status, one-line summary."""
    console = _console()
    for site in rr.sites:
        table = Table(title=f"{site.name}  {site.url}", title_justify="left", expand=False)
        table.add_column(i18n.ui("check", language), no_wrap=True)
        table.add_column(i18n.ui("status", language), no_wrap=True)
        table.add_column(i18n.ui("summary", language))
        for r in rr.results.get(site.id, ()):
            table.add_row(r.check_id, _status(str(r.status), language), i18n.message(r, language))
        console.print(table)


def print_matrix(rr: RunResults, language: str) -> None:
    """Sites × checks: words when the table is narrow, marks alone (with a legend) when it is wide."""
    console = _console()
    titles = requirement_titles(rr.run)
    ids = sorted({r.check_id for rs in rr.results.values() for r in rs}, key=lambda c: check_order(c, list(titles)))
    compact = len(ids) > COMPACT_OVER
    table = Table(expand=False)
    table.add_column(i18n.ui("site", language), no_wrap=True)
    for check_id in ids:
        table.add_column(i18n.check_title(check_id, language, titles), justify="center")
    for site in rr.sites:
        by_id = {r.check_id: str(r.status) for r in rr.results.get(site.id, ())}
        cells = ((_mark(by_id[c]) if compact else _status(by_id[c], language)) if c in by_id else "" for c in ids)
        table.add_row(site.name, *cells)
    console.print(table)
    if compact:
        console.print("  ".join(_status(s, language) for s in i18n.STATUS_ORDER))


def _mark(status: str) -> str:
    return f"[{STYLES[status]}]{i18n.STATUS_MARKS[status]}[/]"


def print_runs(runs: Sequence[RunInfo], language: str, timezone: str) -> None:
    console = _console()
    table = Table(expand=False)
    for head in ("run", "kind", "status", "started", "duration"):
        table.add_column(i18n.ui(head, language) if head in i18n.UI else head, no_wrap=True)
    table.add_column("")
    for run in runs:
        duration = f"{(run.finished_at - run.started_at).total_seconds():.1f}" if run.finished_at else "—"
        detail = run.error or " ".join(f"{k}={v}" for k, v in (run.summary or {}).get("statuses", {}).items())
        table.add_row(run.id, i18n.RUN_KINDS.get(run.kind, i18n.T(zh=run.kind, en=run.kind)).get(language),
                      run.status, i18n.when(run.started_at, timezone, language), duration, detail)
    console.print(table)
