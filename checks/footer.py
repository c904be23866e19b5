"""footer — registers the footer check of checks.columns.

It judges the `footer` probe (monitor.footerprobe), which reads the homepage as a
browser shows it: the crawl keeps links, not the page text the items are written in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.base import M, T, Verdict, check
from checks.columns import FOOTER_DECLARATION, judge_footer
from checks.snapshot import SiteSnapshot


FOOTER_METRICS = {
    "site_code": M("网站标识码", "Site identity code"), "icp": M("ICP 备案号", "ICP filing"),
    "police": M("公安备案号", "Public-security filing"), "finderr": M("政府网站找错入口", "Error-report entry"),
    "badge": M("党政机关网站标识", "Party and government badge"),
    "found": M("已有项目", "Items found"), "missing": M("缺少项目", "Missing items"),
    "found_count": M("已有项目数", "Items found (count)"),
    "forms": M("各项的发现方式", "How each item was found", shown=False),
}
FOOTER_DETAILS = {
    "found": T(zh="{item}", en="{item}"),
    "missing": T(zh="缺少：{item}", en="Missing: {item}"),
}


@check(**FOOTER_DECLARATION, metrics=FOOTER_METRICS, details=FOOTER_DETAILS)
def footer(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    return judge_footer(snap)
