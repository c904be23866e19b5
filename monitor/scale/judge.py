"""The judge stage of a distributed run on a worker: probe leased sites, judge them, store their results.

A site's snapshot is loaded once, its probes planned from it, run, stored, and the site
judged, by the single-process functions (monitor.pipeline.load_site, judge_window): a
worker's batch is one window of the single-process path. What is the run's and not the
worker's comes in each item's input: the IPv6 route decided once by the coordinator (a
worker without IPv6 must not turn the run's ipv6 verdicts into "no route") and what was
gathered of the site (crawled, links checked), with the links-v6 outcomes the coordinator fetched
while it crawled the site (monitor.prefetch), which are not fetched again. The config is the run's by
its digest.

A site is judged under its fence (monitor.scale.fence, the crawl's lock per run and
site), so one process at a time writes its probes and results: a site whose results are
stored already (judged by a process that outlived its lease) is only marked done, and the
probe rows of an attempt that died before its results were stored are deleted first. The
results of a site go in one transaction (insert-or-nothing on (run, site, check)), so a
site judged twice never stores its results twice.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy.orm import Session

from checks import Result
from monitor import db, pipeline, store
from monitor.fetch import FetchOutcome
from monitor.outcomes import DnsKind, FetchKind, TlsError
from monitor.resolver import Resolver
from monitor.scale.fence import SiteFence
from monitor.scale.queue import QueueError, RunQueue, run_of
from monitor.scale.worker import LeaseKeeper, RunGone, Worker, stopped

log = logging.getLogger(__name__)

BATCH = 4
"""Sites a worker takes at once: probed concurrently as one window (as the single-process path probes
WINDOW_SITES), yet few enough that a run's sites spread over its workers and a lost lease costs little."""


Prefetched = Mapping[str, tuple[FetchOutcome, int]]
_UNSENT = ("headers", "body")   # a links-v6 outcome is kept without them (probes.fetch_v6)


def encode(ipv6_route: bool, gathered: Iterable[str], prefetched: Prefetched | None = None) -> str:
    """A site's input for the judge stage: the run's IPv6 route, what was gathered of the site, and the links-v6
    outcomes fetched while it was crawled (JSON, deflated, base64)."""
    data = {"ipv6_route": ipv6_route, "gathered": sorted(gathered), "prefetched": {
        url: [{f.name: getattr(o, f.name) for f in fields(FetchOutcome) if f.name not in _UNSENT}, attempts]
        for url, (o, attempts) in (prefetched or {}).items()}}
    return base64.b64encode(zlib.compress(json.dumps(data, ensure_ascii=False).encode("utf-8"), 6)).decode("ascii")


def decode(text: str) -> tuple[bool, set[str], dict[str, tuple[FetchOutcome, int]]]:
    found = json.loads(zlib.decompress(base64.b64decode(text)))
    prefetched = {url: (_outcome(values), int(attempts)) for url, (values, attempts) in
                  found.get("prefetched", {}).items()}
    return bool(found["ipv6_route"]), set(found["gathered"]), prefetched


def _outcome(values: dict[str, Any]) -> FetchOutcome:
    return FetchOutcome(**{**values, "kind": FetchKind(values["kind"]), "redirect_chain": tuple(values["redirect_chain"]),
                           "dns_kind": DnsKind(values["dns_kind"]) if values["dns_kind"] else None,
                           "tls_error": TlsError(values["tls_error"]) if values["tls_error"] else None})


