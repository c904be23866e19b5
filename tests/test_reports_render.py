"""The HTML report set: rendered from stored results, escaped, atomic, complete."""

from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy.orm import Session

from checks.base import Result
from monitor import store
from reports import render
from tests import builders as b

HOSTILE_TITLE = '<script>alert(1)</script>" onmouseover="alert(2)' + "长" * 10_000
MOJIBAKE = "鍏充簬鍗板彂閫氱煡 æ¿åºç½ç« \ufffd\ufffd"
REQUIREMENTS = {"negative_list": "市场准入负面清单", "fee_list": "行政事业性收费目录清单", "relief": "助企纾困专题"}
SITES = (("city", "朝阳市人民政府"), ("shuangta", "双塔区人民政府"), ("beipiao", "北票市人民政府"))


def stored_run(session: Session, results: Mapping[str, Sequence[Result]], *, days_ago: float = 0,
               summary: Mapping[str, Any] | None = None, kind: str = "manual") -> str:
    now = b.utcnow() - timedelta(days=days_ago)
    sites = [b.site(site_id, name=f"{site_id} 人民政府") for site_id in results]
    run_id = store.start_run(session, kind=kind, sites=sites, config_digest="d", code_version="t",
                             started_at=now - timedelta(seconds=3), pid=1, host="h")
    store.finish_run(session, run_id, dict(results), finished_at=now, summary=dict(summary or {}))
    return run_id


def rich_results(site_index: int, site_id: str, k: int) -> list[Result]:
    """Every check family with figures and evidence; run `k` shifts statuses so runs differ."""
    host = f"http://www.{site_id}.gov.cn"
    down = site_id == "beipiao" and k > 0
    dead = [b.evidence(f"{host}/news/{n}.html", source=f"{host}/list{n % 3}.html", detail="http_4xx 404",
                       text=f"关于印发第{n}号通知的公告") for n in range(2 + 2 * site_index + k)]
    results = [
        b.result("availability", "fail" if down else "pass", severity="veto", basis="三(一)",
                 message_key="down_http" if down else "ok", message_params={"status": 503 if down else 200,
                                                                              "elapsed_ms": 120},
                 metrics={"status": 503 if down else 200, "outcome": "http_5xx" if down else "ok",
                          "elapsed_ms": 123.4, "final_url": f"{host}/", "window_probes": 3,
                          "window_failure_rate": 0.0},
                 evidence=[b.evidence(f"{host}/", detail="ok 200", text="首页")]),
        b.result("freshness:homepage", "fail" if (site_index + k) % 3 == 0 else "pass", severity="veto",
                 basis="首页不更新", message_key="stale", metrics={"latest_date": "2026-01-01", "age_days": 40}),
    ]
    for j, req in enumerate(REQUIREMENTS):
        status = ("pass", "fail", "warn", "error")[(site_index + j + k) % 4]
        results.append(b.result(f"column:{req}", status, severity="major", basis=f"一(一){j + 3}",
                                message_key="found", metrics={"found_url": f"{host}/zt/{req}/", "items": 12 - j},
                                evidence=[b.evidence(f"{host}/zt/{req}/", source=f"{host}/", text=REQUIREMENTS[req])]))
    ratio = 0.5 + 0.2 * k if site_index % 2 == 0 else 0.0
    results += [
        b.result("links:dead", "fail" if dead else "pass", severity="major", basis="链接不可用", message_key="dead",
                 metrics={"checked": 800, "dead": len(dead)}, evidence=dead),
        b.result("ipv6:dns", "pass" if site_index % 2 == 0 else "fail", basis="三(二)", message_key="aaaa"),
        b.result("ipv6:links", "pass" if ratio >= 0.8 else "fail", basis="三(二)", message_key="ratios",
                 metrics={"secondary_ratio": min(ratio, 1.0), "tertiary_ratio": min(ratio * 0.8, 1.0),
                          "secondary_total": 40, "secondary_ok": round(40 * ratio)}),
        b.result("https", "warn", severity="minor", basis="安全", message_key="expiring", metrics={"days_left": 21}),
        b.result("footer", "pass", severity="minor", basis="发展指引", message_key="footer",
                 metrics={"site_code": "2113000001", "mystery_metric": 7}),
    ]
    return results


