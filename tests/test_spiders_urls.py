"""spiders.urls: canonical URLs (one page fetched once) and crawl-trap shapes."""

import random
from datetime import date

import pytest

from spiders import urls
from spiders.urls import canonical, host, is_http, looks_like_trap, malformed, page_ref, past_last_page

PAGE = "http://www.zgcy.gov.cn/zwgk/zcwj/t20220620_123.html"


@pytest.mark.parametrize(("ref", "base", "expected"), [
    ("HTTP://WWW.ZGCY.GOV.CN:80/a/../b/./c.html?x=1&a=2#top", None, "http://www.zgcy.gov.cn/b/c.html?x=1&a=2"),
    ("https://www.zgcy.gov.cn:443", None, "https://www.zgcy.gov.cn/"),
    ("http://www.zgcy.gov.cn:443/", None, "http://www.zgcy.gov.cn:443/"),
    ("http://www.zgcy.gov.cn:8080/x", None, "http://www.zgcy.gov.cn:8080/x"),
    ("../../images/a.css", PAGE, "http://www.zgcy.gov.cn/images/a.css"),
    ("./202206/P0.pdf", PAGE, "http://www.zgcy.gov.cn/zwgk/zcwj/202206/P0.pdf"),
    ("?page=2", PAGE, PAGE + "?page=2"),
    ("//cdn.zgcy.gov.cn/js/a.js", "https://www.zgcy.gov.cn/", "https://cdn.zgcy.gov.cn/js/a.js"),
    ("  /zwgk/index.html\u3000", PAGE, "http://www.zgcy.gov.cn/zwgk/index.html"),
    ("/zw\ngk/\tindex.html", PAGE, "http://www.zgcy.gov.cn/zwgk/index.html"),
    ("..\\xxgk\\index.html", PAGE, "http://www.zgcy.gov.cn/zwgk/xxgk/index.html"),
    ("/中文 目录/a.html", PAGE, "http://www.zgcy.gov.cn/%E4%B8%AD%E6%96%87%20%E7%9B%AE%E5%BD%95/a.html"),
    ("http://www.zgcy.gov.cn/%7euser/%2fx%41", None, "http://www.zgcy.gov.cn/~user/%2FxA"),
    ("http://中国政府.政务/x", None, "http://xn--fiqs8sirgfmh.xn--zfr164b/x"),
    ("http://www.zgcy.gov.cn./x", None, "http://www.zgcy.gov.cn/x"),
    ("http://[::1]:80/a", None, "http://[::1]/a"),
    ("http://127.0.0.1:8080/a?", None, "http://127.0.0.1:8080/a"),
    ("/search?b=2&a=1&a=0+x", PAGE, "http://www.zgcy.gov.cn/search?b=2&a=1&a=0+x"),
    ("a//b/;x", "http://www.zgcy.gov.cn/d/", "http://www.zgcy.gov.cn/d/a//b/;x"),
    ("/a/b/../../../c", PAGE, "http://www.zgcy.gov.cn/c"),
], ids=[
    "scheme-and-host-lowercased-default-port-dots-and-fragment-dropped",
    "https-default-port-dropped-and-empty-path-becomes-slash",
    "port-443-on-http-is-not-default-and-stays",
    "other-ports-stay",
    "relative-parent-path-resolves-to-the-root",
    "dot-relative-path-resolves-in-the-page-directory",
    "query-only-reference-keeps-the-page-path",
    "scheme-relative-takes-the-base-scheme",
    "surrounding-ascii-and-ideographic-spaces-are-stripped",
    "tabs-and-newlines-inside-are-removed-as-browsers-do",
    "backslashes-act-as-slashes",
    "non-ascii-path-is-utf8-percent-encoded",
    "unreserved-escapes-are-decoded-and-others-uppercased",
    "chinese-host-is-idna-encoded",
    "trailing-dot-of-the-host-is-dropped",
    "ipv6-literal-keeps-brackets-and-drops-default-port",
    "empty-query-is-dropped",
    "query-order-and-plus-are-kept-because-servers-may-read-them-raw",
    "empty-segments-and-semicolons-are-kept-as-browsers-do",
    "dot-segments-never-climb-above-the-root",
])
def test_canonical_form(ref: str, base: str | None, expected: str) -> None:
    assert canonical(ref, base) == expected


