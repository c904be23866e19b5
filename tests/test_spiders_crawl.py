"""The crawl child as a real subprocess against the demo web.

One crawl of every listed demo site plus a few extra sites (an IPv6 literal,
a name outside the allowed networks, a WAF challenge, a bounded copy of a
site), run under an audit hook that refuses and reports any connection or
system name lookup beyond loopback, writing small spool segments. The tests read
the JSON lines of its segments.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from monitor import config as config_mod
from monitor.demo import DemoWeb
from monitor.demo.faultcases import LOOP_HOST, LOOP_TARGET, SPLIT_LOOP_HOST, SPLIT_LOOP_TARGET, TLS_GARBAGE, TLS_STALL
from spiders import crawl as crawl_mod
from spiders.items import LinkRecord, PageRecord
from spiders.output import CrawlBundle, JsonLinesWriter, spool_records

ROOT = Path(__file__).resolve().parents[1]
GUARD = "NETGUARD:"
MODULES = "MODULES:"
# Runs the child with an audit hook: connects and system lookups may only name loopback.
GUARDED_CHILD = f"""
import atexit, ipaddress, runpy, socket, sys

def loopback(host):
    host = host.decode() if isinstance(host, bytes) else host
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False

def hook(event, args):
    if event == "socket.getaddrinfo" and not loopback(args[0]) or event == "socket.connect" and (
            isinstance(args[1], tuple) and not loopback(args[1][0])):
        print("{GUARD}", event, args[-1] if event == "socket.connect" else args[0], file=sys.stderr, flush=True)
        raise PermissionError("beyond loopback")

sys.addaudithook(hook)
atexit.register(lambda: print("{MODULES}", *sorted({{m.split(".")[0] for m in sys.modules}}), file=sys.stderr))
runpy.run_module("spiders.crawl", run_name="__main__", alter_sys=True)
"""
BOUNDED_PAGES = 4
SEGMENT_BYTES = 50_000
EXTRA_SITES = 8


@dataclass(frozen=True)
class Crawl:
    returncode: int
    stderr: str
    pages: dict[str, list[dict[str, Any]]]
    links: dict[str, list[dict[str, Any]]]
    events: dict[str, list[dict[str, Any]]]
    cut_requests: dict[str, int]        # requests the crawl made for each URL the truth cuts as a trap
    proxied: int                        # connections to the proxy the environment named

    def home(self, site_id: str) -> dict[str, Any]:
        return self.pages[site_id][0]


def extra_sites(web: DemoWeb) -> str:
    """EXTRA_SITES sites beyond the demo's listed ones."""
    sites = [("v6-literal", f"http://[::1]:{web.http_port}/", ""),
             ("outside", web.url("outside.demo.test", "/"), ""),
             ("waf", web.url("lab.demo.test", "/status/412"), ""),
             ("bounded", web.url("www.chaoyang.gov.test", "/"), f"max_pages = {BOUNDED_PAGES}\nmax_depth = 1\n"),
             ("tls-stall", web.url(TLS_STALL, "/", scheme="https"), ""),
             ("tls-garbage", web.url(TLS_GARBAGE, "/", scheme="https"), ""),
             ("split-loop", web.url(SPLIT_LOOP_HOST, "/"), ""),
             ("tls-slow", web.url("lab.demo.test", "/slow", scheme="https"), "")]
    return "".join(f'\n[[site]]\nid = "{site_id}"\nname = "{site_id}"\nurl = "{url}"\nkind = "portal"\n'
                   f'level = "city"\n{more}' for site_id, url, more in sites)


