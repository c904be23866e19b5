"""Exports: govmon.result/1 JSON valid against the repo's schema; xlsx and CSV hold the same findings."""

import csv
import io
import json
from pathlib import Path

import jsonschema
import openpyxl
import pytest
from sqlalchemy.orm import Session

from monitor import store
from reports import export, i18n
from tests import builders as b
from tests.test_reports_render import rich_runs, stored_run, write

SCHEMA = json.loads(export.SCHEMA_FILE.read_text(encoding="utf-8"))
FORMULA = '=HYPERLINK("http://evil.test","点此")'


def test_document_validates_and_carries_summaries(sqlite_session: Session, tmp_path: Path) -> None:
    ev = b.evidence("http://x.test/", detail="http_5xx 500", text="首页")
    run_id = stored_run(sqlite_session, {"s": [b.result(status="fail", message_key="down_http",
                                                        message_params={"status": 500}, metrics={"status": 500},
                                                        evidence=[ev])]})
    path = export.write_json(store.load_results(sqlite_session, run_id), tmp_path / "out" / "r.json", language="zh")
    doc = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA, format_checker=jsonschema.FormatChecker())
    [site] = doc["sites"]
    [check] = site["checks"]
    assert (check["id"], check["status"], check["summary"]) == ("availability", "fail", "首页返回 HTTP 500")
    assert check["evidence"] == [{"url": "http://x.test/", "detail": "http_5xx 500", "text": "首页"}]
    assert doc["run"]["id"] == run_id


def test_schema_rejects_an_unknown_status() -> None:
    bad = {"schema": "govmon.result/1", "run": {"id": "r", "kind": "manual", "started_at": "2026-01-01T00:00:00+00:00",
                                                "finished_at": None},
           "sites": [{"id": "s", "name": "n", "url": "u", "kind": "portal", "pages_crawled": 0,
                      "checks": [{"id": "availability", "status": "ok", "summary": "", "basis": "", "metrics": {},
                                  "evidence": []}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


@pytest.fixture
def run_dir(sqlite_session: Session, tmp_path: Path) -> Path:
    run_id = rich_runs(sqlite_session, 2)[-1]
    return write(sqlite_session, tmp_path, run_id).parent


def _json_findings(doc: dict) -> set[tuple[str, str, str]]:
    return {(s["id"], c["id"], i18n.status_word(c["status"], "zh")) for s in doc["sites"] for c in s["checks"]}


def test_run_json_beside_the_report_validates(run_dir: Path) -> None:
    doc = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert len(doc["sites"]) == 3 and all(len(s["checks"]) == 10 for s in doc["sites"])


def test_xlsx_holds_the_same_findings_as_the_json(run_dir: Path) -> None:
    doc = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
    wb = openpyxl.load_workbook(run_dir / "findings.xlsx")
    assert wb.sheetnames == ["全部结果", "整改台账", "得分", "得分汇总", "可访问性", "更新情况", "专栏专题", "链接", "IPv6", "HTTPS",
                             "网站标识", "证据明细"]
    ws = wb["全部结果"]
    head = [c.value for c in ws[1]]
    assert head[:6] == ["站点编号", "站点", "检查项编号", "检查项", "类别", "结论"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert {(r[0], r[2], r[5]) for r in rows} == _json_findings(doc)
    assert len(rows) == 30
    assert i18n.STATUS_ORDER.index({v.zh: k for k, v in i18n.STATUS_WORDS.items()}[rows[0][5]]) == 0, "fails first"
    evidence = list(wb["证据明细"].iter_rows(min_row=2, values_only=True))
    assert len(evidence) == sum(len(c["evidence"]) for s in doc["sites"] for c in s["checks"])
    for sheet in wb.worksheets:
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref, sheet.title
        assert all(c.font.b for c in sheet[1]), f"{sheet.title}: the head is bold"
    fills = {(r[5].value, r[5].fill.fgColor.rgb[-6:]) for r in ws.iter_rows(min_row=2)}
    assert {(i18n.STATUS_WORDS[s].zh, export.STATUS_FILL[s]) for s in ("pass", "fail")} <= fills, \
        "each verdict cell has its status colour"
    ipv6 = wb["IPv6"]
    assert "二级链接 IPv6 支持率" in [c.value for c in ipv6[1]], "a family sheet has one column per metric"


def test_csv_has_a_bom_and_the_same_rows(run_dir: Path) -> None:
    raw = (run_dir / "findings.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    doc = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
    assert {(r[0], r[2], r[5]) for r in rows[1:]} == _json_findings(doc)
    evidence = list(csv.reader(io.StringIO((run_dir / "evidence.csv").read_bytes().decode("utf-8-sig"))))
    assert evidence[0][:6] == ["站点编号", "站点", "检查项编号", "检查项", "结论", "目标地址"]
    dead = [(r[0], r[2], *r[5:9]) for r in evidence[1:] if r[2] == "links:dead"]
    assert ("city", "links:dead", "http://www.city.gov.cn/news/0.html", "http://www.city.gov.cn/list0.html",
            "http_4xx 404", "关于印发第0号通知的公告") in dead


def test_crawled_text_never_becomes_a_formula(sqlite_session: Session, tmp_path: Path) -> None:
    run_id = stored_run(sqlite_session, {"s": [b.result("links:dead", "fail", message_key="x",
                                                        evidence=[b.evidence("http://a.test/", text=FORMULA,
                                                                             detail="+cmd|' /C calc'!A0\x07")])]})
    run_dir = write(sqlite_session, tmp_path, run_id).parent
    wb = openpyxl.load_workbook(run_dir / "findings.xlsx")
    cells = [c for row in wb["证据明细"].iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert cells and all(c.data_type == "s" for c in cells)
    assert all(not c.value.startswith(("=", "+")) for c in cells)
    text = (run_dir / "evidence.csv").read_bytes().decode("utf-8-sig")
    [row] = list(csv.reader(io.StringIO(text)))[1:]
    assert row[8] == "'" + FORMULA and row[7] == "'+cmd|' /C calc'!A0", "formula start escaped, control char dropped"


def test_english_exports_use_english_headers(sqlite_session: Session, tmp_path: Path) -> None:
    run_id = rich_runs(sqlite_session, 1)[0]
    run_dir = write(sqlite_session, tmp_path, run_id, "en").parent
    wb = openpyxl.load_workbook(run_dir / "findings.xlsx")
    assert wb.sheetnames[0] == "All results" and wb.sheetnames[-1] == "Evidence"
    assert [c.value for c in wb["All results"][1]][:3] == ["Site id", "Site", "Check id"]
