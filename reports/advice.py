"""What a 整改清单 item is called and what to do about it, derived from the finding itself.

Pure: reads stored results (message key, parameters, metrics, evidence) and
nothing else. The headline names the defect of this case, not the check's
general failure ("未启用 HTTPS", not "HTTPS 证书有问题", for a site without
HTTPS); the advice names the page, the link, the host or the DNS layer to
fix. A message key missing here falls back to the check's failure title and a
generic sentence, so a new check still gets an item, only a vaguer one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from checks import spec_for
from checks.base import Result, T, Text
from reports import codes, i18n
from reports.safe import clip

EXAMPLES = 3            # links, pages or hosts named in one piece of advice
ADVICE_LIMIT = 500      # characters of one piece of advice (crawled text inside is cut before)
NAV_SEPARATOR = " > "   # the column check's breadcrumb, e.g. "首页 > 政务公开 > 市场准入负面清单"

# (check family or id, message key) → headline; "{title}" is a column's requirement title.
HEADLINES: Mapping[str, Mapping[str, Text]] = {
    "availability": {
        "slow": T(zh="首页响应过慢", en="Homepage too slow"),
        "unstable": T(zh="站点频繁无法访问", en="Site often unreachable"),
        "intermittent": T(zh="站点访问不稳定", en="Site intermittently unreachable"),
    },
    "https": {
        "no_https": T(zh="未启用 HTTPS", en="No HTTPS"),
        "no_redirect": T(zh="HTTP 未跳转到 HTTPS", en="HTTP does not redirect to HTTPS"),
        "expiring": T(zh="HTTPS 证书即将到期", en="HTTPS certificate expiring"),
        "expired": T(zh="HTTPS 证书已过期", en="HTTPS certificate expired"),
    },
    "ipv6:dns": {
        "nxdomain": T(zh="域名不存在", en="Host name does not exist"),
        "servfail": T(zh="域名解析失败", en="Host name fails to resolve"),
        "cname_loop": T(zh="域名 CNAME 记录循环", en="CNAME loop"),
    },
    "ipv6:homepage": {
        "differs": T(zh="IPv6 与 IPv4 访问内容不一致", en="IPv6 serves other content than IPv4"),
        "slow": T(zh="IPv6 访问慢于 IPv4", en="IPv6 slower than IPv4"),
    },
    "links:dead": {
        "homepage_dead": T(zh="首页存在不可用链接", en="Dead links on the homepage"),
    },
    "content:wording": {
        "minor": T(zh="网页有错别字或词表用语", en="Misspellings or listed words on pages"),
    },
    "freshness:homepage": {
        "no_dates": T(zh="首页及二级页面未标注更新日期", en="No dates on the homepage or its sub-pages"),
    },
    "columns:update": {
        "columns.update_veto": T(zh="栏目不更新（单项否决）", en="Columns not updated (veto)"),
        "columns.update_late": T(zh="部分栏目超期未更新", en="Some columns not updated in time"),
    },
    "columns:blank": {
        "columns.blank_veto": T(zh="空白栏目过多（单项否决）", en="Too many blank columns (veto)"),
        "columns.blank_some": T(zh="存在空白栏目", en="Blank columns"),
    },
    "dates:impossible": {
        "dates.impossible": T(zh="发布日期不合理", en="Impossible publication dates"),
    },
    "links:hidden": {
        "links.hidden_found": T(zh="存在暗链（单项否决）", en="Hidden links (veto)"),
    },
    "links:turned": {
        "links.turned_found": T(zh="外链指向变质网站（单项否决）", en="Links to sites that turned (veto)"),
    },
    "interaction:reply": {
        "interaction.slow": T(zh="留言回复超期（单项否决）", en="Messages answered too late (veto)"),
        "interaction.no_channel": T(zh="没有网上咨询渠道（单项否决）", en="No online consultation channel (veto)"),
    },
    "column": {
        "column.missing": T(zh="{title}：栏目缺失", en="{title}: column missing"),
        "column.empty": T(zh="{title}：空白栏目", en="{title}: blank column"),
        "column.stale": T(zh="{title}：栏目未及时更新", en="{title}: column not updated"),
        "column.no_year": T(zh="{title}：本年度信息未发布", en="{title}: this year's issue missing"),
        "column.late": T(zh="{title}：未按期发布", en="{title}: published late"),
        "column.unreachable": T(zh="{title}：栏目链接打不开", en="{title}: column link broken"),
    },
    "link": {
        "link.missing": T(zh="{title}：未设置链接", en="{title}: no link"),
        "link.dead": T(zh="{title}：链接打不开", en="{title}: link broken"),
    },
    "document": {
        "document.missing": T(zh="{title}：未发布", en="{title}: not published"),
        "document.late": T(zh="{title}：未按期发布", en="{title}: published late"),
        "document.undated": T(zh="{title}：未标注发布日期", en="{title}: undated"),
    },
    "pairing": {
        "pairing.low": T(zh="{title}：政策文件缺少关联解读", en="{title}: documents without a 解读"),
        "pairing.no_column": T(zh="{title}：未找到政策文件栏目", en="{title}: no policy document column"),
    },
}

_DOWN = T(zh="恢复首页访问：{why}，确保 {url} 返回正常页面（HTTP 200）",
          en="Restore the homepage: {why}; {url} must answer with a normal page (HTTP 200)")
ADVICE: Mapping[str, Mapping[str, Text]] = {
    "availability": {
        "down_http": T(zh="修复网站服务：首页 {url} 返回 HTTP {status}，检查 Web 服务器、应用程序和首页文件，"
                          "确保返回正常页面（HTTP 200）",
                       en="Repair the web service: the homepage {url} answers HTTP {status}; check the web server, "
                          "the application and the homepage file until it answers HTTP 200"),
        "down_blocked": T(zh="调整防火墙或安全防护策略，不要对普通访问者弹出质询页面（HTTP {status}）",
                          en="Change the firewall or protection rules so ordinary visitors get no challenge page "
                             "(HTTP {status})"),
        "down_dns": T(zh="恢复域名 {host} 的解析（当前 {dns_kind}）：核实域名注册状态和权威 DNS 的 A 记录",
                      en="Make {host} resolve again (now {dns_kind}): check the domain registration and the A "
                         "record at the authoritative DNS"),
        "down_cname_loop": T(zh="修正域名 {host} 的 CNAME 记录，消除循环，指向实际提供服务的主机",
                             en="Fix the CNAME records of {host}: break the loop and point them at the serving host"),
        "down_refused": T(zh="服务器 {address} 拒绝连接：启动网站服务，或在防火墙开放网站端口",
                          en="Server {address} refuses connections: start the web service or open its port"),
        "down_timeout": T(zh="服务器 {address} 在时限内未响应：检查服务器运行状态、负载、带宽和防火墙",
                          en="Server {address} did not answer in time: check that it runs, its load, bandwidth "
                             "and firewall"),
        "down_tls_stalled": T(zh="服务器接受连接后不完成 TLS 握手：检查 HTTPS 服务配置和中间的安全设备",
                              en="The server takes the connection but never completes the TLS handshake: check "
                                 "the HTTPS service and any security appliance in front of it"),
        "down_reset": T(zh="连接被中断：检查服务器、负载均衡和安全设备是否重置了访问连接",
                        en="Connections are reset: check the server, load balancer and security appliances"),
        "down_tls": T(zh="更换有效的 HTTPS 证书，修正 TLS 配置（{tls_error}）",
                      en="Install a valid certificate and fix the TLS set-up ({tls_error})"),
        "down_redirect": T(zh="修正首页的重定向（{kind}），使 {url} 最终到达正常页面",
                           en="Fix the homepage redirects ({kind}) so {url} ends on a normal page"),
        "down_other": _DOWN,
        "slow": T(zh="优化首页响应速度：本次 {elapsed_s} 秒，须在 {slow_s} 秒内（检查服务器负载、带宽和页面体积）",
                  en="Speed up the homepage: {elapsed_s} s this time, limit {slow_s} s (check server load, "
                     "bandwidth and page weight)"),
        "unstable": T(zh="排查近 {days} 天的间歇性故障（{failed}/{total} 次探测失败）：检查服务器稳定性、带宽和监控告警",
                      en="Find the intermittent outages of the last {days} days ({failed}/{total} probes failed): "
                         "check server stability, bandwidth and alerting"),
        "intermittent": T(zh="首页当前可访问，但近 {days} 天有 {failed}/{total} 次探测失败：排查间歇性故障，避免达到否决线",
                          en="The homepage answers now, but {failed}/{total} probes failed in {days} days: find the "
                             "intermittent outages before they reach the veto line"),
    },
    "freshness:homepage": {
        "stale": T(zh="在首页发布最新信息（最近一次 {latest}，已 {age_days} 天），此后至少每 {max_age_days} 天更新一次",
                   en="Publish current news on the homepage (latest {latest}, {age_days} days ago) and update it at "
                      "least every {max_age_days} days"),
        "stale_subpages": T(zh="更新首页链接的二级栏目（最近一次 {latest}，已 {age_days} 天），并在首页显示最新信息",
                            en="Update the sections the homepage links (latest {latest}, {age_days} days ago) and "
                               "show current news on the homepage"),
        "no_dates": T(zh="在首页和二级页面的信息列表中标注发布日期，并保持更新",
                      en="Show publication dates in the homepage's and sub-pages' lists, and keep them current"),
    },
    "columns:update": {
        "columns.update_veto": T(zh="逐一更新证据中列出的超期栏目（{late} 个超期、{long} 个长期未更新），无法保障更新的"
                                    "栏目应整合或关停；栏目归类有误的，在配置 [[checks.column_classes]] 中更正",
                                 en="Update each late column the evidence lists ({late} late, {long} long unupdated); "
                                    "merge or close columns that cannot be kept current; correct a wrong class in "
                                    "[[checks.column_classes]]"),
        "columns.update_late": T(zh="更新证据中列出的 {late} 个超期栏目和 {long} 个长期未更新栏目",
                                 en="Update the {late} late and {long} long unupdated columns the evidence lists"),
    },
    "columns:blank": {
        "columns.blank_veto": T(zh="为证据中列出的 {blank} 个空白栏目发布信息，或将其撤并",
                                en="Publish items in the {blank} blank columns the evidence lists, or remove them"),
        "columns.blank_some": T(zh="为证据中列出的 {blank} 个空白栏目发布信息，或将其撤并",
                                en="Publish items in the {blank} blank columns the evidence lists, or remove them"),
    },
    "links:hidden": {
        "links.hidden_found": T(zh="立即删除证据中列出的 {count} 个暗链，排查网站被篡改的原因（模板、插件、服务器），"
                                   "修复漏洞并向主管部门报告",
                                en="Remove the {count} hidden links the evidence lists at once; find how the site was "
                                   "tampered with (templates, plug-ins, server), fix it and report it"),
    },
    "links:turned": {
        "links.turned_found": T(zh="立即删除或更正证据中列出的 {count} 个外站链接，并定期核查外链指向的网站",
                                en="Remove or correct the {count} off-site links the evidence lists at once, and "
                                   "check the sites your links lead to regularly"),
    },
    "interaction:reply": {
        "interaction.slow": T(zh="答复证据中列出的超期留言（{late} 条），建立留言 3 个月内答复的办理机制",
                              en="Answer the late messages the evidence lists ({late}); set up handling that "
                                 "answers within 3 months"),
        "interaction.no_channel": T(zh="开设网上咨询渠道（领导信箱、网上咨询等），或链接到本级政府的统一互动平台",
                                    en="Open an online consultation channel (领导信箱, 网上咨询), or link the "
                                       "government's shared platform"),
    },
    "dates:impossible": {
        "dates.impossible": T(zh="核对并更正证据中列出的发布日期（{future} 条晚于抓取日，{backdated} 篇早于成文日期）",
                              en="Check and correct the dates the evidence lists ({future} after the crawl day, "
                                 "{backdated} before the document's date)"),
    },
    "column": {
        "column.missing": T(zh="设置“{title}”栏目{place}", en="Set up the “{title}” column{place}"),
        "column.empty": T(zh="在“{title}”栏目（{url}）发布相关信息；没有内容的栏目应充实或撤并，不得保留空白栏目",
                          en="Publish items in the “{title}” column ({url}); fill or merge a column without content, "
                             "never leave it blank"),
        "column.stale": T(zh="在“{title}”栏目（{url}）发布最新信息：最近一次 {latest}，要求 {max_age} 天内有更新",
                          en="Publish current items in the “{title}” column ({url}): latest {latest}, required "
                             "within {max_age} days"),
        "column.no_year": T(zh="在“{title}”栏目发布 {year} 年度信息（期限 {due}）",
                            en="Publish the {year} issue in the “{title}” column (due {due})"),
        "column.late": T(zh="{year} 年度“{title}”晚于期限发布（{published}，期限 {due}）：今后按期发布",
                         en="The {year} “{title}” came out late ({published}, due {due}): publish on time"),
        "column.unreachable": T(zh="修复“{title}”栏目的链接（{url}），使其能正常打开",
                                en="Repair the link of the “{title}” column ({url}) so it opens"),
    },
    "link": {
        "link.missing": T(zh="在首页（或首页链接的办事服务等页面）设置“{title}”链接，链接到其官方平台",
                          en="Put a “{title}” link on the homepage (or a page it links, such as 办事服务), "
                             "pointing at the official platform"),
        "link.dead": T(zh="修复“{title}”链接（{url}，位于 {found_on}），使其指向可以打开的官方平台地址",
                       en="Repair the “{title}” link ({url}, on {found_on}) so it points at a working address of "
                          "the official platform"),
    },
    "document": {
        "document.missing": T(zh="发布 {year} 年度“{title}”，并在政府信息公开专栏中可以找到（期限 {due}）",
                              en="Publish the {year} “{title}” where the 政府信息公开 section lists it (due {due})"),
        "document.late": T(zh="{year} 年度“{title}”于 {published} 发布，晚于期限 {due}：今后按期发布",
                           en="The {year} “{title}” came out {published}, after {due}: publish on time"),
        "document.undated": T(zh="为 {year} 年度“{title}”（{url}）标注发布日期", en="Date the {year} “{title}” ({url})"),
    },
    "pairing": {
        "pairing.low": T(zh="为 {unpaired} 件未关联解读的政策文件发布解读，在文件页面链接解读，并在解读页面链接回文件"
                            "（栏目 {column_url}）",
                         en="Publish a 解读 for the {unpaired} documents without one, link it from the document's "
                            "page and link back from the 解读 (column {column_url})"),
        "pairing.no_column": T(zh="设置“{title}”所指的政策文件栏目，集中发布规章和行政规范性文件及其解读",
                               en="Set up the policy document column for “{title}”, publishing the rules and "
                                  "normative documents with their 解读"),
    },
    "content:privacy": {
        "found": T(zh="立即删除或遮盖网页（含附件）上公开的个人信息，确需公开的只保留部分号码（如 138****5678），"
                      "并核查同类信息的发布审核：{examples}",
                   en="Remove or mask the personal data published on these pages (attachments included) at once; "
                      "where a number must be shown keep only part of it (138****5678), and review how such "
                      "items are checked before release: {examples}"),
    },
    "content:wording": {
        "severe": T(zh="立即改正严重表述错误并复核全文：{examples}",
                    en="Correct the severe wording errors at once and proofread the whole text: {examples}"),
        "minor": T(zh="改正错别字，删除或替换词表中的用语：{examples}",
                   en="Correct the misspellings and remove or replace the listed words: {examples}"),
    },
    "links:dead": {
        "few_dead": T(zh="修改或删除 {dead} 个失效链接（涉及 {pages} 个页面）：{examples}",
                      en="Fix or remove {dead} dead links (on {pages} pages): {examples}"),
        "dead": T(zh="修改或删除 {dead} 个失效链接（涉及 {pages} 个页面）：{examples}",
                  en="Fix or remove {dead} dead links (on {pages} pages): {examples}"),
        "homepage_dead": T(zh="先修复首页上的 {homepage_dead} 个失效链接，再处理其余（共 {dead} 个，涉及 {pages} 个页面）：{examples}",
                           en="Fix the {homepage_dead} dead links on the homepage first, then the rest ({dead} in "
                              "all, on {pages} pages): {examples}"),
    },
    "ipv6:dns": {
        "no_aaaa": T(zh="{layer}", en="{layer}"),
        "nxdomain": T(zh="域名 {host} 不存在：核实网址，恢复域名注册和解析", en="{host} does not exist: check the "
                      "address, restore the domain's registration and records"),
        "servfail": T(zh="修复域名 {host} 的权威 DNS（{kind}）", en="Repair the authoritative DNS of {host} ({kind})"),
        "cname_loop": T(zh="修正 CNAME 记录循环（{chain}），再为实际主机添加 AAAA 记录",
                        en="Break the CNAME loop ({chain}), then give the real host an AAAA record"),
    },
    "ipv6:homepage": {
        "v6_down": T(zh="IPv6 地址 {address} 上的网站服务未正常响应（{kind}）：检查服务器或负载均衡的 IPv6 监听和防火墙规则",
                     en="The web service at IPv6 {address} does not answer properly ({kind}): check the IPv6 "
                        "listener and firewall rules of the server or load balancer"),
        "differs": T(zh="使 IPv6 地址 {v6_address} 提供与 IPv4 相同的网站（{differences}）：检查 IPv6 虚拟主机配置",
                     en="Make IPv6 {v6_address} serve the same site as IPv4 ({differences}): check the IPv6 "
                        "virtual host"),
        "slow": T(zh="排查 IPv6 线路和服务性能（IPv6 中位 {v6_ms} 毫秒，IPv4 {v4_ms} 毫秒）",
                  en="Look into IPv6 routing and service speed (median {v6_ms} ms over IPv6, {v4_ms} ms over IPv4)"),
    },
    "ipv6:links": {
        "low": T(zh="使二、三级链接支持 IPv6（二级 {secondary}，须 ≥{secondary_min}；三级 {tertiary}，须 ≥{tertiary_min}）：{hosts}",
                 en="Make secondary and tertiary links work over IPv6 (secondary {secondary}, at least "
                    "{secondary_min}; tertiary {tertiary}, at least {tertiary_min}): {hosts}"),
    },
    "https": {
        "no_https": T(zh="为网站启用 HTTPS：申请受信任机构签发的证书，开放 443 端口，并将 HTTP 访问跳转到 HTTPS",
                      en="Enable HTTPS: obtain a certificate from a trusted authority, open port 443 and redirect "
                         "HTTP to HTTPS"),
        "no_redirect": T(zh="配置 HTTP 访问 301 跳转到 HTTPS（当前停留在 {http_final_url}）",
                         en="Redirect HTTP to HTTPS with a 301 (it now stays on {http_final_url})"),
        "expiring": T(zh="在 {not_after} 之前续期 HTTPS 证书（剩余 {days_left} 天）",
                      en="Renew the certificate before {not_after} ({days_left} days left)"),
        "expired": T(zh="立即更换已过期的 HTTPS 证书（{not_after} 到期）",
                     en="Replace the expired certificate now (expired {not_after})"),
        "not_yet_valid": T(zh="检查证书生效时间和服务器时钟", en="Check the certificate's start date and the server clock"),
        "self_signed": T(zh="更换为受信任机构签发的证书（当前为自签名证书）",
                         en="Replace the self-signed certificate with one from a trusted authority"),
        "untrusted": T(zh="更换为受信任机构签发的证书，并配置完整证书链（签发者 {issuer}）",
                       en="Use a certificate from a trusted authority with its full chain (issuer {issuer})"),
        "mismatch": T(zh="更换为包含 {host} 的证书（当前证书域名 {names}）",
                      en="Use a certificate that names {host} (it names {names})"),
        "tls_other": T(zh="检查 HTTPS 服务的 TLS 配置（{tls_error}）", en="Check the TLS set-up of HTTPS ({tls_error})"),
    },
    "footer": {
        "footer.missing": T(zh="在首页页脚补充：{missing}", en="Add to the homepage footer: {missing}"),
    },
}
GENERIC = T(zh="按检查说明核实并整改：{summary}", en="Verify and fix as the check describes: {summary}")

COLUMN_PLACE = {
    "here": T(zh="，放在{area}（本站该位置：{page}）；{n} 个站点的此栏目设在这里",
              en=" in {area} (on this site: {page}); {n} sites keep this column there"),
    "elsewhere": T(zh="，放在{area}；{n} 个站点的此栏目设在这里", en=" in {area}; {n} sites keep this column there"),
    "sibling": T(zh="，可与本站“{sibling}”同放在{area}（{page}）",
                 en=", for instance beside this site's “{sibling}” in {area} ({page})"),
    "nowhere": T(zh="，使其从首页导航可以到达", en=", reachable from the homepage navigation"),
    "rejected": T(zh="；现有 {n} 篇标题含关键词的文章不能代替栏目",
                  en="; the {n} articles whose titles hold the keyword do not count as the column"),
}
# Where in the navigation a column was found (checks.columns WHERE_ORDER), as a place to put one.
AREAS: Mapping[str, Text] = {
    "nav": T(zh="首页导航栏", en="the homepage navigation bar"),
    "subnav": T(zh="“{parent}”的栏目导航", en="the section navigation of “{parent}”"),
    "topic": T(zh="专题专栏页面（“{parent}”下）", en="the topics page (under “{parent}”)"),
}
AREA_PAGE = T(zh="“{parent}”页面", en="the “{parent}” page")

Place = tuple[str, str]    # (breadcrumb of the parent, where the link was: nav, subnav, topic …)


@dataclass(frozen=True)
class Placements:
    """Where a run's sites keep their required columns: the navigation place of each found column."""

    sites: Mapping[str, Counter[Place]] = field(default_factory=dict)      # requirement id → place → sites
    pages: Mapping[tuple[str, Place], str] = field(default_factory=dict)   # (site id, place) → the place's page
    found: Mapping[str, Sequence[tuple[str, Place]]] = field(default_factory=dict)  # site id → [(column, place)]


