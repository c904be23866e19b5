"""link:, document: and pairing: requirements on a full demo run against the demo truth (the session's
`demo_run`; the truth: monitor/demo/dutycases.py)."""

import json
from pathlib import Path

import pytest

from monitor import pipeline
from monitor.demo import DemoWeb

FAMILIES = ("link:", "document:", "pairing:")


@pytest.fixture(scope="module")
def duties(demo_run: tuple[pipeline.RunOutcome, Path]) -> dict[str, dict[str, object]]:
    outcome, work = demo_run
    assert outcome.results is not None, outcome.error
    found = {site: {r.check_id: r for r in rs if r.check_id.startswith(FAMILIES)}
             for site, rs in outcome.results.results.items()}
    found["__json__"] = json.loads((work / "result.json").read_text(encoding="utf-8"))
    found["__reports__"] = work / "reports"
    return found


def expected(demo_web: DemoWeb) -> dict[str, dict[str, dict]]:
    return {sid: entry["requirements"] for sid, entry in demo_web.truth["sites"].items() if entry["listed"]}


def test_every_verdict_of_the_new_requirement_types_matches_the_truth(duties: dict, demo_web: DemoWeb) -> None:
    truth = expected(demo_web)
    assert sum(len(t) for t in truth.values()) > 60
    for sid, checks in truth.items():
        assert set(duties[sid]) == set(checks), sid
        for check_id, want in checks.items():
            result = duties[sid][check_id]
            assert str(result.status) == want["status"], (sid, check_id, result.message_key, dict(result.metrics))


def test_service_links_are_found_where_the_truth_puts_them_and_dead_ones_fail(duties: dict,
                                                                            demo_web: DemoWeb) -> None:
    for sid, checks in expected(demo_web).items():
        want = checks.get("link:tax_12366")
        if not want or want["status"] == "error":
            continue
        result = duties[sid]["link:tax_12366"]
        assert result.message_key == {None: "link.ok", "missing": "link.missing", "dead": "link.dead"}[want["reason"]]
        if want["url"]:
            assert (result.metrics["url"], result.metrics["found_on"], result.metrics["text"]) == (
                want["url"], want["source"], want["text"]), sid
    model = duties["chaoyang"]["link:tax_12366"]
    assert (model.evidence[0].key, model.metrics["depth"]) == ("found", 0)
    dead = duties["longcheng"]["link:tax_12366"]
    assert dead.message_key == "link.dead" and dead.evidence[0].key == "dead"
    assert dead.message_params["kind"] == "http_4xx 404"


def test_yearly_documents_are_dated_and_judged_as_the_truth(duties: dict, demo_web: DemoWeb) -> None:
    reasons = {None: "document.ok", "missing": "document.missing", "late": "document.late"}
    seen = set()
    for sid, checks in expected(demo_web).items():
        want = checks.get("document:annual_report")
        if not want or want["status"] == "error":
            continue
        result = duties[sid]["document:annual_report"]
        assert result.message_key == reasons[want["reason"]], sid
        assert (result.metrics["year"], result.metrics["due"]) == (want["year"], want["due"])
        if want["url"]:
            assert (result.metrics["url"], result.metrics["published"]) == (want["url"], want["published"]), sid
        seen.add(want["reason"])
    assert seen == {None, "missing", "late"}
    assert duties["chaoyang"]["document:annual_report"].message_key == "document.ok"
    assert duties["beipiao"]["document:annual_report"].message_key == "document.late"


def test_pairing_lists_exactly_the_unpaired_documents_of_the_truth(duties: dict, demo_web: DemoWeb) -> None:
    for sid, checks in expected(demo_web).items():
        want = checks.get("pairing:policy_interpretation")
        if not want or want["status"] == "error":
            continue
        result = duties[sid]["pairing:policy_interpretation"]
        if want["reason"] == "no_column":
            assert result.message_key == "pairing.no_column", sid
            continue
        unpaired = sorted(e.url for e in result.evidence if e.key == "unpaired")
        paired = sorted(e.url for e in result.evidence if e.key == "paired")
        assert (unpaired, paired) == (want["unpaired"], want["paired"]), sid
        assert result.metrics["examined"] == want["examined"], sid
    partly = duties["shuangta"]["pairing:policy_interpretation"]
    assert (str(partly.status), partly.metrics["paired"], partly.metrics["unpaired"]) == ("fail", 1, 3)
    model = duties["chaoyang"]["pairing:policy_interpretation"]
    assert (str(model.status), model.metrics["paired"], model.metrics["examined"]) == ("pass", 4, 4)


def test_the_json_and_the_report_show_the_new_checks_like_the_others(duties: dict) -> None:
    doc = duties["__json__"]
    assert doc["schema"] == "govmon.result/1"
    chaoyang = next(s for s in doc["sites"] if s["id"] == "chaoyang")
    ids = {c["id"]: c for c in chaoyang["checks"]}
    assert {"link:tax_12366", "document:annual_report", "pairing:policy_interpretation"} <= set(ids)
    assert ids["document:annual_report"]["basis"] == "五(三)；政府信息公开条例第五十条"
    page = next(duties["__reports__"].rglob("shuangta.html")).read_text(encoding="utf-8")
    assert "政策文件与解读关联" in page and "12366纳税服务平台" in page and "政府信息公开工作年度报告" in page
