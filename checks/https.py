"""https: the homepage's TLS health — certificate, chain, expiry, protocol — and HTTP → HTTPS redirection.

Judged from the run's one "tls" probe (monitor.probes): a verified handshake
with the configured CA bundle, the certificate read from a second handshake
without verification, and a plain-HTTP fetch of the homepage. A site with no
HTTPS at all warns: national rules push government sites to HTTPS, but do not
yet make it a veto. Pure: no I/O, no clock (`taken_at` is now).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.snapshot import Probe, SiteSnapshot

ABSENT_KINDS = frozenset({"refused", "timeout", "reset", "protocol"})
"""Handshake outcomes that mean the host offers no HTTPS on that port."""
_TLS_KEYS = {"expired": "expired", "not_yet_valid": "not_yet_valid", "self_signed": "self_signed",
             "untrusted": "untrusted", "hostname_mismatch": "mismatch"}


def days_left(probe: Probe, now: datetime) -> int | None:
    raw = probe.detail.get("not_after")
    if not raw:
        return None
    return (datetime.fromisoformat(raw) - now).days


HTTPS_METRICS = {
    "outcome": M("HTTPS 访问结果", "HTTPS outcome", values="fetch"),
    "tls_error": M("TLS 错误", "TLS error", values="tls"),
    "tls_version": M("TLS 协议版本", "TLS version"),
    "cert_not_after": M("证书到期时间", "Certificate expires"),
    "days_left": M("证书剩余天数", "Days left"),
    "issuer": M("证书签发者", "Issuer"),
    "cert_names": M("证书域名", "Certificate names"),
    "redirects_to_https": M("HTTP 跳转 HTTPS", "HTTP redirects to HTTPS", values="bool"),
    "http_final_url": M("HTTP 访问最终地址", "HTTP final URL"),
    "address": M("IP 地址", "IP address"),
}
HTTPS_DETAILS = {
    "tls": T(zh="{kind}", en="{kind}"),
    "tls_error": T(zh="{tls_error}", en="{tls_error}"),
    "tls_reason": T(zh="{kind}：{reason}", en="{kind}: {reason}"),
}


def _detail_key(probe: Probe) -> dict[str, Any]:
    """The handshake's outcome in words (HTTPS_DETAILS); the raw reason stays in the evidence detail."""
    d = probe.detail
    if d.get("tls_error"):
        return {"key": "tls_error", "params": {"tls_error": str(d["tls_error"])}}
    if d.get("reason"):
        return {"key": "tls_reason", "params": {"kind": probe.outcome, "reason": str(d["reason"])}}
    return {"key": "tls", "params": {"kind": probe.outcome}}


