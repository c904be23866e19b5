"""Canonical URLs and crawl-trap detection for the crawl.

Owns the one rule that decides when two links name the same page (so one page
is fetched once) and the shapes of URL that mark an endless crawl. Pure: no
I/O, no clock (`today` is passed in), no name resolution.

Canonical form: resolved against the base, WHATWG whitespace and backslash
rules (w3lib), lower-case scheme and host, IDNA host, default port dropped,
dot segments resolved, empty path as "/", percent-escapes of unreserved
characters decoded and all other escapes upper-cased, fragment and an empty
"?" dropped. The query keeps its parameter order and its "+": servers (ASP,
JSP, CGI) may read the raw query string, so sorting could request a page the
site never linked. A host with a WHATWG forbidden character (space, "<", "]" …)
makes no URL.

`malformed` tells a link meant for the web that names no URL (`http:/x`,
`http://`, a bad host or port, any `file:` link) from one that is simply not
for the web (mailto:, javascript: …): the first is a dead link, the second is
skipped.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from w3lib.url import safe_url_string

__all__ = ["canonical", "host", "is_http", "looks_like_trap", "malformed"]

log = logging.getLogger(__name__)

HTTP_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_DEPTH = 15
MAX_QUERY_CHARS = 200
MAX_QUERY_PARAMS = 8
SEGMENT_REPEATS = 3
YEAR_WINDOW = 2

_EDGE_SPACE = "\t\n\r\f\v \x00\xa0\u3000\ufeff"
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_WEB_SCHEMES = frozenset({"http", "https", "file"})
_FORBIDDEN_HOST = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
_YEAR_KEYS = frozenset({"year", "yr", "nian", "nf", "yyyy"})
_MONTH_KEYS = frozenset({"month", "mon", "m", "mm", "yue", "yf", "day", "d", "dd", "week"})
_DATE_KEYS = frozenset({"date", "dt", "riqi", "rq", "caldate", "calendar", "cal", "ym", "yearmonth"})
_CALENDAR_PATH = re.compile(r"calendar|rili|richeng|schedule|日历|日程", re.IGNORECASE)
_DATE_SHAPED = re.compile(r"^([12]\d{3})(?:[-/._]?(\d{2})(?:[-/._]?\d{2})?|[-/._](\d{1,2})(?:[-/._]\d{1,2})?)?$")
_SESSION_KEYS = frozenset({"jsessionid", "phpsessid", "aspsessionid", "sessionid", "session_id", "sessid",
                           "cfid", "cftoken"})
_SESSION_PATH = re.compile(r";jsessionid=|;phpsessid=|/\([sS]\([a-z0-9]{10,}\)\)/", re.IGNORECASE)
_LONG_TOKEN = re.compile(r"^[0-9A-Za-z]{16,}$")
_PLAIN_REF = re.compile(r"[A-Za-z0-9\-._~/:@!$&()*+,;=?]*\Z")
_PLAIN_HOST = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
_PLAIN_ABSOLUTE = re.compile(rf"(https?://{_PLAIN_HOST})(?=[/?]|\Z)")
_PLAIN_BASE = re.compile(
    rf"((https?)://{_PLAIN_HOST}(?::(\d+))?)((?:/|[A-Za-z0-9\-._~:@!$&()*+,;=]|%[0-9A-F]{{2}})*)(?:\?[^#\s]*)?\Z")


def canonical(url: str, base: str | None = None, *, query_encoding: str = "utf-8") -> str | None:
    """The canonical absolute form of `url`, or None when it is not an http(s) URL.

    `query_encoding` is the encoding of the page the link came from: browsers
    percent-encode non-ASCII query text in it (a GBK page's search link sends
    GBK bytes); the path is always UTF-8. Malformed URLs (bad port, broken IPv6
    literal, no host) give None.
    """
    ref = url.strip(_EDGE_SPACE)
    fast = _fast_canonical(ref, base)
    return fast if fast is not None else _full_canonical(ref, base, query_encoding)


def _full_canonical(ref: str, base: str | None, query_encoding: str) -> str | None:
    scheme = _SCHEME.match(ref)
    if scheme and scheme.group(1).lower() not in HTTP_SCHEMES:
        return None
    if not scheme and base is None:
        return None
    ref = _forward_slashes(ref)
    try:
        joined = _join(_forward_slashes(base.strip(_EDGE_SPACE)), ref) if base is not None else ref
        try:
            safe = safe_url_string(joined, encoding=query_encoding)
        except (UnicodeEncodeError, LookupError):
            safe = safe_url_string(joined, encoding="utf-8")
        parts = urlsplit(safe)
        port = parts.port
        hostname = parts.hostname
    except (ValueError, UnicodeError):
        return None
    scheme_name = parts.scheme.lower()
    if scheme_name not in HTTP_SCHEMES or not hostname or port == 0 or (
            "[" not in parts.netloc and _FORBIDDEN_HOST.search(unquote(hostname))):
        return None
    hostname = hostname.rstrip(".")
    netloc = f"[{hostname}]" if ":" in hostname else hostname
    if port is not None and port != DEFAULT_PORTS[scheme_name]:
        netloc = f"{netloc}:{port}"
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if userinfo:
        netloc = f"{userinfo}@{netloc}"
    path = _remove_dot_segments(_normalise_escapes(parts.path)) or "/"
    return urlunsplit((scheme_name, netloc, path, _normalise_escapes(parts.query), ""))


def malformed(url: str) -> bool:
    """Whether a reference that `canonical` rejected was meant for the web: it has an http,
    https or file scheme, or starts with "//" (a browser shows it as a link that goes nowhere)."""
    ref = url.strip(_EDGE_SPACE)
    scheme = _SCHEME.match(ref)
    if scheme is not None:
        return scheme.group(1).lower() in _WEB_SCHEMES
    return ref.startswith(("//", "\\\\", "/\\", "\\/"))


def is_http(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip(_EDGE_SPACE))
        return parts.scheme.lower() in HTTP_SCHEMES and bool(parts.hostname)
    except ValueError:
        return False


def host(url: str) -> str:
    """The URL's host in lower case, IPv6 literals without brackets; "" when there is none."""
    try:
        return (urlsplit(url.strip(_EDGE_SPACE)).hostname or "").rstrip(".")
    except ValueError:
        return ""


