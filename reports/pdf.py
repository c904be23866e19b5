"""The report as one A4 PDF: the run summary, then every site's 整改清单, printed by headless Chromium.

Built from stored results only, like the report set (templates/print.html).
Chromium prints it with `--print-to-pdf`; the title and the page numbers are
CSS page-margin boxes, so no DevTools client is needed. The PDF is checked and
then written under a temporary name and renamed: a failed print leaves no file
and an older PDF as it was.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from checks.score import DEFAULT_WEIGHTS, Weights
from monitor import store
from monitor.store import RunInfo, RunResults
from reports import advice, build, pages, render
from reports.build import Frame
from reports.files import write_atomic
from reports.history import TREND_METRICS, Past
from reports.safe import css_string, link_url
from reports.views import PrintSite, PrintView

log = logging.getLogger(__name__)

PRINT_EVIDENCE = 20           # evidence lines per item on paper; the rest are in the exports
PRINT_TIMEOUT_S = 600.0       # a large report on a loaded 2-core machine
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# The page is our own file with a CSP that allows no script and no remote load; the sandbox
# would need user namespaces that services and containers often lack.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
         "--disable-extensions", "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
         "--no-pdf-header-footer")


class PdfError(Exception):
    """Chromium is missing or did not print; the message is one line for the user."""


def find_chromium() -> str | None:
    """$GOVMON_CHROMIUM when set, else the first Chromium or Chrome on PATH."""
    chosen = os.environ.get("GOVMON_CHROMIUM")
    if chosen:
        return chosen
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def page_numbers(frame: Frame) -> Markup:
    """The footer's CSS content value, e.g. "第 " counter(page) " 页 / 共 " counter(pages) " 页"."""
    parts = frame.t("pdf_page", page="\0page\0", pages="\0pages\0").split("\0")
    return Markup(" ").join(Markup(f"counter({p})") if i % 2 else css_string(p) for i, p in enumerate(parts) if p)


def print_view(rr: RunResults, past: Past, frame: Frame) -> PrintView:
    statuses = build.statuses_of(rr)
    line = build.run_line(rr.run, statuses, len(rr.sites), frame, "")
    matrix = pages.matrix(rr, past, frame)
    by_id = {s.id: s for s in rr.sites}
    where = advice.placements(rr.results)
    sites = []
    for row in matrix.rows:
        site = by_id[row.site_id]
        book = build.site_fixes(rr, site.id, past, frame, where, PRINT_EVIDENCE)
        sites.append(PrintSite(
            site.id, site.name, site.url, link_url(site.url) or "", row, rr.pages_crawled.get(site.id, 0),
            pages.crawl_notes(rr, site.id, frame), book.owner, book.contact, book.fixes, book.undecided,
            book.resolved))
    vetoes = sum(r.vetoes for r in matrix.rows)
    return PrintView(build.page(frame, f"{frame.t('run')} {line.started}", ""), line, frame.timezone,
                     sum(rr.pages_crawled.values()), vetoes,
                     build.changes(rr, past, frame, {s.id: "" for s in rr.sites}), matrix, tuple(sites),
                     page_numbers(frame))


def print_html(session: Session, report: Any, *, run_id: str | None = None, timezone: str,
               weights: Weights | None = None) -> tuple[RunInfo, str]:
    """The print document of one complete run (default: the latest), sites scored by `weights` (None: the
    shipped defaults). Raises LookupError without one."""
    run = store.get_run(session, run_id) if run_id else store.latest_complete_run(session)
    if run is None or run.status != "complete":
        raise LookupError(f"no complete run {run_id or ''}".strip())
    rr = store.load_results(session, run.id)
    past = Past(store.result_history(session, run.id, limit=render.HISTORY_RUNS, metrics_for=TREND_METRICS),
                render.HISTORY_RUNS)
    frame = render.frame_of(report, timezone, weights or DEFAULT_WEIGHTS)
    env = render.environment(frame.language)
    return run, render.render(env, "print.html", print_view(rr, past, frame))


def write_pdf(session: Session, report: Any, *, run_id: str | None = None, timezone: str,
              path: Path | None = None, weights: Weights | None = None) -> Path:
    """Print one run to `path` (default: runs/<run id>/report.pdf in the report dir; in a folder,
    report-<run id>.pdf) and return the file written.

    Raises LookupError when there is no such complete run, PdfError when Chromium
    is missing, fails or writes no PDF; nothing is written at `path` then.
    """
    run, html = print_html(session, report, run_id=run_id, timezone=timezone, weights=weights)
    target = path if path is not None else Path(report.dir) / "runs" / run.id / "report.pdf"
    if target.is_dir():
        target = target / f"report-{run.id}.pdf"
    chromium = find_chromium()
    if chromium is None:
        raise PdfError("no Chromium found for --pdf: install Debian's chromium and fonts-noto-cjk "
                       "(apt-get install chromium fonts-noto-cjk) or set GOVMON_CHROMIUM")
    if not _has_chinese_font():
        raise PdfError("no Chinese font for --pdf: the PDF would show boxes; install fonts-noto-cjk "
                       "(apt-get install fonts-noto-cjk)")
    with tempfile.TemporaryDirectory(prefix="govmon-pdf-") as tmp:
        source, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        source.write_text(html, encoding="utf-8")
        _print(chromium, source, out, Path(tmp))
        data = out.read_bytes() if out.is_file() else b""
        if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
            raise PdfError(f"{chromium} wrote no complete PDF")
        try:
            write_atomic(target, data)
        except OSError as exc:
            raise PdfError(f"cannot write {target}: {exc.strerror or exc}") from None
    log.debug("PDF of run %s written to %s (%d bytes)", run.id, target, len(data))
    return target


def _has_chinese_font() -> bool:
    """Whether fontconfig (which Chromium uses on Linux) knows a font for Chinese; True when it cannot be asked."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return True
    try:
        found = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return True
    return found.returncode != 0 or bool(found.stdout.strip())


def _print(chromium: str, source: Path, out: Path, tmp: Path) -> None:
    command = [chromium, *FLAGS, f"--user-data-dir={tmp / 'profile'}", f"--print-to-pdf={out}", source.as_uri()]
    # stderr to a file, not a pipe: helpers that outlive the browser would hold a pipe open
    with (tmp / "chromium.log").open("wb") as err:
        try:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                    start_new_session=True)
        except OSError as exc:
            raise PdfError(f"cannot start {chromium}: {exc.strerror or exc}") from None
        try:
            code = proc.wait(PRINT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise PdfError(f"{chromium} did not finish printing within {PRINT_TIMEOUT_S:.0f} s") from None
        finally:
            _end_group(proc)   # also on Ctrl-C; only then may the profile be removed
    if code != 0:
        lines = [ln for ln in (tmp / "chromium.log").read_text("utf-8", "replace").splitlines() if ln.strip()]
        last = lines[-1].strip()[:200] if lines else "no message"
        raise PdfError(f"{chromium} failed to print (exit {code}): {last}")


def _end_group(proc: subprocess.Popen[bytes], wait_s: float = 10.0) -> None:
    """Kill what is left of Chromium's process group (the browser itself on a timeout, helpers after it)."""
    deadline = time.monotonic() + wait_s
    while True:
        proc.poll()   # reap the leader
        if not _running_in_group(proc.pid):
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            log.warning("Chromium helpers of process group %d did not end", proc.pid)
            return
        time.sleep(0.05)


def _running_in_group(pgid: int) -> bool:
    """Whether a process of the group still runs (zombies not yet reaped do not count)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                return True
    return False