def rich_runs(session: Session, runs: int = 2, *, sites: Sequence[tuple[str, str]] = SITES) -> list[str]:
    """`runs` weekly scheduled runs of `sites` with every check family; oldest first."""
    ids = []
    for k in range(runs):
        started = b.utcnow() - timedelta(days=7 * (runs - 1 - k), minutes=1)
        run_id = store.start_run(session, kind="scheduled", sites=[b.site(s, name=n) for s, n in sites],
                                 config_digest="d", code_version="t", started_at=started, pid=1, host="h")
        store.finish_run(session, run_id, {s: rich_results(i, s, k) for i, (s, _) in enumerate(sites)},
                         finished_at=started + timedelta(seconds=42), summary={"requirements": REQUIREMENTS})
        ids.append(run_id)
    return ids


def report_cfg(tmp_path: Path, language: str = "zh") -> SimpleNamespace:
    return SimpleNamespace(dir=str(tmp_path / "reports"), language=language, title="朝阳市政府网站巡检报告")


def write(session: Session, tmp_path: Path, run_id: str, language: str = "zh") -> Path:
    return render.write_report_set(session, report_cfg(tmp_path, language), run_id=run_id, timezone="Asia/Shanghai")


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")


def test_run_page_has_matrix_with_marks_and_site_pages(sqlite_session: Session, tmp_path: Path) -> None:
    run_id = stored_run(sqlite_session, {
        "good": [b.result(status="pass", message_params={"status": 200, "elapsed_ms": 12})],
        "bad": [b.result(status="fail", message_key="down_http", message_params={"status": 500})],
    })
    page = write(sqlite_session, tmp_path, run_id)
    html = soup(page)
    rows = html.select("table.matrix tbody tr")
    assert [r.select_one(".site a").get_text() for r in rows] == ["bad 人民政府", "good 人民政府"], "worst first"
    assert rows[0].select_one("td.c-fail").get_text(strip=True) == "✗"
    assert rows[1].select_one("td.c-pass a")["aria-label"] == "通过"
    site = soup(page.parent / "bad.html")
    assert "首页返回 HTTP 500" in site.get_text()
    index = soup(tmp_path / "reports" / "index.html")
    assert index.select_one(f'a[href="runs/{run_id}/index.html"]') is not None


def test_english_report_uses_english_words(sqlite_session: Session, tmp_path: Path) -> None:
    run_id = stored_run(sqlite_session, {"bad": [b.result(status="fail", message_key="down_refused")]})
    page = write(sqlite_session, tmp_path, run_id, "en")
    text = soup(page.parent / "bad.html").get_text()
    assert "Connection refused" in text and "Fail" in text and "Fix list" in text
    assert "不通过" not in text and "整改" not in text
    assert soup(page).select_one("html")["lang"] == "en"


def test_crawled_strings_are_escaped_and_javascript_urls_not_linked(sqlite_session: Session, tmp_path: Path) -> None:
    evidence = [b.evidence("javascript:alert(3)", text=HOSTILE_TITLE, source="data:text/html,<b>x</b>"),
                b.evidence(" JaVaScRiPt:alert(4)", text='"><img src=x onerror=alert(5)>', detail=MOJIBAKE),
                b.evidence("http://ok.test/a?b=<i>", text="正常链接", source="http://ok.test/\x00src")]
    run_id = stored_run(sqlite_session, {"s": [b.result(status="fail", message_key="down_http",
                                                        message_params={"status": HOSTILE_TITLE},
                                                        metrics={"final_url": "javascript:alert(6)",
                                                                 "title": HOSTILE_TITLE},
                                                        evidence=evidence)]})
    page = write(sqlite_session, tmp_path, run_id)
    for path in (page, page.parent / "s.html"):
        html = soup(path)
        assert not html.select("script, img, iframe, object, embed"), "no element may come from crawled text"
        assert not [t for t in html.find_all(True) if any(a.lower().startswith("on") for a in t.attrs)]
        hrefs = [a["href"] for a in html.select("a[href]")]
        assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:"))]
    site = soup(page.parent / "s.html")
    assert "http://ok.test/a?b=<i>" in [a["href"] for a in site.select("a[href]")]
    assert MOJIBAKE in site.get_text(), "mojibake is shown as it was crawled, not dropped"
    assert "\x00" not in (page.parent / "s.html").read_text(encoding="utf-8")
    longest = max(len(text) for text in site.find_all(string=True) if "长长" in text)
    assert longest <= 500, "a 10,000-character text is cut"