def placements(results: Mapping[str, Sequence[Result]]) -> Placements:
    """Collects the breadcrumb (metrics "path"), link area ("where") and parent page ("found_on") of every
    column found in a run."""
    sites: dict[str, Counter[Place]] = {}
    pages: dict[tuple[str, Place], str] = {}
    found: dict[str, list[tuple[str, Place]]] = {}
    for site_id, rs in results.items():
        for r in rs:
            path = r.metrics.get("path")
            if not r.check_id.startswith("column:") or not isinstance(path, str) or NAV_SEPARATOR not in path:
                continue
            parent, column = path.rsplit(NAV_SEPARATOR, 1)
            place = (parent, str(r.metrics.get("where") or ""))
            sites.setdefault(r.check_id.split(":", 1)[1], Counter())[place] += 1
            if isinstance(r.metrics.get("found_on"), str):
                pages.setdefault((site_id, place), str(r.metrics["found_on"]))
            found.setdefault(site_id, []).append((column, place))
    return Placements(sites, pages, found)


def area(place: Place, language: str) -> str:
    parent, where = place
    return AREAS.get(where, AREA_PAGE).get(language).format(parent=parent)


def headline(result: Result, language: str, titles: Mapping[str, str]) -> str:
    """What is wrong in this case, e.g. 未启用 HTTPS; the check's failure title when the case has no own."""
    spec = spec_for(result.check_id)
    table = HEADLINES.get(result.check_id) or HEADLINES.get(spec.id if spec else "", {})
    text = table.get(result.message_key)
    if text is None:
        return i18n.failure_title(result.check_id, language, titles)
    return text.get(language).format(title=i18n.check_title(result.check_id, language, titles))


