"""What earlier runs say about this one: failing streaks, changes, trend values.

Pure: works on a monitor.store.ResultHistory (the store reads it); no I/O, no
clock. A streak counts consecutive runs with a warn or fail result for the
same site and check; an undecided (error) or skipped result neither extends
nor breaks it, so one run where the tool could not decide does not hide a
long-ignored defect. Runs without the site or check are passed over.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from monitor.store import PastResult, ResultHistory, RunInfo

DEAD_LINKS = ("links:dead", "dead")
IPV6_RATIOS = ("ipv6:links", ("secondary_ratio", "tertiary_ratio"))
IPV6_DNS = "ipv6:dns"
TREND_METRICS = (DEAD_LINKS[0], IPV6_RATIOS[0])
RANK = {"pass": 0, "warn": 1, "fail": 2}
PROBLEM = frozenset({"warn", "fail"})
NEUTRAL = frozenset({"error", "skip"})


@dataclass(frozen=True)
class Streak:
    first_seen: datetime     # start of the earliest run of the streak
    runs: int                # runs in the streak, this one included
    capped: bool             # the streak reaches past the oldest run loaded
    new: bool                # this run is the first of the streak


@dataclass(frozen=True)
class Past:
    """A ResultHistory indexed by (site, check); the last run is the one reported on."""

    history: ResultHistory
    limit: int

    @property
    def runs(self) -> tuple[RunInfo, ...]:
        return self.history.runs

    @cached_property
    def by_pair(self) -> Mapping[tuple[str, str], Sequence[tuple[int, PastResult]]]:
        index = {r.id: i for i, r in enumerate(self.runs)}
        pairs: dict[tuple[str, str], list[tuple[int, PastResult]]] = defaultdict(list)
        for p in self.history.results:
            pairs[(p.site_id, p.check_id)].append((index[p.run_id], p))
        return pairs

    @cached_property
    def by_run(self) -> Mapping[int, Sequence[PastResult]]:
        index = {r.id: i for i, r in enumerate(self.runs)}
        runs: dict[int, list[PastResult]] = defaultdict(list)
        for p in self.history.results:
            runs[index[p.run_id]].append(p)
        return runs

    @property
    def current(self) -> int:
        return len(self.runs) - 1

    def streak(self, site_id: str, check_id: str) -> Streak | None:
        """The failing streak ending in this run; None unless this run's result is warn or fail."""
        entries = self.by_pair.get((site_id, check_id), ())
        if not entries or entries[-1][0] != self.current or str(entries[-1][1].status) not in PROBLEM:
            return None
        count, first, broken = 0, self.current, False
        for index, past in reversed(entries):
            status = str(past.status)
            if status in NEUTRAL:
                continue
            if status not in PROBLEM:
                broken = True
                break
            count, first = count + 1, index
        capped = not broken and len(self.runs) >= self.limit
        return Streak(self.runs[first].started_at, count, capped, count == 1)

    def previous(self, site_id: str, check_id: str) -> PastResult | None:
        """The result of this site and check in the newest earlier run that has it."""
        entries = [e for e in self.by_pair.get((site_id, check_id), ()) if e[0] < self.current]
        return entries[-1][1] if entries else None

    def previous_status(self, site_id: str, check_id: str) -> str | None:
        """The status of this site and check in the newest earlier run that has it."""
        before = self.previous(site_id, check_id)
        return str(before.status) if before is not None else None

    @cached_property
    def scope(self) -> frozenset[str] | None:
        """The sites an ad-hoc check covers (its page compares and charts those only); None for a run of
        the history, which is read whole."""
        if not self.runs or self.runs[-1].kind != "adhoc":
            return None
        return frozenset(p.site_id for p in self.by_run.get(self.current, ()))

    def in_scope(self, past: PastResult, site_id: str | None = None) -> bool:
        """Whether a result enters a figure of `site_id` (None: of the run, within `scope`)."""
        if site_id is not None:
            return past.site_id == site_id
        return self.scope is None or past.site_id in self.scope

    def previous_run(self) -> RunInfo | None:
        """The run compared with: the newest earlier run (the history holds no other ad-hoc check)."""
        return self.runs[-2] if len(self.runs) > 1 else None

    @cached_property
    def trend_runs(self) -> tuple[int, ...]:
        """Runs charted: every run loaded (monitor.store.result_history leaves ad-hoc checks out)."""
        return tuple(range(len(self.runs)))

    def pass_rates(self, site_id: str | None = None) -> list[float | None]:
        values: list[float | None] = []
        for i in self.trend_runs:
            statuses = [str(p.status) for p in self.by_run.get(i, ()) if self.in_scope(p, site_id)]
            decided = [s for s in statuses if s != "skip"]
            values.append(sum(s == "pass" for s in decided) / len(decided) if decided else None)
        return values

    def metric_sum(self, check_id: str, metric: str, site_id: str | None = None) -> list[float | None]:
        return [_combine(self._metric(i, check_id, metric, site_id), sum) for i in self.trend_runs]

    def metric_mean(self, check_id: str, metric: str, site_id: str | None = None) -> list[float | None]:
        return [_combine(self._metric(i, check_id, metric, site_id), lambda vs: sum(vs) / len(vs))
                for i in self.trend_runs]

    def pass_share(self, check_id: str, site_id: str | None = None) -> list[float | None]:
        values: list[float | None] = []
        for i in self.trend_runs:
            statuses = [str(p.status) for p in self.by_run.get(i, ())
                        if p.check_id == check_id and self.in_scope(p, site_id)
                        and str(p.status) != "skip"]
            values.append(sum(s == "pass" for s in statuses) / len(statuses) if statuses else None)
        return values

    def _metric(self, run: int, check_id: str, metric: str, site_id: str | None) -> list[float]:
        return [float(p.metrics[metric]) for p in self.by_run.get(run, ())
                if p.check_id == check_id and self.in_scope(p, site_id)
                and isinstance(p.metrics.get(metric), int | float) and not isinstance(p.metrics.get(metric), bool)]


def _combine(values: list[float], how: Callable[[list[float]], float]) -> float | None:
    return how(values) if values else None


def direction(before: str | None, after: str) -> str | None:
    """worse/better between two statuses; None when equal or either is undecided or skipped."""
    if before not in RANK or after not in RANK or before == after:
        return None
    return "worse" if RANK[after] > RANK[before] else "better"


def empty(limit: int = 1) -> Past:
    return Past(ResultHistory((), ()), limit)