def test_fix_list_orders_by_severity_then_status_and_says_since_when(sqlite_session: Session, tmp_path: Path
                                                                      ) -> None:
    def results(k: int) -> dict[str, list[Result]]:
        return {"s": [b.result("https", "fail", severity="minor", message_key="x"),
                      b.result("links:dead", "warn", severity="major", message_key="x"),
                      b.result("column:fee_list", "fail", severity="major", message_key="x"),
                      b.result("freshness:homepage", "warn" if k else "pass", severity="veto", message_key="x"),
                      b.result("availability", "error", severity="veto", message_key="no_probe"),
                      b.result("footer", "pass", severity="minor", message_key="x")]}
    first = stored_run(sqlite_session, results(0), days_ago=14, summary={"requirements": {"fee_list": "收费目录清单"}})
    stored_run(sqlite_session, results(1), days_ago=7, summary={"requirements": {"fee_list": "收费目录清单"}})
    run_id = stored_run(sqlite_session, results(2), summary={"requirements": {"fee_list": "收费目录清单"}})
    page = write(sqlite_session, tmp_path, run_id)
    fixes = soup(page.parent / "s.html").select("#fixes + ol.fixes > li")
    assert [li.select_one("h3 a")["href"] for li in fixes] == [
        "#check-freshness-homepage", "#check-column-fee_list", "#check-links-dead", "#check-https"]
    assert "收费目录清单" in fixes[1].get_text(), "a column check is named by its requirement"
    assert "连续 3 次巡检" in fixes[1].get_text()
    first_day = store.get_run(sqlite_session, first).started_at  # type: ignore[union-attr]
    assert f"{first_day.astimezone(render_tz()):%Y年%m月%d日}" in fixes[1].get_text()
    assert "连续 2 次巡检" in fixes[0].get_text()
    undecided = soup(page.parent / "s.html").select("ol.fixes > li.f-error")
    assert len(undecided) == 1 and "本次未探测首页" in undecided[0].get_text()


def render_tz() -> Any:
    from zoneinfo import ZoneInfo
    return ZoneInfo("Asia/Shanghai")


def test_changes_since_previous_run_and_worst_sites_first(sqlite_session: Session, tmp_path: Path) -> None:
    stored_run(sqlite_session, {"a": [b.result("https", "pass")], "b": [b.result("https", "fail")],
                                "c": [b.result("https", "pass")]}, days_ago=7)
    run_id = stored_run(sqlite_session, {"a": [b.result("https", "pass")], "b": [b.result("https", "pass")],
                                         "c": [b.result("https", "fail", severity="veto")]})
    html = soup(write(sqlite_session, tmp_path, run_id))
    changes = html.select("#changes + p + div table tbody tr")
    assert [(r.select("td")[0].get_text(), "↓" in r.get_text()) for r in changes] == [
        ("c 人民政府", True), ("b 人民政府", False)], "worse first, then better"
    assert [r.select_one(".site a").get_text() for r in html.select("table.sites tbody tr")] == [
        "c 人民政府", "a 人民政府", "b 人民政府"], "worst first, then config order"
    tiles = [t.get_text(" ", strip=True) for t in html.select(".tile")]
    assert any("↓ 1" in t for t in tiles) and any("↑ 1" in t for t in tiles)


def test_first_run_says_there_is_nothing_to_compare(sqlite_session: Session, tmp_path: Path) -> None:
    run_id = stored_run(sqlite_session, {"a": [b.result("https", "fail")]})
    html = soup(write(sqlite_session, tmp_path, run_id))
    assert "这是第一次巡检" in html.get_text()
    assert "至少两次巡检后显示趋势" in html.get_text() and not html.select("svg.chart")