def advice(result: Result, language: str, titles: Mapping[str, str], site_id: str,
           where: Placements | None = None) -> str:
    """What to do about a warn/fail result: the page, link, host or DNS layer to fix."""
    spec = spec_for(result.check_id)
    family = spec.id if spec else result.check_id
    table = ADVICE.get(result.check_id) or ADVICE.get(family, {})
    text = table.get(result.message_key)
    if text is None:
        return clip(GENERIC.get(language).format(summary=i18n.message(result, language)), ADVICE_LIMIT)
    fill: dict[str, Any] = _common(result)
    fill.update({k: _shown(result.check_id, k, v, language) for k, v in result.metrics.items()})
    fill.update(i18n.params_in_words(spec, result.message_params, language))
    extra = EXTRA.get(family)
    if extra:
        fill.update(extra(result, language, site_id, where or Placements()))
    return clip(text.get(language).format_map(_Keep(fill)), ADVICE_LIMIT)


def _shown(check_id: str, name: str, value: Any, language: str) -> str:
    """A metric value as the advice names it: a code in the words its check declares."""
    if value is None or value == "":
        return "—"
    kind = i18n.metric_values(check_id, name)
    return codes.coded_words(kind, value, language, spec_for(check_id))[0] if kind else str(value)


def _common(result: Result) -> dict[str, str]:
    url = str(result.metrics.get("final_url") or result.metrics.get("url") or
              (result.evidence[0].url if result.evidence else ""))
    host = result.message_params.get("host") or (urlsplit(url).hostname if "://" in url else url)
    return {"url": url or "—", "host": str(host or "—")}


