"""spiders.sharedsite: one site's crawl state shared by several workers in real Redis: dedupe, the frontier's
order, the page budget, inflight entries put back when a worker's lease expires, and the run's queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from spiders.sharedsite import Entry, SharedSite, Status, forget, requeue, site_key

H = "https://www.gov.test"


@pytest.fixture()
def client(redis_url: str) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(redis_url, decode_responses=True)
    yield c
    c.close()


class Run:
    """One site of one run, and the run's queue keys."""

    def __init__(self, client: redis.Redis, prefix: str, site_id: str = "s1") -> None:
        self.client, self.prefix, self.site_id = client, prefix, site_id
        self.key = site_key(prefix, "r1", site_id)
        self.todo, self.done = f"{prefix}:run:r1:todo", f"{prefix}:run:r1:done"

    def worker(self, name: str, max_pages: int = 100, cap: int = 300) -> SharedSite:
        site = SharedSite(self.client, self.key, name)
        site.open(max_pages, cap)
        return site

    def requeue(self, worker: str) -> int:
        return requeue(self.client, self.key, worker, self.site_id, self.todo, self.done)

    def leave(self, site: SharedSite) -> bool:
        return site.leave(self.site_id, self.todo, self.done)

    def n(self) -> dict[str, str]:
        return self.client.hgetall(f"{self.key}:n")


@pytest.fixture()
def run(client: redis.Redis, redis_prefix: str) -> Run:
    return Run(client, redis_prefix)


def urls(*paths: str) -> list[str]:
    return [f"{H}/{p}" for p in paths]


def taken(entries: list[Entry]) -> list[tuple[str, int]]:
    return [(e.url.removeprefix(H + "/"), e.depth) for e in entries]


def test_offer_dedupes_and_take_goes_shallowest_first_fifo_within_a_depth(run: Run) -> None:
    a = run.worker("a")
    assert a.offer(urls("c", "a", "c"), 2) == urls("c", "a")
    assert a.offer(urls("b", "a"), 1) == urls("b")
    assert a.offer(urls("d"), 2) == urls("d")
    assert a.offer(urls("d", "b"), 0) == []
    assert taken(a.take(10)) == [("b", 1), ("c", 2), ("a", 2), ("d", 2)]
    assert a.take(10) == []
    assert a.status() == Status(waiting=0, pending=4, budget=True)


def test_offer_skips_a_url_cut_as_a_trap(run: Run) -> None:
    a = run.worker("a")
    assert a.cut(f"{H}/trap") and not a.cut(f"{H}/trap")
    assert a.offer(urls("trap", "ok"), 1) == urls("ok")


def test_take_stops_at_max_pages_counting_pages_and_pending(run: Run) -> None:
    a = run.worker("a", max_pages=3)
    a.offer(urls("1", "2", "3", "4", "5"), 1)
    first = a.take(2)
    assert a.answered(first[0].url, page=True)
    assert a.answered(first[1].url)                                  # no page: gives its budget back
    assert taken(a.take(10)) == [("3", 1), ("4", 1)]                 # 1 page + 2 pending = 3
    assert a.status() == Status(waiting=1, pending=2, budget=False)
    assert a.answered(f"{H}/3")
    assert taken(a.take(10)) == [("5", 1)]


def test_take_stops_at_the_fetch_cap(run: Run) -> None:
    a = run.worker("a", max_pages=100, cap=2)
    a.offer(urls("1", "2", "3"), 1)
    got = a.take(10)
    assert len(got) == 2
    for e in got:
        a.answered(e.url)
    assert a.take(10) == [] and not a.status().budget


def test_the_first_open_wins_and_its_bounds_hold_for_joiners(run: Run) -> None:
    a = SharedSite(run.client, run.key, "a")
    b = SharedSite(run.client, run.key, "b")
    assert a.open(1, 3)
    assert not b.open(50, 150)
    a.offer(urls("1", "2"), 1)
    assert len(b.take(10)) == 1                                      # max_pages 1, not 50


