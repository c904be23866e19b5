"""column:<requirement> on literal snapshots: each case an inspector would judge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from checks import REGISTRY
from checks.base import Severity, Status, Verdict
from checks.columns import judge, judged_year, normalise
from checks.lists import own_list, under_column
from checks.runner import evaluate, plan
from checks.snapshot import DateHit, Link, ListBlock, Page, RequirementInfo
from tests.builders import (
    date_hit,
    link,
    page,
    probe,
    requirement,
    site,
    snapshot,
    target,
)

HOME = "https://www.s1.gov.cn/"
TODAY = date.today()
NEGATIVE = requirement(max_age_days=365)


def url(path: str) -> str:
    return HOME + path.lstrip("/")


def column(path: str, title: str, ages: Sequence[int], *, depth: int = 1, per_page: int = 0,
           today: date = TODAY) -> tuple[list[Page], list[Link]]:
    """A column's list pages (paginated when per_page) and its articles, items newest first."""
    items = [(f"{title}相关文件之{n + 1}：关于做好有关工作的通知", today - timedelta(days=age)) for n, age in enumerate(ages)]
    size = per_page or max(len(items), 1)
    chunks = [items[i:i + size] for i in range(0, len(items), size)] or [[]]
    names = [path] + [f"{path}index_{n}.html" for n in range(1, len(chunks))]
    pages, links = [], []
    for number, (name, chunk) in enumerate(zip(names, chunks)):
        pages.append(page(url(name), depth=depth + min(number, 1), title=f"{title}_s1人民政府",
                          dates=[date_hit(day, "list-item", text) for text, day in chunk]))
        for n, (text, day) in enumerate(chunk):
            article = url(f"{path}{day:%Y%m}/t{day:%Y%m%d}_{number}{n}.html")
            links.append(link(url(name), article, text=text, context="list"))
            pages.append(page(article, depth=depth + 1 + min(number, 1), title=f"{text}_s1人民政府",
                              dates=[date_hit(day, "header")]))
            links.append(link(article, url(path), text=title, context="body"))
        links += [link(url(name), url(other), text=str(k + 1), context="body") for k, other in enumerate(names)]
    return pages, links


def home(*nav: tuple[str, str], dates: Sequence[date] = (TODAY,)) -> tuple[list[Page], list[Link]]:
    return ([page(HOME, depth=0, title="s1人民政府", dates=[date_hit(d) for d in dates])],
            [link(HOME, url(path), text=text, context="nav") for text, path in nav])


def run(pages: list[Page], links: list[Link], req: RequirementInfo = NEGATIVE, *, taken_at: datetime | None = None,
        **extra: object) -> Verdict:
    return judge(snapshot(pages=pages, links=links, taken_at=taken_at, **extra), req)  # type: ignore[arg-type]


def test_keywords_are_normalised_for_width_spaces_and_punctuation() -> None:
    assert normalise("市场准入　负面 清单（２０２６）") == "市场准入负面清单2026"
    assert normalise("ＩＣＰ备·案") == "icp备案"


def test_a_column_under_its_canonical_name_in_the_navigation_passes() -> None:
    hp, hl = home(("市场准入负面清单", "/fmqd/"))
    cp, cl = column("/fmqd/", "市场准入负面清单", (3, 40))
    verdict = run(hp + cp, hl + cl)
    assert (verdict.status, verdict.key) == (Status.PASS, "column.ok")
    assert verdict.metrics["url"] == url("/fmqd/") and verdict.metrics["where"] == "nav"
    assert verdict.metrics["items"] == 2 and verdict.metrics["latest"] == (TODAY - timedelta(days=3)).isoformat()
    assert verdict.metrics["latest_title"].startswith("市场准入负面清单相关文件之1")
    assert verdict.metrics["path"] == "首页 > 市场准入负面清单"
    assert verdict.evidence[0].url == url("/fmqd/") and verdict.evidence[0].text == "市场准入负面清单"


