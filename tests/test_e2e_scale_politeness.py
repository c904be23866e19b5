"""One host's politeness across crawl processes (issue 16): two crawl children crawl two sites that are
sub-paths of one loopback host, with per_host_concurrency = 2.

As workers of one run (`--scale-run`, slots in real Redis) the host never sees more than 2 requests at
once; as two independent crawls it sees more (the test can fail). With Redis unreachable a worker's
crawl still finishes, on its own limit, with one warning. The server holds every site page until both
sites have asked for one, then until 3 are in flight (independent crawls get there; the shared limit
never lets them, so there each answer waits HOLD_S): waits for events, not for a window of time.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis

from monitor.crawl import CrawlResult, run_crawl
from spiders.output import spool_records
from tests.loopback_http import reply
from tests.loopback_http import serve as serve_http   # this file's serve() is the test's own site

SITES = ("a", "b")
PAGES = 6           # per site, besides its homepage
LIMIT = 2
HOLD_S = 0.3        # how long an answer waits when fewer than LIMIT + 1 are in flight (shared limit)
BARRIER_S = 30.0    # a guard: both crawls start well within this


class Host:
    """Counts the requests in flight and keeps the most seen at once."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self.cond = threading.Condition()
        self.in_flight = self.peak = 0
        self.started: set[str] = set()
        self.both_at_once = False     # a page of each site was in flight at the same moment
        self.sites_in_flight: list[str] = []

    def enter(self, site: str | None, homepage: bool) -> None:
        """Count a request in; return when it may be answered."""
        with self.cond:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            if site is not None:
                self.started.add(site)
                self.sites_in_flight.append(site)
                self.both_at_once |= set(self.sites_in_flight) == set(SITES)
            self.cond.notify_all()
            if site is None:
                return       # robots.txt is answered at once
            self.cond.wait_for(lambda: self.started == set(SITES), timeout=BARRIER_S)
            if not homepage:  # the homepages hold the links: the crawls go on from them
                self.cond.wait_for(lambda: self.peak > LIMIT, timeout=self.hold_s)

    def leave(self, site: str | None) -> None:
        with self.cond:
            self.in_flight -= 1
            if site is not None:
                self.sites_in_flight.remove(site)


def page(site: str, n: int) -> bytes:
    links = "".join(f'<li><a href="/{site}/p{i}.html">Page {i}</a></li>' for i in range(1, PAGES + 1)) if n == 0 else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{site} {n}</title></head>"
            f"<body><h1>Site {site}, page {n}</h1><ul>{links}</ul>"
            f"<p>{'Text of the page. ' * 20}</p></body></html>").encode()


def serve(host: Host) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = self.path.split("/")
            site = parts[1] if len(parts) > 2 and parts[1] in SITES else None
            n = int(parts[2][1:-5]) if site is not None and parts[2].startswith("p") else 0
            host.enter(site, n == 0)
            try:
                status, body = (404, b"not here") if site is None else (200, page(site, n))
                reply(self, status, body)
            finally:
                host.leave(site)

        def log_message(self, *_: object) -> None:
            pass

    return serve_http(Handler, name="one-host")


def write_config(folder: Path, port: int, redis_url: str, prefix: str) -> Path:
    sites = "".join(f'[[site]]\nid = "{s}"\nname = "Department {s}"\nurl = "http://127.0.0.1:{port}/{s}/"\n'
                    'kind = "portal"\nlevel = "city"\n' for s in SITES)
    text = ('[storage]\nurl = "postgresql+psycopg://postgres@127.0.0.1:5432/unused"   # the crawl never opens it\n'
            f'[crawl]\nper_host_concurrency = {LIMIT}\nconcurrency = 8\ntimeout_s = 20\nretries = 0\n'
            f'[scale]\nredis_url = "{redis_url}"\nkey_prefix = "{prefix}"\n{sites}')
    path = folder / "sites.toml"
    path.write_text(text, encoding="utf-8")
    return path


def crawl_both(config: Path, folder: Path, scale_run: str | None) -> list[CrawlResult]:
    """Each site crawled by its own crawl child, both at once."""
    results: dict[str, CrawlResult] = {}

    def one(site: str) -> None:
        results[site] = run_crawl(config, folder / site, site_ids=[site], timeout_s=80, scale_run=scale_run)

    threads = [threading.Thread(target=one, args=(s,)) for s in SITES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [results[s] for s in SITES]


def pages_crawled(folder: Path) -> int:
    return sum(record["type"] == "page" for path in folder.rglob("crawl-*.jsonl")
               for line in path.read_text(encoding="utf-8").splitlines() for record in spool_records(line))


@pytest.fixture
def shared_host() -> Iterator[tuple[Host, int]]:
    host = Host(HOLD_S)
    server = serve(host)
    yield host, server.server_address[1]
    server.shutdown()
    server.server_close()


def test_workers_of_one_run_keep_a_shared_host_to_its_limit(shared_host: tuple[Host, int], redis_url: str,
                                                            redis_prefix: str, tmp_path: Path) -> None:
    host, port = shared_host
    config = write_config(tmp_path, port, redis_url, redis_prefix)
    results = crawl_both(config, tmp_path, scale_run="r1")
    assert all(r.ok for r in results), [r.reason + r.stderr_tail for r in results]
    assert pages_crawled(tmp_path) == len(SITES) * (PAGES + 1)
    assert host.both_at_once, "the two crawls overlapped"
    assert host.peak == LIMIT
    assert redis.Redis.from_url(redis_url).keys(f"{redis_prefix}:*") == [], "every slot was given back"


def test_independent_crawls_of_two_sites_exceed_the_hosts_limit(shared_host: tuple[Host, int], redis_url: str,
                                                                redis_prefix: str, tmp_path: Path) -> None:
    host, port = shared_host
    host.hold_s = 15.0   # answers wait until 3 are in flight, which two crawls of 2 each reach (timeout_s is 20)
    config = write_config(tmp_path, port, redis_url, redis_prefix)
    results = crawl_both(config, tmp_path, scale_run=None)
    assert all(r.ok for r in results), [r.reason + r.stderr_tail for r in results]
    assert pages_crawled(tmp_path) == len(SITES) * (PAGES + 1)
    assert host.peak > LIMIT


def test_a_worker_crawl_without_redis_keeps_its_own_limit_and_finishes(shared_host: tuple[Host, int],
                                                                      tmp_path: Path) -> None:
    host, port = shared_host
    with socket.socket() as probe:   # a port nobody listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        gone = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    config = write_config(tmp_path, port, gone, "govmon-test-gone")
    results = crawl_both(config, tmp_path, scale_run="r1")
    assert all(r.ok for r in results), [r.reason + r.stderr_tail for r in results]
    assert pages_crawled(tmp_path) == len(SITES) * (PAGES + 1)
    for result in results:
        assert result.stderr_tail.count("host slots: Redis failed") == 1, result.stderr_tail
