"""Exports of stored results: govmon.result/1 JSON, CSV (UTF-8 with BOM) and xlsx.

The JSON schema is reports/schema/govmon.result-1.json; tests validate
against it. CSV and xlsx carry the same results as the JSON: one row per site
and check (all findings), one sheet per check family with its figures, and
one row per evidence line. No cell is ever a formula (reports.safe.cell_text).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from checks.base import Result
from checks.score import DEFAULT_WEIGHTS, Weights, score
from monitor.store import RunResults
from reports import advice, build, i18n, scoring
from reports.build import Frame
from reports.files import write_atomic
from reports.history import Past
from reports.safe import cell_text

SCHEMA = "govmon.result/1"
SCHEMA_FILE = Path(__file__).parent / "schema" / "govmon.result-1.json"
STATUS_FILL = {"pass": "DAFBE1", "warn": "FFF8C5", "fail": "FFEBE9", "error": "FBEFFF", "skip": "F6F8FA"}
GRADE_FILL = {"good": "DAFBE1", "pass": "DDF4FF", "fail": "FFEBE9"}

Row = list[Any]
EVIDENCE_FIELDS = ("url", "source", "detail", "text", "expected", "actual")
"""The evidence fields of govmon.result/1; Evidence.key and .params are for the words of the reports only."""


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def score_document(results: Sequence[Result], weights: Weights) -> dict[str, Any]:
    """A site's `score` in govmon.result/1 (optional there): checks.score's Score as plain data."""
    s = score(results, weights)
    return {"total": s.total, "grade": s.grade, "points": s.points, "vetoes": list(s.vetoes),
            "deductions": [{"indicator": d.key, "points": d.points, "cap": d.cap,
                            "checks": [{"id": i.check_id, "status": i.status, "points": i.points} for i in d.items]}
                           for d in s.deductions],
            "unscored": list(s.unscored)}


def result_document(rr: RunResults, *, language: str, weights: Weights = DEFAULT_WEIGHTS) -> dict[str, Any]:
    """The run as a govmon.result/1 document; summaries in `language`, scores by `weights`."""
    sites = []
    for site in rr.sites:
        site_checks = [{
            "id": r.check_id,
            "status": str(r.status),
            "severity": str(r.severity),
            "summary": i18n.message(r, language),
            "basis": r.basis,
            "message": {"key": r.message_key, "params": dict(r.message_params)},
            "metrics": dict(r.metrics),
            "evidence": [{k: v for k, v in asdict(e).items() if v is not None and k in EVIDENCE_FIELDS}
                         for e in r.evidence],
        } for r in rr.results.get(site.id, ())]
        sites.append({"id": site.id, "name": site.name, "url": site.url, "kind": site.kind, "level": site.level,
                      "pages_crawled": rr.pages_crawled.get(site.id, 0), "checks": site_checks,
                      "score": score_document(rr.results.get(site.id, ()), weights)})
    run = rr.run
    return {"schema": SCHEMA,
            "run": {"id": run.id, "kind": run.kind, "started_at": _iso(run.started_at),
                    "finished_at": _iso(run.finished_at), "code_version": run.code_version,
                    "config_digest": run.config_digest, "language": language},
            "sites": sites}


def json_text(rr: RunResults, *, language: str, weights: Weights = DEFAULT_WEIGHTS) -> str:
    return json.dumps(result_document(rr, language=language, weights=weights), ensure_ascii=False, indent=2,
                      default=str)


def write_json(rr: RunResults, path: Path, *, language: str, weights: Weights = DEFAULT_WEIGHTS) -> Path:
    path = Path(path)
    write_atomic(path, json_text(rr, language=language, weights=weights))
    return path


def _ordered(rr: RunResults) -> list[tuple[int, str, str, Result]]:
    """(position, site id, site name, result), problems first: status, severity, then config order."""
    rows = [(i, s.id, s.name, r) for i, s in enumerate(rr.sites) for r in rr.results.get(s.id, ())]
    severities = list(i18n.SEVERITY_ORDER)
    return sorted(rows, key=lambda x: (i18n.STATUS_ORDER.index(str(x[3].status)),
                                       severities.index(str(x[3].severity)) if str(x[3].severity) in severities else 9,
                                       x[0]))


def findings_table(rr: RunResults, past: Past, frame: Frame) -> tuple[Row, list[Row]]:
    """(header, rows): one row per site and check."""
    lang, titles = frame.language, build.requirement_titles(rr.run)
    head = [frame.t(k) for k in ("site_id", "site", "check_id", "check", "family", "status", "severity", "summary",
                                 "basis", "since", "streak_runs", "evidence", "metrics")]
    rows = []
    for _, site_id, name, r in _ordered(rr):
        streak = past.streak(site_id, r.check_id)
        figures = _figures(r, lang)
        rows.append([site_id, name, r.check_id, i18n.check_title(r.check_id, lang, titles),
                     i18n.family_name(i18n.family_of(r.check_id), lang), i18n.status_word(str(r.status), lang),
                     i18n.severity_word(str(r.severity), lang), i18n.message(r, lang), r.basis,
                     i18n.day(streak.first_seen, frame.timezone, lang) if streak else "",
                     streak.runs if streak else None, len(r.evidence), figures])
    return head, rows


def ledger_table(rr: RunResults, past: Past, frame: Frame) -> tuple[Row, list[Row]]:
    """(header, rows) of the 整改台账: one row per item of every site's 整改清单 (the site page's order), then
    its undecided results and what was fixed since the previous run."""
    head = [frame.t(k) for k in ("site_id", "site", "owner", "contact", "ledger_item", "advice", "severity",
                                 "deadline", "open_since", "runs_open", "ledger_status", "summary", "basis",
                                 "folded_items")]
    where = advice.placements(rr.results)
    rows: list[Row] = []
    for site in rr.sites:
        book = build.site_fixes(rr, site.id, past, frame, where, 0)
        for f in book.fixes:
            state = f"{frame.t('state_overdue')}（{f.overdue}）" if f.overdue and frame.language == "zh" else \
                f"{frame.t('state_overdue')} ({f.overdue})" if f.overdue else frame.t("state_open")
            folded = "; ".join(f"{d.title}: {d.reason}" for d in f.dependents)
            rows.append([site.id, site.name, book.owner, book.contact, f.title, f.advice, f.severity_word,
                         f.deadline, f.since.first_seen if f.since else "", f.since.runs if f.since else None,
                         state, f.mark.summary, f.basis, folded])
        rows += [[site.id, site.name, book.owner, book.contact, f.title, "", f.severity_word, "", "", None,
                  frame.t("state_undecided"), f.mark.summary, f.basis, ""] for f in book.undecided]
        rows += [[site.id, site.name, book.owner, book.contact, r.title, "", "", "", "", None,
                  frame.t("state_resolved"), "", "", ""] for r in book.resolved]
    return head, rows


def _figures(r: Result, language: str) -> str:
    """A result's shown metrics in one cell: "已检查链接：64；死链：3"."""
    colon, sep = ("：", "；") if language == "zh" else (": ", "; ")
    return sep.join(f"{i18n.metric_name(r.check_id, k, language)}{colon}{build.value_text(r.check_id, k, v, language)[0]}"
                    for k, v in r.metrics.items() if i18n.metric_shown(r.check_id, k))


