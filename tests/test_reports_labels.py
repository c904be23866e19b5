"""Every word a reader sees is a label: the demo's report set, its exports and the terminal output carry no
internal code and no exception text.

Internal codes are built from the vocabularies themselves, never a hand list: FetchKind, DnsKind and TlsError
values, run states and kinds, result statuses and severities, and every declared metric key, evidence-detail key,
message key and code word of every check. A label missing anywhere shows up as one of these.

Check ids (`links:dead`) are shown on purpose as reference codes in two places only: the small "检查项编号 …"
line of each check on a site page (class "ref"), and the 检查项编号 column of the xlsx/CSV exports, which an
inspector sorts and filters by. Everywhere else a check id counts as an internal code. Raw exception text is
allowed only behind the words: in a title attribute on the pages, and after "原始记录：" in the terminal.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from checks import REGISTRY, spec_for
from checks.base import INPUT_LABELS, RUNNER_MESSAGES, Evidence, Result, Severity, Status, unlabelled
from monitor import config, pipeline, store, terminal
from monitor.outcomes import DNS_LABELS, FETCH_LABELS, TLS_LABELS, DnsKind, FetchKind, TlsError
from monitor.store import RunKind, RunStatus
from reports import i18n, pdf, render

EXCEPTION = re.compile(r"\b[A-Z]\w*(Error|Exception)\b|Errno|Traceback")
ENGLISH = re.compile(r"\b[a-z]{2,}(?: [a-z]{2,}){3,}\b")        # four lowercase words in a row: a sentence
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S*")
QUOTED = re.compile(r"“[^”]*”")                                  # crawled text (link text, titles) is quoted
TOKEN = re.compile(r"[A-Za-z0-9_:.<>/()-]+")
REFERENCE_COLUMNS = {"检查项编号", "Check id"}
RAW_MARK = "原始记录："


def internal_codes() -> set[str]:
    """Every code of the vocabularies; a code word whose own label spells it (iframe: 内嵌框架（iframe）导航) is a
    term the reader is meant to see, not a leak."""
    codes = {str(v) for enum in (FetchKind, DnsKind, TlsError, RunStatus, RunKind, Status, Severity) for v in enum}
    codes |= set(RUNNER_MESSAGES) | set(INPUT_LABELS)
    for spec in REGISTRY.values():
        codes |= set(spec.metrics) | set(spec.details) | set(spec.messages) | {spec.id}
        codes |= {word for word, label in spec.words.items() if word not in label.zh}
    return codes


CODES = internal_codes()
PHRASES = {c for c in CODES if " " in c}


def problems(text: str, check_ids: Iterable[str] = (), identifiers_only: bool = False) -> list[str]:
    """Internal codes, exception text and English sentences in one piece of visible text.

    `identifiers_only` (for en) flags only codes no English word looks like: with "_" or ":" in them."""
    found = [f"exception text: {m.group(0)!r}" for m in EXCEPTION.finditer(text)]
    plain = QUOTED.sub(" ", URL.sub(" ", text))
    codes = CODES | set(check_ids)
    for raw in TOKEN.findall(plain):
        token = raw.strip(":.-/")
        if "." in token or "/" in token:     # host names, file names (robots.txt)
            continue
        if token in codes and (not identifiers_only or "_" in token or ":" in token):
            found.append(f"code {token!r}")
    found += [f"code {p!r}" for p in PHRASES if p in plain and not identifiers_only]
    if not identifiers_only:
        found += [f"English: {m.group(0)!r}" for m in ENGLISH.finditer(plain)]
    return found


def visible_text(html: str) -> str:
    """What a reader sees: no markup, scripts or attributes, no reference codes (class "ref")."""
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style"]):
        hidden.decompose()
    for ref in soup.select(".ref"):
        ref.decompose()
    return soup.get_text("\n")


def page_problems(paths: Iterable[Path], check_ids: set[str], identifiers_only: bool = False) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        for n, line in enumerate(visible_text(path.read_text(encoding="utf-8")).splitlines(), 1):
            bad = problems(line, check_ids, identifiers_only)
            if bad:
                found[f"{path.name}:{n} {line.strip()[:80]}"] = bad
    return found


def table_problems(rows: list[list[object]], where: str, check_ids: set[str],
                   identifiers_only: bool = False) -> dict[str, list[str]]:
    """A sheet or CSV: its header row and cells, the reference column (检查项编号) aside."""
    if not rows:
        return {}
    head = [str(h) for h in rows[0]]
    skip = {i for i, h in enumerate(head) if h in REFERENCE_COLUMNS}
    found = {}
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if c in skip and r > 0 or value is None:
                continue
            text = str(value)
            if isinstance(value, bool) or text in ("True", "False"):
                found[f"{where} {r + 1}:{c + 1}"] = [f"boolean {text}"]
                continue
            bad = problems(text, check_ids, identifiers_only)
            if bad:
                found[f"{where} {r + 1}:{c + 1} {text[:60]}"] = bad
    return found


def export_problems(run_dir: Path, check_ids: set[str], identifiers_only: bool = False) -> dict[str, list[str]]:
    found = {}
    workbook = load_workbook(run_dir / "findings.xlsx", read_only=True)
    for sheet in workbook.worksheets:
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        found |= table_problems(rows, f"xlsx[{sheet.title}]", check_ids, identifiers_only)
    for name in ("findings.csv", "evidence.csv"):
        with (run_dir / name).open(encoding="utf-8-sig", newline="") as f:
            found |= table_problems(list(csv.reader(f)), name, check_ids, identifiers_only)
    return found


@pytest.fixture(scope="module")
def demo(demo_run: tuple[pipeline.RunOutcome, Path]) -> SimpleNamespace:
    outcome, work = demo_run
    assert outcome.results is not None, outcome.error
    rr = outcome.results
    ids = {r.check_id for rs in rr.results.values() for r in rs}
    return SimpleNamespace(outcome=outcome, work=work, rr=rr, check_ids=ids, run_dir=outcome.report.parent,
                           config=config.load(work / "sites.toml"))


# --- the scanner itself -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "首页 · http_4xx 410", "证据：soft_404", "secondary: dns no_answer", "offsite: not counted",
    "rejected: headline, not a column", "“x” ConnectionRefusedError: [Errno 111] Connection refused",
    "pages_searched 12", "状态 interrupted", "links:dead", "the link check failed on it",
], ids=["outcome-kind-with-status", "outcome-kind", "tier-and-dns-kind", "english-detail", "code-word-phrase",
        "exception-text", "metric-key", "run-status", "check-id-outside-a-reference", "english-sentence"])
def test_the_scanner_catches_what_an_inspector_reported(text: str) -> None:
    assert problems(text, {"links:dead"})


def test_the_scanner_lets_plain_words_urls_and_quoted_crawled_text_pass() -> None:
    assert problems("不可用链接：404 未找到（http://www.x.gov.test/old_page/dns/） · “Welcome to nginx page here”"
                    " · robots.txt 禁止访问 · IPv6 · HTTPS", {"links:dead"}) == []


def test_the_page_scanner_skips_reference_codes_and_attributes_only() -> None:
    html = ('<p><span class="ref">检查项编号 links:dead</span><span title="ConnectionRefusedError: x">连接被拒绝</span>'
            '</p><p>http_4xx</p>')
    assert visible_text(html).split() == ["连接被拒绝", "http_4xx"]


def test_the_export_scanner_flags_booleans_and_spares_the_reference_column() -> None:
    rows = [["检查项编号", "HTTP 跳转 HTTPS"], ["links:dead", False], ["ipv6:links", "是"]]
    assert list(table_problems(rows, "t", {"links:dead", "ipv6:links"})) == ["t 2:2"]


# --- vocabularies and declarations --------------------------------------------------------------------------

@pytest.mark.parametrize("vocabulary, labels", [(FetchKind, FETCH_LABELS), (DnsKind, DNS_LABELS),
                                                (TlsError, TLS_LABELS)], ids=["fetch", "dns", "tls"])
def test_every_outcome_value_has_words_in_both_languages(vocabulary: type, labels: dict) -> None:
    assert set(labels) == {str(v) for v in vocabulary}
    assert all(label.zh.strip() and label.en.strip() and label.zh != label.en for label in labels.values())


def test_every_result_of_the_demo_is_labelled_by_its_declaration(demo: SimpleNamespace) -> None:
    missing = {(site, r.check_id): unlabelled(spec_for(r.check_id), r)
               for site, rs in demo.rr.results.items() for r in rs}
    assert {k: v for k, v in missing.items() if v} == {}


def test_a_result_carrying_an_undeclared_key_is_caught() -> None:
    result = Result("links:dead", Status.FAIL, Severity.MAJOR, "b", "dead", {"kind": "dns"},
                    metrics={"checked": 3, "brand_new": 1},
                    evidence=(Evidence("http://x/", detail="dns", key="dead", params={"kind": "dns"}),
                              Evidence("http://y/", detail="odd", key="no_such_detail"),
                              Evidence("http://z/", detail="bare")))
    assert unlabelled(spec_for("links:dead"), result) == [
        "evidence key 'no_such_detail'", "evidence without a key ('bare')", "metric 'brand_new'"]
    words = Result("ipv6:links", Status.FAIL, Severity.MAJOR, "b", "homepage_failed", {"kind": "dns"},
                   evidence=(Evidence("http://x/", key="tier", params={"tier": "quaternary", "kind": "dns"}),))
    assert unlabelled(spec_for("ipv6:links"), words) == ["word 'quaternary' (tier)"]
    assert unlabelled(spec_for("links:dead"), Result("links:dead", Status.PASS, Severity.MAJOR, "b", "nope")) == [
        "message 'nope'"]


# --- the zh report set, exports and terminal ----------------------------------------------------------------

def test_zh_pages_show_no_internal_code_or_exception_text(demo: SimpleNamespace) -> None:
    pages = sorted(demo.run_dir.glob("*.html")) + [demo.run_dir.parent.parent / "index.html"]
    assert len(pages) > 10
    assert page_problems(pages, demo.check_ids) == {}


def test_zh_print_page_shows_no_internal_code(demo: SimpleNamespace, tmp_path: Path) -> None:
    with pipeline.open_store(demo.config) as session:
        _, html = pdf.print_html(session, demo.config.report, run_id=demo.outcome.run_id,
                                 timezone=demo.config.schedule.timezone)
    (tmp_path / "print.html").write_text(html, encoding="utf-8")
    assert page_problems([tmp_path / "print.html"], demo.check_ids) == {}


def test_raw_exception_text_stays_behind_the_words(demo: SimpleNamespace) -> None:
    """The demo's refused HTTPS ports: the reader sees 连接被拒绝, the raw text is the title behind it."""
    refused = [sid for sid, results in demo.outcome.results.results.items()
               for r in results if r.check_id == "https" and r.metrics.get("outcome") == "refused"]
    assert refused, "the demo has sites without HTTPS (port 443 refused)"
    soup = BeautifulSoup((demo.run_dir / f"{refused[0]}.html").read_text(encoding="utf-8"), "html.parser")
    https = soup.select_one("#check-https")
    assert https is not None
    raw = [el for el in https.select("[title]") if "Errno" in el["title"] or "Error" in el["title"]]
    assert raw and all(el.get_text(strip=True) for el in raw)
    assert not EXCEPTION.search(https.get_text(" "))


