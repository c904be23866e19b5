"""links:hidden — 暗链: links to other sites that a reader never sees; links:turned —
links to other sites whose target became a parked, gambling or adult site.

links:turned reads what the link check saw at each off-site `a`/`area`/`iframe`
target: a live HTML page the link check classified (checks/turned.py, kept in the
target's detail). Any such link fails (the checklist's 链接色情、赌博 veto).

links:hidden:

The crawl notes, on each page, the `a` links to another host that sit in an
element hidden by the `hidden` attribute, an inline style or a rule of the
page's own <style> blocks (display:none, visibility:hidden, zero size with
overflow hidden, off-screen; spiders/hidden.py; rules inside @media are not
read, so a menu hidden on small screens only is not hidden, and neither are
rules another rule undoes, as for a drop-down menu). For its other links to
another host it notes their hooks (tag, id, classes of the link and its
ancestors) and the page's linked style sheets; the crawl fetches each sheet on
the site's hosts once and keeps its hiding rules with its record. A link that
a rule of one of its page's sheets selects (checks.cssrules) is hidden too; a
sheet that did not load hides nothing. Here those whose target is outside the
site's scope (checks.scope) are findings, each target once with the first
page it was found on. A hidden menu linking the site's own pages (a mobile
menu) is no finding. Any finding fails: the checklist counts 暗链 among the
安全 vetoes.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.cssrules import SheetRules
from checks.freshness import answered
from checks.scope import site_scope
from checks.snapshot import Page, SiteSnapshot
from checks.turned import parse as parse_turned

EVIDENCE_MAX = 100
WAYS = {"display:none": T(zh="不显示（display:none）", en="display:none"),
        "visibility:hidden": T(zh="不可见（visibility:hidden）", en="visibility:hidden"),
        "zero size": T(zh="零尺寸且溢出隐藏", en="zero size, overflow hidden"),
        "off-screen": T(zh="移出屏幕", en="off-screen")}
_HOW = re.compile(r"^(?P<way>[^()]+?) \((?P<src>.+)\)$")


def _how(url: str, source: str, how: str) -> Evidence:
    """The evidence of one hidden link; `how` is the crawl's note ("display:none (.x)", "… (inline style)",
    "hidden attribute") or, for a linked sheet's rule, "display:none (.x in /css/style.css)"."""
    found = _HOW.match(how)
    if found is None or found["way"] not in WAYS:
        return Evidence(url=url, source=source, detail=f"hidden: {how}", key="hidden_attribute")
    if found["src"] == "inline style":
        return Evidence(url=url, source=source, detail=f"hidden: {how}", key="hidden_inline",
                        params={"way": found["way"]})
    rule, _, sheet = found["src"].rpartition(_IN)
    if rule and sheet.startswith(("/", "http://", "https://")):
        return Evidence(url=url, source=source, detail=f"hidden: {how}", key="hidden_sheet",
                        params={"way": found["way"], "rule": rule, "sheet": sheet})
    return Evidence(url=url, source=source, detail=f"hidden: {how}", key="hidden_rule",
                    params={"way": found["way"], "rule": found["src"]})


_IN = " in "


def _by_sheets(page: Page, rules_of: Mapping[str, SheetRules]) -> list[tuple[str, str]]:
    """(URL, how) of the page's noted links that a rule of one of its linked sheets hides."""
    sheets = [(sheet, rules_of[sheet]) for sheet in page.sheets if rules_of.get(sheet)]
    found: list[tuple[str, str]] = []
    for url, hooks in page.hooks if sheets else ():
        for sheet, rules in sheets:
            if (hit := rules.hiding(hooks)) is not None:
                found.append((url, f"{hit[0]} ({hit[1]}{_IN}{_shown(sheet, page.final_url)})"))
                break
    return found


def _shown(sheet: str, page: str) -> str:
    """A sheet's URL as evidence shows it: its path when it is on the page's origin."""
    origin = page.split("/", 3)[:3]
    parts = sheet.split("/", 3)
    return "/" + parts[3] if parts[:3] == origin and len(parts) == 4 else sheet


@check(id="links:hidden",
       title=T(zh="暗链", en="Hidden links"),
       failure_title=T(zh="存在暗链", en="Hidden links to other sites"),
       description=T(
           zh="页面中读者看不到的外站链接（所在元素带 HTML 隐藏属性，或被行内样式、页面样式表或页面引用的"
              "本站样式表文件设为不显示、不可见、零尺寸或移出屏幕）即暗链，常为网站被篡改挂马的迹象；发现即不合格。"
              "隐藏的本站菜单（如手机版导航）、悬停展开的下拉菜单不算。",
           en="Links to other sites in elements a reader never sees (the hidden attribute, an inline style, the "
              "page's style sheet or a style sheet file of the site it links: display:none, visibility:hidden, "
              "zero size, off-screen) are 暗链, a common sign of a tampered site; any fails. A hidden menu of the "
              "site's own pages (a mobile menu) or a drop-down menu shown on hover is none."),
       basis="国办秘函〔2019〕19号 单项否决：安全、泄密事故等严重问题（暗链）", severity=Severity.VETO,
       needs={"crawl"},
       messages={
           "links.hidden_none": T(zh="{pages} 个页面中没有发现暗链", en="No hidden link on {pages} pages"),
           "links.hidden_found": T(zh="发现 {count} 个暗链（指向外站的隐藏链接），见于 {pages_with} 个页面",
                                   en="{count} hidden links to other sites on {pages_with} pages"),
           "links.hidden_no_pages": T(zh="没有抓取到页面，无法判断", en="No page was crawled; cannot decide"),
       },
       metrics={"pages": M("已检查页面", "Pages read"), "count": M("暗链数", "Hidden links"),
                "pages_with": M("含暗链的页面", "Pages with hidden links")},
       details={"hidden_inline": T(zh="隐藏方式：行内样式设为{way}", en="Hidden by an inline style: {way}"),
                "hidden_rule": T(zh="隐藏方式：页面样式表规则 {rule} 设为{way}",
                                 en="Hidden by the page's style rule {rule}: {way}"),
                "hidden_sheet": T(zh="隐藏方式：样式表 {sheet} 的规则 {rule} 设为{way}",
                                  en="Hidden by the rule {rule} in the style sheet {sheet}: {way}"),
                "hidden_attribute": T(zh="隐藏方式：元素带 HTML 隐藏属性", en="Hidden by the HTML hidden attribute")},
       words=WAYS, coded={"way": "words"})
