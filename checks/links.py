"""links:dead — every link target of the site answers (national 链接可用性 indicators).

Judged from the run's link-target probe (one result per distinct URL, shared
across sites) and the crawl's links (source page, tag, text). Blocked and
rate-limited targets are reported apart and never count as dead; targets the
tool did not request (robots.txt refusals, other schemes, addresses outside the
allowed networks, no route, past the link-check bounds) never count as checked
and are counted apart. What each outcome means is LINK_DISPOSITION, the one
table. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.freshness import answered, homepage_chain, homepage_urls
from checks.snapshot import Link, LinkTarget, SiteSnapshot

class Disposition(StrEnum):
    """What a link target's outcome means for links:dead."""

    DEAD = "dead"              # checked, and the link does not work
    ALIVE = "alive"            # checked, and the link works
    REFUSED = "refused"        # checked, answered by a block or rate limit: never dead, counted apart
    ROBOTS = "robots"          # refused by the host's robots.txt: never requested, never counted as checked
    UNCHECKED = "unchecked"    # not requested or not decidable by the tool: never counted as checked


LINK_DISPOSITION: Mapping[str, Disposition] = MappingProxyType({
    "ok": Disposition.ALIVE,
    "too_large": Disposition.ALIVE,           # it answered; only its size was over the cap
    "http_3xx": Disposition.DEAD,             # a redirect no browser can follow
    "http_4xx": Disposition.DEAD,
    "http_5xx": Disposition.DEAD,             # still failing after the retries
    "dns": Disposition.DEAD,
    "refused": Disposition.DEAD,
    "timeout": Disposition.DEAD,
    "reset": Disposition.DEAD,
    "tls": Disposition.DEAD,
    "protocol": Disposition.DEAD,
    "redirect_loop": Disposition.DEAD,
    "too_many_redirects": Disposition.DEAD,
    "soft_404": Disposition.DEAD,
    "malformed": Disposition.DEAD,            # shown as written, never requested
    "blocked": Disposition.REFUSED,
    "rate_limited": Disposition.REFUSED,
    "robots": Disposition.ROBOTS,
    "no_route": Disposition.UNCHECKED,        # the monitor's own network, not the site
    "disallowed": Disposition.UNCHECKED,      # outside crawl.allowed_networks
    "unsupported": Disposition.UNCHECKED,     # a scheme the tool does not fetch
    "over_limit": Disposition.UNCHECKED,      # past max_link_targets / max_links_per_page
    "error": Disposition.UNCHECKED,           # the tool failed on this target
})
"""The one table: every FetchKind value's meaning for a link (tests check none is missing). An outcome
not in it (a row from a newer version) is unchecked."""


def disposition(outcome: str) -> Disposition:
    return LINK_DISPOSITION.get(outcome, Disposition.UNCHECKED)


def _kinds(wanted: Disposition) -> frozenset[str]:
    return frozenset(kind for kind, d in LINK_DISPOSITION.items() if d is wanted)


DEAD_KINDS = _kinds(Disposition.DEAD)
"""Outcomes that make a link dead; monitor.linkcheck logs with the same set, the demo's truth too."""
REFUSED_KINDS = _kinds(Disposition.REFUSED)
STATUS_KINDS = frozenset({"http_3xx", "http_4xx", "http_5xx"})
REASON_KINDS = frozenset({"dns", "refused", "timeout", "reset", "tls", "protocol"})
"""Dead kinds whose evidence carries the fetch's reason: the kind alone does not say what to fix."""
REASON_MAX = 300
EVIDENCE_MAX = 100
MINOR_MAX = 5


def kind_detail(target: LinkTarget) -> str:
    """"http_4xx 404", "soft_404", "dns — A x.gov.cn: cname_loop …" as evidence shows it: the kind first,
    then, for a network failure, the reason (a CNAME loop, a stalled TLS handshake, not a TLS server)."""
    if target.outcome in STATUS_KINDS and target.http_status is not None:
        return f"{target.outcome} {target.http_status}"
    if target.outcome in REASON_KINDS and target.detail:
        return f"{target.outcome} — {target.detail}"[:REASON_MAX]
    return target.outcome


