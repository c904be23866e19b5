"""availability: the homepage answers, now and over the recent window.

The window rule is the national 站点无法访问 indicator: of the probes in the
last `availability_window_days`, fail when the failed share reaches
`availability_max_failure_rate`; a probe slower than `availability_slow_s`
counts as failed. The rate is only judged with enough probes (the national
method probes at least 20 times a day); with fewer, failures give a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.snapshot import Probe, SiteSnapshot

MIN_PROBES_FOR_RATE = 20

_DOWN_KEYS = {
    "http_4xx": "down_http", "http_5xx": "down_http", "http_3xx": "down_http",
    "rate_limited": "down_http", "blocked": "down_blocked",
    "dns": "down_dns", "refused": "down_refused", "timeout": "down_timeout", "reset": "down_reset",
    "tls": "down_tls", "redirect_loop": "down_redirect", "too_many_redirects": "down_redirect",
}


def _failed(probe: Probe, slow_s: float) -> bool:
    slow = probe.elapsed_ms is not None and probe.elapsed_ms >= slow_s * 1000
    return probe.outcome != "ok" or slow


AVAILABILITY_METRICS = {
    "status": M("HTTP 状态码", "HTTP status"),
    "outcome": M("访问结果", "Outcome", values="fetch"),
    "elapsed_ms": M("响应时间（毫秒）", "Response time (ms)"),
    "final_url": M("最终地址", "Final URL"),
    "attempts": M("尝试次数", "Attempts"),
    "address": M("IP 地址", "IP address"),
    "window_days": M("统计天数", "Window (days)"),
    "window_probes": M("探测次数", "Probes in window"),
    "window_failed": M("失败次数", "Failed probes"),
    "window_failure_rate": M("探测失败率", "Probe failure rate", help=T(
        zh="统计天数内可用性探测失败（含超过 15 秒未响应）的比例，达到 5% 即“站点无法访问”。",
        en="Share of availability probes in the window that failed (15 s or slower counts as failed); 5 % or "
           "more means the site is unreachable.")),
    "tls_error": M("TLS 错误", "TLS error", values="tls"),
}
AVAILABILITY_DETAILS = {
    "probe": T(zh="{kind}", en="{kind}"),
    "probe_reason": T(zh="{kind}：{reason}", en="{kind}: {reason}"),
}


@check(
    id="availability",
    title=T(zh="站点可访问", en="Site is reachable"),
    failure_title=T(zh="站点无法访问", en="Site is unreachable"),
    description=T(
        zh="首页须通过 HTTP(S) 返回 2xx（含重试）；近 7 天探测失败率不得达到 5%，单次探测超过 15 秒视为失败。",
        en="The homepage must answer 2xx over HTTP(S) after retries; over the last 7 days fewer than 5 % of "
           "probes may fail, a probe taking 15 s or more counting as failed."),
    basis="三(一); 国家政府网站检查指标：站点无法访问",
    severity=Severity.VETO,
    needs={"probe:availability"},
    metrics=AVAILABILITY_METRICS, details=AVAILABILITY_DETAILS,
    messages={
        "ok": T(zh="首页可访问（HTTP {status}，{elapsed_ms} 毫秒）", en="Homepage answers (HTTP {status}, {elapsed_ms} ms)"),
        "slow": T(zh="首页响应过慢：{elapsed_s} 秒（阈值 {slow_s} 秒）", en="Homepage too slow: {elapsed_s} s (limit {slow_s} s)"),
        "unstable": T(zh="近 {days} 天 {failed}/{total} 次探测失败（{rate}），达到 {max_rate} 的否决线",
                      en="{failed} of {total} probes failed in the last {days} days ({rate}), at or above {max_rate}"),
        "intermittent": T(zh="首页当前可访问，但近 {days} 天 {failed}/{total} 次探测失败",
                          en="Homepage answers now, but {failed} of {total} probes failed in the last {days} days"),
        "down_http": T(zh="首页返回 HTTP {status}", en="Homepage answered HTTP {status}"),
        "down_blocked": T(zh="首页被防火墙拦截（HTTP {status}）", en="Homepage blocked by a firewall challenge (HTTP {status})"),
        "down_dns": T(zh="域名无法解析（{dns_kind}）", en="The host name does not resolve ({dns_kind})"),
        "down_cname_loop": T(zh="域名的 CNAME 记录形成循环，无法解析", en="The host name's CNAME records form a loop; it does not resolve"),
        "down_refused": T(zh="连接被拒绝", en="Connection refused"),
        "down_timeout": T(zh="访问超时", en="Timed out"),
        "down_tls_stalled": T(zh="TLS 握手无响应：服务器接受连接后不回应", en="The TLS handshake stalled: the server took the connection and never answered"),
        "down_reset": T(zh="连接被中断", en="Connection reset"),
        "down_tls": T(zh="TLS 证书或握手错误（{tls_error}）", en="TLS certificate or handshake error ({tls_error})"),
        "down_redirect": T(zh="重定向异常（{kind}）", en="Broken redirect ({kind})"),
        "down_other": T(zh="首页无法访问（{kind}）", en="Homepage unreachable ({kind})"),
        "no_probe": T(zh="本次未探测首页", en="The homepage was not probed in this run"),
    },
)
def availability(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    probes = snap.probes_of("availability")
    if not probes:
        return Verdict(Status.ERROR, "no_probe")
    now = max(probes, key=lambda p: p.at)
    slow_s = float(params.get("availability_slow_s", 15.0))
    days = int(params.get("availability_window_days", 7))
    max_rate = float(params.get("availability_max_failure_rate", 0.05))
    window = snap.history.availability or probes
    failed = sum(_failed(p, slow_s) for p in window)
    rate = failed / len(window)
    metrics = {
        "status": now.status, "outcome": now.outcome, "elapsed_ms": now.elapsed_ms, "final_url": now.final_url,
        "attempts": now.detail.get("attempts", 1), "address": now.address,
        "window_days": days, "window_probes": len(window), "window_failed": failed, "window_failure_rate": round(rate, 4),
    }
    if now.detail.get("tls_error"):
        metrics["tls_error"] = now.detail["tls_error"]
    evidence = (Evidence(url=now.url, detail=_detail(now), actual=now.final_url, text=now.title or None,
                         **_detail_key(now)),)
    if now.outcome != "ok":
        key = _DOWN_KEYS.get(now.outcome, "down_other")
        if now.outcome == "dns" and now.detail.get("dns_kind") == "cname_loop":
            key = "down_cname_loop"
        elif now.outcome == "timeout" and now.detail.get("tls_error") == "handshake":
            key = "down_tls_stalled"
        fill = {"status": now.status, "kind": now.outcome, "dns_kind": now.detail.get("dns_kind", ""),
                "tls_error": now.detail.get("tls_error", "")}
        return Verdict(Status.FAIL, key, fill, metrics, evidence)
    if _failed(now, slow_s):
        return Verdict(Status.FAIL, "slow", {"elapsed_s": round(now.elapsed_ms / 1000, 1), "slow_s": slow_s},
                       metrics, evidence)
    window_fill = {"days": days, "failed": failed, "total": len(window), "rate": f"{rate:.1%}", "max_rate": f"{max_rate:.0%}"}
    if len(window) >= MIN_PROBES_FOR_RATE:
        if rate >= max_rate:
            return Verdict(Status.FAIL, "unstable", window_fill, metrics, evidence)
    elif failed:
        return Verdict(Status.WARN, "intermittent", window_fill, metrics, evidence)
    return Verdict(Status.PASS, "ok", {"status": now.status, "elapsed_ms": round(now.elapsed_ms or 0)}, metrics, evidence)


def _detail(probe: Probe) -> str:
    parts = [probe.outcome]
    if probe.status is not None:
        parts.append(str(probe.status))
    if probe.detail.get("reason"):
        parts.append(str(probe.detail["reason"]))
    return " ".join(parts)


def _detail_key(probe: Probe) -> dict[str, Any]:
    """_detail in words: the Evidence key and params (AVAILABILITY_DETAILS)."""
    kind = probe.outcome + (f" {probe.status}" if probe.status is not None else "")
    if probe.detail.get("reason"):
        return {"key": "probe_reason", "params": {"kind": kind, "reason": str(probe.detail["reason"])}}
    return {"key": "probe", "params": {"kind": kind}}