def _links_dead(result: Result, language: str, site_id: str, where: Placements) -> dict[str, str]:
    shown = []
    for e in result.evidence[:EXAMPLES]:
        text = i18n.evidence_text(result.check_id, e, language)
        what = f"“{clip(text, 40)}”" if text else ""
        why = i18n.evidence_detail(result.check_id, e, language)[0] or "—"
        if language == "zh":
            shown.append(f"{e.source or '—'} 上的链接{what} → {e.url}（{why}）")
        else:
            shown.append(f"link {what} on {e.source or '—'} → {e.url} ({why})".replace("link  on", "link on"))
    pages = len({e.source for e in result.evidence if e.source})
    more = int(result.metrics.get("dead_links", len(result.evidence))) - len(shown)
    tail = ((f"；另有 {more} 处见证据明细" if language == "zh" else f"; {more} more in the evidence") if more > 0 else "")
    return {"examples": _join(shown, language) + tail, "pages": str(pages or "—")}


def _content(result: Result, language: str, site_id: str, where: Placements) -> dict[str, str]:
    """The first findings by page: the masked number or wrong form, in the check's words."""
    shown = [f"{e.url}（{i18n.evidence_detail(result.check_id, e, language)[0]}）" if language == "zh"
             else f"{e.url} ({i18n.evidence_detail(result.check_id, e, language)[0]})"
             for e in result.evidence[:EXAMPLES]]
    more = len(result.evidence) - len(shown)
    tail = ((f"；另有 {more} 处见证据明细" if language == "zh" else f"; {more} more in the evidence") if more > 0 else "")
    return {"examples": _join(shown, language) + tail}


