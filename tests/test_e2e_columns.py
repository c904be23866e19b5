"""column:<requirement> on a full demo run against the demo truth (the session's `demo_run`)."""

from pathlib import Path

import pytest

from monitor import pipeline
from monitor.demo import DemoWeb

WHERE = {"nav": "nav", "sub": "subnav", "topic": "topic", "iframe": "iframe", "host": "host"}


@pytest.fixture(scope="module")
def columns(demo_run: tuple[pipeline.RunOutcome, Path]) -> dict[str, dict[str, object]]:
    outcome, _ = demo_run
    assert outcome.results is not None, outcome.error
    return {site: {r.check_id.removeprefix("column:"): r for r in rs if r.check_id.startswith("column:")}
            for site, rs in outcome.results.results.items()}


def truth(demo_web: DemoWeb, site_id: str, requirement: str) -> dict:
    return demo_web.truth["sites"][site_id]["columns"][requirement]


def test_every_column_verdict_and_url_match_the_truth(columns: dict, demo_web: DemoWeb) -> None:
    for sid, entry in demo_web.truth["sites"].items():
        if not entry["listed"]:
            continue
        assert set(columns[sid]) == set(entry["columns"]), sid
        for req, expected in entry["columns"].items():
            result = columns[sid][req]
            assert str(result.status) == expected["status"], (sid, req, result.message_key, result.metrics)
            if expected.get("url") and expected["status"] != "error":
                assert result.metrics["url"] == expected["url"], (sid, req)
                assert result.metrics["where"] == WHERE.get(expected["where"], "body"), (sid, req)
                assert result.evidence[0].url == expected["url"]


def test_examined_columns_count_items_and_date_the_latest_as_the_truth(columns: dict, demo_web: DemoWeb) -> None:
    checked = 0
    for sid, entry in demo_web.truth["sites"].items():
        for req, expected in entry.get("columns", {}).items():
            result = columns[sid][req]
            if expected.get("url") and result.metrics.get("examined"):
                assert (result.metrics["items"], result.metrics["latest"] or None) == (
                    expected["items"], expected["latest"]), (sid, req)
                checked += 1
    assert checked >= 20


def test_no_column_check_errs_on_a_site_whose_homepage_answers(columns: dict, demo_web: DemoWeb) -> None:
    for sid, results in columns.items():
        if demo_web.truth["sites"][sid]["availability"] == "pass":
            assert all(str(r.status) != "error" for r in results.values()), sid


def test_synonym_topic_and_iframe_columns_are_found_where_they_are(columns: dict, demo_web: DemoWeb) -> None:
    synonym = columns["cykfq"]["enterprise_relief"]
    assert (str(synonym.status), synonym.metrics["text"]) == ("pass", "惠企纾困")
    topic = columns["cygxq"]["enterprise_relief"]
    assert topic.metrics["path"] == "首页 > 专题专栏 > 助企纾困专题"
    assert topic.metrics["url"] == demo_web.url("www.cygxq.gov.test", "/ztzl/zqsk/")
    framed = columns["cygxq"]["negative_list"]
    assert (framed.metrics["where"], framed.metrics["found_on"]) == (
        "iframe", demo_web.url("www.cygxq.gov.test", "/include/lmdh.html"))
    elsewhere = columns["cyzbq"]["enterprise_relief"]
    assert (str(elsewhere.status), elsewhere.metrics["host"]) == ("pass", "www.ln.gov.test")


def test_empty_stale_late_and_decoy_columns_fail_as_an_inspector_would(columns: dict, demo_web: DemoWeb) -> None:
    empty = columns["lingyuan"]["negative_list"]          # a GBK site
    assert (str(empty.status), empty.message_key) == ("fail", "column.empty")
    stale = columns["beipiao"]["enterprise_relief"]
    assert (str(stale.status), stale.message_key) == ("warn", "column.stale")
    late = columns["cykfq"]["major_decisions"]
    assert (str(late.status), late.message_key) == ("fail", "column.late")
    assert late.metrics["published"] > late.metrics["due"]
    decoy = columns["cyzbq"]["negative_list"]
    assert (str(decoy.status), decoy.message_key) == ("fail", "column.missing")
    assert decoy.evidence and all(e.detail.startswith("rejected: ") for e in decoy.evidence)
    assert decoy.evidence[0].detail == "rejected: headline, not a column"
    assert "负面清单" in decoy.evidence[0].text


def test_a_paginated_column_is_counted_across_its_three_pages(columns: dict, demo_web: DemoWeb) -> None:
    paged = columns["cykfq"]["negative_list"]
    expected = truth(demo_web, "cykfq", "negative_list")
    assert (paged.metrics["items"], paged.metrics["list_pages"]) == (expected["items"], 3)
    assert paged.metrics["latest"] == expected["latest"]
    pages = {e.url for e in paged.evidence if e.detail == "list page"}
    assert pages == {demo_web.url("www.cykfq.gov.test", f"/fmqd/index_{n}.html") for n in (1, 2)}


def test_a_column_is_judged_on_its_own_list_not_the_sidebar_or_a_headline(columns: dict, demo_web: DemoWeb) -> None:
    # TRS column: a fresh 最新动态 box beside a stale list, and a stale item whose headline holds yesterday's date
    relief = columns["longquan"]["enterprise_relief"]
    expected = truth(demo_web, "longquan", "enterprise_relief")
    assert (str(relief.status), relief.message_key, expected["status"]) == ("warn", "column.stale", "warn")
    assert (relief.metrics["items"], relief.metrics["latest"]) == (expected["items"], expected["latest"])
    assert (relief.metrics["list"], relief.metrics["list_reason"]) == ("L1", "links under the column")
    [named] = [e for e in relief.evidence if e.detail.startswith("column list L1")]
    assert named.url == expected["url"] and "5 items on 3 list pages" in named.detail
    # every item is counted only by following the pages createPageHTML draws (no pager link in the markup)
    paged = columns["longquan"]["negative_list"]
    expected = truth(demo_web, "longquan", "negative_list")
    assert (paged.metrics["items"], paged.metrics["latest"], paged.metrics["list_pages"]) == (
        expected["items"], expected["latest"], 3)


def test_a_hanweb_datastore_column_counts_its_records_and_sees_past_a_pinned_item(columns: dict,
                                                                                  demo_web: DemoWeb) -> None:
    hanweb = columns["longquan-scjg"]["negative_list"]
    expected = truth(demo_web, "longquan-scjg", "negative_list")
    assert (str(hanweb.status), hanweb.metrics["items"], hanweb.metrics["latest"]) == (
        "pass", expected["items"], expected["latest"])
    assert expected["items"] == 8 and not hanweb.metrics["latest_title"].startswith("【置顶】")
    proxies = {e.url for e in hanweb.evidence if e.detail == "list page"}
    assert len(proxies) == 2 and all("/module/web/jpage/dataproxy.jsp?" in url for url in proxies)


def test_year_less_list_dates_take_their_year_from_the_item_urls(columns: dict, demo_web: DemoWeb) -> None:
    catalog = columns["longquan-czj"]["fee_catalog"]
    expected = truth(demo_web, "longquan-czj", "fee_catalog")
    assert (str(catalog.status), catalog.metrics["items"], catalog.metrics["latest"]) == (
        "warn", expected["items"], expected["latest"])
    assert catalog.metrics["latest"] < demo_web.truth["today"][:4], "a previous year's items, not this year's"