def evidence_table(rr: RunResults, frame: Frame) -> tuple[Row, list[Row]]:
    """(header, rows): one row per evidence line of every result."""
    lang, titles = frame.language, build.requirement_titles(rr.run)
    head = [frame.t(k) for k in ("site_id", "site", "check_id", "check", "status", "target", "source", "detail",
                                 "text", "expected", "actual")]
    rows = [[site_id, name, r.check_id, i18n.check_title(r.check_id, lang, titles),
             i18n.status_word(str(r.status), lang), e.url, e.source or "", i18n.evidence_detail(r.check_id, e, lang)[0],
             i18n.evidence_text(r.check_id, e, lang), e.expected or "", e.actual or ""]
            for _, site_id, name, r in _ordered(rr) for e in r.evidence]
    return head, rows


CONTENT_CHECKS = ("content:privacy", "content:wording")


def content_table(rr: RunResults, frame: Frame) -> tuple[Row, list[Row]]:
    """(header, rows): one row per finding of content:privacy and content:wording, numbers masked as stored."""
    lang, titles = frame.language, build.requirement_titles(rr.run)
    head = [frame.t(k) for k in ("site_id", "site", "check_id", "check", "status", "content_page", "content_finding",
                                 "content_found", "content_right", "content_context")]
    rows = [[site_id, name, r.check_id, i18n.check_title(r.check_id, lang, titles),
             i18n.status_word(str(r.status), lang), e.url, i18n.evidence_detail(r.check_id, e, lang)[0],
             e.actual or "", e.expected or "", e.text or ""]
            for _, site_id, name, r in _ordered(rr) if r.check_id in CONTENT_CHECKS for e in r.evidence]
    return head, rows