@pytest.fixture(scope="module")
def crawl(demo_web: DemoWeb, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    folder = tmp_path_factory.mktemp("crawl")
    config = demo_web.write_config(folder / "sites.toml", storage_url=f"sqlite:///{folder / 'govmon.db'}",
                                   report_dir=str(folder / "reports"))
    with config.open("a", encoding="utf-8") as f:
        f.write(extra_sites(demo_web))
    out = folder / "spool"
    cuts = [urlsplit(u) for s in demo_web.truth["sites"].values() if s["listed"] for u in s["trap_cuts"]]
    before = [demo_web.requests_for(u.hostname or "", f"{u.path}?{u.query}" if u.query else u.path) for u in cuts]
    # A proxy in the environment must not be used: it would bypass the pinned, allowed addresses.
    proxy = socket.create_server(("127.0.0.1", 0))
    proxied: list[socket.socket] = []
    threading.Thread(target=lambda: _take_connections(proxy, proxied), daemon=True).start()
    proxy_url = f"http://127.0.0.1:{proxy.getsockname()[1]}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "http_proxy": proxy_url, "https_proxy": proxy_url,
           "HTTP_PROXY": proxy_url, "HTTPS_PROXY": proxy_url, "no_proxy": "", "NO_PROXY": ""}
    try:
        done = subprocess.run([sys.executable, "-P", "-c", GUARDED_CHILD, "--config", str(config), "--out",
                               str(out), "--segment-bytes", str(SEGMENT_BYTES)],
                              cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False)
    finally:
        proxy.close()
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {"page": defaultdict(list), "link": defaultdict(list),
                                                           "event": defaultdict(list)}
    segments = sorted(out.iterdir())
    announced = [json.loads(line)["segment"] for line in done.stderr.splitlines() if line.startswith('{"segment"')]
    assert [p.name for p in segments] == announced, "each segment complete (no .part left) and announced once"
    for segment in segments:
        for line in segment.read_text(encoding="utf-8").splitlines():
            for record in spool_records(line):
                grouped[record["type"]][record["site_id"]].append(record)
    after = [demo_web.requests_for(u.hostname or "", f"{u.path}?{u.query}" if u.query else u.path) for u in cuts]
    return Crawl(done.returncode, done.stderr, grouped["page"], grouped["link"], grouped["event"],
                 {u.geturl(): a - b for u, a, b in zip(cuts, after, before, strict=True)}, len(proxied))


def _take_connections(server: socket.socket, taken: list[socket.socket]) -> None:
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        taken.append(conn)
        conn.close()


def test_the_crawl_finishes_and_stays_on_loopback(crawl: Crawl) -> None:
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    assert GUARD not in crawl.stderr
    assert "Traceback" not in crawl.stderr


def test_the_crawl_child_carries_no_database_layer_and_no_unused_scrapy_component(crawl: Crawl) -> None:
    """The child lives all crawl beside the parent and the reader (the tree's peak): SQLAlchemy (a config
    check), and what Scrapy's cookie, remote-control and feed components import, stay out of it."""
    (line,) = [line for line in crawl.stderr.splitlines() if line.startswith(MODULES)]
    loaded = set(line.split()[1:])
    assert {"scrapy", "twisted", "lxml", "spiders"} <= loaded       # the line lists what it means to
    assert loaded & {"sqlalchemy", "aiohttp", "tldextract", "requests", "alembic", "httpx"} == set()


def test_a_proxy_named_by_the_environment_is_never_used(crawl: Crawl) -> None:
    assert crawl.proxied == 0
    assert crawl.pages["chaoyang"], "the pages came straight from the demo web"


def test_every_listed_site_is_crawled(crawl: Crawl, demo_web: DemoWeb) -> None:
    listed = {site.id for site in demo_web.sites if site.listed}
    assert listed <= set(crawl.pages)
    for site_id in listed:
        assert crawl.home(site_id)["url"] == demo_web.truth["sites"][site_id]["url"], site_id
    progress = [json.loads(line)["progress"] for line in crawl.stderr.splitlines() if line.startswith('{"progress"')]
    sites = len(listed) + EXTRA_SITES
    assert progress[-1]["sites"] == progress[-1]["sites_done"] == sites
    assert progress[-1]["pages"] == sum(len(p) for p in crawl.pages.values())


def test_homepages_agree_with_the_ground_truth(crawl: Crawl, demo_web: DemoWeb) -> None:
    for site_id, truth in demo_web.truth["sites"].items():
        if not truth["listed"]:
            continue
        home, expected = crawl.home(site_id), truth["homepage"]
        assert (home["fetch_kind"], home["status"], home["final_url"], home["redirect_chain"]) == (
            expected["kind"], expected["status"], expected["final_url"], expected["redirect_chain"]), site_id


def test_each_site_crawls_the_pages_of_the_ground_truth(crawl: Crawl, demo_web: DemoWeb) -> None:
    for site_id, truth in demo_web.truth["sites"].items():
        if not truth["listed"]:
            continue
        pages = {p["final_url"] for p in crawl.pages[site_id]
                 if p["fetch_kind"] == "ok" and p["content_type"].startswith(("text/html", "text/xml"))}
        assert set(truth["page_urls"]) <= pages, site_id
        assert truth["min_pages"] <= len(pages) <= truth["max_pages"], site_id
        refused = sorted(e["url"] for e in crawl.events[site_id] if e["kind"] == "robots")
        assert refused == truth["robots_disallowed"], site_id
        assert not set(refused) & {p["url"] for p in crawl.pages[site_id]}


