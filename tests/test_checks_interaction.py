"""interaction:reply on literal snapshots: channel, three months, the window, the median."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from checks.base import Status
from checks.interaction import interaction_reply
from tests.builders import link, page, snapshot, utcnow

TODAY = utcnow().date()
HOME = "https://www.s1.gov.cn/"
BOX = HOME + "hdjl/"


def msg(title: str, age: int, delay: int | None):  # type: ignore[no-untyped-def]
    asked = TODAY - timedelta(days=age)
    return (title, asked, asked + timedelta(days=delay) if delay is not None else None)


def site(*messages) -> object:  # type: ignore[no-untyped-def]
    return snapshot(pages=[page(HOME), replace(page(BOX, depth=1), messages=tuple(messages))],
                    links=[link(HOME, BOX, text="领导信箱", context="nav")])


@pytest.mark.parametrize(("messages", "status", "late"), [
    pytest.param((msg("a", 30, 5), msg("b", 100, 60)), Status.PASS, 0, id="answered-in-time-passes"),
    pytest.param((msg("a", 200, 91),), Status.FAIL, 1, id="answered-after-three-months-fails"),
    pytest.param((msg("a", 120, None),), Status.FAIL, 1, id="unanswered-for-four-months-fails"),
    pytest.param((msg("a", 20, None),), Status.PASS, 0, id="pending-for-twenty-days-passes"),
    pytest.param((msg("a", 400, 200),), Status.PASS, 0, id="older-than-the-window-is-not-judged"),
])
def test_messages_waiting_over_three_months_fail(messages: tuple, status: Status, late: int) -> None:
    verdict = interaction_reply(site(*messages), {})
    assert (verdict.status, verdict.metrics.get("late", 0)) == (status, late)


def test_the_median_reply_and_the_slowest_first_and_one_message_seen_twice_counts_once() -> None:
    snap = site(msg("a", 200, 100), msg("b", 150, 120), msg("c", 30, 4), msg("a", 200, 100))
    verdict = interaction_reply(snap, {})
    assert (verdict.metrics["messages"], verdict.metrics["median_days"]) == (3, 100)
    assert [e.text for e in verdict.evidence] == ["b", "a"]
    assert verdict.evidence[0].params == {"asked": (TODAY - timedelta(days=150)).isoformat(), "days": 120,
                                          "replied": (TODAY - timedelta(days=30)).isoformat()}


def test_no_channel_fails_and_a_channel_without_a_dated_list_passes() -> None:
    bare = snapshot(pages=[page(HOME)], links=[link(HOME, HOME + "gzdt/", text="工作动态", context="nav")])
    assert interaction_reply(bare, {}).key == "interaction.no_channel"
    assert interaction_reply(bare, {}).status == Status.FAIL
    quiet = site()
    assert (interaction_reply(quiet, {}).status, interaction_reply(quiet, {}).key) == (Status.PASS,
                                                                                      "interaction.no_list")
