"""monitor.resolver against the demo nameserver on 127.0.0.1 (UDP, port chosen at start)."""

from __future__ import annotations

import asyncio
import time

import dns.message
import dns.query
import dns.rcode
import pytest

from monitor.demo import DemoWeb
from monitor.demo.zone import expected_answer
from monitor.outcomes import DnsKind
from monitor.resolver import Answer, Resolver


@pytest.fixture
def resolver(demo_web: DemoWeb) -> Resolver:
    """A fresh resolver (empty cache) aimed at the demo nameserver."""
    return Resolver(["127.0.0.1"], port=demo_web.dns_port, timeout_s=1)


@pytest.mark.parametrize(("name", "rtype", "kind", "addresses", "chain"), [
    pytest.param("www.chaoyang.gov.test", "A", DnsKind.OK, ("127.0.0.1",), (), id="a-record"),
    pytest.param("www.chaoyang.gov.test", "AAAA", DnsKind.OK, ("::1",), (), id="aaaa-record"),
    pytest.param("WWW.Chaoyang.gov.test.", "A", DnsKind.OK, ("127.0.0.1",), (), id="case-and-dot-insensitive"),
    pytest.param("www.beipiao.gov.test", "A", DnsKind.OK, ("127.0.0.1",), ("beipiao.cdn.test", "edge.cdn.test"),
                 id="cname-chain-is-followed-in-order"),
    pytest.param("www.beipiao.gov.test", "AAAA", DnsKind.OK, ("::1",), ("beipiao.cdn.test", "edge.cdn.test"),
                 id="cname-chain-for-aaaa"),
    pytest.param("www.beipiao.gov.test", "CNAME", DnsKind.OK, ("beipiao.cdn.test",), (),
                 id="cname-query-answers-the-alias-itself"),
    pytest.param("chaoyang.gov.test", "NS", DnsKind.OK, ("ns1.chaoyang.gov.test", "ns2.chaoyang.gov.test"), (),
                 id="ns-record"),
    pytest.param("nonexistent.demo.test", "A", DnsKind.NXDOMAIN, (), (), id="nxdomain"),
    pytest.param("dangling.demo.test", "A", DnsKind.NXDOMAIN, (), ("missing.demo.test",),
                 id="cname-to-a-missing-name-is-nxdomain-with-its-chain"),
    pytest.param("split.demo.test", "A", DnsKind.OK, ("127.0.0.1",), ("edge.cdn.test",),
                 id="cname-into-another-zone-is-followed-by-a-second-query"),
    pytest.param("www.cyrsj.gov.test", "A", DnsKind.CNAME_LOOP, (), ("cyrsj.cdn.test", "www.cyrsj.gov.test"),
                 id="cname-loop-in-one-answer-is-a-loop"),
    pytest.param("hrss.ln.gov.test", "AAAA", DnsKind.CNAME_LOOP, (), ("hrss.ln.cdn.test", "hrss.ln.gov.test"),
                 id="cname-loop-across-queries-is-a-loop"),
    pytest.param("www.longcheng.gov.test", "AAAA", DnsKind.NO_ANSWER, (), (), id="no-aaaa-is-no-answer"),
    pytest.param("longcheng.gov.test", "A", DnsKind.NO_ANSWER, (), (), id="empty-non-terminal-exists"),
    pytest.param("servfail.demo.test", "A", DnsKind.SERVFAIL, (), (), id="servfail"),
    pytest.param("refused.demo.test", "A", DnsKind.REFUSED, (), (), id="refused"),
])
def test_resolve_classifies_the_answer(resolver: Resolver, name: str, rtype: str, kind: DnsKind,
                                       addresses: tuple[str, ...], chain: tuple[str, ...]) -> None:
    answer = resolver.resolve(name, rtype)
    assert (answer.kind, answer.addresses, answer.cname_chain) == (kind, addresses, chain)
    assert answer.rtype == rtype
    assert answer.ok is (kind is DnsKind.OK)
    if kind is DnsKind.OK:
        assert answer.ttl == 300
    else:
        assert answer.detail


