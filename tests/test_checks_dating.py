"""dates:impossible on literal snapshots: items after the crawl day, articles published before written."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from checks.base import Status
from checks.dating import dates_impossible
from tests.builders import page, snapshot, utcnow

TODAY = utcnow().date()
HOME = "https://www.s1.gov.cn/"
PARAMS = {"dates_issued_tolerance_days": 1}


def day(offset: int):  # type: ignore[no-untyped-def]
    return TODAY + timedelta(days=offset)


@pytest.mark.parametrize(("fields", "status", "future", "backdated"), [
    pytest.param({}, Status.PASS, 0, 0, id="plain-pages-pass"),
    pytest.param({"future": ((HOME + "a.html", day(5)),)}, Status.WARN, 1, 0, id="an-item-after-the-crawl-warns"),
    pytest.param({"future": ((HOME + "a.html", day(1)),)}, Status.PASS, 0, 0, id="tomorrow-is-time-zone-slack"),
    pytest.param({"published": day(-30), "issued": day(-10)}, Status.WARN, 0, 1, id="published-before-written"),
    pytest.param({"published": day(-30), "issued": day(-29)}, Status.PASS, 0, 0, id="one-day-is-the-tolerance"),
    pytest.param({"published": day(-10), "issued": day(-30)}, Status.PASS, 0, 0, id="written-before-published"),
])
def test_impossible_dates_warn(fields: dict, status: Status, future: int, backdated: int) -> None:
    snap = snapshot(pages=[page(HOME), replace(page(HOME + "x/", depth=1), **fields)])
    verdict = dates_impossible(snap, PARAMS)
    assert (verdict.status, verdict.metrics["future"], verdict.metrics["backdated"]) == (status, future, backdated)
    assert len(verdict.evidence) == future + backdated


def test_one_item_seen_on_its_list_and_its_article_is_one_finding() -> None:
    item = HOME + "a.html"
    pages = [page(HOME), replace(page(HOME + "list/", depth=1), future=((item, day(9)),)),
             replace(page(item, depth=2), future=((item, day(9)),))]
    assert dates_impossible(snapshot(pages=pages), PARAMS).metrics["future"] == 1


def test_nothing_crawled_cannot_be_decided() -> None:
    assert dates_impossible(snapshot(pages=[page(HOME, status=503)]), PARAMS).status == Status.ERROR
