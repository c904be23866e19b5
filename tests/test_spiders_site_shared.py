"""SiteSpider in a shared crawl (`share`, spiders/sharedsite.py): two spiders, as two workers' crawl children, on one
site whose state is in a real Redis. Responses are made in the test and handed to the spiders' callbacks.

Between them each URL is requested once, the page budget holds for both, the max_pages event is said once, each
settles only when nothing is pending anywhere, and a callback that raises does not leave the site pending forever.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from scrapy.http import Request
from twisted.python.failure import Failure

from spiders.output import CrawlBundle
from spiders.sharedsite import SharedSite, site_key
from spiders.site import SiteBounds, SiteSpider
from tests.test_spiders_site import HOME, TODAY, bounds, html, respond, split

LINKS = html("".join(f'<a href="/p{i}.html">{i}</a>' for i in range(6)))


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    found = redis.Redis.from_url(redis_url, decode_responses=True)
    yield found
    found.close()


def worker(client: redis.Redis, prefix: str, name: str, site: SiteBounds, window: int = 2) -> SiteSpider:
    """A spider as a worker's shared crawl child: fed (its feed never ends), `window` requests of the site at once."""
    return SiteSpider(sites=(), today=TODAY, max_bytes=1000, shared_window=window, feed=lambda: ([], False),
                      catalog={site.site_id: site},
                      share=lambda site_id: SharedSite(client, site_key(prefix, "run", site_id), name))


def answer(s: SiteSpider, request: Request, body: str = html("")) -> tuple[list[Request], list[CrawlBundle]]:
    return split(s.parse(respond(request, body)))  # type: ignore[arg-type]


def crawl_between(a: SiteSpider, b: SiteSpider, site: SiteBounds) -> tuple[list[str], list[CrawlBundle]]:
    """A opens the site and reads its homepage, B joins; then each answers its requests, A first, until neither has
    any: every URL requested, and every bundle."""
    requested: list[str] = []
    bundles: list[CrawlBundle] = []
    (home,), _ = split(a.add_sites([site.site_id]))
    requested.append(home.url)
    out = {a: answer(a, home, LINKS)[0], b: []}
    joined, got = split(b.add_sites([site.site_id]))
    out[b] += joined
    bundles += got
    while out[a] or out[b]:
        for s in (a, b):
            if out[s]:
                request = out[s].pop(0)
                requested.append(request.url)
                more, got = answer(s, request)
                out[s] += more
                bundles += got
    for s in (a, b):   # what the poll loop does: each finds the site settled
        bundles += split(s._poll_shared())[1]
    return requested, bundles


def test_two_workers_request_each_url_of_a_site_once_and_both_settle(client: redis.Redis, redis_prefix: str) -> None:
    site = bounds()
    a, b = worker(client, redis_prefix, "a", site), worker(client, redis_prefix, "b", site)
    requested, bundles = crawl_between(a, b, site)
    assert sorted(requested) == sorted([HOME, *(f"{HOME}p{i}.html" for i in range(6))])
    pages = [x.page for x in bundles if x.page is not None]
    assert sorted(p.url for p in pages) == [f"{HOME}p{i}.html" for i in range(6)], "each page recorded once"
    assert [x.done for x in bundles if x.done] == ["demo", "demo"], "each worker leaves the site once it is settled"
    assert a.states["demo"].done and b.states["demo"].done


def test_the_page_budget_holds_across_workers_and_max_pages_is_said_once(client: redis.Redis,
                                                                       redis_prefix: str) -> None:
    site = bounds(max_pages=3)
    a, b = worker(client, redis_prefix, "a", site), worker(client, redis_prefix, "b", site)
    requested, bundles = crawl_between(a, b, site)
    assert len(requested) == 3, requested
    events = [e for x in bundles for e in x.events if e.kind == "max_pages"]
    assert [e.detail for e in events] == ["max_pages 3 reached; 4 URLs not fetched"]
    said = [e for s in (a, b) for e in s._left(s.states["demo"])]
    assert said == [], "said once for the site, by the first worker to find it settled"


def test_a_callback_that_raises_is_given_up_and_does_not_hold_the_site(client: redis.Redis, redis_prefix: str) -> None:
    site = bounds()
    a, b = worker(client, redis_prefix, "a", site, window=8), worker(client, redis_prefix, "b", site)
    (home,), _ = split(a.add_sites(["demo"]))
    taken = answer(a, home, LINKS)[0]
    assert len(taken) == 6
    first = taken.pop(0)
    response = respond(first, html(""))
    a._state(response.meta)            # the callback starts, then raises before it answers
    a._callback_failed(Failure(ValueError("a bug")), response, a)
    for request in taken:
        answer(a, request)
    shared = a.states["demo"].shared
    assert shared is not None and shared.status().settled
    assert split(b.add_sites(["demo"]))[0] == [], "nothing left to take, nothing put back"
    assert a.states["demo"].done, "A left the site once its last callback ran"