def test_a_synonym_written_with_full_width_space_is_found_in_the_sub_navigation() -> None:
    hp, hl = home(("政务公开", "/zwgk/"))
    zwgk = [page(url("/zwgk/"), depth=1, title="政务公开")]
    sub = [link(url("/zwgk/"), url("/zwgk/qd/"), text="负面　清单", context="subnav")]
    cp, cl = column("/zwgk/qd/", "负面清单", (10,), depth=2)
    verdict = run(hp + zwgk + cp, hl + sub + cl)
    assert verdict.status is Status.PASS
    assert (verdict.metrics["url"], verdict.metrics["where"]) == (url("/zwgk/qd/"), "subnav")
    assert verdict.metrics["path"] == "首页 > 政务公开 > 负面　清单"


def test_a_column_only_on_a_topic_page_at_depth_2_is_found() -> None:
    hp, hl = home(("专题专栏", "/ztzl/"))
    topics = [page(url("/ztzl/"), depth=1, title="专题专栏_s1人民政府")]
    card = [link(url("/ztzl/"), url("/ztzl/fmqd/"), text="市场准入负面清单", context="list")]
    cp, cl = column("/ztzl/fmqd/", "市场准入负面清单", (5,), depth=2)
    verdict = run(hp + topics + cp, hl + card + cl)
    assert verdict.status is Status.PASS
    assert (verdict.metrics["where"], verdict.metrics["path"]) == ("topic", "首页 > 专题专栏 > 市场准入负面清单")


def test_where_a_column_was_found_does_not_depend_on_the_order_its_pages_were_fetched() -> None:
    hp, hl = home(("专题专栏", "/ztzl/"))
    topics = [page(url("/ztzl/"), depth=1, title="专题专栏_s1人民政府")]
    card = [link(url("/ztzl/"), url("/ztzl/fmqd/"), text="市场准入负面清单", context="list")]
    cp, cl = column("/ztzl/fmqd/", "市场准入负面清单", (5, 9), depth=2)   # its articles link back to it too
    orders = [(hp + topics + cp, hl + card + cl), (hp + cp[::-1] + topics, hl + cl[::-1] + card)]
    verdicts = [run(pages, links) for pages, links in orders]
    assert [v.metrics["found_on"] for v in verdicts] == [url("/ztzl/")] * 2
    assert verdicts[0].evidence == verdicts[1].evidence


def test_a_column_only_inside_the_navigation_iframe_is_found() -> None:
    hp, _ = home()
    frame = [page(url("/include/lmdh.html"), depth=1, title="栏目导航")]
    fl = [link(HOME, url("/include/lmdh.html"), tag="iframe", text="栏目导航"),
          link(url("/include/lmdh.html"), url("/fmqd/"), text="市场准入负面清单")]
    cp, cl = column("/fmqd/", "市场准入负面清单", (5,), depth=2)
    verdict = run(hp + frame + cp, fl + cl)
    assert verdict.status is Status.PASS
    assert (verdict.metrics["where"], verdict.metrics["found_on"]) == ("iframe", url("/include/lmdh.html"))


def test_a_column_on_another_host_is_found_and_judged_by_its_probe() -> None:
    other = "https://www.ln.gov.cn/s1/fmqd/"
    hp, hl = home()
    hl.append(link(HOME, other, text="市场准入负面清单", context="nav"))
    unexamined = run(hp, hl)
    assert (unexamined.status, unexamined.key) == (Status.PASS, "column.unexamined")
    assert (unexamined.metrics["where"], unexamined.metrics["host"]) == ("host", "www.ln.gov.cn")
    old = (TODAY - timedelta(days=500)).isoformat()
    seen = probe("column", url=other, detail={"items": 4, "latest": old, "dates": [old], "latest_title": "旧清单"})
    stale = run(hp, hl, probes=[seen])
    assert (stale.status, stale.key, stale.metrics["items"]) == (Status.WARN, "column.stale", 4)
    dead = run(hp, hl, targets=[target(other, "http_error", http_status=404)])
    assert (dead.status, dead.key) == (Status.FAIL, "column.unreachable")
    timed_out = run(hp, hl, probes=[probe("column", "timeout", url=other)])
    assert (timed_out.status, timed_out.key) == (Status.FAIL, "column.unreachable")


def test_an_empty_column_fails_as_blank() -> None:
    hp, hl = home(("市场准入负面清单", "/fmqd/"))
    cp, cl = column("/fmqd/", "市场准入负面清单", ())
    verdict = run(hp + cp, hl + cl)
    assert (verdict.status, verdict.key, verdict.metrics["items"]) == (Status.FAIL, "column.empty", 0)
    assert verdict.params["url"] == url("/fmqd/")
    assert verdict.severity == Severity.VETO, "空白栏目 is a 单项否决 indicator"