@pytest.mark.parametrize(("ref", "base"), [
    ("mailto:zgcy@zgcy.gov.cn", PAGE),
    ("tel:04212622222", PAGE),
    ("javascript:void(0)", PAGE),
    ("JavaScript:window.print()", PAGE),
    ("data:image/gif;base64,R0lGODlh", PAGE),
    ("ftp://ftp.zgcy.gov.cn/a.doc", PAGE),
    ("http://www.zgcy.gov.cn:99999/", None),
    ("http://www.zgcy.gov.cn:port/", None),
    ("http://[::1/", None),
    ("http:///no-host", None),
    ("/relative/without/base", None),
], ids=[
    "mailto", "tel", "javascript", "javascript-in-mixed-case", "data-uri", "ftp", "port-out-of-range",
    "port-not-a-number", "broken-ipv6-literal", "no-host", "relative-without-a-base",
])
def test_non_http_and_malformed_urls_have_no_canonical_form(ref: str, base: str | None) -> None:
    assert canonical(ref, base) is None


def test_query_text_is_encoded_in_the_pages_encoding_as_browsers_do() -> None:
    assert canonical("search.jsp?q=中文", "http://www.zgcy.gov.cn/", query_encoding="gb18030") == \
        "http://www.zgcy.gov.cn/search.jsp?q=%D6%D0%CE%C4"
    assert canonical("search.jsp?q=中文", "http://www.zgcy.gov.cn/") == \
        "http://www.zgcy.gov.cn/search.jsp?q=%E4%B8%AD%E6%96%87"


def test_the_fast_path_for_plain_links_agrees_with_the_full_path() -> None:
    rng = random.Random(20220620)
    bases = ["http://www.zgcy.gov.cn/", PAGE, "https://b.gov.cn:8443/p/?q=1", "http://a.cn/%E4%B8%AD/t.html",
             "http://a.cn:80/x/", "http://a.cn/x/./y/", "http://127.0.0.1:8080/a/b", "http://A.cn/x", None]
    atoms = ["a", "b.html", "..", ".", "", "?", "q=1", "&", "=", ":", "@", "!", "$", "(", ")", "*", "+", ",", ";",
             "~", "-", "_", "http:", "https:", "//", "/", "x.cn", "www.b.gov.cn", "%41", "#f", "index",
             ":80", ":443", ":8080", ":0", ":99999", ":080"]
    checked = 0
    for _ in range(4000):
        ref = rng.choice(["", "http://", "https://", "/", "../", "./", "?"]) + "".join(
            rng.choice(atoms) for _ in range(rng.randint(0, 7)))
        base = rng.choice(bases)
        fast = urls._fast_canonical(ref, base)
        if fast is not None:
            checked += 1
            assert fast == urls._full_canonical(ref, base, "utf-8"), (ref, base)
    assert checked > 1000


def test_a_root_relative_link_resolves_against_each_page_s_own_origin() -> None:
    assert canonical("/zwgk/index.html", "http://www.a.gov.cn/x/1.html") == "http://www.a.gov.cn/zwgk/index.html"
    assert canonical("/zwgk/index.html", "https://www.b.gov.cn:8443/y/") == "https://www.b.gov.cn:8443/zwgk/index.html"
    assert canonical("/zwgk/index.html", "http://www.a.gov.cn/z/") == "http://www.a.gov.cn/zwgk/index.html"


@pytest.mark.parametrize(("url", "expected"), [
    ("http://www.zgcy.gov.cn/", True), ("HTTPS://www.zgcy.gov.cn", True), ("/relative", False),
    ("mailto:a@b.cn", False), ("http:///x", False), ("http://[::1", False),
])
def test_is_http(url: str, expected: bool) -> None:
    assert is_http(url) is expected


@pytest.mark.parametrize(("url", "expected"), [
    ("http://WWW.ZGCY.gov.cn:8080/x", "www.zgcy.gov.cn"), ("http://[::1]:8080/", "::1"),
    ("http://www.zgcy.gov.cn./", "www.zgcy.gov.cn"), ("/relative", ""), ("http://[::1", ""),
])
def test_host(url: str, expected: str) -> None:
    assert host(url) == expected


