"""links:hidden — 暗链: links to other sites that a reader never sees.

The crawl notes, on each page, the `a` links to another host that sit in an
element hidden by the `hidden` attribute, an inline style or a rule of the
page's own <style> blocks (display:none, visibility:hidden, zero size with
overflow hidden, off-screen; spiders/hidden.py; rules inside @media are not
read, so a menu hidden on small screens only is not hidden). Here those whose
target is outside the site's scope (checks.scope) are findings, each target
once with the first page it was found on. A hidden menu linking the site's own
pages (a mobile menu) is no finding. Any finding fails: the checklist counts
暗链 among the 安全 vetoes.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.freshness import answered
from checks.scope import site_scope
from checks.snapshot import SiteSnapshot

EVIDENCE_MAX = 100


@check(id="links:hidden",
       title=T(zh="暗链", en="Hidden links"),
       failure_title=T(zh="存在暗链", en="Hidden links to other sites"),
       description=T(
           zh="页面中读者看不到的外站链接（所在元素被 hidden 属性、行内样式或页面样式表设为 display:none、"
              "visibility:hidden、零尺寸或移出屏幕）即暗链，常为网站被篡改挂马的迹象；发现即不合格。"
              "隐藏的本站菜单（如手机版导航）不算。",
           en="Links to other sites in elements a reader never sees (the hidden attribute, an inline style or the "
              "page's style sheet: display:none, visibility:hidden, zero size, off-screen) are 暗链, a common sign "
              "of a tampered site; any fails. A hidden menu of the site's own pages (a mobile menu) is none."),
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
       details={"hidden": T(zh="隐藏方式：{how}", en="Hidden by {how}")})
def links_hidden(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    pages = [p for p in snap.pages if answered(p)]
    if not pages:
        return Verdict(Status.ERROR, "links.hidden_no_pages")
    scope = site_scope(snap)
    found: dict[str, tuple[str, str]] = {}
    sources: set[str] = set()
    for page in pages:
        for url, how in page.hidden:
            if not scope.covers(url):
                found.setdefault(url, (page.final_url, how))
                sources.add(page.final_url)
    evidence = tuple(Evidence(url=url, source=source, detail=f"hidden: {how}", key="hidden", params={"how": how})
                     for url, (source, how) in sorted(found.items())[:EVIDENCE_MAX])
    metrics = {"pages": len(pages), "count": len(found), "pages_with": len(sources)}
    if found:
        return Verdict(Status.FAIL, "links.hidden_found", {"count": len(found), "pages_with": len(sources)},
                       metrics, evidence)
    return Verdict(Status.PASS, "links.hidden_none", {"pages": len(pages)}, metrics)
