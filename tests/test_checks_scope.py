"""The site scope rule (checks.scope), on literal hosts and URLs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from checks.base import Status
from checks.columns import judge, offsite_column
from checks.linktiers import link_tiers
from checks.scope import RunScope, SiteScope, normal_host, site_scope
from checks.snapshot import Page, SiteInfo, SiteSnapshot
from tests import builders as b

LONGCHENG = "https://www.longcheng.gov.cn/"
FGW = "http://fgw.chaoyang.gov.cn/index.html"
CITY = "http://www.chaoyang.gov.cn/"

CASES = [
    # (homepage, extra_hosts, scope, host or URL, covered)
    (LONGCHENG, (), "site", "www.longcheng.gov.cn", True),
    (LONGCHENG, (), "site", "longcheng.gov.cn", True),
    (LONGCHENG, (), "site", "xxgk.longcheng.gov.cn", True),
    (LONGCHENG, (), "site", "https://xxgk.longcheng.gov.cn/col/col123/index.html", True),
    (LONGCHENG, (), "site", "a.b.longcheng.gov.cn", True),
    (LONGCHENG, (), "site", "WWW.LongCheng.Gov.CN", True),
    (LONGCHENG, (), "site", "xxgk.longcheng.gov.cn.", True),
    (LONGCHENG, (), "site", "http://XXGK.longcheng.gov.cn.:8080/a", True),
    (LONGCHENG, (), "site", "longcheng.gov.cn:443", True),
    (LONGCHENG, (), "site", "notlongcheng.gov.cn", False),
    (LONGCHENG, (), "site", "evilxxgk.longcheng.gov.cn.attacker.test", False),
    (LONGCHENG, (), "site", "http://longcheng.gov.cn.attacker.test/", False),
    (LONGCHENG, (), "site", "www.chaoyang.gov.cn", False),
    (LONGCHENG, (), "site", "gov.cn", False),
    (LONGCHENG, (), "site", "", False),
    (LONGCHENG, (), "site", "http://host]/", False),
    (FGW, (), "site", "fgw.chaoyang.gov.cn", True),
    (FGW, (), "site", "xxgk.fgw.chaoyang.gov.cn", True),
    (FGW, (), "site", "www.chaoyang.gov.cn", False),
    (FGW, (), "site", "chaoyang.gov.cn", False),
    (FGW, (), "site", "scjg.chaoyang.gov.cn", False),
    (CITY, (), "site", "fgw.chaoyang.gov.cn", True),
    (CITY, (), "site", "chaoyang.gov.cn", True),
    (CITY, (), "site", "www.chaoyangxian.gov.cn", False),
    ("http://longcheng.gov.cn/", (), "site", "www.longcheng.gov.cn", True),
    (LONGCHENG, (), "host", "www.longcheng.gov.cn", True),
    (LONGCHENG, (), "host", "xxgk.longcheng.gov.cn", False),
    (LONGCHENG, (), "host", "longcheng.gov.cn", False),
    (LONGCHENG, ("xxgk.longcheng.gov.cn",), "host", "xxgk.longcheng.gov.cn", True),
    (LONGCHENG, ("zwfw.ln.gov.cn",), "site", "zwfw.ln.gov.cn", True),
    (LONGCHENG, ("zwfw.ln.gov.cn",), "site", "a.zwfw.ln.gov.cn", False),
    (LONGCHENG, ("ZWFW.ln.gov.cn.",), "site", "http://zwfw.ln.gov.cn/x", True),
    ("http://10.1.2.3:8080/", (), "site", "10.1.2.3", True),
    ("http://10.1.2.3:8080/", (), "site", "http://10.1.2.3/x", True),
    ("http://10.1.2.3:8080/", (), "site", "1.2.3", False),
    ("http://10.1.2.3:8080/", (), "site", "x.10.1.2.3", False),
    ("http://[::1]:8080/", (), "site", "http://[::1]/ipv6/", True),
    ("http://[::1]:8080/", (), "site", "[::1]", True),
    ("http://[::1]:8080/", (), "site", "::2", False),
    ("http://www.gov.cn/", (), "site", "www.gov.cn", True),
    ("http://www.gov.cn/", (), "site", "www.longcheng.gov.cn", False),   # a registry suffix is no base domain
    ("http://www.政府.cn/", (), "site", "xxgk.xn--mxtq1m.cn", True),
    ("http://localhost:8000/", (), "site", "www.localhost", False),
]


@pytest.mark.parametrize(("home", "extra", "mode", "value", "covered"), CASES,
                         ids=[f"{h}+{'/'.join(e) or '-'}[{m}]:{v or 'empty'}" for h, e, m, v, _ in CASES])
def test_scope_covers_by_the_rule(home: str, extra: tuple[str, ...], mode: str, value: str, covered: bool) -> None:
    assert SiteScope.of(home, extra, mode).covers(value) is covered


@pytest.mark.parametrize(("value", "host"), [
    ("WWW.X.GOV.CN", "www.x.gov.cn"), ("www.x.gov.cn.", "www.x.gov.cn"), ("www.x.gov.cn:8080", "www.x.gov.cn"),
    ("http://www.x.gov.cn:8080/a?b", "www.x.gov.cn"), ("[::1]", "::1"), ("[::1]:80", "::1"), ("::1", "::1"),
    ("http://[::1]:80/", "::1"), ("http://host]", ""), ("", ""), ("www.x.gov.cn/path", "www.x.gov.cn"),
])
def test_hosts_are_compared_in_one_form(value: str, host: str) -> None:
    assert normal_host(value) == host


def test_an_unknown_scope_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scope 'domain'"):
        SiteScope.of(LONGCHENG, (), "domain")


def test_the_host_a_homepage_redirects_to_is_added_alone() -> None:
    scope = SiteScope.of(LONGCHENG).with_hosts("https://www.longcheng-new.gov.cn/index.html")
    assert scope.covers("www.longcheng-new.gov.cn") and not scope.covers("xxgk.longcheng-new.gov.cn")
    assert scope.covers("xxgk.longcheng.gov.cn")


def test_a_snapshot_scope_takes_the_site_config_and_the_homepage_landing() -> None:
    site = SiteInfo("lc", "龙城区", "http://www.longcheng.gov.cn/", "portal", "county",
                    extra_hosts=("zwfw.ln.gov.cn",), scope="host")
    home = Page("http://www.longcheng.gov.cn/", "http://portal.longcheng.gov.cn/", 200, "ok", 0,
                redirect_chain=("http://www.longcheng.gov.cn/",))
    deeper = Page("http://www.longcheng.gov.cn/a", "http://elsewhere.test/a", 200, "ok", 1,
                  redirect_chain=("http://www.longcheng.gov.cn/a",))
    scope = site_scope(SiteSnapshot(site, datetime(2026, 1, 1, tzinfo=UTC), frozenset(), pages=(home, deeper)))
    assert [scope.covers(h) for h in ("www.longcheng.gov.cn", "zwfw.ln.gov.cn", "portal.longcheng.gov.cn",
                                      "xxgk.longcheng.gov.cn", "elsewhere.test")] == [True, True, True, False, False]


def _column_on_xxgk(scope: str) -> SiteSnapshot:
    """A portal whose nav links its 负面清单 column on the 信息公开 sub-domain, crawled as the site's."""
    home, column = "https://www.s1.gov.cn/", "https://xxgk.s1.gov.cn/fmqd/"
    day = date(2026, 11, 20)
    articles = [f"https://xxgk.s1.gov.cn/fmqd/202611/t20261120_{n}.html" for n in range(2)]
    pages = [b.page(home, depth=0, dates=[b.date_hit(day)]),
             b.page(column, depth=1, title="市场准入负面清单",
                    dates=[b.date_hit(day, "list-item", "清单一"), b.date_hit(day, "list-item", "清单二")]),
             *(b.page(a, depth=2, dates=[b.date_hit(day, "header")]) for a in articles)]
    links = [b.link(home, column, text="市场准入负面清单", context="nav"),
             *(b.link(column, a, text=f"市场准入负面清单（2026年版）解读之{n}", context="list")
               for n, a in enumerate(articles))]
    site = SiteInfo("s1", "s1 人民政府", home, "portal", "county", scope=scope)
    return b.snapshot(site, taken_at=datetime(2026, 12, 1, tzinfo=UTC), pages=pages, links=links)


