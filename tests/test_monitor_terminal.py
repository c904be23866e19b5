"""The terminal tables: readable at 80 columns and in a pipe, worst sites first, details left to the report."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.cells import cell_len

from monitor import terminal
from monitor.store import RunInfo, RunResults
from reports import i18n
from tests import builders as b

ROOT = Path(__file__).resolve().parent.parent
CHECKS = ("availability", "freshness:homepage", "links:dead", "ipv6:dns", "ipv6:homepage", "ipv6:links", "https",
          "footer", "column:negative_list", "column:enterprise_relief")


def _run(started: datetime | None = None, **summary: object) -> RunInfo:
    started = started or datetime(2026, 12, 7, 1, 30, tzinfo=UTC)
    return RunInfo(id="20261207T013000Z-ab12cd", kind="manual", status="complete", started_at=started,
                   finished_at=started + timedelta(seconds=42), error=None, config_digest="x", code_version="0",
                   pid=None, host=None, summary={"requirements": {"negative_list": "市场准入负面清单",
                                                                  "enterprise_relief": "助企纾困专题"}, **summary})


def _results() -> RunResults:
    sites = (b.site("good", name="朝阳市人民政府"),
             b.site("slow", name="朝阳市某某县人民政府办公室政务公开专栏（名称很长的站点）"),
             b.site("bad", name="北票市人民政府"))
    statuses = {"good": {}, "slow": {"freshness:homepage": "warn"},
                "bad": {"availability": "fail", "links:dead": "fail", "https": "error", "footer": "warn"}}
    results = {s.id: tuple(b.result(c, statuses[s.id].get(c, "pass")) for c in CHECKS) for s in sites}
    return RunResults(_run(), sites, results, {s.id: 10 for s in sites})


def _render(func: object, *args: object, width: int | None) -> str:
    """Print as into a pipe (no terminal), at $COLUMNS=width when given."""
    out = io.StringIO()
    env = {"COLUMNS": str(width)} if width else {}
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("COLUMNS", raising=False)
        for k, v in env.items():
            mp.setenv(k, v)
        mp.setattr(sys, "stdout", out)
        func(*args)  # type: ignore[operator]
    return out.getvalue()


def _widths_fit(text: str, width: int) -> None:
    for line in text.splitlines():
        assert cell_len(line) <= width, f"{cell_len(line)} columns: {line!r}"


@pytest.mark.parametrize("width", [None, 80], ids=["pipe-default-width", "columns-80"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_matrix_is_counts_per_site_worst_first_within_80_columns(width: int | None, language: str) -> None:
    text = _render(terminal.print_matrix, _results(), language, width=width)
    _widths_fit(text, 80)
    assert "\x1b[" not in text, "no colour codes in a pipe"
    lines = text.splitlines()
    header = lines[0]
    assert "…" not in header
    words = {"zh": ("站点", "不通过", "无法判断", "警告", "通过"), "en": ("Site", "Fail", "Undecided", "Warning", "Pass")}
    for word in words[language]:
        assert word in header
    rows = [line for line in lines if any(n in line for n in ("北票", "朝阳"))]
    assert [("北票" in r, "某某县" in r, r.startswith("朝阳市人民政府")) for r in rows] == [
        (True, False, False), (False, True, False), (False, False, True)], "worst first, then config order"
    bad = rows[0].split()
    assert bad[1:5] == ["2", "1", "1", "6"], "fail, undecided, warning, pass counts"
    assert "✗" + i18n.check_title("availability", language) in rows[0], "the failed checks are named, failures first"
    assert "…" in rows[1], "a long site name is shortened, not wrapped"
    assert ("全部通过" if language == "zh" else "all passed") in rows[2]
    assert ("报告" if language == "zh" else "report") in lines[-1]


def test_checks_table_wraps_its_summaries_within_80_columns() -> None:
    rr = _results()
    text = _render(terminal.print_checks, rr, "zh", width=80)
    _widths_fit(text, 80)
    assert "北票市人民政府" in text and "https://www.bad.gov.cn/" in text
    first = next(line for line in text.splitlines() if "✗" in line or "?" in line)
    assert "✗" in first, "failures first"


def test_runs_table_labels_every_column_and_shows_the_zone() -> None:
    runs = [_run(statuses={"pass": 30, "fail": 2})]
    text = _render(terminal.print_runs, runs, "zh", "Asia/Shanghai", width=80)
    _widths_fit(text, 80)
    assert "2026-12-07 09:30 UTC+8" in text
    assert "已完成" in text and "complete" not in text
    assert "✓30" in text and "✗2" in text
    header = text.splitlines()[0]
    assert "状态" in header and "结果" in header and "…" not in header


def test_a_real_pipe_gets_plain_text() -> None:
    """Through a real pipe, not a patched stdout: no colour, no wider than 80."""
    code = "from tests.test_monitor_terminal import _results; from monitor.terminal import print_matrix; " \
           "print_matrix(_results(), 'zh')"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"},
                          check=True)
    assert "北票市人民政府" in done.stdout and "\x1b[" not in done.stdout
    _widths_fit(done.stdout, 80)


def test_names_and_messages_are_printed_as_written_not_as_markup() -> None:
    site = b.site("v6", name="[bold]站点[/] [::1]", url="http://[::1]:8080/")
    result = b.result("availability", "fail", message_key="no_such_key_[red]")
    rr = RunResults(_run(), (site,), {"v6": (result,)}, {"v6": 1})
    matrix = _render(terminal.print_matrix, rr, "zh", width=80)
    checks = _render(terminal.print_checks, rr, "zh", width=80)
    assert "[bold]站点[/] [::1]" in matrix
    assert "http://[::1]:8080/" in checks and "no_such_key_[red]" in checks
