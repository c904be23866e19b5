"""IPv6 and HTTPS on the whole demo web against its truth (monitor.demo.ipv6cases.ipv6_truth).

The session's `demo_run` (read only). ipv6:links is measured as the pipeline does
once it hands the crawl to the probes: the run's crawl from the store, the
links-v6 probes its plan lists, the check.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from checks import PlannedCheck, evaluate, https, ipv6, probe_plan  # noqa: F401  (registers the checks until checks/__init__ imports them)
from checks.base import Result
from monitor import config, pipeline, probes, store
from monitor.demo import DemoWeb
from monitor.demo.ipv6cases import PORTAL, XXGK, ipv6_truth
from monitor.resolver import Resolver

IPV6_CHECKS = ("ipv6:dns", "ipv6:homepage", "https")


@pytest.fixture(scope="module")
def run(demo_web: DemoWeb, demo_run: tuple[pipeline.RunOutcome, Path]) -> dict[str, Any]:
    outcome, work = demo_run
    cfg = config.load(work / "sites.toml")
    assert outcome.results is not None, outcome.error
    results = {sid: {r.check_id: r for r in rs} for sid, rs in outcome.results.results.items()}
    return {"config": cfg, "run_id": outcome.run_id, "results": results, "truth": ipv6_truth(demo_web)}


def links_results(run: dict[str, Any]) -> dict[str, Result]:
    cfg: config.Config = run["config"]
    with pipeline.open_store(cfg) as session:
        targets = []
        for site in cfg.sites:
            crawled = store.load_snapshot(session, run["run_id"], pipeline.site_info(site),
                                          taken_at=pipeline.utcnow(), collected=frozenset({"crawl"}), probes=False)
            targets.append(probes.ProbeTarget(pipeline.site_info(site), cfg.crawl_for(site),
                                              frozenset({"crawl", "probe:links-v6"}),
                                              probe_plan(crawled, [PlannedCheck("ipv6:links", "ipv6:links", "")])))
        got = asyncio.run(probes.collect(targets, resolver=Resolver.from_config(cfg.dns), crawl=cfg.crawl,
                                         clock=pipeline.utcnow, has_ipv6_route=lambda: True))
        found = {}
        for t in targets:
            snap = store.load_snapshot(session, run["run_id"], t.site, taken_at=pipeline.utcnow(),
                                       collected=frozenset({"crawl"}) | got.collected[t.site.id])
            snap = replace(snap, probes=got.probes.get(t.site.id, ()))
            [found[t.site.id]] = evaluate(snap, [PlannedCheck("ipv6:links", "ipv6:links", "basis",
                                                              cfg.checks.model_dump(exclude={"disabled"}))])
    return found


@pytest.mark.parametrize("check_id", IPV6_CHECKS)
def test_statuses_match_the_truth(run: dict[str, Any], check_id: str) -> None:
    got = {sid: str(checks[check_id].status) for sid, checks in run["results"].items()}
    assert got == {sid: t[check_id] for sid, t in run["truth"].items()}


def test_dns_answers_and_cname_chain_match_the_zone(run: dict[str, Any]) -> None:
    for sid, truth in run["truth"].items():
        result = run["results"][sid]["ipv6:dns"]
        if truth["ipv6:dns"] == "pass":
            assert result.metrics["aaaa"] == ", ".join(truth["aaaa"]), sid
            assert result.metrics["cname_chain"] == " → ".join(truth["cname_chain"]), sid
    assert run["results"]["beipiao"]["ipv6:dns"].message_key == "ok_chain"


def test_ipv6_serving_another_page_and_resetting_are_told_apart(run: dict[str, Any]) -> None:
    other = run["results"]["chaoyang-tjj"]["ipv6:homepage"]
    assert other.message_key == "differs" and other.metrics["v6_title"] == "Welcome to nginx!"
    reset = run["results"]["chaoyang-sfj"]["ipv6:homepage"]
    assert reset.message_key == "v6_down" and reset.metrics["v6_outcome"] == "reset"
    assert run["results"]["longcheng"]["ipv6:homepage"].message_key == "no_aaaa"


def test_link_ratios_match_the_truth_exactly(run: dict[str, Any]) -> None:
    found = links_results(run)
    exact = {sid for sid, t in run["truth"].items() if not t.get("bounded")}
    assert exact != set(run["truth"]) and len(exact) > 20
    keys = ("secondary_ok", "secondary_total", "tertiary_ok", "tertiary_total")
    got = {sid: (str(r.status), *(r.metrics.get(k) for k in keys)) for sid, r in found.items() if sid in exact}
    want = {sid: (t["ipv6:links"], *(t.get(k) for k in keys)) for sid, t in run["truth"].items() if sid in exact}
    assert got == want
    bounded = {sid: (r.metrics.get("secondary_ok"), r.metrics.get("secondary_total")) for sid, r in found.items()
               if sid not in exact}
    assert bounded == {sid: (t["secondary_ok"], t["secondary_total"]) for sid, t in run["truth"].items()
                       if sid not in exact}
    portal = found["nanpiao-yshj"]
    assert portal.metrics["secondary_ratio"] == round(12 / 15, 4)
    failing = {e.url for e in portal.evidence if (e.detail or "").startswith("secondary")}
    assert failing and all(f"//{XXGK}:" in url for url in failing)
    secondary = [e for e in portal.evidence if (e.detail or "").startswith("secondary")]
    assert all(PORTAL in (e.source or "") for e in secondary)
    # the 信息公开 sub-domain is the portal's own (checks.scope): its pages are secondary pages,
    # so the targets they link are tertiary ones, found on that sub-domain
    tertiary = [e for e in portal.evidence if (e.detail or "").startswith("tertiary")]
    assert tertiary and all(f"//{XXGK}:" in (e.source or "") for e in tertiary)


def test_https_passes_on_the_model_site_and_warns_where_the_demo_offers_none(run: dict[str, Any]) -> None:
    model = run["results"]["chaoyang"]["https"]
    assert (model.message_key, model.metrics["redirects_to_https"]) == ("ok", True)
    assert model.metrics["days_left"] > 30 and model.metrics["cert_names"] == "www.chaoyang.gov.test"
    plain = run["results"]["fgw"]["https"]
    assert plain.message_key == "no_https" and plain.metrics["redirects_to_https"] is False


def test_config_sets_the_ipv6_defaults(run: dict[str, Any]) -> None:
    cfg: config.Config = run["config"]
    assert (cfg.checks.ipv6_secondary_min, cfg.checks.ipv6_tertiary_min, cfg.checks.ipv6_probe_count) == (0.9, 0.85, 3)
    assert Path(cfg.path or "").name == "sites.toml"
