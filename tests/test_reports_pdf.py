"""`govmon report --pdf`: the run summary and every site's 整改清单 as one A4 PDF, printed by headless Chromium.

Renders stored runs (tests.test_reports_render.rich_runs: three sites, every
check family) and reads the PDF back with poppler's pdfinfo and pdftotext
(scripts/setup-ci.sh installs chromium, fonts-noto-cjk, poppler-utils).
"""

import os
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy.orm import Session

from monitor import db
from reports import pdf, safe
from tests.test_monitor_cli import govmon
from tests.test_reports_render import SITES, rich_runs

TITLE = "朝阳市政府网站巡检报告"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "reports"   # to look at, as the browser test's
TOOLS = ("pdfinfo", "pdftotext")

pytestmark = pytest.mark.skipif((pdf.find_chromium() is None or any(shutil.which(t) is None for t in TOOLS))
                                and not os.environ.get("CI"),
                                reason="Chromium or poppler-utils not installed (scripts/setup-ci.sh installs them)")


def config_with_runs(tmp_path: Path, runs: int = 2) -> tuple[Path, list[str]]:
    """A sites.toml whose database holds `runs` stored runs of the three rich sites."""
    path = tmp_path / "sites.toml"
    path.write_text(f"""
[storage]
url = "sqlite:///{tmp_path / 'govmon.db'}"
[report]
dir = "{tmp_path / 'reports'}"
title = "{TITLE}"
[schedule]
timezone = "Asia/Shanghai"
[[site]]
id = "city"
name = "朝阳市人民政府"
url = "http://www.city.gov.cn/"
kind = "portal"
level = "city"
""", encoding="utf-8")
    engine = db.make_engine(f"sqlite:///{tmp_path / 'govmon.db'}")
    db.upgrade(engine)
    with db.session_factory(engine)() as session:
        ids = rich_runs(session, runs)
    engine.dispose()
    return path, ids


def info(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def page_text(path: Path, page: int) -> str:
    """The text of one page without white space (Chromium places CJK glyphs one by one)."""
    out = subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), "-enc", "UTF-8", str(path), "-"],
                         capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", out)


