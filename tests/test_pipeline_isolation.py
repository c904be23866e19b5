"""Per-site isolation of the probes (issue 11): one probe kind of one site raising leaves the run complete,
that site's dependent checks `error` with the reason, and everything else as without the failure.

The demo's 南台区 (its 负面清单 column lives on another host, so it has a column probe) takes the injected
failure (in a probe, in planning a probe from its crawl, in storing its probe rows); 东风新区 stands beside
it. One real crawl is shared: every case replays its output through the pipeline (ingest, link checks,
probes, evaluation, report) on a fresh database.
"""

from __future__ import annotations

import gc
import shutil
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from bs4 import BeautifulSoup

import checks
from monitor import columnprobe, config, crawl, pipeline, probes
from monitor.store import snapshot as store_snapshot
from monitor.demo import DemoWeb
from monitor.demo.configfile import render_config, write_config
from monitor.fetch import Fetcher
from monitor.resolver import Resolver
from reports import render

SITE, OTHER = "nantai", "dongfeng"
HOST = "www.nantai.gov.test"


def _config(demo_web: DemoWeb, work: Path) -> config.Config:
    sites = [s for s in demo_web.sites if s.id in (SITE, OTHER)]
    text = render_config(sites, {s.id: demo_web.url(s.host, "/") for s in sites}, dns_port=demo_web.dns_port,
                         storage_url=f"sqlite:///{work / 'govmon.db'}", report_dir=str(work / "reports"))
    return config.load(write_config(work / "sites.toml", text))


def _by_check(outcome: pipeline.RunOutcome) -> dict[str, dict[str, Any]]:
    assert outcome.results is not None, outcome.error
    return {sid: {r.check_id: r for r in rs} for sid, rs in outcome.results.results.items()}


