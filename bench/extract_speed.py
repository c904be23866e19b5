"""Speed of the pure extraction layer (spiders.extract) on generated government-style pages.

Prints pages/s and MB/s for typical pages (~30 KB, ~60 links), for a page of
the crawl bench's web (bench/web.py), for large ones (2 MB) and for the mix of
every HTML page the demo web serves (monitor.demo, rendered in memory: lists,
Hanweb datastores, TRS pagers, footers, link kinds, GBK pages). No network, no
files. With `--profile N`, prints cProfile's top N functions over the bench-web
page and the demo mix instead. Run from the repository root:

    .venv/bin/python bench/extract_speed.py [--seconds 3] [--profile 25]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.web import page_html
from monitor.htmltext import decode_html
from spiders.extract import extract

Page = tuple[str, str, str]     # (text, URL, encoding)

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


def demo_pages(today: date) -> list[Page]:
    """Every HTML page the demo web serves at a fixed path, decoded as the crawl decodes it."""
    from monitor.demo.sites import build_sites
    from monitor.demo.spec import PageContext

    def url_for(host: str, path: str = "/", *, scheme: str = "http") -> str:
        return f"{scheme}://{host}:8080{path}"

    pages = []
    for site in build_sites(today):
        for path, spec in sorted(site.pages.items()):
            if "html" not in spec.content_type and "xml" not in spec.content_type:
                continue
            meta = spec.encoding if spec.declare in ("both", "meta") else None
            route, _, query = path.partition("?")
            ctx = PageContext(site, today, url_for, meta, route or "/", query)
            body = spec.body(ctx) if callable(spec.body) else spec.body
            data = body if isinstance(body, bytes) else body.encode(spec.encoding, errors="replace")
            if data:
                text, codec = decode_html(data, spec.encoding if spec.declare in ("both", "header") else None)
                pages.append((text, url_for(site.host, path), codec))
    return pages


def bench_page(today: date) -> Page:
    return page_html(0, 7, 2000, 3, today, 8080, 9), "http://www.h0.bench.test/p/7.html", "utf-8"


def measure(pages: list[Page], seconds: float, today: date) -> tuple[float, int, int]:
    """Pages/s from each page's best time over repeated runs (the least disturbed by other load), and
    the links and dates found in all pages."""
    best = [float("inf")] * len(pages)
    deadline = time.perf_counter() + seconds
    while True:
        links = dates = 0
        for i, (html, url, encoding) in enumerate(pages):
            start = time.perf_counter()
            found = extract(html, url, today=today, encoding=encoding)
            best[i] = min(best[i], time.perf_counter() - start)
            links += len(found.links)
            dates += len(found.dates)
        if time.perf_counter() > deadline:
            return len(pages) / sum(best), links, dates


def profile(today: date, top: int) -> None:
    import cProfile
    import pstats

    pages = [bench_page(today)] * 200 + demo_pages(today)
    profiler = cProfile.Profile()
    profiler.enable()
    for html, url, encoding in pages:
        extract(html, url, today=today, encoding=encoding)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent per page kind")
    parser.add_argument("--profile", type=int, metavar="N", help="print cProfile's top N functions instead")
    args = parser.parse_args()
    today = date.today()
    if args.profile:
        profile(today, args.profile)
        return
    listed = "http://www.zgcy.gov.cn/zwgk/tzgg/index.html"
    kinds = [("typical 30 KB", [(government_page(30_000, today, 30), listed, "utf-8")]),
             ("dense 30 KB", [(government_page(30_000, today, None), listed, "utf-8")]),
             ("bench web", [bench_page(today)]),
             ("dense 2 MB", [(government_page(2_000_000, today, None), listed, "utf-8")]),
             ("demo mix", demo_pages(today))]
    for label, pages in kinds:
        megabytes = sum(len(html.encode()) for html, _, _ in pages) / 1e6 / len(pages)
        rate, links, dates = measure(pages, args.seconds, today)
        print(f"{label:>13}: {rate:8.1f} pages/s {rate * megabytes:6.2f} MB/s {1000 / rate:7.2f} ms/page "
              f"({len(pages)} × {megabytes * 1000:.0f} KB, {links / len(pages):.0f} links, "
              f"{dates / len(pages):.0f} dates a page)")


if __name__ == "__main__":
    main()