def test_every_family_renders_with_titles_figures_and_evidence(sqlite_session: Session, tmp_path: Path) -> None:
    run_id = rich_runs(sqlite_session, 2)[-1]
    page = write(sqlite_session, tmp_path, run_id)
    run = soup(page)
    columns = [th.get_text() for th in run.select("table.matrix th.col")]
    assert columns[:2] == ["站点可访问", "首页及时更新"] or "首页" in columns[1]
    assert {"市场准入负面清单", "行政事业性收费目录清单", "助企纾困专题"} <= set(columns)
    assert [g.get_text() for g in run.select("th.grp")][:3] == ["可访问性", "更新情况", "专栏专题"]
    site = soup(page.parent / "city.html")
    ipv6 = site.select_one("#check-ipv6-links")
    assert "二级链接 IPv6 支持率" in ipv6.get_text() and "70%" in ipv6.get_text()
    assert "首页上指向本站的不同链接" in ipv6.select_one("dl.defs").get_text(), "ratios carry their definition"
    footer = site.select_one("#check-footer").get_text()
    assert "网站标识码" in footer and "mystery_metric" in footer, "unknown metric names are shown raw"
    dead = site.select_one("#check-links-dead table.ev")
    assert [th.get_text() for th in dead.select("thead th")] == ["目标地址", "所在页面", "详情", "文字"]
    first = dead.select_one("tbody tr")
    assert first.select_one("a")["href"] == "http://www.city.gov.cn/news/0.html"
    assert "关于印发第0号通知的公告" in first.get_text() and "http_4xx 404" in first.get_text()
    assert site.select_one("#check-column-fee_list h3").get_text() == "行政事业性收费目录清单"


def test_column_title_falls_back_to_the_requirement_id(sqlite_session: Session, tmp_path: Path) -> None:
    run_id = stored_run(sqlite_session, {"s": [b.result("column:negative_list", "fail", message_key="x")]})
    html = soup(write(sqlite_session, tmp_path, run_id))
    assert [th.get_text() for th in html.select("table.matrix th.col")] == ["negative_list"]


def test_trend_charts_after_two_runs(sqlite_session: Session, tmp_path: Path) -> None:
    run_id = rich_runs(sqlite_session, 3)[-1]
    page = write(sqlite_session, tmp_path, run_id)
    run = soup(page)
    titles = [c.get_text() for c in run.select("figure.chart figcaption")]
    assert titles == ["检查通过率", "死链数量", "IPv6 支持率"]
    dead_chart = run.select("figure.chart")[1]
    assert len(dead_chart.select("circle.dot")) == 3
    assert "死链: 12 → 18" in dead_chart.select_one("svg title").get_text(), "dead links summed over sites"
    assert len(run.select("table.sites svg.spark")) == 3, "one sparkline per site"
    index = soup(tmp_path / "reports" / "index.html")
    assert len(index.select("figure.chart")) == 3
    assert soup(page.parent / "city.html").select("figure.chart")


def test_exports_are_written_beside_the_run_and_linked(sqlite_session: Session, tmp_path: Path) -> None:
    run_id = rich_runs(sqlite_session, 1)[0]
    page = write(sqlite_session, tmp_path, run_id)
    links = [a["href"] for a in soup(page).select(".downloads a")]
    assert links == ["findings.xlsx", "findings.csv", "evidence.csv", "result.json"]
    for name in links:
        assert (page.parent / name).stat().st_size > 0
    assert not list(page.parent.glob(".*.tmp")), "no temporary file left behind"


def test_index_links_only_runs_whose_pages_exist(sqlite_session: Session, tmp_path: Path) -> None:
    old, new = rich_runs(sqlite_session, 2)
    write(sqlite_session, tmp_path, new)
    index = soup(tmp_path / "reports" / "index.html")
    old_row = index.select("table.runs tbody tr")[1]
    assert old in old_row.get_text() and "（未生成页面）" in old_row.get_text()
    assert index.select_one(f'a[href="runs/{new}/index.html"]') is not None
    assert index.select_one(f'a[href="runs/{old}/index.html"]') is None


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
    render.write_atomic(target, b"\x00bytes")
    assert target.read_bytes() == b"\x00bytes"


def test_a_site_called_index_does_not_replace_the_run_page(sqlite_session: Session, tmp_path: Path) -> None:
    run_id = stored_run(sqlite_session, {"index": [b.result("https", "fail", message_key="x")]})
    page = write(sqlite_session, tmp_path, run_id)
    [link] = soup(page).select("table.matrix .site a")
    assert link["href"] != "index.html" and (page.parent / link["href"]).is_file()
    assert soup(page).select("table.matrix"), "the run page is still the run page"


@pytest.mark.parametrize(("url", "linked"), [
    ("http://a.test/", True), ("HTTPS://a.test/", True), ("javascript:alert(1)", False),
    (" JavaScript:alert(1)", False), ("data:text/html,x", False), ("mailto:x@a.test", False), ("", False),
    ("java\tscript:alert(1)", False),
])
def test_link_url_allows_only_http(url: str, linked: bool) -> None:
    assert (render.link_url(url) is not None) is linked
