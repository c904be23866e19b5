"""ipv6:dns, ipv6:homepage, ipv6:links — a site's IPv6 support, measured as the national IPv6 monitoring does.

Judged from the run's DNS answers (AAAA, following the CNAME chain), the
homepage probes over IPv4 and IPv6 (each pinned to one address family), and
the IPv6 probes of the site's secondary and tertiary link targets. The link
tiers are defined in checks.linktiers, which also plans the links-v6 probe, so
what is probed and what is judged cannot differ. Pure: no I/O, no clock.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.freshness import answered, homepage_chain
from checks.linktiers import link_tiers, plan_links_v6
from checks.plans import LINKS_V6
from checks.scope import normal_host
from checks.snapshot import Probe, SiteSnapshot

SLOWER_BY = 0.20          # v6 median more than 20 % above the v4 median warns
SLOW_FLOOR_MS = 200.0     # ... and by more than this: jitter below it says nothing about a site
SIZE_TOLERANCE = 0.10     # dynamic pages vary a little between two fetches
EVIDENCE_MAX = 100
NOT_SENT = frozenset({"robots", "disallowed", "unsupported", "no_route", "malformed"})
"""links-v6 outcomes of targets never requested: left out of the ratios, counted as unprobed."""
_DNS_FAIL = {"no_answer": "no_aaaa", "nxdomain": "nxdomain", "servfail": "servfail", "refused": "servfail",
             "cname_loop": "cname_loop"}


def _aaaa(snap: SiteSnapshot) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """(kind, addresses, cname chain) of the site host's AAAA answer; None if it was not asked."""
    answer = snap.dns_of(normal_host(snap.site.url), "AAAA")
    if answer is None:
        return None
    return answer.kind, answer.addresses, answer.cname_chain


def _nameservers(snap: SiteSnapshot) -> dict[str, Any]:
    probe = next(iter(snap.probes_of("dns-ns")), None)
    if probe is None or probe.outcome != "ok":
        return {}
    servers: Mapping[str, Sequence[str]] = probe.detail.get("nameservers", {})
    with_v6 = sorted(name for name, addrs in servers.items() if addrs)
    return {"ns_zone": probe.detail.get("zone", ""), "nameservers": ", ".join(sorted(servers)),
            "ns_with_aaaa": len(with_v6), "ns_total": len(servers)}


DNS_METRICS = {
    "dns_kind": M("解析结果", "DNS outcome", values="dns"),
    "aaaa": M("AAAA 记录", "AAAA records"),
    "cname_chain": M("CNAME 链", "CNAME chain"),
    "ns_zone": M("权威区域", "Authoritative zone"),
    "nameservers": M("权威域名服务器", "Nameservers"),
    "ns_with_aaaa": M("有 AAAA 的权威服务器", "Nameservers with AAAA"),
    "ns_total": M("权威服务器数", "Nameservers"),
}


