"""monitor.crawl: the parent starts the crawl child, follows its progress and stops it."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor import config, pipeline, preflight, store
from monitor import crawl as crawl_mod
from monitor.config import Config
from monitor.crawl import CrawlProgress, Feed, _Watch, parse_progress, parse_segment, run_crawl
from monitor.db import PageRow
from monitor.demo import DemoWeb
from monitor.ingest import CrawlIngest
from monitor.pipeline import site_info
from spiders.crawl import FeedFile
from spiders.output import spool_records
from tests.heldsite import HeldSite


def test_a_crawl_reports_progress_heartbeats_and_its_counts(demo_web: DemoWeb, demo_config_path: Path,
                                                            tmp_path: Path) -> None:
    spool = tmp_path / "runs" / "r1"
    seen: list[CrawlProgress] = []
    beats: list[float] = []
    handed: list[str] = []
    records: list[dict[str, object]] = []

    def take(path: Path) -> None:  # each segment is complete when handed over: every line is whole JSON
        handed.append(path.name)
        records.extend(r for line in path.read_text(encoding="utf-8").splitlines() for r in spool_records(line))

    urls = [demo_web.url("scjg.longcheng.gov.test"), demo_web.url("lab.demo.test", "/ok")]  # configured, ad hoc
    result = run_crawl(demo_config_path, spool, site_ids=["chaoyang"], urls=urls, timeout_s=60,
                       on_progress=seen.append, heartbeat=lambda: beats.append(time.monotonic()) or None,
                       heartbeat_every_s=0.2, on_segment=take, segment_bytes=20_000)
    assert (result.ok, result.returncode, result.reason) == (True, 0, ""), result.stderr_tail
    assert len(handed) > 3 and handed == [f"crawl-{n:06d}.jsonl" for n in range(1, len(handed) + 1)]
    assert sorted(p.name for p in spool.iterdir()) == handed, "every segment complete and handed once, no .part left"
    assert result.pages == sum(r["type"] == "page" for r in records) > 10
    assert result.links == sum(r["type"] == "link" for r in records) > 50
    assert {r["site_id"] for r in records} == {"chaoyang", "longcheng-scjg", "lab-demo-test"}
    errors = sum(r["type"] == "page" and r["fetch_kind"] != "ok" for r in records)
    assert errors >= 1  # the NXDOMAIN site
    assert seen[-1] == CrawlProgress(sites_done=3, sites=3, pages=result.pages, links=result.links, errors=errors,
                                     screen_ms=result.screen_ms)
    assert result.screen_ms > 0    # the child's screening CPU time (issue 15), reported for the bench
    assert beats and result.elapsed_s > 0


def test_a_page_and_its_links_share_a_segment(demo_config_path: Path, tmp_path: Path) -> None:
    pages: dict[str, str] = {}
    sources: list[tuple[str, str]] = []

    def take(path: Path) -> None:
        for line in path.read_text(encoding="utf-8").splitlines():
            for record in spool_records(line):
                if record["type"] == "page":
                    pages[record["url"]] = path.name
                elif record["type"] == "link":
                    sources.append((record["source_url"], path.name))

    result = run_crawl(demo_config_path, tmp_path / "spool", site_ids=["chaoyang"], timeout_s=60, on_segment=take,
                       segment_bytes=1)  # every fetch ends a segment
    assert result.ok, result.reason
    assert len(set(pages.values())) == len(pages) > 10
    assert sources and all(pages[source] == segment for source, segment in sources)


def _crawl_child() -> int:
    """The pid of this process's crawl child."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cmdline = (entry / "cmdline").read_bytes()
            except (OSError, ValueError, IndexError):
                continue
            if ppid == os.getpid() and b"spiders.crawl" in cmdline:
                return int(entry.name)
    raise AssertionError("no crawl child")


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_segments_are_stored_while_the_child_crawls(demo_web: DemoWeb, demo_config: Config, demo_config_path: Path,
                                                    sqlite_session: Session, tmp_path: Path) -> None:
    """The parent commits the first segment while the child is still running: a site answering only after
    SLOW_S keeps the child busy well after its first pages are written."""
    slow = demo_web.url("lab.demo.test", "/slow")
    chaoyang = demo_config.site_by_id("chaoyang")
    assert chaoyang is not None
    infos = [site_info(chaoyang), site_info(config.site_from_url(slow))]
    run_id = store.start_run(sqlite_session, kind="manual", sites=infos, config_digest="d" * 64, code_version="0",
                             started_at=datetime.now(UTC), pid=os.getpid(), host="test")
    ingesting = CrawlIngest(sqlite_session, run_id)
    at_first: list[tuple[int, str]] = []

    def take(path: Path) -> None:
        ingesting.segment(path)
        if not at_first:
            stored = sqlite_session.scalar(sa.select(sa.func.count()).select_from(PageRow)) or 0
            at_first.append((stored, _state(_crawl_child())))

    result = run_crawl(demo_config_path, tmp_path / "spool", site_ids=["chaoyang"], urls=[slow], timeout_s=120,
                       on_segment=take, segment_bytes=1)
    assert result.ok, result.reason
    stored, child_state = at_first[0]
    assert stored >= 1 and child_state != "Z", "the first page was committed while the child still ran"
    stats = ingesting.finish()
    assert stats.pages == result.pages == sqlite_session.scalar(sa.select(sa.func.count()).select_from(PageRow))
    assert stats.links == result.links and stats.orphan_links == 0


