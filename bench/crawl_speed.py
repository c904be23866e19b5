"""Crawl speed of govmon's crawl child against two baselines, on a generated loopback web.

Generates H hosts × N government-style pages (~30 KB, ~60 links each, a few
dead), serves them on 127.0.0.1, 127.0.0.2, … with nginx when it is installed
(else a one-process aiohttp static server), then crawls the whole web three
times, each in its own process:

- govmon:   `python -P -m spiders.crawl` (extraction, dates, records, JSONL);
- scrapy:   a bare Scrapy spider that only follows <a href> (the framework's ceiling);
- aiohttp:  a minimal asyncio + aiohttp crawler with a regex for hrefs.

All three use the same total and per-host concurrency. It prints pages/s and
peak RSS of each, the ratios, and how long monitor.ingest takes for govmon's
file. Run from the repository root (not part of the tests):

    .venv/bin/python bench/crawl_speed.py [--hosts 3] [--pages 1000]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLUMNS = ("zwgk", "zcwj", "xwdt", "tzgg", "ztzl", "hdjl", "bsfw", "sjfb", "rsxx", "czxx", "ghjh", "jytabl")
PARAGRAPH = ("为深入贯彻落实党中央、国务院关于全面推进政务公开工作的决策部署，进一步提升政府信息公开质量，"
             "切实保障人民群众的知情权、参与权、表达权和监督权，现将有关事项通知如下。")


@dataclass(frozen=True)
class Outcome:
    name: str
    pages: int
    seconds: float
    peak_rss_mb: float

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def page_html(host_index: int, number: int, pages: int, hosts: int, today: date) -> str:
    rng = random.Random(host_index * 1_000_003 + number)
    nav = "".join(f'<li><a href="/p/{(i * 7) % pages}.html">栏目{c}</a></li>' for i, c in enumerate(COLUMNS))
    rows = []
    for j in range(40):
        target = rng.randrange(pages)
        day = today - timedelta(days=rng.randrange(400))
        rows.append(f'<li><a href="/p/{target}.html" title="关于做好第{target}号工作的通知">'
                    f'关于做好第{target}号工作的通知</a><span class="date">{day.isoformat()}</span></li>')
    others = "".join(f'<a href="http://127.0.0.{h + 1}:{{port}}/p/{rng.randrange(pages)}.html">友情链接{h}</a>'
                     for h in range(hosts) if h != host_index)
    dead = "".join(f'<a href="/p/missing_{rng.randrange(max(pages // 50, 1))}.html">已删除的文件{k}</a>'
                   for k in range(rng.choice((0, 0, 1, 2))))
    text = "".join(f"<p>{PARAGRAPH}</p>" for _ in range(40))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>第{number}号通知_朝阳市人民政府</title>'
            f'<link rel="stylesheet" href="/css/style.css"></head><body>'
            f'<div class="nav"><ul>{nav}</ul></div><div class="main"><div class="news_list"><ul>{"".join(rows)}'
            f'</ul></div><div class="content">{text}</div>{dead}</div>'
            f'<div class="footer">{others}<p>版权所有：朝阳市人民政府 辽ICP备05001234号</p></div></body></html>')


def generate_web(root: Path, hosts: int, pages: int, port: int) -> int:
    """Write the web under root/h<k>/; returns the bytes written."""
    today = date.today()
    total = 0
    for h in range(hosts):
        folder = root / f"h{h}" / "p"
        folder.mkdir(parents=True)
        for number in range(pages):
            body = page_html(h, number, pages, hosts, today).replace("{port}", str(port)).encode()
            (folder / f"{number}.html").write_bytes(body)
            total += len(body)
        shutil.copy(folder / "0.html", root / f"h{h}" / "index.html")
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # nginx workers may run as nobody
    return total


def free_port(hosts: int) -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            for h in range(hosts):
                with socket.socket() as other:
                    other.bind((f"127.0.0.{h + 1}", port))
        except OSError:
            continue
        return port
    raise OSError("no port free on every 127.0.0.x address")


def start_server(root: Path, hosts: int, port: int) -> tuple[subprocess.Popen[bytes], str]:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx:
        servers = "".join(f"server {{ listen 127.0.0.{h + 1}:{port}; root {root / f'h{h}'}; }}\n" for h in range(hosts))
        conf = root.parent / "nginx.conf"
        conf.write_text(textwrap.dedent(f"""\
            worker_processes 1; pid {root.parent / 'nginx.pid'}; error_log {root.parent / 'error.log'};
            events {{ worker_connections 1024; }}
            http {{ access_log off; default_type text/html; charset utf-8; keepalive_requests 100000;
                   sendfile on; {servers} }}
            """))
        process = subprocess.Popen([nginx, "-p", str(root.parent), "-c", str(conf), "-g", "daemon off;"])
        label = "nginx"
    else:
        code = textwrap.dedent(f"""
            import asyncio
            from aiohttp import web
            async def main():
                for h in range({hosts}):
                    app = web.Application()
                    app.router.add_static("/", "{root}/h" + str(h), show_index=False)
                    runner = web.AppRunner(app, access_log=None)
                    await runner.setup()
                    await web.TCPSite(runner, "127.0.0.%d" % (h + 1), {port}).start()
                await asyncio.Event().wait()
            asyncio.run(main())
            """)
        process = subprocess.Popen([sys.executable, "-c", code])
        label = "aiohttp static server (install nginx for a faster one)"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, label
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the web server did not start")


def measure(name: str, command: list[str], cwd: Path, count: Callable[[str], int]) -> Outcome:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{name} exited with {process.returncode}")
    return Outcome(name, count(output), seconds, usage.ru_maxrss / 1024)


def govmon_config(folder: Path, hosts: int, pages: int, port: int, concurrency: int, per_host: int) -> Path:
    sites = "".join(f'[[site]]\nid = "h{h}"\nname = "站点{h}"\nurl = "http://127.0.0.{h + 1}:{port}/"\n'
                    f'kind = "portal"\nlevel = "city"\n\n' for h in range(hosts))
    path = folder / "sites.toml"
    path.write_text(textwrap.dedent(f"""\
        [crawl]
        max_pages = {pages * 2}
        max_depth = 20
        timeout_s = 15
        retries = 1
        concurrency = {concurrency}
        per_host_concurrency = {per_host}
        allowed_networks = ["127.0.0.0/8"]

        [storage]
        url = "sqlite:///{folder / 'bench.db'}"

        """) + sites, encoding="utf-8")
    return path


SCRAPY_BASELINE = """
import sys
from scrapy import Spider
from scrapy.crawler import CrawlerProcess

