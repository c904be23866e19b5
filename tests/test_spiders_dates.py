"""spiders.dates: the date grammar of Chinese government pages, where a date stands, what is left out."""

from datetime import date, timedelta
from pathlib import Path

import pytest

from monitor.htmltext import decode_html
from spiders.dates import MAX_HITS, find_dates, latest, text_chunks
from spiders.extract import extract, parse
from spiders.items import DateHit

HTML = Path(__file__).parent / "data" / "html"
TODAY = date.today()
DAY = timedelta(days=1)


def found(html: str, today: date = TODAY) -> list[tuple[date, str]]:
    return [(hit.date, hit.source) for hit in extract(html, "http://www.zgcy.gov.cn/", today=today).dates]


def fixture(name: str, base: str = "http://www.zgcy.gov.cn/a/b.html") -> tuple[DateHit, ...]:
    text, codec = decode_html((HTML / name).read_bytes(), None)
    return extract(text, base, today=TODAY, encoding=codec).dates


def iso(day: date) -> str:
    return day.isoformat()


def month_day(day: date) -> str:
    return f"{day.month:02d}-{day.day:02d}"


def tomorrows_month_day_last_year() -> date:
    """Tomorrow's month-day a year back: this year's is still ahead of today, so a list means last year's.

    On Dec 31 no month-day of this year is ahead; a past one of this year stands in.
    """
    tomorrow = TODAY + DAY
    if tomorrow.year != TODAY.year:
        return TODAY - 300 * DAY
    try:
        return tomorrow.replace(year=TODAY.year - 1)
    except ValueError:
        return date(TODAY.year - 1, 3, 1)


WEEK_AGO, MONTH_AGO = TODAY - 7 * DAY, TODAY - 30 * DAY


@pytest.mark.parametrize(("html", "expected"), [
    (f"<ul><li><a href='/a/1.html'>通知</a><span>{iso(WEEK_AGO)}</span></li></ul>", [(WEEK_AGO, "list-item")]),
    (f"<ul><li><a href='/a/1.html'>通知</a>{WEEK_AGO.year}年{WEEK_AGO.month}月{WEEK_AGO.day}日</li></ul>",
     [(WEEK_AGO, "list-item")]),
    (f"<table><tr><td><a href='/a/1.html'>通知</a></td><td>{iso(WEEK_AGO).replace('-', '/')}</td></tr></table>",
     [(WEEK_AGO, "list-item")]),
    (f"<ul><li><a href='/a/1.html'>通知</a>({iso(WEEK_AGO).replace('-', '.')})</li></ul>", [(WEEK_AGO, "list-item")]),
    (f"<ul><li><a href='/a/1.html'>通知</a> {WEEK_AGO.year}-{WEEK_AGO.month}-{WEEK_AGO.day}</li></ul>",
     [(WEEK_AGO, "list-item")]),
    (f"<ul><li><a href='/a/1.html'>通知</a><span>{iso(WEEK_AGO)} 10:30</span></li></ul>", [(WEEK_AGO, "list-item")]),
    ((f"<div class='list'><a href='/a/1.html'>通知</a><span class='date'>[{month_day(WEEK_AGO)}]</span><br>"
     f"<a href='/a/2.html'>公告</a> {month_day(MONTH_AGO)}<br></div>"), [(WEEK_AGO, "list-item"), (MONTH_AGO, "list-item")]),
    (f"<ul><li><a href='/a/1.html'>通知</a><em>{WEEK_AGO.month}月{WEEK_AGO.day}日</em></li></ul>",
     [(WEEK_AGO, "list-item")]),
    (f"<head><meta name='PubDate' content='{iso(WEEK_AGO)} 10:30'></head>", [(WEEK_AGO, "meta")]),
    (f"<head><meta property='article:published_time' content='{iso(WEEK_AGO)}T10:30:00+08:00'></head>",
     [(WEEK_AGO, "meta")]),
    (f"<head><meta name='firstpublishedtime' content='{iso(WEEK_AGO)}-10:30:15'></head>", [(WEEK_AGO, "meta")]),
    (f"<head><meta name='publishdate' content='{iso(WEEK_AGO).replace('-', '')}'></head>", [(WEEK_AGO, "meta")]),
    (f"<div class='info'>发布时间：{iso(WEEK_AGO)} 来源：市政府办公室</div>", [(WEEK_AGO, "header")]),
    (f"<table><tr><th>发布日期</th><td>{WEEK_AGO.year}年{WEEK_AGO.month:02d}月{WEEK_AGO.day:02d}日</td></tr></table>",
     [(WEEK_AGO, "header")]),
    (f"<div>更新日期：{iso(WEEK_AGO).replace('-', '')}</div>", [(WEEK_AGO, "header")]),
    (f"<div class='pubtime'>{iso(WEEK_AGO)}</div>", [(WEEK_AGO, "header")]),
    (f"<p>会议于{MONTH_AGO.year}年{MONTH_AGO.month}月{MONTH_AGO.day}日召开。</p>", [(MONTH_AGO, "text")]),
], ids=[
    "iso-date-in-a-list-row", "chinese-date-in-a-list-row", "slashed-date-in-a-table-row",
    "dotted-date-in-brackets-after-the-link", "unpadded-date", "datetime-keeps-the-day",
    "yearless-dates-in-a-flat-list", "yearless-chinese-date-in-em", "pubdate-meta-of-chinese-cms",
    "open-graph-meta", "gov-cn-firstpublishedtime-meta", "compact-date-in-a-meta-tag",
    "article-header-label", "label-and-date-in-separate-cells", "compact-date-after-a-label",
    "date-element-outside-a-list", "date-in-running-text",
])
def test_date_formats_and_sources(html: str, expected: list[tuple[date, str]]) -> None:
    assert found(html) == expected


