"""The demo web itself: lifecycle, virtual hosting on both loopbacks, its DNS
server over UDP and TCP, the ground truth against the specs, the written config."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import tomllib
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import dns.message
import dns.query
import dns.rcode
import pytest

from monitor.demo import DemoWeb
from monitor.demo.spec import PageContext

LISTED_KINDS = {"portal", "development_reform", "market_regulation", "commerce", "finance", "business_environment"}
COUNTIES = {"双塔区", "龙城区", "北票市", "凌源市", "朝阳县", "建平县", "喀喇沁左翼蒙古族自治县"}
# The TOML keys docs/architecture.md lists for each table (monitor.config forbids any other).
DOCUMENTED_KEYS = {
    "crawl": {"max_pages", "max_depth", "timeout_s", "retries", "concurrency", "per_host_concurrency",
              "obey_robots", "user_agent", "max_response_bytes", "allowed_networks", "ca_bundle"},
    "dns": {"nameservers", "port", "timeout_s"},
    "storage": {"url"},
    "report": {"dir", "language", "title"},
    "requirement": {"id", "title", "keywords", "applies_to", "levels", "max_age_days", "stale_status",
                    "deadline", "basis"},
    "site": {"id", "name", "url", "kind", "level", "extra_hosts", "disabled_checks", "max_pages", "max_depth",
             "timeout_s", "retries", "obey_robots", "per_host_concurrency", "concurrency", "user_agent"},
}


def get(address: str, port: int, host: str, path: str = "/") -> tuple[int, dict[str, str], bytes]:
    """A raw HTTP/1.1 GET to `address` with the given Host header, outside govmon's fetch layer."""
    conn = http.client.HTTPConnection(address, port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": f"{host}:{port}"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_start_and_stop_leave_no_thread_or_socket() -> None:
    threads_before = set(threading.enumerate())
    web = DemoWeb()
    with web:
        assert web.running
        assert get("127.0.0.1", web.http_port, "www.chaoyang.gov.test")[0] == 200
        with pytest.raises(RuntimeError):
            web.start()
        ports = (web.dns_port, web.http_port)
    assert not web.running
    assert set(threading.enumerate()) == threads_before
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", ports[1]), timeout=1).close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", ports[0]))  # the DNS port is free again
    web.stop()  # stopping twice is harmless


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_serves_by_host_on_both_loopbacks(demo_web: DemoWeb, address: str) -> None:
    if address == "::1" and not demo_web.ipv6:
        pytest.skip("this machine has no ::1")
    status, headers, body = get(address, demo_web.http_port, "www.shuangta.gov.test", "/index.html")
    assert status == 200
    assert "<title>双塔区人民政府</title>" in body.decode("utf-8")
    status, _, body = get(address, demo_web.http_port, "fgw.chaoyang.gov.test")
    assert status == 200 and "朝阳市发展和改革委员会" in body.decode("utf-8")
    status, _, body = get(address, demo_web.http_port, "www.nowhere.test")
    assert (status, b"unknown host" in body) == (404, True)


def test_homepage_news_is_dated_relative_to_today(demo_web: DemoWeb) -> None:
    _, _, body = get("127.0.0.1", demo_web.http_port, "www.chaoyang.gov.test")
    text = body.decode("utf-8")
    dates = re.findall(r'<span class="date">(\d{4}-\d{2}-\d{2})</span>', text)
    assert dates[0] == (date.today() - timedelta(days=1)).isoformat()
    assert dates == sorted(dates, reverse=True)
    for label in ("首页", "政务公开", "政策文件", "专题专栏", "互动交流", "办事服务", "网站标识码", "ICP备",
                  "公网安备", "我为政府网站找错"):
        assert label in text


def test_gbk_pages_are_gbk_bytes(demo_web: DemoWeb) -> None:
    _, headers, body = get("127.0.0.1", demo_web.http_port, "www.lingyuan.gov.test")
    assert headers["content-type"] == "text/html"
    assert b"charset=gbk" in body
    assert "凌源市人民政府".encode("gbk") in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    _, headers, body = get("127.0.0.1", demo_web.http_port, "www.jianping.gov.test")
    assert "charset" not in headers["content-type"] and b"charset" not in body
    assert "建平县人民政府" in body.decode("gbk")


def test_dns_answers_over_udp_and_tcp_on_one_port(demo_web: DemoWeb) -> None:
    query = dns.message.make_query("www.beipiao.gov.test", "AAAA")
    for send in (dns.query.udp, dns.query.tcp):
        response = send(query, "127.0.0.1", port=demo_web.dns_port, timeout=2)
        records = [(rrset.name.to_text(), rrset[0].to_text()) for rrset in response.answer]
        assert records == [("www.beipiao.gov.test.", "beipiao.cdn.test."), ("beipiao.cdn.test.", "edge.cdn.test."),
                           ("edge.cdn.test.", "::1")]
    missing = dns.query.tcp(dns.message.make_query("nonexistent.demo.test", "A"), "127.0.0.1",
                            port=demo_web.dns_port, timeout=2)
    assert missing.rcode() == dns.rcode.NXDOMAIN


def test_dns_server_counts_queries(demo_web: DemoWeb) -> None:
    key = ("edge.cdn.test", "NS")
    before = demo_web.dns_queries[key]
    dns.query.udp(dns.message.make_query(key[0], key[1]), "127.0.0.1", port=demo_web.dns_port, timeout=2)
    assert demo_web.dns_queries[key] == before + 1


