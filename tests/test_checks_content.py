"""content:privacy and content:wording judge the crawl's screening findings (checks/content.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from checks import REGISTRY
from checks.base import Severity, Status
from checks.snapshot import Finding
from tests import builders as b

PRIVACY = REGISTRY["content:privacy"].func
WORDING = REGISTRY["content:wording"].func
MOBILE = Finding("mobile", "138****0001", "电话 138****0001", count=2)
CARD = Finding("bank_card", "6222********0009", "卡号：6222********0009")
SEVERE = Finding("wording", "国务院办工厅", "根据国务院办工厅通知", "国务院办公厅", "fail", "法定名称")
MINOR = Finding("wording", "按排", "工作按排如下", "安排", "warn", "现代汉语词典")
LISTED = Finding("wording", "VIP通道", "开设VIP通道", "", "warn", "words.txt")


def snap(*findings: tuple[Finding, ...], failed_page: bool = False) -> object:
    pages = [replace(b.page(f"https://www.s1.gov.cn/p{i}.html"), findings=f) for i, f in enumerate(findings)]
    if failed_page:
        pages.append(replace(b.page("https://www.s1.gov.cn/gone.html", status=404, fetch_kind="http_4xx"),
                             findings=(MOBILE,)))
    return b.snapshot(pages=pages)


def test_privacy_fails_on_any_finding_with_masked_evidence() -> None:
    verdict = PRIVACY(snap((MOBILE, SEVERE), (CARD,), ()), {})
    assert (verdict.status, verdict.key) == (Status.FAIL, "found")
    assert {k: verdict.metrics[k] for k in ("pages_screened", "pages_with_findings", "mobile", "bank_card",
                                             "id_card")} == {"pages_screened": 3, "pages_with_findings": 2,
                                                             "mobile": 1, "bank_card": 1, "id_card": 0}
    assert [(e.url, e.actual, e.params["count"]) for e in verdict.evidence] == [
        ("https://www.s1.gov.cn/p0.html", "138****0001", 2), ("https://www.s1.gov.cn/p1.html", "6222********0009", 1)]


@pytest.mark.parametrize(("pages", "status", "key"), [
    (((), ()), Status.PASS, "ok"),
    (((SEVERE,),), Status.PASS, "ok"),
    ((), Status.ERROR, "no_pages"),
], ids=["no-finding-passes", "wording-is-not-privacy", "nothing-crawled-is-an-error"])
def test_privacy_verdicts(pages: tuple[tuple[Finding, ...], ...], status: Status, key: str) -> None:
    verdict = PRIVACY(snap(*pages), {})
    assert (verdict.status, verdict.key) == (status, key)


def test_a_page_that_failed_to_load_is_not_screened() -> None:
    verdict = PRIVACY(snap((), failed_page=True), {})
    assert (verdict.status, verdict.metrics["pages_screened"]) == (Status.PASS, 1)


@pytest.mark.parametrize(("pages", "status", "key", "severity"), [
    (((MINOR, LISTED), (SEVERE,)), Status.FAIL, "severe", None),
    (((MINOR,), (LISTED,)), Status.WARN, "minor", Severity.MINOR),
    (((MOBILE,),), Status.PASS, "ok", None),
], ids=["a-severe-entry-fails", "others-warn", "privacy-is-not-wording"])
def test_wording_verdicts(pages: tuple[tuple[Finding, ...], ...], status: Status, key: str,
                          severity: Severity | None) -> None:
    verdict = WORDING(snap(*pages), {})
    assert (verdict.status, verdict.key, verdict.severity) == (status, key, severity)


def test_wording_evidence_names_wrong_right_and_source_severe_first() -> None:
    verdict = WORDING(snap((MINOR, LISTED), (SEVERE,)), {})
    assert [(e.actual, e.expected, e.key, e.params["source"]) for e in verdict.evidence] == [
        ("国务院办工厅", "国务院办公厅", "wrong", "法定名称"), ("按排", "安排", "wrong", "现代汉语词典"),
        ("VIP通道", None, "listed", "words.txt")]
    assert (verdict.metrics["severe"], verdict.metrics["other"]) == (1, 2)


def test_the_severe_wording_check_is_a_veto() -> None:
    assert REGISTRY["content:wording"].severity is Severity.VETO
