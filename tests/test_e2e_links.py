"""A full run over the link-kinds demo site alone: every link kind found and judged as its truth says.

It also reproduces the fault where one redirect to `javascript:`/`data:` made the
whole run exit 3 with no results: the run must complete and report those links dead.
"""

from datetime import date

import pytest

from monitor import config, pipeline
from monitor.demo import DemoWeb
from monitor.demo.linkcases import HOST, link_case_plans
from monitor.demo.sites import assemble

SITE = "chaoyang-wlj"


@pytest.fixture(scope="module")
def links_web() -> DemoWeb:
    with DemoWeb(sites=assemble(link_case_plans(date.today()), date.today())) as web:
        yield web


@pytest.fixture(scope="module")
def links_run(links_web: DemoWeb, tmp_path_factory: pytest.TempPathFactory) -> pipeline.RunOutcome:
    work = tmp_path_factory.mktemp("links")
    path = links_web.write_config(work / "sites.toml", storage_url=f"sqlite:///{work / 'govmon.db'}",
                                  report_dir=str(work / "reports"))
    return pipeline.execute(config.load(path), kind="demo", json_path=work / "result.json")


def _dead(outcome: pipeline.RunOutcome) -> set[tuple[str, str, str]]:
    assert outcome.results is not None, outcome.error
    result = {r.check_id: r for r in outcome.results.results[SITE]}["links:dead"]
    return {(e.source, e.url, e.detail.split()[0]) for e in result.evidence}


def test_a_run_with_javascript_and_data_redirects_completes(links_run: pipeline.RunOutcome) -> None:
    assert links_run.status == "complete", links_run.error
    assert links_run.results is not None and set(links_run.results.results) == {SITE}


def test_every_link_kind_is_judged_as_the_truth_says(links_run: pipeline.RunOutcome, links_web: DemoWeb) -> None:
    truth = links_web.truth["sites"][SITE]
    want = {(d["source"], d["target"], d["kind"]) for d in truth["dead_links"]}
    assert _dead(links_run) == want
    tags = {d["tag"] for d in truth["dead_links"]}
    assert tags >= {"a", "img", "source", "video", "audio", "track", "object", "embed", "link", "css", "background"}


def test_malformed_links_are_dead_as_written_and_redirects_without_location_are_http_3xx(
        links_run: pipeline.RunOutcome, links_web: DemoWeb) -> None:
    dead = _dead(links_run)
    page = links_web.url(HOST, "/dmt/")
    for href in ("http:/www.chaoyang.gov.test/", "http://", "http:", "http://www.ln.gov.test]/whly/",
                 "http://whly .ln.gov.test/", "http://www.chaoyang.gov.test:99999/", "file:///D:/wlj/2019年工作总结.doc",
                 "http:///images/dmt/logo.png"):
        assert (page, href, "malformed") in dead, href
    for path in ("/go/js.html", "/go/data.html", "/go/empty.html", "/go/none.html", "/go/ftp.html",
                 "/go/broken.html"):
        assert (page, links_web.url(HOST, path), "http_3xx") in dead, path
    targets = {url for _, url, _ in dead}
    assert not {u for u in targets if u.startswith(("javascript:", "mailto:", "tel:", "data:"))}


def test_skipped_schemes_are_not_counted(links_run: pipeline.RunOutcome, links_web: DemoWeb) -> None:
    assert links_run.results is not None
    result = {r.check_id: r for r in links_run.results.results[SITE]}["links:dead"]
    truth = links_web.truth["sites"][SITE]
    assert result.metrics["dead"] == len({d["target"] for d in truth["dead_links"]})
    assert result.metrics["unchecked"] == result.metrics["over_limit"] == len(truth["over_limit"])


def test_a_page_with_more_links_than_the_bound_costs_only_the_bound(
        links_run: pipeline.RunOutcome, links_web: DemoWeb) -> None:
    """The fault: one page with very many distinct links made one request per link."""
    from urllib.parse import urlsplit

    from monitor.demo.externals import DIRECTORY
    from monitor.demo.linkcases import DIRECTORY_LINKS, LINKS_PER_PAGE

    truth = links_web.truth["sites"][SITE]
    assert len(truth["over_limit"]) == DIRECTORY_LINKS - LINKS_PER_PAGE
    requested = [n for n in range(1, DIRECTORY_LINKS + 1) if links_web.requests_for(DIRECTORY, f"/zd/{n}.html")]
    assert requested == list(range(1, LINKS_PER_PAGE + 1))
    assert {urlsplit(u).path for u in truth["over_limit"]} == {
        f"/zd/{n}.html" for n in range(LINKS_PER_PAGE + 1, DIRECTORY_LINKS + 1)}
    result = {r.check_id: r for r in links_run.results.results[SITE]}["links:dead"]
    dead = {e.url for e in result.evidence}
    assert not dead & set(truth["over_limit"]), "a target past the bound is never reported dead"
    assert {u for u in dead if DIRECTORY in u} == {
        links_web.url(DIRECTORY, f"/zd/{n}.html") for n in range(10, LINKS_PER_PAGE + 1, 10)}
