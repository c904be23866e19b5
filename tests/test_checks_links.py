"""links:dead: verdicts, metrics and evidence on literal snapshots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from checks import PlannedCheck, evaluate
from checks.base import Result, Severity, Status
from checks.links import EVIDENCE_MAX
from checks.snapshot import Link, LinkTarget
from tests import builders as b

HOME = "https://www.s1.gov.cn/"
INDEX = HOME + "index.html"
LIST = HOME + "xwdt/"
ARTICLE = HOME + "xwdt/t1.html"
PAGES = [b.page(HOME), b.page(LIST, depth=1), b.page(ARTICLE, depth=2)]


def judge(links: Iterable[Link], targets: Iterable[LinkTarget], *, pages: Iterable[Any] = PAGES,
          params: Mapping[str, Any] | None = None, collected: Iterable[str] = ("crawl", "probe:links")) -> Result:
    snap = b.snapshot(b.site(url=HOME), pages=pages, links=links, targets=targets, collected=collected)
    [result] = evaluate(snap, [PlannedCheck("links:dead", "links:dead", "basis", params or {})])
    return result


def ok(url: str) -> LinkTarget:
    return b.target(url)


def dead(url: str, outcome: str = "http_4xx", status: int | None = 404, final_url: str | None = None) -> LinkTarget:
    return b.target(url, outcome, http_status=status, final_url=final_url)


def deep_dead(n: int) -> tuple[list[Link], list[LinkTarget]]:
    urls = [f"{HOME}old/{i}.html" for i in range(n)]
    return [b.link(ARTICLE, u, text=f"旧文{i}") for i, u in enumerate(urls)], [dead(u) for u in urls]


@pytest.mark.parametrize(("links", "targets", "status", "key"), [
    pytest.param([b.link(HOME, LIST), b.link(LIST, ARTICLE)], [ok(LIST), ok(ARTICLE)], Status.PASS, "ok",
                 id="all-links-work"),
    pytest.param([b.link(HOME, LIST), b.link(HOME, HOME + "logo.png", tag="img")],
                 [ok(LIST), dead(HOME + "logo.png")], Status.FAIL, "homepage_dead", id="dead-image-on-homepage-fails"),
    pytest.param([b.link(HOME, LIST), b.link(ARTICLE, HOME + "gone.html")], [ok(LIST), dead(HOME + "gone.html")],
                 Status.WARN, "few_dead", id="one-deep-dead-link-warns"),
    pytest.param(*deep_dead(5), Status.WARN, "few_dead", id="five-deep-dead-links-warn"),
    pytest.param(*deep_dead(6), Status.FAIL, "dead", id="six-deep-dead-links-fail"),
    pytest.param([b.link(HOME, LIST), b.link(LIST, "https://waf.example.cn/"),
                  b.link(LIST, "https://busy.example.cn/")],
                 [ok(LIST), b.target("https://waf.example.cn/", "blocked", http_status=412),
                  b.target("https://busy.example.cn/", "rate_limited", http_status=429)],
                 Status.PASS, "ok_refused", id="blocked-and-rate-limited-are-not-dead"),
    pytest.param([b.link(HOME, "https://waf.example.cn/")], [b.target("https://waf.example.cn/", "blocked")],
                 Status.ERROR, "not_checked", id="only-blocked-targets-cannot-decide"),
    pytest.param([b.link(HOME, LIST)], [], Status.ERROR, "not_checked", id="no-target-results-cannot-decide"),
    pytest.param([], [], Status.ERROR, "no_links", id="no-links-cannot-decide"),
    pytest.param([b.link(HOME, LIST), b.link(HOME, "http://10.0.0.1/", tag="a")],
                 [ok(LIST), b.target("http://10.0.0.1/", "disallowed")], Status.PASS, "ok_partial",
                 id="unchecked-target-is-not-dead-and-is-said"),
    pytest.param([b.link(HOME, HOME + "admin/"), b.link(HOME, HOME + "cgi/")],
                 [b.target(HOME + "admin/", "robots", attempts=0), b.target(HOME + "cgi/", "robots", attempts=0)],
                 Status.ERROR, "not_checked", id="only-robots-refused-targets-cannot-decide"),
    pytest.param([b.link(HOME, LIST), b.link(HOME, HOME + "far.html")],
                 [ok(LIST), b.target(HOME + "far.html", "over_limit", attempts=0)], Status.PASS, "ok_partial",
                 id="targets-past-the-bound-are-said"),
])
def test_verdict(links: list[Link], targets: list[LinkTarget], status: Status, key: str) -> None:
    result = judge(links, targets)
    assert (result.status, result.message_key) == (status, key)


@pytest.mark.parametrize("kind", ["http_4xx", "http_5xx", "dns", "refused", "timeout", "tls", "redirect_loop",
                                  "too_many_redirects", "soft_404", "reset"])
def test_every_dead_kind_counts(kind: str) -> None:
    result = judge([b.link(ARTICLE, HOME + "x.html")], [dead(HOME + "x.html", kind, None)])
    assert result.metrics["dead_by_kind"] == {kind: 1}


@pytest.mark.parametrize("kind", ["ok", "blocked", "rate_limited", "unsupported", "disallowed", "no_route"])
def test_not_dead_kinds_do_not_count(kind: str) -> None:
    result = judge([b.link(HOME, LIST), b.link(ARTICLE, HOME + "x.html")], [ok(LIST), b.target(HOME + "x.html", kind)])
    assert result.metrics["dead"] == 0 and result.status == Status.PASS


def test_robots_refused_and_unchecked_targets_never_count_as_checked() -> None:
    refused, far, mail = HOME + "admin/", HOME + "far.html", "mailto:a@s1.gov.cn"
    links = [b.link(HOME, LIST), b.link(HOME, refused), b.link(LIST, far), b.link(LIST, mail), b.link(LIST, ARTICLE)]
    targets = [ok(LIST), b.target(refused, "robots", attempts=0), b.target(far, "over_limit", attempts=0),
               b.target(mail, "unsupported", attempts=0)]   # ARTICLE has no result at all
    result = judge(links, targets)
    assert (result.status, result.message_key) == (Status.PASS, "ok_partial")
    assert {k: result.metrics[k] for k in ("checked", "robots", "unchecked", "over_limit")} == {
        "checked": 1, "robots": 1, "unchecked": 3, "over_limit": 1}
    assert {k: result.message_params[k] for k in ("checked", "not_checked", "robots", "over_limit", "other")} == {
        "checked": 1, "not_checked": 4, "robots": 1, "over_limit": 1, "other": 2}


def test_failed_homepage_cannot_be_judged() -> None:
    result = judge([], [], pages=[b.page(HOME, status=None, fetch_kind="timeout")])
    assert (result.status, result.message_key, result.message_params) == (Status.ERROR, "homepage_failed",
                                                                           {"kind": "timeout"})


def test_threshold_comes_from_the_config() -> None:
    links, targets = deep_dead(8)
    assert judge(links, targets).status == Status.FAIL
    assert judge(links, targets, params={"links_dead_minor_max": 10}).status == Status.WARN


def test_metrics_count_distinct_targets_and_homepage_apart() -> None:
    gone, img, ext = HOME + "gone.html", HOME + "a.png", "https://ext.example.cn/"
    links = [b.link(HOME, LIST), b.link(HOME, gone, text="通知"), b.link(LIST, gone, text="通知"),
             b.link(ARTICLE, img, tag="img"), b.link(ARTICLE, ext), b.link(ARTICLE, "mailto:a@s1.gov.cn")]
    targets = [ok(LIST), dead(gone), dead(img, "soft_404", 200), dead(ext, "dns", None),
               b.target("mailto:a@s1.gov.cn", "unsupported", attempts=0)]
    result = judge(links, targets)
    assert result.status == Status.FAIL and result.message_key == "homepage_dead"
    assert result.metrics == {"checked": 4, "dead": 3, "dead_links": 4,
                              "dead_by_kind": {"dns": 1, "http_4xx": 1, "soft_404": 1},
                              "homepage_dead": 1, "blocked": 0, "rate_limited": 0, "unchecked": 1,
                              "robots": 0, "over_limit": 0, "evidence_shown": 4}
    assert result.message_params["homepage_dead"] == 1 and result.message_params["dead"] == 3


def test_one_evidence_line_per_source_and_target_homepage_first_then_crawl_order() -> None:
    gone = HOME + "gone.html"
    moved = HOME + "moved.html"
    links = [b.link(ARTICLE, gone, text="通知"),
             b.link(HOME, gone, text="", context="nav"), b.link(HOME, gone, text="通知公告", context="footer"),
             b.link(LIST, moved, tag="a", text="")]
    targets = [dead(gone), dead(moved, final_url=HOME + "404.html")]
    result = judge(links, targets)
    got = [(e.url, e.source, e.detail, e.text, e.actual) for e in result.evidence]
    assert got == [(gone, HOME, "http_4xx 404", "通知公告", None),
                   (moved, LIST, "http_4xx 404", "<a>", HOME + "404.html"),
                   (gone, ARTICLE, "http_4xx 404", "通知", None)]


def test_evidence_of_a_network_failure_carries_its_reason() -> None:
    loop, stall = "https://old.example.cn/", "https://ca.example.cn/"
    reason = "A old.example.cn: cname_loop CNAME loop: old.example.cn → cdn.example.net → old.example.cn"
    targets = [b.target(loop, "dns", detail=reason),
               b.target(stall, "timeout", detail="handshake: TLS handshake stalled: no answer to the ClientHello")]
    result = judge([b.link(HOME, loop, text="旧站"), b.link(HOME, stall, text="CA")], targets)
    details = {e.url: e.detail for e in result.evidence}
    assert details == {loop: f"dns — {reason}",
                       stall: "timeout — handshake: TLS handshake stalled: no answer to the ClientHello"}


def test_evidence_is_capped_with_the_total_in_metrics() -> None:
    links, targets = deep_dead(EVIDENCE_MAX + 30)
    result = judge(links, targets)
    assert len(result.evidence) == EVIDENCE_MAX
    assert (result.metrics["dead_links"], result.metrics["evidence_shown"]) == (EVIDENCE_MAX + 30, EVIDENCE_MAX)


def test_evidence_names_the_page_a_reader_lands_on() -> None:
    pages = [b.page(HOME, final_url=INDEX, redirect_chain=[HOME]), b.page(LIST, depth=1)]
    result = judge([b.link(HOME, HOME + "gone.html", text="通知")], [dead(HOME + "gone.html")], pages=pages)
    assert [(e.url, e.source) for e in result.evidence] == [(HOME + "gone.html", INDEX)]
    assert result.metrics["homepage_dead"] == 1


def test_redirected_homepage_links_count_as_homepage() -> None:
    pages = [b.page(HOME), b.page(INDEX, depth=1), b.page(LIST, depth=2)]
    links = [b.link(HOME, INDEX, tag="meta-refresh"), b.link(INDEX, HOME + "banner.jpg", tag="img"),
             b.link(INDEX, LIST), b.link(LIST, HOME + "gone.html")]
    targets = [ok(INDEX), ok(LIST), dead(HOME + "banner.jpg"), dead(HOME + "gone.html")]
    result = judge(links, targets, pages=pages)
    assert result.message_key == "homepage_dead" and result.metrics["homepage_dead"] == 1


def test_targets_of_other_sites_do_not_leak_in() -> None:
    result = judge([b.link(HOME, LIST)], [ok(LIST), dead("https://other.example.cn/")])
    assert (result.status, result.metrics["dead"], result.metrics["checked"]) == (Status.PASS, 0, 1)


def test_needs_the_link_probe_and_is_major() -> None:
    result = judge([b.link(HOME, LIST)], [ok(LIST)], collected=("crawl",))
    assert (result.status, result.message_key) == (Status.ERROR, "runner.missing_input")
    assert result.severity == Severity.MAJOR
