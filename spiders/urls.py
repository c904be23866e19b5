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
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from w3lib.url import safe_url_string

__all__ = ["PageRef", "canonical", "host", "is_http", "looks_like_trap", "malformed", "page_ref", "past_last_page"]

log = logging.getLogger(__name__)

HTTP_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_DEPTH = 15
MAX_QUERY_CHARS = 200
MAX_QUERY_PARAMS = 8
SEGMENT_REPEATS = 3
YEAR_WINDOW = 2
MAX_PAGE_NUMBER = 1000
# Chinese government sites went online from the late 1990s (政府上网工程, 1999): a path dated more than
# 30 years back predates any of their archives, and one dated after next year is no publication yet.
ARCHIVE_YEARS = 30

_EDGE_SPACE = "\t\n\r\f\v \x00\xa0\u3000\ufeff"
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# "scheme://" and a host: "http:/x", "http:///x" and "http:x" are broken as written. w3lib 2.6's
# safe_url_string repairs them as WHATWG parsers do (http://x/); a link written so stays malformed here.
_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]")
_WEB_SCHEMES = frozenset({"http", "https", "file"})
_FORBIDDEN_HOST = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
_YEAR_KEYS = frozenset({"year", "yr", "nian", "nf", "yyyy"})
_MONTH_KEYS = frozenset({"month", "mon", "m", "mm", "yue", "yf", "day", "d", "dd", "week"})
_DATE_KEYS = frozenset({"date", "dt", "riqi", "rq", "caldate", "calendar", "cal", "ym", "yearmonth"})
_CALENDAR_PATH = re.compile(r"calendar|rili|richeng|schedule|日历|日程", re.IGNORECASE)
_DATE_SHAPED = re.compile(r"^([12]\d{3})(?:[-/._]?(\d{2})(?:[-/._]?\d{2})?|[-/._](\d{1,2})(?:[-/._]\d{1,2})?)?$")
_COUNTERS = {**dict.fromkeys(("month", "mon", "mm", "mth", "yue", "yf"), (1, 12)),
             **dict.fromkeys(("day", "dd", "ri"), (1, 31)),
             **dict.fromkeys(("week", "wk", "weekno", "zhou"), (1, 53)),
             **dict.fromkeys(("quarter", "qtr", "jidu"), (1, 4))}
# Counters only beside a year or on a calendar path: alone, m/d/w are often ids, jd a 街道 (sub-district).
_WEAK_COUNTERS = {"m": (1, 12), "d": (1, 31), "w": (1, 53), "jd": (1, 4)}
_INTEGER = re.compile(r"[-+]?\d+\Z")
_PAGE_KEYS = frozenset({"page", "pageno", "page_no", "pagenum", "pagenumber", "pageindex", "page_index", "pagecur",
                        "curpage", "currpage", "currentpage", "cpage", "pg"})
_PAGER_KEYS = _PAGE_KEYS | {"p", "pn", "startrecord"}       # page numbers a pager's last page bounds
_RANGE_END_KEYS = frozenset({"endrecord"})                 # vary with the page, so no part of its list's key
_NUMBERED_FILE = re.compile(r"(.+)_(\d{1,6})\.([A-Za-z]{2,5})\Z")
_YEAR_SEGMENT = re.compile(r"(?:1[89]|20)\d\d\Z")
_MONTH_SEGMENT = re.compile(r"(?:0?[1-9]|1[0-2])\Z")
# A whole segment that is a date: 2041-03-05, 2041_03, or digits only (20410305, 204103; 19xx/20xx only, as
# six-digit region codes such as 110101 would read as years 1101…).
_DATE_SEGMENT = re.compile(r"(?:(?P<y>(?:1[89]|20)\d\d)[-_.](?P<m>0?[1-9]|1[0-2])(?:[-_.](?:0?[1-9]|[12]\d|3[01]))?"
                           r"|(?P<cy>(?:19|20)\d\d)(?P<cm>0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])?)\Z")
_SESSION_KEYS = frozenset({"jsessionid", "phpsessid", "aspsessionid", "sessionid", "session_id", "sessid",
                           "cfid", "cftoken"})
