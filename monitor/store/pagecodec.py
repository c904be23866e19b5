"""A crawled page's links and dates as stored: one compressed value on its page row.

Owns the format of `page.extract`, zlib-compressed JSON:

    {"v": 1, "l": [form, ...], "d": [[ordinal, source, block, item], ...], "s": {"index": snippet},
     "f": [[kind, masked, context, right, severity, source, count], ...], "n": {note: value}}

`l` is the page's links in document order, each a number into the run's link
forms of the site (`link_form`: target, tag, text, context, block); a site's
menus and footers repeat the same forms on every page, so a link costs a few
bytes. `d` is the page's dates in document order: the day as a proleptic
ordinal, the source, the list block ("" none) and, for a list item, its link:
the form number of the page's first link to it, or the URL itself when the
page has none ("" none). `s` keeps the snippets the checks can read
(`kept_snippets`); the others are dropped. `f` (only on pages with any) holds
the screening findings of content:privacy and content:wording, masked by the
crawl's page reader: no whole personal number is ever in a stored value. `n`,
only on a page that has any, holds its notes (spiders/pagenotes.py: placeholder
wording, 成文 and publication dates, hidden off-site links, the hooks of the
others — each hook's link as a form number, like a date's item — and the page's
linked sheets; a linked sheet's hiding rules) as the ingest cleaned them.

Pure: no database, no clock. The ingest encodes, the store decodes.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import orjson

from checks.freshness import FUTURE_SLACK
from checks.snapshot import DateHit, Finding

VERSION = 1
LEVEL = 1                 # zlib: level 1 is within a few percent of 9 on these small values, several times faster


def kept_snippets(dates: Sequence[DateHit], fetched: date | None) -> set[int]:
    """The indexes of the dates whose snippet is kept: in each (source, block) group, the newest
    date a check run on the fetch's day accepts (each date equal to it), and every later date.

    A check reads a snippet only of the newest date it judges (freshness evidence, a column's
    latest item without a title), and it judges by source and by list, dates up to its day plus
    checks.freshness.FUTURE_SLACK. Later dates are kept whole: a run that evaluates after
    midnight accepts some of them, and then one of those is the newest.
    """
    if fetched is None:   # a page without its fetch time: no day to judge by, keep them all
        return set(range(len(dates)))
    limit = fetched + FUTURE_SLACK
    newest: dict[tuple[str, str], date] = {}
    for hit in dates:
        if hit.date <= limit:
            group = (hit.source, hit.block)
            if group not in newest or hit.date > newest[group]:
                newest[group] = hit.date
    return {i for i, hit in enumerate(dates) if hit.date > limit or newest.get((hit.source, hit.block)) == hit.date}


def encode(forms: Sequence[int], dates: Sequence[DateHit], form_of: Mapping[str, int],
           fetched: date | None, findings: Sequence[Finding] = (), notes: Mapping[str, Any] | None = None) -> bytes:
    """The stored value of a page: its link forms in order, its dates with their items as form
    numbers (`form_of`: target URL -> the page's first form linking it) and the kept snippets."""
    rows: list[list[Any]] = []
    for hit in dates:
        item: int | str = form_of.get(hit.item, hit.item) if hit.item else ""
        rows.append([hit.date.toordinal(), hit.source, hit.block, item])
    snippets = {str(i): dates[i].snippet for i in sorted(kept_snippets(dates, fetched)) if dates[i].snippet}
    doc: dict[str, Any] = {"v": VERSION, "l": list(forms), "d": rows}
    if snippets:
        doc["s"] = snippets
    if findings:
        doc["f"] = [[f.kind, f.masked, f.context, f.right, f.severity, f.source, f.count] for f in findings]
    if notes:
        doc["n"] = dict(notes)
        if isinstance(notes.get("hooks"), list):   # each hook's link by its form number, as a date's item
            doc["n"]["hooks"] = [[form_of.get(row[0], row[0]), *row[1:]] if isinstance(row, list) and row else row
                                 for row in notes["hooks"]]
    return zlib.compress(orjson.dumps(doc), LEVEL)


def append_links(blob: bytes | None, forms: Sequence[int]) -> bytes:
    """`blob` with `forms` added after its links (links whose page was stored before they came)."""
    doc = _doc(blob) if blob else {"v": VERSION, "l": [], "d": []}
    doc["l"] = list(doc.get("l", ())) + list(forms)
    return zlib.compress(orjson.dumps(doc), LEVEL)


class CorruptValue(ValueError):
    """A stored page value that does not decode (a bug or a damaged database)."""


def _doc(blob: bytes) -> dict[str, Any]:
    try:
        doc: dict[str, Any] = orjson.loads(zlib.decompress(blob))
    except (zlib.error, orjson.JSONDecodeError) as exc:
        raise CorruptValue(f"a stored page does not decode: {type(exc).__name__}: {exc}") from exc
    if not isinstance(doc, dict):
        raise CorruptValue("a stored page does not decode: not a JSON object")
    return doc


def forms_of(blob: bytes | None) -> list[int]:
    """The link forms of a stored page alone, in order."""
    if not blob:
        return []
    forms = _doc(blob).get("l")
    if not isinstance(forms, list):
        raise CorruptValue("a stored page does not decode: it holds no link list")
    return forms


def _target(item: Any, targets: Sequence[str] | Mapping[int, str]) -> Any:
    """A stored link reference: a form number as its target URL (a number without a form stays as it is)."""
    if isinstance(item, int):
        try:
            return targets[item]
        except (IndexError, KeyError):
            return item
    return item


_DAYS: dict[int, date] = {}
_DAYS_MAX = 8192


def _day(ordinal: int) -> date:
    """One date object per day: a large site's pages repeat the same few hundred dates. A plain
    dict (cleared when full): a snapshot asks it once a date, ~250,000 times for 6,000 pages."""
    day = _DAYS.get(ordinal)
    if day is None:
        if len(_DAYS) >= _DAYS_MAX:
            _DAYS.clear()
        day = _DAYS[ordinal] = date.fromordinal(ordinal)
    return day


def decode(blob: bytes | None, targets: Sequence[str] | Mapping[int, str]) -> tuple[list[int], list[DateHit]]:
    """(link forms, dates) of a stored page; an item stored as a form number comes back as its
    target (`targets[form]`). None decodes as a page without links or dates."""
    forms, dates, _, _ = decode_page(blob, targets)
    return forms, dates


def decode_page(blob: bytes | None, targets: Sequence[str] | Mapping[int, str]
                ) -> tuple[list[int], list[DateHit], list[Finding], dict[str, Any]]:
    """(link forms, dates, screening findings, notes ({} for none)) of a stored page, as `decode`."""
    if not blob:
        return [], [], [], {}
    doc = _doc(blob)
    notes = doc.get("n")
    if not isinstance(notes, dict):
        notes = {}
    elif isinstance(notes.get("hooks"), list):
        notes["hooks"] = [[_target(row[0], targets), *row[1:]] if isinstance(row, list) and row else row
                          for row in notes["hooks"]]
    try:
        snippets = {int(i): text for i, text in doc.get("s", {}).items()}
        days, intern = _DAYS, sys.intern
        dates = [DateHit(days.get(ordinal) or _day(ordinal), intern(source), snippets.get(i, ""), intern(block),
                         targets[item] if isinstance(item, int) else item)
                 for i, (ordinal, source, block, item) in enumerate(doc["d"])]
        findings = [Finding(*row) for row in doc.get("f", ())]
        return doc["l"], dates, findings, notes
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise CorruptValue(f"a stored page does not decode: {type(exc).__name__}: {exc}") from exc