def test_a_timeout_kills_the_child(demo_config_path: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_crawl(demo_config_path, tmp_path / "crawl.jsonl", site_ids=[], timeout_s=0.5)
    assert not result.ok
    assert result.returncode is not None and result.returncode < 0
    assert "longer than 0.5 s" in result.reason
    assert time.monotonic() - started < 10


def test_a_bad_config_fails_with_the_childs_words(tmp_path: Path) -> None:
    result = run_crawl(tmp_path / "missing.toml", tmp_path / "crawl.jsonl", site_ids=[], timeout_s=60)
    assert (result.ok, result.returncode) == (False, 2)
    assert "cannot read" in result.stderr_tail and "cannot read" in result.reason
    assert (result.pages, result.links) == (0, 0)


def test_an_unknown_site_fails_the_crawl(demo_config_path: Path, tmp_path: Path) -> None:
    result = run_crawl(demo_config_path, tmp_path / "crawl.jsonl", site_ids=["nowhere"], timeout_s=60)
    assert (result.ok, result.returncode) == (False, 2)
    assert "unknown site id(s): nowhere" in result.reason


def test_a_run_ended_elsewhere_stops_the_crawl(demo_config_path: Path, tmp_path: Path) -> None:
    result = run_crawl(demo_config_path, tmp_path / "crawl.jsonl", site_ids=[], timeout_s=60,
                       heartbeat=lambda: False, heartbeat_every_s=0.05)
    assert not result.ok and "ended" in result.reason
    assert result.elapsed_s < 10


def test_a_failing_callback_stops_the_child_and_propagates(demo_config_path: Path, tmp_path: Path) -> None:
    def explode() -> None:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="went away"):
        run_crawl(demo_config_path, tmp_path / "crawl.jsonl", site_ids=[], timeout_s=60, heartbeat=explode,
                  heartbeat_every_s=0.05)


@pytest.mark.parametrize(("line", "expected"), [
    ('{"progress": {"sites_done": 3, "sites": 16, "pages": 812, "links": 9120, "errors": 4}}',
     CrawlProgress(3, 16, 812, 9120, 4)),
    ('{"progress": {"pages": 5}}', CrawlProgress(0, 0, 5, 0, 0)),
    ('{"progress": [1, 2]}', None),
    ('{"progress": {"pages": "many"}}', None),
    ("2026-01-01 12:00:00 [scrapy.core] WARNING: something", None),
    ('{"progress": {"pages": ', None),
], ids=["full", "partial", "not-a-mapping", "not-a-number", "a-log-line", "cut-short"])
def test_progress_lines_are_parsed_or_ignored(line: str, expected: CrawlProgress | None) -> None:
    assert parse_progress(line) == expected


