"""link:, document: and pairing: on literal snapshots (real TRS/Hanweb-like shapes: a 便民服务 box, an
iframe, 〔〕 years, full-width digits, a 相关解读 box, a separate 政策解读 column linking back)."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from checks import documents, pairing, servicelinks
from checks.snapshot import DateHit, Link, ListBlock
from tests.builders import page, requirement, snapshot, target

HOME = "https://www.s1.gov.cn/"
NOW = datetime(2026, 5, 10, 8, 0, tzinfo=UTC)


def tax(**kw: object) -> object:
    return replace(requirement("tax_12366", title="12366纳税服务平台", keywords=("12366",)), type="link",
                   hosts=("12366.chinatax.gov.cn",), **kw)


def home_with(*links: Link, depth1: tuple = ()) -> dict:
    return {"pages": [page(HOME, title="首页"), *depth1], "links": list(links)}


# --- link --------------------------------------------------------------------

@pytest.mark.parametrize(("links", "targets", "extra", "key"), [
    ([Link(HOME, "https://12366.chinatax.gov.cn/", "a", "纳税服务", "body", "L3")], [], [], "link.ok"),
    ([Link(HOME, "https://etax.12366.chinatax.gov.cn/x", "a", "", "footer")], [], [], "link.ok"),
    ([Link(HOME, "http://www.tax.example/", "a", "１２３６６纳税服务热线", "nav")], [], [], "link.ok"),
    ([Link(HOME, "https://12366.chinatax.gov.cn/old", "a", "12366", "body")],
     [target("https://12366.chinatax.gov.cn/old", "http_4xx", http_status=404)], [], "link.dead"),
    ([Link(HOME, "https://www.s1.gov.cn/bsfw/", "a", "办事服务", "nav"),
      Link("https://www.s1.gov.cn/bsfw/", "https://12366.chinatax.gov.cn/", "a", "12366", "body")], [],
     [page("https://www.s1.gov.cn/bsfw/", depth=1, title="办事服务")], "link.ok"),
    ([Link(HOME, "https://www.s1.gov.cn/a/", "a", "a", "nav"),
      Link("https://www.s1.gov.cn/a/b/", "https://12366.chinatax.gov.cn/", "a", "12366", "body")], [],
     [page("https://www.s1.gov.cn/a/b/", depth=2)], "link.missing"),
    ([Link(HOME, "https://www.s1.gov.cn/inc/fw.html", "iframe", "", "body"),
      Link("https://www.s1.gov.cn/inc/fw.html", "https://12366.chinatax.gov.cn/", "a", "", "body")], [],
     [page("https://www.s1.gov.cn/inc/fw.html", depth=1)], "link.ok"),
    ([Link(HOME, "https://www.chinatax.gov.cn/", "a", "国家税务总局", "body")], [], [], "link.missing"),
], ids=["by-host-in-a-box", "sub-domain-by-host", "full-width-text", "dead-target-fails",
        "one-click-away-counts", "two-clicks-away-is-too-far", "inside-a-homepage-iframe", "other-host-is-missing"])
def test_a_service_link_is_found_by_host_or_text_within_its_clicks(links: list, targets: list, extra: list,
                                                                   key: str) -> None:
    snap = snapshot(pages=[page(HOME, title="首页", dates=[DateHit(date(2026, 5, 1), "list-item")],
                                ), *extra], links=links, targets=targets, taken_at=NOW)
    snap = replace(snap, pages=tuple(replace(p, lists=(ListBlock("L3", "side", "便民服务"),)) if p.url == HOME else p
                                     for p in snap.pages))
    verdict = servicelinks.judge(snap, tax())
    assert verdict.key == key, verdict
    if key == "link.ok" and links[0].block:
        assert (verdict.metrics["block"], verdict.metrics["where"]) == ("便民服务", "body")
    if key == "link.dead":
        assert verdict.params["kind"] == "http_4xx 404" and verdict.evidence[0].key == "dead"


def test_a_working_link_wins_over_a_dead_one_and_homepage_only_when_asked() -> None:
    links = [Link(HOME, "https://12366.chinatax.gov.cn/gone", "a", "12366", "nav"),
             Link(HOME, "https://12366.chinatax.gov.cn/", "a", "12366纳税服务平台", "footer")]
    snap = snapshot(pages=[page(HOME)], links=links, taken_at=NOW,
                    targets=[target("https://12366.chinatax.gov.cn/gone", "dns")])
    verdict = servicelinks.judge(snap, tax())
    assert (verdict.key, verdict.metrics["url"], verdict.metrics["dead"]) == ("link.ok", "https://12366.chinatax.gov.cn/", 1)
    deep = snapshot(pages=[page(HOME), page(HOME + "bsfw/", depth=1)], taken_at=NOW,
                    links=[Link(HOME + "bsfw/", "https://12366.chinatax.gov.cn/", "a", "12366")])
    assert servicelinks.judge(deep, tax(max_depth=1)).key == "link.missing"


# --- document ----------------------------------------------------------------

REPORT = replace(requirement("annual_report", title="政府信息公开工作年度报告",
                             keywords=("{year}年政府信息公开工作年度报告",), deadline="01-31"), type="document")
LIST = "https://www.s1.gov.cn/xxgk/ndbg/"


def report_snap(title: str, listed: date | None, *, header: date | None = None, today: datetime = NOW) -> object:
    doc = "https://www.s1.gov.cn/xxgk/ndbg/202601/t20260120_1.html"
    dates = [DateHit(listed, "list-item", block="L1", item=doc)] if listed else []
    return snapshot(taken_at=today, pages=[
        page(HOME), page(LIST, depth=1, title="政府信息公开年报", dates=dates),
        page(doc, depth=2, title=f"{title}_某某区人民政府", dates=[DateHit(header, "header")] if header else [])],
        links=[Link(HOME, LIST, "a", "政府信息公开年报", "nav"), Link(LIST, doc, "a", title, "list", "L1")])


@pytest.mark.parametrize(("title", "listed", "header", "key"), [
    ("某某区人民政府2025年政府信息公开工作年度报告", date(2026, 1, 20), None, "document.ok"),
    ("某某区人民政府２０２５年度政府信息公开工作年度报告", date(2026, 1, 28), None, "document.ok"),
    ("某某区人民政府二〇二五年政府信息公开工作年度报告", None, date(2026, 1, 30), "document.ok"),
    ("〔2025〕年政府信息公开工作年度报告", date(2026, 1, 31), None, "document.ok"),
    ("某某区人民政府2025年政府信息公开工作年度报告", date(2026, 2, 12), None, "document.late"),
    ("某某区人民政府2025年政府信息公开工作年度报告", None, None, "document.undated"),
    ("某某区人民政府2024年政府信息公开工作年度报告", date(2025, 1, 20), None, "document.missing"),
    ("关于做好2025年政府信息公开工作年度报告编制和发布工作的通知", date(2026, 1, 5), None, "document.missing"),
    ("2025年政府信息公开工作年度报告解读", date(2026, 1, 20), None, "document.missing"),
], ids=["on-time", "full-width-digits-and-niandu", "chinese-numeral-year-dated-by-its-page", "bracketed-year",
        "late-warns", "undated-warns", "last-years-report-is-not-this-years", "a-notice-to-compile-it-is-not-it",
        "its-jiedu-is-not-it"])
def test_the_yearly_report_is_found_by_its_title_and_dated(title: str, listed: date | None, header: date | None,
                                                           key: str) -> None:
    verdict = documents.judge(report_snap(title, listed, header=header), REPORT)
    assert verdict.key == key, verdict
    assert (verdict.metrics["year"], verdict.metrics["due"]) == (2025, "2026-01-31")


def test_before_the_deadline_last_years_document_is_judged() -> None:
    early = datetime(2026, 1, 15, tzinfo=UTC)
    verdict = documents.judge(report_snap("2024年政府信息公开工作年度报告", date(2025, 1, 25), today=early), REPORT)
    assert (verdict.key, verdict.metrics["year"], verdict.metrics["due"]) == ("document.ok", 2024, "2025-01-31")
    catalog = replace(REPORT, keywords=("{year}年重大行政决策事项目录",), deadline="03-31", for_year="current")
    found = documents.judge(report_snap("朝阳市2026年度重大行政决策事项目录", date(2026, 3, 20)), catalog)
    assert (found.key, found.metrics["year"]) == ("document.ok", 2026)


# --- pairing -----------------------------------------------------------------

POLICY = replace(requirement("policy_interpretation", title="政策文件与解读关联", keywords=("规范性文件", "政策文件")),
                 type="pairing")
COL = "https://www.s1.gov.cn/zwgk/gfxwj/"
JD = "https://www.s1.gov.cn/zwgk/zcjd/"


def doc(n: int) -> str:
    return f"{COL}202604/t2026040{n}_{n}.html"


def jd(n: int) -> str:
    return f"{JD}202604/t2026040{n}_{n}.html"


def policy_snap(extra_links: list[Link]) -> object:
    titles = {1: "关于印发某某办法的通知", 2: "某某规定", 3: "关于某某的实施意见"}
    rows = [DateHit(date(2026, 4, n), "list-item", block="L1", item=doc(n)) for n in titles]
    pages = [page(HOME), page(COL, depth=1, title="规范性文件_某某区", dates=rows),
             page(JD, depth=1, title="政策解读_某某区",
                  dates=[DateHit(date(2026, 4, 5), "list-item", block="L1", item=jd(1))]),
             page(jd(1), depth=2, title="《某某规定》答记者问_某某区", dates=[DateHit(date(2026, 4, 5), "header")]),
             *[page(doc(n), depth=2, title=f"{t}_某某区", dates=[DateHit(date(2026, 4, n), "header")])
               for n, t in titles.items()]]
    pages = [replace(p, lists=(ListBlock("L1", "body", items=3),)) if p.url in (COL, JD) else p for p in pages]
    links = [Link(HOME, COL, "a", "规范性文件", "nav"), Link(HOME, JD, "a", "政策解读", "nav"),
             Link(JD, jd(1), "a", "《某某规定》答记者问", "list", "L1"),
             *[Link(COL, doc(n), "a", t, "list", "L1") for n, t in titles.items()],
             *[Link(doc(n), JD, "a", "政策解读", "side") for n in titles],   # the side bar's column link
             *extra_links]
    return snapshot(taken_at=NOW, pages=pages, links=links)


def test_documents_pair_by_a_related_link_or_a_jiedu_linking_back() -> None:
    verdict = pairing.judge(policy_snap([
        Link(doc(1), "https://www.s1.gov.cn/zwgk/zcjd/202604/t20260406_9.pdf", "a", "【图解】某某办法", "body"),
        Link(jd(1), doc(2), "a", "政策原文：某某规定", "body")]), POLICY)
    assert (verdict.key, verdict.metrics["paired"], verdict.metrics["unpaired"]) == ("pairing.low", 2, 1)
    assert [e.url for e in verdict.evidence if e.key == "unpaired"] == [doc(3)]
    assert {e.url: e.params["jiedu"] for e in verdict.evidence if e.key == "paired"} == {
        doc(1): "https://www.s1.gov.cn/zwgk/zcjd/202604/t20260406_9.pdf", doc(2): jd(1)}


def test_the_navigation_and_the_side_bars_column_link_pair_nothing() -> None:
    verdict = pairing.judge(policy_snap([Link(doc(3), JD, "a", "政策解读", "nav")]), POLICY)
    assert (verdict.key, verdict.metrics["paired"], verdict.metrics["examined"]) == ("pairing.low", 0, 3)
    everything = pairing.judge(policy_snap([Link(doc(n), jd(1), "a", "相关解读：答记者问", "body") for n in (1, 2, 3)]),
                               POLICY)
    assert (everything.key, everything.metrics["ratio"]) == ("pairing.ok", 1.0)
    lenient = pairing.judge(policy_snap([Link(doc(1), jd(1), "a", "相关解读", "body")]), replace(POLICY, min_ratio=0.3))
    assert lenient.key == "pairing.ok"


def test_no_policy_column_fails() -> None:
    snap = snapshot(taken_at=NOW, pages=[page(HOME)], links=[Link(HOME, HOME + "xwdt/", "a", "新闻动态", "nav")])
    assert pairing.judge(snap, POLICY).key == "pairing.no_column"