def family_tables(rr: RunResults, frame: Frame) -> list[tuple[str, Row, list[Row]]]:
    """(family, header, rows) per check family: one row per result, one column per metric name."""
    lang, titles = frame.language, build.requirement_titles(rr.run)
    families: dict[str, list[tuple[str, str, Result]]] = {}
    for _, site_id, name, r in _ordered(rr):
        families.setdefault(i18n.family_of(r.check_id), []).append((site_id, name, r))
    tables = []
    for family in sorted(families, key=lambda f: build.check_order(f)):
        entries = families[family]
        metrics = list(dict.fromkeys((r.check_id, k) for _, _, r in entries for k in r.metrics
                                     if i18n.metric_shown(r.check_id, k)))
        labels = list(dict.fromkeys(i18n.metric_name(c, m, lang) for c, m in metrics))
        head = [frame.t(k) for k in ("site_id", "site", "check_id", "check", "status", "summary")] + labels
        rows = []
        for site_id, name, r in entries:
            cells: dict[str, Any] = {}
            for c, m in metrics:
                if c == r.check_id and m in r.metrics:
                    cells[i18n.metric_name(c, m, lang)] = _plain(c, m, r.metrics[m], lang)
            rows.append([site_id, name, r.check_id, i18n.check_title(r.check_id, lang, titles),
                         i18n.status_word(str(r.status), lang), i18n.message(r, lang)] +
                        [cells.get(label) for label in labels])
        tables.append((family, head, rows))
    return tables


def _plain(check_id: str, name: str, value: Any, language: str) -> Any:
    """A metric as a cell: numbers stay numbers (sortable), anything else the words the pages show."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)
                         and not i18n.metric_values(check_id, name)):
        return value
    return build.value_text(check_id, name, value, language)[0]


def csv_text(head: Row, rows: Sequence[Row]) -> str:
    """CSV with a BOM, so Excel opens the Chinese text as UTF-8."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in [head, *rows]:
        writer.writerow([cell_text(v) if isinstance(v, str) else ("" if v is None else v) for v in row])
    return "\ufeff" + buf.getvalue()


