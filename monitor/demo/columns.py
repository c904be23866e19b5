"""Columns (栏目): the tree a government site is made of, and the pages it yields.

A `Column` is declared once (link text, path, item ages, pagination, children,
placement); `plan_columns` turns a tree into `ColumnPlan`s with dated items and
article paths, and `column_pages` into the `PageSpec`s that serve them (list
pages index.html, index_1.html…, articles, attachments). The truth reads the
same plans for the column checks of issue 4. Pure; dates relative to `today`.

Placement (`where`) says how a column is reached from its parent: "nav" (a
top-level column in every page's navigation), "sub" (the parent's
sub-navigation), "topic" (a card on a 专题专栏 page), "iframe" (only inside
the navigation iframe the homepage embeds), "home" (a homepage block only).
A column with `host` lives on another host and is linked there by full URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from monitor.demo.spec import Body, Href, PageSpec, Ref

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

TITLES: dict[str, tuple[str, ...]] = {
    "xwdt": ("{org}召开{year}年政务公开工作推进会", "{region}{year}年重点项目集中开工",
             "{org}部署开展优化营商环境专项行动", "{region}召开安全生产工作会议",
             "{org}深入开展“万人进万企”助企纾困活动", "{org}主要负责同志到基层调研指导工作",
             "{region}举办{year}年就业援助专场招聘会", "{region}召开防汛抗旱工作会议"),
    "tzgg": ("关于开展{year}年度政府网站自查工作的通知", "关于调整部分政务服务事项办理时限的公告",
             "{org}关于公开征求意见的公告", "关于做好{year}年度政务公开工作考核的通知"),
    "zcjd": ("一图读懂《{region}助企纾困若干政策措施》", "《{region}优化营商环境若干措施》政策解读",
             "{region}稳经济一揽子政策措施解读"),
    "zcwj": ("关于印发《{region}助企纾困若干政策措施》的通知", "关于印发{region}{year}年政务公开工作要点的通知",
             "关于进一步优化营商环境的实施意见", "关于印发{region}促进消费若干措施的通知",
             "关于做好{year}年重点项目建设工作的通知"),
    "fmqd": ("关于印发《市场准入负面清单（{year}年版）》的通知", "{region}全面落实市场准入负面清单制度工作方案",
             "市场准入负面清单事项与政务服务事项对应表"),
    "zqsk": ("{region}助企纾困政策汇编（{year}年）", "{org}“万人进万企”助企纾困活动简报",
             "惠企政策“免申即享”事项清单", "{region}助企纾困专项资金申报指南"),
    "yshj": ("{region}优化营商环境典型案例", "{region}营商环境“办事不找关系”指南", "{org}营商环境监督员工作动态"),
    "zdjc": ("{year}年{region}重大行政决策事项目录",),
    "sfml": ("{region}行政事业性收费目录清单（{year}年）", "{region}涉企收费目录清单（{year}年）",
             "{region}政府性基金目录清单"),
    "yxtz": ("{region}{year}年扩大有效投资重点项目清单", "{region}重大项目建设进展情况通报",
             "{region}专项债券项目资金使用情况"),
    "ndbg": ("{org}{prev}年政府信息公开工作年度报告",),
    "xxgk": ("{org}机构职能", "{org}领导信息", "{org}内设机构"),
    # a headline holding a date of its own (yesterday's 月日), which is not the item's date
    "zqsk_recent": ("关于{recent}起受理助企纾困专项资金申报的通知", "{region}助企纾困政策汇编（{year}年）",
                    "{org}“万人进万企”助企纾困活动简报"),
    "pxtz": ("关于{recent}开始报名参加财会业务培训的通知", "{org}部门预算公开说明"),
}


@dataclass(frozen=True)
class Column:
    """One column; `ages` are item ages in days, newest first (negative = a future date).
    No ages and no children makes an empty column (暂无信息)."""

    text: str
    path: str
    ages: tuple[int, ...] = ()
    per_page: int = 0                  # items per list page; 0 = all on one page
    children: tuple[Column, ...] = ()
    where: str = ""                    # "" = by position: "nav" at the top, "sub" below
    host: str | None = None
    requirement: str = ""              # the [[requirement]] id this column meets
    titles: str = ""                   # key into TITLES; "" = the path's last segment
    banner: bool = False               # also a banner link on the homepage
    home: int = 0                      # items shown in a homepage block
    legacy_gbk: tuple[int, ...] = ()   # item numbers (1-based) served as GBK without any charset
    cms: str = ""                      # "" (t20231009_1.html items, anchor pager) | "trs" (/col/colN/ column,
                                       # /art/Y/M/D/art_N_i.html items, createPageHTML pager) | "hanweb" (the
                                       # same paths, records in a datastore, dataproxy.jsp for the next groups)
    sidebar: str = ""                  # path of a column whose newest items show in a 最新动态 box beside the list
    pinned: bool = False               # the first item (whatever its age) is a 【置顶】 item
    filed: int = 0                     # days an item's URL date (the document's t-number) precedes its publication
    issued: int | None = None          # its articles state a 成文日期 this many days after their publication
                                       # (negative: before it, as it should be); None: no 成文日期 line


@dataclass(frozen=True)
class Item:
    title: str
    day: date
    path: str                          # article path on the column's host
    attachment: str | None = None      # path of a PDF/XLS on the same host
    picture: str | None = None         # path of an inline image


@dataclass(frozen=True)
class ColumnPlan:
    """A column placed in one site: its items, list pages and how it is reached."""

    column: Column
    org: str                           # the site the column belongs to
    host: str | None                   # None = the site's own host
    where: str
    parent: ColumnPlan | None
    items: tuple[Item, ...]
    list_paths: tuple[str, ...]        # page 1, then index_1.html…; page 1 is also index.html
    children: tuple[ColumnPlan, ...] = field(default=())

    @property
    def href(self) -> Href:
        return Ref(self.host, self.column.path) if self.host else self.column.path

    def page_items(self, number: int) -> tuple[Item, ...]:
        size = self.column.per_page or max(len(self.items), 1)
        return self.items[number * size: (number + 1) * size]


def _titles(column: Column) -> tuple[str, ...]:
    key = column.titles or column.path.rstrip("/").rsplit("/", 1)[-1]
    return TITLES.get(key, ("{column}工作动态",))


def column_id(column: Column) -> str:
    """The CMS's column number of a /col/col<N>/ column ("" for other paths)."""
    found = re.search(r"/col/col(\d+)/", column.path)
    return found.group(1) if found else ""