def detail_key(target: LinkTarget) -> dict[str, Any]:
    """kind_detail in words: the Evidence key and params of a target's outcome (see LINK_DETAILS)."""
    kind = f"{target.outcome} {target.http_status}" if target.outcome in STATUS_KINDS and \
        target.http_status is not None else target.outcome
    if target.outcome in REASON_KINDS and target.detail:
        return {"key": "dead_reason", "params": {"kind": kind, "reason": target.detail[:REASON_MAX]}}
    return {"key": "dead", "params": {"kind": kind}}


LINK_DETAILS = {
    "dead": T(zh="{kind}", en="{kind}"),
    "dead_reason": T(zh="{kind}：{reason}", en="{kind}: {reason}"),
}
LINK_WORDS = {f"<{tag}>": T(zh=f"（{zh}，无文字）", en=f"({en}, no text)") for tag, zh, en in (
    ("a", "链接", "link"), ("area", "图片热区链接", "image map link"), ("iframe", "内嵌页面", "embedded page"),
    ("frame", "框架页面", "frame"), ("img", "图片", "image"), ("script", "脚本", "script"),
    ("link", "页面头部引用的文件", "file linked in the head"), ("embed", "嵌入内容", "embedded content"),
    ("object", "嵌入对象", "embedded object"), ("source", "音视频或图片来源", "media source"),
    ("video", "视频", "video"), ("audio", "音频", "audio"), ("track", "字幕", "subtitles"),
    ("css", "样式表中引用的文件", "file named in a stylesheet"), ("background", "背景图片", "background image"),
    ("meta-refresh", "页面自动跳转", "meta refresh"), ("js-location", "脚本跳转", "script redirect"),
    ("pager", "分页链接", "pager link"))}
"""A link without text is listed by its tag ("<img>"); a reader sees what it is."""
LINK_METRICS = {
    "checked": M("已检查链接", "Links checked"),
    "dead": M("死链", "Dead links"),
    "dead_links": M("不可用链接出现次数", "Dead link occurrences",
                    help=T(zh="按“所在页面 + 链接目标”计，同一目标出现在多个页面上计多次。",
                           en="Counted per source page and target: a target on several pages counts on each.")),
    "dead_by_kind": M("不可用原因", "Dead links by reason", values="fetch_counts"),
    "homepage_dead": M("首页上的不可用链接", "Dead links on the homepage"),
    "blocked": M("被防火墙拦截", "Blocked"),
    "rate_limited": M("被限流", "Rate-limited"),
    "robots": M("robots.txt 禁止访问（未检查）", "Refused by robots.txt (not checked)"),
    "unchecked": M("未检查的链接", "Links not checked"),
    "over_limit": M("超出检查上限（未检查）", "Past the check limits (not checked)"),
    "evidence_shown": M("列出的证据条数", "Evidence lines listed", shown=False),
    "url": M("首页地址", "Homepage URL"),
}


def _dead_pairs(snap: SiteSnapshot, dead: Mapping[str, LinkTarget]) -> dict[tuple[str, str], Link]:
    """One link per (source page, dead target), the first with link text where there are several.
    The source is the page's final URL: where a reader sees the link after redirects. Links are read
    in reading order (SiteSnapshot.links_in_order), so the link kept does not depend on fetch order."""
    pages = snap.page_by_url
    pairs: dict[tuple[str, str], Link] = {}
    for link in snap.links_in_order:
        if link.target_url in dead:
            source = pages[link.source_url].final_url if link.source_url in pages else link.source_url
            key = (source, link.target_url)
            if key not in pairs or (not pairs[key].text and link.text):
                pairs[key] = link
    return pairs


def _evidence(snap: SiteSnapshot, pairs: Mapping[tuple[str, str], Link], dead: Mapping[str, LinkTarget],
              home: frozenset[str]) -> tuple[Evidence, ...]:
    """Homepage first, then the source pages by depth and URL (not fetch order), each page's links in page order."""
    position = {page.final_url: n for n, page in reversed(list(enumerate(snap.pages_in_order)))}
    ordered = sorted(pairs.items(), key=lambda item: (item[0][0] not in home,
                                                      position.get(item[0][0], len(position))))
    found = []
    for (source, url), link in ordered[:EVIDENCE_MAX]:
        target = dead[url]
        moved = target.final_url if target.final_url and target.final_url != url else None
        found.append(Evidence(url=url, source=source, detail=kind_detail(target),
                              text=link.text or f"<{link.tag}>", actual=moved, **detail_key(target)))
    return tuple(found)


