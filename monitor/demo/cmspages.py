"""List pages as the two big government CMSs write them, for the list cases of
the demo web (monitor/demo/listcases.py):

- TRS WCM: `/col/col123/` with items `/art/2023/10/9/art_123_456.html` and a
  pager drawn by `createPageHTML(count, current, "index", "html")` — no pager
  link in the markup, so a crawl must generate index_1.html… itself;
- Hanweb (大汉): the first records embedded as
  `<script type="text/xml"><datastore>…<record><![CDATA[<li>…</li>]]></record>`
  with `<totalrecord>`, and `/module/web/jpage/dataproxy.jsp?…&startrecord=&
  endrecord=&perpage=` serving the next groups as XML;
- a 最新动态 box of the site's newest news beside a column's own list.

Every link and date goes through `PageContext`, so the truth reads what is
served; the pager links a crawl generates are recorded with tag "pager" and
the text spiders.lists gives them. Pure text generation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import parse_qs

from monitor.demo.columns import ColumnPlan, Item, column_id
from monitor.demo.markup import a, date_span
from monitor.demo.spec import PageContext

DATAPROXY = "/module/web/jpage/dataproxy.jsp"
PAGER_MAX = 4           # the pager pages a crawl generates (spiders.lists.PAGER_MAX)
SIDEBAR_ITEMS = 4


def _row(ctx: PageContext, item: Item) -> str:
    return f"<li>{a(ctx, item.path, item.title, title=True, blank=True)}{date_span(ctx, item.day)}</li>"


def trs_list(ctx: PageContext, plan: ColumnPlan, number: int) -> str:
    """A TRS list page: the rows, then the createPageHTML pager script (the crawl generates its pages)."""
    rows = "\n".join(f"    {_row(ctx, item)}" for item in plan.page_items(number))
    count = len(plan.list_paths)
    script = ""
    if count > 1:
        others = [n for n in range(count) if n != number][:PAGER_MAX]
        for n in others:
            ctx.link("pager", "index.html" if n == 0 else f"index_{n}.html", f"第{n + 1}页")
        script = ('  <div class="page_nav"><script type="text/javascript">\n'
                  f"    var countPage = {count}; var currentPage = {number};\n"
                  '    createPageHTML(countPage, currentPage, "index", "html");\n  </script></div>\n')
    return f'  <ul class="list_ul">\n{rows}\n  </ul>\n{script}'


def _proxy_query(plan: ColumnPlan) -> str:
    colid = column_id(plan.column)
    return f"{DATAPROXY}?page=1&webid=2&columnid={colid}&unitid=9{colid}&permissiontype=0"


def hanweb_list(ctx: PageContext, plan: ColumnPlan) -> str:
    """A Hanweb column page: the first group of records in a datastore, the rest behind dataproxy.jsp."""
    size = plan.column.per_page or len(plan.items)
    total = len(plan.items)
    records = "\n".join(f"<record><![CDATA[\n{_row(ctx, item)}\n]]></record>" for item in plan.items[:size])
    query = _proxy_query(plan)
    for start in range(size + 1, total + 1, size)[:PAGER_MAX]:
        end = min(start + size - 1, total)
        ctx.link("pager", f"{query}&startrecord={start}&endrecord={end}&perpage={size}", f"第{start}-{end}条")
    colid = column_id(plan.column)
    return (f'  <div id="{colid}" class="default_pgContainer">\n<script type="text/xml">\n<datastore>\n'
            f'<nextgroup><![CDATA[<a href="{query}"></a>]]></nextgroup>\n'
            f"<totalrecord>{total}</totalrecord>\n<recordset>\n{records}\n</recordset>\n</datastore>\n</script>\n"
            "  </div>\n")


def dataproxy(plans: Sequence[ColumnPlan]) -> Callable[[PageContext], str]:
    """The dataproxy.jsp answer: the records startrecord..endrecord of the columnid's column, as XML."""
    by_id = {column_id(p.column): p for p in plans if p.column.cms == "hanweb"}

    def render(ctx: PageContext) -> str:
        query = parse_qs(ctx.query)
        plan = by_id.get(query.get("columnid", [""])[0])
        start = int(query.get("startrecord", ["1"])[0] or 1)
        end = int(query.get("endrecord", [str(start)])[0] or start)
        items = plan.items[start - 1:end] if plan is not None else ()
        records = "\n".join(f"<record><![CDATA[\n{_row(ctx, item)}\n]]></record>" for item in items)
        return (f'<?xml version="1.0" encoding="{ctx.meta_charset or "utf-8"}"?>\n<datastore>\n'
                f"<totalrecord>{len(plan.items) if plan else 0}</totalrecord>\n<recordset>\n{records}\n"
                "</recordset>\n</datastore>\n")

    return render


def sidebar(ctx: PageContext, plan: ColumnPlan, site_plans: Sequence[ColumnPlan]) -> str:
    """A 最新动态 box of another column's newest items (site-wide news beside the column's own list)."""
    source = next((p for p in site_plans if p.column.path == plan.column.sidebar), None)
    if source is None:
        return ""
    newest = sorted(source.items, key=lambda item: item.day, reverse=True)[:SIDEBAR_ITEMS]
    rows = "\n".join(f"      {_row(ctx, item)}" for item in newest)
    return (f'  <div class="r_box zxdt">\n    <div class="box_hd"><h3>最新动态</h3>'
            f'{a(ctx, source.href, "更多", cls="more")}</div>\n    <ul>\n{rows}\n    </ul>\n  </div>\n')