def test_healthy_sites_record_their_pages_links_and_dates(crawl: Crawl, demo_web: DemoWeb) -> None:
    pages, links = crawl.pages["chaoyang"], crawl.links["chaoyang"]
    assert len(pages) >= 10 and len(links) >= 50
    assert {p["url"] for p in pages} >= {demo_web.url("www.chaoyang.gov.test", path, scheme="https")   # on HTTPS
                                         for path in ("/zwgk/", "/ztzl/")}
    assert len({p["url"] for p in pages}) == len(pages)
    crawled = {p["url"] for p in pages}
    assert all(link["source_url"] in crawled for link in links)
    assert any(p["dates"] for p in pages)
    assert all(p["depth"] <= 3 for p in pages)


def test_gbk_sites_are_decoded(crawl: Crawl) -> None:
    for site_id, name in (("lingyuan", "凌源市人民政府"), ("jianping", "建平县人民政府")):
        home = crawl.home(site_id)
        assert (home["title"], home["encoding"]) == (name, "gb18030")
        assert len(crawl.pages[site_id]) > 5


def test_failing_sites_are_recorded_with_their_kind(crawl: Crawl) -> None:
    expected = {"longcheng-scjg": ("dns", "nxdomain"), "beipiao-czj": ("refused", "refused"),
                "kazuo": ("timeout", "longer than 1")}
    for site_id, (kind, detail) in expected.items():
        (home,) = crawl.pages[site_id]
        assert (home["fetch_kind"], home["status"]) == (kind, None)
        assert detail in home["detail"], home["detail"]


def test_named_faults_are_recorded_with_their_kind(crawl: Crawl) -> None:
    expected = {
        "chaoyang-rsj": ("dns", f"cname_loop: CNAME loop: {LOOP_HOST} → {LOOP_TARGET} → {LOOP_HOST}"),
        "split-loop": ("dns", f"cname_loop: CNAME loop: {SPLIT_LOOP_HOST} → {SPLIT_LOOP_TARGET} → {SPLIT_LOOP_HOST}"),
        "tls-stall": ("timeout", "TLS handshake stalled: no answer to the ClientHello"),
        "tls-garbage": ("tls", "not a TLS server: the answer to the ClientHello is not TLS"),
    }
    for site_id, (kind, detail) in expected.items():
        (home,) = crawl.pages[site_id]
        assert (home["fetch_kind"], home["status"]) == (kind, None), site_id
        assert detail in home["detail"], home["detail"]
    (slow,) = crawl.pages["tls-slow"]  # the handshake completed; the page is slower than the timeout
    assert slow["fetch_kind"] == "timeout" and "TLS" not in slow["detail"], slow["detail"]


def test_ipv6_literals_are_fetched_and_outside_addresses_are_never_contacted(crawl: Crawl, demo_web: DemoWeb
                                                                             ) -> None:
    if demo_web.ipv6:
        (v6,) = crawl.pages["v6-literal"]
        assert (v6["status"], v6["fetch_kind"]) == (404, "http_4xx")  # the demo's answer to an unknown Host
    (outside,) = crawl.pages["outside"]
    assert (outside["fetch_kind"], outside["status"]) == ("disallowed", None)
    assert "192.0.2.1" in outside["detail"]


def test_a_waf_challenge_is_blocked_not_down(crawl: Crawl) -> None:
    (waf,) = crawl.pages["waf"]
    assert (waf["status"], waf["fetch_kind"]) == (412, "blocked")
    assert [e["kind"] for e in crawl.events["waf"]] == ["blocked"]


def test_bounds_are_respected_and_reported(crawl: Crawl) -> None:
    records = crawl.pages["bounded"]
    pages = [p for p in records if "html" in p["content_type"]]
    sheets = [p for p in records if p not in pages]
    assert len(pages) == BOUNDED_PAGES
    assert max(p["depth"] for p in pages) == 1
    # the linked style sheets fetched for links:hidden are records beside the pages, not pages
    assert sheets and all(p["content_type"] == "text/css" and p["url"].endswith(".css") for p in sheets)
    assert sorted(e["kind"] for e in crawl.events["bounded"]) == ["max_depth", "max_pages"]