def _ipv6_links(result: Result, language: str, site_id: str, where: Placements) -> dict[str, str]:
    hosts = Counter(urlsplit(e.url).hostname or e.url for e in result.evidence
                    if e.detail and not e.detail.startswith("offsite"))
    no_aaaa = {urlsplit(e.url).hostname for e in result.evidence if e.detail and "dns" in e.detail}
    named = []
    for host, n in hosts.most_common(EXAMPLES):
        if language == "zh":
            named.append(f"{host}（{n} 个链接{'，无 AAAA 记录' if host in no_aaaa else '经 IPv6 打不开'}）")
        else:
            named.append(f"{host} ({n} links{', no AAAA record' if host in no_aaaa else ' fail over IPv6'})")
    return {"hosts": _join(named, language) or "—"}


def _ipv6_dns(result: Result, language: str, site_id: str, where: Placements) -> dict[str, str]:
    """Which DNS layer lacks the AAAA record: the host itself, the end of its CNAME chain, the nameservers."""
    host = str(result.message_params.get("host") or (result.evidence[0].url if result.evidence else "—"))
    chain = [c for c in str(result.metrics.get("cname_chain") or "").split(" → ") if c]
    if chain:
        layer = (f"{host} 经 CNAME 指向 {chain[-1]}，由其服务商（CDN/云平台）为 {chain[-1]} 开启 IPv6、添加 AAAA 记录"
                 if language == "zh" else
                 f"{host} is a CNAME for {chain[-1]}: have its provider (CDN/cloud) enable IPv6 and add an AAAA "
                 f"record for {chain[-1]}")
    else:
        zone = result.metrics.get("ns_zone")
        layer = (f"在权威 DNS{f'（{zone} 区）' if zone else ' '}为 {host} 添加 AAAA 记录，并确保该 IPv6 地址提供网站服务"
                 if language == "zh" else
                 f"Add an AAAA record for {host} at the authoritative DNS{f' (zone {zone})' if zone else ''}, "
                 f"with the web service on that IPv6 address")
    total, with_v6 = result.metrics.get("ns_total"), result.metrics.get("ns_with_aaaa")
    if isinstance(total, int) and total and with_v6 == 0:
        ns = result.metrics.get("nameservers") or ""
        layer += (f"；权威域名服务器（{ns}）也都没有 IPv6 地址，一并改造" if language == "zh" else
                  f"; the nameservers ({ns}) have no IPv6 address either: upgrade them too")
    return {"layer": layer}


