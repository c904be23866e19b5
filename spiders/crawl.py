"""The crawl child: `python -P -m spiders.crawl --config F --out DIR [--segment-bytes N] [--site ID] [--url URL]
[--scale-run RUN [--share-as WORKER]] [--feed FILE]`.

Runs one CrawlerProcess with one SiteSpider for the chosen sites (default: all
configured; --url adds the configured site of that URL, or an ad-hoc site
built by monitor.config.site_from_url) and writes the JSON-lines snapshot as
segments into the folder --out (spiders/output.py); progress and segment lines
go to stderr. --scale-run makes it a worker's crawl for that run of the config's
[scale]: each host's slots are shared with the run's other workers (spiders/hostslots.py);
--share-as also keeps each site's crawl state in Redis as that worker's, so several workers can
crawl one site (spiders/sharedsite.py; a shared crawl is always fed).
--feed makes a fed crawl: the parent appends `site ID` lines (configured sites) to FILE
while the crawl runs and one `end` line when no more will come; each site is announced
done on stderr as soon as its last segment is closed (spiders/output.py), and the crawl
ends once every site is done after `end`.
Exit codes: 0 crawl finished, 1 the crawl itself failed, 2 bad arguments or config.
It never touches the database: the parent ingests the segments (monitor/ingest.py).
Started only as a child process, because Twisted's reactor cannot be restarted in a
long-lived daemon.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from monitor import config as config_mod
from monitor import supervisor
from monitor.config import Config, Site
from monitor.resolver import Resolver
from monitor.wordbook import SHIPPED, read_wordlist
from spiders.screen import Screening
from spiders.output import SEGMENT_BYTES, SEGMENT_SETTING
from spiders.reader import READER_SETTING

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m spiders.crawl", description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, type=Path, help="the sites.toml to crawl")
    parser.add_argument("--out", required=True, type=Path, help="the spool folder to write segments into")
    parser.add_argument("--segment-bytes", type=int, default=SEGMENT_BYTES, metavar="N",
                        help=f"start a new segment after N bytes (default {SEGMENT_BYTES})")
    parser.add_argument("--site", action="append", default=[], metavar="ID", help="crawl only this site (repeatable)")
    parser.add_argument("--url", action="append", default=[], help="crawl the site of this URL (repeatable)")
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="the crawl date for year inference of dates (default: today)")
    parser.add_argument("--scale-run", default=None, metavar="RUN",
                        help="a worker's crawl for this run of [scale]: share each host's slots through its Redis")
    parser.add_argument("--share-as", default=None, metavar="WORKER",
                        help="with --scale-run and --feed: keep each site's crawl state in Redis as WORKER's")
    parser.add_argument("--feed", type=Path, default=None, metavar="FILE",
                        help="take more sites from `site ID` lines appended to FILE until an `end` line")
    return parser.parse_args(argv)


class FeedFile:
    """The sites a parent appends to a feed file: `site ID` lines, then `end`. Read from where the last
    look stopped; a line not yet complete waits for the next look."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.ended = path, 0, False

    def __call__(self) -> tuple[list[str], bool]:
        try:
            with self.path.open("rb") as file:
                file.seek(self.offset)
                data = file.read()
        except FileNotFoundError:
            return [], self.ended
        complete = data[:data.rfind(b"\n") + 1]
        self.offset += len(complete)
        ids: list[str] = []
        for line in complete.decode("utf-8").splitlines():
            word, _, rest = line.strip().partition(" ")
            if word == "site" and rest.strip():
                ids.append(rest.strip())
            elif word == "end":
                self.ended = True
            elif word:
                raise ValueError(f"{self.path}: not a feed line: {line!r}")
        return ids, self.ended


def choose_sites(config: Config, ids: Sequence[str], urls: Sequence[str] = ()) -> list[Site]:
    """The configured sites named by `ids`, then the site of each URL (every configured site when
    both are empty). ValueError names unknown ids; ConfigError a URL that makes no site."""
    if not ids and not urls:
        return list(config.sites)
    unknown = [i for i in ids if config.site_by_id(i) is None]
    if unknown:
        raise ValueError(f"unknown site id(s): {', '.join(unknown)}")
    chosen = {site.id: site for site in config.sites if site.id in set(ids)}
    for url in urls:
        site = config.site_for_url(url) or config_mod.site_from_url(url)
        chosen.setdefault(site.id, site)
    return list(chosen.values())