@pytest.mark.parametrize(("line", "expected"), [
    ('{"segment": "crawl-000012.jsonl"}', "crawl-000012.jsonl"),
    ('{"segment": "../crawl-000012.jsonl"}', None),
    ('{"segment": "crawl-000012.jsonl.part"}', None),
    ('{"segment": 12}', None),
    ('{"segment": "crawl-0', None),
], ids=["a-segment", "outside-the-spool", "incomplete", "not-a-name", "cut-short"])
def test_segment_lines_are_parsed_or_ignored(line: str, expected: str | None) -> None:
    assert parse_segment(line) == expected


def _run_chaoyang(cfg: Config, monkeypatch: pytest.MonkeyPatch,
                  on_segment: Callable[[Path, Callable[[Path], None]], None]) -> pipeline.RunOutcome:
    """A run of 朝阳市 whose crawl writes a segment per fetch, each handed to `on_segment(path, ingest)`."""
    real = crawl_mod.run_crawl

    def watched(config_path: Path, out: Path, *, on_segment: Callable[[Path], None], **kwargs: Any
                ) -> crawl_mod.CrawlResult:
        return real(config_path, out, on_segment=lambda path: hand(path, on_segment), **kwargs)
    hand = on_segment
    monkeypatch.setattr(crawl_mod, "SEGMENT_BYTES", 1)
    monkeypatch.setattr(crawl_mod, "run_crawl", watched)
    site = cfg.site_by_id("chaoyang")
    assert site is not None
    return pipeline.execute(cfg, kind="manual", sites=[site], render=False, has_ipv6_route=lambda: False)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [r for line in path.read_text(encoding="utf-8").splitlines() for r in spool_records(line)]