def test_sites_are_unique_and_cover_the_city(demo_web: DemoWeb) -> None:
    ids = [site.id for site in demo_web.sites]
    hosts = [site.host for site in demo_web.sites]
    assert len(ids) == len(set(ids)) and len(hosts) == len(set(hosts))
    listed = [site for site in demo_web.sites if site.listed]
    assert {site.kind for site in listed} == LISTED_KINDS
    counties = {site.name.removesuffix("人民政府") for site in listed if site.kind == "portal"
                and site.level == "county"}
    assert counties == COUNTIES
    assert all(site.host.endswith(".test") for site in demo_web.sites)


def test_truth_has_one_entry_per_spec_and_is_json(demo_web: DemoWeb, tmp_path: Path) -> None:
    truth = demo_web.truth
    assert set(truth["sites"]) == {site.id for site in demo_web.sites}
    for site in demo_web.sites:
        entry = truth["sites"][site.id]
        assert (entry["host"], entry["name"], entry["listed"]) == (site.host, site.name, site.listed)
        assert entry["url"] == demo_web.url(site.host)
        assert entry["availability"] == ("pass" if entry["homepage"]["kind"] == "ok" else "fail")
        assert site.host in truth["dns"]
    written = demo_web.write_truth(tmp_path / "truth.json")
    assert json.loads(written.read_text(encoding="utf-8")) == truth
    assert truth["today"] == date.today().isoformat()


def test_truth_covers_every_availability_case(demo_web: DemoWeb) -> None:
    sites = {i: s for i, s in demo_web.truth["sites"].items() if s["listed"]}
    kinds = {s["homepage"]["kind"] for s in sites.values()}
    assert kinds == {"ok", "http_5xx", "http_4xx", "dns", "refused", "timeout", "redirect_loop"}
    assert any(s["homepage"]["kind"] == "ok" and s["homepage"]["redirect_chain"] for s in sites.values())
    dns = demo_web.truth["dns"]
    hosts = {i: s["host"] for i, s in sites.items()}
    assert any(dns[h]["A"]["cname_chain"] and dns[h]["A"]["kind"] == "ok" for h in hosts.values())
    assert any(dns[h]["A"]["kind"] == "ok" and dns[h]["AAAA"]["kind"] == "no_answer" for h in hosts.values())
    assert any(dns[h]["A"]["kind"] == "ok" and dns[h]["AAAA"]["kind"] == "ok" for h in hosts.values())
    assert sites["chaoyang"]["availability"] == "pass"
    county_portals = [s for s in sites.values() if s["kind"] == "portal" and s["level"] == "county"]
    assert sum(s["availability"] == "pass" for s in county_portals) >= 5
    assert sites["chaoyangxian"]["homepage"]["kind"] == "ok", "the flaky homepage passes after one retry"


def test_every_link_stays_on_served_demo_pages(demo_web: DemoWeb) -> None:
    by_host = {site.host: site for site in demo_web.sites}
    checked = 0
    for site in demo_web.sites:
        ctx = PageContext(site, demo_web.today, demo_web.url, None)
        for path, page in site.pages.items():
            if not callable(page.body):
                continue
            base = demo_web.url(site.host, path)
            for href in re.findall(r'href="([^"]+)"', page.body(ctx)):
                target = urlsplit(urljoin(base, href.replace("&amp;", "&")))
                assert target.hostname in by_host, (site.id, path, href)
                assert target.port == demo_web.http_port
                assert target.path in by_host[target.hostname].pages, (site.id, path, href)
                checked += 1
    assert checked > 500


def test_flaky_page_fails_once_then_serves(demo_web: DemoWeb) -> None:
    path = "/flaky?t=demo-test"
    assert get("127.0.0.1", demo_web.http_port, "lab.demo.test", path)[0] == 503
    assert get("127.0.0.1", demo_web.http_port, "lab.demo.test", path)[0] == 200


def test_written_config_uses_only_documented_keys(demo_web: DemoWeb, tmp_path: Path) -> None:
    path = demo_web.write_config(tmp_path / "sites.toml", storage_url=f"sqlite:///{tmp_path / 'demo.db'}",
                                 report_dir=str(tmp_path / "reports"), title="朝阳市政府网站巡检报告（演示）")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for table in ("crawl", "dns", "storage", "report"):
        assert set(data[table]) <= DOCUMENTED_KEYS[table], table
    for table in ("requirement", "site"):
        for entry in data[table]:
            assert set(entry) <= DOCUMENTED_KEYS[table], entry
    assert set(data) == {"crawl", "dns", "storage", "report", "requirement", "site"}
    assert data["dns"] == {"nameservers": ["127.0.0.1"], "port": demo_web.dns_port, "timeout_s": 1}
    assert (data["crawl"]["timeout_s"], data["crawl"]["retries"]) == (2, 1)
    assert data["crawl"]["allowed_networks"] == ["127.0.0.0/8", "::1/128"]
    assert [r["id"] for r in data["requirement"]] == ["enterprise_relief", "negative_list", "fee_catalog",
                                                      "effective_investment", "major_decisions"]
    sites = {s["id"]: s for s in data["site"]}
    assert set(sites) == {site.id for site in demo_web.sites if site.listed}
    assert sites["kazuo"]["timeout_s"] == 1
    assert sites["chaoyang"]["url"] == demo_web.url("www.chaoyang.gov.test")


def test_written_config_loads_with_monitor_config(demo_web: DemoWeb, tmp_path: Path) -> None:
    config = pytest.importorskip("monitor.config")
    path = demo_web.write_config(tmp_path / "sites.toml", storage_url=f"sqlite:///{tmp_path / 'demo.db'}",
                                 report_dir=str(tmp_path / "reports"))
    loaded = config.load(path)
    assert [site.id for site in loaded.sites] == [site.id for site in demo_web.sites if site.listed]
    assert loaded.dns.port == demo_web.dns_port
