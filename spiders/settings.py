"""Scrapy settings for govmon's crawl, built in code from the Config.

Owns every Scrapy knob govmon turns and why; there is no settings.py module
for Scrapy to discover and no scrapy.cfg. Pure: returns a dict. The values that
only the process can honour (the reactor, TWISTED_DNS_RESOLVER) are here, in
the settings the CrawlerProcess starts with, never in a spider's
custom_settings, which Scrapy ignores for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scrapy.settings import default_settings

from monitor.config import Config, Site
from spiders.hostslots import SHARED_SETTING
from spiders.middlewares import MAX_REDIRECTS
from spiders.output import OUT_SETTING
from spiders.resolver import GATE_SETTING, HostGate
from spiders.tlswatch import WATCH_SETTING, HandshakeWatch

AUTOTHROTTLE_START_DELAY_S = 0.0    # per-host concurrency bounds the first burst; the delay adapts from the first response
AUTOTHROTTLE_MAX_DELAY_S = 10.0
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Scrapy components the crawl never uses (cookies, HTTP cache, feeds, telnet and remote control are off). Scrapy
# imports every component it is told of, even one set to None, to match names; these imports (tldextract with
# requests, aiohttp, feed storages) were a third of the crawl child's memory, so they leave the base lists.
UNUSED_COMPONENTS = frozenset({
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware",
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.feedexport.FeedExporter",
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.extensions.spiderstate.SpiderState",
})


def _without(base: dict[str, int], unused: frozenset[str]) -> dict[str, int]:
    return {name: order for name, order in base.items() if name not in unused}


def build_settings(config: Config, sites: Sequence[Site], *, gate: HostGate, out: Path,
                   scale_run: str | None = None) -> dict[str, Any]:
    """The settings of one crawl process for `sites` (the run's sites); with `scale_run`, a worker's crawl
    for that run of [scale], its hosts' slots shared through Redis (spiders/hostslots.py)."""
    crawl = config.crawl
    per_site = [config.crawl_for(site) for site in sites]
    slots = {host: {"concurrency": site_crawl.per_host_concurrency}
             for site, site_crawl in zip(sites, per_site)
             if site_crawl.per_host_concurrency != crawl.per_host_concurrency
             for host in site.hosts}
    settings: dict[str, Any] = {
        "BOT_NAME": "govmon",
        "USER_AGENT": crawl.user_agent,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,  # on by default in 2.19: an HTTP control server on localhost
        "COOKIES_ENABLED": False,
        # Scrapy 2.19 names the resolver setting TWISTED_DNS_RESOLVER (DNS_RESOLVER before 2.15);
        # only the process-level settings can set it.
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "TWISTED_DNS_RESOLVER": "spiders.resolver.GateResolver",
        GATE_SETTING: gate,
        # Scrapy's https handler, wrapped to tell a stalled TLS handshake from a slow answer.
        "DOWNLOAD_HANDLERS": {"https": "spiders.tlswatch.WatchedHTTPSHandler"},
        WATCH_SETTING: HandshakeWatch(),
        OUT_SETTING: str(out),
        # One spider for all sites, so these are the run's global and per-host limits.
        "CONCURRENT_REQUESTS": crawl.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.per_host_concurrency,
        "DOWNLOAD_SLOTS": slots,
        # The default 100 starts that many tasks per response; we yield one item per page.
        "CONCURRENT_ITEMS": 1,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": AUTOTHROTTLE_START_DELAY_S,
        "AUTOTHROTTLE_MAX_DELAY": AUTOTHROTTLE_MAX_DELAY_S,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.per_host_concurrency),
        "DOWNLOAD_DELAY": 0,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": crawl.retries,
        "RETRY_HTTP_CODES": RETRY_HTTP_CODES,
        "RETRY_GIVE_UP_LOG_LEVEL": "DEBUG",
        "DOWNLOAD_TIMEOUT": crawl.timeout_s,
        "DOWNLOAD_MAXSIZE": crawl.max_response_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        # 4xx/5xx pages must reach the spider: they are the dead internal links.
        "HTTPERROR_ALLOW_ALL": True,
        "ROBOTSTXT_OBEY": any(c.obey_robots for c in per_site),
        # Breadth first, so max_pages keeps the shallow pages. The spider sets depth and priority
        # itself (DepthMiddleware would take a redirect page's target one level deeper).
        "DEPTH_PRIORITY": 1,
        "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        # The spider reads meta refresh itself: the page is recorded with its link, then the target.
        "METAREFRESH_ENABLED": False,
        "REDIRECT_MAX_TIMES": MAX_REDIRECTS + 1,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "spiders.middlewares.RobotsMiddleware": 100,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "spiders.middlewares.BackoffRetry": 550,
            "spiders.middlewares.RedirectGuard": 610,
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,  # scope is the spider's
            # No proxy from the environment: it would bypass the resolver's pinned, allowed addresses (the
            # fetch layer has trust_env=False for the same reason), and it read os.environ on every request.
            "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
        },
        "DOWNLOADER_MIDDLEWARES_BASE": _without(default_settings.DOWNLOADER_MIDDLEWARES_BASE, UNUSED_COMPONENTS),
        "EXTENSIONS_BASE": _without(default_settings.EXTENSIONS_BASE, UNUSED_COMPONENTS),
        # URL length and depth are the spider's bounds; these would drop or re-depth its requests.
        "SPIDER_MIDDLEWARES": {
            "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
        },
        "EXTENSIONS": {"spiders.middlewares.BodyGuard": 0},
        "ITEM_PIPELINES": {"spiders.output.JsonLinesWriter": 100},
    }
    if scale_run is not None and config.scale is not None:
        settings[SHARED_SETTING] = {"redis_url": config.scale.redis_url, "key_prefix": config.scale.key_prefix,
                                    "run_id": scale_run}
        # Last before the downloader (the base list ends at 850): a slot is held only while the request is there.
        settings["DOWNLOADER_MIDDLEWARES"]["spiders.hostslots.HostSlotMiddleware"] = 950
    return settings
