"""monitor.config [score]: the weights it gives checks.score, and one exact line per bad value."""

from __future__ import annotations

import pytest

from checks.score import DEFAULT_WEIGHTS, Rule
from monitor.config import ConfigError, loads

REQUIREMENT = """
[[requirement]]
id = "negative_list"
title = "市场准入负面清单"
keywords = ["负面清单"]
applies_to = ["portal"]
basis = "一(一)4"
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        loads(text, "c.toml")
    return caught.value.errors


def test_no_score_table_gives_the_shipped_weights() -> None:
    weights = loads("").score.weights()
    assert dict(weights.rules) == dict(DEFAULT_WEIGHTS.rules)
    assert dict(weights.fallback) == dict(DEFAULT_WEIGHTS.fallback)
    assert (weights.veto, weights.not_veto, weights.pass_mark, weights.good_mark, weights.vetoed_max) == \
        (frozenset(), frozenset(), 60, 80, 59)


def test_a_score_table_changes_only_what_it_names() -> None:
    weights = loads(REQUIREMENT + """
[score]
pass_mark = 70
good_mark = 90.5
vetoed_max = 0
veto = ["https"]
not_veto = ["column:negative_list"]

[score.deduct."links:dead"]
cap = 5

[score.deduct."column:negative_list"]
fail = 8

[score.deduct.ipv6]
fail = 0
warn = 0
per = {}

[score.fallback.minor]
warn = 0.5
""").score.weights()
    assert weights.rules["links:dead"] == Rule(fail=0, warn=0, cap=5, per={"homepage_dead": 1.0, "dead": 0.1})
    assert weights.rules["column:negative_list"] == Rule(fail=8, warn=0, cap=100)   # no shipped rule: 0, no cap
    assert weights.rules["ipv6"] == Rule(fail=0, warn=0, cap=10)
    assert weights.rules["column"] == DEFAULT_WEIGHTS.rules["column"]
    assert weights.fallback["minor"] == Rule(fail=2, warn=0.5, cap=5)
    assert (weights.veto, weights.not_veto) == (frozenset({"https"}), frozenset({"column:negative_list"}))
    assert (weights.pass_mark, weights.good_mark, weights.vetoed_max) == (70, 90.5, 0)


BAD_SCORE: list[tuple[str, str, str]] = [
    ("unknown-key", "[score]\npas_mark = 50\n",
     "c.toml:2: score.pas_mark: unknown key 'pas_mark' (did you mean 'pass_mark'?)"),
    ("mark-over-100", "[score]\npass_mark = 101\n", "c.toml:2: score.pass_mark: must be <= 100.0, got 101"),
    ("mark-as-string", '[score]\ngood_mark = "80"\n', "c.toml:2: score.good_mark: expected a number, got '80'"),
    ("good-below-pass", "[score]\npass_mark = 70\ngood_mark = 65\n",
     "c.toml:1: score: good_mark (65) must not be below pass_mark (70)"),
    ("unknown-veto-id", '[score]\nveto = ["http"]\n',
     "c.toml:2: score.veto[0]: unknown check id 'http' (did you mean 'https'?)"),
    ("unknown-column-requirement", REQUIREMENT + '[score]\nnot_veto = ["column:negative"]\n',
     "c.toml:9: score.not_veto[0]: unknown check id 'column:negative' (did you mean 'column:negative_list'?)"),
    ("veto-and-not-veto", '[score]\nveto = ["ipv6"]\nnot_veto = ["ipv6"]\n',
     "c.toml:3: score.not_veto[0]: 'ipv6' is also in score.veto; keep it in one list"),
    ("unknown-deduct-id", '[score.deduct."links:deadd"]\ncap = 1\n',
     "c.toml:1: score.deduct.links:deadd: unknown check id 'links:deadd' (did you mean 'links:dead'?)"),
    ("negative-points", "[score.deduct.footer]\nwarn = -1\n",
     "c.toml:2: score.deduct.footer.warn: must be >= 0.0, got -1"),
    ("per-not-a-number", '[score.deduct.https]\nper = {days_left = "1"}\n',
     "c.toml:2: score.deduct.https.per.days_left: expected a number, got '1'"),
    ("unknown-rule-key", "[score.deduct.https]\nfails = 1\n",
     "c.toml:2: score.deduct.https.fails: unknown key 'fails' (did you mean 'fail'?)"),
    ("unknown-severity", "[score.fallback.majr]\nfail = 1\n",
     "c.toml:1: score.fallback.majr: unknown severity 'majr' (did you mean 'major'?)"),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in BAD_SCORE], ids=[c[0] for c in BAD_SCORE])
def test_a_bad_score_value_gives_exactly_one_line(text: str, expected: str) -> None:
    assert errors_of(text) == [expected]