def links_hidden(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    # Reading order (homepage, then depth and URL), not fetch order: a link hidden on several pages is shown once.
    pages = [p for p in snap.pages_in_order if answered(p) and not p.hides and "css" not in p.content_type]
    if not pages:
        return Verdict(Status.ERROR, "links.hidden_no_pages")
    scope = site_scope(snap)
    rules_of = {p.url: SheetRules(p.hides) for p in snap.pages if p.hides and answered(p)}
    found: dict[str, tuple[str, str]] = {}
    sources: set[str] = set()
    for page in pages:
        for url, how in (*page.hidden, *_by_sheets(page, rules_of)):
            if not scope.covers(url):
                found.setdefault(url, (page.final_url, how))
                sources.add(page.final_url)
    evidence = tuple(_how(url, source, how) for url, (source, how) in sorted(found.items())[:EVIDENCE_MAX])
    metrics = {"pages": len(pages), "count": len(found), "pages_with": len(sources)}
    if found:
        return Verdict(Status.FAIL, "links.hidden_found", {"count": len(found), "pages_with": len(sources)},
                       metrics, evidence)
    return Verdict(Status.PASS, "links.hidden_none", {"pages": len(pages)}, metrics)


TURNED_WORDS = {"parked": T(zh="已停放或出售的域名", en="a parked domain"),
                "gambling": T(zh="赌博网站", en="a gambling site"), "adult": T(zh="色情网站", en="an adult site")}


@check(id="links:turned",
       title=T(zh="外链变质", en="Turned links"),
       failure_title=T(zh="外链指向变质网站", en="Links to sites that turned"),
       description=T(
           zh="指向外站的链接，其目标页面现为停放或出售的域名（页面用语，或域名别名、域名服务器指向停放服务商），"
              "或其标题、正文含有赌博、色情网站的典型用语（内置词表）的，为链接变质；发现即不合格。",
           en="Links to other sites whose target now serves a parked or for-sale domain (by its words, or a DNS "
              "alias or nameservers of a parking service), or a page whose title and text carry the typical words "
              "of gambling or adult sites (a shipped term list), have turned; any fails."),
       basis="国办秘函〔2019〕19号 单项否决：安全、泄密事故等严重问题（链接色情、赌博等内容）",
       severity=Severity.VETO, needs={"crawl", "probe:links"},
       messages={
           "links.turned_none": T(zh="{checked} 个外站链接中没有变质链接", en="None of {checked} off-site links turned"),
           "links.turned_found": T(zh="{count} 个外站链接指向变质网站（停放域名、赌博或色情网站）",
                                   en="{count} off-site links lead to sites that turned (parked, gambling, adult)"),
           "links.turned_no_pages": T(zh="没有抓取到页面，无法判断", en="No page was crawled; cannot decide"),
       },
       metrics={"checked": M("已检查外站链接", "Off-site links checked"), "count": M("变质链接", "Turned links")},
       details={"turned": T(zh="目标现为{what}（依据：“{terms}”）", en="The target is now {what} (found: “{terms}”)")},
       words=TURNED_WORDS, coded={"what": "words"})
def links_turned(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    if not any(answered(p) for p in snap.pages):
        return Verdict(Status.ERROR, "links.turned_no_pages")
    scope = site_scope(snap)
    checked: set[str] = set()
    found: dict[str, tuple[str, str, str, str]] = {}
    onsite: dict[str, bool] = {}    # a target's scope, once: a site's links repeat a few hundred targets
    for link in snap.links_in_order:   # a target linked from several pages: its first in reading order
        if link.tag not in ("a", "area", "iframe") or (target := snap.targets.get(link.target_url)) is None:
            continue
        url = link.target_url
        if url not in onsite:
            onsite[url] = scope.covers(url)
        if onsite[url]:
            continue
        checked.add(url)
        turned = parse_turned(target.detail) if target.outcome in ("ok", "too_large") else None
        if turned is not None:
            found.setdefault(link.target_url, (link.source_url, link.text, *turned))
    evidence = tuple(Evidence(url=url, source=source, text=text or None, detail=f"turned: {what}: {terms}",
                              key="turned", params={"what": what, "terms": terms})
                     for url, (source, text, what, terms) in sorted(found.items())[:EVIDENCE_MAX])
    metrics = {"checked": len(checked), "count": len(found)}
    if found:
        return Verdict(Status.FAIL, "links.turned_found", {"count": len(found)}, metrics, evidence)
    return Verdict(Status.PASS, "links.turned_none", {"checked": len(checked)}, metrics)