def test_a_killed_child_fails_the_run_and_keeps_the_committed_segments(
        demo_config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    ingested: list[dict[str, Any]] = []

    def hand(path: Path, ingest: Callable[[Path], None]) -> None:
        records = _lines(path)
        ingest(path)
        ingested.extend(records)
        if path.name == "crawl-000003.jsonl":
            os.kill(_crawl_child(), signal.SIGKILL)

    outcome = _run_chaoyang(demo_config, monkeypatch, hand)
    assert outcome.status == "failed" and outcome.error is not None and "crawl failed" in outcome.error
    assert "code -9" in outcome.error
    with pipeline.open_store(demo_config) as session:
        pages = set(session.scalars(sa.select(PageRow.url).where(PageRow.run_id == outcome.run_id)))
        crawl = store.crawl_of(session, outcome.run_id, "chaoyang")
    assert pages == {r["url"] for r in ingested if r["type"] == "page"} and len(pages) >= 3
    assert crawl is not None
    assert len(crawl[1]) == sum(r["type"] == "link" for r in ingested) and {k.source_url for k in crawl[1]} <= pages
    spool = preflight.spool_dir(demo_config, outcome.run_id)
    left = sorted(p.name for p in spool.iterdir())
    assert not {f"crawl-{n:06d}.jsonl" for n in (1, 2, 3)} & set(left), "committed segments are deleted"
    assert preflight.clean_leftovers(demo_config, active=()) == [outcome.run_id]  # the next run's cleanup


def test_a_segment_with_unreadable_lines_is_kept_and_the_rest_removed(
        demo_config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    def hand(path: Path, ingest: Callable[[Path], None]) -> None:
        if path.name == "crawl-000002.jsonl":
            with path.open("a", encoding="utf-8") as segment:
                segment.write("not json\n")
        ingest(path)

    outcome = _run_chaoyang(demo_config, monkeypatch, hand)
    assert outcome.status == "complete", outcome.error
    spool = preflight.spool_dir(demo_config, outcome.run_id)
    assert [p.name for p in spool.iterdir()] == ["crawl-000002.jsonl"]
    assert outcome.results is not None and outcome.results.results["chaoyang"]


def test_after_a_clean_exit_every_segment_left_is_handed_once(tmp_path: Path) -> None:
    for name in ("crawl-000001.jsonl", "crawl-000002.jsonl", "crawl-000003.jsonl.part", "notes.txt"):
        (tmp_path / name).write_text("{}\n", encoding="utf-8")
    handed: list[str] = []
    watch = _Watch(None, lambda path: handed.append(path.name), tmp_path)
    watch.take('{"segment":"crawl-000001.jsonl"}')
    watch.take('{"segment":"crawl-000001.jsonl"}')
    watch.sweep()
    assert handed == ["crawl-000001.jsonl", "crawl-000002.jsonl", "crawl-000003.jsonl.part"]


def test_a_fed_crawl_takes_sites_while_it_runs_and_announces_each_done(demo_config_path: Path,
                                                                      tmp_path: Path) -> None:
    held = HeldSite()
    try:
        held.add_to(demo_config_path)
        spool = tmp_path / "spool"
        feed = Feed(spool / crawl_mod.FEED_NAME)
        records: dict[str, int] = {}
        at_done: dict[str, int] = {}

        def take(path: Path) -> None:
            for line in path.read_text(encoding="utf-8").splitlines():
                for record in spool_records(line):
                    records[record["site_id"]] = records.get(record["site_id"], 0) + 1

        def done(site_id: str) -> None:   # each step waits for the one before: no clock
            at_done[site_id] = records.get(site_id, 0)
            if site_id == "chaoyang":
                feed.add(["longcheng-scjg"])
            elif site_id == "longcheng-scjg":
                held.release()
            elif site_id == "held":
                feed.end()

        result = run_crawl(demo_config_path, spool, site_ids=["held", "chaoyang"], timeout_s=300, on_segment=take,
                           on_site_done=done, feed=feed, segment_bytes=10**9)
    finally:
        held.close()
    assert result.ok, (result.reason, result.stderr_tail)
    assert list(at_done) == ["chaoyang", "longcheng-scjg", "held"]
    assert at_done == records and records["chaoyang"] > 10, "a site's every line was handed before it was done"


@pytest.mark.parametrize(("written", "expected"), [
    (["site a\nsite b\n"], [(["a", "b"], False)]),
    (["site a\nsi", "te b\nend\n"], [(["a"], False), (["b"], True)]),
    (["", "end\n", "site late\n"], [([], False), ([], True), (["late"], True)]),
], ids=["two-sites", "a-line-cut-waits-for-its-end", "nothing-yet-then-the-end"])
def test_a_feed_is_read_line_by_line(tmp_path: Path, written: list[str], expected: list[tuple[list[str], bool]]
                                     ) -> None:
    path = tmp_path / "feed.txt"
    reader = FeedFile(path)
    assert reader() == ([], False)              # no file yet
    for text, want in zip(written, expected, strict=True):
        with path.open("a", encoding="utf-8") as file:
            file.write(text)
        assert reader() == want


def test_a_feed_line_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feed.txt"
    path.write_text("stop\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a feed line"):
        FeedFile(path)()


@pytest.mark.parametrize(("line", "expected"), [
    ('{"site_done":"chaoyang"}', "chaoyang"),
    ('{"site_done":""}', None),
    ('{"site_done":3}', None),
    ('{"site_done"', None),
    ('{"segment":"crawl-000001.jsonl"}', None),
], ids=["a-site", "no-id", "not-a-text", "cut", "a-segment-line"])
def test_site_done_lines_are_parsed_or_ignored(line: str, expected: str | None) -> None:
    assert crawl_mod.parse_site_done(line) == expected