_SESSION_PATH = re.compile(r";jsessionid=|;phpsessid=|/\([sS]\([a-z0-9]{10,}\)\)/", re.IGNORECASE)
_LONG_TOKEN = re.compile(r"^[0-9A-Za-z]{16,}$")
_PLAIN_REF = re.compile(r"[A-Za-z0-9\-._~/:@!$&()*+,;=?]*\Z")
_PLAIN_HOST = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
_PLAIN_ABSOLUTE = re.compile(rf"(https?)(://{_PLAIN_HOST})(?::([1-9]\d{{0,4}}))?(?=[/?]|\Z)")
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
        if not _AUTHORITY.match(joined):
            return None
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
    session id in the URL, calendar navigation outside today's year ± 2, a
    calendar counter outside its range (month=13, day=0, week=54, quarter=5;
    m/d/w only beside a year or on a calendar path), a page number above 1000
    or below 0, and a date in the path (/2041/03/, /1899-01-05/, /20410305/)
    after next year or more than 30 years back. A past year alone
    (`?year=2015`) is an archive filter such as the yearly 政府信息公开年报, not
    a trap; with a month or day, or on a calendar path, it is calendar
    navigation. Dated article paths within the window (/art/2024/6/20/…,
    /202406/t20240620_1.html, a 2005 archive) are never traps. A page past
    the last page of its list's pager is `past_last_page`'s business.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "unparseable URL"
    segments = [s for s in parts.path.split("/") if s]
    reason = _path_reason(segments)
    if reason:
        return reason
    params: list[tuple[str, str]] = []
    if parts.query:
        if len(parts.query) > MAX_QUERY_CHARS:
            return f"query string of {len(parts.query)} characters > {MAX_QUERY_CHARS}"
        params = parse_qsl(parts.query, keep_blank_values=True)
        if len(params) > MAX_QUERY_PARAMS:
            return f"{len(params)} query parameters > {MAX_QUERY_PARAMS}"
    on_calendar_path = bool(_CALENDAR_PATH.search(parts.path))
    return (_session_reason(parts.path, params) or _calendar_reason(segments, params, today, on_calendar_path)
            or _counter_reason(params, on_calendar_path) or _date_path_reason(segments, today))


class PageRef(NamedTuple):
    """One page of a paged list: the list (the URL without its page number) and the number."""

    list: str
    number: int
    form: str           # how the URL writes the number: "index_{}.html", "page={}"


def page_ref(url: str) -> PageRef | None:
    """The list `url` is a numbered page of, or None: `…/index_3.html` is page 3 of `…/index.html`,
    `list.jsp?cat=2&pageNo=5` page 5 of `list.jsp?cat=2` by pageNo, a Hanweb `dataproxy.jsp?…&startrecord=41`
    record 41 of its column."""
    path, _, query = url.partition("?")
    if query:
        params = parse_qsl(query, keep_blank_values=True)
        numbered = [(i, k) for i, (k, v) in enumerate(params) if k.lower() in _PAGER_KEYS and v.isdecimal()]
        if numbered:   # a Hanweb dataproxy.jsp's page=1 stays put while its startrecord counts
            i, key = next((n for n in numbered if n[1].lower() == "startrecord"), numbered[0])
            rest = "&".join(f"{k}={v}" for j, (k, v) in enumerate(params)
                            if j != i and k.lower() not in _RANGE_END_KEYS)
            return PageRef(f"{path}?{rest}#{key.lower()}", int(params[i][1]), f"{key}={{}}")
    head, _, name = path.rpartition("/")
    numbered = _NUMBERED_FILE.match(name)
    if numbered is None:
        return None
    stem, number, ext = numbered.groups()
    return PageRef(f"{head}/{stem}.{ext}" + (f"?{query}" if query else ""), int(number), f"{stem}_{{}}.{ext}")


def past_last_page(url: str, last_pages: Mapping[str, int]) -> str | None:
    """Why `url` is a trap given the last page each known list's pager names (`PageRef.list` → number),
    or None: a page number beyond it (a 下一页 that counts on past 尾页)."""
    ref = page_ref(url)
    if ref is None:
        return None
    last = last_pages.get(ref.list)
    if last is None or ref.number <= last:
        return None
    return f"{ref.form.format(ref.number)} past the last page {ref.form.format(last)} its pager names"


