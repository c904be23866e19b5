"""The 整改台账: a site's findings as items to fix, each with its root cause, owner and deadline.

Pure: works on stored results and their history (reports.history), no I/O,
no clock (the run's own start time is "now").

**Root causes.** Some results only report that an input was missing because
another check's finding took it away: with the homepage unreachable the
columns, the footer, the links and the homepage's freshness cannot be
judged; with no AAAA record the homepage cannot be fetched over IPv6. Each
such result names the input it lacks through its message key (`NEEDS`); the
input's producer is a check whose failing result means the input is gone
(`PRODUCERS`). A result whose missing input has a failing producer is folded
under that producer's item, transitively, with the reason it was not judged;
nothing is special-cased per site. A result whose producer passed stays an
undecided item of its own: then the tool, not the site, failed.

**Deadlines.** deadline = the day the finding was first seen (the first run
of its current streak, in the report's time zone) + `[report] rectify_days`
of its severity; a finding carried over keeps the deadline it got, so the
ledger can say it is overdue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from checks import spec_for
from checks.base import Result, T, Text
from reports import advice

HOMEPAGE, HOSTNAME, AAAA = "homepage", "hostname", "aaaa"
FAIL = "fail"
PROBLEMS = frozenset({"warn", "fail"})
DEFAULT_RECTIFY_DAYS: Mapping[str, int] = {"veto": 1, "major": 7, "minor": 15}   # = config.RectifyDays()

Condition = Callable[[Result], bool]


def _down(r: Result) -> bool:
    return str(r.status) == FAIL and r.message_key.startswith("down_")


# input → (the check producing it, whether that check's result means the input is missing)
PRODUCERS: Mapping[str, tuple[str, Condition]] = {
    HOMEPAGE: ("availability", _down),
    HOSTNAME: ("availability", lambda r: str(r.status) == FAIL and r.message_key in ("down_dns", "down_cname_loop")),
    AAAA: ("ipv6:dns", lambda r: str(r.status) == FAIL),
}


def _nothing_over_ipv6(r: Result) -> bool:
    return r.metrics.get("secondary_ok") == 0 and r.metrics.get("tertiary_ok") in (0, None)


# (check family or id, message key) → the input the result reports missing, and when it does
NEEDS: Mapping[tuple[str, str], tuple[str, Condition | None]] = {
    ("freshness:homepage", "homepage_failed"): (HOMEPAGE, None),
    ("freshness:homepage", "no_homepage"): (HOMEPAGE, None),
    ("column", "column.no_homepage"): (HOMEPAGE, None),
    ("link", "link.no_homepage"): (HOMEPAGE, None),
    ("document", "document.no_homepage"): (HOMEPAGE, None),
    ("pairing", "pairing.no_homepage"): (HOMEPAGE, None),
    ("footer", "footer.unfetched"): (HOMEPAGE, None),
    ("columns:update", "columns.no_homepage"): (HOMEPAGE, None),
    ("columns:blank", "columns.no_homepage"): (HOMEPAGE, None),
    ("dates:impossible", "dates.no_pages"): (HOMEPAGE, None),
    ("links:hidden", "links.hidden_no_pages"): (HOMEPAGE, None),
    ("links:turned", "links.turned_no_pages"): (HOMEPAGE, None),
    ("interaction:reply", "interaction.no_pages"): (HOMEPAGE, None),
    ("links:dead", "homepage_failed"): (HOMEPAGE, None),
    ("ipv6:links", "homepage_failed"): (HOMEPAGE, None),
    ("ipv6:homepage", "both_down"): (HOMEPAGE, None),
    ("https", "unreachable"): (HOMEPAGE, None),
    ("content:privacy", "no_pages"): (HOMEPAGE, None),
    ("content:wording", "no_pages"): (HOMEPAGE, None),
    ("ipv6:dns", "nxdomain"): (HOSTNAME, None),
    ("ipv6:dns", "servfail"): (HOSTNAME, None),
    ("ipv6:dns", "cname_loop"): (HOSTNAME, None),
    ("ipv6:homepage", "no_aaaa"): (AAAA, None),
    ("ipv6:links", "low"): (AAAA, _nothing_over_ipv6),
}

# Why a folded result is not an item of its own: (not judged, judged but caused by the root)
REASONS: Mapping[str, tuple[Text, Text]] = {
    HOMEPAGE: (T(zh="首页无法访问，未能检查", en="Not checked: the homepage is unreachable"),
               T(zh="由首页无法访问导致，随之整改", en="Caused by the unreachable homepage; fixed with it")),
    HOSTNAME: (T(zh="域名无法解析，未能检查", en="Not checked: the host name does not resolve"),
               T(zh="由域名无法解析导致，随之整改", en="Caused by the host name not resolving; fixed with it")),
    AAAA: (T(zh="域名无 AAAA 记录，未能经 IPv6 检查", en="Not checked over IPv6: no AAAA record"),
           T(zh="由域名无 AAAA 记录导致，添加后复查", en="Caused by the missing AAAA record; recheck once added")),
}


@dataclass(frozen=True)
class Folded:
    """A result explained by an item's finding, and why."""

    result: Result
    reason: str