def _sheet(wb: Workbook, title: str, head: Row, rows: Sequence[Row], status_col: int, language: str,
           fills: dict[str, PatternFill] | None = None) -> None:
    """One sheet, streamed (the workbook is write-only): a bold frozen head with a filter, columns as wide as
    their first 200 rows, the status column (1-based) coloured by its word, or by `fills` (a cell text's
    prefix -> fill, the ledger's 整改状态) first. A city's evidence sheet has tens of thousands of rows: a
    workbook kept in memory cost seconds and ~100 MB more."""
    ws = wb.create_sheet(title=title[:31])
    texts = [[cell_text(v) if isinstance(v, str) else v for v in row] for row in rows]
    columns = max([len(head), *(len(row) for row in texts)]) or 1
    for index in range(columns):
        width = max((len(str(row[index])) for row in (head, *texts[:199])
                     if index < len(row) and row[index] is not None), default=0)
        ws.column_dimensions[get_column_letter(index + 1)].width = min(60, max(8, width * 1.3 + 2))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(columns)}{len(texts) + 1}"
    bold = Font(bold=True)
    ws.append([_cell(ws, v, font=bold) for v in head])
    words = {i18n.status_word(s, language): PatternFill("solid", fgColor=c) for s, c in STATUS_FILL.items()}
    words |= {i18n.ui(f"grade_{g}", language): PatternFill("solid", fgColor=c) for g, c in GRADE_FILL.items()}
    at = status_col - 1
    for row in texts:
        value = row[at] if at < len(row) else None
        fill = next((f for word, f in (fills or {}).items() if str(value or "").startswith(word)), None) \
            or (words.get(value) if isinstance(value, str) else None)
        if fill is None and not any(isinstance(v, str) and v.startswith("=") for v in row):
            ws.append(row)
        else:
            ws.append([_cell(ws, v, fill=fill if i == at else None) for i, v in enumerate(row)])


def _cell(ws: Any, value: Any, *, font: Font | None = None, fill: PatternFill | None = None) -> Any:
    """A styled cell for a write-only sheet; a text is never a formula (openpyxl reads a leading "=" as one)."""
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    return cell


def _state_fills(frame: Frame) -> dict[str, PatternFill]:
    """The 整改状态 cells coloured as the report colours statuses: overdue as fail, open as warn, fixed as pass."""
    return {frame.t(word): PatternFill("solid", fgColor=STATUS_FILL[status])
            for word, status in (("state_overdue", "fail"), ("state_open", "warn"), ("state_undecided", "error"),
                                 ("state_resolved", "pass"))}


def xlsx_bytes(rr: RunResults, past: Past, frame: Frame) -> bytes:
    wb = Workbook(write_only=True)
    head, rows = findings_table(rr, past, frame)
    _sheet(wb, frame.t("all_findings"), head, rows, status_col=6, language=frame.language)
    lhead, lrows = ledger_table(rr, past, frame)
    _sheet(wb, frame.t("ledger_sheet"), lhead, lrows, status_col=11, language=frame.language,
           fills=_state_fills(frame))
    _sheet(wb, frame.t("score_sheet"), *scoring.score_table(rr, frame), status_col=5, language=frame.language)
    _sheet(wb, frame.t("rollup_sheet"), *scoring.rollup_table(rr, frame), status_col=1, language=frame.language)
    for family, fhead, frows in family_tables(rr, frame):
        _sheet(wb, i18n.family_name(family, frame.language), fhead, frows, status_col=5, language=frame.language)
    chead, crows = content_table(rr, frame)
    if crows:
        _sheet(wb, frame.t("content_sheet"), chead, crows, status_col=5, language=frame.language)
    ehead, erows = evidence_table(rr, frame)
    _sheet(wb, frame.t("evidence_sheet"), ehead, erows, status_col=5, language=frame.language)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_exports(rr: RunResults, past: Past, run_dir: Path, frame: Frame) -> None:
    """findings.xlsx, findings.csv, evidence.csv and result.json of the run, beside its pages."""
    write_atomic(run_dir / "findings.xlsx", xlsx_bytes(rr, past, frame))
    write_atomic(run_dir / "findings.csv", csv_text(*findings_table(rr, past, frame)))
    write_atomic(run_dir / "evidence.csv", csv_text(*evidence_table(rr, frame)))
    write_atomic(run_dir / "result.json", json_text(rr, language=frame.language, weights=frame.weights))
