"""Every declared check is complete, bilingual and named as SPEC names it."""

import re

import pytest

from checks import REGISTRY
from checks.base import INPUT_LABELS, LANGUAGES, RUNNER_MESSAGES, VALUE_KINDS, CheckSpec, M, Severity, T

SPEC_IDS = {"availability", "column", "link", "document", "pairing", "links:dead", "freshness:homepage", "ipv6:dns",
            "ipv6:homepage", "ipv6:links", "https", "footer", "content:privacy", "content:wording",   # content: issue 15
            "columns:update", "columns:blank", "interaction:reply", "links:hidden", "links:turned",
            "dates:impossible"}                                                                 # issue 17
ID_PATTERN = re.compile(r"^[a-z0-9]+(:[a-z0-9_-]+)*$")


def problems(spec: CheckSpec) -> list[str]:
    found = []
    if not ID_PATTERN.match(spec.id):
        found.append(f"id {spec.id!r} does not match {ID_PATTERN.pattern}")
    if spec.id not in SPEC_IDS:
        found.append(f"id {spec.id!r} is not one of SPEC's check ids")
    for name in ("title", "failure_title", "description"):
        text = getattr(spec, name)
        if not all(text.get(lang).strip() for lang in LANGUAGES) or text.zh == text.en:
            found.append(f"{name} is not given in both languages")
    if not spec.basis.strip() and not spec.parameterised:
        found.append("no basis")
    if not spec.messages:
        found.append("no messages")
    for key, text in spec.messages.items():
        fields = text.placeholders()
        if fields["zh"] != fields["en"]:
            found.append(f"message {key!r}: placeholders differ between languages {fields}")
    found += label_problems(spec)
    return found


def label_problems(spec: CheckSpec) -> list[str]:
    """The words a check declares for what it produces: every one in both languages, details with the same
    placeholders, value kinds known, every need named."""
    found = [f"need {need!r} has no label (checks.base.INPUT_LABELS)" for need in sorted(spec.needs - set(INPUT_LABELS))]
    if not spec.metrics:
        found.append("no metric labels")
    labels = [(f"metric {k!r}", m.label) for k, m in spec.metrics.items()]
    labels += [(f"metric help {k!r}", m.help) for k, m in spec.metrics.items() if m.help]
    labels += [(f"detail {k!r}", t) for k, t in spec.details.items()] + [(f"word {k!r}", t) for k, t in spec.words.items()]
    found += [f"{what} is not given in both languages" for what, t in labels if not (t.zh.strip() and t.en.strip())]
    for key, text in spec.details.items():
        fields = text.placeholders()
        if fields["zh"] != fields["en"]:
            found.append(f"detail {key!r}: placeholders differ between languages {fields}")
    found += [f"metric {k!r}: values {m.values!r} not in VALUE_KINDS" for k, m in spec.metrics.items()
              if m.values not in VALUE_KINDS]
    return found


@pytest.mark.parametrize("spec", list(REGISTRY.values()), ids=lambda s: s.id)
def test_spec_is_complete(spec: CheckSpec) -> None:
    assert problems(spec) == []


def test_runner_messages_agree_across_languages() -> None:
    for text in RUNNER_MESSAGES.values():
        fields = text.placeholders()
        assert fields["zh"] == fields["en"]


def test_problems_are_found_in_a_broken_spec() -> None:
    broken = CheckSpec(id="Bad Id", title=T(zh="x", en="x"), failure_title=T(zh="失败", en="fails"),
                       description=T(zh="说明", en=""), basis="", severity=Severity.MINOR, needs=frozenset(),
                       messages={"m": T(zh="{a} 个", en="{b} items")}, func=lambda s, p: None)  # type: ignore[arg-type,return-value]
    found = problems(broken)
    assert any("does not match" in f for f in found)
    assert any("not one of SPEC" in f for f in found)
    assert any(f.startswith("title") for f in found)
    assert any(f.startswith("description") for f in found)
    assert "no basis" in found
    assert any("placeholders differ" in f for f in found)
    assert "no metric labels" in found


def test_label_problems_are_found_in_a_spec_with_missing_words() -> None:
    spec = CheckSpec(id="links:dead", title=T(zh="链接", en="links"), failure_title=T(zh="死链", en="dead"),
                     description=T(zh="说明", en="text"), basis="b", severity=Severity.MINOR,
                     needs=frozenset({"crawl", "probe:nowhere"}), messages={"m": T(zh="好", en="ok")},
                     func=lambda s, p: None,  # type: ignore[arg-type,return-value]
                     metrics={"checked": M("已检查", ""), "odd": M("怪", "odd", values="colour")},
                     details={"dead": T(zh="{kind}", en="{kind} {status}")}, words={"secondary": T(zh="", en="x")})
    found = label_problems(spec)
    assert found[:3] == ["need 'probe:nowhere' has no label (checks.base.INPUT_LABELS)",
                         "metric 'checked' is not given in both languages",
                         "word 'secondary' is not given in both languages"]
    assert found[3].startswith("detail 'dead': placeholders differ")
    assert found[4:] == ["metric 'odd': values 'colour' not in VALUE_KINDS"]


def test_availability_is_a_veto_indicator() -> None:
    assert REGISTRY["availability"].severity == Severity.VETO
