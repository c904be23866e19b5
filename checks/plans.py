"""Probes planned from the crawl: the closed vocabulary, and what a plan holds.

A check whose probe depends on the crawl (which links to fetch over IPv6, which
page's footer to read, which off-site column to open) declares a planner for
it (`check(..., plans={need: planner})`); `checks.probe_plan` runs the planners
of a site's planned checks on its snapshot, and the probes fetch what the plan
says. So what is probed and what is judged come from one rule, and the
pipeline needs no knowledge of any check. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from checks.snapshot import SiteSnapshot

LINKS_V6 = "probe:links-v6"
FOOTER = "probe:footer"
COLUMN = "probe:column"
"""Also the key of SiteSnapshot.failed for a failed column probe: "probe:column <url>" (alone: every one)."""
PLANNED = frozenset({LINKS_V6, FOOTER, COLUMN})
"""The probes planned from the crawl; a planner for anything else is refused at declaration."""


@dataclass(frozen=True, slots=True)
class Fetch:
    """One URL a planned probe must fetch."""

    url: str
    tier: str = ""                        # links-v6: "secondary" | "tertiary"


Planner = Callable[[SiteSnapshot, Mapping[str, Any]], Sequence[Fetch]]
"""(the site's crawl snapshot, the planned check's params) -> what to fetch, in order."""


@dataclass(frozen=True)
class ProbePlan:
    """What each planned probe of one site must fetch.

    A need in `fetches` is planned (perhaps with nothing to fetch: a homepage
    without links); one whose planner raised is in `failed` with the reason
    instead, and its probe does not run.
    """

    fetches: Mapping[str, tuple[Fetch, ...]] = field(default_factory=dict)
    failed: Mapping[str, str] = field(default_factory=dict)

    def urls(self, need: str) -> tuple[str, ...]:
        return tuple(f.url for f in self.fetches.get(need, ()))