@check(
    id="ipv6:dns",
    title=T(zh="IPv6 解析（AAAA）", en="IPv6 DNS (AAAA)"),
    failure_title=T(zh="域名无 IPv6 解析", en="No AAAA record"),
    description=T(
        zh="网站域名（沿 CNAME 链）须有 AAAA 记录。另报告该域名的权威域名服务器是否有 AAAA 记录（IPv6 解析链），"
           "仅作说明，不影响结论。域名不存在、CNAME 循环、服务器失败为不合格；解析超时无法判断。",
        en="The site's host name (following its CNAME chain) must have an AAAA record. Whether the domain's "
           "authoritative nameservers have AAAA records (the IPv6 delegation chain) is reported, not judged. "
           "NXDOMAIN, a CNAME loop and server failures fail; a timeout cannot be decided."),
    basis="三(二) IPv6 改造",
    severity=Severity.MAJOR,
    needs={"dns"},
    metrics=DNS_METRICS, details={"aaaa": T(zh="AAAA 查询：{dns_kind}", en="AAAA query: {dns_kind}")},
    coded={"kind": "dns"},
    messages={
        "ok": T(zh="有 AAAA 记录：{addresses}", en="AAAA: {addresses}"),
        "ok_chain": T(zh="有 AAAA 记录：{addresses}（经 CNAME {chain}）", en="AAAA: {addresses} (via CNAME {chain})"),
        "no_aaaa": T(zh="域名 {host} 没有 AAAA 记录", en="{host} has no AAAA record"),
        "nxdomain": T(zh="域名 {host} 不存在（NXDOMAIN）", en="{host} does not exist (NXDOMAIN)"),
        "servfail": T(zh="域名 {host} 解析失败（{kind}）", en="{host} failed to resolve ({kind})"),
        "cname_loop": T(zh="域名 {host} 的 CNAME 记录形成循环（{chain}），无法解析",
                        en="The CNAME records of {host} form a loop ({chain}); it does not resolve"),
        "undecided": T(zh="域名 {host} 解析未完成（{kind}），无法判断", en="{host} did not resolve ({kind}); cannot decide"),
        "not_asked": T(zh="本次未查询 {host} 的 AAAA 记录", en="The AAAA record of {host} was not queried"),
    },
)
def ipv6_dns(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    host = normal_host(snap.site.url)
    found = _aaaa(snap)
    if found is None:
        return Verdict(Status.ERROR, "not_asked", {"host": host})
    kind, addresses, chain = found
    metrics: dict[str, Any] = {"dns_kind": kind, "aaaa": ", ".join(addresses), "cname_chain": " → ".join(chain),
                               **_nameservers(snap)}
    evidence = (Evidence(url=host, detail=kind, actual=", ".join(addresses) or None, key="aaaa",
                         params={"dns_kind": kind}),)
    if kind == "ok" and addresses:
        key = "ok_chain" if chain else "ok"
        return Verdict(Status.PASS, key, {"addresses": ", ".join(addresses), "chain": " → ".join(chain)},
                       metrics, evidence)
    fill = {"host": host, "kind": kind, "chain": " → ".join((host, *chain))}
    if kind in _DNS_FAIL or kind == "ok":
        return Verdict(Status.FAIL, _DNS_FAIL.get(kind, "no_aaaa"), fill, metrics, evidence)
    return Verdict(Status.ERROR, "undecided", fill, metrics, evidence)


def _median_ms(probes: Sequence[Probe]) -> float | None:
    times = [p.elapsed_ms for p in probes if p.elapsed_ms is not None]
    return round(statistics.median(times), 1) if times else None


def _differences(v4: Probe, v6: Probe) -> list[str]:
    found = []
    if v4.status != v6.status:
        found.append(f"status {v4.status} ≠ {v6.status}")
    if (v4.final_url or v4.url) != (v6.final_url or v6.url):
        found.append(f"final URL {v4.final_url} ≠ {v6.final_url}")
    if v4.title != v6.title:
        found.append(f"title “{v4.title}” ≠ “{v6.title}”")
    if abs(v4.size - v6.size) > SIZE_TOLERANCE * max(v4.size, v6.size, 1):
        found.append(f"size {v4.size} ≠ {v6.size}")
    return found


HOMEPAGE_METRICS = {
    "v6_status": M("IPv6 状态码", "IPv6 status"), "v4_status": M("IPv4 状态码", "IPv4 status"),
    "v6_title": M("IPv6 页面标题", "IPv6 page title"), "v4_title": M("IPv4 页面标题", "IPv4 page title"),
    "v6_size": M("IPv6 页面大小（字节）", "IPv6 page size (bytes)"),
    "v4_size": M("IPv4 页面大小（字节）", "IPv4 page size (bytes)"),
    "v6_median_ms": M("IPv6 中位耗时（毫秒）", "IPv6 median time (ms)"),
    "v4_median_ms": M("IPv4 中位耗时（毫秒）", "IPv4 median time (ms)"),
    "v6_address": M("IPv6 地址", "IPv6 address"), "v4_address": M("IPv4 地址", "IPv4 address"),
    "v6_ok": M("IPv6 成功次数", "IPv6 probes answered"), "v6_probes": M("IPv6 探测次数", "IPv6 probes"),
    "v6_outcome": M("IPv6 访问结果", "IPv6 outcome", values="fetch"),
    "dns_kind": M("AAAA 解析结果", "AAAA outcome", values="dns"),
}
HOMEPAGE_WORDS = {
    "not_asked": T(zh="未查询", en="not queried"),
    "status": T(zh="状态码", en="status"), "final URL": T(zh="最终地址", en="final URL"),
    "title": T(zh="标题", en="title"), "size": T(zh="页面大小", en="size"),
}


@check(
    id="ipv6:homepage",
    title=T(zh="首页 IPv6 可访问", en="Homepage over IPv6"),
    failure_title=T(zh="首页无法通过 IPv6 访问", en="Homepage unreachable over IPv6"),
    description=T(
        zh="首页分别经 IPv6（连接 AAAA 地址，带正确的 Host 与 SNI，不回退 IPv4）和 IPv4 访问，各探测若干次。"
           "IPv6 无 2xx 响应为不合格；IPv6 与 IPv4 的状态码、最终地址、标题或页面大小不一致，或 IPv6 中位耗时"
           "比 IPv4 慢 20% 以上（且超过 200 毫秒）为警告。无 AAAA 记录（见 IPv6 解析）、首页经 IPv4 也无法访问（见站点可访问）"
           "或监测主机无 IPv6 路由时无法判断。",
        en="The homepage is fetched over IPv6 (to the AAAA address, with the right Host and SNI, never falling "
           "back to IPv4) and over IPv4, several times each. No 2xx over IPv6 fails; a different status, final "
           "URL, title or page size than over IPv4, or an IPv6 median more than 20 % (and ipv6_slow_floor_ms, "
           "200 ms) slower, warns. "
           "Without an AAAA record (see IPv6 DNS), when IPv4 fails too (see availability) or without an IPv6 "
           "route on the monitor it cannot be decided."),
    basis="三(二) IPv6 改造",
    severity=Severity.MAJOR,
    needs={"dns", "probe:homepage-v4", "probe:homepage-v6"},
    metrics=HOMEPAGE_METRICS, words=HOMEPAGE_WORDS, coded={"differences": "phrases"},
    details={"fetch": T(zh="经 {family} 访问（{address}）：{kind}", en="Over {family} ({address}): {kind}")},
    messages={
        "ok": T(zh="IPv6 访问正常（HTTP {status}，中位 {v6_ms} 毫秒；IPv4 {v4_ms} 毫秒）",
                en="Answers over IPv6 (HTTP {status}, median {v6_ms} ms; IPv4 {v4_ms} ms)"),
        "ok_v4_down": T(zh="IPv6 访问正常（HTTP {status}），IPv4 未能访问（{v4_kind}），无法比较",
                        en="Answers over IPv6 (HTTP {status}); IPv4 failed ({v4_kind}), nothing to compare"),
        "differs": T(zh="IPv6 与 IPv4 返回的内容不同：{differences}", en="IPv6 serves something else than IPv4: {differences}"),
        "slow": T(zh="IPv6 比 IPv4 慢：中位 {v6_ms} 毫秒，IPv4 {v4_ms} 毫秒", en="IPv6 is slower: median {v6_ms} ms vs {v4_ms} ms over IPv4"),
        "v6_down": T(zh="首页无法通过 IPv6 访问（{kind}，地址 {address}）", en="No 2xx over IPv6 ({kind}, address {address})"),
        "no_aaaa": T(zh="无 AAAA 记录，无法经 IPv6 访问（见 IPv6 解析）", en="No AAAA record to fetch over IPv6 (see IPv6 DNS)"),
        "both_down": T(zh="首页经 IPv4 和 IPv6 均无法访问（{kind}），见站点可访问", en="The homepage fails over IPv4 and IPv6 alike ({kind}); see availability"),
        "no_probe": T(zh="本次未经 IPv6 探测首页", en="The homepage was not probed over IPv6 in this run"),
    },
)
def ipv6_homepage(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    found = _aaaa(snap)
    if found is None or found[0] != "ok" or not found[1]:
        return Verdict(Status.ERROR, "no_aaaa", {}, {"dns_kind": found[0] if found else "not_asked"})
    v6s, v4s = snap.probes_of("homepage-v6"), snap.probes_of("homepage-v4")
    if not v6s:
        return Verdict(Status.ERROR, "no_probe")
    v6_ok = [p for p in v6s if p.outcome == "ok"]
    v4_ok = [p for p in v4s if p.outcome == "ok"]
    v6_ms, v4_ms = _median_ms(v6_ok or v6s), _median_ms(v4_ok or v4s)
    v6, v4 = (v6_ok or v6s)[0], (v4_ok or v4s or v6s)[0]
    metrics = {"v6_status": v6.status, "v4_status": v4.status, "v6_title": v6.title, "v4_title": v4.title,
               "v6_size": v6.size, "v4_size": v4.size, "v6_median_ms": v6_ms, "v4_median_ms": v4_ms,
               "v6_address": v6.address, "v4_address": v4.address, "v6_ok": len(v6_ok), "v6_probes": len(v6s),
               "v6_outcome": v6.outcome}
    evidence: tuple[Evidence, ...] = (Evidence(url=v6.url, detail=f"IPv6 {v6.address or ''} {v6.outcome} {v6.status or ''}".strip(),
                         actual=v6.final_url, text=v6.title or None, **_family_key("IPv6", v6)),)
    if not v6_ok and v4s and not v4_ok:
        # Down over both families: the availability check's finding, not a second one here.
        return Verdict(Status.ERROR, "both_down", {"kind": v4.outcome}, metrics, evidence)
    if not v6_ok:
        kind = v6.outcome + (f" {v6.status}" if v6.status else "")
        return Verdict(Status.FAIL, "v6_down", {"kind": kind, "address": v6.address or "-"}, metrics, evidence)
    if not v4_ok:
        return Verdict(Status.PASS, "ok_v4_down", {"status": v6.status, "v4_kind": v4.outcome}, metrics, evidence)
    differences = _differences(v4, v6)
    evidence += (Evidence(url=v4.url, detail=f"IPv4 {v4.address or ''} {v4.outcome} {v4.status}",
                          actual=v4.final_url, text=v4.title or None, **_family_key("IPv4", v4)),)
    if differences:
        return Verdict(Status.WARN, "differs", {"differences": "; ".join(differences)}, metrics, evidence)
    floor = float(params.get("ipv6_slow_floor_ms", SLOW_FLOOR_MS))
    if v6_ms is not None and v4_ms is not None and v6_ms > v4_ms * (1 + SLOWER_BY) and v6_ms - v4_ms > floor:
        return Verdict(Status.WARN, "slow", {"v6_ms": round(v6_ms), "v4_ms": round(v4_ms)}, metrics, evidence)
    return Verdict(Status.PASS, "ok", {"status": v6.status, "v6_ms": round(v6_ms or 0), "v4_ms": round(v4_ms or 0)},
                   metrics, evidence)


def _family_key(family: str, probe: Probe) -> dict[str, Any]:
    kind = probe.outcome + (f" {probe.status}" if probe.status else "")
    return {"key": "fetch", "params": {"family": family, "address": probe.address or "-", "kind": kind}}


LINKS_METRICS = {
    "secondary_ratio": M("二级链接 IPv6 支持率", "IPv6 support, secondary links", help=T(
        zh="首页上指向本站的不同链接（二级链接）中，能通过 IPv6 正常访问的比例。",
        en="Share of the distinct same-site links on the homepage (secondary links) that load over IPv6.")),
    "secondary_ok": M("IPv6 可达的二级链接", "Secondary links over IPv6"),
    "secondary_total": M("二级链接数", "Secondary links"),
    "secondary_threshold": M("二级链接达标线", "Secondary threshold"),
    "tertiary_ratio": M("三级链接 IPv6 支持率", "IPv6 support, tertiary links", help=T(
        zh="二级页面上指向本站的不同链接（三级链接）中，能通过 IPv6 正常访问的比例。",
        en="Share of the distinct same-site links on secondary pages (tertiary links) that load over IPv6.")),
    "tertiary_ok": M("IPv6 可达的三级链接", "Tertiary links over IPv6"),
    "tertiary_total": M("三级链接数", "Tertiary links"),
    "tertiary_threshold": M("三级链接达标线", "Tertiary threshold"),
    "offsite": M("站外链接（不计入）", "Off-site links (not counted)"),
    "unprobed": M("未探测的链接", "Links not probed"),
}
LINKS_DETAILS = {
    "tier": T(zh="{tier}：{kind}", en="{tier}: {kind}"),
    "tier_dns": T(zh="{tier}：{kind}（{dns_kind}）", en="{tier}: {kind} ({dns_kind})"),
    "offsite": T(zh="站外链接，不计入支持率", en="Off-site link, not counted"),
}
LINKS_WORDS = {
    "secondary": T(zh="二级链接", en="secondary link"), "tertiary": T(zh="三级链接", en="tertiary link"),
    "not crawled": T(zh="未抓取", en="not crawled"),
}


def _ratio(ok: int, total: int) -> float | None:
    return round(ok / total, 4) if total else None


@check(
    id="ipv6:links",
    title=T(zh="二、三级链接 IPv6 支持", en="IPv6 support of links"),
    failure_title=T(zh="二、三级链接 IPv6 支持率不达标", en="Too few links work over IPv6"),
    description=T(
        zh="二级链接：首页上指向本站（首页域名、去掉 www. 的主域名及其所有子域名、extra_hosts）的不同链接目标；三级链接：二级页面上指向本站、且未计入"
           "二级的不同链接目标。某链接支持 IPv6，指其域名有 AAAA 记录且经 IPv6 返回 2xx。二级支持率低于 90%、"
           "三级低于 85%（可配置 ipv6_secondary_min、ipv6_tertiary_min）为不合格。站外链接单独列出，不计入比例。",
        en="Secondary links: the distinct same-site targets (the homepage host, its base domain without www. "
           "and every sub-domain of it, extra_hosts) linked from "
           "the homepage; tertiary links: the distinct same-site targets linked from secondary pages and not "
           "counted as secondary. A link supports IPv6 when its host has an AAAA record and it answers 2xx over "
           "IPv6. Below 90 % secondary or 85 % tertiary (ipv6_secondary_min, ipv6_tertiary_min) fails. "
           "Off-site links are listed apart and not counted."),
    basis="三(二) IPv6 改造; 国家 IPv6 发展监测平台二、三级链接支持率",
    severity=Severity.MAJOR,
    needs={"crawl", "probe:links-v6"},
    plans={LINKS_V6: plan_links_v6},
    metrics=LINKS_METRICS, details=LINKS_DETAILS, words=LINKS_WORDS,
    messages={
        "ok": T(zh="二级链接 IPv6 支持率 {secondary}（{secondary_ok}/{secondary_total}），三级 {tertiary}（{tertiary_ok}/{tertiary_total}）",
                en="IPv6: secondary links {secondary} ({secondary_ok}/{secondary_total}), tertiary {tertiary} "
                   "({tertiary_ok}/{tertiary_total})"),
        "low": T(zh="IPv6 支持率不达标：二级 {secondary}（{secondary_ok}/{secondary_total}，须 ≥{secondary_min}），"
                    "三级 {tertiary}（{tertiary_ok}/{tertiary_total}，须 ≥{tertiary_min}）",
                 en="IPv6 support too low: secondary {secondary} ({secondary_ok}/{secondary_total}, needs "
                    "{secondary_min}), tertiary {tertiary} ({tertiary_ok}/{tertiary_total}, needs {tertiary_min})"),
        "no_links": T(zh="首页上没有指向本站的链接，无法计算", en="No same-site links on the homepage; nothing to measure"),
        "homepage_failed": T(zh="首页未能正常抓取（{kind}），无法计算", en="The homepage was not crawled ({kind}); nothing to measure"),
    },
)
def ipv6_links(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    chain = homepage_chain(snap)
    if not chain or not answered(chain[-1]):
        kind = (chain[-1].fetch_kind + (f" {chain[-1].status}" if chain[-1].status else "")) if chain else "not crawled"
        return Verdict(Status.ERROR, "homepage_failed", {"kind": kind})
    tiers = link_tiers(snap)
    if not tiers.secondary:
        return Verdict(Status.ERROR, "no_links", {}, {"offsite": len(tiers.offsite)})
    probes = {p.url: p for p in snap.probes_of("links-v6")}
    failing: list[tuple[str, str]] = []

    def tally(urls: Sequence[str], tier: str) -> tuple[int, int]:
        probed = [u for u in urls if u in probes and probes[u].outcome not in NOT_SENT]
        ok = [u for u in probed if probes[u].outcome == "ok"]
        failing.extend((u, tier) for u in probed if probes[u].outcome != "ok")
        return len(ok), len(probed)

    s_ok, s_total = tally(tiers.secondary, "secondary")
    t_ok, t_total = tally(tiers.tertiary, "tertiary")
    s_min, t_min = float(params.get("ipv6_secondary_min", 0.90)), float(params.get("ipv6_tertiary_min", 0.85))
    s_ratio, t_ratio = _ratio(s_ok, s_total), _ratio(t_ok, t_total)
    metrics = {"secondary_ratio": s_ratio, "secondary_ok": s_ok, "secondary_total": s_total,
               "secondary_threshold": s_min, "tertiary_ratio": t_ratio, "tertiary_ok": t_ok,
               "tertiary_total": t_total, "tertiary_threshold": t_min, "offsite": len(tiers.offsite),
               "unprobed": len(tiers.secondary) + len(tiers.tertiary) - s_total - t_total}
    evidence = [Evidence(url=u, source=tiers.source.get(u), detail=f"{tier}: {_kind(probes[u])}",
                         **_tier_key(tier, probes[u])) for u, tier in failing[:EVIDENCE_MAX]]
    evidence += [Evidence(url=u, source=tiers.source.get(u), detail="offsite: not counted", key="offsite")
                 for u in tiers.offsite[:max(0, EVIDENCE_MAX - len(evidence))]]
    fill = {"secondary": _percent(s_ratio), "secondary_ok": s_ok, "secondary_total": s_total,
            "tertiary": _percent(t_ratio), "tertiary_ok": t_ok, "tertiary_total": t_total,
            "secondary_min": _percent(s_min), "tertiary_min": _percent(t_min)}
    low = (s_ratio is not None and s_ratio < s_min) or (t_ratio is not None and t_ratio < t_min)
    if s_ratio is None:
        return Verdict(Status.ERROR, "no_links", {}, metrics, tuple(evidence))
    return Verdict(Status.FAIL if low else Status.PASS, "low" if low else "ok", fill, metrics, tuple(evidence))


def _kind(probe: Probe) -> str:
    parts = [probe.outcome]
    if probe.status is not None:
        parts.append(str(probe.status))
    if probe.detail.get("dns_kind"):
        parts.append(str(probe.detail["dns_kind"]))
    return " ".join(parts)


def _tier_key(tier: str, probe: Probe) -> dict[str, Any]:
    """_kind in words: the Evidence key and params (LINKS_DETAILS)."""
    kind = probe.outcome + (f" {probe.status}" if probe.status is not None else "")
    if probe.detail.get("dns_kind"):
        return {"key": "tier_dns", "params": {"tier": tier, "kind": kind, "dns_kind": str(probe.detail["dns_kind"])}}
    return {"key": "tier", "params": {"tier": tier, "kind": kind}}


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