def screening_for(config: Config) -> Screening:
    """What page text is screened for: the shipped dictionary and the config's word lists, and only for
    the content checks the config leaves on."""
    disabled = set(config.checks.disabled)
    terms = SHIPPED + tuple(term for path in config.screening.wordlists for term in read_wordlist(path))
    return Screening(terms, privacy="content:privacy" not in disabled, wording="content:wording" not in disabled)


def crawl(config: Config, sites: Sequence[Site], out: Path, today: date | None = None,
          segment_bytes: int = SEGMENT_BYTES, scale_run: str | None = None, feed: Path | None = None,
          share_as: str | None = None) -> bool:
    """Crawl `sites` into segments in the folder `out`; True when the crawl finished (whatever the sites answered).
    With `feed`, the configured sites named in that file are crawled too as they come (FeedFile)."""
    from scrapy.crawler import CrawlerProcess

    from spiders.resolver import HostGate
    from spiders.settings import build_settings
    from spiders.site import SiteBounds, SiteSpider

    gate = HostGate(Resolver.from_config(config.dns), config.crawl.networks())
    # A fed crawl's process-wide limits (per-host slots, robots) must hold for any site it may be given.
    settings = build_settings(config, config.sites if feed is not None else sites, gate=gate, out=out,
                              scale_run=scale_run)
    settings[SEGMENT_SETTING] = max(1, segment_bytes)
    settings[READER_SETTING] = True     # pages are read on the other core (spiders/reader.py)
    process = CrawlerProcess(settings)
    # Scrapy filters by LOG_LEVEL at its handler, after every "Crawled"/"Scraped" debug record is made
    # and formatted; at the logger they are never made.
    logging.getLogger("scrapy").setLevel(settings["LOG_LEVEL"])
    crawler = process.create_crawler(SiteSpider)
    fed: dict[str, object] = {}
    if feed is not None:
        fed = {"feed": FeedFile(feed), "catalog": {s.id: SiteBounds.from_config(config, s) for s in config.sites}}
    if share_as is not None and scale_run is not None and config.scale is not None:
        fed["share"] = _share(config.scale.redis_url, config.scale.key_prefix, scale_run, share_as)
    process.crawl(crawler, sites=[SiteBounds.from_config(config, s) for s in sites], today=today, gate=gate,
                  max_bytes=config.crawl.max_response_bytes, screening=screening_for(config), **fed)
    process.start()
    reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
    if reason != "finished":
        print(f"crawl ended early: {reason or 'unknown reason'}", file=sys.stderr)
        return False
    return True


def _share(redis_url: str, prefix: str, run_id: str, worker: str) -> Callable[[str], object]:
    """Each site's shared state in Redis (spiders/sharedsite.py) for a shared crawl."""
    import redis

    from spiders.sharedsite import SharedSite, site_key

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=10, socket_timeout=30, decode_responses=True)
    return lambda site_id: SharedSite(client, site_key(prefix, run_id, site_id), worker)


def main(argv: Sequence[str] | None = None) -> int:
    supervisor.tune_gc()
    supervisor.hold_lifeline()  # a crawl whose parent died must not go on (monitor.supervisor)
    args = parse_args(argv)
    try:
        config = config_mod.load(args.config, crawl_only=True)
        # A fed crawl may start with no site: "every site" is only for a crawl without a feed.
        sites = choose_sites(config, args.site, args.url) if args.site or args.url or args.feed is None else []
        if args.scale_run is not None and config.scale is None:
            raise ValueError("--scale-run needs a [scale] table")
        if args.share_as is not None and (args.scale_run is None or args.feed is None):
            raise ValueError("--share-as needs --scale-run and --feed")
    except config_mod.ConfigError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"{args.config}: {exc}", file=sys.stderr)
        return 2
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        probe = args.out / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        print(f"{args.out}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return 2
    feed = args.feed.resolve() if args.feed is not None else None
    return 0 if crawl(config, sites, args.out, args.today, args.segment_bytes, args.scale_run, feed,
                      args.share_as) else 1


if __name__ == "__main__":
    sys.exit(main())