TOMORROW = TODAY + DAY


@pytest.mark.parametrize("html", [
    f"<div class='footer'>最后更新：{iso(WEEK_AGO)}</div>",
    f"<p>Copyright © 2008-{TODAY.year} 朝阳市人民政府 {iso(WEEK_AGO)}</p>",
    f"<p>版权所有 {iso(WEEK_AGO)}</p>",
    f"<div class='top'>今天是{TODAY.year}年{TODAY.month}月{TODAY.day}日 星期{'一二三四五六日'[TODAY.weekday()]}</div>",
    f"<div class='top'><span>今天是</span><span id='clock'>{iso(TODAY)}</span></div>",
    f"<div>{TODAY.year}年{TODAY.month}月{TODAY.day}日 星期{'一二三四五六日'[TODAY.weekday()]}</div>",
    f"<ul><li><a href='/a/1.html'>通知</a><span>{iso(TOMORROW)}</span></li></ul>",
    f"<p>请于{TOMORROW.year}年{TOMORROW.month}月{TOMORROW.day}日前报送。</p>",
    "<ul><li><a href='/a/1.html'>旧闻</a><span>1989-12-31</span></li></ul>",
    "<ul><li><a href='/a/1.html'>通知</a><span>2022-02-30</span></li></ul>",
    "<ul><li><a href='/a/1.html'>通知</a><span>2022-13-01</span></li></ul>",
    "<p>联系电话：0421-2622222，传真：0421-2622223</p>",
    "<p>索引号：20220620123，文号：朝政发〔2022〕8号，编号 11211300MB1234567X/2022-00123</p>",
    "<p>1.2022.06.20 版本</p>",
    f"<script>var d = '{iso(WEEK_AGO)}';</script><style>/* {iso(WEEK_AGO)} */</style>",
    f"<p>会议于{WEEK_AGO.month}月{WEEK_AGO.day}日召开，第{WEEK_AGO.month:02d}-{WEEK_AGO.day:02d}号。</p>",
    f"<ul><li><a href='/a/1.html'>中国队3-2胜 {WEEK_AGO.month:02d}-{WEEK_AGO.day:02d}场次</a></li></ul>",
    "<p>2022年6月 全年 2022年</p>",
], ids=[
    "footer-update-date", "copyright-line", "copyright-line-in-chinese", "today-is-clock",
    "clock-split-across-elements", "date-followed-by-weekday", "future-list-date", "future-deadline",
    "before-1990", "february-30", "month-13", "phone-numbers", "document-ids-and-numbers", "version-number",
    "script-and-style", "yearless-dates-in-running-text", "bare-month-day-inside-a-title", "month-or-year-only",
])
def test_template_and_impossible_dates_are_left_out(html: str) -> None:
    assert found(html) == []