def _items(column: Column, org: str, region: str, today: date, serials: Iterator[int]) -> tuple[Item, ...]:
    templates = _titles(column)
    recent = today - timedelta(days=1)
    items = []
    for index, age in enumerate(column.ages):
        day = today - timedelta(days=age)
        serial = next(serials)
        title = templates[index % len(templates)].format(org=org, region=region, year=day.year,
                                                         prev=day.year - 1, column=column.text,
                                                         recent=f"{recent.month}月{recent.day}日")
        if index >= len(templates):
            title += f"（{index // len(templates) + 1}）"
        if column.pinned and index == 0:
            title = "【置顶】" + title
        if column.cms:
            folder = f"/art/{day.year}/{day.month}/{day.day}/"
            items.append(Item(title, day, f"{folder}art_{column_id(column)}_{serial}.html"))
            continue
        filed = day - timedelta(days=column.filed)
        folder = f"{column.path}{filed:%Y%m}/"
        attachment = None
        if serial % 3 == 0:
            suffix = "xls" if "收费" in title or "清单" in title else "pdf"
            attachment = f"{folder}P020{filed:%Y%m%d}{serial:04d}.{suffix}"
        picture = f"{folder}W020{filed:%Y%m%d}{serial:04d}.jpg" if serial % 4 == 1 else None
        items.append(Item(title, day, f"{folder}t{filed:%Y%m%d}_{serial}.html", attachment, picture))
    return tuple(items)


def plan_columns(columns: Sequence[Column], org: str, region: str, today: date) -> tuple[ColumnPlan, ...]:
    """Every column of the tree, parents before children, with items numbered site-wide."""
    serials = iter(range(101, 10**6))
    flat: list[ColumnPlan] = []

    def walk(column: Column, parent: ColumnPlan | None) -> ColumnPlan:
        where = column.where or ("nav" if parent is None else "sub")
        items = _items(column, org, region, today, serials)
        pages = max(1, -(-len(items) // column.per_page)) if column.per_page and column.cms != "hanweb" else 1
        paths = (column.path,) + tuple(f"{column.path}index_{n}.html" for n in range(1, pages))
        plan = ColumnPlan(column, org, column.host or (parent.host if parent else None), where, parent,
                          items, paths)
        flat.append(plan)
        kids = tuple(walk(child, plan) for child in column.children)
        object.__setattr__(plan, "children", kids)  # the tree is built top-down; frozen afterwards
        return plan

    for column in columns:
        walk(column, None)
    return tuple(flat)


def column_pages(plan: ColumnPlan, list_body: Callable[[ColumnPlan, int], Body],
                 article_body: Callable[[ColumnPlan, Item], Body]) -> dict[str, PageSpec]:
    """The column's pages on its host: list pages (page 1 also as index.html), articles and files.
    `list_body(plan, number)` and `article_body(plan, item)` are the body factories (content.py)."""
    pages: dict[str, PageSpec] = {}
    for number, path in enumerate(plan.list_paths):
        pages[path] = PageSpec(body=list_body(plan, number))
    if plan.column.per_page and len(plan.list_paths) > 1:
        pages[f"{plan.column.path}index.html"] = pages[plan.column.path]
    for number, item in enumerate(plan.items, start=1):
        legacy = number in plan.column.legacy_gbk
        pages[item.path] = PageSpec(body=article_body(plan, item), encoding="gbk" if legacy else "utf-8",
                                    declare="none" if legacy else "both")
        if item.attachment:
            suffix = item.attachment.rsplit(".", 1)[-1]
            kind = "application/pdf" if suffix == "pdf" else "application/vnd.ms-excel"
            pages[item.attachment] = PageSpec(body=PDF if suffix == "pdf" else XLS, content_type=kind,
                                              declare="none")
        if item.picture:
            pages[item.picture] = PageSpec(body=JPEG, content_type="image/jpeg", declare="none")
    return pages


def latest(items: Sequence[Item], today: date) -> date | None:
    """The newest item date that is not in the future."""
    days = [item.day for item in items if item.day <= today]
    return max(days) if days else None
