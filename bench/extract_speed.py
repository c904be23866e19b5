"""Speed of the pure extraction layer (spiders.extract) on generated government-style pages.

Prints pages/s and MB/s for typical pages (~30 KB, ~60 links) and for large
ones (2 MB). No network, no files. Run from the repository root:

    .venv/bin/python bench/extract_speed.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spiders.extract import extract

HEADER = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>朝阳市人民政府 - 通知公告</title>
<meta name="PubDate" content="{pub}"><link rel="stylesheet" href="/css/style.css">
<script src="/js/jquery.min.js"></script></head><body>
<div class="top"><span>今天是{today}</span><a href="/wza/">无障碍</a><a href="/login.html">登录</a></div>
<div class="nav"><ul>{nav}</ul></div><div class="main"><div class="left_nav"><ul>{subnav}</ul></div>
<div class="news_list"><ul>
"""
ITEM = ('<li><a href="/zwgk/tzgg/{y}{m:02d}/t{y}{m:02d}{d:02d}_{n}.html" target="_blank" title="关于做好{n}号工作的通知">'
        '关于做好{n}号工作的通知</a><span class="date">{y}-{m:02d}-{d:02d}</span></li>\n')
PADDING = """function showTab(n) { for (var i = 0; i < 4; i++) { document.getElementById("tab" + i).className = "on"; } }
"""
FOOTER = """</ul></div></div><div class="footer"><a href="/wzdt/">网站地图</a> | <a href="/lxwm/">联系我们</a>
<p>版权所有：朝阳市人民政府 辽ICP备05001234号 网站标识码：2113000001</p>
<script src="//dcs.conac.cn/js/06/000/0000/60429971/CA060000000604299710001.js"></script></div></body></html>
"""


def government_page(size: int, today: date, items: int | None = None) -> str:
    """A list page of about `size` characters: header, nav, side menu, dated list, footer.

    With `items`, the list has that many rows and inline script/style pads the
    page to `size` (a typical page: ~60 links in ~30 KB); without, rows fill it
    (a dense worst case).
    """
    nav = "".join(f'<li><a href="/col{i}/">栏目{i}</a></li>' for i in range(12))
    subnav = "".join(f'<li><a href="/zwgk/sub{i}/">子栏目{i}</a></li>' for i in range(8))
    parts = [HEADER.format(pub=today.isoformat(), today=today.isoformat(), nav=nav, subnav=subnav)]
    length = len(parts[0]) + len(FOOTER)
    n = 0
    while (items is None and length < size) or (items is not None and n < items):
        day = today - timedelta(days=n % 900)
        item = ITEM.format(y=day.year, m=day.month, d=day.day, n=n)
        parts.append(item)
        length += len(item)
        n += 1
    if items is not None and length < size:
        parts.insert(1, f"<script>{PADDING * ((size - length) // len(PADDING) + 1)}</script>")
    parts.append(FOOTER)
    return "".join(parts)


def measure(html: str, seconds: float, today: date) -> tuple[float, int, int]:
    """Best pages/s over repeated runs (the least disturbed by other load), links and dates found."""
    best = float("inf")
    deadline = time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        found = extract(html, "http://www.zgcy.gov.cn/zwgk/tzgg/index.html", today=today)
        best = min(best, time.perf_counter() - start)
        if time.perf_counter() > deadline:
            return 1 / best, len(found.links), len(found.dates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent per page kind")
    args = parser.parse_args()
    today = date.today()
    kinds = (("typical 30 KB", 30_000, 30), ("dense 30 KB", 30_000, None), ("dense 2 MB", 2_000_000, None))
    for label, size, items in kinds:
        html = government_page(size, today, items)
        megabytes = len(html.encode()) / 1e6
        pages, links, dates = measure(html, args.seconds, today)
        print(f"{label:>13}: {pages:8.1f} pages/s {pages * megabytes:6.2f} MB/s {1000 / pages:7.1f} ms/page "
              f"({megabytes * 1000:.0f} KB, {links} links, {dates} dates)")


if __name__ == "__main__":
    main()