def test_two_workers_share_seen_and_budget(run: Run) -> None:
    a, b = run.worker("a", max_pages=3), run.worker("b", max_pages=3)
    assert a.offer(urls("1", "2"), 1) == urls("1", "2")
    assert b.offer(urls("2", "3", "4"), 1) == urls("3", "4")
    assert taken(a.take(2)) == [("1", 1), ("2", 1)]
    assert taken(b.take(5)) == [("3", 1)]                            # the budget is the site's
    assert not a.answered(f"{H}/3")                                  # b's entry, not a's
    assert b.answered(f"{H}/3", page=True)
    assert not b.answered(f"{H}/3", page=True)                       # once
    assert run.n()["pages"] == "1" and run.n()["pending"] == "2"
    assert b.see([f"{H}/5", f"{H}/1"]) and not a.see([f"{H}/6"]) and a.see([f"{H}/6"])
    assert not a.see([])


def test_requeue_puts_back_what_was_not_committed_and_uncounts_it(run: Run) -> None:
    a, b = run.worker("a"), run.worker("b")
    a.offer(urls("p1", "p2", "p3", "p4"), 1)
    assert len(a.take(4)) == 4
    a.answered(f"{H}/p1", page=True)                                 # answered, stored, committed
    a.answered(f"{H}/p2", page=True)                                 # answered as a page, not committed
    a.answered(f"{H}/p3")                                            # answered, no page, not committed
    a.committed([f"{H}/p1"])                                         # p4: requested, never answered
    assert run.n()["pages"] == "2" and run.n()["pending"] == "1"
    assert run.requeue("a") == 3
    n = run.n()
    assert (n["pages"], n["pending"]) == ("1", "0")
    assert sorted(e.url for e in b.take(10)) == urls("p2", "p3", "p4")
    assert run.requeue("a") == 0                                     # idempotent


def test_a_requeued_entry_goes_ahead_of_its_depth_but_behind_shallower_ones(run: Run) -> None:
    a, b = run.worker("a"), run.worker("b")
    a.offer(urls("x2"), 2)
    assert taken(a.take(1)) == [("x2", 2)]
    b.offer(urls("y1"), 1)
    b.offer(urls("y2", "z2"), 2)
    b.offer(urls("y3"), 3)
    run.requeue("a")
    assert taken(b.take(10)) == [("y1", 1), ("x2", 2), ("y2", 2), ("z2", 2), ("y3", 3)]


def test_a_requeued_entry_at_depth_zero_keeps_its_depth(run: Run) -> None:
    a, b = run.worker("a"), run.worker("b")
    a.offer(urls(""), 0)
    a.take(1)
    b.offer(urls("1"), 1)
    run.requeue("a")
    assert taken(b.take(10)) == [("", 0), ("1", 1)]


def test_a_reaped_worker_takes_nothing_and_its_answers_change_nothing(run: Run) -> None:
    a, b = run.worker("a"), run.worker("b")
    a.offer(urls("1", "2"), 1)
    a.take(1)
    run.requeue("a")
    assert a.take(10) == []
    assert a.claim_sheets(urls("s.css"), 2, 10) == []
    assert not a.answered(f"{H}/1", page=True)
    assert run.n().get("pages", "0") == "0" and run.n()["pending"] == "0"
    assert len(b.take(10)) == 2


