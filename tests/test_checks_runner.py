"""The runner's guards and the planner, on the real registry plus a test check."""

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from dataclasses import replace

import pytest

from checks import REGISTRY, evaluate, needs_of, plan, probe_plan, unevaluated
from checks.base import RUNNER_MESSAGES
from checks.base import Severity, Status, T, Verdict, check
from checks.plans import COLUMN, FOOTER, LINKS_V6, Fetch
from checks.snapshot import Probe, RequirementInfo, SiteInfo, SiteSnapshot

NOW = datetime.now(UTC)
PORTAL = SiteInfo(id="p", name="门户", url="http://p.test/", kind="portal", level="county")
FINANCE = SiteInfo(id="f", name="财政局", url="http://f.test/", kind="finance", level="city")
NEG = RequirementInfo(id="negative_list", title="市场准入负面清单", keywords=("负面清单",),
                      applies_to=("portal", "commerce"), basis="一(一)4", type="colx")
DECISIONS = RequirementInfo(id="major_decisions", title="重大行政决策事项目录", keywords=("重大行政决策",),
                            applies_to=("portal",), levels=("city",), basis="二(一)3", deadline="03-31", type="colx")


@pytest.fixture
def probe_checks() -> Iterator[None]:
    """Registers a plain and a parameterised check for the duration of a test."""
    messages = {"ok": T(zh="好", en="fine"), "boom": T(zh="坏", en="bad")}

    @check(id="testonly", title=T(zh="测", en="t"), failure_title=T(zh="测", en="t"), description=T(zh="测", en="t"),
           basis="b", severity=Severity.MINOR, needs={"probe:v6"}, messages=messages)
    def testonly(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
        if params.get("explode"):
            raise RuntimeError("kaput")
        if params.get("bad_key"):
            return Verdict(Status.PASS, "nonexistent")
        if params.get("veto"):
            return Verdict(Status.FAIL, "boom", severity=Severity.VETO)
        return Verdict(Status.PASS, "ok")

    @check(id="colx", title=T(zh="栏", en="c"), failure_title=T(zh="栏", en="c"), description=T(zh="栏", en="c"),
           basis="", severity=Severity.MAJOR, needs={"crawl"}, messages=messages, parameterised=True)
    def colx(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
        return Verdict(Status.FAIL, "boom", {}, {"req": params["requirement"].id})

    yield
    del REGISTRY["testonly"], REGISTRY["colx"]


def snap(collected: set[str], probes: tuple[Probe, ...] = ()) -> SiteSnapshot:
    return SiteSnapshot(site=PORTAL, taken_at=NOW, collected=frozenset(collected), probes=probes)


def only(check_id: str, site: SiteInfo = PORTAL, **params: Any) -> list:
    return [p for p in plan(site, (NEG, DECISIONS), params) if p.check_id == check_id]


def test_parameterised_checks_expand_per_applicable_requirement(probe_checks: None) -> None:
    ids = [p.check_id for p in plan(PORTAL, (NEG, DECISIONS), {})]
    assert "colx:negative_list" in ids
    assert "colx:major_decisions" not in ids, "levels=city excludes a county portal"
    city = SiteInfo(id="c", name="市", url="http://c.test/", kind="portal", level="city")
    assert "colx:major_decisions" in [p.check_id for p in plan(city, (NEG, DECISIONS), {})]
    assert not [p for p in plan(FINANCE, (NEG,), {}) if p.spec_id == "colx"], "kind excluded"


def test_a_requirement_plans_only_the_check_of_its_type(probe_checks: None) -> None:
    column = replace(NEG, type="column")
    assert [p.check_id for p in plan(PORTAL, (column,), {}) if p.spec_id in ("link", "document", "pairing", "colx")] == []
    assert "column:negative_list" in [p.check_id for p in plan(PORTAL, (column,), {})]
    for kind in ("link", "document", "pairing"):
        ids = [p.check_id for p in plan(PORTAL, (replace(NEG, type=kind),), {}) if p.check_id.endswith(":negative_list")]
        assert ids == [f"{kind}:negative_list"], kind


def test_planned_column_carries_the_requirement_basis(probe_checks: None) -> None:
    [p] = only("colx:negative_list")
    assert p.basis == "一(一)4" and p.params["requirement"] is NEG


def test_missing_input_is_error_not_pass(probe_checks: None) -> None:
    [r] = evaluate(snap(set()), only("testonly"))
    assert (r.status, r.message_key, r.message_params["inputs"]) == (Status.ERROR, "runner.missing_input", "probe:v6")


def test_an_input_the_tool_failed_to_collect_is_error_with_the_reason(probe_checks: None) -> None:
    failing = SiteSnapshot(site=PORTAL, taken_at=NOW, collected=frozenset(),
                           failed={"probe:v6": "RuntimeError: kaput"})
    [r] = evaluate(failing, only("testonly"))
    assert (r.status, r.message_key, r.message_params) == (
        Status.ERROR, "runner.probe_failed", {"inputs": "probe:v6", "error": "RuntimeError: kaput"})
    text = RUNNER_MESSAGES[r.message_key]
    assert text.zh.format(**r.message_params).startswith("探测出错：RuntimeError: kaput")
    assert "failed: RuntimeError: kaput" in text.en.format(**r.message_params)


def test_a_site_that_could_not_be_evaluated_gets_an_error_per_planned_check(probe_checks: None) -> None:
    planned = [*only("testonly"), *[p for p in plan(PORTAL, (NEG,), {}, disabled={"colx"}) if p.spec_id == "colx"]]
    r1, r2 = unevaluated(planned, "StorageError: gone")
    assert (r1.check_id, r1.status, r1.message_key, r1.message_params) == (
        "testonly", Status.ERROR, "runner.exception", {"error": "StorageError: gone"})
    assert (r2.check_id, r2.status, r2.message_key) == ("colx:negative_list", Status.SKIP, "runner.disabled")


def test_no_route_probe_is_error_not_fail(probe_checks: None) -> None:
    p = Probe(kind="v6", url="http://p.test/", outcome="no_route", at=NOW)
    [r] = evaluate(snap({"probe:v6"}, (p,)), only("testonly"))
    assert (r.status, r.message_key) == (Status.ERROR, "runner.no_route")


def test_exception_in_a_check_is_error_and_others_still_run(probe_checks: None) -> None:
    planned = [*only("testonly", explode=True), *only("colx:negative_list")]
    r1, r2 = evaluate(snap({"probe:v6", "crawl"}), planned)
    assert (r1.status, r1.message_key) == (Status.ERROR, "runner.exception")
    assert "RuntimeError: kaput" in r1.message_params["error"]
    assert (r2.status, r2.metrics) == (Status.FAIL, {"req": "negative_list"})


def test_unknown_message_key_is_error(probe_checks: None) -> None:
    [r] = evaluate(snap({"probe:v6"}), only("testonly", bad_key=True))
    assert r.status == Status.ERROR


def test_disabled_check_is_skip_and_needs_nothing(probe_checks: None) -> None:
    planned = [p for p in plan(PORTAL, (NEG,), {}, disabled={"testonly", "colx:negative_list"})
               if p.spec_id in {"testonly", "colx"}]
    assert all(p.disabled for p in planned)
    assert needs_of(planned) == frozenset()
    assert {r.status for r in evaluate(snap(set()), planned)} == {Status.SKIP}


def test_needs_are_the_union_of_enabled_checks(probe_checks: None) -> None:
    planned = [p for p in plan(PORTAL, (NEG,), {}) if p.spec_id in {"testonly", "colx"}]
    assert needs_of(planned) == {"probe:v6", "crawl"}


def test_result_carries_severity_and_basis(probe_checks: None) -> None:
    [r] = evaluate(snap({"crawl"}), only("colx:negative_list"))
    assert (r.severity, r.basis) == (Severity.MAJOR, "一(一)4")


def test_a_verdict_may_raise_its_own_severity(probe_checks: None) -> None:
    [plain] = evaluate(snap({"probe:v6"}), only("testonly"))
    [veto] = evaluate(snap({"probe:v6"}), only("testonly", veto=True))
    assert (plain.severity, veto.severity) == (Severity.MINOR, Severity.VETO)


@pytest.fixture
def planning_checks() -> Iterator[None]:
    """A parameterised check planning one column probe per requirement (one URL shared), and a check
    planning links-v6 probes that raises when told to."""
    messages = {"ok": T(zh="好", en="fine")}
    text = T(zh="测", en="t")

    def columns(snap: SiteSnapshot, params: Mapping[str, Any]) -> tuple[Fetch, ...]:
        return (Fetch(f"http://p.test/{params['requirement'].id}/"), Fetch("http://p.test/shared/"))

    def links(snap: SiteSnapshot, params: Mapping[str, Any]) -> tuple[Fetch, ...]:
        if params.get("explode"):
            raise KeyError("lost")
        return (Fetch("http://p.test/a/", "secondary"), Fetch("http://p.test/b/", "tertiary"))

    @check(id="plancol", title=text, failure_title=text, description=text, basis="", severity=Severity.MAJOR,
           needs={"crawl"}, messages=messages, parameterised=True, plans={COLUMN: columns})
    def plancol(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
        return Verdict(Status.PASS, "ok")

    @check(id="planlinks", title=text, failure_title=text, description=text, basis="b", severity=Severity.MINOR,
           needs={"crawl", LINKS_V6}, messages=messages, plans={LINKS_V6: links})
    def planlinks(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
        return Verdict(Status.PASS, "ok")

    yield
    del REGISTRY["plancol"], REGISTRY["planlinks"]


def planned_of(*spec_ids: str, disabled: frozenset[str] | set[str] = frozenset(), **params: Any) -> list:
    city = SiteInfo(id="c", name="市", url="http://c.test/", kind="portal", level="city")
    reqs = tuple(replace(r, type="plancol") for r in (NEG, DECISIONS))
    return [p for p in plan(city, reqs, params, disabled) if p.spec_id in spec_ids]


def test_a_probe_plan_gathers_what_the_enabled_checks_plan_each_url_once(planning_checks: None) -> None:
    got = probe_plan(snap({"crawl"}), planned_of("plancol", "planlinks"))
    assert got.urls(COLUMN) == ("http://p.test/negative_list/", "http://p.test/shared/",
                                "http://p.test/major_decisions/")
    assert got.fetches[LINKS_V6] == (Fetch("http://p.test/a/", "secondary"), Fetch("http://p.test/b/", "tertiary"))
    assert got.failed == {}
    partly = probe_plan(snap({"crawl"}), planned_of("plancol", "planlinks",
                                                    disabled={"planlinks", "plancol:negative_list"}))
    assert (partly.urls(COLUMN), LINKS_V6 in partly.fetches) == (
        ("http://p.test/major_decisions/", "http://p.test/shared/"), False)


def test_a_planner_that_raises_fails_its_probe_only_with_the_reason(planning_checks: None) -> None:
    got = probe_plan(snap({"crawl"}), planned_of("plancol", "planlinks", explode=True))
    assert got.failed == {LINKS_V6: "KeyError: 'lost'"}
    assert LINKS_V6 not in got.fetches and len(got.urls(COLUMN)) == 3


def test_a_planner_for_a_probe_outside_the_vocabulary_is_refused() -> None:
    text = T(zh="测", en="t")
    with pytest.raises(ValueError, match="plans unknown probes \\['probe:tls'\\]"):
        check(id="planbad", title=text, failure_title=text, description=text, basis="", severity=Severity.MINOR,
              needs={"probe:tls"}, messages={}, plans={"probe:tls": lambda snap, params: ()})(
            lambda snap, params: Verdict(Status.PASS, "ok"))
    assert "planbad" not in REGISTRY


def test_the_registry_plans_the_crawl_derived_probes_of_the_national_checks() -> None:
    assert {spec.id: set(spec.plans) for spec in REGISTRY.values() if spec.plans} == {
        "ipv6:links": {LINKS_V6}, "footer": {FOOTER}, "column": {COLUMN}}