def test_year_of_a_yearless_date_is_last_year_when_this_years_would_be_ahead() -> None:
    new_year = date(TODAY.year, 1, 5)
    html = "<ul><li><a href='/detail.jsp?id=1'>通知</a><span>12-30</span></li>" \
           "<li><a href='/detail.jsp?id=2'>通知</a><span>01-04</span></li></ul>"
    assert found(html, today=new_year) == [(date(TODAY.year - 1, 12, 30), "list-item"),
                                           (date(TODAY.year, 1, 4), "list-item")]


def test_year_of_a_yearless_date_relative_to_today() -> None:
    last_year = tomorrows_month_day_last_year()
    html = f"<ul><li><a href='/d.jsp?id=1'>通知</a>[{month_day(WEEK_AGO)}]</li>" \
           f"<li><a href='/d.jsp?id=2'>通知</a>[{month_day(last_year)}]</li></ul>"
    assert found(html) == [(WEEK_AGO, "list-item"), (last_year, "list-item")]


def test_year_of_a_yearless_date_comes_from_the_link_url_first() -> None:
    old = date(TODAY.year - 4, WEEK_AGO.month, min(WEEK_AGO.day, 28))
    html = f"<ul><li><a href='/xwzx/{old:%Y%m}/t{old:%Y%m%d}_801.html'>旧闻</a><span>{month_day(old)}</span></li>" \
           f"<li><a href='/art/{old:%Y/%m}/x.html'>旧闻</a><span>{month_day(old)}</span></li></ul>"
    assert found(html) == [(old, "list-item"), (old, "list-item")]


def test_snippet_is_the_text_around_the_date_with_whitespace_collapsed() -> None:
    html = "<div class='info'>发布时间：2022-06-20 10:30　来源：市政府办公室</div>"
    assert extract(html, "http://www.zgcy.gov.cn/", today=TODAY).dates == (
        DateHit(date(2022, 6, 20), "header", "发布时间：2022-06-20 10:30 来源：市政府办公室"),)


@pytest.mark.parametrize("line", ["COPYRIGHT", "CopyRight", "copyright", "(C)", "(c)", "版权所有"])
def test_a_copyright_line_drops_its_date_whatever_the_case_of_its_words(line: str) -> None:
    assert found(f"<p>正文 2022-06-20</p><p>{line} 2008-{iso(WEEK_AGO)} 朝阳市人民政府</p>") == [
        (date(2022, 6, 20), "text")]


def test_find_dates_on_its_own_keeps_copyright_and_clock_rules() -> None:
    root = parse(f"<p>今天是{iso(TODAY)}</p><p>正文 2022-06-20</p><p>Copyright © 2022-06-21</p>")
    assert root is not None
    assert [(h.date, h.source) for h in find_dates(root, today=TODAY)] == [(date(2022, 6, 20), "text")]


def test_a_huge_list_keeps_the_latest_dates_and_every_row() -> None:
    rows = "".join(f"<li><a href='/a/{n}.html'>通知{n}</a><span>{iso(TODAY - n * DAY)}</span></li>" for n in range(600))
    result = extract(f"<ul>{rows}</ul>", "http://www.zgcy.gov.cn/", today=TODAY)
    assert len(result.dates) == MAX_HITS
    assert latest(result.dates) == TODAY
    assert min(h.date for h in result.dates) == TODAY - (MAX_HITS - 1) * DAY
    assert {link.context for link in result.links} == {"list"}


