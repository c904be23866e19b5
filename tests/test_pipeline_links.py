"""What the pipeline hands the link check: each site's own bounds, timeout and retries."""

from __future__ import annotations

from monitor import pipeline
from monitor.config import loads
from monitor.linkcheck import TargetToCheck

CONFIG = """
[crawl]
timeout_s = 10.0
retries = 2
max_link_targets = 300

[[site]]
id = "slow"
name = "建平县人民政府"
url = "http://www.jianping.example/"
kind = "portal"
level = "county"
timeout_s = 40.0
retries = 0
max_links_per_page = 50

[[site]]
id = "plain"
name = "喀左县人民政府"
url = "http://www.kazuo.example/"
kind = "portal"
level = "county"
"""


def test_each_site_bounds_its_own_link_checks() -> None:
    config = loads(CONFIG, "c.toml")
    assert pipeline._link_bounds(config, config.sites) == {"slow": (300, 50), "plain": (300, 1000)}


def test_a_sites_timeout_and_retries_reach_the_targets_it_links() -> None:
    config = loads(CONFIG, "c.toml")
    targets = [TargetToCheck("http://a.example/", sites=frozenset({"slow"})),
               TargetToCheck("http://b.example/", sites=frozenset({"plain"})),
               TargetToCheck("http://c.example/", sites=frozenset({"slow", "plain"})),
               TargetToCheck("http://d.example/", sites=frozenset({"adhoc"}))]
    got = {t.url: (t.timeout_s, t.retries) for t in pipeline._with_site_settings(config, config.sites, targets)}
    assert got == {"http://a.example/": (40.0, 0), "http://b.example/": (10.0, 2),
                   "http://c.example/": (40.0, 2),      # linked by both: the most generous of each
                   "http://d.example/": (None, None)}   # no configured site: the run's [crawl] settings
