"""A full run on the demo web against its ground truth (one generator, many assertions)."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jsonschema
import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from checks.scope import SiteScope
from monitor import config, db, ingest, pipeline, store
from monitor.demo import DemoWeb
from reports import export, pages


def results_by_site(outcome: pipeline.RunOutcome) -> dict[str, dict[str, object]]:
    assert outcome.results is not None, outcome.error
    return {site: {r.check_id: r for r in rs} for site, rs in outcome.results.results.items()}


def test_run_completes_with_every_configured_site(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, _ = demo_run
    assert outcome.status == "complete"
    listed = {sid for sid, s in demo_web.truth["sites"].items() if s["listed"]}
    assert set(results_by_site(outcome)) == listed


def test_availability_matches_ground_truth(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, _ = demo_run
    got = {sid: str(checks["availability"].status) for sid, checks in results_by_site(outcome).items()}
    want = {sid: s["availability"] for sid, s in demo_web.truth["sites"].items() if s["listed"]}
    assert got == want


def test_availability_figures_match_the_homepage_truth(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, _ = demo_run
    for sid, checks in results_by_site(outcome).items():
        truth = demo_web.truth["sites"][sid]["homepage"]
        metrics = checks["availability"].metrics
        assert (metrics["outcome"], metrics["status"]) == (truth["kind"], truth["status"]), sid
        if truth["kind"] == "ok":
            assert metrics["final_url"] == truth["final_url"], sid


def test_https_matches_ground_truth(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, _ = demo_run
    got = {sid: str(checks["https"].status) for sid, checks in results_by_site(outcome).items()}
    want = {sid: s["https"] for sid, s in demo_web.truth["sites"].items() if s["listed"]}
    assert got == want
    assert want["chaoyang"] == "pass" and {"warn", "error"} <= set(want.values())
    model = results_by_site(outcome)["chaoyang"]["https"].metrics
    assert (model["redirects_to_https"], model["issuer"]) == (True, "CN=govmon 演示网根证书,O=govmon 演示网")


def listed(demo_web: DemoWeb) -> dict[str, dict]:
    return {sid: s for sid, s in demo_web.truth["sites"].items() if s["listed"]}


def test_links_dead_status_matches_ground_truth(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, _ = demo_run
    got = {sid: str(checks["links:dead"].status) for sid, checks in results_by_site(outcome).items()}
    assert got == {sid: s["links_dead"] for sid, s in listed(demo_web).items()}


def test_every_dead_link_is_found_with_its_kind_and_nothing_else(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, _ = demo_run
    for sid, checks in results_by_site(outcome).items():
        truth = listed(demo_web)[sid]
        if truth["links_dead"] == "error":
            continue
        result = checks["links:dead"]
        got = {(e.source, e.url, e.detail.split()[0]) for e in result.evidence}
        want = {(d["source"], d["target"], d["kind"]) for d in truth["dead_links"]}
        assert got == want, sid
        assert result.metrics["dead"] == len({d["target"] for d in truth["dead_links"]}), sid
        assert not got & {(src, t, k) for src, t, k in got if t in truth["not_dead"]}, sid


def test_shared_dead_targets_are_requested_once_per_run(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, work = demo_run
    engine = db.make_engine(f"sqlite:///{work / 'govmon.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select url, count(*) from link_target where run_id = :r group by url"),
                            {"r": outcome.run_id}).all()
    engine.dispose()
    assert rows and all(n == 1 for _, n in rows)
    shared = {t["target"] if isinstance(t, dict) else t for t in demo_web.truth["shared_dead"]}
    assert shared <= {url for url, _ in rows}


def test_freshness_matches_ground_truth(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, _ = demo_run
    for sid, checks in results_by_site(outcome).items():
        truth = listed(demo_web)[sid]
        result = checks["freshness:homepage"]
        assert str(result.status) == truth["freshness"], sid
        if truth["freshness"] != "error":
            assert (result.metrics["latest"], result.metrics["source"]) == (
                truth["homepage_latest"], truth["freshness_source"]), sid


def test_freshness_reads_dates_in_context(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, _ = demo_run
    results = results_by_site(outcome)
    today = demo_web.truth["today"]
    # year-less MM-DD dates of last year (their URLs say so) and a headline holding yesterday's 月日
    yearless = results["longquan-czj"]["freshness:homepage"]
    truth = listed(demo_web)["longquan-czj"]
    assert (str(yearless.status), yearless.metrics["latest"]) == ("fail", truth["homepage_latest"])
    assert truth["homepage_latest"][:4] < today[:4]
    # the date a reader sees wins over a <meta name="PubDate"> of today, which stays recorded
    meta = results["longquan-scjg"]["freshness:homepage"]
    assert (str(meta.status), meta.metrics["latest"]) == ("fail", listed(demo_web)["longquan-scjg"]["homepage_latest"])
    assert meta.metrics["meta_latest"] == today


def test_robots_disallowed_pages_are_never_requested(demo_run: tuple, demo_web: DemoWeb) -> None:
    for truth in listed(demo_web).values():
        for url in truth["robots_disallowed"]:
            parts = urlsplit(url)
            path_qs = parts.path + (f"?{parts.query}" if parts.query else "")
            assert demo_web.requests_for(parts.hostname, path_qs) == 0, url


def test_robots_refused_links_are_counted_apart_never_as_checked(demo_run: tuple, demo_web: DemoWeb) -> None:
    """The fault: robots-refused link targets were counted as checked, and the check passed on them."""
    outcome, _ = demo_run
    results = results_by_site(outcome)
    refusing = [sid for sid, truth in listed(demo_web).items() if truth["robots_disallowed"]]
    assert refusing, "the demo has sites whose robots.txt refuses linked pages"
    for sid in refusing:
        result = results[sid]["links:dead"]
        refused = set(listed(demo_web)[sid]["robots_disallowed"])
        assert result.metrics["robots"] == len(refused), sid
        if str(result.status) == "pass":
            assert result.message_key == "ok_partial" and result.message_params["robots"] == len(refused), sid


def test_json_validates_and_agrees_with_the_database(demo_run: tuple) -> None:
    outcome, work = demo_run
    doc = json.loads((work / "result.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, json.loads(export.SCHEMA_FILE.read_text(encoding="utf-8")))
    from_json = {s["id"]: {c["id"]: c["status"] for c in s["checks"]} for s in doc["sites"]}
    from_db = {sid: {cid: str(r.status) for cid, r in checks.items()} for sid, checks in results_by_site(outcome).items()}
    assert from_json == from_db
    assert doc["run"]["kind"] == "demo"


def test_report_lists_every_site_with_its_status(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, work = demo_run
    assert outcome.report is not None and outcome.report.is_file()
    html = BeautifulSoup(outcome.report.read_text(encoding="utf-8"), "lxml")
    names = {a.get_text() for a in html.select("table.matrix tbody .site a")}
    assert names == {s["name"] for s in demo_web.truth["sites"].values() if s["listed"]}
    index = BeautifulSoup((work / "reports" / "index.html").read_text(encoding="utf-8"), "lxml")
    assert index.select_one(f'a[href="runs/{outcome.run_id}/index.html"]') is not None


def test_scores_follow_the_results_and_roll_up_on_the_run_page(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, work = demo_run
    by_site = results_by_site(outcome)
    scores = {s["id"]: s["score"] for s in json.loads((work / "result.json").read_text(encoding="utf-8"))["sites"]}
    vetoed = {sid for sid, checks in by_site.items()
              if any(str(r.status) == "fail" and str(r.severity) == "veto" for r in checks.values())}
    down_or_stale = {sid for sid, t in listed(demo_web).items() if "fail" in (t["availability"], t["freshness"])}
    assert down_or_stale and down_or_stale <= vetoed, "站点无法访问 and 网站不更新 are 单项否决"
    assert {sid for sid, s in scores.items() if s["vetoes"]} == vetoed
    assert all(scores[sid]["grade"] == "fail" and scores[sid]["total"] <= 59 for sid in vetoed)
    for sid, s in scores.items():
        undecided = {cid for cid, r in by_site[sid].items() if str(r.status) in ("error", "skip")}
        assert set(s["unscored"]) == undecided, sid
        assert s["points"] == round(100 - sum(d["points"] for d in s["deductions"]), 2), sid
    page = BeautifulSoup(outcome.report.read_text(encoding="utf-8"), "lxml")
    cells = [c.get_text(strip=True) for c in page.select("table.rollup tbody.group-all tr:first-child > *")]
    mean = sum(s["total"] for s in scores.values()) / len(scores)
    assert cells[1:] == [str(len(scores)), str(sum(s["grade"] != "fail" for s in scores.values())),
                         str(len(vetoed)), f"{mean:.2f}".rstrip("0").rstrip(".")]
    site_page = outcome.report.parent / pages.site_href(sorted(vetoed)[0])
    card = BeautifulSoup(site_page.read_text(encoding="utf-8"), "lxml").select_one(".score-card")
    assert card.select_one(".total").get_text() == f"{scores[sorted(vetoed)[0]]['total']:g}"


def govmon(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "160"})


def test_check_exit_codes_follow_the_result(demo_web: DemoWeb, demo_config_path: Path, tmp_path: Path) -> None:
    sites = demo_web.truth["sites"]
    # The model site passes every check, https included (HTTP redirects to HTTPS with a certificate of
    # the demo CA, the config's ca_bundle), and the exit code must say so.
    good = govmon("check", sites["chaoyang"]["url"], "--config", str(demo_config_path),
                  "--json", str(tmp_path / "good.json"), cwd=tmp_path)
    assert good.returncode == 0, good.stdout
    assert "站点可访问" in good.stdout and "JSON 数据：" in good.stdout   # checks are listed by their titles
    assert "报告：" not in good.stdout, "a check stores nothing and writes no report without --store"
    statuses = {c["id"]: c["status"] for c in json.loads((tmp_path / "good.json").read_text())["sites"][0]["checks"]}
    assert statuses["https"] == "pass"
    assert set(statuses.values()) == {"pass"}, statuses
    bad = govmon("check", sites["scjg"]["url"], "--config", str(demo_config_path), cwd=tmp_path)
    assert bad.returncode == 1, bad.stderr
    assert "HTTP 500" in bad.stdout and "Traceback" not in bad.stderr


def test_check_of_an_unconfigured_url_uses_crawl_defaults(demo_web: DemoWeb, demo_config_path: Path,
                                                          tmp_path: Path) -> None:
    url = demo_web.url("lab.demo.test", "/status/404")
    done = govmon("check", url, "--config", str(demo_config_path), "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    [site] = json.loads((tmp_path / "r.json").read_text())["sites"]
    assert site["id"] == "lab-demo-test" and site["checks"][0]["metrics"]["status"] == 404


def test_killed_run_is_marked_failed_and_never_shown(demo_web: DemoWeb, demo_config_path: Path,
                                                     tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'govmon.db'}")
    child = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(demo_config_path)],
                             cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait until the run row exists, then kill mid-run
            try:
                with engine.connect() as conn:
                    if conn.execute(sa.text("select count(*) from run where status='running'")).scalar():
                        break
            except sa.exc.OperationalError:
                pass
            time.sleep(0.05)
        else:
            pytest.fail("the run never started")
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    status = govmon("status", "--config", str(demo_config_path), cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    with db.session_factory(engine)() as session:
        runs = store.list_runs(session, statuses=("running", "complete", "failed", "interrupted"))
        assert [(r.status, r.error.startswith("abandoned")) for r in runs] == [("failed", True)]
        assert store.list_runs(session) == [], "a killed run is never listed as complete"
    report = govmon("report", "--config", str(demo_config_path), cwd=tmp_path)
    assert report.returncode == 2 and "no complete run" in report.stderr
    engine.dispose()


def test_check_of_an_unknown_hostname_says_nxdomain(demo_web: DemoWeb, demo_config_path: Path, tmp_path: Path) -> None:
    url = demo_web.url("nosuch.chaoyang.gov.test", "/")
    done = govmon("check", url, "--config", str(demo_config_path), "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "域名无法解析（域名不存在）" in done.stdout   # nxdomain, in words
    [site] = json.loads((tmp_path / "r.json").read_text())["sites"]
    [availability] = [c for c in site["checks"] if c["id"] == "availability"]
    assert (availability["status"], availability["message"]["params"]["dns_kind"]) == ("fail", "nxdomain")


# ------------------------------------------------------------------ site scope (checks.scope)

SCOPE_SITES = ("longshan", "longshan-czj", "nantai", "shuangta", "nanpiao-yshj")


def crawled_pages(work: Path, run_id: str, site_id: str, scope: SiteScope) -> set[str]:
    """The final URLs of the 2xx HTML answers in scope that the run's crawl stored for a site."""
    engine = db.make_engine(f"sqlite:///{work / 'govmon.db'}")
    with db.session_factory(engine)() as session:
        pages, _ = store.crawl_of(session, run_id, site_id) or ((), ())
    engine.dispose()
    return {p.final_url for p in pages if p.status is not None and 200 <= p.status < 300
            and "html" in p.content_type and scope.covers(p.final_url)}


