"""columns:update (栏目不更新) and columns:blank (空白栏目) — every column of a site, as the
national 政府网站与政务新媒体检查指标 (国办秘函〔2019〕19号) judges them.

A site's columns are the links of its homepage navigation (first level: tag `a`,
context nav, in the site's scope, not the homepage itself) and the sub-navigation
links (context subnav) on each first-level column's own page (second level, e.g.
政务公开/信息公开's sub-columns). Each column is classified by its title into the
config's update classes (`[[checks.column_classes]]`, first match in table order;
none: "other"); a class without `max_age_days` is exempt (专题, 历史).

A column's newest item is the newest date of its own list over its list pages
(checks.lists, the rule of `column:<req>`: never a sidebar 最新动态 box), else the
dated header of a single-page column. A judged column is late past its class's
period; an "other" column is long unupdated (应更新但长期未更新) past
`columns_other_max_age_days`. A column whose page shows no item at all and says so
(暂无信息, 栏目建设中…: `Page.placeholder`) is blank; it is judged by
columns:blank, not as late. A column outside the crawl (another host, not crawled)
is listed, not judged.

Pure: no I/O, no clock (`taken_at` is now).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.columns import CrawlIndex, column_contents, normalise
from checks.freshness import answered, homepage_chain, homepage_urls
from checks.snapshot import Page, SiteSnapshot

OTHER = "other"
OTHER_LABEL = "其他栏目（不按类判定）"
EVIDENCE_MAX = 200      # classification rows kept in a result: a portal has at most a few dozen columns


@dataclass(frozen=True)
class ColumnClass:
    id: str
    label: str
    keywords: tuple[str, ...]
    max_age_days: int | None


@dataclass(frozen=True)
class SiteColumn:
    """One column of the site as the checks see it."""

    url: str
    text: str
    level: int                       # 1 navigation, 2 sub-navigation of a first-level column
    source: str                      # the page its link was found on
    cls: ColumnClass
    state: str                       # judged | exempt | other | unfetched | offsite | no_items | blank
    items: int = 0
    latest: date | None = None
    age: int | None = None
    late: bool = False               # a judged column past its class's period
    long: bool = False               # an "other" column past columns_other_max_age_days
    placeholder: str = ""            # the wording that shows it blank


def classes_of(params: Mapping[str, Any]) -> tuple[ColumnClass, ...]:
    """The update classes of the config's [checks] (monitor.config's shipped defaults when absent)."""
    return tuple(ColumnClass(str(c["id"]), str(c["label"]), tuple(normalise(k) for k in c["keywords"] if normalise(k)),
                             c.get("max_age_days")) for c in params.get("column_classes") or ())


def classify(title: str, classes: Sequence[ColumnClass]) -> ColumnClass:
    """The first class whose keyword the normalised title holds; else "other" (not judged by class)."""
    folded = normalise(title)
    for cls in classes:
        if any(word in folded for word in cls.keywords):
            return cls
    return ColumnClass(OTHER, OTHER_LABEL, (), None)


def _column_links(snap: SiteSnapshot, crawl: CrawlIndex, sources: Sequence[str], context: str,
                  skip: set[str]) -> list[tuple[str, str, str]]:
    """(target, text, source) of the distinct in-page column links of `context` on the `sources` pages."""
    found: list[tuple[str, str, str]] = []
    for source in dict.fromkeys(sources):       # each page once, in the order given
        for link in crawl.out.get(source, ()):
            target = link.target_url
            if link.tag != "a" or link.context != context or not link.text.strip() or target in skip:
                continue
            skip.add(target)
            found.append((target, link.text.strip(), link.source_url))
    return found


def site_columns(snap: SiteSnapshot, params: Mapping[str, Any]) -> tuple[SiteColumn, ...] | None:
    """Every column of the site, first level then second, classified and dated; None without a homepage."""
    chain = homepage_chain(snap)
    if not chain or not answered(chain[-1]):
        return None
    crawl = CrawlIndex(snap)
    today = snap.taken_at.date()
    classes = classes_of(params)
    other_max = int(params.get("columns_other_max_age_days", 365))
    home = homepage_urls(chain)
    skip = set(home) | {snap.site.url}
    first = _column_links(snap, crawl, [u for p in chain for u in (p.url, p.final_url)], "nav", skip)
    columns = [_examine(crawl, url, text, 1, source, classify(text, classes), today, other_max)
               for url, text, source in first]
    for column in list(columns):
        page = crawl.pages.get(column.url)
        if column.level == 1 and page is not None and answered(page):
            for url, text, source in _column_links(snap, crawl, [page.url, page.final_url], "subnav", skip):
                columns.append(_examine(crawl, url, text, 2, source, classify(text, classes), today, other_max))
    return tuple(columns)


def _examine(crawl: CrawlIndex, url: str, text: str, level: int, source: str, cls: ColumnClass, today: date,
             other_max: int) -> SiteColumn:
    page = crawl.pages.get(url)
    if not crawl.scope.covers(url):
        return SiteColumn(url, text, level, source, cls, "offsite")
    if page is None or not answered(page) or (page.content_type and "html" not in page.content_type):
        return SiteColumn(url, text, level, source, cls, "unfetched")
    contents = column_contents(crawl, page, today)
    latest = contents.latest or _header_date(page, today)
    if contents.items == 0 and latest is None:
        state = "blank" if page.placeholder else "no_items"
        return SiteColumn(url, text, level, source, cls, state, placeholder=page.placeholder)
    age = (today - latest).days if latest is not None else None
    if cls.id == OTHER:
        return SiteColumn(url, text, level, source, cls, "other", contents.items, latest, age,
                          long=age is not None and age > other_max)
    if cls.max_age_days is None:
        return SiteColumn(url, text, level, source, cls, "exempt", contents.items, latest, age)
    return SiteColumn(url, text, level, source, cls, "judged", contents.items, latest, age,
                      late=age is not None and age > cls.max_age_days)


def _header_date(page: Page, today: date) -> date | None:
    """The dated header of a single-page column (an article-like page without a list)."""
    days = [hit.date for hit in page.dates if hit.source == "header" and hit.date <= today]
    return max(days, default=None)


STATE_WORDS = {
    "judged": T(zh="按类判定", en="judged by its class"),
    "exempt": T(zh="不考核更新", en="exempt from updates"),
    "other": T(zh="仅看是否长期未更新", en="judged for long neglect only"),
    "unfetched": T(zh="未能抓取，未判定", en="not crawled, not judged"),
    "offsite": T(zh="在其他网站，未判定", en="on another site, not judged"),
    "no_items": T(zh="无日期列表，未判定", en="no dated list, not judged"),
    "blank": T(zh="空白栏目", en="blank column"),
}


def _row(column: SiteColumn) -> Evidence:
    latest = column.latest.isoformat() if column.latest else ""
    detail = (f"level {column.level}; class {column.cls.id}; {column.state}; items {column.items}"
              + (f"; latest {latest}; age {column.age}" if latest else ""))
    params: dict[str, Any] = {"level": column.level, "cls": column.cls.label, "state": column.state}
    if latest:
        params.update(latest=latest, age=column.age)
    return Evidence(url=column.url, source=column.source, detail=detail, text=column.text, actual=latest or None,
                    key="column" if latest else "column_undated", params=params)


def _late(column: SiteColumn, other_max: int) -> Evidence:
    latest = column.latest.isoformat() if column.latest else ""
    limit = column.cls.max_age_days if column.late else other_max
    return Evidence(url=column.url, source=column.source, text=column.text, actual=latest,
                    detail=f"{'late' if column.late else 'long'}: class {column.cls.id}; latest {latest}; "
                           f"age {column.age}; limit {limit}",
                    key="late" if column.late else "long",
                    params={"cls": column.cls.label, "latest": latest, "age": column.age, "max_age": limit})


NO_HOMEPAGE = T(zh="首页未能打开，无法识别栏目", en="The homepage did not open; cannot find the columns")
NO_COLUMNS = T(zh="首页导航中未识别出栏目，无法判断", en="No column found in the homepage navigation; cannot decide")
COLUMN_DETAILS = {
    "column": T(zh="第{level}级栏目 · {cls} · {state} · 最新 {latest}（{age} 天前）",
                en="Level {level} column · {cls} · {state} · latest {latest} ({age} days ago)"),
    "column_undated": T(zh="第{level}级栏目 · {cls} · {state}", en="Level {level} column · {cls} · {state}"),
}


def _counts(columns: Sequence[SiteColumn]) -> dict[str, int]:
    return {"columns": len(columns), "judged": sum(c.state == "judged" for c in columns),
            "exempt": sum(c.state == "exempt" for c in columns),
            "unexamined": sum(c.state in ("unfetched", "offsite", "no_items") for c in columns)}


@check(id="columns:update",
       title=T(zh="栏目更新", en="Column updates"),
       failure_title=T(zh="栏目不更新", en="Columns not updated"),
       description=T(
           zh="从首页导航和各一级栏目的子栏目导航识别网站的全部栏目，按栏目名称归入更新类别（动态、要闻类 2 周；"
              "通知公告、政策文件类 6 个月；人事、规划计划类 1 年；专题、历史类不考核；类别表可在配置中修改），"
              "以栏目自身列表（不含侧栏“最新动态”等）的最新一条判断是否超期。超期栏目累计 5 个（含）以上，"
              "或应更新而长期（其他栏目 1 年）未更新的栏目累计 10 个（含）以上，单项否决；有 1 个即警告。"
              "证据列出每个栏目的归类，便于检查人员核对并在配置中更正。",
           en="Finds every column of the site in the homepage navigation and each first-level column's "
              "sub-navigation, classes it by title (动态/要闻 2 weeks, 通知公告/政策文件 6 months, 人事/规划计划 "
              "1 year, 专题/历史 exempt; the table is in the config) and dates it by the newest item of its own "
              "list (never a sidebar box). 5 or more late columns, or 10 or more columns that should be updated "
              "and are not (other columns: 1 year), are a veto; one warns. The evidence lists every column's "
              "class, so an inspector can correct it in the config."),
       basis="国办秘函〔2019〕19号 单项否决：栏目不更新", severity=Severity.VETO, needs={"crawl"},
       messages={
           "columns.update_ok": T(zh="{columns} 个栏目均按期更新（按类判定 {judged} 个）",
                                  en="All {columns} columns are up to date ({judged} judged by class)"),
           "columns.update_late": T(zh="{late} 个栏目超期未更新，{long} 个栏目长期未更新（共 {columns} 个栏目）",
                                    en="{late} columns are past their update period and {long} long unupdated "
                                       "({columns} columns)"),
           "columns.update_veto": T(zh="栏目不更新：{late} 个栏目超期未更新，{long} 个栏目长期未更新"
                                       "（超期 {late_veto} 个或合计 {stale_veto} 个即否决）",
                                    en="Columns not updated: {late} past their period, {long} long unupdated "
                                       "(veto at {late_veto} late or {stale_veto} in all)"),
           "columns.no_homepage": NO_HOMEPAGE, "columns.none": NO_COLUMNS,
       },
       metrics={"columns": M("栏目数", "Columns"), "judged": M("按类判定的栏目", "Judged by class"),
                "exempt": M("不考核的栏目", "Exempt columns"),
                "unexamined": M("未判定的栏目", "Columns not judged",
                                help=T(zh="在其他网站、未能抓取或没有日期列表", en="on another site, not crawled or "
                                                                            "without a dated list")),
                "late": M("超期未更新", "Past their period"), "long": M("长期未更新", "Long unupdated"),
                "stale": M("应更新未更新合计", "Should be updated, are not")},
       details={**COLUMN_DETAILS,
                "late": T(zh="{cls}栏目最新信息 {latest}，已 {age} 天未更新（时限 {max_age} 天）",
                          en="{cls} column: latest {latest}, {age} days ago (limit {max_age} days)"),
                "long": T(zh="{cls}：最新信息 {latest}，已 {age} 天未更新（超过 {max_age} 天）",
                          en="{cls}: latest {latest}, {age} days ago (over {max_age} days)")},
       words=STATE_WORDS, coded={"state": "words"})
def columns_update(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    columns = site_columns(snap, params)
    if columns is None:
        return Verdict(Status.ERROR, "columns.no_homepage")
    if not columns:
        return Verdict(Status.ERROR, "columns.none")
    other_max = int(params.get("columns_other_max_age_days", 365))
    late = [c for c in columns if c.late]
    long = [c for c in columns if c.long]
    late_veto, stale_veto = int(params.get("columns_late_veto", 5)), int(params.get("columns_stale_veto", 10))
    metrics = {**_counts(columns), "late": len(late), "long": len(long), "stale": len(late) + len(long)}
    evidence = tuple(_late(c, other_max) for c in (*late, *long)) + tuple(_row(c) for c in columns[:EVIDENCE_MAX])
    shown = {"columns": len(columns), "judged": metrics["judged"], "late": len(late), "long": len(long),
             "late_veto": late_veto, "stale_veto": stale_veto}
    if len(late) >= late_veto or len(late) + len(long) >= stale_veto:
        return Verdict(Status.FAIL, "columns.update_veto", shown, metrics, evidence)
    if late or long:
        return Verdict(Status.WARN, "columns.update_late", shown, metrics, evidence)
    return Verdict(Status.PASS, "columns.update_ok", shown, metrics, evidence)


@check(id="columns:blank",
       title=T(zh="空白栏目", en="Blank columns"),
       failure_title=T(zh="存在空白栏目", en="Blank columns"),
       description=T(
           zh="导航和子栏目导航中的栏目（识别方法同“栏目更新”），其页面没有任何信息条目并显示“暂无信息”、"
              "“栏目建设中”等字样的，为空白栏目。5 个（含）以上单项否决，有 1 个即警告。",
           en="A column of the navigation or sub-navigation (found as for column updates) whose page has no "
              "item at all and says so (暂无信息, 栏目建设中…) is blank. 5 or more are a veto; one warns."),
       basis="国办秘函〔2019〕19号 单项否决：空白栏目", severity=Severity.VETO, needs={"crawl"},
       messages={
           "columns.blank_ok": T(zh="{columns} 个栏目中没有空白栏目", en="No blank column among {columns} columns"),
           "columns.blank_some": T(zh="{blank} 个空白栏目（共 {columns} 个栏目；{veto} 个即否决）",
                                   en="{blank} blank columns ({columns} columns; veto at {veto})"),
           "columns.blank_veto": T(zh="空白栏目 {blank} 个，达到 {veto} 个的否决线",
                                   en="{blank} blank columns, at or over the veto line of {veto}"),
           "columns.no_homepage": NO_HOMEPAGE, "columns.none": NO_COLUMNS,
       },
       metrics={"columns": M("栏目数", "Columns"), "judged": M("按类判定的栏目", "Judged by class"),
                "exempt": M("不考核的栏目", "Exempt columns"),
                "unexamined": M("未判定的栏目", "Columns not judged"), "blank": M("空白栏目", "Blank columns")},
       details={"blank": T(zh="空白栏目“{title}”，页面显示：{shown}", en="Blank column “{title}”; the page says: "
                                                                     "{shown}")})
def columns_blank(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    columns = site_columns(snap, params)
    if columns is None:
        return Verdict(Status.ERROR, "columns.no_homepage")
    if not columns:
        return Verdict(Status.ERROR, "columns.none")
    blank = [c for c in columns if c.state == "blank"]
    veto = int(params.get("columns_blank_veto", 5))
    metrics = {**_counts(columns), "blank": len(blank)}
    evidence = tuple(Evidence(url=c.url, source=c.source, text=c.placeholder, detail=f"blank: {c.text}",
                              key="blank", params={"title": c.text, "shown": c.placeholder}) for c in blank)
    shown = {"columns": len(columns), "blank": len(blank), "veto": veto}
    if len(blank) >= veto:
        return Verdict(Status.FAIL, "columns.blank_veto", shown, metrics, evidence)
    if blank:
        return Verdict(Status.WARN, "columns.blank_some", shown, metrics, evidence)
    return Verdict(Status.PASS, "columns.blank_ok", shown, metrics, evidence)
