"""availability: verdicts on literal snapshots."""

from datetime import UTC, datetime, timedelta

import pytest

from checks import PlannedCheck, evaluate, plan
from checks.base import Status
from checks.snapshot import History, Probe, SiteInfo, SiteSnapshot

NOW = datetime.now(UTC).replace(microsecond=0)
SITE = SiteInfo(id="s", name="双塔区人民政府", url="http://www.shuangta.gov.test/", kind="portal", level="county")
SETTINGS = {"availability_slow_s": 15.0, "availability_window_days": 7, "availability_max_failure_rate": 0.05}


def probe(outcome: str = "ok", status: int | None = 200, *, ago_h: float = 0, elapsed_ms: float = 120.0,
          **detail: object) -> Probe:
    return Probe(kind="availability", url=SITE.url, outcome=outcome, status=status,
                 at=NOW - timedelta(hours=ago_h), elapsed_ms=elapsed_ms, final_url=SITE.url, detail=detail)


def judge(current: Probe | None, history: tuple[Probe, ...] = ()) -> tuple[str, str, dict]:
    snap = SiteSnapshot(site=SITE, taken_at=NOW, collected=frozenset({"probe:availability"}),
                        probes=(current,) if current else (), history=History(availability=history))
    [planned] = [p for p in plan(SITE, (), SETTINGS) if p.check_id == "availability"]
    [result] = evaluate(snap, [planned])
    return result.status, result.message_key, dict(result.metrics)


@pytest.mark.parametrize(("current", "status", "key"), [
    pytest.param(probe(), Status.PASS, "ok", id="2xx-passes"),
    pytest.param(probe("http_5xx", 500), Status.FAIL, "down_http", id="500-fails"),
    pytest.param(probe("http_4xx", 404), Status.FAIL, "down_http", id="404-fails"),
    pytest.param(probe("dns", None, dns_kind="nxdomain"), Status.FAIL, "down_dns", id="nxdomain-fails"),
    pytest.param(probe("dns", None, dns_kind="cname_loop"), Status.FAIL, "down_cname_loop", id="cname-loop-fails-as-a-loop"),
    pytest.param(probe("timeout", None, tls_error="handshake"), Status.FAIL, "down_tls_stalled",
                 id="stalled-tls-handshake-fails-as-a-stall"),
    pytest.param(probe("refused", None), Status.FAIL, "down_refused", id="refused-fails"),
    pytest.param(probe("timeout", None), Status.FAIL, "down_timeout", id="timeout-fails"),
    pytest.param(probe("tls", None, tls_error="expired"), Status.FAIL, "down_tls", id="tls-fails"),
    pytest.param(probe("redirect_loop", 302), Status.FAIL, "down_redirect", id="redirect-loop-fails"),
    pytest.param(probe("protocol", None), Status.FAIL, "down_other", id="other-kind-fails"),
    pytest.param(probe(elapsed_ms=15_000), Status.FAIL, "slow", id="15s-counts-as-failed"),
    pytest.param(probe(elapsed_ms=14_999), Status.PASS, "ok", id="just-under-15s-passes"),
    pytest.param(None, Status.ERROR, "no_probe", id="collected-but-no-probe-is-error"),
])
def test_current_probe_decides(current: Probe | None, status: Status, key: str) -> None:
    assert judge(current)[:2] == (status, key)


def test_window_at_five_percent_fails_even_when_up_now() -> None:
    window = tuple(probe(ago_h=i) for i in range(19)) + (probe("timeout", None, ago_h=20),)
    status, key, metrics = judge(probe(), window)
    assert (status, key) == (Status.FAIL, "unstable")
    assert metrics["window_probes"] == 20 and metrics["window_failed"] == 1


def test_window_under_five_percent_passes() -> None:
    window = tuple(probe(ago_h=i) for i in range(20)) + (probe("timeout", None, ago_h=21),)
    assert judge(probe(), window)[:2] == (Status.PASS, "ok")


def test_slow_probes_in_window_count_as_failed() -> None:
    window = tuple(probe(ago_h=i) for i in range(19)) + (probe(elapsed_ms=20_000, ago_h=20),)
    assert judge(probe(), window)[:2] == (Status.FAIL, "unstable")


def test_few_probes_with_a_failure_warn_instead_of_failing() -> None:
    window = (probe(ago_h=30), probe("http_5xx", 503, ago_h=10))
    status, key, metrics = judge(probe(), window)
    assert (status, key) == (Status.WARN, "intermittent")
    assert metrics["window_failure_rate"] == 0.5


def test_latest_probe_of_the_run_is_the_current_one() -> None:
    snap = SiteSnapshot(site=SITE, taken_at=NOW, collected=frozenset({"probe:availability"}),
                        probes=(probe("timeout", None, ago_h=0), probe(ago_h=1)))
    [result] = evaluate(snap, [PlannedCheck("availability", "availability", "三(一)", SETTINGS)])
    assert (result.status, result.message_key) == (Status.FAIL, "down_timeout")


def test_evidence_names_the_homepage_and_where_it_ended() -> None:
    current = Probe(kind="availability", url=SITE.url, outcome="ok", status=200, at=NOW, elapsed_ms=80,
                    final_url=SITE.url + "index.html", title="双塔区人民政府")
    snap = SiteSnapshot(site=SITE, taken_at=NOW, collected=frozenset({"probe:availability"}), probes=(current,))
    [result] = evaluate(snap, [PlannedCheck("availability", "availability", "三(一)", SETTINGS)])
    [ev] = result.evidence
    assert (ev.url, ev.actual, ev.text) == (SITE.url, SITE.url + "index.html", "双塔区人民政府")
