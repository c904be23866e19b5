"""reports.ledger and reports.advice: headlines, advice, root causes and deadlines, on literal results."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from bs4 import BeautifulSoup
from sqlalchemy.orm import Session

from checks import REGISTRY
from checks.base import Evidence, Result
from monitor import store
from monitor.config import RectifyDays
from reports import advice, ledger, render
from tests import builders as b


def r(check_id: str, status: str, key: str, severity: str = "major", **kw: object) -> Result:
    return b.result(check_id, status, severity=severity, message_key=key, **kw)  # type: ignore[arg-type]


TITLES = {"negative_list": "市场准入负面清单", "enterprise_relief": "助企纾困专题"}


@pytest.mark.parametrize(("result", "zh", "en"), [
    (r("https", "warn", "no_https", message_params={"kind": "refused"}), "未启用 HTTPS", "No HTTPS"),
    (r("https", "fail", "expired"), "HTTPS 证书已过期", "HTTPS certificate expired"),
    (r("https", "fail", "self_signed"), "HTTPS 证书有问题", "HTTPS certificate problem"),
    (r("availability", "warn", "intermittent"), "站点访问不稳定", "Site intermittently unreachable"),
    (r("availability", "fail", "down_http", "veto"), "站点无法访问", "Site is unreachable"),
    (r("column:negative_list", "fail", "column.missing"), "市场准入负面清单：栏目缺失",
     "市场准入负面清单: column missing"),
    (r("column:negative_list", "fail", "column.empty", "veto"), "市场准入负面清单：空白栏目",
     "市场准入负面清单: blank column"),
    (r("ipv6:dns", "fail", "nxdomain"), "域名不存在", "Host name does not exist"),
    (r("ipv6:dns", "fail", "no_aaaa"), "域名无 IPv6 解析", "No AAAA record"),
    (r("links:dead", "fail", "homepage_dead"), "首页存在不可用链接", "Dead links on the homepage"),
], ids=["no-https-is-not-a-certificate-problem", "expired-certificate", "other-tls-falls-back-to-the-check",
        "reachable-homepage-is-not-unreachable", "down-homepage-is-unreachable", "missing-column-names-requirement",
        "blank-column", "nxdomain", "no-aaaa", "dead-links-on-the-homepage"])
def test_headline_names_the_case(result: Result, zh: str, en: str) -> None:
    assert advice.headline(result, "zh", TITLES) == zh
    assert advice.headline(result, "en", TITLES) == en


def declared_keys(table: object) -> list[tuple[str, str]]:
    """(family, message key) pairs of a HEADLINES/ADVICE-shaped table that no registered check declares."""
    return [(family, key) for family, keys in table.items() for key in keys  # type: ignore[attr-defined]
            if family not in REGISTRY or key not in REGISTRY[family].messages]


def test_every_headline_and_advice_key_is_a_message_of_its_check() -> None:
    assert declared_keys(advice.HEADLINES) == []
    assert declared_keys(advice.ADVICE) == []
    assert [k for k in ledger.NEEDS if k[0] not in REGISTRY or k[1] not in REGISTRY[k[0]].messages] == []
    assert declared_keys({"https": {"no_such_key": None}, "nope": {"ok": None}}) == [
        ("https", "no_such_key"), ("nope", "ok")], "the contract finds a stale key"


DEAD = [b.evidence("http://www.s1.gov.cn/old/notice.html", source="http://www.s1.gov.cn/zwgk/", detail="http_4xx 404",
                   text="关于开展专项整治的通知"),
        b.evidence("http://other.test/x", source="http://www.s1.gov.cn/", detail="dns", text="省政府")]
CHAINED = {"dns_kind": "no_answer", "cname_chain": "www.s1.gov.cn.cdn.example.net", "ns_zone": "s1.gov.cn"}


@pytest.mark.parametrize(("result", "wanted"), [
    (r("links:dead", "fail", "dead", metrics={"dead": 2, "dead_links": 2}, evidence=DEAD),
     ["http://www.s1.gov.cn/zwgk/ 上的链接“关于开展专项整治的通知”", "http://www.s1.gov.cn/old/notice.html",
      "涉及 2 个页面"]),
    (r("links:dead", "fail", "dead", metrics={"dead": 40, "dead_links": 45}, evidence=DEAD),
     ["另有 43 处见证据明细"]),
    (r("ipv6:dns", "fail", "no_aaaa", message_params={"host": "www.s1.gov.cn"}, metrics=CHAINED),
     ["CNAME 指向 www.s1.gov.cn.cdn.example.net", "服务商"]),
    (r("ipv6:dns", "fail", "no_aaaa", message_params={"host": "www.s1.gov.cn"},
       metrics={"ns_zone": "s1.gov.cn", "ns_total": 2, "ns_with_aaaa": 0, "nameservers": "ns1.s1.gov.cn, ns2.s1.gov.cn"}),
     ["在权威 DNS（s1.gov.cn 区）为 www.s1.gov.cn 添加 AAAA 记录", "ns1.s1.gov.cn, ns2.s1.gov.cn", "一并改造"]),
    (r("ipv6:links", "fail", "low", message_params={"secondary": "80%", "secondary_min": "90%", "tertiary": "20%",
                                                    "tertiary_min": "85%"},
       evidence=[b.evidence("http://xxgk.s1.gov.cn/a/", detail="secondary: dns no_answer"),
                 b.evidence("http://www.s1.gov.cn/go/", detail="tertiary: http_3xx 302")]),
     ["xxgk.s1.gov.cn（1 个链接，无 AAAA 记录）", "www.s1.gov.cn（1 个链接经 IPv6 打不开）"]),
    (r("https", "warn", "expiring", message_params={"not_after": "2027-01-05", "days_left": 9}),
     ["在 2027-01-05 之前续期"]),
    (r("https", "warn", "no_https", message_params={"kind": "refused"}), ["启用 HTTPS", "跳转到 HTTPS"]),
    (r("availability", "fail", "down_http", "veto", message_params={"status": 503},
       metrics={"final_url": "http://www.s1.gov.cn/"}), ["http://www.s1.gov.cn/ 返回 HTTP 503"]),
    (r("availability", "fail", "down_dns", "veto", message_params={"dns_kind": "nxdomain"},
       metrics={"final_url": "http://www.s1.gov.cn/"}), ["恢复域名 www.s1.gov.cn 的解析（当前 域名不存在）"]),
    (r("footer", "warn", "footer.missing", "minor", message_params={"count": 1, "missing": "ICP备案号"}),
     ["在首页页脚补充：ICP备案号"]),
    (r("column:negative_list", "fail", "column.stale", message_params={
        "title": "市场准入负面清单", "url": "http://www.s1.gov.cn/zwgk/fmqd/", "latest": "2025-01-02", "max_age": 365}),
     ["在“市场准入负面清单”栏目（http://www.s1.gov.cn/zwgk/fmqd/）发布最新信息"]),
    (r("content:privacy", "fail", "found", evidence=[
        Evidence("http://www.s1.gov.cn/gsgg/1.html", detail="mobile", actual="138****5678", key="personal",
                 params={"what": "mobile", "masked": "138****5678", "count": 2})]),
     ["删除或遮盖", "http://www.s1.gov.cn/gsgg/1.html（手机号码 138****5678（2 处））"]),
    (r("content:other", "fail", "found"), ["按检查说明核实并整改"]),
], ids=["dead-link-names-page-text-and-target", "dead-links-count-the-rest", "aaaa-missing-at-the-cdn",
        "aaaa-missing-at-the-zone-and-nameservers", "ipv6-links-name-the-hosts", "certificate-renew-by-date",
        "no-https", "homepage-http-error", "homepage-dns", "footer-items", "stale-column-names-its-page",
        "personal-data-names-the-page-and-the-masked-number", "unknown-check-gets-generic-advice"])
def test_advice_names_what_to_fix(result: Result, wanted: Sequence[str]) -> None:
    text = advice.advice(result, "zh", TITLES, "s1")
    for part in wanted:
        assert part in text
    assert "{" not in text and "{" not in advice.advice(result, "en", TITLES, "s1")


def found(site: str, req: str, path: str, where: str, found_on: str) -> Result:
    return r(f"column:{req}", "pass", "column.ok", metrics={"path": path, "where": where, "found_on": found_on,
                                                              "url": f"http://www.{site}.gov.cn/x/"})


MISSING = r("column:negative_list", "fail", "column.missing", message_params={"title": "市场准入负面清单", "pages": 40},
            metrics={"pages_searched": 40, "rejected": 2})


def test_missing_column_advice_names_where_other_sites_keep_it_and_this_sites_page() -> None:
    run = {
        "a": [found("a", "negative_list", "首页 > 政务公开 > 市场准入负面清单", "subnav", "http://www.a.gov.cn/zwgk/")],
        "b": [found("b", "negative_list", "首页 > 政务公开 > 负面清单", "subnav", "http://www.b.gov.cn/zwgk/")],
        "c": [found("c", "negative_list", "首页 > 市场准入负面清单", "nav", "http://www.c.gov.cn/")],
        "s1": [MISSING, found("s1", "enterprise_relief", "首页 > 政务公开 > 助企纾困", "subnav", "http://www.s1.gov.cn/zwgk/")],
    }
    text = advice.advice(MISSING, "zh", TITLES, "s1", advice.placements(run))
    assert text == ("设置“市场准入负面清单”栏目，放在“首页 > 政务公开”的栏目导航（本站该位置：http://www.s1.gov.cn/zwgk/）；"
                    "2 个站点的此栏目设在这里；现有 2 篇标题含关键词的文章不能代替栏目")
    alone = advice.advice(MISSING, "zh", TITLES, "s1", advice.placements({"s1": run["s1"]}))
    assert "可与本站“助企纾困”同放在“首页 > 政务公开”的栏目导航（http://www.s1.gov.cn/zwgk/）" in alone
    nothing = advice.advice(MISSING, "zh", TITLES, "s1", advice.placements({}))
    assert "使其从首页导航可以到达" in nothing


UNREACHABLE = [
    r("availability", "fail", "down_timeout", "veto", metrics={"address": "10.0.0.1"}),
    r("freshness:homepage", "error", "homepage_failed", "veto"),
    r("column:negative_list", "error", "column.no_homepage"),
    r("column:enterprise_relief", "error", "column.no_homepage"),
    r("footer", "error", "footer.unfetched", "minor"),
    r("links:dead", "error", "homepage_failed"),
    r("ipv6:links", "error", "homepage_failed"),
    r("ipv6:homepage", "error", "both_down"),
    r("https", "warn", "no_https"),
]


def book(results: Sequence[Result], language: str = "zh") -> ledger.SiteLedger:
    order = [x.check_id for x in results]
    return ledger.site_ledger("s1", results, language, TITLES, advice.Placements(), key=lambda x: order.index(x.check_id))


def shape(found_book: ledger.SiteLedger) -> list[tuple[str, list[str]]]:
    return [(i.result.check_id, [d.result.check_id for d in i.dependents]) for i in found_book.items]


def test_an_unreachable_homepage_is_one_item_with_what_it_kept_from_being_checked() -> None:
    got = book(UNREACHABLE)
    assert shape(got) == [("availability", [x.check_id for x in UNREACHABLE[1:-1]]), ("https", [])]
    assert got.undecided == ()
    assert {d.reason for d in got.items[0].dependents} == {"首页无法访问，未能检查"}
    assert {d.reason for d in book(UNREACHABLE, "en").items[0].dependents} == {"Not checked: the homepage is unreachable"}


def test_an_error_whose_producer_passed_stays_undecided() -> None:
    results = [r("availability", "pass", "ok"), r("links:dead", "error", "homepage_failed"),
               r("ipv6:homepage", "error", "runner.missing_input")]
    got = book(results)
    assert got.items == () and [x.check_id for x in got.undecided] == ["links:dead", "ipv6:homepage"]


NO_AAAA = [r("ipv6:dns", "fail", "no_aaaa"), r("ipv6:homepage", "error", "no_aaaa"),
           r("ipv6:links", "fail", "low", metrics={"secondary_ok": 0, "tertiary_ok": 0})]


@pytest.mark.parametrize(("results", "want"), [
    (NO_AAAA, [("ipv6:dns", ["ipv6:homepage", "ipv6:links"])]),
    ([*NO_AAAA[:2], r("ipv6:links", "fail", "low", metrics={"secondary_ok": 12, "tertiary_ok": 3})],
     [("ipv6:dns", ["ipv6:homepage"]), ("ipv6:links", [])]),
    ([r("availability", "fail", "down_dns", "veto"), r("ipv6:dns", "fail", "nxdomain"),
      r("ipv6:homepage", "error", "no_aaaa")], [("availability", ["ipv6:dns", "ipv6:homepage"])]),
    ([r("availability", "fail", "down_http", "veto"), r("ipv6:dns", "fail", "nxdomain")],
     [("availability", []), ("ipv6:dns", [])]),
    ([r("availability", "fail", "slow", "veto"), r("links:dead", "fail", "dead")],
     [("availability", []), ("links:dead", [])]),
], ids=["no-aaaa-is-one-ipv6-item", "links-partly-over-ipv6-are-their-own-item",
        "a-missing-host-name-explains-the-ipv6-family-transitively", "an-http-error-does-not-explain-nxdomain",
        "a-slow-homepage-explains-nothing"])
def test_root_causes_fold_what_they_explain(results: list[Result], want: list[tuple[str, list[str]]]) -> None:
    assert shape(book(results)) == want


def test_a_judged_result_under_a_root_says_it_follows_from_it() -> None:
    reasons = {d.result.check_id: d.reason for d in book(NO_AAAA).items[0].dependents}
    assert reasons == {"ipv6:homepage": "域名无 AAAA 记录，未能经 IPv6 检查", "ipv6:links": "由域名无 AAAA 记录导致，添加后复查"}


@pytest.mark.parametrize(("first_seen", "severity", "days", "due"), [
    (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), "veto", None, date(2026, 3, 3)),
    (datetime(2026, 3, 2, 17, 0, tzinfo=UTC), "veto", None, date(2026, 3, 4)),    # 01:00 on the 3rd in Shanghai
    (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), "major", None, date(2026, 3, 9)),
    (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), "minor", {"minor": 30}, date(2026, 4, 1)),
    (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), "unknown", None, date(2026, 3, 17)),
], ids=["veto-next-day", "local-day-counts", "major-a-week", "configured-days", "unknown-severity-as-minor"])
def test_deadline_is_the_local_day_first_seen_plus_the_severitys_days(
        first_seen: datetime, severity: str, days: dict[str, int] | None, due: date) -> None:
    assert ledger.deadline(first_seen, severity, days, "Asia/Shanghai") == due


def test_overdue_counts_whole_local_days_past_the_deadline() -> None:
    assert ledger.overdue_days(date(2026, 3, 3), datetime(2026, 3, 3, 16, 30, tzinfo=UTC), "Asia/Shanghai") == 1
    assert ledger.overdue_days(date(2026, 3, 3), datetime(2026, 3, 3, 16, 30, tzinfo=UTC), "UTC") == 0
    assert ledger.overdue_days(date(2026, 3, 3), datetime(2026, 3, 1, tzinfo=UTC), "UTC") == 0


def test_the_shipped_defaults_are_the_configs() -> None:
    assert dict(ledger.DEFAULT_RECTIFY_DAYS) == RectifyDays().model_dump()


def test_owner_comes_from_the_run_summary() -> None:
    summary = {"owners": {"s1": {"owner": "办公室", "contact": None}}}
    assert ledger.owner_of(summary, "s1") == ("办公室", "")
    assert ledger.owner_of(summary, "s2") == ("", "")
    assert ledger.owner_of({"owners": "bad"}, "s1") == ("", "")


# --- carried over between runs (回头看): the store with three runs, rendered -------------------------------

def stored_run(session: Session, results: Sequence[Result], days_ago: float, summary: dict | None = None) -> str:
    now = b.utcnow() - timedelta(days=days_ago)
    run_id = store.start_run(session, kind="manual", sites=[b.site("s1", name="s1 人民政府")], config_digest="d",
                             code_version="t", started_at=now - timedelta(seconds=3), pid=1, host="h")
    store.finish_run(session, run_id, {"s1": list(results)}, finished_at=now, summary=summary or {})
    return run_id


def three_runs(session: Session) -> str:
    links = r("links:dead", "fail", "dead", metrics={"dead": 1, "dead_links": 1}, evidence=DEAD[:1])
    no_https = r("https", "warn", "no_https")
    stored_run(session, [links, no_https, r("footer", "pass", "footer.ok", "minor")], days_ago=14)
    stored_run(session, [links, no_https, r("footer", "warn", "footer.missing", "minor",
                                             message_params={"count": 1, "missing": "ICP备案号"})], days_ago=7)
    return stored_run(session, [links, r("https", "pass", "ok"), r("footer", "pass", "footer.ok", "minor")],
                      days_ago=0, summary={"owners": {"s1": {"owner": "s1 办公室", "contact": "0421-1"}}})


def test_an_item_carried_over_keeps_its_first_deadline_and_fixed_items_are_listed(
        sqlite_session: Session, tmp_path: Path) -> None:
    run_id = three_runs(sqlite_session)
    report = SimpleNamespace(dir=str(tmp_path / "reports"), language="zh", title="T", rectify_days=RectifyDays(major=5))
    page = render.write_report_set(sqlite_session, report, run_id=run_id, timezone="Asia/Shanghai")
    site = BeautifulSoup((page.parent / "s1.html").read_text(encoding="utf-8"), "lxml")
    items = site.select("ol#fix-list > li")
    assert [li.select_one("h3").get_text(strip=True) for li in items] == ["存在不可用链接"]
    first = (b.utcnow() - timedelta(days=14)).astimezone(ZoneInfo("Asia/Shanghai")).date()
    due = first + timedelta(days=5)
    text = items[0].get_text(" ", strip=True)
    assert f"{due:%Y年%m月%d日}（UTC+8）" in text, "the deadline set when first found"
    assert "已逾期 9 天" in text and "连续 3 次巡检" in text and f"{first:%Y年%m月%d日}" in text
    assert "s1 办公室" in text and "0421-1" in text
    assert "http://www.s1.gov.cn/zwgk/ 上的链接" in items[0].select_one(".advice").get_text()
    fixed = [li.get_text(" ", strip=True) for li in site.select("ul.resolved li")]
    assert fixed == ["✓ 已整改 未启用 HTTPS 上次 ! 警告", "✓ 已整改 页脚信息不全 上次 ! 警告"], \
        "named as the previous run named them"

    wb = openpyxl.load_workbook(page.parent / "findings.xlsx")
    rows = list(wb["整改台账"].iter_rows(values_only=True))
    head = rows[0]
    assert head[:11] == ("站点编号", "站点", "责任单位", "联系方式", "整改事项", "整改建议", "等级", "整改时限", "首次发现",
                         "连续未整改次数", "整改状态")
    by_item = {row[4]: row for row in rows[1:]}
    assert by_item["存在不可用链接"][2:4] == ("s1 办公室", "0421-1")
    assert by_item["存在不可用链接"][7:11] == (f"{due:%Y年%m月%d日}（UTC+8）", f"{first:%Y年%m月%d日}", 3,
                                              "逾期未整改（已逾期 9 天）")
    assert {row[10] for row in rows[1:] if row[4] != "存在不可用链接"} == {"已整改"}
    states = {row[10].value: row[10].fill.fgColor.rgb for row in wb["整改台账"].iter_rows(min_row=2)}
    assert states == {"逾期未整改（已逾期 9 天）": "00FFEBE9", "已整改": "00DAFBE1"}


def test_without_an_owner_the_site_answers_and_no_contact_is_said(sqlite_session: Session, tmp_path: Path) -> None:
    run_id = stored_run(sqlite_session, UNREACHABLE, days_ago=0)
    report = SimpleNamespace(dir=str(tmp_path / "reports"), language="en", title="T")
    page = render.write_report_set(sqlite_session, report, run_id=run_id, timezone="UTC")
    site = BeautifulSoup((page.parent / "s1.html").read_text(encoding="utf-8"), "lxml")
    items = site.select("ol#fix-list > li")
    assert [li.select_one("h3").get_text(strip=True) for li in items] == ["Site is unreachable", "No HTTPS"]
    duty = items[0].select_one("dl.duty").get_text(" ", strip=True)
    assert "s1 人民政府" in duty and "not set" in duty
    assert len(items[0].select(".folded li")) == 7 and not site.select("li.f-error")
    today = b.utcnow().date()
    assert f"{today + timedelta(days=1):%Y-%m-%d} (UTC)" in duty, "veto: one day by default"