def test_report_pdf_has_summary_then_one_site_per_page_with_title_and_page_numbers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_path, ids = config_with_runs(tmp_path)
    assert govmon("report", "--config", str(config_path), "--pdf") == 0
    expected = tmp_path / "reports" / "runs" / ids[-1] / "report.pdf"
    assert capsys.readouterr().out.splitlines()[-1] == str(expected)
    assert expected.read_bytes().startswith(b"%PDF-")
    meta = info(expected)
    assert "A4" in meta["Page size"]
    pages = int(meta["Pages"])
    assert pages >= 1 + len(SITES), "the summary, then each site from a new page"
    texts = [page_text(expected, n) for n in range(1, pages + 1)]
    for n, text in enumerate(texts, 1):
        assert TITLE in text, f"page {n} has the report title in its header"
        assert f"第{n}页/共{pages}页" in text, f"page {n} is numbered"
    assert "站点×检查项" in texts[0] and all(name in texts[0] for _, name in SITES)
    site_starts = {name: next(n for n, t in enumerate(texts) if f"{name}·整改清单" in t) for _, name in SITES}
    assert len(set(site_starts.values())) == len(SITES) and 0 not in site_starts.values()
    assert "http_4xx404" in "".join(texts), "evidence is printed"
    assert not list(expected.parent.glob(".*.tmp"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(expected, ARTIFACTS / "report-zh.pdf")


def test_english_pdf_to_a_chosen_path_repeats_table_headers(sqlite_session: Session, tmp_path: Path) -> None:
    sites = [(f"s{i:02}", f"Site {i:02}") for i in range(32)]   # the summary tables run over a page
    ids = rich_runs(sqlite_session, 1, sites=sites)
    report = SimpleNamespace(dir=str(tmp_path / "reports"), language="en", title="Chaoyang government websites")
    target = tmp_path / "out" / "chaoyang.pdf"
    assert pdf.write_pdf(sqlite_session, report, run_id=ids[0], timezone="Asia/Shanghai", path=target) == target
    pages = int(info(target)["Pages"])
    assert pages >= 2 + len(sites)
    first, second, last = page_text(target, 1), page_text(target, 2), page_text(target, pages)
    assert "Chaoyang" in first and "Sitewithmostproblems" in first.replace("Sites", "Site") and "Page1of" in first
    header = "SiteScoreVetofindings✗Fail"
    assert first.count(header) == 1 and header in second, "the sites table's header is repeated on its next page"
    assert f"Page{pages}of{pages}" in last and "No.ProblemsFindingandevidence" in last
    assert not (tmp_path / "reports").exists(), "a chosen path writes nothing in the report dir"
    assert pdf.write_pdf(sqlite_session, report, run_id=ids[0], timezone="Asia/Shanghai", path=target.parent) \
        == target.parent / f"report-{ids[0]}.pdf", "a folder gets a file named after the run"


def test_missing_chromium_is_one_clear_line_and_no_pdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    config_path, ids = config_with_runs(tmp_path, 1)
    monkeypatch.delenv("GOVMON_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert govmon("report", "--config", str(config_path), "--pdf") == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("govmon: no Chromium found") and "chromium fonts-noto-cjk" in err[0]
    run_dir = tmp_path / "reports" / "runs" / ids[0]
    assert (run_dir / "index.html").is_file(), "the HTML report set is still written"
    assert sorted(p.name for p in run_dir.iterdir() if "pdf" in p.name) == []


def test_without_a_chinese_font_no_pdf_of_boxes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    config_path, ids = config_with_runs(tmp_path, 1)
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "fc-list").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")   # fontconfig knows no font for zh
    (tools / "fc-list").chmod(0o755)
    monkeypatch.setenv("GOVMON_CHROMIUM", str(pdf.find_chromium()))
    monkeypatch.setenv("PATH", str(tools))
    assert govmon("report", "--config", str(config_path), "--pdf") == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("govmon: no Chinese font") and "fonts-noto-cjk" in err[0]
    assert not (tmp_path / "reports" / "runs" / ids[0] / "report.pdf").exists()


@pytest.mark.parametrize("script, message", [
    ('printf "%%PDF-1.4 half" > "$out"; echo "print failed: out of memory" >&2; exit 21',
     "failed to print (exit 21): print failed: out of memory"),
    ('printf "%%PDF-1.4 half" > "$out"; exit 0', "wrote no complete PDF"),
], ids=["chromium-exits-with-an-error", "chromium-writes-half-a-pdf"])
def test_a_failed_print_keeps_the_previous_pdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str], script: str, message: str) -> None:
    config_path, ids = config_with_runs(tmp_path, 1)
    fake = tmp_path / "fake-chromium"
    fake.write_text('#!/bin/sh\nfor a; do case "$a" in --print-to-pdf=*) out="${a#--print-to-pdf=}";; esac; done\n'
                    + script + "\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("GOVMON_CHROMIUM", str(fake))
    previous = tmp_path / "reports" / "runs" / ids[0] / "report.pdf"
    previous.parent.mkdir(parents=True)
    previous.write_bytes(b"%PDF-1.7 the previous, complete PDF\n%%EOF\n")
    assert govmon("report", "--config", str(config_path), "--pdf") == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert previous.read_bytes() == b"%PDF-1.7 the previous, complete PDF\n%%EOF\n"
    assert [p.name for p in previous.parent.iterdir() if "pdf" in p.name] == ["report.pdf"]


@pytest.mark.parametrize("text, css", [
    ("朝阳市 report", '"朝阳市 report"'),
    ('x"; } body { color: red } </style>', '"x\\22 \\3b  \\7d  body \\7b  color\\3a  red \\7d  \\3c \\2f style\\3e "'),
], ids=["plain-text-stays", "quotes-braces-and-tags-are-escaped"])
def test_css_string(text: str, css: str) -> None:
    assert safe.css_string(text) == css
