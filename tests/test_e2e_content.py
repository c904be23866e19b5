"""content:privacy and content:wording (issue 15) on a demo run of the screening case site against the
demo truth, and the promise that no personal number is stored whole anywhere a run writes."""

from __future__ import annotations

import logging
import sqlite3
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor import config, pipeline
from monitor.demo import DemoWeb
from monitor.demo import screencases as cases
from monitor.demo.configfile import render_config, write_config
from monitor.demo.screencases import write_wordlist

CHECKS = ("content:privacy", "content:wording")


@pytest.fixture(scope="module")
def run(demo_web: DemoWeb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("e2e-content")
    sites = [s for s in demo_web.sites if s.id == cases.SITE_ID]
    text = render_config(sites, {s.id: demo_web.url(s.host, "/") for s in sites}, dns_port=demo_web.dns_port,
                         storage_url=f"sqlite:///{work / 'govmon.db'}", report_dir=str(work / "reports"),
                         wordlists=[str(write_wordlist(work))])
    cfg = config.load(write_config(work / "sites.toml", text))
    # Every log record of the run, at every level, into a file the leak test reads.
    handler = logging.FileHandler(work / "run.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        outcome = pipeline.execute(cfg, kind="demo", json_path=work / "result.json")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()
    assert outcome.results is not None, outcome.error
    results = {sid: {r.check_id: r for r in rs} for sid, rs in outcome.results.results.items()}
    yield {"config": cfg, "outcome": outcome, "results": results, "work": work}


def _found(result: Any) -> list[dict[str, Any]]:
    """The result's findings in the truth's form."""
    rows = []
    for e in result.evidence:
        row = {"url": e.url, "check": result.check_id, "masked": e.actual, "count": 1}
        if result.check_id == "content:wording":
            row.update(kind="wording", right=e.params["right"], severity=e.detail.split()[-1])
        else:
            row.update(kind=e.detail, count=e.params["count"])
        rows.append(row)
    return sorted(rows, key=lambda r: (r["url"], r["check"], r["kind"], r["masked"]))


def test_the_case_site_is_in_the_truth_with_every_kind(demo_web: DemoWeb) -> None:
    truth = demo_web.truth["sites"][cases.SITE_ID]["content"]
    assert (truth["privacy"], truth["wording"]) == ("fail", "fail")
    assert {f["kind"] for f in truth["findings"]} == {"id_card", "mobile", "bank_card", "wording"}
    assert {f["severity"] for f in truth["findings"] if f["kind"] == "wording"} == {"fail", "warn"}


def test_findings_match_the_truth_exactly(run: dict[str, Any], demo_web: DemoWeb) -> None:
    truth = demo_web.truth["sites"][cases.SITE_ID]["content"]
    results = run["results"][cases.SITE_ID]
    assert str(results["content:privacy"].status) == truth["privacy"]
    assert str(results["content:wording"].status) == truth["wording"]
    expected = sorted(({k: v for k, v in f.items()} for f in truth["findings"]),
                      key=lambda r: (r["url"], r["check"], r["kind"], r["masked"]))
    found = _found(results["content:privacy"]) + _found(results["content:wording"])
    assert sorted(found, key=lambda r: (r["url"], r["check"], r["kind"], r["masked"])) == expected


def test_evidence_is_masked_with_a_little_context(run: dict[str, Any]) -> None:
    privacy = run["results"][cases.SITE_ID]["content:privacy"]
    by_masked = {e.actual: e for e in privacy.evidence}
    mobile = by_masked[cases.mask(cases.MOBILE_86)]
    assert mobile.actual == "159****0002" and "159****0002" in (mobile.text or "")
    card = by_masked[cases.mask(cases.BANK_CARD)]
    assert "银行卡号" in (card.text or "")
    wording = run["results"][cases.SITE_ID]["content:wording"]
    severe = next(e for e in wording.evidence if e.actual == "国务院办工厅")
    assert (severe.expected, "国务院办工厅" in (severe.text or "")) == ("国务院办公厅", True)
    assert severe.params["source"]
    listed = next(e for e in wording.evidence if e.actual == "VIP通道")
    assert (listed.key, listed.params["source"]) == ("listed", cases.WORDLIST_FILE)


def test_the_report_lists_the_findings_in_the_rectification_list_and_the_xlsx_sheet(run: dict[str, Any]) -> None:
    reports = run["work"] / "reports"
    page = next(reports.glob(f"runs/*/{cases.SITE_ID}.html")).read_text(encoding="utf-8")
    assert "网页公开了个人信息" in page and "138****0001" in page
    assert "国务院办工厅" in page
    xlsx = next(reports.glob("runs/*/*.xlsx"))
    from openpyxl import load_workbook

    book = load_workbook(xlsx, read_only=True)
    sheet = book["个人信息与表述问题"]
    cells = {str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None}
    assert {"138****0001", "6222********0009", "国务院办工厅", "VIP通道"} <= cells


def _texts(work: Path, log_text: str) -> Iterator[tuple[str, str]]:
    """(where, text) of everything the run wrote: files as text, zip members (xlsx), every stored page
    value decompressed, the database file's bytes, and the log."""
    yield "log", log_text
    for path in sorted(p for p in work.rglob("*") if p.is_file()):
        data = path.read_bytes()
        yield str(path), data.decode("utf-8", "replace")
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    yield f"{path}!{name}", archive.read(name).decode("utf-8", "replace")
    with sqlite3.connect(work / "govmon.db") as db:
        for (blob,) in db.execute("SELECT extract FROM page WHERE extract IS NOT NULL"):
            yield "page.extract", zlib.decompress(blob).decode("utf-8")
        for table, in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in db.execute(f'SELECT * FROM "{table}"'):
                yield f"table {table}", " ".join(str(v) for v in row if not isinstance(v, bytes))


def _digits_only(text: str) -> str:
    """The text with full-width forms folded and the separators a number may be written with removed."""
    return unicodedata.normalize("NFKC", text).translate({ord(c): None for c in " -\u00a0\t\r\n"}).upper()


def test_no_full_personal_number_is_stored_anywhere(run: dict[str, Any]) -> None:
    work = run["work"]
    log_text = (work / "run.log").read_text(encoding="utf-8") + run["outcome"].results.run.summary.__repr__()
    assert "crawl:" in log_text     # the log was captured
    leaks = [(where, number) for where, text in _texts(work, log_text) for number in cases.PLANTED
             if number in _digits_only(text)]
    assert leaks == []
    # The negative case: the same search finds a number that is there.
    assert any(cases.HREF_DIGITS in _digits_only(text) for _, text in _texts(work, log_text))


def test_every_demo_site_gets_the_content_verdicts_of_the_truth(demo_run: tuple[pipeline.RunOutcome, Path],
                                                                demo_web: DemoWeb) -> None:
    outcome, _ = demo_run
    assert outcome.results is not None
    for sid, results in outcome.results.results.items():
        truth = demo_web.truth["sites"][sid]["content"]
        got = {r.check_id: str(r.status) for r in results if r.check_id in CHECKS}
        assert got == {"content:privacy": truth["privacy"], "content:wording": truth["wording"]}, sid
