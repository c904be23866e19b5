"""Every check's verdict and evidence on the demo run do not depend on the order its pages were fetched in.

A site's snapshot lists pages in fetch order, which concurrency (and a distributed run) varies; a check
that picks its evidence by that order names other examples in another run of the same web. Each site is
judged twice: as stored, and with its pages reversed (each page's links kept in document order).
"""

from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

import checks
from checks.snapshot import Link, SiteSnapshot
from monitor import config, db, pipeline, store


def reversed_fetch_order(snap: SiteSnapshot) -> SiteSnapshot:
    """The same crawl fetched the other way round: pages reversed, links grouped by source in that order."""
    by_source: dict[str, list[Link]] = {}
    for link in snap.links:
        by_source.setdefault(link.source_url, []).append(link)
    pages = tuple(reversed(snap.pages))
    links = tuple(link for page in pages for link in by_source.pop(page.url, ()))
    links += tuple(link for rest in reversed(by_source.values()) for link in rest)
    assert sorted(map(repr, links)) == sorted(map(repr, snap.links))
    return replace(snap, pages=pages, links=links)


def test_verdicts_do_not_depend_on_fetch_order(demo_run: tuple) -> None:
    outcome, work = demo_run
    assert outcome.status == "complete", outcome.error
    cfg = config.load(Path(work) / "sites.toml")
    requirements = [pipeline.requirement_info(r) for r in cfg.requirements]
    settings = cfg.checks.model_dump(exclude={"disabled"})
    taken_at = datetime.now(UTC)
    engine = db.make_engine(f"sqlite:///{Path(work) / 'govmon.db'}")
    differ: list[str] = []
    judged = 0
    try:
        with db.session_factory(engine)() as session:
            for site in cfg.sites:
                info = pipeline.site_info(site)
                planned = checks.plan(info, requirements, settings, disabled=cfg.disabled_for(site))
                snap = store.load_snapshot(session, outcome.run_id, info, taken_at=taken_at,
                                           collected=checks.needs_of(planned) | {"crawl"},
                                           window_days=cfg.checks.availability_window_days)
                if len(snap.pages) < 2:
                    continue
                judged += 1
                as_fetched = checks.evaluate(snap, planned)
                other = checks.evaluate(reversed_fetch_order(snap), planned)
                for a, b in zip(as_fetched, other, strict=True):
                    if asdict(a) != asdict(b):
                        differ.append(f"{site.id} {a.check_id}:\n  {asdict(a)}\n  {asdict(b)}")
    finally:
        engine.dispose()
    assert judged >= 3
    assert not differ, "\n".join([" ".join(sorted({d.split(":\n")[0].split()[1] for d in differ})), *differ])
