"""links:turned: the shipped term lists and the check on literal snapshots."""

from __future__ import annotations

import pytest

from checks.base import Status
from checks.darklinks import links_turned
from checks.turned import classify, parse
from tests.builders import link, page, snapshot, target

HOME = "https://www.s1.gov.cn/"


@pytest.mark.parametrize(("title", "text", "kind"), [
    pytest.param("澳门新葡京", "真人娱乐 百家乐 在线投注", "gambling", id="gambling-page"),
    pytest.param("葡京娱乐城", "欢迎光临", "gambling", id="one-term-in-the-title"),
    pytest.param("关于开展打击网络赌博专项行动的通知", "严厉打击赌博、博彩违法犯罪活动", "", id="a-notice-about-gambling"),
    pytest.param("example.test", "This domain is for sale. Buy this domain", "parked", id="for-sale"),
    pytest.param("某某文化网", "此域名出售，联系电话", "parked", id="for-sale-zh"),
    pytest.param("成人视频在线", "激情视频", "adult", id="adult"),
    pytest.param("辽宁省人民政府", "政务公开 办事服务", "", id="a-government-portal"),
])
def test_pages_are_classified_by_the_shipped_terms(title: str, text: str, kind: str) -> None:
    found = classify(title, text)
    assert found.split(":")[0] == kind if kind else found == ""
    if kind:
        assert parse("turned: " + found) == (kind, found.split(": ", 1)[1])


def test_off_site_links_to_turned_targets_fail_and_on_site_ones_are_not_judged() -> None:
    bad, good, own = "http://lfly.example/", "http://www.ln.gov.cn/", HOME + "a/"
    snap = snapshot(pages=[page(HOME)],
                    links=[link(HOME, bad, text="旅游网"), link(HOME, good, text="省政府"), link(HOME, own, text="本站")],
                    targets=[target(bad, detail="turned: gambling: 百家乐, 真人娱乐"), target(good),
                             target(own, detail="turned: gambling: 百家乐, 真人娱乐")])
    verdict = links_turned(snap, {})
    assert (verdict.status, verdict.metrics) == (Status.FAIL, {"checked": 2, "count": 1})
    [row] = verdict.evidence
    assert (row.url, row.text, row.params) == (bad, "旅游网", {"what": "gambling", "terms": "百家乐, 真人娱乐"})


def test_a_dead_target_is_not_turned_and_no_page_cannot_be_decided() -> None:
    dead = "http://gone.example/"
    snap = snapshot(pages=[page(HOME)], links=[link(HOME, dead, text="x")],
                    targets=[target(dead, "dns", detail="turned: gambling: 百家乐, 真人娱乐")])
    assert links_turned(snap, {}).status == Status.PASS
    assert links_turned(snapshot(pages=[page(HOME, status=500)]), {}).status == Status.ERROR


@pytest.mark.parametrize(("chain", "found"), [
    pytest.param(("x.sedoparking.com",), "parked: CNAME x.sedoparking.com", id="alias-of-a-parking-service"),
    pytest.param(("a.cdn.test", "PARKINGCREW.NET."), "parked: CNAME parkingcrew.net", id="case-and-root-dot"),
    pytest.param(("edge.cdn.test",), "", id="a-cdn-is-no-parking"),
    pytest.param(("notsedoparking.com",), "", id="a-look-alike-name"),
])
def test_dns_aliases_of_parking_services(chain: tuple[str, ...], found: str) -> None:
    from checks.turned import parked_by_dns
    assert parked_by_dns(chain) == found


@pytest.mark.parametrize(("nameservers", "found"), [
    pytest.param(("ns2.sedoparking.com", "ns1.sedoparking.com"), "parked: NS ns1.sedoparking.com",
                 id="nameservers-of-a-parking-service"),
    pytest.param(("DNS1.PARKINGCREW.NET.",), "parked: NS dns1.parkingcrew.net", id="case-and-root-dot"),
    pytest.param(("ns1.lfsw.test", "ns2.lfsw.test"), "", id="the-domains-own-nameservers"),
    pytest.param(("ns1.notbodis.com",), "", id="a-look-alike-name"),
    pytest.param((), "", id="none"),
])
def test_nameservers_of_parking_services(nameservers: tuple[str, ...], found: str) -> None:
    from checks.turned import parked_by_ns
    assert parked_by_ns(nameservers) == found
