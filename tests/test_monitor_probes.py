"""monitor.probes on a small loopback web: IPv4/IPv6 homepage probes, links over IPv6, nameservers, TLS.

The lab web below serves plain HTTP on 127.0.0.1 and [::1] (one port), a second
port on 127.0.0.1 only (IPv6 refused), and HTTPS with certificates from a CA
made at test time, chosen by SNI. Only loopback addresses are used; the route
check is always passed in, never the default.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import trustme
from sqlalchemy.orm import Session

from checks import PlannedCheck, evaluate, probe_plan
from checks import https, ipv6  # noqa: F401  (registers the checks until checks/__init__ imports them)
from checks.base import Status
from checks.snapshot import Link, Page, Probe
from monitor import probes, store
from monitor.config import Crawl
from monitor.demo import DemoWeb
from monitor.demo.dnsserver import DnsServer
from monitor.demo.faultcases import TLS_GARBAGE, TLS_STALL
from monitor.demo.httpserver import bind_listeners
from monitor.demo.selfsigned import self_signed_context
from monitor.demo.spec import DnsSpec
from monitor.fetch import Fetcher
from monitor.prefetch import LinksV6Prefetch
from monitor.resolver import Resolver
from monitor.tlsprobe import tls_probe
from tests import builders as b

ZONE = {
    "dual.test": DnsSpec.dual(), "v4only.test": DnsSpec.v4_only(), "refuse6.test": DnsSpec.dual(),
    "diff.test": DnsSpec.dual(), "alias.test": DnsSpec.alias("edge.test"), "edge.test": DnsSpec.dual(),
    "www.portal.test": DnsSpec.dual(), "xxgk.portal.test": DnsSpec.v4_only(),
    "site.test": DnsSpec.zone_apex("ns1.site.test", "ns2.site.test"), "ns1.site.test": DnsSpec.dual(),
    "ns2.site.test": DnsSpec.v4_only(), "www.site.test": DnsSpec.dual(),
    **{h: DnsSpec.dual() for h in ("redir.test", "good.test", "expired.test", "mismatch.test", "self.test",
                                   "soon.test")},
}


class LabWeb:
    """DNS, HTTP (both families), HTTP on 127.0.0.1 only, and HTTPS (both families) in one background loop."""

    def __init__(self, ca: trustme.CA, folder: Path) -> None:
        self.ca_file = folder / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        now = dt.datetime.now(dt.UTC)
        self.contexts = {host: self._context(ca.issue_cert(host)) for host in ("good.test", "redir.test")}
        self.contexts["expired.test"] = self._context(ca.issue_cert(
            "expired.test", not_before=now - dt.timedelta(days=60), not_after=now - dt.timedelta(days=2)))
        self.contexts["soon.test"] = self._context(ca.issue_cert("soon.test", not_after=now + dt.timedelta(days=10,
                                                                                                          hours=1)))
        self.contexts["mismatch.test"] = self._context(ca.issue_cert("other.test"))
        self.contexts["self.test"] = self_signed_context(("self.test",))
        self.hits: Counter[tuple[int, str, str]] = Counter()
        self.dns = DnsServer(ZONE)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.servers: list[asyncio.Server] = []

    @staticmethod
    def _context(cert: trustme.LeafCert) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        return context

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    def stop(self) -> None:
        async def close() -> None:
            for server in self.servers:
                server.close()
            await self.dns.close()
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _start(self) -> None:
        self.dns_port = await self.dns.start()
        tls = self.contexts["good.test"]      # the default; SNI picks the others
        tls.sni_callback = self._sni
        plain, v4only, secure = bind_listeners(True), bind_listeners(False), bind_listeners(True)
        self.http_port, self.v4only_port = plain[0].getsockname()[1], v4only[0].getsockname()[1]
        self.https_port = secure[0].getsockname()[1]
        for sock in plain + v4only:
            self.servers.append(await asyncio.start_server(self._serve, sock=sock))
        for sock in secure:
            self.servers.append(await asyncio.start_server(self._serve, sock=sock, ssl=tls))

    def _sni(self, sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
        if name in self.contexts:
            sock.context = self.contexts[name]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        path = head.split(" ", 2)[1]
        host = next((line.split(":", 1)[1].strip() for line in head.split("\r\n") if line.lower().startswith("host:")),
                    "")
        host = host.rsplit(":", 1)[0] if not host.startswith("[") else host
        family = 6 if len(writer.get_extra_info("sockname")) == 4 else 4
        secure = writer.get_extra_info("ssl_object") is not None
        self.hits[(family, host, path)] += 1
        status, headers, body = self.respond(host, path, family, secure)
        lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Content-Type: text/html; charset=utf-8",
                 "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        writer.close()

    def respond(self, host: str, path: str, family: int, secure: bool) -> tuple[int, dict[str, str], bytes]:
        if host == "redir.test" and not secure:
            return 301, {"Location": f"https://redir.test:{self.https_port}/"}, b""
        if host == "diff.test" and family == 6:
            return 200, {}, b"<html><title>Welcome to nginx!</title></html>"
        if path == "/robots.txt" and host == "www.portal.test":
            return 200, {}, b"User-agent: *\nDisallow: /hdjl/\n"
        if path.startswith("/missing"):
            return 404, {}, b"<title>404</title>"
        title = f"{host} {path}"
        return 200, {}, f"<html><title>{title}</title><body>{'x' * 2000}</body></html>".encode()

    def url(self, host: str, path: str = "/", port: int | None = None, scheme: str = "http") -> str:
        return f"{scheme}://{host}:{port or (self.https_port if scheme == 'https' else self.http_port)}{path}"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def lab(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabWeb]:
    web = LabWeb(ca, tmp_path_factory.mktemp("lab"))
    web.start()
    yield web
    web.stop()


def collect(lab: LabWeb, targets: Sequence[probes.ProbeTarget], *, route: bool = True,
            count: int = 3) -> probes.Collected:
    crawl = Crawl(timeout_s=2, retries=0, allowed_networks=["127.0.0.0/8", "::1/128"],
                  ca_bundle=str(lab.ca_file))
    resolver = Resolver(["127.0.0.1"], port=lab.dns_port, timeout_s=1)
    return asyncio.run(probes.collect(targets, resolver=resolver, crawl=crawl, clock=b.utcnow,
                                      has_ipv6_route=lambda: route, ipv6_probe_count=count))


def target(lab: LabWeb, host: str, needs: Sequence[str], *, url: str | None = None, site_id: str | None = None,
           pages: Sequence[Page] | None = None, links: Sequence[Link] = ()) -> probes.ProbeTarget:
    """A site to probe; with `pages`, its crawl, planned as the pipeline does (checks.probe_plan)."""
    site = b.site(site_id or host.split(".")[0], url=url or lab.url(host))
    plan = None if pages is None else probe_plan(b.snapshot(site, pages=pages, links=links, collected={"crawl"}),
                                                 [PlannedCheck("ipv6:links", "ipv6:links", "basis", {})])
    return probes.ProbeTarget(site, Crawl(timeout_s=2, retries=0), frozenset(needs), plan)


def verdict(check_id: str, got: probes.Collected, t: probes.ProbeTarget, pages: Sequence[Page] = (),
            links: Sequence[Link] = ()) -> tuple[Status, str]:
    snap = b.snapshot(t.site, probes=got.probes.get(t.site.id, ()), dns_answers=got.dns,
                      pages=pages, links=links, collected=got.collected[t.site.id] | {"crawl"})
    [result] = evaluate(snap, [PlannedCheck(check_id, check_id, "basis", {})])
    return result.status, result.message_key


HOME_NEEDS = ("dns", "probe:homepage-v4", "probe:homepage-v6")


def of(got: probes.Collected, site_id: str, kind: str) -> list[Probe]:
    return [p for p in got.probes[site_id] if p.kind == kind]


def test_homepage_is_probed_per_family_and_compared(lab: LabWeb) -> None:
    ts = [target(lab, "dual.test", HOME_NEEDS), target(lab, "diff.test", HOME_NEEDS),
          target(lab, "v4only.test", HOME_NEEDS), target(lab, "alias.test", HOME_NEEDS),
          target(lab, "refuse6.test", HOME_NEEDS, url=lab.url("refuse6.test", port=lab.v4only_port))]
    got = collect(lab, ts)
    v6 = of(got, "dual", "homepage-v6")
    assert len(v6) == 3 and len(of(got, "dual", "homepage-v4")) == 3
    assert {p.address for p in v6} == {"::1"} and {p.address for p in of(got, "dual", "homepage-v4")} == {"127.0.0.1"}
    assert lab.hits[(6, "dual.test", "/")] == 3
    assert [verdict("ipv6:homepage", got, t) for t in ts] == [
        (Status.PASS, "ok"), (Status.WARN, "differs"), (Status.ERROR, "no_aaaa"), (Status.PASS, "ok"),
        (Status.FAIL, "v6_down")]
    assert {p.outcome for p in of(got, "refuse6", "homepage-v6")} == {"refused"}
    assert [verdict("ipv6:dns", got, t)[0] for t in ts] == [Status.PASS, Status.PASS, Status.FAIL, Status.PASS,
                                                            Status.PASS]
    alias = next(d for d in got.dns if d.name == "alias.test" and d.rtype == "AAAA")
    assert alias.cname_chain == ("edge.test",) and alias.addresses == ("::1",)


def test_no_ipv6_route_sends_nothing_and_makes_errors(lab: LabWeb) -> None:
    before = sum(n for (family, host, _), n in lab.hits.items() if family == 6 and host == "www.site.test")
    pages, links = (b.page(lab.url("www.site.test")),), (b.link(lab.url("www.site.test"), lab.url("www.site.test", "/a/")),)
    t = target(lab, "www.site.test", (*HOME_NEEDS, "crawl", "probe:links-v6"), pages=pages, links=links)
    got = collect(lab, [t], route=False)
    assert {p.outcome for p in of(got, "www", "homepage-v6")} == {"no_route"}
    assert {p.outcome for p in of(got, "www", "links-v6")} == {"no_route"}
    assert sum(n for (family, host, _), n in lab.hits.items() if family == 6 and host == "www.site.test") == before
    assert verdict("ipv6:homepage", got, t) == (Status.ERROR, "runner.no_route")
    assert verdict("ipv6:links", got, t, pages, links) == (Status.ERROR, "runner.no_route")


def test_nameservers_with_aaaa_are_reported(lab: LabWeb) -> None:
    got = collect(lab, [target(lab, "www.site.test", ("dns",))])
    [ns] = of(got, "www", "dns-ns")
    assert ns.detail["zone"] == "site.test"
    assert ns.detail["nameservers"] == {"ns1.site.test": ["::1"], "ns2.site.test": []}


def test_links_over_ipv6_give_exact_ratios(lab: LabWeb) -> None:
    home = lab.url("www.portal.test")
    secondary = [lab.url("www.portal.test", "/zwgk/"), lab.url("www.portal.test", "/xwdt/"),
                 lab.url("xxgk.portal.test", "/"), lab.url("www.portal.test", "/bsfw/", port=lab.v4only_port)]
    tertiary = [lab.url("www.portal.test", "/zwgk/1.html"), lab.url("www.portal.test", "/missing/1.html")]
    offsite, refused = lab.url("dual.test", "/"), lab.url("www.portal.test", "/hdjl/")
    pages = (b.page(home), *(b.page(u, depth=1) for u in secondary), *(b.page(u, depth=2) for u in tertiary))
    links = (*(b.link(home, u) for u in [*secondary, offsite, refused]), b.link(secondary[0], tertiary[0]),
             b.link(secondary[1], tertiary[1]), b.link(secondary[1], secondary[0]))
    ts = [target(lab, "www.portal.test", ("crawl", "probe:links-v6"), site_id=s, pages=pages, links=links)
          for s in ("portal", "portal-twin")]
    got = collect(lab, ts)
    by_url = {p.url: p for p in of(got, "portal", "links-v6")}
    assert set(by_url) == {*secondary, *tertiary, refused}
    assert by_url[refused].outcome == "robots" and lab.hits[(6, "www.portal.test", "/hdjl/")] == 0
    assert {u: by_url[u].outcome for u in secondary[2:]} == {secondary[2]: "dns", secondary[3]: "refused"}
    assert by_url[tertiary[1]].outcome == "http_4xx" and by_url[tertiary[0]].detail["level"] == "tertiary"
    assert lab.hits[(6, "www.portal.test", "/zwgk/")] == 1      # two sites link to it: fetched once
    snap = b.snapshot(ts[0].site, pages=pages, links=links, probes=got.probes["portal"],
                      collected={"crawl", "probe:links-v6"})
    [result] = evaluate(snap, [PlannedCheck("ipv6:links", "ipv6:links", "basis", {})])
    m = result.metrics
    assert (result.status, m["secondary_ok"], m["secondary_total"], m["secondary_ratio"]) == (Status.FAIL, 2, 4, 0.5)
    assert (m["tertiary_ok"], m["tertiary_total"], m["tertiary_ratio"], m["offsite"]) == (1, 2, 0.5, 1)
    assert m["unprobed"] == 1                                     # refused by robots.txt: never requested


def test_a_prober_fetches_a_link_once_across_its_windows(lab: LabWeb) -> None:
    home, shared = lab.url("www.portal.test"), lab.url("www.portal.test", "/xwdt/")
    pages, links = (b.page(home), b.page(shared, depth=1)), (b.link(home, shared),)
    windows = [[target(lab, "www.portal.test", ("crawl", "probe:links-v6"), site_id=s, pages=pages, links=links)]
               for s in ("first", "second")]
    crawl = Crawl(timeout_s=2, retries=0, allowed_networks=["127.0.0.0/8", "::1/128"])
    before = lab.hits[(6, "www.portal.test", "/xwdt/")]

    async def go() -> list[probes.Collected]:
        prober = probes.Prober(resolver=Resolver(["127.0.0.1"], port=lab.dns_port, timeout_s=1), crawl=crawl,
                               clock=b.utcnow, has_ipv6_route=lambda: True)
        try:
            return [await prober.collect(window) for window in windows]
        finally:
            await prober.aclose()

    first, second = asyncio.run(go())
    assert [(p.url, p.outcome) for p in of(first, "first", "links-v6")] == [(shared, "ok")]
    assert [(p.url, p.outcome) for p in of(second, "second", "links-v6")] == [(shared, "ok")]
    assert lab.hits[(6, "www.portal.test", "/xwdt/")] == before + 1


def test_links_v6_is_not_collected_without_the_crawl(lab: LabWeb) -> None:
    got = collect(lab, [target(lab, "dual.test", ("crawl", "probe:links-v6"))])
    assert "probe:links-v6" not in got.collected["dual"]


@pytest.mark.parametrize(("host", "outcome", "tls_error", "status", "key"), [
    ("good.test", "ok", None, Status.PASS, "ok"),
    ("expired.test", "tls", "expired", Status.FAIL, "expired"),
    ("mismatch.test", "tls", "hostname_mismatch", Status.FAIL, "mismatch"),
    ("self.test", "tls", "self_signed", Status.FAIL, "self_signed"),
    ("soon.test", "ok", None, Status.WARN, "expiring"),
])
def test_tls_certificates(lab: LabWeb, host: str, outcome: str, tls_error: str | None, status: Status,
                          key: str) -> None:
    t = target(lab, host, ("probe:tls",), url=lab.url(host, scheme="https"))
    got = collect(lab, [t])
    [probe] = of(got, host.split(".")[0], "tls")
    assert (probe.outcome, probe.detail.get("tls_error")) == (outcome, tls_error)
    assert probe.detail["protocol"].startswith("TLSv1.")
    assert probe.detail["redirects_to_https"] is None      # an explicit HTTPS port: the HTTP twin is unknown
    assert verdict("https", got, t) == (status, key)


def test_tls_days_left_and_names(lab: LabWeb) -> None:
    got = collect(lab, [target(lab, "soon.test", ("probe:tls",), url=lab.url("soon.test", scheme="https")),
                        target(lab, "mismatch.test", ("probe:tls",), url=lab.url("mismatch.test", scheme="https"))])
    [soon], [mismatch] = of(got, "soon", "tls"), of(got, "mismatch", "tls")
    left = dt.datetime.fromisoformat(soon.detail["not_after"]) - dt.datetime.now(dt.UTC)
    assert left.days == 10
    assert mismatch.detail["names"] == ["other.test"]


def test_http_redirect_to_https_is_followed_to_the_certificate(lab: LabWeb) -> None:
    t = target(lab, "redir.test", ("probe:tls",))
    got = collect(lab, [t])
    [probe] = of(got, "redir", "tls")
    assert probe.detail["redirects_to_https"] is True
    assert probe.url == f"https://redir.test:{lab.https_port}/" and probe.outcome == "ok"
    assert verdict("https", got, t) == (Status.PASS, "ok")


def test_plain_http_site_without_https_warns(lab: LabWeb) -> None:
    t = target(lab, "dual.test", ("probe:tls",))
    got = collect(lab, [t])
    [probe] = of(got, "dual", "tls")
    assert probe.detail["redirects_to_https"] is False and probe.url == "https://dual.test/"
    assert verdict("https", got, t) == (Status.WARN, "no_https")


def test_route_check_follows_the_allowed_networks() -> None:
    assert probes.route_check_for(["127.0.0.0/8"])() is False
    assert probes.route_check_for(["127.0.0.0/8", "::1/128"])() is True
    # Unfenced (or ::/0): the global check, which is only named here, never called.
    assert probes.route_check_for([]) is probes.has_ipv6_route
    assert probes.route_check_for(["::/0"]) is probes.has_ipv6_route


def test_a_site_listed_twice_is_probed_once(lab: LabWeb) -> None:
    before = lab.hits[(4, "v4only.test", "/")]
    t = target(lab, "v4only.test", ("probe:homepage-v4",))
    got = collect(lab, [t, t], count=2)
    assert len(of(got, "v4only", "homepage-v4")) == 2
    assert lab.hits[(4, "v4only.test", "/")] == before + 2


def test_store_gives_the_crawl_the_links_probe_is_planned_from(sqlite_session: Session) -> None:
    site = b.site("s1", url="https://www.s1.gov.cn/")
    run_id = store.start_run(sqlite_session, kind="manual", sites=[site], config_digest="x", code_version="t",
                             started_at=b.utcnow(), pid=1, host="h")
    assert store.crawl_of(sqlite_session, run_id, site.id) is None
    b.store_crawl(sqlite_session, run_id, site.id, [b.page(site.url, title="首页", size=10)],
                  [b.link(site.url, site.url + "zwgk/", text="政务公开", context="nav")])
    found = store.crawl_of(sqlite_session, run_id, site.id)
    assert found is not None
    pages, links = found
    assert [p.url for p in pages] == [site.url]
    assert links == (b.link(site.url, site.url + "zwgk/", text="政务公开", context="nav"),)


def test_a_link_whose_ipv6_fetch_raises_fails_the_links_of_that_site_only(lab: LabWeb,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    real = probes.Fetcher.fetch_retrying

    async def fetch_retrying(self: probes.Fetcher, url: str, **kwargs: object) -> object:
        if url.endswith("/broken/"):
            raise ValueError("no such thing")
        return await real(self, url, **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(probes.Fetcher, "fetch_retrying", fetch_retrying)
    needs = ("dns", "crawl", "probe:links-v6")
    home = lab.url("www.site.test")
    bad = target(lab, "www.site.test", needs, pages=(b.page(home),),
                 links=(b.link(home, lab.url("www.site.test", "/a/")), b.link(home, lab.url("www.site.test", "/broken/"))))
    good = target(lab, "dual.test", needs, pages=(b.page(lab.url("dual.test")),),
                  links=(b.link(lab.url("dual.test"), lab.url("dual.test", "/a/")),))
    got = collect(lab, [bad, good])
    assert got.failed == {"www": {"probe:links-v6": "ValueError: no such thing"}}
    assert "probe:links-v6" not in got.collected["www"] and "dns" in got.collected["www"]
    assert not of(got, "www", "links-v6") and of(got, "www", "dns-ns")   # nothing partial is kept
    assert [p.outcome for p in of(got, "dual", "links-v6")] == ["ok"]
    assert {d.name for d in got.dns} == {"www.site.test", "dual.test"}


def test_a_dns_query_that_raises_fails_dns_for_the_sites_on_that_host_only(lab: LabWeb,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    real = Resolver.aresolve

    async def aresolve(self: Resolver, name: str, rtype: str) -> object:
        if name == "v4only.test" and rtype == "AAAA":
            raise KeyError("lost")
        return await real(self, name, rtype)
    monkeypatch.setattr(Resolver, "aresolve", aresolve)
    ts = [target(lab, "v4only.test", ("dns",)), target(lab, "v4only.test", ("dns",), site_id="twin"),
          target(lab, "dual.test", ("dns",))]
    got = collect(lab, ts)
    assert got.failed == {"v4only": {"dns": "KeyError: 'lost'"}, "twin": {"dns": "KeyError: 'lost'"}}
    assert got.collected["dual"] == {"dns"} and not got.collected["twin"]
    assert {(d.name, d.rtype) for d in got.dns} == {("v4only.test", "A"), ("v4only.test", "CNAME"),
                                                    *(("dual.test", t) for t in probes.DNS_TYPES)}


@pytest.mark.parametrize(("host", "outcome", "words"), [
    pytest.param(TLS_STALL, "timeout", "TLS handshake stalled", id="a-stalled-handshake-is-a-timeout"),
    pytest.param(TLS_GARBAGE, "tls", "not a TLS server", id="a-non-tls-answer-is-a-handshake-failure"),
])
def test_tls_probe_names_hostile_servers_within_the_timeout(demo_web: DemoWeb, host: str, outcome: str,
                                                            words: str) -> None:
    timeout_s = 1.0
    resolver = Resolver(["127.0.0.1"], port=demo_web.dns_port, timeout_s=1)

    async def probe() -> Probe:
        async with Fetcher(resolver, timeout_s=timeout_s) as fetcher:
            return await tls_probe(fetcher, resolver, demo_web.url(host, scheme="https"),
                                   verify=ssl.create_default_context(), timeout_s=timeout_s, clock=b.utcnow)

    started = time.monotonic()
    got = asyncio.run(probe())
    assert time.monotonic() - started < timeout_s * 3 + 10
    assert (got.outcome, got.detail["tls_error"], got.address) == (outcome, "handshake", "127.0.0.1")
    assert words in got.detail["reason"]


def test_links_v6_prefetched_while_crawling_are_taken_without_a_second_request(lab: LabWeb) -> None:
    home = lab.url("www.portal.test")
    secondary = [lab.url("www.portal.test", "/pf/zwgk/"), lab.url("www.portal.test", "/missing/pf/")]
    tertiary, deep = lab.url("www.portal.test", "/pf/zwgk/1.html"), lab.url("www.portal.test", "/pf/zwgk/1/2.html")
    offsite, refused, image = lab.url("dual.test", "/pf/"), lab.url("www.portal.test", "/hdjl/pf"), home + "pf.png"
    pages = (b.page(home), *(b.page(u, depth=1) for u in secondary), b.page(tertiary, depth=2))
    links = (*(b.link(home, u) for u in [*secondary, offsite, refused]), b.link(home, image, tag="img"),
             b.link(secondary[0], tertiary), b.link(tertiary, deep))
    site = b.site("portal", url=home)
    crawl = Crawl(timeout_s=2, retries=0, allowed_networks=["127.0.0.0/8", "::1/128"])
    resolver = Resolver(["127.0.0.1"], port=lab.dns_port, timeout_s=1)
    prefetch = LinksV6Prefetch([(site, crawl)], resolver=resolver, crawl=crawl)
    prefetch.start()
    for page in pages:     # as the ingest hears of them, in crawl order
        prefetch.page(site.id, page.url, page.final_url, page.depth,
                      [(k.target_url, k.tag) for k in links if k.source_url == page.url])
    found = prefetch.stop(finish=True)
    assert set(found) == {*secondary, tertiary, refused}, "the tiers' targets: no off-site, image or deeper link"
    assert found[refused][0].kind == "robots" and lab.hits[(6, "www.portal.test", "/hdjl/pf")] == 0
    assert [found[u][0].kind for u in secondary] == ["ok", "http_4xx"]
    hits = {u: lab.hits[(6, "www.portal.test", u.split(str(lab.http_port), 1)[1])] for u in found}

    async def probe() -> probes.Collected:
        prober = probes.Prober(resolver=resolver, crawl=crawl, clock=b.utcnow, has_ipv6_route=lambda: True,
                               prefetched=found)
        try:
            return await prober.collect([target(lab, "www.portal.test", ("crawl", "probe:links-v6"),
                                                site_id="portal", pages=pages, links=links)])
        finally:
            await prober.aclose()

    got = asyncio.run(probe())
    assert {p.url: p.outcome for p in of(got, "portal", "links-v6")} == {
        secondary[0]: "ok", secondary[1]: "http_4xx", tertiary: "ok", refused: "robots"}
    assert {u: lab.hits[(6, "www.portal.test", u.split(str(lab.http_port), 1)[1])] for u in found} == hits, \
        "nothing prefetched is requested again"