TODAY = date.today()
FAR_FUTURE = TODAY.year + 3
FAR_PAST = TODAY.year - 3


@pytest.mark.parametrize(("url", "reason"), [
    ("http://a.gov.cn/a/b/a/b/a/b/", "path segment 'a' repeated 3 times"),
    ("http://a.gov.cn/" + "/".join(f"d{i}" for i in range(16)), "path depth 16 > 15"),
    ("http://a.gov.cn/s?q=" + "x" * 200, "query string of 202 characters > 200"),
    ("http://a.gov.cn/s?" + "&".join(f"p{i}=1" for i in range(9)), "9 query parameters > 8"),
    (f"http://a.gov.cn/cal.jsp?year={FAR_FUTURE}&month=1",
     f"calendar navigation to year {FAR_FUTURE}, outside {TODAY.year}±2"),
    (f"http://a.gov.cn/cal.jsp?year={FAR_PAST}&month=12",
     f"calendar navigation to year {FAR_PAST}, outside {TODAY.year}±2"),
    (f"http://a.gov.cn/hd/rili/{FAR_FUTURE}-01/", f"calendar navigation to year {FAR_FUTURE}, outside {TODAY.year}±2"),
    (f"http://a.gov.cn/list?date={FAR_FUTURE}-01-05", f"calendar navigation to year {FAR_FUTURE}, outside {TODAY.year}±2"),
    ("http://a.gov.cn/x.jsp;jsessionid=0A1B2C3D4E", "session id in the path"),
    ("http://a.gov.cn/x.php?PHPSESSID=0a1b2c", "session id in query parameter 'PHPSESSID'"),
    ("http://a.gov.cn/x.asp?sid=0a1b2c3d4e5f6a7b8c9d", "session id in query parameter 'sid'"),
], ids=[
    "repeated-path-segments", "deep-path", "long-query", "many-query-parameters", "calendar-years-ahead",
    "calendar-years-back-with-a-month", "calendar-path-years-ahead", "date-parameter-years-ahead",
    "jsessionid-in-the-path", "php-session-parameter", "long-sid-token",
])
def test_crawl_traps_are_named(url: str, reason: str) -> None:
    assert looks_like_trap(url, TODAY) == reason


@pytest.mark.parametrize("url", [
    "http://a.gov.cn/zwgk/zcwj/202206/t20220620_123.html",
    "http://a.gov.cn/art/2008/5/12/art_1229_1.html",
    f"http://a.gov.cn/ndbg.jsp?year={FAR_PAST}",
    f"http://a.gov.cn/cal.jsp?year={TODAY.year + 1}&month=12",
    "http://a.gov.cn/list.jsp?sid=3&channelid=12&page=2",
    "http://a.gov.cn/x?dt=1669700000000",
    "http://a.gov.cn/map?x=1200&y=1500",
    "http://a.gov.cn/" + "/".join(f"d{i}" for i in range(15)),
], ids=[
    "dated-article-path", "old-article-archive-path", "yearly-report-archive-by-past-year",
    "calendar-within-two-years", "short-site-id-parameter", "timestamp-cache-buster", "image-map-coordinates",
    "path-depth-at-the-limit",
])
def test_ordinary_urls_are_not_traps(url: str) -> None:
    assert looks_like_trap(url, TODAY) is None


LATE, EARLY = TODAY.year + 2, TODAY.year - 31     # just outside the date-path window (next year … 30 years back)