def test_zh_exports_show_no_internal_code_and_no_boolean(demo: SimpleNamespace) -> None:
    assert export_problems(demo.run_dir, demo.check_ids) == {}


def test_zh_exports_name_their_columns_in_words(demo: SimpleNamespace) -> None:
    workbook = load_workbook(demo.run_dir / "findings.xlsx", read_only=True)
    heads = {str(h) for sheet in workbook.worksheets for h in next(sheet.iter_rows(max_row=1, values_only=True))}
    assert {"所在页面", "栏目位置", "最新一条标题", "不可用原因"} <= heads
    assert not heads & CODES


def test_zh_run_summary_and_check_tables_show_no_internal_code(demo: SimpleNamespace,
                                                               capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "240")
    terminal.print_matrix(demo.rr, "zh")
    terminal.print_checks(demo.rr, "zh")
    out = capsys.readouterr().out
    assert "不通过" in out
    assert {line: problems(line, demo.check_ids) for line in out.splitlines() if problems(line, demo.check_ids)} == {}


def test_zh_status_names_states_and_columns_and_keeps_raw_errors_apart(demo: SimpleNamespace, tmp_path: Path) -> None:
    """`govmon status` on a copy of the demo's database with a failed and an interrupted run added."""
    db_copy = tmp_path / "govmon.db"
    db_copy.write_bytes((demo.work / "govmon.db").read_bytes())
    text = (demo.work / "sites.toml").read_text(encoding="utf-8").replace(str(demo.work / "govmon.db"), str(db_copy))
    path = tmp_path / "sites.toml"
    path.write_text(text, encoding="utf-8")
    cfg = config.load(path)
    now = datetime.now(UTC)
    with pipeline.open_store(cfg) as session:
        for kind, reason, status in (("manual", "ConnectionRefusedError: [Errno 111] Connection refused", "failed"),
                                     ("scheduled", "interrupted", "interrupted")):
            run_id = store.start_run(session, kind=kind, sites=[], config_digest=cfg.digest, code_version="test",
                                     started_at=now, pid=None, host=None)
            store.fail_run(session, run_id, reason, finished_at=now, status=status)
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "monitor", "status", "--config", str(path)], capture_output=True,
                          text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for words in ("巡检", "类型 / 状态", "开始时间 / 耗时", "结果", "已完成", "失败", "已中断", "手动", "定时", "连接被拒绝",
                  "✗ 不通过"):
        assert words in out, words
    shown = [line.split(RAW_MARK)[0] for line in out.splitlines()]
    assert any(RAW_MARK in line for line in out.splitlines())
    assert {line: problems(line) for line in shown if problems(line)} == {}