@pytest.fixture(scope="module")
def base(demo_web: DemoWeb, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A run without injected failures; its crawl output is kept for the cases to replay."""
    work = tmp_path_factory.mktemp("isolation-base")
    kept = work / "crawl.jsonl"
    real = crawl.run_crawl

    def keeping(config_path: Path, out: Path, *, on_segment: Callable[[Path], None], **kwargs: Any
                ) -> crawl.CrawlResult:
        def keep(segment: Path) -> None:
            with kept.open("ab") as whole:
                whole.write(segment.read_bytes())
            on_segment(segment)
        return real(config_path, out, on_segment=keep, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crawl, "run_crawl", keeping)
        outcome = pipeline.execute(_config(demo_web, work), kind="demo", render=False)
    return {"results": _by_check(outcome), "crawl": kept}


def _replay(kept: Path) -> Callable[..., crawl.CrawlResult]:
    def run_crawl(config_path: Path, out: Path, *, on_segment: Callable[[Path], None], **kwargs: Any
                  ) -> crawl.CrawlResult:
        segment = out / "crawl-000001.jsonl"
        shutil.copyfile(kept, segment)
        on_segment(segment)
        return crawl.CrawlResult(ok=True, returncode=0, stderr_tail="", elapsed_s=0.0, pages=0, links=0)
    return run_crawl


def _site_url(demo_web: DemoWeb) -> str:
    return demo_web.url(HOST, "/")


def _raising(kind: str) -> RuntimeError:
    return RuntimeError(f"injected {kind}")


def _inject(kind: str, patch: pytest.MonkeyPatch, site_url: str) -> None:
    """Make one probe, or one step of the pipeline for one site, raise for SITE only."""
    if kind == "availability":
        real_availability = probes._availability

        async def availability(fetchers: Any, target: probes.ProbeTarget, *args: Any) -> Any:
            if target.site.id == SITE:
                raise _raising(kind)
            return await real_availability(fetchers, target, *args)
        patch.setattr(probes, "_availability", availability)
    elif kind in ("dns", "dns-ns"):
        real_resolve = Resolver.aresolve
        rtype_hit = "CNAME" if kind == "dns" else "NS"   # CNAME: only the site's DNS probe asks; NS: dns-ns

        async def aresolve(self: Resolver, name: str, rtype: str) -> Any:
            if name == HOST and rtype == rtype_hit:
                raise _raising(kind)
            return await real_resolve(self, name, rtype)
        patch.setattr(Resolver, "aresolve", aresolve)
    elif kind in ("homepage-v4", "homepage-v6"):
        real_fetch = Fetcher.fetch
        family_hit = 4 if kind == "homepage-v4" else 6

        async def fetch(self: Fetcher, url: str, *, family: int | None = None, **kwargs: Any) -> Any:
            if url == site_url and family == family_hit:
                raise _raising(kind)
            return await real_fetch(self, url, family=family, **kwargs)
        patch.setattr(Fetcher, "fetch", fetch)
    elif kind == "links-v6":
        real_links = probes._links_v6

        async def links_v6(once: Any, fetcher: Any, target: probes.ProbeTarget, *args: Any) -> Any:
            if target.site.id == SITE:
                raise _raising(kind)
            return await real_links(once, fetcher, target, *args)
        patch.setattr(probes, "_links_v6", links_v6)
    elif kind == "tls":
        real_tls = probes.tls_probe

        async def tls_probe(fetcher: Any, resolver: Any, url: str, **kwargs: Any) -> Any:
            if url == site_url:
                raise _raising(kind)
            return await real_tls(fetcher, resolver, url, **kwargs)
        patch.setattr(probes, "tls_probe", tls_probe)
    elif kind == "footer":
        real_footer = columnprobe.probe_footer

        async def probe_footer(fetcher: Any, url: str, clock: Any, retries: int = 0) -> Any:
            if HOST in url:
                raise _raising(kind)
            return await real_footer(fetcher, url, clock, retries)
        patch.setattr(columnprobe, "probe_footer", probe_footer)
    elif kind in PLANNERS:   # planning one probe from the site's crawl
        _raise_in_planner(kind, patch)
    elif kind == "probe-save":   # storing the site's probe rows
        real_save = pipeline.store.save_probes

        def save_probes(session: Any, run_id: str | None, site_id: str, rows: Any) -> None:
            if site_id == SITE:
                raise _raising(kind)
            real_save(session, run_id, site_id, rows)
        patch.setattr(pipeline.store, "save_probes", save_probes)
    else:
        assert kind == "column"
        real_column = columnprobe.probe_column

        async def probe_column(fetcher: Any, url: str, clock: Any, retries: int = 0) -> Any:
            if "nantai.gov.test" in url:
                raise _raising(kind)
            return await real_column(fetcher, url, clock, retries)
        patch.setattr(columnprobe, "probe_column", probe_column)


PLANNERS = {"links-v6-plan": ("ipv6:links", "probe:links-v6"), "footer-plan": ("footer", "probe:footer"),
            "column-plan": ("column", "probe:column")}
"""An injected failure -> (the check declaring the planner, the probe it plans)."""


def _raise_in_planner(kind: str, patch: pytest.MonkeyPatch) -> None:
    spec_id, need = PLANNERS[kind]
    spec = checks.REGISTRY[spec_id]
    real = spec.plans[need]

    def planner(snap: Any, params: Any) -> Any:
        if snap.site.id == SITE:
            raise _raising(kind)
        return real(snap, params)
    patch.setitem(checks.REGISTRY, spec_id, replace(spec, plans={**spec.plans, need: planner}))


DEPENDENT = {
    "availability": {"availability"},
    "dns": {"ipv6:dns", "ipv6:homepage"},
    "dns-ns": {"ipv6:dns", "ipv6:homepage"},
    "homepage-v4": {"ipv6:homepage"},
    "homepage-v6": {"ipv6:homepage"},
    "links-v6": {"ipv6:links"},
    "tls": {"https"},
    "footer": {"footer"},
    "column": {"column:negative_list"},
    "links-v6-plan": {"ipv6:links"},
    "footer-plan": {"footer"},
    "column-plan": {"column:negative_list"},
    "probe-save": {"availability", "ipv6:dns", "ipv6:homepage", "ipv6:links", "https", "footer",
                   "column:negative_list"},
}


def _verdicts(results: dict[str, Any], skip: frozenset[str] | set[str] = frozenset()) -> dict[str, tuple[str, str]]:
    return {cid: (str(r.status), r.message_key) for cid, r in results.items() if cid not in skip}


def test_the_base_run_exercises_every_probe_kind_on_the_site(base: dict[str, Any]) -> None:
    site = base["results"][SITE]
    assert set().union(*DEPENDENT.values()) <= set(site)
    assert all(str(site[cid].status) != "error" for cid in set().union(*DEPENDENT.values())), \
        {cid: site[cid].message_key for cid in site}
    assert site["column:negative_list"].metrics["examined"] == 1   # judged from its column probe


@pytest.mark.parametrize("kind", sorted(DEPENDENT), ids=lambda kind: f"{kind}-raises")
def test_one_failing_probe_errs_its_checks_with_the_reason_and_the_run_completes(
        kind: str, base: dict[str, Any], demo_web: DemoWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _config(demo_web, tmp_path)
    monkeypatch.setattr(crawl, "run_crawl", _replay(base["crawl"]))
    _inject(kind, monkeypatch, _site_url(demo_web))
    outcome = pipeline.execute(cfg, kind="demo")
    assert outcome.status == "complete", outcome.error
    assert outcome.report is not None and outcome.report.exists()
    got = _by_check(outcome)
    reason = f"RuntimeError: injected {kind}"
    for cid in DEPENDENT[kind]:
        result = got[SITE][cid]
        assert (str(result.status), result.message_params.get("error")) == ("error", reason), (cid, result)
    assert _verdicts(got[SITE], DEPENDENT[kind]) == _verdicts(base["results"][SITE], DEPENDENT[kind])
    assert _verdicts(got[OTHER]) == _verdicts(base["results"][OTHER])
    page = (outcome.report.parent / f"{SITE}.html").read_text(encoding="utf-8")
    assert_reason_behind_words(page, "探测出错", reason)
    english = SimpleNamespace(dir=str(tmp_path / "en"), language="en", title="Isolation")
    with pipeline.open_store(cfg) as session:
        render.write_report_set(session, english, run_id=outcome.run_id, timezone="Asia/Shanghai")
    page = (tmp_path / "en" / "runs" / outcome.run_id / f"{SITE}.html").read_text(encoding="utf-8")
    assert_reason_behind_words(page, "failed", reason)


def test_a_site_whose_snapshot_cannot_be_loaded_errs_every_check_and_the_run_completes(
        base: dict[str, Any], demo_web: DemoWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _config(demo_web, tmp_path)
    monkeypatch.setattr(crawl, "run_crawl", _replay(base["crawl"]))
    real_load = pipeline.store.load_snapshot

    def load_snapshot(session: Any, run_id: str, site: Any, **kwargs: Any) -> Any:
        if site.id == SITE:
            raise _raising("snapshot")
        return real_load(session, run_id, site, **kwargs)
    monkeypatch.setattr(pipeline.store, "load_snapshot", load_snapshot)
    outcome = pipeline.execute(cfg, kind="demo")
    assert outcome.status == "complete", outcome.error
    assert outcome.report is not None and outcome.report.exists()
    got = _by_check(outcome)
    assert set(got[SITE]) == set(base["results"][SITE])
    assert {(str(r.status), r.message_key, r.message_params.get("error")) for r in got[SITE].values()} == {
        ("error", "runner.exception", "RuntimeError: injected snapshot")}
    assert _verdicts(got[OTHER]) == _verdicts(base["results"][OTHER])
    page = (outcome.report.parent / f"{SITE}.html").read_text(encoding="utf-8")
    assert_reason_behind_words(page, "检查出错", "RuntimeError: injected snapshot")


def assert_reason_behind_words(page: str, words: str, reason: str) -> None:
    """Exception text is no reader's words: the summary says what failed, the raw text is the title behind it."""
    soup = BeautifulSoup(page, "html.parser")
    summaries = [el for el in soup.select(".summary[title]") if el["title"] == reason]
    assert summaries and all(words in el.get_text() for el in summaries)
    assert reason not in soup.get_text()


def test_each_site_is_loaded_once_and_windows_change_no_verdict(
        base: dict[str, Any], demo_web: DemoWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _config(demo_web, tmp_path)
    monkeypatch.setattr(crawl, "run_crawl", _replay(base["crawl"]))
    monkeypatch.setattr(pipeline, "WINDOW_SITES", 1)   # two windows, one site each
    loads: Counter[str] = Counter()
    real_crawl = store_snapshot._crawl

    def counted(session: Any, run_id: str, site_id: str) -> Any:
        loads[site_id] += 1
        return real_crawl(session, run_id, site_id)
    monkeypatch.setattr(store_snapshot, "_crawl", counted)
    outcome = pipeline.execute(cfg, kind="demo", render=False)
    assert outcome.status == "complete", outcome.error
    assert loads == {SITE: 1, OTHER: 1}
    got = _by_check(outcome)
    assert {sid: _verdicts(rs) for sid, rs in got.items()} == {sid: _verdicts(rs) for sid, rs in base["results"].items()}


def test_a_judged_sites_snapshot_is_gone_before_the_next_site_loads(
        base: dict[str, Any], demo_web: DemoWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _config(demo_web, tmp_path)
    monkeypatch.setattr(crawl, "run_crawl", _replay(base["crawl"]))
    monkeypatch.setattr(pipeline, "WINDOW_SITES", 1)   # two windows, one site each
    loaded: list[weakref.ref[Any]] = []
    alive_at_load: list[int] = []
    real_load = pipeline.store.load_snapshot

    def load(*args: Any, **kwargs: Any) -> Any:
        gc.collect()
        alive_at_load.append(sum(ref() is not None for ref in loaded))
        snap = real_load(*args, **kwargs)
        loaded.append(weakref.ref(snap))
        return snap
    monkeypatch.setattr(pipeline.store, "load_snapshot", load)
    outcome = pipeline.execute(cfg, kind="demo", render=False)
    assert outcome.status == "complete", outcome.error
    assert alive_at_load == [0, 0], "one large site's snapshot at a time, never two"
