"""Declarations shared by all checks: statuses, texts, labels, results, the registry.

Every word a reader sees about a result is declared here or with the check that
produces it: its messages, the labels of its metrics (with the vocabulary of their
values), of its evidence details and of the code words it writes. The outcome
vocabularies (FetchKind, DnsKind, TlsError) are labelled beside them, in
monitor.outcomes. reports.i18n only reads these declarations.

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


VALUE_KINDS = frozenset({"", "fetch", "dns", "tls", "fetch_counts", "reason", "words", "phrases", "inputs", "bool"})
"""How a metric's or a parameter's values are shown: "" as they are; "fetch", "dns", "tls" are values of
monitor.outcomes' FetchKind, DnsKind, TlsError ("fetch" may carry an HTTP status: "http_4xx 404"); "fetch_counts"
a {kind: n} mapping or "kind n, kind n" text; "reason" raw reason text (shown in plain words, the raw text
kept as secondary detail); "words" the check's own code words (CheckSpec.words); "phrases" "; "-separated
parts each led by one of them; "inputs" needs (INPUT_LABELS); "bool" yes or no."""

CODED_PARAMS: Mapping[str, str] = {
    "kind": "fetch", "v4_kind": "fetch", "dns_kind": "dns", "tls_error": "tls", "error": "reason",
    "reason": "reason", "inputs": "inputs", "tier": "words", "where": "words", "why": "words",
}
"""The convention for message and evidence-detail placeholders: a parameter of one of these names holds
codes of the named VALUE_KINDS and is shown in words; any other parameter is shown as it is."""


@dataclass(frozen=True)
class Metric:
    """How a metric is shown: its name, an optional definition, and the kind of its values (VALUE_KINDS).
    A metric that is not `shown` is machine detail: kept in the JSON export, left out of pages and sheets."""

    label: Text
    help: Text | None = None
    values: str = ""
    shown: bool = True


def M(zh: str, en: str, *, help: Text | None = None, values: str = "", shown: bool = True) -> Metric:
    return Metric(Text(zh=zh, en=en), help, values, shown)


INPUT_LABELS: Mapping[str, Text] = {
    "crawl": Text(zh="网站抓取", en="the crawl"),
    "dns": Text(zh="域名解析", en="DNS answers"),
    "probe:availability": Text(zh="首页可用性探测", en="the availability probe"),
    "probe:homepage-v4": Text(zh="首页 IPv4 探测", en="the homepage probe over IPv4"),
    "probe:homepage-v6": Text(zh="首页 IPv6 探测", en="the homepage probe over IPv6"),
    "probe:links": Text(zh="链接检查", en="the link check"),
    "probe:links-v6": Text(zh="链接 IPv6 探测", en="the IPv6 probe of links"),
    "probe:tls": Text(zh="HTTPS 证书探测", en="the TLS probe"),
    "probe:footer": Text(zh="页脚探测", en="the footer probe"),
    "probe:column": Text(zh="栏目探测", en="the column probe"),
}
"""Every input a check may need (CheckSpec.needs), in words."""


@dataclass(frozen=True)
class Evidence:
    url: str
    source: str | None = None       # the page the url was found on
    detail: str | None = None       # kind / code / reason, as machines read it (the JSON export)
    text: str | None = None         # link text or snippet
    expected: str | None = None
    actual: str | None = None
    key: str | None = field(default=None, compare=False)   # the detail in words: a key of CheckSpec.details
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)   # fills its placeholders


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
    metrics: Mapping[str, Metric] = field(default_factory=dict)    # every metric key it produces
    details: Mapping[str, Text] = field(default_factory=dict)      # every Evidence.key it produces
    words: Mapping[str, Text] = field(default_factory=dict)        # its code words in metric values and params
    coded: Mapping[str, str] = field(default_factory=dict)         # its own exceptions to CODED_PARAMS


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
          parameterised: bool = False, plans: Mapping[str, Planner] | None = None,
          metrics: Mapping[str, Metric] | None = None, details: Mapping[str, Text] | None = None,
          words: Mapping[str, Text] | None = None, coded: Mapping[str, str] | None = None
          ) -> Callable[[CheckFunc], CheckFunc]:
    """Declare a check and add it to REGISTRY; ids must be unique, planned probes from checks.plans.PLANNED,
    metric value kinds from VALUE_KINDS (tests/test_checks_registry.py checks that every word is given)."""

    def register(func: CheckFunc) -> CheckFunc:
        if id in REGISTRY:
            raise ValueError(f"check id {id!r} declared twice")
        unknown = sorted(set(plans or {}) - PLANNED)
        if unknown:
            raise ValueError(f"check {id!r} plans unknown probes {unknown}; known: {sorted(PLANNED)}")
        odd = sorted(k for k, m in (metrics or {}).items() if m.values not in VALUE_KINDS)
        if odd:
            raise ValueError(f"check {id!r}: metrics {odd} have values not in {sorted(VALUE_KINDS)}")
        REGISTRY[id] = CheckSpec(id=id, title=title, failure_title=failure_title,
                                 description=description, basis=basis, severity=severity,
                                 needs=frozenset(needs), messages=dict(messages), func=func,
                                 parameterised=parameterised, plans=dict(plans or {}),
                                 metrics=dict(metrics or {}), details=dict(details or {}), words=dict(words or {}),
                                 coded=dict(coded or {}))
        return func

    return register


def message_text(spec: CheckSpec | None, key: str) -> Text | None:
    """The template for a result's message key, from the spec or the runner's own."""
    if key in RUNNER_MESSAGES:
        return RUNNER_MESSAGES[key]
    return spec.messages.get(key) if spec else None


def unlabelled(spec: CheckSpec | None, result: Result) -> list[str]:
    """What a result carries that its declaration gives no words for: its message key, metric keys,
    evidence keys, and code words in its coded parameters and metric values. [] when all is labelled."""
    if spec is None:
        return [f"no declaration for check {result.check_id!r}"]
    found = [] if message_text(spec, result.message_key) is not None else [f"message {result.message_key!r}"]
    found += [f"metric {name!r}" for name in result.metrics if name not in spec.metrics]
    for e in result.evidence:
        if e.key is None:
            found.append(f"evidence without a key ({e.detail!r})")
        elif e.key not in spec.details:
            found.append(f"evidence key {e.key!r}")
    coded = [(name, value) for name, value in (*result.message_params.items(),
                                               *(p for e in result.evidence for p in e.params.items()))
             if param_kind(spec, name) == "words"]
    coded += [(name, value) for name, value in result.metrics.items()
              if name in spec.metrics and spec.metrics[name].values == "words"]
    found += [f"word {value!r} ({name})" for name, value in coded if value and str(value) not in spec.words]
    return sorted(set(found))


def param_kind(spec: CheckSpec | None, name: str) -> str:
    """The VALUE_KINDS entry of a message or evidence parameter: the check's own, else CODED_PARAMS'."""
    return (spec.coded.get(name) if spec else None) or CODED_PARAMS.get(name, "")