# --- en: every word has its English, no identifier leaks ----------------------------------------------------

def test_every_declared_label_has_its_english(demo: SimpleNamespace) -> None:
    texts = [*RUNNER_MESSAGES.values(), *INPUT_LABELS.values(), *i18n.UI.values(), *i18n.RUN_STATUSES.values(),
             *i18n.RUN_KINDS.values()]
    for spec in REGISTRY.values():
        texts += [*spec.messages.values(), *spec.details.values(), *spec.words.values(),
                  *(m.label for m in spec.metrics.values()), *(m.help for m in spec.metrics.values() if m.help)]
    assert [t for t in texts if not (t.zh.strip() and t.en.strip())] == []


def test_en_report_set_and_exports_show_no_identifier(demo: SimpleNamespace, tmp_path: Path) -> None:
    english = SimpleNamespace(dir=str(tmp_path / "en"), language="en", title="Inspection report")
    with pipeline.open_store(demo.config) as session:
        render.write_report_set(session, english, run_id=demo.outcome.run_id, timezone="Asia/Shanghai")
    run_dir = tmp_path / "en" / "runs" / demo.outcome.run_id
    assert page_problems(sorted(run_dir.glob("*.html")), demo.check_ids, identifiers_only=True) == {}
    assert export_problems(run_dir, demo.check_ids, identifiers_only=True) == {}
    page = visible_text((run_dir / "chaoyang.html").read_text(encoding="utf-8"))
    assert not EXCEPTION.search(page)