@pytest.mark.parametrize(("hits", "expected"), [
    ((), None),
    ((DateHit(date(2022, 7, 31), "text"),), date(2022, 7, 31)),
    ((DateHit(date(2022, 6, 20), "meta"), DateHit(date(2022, 7, 31), "text")), date(2022, 6, 20)),
    ((DateHit(date(2022, 6, 1), "list-item"), DateHit(date(2022, 6, 20), "list-item"),
      DateHit(date(2022, 6, 10), "header")), date(2022, 6, 20)),
], ids=["no-dates", "text-only-page", "running-text-never-beats-the-publication-date", "latest-of-the-list"])
def test_latest(hits: tuple[DateHit, ...], expected: date | None) -> None:
    assert latest(hits) == expected


def test_article_fixture_dates() -> None:
    assert [(h.date, h.source) for h in fixture("article.html")] == [
        (date(2022, 6, 20), "meta"), (date(2022, 6, 20), "meta"),
        (date(2022, 6, 15), "header"), (date(2022, 6, 20), "header"), (date(2022, 6, 20), "header"),
        (date(2022, 7, 31), "text"), (date(2022, 6, 15), "text"),
    ]
    assert latest(fixture("article.html")) == date(2022, 6, 20)


def test_homepage_fixture_dates_leave_out_clock_and_footer() -> None:
    assert [(h.date, h.source) for h in fixture("portal_home.html")] == [
        (date(2022, 6, 20), "list-item"), (date(2022, 6, 17), "list-item"), (date(2022, 6, 15), "list-item"),
        (date(2022, 6, 10), "list-item"), (date(2022, 6, 8), "list-item"),
    ]


@pytest.mark.parametrize(("name", "expected"), [
    ("gbk_list.html", [date(2022, 6, 20), date(2022, 6, 16), date(2022, 5, 31)]),
    ("table_home.html", [date(2022, 6, 20), date(2022, 6, 18)]),
    ("iframe_nav.html", [date(2022, 6, 20)]),
    ("broken.html", [date(2022, 6, 20), date(2022, 6, 2)]),
], ids=["gbk-list-page-without-charset", "table-layout-homepage-with-yearless-dates", "iframe-homepage",
        "broken-markup"])
def test_list_fixture_dates(name: str, expected: list[date]) -> None:
    hits = fixture(name)
    assert [h.date for h in hits] == expected
    assert {h.source for h in hits} == {"list-item"}


def test_inspection_report_fixture_publication_date_beats_its_deadline() -> None:
    hits = fixture("inspection_report.html")
    assert [(h.date, h.source) for h in hits] == [
        (date(2022, 6, 28), "meta"), (date(2022, 6, 28), "header"), (date(2022, 7, 15), "text")]
    assert latest(hits) == date(2022, 6, 28)


# ------------------------------------------------------------------ dates in context (issue 10)

LAST_YEAR = TODAY.year - 1


def md(day: date) -> str:
    return f"{day.month:02d}-{day.day:02d}"


def row(href: str, shown: str, title: str = "关于做好政务公开工作的通知") -> str:
    return f"<ul><li><a href='{href}'>{title}</a><span class='date'>{shown}</span></li></ul>"


PAST = date(LAST_YEAR, 10, 9)


