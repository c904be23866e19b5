"""monitor.columnprobe against the demo web: a column on another host, read with its pagination."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from checks.base import Status
from checks.columns import judge, offsite_column
from checks.plans import COLUMN, FOOTER, Fetch, ProbePlan
from checks.snapshot import Probe
from monitor import config
from monitor.columnprobe import collect, probe_column
from monitor.demo import DemoWeb
from monitor.demo.configfile import DEMO_CRAWL
from monitor.fetch import Fetcher
from monitor.resolver import Resolver
from tests.builders import link, page, requirement, snapshot


def now() -> datetime:
    return datetime.now(UTC)


def plan(footer: str | None, columns: list[str]) -> ProbePlan:
    return ProbePlan({**({FOOTER: (Fetch(footer),)} if footer else {}), COLUMN: tuple(Fetch(u) for u in columns)})


def fetch_column(web: DemoWeb, url: str) -> Probe:
    async def go() -> Probe:
        resolver = Resolver(["127.0.0.1"], port=web.dns_port, timeout_s=1)
        async with Fetcher(resolver, timeout_s=DEMO_CRAWL["timeout_s"],
                           allowed_networks=DEMO_CRAWL["allowed_networks"]) as fetcher:
            return await probe_column(fetcher, url, now)

    return asyncio.run(go())


def test_a_paginated_column_is_counted_over_its_pages(demo_web: DemoWeb) -> None:
    truth = demo_web.truth["sites"]["cykfq"]["columns"]["negative_list"]
    taken = fetch_column(demo_web, truth["url"])
    assert taken.outcome == "ok"
    assert (taken.detail["items"], len(taken.detail["list_pages"])) == (truth["items"], 3)
    assert taken.detail["latest"] == truth["latest"]


def test_a_column_on_another_host_is_judged_from_its_probe(demo_web: DemoWeb, tmp_path: Path) -> None:
    truth = demo_web.truth["sites"]["cyzbq"]["columns"]["enterprise_relief"]
    home = demo_web.url("www.cyzbq.gov.test")
    snap = snapshot(pages=[page(home, depth=0, title="朝阳综合保税区管理委员会")],
                    links=[link(home, truth["url"], text="助企纾困", context="nav")], taken_at=now())
    relief = requirement("enterprise_relief", title="助企纾困专题", keywords=("助企纾困", "纾困"), max_age_days=90)
    assert offsite_column(snap, relief) == truth["url"]
    path = demo_web.write_config(tmp_path / "sites.toml", storage_url=f"sqlite:///{tmp_path / 'g.db'}",
                                report_dir=str(tmp_path))
    cfg = config.load(path)
    resolver = Resolver(["127.0.0.1"], port=demo_web.dns_port, timeout_s=1)
    got = asyncio.run(collect({"cyzbq": plan(home, [truth["url"]])}, resolver=resolver, crawl=cfg.crawl, clock=now))
    found = got.probes
    assert got.collected["cyzbq"] == {FOOTER} and not got.failed
    kinds = [p.kind for p in found["cyzbq"]]
    assert kinds == ["footer", "column"]
    verdict = judge(snapshot(pages=snap.pages, links=snap.links, probes=found["cyzbq"], taken_at=now()), relief)
    assert (verdict.status, verdict.key) == (Status.PASS, "column.ok")
    assert (verdict.metrics["items"], verdict.metrics["latest"], verdict.metrics["where"]) == (
        truth["items"], truth["latest"], "host")
    assert all(json.loads(json.dumps(p.detail)) == p.detail for p in found["cyzbq"])  # stored as JSON probe rows


def test_a_sites_own_timeout_and_retries_reach_its_footer_and_column_probes(demo_web: DemoWeb) -> None:
    slow, flaky = demo_web.url("lab.demo.test", "/slow"), demo_web.url("lab.demo.test", "/flaky?own-retries")
    crawl = config.Crawl(timeout_s=30.0, retries=0, allowed_networks=DEMO_CRAWL["allowed_networks"])
    own = {"hurried": crawl.model_copy(update={"timeout_s": 0.5}),
           "patient": crawl.model_copy(update={"retries": 3})}
    plans = {"hurried": plan(slow, [slow]), "patient": plan(None, [flaky])}

    async def go() -> dict[str, tuple[Probe, ...]]:
        resolver = Resolver(["127.0.0.1"], port=demo_web.dns_port, timeout_s=1)
        return dict((await collect(plans, resolver=resolver, crawl=crawl, clock=now, site_crawl=own)).probes)

    found = asyncio.run(go())
    assert [(p.kind, p.outcome, p.detail["reason"]) for p in found["hurried"]] == [
        ("footer", "timeout", "no complete response within 0.5 s"),
        ("column", "timeout", "no complete response within 0.5 s")]
    [column] = found["patient"]
    assert (column.outcome, column.detail["attempts"]) == ("ok", 2)   # the lab's flaky page: 503, then 200