def test_pages_on_every_host_in_scope_are_crawled_as_the_truth_says(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, work = demo_run
    for sid in SCOPE_SITES:
        truth, site = listed(demo_web)[sid], demo_web.site(sid)
        assert truth["pages"] is not None, sid
        got = crawled_pages(work, outcome.run_id, sid, SiteScope.of(truth["url"], site.extra_hosts, site.scope))
        assert got == set(truth["page_urls"]), sid
    hosts = {urlsplit(u).hostname for u in listed(demo_web)["longshan"]["page_urls"]}
    assert hosts == {"www.longshan.gov.test", "xxgk.longshan.gov.test", "longshan.gov.test", "czj.longshan.gov.test"}
    assert {urlsplit(u).hostname for u in listed(demo_web)["longshan-czj"]["page_urls"]} == {"czj.longshan.gov.test"}
    assert {urlsplit(u).hostname for u in listed(demo_web)["nantai"]["page_urls"]} == {"www.nantai.gov.test"}


def test_dead_links_on_a_subdomain_are_the_site_findings(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, _ = demo_run
    results = results_by_site(outcome)
    longshan = results["longshan"]["links:dead"]
    sources = {urlsplit(e.source or "").hostname for e in longshan.evidence}
    assert str(longshan.status) == "warn" and sources == {"xxgk.longshan.gov.test", "longshan.gov.test"}
    # the host-scoped portal links its 信息公开 platform, whose homepage has a dead link: not its finding
    nantai = results["nantai"]["links:dead"]
    assert str(nantai.status) == "pass" and nantai.evidence == ()
    # the department's links up to the portal are external: checked, never crawled as its pages
    portal = demo_web.url("www.longshan.gov.test", "/")
    assert portal in listed(demo_web)["longshan-czj"]["not_dead"]


def test_a_column_on_a_subdomain_in_scope_is_judged_from_the_crawl(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, _ = demo_run
    results = results_by_site(outcome)
    inside = results["longshan"]["column:negative_list"]
    truth = listed(demo_web)["longshan"]["columns"]["negative_list"]
    assert (inside.metrics["url"], inside.metrics["where"], inside.metrics["items"], inside.metrics["latest"]) == (
        truth["url"], "nav", truth["items"], truth["latest"])
    assert urlsplit(truth["url"]).hostname == "xxgk.longshan.gov.test" and inside.message_key != "column.unexamined"
    outside = results["nantai"]["column:negative_list"]
    assert (outside.metrics["where"], outside.metrics["items"]) == ("host", listed(demo_web)["nantai"]["columns"][
        "negative_list"]["items"])


# ------------------------------------------------------------------ crawl traps (issue 11)

def test_trap_cuts_keep_the_page_budget_and_are_recorded(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, work = demo_run
    truth, site = listed(demo_web)["longtan"], demo_web.site("longtan")
    got = crawled_pages(work, outcome.run_id, "longtan", SiteScope.of(truth["url"], site.extra_hosts, site.scope))
    assert got == set(truth["page_urls"]) and len(got) == truth["pages"] < truth["crawl"]["max_pages"]
    engine = db.make_engine(f"sqlite:///{work / 'govmon.db'}")
    with db.session_factory(engine)() as session:
        events = ingest.load_events(session, outcome.run_id, "longtan")
    engine.dispose()
    assert {e.url for e in events if e.kind == "trap"} == set(truth["trap_cuts"])
    assert "max_pages" not in {e.kind for e in events}
    # the cut links are still links: checked once as targets, never followed to the next step of the trap
    for beyond in ("/hdjl/ldrc/?month=-1", "/hdjl/ldrc/?month=14", "/gzdt/index_4.html"):
        assert demo_web.requests_for("www.longtan.gov.test", beyond) == 0, beyond
    assert str(results_by_site(outcome)["longtan"]["links:dead"].status) == truth["links_dead"] == "pass"


def site_page(outcome: pipeline.RunOutcome, site_id: str) -> BeautifulSoup:
    assert outcome.report is not None
    return BeautifulSoup((outcome.report.parent / f"{site_id}.html").read_text(encoding="utf-8"), "lxml")


def test_an_unreachable_site_is_one_item_with_the_checks_it_kept_from_judging(demo_run: tuple,
                                                                               demo_web: DemoWeb) -> None:
    outcome, _ = demo_run
    down = [sid for sid, s in listed(demo_web).items() if s["homepage"]["kind"] != "ok"]
    assert len(down) >= 3
    for sid in down:
        page = site_page(outcome, sid)
        items = page.select("ol#fix-list > li")
        assert items[0].select_one("h3 a")["href"] == "#check-availability", sid
        assert items[0].select_one("h3").get_text(strip=True) == "站点无法访问", sid
        errors = {f"#check-{cid.replace(':', '-')}" for cid, r in results_by_site(outcome)[sid].items()
                  if str(r.status) == "error"}
        folded = {a["href"] for a in page.select("ol#fix-list .folded li a")}
        assert errors and errors <= folded, f"{sid}: every undecided check is explained by an item"
        assert {"#check-links-dead", "#check-freshness-homepage"} <= {a["href"] for a in items[0].select(".folded a")}
        assert "首页无法访问，未能检查" in items[0].select_one(".folded").get_text(), sid
        assert not page.select("li.f-error"), f"{sid}: nothing is left undecided"
        others = {li.select_one("h3").get_text(strip=True) for li in items[1:]}
        assert others <= {"未启用 HTTPS", "域名无 IPv6 解析"}, sid


def test_a_dead_link_item_names_the_page_and_the_link_to_fix(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, _ = demo_run
    failing = {sid: s for sid, s in listed(demo_web).items() if s["links_dead"] in ("fail", "warn")}
    assert failing
    for sid in failing:
        result = results_by_site(outcome)[sid]["links:dead"]
        first = result.evidence[0]
        item = next(li for li in site_page(outcome, sid).select("ol#fix-list > li")
                    if li.select_one("h3 a")["href"] == "#check-links-dead")
        advice = item.select_one(".advice").get_text()
        assert f"{first.source} 上的链接" in advice and first.url in advice, sid


def test_items_carry_the_owner_and_a_deadline_by_severity(demo_run: tuple, demo_web: DemoWeb) -> None:
    outcome, work = demo_run
    cfg = config.load(work / "sites.toml")
    zone = ZoneInfo(cfg.schedule.timezone)
    run_day = outcome.results.run.started_at.astimezone(zone).date()
    days = cfg.report.rectify_days.model_dump()
    owned = {s.id: s for s in cfg.sites if s.owner}
    assert owned, "the demo config names some owners"
    for site in cfg.sites:
        page = site_page(outcome, site.id)
        for li in page.select("ol#fix-list > li"):
            severity = next(c for c in li.select_one(".sev")["class"] if c.startswith("sev-")).removeprefix("sev-")
            duty = li.select_one("dl.duty").get_text(" ", strip=True)
            assert f"{run_day + timedelta(days=days[severity]):%Y年%m月%d日}（UTC+8）" in duty, site.id
            assert (site.owner or site.name) in duty and (site.contact or "未指定") in duty, site.id
