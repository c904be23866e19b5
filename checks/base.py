"""Declarations shared by all checks: statuses, texts, results, the registry.

Pure: no I/O, no clock, standard library only.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from checks.plans import PLANNED, Planner
from checks.snapshot import SiteSnapshot

LANGUAGES = ("zh", "en")


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"   # the tool could not decide; never counts as pass
    SKIP = "skip"     # disabled in config


class Severity(StrEnum):
    VETO = "veto"     # 单项否决 indicators: 站点无法访问, 首页不更新, 空白栏目
    MAJOR = "major"
    MINOR = "minor"


@dataclass(frozen=True)
class Text:
    zh: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.zh

    def placeholders(self) -> dict[str, set[str]]:
        return {lang: {f for _, f, _, _ in string.Formatter().parse(self.get(lang)) if f}
                for lang in LANGUAGES}


T = Text


@dataclass(frozen=True)
class Evidence:
    url: str
    source: str | None = None       # the page the url was found on
    detail: str | None = None       # kind / code / reason
    text: str | None = None         # link text or snippet
    expected: str | None = None
    actual: str | None = None


@dataclass(frozen=True)
class Verdict:
    """What a check function returns; the runner turns it into a Result."""

    status: Status
    key: str                                   # a key of the spec's messages
    params: Mapping[str, Any] = field(default_factory=dict)   # fills the message placeholders
    metrics: Mapping[str, Any] = field(default_factory=dict)  # numbers, strings and ISO dates only
    evidence: tuple[Evidence, ...] = ()
    severity: Severity | None = None   # overrides the spec's for this result (e.g. 空白栏目 is a veto)


@dataclass(frozen=True)
class Result:
    check_id: str
    status: Status
    severity: Severity
    basis: str
    message_key: str
    message_params: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()


CheckFunc = Callable[[SiteSnapshot, Mapping[str, Any]], Verdict]


@dataclass(frozen=True)
class CheckSpec:
    id: str                                    # a SPEC id; a family like "column" is expanded per requirement
    title: Text
    failure_title: Text
    description: Text
    basis: str
    severity: Severity
    needs: frozenset[str]                      # inputs: "crawl", "dns", "probe:<kind>"
    messages: Mapping[str, Text]
    func: CheckFunc = field(compare=False, repr=False)
    parameterised: bool = False                # True for column:<requirement id>
    plans: Mapping[str, Planner] = field(default_factory=dict, compare=False, repr=False)
    """The probes this check derives from the crawl (checks.plans.PLANNED), each with its planner."""


REGISTRY: dict[str, CheckSpec] = {}

RUNNER_MESSAGES: Mapping[str, Text] = {
    "runner.missing_input": Text(zh="未采集到所需数据：{inputs}", en="Input not collected: {inputs}"),
    "runner.exception": Text(zh="检查出错：{error}", en="The check failed: {error}"),
    "runner.probe_failed": Text(zh="探测出错：{error}（{inputs}）", en="The probe failed: {error} ({inputs})"),
    "runner.no_route": Text(zh="监测主机没有 IPv6 路由，无法判断", en="The monitor has no IPv6 route; cannot decide"),
    "runner.disabled": Text(zh="已在配置中停用", en="Disabled in the config"),
}


def check(*, id: str, title: Text, failure_title: Text, description: Text, basis: str,
          severity: Severity, needs: set[str], messages: Mapping[str, Text],
          parameterised: bool = False, plans: Mapping[str, Planner] | None = None
          ) -> Callable[[CheckFunc], CheckFunc]:
    """Declare a check and add it to REGISTRY; ids must be unique, planned probes from checks.plans.PLANNED."""

    def register(func: CheckFunc) -> CheckFunc:
        if id in REGISTRY:
            raise ValueError(f"check id {id!r} declared twice")
        unknown = sorted(set(plans or {}) - PLANNED)
        if unknown:
            raise ValueError(f"check {id!r} plans unknown probes {unknown}; known: {sorted(PLANNED)}")
        REGISTRY[id] = CheckSpec(id=id, title=title, failure_title=failure_title,
                                 description=description, basis=basis, severity=severity,
                                 needs=frozenset(needs), messages=dict(messages), func=func,
                                 parameterised=parameterised, plans=dict(plans or {}))
        return func

    return register


def message_text(spec: CheckSpec | None, key: str) -> Text | None:
    """The template for a result's message key, from the spec or the runner's own."""
    if key in RUNNER_MESSAGES:
        return RUNNER_MESSAGES[key]
    return spec.messages.get(key) if spec else None
