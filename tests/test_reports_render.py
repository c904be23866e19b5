"""The HTML report set: rendered from stored results, escaped, atomic."""

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from sqlalchemy.orm import Session

from monitor import store
from reports import render
from tests import builders as b

HOSTILE_TITLE = '<script>alert(1)</script>" onmouseover="alert(2)' + "长" * 10_000


def stored_run(session: Session, results: dict, *, language: str = "zh") -> str:
    now = b.utcnow()
    sites = [b.site(site_id, name=f"{site_id} 人民政府") for site_id in results]
    run_id = store.start_run(session, kind="manual", sites=sites, config_digest="d", code_version="t",
                             started_at=now - timedelta(seconds=3), pid=1, host="h")
    store.finish_run(session, run_id, results, finished_at=now, summary={})
    return run_id


def report_cfg(tmp_path: Path, language: str = "zh") -> SimpleNamespace:
    return SimpleNamespace(dir=str(tmp_path / "reports"), language=language, title="朝阳市政府网站巡检报告")


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")


def test_run_page_has_matrix_with_marks_and_site_pages(sqlite_session: Session, tmp_path: Path) -> None:
    run_id = stored_run(sqlite_session, {
        "good": [b.result(status="pass", message_params={"status": 200, "elapsed_ms": 12})],
        "bad": [b.result(status="fail", message_key="down_http", message_params={"status": 500})],
    })
    page = render.write_report_set(sqlite_session, report_cfg(tmp_path), run_id=run_id, timezone="Asia/Shanghai")
    html = soup(page)
    rows = html.select("table.matrix tbody tr")
    assert [r.select_one("td a").get_text() for r in rows] == ["bad 人民政府", "good 人民政府"], "worst first"
    assert "✗ 不通过" in rows[0].get_text() and "✓ 通过" in rows[1].get_text()
    site = soup(page.parent / "bad.html")
    assert "首页返回 HTTP 500" in site.get_text()
    index = soup(tmp_path / "reports" / "index.html")
    assert index.select_one(f'a[href="runs/{run_id}/index.html"]') is not None


def test_english_report_uses_english_words(sqlite_session: Session, tmp_path: Path) -> None:
    run_id = stored_run(sqlite_session, {"bad": [b.result(status="fail", message_key="down_refused")]})
    page = render.write_report_set(sqlite_session, report_cfg(tmp_path, "en"), run_id=run_id, timezone="UTC")
    text = soup(page.parent / "bad.html").get_text()
    assert "Connection refused" in text and "Fail" in text and "不通过" not in text


def test_crawled_strings_are_escaped_and_javascript_urls_not_linked(sqlite_session: Session, tmp_path: Path) -> None:
    evidence = [b.evidence("javascript:alert(3)", text=HOSTILE_TITLE, source="data:text/html,<b>x</b>"),
                b.evidence("http://ok.test/a?b=<i>", text="正常链接")]
    run_id = stored_run(sqlite_session, {"s": [b.result(status="fail", message_key="down_http",
                                                        message_params={"status": HOSTILE_TITLE},
                                                        evidence=evidence)]})
    page = render.write_report_set(sqlite_session, report_cfg(tmp_path), run_id=run_id, timezone="UTC")
    raw = (page.parent / "s.html").read_text(encoding="utf-8")
    html = BeautifulSoup(raw, "lxml")
    assert not html.select("script"), "no script element may come from crawled text"
    assert not [t for t in html.find_all(True) if any(a.startswith("on") for a in t.attrs)]
    hrefs = [a["href"] for a in html.select("a[href]")]
    assert not [h for h in hrefs if h.lower().startswith(("javascript:", "data:"))]
    assert "http://ok.test/a?b=<i>" in hrefs
    longest = max(len(li.get_text()) for li in html.select("li"))
    assert longest < 1000, "a 10,000-character text is cut"


def test_no_complete_run_is_a_lookup_error(sqlite_session: Session, tmp_path: Path) -> None:
    with pytest.raises(LookupError):
        render.write_report_set(sqlite_session, report_cfg(tmp_path), timezone="UTC")


def test_write_atomic_leaves_old_file_when_rendering_fails(tmp_path: Path) -> None:
    target = tmp_path / "index.html"
    render.write_atomic(target, "old")

    with pytest.raises(TypeError):
        render.write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"], "no temporary file left behind"


@pytest.mark.parametrize(("url", "linked"), [
    ("http://a.test/", True), ("HTTPS://a.test/", True), ("javascript:alert(1)", False),
    (" JavaScript:alert(1)", False), ("data:text/html,x", False), ("mailto:x@a.test", False), ("", False),
])
def test_link_url_allows_only_http(url: str, linked: bool) -> None:
    assert (render.link_url(url) is not None) is linked
