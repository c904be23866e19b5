"""A full run over the named-fault demo sites alone (issue 11): CNAME loops and hostile TLS servers.

The run completes within its bounds; the links to a looping name, to a server that stalls the TLS
handshake and to one that answers it with an SSH banner are dead with their kind and a detail
that names the fault; the site whose homepage name loops is down with `dns`.
"""

from collections.abc import Iterator
from datetime import date

import pytest

from monitor import config, pipeline
from monitor.demo import DemoWeb
from monitor.demo.faultcases import (
    LOOP_HOST,
    LOOP_TARGET,
    SPLIT_LOOP_HOST,
    SPLIT_LOOP_TARGET,
    TLS_GARBAGE,
    TLS_STALL,
    fault_case_plans,
)
from monitor.demo.sites import assemble

SITE = "chaoyang-sjj"
LOOPING = "chaoyang-rsj"


@pytest.fixture(scope="module")
def faults_web() -> Iterator[DemoWeb]:
    with DemoWeb(sites=assemble(fault_case_plans(), date.today())) as web:
        yield web


@pytest.fixture(scope="module")
def faults_run(faults_web: DemoWeb, tmp_path_factory: pytest.TempPathFactory) -> pipeline.RunOutcome:
    work = tmp_path_factory.mktemp("faults")
    path = faults_web.write_config(work / "sites.toml", storage_url=f"sqlite:///{work / 'govmon.db'}",
                                   report_dir=str(work / "reports"))
    return pipeline.execute(config.load(path), kind="demo", json_path=work / "result.json")


def _results(outcome: pipeline.RunOutcome, site: str) -> dict:
    assert outcome.results is not None, outcome.error
    return {r.check_id: r for r in outcome.results.results[site]}


def test_the_run_completes_with_both_sites(faults_run: pipeline.RunOutcome) -> None:
    assert faults_run.status == "complete", faults_run.error
    assert faults_run.results is not None and set(faults_run.results.results) == {SITE, LOOPING}


def test_dead_links_match_the_truth_and_name_the_fault(faults_run: pipeline.RunOutcome, faults_web: DemoWeb) -> None:
    truth = faults_web.truth["sites"][SITE]
    evidence = {e.url: e for e in _results(faults_run, SITE)["links:dead"].evidence}
    assert {(e.source, url, e.detail.split()[0]) for url, e in evidence.items()} == {
        (d["source"], d["target"], d["kind"]) for d in truth["dead_links"]}
    url = faults_web.url
    words = {url(LOOP_HOST): f"{LOOP_HOST} → {LOOP_TARGET} → {LOOP_HOST}",
             url(SPLIT_LOOP_HOST): f"{SPLIT_LOOP_HOST} → {SPLIT_LOOP_TARGET} → {SPLIT_LOOP_HOST}",
             url(TLS_STALL, scheme="https"): "TLS handshake stalled",
             url(TLS_GARBAGE, scheme="https"): "not a TLS server"}
    kinds = {url(LOOP_HOST): "dns", url(SPLIT_LOOP_HOST): "dns", url(TLS_STALL, scheme="https"): "timeout",
             url(TLS_GARBAGE, scheme="https"): "tls"}
    for target, said in words.items():
        found = evidence[target]
        assert found.detail.split()[0] == kinds[target]
        assert said in f"{found.detail} {found.text or ''} {found.actual or ''}", found


def test_a_homepage_name_in_a_cname_loop_is_down_and_fails_ipv6_dns(faults_run: pipeline.RunOutcome) -> None:
    results = _results(faults_run, LOOPING)
    assert (results["availability"].status.value, results["availability"].message_key) == ("fail", "down_cname_loop")
    assert (results["ipv6:dns"].status.value, results["ipv6:dns"].message_key) == ("fail", "cname_loop")