def test_the_column_search_takes_a_subdomain_in_scope_as_the_site() -> None:
    inside = judge(_column_on_xxgk("site"), b.requirement(max_age_days=365))
    assert (inside.status, inside.metrics["where"], inside.metrics["examined"]) == (Status.PASS, "nav", 1)
    assert offsite_column(_column_on_xxgk("site"), b.requirement()) is None   # crawled: nothing for a probe
    narrowed = _column_on_xxgk("host")
    narrowed = replace(narrowed, pages=narrowed.pages[:1])   # a host-scoped crawl never fetched the sub-domain
    outside = judge(narrowed, b.requirement(max_age_days=365))
    assert (outside.key, outside.metrics["where"]) == ("column.unexamined", "host")
    assert offsite_column(narrowed, b.requirement()) == "https://xxgk.s1.gov.cn/fmqd/"   # a column probe's job


def test_the_ipv6_tiers_count_the_hosts_in_scope() -> None:
    wide, narrow = _column_on_xxgk("site"), _column_on_xxgk("host")
    assert link_tiers(wide).secondary == ("https://xxgk.s1.gov.cn/fmqd/",) and link_tiers(wide).offsite == ()
    assert link_tiers(narrow).secondary == () and link_tiers(narrow).offsite == ("https://xxgk.s1.gov.cn/fmqd/",)


@pytest.mark.parametrize("host", ["www.chaoyang.gov.cn", "chaoyang.gov.cn", "xxgk.chaoyang.gov.cn", "zwfw.ln.gov.cn",
                                  "chaoyang.gov.cn.", "gov.cn", "www.beipiao.gov.cn", "beipiao.gov.cn",
                                  "static.beipiao.gov.cn", "other.gov.cn", "cn", "127.0.0.1", "evilchaoyang.gov.cn"])
def test_a_runs_scope_covers_what_one_of_its_sites_covers(host: str) -> None:
    scopes = [SiteScope.of("http://www.chaoyang.gov.cn/", ["zwfw.ln.gov.cn"]),
              SiteScope.of("http://www.beipiao.gov.cn/", mode="host"), SiteScope.of("http://127.0.0.1:8080/")]
    assert RunScope.of(scopes).covers_host(host) == any(scope.covers_host(host) for scope in scopes)