def _column(result: Result, language: str, site_id: str, where: Placements) -> dict[str, str]:
    if result.message_key != "column.missing":
        return {}
    req = result.check_id.split(":", 1)[1]
    common = where.sites.get(req, Counter()).most_common(1)
    if common:
        spot, n = common[0]
        page = where.pages.get((site_id, spot))
        key, fill = ("here", {"area": area(spot, language), "page": page, "n": n}) if page else \
            ("elsewhere", {"area": area(spot, language), "n": n})
    elif where.found.get(site_id):
        sibling, spot = where.found[site_id][0]
        key, fill = "sibling", {"sibling": sibling, "area": area(spot, language),
                                "page": where.pages.get((site_id, spot), "—")}
    else:
        key, fill = "nowhere", {}
    place = COLUMN_PLACE[key].get(language).format(**fill)
    rejected = result.metrics.get("rejected")
    if isinstance(rejected, int) and rejected:
        place += COLUMN_PLACE["rejected"].get(language).format(n=rejected)
    return {"place": place}


def _join(parts: Iterable[str], language: str) -> str:
    return ("；" if language == "zh" else "; ").join(parts)


EXTRA: Mapping[str, Callable[[Result, str, str, Placements], dict[str, str]]] = {
    "links:dead": _links_dead, "ipv6:links": _ipv6_links, "ipv6:dns": _ipv6_dns, "column": _column,
    "content:privacy": _content, "content:wording": _content,
}


class _Keep(dict[str, Any]):
    """Leaves an unknown placeholder visible rather than failing the report."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
