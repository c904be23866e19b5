"""The config's [score] table: the weights of checks.score, validated.

Owns the pydantic models of [score] and the rules that need the rest of the file
(which check ids exist); monitor.config embeds `Scoring` as `Config.score` and
reports its problems with every other. Must not read files or score anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from checks.score import DEFAULT_WEIGHTS, Rule, Weights
from monitor.config_errors import Loc, suggest

SEVERITIES = ("veto", "major", "minor")
Points = Annotated[float, Field(ge=0)]
Mark = Annotated[float, Field(ge=0, le=100)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Deduct(_Model):
    """One indicator's deduction; a key left out keeps the shipped rule's value (else 0, and no cap)."""

    fail: Points | None = None
    warn: Points | None = None
    cap: Points | None = None
    per: dict[str, Points] | None = None

    def rule(self, shipped: Rule | None) -> Rule:
        base = shipped or Rule(fail=0, warn=0, cap=100)
        return Rule(fail=base.fail if self.fail is None else self.fail,
                    warn=base.warn if self.warn is None else self.warn,
                    cap=base.cap if self.cap is None else self.cap,
                    per=MappingProxyType(dict(base.per if self.per is None else self.per)))


class Scoring(_Model):
    pass_mark: Mark = DEFAULT_WEIGHTS.pass_mark
    good_mark: Mark = DEFAULT_WEIGHTS.good_mark
    vetoed_max: Mark = DEFAULT_WEIGHTS.vetoed_max
    veto: list[str] = []
    not_veto: list[str] = []
    deduct: dict[str, Deduct] = {}
    fallback: dict[str, Deduct] = {}

    @model_validator(mode="after")
    def _marks_in_order(self) -> Scoring:
        if self.good_mark < self.pass_mark:
            raise PydanticCustomError("config", "{reason}", {
                "reason": f"good_mark ({self.good_mark:g}) must not be below pass_mark ({self.pass_mark:g})"})
        return self

    def weights(self) -> Weights:
        """The checks.score weights: the shipped rules with this table's changes."""
        rules = {**DEFAULT_WEIGHTS.rules, **{k: d.rule(DEFAULT_WEIGHTS.rules.get(k)) for k, d in self.deduct.items()}}
        fallback = {**DEFAULT_WEIGHTS.fallback,
                    **{k: d.rule(DEFAULT_WEIGHTS.fallback.get(k)) for k, d in self.fallback.items()}}
        return Weights(rules=MappingProxyType(rules), fallback=MappingProxyType(fallback),
                       veto=frozenset(self.veto), not_veto=frozenset(self.not_veto), pass_mark=self.pass_mark,
                       good_mark=self.good_mark, vetoed_max=self.vetoed_max)


def score_problems(score: Any, known: Sequence[str]) -> list[tuple[Loc, str]]:
    """Ids in [score] that name no check or family (`known`), an id both veto and not_veto, and a
    fallback that is no severity; on TOML-shaped data, so it tolerates junk."""
    if not isinstance(score, Mapping):
        return []
    problems: list[tuple[Loc, str]] = []
    for name in ("veto", "not_veto"):
        values = score.get(name)
        for j, value in enumerate(values if isinstance(values, list) else []):
            if isinstance(value, str) and value not in known:
                problems.append((("score", name, j), f"unknown check id {value!r}{suggest(value, known)}"))
    veto, not_veto = (score.get(n) if isinstance(score.get(n), list) else [] for n in ("veto", "not_veto"))
    for j, value in enumerate(not_veto):
        if isinstance(value, str) and value in veto:
            problems.append((("score", "not_veto", j), f"{value!r} is also in score.veto; keep it in one list"))
    for name, allowed, what in (("deduct", known, "check id"), ("fallback", SEVERITIES, "severity")):
        table = score.get(name)
        for key in table if isinstance(table, Mapping) else ():
            if key not in allowed:
                problems.append((("score", name, key), f"unknown {what} {key!r}{suggest(key, allowed)}"))
    return problems