def test_a_stale_column_warns_or_fails_as_the_requirement_says() -> None:
    hp, hl = home(("市场准入负面清单", "/fmqd/"))
    cp, cl = column("/fmqd/", "市场准入负面清单", (400, 500))
    warn = run(hp + cp, hl + cl)
    assert (warn.status, warn.key, warn.params["age"], warn.params["max_age"]) == (
        Status.WARN, "column.stale", 400, 365)
    strict = requirement(max_age_days=365, stale_status="fail")
    assert run(hp + cp, hl + cl, strict).status is Status.FAIL
    assert run(hp + cp, hl + cl, requirement(max_age_days=None)).status is Status.PASS


def test_a_decoy_headline_is_no_column() -> None:
    hp, hl = home(("政策文件", "/zcwj/"))
    cp, cl = column("/zcwj/", "政策文件", (2, 9))
    decoy = url("/zcwj/decoy.html")
    cp.append(page(decoy, depth=2, title="关于印发《市场准入负面清单（2026年版）》的通知", dates=[date_hit(TODAY, "header")]))
    cl.append(link(url("/zcwj/"), decoy, text="关于印发《市场准入负面清单（2026年版）》的通知", context="list"))
    verdict = run(hp + cp, hl + cl)
    assert (verdict.status, verdict.key) == (Status.FAIL, "column.missing")
    assert verdict.params["pages"] == len(hp + cp)
    [rejected] = verdict.evidence
    assert (rejected.url, rejected.detail) == (decoy, "rejected: headline, not a column")


def test_a_column_link_in_the_nav_beats_headlines_to_articles() -> None:
    hp, hl = home(("市场准入负面清单", "/fmqd/"))
    hl.append(link(HOME, url("/xw/1.html"), text="我市召开市场准入负面清单制度落实工作推进会", context="list"))
    cp, cl = column("/fmqd/", "市场准入负面清单", (3,))
    assert run(hp + cp, hl + cl).metrics["url"] == url("/fmqd/")


def test_a_paginated_column_counts_items_across_pages_and_dates_from_page_one() -> None:
    hp, hl = home(("市场准入负面清单", "/fmqd/"))
    cp, cl = column("/fmqd/", "市场准入负面清单", (1, 20, 40, 80, 120, 160, 200, 300), per_page=3)
    verdict = run(hp + cp, hl + cl)
    assert verdict.status is Status.PASS
    assert (verdict.metrics["items"], verdict.metrics["list_pages"]) == (8, 3)
    assert verdict.metrics["latest"] == (TODAY - timedelta(days=1)).isoformat()
    assert {e.url for e in verdict.evidence if e.detail == "list page"} == {url("/fmqd/index_1.html"),
                                                                          url("/fmqd/index_2.html")}


def catalog(published: Sequence[date], taken_at: datetime) -> Verdict:
    req = requirement("major_decisions", title="重大行政决策事项目录", keywords=("重大行政决策事项目录",),
                      deadline="03-31")
    hp, hl = home(("重大行政决策事项目录", "/zdjc/"))
    ages = [(taken_at.date() - day).days for day in published]
    cp, cl = column("/zdjc/", "重大行政决策事项目录", ages, today=taken_at.date())
    return run(hp + cp, hl + cl, req, taken_at=taken_at)


def test_a_yearly_catalog_after_its_deadline_fails_and_on_time_passes() -> None:
    may = datetime(TODAY.year, 5, 1, tzinfo=UTC)
    late = catalog([date(TODAY.year, 4, 20), date(TODAY.year - 1, 3, 1)], may)
    assert (late.status, late.key) == (Status.FAIL, "column.late")
    assert (late.params["year"], late.params["published"]) == (TODAY.year, f"{TODAY.year}-04-20")
    assert catalog([date(TODAY.year, 3, 31)], may).status is Status.PASS
    missing = catalog([date(TODAY.year - 1, 3, 1)], may)
    assert (missing.status, missing.key) == (Status.FAIL, "column.no_year")