@dataclass(frozen=True)
class Item:
    """One thing to fix: a warn/fail result that no other finding explains, with what it explains."""

    result: Result
    headline: str
    advice: str
    dependents: tuple[Folded, ...]


@dataclass(frozen=True)
class SiteLedger:
    items: tuple[Item, ...]          # in the order of `key`
    undecided: tuple[Result, ...]    # error results no finding explains: verify by hand


def needs(result: Result) -> str | None:
    """The input a result reports missing (a key of PRODUCERS), or None."""
    spec = spec_for(result.check_id)
    found = NEEDS.get((result.check_id, result.message_key)) or \
        NEEDS.get((spec.id if spec else result.check_id, result.message_key))
    if found is None:
        return None
    needed, condition = found
    return needed if condition is None or condition(result) else None


def causes(results: Sequence[Result]) -> dict[str, tuple[str, str]]:
    """{check id: (root check id, input)} for every result folded under another's finding."""
    by_id = {r.check_id: r for r in results}
    parent: dict[str, tuple[str, str]] = {}
    for r in results:
        needed = needs(r)
        if needed is None:
            continue
        producer_id, missing = PRODUCERS[needed]
        producer = by_id.get(producer_id)
        if producer is not None and producer_id != r.check_id and missing(producer):
            parent[r.check_id] = (producer_id, needed)
    roots: dict[str, tuple[str, str]] = {}
    for check_id, (up, needed) in parent.items():
        seen = {check_id}
        while up in parent and up not in seen:   # a root may itself be explained (no AAAA ← no host name)
            seen.add(up)
            up = parent[up][0]
        roots[check_id] = (up, needed)
    return roots


def site_ledger(site_id: str, results: Sequence[Result], language: str, titles: Mapping[str, str],
                where: advice.Placements, key: Callable[[Result], Any]) -> SiteLedger:
    """The site's items (warn/fail roots with their folded results) and what is left undecided."""
    roots = causes(results)
    folded: dict[str, list[Folded]] = {}
    for r in sorted(results, key=key):
        if r.check_id in roots:
            root, needed = roots[r.check_id]
            judged = str(r.status) in PROBLEMS
            folded.setdefault(root, []).append(Folded(r, REASONS[needed][judged].get(language)))
    items = tuple(Item(r, advice.headline(r, language, titles), advice.advice(r, language, titles, site_id, where),
                       tuple(folded.get(r.check_id, ())))
                  for r in sorted(results, key=key)
                  if str(r.status) in PROBLEMS and r.check_id not in roots)
    undecided = tuple(r for r in sorted(results, key=key) if str(r.status) == "error" and r.check_id not in roots)
    return SiteLedger(items, undecided)


def rectify_days(days: Mapping[str, int] | None, severity: str) -> int:
    chosen = {**DEFAULT_RECTIFY_DAYS, **(days or {})}
    return chosen.get(severity, chosen["minor"])


def deadline(first_seen: datetime, severity: str, days: Mapping[str, int] | None, timezone: str) -> date:
    """The day a finding must be fixed by: the local day it was first seen + its severity's days."""
    return first_seen.astimezone(ZoneInfo(timezone)).date() + timedelta(days=rectify_days(days, severity))


def overdue_days(due: date, at: datetime, timezone: str) -> int:
    """Whole days `at` (the run) lies past `due`; 0 when on time."""
    return max(0, (at.astimezone(ZoneInfo(timezone)).date() - due).days)


def owner_of(summary: Mapping[str, Any] | None, site_id: str) -> tuple[str, str]:
    """(owner, contact) the run recorded for the site from its config; '' where not set."""
    owners = (summary or {}).get("owners")
    entry = owners.get(site_id) if isinstance(owners, Mapping) else None
    if not isinstance(entry, Mapping):
        return "", ""
    return str(entry.get("owner") or ""), str(entry.get("contact") or "")
