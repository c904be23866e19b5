"""The parent side of the crawl: start the crawl child, watch it, stop it.

Owns the subprocess (`python -P -m spiders.crawl`), its hard timeout (the
child's whole process group is killed), heartbeats while it runs, and reading
its stderr: `{"progress": {...}}` lines become CrawlProgress callbacks,
`{"segment": "crawl-NNNNNN.jsonl"}` lines hand a complete spool segment to
`on_segment` (in this thread, so the caller's database session stays in one
thread), `{"site_done": "ID"}` lines (a fed crawl, after the segment holding the
site's last lines) go to `on_site_done`, other lines are kept as the tail shown when the crawl fails. Never
imports Scrapy or Twisted and never raises for a child failure: a non-zero
exit, a timeout or a child that cannot start is a CrawlResult with ok False
and the reason.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from monitor import supervisor, wordbook

log = logging.getLogger(__name__)

HEARTBEAT_S = 30.0
TAIL_LINES = 30
TAIL_CHARS = 4000
SEGMENT_BYTES = 4 * 2**20   # the child's default (spiders/output.py)
SEGMENT_GLOB = "crawl-*.jsonl"
_SEGMENT_NAME = re.compile(r"crawl-\d{6,}\.jsonl")
FEED_NAME = "feed.txt"
_EOF = object()


@dataclass(frozen=True)
class CrawlProgress:
    sites_done: int
    sites: int
    pages: int
    links: int
    errors: int
    screen_ms: int = 0            # CPU time the child has spent screening page text (spiders/screen.py)


@dataclass(frozen=True)
class CrawlResult:
    ok: bool
    returncode: int | None        # None when the child never started
    stderr_tail: str
    elapsed_s: float
    pages: int
    links: int
    reason: str = ""              # why ok is False, in words
    screen_ms: int = 0            # CPU time the child spent screening page text


class Feed:
    """The sites a fed crawl child takes while it runs: `add` appends `site ID` lines to its file, `end`
    the `end` line after which the child finishes what it has and exits (spiders/crawl.py --feed)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).resolve()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(b"")
        self.ended = False
        self.more_s = 0.0     # added to run_crawl's timeout_s: the time the sites fed since need

    def add(self, site_ids: Sequence[str], more_s: float = 0.0) -> None:
        """Feed `site_ids`; the crawl's hard timeout grows by `more_s`."""
        if self.ended:
            raise ValueError("the feed has ended")
        self.more_s += more_s
        self._append("".join(f"site {site_id}\n" for site_id in site_ids))

    def end(self) -> None:
        if not self.ended:
            self.ended = True
            self._append("end\n")

    def _append(self, text: str) -> None:
        with self.path.open("a", encoding="utf-8") as file:   # whole lines: the child reads complete ones only
            file.write(text)


def child_command(config_path: Path, out: Path, site_ids: Sequence[str], urls: Sequence[str] = (),
                  segment_bytes: int = SEGMENT_BYTES, scale_run: str | None = None,
                  feed: Path | None = None, share_as: str | None = None) -> list[str]:
    command = [sys.executable, "-P", "-m", "spiders.crawl", "--config", str(config_path), "--out", str(out),
               "--segment-bytes", str(segment_bytes)]
    if feed is not None:
        command += ["--feed", str(feed)]
    if scale_run is not None:   # the child reads [scale] from the config file: no Redis password on a command line
        command += ["--scale-run", scale_run]
    if share_as is not None:
        command += ["--share-as", share_as]
    for site_id in site_ids:
        command += ["--site", site_id]
    for url in urls:
        command += ["--url", url]
    return command