def test_before_the_deadline_last_years_catalog_is_judged() -> None:
    february = datetime(TODAY.year, 2, 1, tzinfo=UTC)
    assert judged_year(february.date(), "03-31") == (TODAY.year - 1, date(TODAY.year - 1, 3, 31))
    assert catalog([date(TODAY.year - 1, 3, 20)], february).status is Status.PASS
    assert catalog([date(TODAY.year - 1, 6, 20)], february).key == "column.late"


def test_no_homepage_is_an_error_not_a_missing_column() -> None:
    verdict = run([page(HOME, status=None, fetch_kind="timeout")], [])
    assert (verdict.status, verdict.key) == (Status.ERROR, "column.no_homepage")


def test_the_family_is_planned_per_requirement_with_its_basis() -> None:
    assert REGISTRY["column"].parameterised and REGISTRY["column"].severity is Severity.MAJOR
    hp, hl = home(("市场准入负面清单", "/fmqd/"))
    cp, cl = column("/fmqd/", "市场准入负面清单", (3,))
    planned = [p for p in plan(site(), [NEGATIVE, requirement("fees", applies_to=("finance",))], {})
               if p.spec_id == "column"]
    [result] = evaluate(snapshot(pages=hp + cp, links=hl + cl), planned)
    assert (result.check_id, result.status, result.basis) == ("column:negative_list", Status.PASS, "一(一)4")


# ------------------------------------------------------------------ the column's own list (issue 10)

TZGG = url("/tzgg/index.html")


def items(key: str, *paths: str) -> list[Link]:
    return [Link(TZGG, url(p), "a", f"标题{n}", "list", key) for n, p in enumerate(paths)]


def hits(key: str, *paths: str, age: int = 5) -> list[DateHit]:
    return [DateHit(TODAY - timedelta(days=age + n), "list-item", "", key, url(p)) for n, p in enumerate(paths)]


SIDE_NEWS = ListBlock("L1", "side", "最新动态", 2, widget=True)
OWN = ListBlock("L2", "body", "通知公告", 2)


@pytest.mark.parametrize(("column", "blocks", "links", "expected"), [
    # the list whose items go under the column's directory, never the 最新动态 box
    (TZGG, [SIDE_NEWS, OWN], items("L1", "/xwdt/a.html", "/xwdt/b.html") + items("L2", "/tzgg/202001/t1.html"),
     ("L2", "links under the column")),
    # a TRS/Hanweb /col/col123/ column owns /art/…/art_123_… items
    (url("/col/col123/index.html"), [ListBlock("L1", "body"), ListBlock("L2", "body", items=9)],
     items("L1", "/art/2020/1/5/art_123_7.html") + items("L2", "/xwdt/a.html", "/xwdt/b.html"),
     ("L1", "links under the column")),
    # nothing under the column: the list its pager belongs to
    (url("/channel/list.jsp"), [ListBlock("L1", "body", items=9), ListBlock("L2", "body", items=2, pager=True)],
     items("L1", "/content/1.html") + items("L2", "/content/2.html"), ("L2", "its pager")),
    # nothing under it and no pager: the body's largest list that is no widget
    (url("/channel/list.jsp"), [ListBlock("L1", "body", "热点推荐", 9, widget=True), ListBlock("L2", "body", items=3),
                                ListBlock("L3", "nav", items=12)],
     items("L1", "/c/1.html") + items("L2", "/c/2.html") + items("L3", "/c/3.html"), ("L2", "the main dated list")),
    # only chrome and widgets: the column has no dated list of its own
    (url("/channel/list.jsp"), [ListBlock("L1", "footer", items=3), SIDE_NEWS], items("L1", "/c/1.html"), None),
])
def test_the_columns_own_list_is_chosen_by_the_list_rule(column: str, blocks: list, links: list,
                                                          expected: tuple | None) -> None:
    dates = [DateHit(TODAY, "list-item", "", lk.block, lk.target_url) for lk in links]
    found = own_list(column, blocks, links, dates, TODAY)
    assert (None if found is None else (found.key, found.reason)) == expected


