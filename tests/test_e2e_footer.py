"""footer and charset lies (issue 10) on a demo run of the footer case sites against the demo truth."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from monitor import config, pipeline, store
from monitor.ingest import CrawlEvent
from monitor.demo import DemoWeb
from monitor.demo.configfile import render_config, write_config
from monitor.demo.footercases import FOOTERS
from reports import render

ITEMS = ("site_code", "icp", "police", "finderr", "badge")


@pytest.fixture(scope="module")
def run(demo_web: DemoWeb, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("e2e-footer")
    sites = [s for s in demo_web.sites if s.id in FOOTERS]
    text = render_config(sites, {s.id: demo_web.url(s.host, "/") for s in sites}, dns_port=demo_web.dns_port,
                         storage_url=f"sqlite:///{work / 'govmon.db'}", report_dir=str(work / "reports"))
    cfg = config.load(write_config(work / "sites.toml", text))
    outcome = pipeline.execute(cfg, kind="demo")
    assert outcome.results is not None, outcome.error
    results = {sid: {r.check_id: r for r in rs} for sid, rs in outcome.results.results.items()}
    return {"config": cfg, "outcome": outcome, "results": results}


def test_every_case_site_is_in_the_truth_with_a_footer_verdict(demo_web: DemoWeb) -> None:
    sites = demo_web.truth["sites"]
    assert {sid for sid, entry in sites.items() if "footer" in entry} == set(FOOTERS)
    assert {sites[sid]["footer"]["status"] for sid in FOOTERS} == {"pass", "warn"}


def test_footer_verdicts_items_and_forms_match_the_truth(run: dict[str, Any], demo_web: DemoWeb) -> None:
    for sid in FOOTERS:
        expected = demo_web.truth["sites"][sid]["footer"]
        result = run["results"][sid]["footer"]
        assert str(result.status) == expected["status"], (sid, result.metrics)
        assert {k: result.metrics[k] for k in ITEMS} == expected["items"], sid
        assert result.metrics["forms"] == expected["forms"], sid


def test_the_evidence_names_the_form_of_each_item(run: dict[str, Any]) -> None:
    dongfeng = run["results"]["dongfeng"]["footer"]
    details = {e.detail for e in dongfeng.evidence}
    assert "政府网站找错入口 · script#_jiucuo_" in details
    assert "党政机关网站标识 · span#_ideConac via document.write(unescape)" in details
    beiling = run["results"]["beiling"]["footer"]
    assert (beiling.message_key, beiling.message_params["count"]) == ("footer.missing", 3)
    assert {e.detail for e in beiling.evidence} >= {"missing: 公安备案号", "missing: 政府网站找错入口",
                                                    "missing: 党政机关网站标识"}


def test_charset_lies_are_recorded_with_the_declared_and_used_charset(run: dict[str, Any],
                                                                      demo_web: DemoWeb) -> None:
    notes = run["outcome"].results.run.summary["crawl"]
    for sid in FOOTERS:
        lies = demo_web.truth["sites"][sid]["charset_lies"]
        note = notes.get(sid, {})
        assert note.get("counts", {}).get("charset", 0) == len(lies), sid
        assert sorted(note.get("examples", {}).get("charset", [])) == sorted(
            f"{lie['url']} ({lie['declared']} → {lie['used']})" for lie in lies), sid
    assert len(demo_web.truth["sites"]["beiling"]["charset_lies"]) == 2


def test_charset_lie_pages_are_read_right_for_every_check(run: dict[str, Any], demo_web: DemoWeb) -> None:
    truth = demo_web.truth["sites"]["beiling"]
    lied = {lie["url"] for lie in truth["charset_lies"]}
    with pipeline.open_store(run["config"]) as session:
        pages, _ = store.crawl_of(session, run["outcome"].run_id, "beiling") or ((), ())
    seen = {p.final_url: p for p in pages if p.final_url in lied}
    assert set(seen) == lied
    for page_url, page in seen.items():
        assert page.encoding == "gb18030" and page.title.endswith("北岭新区管理委员会"), page
        latest = max((d.date for d in page.dates), default=None)
        assert (latest.isoformat() if latest else None) == truth["page_latest"][page_url], page_url


def test_the_site_page_lists_the_charset_lies_in_zh_and_en(run: dict[str, Any], demo_web: DemoWeb,
                                                           tmp_path: Path) -> None:
    report = run["outcome"].report
    assert report is not None
    english = SimpleNamespace(dir=str(tmp_path / "en"), language="en", title="Footer cases")
    with pipeline.open_store(run["config"]) as session:
        render.write_report_set(session, english, run_id=run["outcome"].run_id, timezone="Asia/Shanghai")
    pages = {"zh": (Path(report).parent / "beiling.html", "2 个页面声明的字符编码与实际内容不符"),
             "en": (tmp_path / "en" / "runs" / run["outcome"].run_id / "beiling.html", "2 pages declare a charset")}
    for language, (path, sentence) in pages.items():
        html = path.read_text(encoding="utf-8")
        assert sentence in html, language
        for lie in demo_web.truth["sites"]["beiling"]["charset_lies"]:
            assert f"{lie['url']} ({lie['declared']} → {lie['used']})" in html, language
        quiet = (path.parent / "dongfeng.html").read_text(encoding="utf-8")
        assert sentence not in quiet, language


def test_crawl_notes_list_charset_lies_with_their_detail_and_keep_other_kinds_short() -> None:
    events = [CrawlEvent("s", "charset", f"http://x.gov.cn/{n}.html", "utf-8 → gb18030") for n in range(25)]
    events += [CrawlEvent("s", "trap", f"http://x.gov.cn/rili/{n}", "calendar") for n in range(5)]
    notes = pipeline._crawl_notes(events)["s"]
    assert notes["counts"] == {"charset": 25, "trap": 5}
    assert notes["examples"]["charset"][:2] == ["http://x.gov.cn/0.html (utf-8 → gb18030)",
                                                "http://x.gov.cn/1.html (utf-8 → gb18030)"]
    assert len(notes["examples"]["charset"]) == pipeline.LISTED_EVENTS["charset"]
    assert notes["examples"]["trap"] == [f"http://x.gov.cn/rili/{n}" for n in range(pipeline.CRAWL_EXAMPLES)]
