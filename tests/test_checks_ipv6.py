"""ipv6:dns, ipv6:homepage, ipv6:links: verdicts, ratios and evidence on literal snapshots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from checks import PlannedCheck, evaluate
from checks.base import Result, Status
from checks.linktiers import link_tiers
from checks.scope import SiteScope
from checks.snapshot import DnsAnswer, Link, Probe
from tests import builders as b

HOME = "https://www.s1.gov.cn/"
HOST = "www.s1.gov.cn"
AAAA = b.dns(HOST, "AAAA", addresses=["2001:db8::1"])
NO_AAAA = b.dns(HOST, "AAAA", "no_answer")


def judge(check_id: str, *, dns: Iterable[DnsAnswer] = (AAAA,), probes: Iterable[Probe] = (),
          pages: Iterable[Any] = (), links: Iterable[Link] = (), collected: Iterable[str] | None = None,
          params: Mapping[str, Any] | None = None) -> Result:
    snap = b.snapshot(b.site(url=HOME), dns_answers=dns, probes=probes, pages=pages, links=links,
                      collected=collected if collected is not None else
                      ("crawl", "dns", "probe:homepage-v4", "probe:homepage-v6", "probe:links-v6"))
    [result] = evaluate(snap, [PlannedCheck(check_id, check_id, "basis", params or {})])
    return result


# ipv6:dns

def test_dns_passes_with_aaaa_and_reports_the_cname_chain() -> None:
    chained = b.dns(HOST, "AAAA", addresses=["2001:db8::1"], cname_chain=["s1.cdn.example", "edge.cdn.example"])
    result = judge("ipv6:dns", dns=[chained])
    assert result.status is Status.PASS and result.message_key == "ok_chain"
    assert result.metrics["aaaa"] == "2001:db8::1"
    assert result.metrics["cname_chain"] == "s1.cdn.example → edge.cdn.example"


@pytest.mark.parametrize(("kind", "status", "key"), [
    ("no_answer", Status.FAIL, "no_aaaa"), ("nxdomain", Status.FAIL, "nxdomain"),
    ("servfail", Status.FAIL, "servfail"), ("timeout", Status.ERROR, "undecided"),
])
def test_dns_failures_have_distinct_kinds(kind: str, status: Status, key: str) -> None:
    result = judge("ipv6:dns", dns=[b.dns(HOST, "AAAA", kind)])
    assert (result.status, result.message_key, result.metrics["dns_kind"]) == (status, key, kind)


def test_dns_cname_loop_fails_and_names_the_loop() -> None:
    looped = b.dns(HOST, "AAAA", "cname_loop", cname_chain=["s1.cdn.example", HOST])
    result = judge("ipv6:dns", dns=[looped])
    assert (result.status, result.message_key, result.metrics["dns_kind"]) == (Status.FAIL, "cname_loop", "cname_loop")
    assert result.message_params["chain"] == f"{HOST} → s1.cdn.example → {HOST}"


def test_dns_not_queried_is_an_error() -> None:
    assert judge("ipv6:dns", dns=[]).status is Status.ERROR


def test_dns_reports_nameservers_with_aaaa() -> None:
    ns = b.probe("dns-ns", url=HOST, detail={"zone": "s1.gov.cn", "nameservers": {
        "ns1.s1.gov.cn": ["2001:db8::53"], "ns2.s1.gov.cn": []}})
    result = judge("ipv6:dns", probes=[ns])
    assert result.metrics["ns_with_aaaa"] == 1 and result.metrics["ns_total"] == 2
    assert result.metrics["ns_zone"] == "s1.gov.cn"


# ipv6:homepage

def home(family: int, outcome: str = "ok", *, ms: float = 100.0, title: str = "首页", size: int = 5000,
         status: int | None = None, final_url: str = HOME) -> Probe:
    return b.probe(f"homepage-v{family}", outcome, url=HOME, elapsed_ms=ms, title=title, size=size,
                   status=status, final_url=final_url, address="2001:db8::1" if family == 6 else "192.0.2.1")


def test_homepage_passes_when_v6_matches_v4() -> None:
    result = judge("ipv6:homepage", probes=[home(4), home(6, ms=110), home(4), home(6, ms=90), home(4), home(6)])
    assert result.status is Status.PASS, result
    assert result.metrics["v6_median_ms"] == 100.0 and result.metrics["v6_ok"] == 3


def test_homepage_fails_without_a_2xx_over_v6() -> None:
    result = judge("ipv6:homepage", probes=[home(4), home(6, "refused", status=None)])
    assert (result.status, result.message_key) == (Status.FAIL, "v6_down")
    assert result.metrics["v6_outcome"] == "refused"


def test_homepage_without_aaaa_is_an_error_not_a_second_fail() -> None:
    result = judge("ipv6:homepage", dns=[NO_AAAA], probes=[home(4), home(6, "dns", status=None)])
    assert (result.status, result.message_key) == (Status.ERROR, "no_aaaa")


def test_homepage_no_route_on_the_monitor_is_an_error() -> None:
    result = judge("ipv6:homepage", probes=[home(4), home(6, "no_route", status=None)])
    assert (result.status, result.message_key) == (Status.ERROR, "runner.no_route")


@pytest.mark.parametrize("v6", [
    home(6, title="Welcome to nginx!"), home(6, size=600), home(6, status=203),
    home(6, final_url=HOME + "default.html"),
])
def test_homepage_warns_when_v6_serves_something_else(v6: Probe) -> None:
    result = judge("ipv6:homepage", probes=[home(4), v6])
    assert (result.status, result.message_key) == (Status.WARN, "differs"), result


def test_homepage_warns_when_v6_is_over_20_percent_slower() -> None:
    slow = judge("ipv6:homepage", probes=[home(4, ms=1000), home(6, ms=1300)] * 3)
    assert (slow.status, slow.message_key) == (Status.WARN, "slow")
    within = judge("ipv6:homepage", probes=[home(4, ms=1000), home(6, ms=1190)] * 3)
    assert within.status is Status.PASS


def test_a_slow_gap_below_the_configured_floor_is_jitter() -> None:
    probes = [home(4, ms=100), home(6, ms=400)] * 3        # 300 % slower, 300 ms apart
    assert judge("ipv6:homepage", probes=probes).message_key == "slow"
    calm = judge("ipv6:homepage", probes=probes, params={"ipv6_slow_floor_ms": 1500})
    assert (calm.status, calm.message_key) == (Status.PASS, "ok")


# ipv6:links

SEC = [HOME + "a/", HOME + "b/", "https://xxgk.s1.gov.cn/", HOME + "d/"]
TER = [HOME + "a/1.html", HOME + "a/2.html", HOME + "b/1.html"]
OFF = "https://www.gov.cn/"


def crawl() -> tuple[list[Any], list[Link]]:
    pages = [b.page(HOME)] + [b.page(u, depth=1) for u in SEC] + [b.page(u, depth=2) for u in TER]
    links = [b.link(HOME, u) for u in SEC] + [b.link(HOME, OFF), b.link(HOME, HOME), b.link(HOME, HOME + "x.css", tag="link")]
    links += [b.link(SEC[0], TER[0]), b.link(SEC[0], TER[1]), b.link(SEC[1], TER[2]), b.link(SEC[1], SEC[0]),
              b.link(SEC[1], TER[0] + "#top"), b.link(TER[0], HOME + "deep.html")]
    return pages, links


def v6(url: str, outcome: str = "ok") -> Probe:
    return b.probe("links-v6", outcome, url=url, status=None if outcome != "ok" else 200)


def test_tiers_follow_the_definition() -> None:
    pages, links = crawl()
    tiers = link_tiers(b.snapshot(b.site(url=HOME), pages=pages, links=links))
    assert tiers.secondary == tuple(SEC)
    assert tiers.tertiary == tuple(TER)
    assert tiers.offsite == (OFF,)
    scope = SiteScope.of(HOME)
    assert scope.covers("https://xxgk.s1.gov.cn/x") and not scope.covers("https://s1.gov.cn.evil.cn/")


def test_tiers_keep_the_readers_order_whatever_order_the_pages_were_fetched_in() -> None:
    pages, links = crawl()
    home_links = [lk for lk in links if lk.source_url == HOME]
    sources = list(dict.fromkeys(lk.source_url for lk in links if lk.source_url != HOME))[::-1]
    fetched_late_first = home_links + [lk for src in sources for lk in links if lk.source_url == src]   # SEC[1] first
    tiers = link_tiers(b.snapshot(b.site(url=HOME), pages=pages[::-1], links=fetched_late_first))
    assert tiers.tertiary == tuple(TER)
    assert tiers.source[TER[0]] == SEC[0]       # first met on the first secondary page, though stored later


def test_links_ratios_and_failing_targets() -> None:
    pages, links = crawl()
    probes = [v6(SEC[0]), v6(SEC[1]), v6(SEC[2], "dns"), v6(SEC[3]), v6(TER[0]), v6(TER[1]), v6(TER[2], "refused")]
    result = judge("ipv6:links", pages=pages, links=links, probes=probes)
    assert result.status is Status.FAIL
    m = result.metrics
    assert (m["secondary_ok"], m["secondary_total"], m["secondary_ratio"]) == (3, 4, 0.75)
    assert (m["tertiary_ok"], m["tertiary_total"], m["tertiary_ratio"]) == (2, 3, 0.6667)
    assert m["offsite"] == 1
    failing = {(e.url, e.detail) for e in result.evidence if not (e.detail or "").startswith("offsite")}
    assert failing == {(SEC[2], "secondary: dns"), (TER[2], "tertiary: refused")}
    assert [e.url for e in result.evidence if (e.detail or "").startswith("offsite")] == [OFF]


def test_links_pass_at_the_configured_thresholds() -> None:
    pages, links = crawl()
    probes = [v6(u) for u in SEC] + [v6(TER[0]), v6(TER[1]), v6(TER[2], "timeout")]
    result = judge("ipv6:links", pages=pages, links=links, probes=probes,
                   params={"ipv6_secondary_min": 0.9, "ipv6_tertiary_min": 0.6})
    assert result.status is Status.PASS
    assert result.metrics["secondary_ratio"] == 1.0 and result.metrics["tertiary_ratio"] == 0.6667
    strict = judge("ipv6:links", pages=pages, links=links, probes=probes, params={"ipv6_tertiary_min": 0.85})
    assert strict.status is Status.FAIL


def test_links_without_secondary_links_is_an_error() -> None:
    result = judge("ipv6:links", pages=[b.page(HOME)], links=[b.link(HOME, OFF)], probes=[])
    assert (result.status, result.message_key) == (Status.ERROR, "no_links")


def test_links_no_route_is_an_error() -> None:
    pages, links = crawl()
    result = judge("ipv6:links", pages=pages, links=links, probes=[v6(u, "no_route") for u in SEC + TER])
    assert (result.status, result.message_key) == (Status.ERROR, "runner.no_route")


def test_homepage_down_over_both_families_is_left_to_availability() -> None:
    result = judge("ipv6:homepage", probes=[home(4, "http_5xx", status=500), home(6, "http_5xx", status=500)])
    assert (result.status, result.message_key) == (Status.ERROR, "both_down")


def test_links_when_the_homepage_was_not_crawled_is_an_error() -> None:
    result = judge("ipv6:links", pages=[b.page(HOME, status=500, fetch_kind="http_5xx")], links=[], probes=[])
    assert (result.status, result.message_key) == (Status.ERROR, "homepage_failed")
    assert result.message_params == {"kind": "http_5xx 500"}
