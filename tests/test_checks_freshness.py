"""freshness:homepage: verdicts on literal snapshots (dates relative to today)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import pytest

from checks import PlannedCheck, evaluate
from checks.base import Result, Severity, Status
from checks.freshness import homepage_chain
from checks.snapshot import Link, Page
from tests import builders as b

NOW = b.utcnow()
TODAY = NOW.date()
HOME = "https://www.s1.gov.cn/"
INDEX = HOME + "index.html"
ZWGK, XWDT, DEEP = HOME + "zwgk/", HOME + "xwdt/", HOME + "xwdt/2022/t1.html"


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def hits(*days: int) -> list[Any]:
    return [b.date_hit(ago(d), snippet=f"要闻标题 {ago(d).isoformat()}") for d in days]


def judge(pages: Iterable[Page], links: Iterable[Link] = (), params: Mapping[str, Any] | None = None,
          collected: Iterable[str] = ("crawl",)) -> Result:
    snap = b.snapshot(b.site(url=HOME), taken_at=NOW, pages=pages, links=links, collected=collected)
    planned = PlannedCheck("freshness:homepage", "freshness:homepage", "basis", params or {"homepage_max_age_days": 14})
    [result] = evaluate(snap, [planned])
    return result


NAV_HOME = b.page(HOME, depth=0)
NAV_LINKS = [b.link(HOME, ZWGK, text="政务公开", context="nav"), b.link(HOME, XWDT, text="新闻动态", context="nav")]


@pytest.mark.parametrize(("pages", "links", "status", "key", "latest", "source"), [
    pytest.param([b.page(HOME, dates=hits(3, 30))], [], Status.PASS, "fresh", ago(3), "homepage",
                 id="homepage-updated-3-days-ago-passes"),
    pytest.param([b.page(HOME, dates=hits(14))], [], Status.PASS, "fresh", ago(14), "homepage",
                 id="exactly-14-days-passes"),
    pytest.param([b.page(HOME, dates=hits(15, 40))], [], Status.FAIL, "stale", ago(15), "homepage",
                 id="15-days-fails"),
    pytest.param([b.page(HOME, dates=hits(-10, 20))], [], Status.FAIL, "stale", ago(20), "homepage",
                 id="future-date-is-ignored"),
    pytest.param([b.page(HOME, dates=hits(-1, 20))], [], Status.PASS, "fresh", ago(-1), "homepage",
                 id="tomorrow-is-today-in-another-time-zone"),
    pytest.param([NAV_HOME, b.page(ZWGK, depth=1, dates=hits(40)), b.page(XWDT, depth=1, dates=hits(2, 9))],
                 NAV_LINKS, Status.PASS, "fresh_subpages", ago(2), "subpages",
                 id="navigation-homepage-judged-by-sub-pages"),
    pytest.param([NAV_HOME, b.page(ZWGK, depth=1, dates=hits(40)), b.page(XWDT, depth=1, dates=hits(20)),
                  b.page(DEEP, depth=2, dates=hits(1))],
                 [*NAV_LINKS, b.link(XWDT, DEEP)], Status.FAIL, "stale_subpages", ago(20), "subpages",
                 id="deeper-pages-do-not-count"),
    pytest.param([b.page(HOME, dates=hits(-5)), b.page(XWDT, depth=1, dates=hits(2))], NAV_LINKS[1:],
                 Status.PASS, "fresh_subpages", ago(2), "subpages", id="homepage-with-only-future-dates-has-none"),
    pytest.param([b.page(HOME, dates=hits(30)), b.page(XWDT, depth=1, dates=hits(1))], NAV_LINKS[1:],
                 Status.FAIL, "stale", ago(30), "homepage", id="dated-homepage-all-old-fails-whatever-sub-pages-say"),
    pytest.param([b.page(HOME, final_url=INDEX, redirect_chain=[HOME], dates=hits(5))], [], Status.PASS, "fresh",
                 ago(5), "homepage", id="http-redirected-homepage"),
    pytest.param([NAV_HOME, b.page(INDEX, depth=1, dates=hits(4)), b.page(ZWGK, depth=2, dates=hits(1))],
                 [b.link(HOME, INDEX, tag="meta-refresh"), b.link(INDEX, ZWGK)], Status.PASS, "fresh", ago(4),
                 "homepage", id="meta-refresh-homepage-is-followed"),
    pytest.param([NAV_HOME, b.page(INDEX, depth=1, dates=hits(4))], [b.link(HOME, INDEX, tag="js-location")],
                 Status.PASS, "fresh", ago(4), "homepage", id="script-redirect-homepage-is-followed"),
])
def test_verdict(pages: list[Page], links: list[Link], status: Status, key: str, latest: date, source: str) -> None:
    result = judge(pages, links)
    assert (result.status, result.message_key) == (status, key)
    assert (result.metrics["latest"], result.metrics["source"]) == (latest.isoformat(), source)
    assert result.metrics["age_days"] == max((TODAY - latest).days, 0)


@pytest.mark.parametrize(("pages", "links", "key"), [
    pytest.param([], [], "no_homepage", id="nothing-crawled"),
    pytest.param([b.page(HOME, status=500, fetch_kind="http_5xx")], [], "homepage_failed", id="homepage-500"),
])
def test_cannot_decide(pages: list[Page], links: list[Link], key: str) -> None:
    result = judge(pages, links)
    assert (result.status, result.message_key) == (Status.ERROR, key)


@pytest.mark.parametrize(("pages", "links"), [
    pytest.param([NAV_HOME, b.page(ZWGK, depth=1)], NAV_LINKS, id="no-dates-anywhere"),
    pytest.param([b.page(HOME)], [], id="undated-homepage-without-sub-pages"),
])
def test_no_publication_date_counts_as_not_updated(pages: list[Page], links: list[Link]) -> None:
    result = judge(pages, links)
    assert (result.status, result.message_key) == (Status.FAIL, "no_dates")


def test_threshold_comes_from_the_config() -> None:
    pages = [b.page(HOME, dates=hits(20))]
    assert judge(pages).status == Status.FAIL
    assert judge(pages, params={"homepage_max_age_days": 30}).status == Status.PASS


def test_metrics_and_evidence_name_the_page_and_snippet() -> None:
    pages = [NAV_HOME, b.page(ZWGK, depth=1, dates=hits(12)), b.page(XWDT, depth=1, dates=hits(6, 8))]
    result = judge(pages, NAV_LINKS)
    assert result.metrics == {"latest": ago(6).isoformat(), "age_days": 6, "source": "subpages",
                              "pages_considered": 2, "max_age_days": 14, "date_source": "list-item"}
    [evidence] = result.evidence
    assert (evidence.url, evidence.detail, evidence.text) == (XWDT, ago(6).isoformat(),
                                                              f"要闻标题 {ago(6).isoformat()}")
    assert result.message_params["pages"] == 2


def test_needs_the_crawl_and_is_a_veto() -> None:
    result = judge([b.page(HOME, dates=hits(1))], collected=())
    assert (result.status, result.message_key) == (Status.ERROR, "runner.missing_input")
    assert result.severity == Severity.VETO


def test_homepage_chain_stops_at_a_redirect_loop() -> None:
    pages = [NAV_HOME, b.page(INDEX, depth=1)]
    links = [b.link(HOME, INDEX, tag="meta-refresh"), b.link(INDEX, HOME, tag="meta-refresh")]
    snap = b.snapshot(b.site(url=HOME), pages=pages, links=links)
    assert [p.url for p in homepage_chain(snap)] == [HOME, INDEX]