def test_sheets_are_claimed_up_to_the_limit_and_requeued_as_sheets(run: Run) -> None:
    a, b = run.worker("a"), run.worker("b")
    a.offer(urls("page"), 1)
    assert a.claim_sheets(urls("1.css", "page", "2.css", "1.css"), 2, 3) == urls("1.css", "2.css")
    assert b.claim_sheets(urls("3.css", "4.css"), 2, 3) == urls("3.css")
    n = run.n()
    assert (n["sheets"], n["pending"], n["scheduled"]) == ("3", "3", "3")
    assert not a.answered(f"{H}/1.css")                              # a page of that URL was never taken
    assert a.answered(f"{H}/1.css", sheet=True)
    assert run.requeue("a") == 2
    got = b.take(10)
    assert {e.url: (e.depth, e.sheet) for e in got} == {
        f"{H}/1.css": (2, True), f"{H}/2.css": (2, True), f"{H}/page": (1, False)}
    assert run.n()["sheets"] == "3"                                  # the limit counts claims, not fetches


def test_committed_entries_are_not_put_back(run: Run) -> None:
    a = run.worker("a")
    a.offer(urls("1"), 1)
    a.take(1)
    a.claim_sheets(urls("s.css"), 2, 5)
    a.answered(f"{H}/1", page=True)
    a.answered(f"{H}/s.css", sheet=True)
    a.committed(urls("1", "s.css"))
    assert run.requeue("a") == 0
    assert run.n()["pages"] == "1"


def test_the_last_worker_leaving_a_settled_site_marks_it_done(run: Run) -> None:
    a, b = run.worker("a"), run.worker("b")
    a.offer(urls("1"), 1)
    a.take(1)
    a.answered(f"{H}/1", page=True)
    a.committed(urls("1"))
    assert not run.leave(a)                                          # b is still on it
    assert run.leave(b)
    assert run.client.hgetall(run.done) == {"s1": "b"}
    assert run.client.lrange(run.todo, 0, -1) == []


def test_a_site_left_at_max_pages_with_urls_waiting_is_done(run: Run) -> None:
    a = run.worker("a", max_pages=1)
    a.offer(urls("1", "2"), 1)
    a.take(5)
    a.answered(f"{H}/1", page=True)
    a.committed(urls("1"))
    assert run.leave(a)


def test_the_last_worker_leaving_an_unsettled_site_queues_it_once(run: Run) -> None:
    a, b = run.worker("a"), run.worker("b")
    a.offer(urls("1", "2"), 1)
    a.take(1)
    run.client.rpush(run.todo, "other")
    assert not run.leave(b)
    assert run.requeue("a") == 1                                     # the last one: 2 entries wait
    assert run.client.lrange(run.todo, 0, -1) == ["s1", "other"]
    assert run.client.hgetall(run.done) == {}
    c = run.worker("c")                                              # a worker joins from the queue...
    run.client.lrem(run.todo, 0, "s1")
    assert not run.leave(c)                                          # ...and leaves at once: queued again
    assert run.client.lrange(run.todo, 0, -1) == ["s1", "other"]
    d = run.worker("d")
    assert not run.leave(d) and not run.leave(d)                     # s1 is in the queue: not twice
    assert run.requeue("a") == 0
    assert run.client.lrange(run.todo, 0, -1) == ["s1", "other"]
    run.client.lrem(run.todo, 0, "s1")                               # a worker took it and is about to open it
    assert run.requeue("a") == 0                                     # a second reap of a's lease: no second push
    assert run.client.lrange(run.todo, 0, -1) == ["other"]


def test_a_done_site_is_not_queued_again(run: Run) -> None:
    a = run.worker("a")
    assert run.leave(a)                                              # nothing offered: settled
    late = run.worker("late")
    late.offer(urls("1"), 1)
    assert run.leave(late)
    assert run.client.hgetall(run.done) == {"s1": "a"}
    assert run.client.lrange(run.todo, 0, -1) == []


def test_depths_stay_exact_with_a_large_order(run: Run) -> None:
    a, b = run.worker("a"), run.worker("b")
    run.client.hset(f"{run.key}:n", "order", 2 ** 31 - 10)
    a.offer(urls("5a"), 5)
    a.offer(urls("4"), 4)
    a.offer(urls("5b"), 5)
    assert taken(a.take(1)) == [("4", 4)]
    run.requeue("a")
    assert taken(b.take(10)) == [("4", 4), ("5a", 5), ("5b", 5)]


