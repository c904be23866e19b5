"""monitor/scale/queue.py for a shared run (`[scale] share_from`): leases per site and worker, joining a site
under way, a reaped worker's entries put back, the last worker to leave a settled site marking it done.

Real Redis (the `redis_url` fixture). The crawl state of one site is tested in test_spiders_sharedsite.py;
shared runs of real workers on the demo web in test_e2e_scale_share.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from monitor.scale.queue import Queue, RunQueue, connect
from spiders.sharedsite import SharedSite

SITES = ["a", "b", "c"]


@pytest.fixture
def queue(redis_url: str, redis_prefix: str) -> Iterator[Queue]:
    client = connect(redis_url)
    yield Queue(client, redis_prefix)
    client.close()


def opened(queue: Queue, share_from: int = 1) -> RunQueue:
    run = queue.run(f"run-{secrets.token_hex(3)}")
    run.open("d" * 64, SITES, lease_s=60, share_from=share_from)
    return run


def site(run: RunQueue, site_id: str, worker: str, urls: int = 0) -> SharedSite:
    """What a worker's crawl child does first: open the site (joining its workers), then offer `urls` URLs."""
    shared = SharedSite(run.queue.client, run.site_key(site_id), worker)
    shared.open(100, 300)
    if urls:
        shared.offer([f"http://{site_id}.test/{n}" for n in range(urls)], 1)
    return shared


def expire(run: RunQueue, site_id: str, worker: str) -> None:
    """What the lease's TTL does when its worker stops renewing it."""
    run.queue.client.delete(f"{run.lease_prefix}{site_id}|{worker}")


def test_a_worker_with_room_joins_the_largest_frontiers_of_sites_others_crawl(queue: Queue) -> None:
    run = opened(queue, share_from=2)
    assert run.take("w1", 3, 60) == SITES
    for site_id, urls in (("a", 1), ("b", 5), ("c", 3)):
        site(run, site_id, "w1", urls)
    assert run.take("w1", 3, 60) == [], "a worker does not join its own sites"
    assert run.take("w2", 3, 60) == ["b", "c"], "largest first; a has fewer than share_from waiting"
    assert run.take("w3", 1, 60) == ["b"]
    assert sorted(run.leases()) == sorted(["a|w1", "b|w1", "c|w1", "b|w2", "c|w2", "b|w3"])


def test_a_reaped_workers_entries_go_back_and_the_site_to_the_queue_when_no_worker_is_left(queue: Queue) -> None:
    run = opened(queue)
    assert run.take("w1", 1, 60) == ["a"]
    shared = site(run, "a", "w1", 3)
    first, second = shared.take(2)
    shared.answered(first.url, page=True)
    shared.committed([first.url])          # stored: stays done
    shared.answered(second.url, page=True)  # answered, not stored: goes back
    assert shared.status().waiting == 1
    expire(run, "a", "w1")
    assert run.reap() == [("a", "w1")]
    status = shared.status()
    assert (status.waiting, status.pending) == (2, 0)
    assert run.leases() == {} and run.progress().waiting == len(SITES), "a is queued again, for a joiner"
    assert run.take("w2", 1, 60) == ["a"]
    joiner = site(run, "a", "w2")
    assert [e.url for e in joiner.take(5)] == [second.url, "http://a.test/2"], "what was put back goes first"
    assert run.reap() == []


def test_renewing_a_lost_shared_lease_takes_it_again_and_rejoins_the_site(queue: Queue) -> None:
    run = opened(queue)
    run.take("w1", 1, 60)
    shared = site(run, "a", "w1", 2)
    shared.take(1)
    expire(run, "a", "w1")
    run.reap()
    assert shared.take(1) == [], "reaped: not among the site's workers"
    assert run.renew("w1", ["a"], 60) == 1
    assert run.leases() == {"a|w1": "w1"}
    assert len(shared.take(5)) == 2, "back on the site: its own entry put back, and the other"