def test_trap_cuts_are_reported_never_requested_and_keep_the_page_budget(crawl: Crawl, demo_web: DemoWeb) -> None:
    for site_id, truth in demo_web.truth["sites"].items():
        if not truth["listed"]:
            continue
        trapped = {e["url"] for e in crawl.events[site_id] if e["kind"] == "trap"}
        assert set(truth["trap_cuts"]) <= trapped, site_id
        assert not set(truth["trap_cuts"]) & {p["url"] for p in crawl.pages[site_id]}, site_id
    assert crawl.cut_requests and set(crawl.cut_requests.values()) == {0}
    url, today = (lambda path: demo_web.url("www.longtan.gov.test", path)), date.today()
    window = f"{today.year - 30}–{today.year + 1}"
    assert {e["url"]: e["detail"] for e in crawl.events["longtan"] if e["kind"] == "trap"} == {
        url("/hdjl/ldrc/?month=0"): "month=0 outside 1–12",
        url("/hdjl/ldrc/?month=13"): "month=13 outside 1–12",
        url("/gzdt/index_3.html"): "index_3.html past the last page index_2.html its pager names",
        url(f"/zwgk/wqhg/{today.year + 15}/01/"): f"date {today.year + 15}-01 in the path, outside {window}"}
    truth = demo_web.truth["sites"]["longtan"]
    pages = {p["final_url"] for p in crawl.pages["longtan"]
             if p["fetch_kind"] == "ok" and p["content_type"].startswith("text/html")}
    assert pages == set(truth["page_urls"]) and len(pages) == truth["pages"] < truth["crawl"]["max_pages"]
    assert "max_pages" not in {e["kind"] for e in crawl.events["longtan"]}
    for beyond in ("/hdjl/ldrc/?month=-1", "/hdjl/ldrc/?month=14", "/gzdt/index_4.html"):
        assert demo_web.requests_for("www.longtan.gov.test", beyond) == 0, beyond


def test_bad_arguments_exit_2_before_crawling(demo_config_path: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "spool"
    assert crawl_mod.main(["--config", str(demo_config_path), "--out", str(out), "--site", "nowhere"]) == 2
    assert crawl_mod.main(["--config", str(tmp_path / "missing.toml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "unknown site id(s): nowhere" in err and "cannot read" in err
    assert not out.exists()


def test_sites_are_chosen_by_id_and_by_url(demo_web: DemoWeb, demo_config_path: Path) -> None:
    config = config_mod.load(demo_config_path)
    assert [s.id for s in crawl_mod.choose_sites(config, [])] == [s.id for s in config.sites]
    chosen = crawl_mod.choose_sites(config, ["fgw"], [demo_web.url("www.chaoyang.gov.test"),
                                                       "http://new.example.test/portal/"])
    assert [(s.id, s.url) for s in chosen] == [("fgw", demo_web.url("fgw.chaoyang.gov.test")),
                                               ("chaoyang", demo_web.url("www.chaoyang.gov.test")),
                                               ("new-example-test", "http://new.example.test/portal/")]
    with pytest.raises(ValueError, match="nowhere"):
        crawl_mod.choose_sites(config, ["nowhere"])


HOME = "http://www.chaoyang.gov.test/"


def _bundle(url: str, links: int = 2, title: str = "首页") -> CrawlBundle:
    page = PageRecord("demo", url, url, 200, "ok", 0, "2026-01-01T00:00:00+00:00", title=title)
    return CrawlBundle(page, tuple(LinkRecord("demo", url, f"{url}a{n}", "a") for n in range(links)))


def test_the_writer_rotates_segments_between_bundles_and_announces_each(tmp_path: Path) -> None:
    spool, stderr = tmp_path / "spool", io.StringIO()
    spool.mkdir()
    writer = JsonLinesWriter(spool, stream=stderr, segment_bytes=2000)
    writer.open_spider()
    writer.write(_bundle(HOME, links=50))          # over 2000 bytes alone: one segment, not split
    assert sorted(p.name for p in spool.iterdir()) == ["crawl-000001.jsonl"]
    writer.write(_bundle(HOME + "x"))
    assert sorted(p.name for p in spool.iterdir()) == ["crawl-000001.jsonl", "crawl-000002.jsonl.part"]
    writer.close_spider()
    names = sorted(p.name for p in spool.iterdir())
    assert names == ["crawl-000001.jsonl", "crawl-000002.jsonl"]
    assert [json.loads(line)["segment"] for line in stderr.getvalue().splitlines() if '"segment"' in line] == names
    first = [json.loads(line) for line in (spool / names[0]).read_text(encoding="utf-8").splitlines()]
    assert [r["type"] for r in first] == ["page", "links"] and len(first[1]["links"]) == 50


def test_a_text_no_encoder_takes_is_written_replaced(tmp_path: Path) -> None:
    out = tmp_path / "crawl.jsonl"
    writer = JsonLinesWriter(out, stream=io.StringIO())
    writer.open_spider()
    writer.write(_bundle(HOME, links=0, title="首页\ud800标题"))
    writer.close_spider()
    assert json.loads(out.read_text(encoding="utf-8"))["title"] == "首页?标题"
