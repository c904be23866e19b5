"""Pages/s and peak RSS of `govmon run` against a bare Scrapy spider, LinkChecker and linkinator.

Generates H hosts × N government-style pages (~30 KB, ~60 links, a few % of
the distinct targets dead) on loopback (see bench/web.py), serves them with
nginx, runs a loopback nameserver for govmon's resolver, then runs each tool
once, in its own process tree, sampling the tree's summed RSS:

- govmon:     `python -m monitor -q run` with every check on (crawl child,
              ingest, link checks, probes, evaluate, report set) into SQLite;
- scrapy:     a bare Scrapy spider that only follows <a href> (the ceiling);
- linkchecker: LinkChecker (PyPI) in its own venv under /tmp, recursive;
- linkinator: linkinator (npm) installed under /tmp, `--recurse`.

pages/s = HTML pages of the web answered 200 and seen by the tool / wall time
of the whole tool run. It prints a table and the ratios. Not part of the tests.
From the repository root:

    .venv/bin/python bench/crawl_speed.py --hosts 3 --pages 2000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pstats
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import web
from procs import Measured, Nameserver, run_measured

LINKCHECKER_VENV = Path(os.environ.get("GOVMON_BENCH_LINKCHECKER", "/tmp/govmon-bench-linkchecker"))
LINKINATOR_DIR = Path(os.environ.get("GOVMON_BENCH_LINKINATOR", "/tmp/govmon-bench-linkinator"))
BASELINE = ROOT.parent / "shared" / "bench" / "bare_spider.py"
"""The baseline every ratio is against: the shared bare spider, run with the settings of its docstring."""
BASELINE_SETTINGS = ("CONCURRENT_REQUESTS=64", "CONCURRENT_REQUESTS_PER_DOMAIN=64", "CONCURRENT_ITEMS=1",
                     "TWISTED_DNS_RESOLVER=scrapy.resolver.CachingHostnameResolver")
RSS_TARGET_MB = 300
STORED_TARGET_KB = 2
SCREEN_SHARE_TARGET = 0.10
PAGE_URL = re.compile(r"^https?://(127\.0\.0\.\d+|www\.h\d+\.bench\.test):\d+/(p/\d+\.html)?$")


@dataclass(frozen=True)
class Outcome:
    name: str
    pages: int
    seconds: float
    peak_rss_mb: float
    processes: int
    note: str = ""
    by_process: tuple[tuple[str, float], ...] = ()
    at_peak: tuple[tuple[str, float], ...] = ()     # each process's RSS when the tree's sum peaked
    phases: tuple[tuple[str, float], ...] = ()      # govmon only: where its wall time went
    screen_cpu_s: float | None = None               # govmon only: CPU seconds the crawl child spent screening
    stored_bytes: int = 0                           # govmon only: its SQLite database after the run
    cpu: tuple[tuple[str, float], ...] = ()         # CPU seconds by process of the tool's tree
    server_cpu_s: float = 0.0                       # CPU seconds the web server spent serving it

    @property
    def cpu_s(self) -> float:
        return sum(seconds for _, seconds in self.cpu)

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Bench:
    folder: Path
    hosts: int
    pages: int
    port: int
    concurrency: int
    per_host: int
    dns_port: int
    server_pid: int = 0         # the web server's (its workers are its children): its CPU is counted per tool

    def ip_roots(self) -> list[str]:
        return [f"http://{web.host_ip(h)}:{self.port}/" for h in range(self.hosts)]


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for a tool: no proxy variables, so every request goes straight to loopback."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    return {**env, "NO_PROXY": "*", "no_proxy": "*", **extra}


def page_key(url: str) -> str | None:
    """The same page under its name or its IP, or None for what is not an HTML page of the web."""
    if not PAGE_URL.match(url):
        return None
    return re.sub(r"^https?://www\.h(\d+)\.bench\.test", lambda m: f"h{m[1]}",
                  re.sub(r"^https?://127\.0\.0\.(\d+)", lambda m: f"h{int(m[1]) - 1}", url))


def tool_folder(bench: Bench, name: str) -> Path:
    folder = bench.folder / name
    folder.mkdir()
    folder.chmod(0o777)  # LinkChecker run as root drops to nobody and must still write its CSV
    return folder


def govmon_config(bench: Bench, folder: Path) -> Path:
    sites = "".join(f'[[site]]\nid = "h{h}"\nname = "朝阳市站点{h}"\nurl = "http://{web.host_name(h)}:{bench.port}/"\n'
                    f'kind = "portal"\nlevel = "city"\n\n' for h in range(bench.hosts))
    path = folder / "sites.toml"
    path.write_text(textwrap.dedent(f"""\
        [crawl]
        max_pages = {bench.pages * 2}
        max_depth = 100
        timeout_s = 10
        retries = 1
        concurrency = {bench.concurrency}
        per_host_concurrency = {bench.per_host}
        allowed_networks = ["127.0.0.0/8", "::1/128"]

        [dns]
        nameservers = ["127.0.0.1"]
        port = {bench.dns_port}
        timeout_s = 2

        [storage]
        url = "sqlite:///{folder / 'govmon.db'}"

        [report]
        dir = "{folder / 'out' / 'reports'}"

        """) + sites, encoding="utf-8")
    return path


def run_govmon(bench: Bench, profile: Path | None = None, spy: Path | None = None) -> Outcome:
    folder = tool_folder(bench, "govmon")
    config = govmon_config(bench, folder)
    env = tool_env(PYTHONPATH=str(ROOT))
    began = time.time()
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
    sampler = [shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy")), "record", "--subprocesses", "--nonblocking", "--format", "raw", "--rate", "200",
               "--output", str(spy), "--"] if spy else []
    measured = run_measured([*sampler, sys.executable, *profiler, "-m", "monitor", "-q", "-v", "run", "--config",
                             str(config), "--json", str(folder / "result.json")], cwd=folder, env=env,
                            watched=[bench.server_pid])
    pages: set[str] = set()
    if (folder / "govmon.db").exists():
        with closing(sqlite3.connect(folder / "govmon.db")) as db:
            pages = {k for (url,) in db.execute("SELECT url FROM page WHERE status = 200") if (k := page_key(url))}
    phases = govmon_phases(measured.stderr, began, measured.seconds)
    # exit 1 = some check failed (the web has dead links on purpose); 2 and up = the run itself failed
    shown = ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()) or "phases not found in the log"
    note = f"exit {measured.returncode}; {shown}"
    if not pages:
        note += f"; {measured.stderr[-300:].strip()}"
    stored = sum(f.stat().st_size for f in folder.glob("govmon.db*"))   # with its WAL, if any is left
    screening = screening_cpu_s(measured.stderr)
    if screening is not None and phases.get("crawl child"):
        note += f"; screening {screening:.2f} s CPU = {screening / phases['crawl child']:.1%} of the crawl"
    return replace(outcome("govmon run", len(pages), measured, note), phases=tuple(phases.items()),
                   stored_bytes=stored, screen_cpu_s=screening)


PG_URL = os.environ.get("GOVMON_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("GOVMON_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def run_govmon_pg(bench: Bench, workers: int = 0, share: bool = False) -> Outcome:
    """`govmon run` into a fresh PostgreSQL database: in one process (`workers` 0), or distributed through
    [scale] with the run as one worker and `workers - 1` `govmon worker` processes beside it, the sites
    split evenly into batches; `share`: sites shared (share_from = 1, every site's crawl state in Redis, an
    idle worker joining a site under way). Only the run's process tree is measured for RSS."""
    import secrets

    import sqlalchemy as sa

    name = "govmon-pg" if not workers else f"govmon-{workers}w{'s' if share else ''}"
    folder = tool_folder(bench, name)
    config = govmon_config(bench, folder)
    database = f"govmon_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    url = sa.make_url(PG_URL).set(database=database).render_as_string(hide_password=False)
    text = config.read_text(encoding="utf-8").replace(f'url = "sqlite:///{folder / "govmon.db"}"', f'url = "{url}"')
    if workers:
        text += (f'\n[scale]\nredis_url = "{REDIS_URL}"\nkey_prefix = "govmon-bench-{secrets.token_hex(4)}"\n'
                 f"batch_sites = {-(-bench.hosts // workers)}\npoll_s = 0.2\nshare_from = {int(share)}\n")
    config.write_text(text, encoding="utf-8")
    env = tool_env(PYTHONPATH=str(ROOT))
    helpers = []
    try:
        for n in range(workers - 1):
            log = folder / f"worker-{n}.log"
            helpers.append(subprocess.Popen([sys.executable, "-m", "monitor", "worker", "--config", str(config)],
                                            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w")))
            while "waiting for runs" not in log.read_text():
                if helpers[-1].poll() is not None:
                    raise RuntimeError(f"a worker exited: {log.read_text()[-300:]}")
                time.sleep(0.05)
        measured = run_measured([sys.executable, "-m", "monitor", "-q", "-v", "run", "--config", str(config)],
                                cwd=folder, env=env)
    finally:
        for helper in helpers:
            helper.terminate()
            helper.wait()
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        urls = [u for (u,) in conn.exec_driver_sql("SELECT url FROM page WHERE status = 200")]
    engine.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    admin.dispose()
    pages = {k for u in urls if (k := page_key(u))}
    done = re.search(r"distributed crawl: (sites crawled .*)", measured.stderr)
    note = f"exit {measured.returncode}" + (f"; {done[1]}" if done else "")
    if not pages:
        note += f"; {measured.stderr[-300:].strip()}"
    return outcome(name, len(pages), measured, note)


def screening_cpu_s(log: str) -> float | None:
    """The CPU seconds the crawl child spent screening page text (content:privacy, content:wording), from
    the run's "crawl: … ; screening N s CPU" line; None when the line is not there."""
    found = re.search(r"crawl: \d+ pages, \d+ links in [\d.]+s; screening ([\d.]+)s CPU", log)
    return float(found[1]) if found else None


def govmon_phases(log: str, began: float, seconds: float) -> dict[str, float]:
    """Where govmon's wall time went, from the timestamps of its INFO log lines (empty when not found)."""
    def at(pattern: str) -> float | None:
        found = re.search(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) INFO [\w.]+: .*" + pattern, log, re.MULTILINE)
        if not found:
            return None
        return datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()

    crawl = re.search(r"crawl: \d+ pages, \d+ links in ([\d.]+)s", log)
    marks = (at(r"Context impl"), at(r"ingested \d+ pages"), at(r"link check: "), at(r" complete: "))
    if not crawl or None in marks:
        return {}
    first, ingested, checked, complete = (m for m in marks if m is not None)
    crawl_s = float(crawl[1])
    return {"start-up": first - began, "crawl child": crawl_s, "ingest": max(ingested - first - crawl_s, 0.0),
            "link check": checked - ingested, "probes+evaluate+store": complete - checked,
            "report+exit": began + seconds - complete}


def run_baseline(bench: Bench, baseline: Path = BASELINE) -> Outcome:
    """The shared bare spider (`scrapy runspider`) with its docstring's tuned settings."""
    if not baseline.exists():
        return Outcome("bare spider", 0, 0, 0, 0, f"not found: {baseline}")
    folder = tool_folder(bench, "bare")
    out = folder / "out.json"
    settings = [arg for setting in BASELINE_SETTINGS for arg in ("-s", setting)]
    measured = run_measured([sys.executable, "-m", "scrapy", "runspider", str(baseline),
                             "-a", "start=" + ",".join(bench.ip_roots()), "-a", f"out={out}", *settings,
                             "-s", "LOG_LEVEL=WARNING"], cwd=folder, env=tool_env(),
                            watched=[bench.server_pid])
    pages = json.loads(out.read_text())["pages"] if out.exists() else 0
    return outcome("bare spider", pages, measured, f"exit {measured.returncode}; tuned: {' '.join(BASELINE_SETTINGS)}")


SCRAPY_BARE = """
import sys
from scrapy import Spider
from scrapy.crawler import CrawlerProcess

roots, concurrency, per_host = sys.argv[1].split(","), int(sys.argv[2]), int(sys.argv[3])
seen = set()

class Follow(Spider):
    name = "follow"
    allowed_domains = [u.split("/")[2].split(":")[0] for u in roots]
    start_urls = roots

    def parse(self, response):
        if response.status == 200:
            seen.add(response.url)
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href)

process = CrawlerProcess({"LOG_LEVEL": "WARNING", "CONCURRENT_REQUESTS": concurrency,
                          "CONCURRENT_REQUESTS_PER_DOMAIN": per_host, "TELNETCONSOLE_ENABLED": False,
                          "HTTPERROR_ALLOW_ALL": True})
process.crawl(Follow)
process.start()
print("\\n".join(sorted(seen)))
"""


def run_scrapy(bench: Bench) -> Outcome:
    folder = tool_folder(bench, "scrapy")
    measured = run_measured([sys.executable, "-c", SCRAPY_BARE, ",".join(bench.ip_roots()),
                             str(bench.concurrency), str(bench.per_host)], cwd=folder, env=tool_env(),
                            watched=[bench.server_pid])
    pages = {k for k in map(page_key, measured.stdout.split()) if k}
    return outcome("scrapy (bare)", len(pages), measured, f"exit {measured.returncode}")


def install_linkchecker(install: bool) -> Path | None:
    program = LINKCHECKER_VENV / "bin" / "linkchecker"
    if not program.exists() and install:
        print(f"installing LinkChecker into {LINKCHECKER_VENV} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(LINKCHECKER_VENV)], check=False)
        subprocess.run([str(LINKCHECKER_VENV / "bin" / "pip"), "install", "-q", "LinkChecker"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return program if program.exists() else None


def run_linkchecker(bench: Bench, install: bool) -> Outcome:
    program = install_linkchecker(install)
    if program is None:
        return Outcome("linkchecker", 0, 0, 0, 0, f"not installed (pip install LinkChecker into {LINKCHECKER_VENV})")
    folder = tool_folder(bench, "linkchecker")
    # its default politeness is 10 requests/s per host unless the server answers a "LinkChecker" header;
    # the bench's nginx sends one, and this lifts the cap so the tool runs as fast as it can
    rc = folder / "linkcheckerrc"
    rc.write_text(f"[checking]\nthreads={bench.concurrency}\nmaxrequestspersecond=1000\ntimeout=10\n")
    out = folder / "out.csv"
    measured = run_measured([str(program), "-f", str(rc), "--no-status", "-o", "none", "-v",
                             "-F", f"csv/utf_8/{out}", *bench.ip_roots()], cwd=folder, env=tool_env(),
                            watched=[bench.server_pid])
    pages: set[str] = set()
    if out.exists():
        with out.open(encoding="utf-8", errors="replace") as rows:
            for row in csv.reader((line for line in rows if not line.startswith("#")), delimiter=";"):
                if len(row) > 7 and row[6] == "True" and (key := page_key(row[7])):
                    pages.add(key)
    return outcome("linkchecker", len(pages), measured, f"exit {measured.returncode}")


def install_linkinator(install: bool) -> Path | None:
    program = LINKINATOR_DIR / "node_modules" / ".bin" / "linkinator"
    if not program.exists() and install and shutil.which("npm"):
        print(f"installing linkinator into {LINKINATOR_DIR} …", flush=True)
        LINKINATOR_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "linkinator"], cwd=LINKINATOR_DIR,
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return program if program.exists() else None


def run_linkinator(bench: Bench, install: bool) -> Outcome:
    program = install_linkinator(install)
    if program is None:
        return Outcome("linkinator", 0, 0, 0, 0, f"not installed (npm install linkinator in {LINKINATOR_DIR})")
    folder = tool_folder(bench, "linkinator")
    # no --timeout: with one, a CPU-bound linkinator times its own queued requests out and stops recursing
    measured = run_measured([str(program), *bench.ip_roots(), "--recurse", "--concurrency", str(bench.concurrency),
                             "--format", "json"], cwd=folder, env=tool_env(),
                            watched=[bench.server_pid])
    pages: set[str] = set()
    try:
        links = json.loads(measured.stdout).get("links", [])
    except json.JSONDecodeError:
        links = []
    for link in links:
        if link.get("state") == "OK" and link.get("status") == 200 and (key := page_key(link.get("url", ""))):
            pages.add(key)
    return outcome("linkinator", len(pages), measured, f"exit {measured.returncode}")


def outcome(name: str, pages: int, measured: Measured, note: str) -> Outcome:
    by_process = tuple(sorted(measured.peak_by_process.items(), key=lambda item: -item[1]))
    cpu = tuple(sorted(measured.cpu_by_process.items(), key=lambda item: -item[1]))
    at_peak = tuple(sorted(measured.at_peak.items(), key=lambda item: -item[1]))
    return Outcome(name, pages, measured.seconds, measured.peak_rss_mb, measured.peak_processes, note, by_process,
                   at_peak, cpu=cpu, server_cpu_s=measured.watched_cpu_s)


def print_table(runs: list[Outcome], expected: int) -> None:
    print(f"\n{'tool':<16}{'pages':>8}{'seconds':>10}{'pages/s':>10}{'peak RSS':>12}{'procs':>7}  note")
    for run in runs:
        if run.seconds:
            print(f"{run.name:<16}{run.pages:>8}{run.seconds:>10.1f}{run.pages_per_s:>10.1f}"
                  f"{run.peak_rss_mb:>9.0f} MB{run.processes:>7}  {run.note}")
        else:
            print(f"{run.name:<16}{'-':>8}{'-':>10}{'-':>10}{'-':>12}{'-':>7}  {run.note}")
    for run in runs:
        if len(run.by_process) > 1:
            print(f"{run.name} peak RSS by process: "
                  + "; ".join(f"{label}: {mb:.0f} MB" for label, mb in run.by_process))
            print(f"{run.name} RSS by process at the tree's peak: "
                  + "; ".join(f"{label}: {mb:.0f} MB" for label, mb in run.at_peak))
    for run in runs:
        if run.cpu:
            print(f"{run.name} CPU: {run.cpu_s:.1f} s in its processes"
                  + (" (" + "; ".join(f"{label}: {s:.1f} s" for label, s in run.cpu if s >= 0.05) + ")"
                     if len(run.cpu) > 1 else "")
                  + f", {run.server_cpu_s:.1f} s in the web server; "
                  f"{(run.cpu_s + run.server_cpu_s) / run.seconds:.2f} cores busy on average" if run.seconds else "")
    print(f"(the web has {expected} pages that answer 200, homepages included)")


def print_summary(rounds: list[list[Outcome]]) -> None:
    """Medians over the rounds: each tool's pages/s, govmon's ratios against the baseline (whole run and
    crawl phase alone), its phases and peak RSS."""
    def median(values: list[float]) -> float:
        return statistics.median(values) if values else 0.0

    by_tool: dict[str, list[Outcome]] = {}
    for runs in rounds:
        for run in runs:
            by_tool.setdefault(run.name, []).append(run)
    print(f"\nmedian of {len(rounds)} round(s):")
    for name, runs in by_tool.items():
        print(f"  {name:<16}{median([r.pages_per_s for r in runs]):>8.1f} pages/s"
              f"{median([r.peak_rss_mb for r in runs]):>8.0f} MB peak RSS")
    govmons = by_tool.get("govmon run", [])
    for name, runs in by_tool.items():
        if name == "govmon run" or not govmons:
            continue
        ratios = [g.pages_per_s / o.pages_per_s for g, o in zip(govmons, runs) if o.pages_per_s]
        crawl = [g.pages / dict(g.phases)["crawl child"] / o.pages_per_s for g, o in zip(govmons, runs)
                 if o.pages_per_s and dict(g.phases).get("crawl child")]
        print(f"  govmon / {name}: whole run {median(ratios):.2f}× ({', '.join(f'{r:.2f}' for r in ratios)})"
              + (f"; crawl phase alone {median(crawl):.2f}× ({', '.join(f'{r:.2f}' for r in crawl)})" if crawl else ""))
    if govmons:
        phases: dict[str, list[float]] = {}
        for run in govmons:
            for key, value in run.phases:
                phases.setdefault(key, []).append(value)
        print("  govmon phases (median s): " + ", ".join(f"{k} {median(v):.1f}" for k, v in phases.items()))
        shares = [r.screen_cpu_s / dict(r.phases)["crawl child"] for r in govmons
                  if r.screen_cpu_s is not None and dict(r.phases).get("crawl child")]
        if shares:
            print(f"  govmon screening (content:privacy, content:wording): {median(shares):.1%} of the crawl's "
                  f"time, CPU in the crawl child ({', '.join(f'{s:.1%}' for s in shares)}; target ≤ "
                  f"{SCREEN_SHARE_TARGET:.0%})")
        for name, runs in by_tool.items():
            if any(r.cpu for r in runs):
                print(f"  {name} CPU (median s): {median([r.cpu_s for r in runs]):.1f} in its processes, "
                      f"{median([r.server_cpu_s for r in runs]):.1f} in the web server; "
                      f"{1000 * median([r.cpu_s / r.pages for r in runs if r.pages]):.2f} ms a page")
        roles: dict[str, list[float]] = {}
        for run in govmons:
            for role, seconds in cpu_roles(run.cpu).items():
                roles.setdefault(role, []).append(seconds)
        if roles:
            print("  govmon CPU by process (median s): " + ", ".join(f"{k} {median(v):.1f}" for k, v in roles.items()))
        peak = max(r.peak_rss_mb for r in govmons)
        print(f"  govmon peak RSS (largest of the rounds): {peak:.0f} MB (target < {RSS_TARGET_MB} MB)")
        stored = max(r.stored_bytes / r.pages for r in govmons if r.pages) if any(r.pages for r in govmons) else 0
        print(f"  govmon storage: {stored / 1024:.2f} KB a crawled page, the database after one run "
              f"(target ≤ {STORED_TARGET_KB} KB)")


def cpu_roles(cpu: Sequence[tuple[str, float]]) -> dict[str, float]:
    """govmon's CPU seconds by role: the parent (`monitor`), the crawl child, the page reader, the rest."""
    roles = {"parent": 0.0, "crawl child": 0.0, "reader": 0.0, "other": 0.0}
    for label, seconds in cpu:
        role = ("crawl child" if "spiders.crawl" in label else "reader" if "spiders.reader" in label
                else "parent" if "-m monitor" in label else "other")
        roles[role] += seconds
    return {k: v for k, v in roles.items() if v}


TOOLS: dict[str, Callable[[Bench, bool], Outcome]] = {
    "govmon": lambda bench, _install: run_govmon(bench),
    # PostgreSQL and Redis (GOVMON_BENCH_PG_URL, GOVMON_BENCH_REDIS_URL): the distributed path's overhead is
    # govmon-1w against govmon-pg; on 2 cores govmon-2w is not expected to be faster.
    "govmon-pg": lambda bench, _install: run_govmon_pg(bench),
    "govmon-1w": lambda bench, _install: run_govmon_pg(bench, 1),
    "govmon-2w": lambda bench, _install: run_govmon_pg(bench, 2),
    # The shared path (a site's crawl state in Redis, three round trips a page) against govmon-1w.
    "govmon-1ws": lambda bench, _install: run_govmon_pg(bench, 1, share=True),
    "govmon-2ws": lambda bench, _install: run_govmon_pg(bench, 2, share=True),
    "bare": lambda bench, _install: run_baseline(bench),
    "scrapy": lambda bench, _install: run_scrapy(bench),
    "linkchecker": run_linkchecker,
    "linkinator": run_linkinator,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--pages", type=int, default=2000, help="pages per host")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--per-host", type=int, default=16)
    parser.add_argument("--tools", default="govmon,bare", help="comma-separated, from " + ",".join(TOOLS)
                        + " (bare = the shared baseline spider, tuned)")
    parser.add_argument("--rounds", type=int, default=1, help="run every tool this many times; medians are printed")
    parser.add_argument("--no-install", action="store_true", help="do not install nginx, LinkChecker or linkinator")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="run govmon's parent under cProfile, write the stats to FILE and print the top of them")
    parser.add_argument("--py-spy", type=Path, metavar="FILE", dest="spy",
                        help="sample govmon's whole process tree with py-spy (raw collapsed stacks to FILE)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (web, outputs, reports)")
    args = parser.parse_args()
    if not 1 <= args.hosts <= 250:
        parser.error("--hosts must be 1..250 (one 127.0.0.x address each)")
    folder = Path(tempfile.mkdtemp(prefix="govmon-bench-"))
    folder.chmod(0o755)
    port = web.free_port(args.hosts)
    closed_port = web.free_port(1)  # nothing listens there: the web's "refused" dead links
    size = web.generate(folder / "web", args.hosts, args.pages, port, closed_port)
    server, label = web.start_server(folder / "web", args.hosts, port, install=not args.no_install)
    nameserver = Nameserver({web.host_name(h): (web.host_ip(h), "::1") for h in range(args.hosts)})
    bench = Bench(folder, args.hosts, args.pages, port, args.concurrency, args.per_host, nameserver.port,
                  server.pid)
    print(f"web: {args.hosts} hosts × {args.pages} pages, {size / args.hosts / args.pages / 1024:.0f} KB a page, "
          f"{size / 2**20:.0f} MB, served by {label} on port {port}; nameserver 127.0.0.1:{nameserver.port}; "
          f"concurrency {args.concurrency}, {args.per_host} per host; {os.cpu_count()} CPUs; in {folder}", flush=True)
    rounds: list[list[Outcome]] = []
    try:
        for round_ in range(1, args.rounds + 1):
            runs: list[Outcome] = []
            for name in args.tools.split(","):
                print(f"round {round_}: running {name} …", flush=True)
                if name == "govmon" and (args.profile or args.spy):
                    runs.append(run_govmon(bench, args.profile.resolve() if args.profile else None,
                                           args.spy.resolve() if args.spy else None))
                else:
                    runs.append(TOOLS[name](bench, not args.no_install))
                last = runs[-1]
                print(f"  {last.pages} pages in {last.seconds:.1f} s, peak RSS {last.peak_rss_mb:.0f} MB; "
                      f"{last.note}", flush=True)
                if round_ < args.rounds:
                    shutil.rmtree(bench.folder / name, ignore_errors=True)   # the next round starts clean
            rounds.append(runs)
            print_table(runs, args.hosts * (args.pages + 1))
    finally:
        server.terminate()
        server.wait()
        nameserver.close()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print_summary(rounds)
    if args.profile and args.profile.exists():
        print(f"\ngovmon's parent process under cProfile (stats in {args.profile}), by own time:")
        pstats.Stats(str(args.profile)).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