@pytest.mark.parametrize(("href", "expected"), [
    (f"/tzgg/{LAST_YEAR}10/t{LAST_YEAR}1009_123.html", PAST),           # TRS t-number
    (f"/art/{LAST_YEAR}/10/9/art_12_345.html", PAST),                   # TRS/Hanweb /art/Y/M/D/
    (f"/xwzx/{LAST_YEAR}-10/09/content_7.html", PAST),                  # /YYYY-MM/DD/
    (f"/tzgg/{LAST_YEAR}10/t{LAST_YEAR}1008_123.html", PAST),           # published the day after it was filed
    (f"/tzgg/{LAST_YEAR - 1}12/t{LAST_YEAR - 1}1231_9.html", date(LAST_YEAR - 1, 10, 9)),  # nearest to the URL
])
def test_a_year_less_list_date_takes_the_year_nearest_its_item_url(href: str, expected: date) -> None:
    assert found(row(href, "10-09")) == [(expected, "list-item")]
    assert found(row(href, "10月9日")) == [(expected, "list-item")]
    assert found(row(href, "[10-09]")) == [(expected, "list-item")]


def test_a_year_less_date_whose_url_puts_it_after_today_is_dropped() -> None:
    ahead = TODAY + 10 * DAY
    html = row(f"/art/{ahead.year}/{ahead.month}/{ahead.day}/art_1_2.html", md(ahead))
    assert found(html) == []


def test_without_a_url_date_the_year_comes_from_the_full_dates_of_the_same_list() -> None:
    html = (f"<ul><li><a href='/a/1.html'>甲</a><span>{LAST_YEAR - 2}-10-09</span></li>"
            "<li><a href='/a/2.html'>乙</a><span>10-08</span></li></ul>")
    assert found(html) == [(date(LAST_YEAR - 2, 10, 9), "list-item"), (date(LAST_YEAR - 2, 10, 8), "list-item")]


def test_without_any_hint_a_year_less_date_is_the_latest_not_after_today() -> None:
    earlier = TODAY - 3 * DAY
    assert found(row("/a/1.html", md(earlier))) == [(earlier, "list-item")]


@pytest.mark.parametrize(("title", "shown", "expected"), [
    ("关于{m}月{d}日开始报名的通知", "2020-05-06", [(date(2020, 5, 6), "list-item")]),     # 月日 in a headline
    ("关于{y}年{m}月{d}日起施行新办法的通知", "2020-05-06",
     [("headline", "text"), (date(2020, 5, 6), "list-item")]),                                # full date in a headline
    ("关于做好工作的通知（{y}-{m:02d}-{d:02d}）", "", [("headline", "list-item")]),           # bracketed at the edge
    ("关于做好工作的通知 {y}-{m:02d}-{d:02d}", "", [("headline", "list-item")]),             # at the row's edge
])
def test_a_date_inside_a_headline_is_not_the_items_date(title: str, shown: str, expected: list) -> None:
    recent = TODAY - 2 * DAY
    text = title.format(y=recent.year, m=recent.month, d=recent.day)
    html = f"<ul><li><a href='/a/1.html'>{text}</a>" + (f"<span>{shown}</span>" if shown else "") + "</li></ul>"
    assert found(html) == [(recent if day == "headline" else day, source) for day, source in expected]


def test_a_list_date_followed_by_a_time_of_day_is_the_items_date() -> None:
    assert found(row("/a/1.html", "2020-05-06 09:30")) == [(date(2020, 5, 6), "list-item")]


@pytest.mark.parametrize(("html", "expected"), [
    ("<div class='info'>发布时间：2020-05-06</div><p>培训时间：2020-06-01至2020-06-03</p>",
     [(date(2020, 5, 6), "header"), (date(2020, 6, 1), "text"), (date(2020, 6, 3), "text")]),
    ("<p>时间：2020-05-06</p><p>报名时间：2020年6月1日</p>", [(date(2020, 5, 6), "header"), (date(2020, 6, 1), "text")]),
    ("<p>日期：2020-05-06　来源：办公室</p>", [(date(2020, 5, 6), "header")]),
])
def test_an_articles_date_is_its_labelled_publication_date_not_an_events(html: str, expected: list) -> None:
    assert found(html) == expected
    assert latest(extract(html, "http://www.zgcy.gov.cn/a.html", today=TODAY).dates) == date(2020, 5, 6)


