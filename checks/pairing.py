"""pairing:<requirement id> — policy documents (规章, 行政规范性文件) published with their
解读, linked both ways (政策文件与解读材料同步发布).

The columns are found as `column:` finds a column (checks.columns: link text or
page title holding a keyword, a list page, not a headline); every accepted
column that is a list is read with its pagination. Its items are the documents,
except items that are themselves 解读 (their title holds a pair word). A document
is paired when
- its page links a 解读 outside the navigation, header and footer: the link text
  or the crawled target's title holds a pair word (解读, 图解, 一图读懂, 答记者问 or
  the requirement's `pair_keywords`; a 相关链接/附件 box counts), and the target is
  not a column (a crawled list page, or a short text to a directory URL such as
  the sidebar's 政策解读 column); or
- a 解读 page (titled so, or linked by such a text) links to the document: the
  separate 政策解读 column whose items link back.
A document whose page the crawl did not reach and that no 解读 links is not
examined. Below `min_ratio` of the examined documents paired fails.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.columns import (
    CrawlIndex,
    column_candidates,
    column_contents,
    normalise,
    requirement_keywords,
    same_page,
)
from checks.snapshot import Link, RequirementInfo, SiteSnapshot

PAIR_WORDS = ("解读", "图解", "一图读懂", "答记者问")
CHROME = frozenset({"nav", "subnav", "header", "footer"})
DIRECTORY = re.compile(r"(/|/index\.s?html?|/col/col\d+/?|/col\d+/?)$")
BARE_MAX = 6             # characters of a link text that is a column name rather than a 解读's title
SHOWN = 20


def _words(req: RequirementInfo) -> tuple[str, ...]:
    return tuple(w for w in (normalise(k) for k in (req.pair_keywords or PAIR_WORDS)) if w)


def _says(text: str, words: tuple[str, ...]) -> bool:
    folded = normalise(text)
    return bool(folded) and any(w in folded for w in words)


def _head(title: str) -> str:
    return re.split(r"[_|｜]", title, maxsplit=1)[0]


class _Pairs:
    """Which crawled pages are 解读, and what each links to."""

    def __init__(self, crawl: CrawlIndex, words: tuple[str, ...]) -> None:
        self.crawl, self.words = crawl, words
        named = {link.target_url for link in crawl.snap.links
                 if link.tag in ("a", "area") and link.context not in CHROME and _says(link.text, words)}
        self.back: dict[str, str] = {}       # document URL -> a 解读 page linking it
        for page in crawl.snap.pages_in_order:   # a document several 解读 link: the first in reading order
            if page.depth == 0 or not (_says(_head(page.title), words) or page.url in named
                                       or page.final_url in named):
                continue
            if crawl.shape(page) != "article":
                continue
            for link in crawl.links_of(page):
                if link.tag in ("a", "area") and link.context not in CHROME:
                    self.back.setdefault(link.target_url, page.final_url)

    def _is_jiedu(self, link: Link, document: str) -> bool:
        if link.tag not in ("a", "area") or link.context in CHROME or link.target_url == document:
            return False
        target = self.crawl.pages.get(link.target_url)
        if target is not None and self.crawl.shape(target) == "list":
            return False
        if _says(link.text, self.words):
            return not (len(normalise(link.text)) <= BARE_MAX and DIRECTORY.search(link.target_url))
        return target is not None and _says(_head(target.title), self.words)

    def of(self, document: str) -> tuple[str, str]:
        """("paired", 解读 URL) | ("unpaired", "") | ("unexamined", "")."""
        page = self.crawl.pages.get(document)
        if page is not None and page.status is not None and 200 <= page.status < 300:
            found = next((lk for lk in self.crawl.links_of(page) if self._is_jiedu(lk, document)), None)
            if found is not None:
                return "paired", found.target_url
        if document in self.back:
            return "paired", self.back[document]
        return ("unpaired", "") if page is not None else ("unexamined", "")


def judge(snap: SiteSnapshot, req: RequirementInfo) -> Verdict:
    today = snap.taken_at.date()
    crawl = CrawlIndex(snap)
    if crawl.home is None or crawl.home.status is None or not 200 <= crawl.home.status < 400:
        return Verdict(Status.ERROR, "pairing.no_homepage", {"title": req.title})
    words = _words(req)
    columns = {same_page(c.url): c for c in column_candidates(crawl, requirement_keywords(req))
               if not c.reason and c.shape == "list" and c.page is not None}
    if not columns:
        return Verdict(Status.FAIL, "pairing.no_column", {"title": req.title})
    pairs = _Pairs(crawl, words)
    documents: dict[str, tuple[str, str]] = {}           # URL -> (title, column)
    for url, column in columns.items():
        assert column.page is not None
        for item, title in column_contents(crawl, column.page, today).entries:
            if not _says(title, words):
                documents.setdefault(item, (title, url))
    verdicts = {url: pairs.of(url) for url in documents}
    paired = [u for u, (state, _) in verdicts.items() if state == "paired"]
    unpaired = [u for u, (state, _) in verdicts.items() if state == "unpaired"]
    examined = len(paired) + len(unpaired)
    ratio = round(len(paired) / examined, 3) if examined else 0.0
    metrics: dict[str, Any] = {"columns": len(columns), "column_url": next(iter(columns)),
                               "documents": len(documents), "examined": examined, "paired": len(paired),
                               "unpaired": len(unpaired), "ratio": ratio, "min_ratio": req.min_ratio}
    evidence = [Evidence(url=url, source=c.links[0].source_url if c.links else None, detail="column",
                         text=c.links[0].text if c.links else None, key="column") for url, c in columns.items()]
    evidence += [Evidence(url=u, source=documents[u][1], text=documents[u][0], detail="unpaired", key="unpaired")
                 for u in unpaired[:SHOWN]]
    evidence += [Evidence(url=u, source=documents[u][1], text=documents[u][0], actual=verdicts[u][1],
                          detail=f"paired: {verdicts[u][1]}", key="paired", params={"jiedu": verdicts[u][1]})
                 for u in paired[:SHOWN]]
    params: dict[str, Any] = {"title": req.title, "documents": len(documents), "examined": examined,
                              "paired": len(paired), "unpaired": len(unpaired),
                              "percent": round(ratio * 100), "min_percent": round(req.min_ratio * 100)}
    if not documents:
        return Verdict(Status.PASS, "pairing.no_documents", params, metrics, tuple(evidence))
    if not examined:
        return Verdict(Status.ERROR, "pairing.unexamined", params, metrics, tuple(evidence))
    if ratio < req.min_ratio:
        return Verdict(Status.FAIL, "pairing.low", params, metrics, tuple(evidence))
    return Verdict(Status.PASS, "pairing.ok", params, metrics, tuple(evidence))


PAIRING_MESSAGES = {
    "pairing.ok": T(zh="“{title}”：{examined} 件文件中 {paired} 件附有解读",
                    en="“{title}”: {paired} of {examined} documents come with a 解读"),
    "pairing.low": T(zh="“{title}”：{examined} 件文件中 {unpaired} 件没有关联解读（已关联 {percent}%，要求 {min_percent}%）",
                     en="“{title}”: {unpaired} of {examined} documents have no linked 解读 ({percent}% paired, "
                        "{min_percent}% required)"),
    "pairing.no_column": T(zh="未找到“{title}”所指的政策文件栏目", en="No policy document column for “{title}” found"),
    "pairing.no_documents": T(zh="“{title}”：政策文件栏目中没有文件", en="“{title}”: the column holds no documents"),
    "pairing.unexamined": T(zh="“{title}”：{documents} 件文件的页面均不在抓取范围内，未能核查解读",
                            en="“{title}”: none of the {documents} documents' pages was crawled; 解读 not examined"),
    "pairing.no_homepage": T(zh="首页未能打开，无法核查“{title}”", en="The homepage did not open; cannot check “{title}”"),
}
PAIRING_METRICS = {
    "columns": M("政策文件栏目数", "Columns"), "column_url": M("栏目地址", "Column URL"),
    "documents": M("文件数", "Documents"), "examined": M("已核查文件数", "Documents examined"),
    "paired": M("附有解读的文件数", "With a 解读"), "unpaired": M("没有解读的文件数", "Without a 解读"),
    "ratio": M("解读关联率", "Share paired"), "min_ratio": M("要求的关联率", "Share required"),
}
PAIRING_DETAILS = {
    "column": T(zh="政策文件栏目", en="Policy document column"),
    "unpaired": T(zh="没有关联解读", en="No linked 解读"),
    "paired": T(zh="解读：{jiedu}", en="解读: {jiedu}"),
}


@check(id="pairing", parameterised=True,
       title=T(zh="政策文件与解读关联", en="Policies published with their 解读"),
       failure_title=T(zh="政策文件缺少关联解读", en="Policy documents without a linked 解读"),
       description=T(
           zh="在政策文件栏目（按关键词查找，如政策文件、规范性文件）中逐件核查：文件页面链接了解读、图解或答记者问"
              "（正文、相关链接或附件区域，导航除外），或解读页面链接回该文件，即视为关联。关联率低于要求判不合格，"
              "证据列出未关联解读的文件。",
           en="In the policy document columns (found by keywords such as 政策文件, 规范性文件) each document counts "
              "as paired when its page links a 解读, 图解 or 答记者问 (in the body, a related-links or attachment "
              "box; navigation aside) or a 解读 page links back to it. A share below the requirement fails; the "
              "evidence lists the documents without one."),
       basis="", severity=Severity.MAJOR, needs={"crawl"}, messages=PAIRING_MESSAGES,
       metrics=PAIRING_METRICS, details=PAIRING_DETAILS)
def pairing(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    return judge(snap, params["requirement"])