@pytest.mark.parametrize(("url", "reason"), [
    ("http://a.gov.cn/ldhd/index.jsp?month=13", "month=13 outside 1–12"),
    ("http://a.gov.cn/ldhd/index.jsp?month=0", "month=0 outside 1–12"),
    ("http://a.gov.cn/ldhd/index.jsp?month=-1", "month=-1 outside 1–12"),
    (f"http://a.gov.cn/cal.do?year={TODAY.year}&Month=14", "Month=14 outside 1–12"),
    ("http://a.gov.cn/cal.do?yue=99999", "yue=99999 outside 1–12"),
    (f"http://a.gov.cn/cal.do?year={TODAY.year}&m=13", "m=13 outside 1–12"),
    ("http://a.gov.cn/hd/rili/index.jsp?d=32", "d=32 outside 1–31"),
    ("http://a.gov.cn/rc.jsp?month=6&day=0", "day=0 outside 1–31"),
    ("http://a.gov.cn/zb.jsp?week=54", "week=54 outside 1–53"),
    ("http://a.gov.cn/tj.jsp?quarter=5", "quarter=5 outside 1–4"),
    (f"http://a.gov.cn/tj.jsp?nf={TODAY.year}&jd=5", "jd=5 outside 1–4"),
    ("http://a.gov.cn/list.jsp?channelid=3&pageNo=1001", "pageNo=1001 outside 0–1000"),
    ("http://a.gov.cn/list.jsp?page=-1", "page=-1 outside 0–1000"),
    ("http://a.gov.cn/search?currentPage=99999999", "currentPage=99999999 outside 0–1000"),
    (f"http://a.gov.cn/xwzx/{LATE}/03/", f"date {LATE}-03 in the path, outside {EARLY + 1}–{TODAY.year + 1}"),
    (f"http://a.gov.cn/xwzx/{LATE}-03-05/", f"date {LATE}-03 in the path, outside {EARLY + 1}–{TODAY.year + 1}"),
    (f"http://a.gov.cn/xwzx/{LATE}0305/", f"date {LATE}-03 in the path, outside {EARLY + 1}–{TODAY.year + 1}"),
    (f"http://a.gov.cn/xwzx/{LATE}03/t{LATE}0305_1.html",
     f"date {LATE}-03 in the path, outside {EARLY + 1}–{TODAY.year + 1}"),
    ("http://a.gov.cn/xwzx/1899/01/", f"date 1899-01 in the path, outside {EARLY + 1}–{TODAY.year + 1}"),
    (f"http://a.gov.cn/art/{EARLY}/6/20/art_1_2.html", f"date {EARLY}-06 in the path, outside {EARLY + 1}–{TODAY.year + 1}"),
], ids=[
    "month-counted-past-12", "month-counted-down-to-0", "negative-month", "month-beside-a-year-any-case",
    "absurd-month-in-pinyin", "short-month-key-beside-a-year", "short-day-key-on-a-calendar-path",
    "day-zero", "week-54", "fifth-quarter", "fifth-quarter-by-pinyin-beside-a-year", "page-number-above-the-cap", "negative-page-number",
    "absurd-current-page", "year-and-month-directories-after-next-year", "dashed-date-segment-after-next-year",
    "compact-date-segment-after-next-year", "trs-month-directory-after-next-year", "date-path-before-the-web",
    "article-path-dated-before-the-window",
])
def test_counters_and_dated_paths_outside_their_range_are_traps(url: str, reason: str) -> None:
    assert looks_like_trap(url, TODAY) == reason


@pytest.mark.parametrize("url", [
    f"http://a.gov.cn/art/{TODAY.year}/6/20/art_123_456.html",
    f"http://a.gov.cn/zwgk/t{TODAY.year}0620_123.html",
    f"http://a.gov.cn/zwgk/{TODAY.year}06/t{TODAY.year}0620_1.html",
    "http://a.gov.cn/xxgk/200506/t20050620_1.html",
    "http://a.gov.cn/art/2005/1/5/art_9_1.html",
    f"http://a.gov.cn/xwzx/{TODAY.year + 1}/01/",
    f"http://a.gov.cn/xwzx/{EARLY + 1}-12-31/",
    "http://a.gov.cn/dept/110101/index.html",
    "http://a.gov.cn/col/2041/index.html",
    "http://a.gov.cn/news/2041/13/",
    "http://a.gov.cn/ldhd/index.jsp?month=12",
    "http://a.gov.cn/ldhd/index.jsp?month=1",
    f"http://a.gov.cn/ldhd/index.jsp?month={TODAY.year}06",
    "http://a.gov.cn/index.php?m=content&c=index&a=show&id=12",
    "http://a.gov.cn/show.php?d=1024",
    "http://a.gov.cn/jdxx.jsp?jd=12",
    "http://a.gov.cn/list.jsp?pageNo=1000",
    "http://a.gov.cn/list.jsp?page=0",
    "http://a.gov.cn/?p=123456",
], ids=[
    "hanweb-article-this-year", "trs-article-file", "trs-month-directory", "old-trs-archive-2005",
    "old-hanweb-article-2005", "next-january", "thirty-years-back", "region-code-directory",
    "four-digit-column-id", "year-then-a-number-that-is-no-month", "december", "january",
    "month-as-year-and-month", "phpcms-module-key", "short-day-key-without-a-year", "sub-district-id-jd", "page-at-the-cap",
    "page-zero", "post-id-p",
])
def test_dated_and_counted_urls_within_range_are_not_traps(url: str) -> None:
    assert looks_like_trap(url, TODAY) is None