@pytest.mark.parametrize(("target_url", "column", "expected"), [
    (url("/xxgk/tzgg/202310/t20231009_1.html"), url("/xxgk/tzgg/index.html"), True),
    (url("/xxgk/tzgg/t20231009_1.html"), url("/xxgk/tzgg/"), True),
    (url("/xxgk/tzgg/index_1.html"), url("/xxgk/tzgg/index.html"), False),       # a pager page is no item
    (url("/xwdt/202310/t20231009_1.html"), url("/xxgk/tzgg/index.html"), False),
    (url("/art/2023/10/9/art_123_456.html"), url("/col/col123/index.html"), True),
    (url("/art/2023/10/9/art_124_456.html"), url("/col/col123/index.html"), False),
    (url("/a.html"), HOME, False),                                                # the site root is no column
])
def test_an_item_is_under_its_column(target_url: str, column: str, expected: bool) -> None:
    assert under_column(target_url, column) is expected


def lists_column(own_ages: Sequence[int], side_ages: Sequence[int] = (0, 1), *, pinned_age: int | None = None
                 ) -> tuple[list[Page], list[Link]]:
    """A /tzgg/ column page: its own dated list (a pinned item first when given) beside a 最新动态 box."""
    ages = ([pinned_age] if pinned_age is not None else []) + list(own_ages)
    own = [f"/tzgg/2020/t{n}.html" for n in range(len(ages))]
    side = [f"/xwdt/t{n}.html" for n in range(len(side_ages))]
    dates = [DateHit(TODAY - timedelta(days=age), "list-item", "", "L2", url(p)) for age, p in zip(ages, own)]
    dates += [DateHit(TODAY - timedelta(days=age), "list-item", "", "L1", url(p)) for age, p in zip(side_ages, side)]
    blocks = (ListBlock("L1", "side", "最新动态", len(side), widget=True), ListBlock("L2", "body", "通知公告", len(own)))
    pages = [replace(page(TZGG, depth=1, title="通知公告"), dates=tuple(dates), lists=blocks)]
    links = items("L2", *own) + items("L1", *side)
    return pages, links


def test_a_column_is_judged_on_its_own_list_not_the_fresh_sidebar() -> None:
    hp, hl = home(("市场准入负面清单", "/tzgg/index.html"))
    cp, cl = lists_column((400, 500))
    verdict = run(hp + cp, hl + cl, requirement(max_age_days=365))
    assert (verdict.status, verdict.key) == (Status.WARN, "column.stale")
    assert (verdict.metrics["items"], verdict.metrics["latest"]) == (2, (TODAY - timedelta(days=400)).isoformat())
    assert (verdict.metrics["list"], verdict.metrics["list_heading"]) == ("L2", "通知公告")
    assert any(e.detail.startswith("column list L2 “通知公告”") for e in verdict.evidence)


def test_a_pinned_old_item_first_does_not_hide_newer_ones() -> None:
    hp, hl = home(("市场准入负面清单", "/tzgg/index.html"))
    cp, cl = lists_column((30, 60), pinned_age=900)
    verdict = run(hp + cp, hl + cl, requirement(max_age_days=365))
    assert (verdict.status, verdict.metrics["latest"], verdict.metrics["items"]) == (
        Status.PASS, (TODAY - timedelta(days=30)).isoformat(), 3)


def test_generated_pager_pages_are_counted_with_the_list_and_the_future_never_is_the_newest() -> None:
    hp, hl = home(("市场准入负面清单", "/tzgg/index.html"))
    cp, cl = lists_column((40, 50))
    second = url("/tzgg/index_1.html")
    later = [DateHit(TODAY + timedelta(days=20), "list-item", "", "L1", url("/tzgg/2020/t9.html")),
             DateHit(TODAY - timedelta(days=70), "list-item", "", "L1", url("/tzgg/2020/t8.html"))]
    cp.append(replace(page(second, depth=2), dates=tuple(later), lists=(ListBlock("L1", "body", items=2),)))
    cl += [Link(TZGG, second, "pager", "第2页", "body", "L2"),
           Link(second, url("/tzgg/2020/t8.html"), "a", "较早的通知", "list", "L1")]
    verdict = run(hp + cp, hl + cl, requirement(max_age_days=365))
    assert (verdict.metrics["items"], verdict.metrics["list_pages"]) == (3, 2)
    assert verdict.metrics["latest"] == (TODAY - timedelta(days=40)).isoformat()
