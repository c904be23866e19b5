"""Closed vocabularies shared by the resolver, the fetch layer, spiders, probes
and checks. Values appear unchanged in the database, JSON and tests, so they are
stable: add members, never rename them."""

from enum import StrEnum


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
