"""Scores in the report set: the run page's roll-ups and score columns, the site page, xlsx and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import openpyxl
import pytest
from bs4 import BeautifulSoup
from sqlalchemy.orm import Session

from checks.score import Weights
from monitor import store
from monitor.config import loads
from reports import export, render
from tests import builders as b

SITES = [b.site("city", name="朝阳市人民政府", level="city"),
         b.site("vetoed", name="甲县人民政府"),
         b.site("partial", name="乙区人民政府"),
         b.site("fgw", name="朝阳市发展和改革委员会", kind="development_reform", level="city")]
RESULTS = {
    "city": [b.result("availability", "pass", severity="veto"), b.result("https", "pass")],
    "vetoed": [b.result("availability", "fail", severity="veto"), b.result("https", "pass")],
    "partial": [b.result("availability", "pass", severity="veto"), b.result("https", "fail"),
                b.result("ipv6:dns", "error")],
    "fgw": [b.result("availability", "pass", severity="veto"), b.result("column:negative_list", "fail"),
            b.result("https", "pass")],
}


@pytest.fixture
def run_id(sqlite_session: Session) -> str:
    now = b.utcnow()
    run = store.start_run(sqlite_session, kind="manual", sites=SITES, config_digest="d", code_version="t",
                          started_at=now, pid=1, host="h")
    store.finish_run(sqlite_session, run, RESULTS, finished_at=now,
                     summary={"requirements": {"negative_list": "市场准入负面清单"}})
    return run


def write(session: Session, tmp_path: Path, run_id: str, weights: Weights | None = None,
          language: str = "zh") -> Path:
    report = SimpleNamespace(dir=str(tmp_path / "out"), language=language, title="巡检报告")
    return render.write_report_set(session, report, run_id=run_id, timezone="Asia/Shanghai", weights=weights).parent


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")


def texts(nodes: list) -> list[str]:
    return [" ".join(n.get_text(" ", strip=True).split()) for n in nodes]


def test_the_run_page_rolls_scores_up_by_level_and_kind(
        sqlite_session: Session, tmp_path: Path, run_id: str) -> None:
    page = soup(write(sqlite_session, tmp_path, run_id) / "index.html")
    rows = [texts(body.select("tr:first-child > *")) for body in page.select("table.rollup tbody")]
    assert rows == [["全部站点", "4", "3", "1", "87.25"], ["市级门户", "1", "1", "0", "100"],
                    ["县（市）区", "2", "1", "1", "77"], ["市直部门", "1", "1", "0", "95"]]
    lowest = texts(page.select("table.rollup tbody.group-county tr.worst .w"))
    assert lowest == ["甲县人民政府 59 不合格", "乙区人民政府 95 良好 *"]
    assert page.select("table.rollup tbody.group-city tr.worst") == [], "a site at full marks is nobody's worst"


def test_the_run_page_shows_each_sites_score_in_the_sites_table_and_the_matrix(
        sqlite_session: Session, tmp_path: Path, run_id: str) -> None:
    page = soup(write(sqlite_session, tmp_path, run_id) / "index.html")
    table = {r.select_one(".site").get_text(strip=True): texts(r.select(".g"))[0]
             for r in page.select("table.sites tbody tr")}
    assert table == {"朝阳市人民政府": "100 良好", "甲县人民政府": "59 不合格", "乙区人民政府": "95 良好 *",
                     "朝阳市发展和改革委员会": "95 良好"}
    matrix = {r.select_one(".site").get_text(strip=True): texts(r.select("td.score"))[0]
              for r in page.select("table.matrix tbody tr")}
    assert matrix == {"朝阳市人民政府": "100", "甲县人民政府": "59", "乙区人民政府": "95 *", "朝阳市发展和改革委员会": "95"}


def test_the_site_page_names_the_veto_the_deductions_and_the_unscored(
        sqlite_session: Session, tmp_path: Path, run_id: str) -> None:
    run_dir = write(sqlite_session, tmp_path, run_id)
    vetoed = soup(run_dir / "vetoed.html").select_one(".score-card")
    assert vetoed.select_one(".total").get_text() == "59" and vetoed.select_one(".g.g-fail") is not None
    assert [(a["href"], a.get_text()) for a in vetoed.select(".sev-veto ~ a")] == [("#check-availability", "站点无法访问")]
    assert vetoed.select("table.deduct") == []
    partial = soup(run_dir / "partial.html").select_one(".score-card")
    assert partial.select_one(".total").get_text() == "95"
    assert texts(partial.select("table.deduct tbody tr > td.num")) == ["−5", "5"]
    assert [a["href"] for a in partial.select("table.deduct .items a")] == ["#check-https"]
    assert [a["href"] for a in partial.select("p.meta a")] == ["#check-ipv6-dns"], "the error result is unscored"
    fgw = soup(run_dir / "fgw.html").select_one(".score-card")
    assert fgw.select_one("table.deduct td").get_text(" ", strip=True).startswith("专栏专题 市场准入负面清单")


def test_the_workbook_has_a_score_sheet_and_a_roll_up_sheet(
        sqlite_session: Session, tmp_path: Path, run_id: str) -> None:
    wb = openpyxl.load_workbook(write(sqlite_session, tmp_path, run_id) / "findings.xlsx")
    scores = list(wb["得分"].iter_rows(values_only=True))
    assert scores[0][:9] == ("站点编号", "站点", "分组", "总分", "等级", "扣分后得分", "单项否决项", "扣分", "未评分项")
    assert [r[:7] for r in scores[1:]] == [
        ("vetoed", "甲县人民政府", "县（市）区", 59, "不合格", 100, "站点无法访问"),
        ("partial", "乙区人民政府", "县（市）区", 95, "良好", 95, None),
        ("fgw", "朝阳市发展和改革委员会", "市直部门", 95, "良好", 95, None),
        ("city", "朝阳市人民政府", "市级门户", 100, "良好", 100, None)]
    assert (scores[2][7], scores[2][8]) == ("HTTPS 安全 -5", "IPv6 解析（AAAA）")
    assert scores[3][7] == "专栏专题 -5 (市场准入负面清单 -5)", "a family names its results"
    indicator = {h: i for i, h in enumerate(scores[0])}
    assert (scores[2][indicator["HTTPS 安全"]], scores[3][indicator["专栏专题"]]) == (5, 5)
    rollup = list(wb["得分汇总"].iter_rows(values_only=True))
    assert [r[:6] for r in rollup[1:]] == [("全部站点", 4, 3, 1, 1, 87.25), ("市级门户", 1, 1, 0, 0, 100),
                                          ("县（市）区", 2, 1, 1, 1, 77), ("市直部门", 1, 1, 0, 0, 95)]


def test_the_config_weights_reach_the_pages_the_workbook_and_the_json(
        sqlite_session: Session, tmp_path: Path, run_id: str) -> None:
    weights = loads('[score]\nnot_veto = ["availability"]\npass_mark = 96\ngood_mark = 98\n'
                    '[score.deduct.https]\nfail = 1\n').score.weights()
    run_dir = write(sqlite_session, tmp_path, run_id, weights)
    doc = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, json.loads(export.SCHEMA_FILE.read_text(encoding="utf-8")))
    got = {s["id"]: (s["score"]["total"], s["score"]["grade"], s["score"]["vetoes"]) for s in doc["sites"]}
    assert got == {"city": (100, "good", []), "vetoed": (80, "fail", []), "partial": (99, "good", []),
                   "fgw": (95, "fail", [])}
    partial = next(s for s in doc["sites"] if s["id"] == "partial")["score"]
    assert partial["deductions"] == [{"indicator": "https", "points": 1, "cap": 5,
                                      "checks": [{"id": "https", "status": "fail", "points": 1}]}]
    assert partial["unscored"] == ["ipv6:dns"]
    assert soup(run_dir / "vetoed.html").select_one(".score-card .total").get_text() == "80"
    assert "低于 96 分不合格" in soup(run_dir / "index.html").select_one("#scores ~ p.legend").get_text()


def test_english_pages_name_the_groups_and_grades_in_english(sqlite_session: Session, tmp_path: Path,
                                                             run_id: str) -> None:
    page = soup(write(sqlite_session, tmp_path, run_id, language="en") / "index.html")
    assert texts(page.select("table.rollup tbody th[scope=row]")) == ["All sites", "City-level portals",
                                                                       "Counties and districts", "City departments"]
    assert "59 Fail" in texts(page.select("table.sites .g"))


def test_the_score_field_is_optional_and_checked_by_the_schema(sqlite_session: Session, tmp_path: Path,
                                                               run_id: str) -> None:
    schema = json.loads(export.SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = json.loads((write(sqlite_session, tmp_path, run_id) / "result.json").read_text(encoding="utf-8"))
    for site in doc["sites"]:
        del site["score"]
    jsonschema.validate(doc, schema)   # a document written before scores existed still validates
    doc["sites"][0]["score"] = {"total": 101, "grade": "excellent", "vetoes": [], "deductions": [], "unscored": []}
    errors = {e.validator for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)}
    assert errors == {"maximum", "enum"}
