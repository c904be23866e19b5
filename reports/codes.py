"""Coded values in words: outcome kinds, DNS and TLS outcomes, HTTP statuses, counts by kind, raw reasons,
needs and a check's own code words, as checks.base.VALUE_KINDS names them.

The words are declared beside their vocabularies (monitor.outcomes, checks.base.INPUT_LABELS, each check's
spec); this module only applies them. A code nothing names is returned as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks.base import INPUT_LABELS, CheckSpec
from monitor.outcomes import DNS_LABELS, FETCH_LABELS, HTTP_STATUS_LABELS, TLS_LABELS, reason_label


def outcome_words(code: str, language: str, spec: CheckSpec | None = None, vocabulary: str = "fetch") -> str:
    """An outcome code in words: a FetchKind with an optional HTTP status ("http_4xx 404" → 404 未找到),
    a DnsKind, a TlsError (the named `vocabulary` first) or one of the check's words; an unknown code as it is."""
    kind, _, status = str(code).partition(" ")
    tables = {"fetch": FETCH_LABELS, "dns": DNS_LABELS, "tls": TLS_LABELS}
    first = tables.get(vocabulary, FETCH_LABELS)
    for table in (first, *(t for t in tables.values() if t is not first), spec.words if spec else {}):
        if kind in table:
            label = table[kind].get(language)
            break
    else:
        return str(code)
    if status.isdigit():
        phrase = HTTP_STATUS_LABELS.get(int(status))
        if phrase is not None:
            return f"{status} {phrase.get(language)}"
        return f"{label}（HTTP {status}）" if language == "zh" else f"{label} (HTTP {status})"
    return label


def counts_words(value: Any, language: str) -> str:
    """{kind: n} or "kind n, kind n" as "404 未找到 3 个，连接被拒绝 1 个"; other text through reason()."""
    if isinstance(value, str):
        parts = [p.rpartition(" ") for p in value.split(", ")]
        if not all(n.isdigit() and k for k, _, n in parts):
            return value
        value = {k: int(n) for k, _, n in parts}
    if not isinstance(value, Mapping) or not value:
        return "—"
    if language == "zh":
        return "，".join(f"{outcome_words(k, language)} {n} 个" for k, n in value.items())
    return ", ".join(f"{outcome_words(k, language)}: {n}" for k, n in value.items())


def reason(text: Any, language: str) -> tuple[str, str]:
    """(plain words, raw text) for a reason: a code in words, else the words monitor.outcomes gives
    exception and resolver text; the raw text is '' when the words say all."""
    raw = str(text or "")
    if not raw or re.fullmatch(r"HTTP \d{3}", raw):    # the status the kind already names
        return "", ""
    parts = [p.rpartition(" ") for p in raw.split(", ")]
    if all(k in FETCH_LABELS and n.isdigit() for k, _, n in parts) and not _status_of_kind(raw):
        return counts_words(raw, language), ""
    kind, _, status = raw.partition(" ")
    if (kind in FETCH_LABELS and (not status or status.isdigit())) or raw in DNS_LABELS or raw in TLS_LABELS:
        return outcome_words(raw, language), ""
    return reason_label(raw).get(language), raw


def _status_of_kind(text: str) -> bool:
    """"http_5xx 503" is a kind with its status, "over_limit 3" a count."""
    return re.fullmatch(r"http_([345])xx \1\d\d", text) is not None


def coded_words(kind: str, value: Any, language: str, spec: CheckSpec | None) -> tuple[str, str]:
    """(words, raw) for a value of one of checks.base.VALUE_KINDS."""
    if value is None or value == "":
        return ("—" if kind else ""), ""
    if kind in ("fetch", "dns", "tls"):
        return outcome_words(str(value), language, spec, kind), ""
    if kind == "fetch_counts":
        return counts_words(value, language), ""
    if kind == "reason":
        return reason(value, language)
    if kind == "words":
        words = spec.words if spec else {}
        return (words[str(value)].get(language) if str(value) in words else str(value)), ""
    if kind == "phrases":
        return phrases(str(value), language, spec), ""
    if kind == "inputs":
        return inputs(str(value), language), ""
    if kind == "bool":
        return yes_no(bool(value), language), ""
    return str(value), ""


def phrases(text: str, language: str, spec: CheckSpec | None) -> str:
    """"status 200 ≠ 404; title “a” ≠ “b”" with each leading word in words (spec.words)."""
    words = spec.words if spec else {}
    out = []
    for part in text.split("; "):
        lead = next((w for w in sorted(words, key=len, reverse=True) if part.startswith(w + " ")), None)
        out.append(f"{words[lead].get(language)} {part[len(lead) + 1:]}" if lead else part)
    return ("；" if language == "zh" else "; ").join(out)


def inputs(text: str, language: str) -> str:
    """"probe:links, crawl" (or "probe:column <url>") as the inputs' names."""
    shown = []
    for need in text.split(", "):
        name, _, rest = need.partition(" ")
        label = INPUT_LABELS[name].get(language) if name in INPUT_LABELS else need
        shown.append(f"{label} {rest}".strip() if name in INPUT_LABELS else label)
    return ("、" if language == "zh" else ", ").join(shown)


def yes_no(value: bool, language: str) -> str:
    return ("是" if value else "否") if language == "zh" else ("yes" if value else "no")
