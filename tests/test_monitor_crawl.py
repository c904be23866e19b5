"""monitor.crawl: the parent starts the crawl child, follows its progress and stops it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from monitor.crawl import CrawlProgress, parse_progress, run_crawl
from monitor.demo import DemoWeb


def test_a_crawl_reports_progress_heartbeats_and_its_counts(demo_web: DemoWeb, demo_config_path: Path,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "runs" / "r1" / "crawl.jsonl"
    seen: list[CrawlProgress] = []
    beats: list[float] = []
    urls = [demo_web.url("scjg.longcheng.gov.test"), demo_web.url("lab.demo.test", "/ok")]  # configured, ad hoc
    result = run_crawl(demo_config_path, out, site_ids=["chaoyang"], urls=urls, timeout_s=60,
                       on_progress=seen.append, heartbeat=lambda: beats.append(time.monotonic()) or None,
                       heartbeat_every_s=0.2)
    assert (result.ok, result.returncode, result.reason) == (True, 0, ""), result.stderr_tail
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert result.pages == sum(r["type"] == "page" for r in records) > 10
    assert result.links == sum(r["type"] == "link" for r in records) > 50
    assert {r["site_id"] for r in records} == {"chaoyang", "longcheng-scjg", "lab-demo-test"}
    errors = sum(r["type"] == "page" and r["fetch_kind"] != "ok" for r in records)
    assert errors >= 1  # the NXDOMAIN site
    assert seen[-1] == CrawlProgress(sites_done=3, sites=3, pages=result.pages, links=result.links, errors=errors)
    assert beats and result.elapsed_s > 0


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
