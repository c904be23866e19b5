"""Closed vocabularies shared by the resolver, the fetch layer, spiders, probes
and checks. Values appear unchanged in the database, JSON and tests, so they are
stable: add members, never rename them."""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple


class DnsKind(StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"          # the name does not exist
    NO_ANSWER = "no_answer"        # the name exists, no record of this type
    SERVFAIL = "servfail"
    REFUSED = "refused"            # the nameserver refused the query
    TIMEOUT = "timeout"
    ERROR = "error"                # anything else the resolver could not classify
    CNAME_LOOP = "cname_loop"      # the CNAME chain comes back to a name already in it


class FetchKind(StrEnum):
    OK = "ok"                      # a 2xx final response
    HTTP_3XX = "http_3xx"          # a redirect without a usable Location (none, empty, unparsable, not http(s))
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    DNS = "dns"                    # no address for the host (see the DnsKind in detail)
    REFUSED = "refused"            # TCP connection refused
    TIMEOUT = "timeout"            # connect or read timeout
    RESET = "reset"                # connection closed or reset mid-exchange
    TLS = "tls"                    # handshake or certificate failure (see tls_error)
    PROTOCOL = "protocol"          # malformed HTTP
    REDIRECT_LOOP = "redirect_loop"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    TOO_LARGE = "too_large"        # body exceeded the configured maximum
    BLOCKED = "blocked"            # WAF challenge (e.g. 412 + JS) or persistent 403
    RATE_LIMITED = "rate_limited"  # 429
    SOFT_404 = "soft_404"          # 200 page that says it does not exist
    NO_ROUTE = "no_route"          # the monitor itself has no route for this family
    DISALLOWED = "disallowed"      # address outside crawl.allowed_networks; never sent
    ROBOTS = "robots"              # refused by the host's robots.txt; never requested
    UNSUPPORTED = "unsupported"    # scheme the tool does not fetch
    MALFORMED = "malformed"        # a link no browser can follow (http:/x, http://, bad host or port, file:); never requested
    OVER_LIMIT = "over_limit"      # a link target past the site's link-check bounds (max_link_targets, max_links_per_page); never requested
    ERROR = "error"                # the tool failed; detail says why


class TlsError(StrEnum):
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    SELF_SIGNED = "self_signed"
    UNTRUSTED = "untrusted"        # chain does not lead to a trusted CA
    HOSTNAME_MISMATCH = "hostname_mismatch"
    HANDSHAKE = "handshake"        # protocol/cipher failure before verification
    OTHER = "other"


TRANSIENT_KINDS = frozenset({FetchKind.HTTP_5XX, FetchKind.TIMEOUT, FetchKind.RESET, FetchKind.REFUSED})
"""Kinds worth a retry before they count as a site failure."""


def status_kind(status: int, body: bytes | str = b"") -> FetchKind:
    """The kind of a final HTTP status: the one mapping used by the fetch layer, the crawl and the demo.

    Redirects with a usable Location are followed before this is asked. A 429
    and a 412 challenge page (a WAF's JavaScript check) are refusals, not outages.
    """
    if 200 <= status < 300:
        return FetchKind.OK
    if 300 <= status < 400:
        return FetchKind.HTTP_3XX
    if status == 429:
        return FetchKind.RATE_LIMITED
    if status == 412 and _has_script(body):
        return FetchKind.BLOCKED
    if 400 <= status < 500:
        return FetchKind.HTTP_4XX
    if 500 <= status < 600:
        return FetchKind.HTTP_5XX
    return FetchKind.PROTOCOL


def _has_script(body: bytes | str) -> bool:
    head = body[:65536].lower()
    return (b"<script" in head) if isinstance(head, bytes) else ("<script" in head)


NOT_TLS_REASONS = ("wrong version number", "unknown protocol", "record layer failure", "packet length too long",
                   "http request", "wrong ssl version")
"""OpenSSL reasons (lower case, words) for an answer to the ClientHello that is no TLS at all:
a plain HTTP, SSH or other server on the port. The fetch layer and the crawl both name it so."""


def not_tls(message: str) -> bool:
    """Whether an OpenSSL error message says the peer does not speak TLS."""
    text = message.lower().replace("_", " ")
    return any(reason in text for reason in NOT_TLS_REASONS)


class Label(NamedTuple):
    """A vocabulary value in words, zh and en (reports.i18n shows them; no internal code reaches a reader)."""

    zh: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.zh


FETCH_LABELS: Mapping[str, Label] = MappingProxyType({
    FetchKind.OK: Label("正常", "works"),
    FetchKind.HTTP_3XX: Label("重定向无法跟随", "broken redirect"),
    FetchKind.HTTP_4XX: Label("页面不存在或拒绝访问（4xx）", "client error (4xx)"),
    FetchKind.HTTP_5XX: Label("服务器错误（5xx）", "server error (5xx)"),
    FetchKind.DNS: Label("域名无法解析", "host name does not resolve"),
    FetchKind.REFUSED: Label("连接被拒绝", "connection refused"),
    FetchKind.TIMEOUT: Label("访问超时", "timed out"),
    FetchKind.RESET: Label("连接被中断", "connection reset"),
    FetchKind.TLS: Label("证书或加密连接错误", "certificate or TLS error"),
    FetchKind.PROTOCOL: Label("服务器应答不合规范", "malformed HTTP answer"),
    FetchKind.REDIRECT_LOOP: Label("重定向循环", "redirect loop"),
    FetchKind.TOO_MANY_REDIRECTS: Label("重定向次数过多", "too many redirects"),
    FetchKind.TOO_LARGE: Label("内容过大（已截断）", "too large (cut)"),
    FetchKind.BLOCKED: Label("被防火墙拦截", "blocked by a firewall"),
    FetchKind.RATE_LIMITED: Label("被限流", "rate-limited"),
    FetchKind.SOFT_404: Label("页面显示“不存在”（软 404）", "page says it does not exist (soft 404)"),
    FetchKind.NO_ROUTE: Label("监测主机无此网络路由（未发送）", "no route on the monitor (not sent)"),
    FetchKind.DISALLOWED: Label("地址不在允许范围（未发送）", "address not allowed (not sent)"),
    FetchKind.ROBOTS: Label("robots.txt 禁止访问（未请求）", "refused by robots.txt (not requested)"),
    FetchKind.UNSUPPORTED: Label("不检查的链接类型", "link type not checked"),
    FetchKind.MALFORMED: Label("链接格式错误", "malformed link"),
    FetchKind.OVER_LIMIT: Label("超出检查上限（未请求）", "past the check limits (not requested)"),
    FetchKind.ERROR: Label("监测工具出错", "the tool failed"),
})
"""Every FetchKind value in words; tests check none is missing."""

DNS_LABELS: Mapping[str, Label] = MappingProxyType({
    DnsKind.OK: Label("解析正常", "resolves"),
    DnsKind.NXDOMAIN: Label("域名不存在", "no such name"),
    DnsKind.NO_ANSWER: Label("无此类记录", "no record of this type"),
    DnsKind.SERVFAIL: Label("域名服务器故障", "nameserver failure"),
    DnsKind.REFUSED: Label("域名服务器拒绝查询", "query refused by the nameserver"),
    DnsKind.TIMEOUT: Label("解析超时", "DNS timeout"),
    DnsKind.ERROR: Label("解析出错", "DNS error"),
    DnsKind.CNAME_LOOP: Label("CNAME 记录形成循环", "CNAME loop"),
})

TLS_LABELS: Mapping[str, Label] = MappingProxyType({
    TlsError.EXPIRED: Label("证书已过期", "certificate expired"),
    TlsError.NOT_YET_VALID: Label("证书尚未生效", "certificate not yet valid"),
    TlsError.SELF_SIGNED: Label("自签名证书", "self-signed certificate"),
    TlsError.UNTRUSTED: Label("证书链不受信任", "untrusted chain"),
    TlsError.HOSTNAME_MISMATCH: Label("证书与域名不符", "certificate does not match the host"),
    TlsError.HANDSHAKE: Label("TLS 握手失败", "TLS handshake failed"),
    TlsError.OTHER: Label("其他 TLS 错误", "other TLS error"),
})

HTTP_STATUS_LABELS: Mapping[int, Label] = MappingProxyType({
    301: Label("永久重定向", "moved permanently"), 302: Label("临时重定向", "found (redirect)"),
    400: Label("请求错误", "bad request"), 401: Label("需要登录", "unauthorised"),
    403: Label("禁止访问", "forbidden"), 404: Label("未找到", "not found"), 410: Label("已删除", "gone"),
    412: Label("防火墙质询", "firewall challenge"), 429: Label("请求过多", "too many requests"),
    500: Label("服务器内部错误", "internal server error"), 502: Label("网关错误", "bad gateway"),
    503: Label("服务不可用", "service unavailable"), 504: Label("网关超时", "gateway timeout"),
})
"""Common HTTP statuses in words; another status is named by its class (HTTP 4xx …)."""

REASON_LABELS: tuple[tuple[tuple[str, ...], Label], ...] = (
    (("cname loop", "cname_loop"), DNS_LABELS[DnsKind.CNAME_LOOP]),
    (("handshake stalled",), Label("TLS 握手无响应", "TLS handshake stalled")),
    (("not a tls server",) + NOT_TLS_REASONS, Label("该端口不是 TLS 服务", "not a TLS server")),
    (("connectionrefused", "connection refused", "connect call failed", "errno 111"), FETCH_LABELS[FetchKind.REFUSED]),
    (("connectionreset", "connection reset", "reset by peer", "errno 104", "remoteprotocolerror",
      "server disconnected", "broken pipe"), FETCH_LABELS[FetchKind.RESET]),
    (("nxdomain", "does not exist", "name or service not known"), DNS_LABELS[DnsKind.NXDOMAIN]),
    (("no_answer", "no answer", "no ns record"), DNS_LABELS[DnsKind.NO_ANSWER]),
    (("servfail",), DNS_LABELS[DnsKind.SERVFAIL]),
    (("certificate has expired", "expired"), TLS_LABELS[TlsError.EXPIRED]),
    (("self-signed", "self signed"), TLS_LABELS[TlsError.SELF_SIGNED]),
    (("hostname mismatch", "doesn't match", "does not match"), TLS_LABELS[TlsError.HOSTNAME_MISMATCH]),
    (("certificate verify failed", "unable to get local issuer"), TLS_LABELS[TlsError.UNTRUSTED]),
    (("timeout", "timed out", "no complete response"), FETCH_LABELS[FetchKind.TIMEOUT]),
    (("already visited", "redirect loop"), FETCH_LABELS[FetchKind.REDIRECT_LOOP]),
    (("too many redirects",), FETCH_LABELS[FetchKind.TOO_MANY_REDIRECTS]),
    (("no ipv6 route", "no route", "network is unreachable", "errno 101"), FETCH_LABELS[FetchKind.NO_ROUTE]),
    (("outside the allowed networks",), FETCH_LABELS[FetchKind.DISALLOWED]),
    (("ssl", "tls"), FETCH_LABELS[FetchKind.TLS]),
    (("database is locked",), Label("数据库被其他进程占用", "the database is locked")),
    (("no space left", "disk full"), Label("磁盘空间不足", "the disk is full")),
)
"""Words for reason texts (exception text, resolver and fetch details), first match wins: a reader sees these,
the raw text stays in the JSON export and behind the words (reports.codes.reason)."""

UNKNOWN_REASON = Label("技术故障（详见原始记录）", "technical failure (see the raw record)")


def reason_label(text: str) -> Label:
    """Plain words for a raw reason text; UNKNOWN_REASON when nothing in it is recognised."""
    folded = text.lower()
    spaced = folded.replace("_", " ")
    for needles, label in REASON_LABELS:
        if any(needle in folded or needle in spaced for needle in needles):
            return label
    return UNKNOWN_REASON