@check(
    id="https",
    title=T(zh="HTTPS 安全", en="HTTPS"),
    failure_title=T(zh="HTTPS 证书有问题", en="HTTPS certificate problem"),
    description=T(
        zh="首页经 HTTPS 访问：证书须与域名相符、由受信任的证书机构签发（可在配置中指定 CA 证书文件）、在有效期内；"
           "距到期不足 30 天（cert_warn_days）为警告。过期、自签名、不受信任、域名不符均为不合格并注明类型。"
           "有 HTTPS 而 HTTP 不跳转到 HTTPS 为警告；完全不提供 HTTPS 亦为警告（国家要求政府网站逐步启用 HTTPS）。",
        en="The homepage over HTTPS: the certificate must match the host, chain to a trusted CA (a CA bundle can "
           "be set in the config) and be within its validity; under 30 days left (cert_warn_days) warns. Expired, "
           "self-signed, untrusted and hostname-mismatch certificates fail, with their kind. HTTP that does not "
           "redirect to HTTPS where HTTPS exists warns; no HTTPS at all also warns (national rules push "
           "government sites to HTTPS)."),
    basis="国家政府网站安全指标：HTTPS 加密访问",
    severity=Severity.MAJOR,
    needs={"probe:tls"},
    metrics=HTTPS_METRICS, details=HTTPS_DETAILS,
    messages={
        "ok": T(zh="证书有效（{protocol}，剩余 {days_left} 天，签发者 {issuer}）",
                en="Certificate valid ({protocol}, {days_left} days left, issued by {issuer})"),
        "expiring": T(zh="证书将在 {days_left} 天后到期（{not_after}）", en="The certificate expires in {days_left} days ({not_after})"),
        "no_redirect": T(zh="HTTP 访问未跳转到 HTTPS（{http_final_url}）", en="HTTP does not redirect to HTTPS ({http_final_url})"),
        "expired": T(zh="证书已过期（{not_after}）", en="The certificate has expired ({not_after})"),
        "not_yet_valid": T(zh="证书尚未生效", en="The certificate is not yet valid"),
        "self_signed": T(zh="证书为自签名，不受信任", en="Self-signed certificate"),
        "untrusted": T(zh="证书链不受信任（签发者 {issuer}）", en="Untrusted certificate chain (issuer {issuer})"),
        "mismatch": T(zh="证书与域名 {host} 不符（证书域名 {names}）", en="The certificate does not match {host} (it names {names})"),
        "tls_other": T(zh="TLS 握手失败（{tls_error}）", en="TLS handshake failed ({tls_error})"),
        "no_https": T(zh="网站不提供 HTTPS（{kind}）", en="The site offers no HTTPS ({kind})"),
        "unreachable": T(zh="无法连接 HTTPS（{kind}），无法判断", en="Could not reach HTTPS ({kind}); cannot decide"),
        "no_probe": T(zh="本次未探测 HTTPS", en="HTTPS was not probed in this run"),
    },
)
def https(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    probe = next(iter(snap.probes_of("tls")), None)
    if probe is None:
        return Verdict(Status.ERROR, "no_probe")
    d = probe.detail
    left = days_left(probe, snap.taken_at)
    metrics = {"outcome": probe.outcome, "tls_error": d.get("tls_error"), "tls_version": d.get("protocol"),
               "cert_not_after": d.get("not_after"), "days_left": left, "issuer": d.get("issuer"),
               "cert_names": ", ".join(d.get("names", ())), "redirects_to_https": d.get("redirects_to_https"),
               "http_final_url": d.get("http_final_url"), "address": probe.address}
    # The reason is exception text: it joins the machine detail ("refused — ConnectionRefusedError: …"),
    # never the quoted text a reader sees.
    detail = " ".join(str(x) for x in (probe.outcome, d.get("tls_error")) if x)
    evidence = (Evidence(url=probe.url, detail=f"{detail} — {d['reason']}" if d.get("reason") else detail,
                         actual=d.get("issuer"), **_detail_key(probe)),)
    fill = {"host": d.get("host", ""), "names": ", ".join(d.get("names", ())) or "-", "issuer": d.get("issuer") or "-",
            "not_after": (d.get("not_after") or "-")[:10], "days_left": left, "protocol": d.get("protocol") or "-",
            "tls_error": d.get("tls_error") or "-", "kind": probe.outcome,
            "http_final_url": d.get("http_final_url") or "-"}
    if probe.outcome == "tls":
        key = _TLS_KEYS.get(str(d.get("tls_error")), "tls_other")
        return Verdict(Status.FAIL, key, fill, metrics, evidence)
    if probe.outcome in ABSENT_KINDS:
        return Verdict(Status.WARN, "no_https", fill, metrics, evidence)
    if probe.outcome != "ok":
        return Verdict(Status.ERROR, "unreachable", fill, metrics, evidence)
    if left is not None and left < int(params.get("cert_warn_days", 30)):
        return Verdict(Status.WARN, "expiring", fill, metrics, evidence)
    if d.get("redirects_to_https") is False:
        return Verdict(Status.WARN, "no_redirect", fill, metrics, evidence)
    return Verdict(Status.PASS, "ok", fill, metrics, evidence)
