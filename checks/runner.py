"""Planning and guarded evaluation of the registered checks.

The runner, not each check, handles what is common: disabled checks become
`skip`, uncollected inputs and exceptions become `error` (an input the tool
failed to collect says why: `SiteSnapshot.failed`), and a probe that says
the monitor itself had no route makes the result `error`, never `fail`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from checks.base import REGISTRY, CheckSpec, Result, Status, Verdict
from checks.plans import Fetch, ProbePlan
from checks.snapshot import RequirementInfo, SiteInfo, SiteSnapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedCheck:
    check_id: str                      # e.g. "availability", "column:negative_list"
    spec_id: str                       # the REGISTRY key, e.g. "column"
    basis: str
    params: Mapping[str, Any] = field(default_factory=dict)
    disabled: bool = False


def spec_for(check_id: str) -> CheckSpec | None:
    """The declaration behind a result's id (a family for parameterised ids)."""
    return REGISTRY.get(check_id) or REGISTRY.get(check_id.split(":", 1)[0])


def _applies(req: RequirementInfo, site: SiteInfo) -> bool:
    return site.kind in req.applies_to and (not req.levels or site.level in req.levels)


def plan(site: SiteInfo, requirements: Sequence[RequirementInfo], settings: Mapping[str, Any],
         disabled: Collection[str] = ()) -> tuple[PlannedCheck, ...]:
    """The checks that apply to `site`, in registry order.

    `settings` are the config's [checks] thresholds, passed to every check.
    A requirement plans the parameterised check of its `type` (column:<id>, link:<id> …); one whose
    kinds/levels exclude the site is not planned at all;
    a check listed in `disabled` is planned as disabled so the report says so.
    """
    planned: list[PlannedCheck] = []
    for spec in REGISTRY.values():
        if not spec.parameterised:
            planned.append(PlannedCheck(spec.id, spec.id, spec.basis, settings, spec.id in disabled))
            continue
        for req in requirements:
            if req.type == spec.id and _applies(req, site):
                check_id = f"{spec.id}:{req.id}"
                planned.append(PlannedCheck(check_id, spec.id, req.basis, {**settings, "requirement": req},
                                            check_id in disabled or spec.id in disabled))
    return tuple(planned)


def needs_of(planned: Iterable[PlannedCheck]) -> frozenset[str]:
    """The inputs the enabled planned checks need; they decide which probes run."""
    return frozenset().union(*(REGISTRY[p.spec_id].needs for p in planned if not p.disabled))


def probe_plan(snap: SiteSnapshot, planned: Iterable[PlannedCheck]) -> ProbePlan:
    """What the probes planned from the crawl must fetch for one site: the planners of its enabled
    planned checks, run on its crawl snapshot; each URL once per probe, first planned first.

    A planner that raises fails its probe for this site (`ProbePlan.failed`, "ExcType: message"),
    never the site's other probes.
    """
    fetches: dict[str, dict[str, Fetch]] = {}
    failed: dict[str, str] = {}
    for p in planned:
        for need, planner in ({} if p.disabled else REGISTRY[p.spec_id].plans).items():
            if need in failed:
                continue
            try:
                found = planner(snap, p.params)
            except Exception as exc:
                failed[need] = f"{type(exc).__name__}: {exc}"
                fetches.pop(need, None)
                log.warning("planning %s of site %s (check %s) failed: %s", need, snap.site.id, p.check_id,
                            failed[need])
                log.debug("planning %s failed", need, exc_info=True)
                continue
            merged = fetches.setdefault(need, {})
            for fetch in found:
                merged.setdefault(fetch.url, fetch)
    return ProbePlan({need: tuple(found.values()) for need, found in fetches.items()}, failed)


def _no_route(spec: CheckSpec, snap: SiteSnapshot) -> bool:
    for need in spec.needs:
        if need.startswith("probe:"):
            probes = snap.probes_of(need.removeprefix("probe:"))
            if probes and all(p.outcome == "no_route" for p in probes):
                return True
    return False


def _guard(spec: CheckSpec, planned: PlannedCheck, snap: SiteSnapshot) -> Verdict:
    if planned.disabled:
        return Verdict(Status.SKIP, "runner.disabled")
    missing = sorted(spec.needs - snap.collected)
    broken = [need for need in missing if need in snap.failed]
    if broken:  # our own failure while collecting: say why, never judge the site on it
        return Verdict(Status.ERROR, "runner.probe_failed", {"inputs": ", ".join(broken),
                                                              "error": snap.failed[broken[0]]})
    if missing:
        return Verdict(Status.ERROR, "runner.missing_input", {"inputs": ", ".join(missing)})
    if _no_route(spec, snap):
        return Verdict(Status.ERROR, "runner.no_route")
    try:
        verdict = spec.func(snap, planned.params)
    except Exception as exc:  # a bug in one check must not cost the others
        log.error("check %s failed on site %s: %r", planned.check_id, snap.site.id, exc)
        log.debug("check %s failed", planned.check_id, exc_info=True)
        return Verdict(Status.ERROR, "runner.exception", {"error": f"{type(exc).__name__}: {exc}"})
    if verdict.key not in spec.messages:
        log.error("check %s returned unknown message key %r", planned.check_id, verdict.key)
        return Verdict(Status.ERROR, "runner.exception", {"error": f"unknown message key {verdict.key!r}"})
    return verdict


def unevaluated(planned: Sequence[PlannedCheck], reason: str) -> list[Result]:
    """One `error` result per planned check (disabled ones still `skip`) for a site whose snapshot
    could not be built or judged; `reason` says why."""
    results = []
    for p in planned:
        spec = REGISTRY[p.spec_id]
        key, params = ("runner.disabled", {}) if p.disabled else ("runner.exception", {"error": reason})
        results.append(Result(check_id=p.check_id, status=Status.SKIP if p.disabled else Status.ERROR,
                              severity=spec.severity, basis=p.basis, message_key=key, message_params=params))
    return results


def evaluate(snap: SiteSnapshot, planned: Sequence[PlannedCheck]) -> list[Result]:
    """Run each planned check on the snapshot; always one Result per planned check."""
    results = []
    for p in planned:
        spec = REGISTRY[p.spec_id]
        v = _guard(spec, p, snap)
        results.append(Result(check_id=p.check_id, status=v.status, severity=v.severity or spec.severity,
                              basis=p.basis,
                              message_key=v.key, message_params=dict(v.params), metrics=dict(v.metrics),
                              evidence=v.evidence))
    return results
