"""View models: everything a template may use.

Templates receive these frozen dataclasses and nothing else (besides the
word lookups render.environment puts in the globals). Each field says what it
holds in its metadata, so the contract of every page is written down; a test
fails when a field has no help. Strings here are plain text: the templates
escape them. Built by reports.pages and reports.build from stored results only.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def doc(help_text: str) -> dict[str, str]:
    return {"help": help_text}


@dataclass(frozen=True)
class Link:
    label: str = field(metadata=doc("text of the link"))
    href: str = field(metadata=doc("relative URL of a page or file of the report set"))


@dataclass(frozen=True)
class Page:
    title: str = field(metadata=doc("report title from [report].title"))
    heading: str = field(metadata=doc("this page's own heading"))
    language: str = field(metadata=doc("report language: zh or en"))
    html_lang: str = field(metadata=doc("value of <html lang>: zh-CN or en"))
    root: str = field(metadata=doc("relative path from this page to the report set's root, ending in / or empty"))
    crumbs: tuple[Link, ...] = field(metadata=doc("breadcrumb links from the index down to this page's parent"))


@dataclass(frozen=True)
class Mark:
    status: str = field(metadata=doc("pass/warn/fail/error/skip, or '' when the check does not apply"))
    mark: str = field(metadata=doc("status mark readable without colour (✓ ! ✗ ? –)"))
    word: str = field(metadata=doc("status word in the report language"))
    summary: str = field(metadata=doc("the result's one-line message in the report language, '' if none"))
    raw: str = field(metadata=doc("the raw reason texts behind the summary's words (exception text), '' if none"))


@dataclass(frozen=True)
class StatusCount:
    status: str = field(metadata=doc("status id"))
    mark: str = field(metadata=doc("status mark"))
    word: str = field(metadata=doc("status word in the report language"))
    n: int = field(metadata=doc("number of results with this status"))


@dataclass(frozen=True)
class RunLine:
    id: str = field(metadata=doc("run id"))
    href: str = field(metadata=doc("link to the run page relative to the report root; '' when not rendered"))
    kind: str = field(metadata=doc("run kind in the report language"))
    started: str = field(metadata=doc("start time, local time zone, formatted"))
    finished: str = field(metadata=doc("finish time, local time zone, formatted"))
    duration_s: float = field(metadata=doc("run duration in seconds"))
    sites: int = field(metadata=doc("number of sites in the run"))
    counts: tuple[StatusCount, ...] = field(metadata=doc("results by status, in report order"))
    pass_rate: str = field(metadata=doc("share of decided results (not skipped) that passed, formatted, or —"))


@dataclass(frozen=True)
class Tick:
    pos: float = field(metadata=doc("position on its axis in SVG user units"))
    label: str = field(metadata=doc("tick label"))
    anchor: str = field(metadata=doc("SVG text-anchor of the label: start, middle or end"))


@dataclass(frozen=True)
class Point:
    x: float = field(metadata=doc("x in SVG user units"))
    y: float = field(metadata=doc("y in SVG user units"))
    label: str = field(metadata=doc("tooltip: run date and value"))


@dataclass(frozen=True)
class Series:
    name: str = field(metadata=doc("legend text"))
    css: str = field(metadata=doc("CSS class giving colour and dash pattern (c0…c3)"))
    path: str = field(metadata=doc("SVG path data of the line"))
    points: tuple[Point, ...] = field(metadata=doc("one dot per run with a value"))


@dataclass(frozen=True)
class Chart:
    title: str = field(metadata=doc("chart title"))
    width: int = field(metadata=doc("SVG viewBox width"))
    height: int = field(metadata=doc("SVG viewBox height"))
    left: int = field(metadata=doc("x of the plot area's left edge"))
    right: int = field(metadata=doc("x of the plot area's right edge"))
    top: int = field(metadata=doc("y of the plot area's top edge"))
    bottom: int = field(metadata=doc("y of the plot area's bottom edge (the x axis)"))
    x_ticks: tuple[Tick, ...] = field(metadata=doc("run dates along the x axis"))
    y_ticks: tuple[Tick, ...] = field(metadata=doc("values along the y axis"))
    series: tuple[Series, ...] = field(metadata=doc("the lines"))
    summary: str = field(metadata=doc("text alternative: first and last value of each line"))


@dataclass(frozen=True)
class Since:
    first_seen: str = field(metadata=doc("date of the first run of the current failing streak"))
    runs: int = field(metadata=doc("consecutive runs with a warn/fail result, this one included"))
    text: str = field(metadata=doc("the streak in words, e.g. 连续 3 次巡检"))
    new: bool = field(metadata=doc("True when this run is the first of the streak"))


@dataclass(frozen=True)
class Change:
    site_id: str = field(metadata=doc("config site id"))
    site_name: str = field(metadata=doc("site name"))
    href: str = field(metadata=doc("link to the check on the site page, relative to the page showing the change"))
    check_id: str = field(metadata=doc("check id"))
    title: str = field(metadata=doc("check title"))
    before: Mark = field(metadata=doc("the previous result of this site and check"))
    after: Mark = field(metadata=doc("this run's result"))
    direction: str = field(metadata=doc("worse or better"))


@dataclass(frozen=True)
class Changes:
    previous: RunLine | None = field(metadata=doc("the run compared with; None for a first run"))
    worse: tuple[Change, ...] = field(metadata=doc("results that got worse (pass→warn/fail, warn→fail)"))
    better: tuple[Change, ...] = field(metadata=doc("results that got better"))


@dataclass(frozen=True)
class MatrixGroup:
    name: str = field(metadata=doc("check family in the report language"))
    span: int = field(metadata=doc("number of columns in the family"))


@dataclass(frozen=True)
class MatrixColumn:
    check_id: str = field(metadata=doc("check id"))
    title: str = field(metadata=doc("check title; a column check shows its requirement's title"))


@dataclass(frozen=True)
class MatrixCell:
    mark: Mark = field(metadata=doc("the result, or an empty mark when the check does not apply"))
    href: str = field(metadata=doc("link to the check on the site page; '' for an empty cell"))


@dataclass(frozen=True)
class ScoreMark:
    total: str = field(metadata=doc("the site's score out of 100, formatted (at most [score] vetoed_max when vetoed)"))
    grade: str = field(metadata=doc("good / pass / fail (良好 / 合格 / 不合格)"))
    word: str = field(metadata=doc("the grade in the report language"))
    vetoed: bool = field(metadata=doc("True when a 单项否决 item failed"))
    partial: bool = field(metadata=doc("True when some results were not scored (error or skip)"))


@dataclass(frozen=True)
class SiteLine:
    site_id: str = field(metadata=doc("config site id"))
    name: str = field(metadata=doc("site name"))
    href: str = field(metadata=doc("link to the site page, relative to the run page"))
    vetoes: int = field(metadata=doc("fail results of veto severity (单项否决)"))
    fails: int = field(metadata=doc("fail results"))
    warns: int = field(metadata=doc("warn results"))
    errors: int = field(metadata=doc("undecided (error) results"))
    pass_rate: str = field(metadata=doc("the site's pass rate in this run, formatted"))
    worse: int = field(metadata=doc("results worse than in the previous run"))
    better: int = field(metadata=doc("results better than in the previous run"))
    trend: Chart | None = field(metadata=doc("sparkline of the site's pass rate over runs; None with one run"))
    cells: tuple[MatrixCell, ...] = field(metadata=doc("one cell per matrix column"))
    score: ScoreMark = field(metadata=doc("the site's score and grade in this run"))


@dataclass(frozen=True)
class Matrix:
    groups: tuple[MatrixGroup, ...] = field(metadata=doc("family header cells spanning their columns"))
    columns: tuple[MatrixColumn, ...] = field(metadata=doc("one column per check id in the run"))
    rows: tuple[SiteLine, ...] = field(metadata=doc("one row per site, worst sites first"))


@dataclass(frozen=True)
class Figure:
    name: str = field(metadata=doc("metric name as stored"))
    label: str = field(metadata=doc("metric name in the report language (the stored name when unknown)"))
    value: str = field(metadata=doc("formatted value"))
    href: str = field(metadata=doc("the value as a safe http(s) link target, else ''"))
    help: str = field(metadata=doc("definition of the metric, '' when none"))


@dataclass(frozen=True)
class EvidenceRow:
    url: str = field(metadata=doc("the URL concerned, cut to a readable length"))
    url_href: str = field(metadata=doc("url as a link target when http/https, else '' (never javascript:/data:)"))
    source: str = field(metadata=doc("the page it was found on, or ''"))
    source_href: str = field(metadata=doc("source as a safe link target, or ''"))
    detail: str = field(metadata=doc("kind, code or reason in words, as the check declares it"))
    detail_raw: str = field(metadata=doc("the stored machine detail when it says more (exception text), else ''"))
    text: str = field(metadata=doc("link text or snippet, cut"))
    expected: str = field(metadata=doc("expected value, or ''"))
    actual: str = field(metadata=doc("actual value, or ''"))


@dataclass(frozen=True)
class EvidenceTable:
    columns: tuple[str, ...] = field(metadata=doc("optional columns with content: source/detail/text/expected/actual"))
    rows: tuple[EvidenceRow, ...] = field(metadata=doc("evidence lines shown"))
    more: int = field(metadata=doc("evidence lines left out of the page (they are in the exports)"))


@dataclass(frozen=True)
class CheckView:
    check_id: str = field(metadata=doc("check id"))
    anchor: str = field(metadata=doc("fragment id of the check's section on the site page"))
    title: str = field(metadata=doc("check title"))
    family: str = field(metadata=doc("check family in the report language"))
    mark: Mark = field(metadata=doc("status and summary"))
    severity: str = field(metadata=doc("veto/major/minor"))
    severity_word: str = field(metadata=doc("severity in the report language"))
    basis: str = field(metadata=doc("clause of the seed or national rule"))
    description: str = field(metadata=doc("what the check requires, '' when the check is not registered"))
    highlights: tuple[Figure, ...] = field(metadata=doc("key figures shown large (ratios, dead links, age)"))
    figures: tuple[Figure, ...] = field(metadata=doc("every other metric"))
    evidence: EvidenceTable = field(metadata=doc("evidence lines"))
    since: Since | None = field(metadata=doc("how long it has been failing; None unless warn/fail"))


@dataclass(frozen=True)
class Dependent:
    anchor: str = field(metadata=doc("fragment id of the folded check's section on the site page"))
    title: str = field(metadata=doc("the folded check's title"))
    mark: Mark = field(metadata=doc("the folded check's status and summary"))
    reason: str = field(metadata=doc("why it is no item of its own, e.g. 首页无法访问，未能检查"))


@dataclass(frozen=True)
class Fix:
    anchor: str = field(metadata=doc("fragment id of the check's section on the site page"))
    title: str = field(metadata=doc("what is wrong in this case, e.g. 未启用 HTTPS, or a requirement and its defect"))
    severity: str = field(metadata=doc("veto/major/minor"))
    severity_word: str = field(metadata=doc("severity in the report language"))
    mark: Mark = field(metadata=doc("status and summary"))
    basis: str = field(metadata=doc("clause to cite in the notice"))
    since: Since | None = field(metadata=doc("how long it has been failing; None for undecided results"))
    evidence: tuple[EvidenceRow, ...] = field(metadata=doc("the first few evidence lines"))
    more: int = field(metadata=doc("further evidence lines, shown in the check's section"))
    advice: str = field(metadata=doc("整改建议: what to do, naming the page, link, host or DNS layer; '' if undecided"))
    deadline: str = field(metadata=doc("整改时限: the date (with its zone) to fix it by; '' for undecided results"))
    overdue: str = field(metadata=doc("'已逾期 N 天' when the run is past the deadline, else ''"))
    owner: str = field(metadata=doc("who must fix it: the site's owner from the config, else the site's name"))
    contact: str = field(metadata=doc("how to reach the owner, or 未指定 / not set"))
    dependents: tuple[Dependent, ...] = field(metadata=doc("results this finding explains, folded under it"))


@dataclass(frozen=True)
class Resolved:
    anchor: str = field(metadata=doc("fragment id of the check's section on the site page"))
    title: str = field(metadata=doc("what was wrong: the check's failure title"))
    before: Mark = field(metadata=doc("the result of the previous run (warn/fail)"))


@dataclass(frozen=True)
class ScoreItem:
    title: str = field(metadata=doc("check title; for a failed veto item what is wrong (e.g. 站点无法访问)"))
    href: str = field(metadata=doc("link to the check's section on the site page (#anchor)"))
    mark: Mark = field(metadata=doc("the result's status and summary"))
    points: str = field(metadata=doc("points this result lost before the indicator's cap, formatted; '' if none"))


@dataclass(frozen=True)
class ScoreDeduction:
    key: str = field(metadata=doc("the rule's key in [score.deduct]: a check id or family "
                                  "(the check id under a fallback rule)"))
    indicator: str = field(metadata=doc("the indicator in the report language: a family name or check title"))
    points: str = field(metadata=doc("points deducted for the indicator after its cap, formatted"))
    cap: str = field(metadata=doc("the most the indicator can lose, formatted"))
    capped: bool = field(metadata=doc("True when the items add up to more than the cap"))
    items: tuple[ScoreItem, ...] = field(metadata=doc("the warn/fail results that lost points here"))


@dataclass(frozen=True)
class ScoreView:
    mark: ScoreMark = field(metadata=doc("total and grade"))
    points: str = field(metadata=doc("100 minus the deductions, before a veto caps the total, formatted"))
    deducted: str = field(metadata=doc("the sum of the deductions, formatted"))
    vetoes: tuple[ScoreItem, ...] = field(metadata=doc("the failed 单项否决 items"))
    deductions: tuple[ScoreDeduction, ...] = field(metadata=doc("扣分 by indicator, largest first"))
    unscored: tuple[ScoreItem, ...] = field(metadata=doc("未评分: error and skip results, which lose nothing"))
    rule: str = field(metadata=doc("one sentence on how the score is made: marks and the veto cap from [score]"))


@dataclass(frozen=True)
class WorstSite:
    name: str = field(metadata=doc("site name"))
    href: str = field(metadata=doc("link to the site page, relative to the run page"))
    score: ScoreMark = field(metadata=doc("the site's score and grade"))


@dataclass(frozen=True)
class RollupRow:
    group: str = field(metadata=doc("all / city / county / department: all sites, the city-level portals, "
                                    "county-level sites, city-level department sites"))
    label: str = field(metadata=doc("the group in the report language"))
    sites: int = field(metadata=doc("sites in the group"))
    passed: int = field(metadata=doc("sites graded 合格 or 良好"))
    vetoed: int = field(metadata=doc("sites with a failed 单项否决 item"))
    partial: int = field(metadata=doc("sites with results not scored (error or skip)"))
    average: str = field(metadata=doc("mean score of the group's sites, formatted"))
    worst: tuple[WorstSite, ...] = field(metadata=doc("up to three lowest-scoring sites below 100, lowest first"))


@dataclass(frozen=True)
class IndexView:
    page: Page = field(metadata=doc("page frame"))
    runs: tuple[RunLine, ...] = field(metadata=doc("complete runs, newest first"))
    trends: tuple[Chart, ...] = field(metadata=doc("charts over runs: pass rate, dead links, IPv6 when present"))


@dataclass(frozen=True)
class RunView:
    page: Page = field(metadata=doc("page frame"))
    run: RunLine = field(metadata=doc("this run"))
    pages_crawled: int = field(metadata=doc("pages crawled over all sites"))
    vetoes: int = field(metadata=doc("fail results of veto severity over all sites"))
    changes: Changes = field(metadata=doc("what got better or worse since the previous run"))
    matrix: Matrix = field(metadata=doc("sites × checks, worst sites first"))
    trends: tuple[Chart, ...] = field(metadata=doc("charts over runs up to this one"))
    downloads: tuple[Link, ...] = field(metadata=doc("the run's exports: xlsx, CSV, JSON"))
    rollups: tuple[RollupRow, ...] = field(metadata=doc("scores by level and kind: all sites first, "
                                                        "empty groups left out"))
    score_rule: str = field(metadata=doc("one sentence on how sites are scored: marks and the veto cap from [score]"))


@dataclass(frozen=True)
class CrawlNote:
    text: str = field(metadata=doc("one sentence on the crawl in the report language"))
    examples: tuple[str, ...] = field(metadata=doc("a few URLs concerned, as text"))


@dataclass(frozen=True)
class SiteView:
    page: Page = field(metadata=doc("page frame"))
    run: RunLine = field(metadata=doc("the run this page belongs to"))
    site_id: str = field(metadata=doc("config site id"))
    name: str = field(metadata=doc("site name"))
    url: str = field(metadata=doc("site homepage URL as text"))
    url_href: str = field(metadata=doc("homepage as a safe link target, or ''"))
    kind: str = field(metadata=doc("site kind id"))
    level: str = field(metadata=doc("site level id"))
    pages_crawled: int = field(metadata=doc("pages crawled on this site in this run"))
    crawl_notes: tuple[CrawlNote, ...] = field(metadata=doc("what cut the crawl short: traps, robots, bounds"))
    counts: tuple[StatusCount, ...] = field(metadata=doc("this site's results by status"))
    owner: str = field(metadata=doc("who must fix the site's findings: owner from the config, else the site's name"))
    contact: str = field(metadata=doc("how to reach the owner, or 未指定 / not set"))
    fixes: tuple[Fix, ...] = field(metadata=doc("整改清单: warn/fail results no other finding explains, veto > major > "
                                                "minor, then fail > warn; explained results folded under their cause"))
    undecided: tuple[Fix, ...] = field(metadata=doc("error results no finding explains, to verify by hand"))
    resolved: tuple[Resolved, ...] = field(metadata=doc("已整改: warn/fail in the previous run, pass in this one"))
    changes: Changes = field(metadata=doc("this site's changes since the previous run"))
    checks: tuple[CheckView, ...] = field(metadata=doc("every check of the site, failures first"))
    trends: tuple[Chart, ...] = field(metadata=doc("this site's charts over runs"))
    score: ScoreView = field(metadata=doc("the site's score: 单项否决, 扣分 by indicator, 未评分"))


@dataclass(frozen=True)
class PrintSite:
    site_id: str = field(metadata=doc("config site id"))
    name: str = field(metadata=doc("site name"))
    url: str = field(metadata=doc("site homepage URL as text"))
    url_href: str = field(metadata=doc("homepage as a safe link target, or ''"))
    line: SiteLine = field(metadata=doc("the site's row of the summary: counts and pass rate"))
    pages_crawled: int = field(metadata=doc("pages crawled on this site in this run"))
    crawl_notes: tuple[CrawlNote, ...] = field(metadata=doc("what cut the crawl short: traps, robots, bounds"))
    owner: str = field(metadata=doc("who must fix the site's findings: owner from the config, else the site's name"))
    contact: str = field(metadata=doc("how to reach the owner, or 未指定 / not set"))
    fixes: tuple[Fix, ...] = field(metadata=doc("整改清单, in the site page's order, with more evidence lines"))
    undecided: tuple[Fix, ...] = field(metadata=doc("error results no finding explains, to verify by hand"))
    resolved: tuple[Resolved, ...] = field(metadata=doc("已整改: warn/fail in the previous run, pass in this one"))


@dataclass(frozen=True)
class PrintView:
    page: Page = field(metadata=doc("page frame; heading is the document's title line"))
    run: RunLine = field(metadata=doc("this run"))
    timezone: str = field(metadata=doc("time zone of every time shown, as configured ([schedule] timezone)"))
    pages_crawled: int = field(metadata=doc("pages crawled over all sites"))
    vetoes: int = field(metadata=doc("fail results of veto severity over all sites"))
    changes: Changes = field(metadata=doc("what got better or worse since the previous run"))
    matrix: Matrix = field(metadata=doc("sites × checks, worst sites first"))
    sites: tuple[PrintSite, ...] = field(metadata=doc("one section per site, in the matrix's order"))
    page_numbers: str = field(metadata=doc("CSS content value of the page-number footer (第 N 页 / 共 M 页)"))