def _fast_canonical(ref: str, base: str | None) -> str | None:
    """The canonical form of a plain ASCII reference against a canonical base; None means "use the full path".

    Most links are plain (/zwgk/index.html, ../t20220620_1.html); this gives
    the same answer as the full path at a fraction of the cost. The answers
    for absolute and root-relative references are kept: they depend on the
    reference and the base's origin alone, and a site's menus repeat them on
    every page.
    """
    ref = ref.split("#", 1)[0]
    if ref.startswith(("http://", "https://")):
        key: str | tuple[str, str] = ref
    elif ref.startswith("/") and not ref.startswith("//"):
        based = _plain_base(base) if base is not None else None
        if based is None:
            return None
        key = (based[0], ref)
    else:
        return _plain_canonical(ref, base)
    found = _KEPT.get(key, _UNKNOWN)
    if found is _UNKNOWN:
        if len(_KEPT) >= _KEPT_MAX:
            _KEPT.clear()
        found = _KEPT[key] = _plain_canonical(ref, base)
    return found  # type: ignore[return-value]


_KEPT: dict[str | tuple[str, str], str | None] = {}
_KEPT_MAX = 16384
_UNKNOWN = object()


def _plain_canonical(ref: str, base: str | None) -> str | None:
    """`_fast_canonical` of a reference without its fragment."""
    if not _PLAIN_REF.match(ref):
        return None
    absolute = _PLAIN_ABSOLUTE.match(ref)
    if absolute:
        scheme, host, port = absolute.groups()
        origin, rest = scheme + host, ref[absolute.end():]
        if port is not None:
            number = int(port)
            if number > 65535:
                return None
            if number != DEFAULT_PORTS[scheme]:
                origin += ":" + port
        path_query = rest if rest.startswith("/") else "/" + rest
    elif not ref or ref.startswith("//") or ":" in ref.split("/", 1)[0] or base is None:
        return None
    else:
        based = _plain_base(base)
        if based is None:
            return None
        origin, base_path = based
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


@lru_cache(maxsize=1024)
def _plain_base(base: str) -> tuple[str, str] | None:
    """(origin, path) of a plain canonical base URL, or None (the links of a page share their base)."""
    parts = _PLAIN_BASE.match(base)
    if parts is None or not parts.group(4).startswith("/") or (
            parts.group(3) and int(parts.group(3)) == DEFAULT_PORTS[parts.group(2)]):
        return None
    return parts.group(1), parts.group(4)


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


def _date_path_reason(segments: list[str], today: date) -> str | None:
    low, high = today.year - ARCHIVE_YEARS, today.year + 1
    for i, segment in enumerate(segments):
        if len(segment) < 4 or not segment[0].isdigit():
            continue
        shaped = _DATE_SEGMENT.match(segment)
        if shaped:
            year, month = int(shaped.group("y") or shaped.group("cy")), int(shaped.group("m") or shaped.group("cm"))
        elif _YEAR_SEGMENT.match(segment) and i + 1 < len(segments) and _MONTH_SEGMENT.match(segments[i + 1]):
            year, month = int(segment), int(segments[i + 1])
        else:
            continue
        if not low <= year <= high:
            return f"date {year}-{month:02d} in the path, outside {low}–{high}"
    return None


def _session_reason(path: str, params: list[tuple[str, str]]) -> str | None:
    if _SESSION_PATH.search(path):
        return "session id in the path"
    for key, value in params:
        name = key.lower()
        if name in _SESSION_KEYS or (name in {"sid", "session", "token"} and _LONG_TOKEN.match(value)):
            return f"session id in query parameter {key!r}"
    return None


def _calendar_reason(segments: list[str], params: list[tuple[str, str]], today: date,
                     on_calendar_path: bool) -> str | None:
    params = [(k.lower(), v.strip()) for k, v in params]
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


def _counter_reason(params: list[tuple[str, str]], on_calendar_path: bool) -> str | None:
    """A calendar counter outside its range, or a page number no pager reaches."""
    dated = on_calendar_path or any(k.lower() in _YEAR_KEYS or k.lower() in _COUNTERS for k, _ in params)
    for key, value in params:
        name = key.lower()
        bounds = _COUNTERS.get(name) or (_WEAK_COUNTERS.get(name) if dated else None)
        value = value.strip()
        if (bounds is None and name not in _PAGE_KEYS) or not _INTEGER.match(value):
            continue
        number = int(value)
        if bounds is None:
            if number < 0 or number > MAX_PAGE_NUMBER:
                return f"{key}={value} outside 0–{MAX_PAGE_NUMBER}"
            continue
        digits = value.lstrip("+-")
        if len(digits) in (6, 8) and digits.startswith(("19", "20")):
            continue   # month=202406: a year and month, calendar navigation's business
        if not bounds[0] <= number <= bounds[1]:
            return f"{key}={value} outside {bounds[0]}–{bounds[1]}"
    return None