@pytest.mark.parametrize(("name", "asked"), [
    pytest.param("www.cyrsj.gov.test", {"www.cyrsj.gov.test": 1}, id="one-answer"),
    pytest.param("hrss.ln.gov.test", {"hrss.ln.gov.test": 1, "hrss.ln.cdn.test": 1}, id="across-queries"),
])
def test_a_cname_loop_names_the_loop_and_ends(demo_web: DemoWeb, resolver: Resolver, name: str,
                                              asked: dict[str, int]) -> None:
    before = {n: demo_web.dns_queries[(n, "A")] for n in asked}
    sync = resolver.resolve(name, "A")
    fresh = Resolver(["127.0.0.1"], port=demo_web.dns_port, timeout_s=1)
    async_answer = asyncio.run(fresh.aresolve(name, "A"))
    for answer in (sync, async_answer):
        assert answer.kind is DnsKind.CNAME_LOOP and not answer.ok and not answer.addresses
        assert answer.detail == "CNAME loop: " + " → ".join((name, *answer.cname_chain))
        assert answer.cname_chain[-1] == name
    assert {n: demo_web.dns_queries[(n, "A")] - before[n] for n in asked} == {n: 2 * c for n, c in asked.items()}


def test_the_demo_server_answers_a_loop_as_an_authoritative_server_does(demo_web: DemoWeb) -> None:
    for send in (dns.query.udp, dns.query.tcp):
        response = send(dns.message.make_query("www.cyrsj.gov.test", "A"), "127.0.0.1",
                        port=demo_web.dns_port, timeout=2)
        assert response.rcode() == dns.rcode.NOERROR
        assert sorted((r.name.to_text(), r[0].target.to_text()) for r in response.answer) == [
            ("cyrsj.cdn.test.", "www.cyrsj.gov.test."), ("www.cyrsj.gov.test.", "cyrsj.cdn.test.")]
    alone = dns.query.udp(dns.message.make_query("hrss.ln.gov.test", "A"), "127.0.0.1",
                          port=demo_web.dns_port, timeout=2)
    assert [(r.name.to_text(), r[0].target.to_text()) for r in alone.answer] == [
        ("hrss.ln.gov.test.", "hrss.ln.cdn.test.")], "an alias into another zone is answered alone"
    assert expected_answer(demo_web.zone, "www.cyrsj.gov.test", "A")["kind"] == "cname_loop"


def test_a_silent_nameserver_is_a_timeout_within_the_limit(resolver: Resolver) -> None:
    started = time.monotonic()
    answer = resolver.resolve("timeout.demo.test", "A")
    elapsed = time.monotonic() - started
    assert answer.kind is DnsKind.TIMEOUT
    assert 0.9 <= elapsed < 2.0
    assert "1 s" in answer.detail


def test_an_unreachable_nameserver_is_an_error_not_an_exception() -> None:
    # Port 9 on loopback: nothing listens, the UDP query gets ICMP port unreachable (or silence).
    answer = Resolver(["127.0.0.1"], port=9, timeout_s=0.5).resolve("www.chaoyang.gov.test", "A")
    assert answer.kind in (DnsKind.ERROR, DnsKind.TIMEOUT)
    assert not answer.addresses


@pytest.mark.parametrize(("literal", "rtype", "kind", "addresses"), [
    pytest.param("127.0.0.1", "A", DnsKind.OK, ("127.0.0.1",), id="v4-literal-answers-a"),
    pytest.param("::1", "AAAA", DnsKind.OK, ("::1",), id="v6-literal-answers-aaaa"),
    pytest.param("[::1]", "AAAA", DnsKind.OK, ("::1",), id="bracketed-v6-literal"),
    pytest.param("127.0.0.1", "AAAA", DnsKind.NO_ANSWER, (), id="v4-literal-has-no-aaaa"),
    pytest.param("[::1]", "A", DnsKind.NO_ANSWER, (), id="v6-literal-has-no-a"),
])
def test_ip_literals_answer_themselves_without_a_query(
        demo_web: DemoWeb, resolver: Resolver, literal: str, rtype: str, kind: DnsKind,
        addresses: tuple[str, ...]) -> None:
    before = sum(demo_web.dns_queries.values())
    answer = resolver.resolve(literal, rtype)
    assert (answer.kind, answer.addresses) == (kind, addresses)
    assert asyncio.run(resolver.aresolve(literal, rtype)) == answer
    assert sum(demo_web.dns_queries.values()) == before