def _child_env() -> dict[str, str]:
    """The environment with the directory holding `spiders` first on PYTHONPATH.

    The child runs with -P in the run's folder, so a source checkout that is
    not installed must still be importable.
    """
    env = dict(os.environ)
    spec = importlib.util.find_spec("spiders")
    if spec is not None and spec.submodule_search_locations:
        root = str(Path(next(iter(spec.submodule_search_locations))).parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env[wordbook.CWD_ENV] = os.getcwd()   # the child runs in its spool folder; word lists are read from here
    return env


def _announced(line: str, key: str) -> Any:
    """The value of a `{"key": value}` line the child writes on stderr; None for any other line."""
    if not line.startswith(f'{{"{key}"'):
        return None
    try:
        return json.loads(line)[key]
    except (ValueError, KeyError, TypeError):
        return None


def parse_progress(line: str) -> CrawlProgress | None:
    """The CrawlProgress of a `{"progress": {...}}` line; None for any other line."""
    data = _announced(line, "progress")
    try:
        return CrawlProgress(**{name: int(data.get(name, 0)) for name in CrawlProgress.__dataclass_fields__})
    except (ValueError, TypeError, AttributeError):
        return None


def parse_segment(line: str) -> str | None:
    """The segment file name of a `{"segment": "crawl-NNNNNN.jsonl"}` line; None for any other line."""
    name = _announced(line, "segment")
    return name if isinstance(name, str) and _SEGMENT_NAME.fullmatch(name) else None


def parse_site_done(line: str) -> str | None:
    """The site id of a `{"site_done": "ID"}` line; None for any other line."""
    site_id = _announced(line, "site_done")
    return site_id if isinstance(site_id, str) and site_id else None


def _read_lines(stream: IO[bytes], lines: queue.Queue[Any]) -> None:
    for raw in stream:
        lines.put(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    lines.put(_EOF)


class _Watch:
    """What run_crawl learns from the child while it runs."""

    def __init__(self, on_progress: Callable[[CrawlProgress], None] | None,
                 on_segment: Callable[[Path], None] | None, spool: Path,
                 on_site_done: Callable[[str], None] | None = None) -> None:
        self.on_progress, self.on_segment, self.spool = on_progress, on_segment, spool
        self.on_site_done = on_site_done
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.last: CrawlProgress | None = None
        self.handed: set[str] = set()

    def take(self, line: str) -> None:
        progress = parse_progress(line)
        if progress is not None:
            self.last = progress
            if self.on_progress is not None:
                self.on_progress(progress)
        elif (name := parse_segment(line)) is not None:
            self.hand(name)
        elif (site_id := parse_site_done(line)) is not None:
            if self.on_site_done is not None:
                self.on_site_done(site_id)
        elif line.strip():
            self.tail.append(line)

    def hand(self, name: str) -> None:
        """Give the segment `name` to on_segment, once."""
        if name not in self.handed:
            self.handed.add(name)
            if self.on_segment is not None:
                self.on_segment(self.spool / name)

    def sweep(self) -> None:
        """After a clean exit: hand over the segments no line announced, then a `.part` the child did not
        close (its end failed), so nothing it wrote is lost."""
        for pattern in (SEGMENT_GLOB, SEGMENT_GLOB + ".part"):
            for path in sorted(self.spool.glob(pattern)):
                if _SEGMENT_NAME.fullmatch(path.name.removesuffix(".part")):
                    self.hand(path.name)

    def tail_text(self) -> str:
        return "\n".join(self.tail)[-TAIL_CHARS:]

    def result(self, ok: bool, returncode: int | None, started: float, reason: str = "") -> CrawlResult:
        last = self.last
        return CrawlResult(ok, returncode, self.tail_text(), round(time.monotonic() - started, 3),
                           last.pages if last else 0, last.links if last else 0, reason,
                           last.screen_ms if last else 0)


def run_crawl(config_path: Path, out: Path, *, site_ids: Sequence[str], timeout_s: float,
              on_progress: Callable[[CrawlProgress], None] | None = None,
              heartbeat: Callable[[], bool | None] | None = None,
              heartbeat_every_s: float = HEARTBEAT_S, urls: Sequence[str] = (),
              on_segment: Callable[[Path], None] | None = None, segment_bytes: int | None = None,
              scale_run: str | None = None, feed: Feed | None = None,
              on_site_done: Callable[[str], None] | None = None, share_as: str | None = None) -> CrawlResult:
    """Crawl `site_ids` of `config_path` into the spool folder `out` in a child process.

    `urls` adds the site of each URL: the configured one, else the ad-hoc site
    `monitor.config.site_from_url(url)` (same id). With neither ids nor URLs,
    every configured site is crawled.

    The child writes segments of about `segment_bytes` (default SEGMENT_BYTES) into `out`;
    `on_segment(path)` gets each complete segment once, in order, while the
    child goes on, and (after a clean exit) any segment not announced, even one left unclosed.
    What it does with the file is its own affair. A failed crawl leaves its
    last, incomplete segment (`.part`) unhanded.

    The child runs in `out`, tied to this process by a lifeline (it
    ends itself when this process dies, `kill -9` included; monitor.supervisor);
    after `timeout_s` its process group is killed. `heartbeat()` is called every `heartbeat_every_s` while it runs;
    returning False (the run was ended elsewhere) stops the child. Callback
    exceptions stop the child and propagate. `scale_run` makes it a worker's crawl for that run of
    the config's [scale]: each host's slots are shared with the run's other workers (spiders/hostslots.py);
    with `share_as` (the worker's name) its sites' crawl state is in Redis too, shared with the workers
    crawling the same sites (spiders/sharedsite.py).

    With `feed` the child is fed: `site_ids` are its first sites, `feed.add` gives it more while it runs
    (from a callback or the heartbeat), and it exits once every site is done after `feed.end()`. It
    announces each site done: `on_site_done(site_id)` is called once the segments holding every line of
    the site were handed to `on_segment`.
    """
    out = Path(out).resolve()
    started = time.monotonic()
    watch = _Watch(on_progress, on_segment, out, on_site_done)
    try:
        out.mkdir(parents=True, exist_ok=True)
        command = child_command(Path(config_path).resolve(), out, site_ids, urls, segment_bytes or SEGMENT_BYTES,
                                scale_run, feed.path if feed is not None else None, share_as)
        child = supervisor.spawn(command, cwd=out, env=_child_env())
    except OSError as exc:
        return watch.result(False, None, started, f"the crawl could not start: {exc.strerror or exc}")
    process = child.process
    assert process.stderr is not None
    lines: queue.Queue[Any] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process.stderr, lines), name="crawl-stderr", daemon=True)
    reader.start()
    def deadline() -> float:
        return started + timeout_s + (feed.more_s if feed is not None else 0.0)

    reason: str | None = None
    try:
        reason = _watch_child(lines, watch, started, deadline, heartbeat, heartbeat_every_s)
        if not reason:  # stderr closed: the child is exiting
            try:
                process.wait(timeout=max(0.1, deadline() - time.monotonic()))
            except subprocess.TimeoutExpired:
                reason = _timed_out(deadline() - started)
    finally:
        if reason != "":  # stopped on purpose, or a callback raised
            child.kill()
    reader.join(timeout=5)
    process.stderr.close()
    returncode = child.wait()
    if reason:
        log.warning("crawl stopped: %s", reason)
        return watch.result(False, returncode, started, reason)
    if returncode != 0:
        last = watch.tail[-1] if watch.tail else "no output"
        return watch.result(False, returncode, started, f"the crawl exited with code {returncode}: {last}")
    watch.sweep()
    return watch.result(True, returncode, started)


def _timed_out(timeout_s: float) -> str:
    return f"the crawl took longer than {timeout_s:g} s and was killed"


def _watch_child(lines: queue.Queue[Any], watch: _Watch, started: float, deadline: Callable[[], float],
                 heartbeat: Callable[[], bool | None] | None, every_s: float) -> str:
    """Consume the child's stderr until it ends; "" when it ended by itself, else why it must be stopped.
    `deadline()` is asked again each time: a fed crawl's grows with its sites."""
    next_beat = time.monotonic() + every_s
    while True:
        now = time.monotonic()
        if now >= (end := deadline()):
            return _timed_out(end - started)
        if heartbeat is not None and now >= next_beat:
            next_beat = now + every_s
            if heartbeat() is False:
                return "the run was ended while crawling; the crawl was stopped"
        try:
            item = lines.get(timeout=max(0.01, min(end, next_beat) - now))
        except queue.Empty:
            continue
        if item is _EOF:
            return ""
        watch.take(item)