@pytest.mark.parametrize(("hits", "expected"), [
    ((DateHit(date(2020, 5, 6), "header"), DateHit(TODAY, "meta")), date(2020, 5, 6)),       # visible wins
    ((DateHit(date(2020, 5, 6), "list-item"), DateHit(TODAY, "meta")), date(2020, 5, 6)),
    ((DateHit(date(2020, 5, 6), "text"), DateHit(date(2020, 4, 1), "meta")), date(2020, 4, 1)),  # meta over text
    ((DateHit(date(2020, 5, 6), "text"),), date(2020, 5, 6)),
])
def test_the_date_a_reader_sees_wins_over_meta_and_meta_over_text(hits: tuple, expected: date) -> None:
    assert latest(hits) == expected


def test_a_meta_pubdate_that_disagrees_stays_recorded_beside_the_visible_date() -> None:
    html = (f"<html><head><meta name='PubDate' content='{TODAY:%Y-%m-%d} 08:00'></head><body>"
            "<div class='info'>发布日期：2020-05-06</div></body></html>")
    hits = extract(html, "http://www.zgcy.gov.cn/a.html", today=TODAY).dates
    assert [(h.date, h.source) for h in hits] == [(TODAY, "meta"), (date(2020, 5, 6), "header")]
    assert latest(hits) == date(2020, 5, 6)


def chunk_owners(html: str) -> tuple[list[tuple[str, str, str | None]], bool]:
    """(text, element tag, tag of the element it is the tail of) of each text chunk, and `whole`."""
    chunks = text_chunks(parse(html))
    return [(text, owner.tag, follows.tag if follows is not None else None)
            for text, (owner, follows) in zip(chunks.texts, chunks.owners)], chunks.whole


@pytest.mark.parametrize(("html", "expected", "whole"), [
    ("<p>a<b>x</b>c</p><div> </div>d", [("a", "p", None), ("x", "b", None), ("c", "p", "b"), ("d", "body", "div")],
     True),
    ("<p>a<script>var x = 1;</script>b<style>p {}</style>c</p>",
     [("a", "p", None), ("b", "p", "script"), ("c", "p", "style")], True),
    ("<p>a<noscript><i>n</i>m</noscript>b</p>", [("a", "p", None), ("b", "p", "noscript")], False),
    ("<form><textarea>t</textarea>u</form>", [("u", "form", "textarea")], False),
    ("<div>\u3000<span>2020-05-06</span>\n</div>", [("2020-05-06", "span", None)], True),
], ids=["text-and-tails-in-document-order", "script-and-style-text-out-their-tails-in",
        "noscript-subtree-out-and-not-whole", "textarea-out-and-not-whole", "blank-text-skipped"])
def test_text_chunks_are_the_visible_text_nodes_each_with_its_element(html: str, expected: list, whole: bool) -> None:
    assert chunk_owners(html) == (expected, whole)


@pytest.mark.parametrize(("html", "source"), [
    ("<p>发布日期：2020-05-06</p>", "header"),
    ("<p>发布日期： 【 2020-05-06】</p>", "header"),
    ("<p>更新于 2020-05-06</p>", "header"),
    ("<p>时间:\n2020-05-06</p>", "header"),
    ("<p>发布日期：【【2020-05-06</p>", "text"),
    ("<p>关于2020-05-06会议的通知</p>", "text"),
    ("<p>报名时间：2020-05-06</p>", "text"),
], ids=["colon", "spaces-and-a-bracket", "yu", "newline", "two-brackets-no-label", "words-no-label", "event-label"])
def test_a_label_ends_right_before_the_date(html: str, source: str) -> None:
    assert found(html) == [(date(2020, 5, 6), source)]


@pytest.mark.parametrize(("html", "expected"), [
    ("<p>发布日期：20200506</p>", [(date(2020, 5, 6), "header")]),
    ("<p>编号 20200506</p>", []),
], ids=["labelled-compact-date", "unlabelled-digits"])
def test_an_eight_digit_date_counts_only_after_a_label(html: str, expected: list) -> None:
    assert found(html) == expected