def judge_batch(worker: Worker, session: Session, run: RunQueue, items: Sequence[str], *,
                on_beat: Callable[[], object] | None = None) -> list[str]:
    """Probe, judge and store the leased sites `items` of the run's judge stage; the sites done. A failure
    is reported to the run (its coordinator fails it) and raised; the database or Redis away gives the
    sites not done back and is raised."""
    try:
        fence = SiteFence(worker.engine, run_of(run.run_id))
    except db.Unreachable:
        run.give_back(worker.name, list(items))
        raise
    with fence, LeaseKeeper(run, worker.name, items, worker.scale.lease_s, on_beat) as keeper:
        try:
            return _judge(worker, session, run, items, fence, keeper)
        except RunGone:
            log.warning("worker %s: run %s left the queue; its judging was stopped", worker.name, run.run_id)
            return []
        except KeyboardInterrupt:
            run.give_back(worker.name, list(items))   # those done stay done
            raise
        except (db.Unreachable, QueueError) as exc:   # results are stored per site in one transaction
            log.warning("worker %s: run %s: judging %s: %s; the sites not done go back to the queue", worker.name,
                        run_of(run.run_id), ", ".join(items), exc)
            run.give_back(worker.name, list(items))
            raise
        except Exception as exc:
            if stopped(exc):
                run.give_back(worker.name, list(items))
                raise KeyboardInterrupt from exc
            if not keeper.gone:
                run.fail(worker.name, list(items), f"{type(exc).__name__}: {exc}")
            raise


def _judge(worker: Worker, session: Session, run: RunQueue, items: Sequence[str], fence: SiteFence,
           keeper: LeaseKeeper) -> list[str]:
    run_id = run_of(run.run_id)
    inputs: dict[str, str] = {}
    for item in items:
        text = None if keeper.gone or run.is_done(item) else run.input_of(item)
        if text is None:   # done meanwhile by a worker that outlived its lease, or the run is gone
            run.give_back(worker.name, [item])
        else:
            inputs[item] = text
    held = fence.hold(inputs)
    run.give_back(worker.name, [s for s in inputs if s not in held])   # another process is judging it
    judged, todo = [], []
    for site_id in held:
        if store.site_judged(session, run_id, site_id):   # by a process that stored it, then lost its lease
            judged.append(site_id)
            continue
        if cleared := store.clear_probes(session, run_id, site_id):
            log.warning("worker %s: run %s: %d probe rows of an earlier attempt at %s deleted", worker.name, run_id,
                        cleared, site_id)
        todo.append(site_id)
    results = _judged(worker, session, run_id, todo, {s: decode(inputs[s]) for s in todo}) if todo else {}
    if keeper.gone:
        raise RunGone(run.run_id)
    for site_id in todo:
        fence.check()
        store.save_site_results(session, run_id, site_id, results[site_id])
    if not worker._finish(run, [*todo, *judged], fence):
        raise RunGone(run.run_id)
    fence.let_go(held)
    for site_id in todo:
        worker.say(f"worker {worker.name}: run {run_id}: judged site {site_id} ({len(results[site_id])} results)")
    return [*todo, *judged]


def _judged(worker: Worker, session: Session, run_id: str, todo: Sequence[str],
            inputs: dict[str, tuple[bool, set[str], dict[str, tuple[FetchOutcome, int]]]]) -> dict[str, list[Result]]:
    """The sites `todo` probed as one window and judged, their probe rows stored (monitor.pipeline's code)."""
    config = worker.config
    sites = [site for site in (config.site_by_id(s) for s in todo) if site is not None]
    if len(sites) != len(todo):   # the digest is the run's, so every site is configured here
        raise RuntimeError(f"sites {', '.join(set(todo) - {s.id for s in sites})} are not in {config.path}")
    planned, needs = pipeline.plans(config, sites)
    gathered = {s: found for s, (_route, found, _fetched) in inputs.items()}
    prefetched = {url: got for _route, _found, fetched in inputs.values() for url, got in fetched.items()}
    route = next(iter(inputs.values()))[0]   # the run's, the same in every item
    resolver = Resolver.from_config(config.dns)
    with asyncio.Runner() as loop:
        prober = pipeline.prober_for(config, resolver, lambda: route, prefetched)
        try:
            window = [pipeline.load_site(session, run_id, s, planned[s.id], gathered[s.id]) for s in sites]
            return pipeline.judge_window(session, config, run_id, loop, prober, window, planned, needs, gathered,
                                         resolver)
        finally:
            loop.run(prober.aclose())