hosts, port, concurrency, per_host = (int(a) for a in sys.argv[1:5])

class Follow(Spider):
    name = "follow"
    allowed_domains = [f"127.0.0.{h + 1}" for h in range(hosts)]
    start_urls = [f"http://127.0.0.{h + 1}:{port}/" for h in range(hosts)]

    def parse(self, response):
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href)

process = CrawlerProcess({"LOG_LEVEL": "WARNING", "CONCURRENT_REQUESTS": concurrency,
                          "CONCURRENT_REQUESTS_PER_DOMAIN": per_host, "TELNETCONSOLE_ENABLED": False,
                          "REMOTE_CONTROL_ENABLED": False,
                          "HTTPERROR_ALLOW_ALL": True})
crawler = process.create_crawler(Follow)
process.crawl(crawler)
process.start()
print(crawler.stats.get_value("response_received_count", 0))
"""

AIOHTTP_BASELINE = r"""
import asyncio, re, sys
from urllib.parse import urljoin, urldefrag, urlsplit
import aiohttp

hosts, port, concurrency, per_host = (int(a) for a in sys.argv[1:5])
HREF = re.compile(rb'href="([^"]+)"')

async def main():
    scope = {f"127.0.0.{h + 1}" for h in range(hosts)}
    queue, seen, fetched = asyncio.Queue(), set(), 0
    for h in range(hosts):
        url = f"http://127.0.0.{h + 1}:{port}/"
        seen.add(url)
        queue.put_nowait(url)
    limits = {host: asyncio.Semaphore(per_host) for host in scope}
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=per_host)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker():
            nonlocal fetched
            while True:
                url = await queue.get()
                try:
                    async with limits[urlsplit(url).hostname]:
                        async with session.get(url) as response:
                            body = await response.read()
                    fetched += 1
                    if response.status == 200 and "html" in response.content_type:
                        for raw in HREF.findall(body):
                            target = urldefrag(urljoin(url, raw.decode()))[0]
                            if urlsplit(target).hostname in scope and target not in seen:
                                seen.add(target)
                                queue.put_nowait(target)
                finally:
                    queue.task_done()
        workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
        await queue.join()
        for w in workers:
            w.cancel()
    print(fetched)