@check(
    id="links:dead",
    title=T(zh="链接可用", en="Links work"),
    failure_title=T(zh="存在不可用链接", en="Dead links"),
    description=T(
        zh="检查抓取范围内（本站各主机：首页域名、去掉 www. 的主域名及其所有子域名、extra_hosts）各页面上"
           "发现的每个链接（站内、站外，含图片及 srcset、音视频、字幕、插件、脚本、样式表、图标、"
           "CSS 中的 url() 和附件）。不可用：重试后仍为 4xx/5xx、域名无法解析、连接被拒绝、超时、TLS 错误、"
           "重定向循环或过多、重定向缺少可用的 Location（为空、无法解析或指向 javascript:/data: 等）、软 404"
           "（返回 200 但页面称不存在，或与该站点自身的 404 页面相同）、格式错误的链接（如 http:/www.x.gov.cn、"
           "http://、主机名含空格、端口错误、file: 本地文件，按原样列出）。javascript:、mailto:、tel:、data: "
           "链接不检查、不计数。不算不可用：仅锚点（#）缺失、重试后恢复的 5xx、被防火墙拦截或限流（429），"
           "后两者单独统计。不计入已检查：robots.txt 禁止访问的链接（不请求）、超出检查上限（max_link_targets、"
           "max_links_per_page）的链接（不请求），均单独计数。首页上有任何不可用链接即不合格；首页以外共 1–5 个为警告，超过 5 个（可配置 "
           "links_dead_minor_max）为不合格。",
        en="Every link found on the crawled pages of the site's hosts (the homepage host, its base domain "
           "without www. and every sub-domain of it, extra_hosts), internal and external, including images "
           "and srcset, video, audio, subtitles, plugins, scripts, stylesheets, icons, CSS url() and "
           "attachments, is checked. Dead: 4xx/5xx after retries, DNS failure, connection refused, timeout, TLS failure, redirect loop "
           "or too many redirects, a redirect without a usable Location (empty, unparsable, javascript:, "
           "data: …), soft 404 (a 200 page that says it does not exist or is the site's own 404 page), a "
           "malformed link (http:/www.x.gov.cn, http://, a space in the host, a bad port, a file: link; shown "
           "as written). javascript:, mailto:, tel: and data: links are skipped and not counted. Not dead: a "
           "missing #fragment, a 5xx that recovers on retry, a firewall block or rate limit (429), the last "
           "two counted apart. Not counted as checked: links robots.txt refuses and links past the check limits "
           "(max_link_targets, max_links_per_page); neither is requested, both are counted apart. "
           "Any dead link on the homepage fails; 1-5 dead links elsewhere warn, more than 5 "
           "(links_dead_minor_max) fail."),
    basis="国家政府网站检查指标：链接可用性（首页及其他页面不能正常访问的链接）",
    severity=Severity.MAJOR,
    needs={"crawl", "probe:links"},
    metrics=LINK_METRICS, details=LINK_DETAILS, words=LINK_WORDS,
    messages={
        "ok": T(zh="已检查 {checked} 个链接，未发现不可用链接", en="{checked} links checked, none dead"),
        "ok_refused": T(zh="已检查 {checked} 个链接，未发现不可用链接；其中 {refused} 个被拦截或限流，无法判断",
                        en="{checked} links checked, none dead; {refused} of them were blocked or rate-limited"),
        "ok_partial": T(zh="已检查 {checked} 个链接，未发现不可用链接；另有 {not_checked} 个链接未检查（robots.txt "
                           "禁止访问 {robots} 个，超出检查上限 {over_limit} 个，其他 {other} 个）",
                        en="{checked} links checked, none dead; {not_checked} more were not checked ({robots} refused "
                           "by robots.txt, {over_limit} past the check limits, {other} other)"),
        "few_dead": T(zh="首页以外有 {dead} 个不可用链接（已检查 {checked} 个）",
                      en="{dead} dead links beyond the homepage ({checked} checked)"),
        "dead": T(zh="发现 {dead} 个不可用链接（已检查 {checked} 个）", en="{dead} dead links ({checked} checked)"),
        "homepage_dead": T(zh="首页有 {homepage_dead} 个不可用链接，全站共 {dead} 个（已检查 {checked} 个）",
                           en="{homepage_dead} dead links on the homepage, {dead} in all ({checked} checked)"),
        "homepage_failed": T(zh="首页未能正常获取（{kind}），无法检查链接",
                             en="The homepage could not be fetched ({kind}); links cannot be checked"),
        "no_links": T(zh="在 {pages} 个已抓取页面上未发现链接，无法判断",
                      en="No links found on the {pages} crawled pages; cannot decide"),
        "not_checked": T(zh="{targets} 个链接均未能检查（{reason}），无法判断",
                         en="None of the {targets} links could be checked ({reason}); cannot decide"),
    },
)
def links_dead(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    chain = homepage_chain(snap)
    if not snap.links:
        start = chain[-1] if chain else None
        if start is not None and not answered(start):
            kind = start.fetch_kind + (f" {start.status}" if start.status is not None else "")
            return Verdict(Status.ERROR, "homepage_failed", {"kind": kind}, {"url": start.url})
        return Verdict(Status.ERROR, "no_links", {"pages": len(snap.pages)})
    linked = list(dict.fromkeys(link.target_url for link in snap.links))
    results = {url: snap.targets[url] for url in linked if url in snap.targets}
    outcomes = Counter(t.outcome for t in results.values())
    by = Counter(disposition(t.outcome) for t in results.values())
    refused, robots = by[Disposition.REFUSED], by[Disposition.ROBOTS]
    unchecked = len(linked) - len(results) + by[Disposition.UNCHECKED]
    checked = by[Disposition.DEAD] + by[Disposition.ALIVE] + refused
    apart = {"robots": robots, "unchecked": unchecked, "over_limit": outcomes["over_limit"]}
    if checked - refused <= 0:
        reason = ", ".join(f"{k} {n}" for k, n in sorted(outcomes.items())) or "no results"
        return Verdict(Status.ERROR, "not_checked", {"targets": len(linked), "reason": reason},
                       {"checked": checked, "blocked": outcomes["blocked"],
                        "rate_limited": outcomes["rate_limited"], **apart})
    dead = {url: t for url, t in results.items() if t.outcome in DEAD_KINDS}
    home = homepage_urls(chain)
    pairs = _dead_pairs(snap, dead)
    homepage_dead = len({url for source, url in pairs if source in home})
    metrics = {
        "checked": checked, "dead": len(dead), "dead_links": len(pairs),
        "dead_by_kind": dict(sorted(Counter(t.outcome for t in dead.values()).items())),
        "homepage_dead": homepage_dead, "blocked": outcomes["blocked"], "rate_limited": outcomes["rate_limited"],
        **apart, "evidence_shown": min(len(pairs), EVIDENCE_MAX),
    }
    fill = {"checked": checked, "dead": len(dead), "homepage_dead": homepage_dead, "refused": refused,
            "not_checked": robots + unchecked, "robots": robots, "over_limit": outcomes["over_limit"],
            "other": unchecked - outcomes["over_limit"]}
    evidence = _evidence(snap, pairs, dead, home)
    if homepage_dead:
        return Verdict(Status.FAIL, "homepage_dead", fill, metrics, evidence)
    if len(dead) > int(params.get("links_dead_minor_max", MINOR_MAX)):
        return Verdict(Status.FAIL, "dead", fill, metrics, evidence)
    if dead:
        return Verdict(Status.WARN, "few_dead", fill, metrics, evidence)
    if robots + unchecked:
        return Verdict(Status.PASS, "ok_partial", fill, metrics, evidence)
    return Verdict(Status.PASS, "ok_refused" if refused else "ok", fill, metrics, evidence)
