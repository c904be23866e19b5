"""monitor.store.pagecodec: a page's links and dates in one stored value, and which snippets it keeps."""

from __future__ import annotations

import zlib
from datetime import date, timedelta

import pytest

from checks.snapshot import DateHit, Finding
from monitor.store import pagecodec

DAY = date(2026, 3, 10)
ITEM = "http://www.chaoyang.gov.test/zwgk/tzgg/202603/t20260309_1.html"


def d(days_ago: int, source: str = "list-item", block: str = "L1", snippet: str | None = None,
      item: str = "") -> DateHit:
    day = DAY - timedelta(days=days_ago)
    return DateHit(day, source, snippet if snippet is not None else f"{source} {block} {day}", block, item)


@pytest.mark.parametrize(("dates", "kept"), [
    pytest.param([d(5), d(1), d(9)], {1}, id="the-newest-of-a-list-keeps-its-snippet"),
    pytest.param([d(1), d(1), d(3)], {0, 1}, id="every-date-equal-to-the-newest"),
    pytest.param([d(1, block="L1"), d(2, block="L2"), d(3, block="L2")], {0, 1}, id="each-list-its-newest"),
    pytest.param([d(4, "text", ""), d(2, "meta", ""), d(6, "header", ""), d(1, "text", "")], {1, 2, 3},
                 id="each-source-its-newest"),
    pytest.param([d(-1), d(-2), d(-30), d(3)], {0, 1, 2}, id="a-day-ahead-is-newest-and-later-ones-kept-whole"),
    pytest.param([], set(), id="no-dates"),
])
def test_the_snippets_kept_are_those_a_check_can_read(dates: list[DateHit], kept: set[int]) -> None:
    assert pagecodec.kept_snippets(dates, DAY) == kept


def test_a_page_without_its_fetch_time_keeps_every_snippet() -> None:
    assert pagecodec.kept_snippets([d(5), d(1)], None) == {0, 1}


def test_links_and_dates_round_trip_with_items_as_form_numbers() -> None:
    elsewhere = "http://www.chaoyang.gov.test/old/1.html"
    dates = [d(1, item=ITEM), d(4, item=elsewhere), d(2, "text", "")]
    blob = pagecodec.encode([7, 3, 7, 12], dates, {ITEM: 3}, DAY)
    targets = {3: ITEM, 7: "http://www.chaoyang.gov.test/", 12: "http://www.chaoyang.gov.test/a.css"}
    forms, got = pagecodec.decode(blob, targets)
    assert forms == pagecodec.forms_of(blob) == [7, 3, 7, 12]
    assert [(g.date, g.source, g.block, g.item) for g in got] == [(x.date, x.source, x.block, x.item) for x in dates]
    assert [g.snippet for g in got] == [dates[0].snippet, "", dates[2].snippet]
    assert ITEM.encode() not in zlib.decompress(blob), "an item the page links to is stored as its form number"


def test_links_that_come_after_their_page_are_appended() -> None:
    blob = pagecodec.append_links(pagecodec.encode([1, 2], [d(1)], {}, DAY), [5, 1])
    assert pagecodec.decode(blob, {})[0] == [1, 2, 5, 1]
    assert pagecodec.decode(pagecodec.append_links(None, [4]), {})[0] == [4]


def test_nothing_stored_is_an_empty_page_and_a_damaged_value_is_a_clear_error() -> None:
    assert pagecodec.decode(None, {}) == ([], [])
    with pytest.raises(pagecodec.CorruptValue, match="does not decode"):
        pagecodec.decode(b"not zlib", {})
    with pytest.raises(pagecodec.CorruptValue):
        pagecodec.decode(zlib.compress(b'{"v": 1, "l": [1], "d": [[1, "text"]]}'), {})


def test_screening_findings_round_trip_and_survive_appended_links() -> None:
    found = [Finding("id_card", "2113**********1234", "身份证 2113**********1234"),
             Finding("wording", "按排", "工作按排如下", "安排", "warn", "现代汉语词典", 3)]
    blob = pagecodec.append_links(pagecodec.encode([1], [d(1)], {}, DAY, found), [2])
    assert pagecodec.decode_page(blob, {}) == ([1, 2], [d(1)], found, {})
    assert pagecodec.decode_page(pagecodec.encode([1], [], {}, DAY), {})[2] == []
    assert b'"f"' not in zlib.decompress(pagecodec.encode([1], [], {}, DAY)), "a page without findings stores none"
def test_a_pages_notes_travel_in_its_value_and_a_page_without_any_stores_none() -> None:
    notes = {"placeholder": "暂无信息", "future": [["https://x.test/a.html", "2099-01-01"]]}
    blob = pagecodec.encode([1], [], {}, None, notes=notes)
    assert pagecodec.decode_page(blob, {}) == ([1], [], [], notes)
    assert pagecodec.decode_page(pagecodec.encode([1], [], {}, None), {})[3] == {}
    assert b'"n"' not in zlib.decompress(pagecodec.encode([1], [], {}, None, notes=None))


def test_the_ingest_keeps_only_known_note_shapes() -> None:
    from monitor.ingest import _notes
    assert _notes({"placeholder": "x" * 500, "future": [["u", "2099-01-01"], ["bad", 3], "no"], 3: "k",
                   "n": {"nested": 1}}) == {"placeholder": "x" * 200, "future": [["u", "2099-01-01"]]}
    assert _notes("not a mapping") is None and _notes({}) is None


def test_a_pages_sheets_and_hooks_and_a_sheets_hiding_rules_come_back_as_page_fields() -> None:
    from monitor.ingest import _notes
    from monitor.store.snapshot import _noted
    page_notes = {"sheets": [["https://x.test/css/style.css"]], "hooks": [["http://bet.test/", "a div.gg body"]]}
    sheet_notes = {"hides": [["display:none", ".gg", "#ad .x"], ["off-screen", ".far"]]}
    for notes in (page_notes, sheet_notes):
        assert pagecodec.decode_page(pagecodec.encode([], [], {}, None, notes=_notes(notes)), {})[3] == notes
    assert _noted(page_notes) == {"sheets": ("https://x.test/css/style.css",),
                                  "hooks": (("http://bet.test/", "a div.gg body"),)}
    assert _noted(sheet_notes) == {"hides": (("display:none", ".gg"), ("display:none", "#ad .x"),
                                             ("off-screen", ".far"))}


def test_a_hooks_link_is_stored_as_its_form_number_and_comes_back_as_its_url() -> None:
    linked, unlinked = "http://bet.test/", "http://ad.test/"
    notes = {"hooks": [[linked, "a div.gg body"], [unlinked, "a li div.yq body"]]}
    blob = pagecodec.encode([4, 9], [], {linked: 9}, None, notes=notes)
    assert linked.encode() not in zlib.decompress(blob), "a hook of a link the page has is its form number"
    assert pagecodec.decode_page(blob, {4: "http://www.chaoyang.gov.test/", 9: linked})[3] == notes
