"""columns:update and columns:blank on literal snapshots: columns from nav and sub-nav, classes, vetoes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from checks.base import Status
from checks.updates import OTHER, classes_of, classify, columns_blank, columns_update, site_columns
from monitor.config import Checks
from tests.builders import date_hit, link, page, snapshot, utcnow

HOME = "https://www.s1.gov.cn/"
PARAMS = Checks().model_dump(exclude={"disabled"})
TODAY = utcnow().date()


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@pytest.mark.parametrize(("title", "cls"), [
    pytest.param("工作动态", "news", id="news-is-news"),
    pytest.param("政务要闻", "news", id="headline-news"),
    pytest.param("通知公告", "notice_policy", id="notices"),
    pytest.param("政策文件", "notice_policy", id="policy-files"),
    pytest.param("人事信息", "personnel_plan", id="personnel"),
    pytest.param("规划计划", "personnel_plan", id="plans"),
    pytest.param("抗疫专题（历史）", "exempt", id="historical-topic-is-exempt"),
    pytest.param("新闻专题", "exempt", id="exempt-comes-first"),
    pytest.param("互动交流", OTHER, id="interaction-is-other"),
    pytest.param("政 策 文 件", "notice_policy", id="spaces-folded"),
])
def test_titles_are_classified_by_the_first_matching_class(title: str, cls: str) -> None:
    assert classify(title, classes_of(PARAMS)).id == cls


def column_page(path: str, ages: tuple[int, ...], *, placeholder: str = "") -> tuple[object, list[object]]:
    url = HOME + path
    items = [f"{url}{n}.html" for n in range(len(ages))]
    hits = tuple(replace(date_hit(ago(a)), item=item) for a, item in zip(ages, items, strict=True))
    p = replace(page(url, depth=1, dates=hits), placeholder=placeholder)
    return p, [link(url, item, text=f"第{n}条", context="list") for n, item in enumerate(items)]


def site_with(nav: dict[str, tuple[str, tuple[int, ...]]], sub: dict[str, tuple[str, tuple[int, ...]]] = {},
              blank: tuple[str, ...] = ()) -> object:
    pages = [page(HOME, dates=(date_hit(ago(1)),))]
    links = []
    for title, (path, ages) in nav.items():
        links.append(link(HOME, HOME + path, text=title, context="nav"))
        p, ls = column_page(path, ages)
        pages.append(p)
        links += ls
    parent = HOME + "zwgk/"
    if sub or blank:
        links.append(link(HOME, parent, text="政务公开", context="nav"))
        pages.append(page(parent, depth=1))
    for title, (path, ages) in sub.items():
        links.append(link(parent, HOME + path, text=title, context="subnav"))
        p, ls = column_page(path, ages)
        pages.append(replace(p, depth=2))
        links += ls
    for n, title in enumerate(blank):
        url = f"{parent}blank{n}/"
        links.append(link(parent, url, text=title, context="subnav"))
        pages.append(replace(page(url, depth=2), placeholder="暂无信息"))
    return snapshot(pages=pages, links=links)


def test_columns_come_from_the_navigation_and_the_first_levels_sub_navigation() -> None:
    snap = site_with({"工作动态": ("gzdt/", (1, 3))}, {"通知公告": ("zwgk/tzgg/", (2,))})
    found = {(c.text, c.level, c.cls.id, c.state) for c in site_columns(snap, PARAMS) or ()}
    assert found == {("工作动态", 1, "news", "judged"), ("政务公开", 1, OTHER, "no_items"),
                     ("通知公告", 2, "notice_policy", "judged")}


def test_a_body_link_or_a_sub_navigation_link_on_the_homepage_is_no_column() -> None:
    snap = site_with({"工作动态": ("gzdt/", (1,))})
    snap = replace(snap, links=snap.links + (link(HOME, HOME + "x/", text="一条新闻", context="body"),
                                             link(HOME, HOME + "y/", text="侧栏", context="subnav")))
    assert [c.text for c in site_columns(snap, PARAMS) or ()] == ["工作动态"]


@pytest.mark.parametrize(("nav", "status", "late"), [
    pytest.param({"工作动态": ("gzdt/", (3, 20))}, Status.PASS, 0, id="fresh-news-passes"),
    pytest.param({"工作动态": ("gzdt/", (15,))}, Status.WARN, 1, id="news-15-days-old-warns"),
    pytest.param({"通知公告": ("tzgg/", (170,))}, Status.PASS, 0, id="notices-within-6-months"),
    pytest.param({"专题回顾": ("zt/", (900,))}, Status.PASS, 0, id="an-exempt-topic-is-never-late"),
    pytest.param({f"动态{n}": (f"d{n}/", (30,)) for n in range(4)}, Status.WARN, 4, id="four-late-warn"),
    pytest.param({f"动态{n}": (f"d{n}/", (30,)) for n in range(5)}, Status.FAIL, 5, id="five-late-veto"),
])
def test_late_columns_warn_from_the_first_and_veto_at_five(nav: dict, status: Status, late: int) -> None:
    verdict = columns_update(site_with(nav), PARAMS)
    assert (verdict.status, verdict.metrics["late"]) == (status, late)
    assert sum(e.key == "late" for e in verdict.evidence) == late
    assert {e.text for e in verdict.evidence if e.key in ("column", "column_undated")} == set(nav)


def test_ten_columns_that_should_be_updated_and_are_not_veto() -> None:
    nav = {f"动态{n}": (f"d{n}/", (30,)) for n in range(4)} | {f"栏目{n}": (f"c{n}/", (400,)) for n in range(6)}
    verdict = columns_update(site_with(nav), PARAMS)
    assert (verdict.status, verdict.metrics["late"], verdict.metrics["long"]) == (Status.FAIL, 4, 6)
    fewer = columns_update(site_with(dict(list(nav.items())[:9])), PARAMS)
    assert fewer.status == Status.WARN


def test_a_sidebar_box_of_fresh_news_does_not_make_a_stale_column_fresh() -> None:
    snap = site_with({"工作动态": ("gzdt/", (40,))})
    column = next(p for p in snap.pages if p.url.endswith("gzdt/"))
    fresh = replace(date_hit(ago(0)), block="L2", item=HOME + "other/1.html")
    stale = tuple(replace(d, block="L1") for d in column.dates)
    from checks.snapshot import ListBlock
    blocks = (ListBlock("L1", "body", "工作动态", 1), ListBlock("L2", "side", "最新动态", 1, widget=True))
    pages = tuple(replace(p, dates=stale + (fresh,), lists=blocks) if p is column else p for p in snap.pages)
    links = tuple(replace(lk, block="L1") if lk.context == "list" else lk for lk in snap.links)
    links += (link(column.url, HOME + "other/1.html", text="最新一条", context="list"),)
    verdict = columns_update(replace(snap, pages=pages, links=links), PARAMS)
    assert (verdict.status, verdict.metrics["late"]) == (Status.WARN, 1)


def test_blank_columns_warn_from_the_first_and_veto_at_five() -> None:
    one = columns_blank(site_with({"工作动态": ("gzdt/", (1,))}, blank=("统计信息",)), PARAMS)
    assert (one.status, one.metrics["blank"]) == (Status.WARN, 1)
    assert one.evidence[0].params == {"title": "统计信息", "shown": "暂无信息"}
    five = columns_blank(site_with({}, blank=tuple(f"栏目{n}" for n in range(5))), PARAMS)
    assert (five.status, five.metrics["blank"]) == (Status.FAIL, 5)


def test_a_parent_column_without_items_or_placeholder_is_not_blank() -> None:
    verdict = columns_blank(site_with({}, {"通知公告": ("zwgk/tzgg/", (2,))}), PARAMS)
    assert (verdict.status, verdict.metrics["blank"]) == (Status.PASS, 0)


def test_no_homepage_or_no_navigation_cannot_be_decided() -> None:
    assert columns_update(snapshot(pages=[page(HOME, status=500)]), PARAMS).status == Status.ERROR
    assert columns_blank(snapshot(pages=[page(HOME)]), PARAMS).key == "columns.none"