@pytest.mark.parametrize(("url", "ref"), [
    ("http://a.gov.cn/col/col12/index_3.html", ("http://a.gov.cn/col/col12/index.html", 3, "index_{}.html")),
    ("http://a.gov.cn/list.jsp?cat=2&pageNo=5", ("http://a.gov.cn/list.jsp?cat=2#pageno", 5, "pageNo={}")),
    ("http://a.gov.cn/module/web/jpage/dataproxy.jsp?page=1&columnid=7&startrecord=41&endrecord=60&perpage=20",
     ("http://a.gov.cn/module/web/jpage/dataproxy.jsp?page=1&columnid=7&perpage=20#startrecord", 41,
      "startrecord={}")),
    ("http://a.gov.cn/col/col12/index.html", None),
    ("http://a.gov.cn/list.jsp?cat=2", None),
], ids=["trs-index-page", "query-page-number", "hanweb-record-group", "first-page-has-no-number", "no-page"])
def test_page_refs_name_the_list_and_the_number(url: str, ref: tuple | None) -> None:
    assert page_ref(url) == ref


def test_a_page_past_the_last_page_of_its_pager_is_a_trap() -> None:
    last = {"http://a.gov.cn/col/col12/index.html": 12, "http://a.gov.cn/list.jsp?cat=2#page": 4}
    assert past_last_page("http://a.gov.cn/col/col12/index_57.html", last) == \
        "index_57.html past the last page index_12.html its pager names"
    assert past_last_page("http://a.gov.cn/list.jsp?cat=2&page=5", last) == \
        "page=5 past the last page page=4 its pager names"
    assert past_last_page("http://a.gov.cn/col/col12/index_12.html", last) is None
    assert past_last_page("http://a.gov.cn/list.jsp?cat=3&page=5", last) is None, "another list"
    assert past_last_page("http://a.gov.cn/col/col13/index_57.html", last) is None, "a list whose pager is unknown"


@pytest.mark.parametrize(("href", "is_malformed"), [
    ("http:/www.x.gov.cn", True), ("http://", True), ("http:", True), ("HTTPS:", True), ("http://host]", True),
    ("http://exa mple.gov.cn", True), ("http://host%20x/", True), ("http://x.gov.cn:99999/", True),
    ("http://x.gov.cn:0/", True), ("file:///C:/a.doc", True), ("//", True), ("//host]/x", True),
    (" http:// ", True), ("javascript:void(0)", False), ("mailto:a@b.cn", False), ("tel:110", False),
    ("data:,x", False), ("ftp://x.gov.cn/", False), ("weixin://dl/chat", False),
])
def test_malformed_tells_a_broken_web_link_from_another_scheme(href: str, is_malformed: bool) -> None:
    assert canonical(href, "http://www.b.gov.cn/p/index.html") is None
    assert malformed(href) is is_malformed


@pytest.mark.parametrize("url", ["http://exa mple.gov.cn/", "http://a<b.gov.cn/", "http://a^b.gov.cn/",
                                 "http://a|b.gov.cn/", "http://a%3Cb.gov.cn/"])
def test_a_host_with_a_forbidden_character_makes_no_url(url: str) -> None:
    assert canonical(url) is None


@pytest.mark.parametrize(("url", "expected"), [("http://[::1]:8080/x", "http://[::1]:8080/x"),
                                               ("http://a_b.gov.cn/", "http://a_b.gov.cn/"),
                                               ("http://中文.cn/", "http://xn--fiq228c.cn/")])
def test_valid_hosts_stay_valid(url: str, expected: str) -> None:
    assert canonical(url) == expected