def test_the_last_worker_to_leave_a_settled_site_marks_it_done(queue: Queue) -> None:
    run = opened(queue)
    run.take("w1", 1, 60)
    one = site(run, "a", "w1", 1)
    run.take("w2", 1, 60)   # b from the queue, not a join: sites are waiting
    assert run.take("w2", 5, 60) == ["c", "a"]
    two = site(run, "a", "w2")
    [entry] = two.take(1)
    assert one.take(1) == []
    two.answered(entry.url, page=True)
    two.committed([entry.url])
    assert run.finish("w1", ["a"]) and not run.is_done("a"), "w2 is still on it"
    assert run.finish("w2", ["a"]) and run.done_by() == {"a": "w2"}
    assert run.progress().done == 1 and "a|w1" not in run.leases() and "a|w2" not in run.leases()


def test_a_worker_leaving_a_site_it_did_not_finish_puts_it_back_for_a_joiner(queue: Queue) -> None:
    run = opened(queue)
    run.take("w1", 1, 60)
    shared = site(run, "a", "w1", 2)
    shared.take(2)
    run.give_back("w1", ["a"])   # stopped (SIGTERM) before it stored anything
    assert shared.status().waiting == 2 and not run.is_done("a")
    assert run.take("w2", 1, 60) == ["a"]


def test_closing_a_shared_run_removes_its_sites_state(queue: Queue) -> None:
    run = opened(queue)
    run.take("w1", 3, 60)
    for site_id in SITES:
        site(run, site_id, "w1", 2).take(1)
    run.close(SITES)
    assert list(queue.client.scan_iter(f"{queue.prefix}:*")) == []


def test_the_keys_of_a_dead_coordinators_shared_run_are_removed(queue: Queue) -> None:
    run = opened(queue)
    run.take("w1", 2, 60)
    site(run, "a", "w1", 2).take(1)
    site(run, "b", "w1", 1)
    run.finish("w1", ["b"])
    queue.client.delete(run.alive)
    assert queue.forget_dead() == [run.run_id]
    assert list(queue.client.scan_iter(f"{queue.prefix}:*")) == []


# The judge stage's input ------------------------------------------------------------------------------------------
def test_a_judge_item_carries_the_links_v6_outcomes_fetched_while_the_site_was_crawled() -> None:
    from monitor.fetch import FetchOutcome
    from monitor.outcomes import DnsKind, FetchKind, TlsError
    from monitor.scale import judge

    fetched = {
        "http://a.test/x": (FetchOutcome("http://a.test/x", "http://a.test/y", FetchKind.OK, 200, "::1", 10,
                                         ("http://a.test/x",), content_type="text/html", size=120, elapsed_ms=3.5,
                                         dns_kind=DnsKind.OK, title="标题"), 1),
        "https://a.test/z": (FetchOutcome("https://a.test/z", "https://a.test/z", FetchKind.TLS,
                                          detail="certificate expired", tls_error=TlsError.EXPIRED), 3),
    }
    assert judge.decode(judge.encode(True, {"crawl"}, fetched)) == (True, {"crawl"}, fetched)
    assert judge.decode(judge.encode(False, ["crawl", "probe:links"])) == (False, {"crawl", "probe:links"}, {})


def test_a_site_whose_page_budget_is_spent_is_not_joined(queue: Queue) -> None:
    run = opened(queue)
    run.take("w1", 1, 60)
    shared = SharedSite(queue.client, run.site_key("a"), "w1")
    shared.open(2, 6)
    shared.offer([f"http://a.test/{n}" for n in range(5)], 1)
    for entry in shared.take(2):
        shared.answered(entry.url, page=True)
    assert shared.status().waiting == 3 and not shared.status().budget
    run.take("w2", 2, 60)   # b and c, from the queue
    assert run.take("w3", 1, 60) == [], "three URLs wait, but max_pages lets none of them out"