@pytest.mark.parametrize("name", ["www.chaoyang.gov.test", "www.beipiao.gov.test", "nonexistent.demo.test",
                                  "www.longcheng.gov.test", "servfail.demo.test"])
def test_sync_and_async_give_the_same_answer(demo_web: DemoWeb, name: str) -> None:
    def essentials(answer: Answer) -> tuple[object, ...]:
        return answer.name, answer.rtype, answer.kind, answer.addresses, answer.cname_chain, answer.ttl

    for rtype in ("A", "AAAA"):
        sync = Resolver(["127.0.0.1"], port=demo_web.dns_port, timeout_s=1).resolve(name, rtype)
        fresh = Resolver(["127.0.0.1"], port=demo_web.dns_port, timeout_s=1)
        assert essentials(asyncio.run(fresh.aresolve(name, rtype))) == essentials(sync)


def test_answers_are_cached_one_query_per_name_and_type(demo_web: DemoWeb, resolver: Resolver) -> None:
    key = ("fgw.chaoyang.gov.test", "A")
    before = demo_web.dns_queries[key]
    first = resolver.resolve(*key)
    assert resolver.resolve("FGW.chaoyang.gov.test.", "a") is first

    async def many() -> list[Answer]:
        return await asyncio.gather(*(resolver.aresolve(*key) for _ in range(5)))

    assert all(answer is first for answer in asyncio.run(many()))
    assert demo_web.dns_queries[key] - before == 1
    assert Resolver(["127.0.0.1"], port=demo_web.dns_port).resolve(*key).addresses == first.addresses
    assert demo_web.dns_queries[key] - before == 2, "a new resolver has its own cache"


def test_concurrent_async_lookups_share_one_query(demo_web: DemoWeb, resolver: Resolver) -> None:
    key = ("yshj.chaoyang.gov.test", "AAAA")
    before = demo_web.dns_queries[key]

    async def many() -> list[Answer]:
        return await asyncio.gather(*(resolver.aresolve(*key) for _ in range(8)))

    answers = asyncio.run(many())
    assert {a.addresses for a in answers} == {("::1",)}
    assert demo_web.dns_queries[key] - before == 1


@pytest.mark.parametrize(("host", "family", "rtype", "kind", "addresses"), [
    pytest.param("www.chaoyang.gov.test", None, "A", DnsKind.OK, ("127.0.0.1",), id="any-family-prefers-a"),
    pytest.param("www.chaoyang.gov.test", 6, "AAAA", DnsKind.OK, ("::1",), id="family-6-asks-aaaa"),
    pytest.param("v6only.demo.test", None, "AAAA", DnsKind.OK, ("::1",), id="no-a-falls-back-to-aaaa"),
    pytest.param("www.longcheng.gov.test", 6, "AAAA", DnsKind.NO_ANSWER, (), id="family-6-never-falls-back"),
    pytest.param("nonexistent.demo.test", None, "A", DnsKind.NXDOMAIN, (), id="nxdomain-asks-no-aaaa"),
])
def test_host_answer_follows_the_family(resolver: Resolver, host: str, family: int | None, rtype: str,
                                        kind: DnsKind, addresses: tuple[str, ...]) -> None:
    answer = asyncio.run(resolver.aresolve_host(host, family))
    assert (answer.rtype, answer.kind, answer.addresses) == (rtype, kind, addresses)
    assert resolver.resolve_host(host, family) == answer


def test_from_config_reads_nameservers_port_and_timeout(demo_web: DemoWeb) -> None:
    class Dns:
        nameservers = ["127.0.0.1"]
        port = demo_web.dns_port
        timeout_s = 1.0

    resolver = Resolver.from_config(Dns())
    assert (resolver.nameservers, resolver.port, resolver.timeout_s) == (("127.0.0.1",), demo_web.dns_port, 1.0)
    assert resolver.resolve("www.shuangta.gov.test", "A").addresses == ("127.0.0.1",)


def test_invalid_names_are_errors_not_exceptions(resolver: Resolver) -> None:
    answer = resolver.resolve("a" * 70 + ".demo.test", "A")
    assert answer.kind is DnsKind.ERROR
    assert "invalid name" in answer.detail
