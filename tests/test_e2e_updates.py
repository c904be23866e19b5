"""columns:update and columns:blank (issue 17) on the session's demo run, against the demo truth exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor import pipeline
from monitor.demo import DemoWeb


@pytest.fixture(scope="module")
def results(demo_run: tuple[pipeline.RunOutcome, Path]) -> dict[str, dict[str, Any]]:
    outcome, _ = demo_run
    assert outcome.results is not None, outcome.error
    return {site: {r.check_id: r for r in rs} for site, rs in outcome.results.results.items()}


def judged(demo_web: DemoWeb, key: str) -> list[tuple[str, dict[str, Any]]]:
    return [(sid, entry[key]) for sid, entry in demo_web.truth["sites"].items()
            if entry["listed"] and entry.get(key) is not None]


def test_every_sites_column_update_verdict_late_and_long_columns_and_classes_match_the_truth(
        results: dict, demo_web: DemoWeb) -> None:
    cases = judged(demo_web, "columns_update")
    assert len(cases) >= 30
    for sid, expected in cases:
        result = results[sid]["columns:update"]
        assert str(result.status) == expected["status"], (sid, result.message_key, result.metrics)
        if expected["status"] == "error":
            continue
        late = sorted(e.url for e in result.evidence if e.key == "late")
        long = sorted(e.url for e in result.evidence if e.key == "long")
        classes = {e.url: e.detail.split("; ")[1].removeprefix("class ") for e in result.evidence
                   if e.key in ("column", "column_undated")}
        assert (late, long) == (expected["late"], expected["long"]), sid
        assert classes == expected["classes"], sid


def test_every_sites_blank_columns_match_the_truth(results: dict, demo_web: DemoWeb) -> None:
    for sid, expected in judged(demo_web, "columns_blank"):
        result = results[sid]["columns:blank"]
        assert str(result.status) == expected["status"], (sid, result.message_key, result.metrics)
        if expected["status"] != "error":
            assert sorted(e.url for e in result.evidence) == expected["blank"], sid


def test_five_late_columns_veto_beside_an_exempt_historical_topic(results: dict, demo_web: DemoWeb) -> None:
    update = results["longfeng"]["columns:update"]
    assert (str(update.status), update.message_key, update.metrics["late"]) == ("fail", "columns.update_veto", 5)
    topic = demo_web.url("www.longfeng.gov.test", "/kyzt/")
    [row] = [e for e in update.evidence if e.url == topic and e.key in ("column", "column_undated")]
    assert row.text == "抗疫专题（历史）" and "class exempt; exempt" in row.detail and row.params["age"] >= 800
    assert all(e.url != topic for e in update.evidence if e.key == "late")
    late = {e.text: e.params["max_age"] for e in update.evidence if e.key == "late"}
    assert late == {"工作动态": 14, "乡镇动态": 14, "通知公告": 180, "政策文件": 180, "人事信息": 365}


def test_five_blank_sub_columns_veto_and_show_the_words_that_make_them_blank(results: dict,
                                                                             demo_web: DemoWeb) -> None:
    blank = results["longfeng"]["columns:blank"]
    assert (str(blank.status), blank.metrics["blank"]) == ("fail", 5)
    assert all(e.text.startswith("暂无信息") for e in blank.evidence)
    parent = demo_web.url("www.longfeng.gov.test", "/zwgk/")
    assert parent not in {e.url for e in blank.evidence}
    assert str(results["lingyuan"]["columns:blank"].status) == "warn"   # its one empty 负面清单


def test_every_sites_impossible_dates_match_the_truth(results: dict, demo_web: DemoWeb) -> None:
    cases = judged(demo_web, "dates_impossible")
    assert sum(expected["status"] == "warn" for _, expected in cases) >= 3
    for sid, expected in cases:
        result = results[sid]["dates:impossible"]
        assert str(result.status) == expected["status"], (sid, result.message_key, result.metrics)
        if expected["status"] != "error":
            assert sorted(e.url for e in result.evidence if e.key == "future") == expected["future"], sid
            assert sorted(e.url for e in result.evidence if e.key == "backdated") == expected["backdated"], sid


def test_articles_published_before_written_warn_and_ones_written_first_do_not(results: dict,
                                                                            demo_web: DemoWeb) -> None:
    result = results["longfeng"]["dates:impossible"]
    backdated = [e for e in result.evidence if e.key == "backdated"]
    assert len(backdated) == 2 and all("/ghjh/" in e.url and e.params["days"] == 20 for e in backdated)
    assert not any("/tzgg/" in e.url for e in result.evidence)     # 成文日期 3 days before publication
    [future] = [e for e in result.evidence if e.key == "future"]
    assert "/xzdt/" in future.url and future.params["date"] > demo_web.truth["today"]


def test_every_sites_hidden_links_match_the_truth(results: dict, demo_web: DemoWeb) -> None:
    cases = judged(demo_web, "links_hidden")
    assert any(expected["status"] == "fail" for _, expected in cases)
    for sid, expected in cases:
        result = results[sid]["links:hidden"]
        assert str(result.status) == expected["status"], (sid, result.message_key, result.metrics)
        if expected["status"] != "error":
            assert sorted(e.url for e in result.evidence) == expected["hidden"], sid


def test_hidden_links_say_how_they_are_hidden_and_look_alikes_are_not_reported(results: dict,
                                                                              demo_web: DemoWeb) -> None:
    from monitor.demo.updatecases import BET_HOST, FRIENDS, HIDDEN
    result = results["longfeng"]["links:hidden"]
    assert {(e.url, e.detail) for e in result.evidence} == {
        (demo_web.url(BET_HOST, path), f"hidden: {how}") for how, path, _ in HIDDEN}
    assert {e.key for e in result.evidence} == {"hidden_rule", "hidden_inline", "hidden_sheet"}
    assert {e.source for e in result.evidence} == {demo_web.url("www.longfeng.gov.test", FRIENDS)}
    [by_sheet] = [e for e in result.evidence if e.key == "hidden_sheet"]
    assert by_sheet.params == {"way": "display:none", "rule": ".yq-gg", "sheet": "/css/style.css"}
    # the hidden mobile menus link the site's own columns; the @media-hidden links show on large screens; the
    # drop-down list of other sites shows on hover
    assert all(BET_HOST in e.url for e in result.evidence)


def test_every_sites_reply_verdict_and_late_messages_match_the_truth(results: dict, demo_web: DemoWeb) -> None:
    cases = judged(demo_web, "interaction_reply")
    assert {expected["status"] for _, expected in cases} >= {"pass", "fail"}
    for sid, expected in cases:
        result = results[sid]["interaction:reply"]
        assert str(result.status) == expected["status"], (sid, result.message_key, result.metrics)
        if expected["status"] != "error":
            assert (result.metrics.get("messages", 0), result.metrics.get("late", 0)) == (
                expected["messages"], expected["late"]), sid


def test_slow_replies_and_no_channel_fail_while_replies_within_a_month_pass(results: dict) -> None:
    slow = results["longfeng"]["interaction:reply"]
    assert (slow.message_key, [e.key for e in slow.evidence]) == ("interaction.slow", ["unanswered", "late"])
    assert [e.params["days"] for e in slow.evidence] == [120, 100]     # the slowest first
    assert slow.metrics["median_days"] == 52.5                         # answered in 100 and in 5 days
    timely = results["longfeng-jyj"]["interaction:reply"]
    assert (str(timely.status), timely.metrics["late"], timely.metrics["messages"]) == ("pass", 0, 4)
    bare = results["longfeng-tyj"]["interaction:reply"]
    assert (str(bare.status), bare.message_key) == ("fail", "interaction.no_channel")


def test_every_sites_turned_links_match_the_truth(results: dict, demo_web: DemoWeb) -> None:
    cases = judged(demo_web, "links_turned")
    assert any(expected["status"] == "fail" for _, expected in cases)
    for sid, expected in cases:
        result = results[sid]["links:turned"]
        assert str(result.status) == expected["status"], (sid, result.message_key, result.metrics)
        if expected["status"] != "error":
            assert sorted(e.url for e in result.evidence) == expected["turned"], sid


def test_a_former_site_now_gambling_and_a_domain_for_sale_are_turned_the_province_is_not(results: dict,
                                                                                        demo_web: DemoWeb) -> None:
    from monitor.demo.updatecases import TURNED
    result = results["longfeng"]["links:turned"]
    kinds = {e.text: e.params["what"] for e in result.evidence}
    assert {text: kinds[text] for text, _, _ in TURNED} == {text: what for text, _, what in TURNED}
    assert not any("ln.gov.test" in e.url for e in result.evidence)


def test_a_host_aliased_to_a_parking_service_is_turned_though_its_page_says_nothing(results: dict,
                                                                                   demo_web: DemoWeb) -> None:
    from monitor.demo.updatecases import PARKING_ALIAS
    [row] = [e for e in results["longfeng"]["links:turned"].evidence if e.text == "龙凤科技网"]
    assert row.params == {"what": "parked", "terms": f"CNAME {PARKING_ALIAS}"}


def test_a_host_whose_domains_nameservers_are_a_parking_services_is_turned_one_with_its_own_is_not(
        results: dict, demo_web: DemoWeb) -> None:
    from monitor.demo.updatecases import PARKING_NS, PLAIN
    evidence = results["longfeng"]["links:turned"].evidence
    [row] = [e for e in evidence if e.text == "龙凤农业网"]
    assert row.params == {"what": "parked", "terms": f"NS {PARKING_NS}"}
    assert not any(PLAIN[1] in e.url for e in evidence)