def test_a_worker_opening_again_after_leaving_rejoins(run: Run) -> None:
    a = run.worker("a")
    a.offer(urls("1"), 1)
    run.leave(a)
    assert a.take(1) == []
    assert not a.open(100, 300)
    assert taken(a.take(1)) == [("1", 1)]


def test_cut_flag_and_event_say_it_the_first_times_only(run: Run) -> None:
    a, b = run.worker("a"), run.worker("b")
    assert a.flag("blocked", "www.gov.test") and not b.flag("blocked", "www.gov.test")
    assert b.flag("rate_limited", "www.gov.test") and b.flag("blocked", "cdn.gov.test")
    assert [a.event("max_depth", 1), b.event("max_depth", 1)] == [True, False]
    assert [w.event("trap", 2) for w in (a, b, a)] == [True, True, False]
    assert b.cut(f"{H}/x") and not a.cut(f"{H}/x")


def test_pagers_keep_the_largest_last_page_and_a_version(run: Run) -> None:
    a, b = run.worker("a"), run.worker("b")
    assert b.pagers(0) == (0, None)
    a.learn_pagers([("list1", 5), ("list2", 3)], most=2)
    version, pages = b.pagers(0)
    assert version > 0 and pages == {"list1": 5, "list2": 3}
    assert b.pagers(version) == (version, None)
    b.learn_pagers([("list1", 4), ("list3", 9)], most=2)             # smaller, and one list too many
    assert a.pagers(version) == (version, None)
    b.learn_pagers([("list1", 7)], most=2)
    later, pages = a.pagers(version)
    assert later > version and pages == {"list1": 7, "list2": 3}


def test_hosts_are_shared(run: Run) -> None:
    a, b = run.worker("a"), run.worker("b")
    assert b.hosts() == set()
    a.add_host("new.gov.test")
    assert b.hosts() == {"new.gov.test"}


def test_max_pages_left_is_said_once_when_the_budget_holds_urls_back(run: Run) -> None:
    a, b = run.worker("a", max_pages=1), run.worker("b", max_pages=1)
    a.offer(urls("1", "2"), 1)
    a.offer(urls("3"), 2)
    assert a.max_pages_left() is None                                # budget left: not now
    a.take(1)
    assert b.max_pages_left() == (f"{H}/2", 2)
    assert a.max_pages_left() is None and b.max_pages_left() is None


def test_max_pages_left_is_not_said_with_nothing_waiting(run: Run) -> None:
    a = run.worker("a", max_pages=1)
    a.offer(urls("1"), 1)
    a.take(1)
    assert a.max_pages_left() is None


def test_forget_deletes_every_key_of_the_sites(run: Run, redis_prefix: str) -> None:
    other = Run(run.client, redis_prefix, "s2")
    for r in (run, other):
        a, b = r.worker("a"), r.worker("b")
        a.offer(urls("1", "2", "3"), 1)
        a.take(1)
        b.take(1)
        a.cut(f"{H}/t")
        a.flag("blocked", "h")
        a.learn_pagers([("l", 2)], 5)
        a.add_host("h")
    run.leave(SharedSite(run.client, run.key, "gone"))               # left without opening: no keys of its own
    keep = Run(run.client, redis_prefix, "s3").worker("a")
    keep.offer(urls("1"), 1)
    assert len(list(run.client.scan_iter(f"{run.key}:*"))) == 11      # 9 of the site, 2 inflight
    forget(run.client, redis_prefix, "r1", ["s1", "s2"])
    assert list(run.client.scan_iter(f"{redis_prefix}:run:r1:site:s[12]:*")) == []
    assert run.client.zcard(f"{keep.key}:frontier") == 1
    forget(run.client, redis_prefix, "r1", [])