def looks_like_trap(url: str, today: date) -> str | None:
    """Why `url` looks like a crawl trap, or None.

    Traps: a path segment repeated 3 or more times (/a/b/a/b/a/b/), a path
    deeper than 15 segments, a query over 200 characters or 8 parameters, a
    session id in the URL, and calendar navigation outside today's year ± 2.
    A past year alone (`?year=2015`) is an archive filter such as the yearly
    政府信息公开年报, not a trap; with a month or day, or on a calendar path,
    it is calendar navigation.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "unparseable URL"
    segments = [s for s in parts.path.split("/") if s]
    return (_path_reason(segments) or _query_reason(parts.query) or _session_reason(parts.path, parts.query)
            or _calendar_reason(segments, parts.query, today))


def _fast_canonical(ref: str, base: str | None) -> str | None:
    """The canonical form of a plain ASCII reference against a canonical base; None means "use the full path".

    Most links are plain (/zwgk/index.html, ../t20220620_1.html); this gives
    the same answer as the full path at a fraction of the cost.
    """
    ref = ref.split("#", 1)[0]
    if not _PLAIN_REF.match(ref):
        return None
    absolute = _PLAIN_ABSOLUTE.match(ref)
    if absolute:
        origin, rest = absolute.group(1), ref[absolute.end():]
        path_query = rest if rest.startswith("/") else "/" + rest
    elif not ref or ref.startswith("//") or ":" in ref.split("/", 1)[0] or base is None:
        return None
    else:
        parts = _PLAIN_BASE.match(base)
        if parts is None or not parts.group(4).startswith("/") or (
                parts.group(3) and int(parts.group(3)) == DEFAULT_PORTS[parts.group(2)]):
            return None
        origin, base_path = parts.group(1), parts.group(4)
        if ref.startswith("/"):
            path_query = ref
        elif ref.startswith("?"):
            path_query = base_path + ref
        else:
            path_query = base_path[:base_path.rfind("/") + 1] + ref
    path, _, query = path_query.partition("?")
    if "/." in path:
        path = _remove_dot_segments(path)
    if "%" in path:
        path = _normalise_escapes(path)
    return origin + path + ("?" + query if query else "")


def _join(base: str, ref: str) -> str:
    """RFC 3986 reference resolution (urljoin drops empty segments and splits ";params", browsers do not)."""
    target = urlsplit(ref)
    if target.scheme:
        return ref
    parts = urlsplit(base)
    if ref.startswith("//"):
        return urlunsplit((parts.scheme, target.netloc, _remove_dot_segments(target.path), target.query, ""))
    if not target.path:
        query = target.query if "?" in ref else parts.query
        return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))
    if target.path.startswith("/"):
        path = target.path
    else:
        path = (parts.path or "/")[:(parts.path or "/").rfind("/") + 1] + target.path
    return urlunsplit((parts.scheme, parts.netloc, _remove_dot_segments(path), target.query, ""))


def _forward_slashes(ref: str) -> str:
    """Backslashes before the query act as "/" in http URLs, as browsers treat them."""
    cut = min((i for i in (ref.find("?"), ref.find("#")) if i >= 0), default=len(ref))
    return ref[:cut].replace("\\", "/") + ref[cut:]


def _normalise_escapes(part: str) -> str:
    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _ESCAPE.sub(fix, part) if "%" in part else part


def _remove_dot_segments(path: str) -> str:
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        elif segment == ".":
            if last:
                out.append("")
        else:
            out.append(segment)
    joined = "/".join(out)
    return joined if joined.startswith("/") else "/" + joined


def _path_reason(segments: list[str]) -> str | None:
    if len(segments) > MAX_DEPTH:
        return f"path depth {len(segments)} > {MAX_DEPTH}"
    counts: dict[str, int] = {}
    for segment in segments:
        counts[segment] = counts.get(segment, 0) + 1
        if counts[segment] >= SEGMENT_REPEATS:
            return f"path segment {segment!r} repeated {counts[segment]} times"
    return None


def _query_reason(query: str) -> str | None:
    if len(query) > MAX_QUERY_CHARS:
        return f"query string of {len(query)} characters > {MAX_QUERY_CHARS}"
    count = len(parse_qsl(query, keep_blank_values=True))
    if count > MAX_QUERY_PARAMS:
        return f"{count} query parameters > {MAX_QUERY_PARAMS}"
    return None


def _session_reason(path: str, query: str) -> str | None:
    if _SESSION_PATH.search(path):
        return "session id in the path"
    for key, value in parse_qsl(query, keep_blank_values=True):
        name = key.lower()
        if name in _SESSION_KEYS or (name in {"sid", "session", "token"} and _LONG_TOKEN.match(value)):
            return f"session id in query parameter {key!r}"
    return None


def _calendar_reason(segments: list[str], query: str, today: date) -> str | None:
    params = [(k.lower(), v.strip()) for k, v in parse_qsl(query, keep_blank_values=True)]
    on_calendar_path = bool(_CALENDAR_PATH.search("/".join(segments)))
    navigates = on_calendar_path or any(k in _MONTH_KEYS for k, _ in params)
    years: list[int] = []
    for key, value in params:
        shaped = _DATE_SHAPED.match(value)
        if shaped and (key in _YEAR_KEYS or key in _DATE_KEYS):
            years.append(int(shaped.group(1)))
            navigates = navigates or bool(shaped.group(2) or shaped.group(3))
    if on_calendar_path:
        years += [int(m.group(1)) for s in segments if (m := _DATE_SHAPED.match(s))]
    for year in years:
        if year > today.year + YEAR_WINDOW or year < 1990 or (navigates and year < today.year - YEAR_WINDOW):
            return f"calendar navigation to year {year}, outside {today.year}±{YEAR_WINDOW}"
    return None