asyncio.run(main())
"""


def ingest_seconds(folder: Path, out: Path, hosts: int) -> tuple[float, int]:
    """How long monitor.ingest takes to store govmon's file in SQLite; (seconds, rows)."""
    from checks.snapshot import SiteInfo
    from monitor import db, store
    from monitor.ingest import ingest_crawl

    engine = db.make_engine(f"sqlite:///{folder / 'ingest.db'}")
    db.upgrade(engine)
    with db.session_factory(engine)() as session:
        sites = [SiteInfo(f"h{h}", f"站点{h}", f"http://127.0.0.{h + 1}/", "portal", "city") for h in range(hosts)]
        run_id = store.start_run(session, kind="manual", sites=sites, config_digest="0" * 64, code_version="bench",
                                 started_at=datetime.now(UTC), pid=os.getpid(), host="bench")
        started = time.monotonic()
        stats = ingest_crawl(session, run_id, out)
        seconds = time.monotonic() - started
    engine.dispose()
    return seconds, stats.pages + stats.links + stats.dates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--pages", type=int, default=1000, help="pages per host")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--per-host", type=int, default=8)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="govmon-bench-"))
    folder.chmod(0o755)
    port = free_port(args.hosts)
    size = generate_web(folder / "web", args.hosts, args.pages, port)
    server, label = start_server(folder / "web", args.hosts, port)
    limits = [str(v) for v in (args.hosts, port, args.concurrency, args.per_host)]
    print(f"web: {args.hosts} hosts × {args.pages} pages (+ ~2 % dead), {size / 2**20:.0f} MB, served by {label}; "
          f"concurrency {args.concurrency}, {args.per_host} per host; {os.cpu_count()} CPUs")
    try:
        config = govmon_config(folder, args.hosts, args.pages, port, args.concurrency, args.per_host)
        out = folder / "crawl.jsonl"
        runs = [
            measure("govmon", [sys.executable, "-P", "-m", "spiders.crawl", "--config", str(config), "--out", str(out)],
                    folder, lambda _: sum(1 for line in out.open(encoding="utf-8") if line.startswith('{"type":"page"'))),
            measure("scrapy (bare)", [sys.executable, "-c", SCRAPY_BASELINE, *limits], folder,
                    lambda text: int(text.split()[-1])),
            measure("aiohttp (minimal)", [sys.executable, "-c", AIOHTTP_BASELINE, *limits], folder,
                    lambda text: int(text.split()[-1])),
        ]
        ingest_s, rows = ingest_seconds(folder, out, args.hosts)
    finally:
        server.terminate()
        server.wait()
    print(f"{'crawler':<20}{'pages':>8}{'seconds':>10}{'pages/s':>10}{'peak RSS':>12}")
    for run in runs:
        print(f"{run.name:<20}{run.pages:>8}{run.seconds:>10.1f}{run.pages_per_s:>10.0f}{run.peak_rss_mb:>9.0f} MB")
    govmon = runs[0]
    for other in runs[1:]:
        print(f"govmon / {other.name}: {govmon.pages_per_s / other.pages_per_s:.2f}× pages/s")
    print(f"ingest of govmon's file into SQLite: {ingest_s:.1f} s for {rows} rows")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
