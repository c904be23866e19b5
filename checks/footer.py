"""footer — registers the footer check of checks.columns.

It judges the `footer` probe (monitor.footerprobe), which reads the homepage as a
browser shows it: the crawl keeps links, not the page text the items are written in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.base import Verdict, check
from checks.columns import FOOTER_DECLARATION, judge_footer
from checks.snapshot import SiteSnapshot


@check(**FOOTER_DECLARATION)
def footer(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    return judge_footer(snap)
