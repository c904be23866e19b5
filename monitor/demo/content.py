"""Page bodies of the demo web: homepages, list pages, articles, redirect pages,
crawl traps, error pages and the plain pages of hosts that are not sites.

Each factory returns a body (`PageContext` → HTML) built with `markup`, so
every link and date it shows is recorded for the truth. Pure text generation:
no I/O, no clock. Article text carries no dates beyond its 发布时间 line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from urllib.parse import parse_qs

from monitor.demo import cmspages
from monitor.demo.columns import ColumnPlan, Item
from monitor.demo.markup import a, date_span, head, iframe, img, layout, link_list
from monitor.demo.spec import Href, PageContext, PageSpec, Ref, Route

Render = Callable[[PageContext], str]
LinkGroup = tuple[str, tuple[tuple[str, Href], ...]]


def _rel(plan: ColumnPlan, item: Item) -> str:
    return "./" + item.path[len(plan.column.path):]


def item_href(plan: ColumnPlan, item: Item) -> Href:
    return Ref(plan.host, item.path) if plan.host else item.path


def _crumbs(ctx: PageContext, plan: ColumnPlan, *, last: bool = False) -> str:
    chain: list[ColumnPlan] = []
    node: ColumnPlan | None = plan
    while node is not None:
        chain.insert(0, node)
        node = node.parent
    parts = [a(ctx, "/", "首页")]
    for step in chain:
        parts.append(a(ctx, step.column.path, step.column.text) if (last or step is not plan)
                     else escape(step.column.text))
    return f'<div class="crumbs">当前位置：{" &gt; ".join(parts)}</div>\n'


def _subnav(ctx: PageContext, plans: Sequence[ColumnPlan], cls: str) -> str:
    if not plans:
        return ""
    return link_list(ctx, [(p.column.text, p.href) for p in plans], cls)


def _rows(ctx: PageContext, plan: ColumnPlan, items: Sequence[Item], href: Callable[[Item], Href]) -> str:
    rows = "\n".join(f"    <li>{a(ctx, href(item), item.title, title=True)}{date_span(ctx, item.day)}</li>"
                     for item in items)
    return f'  <ul class="list">\n{rows}\n  </ul>\n'


def _pager(ctx: PageContext, plan: ColumnPlan, number: int) -> str:
    count = len(plan.list_paths)
    if count < 2:
        return ""
    names = ["index.html"] + [f"index_{n}.html" for n in range(1, count)]
    links = [a(ctx, names[0], "首页")]
    if number > 0:
        links.append(a(ctx, names[number - 1], "上一页"))
    links += [a(ctx, names[n], str(n + 1)) if n != number else f"<span>{n + 1}</span>" for n in range(count)]
    if number < count - 1:
        links.append(a(ctx, names[number + 1], "下一页"))
    links.append(a(ctx, names[-1], "尾页"))
    return f'  <div class="page">共{count}页　{"　".join(links)}</div>\n'


def list_page(plan: ColumnPlan, number: int, site_plans: Sequence[ColumnPlan] = ()) -> Render:
    """Page `number` (0-based) of a column: crumbs, sub-navigation, items, pager; 暂无信息 when empty.
    A TRS or Hanweb column (`Column.cms`) writes its list and pager as that CMS does (cmspages.py);
    `Column.sidebar` adds a 最新动态 box of another of `site_plans`' columns."""

    def render(ctx: PageContext) -> str:
        column = plan.column
        side = _subnav(ctx, [p for p in plan.parent.children if p.where == "sub"] if plan.parent else [], "side")
        kids = _subnav(ctx, [p for p in plan.children if p.where == "sub"], "subnav")
        topics = _subnav(ctx, [p for p in plan.children if p.where == "topic"], "ztzl-list")
        items = plan.page_items(number)
        if column.cms == "trs":
            body, pager = cmspages.trs_list(ctx, plan, number), ""
        elif column.cms == "hanweb":
            body, pager = cmspages.hanweb_list(ctx, plan), ""
        else:
            body = _rows(ctx, plan, items, lambda item: _rel(plan, item)) if items else ""
            pager = _pager(ctx, plan, number)
        if not plan.items and not plan.children:
            body = '  <p class="empty">暂无信息</p>\n'
        box = cmspages.sidebar(ctx, plan, site_plans) if column.sidebar else ""
        main = (_crumbs(ctx, plan) + side + f"<h2>{escape(column.text)}</h2>\n" + kids + topics + body
                + pager + box)
        return layout(ctx, f"{column.text}_{plan.org}", main)

    return render


def article_page(plan: ColumnPlan, item: Item) -> Render:
    def render(ctx: PageContext) -> str:
        ctx.date(item.day)
        picture = f"  <p>{img(ctx, './' + item.picture.rsplit('/', 1)[1], item.title)}</p>\n" if item.picture else ""
        files = ""
        if item.attachment:
            name = item.attachment.rsplit("/", 1)[1]
            files = f'  <p class="fj">附件：{a(ctx, "./" + name, item.title + "." + name.rsplit(".", 1)[1])}</p>\n'
        main = (
            _crumbs(ctx, plan, last=True)
            + f'<div class="article">\n  <h2>{escape(item.title)}</h2>\n'
            f'  <div class="info">来源：{escape(plan.org)}　发布时间：{item.day:%Y-%m-%d} 09:30　'
            f'{a(ctx, "javascript:window.print()", "打印本页")}　{a(ctx, "javascript:window.close()", "关闭窗口")}</div>\n'
            + picture + _issued(ctx, plan, item)
            + f"  <p>近日，{escape(item.title)}。会议强调，要深入贯彻落实党中央、国务院关于全面推进政务公开的"
            "决策部署，以公开促落实、强监管、优服务。</p>\n"
            "  <p>会议要求，各地区各部门要围绕助企纾困、扩大有效投资等重点领域，及时准确发布政策信息，"
            "做好政策解读和回应关切，切实增强政务公开实效。</p>\n" + files + "</div>\n"
        )
        return layout(ctx, f"{item.title}_{plan.org}", main)

    return render


def _issued(ctx: PageContext, plan: ColumnPlan, item: Item) -> str:
    """The 成文日期 line an article states (Column.issued days after its publication), or ""."""
    if plan.column.issued is None:
        return ""
    day = item.day + timedelta(days=plan.column.issued)
    ctx.date(day)   # a labelled date: the crawl records it as the page's (header) date too
    return f"  <p class=\"cwrq\">成文日期：{day.year}年{day.month}月{day.day}日</p>\n"


@dataclass(frozen=True)
class Home:
    """What a homepage shows besides the chrome."""

    blocks: tuple[ColumnPlan, ...] = ()     # columns with a news block (Column.home items each)
    banners: tuple[ColumnPlan, ...] = ()    # 专题 banners
    extra_banners: tuple[tuple[str, Href], ...] = ()
    groups: tuple[LinkGroup, ...] = ()      # 县区 / 部门 / 友情链接 blocks
    iframe: str | None = None               # path of the embedded navigation page


def _block(ctx: PageContext, plan: ColumnPlan) -> str:
    items = sorted(plan.items, key=lambda item: item.day, reverse=True)[: plan.column.home or 5]
    return (f'<div class="news">\n  <h2>{a(ctx, plan.href, plan.column.text)}</h2>\n'
            + _rows(ctx, plan, items, lambda item: item_href(plan, item))
            + f'  {a(ctx, plan.href, "更多>>", cls="more")}\n</div>\n')


def _groups(ctx: PageContext, home: Home) -> str:
    return "".join(f'<div class="links">\n  <h2>{escape(title)}</h2>\n{link_list(ctx, links)}</div>\n'
                   for title, links in home.groups)


def _frame(ctx: PageContext, home: Home) -> str:
    return f'<div class="lmdh">{iframe(ctx, home.iframe, "栏目导航")}</div>\n' if home.iframe else ""


def portal_home(home: Home) -> Render:
    def render(ctx: PageContext) -> str:
        banners = [(p.column.text, p.href) for p in home.banners] + list(home.extra_banners)
        topics = (f'<div class="ztzl">\n  <h2>专题专栏</h2>\n{link_list(ctx, banners, "banners")}</div>\n'
                  if banners else "")
        main = "".join(_block(ctx, plan) for plan in home.blocks) + topics + _frame(ctx, home) \
            + _groups(ctx, home)
        return layout(ctx, ctx.site.name, main)

    return render


def nav_only_home(home: Home) -> Render:
    """A portal-style homepage of big navigation tiles and no dated item at all."""

    def render(ctx: PageContext) -> str:
        tiles = [(text, href) for text, href in ctx.site.chrome.nav if href != "/"]
        main = (f'<div class="portal-grid">\n{link_list(ctx, tiles, "tiles")}</div>\n' + _frame(ctx, home)
                + _groups(ctx, home))
        return layout(ctx, ctx.site.name, main)

    return render


def iframe_nav(plans: Sequence[ColumnPlan]) -> Render:
    """The page a homepage embeds in an iframe: a bare list of column links, no chrome."""

    def render(ctx: PageContext) -> str:
        return (head(ctx, "栏目导航") + '<body class="iframe">\n'
                + link_list(ctx, [(p.column.text, p.href) for p in plans], "lmdh") + "</body>\n</html>\n")

    return render


def js_redirect(target: str) -> Render:
    def render(ctx: PageContext) -> str:
        href = ctx.link("js-location", target)
        return (head(ctx, ctx.site.name) + "<body>\n<script type=\"text/javascript\">\n"
                f'  window.location.href = "{href}";\n</script>\n</body>\n</html>\n')

    return render


def meta_refresh(target: str) -> Render:
    def render(ctx: PageContext) -> str:
        href = ctx.link("meta-refresh", target)
        return head(ctx, "页面跳转中", f'<meta http-equiv="refresh" content="0; url={escape(href)}">\n') + \
            "<body>\n<p>页面跳转中……</p>\n</body>\n</html>\n"

    return render


def text_page(heading: str, paragraphs: Sequence[str], links: Sequence[tuple[str, Href]] = ()) -> Render:
    def render(ctx: PageContext) -> str:
        text = "\n".join(f"<p>{escape(p.format(org=ctx.site.name))}</p>" for p in paragraphs)
        listed = link_list(ctx, links) if links else ""
        return layout(ctx, f"{heading}_{ctx.site.name}", f"<h2>{escape(heading)}</h2>\n{text}\n{listed}")

    return render


def contact_page(ctx: PageContext) -> str:
    phone = "0421-2612345"
    main = (f"<h2>联系我们</h2>\n<p>{escape(ctx.site.name)}办公室　电话："
            f'{a(ctx, "tel:" + phone, phone)}　电子邮箱：{a(ctx, "mailto:zwgk@" + ctx.site.host, "zwgk@" + ctx.site.host)}'
            "</p>\n")
    return layout(ctx, f"联系我们_{ctx.site.name}", main)


def sitemap_page(plans: Sequence[ColumnPlan]) -> Render:
    """网站地图: the navigation columns and their sub-columns (not topics, iframe or home-only columns)."""

    def render(ctx: PageContext) -> str:
        shown = [p for p in plans if p.where == "nav" or (p.where == "sub" and p.parent and p.parent.where == "nav")]
        return layout(ctx, f"网站地图_{ctx.site.name}",
                      "<h2>网站地图</h2>\n" + link_list(ctx, [(p.column.text, p.href) for p in shown], "wzdt"))

    return render


def calendar(entry: str) -> tuple[dict[str, PageSpec], str]:
    """A 领导活动 calendar: `entry` shows this month, `cal.do?year=&month=` any month, each
    linking the months before and after, forever. Returns the pages and the entry path."""

    def render(ctx: PageContext) -> str:
        query = parse_qs(ctx.query)
        year = int(query.get("year", [ctx.today.year])[0])
        month = int(query.get("month", [ctx.today.month])[0])
        prev_year, prev_month = (year, month - 1) if month > 1 else (year - 1, 12)
        next_year, next_month = (year, month + 1) if month < 12 else (year + 1, 1)
        main = (f"<h2>领导活动安排　{year}年{month}月</h2>\n<p>本月暂无公开的活动安排。</p>\n<p>"
                + a(ctx, f"cal.do?year={prev_year}&month={prev_month}", "上一月") + "　"
                + a(ctx, f"cal.do?year={next_year}&month={next_month}", "下一月") + "</p>\n")
        return layout(ctx, f"领导活动安排_{ctx.site.name}", main)

    pages = {entry: PageSpec(body=render, trap="entry"), f"{entry}cal.do": PageSpec(body=render, trap="generated")}
    return pages, entry


def path_trap(topic: str, first: str, second: str, title: str) -> tuple[dict[str, PageSpec], Route, str]:
    """A 专题 whose template links `first/` and whose `first/` page links `second/` relatively
    (a missing leading slash), on a server that answers any such path: /t/a/ → /t/a/b/ → /t/a/b/a/ …
    Returns the real pages, the route for the endless ones, and the entry (the page whose link starts it)."""
    name_a, name_b = first.rstrip("/"), second.rstrip("/")

    def page(link: str, text: str, heading: str) -> Render:
        def render(ctx: PageContext) -> str:
            return layout(ctx, f"{heading}_{ctx.site.name}",
                          f"<h2>{escape(heading)}</h2>\n<p>{a(ctx, link, text)}</p>\n")

        return render

    topic_page = page(first, "政策解读", title)
    inner_page = page(second, "返回专题首页", f"{title}·政策解读")
    entry = f"{topic}{first}"

    def match(path: str) -> PageSpec | None:
        rest = [s for s in path[len(topic):].split("/") if s]
        expected = [name_a if i % 2 == 0 else name_b for i in range(len(rest))]
        if not path.endswith("/") or rest != expected or len(rest) < 2:
            return None
        return PageSpec(body=inner_page if rest[-1] == name_a else topic_page, trap="generated")

    pages = {topic: PageSpec(body=topic_page), entry: PageSpec(body=inner_page, trap="entry")}
    return pages, Route(entry, match), entry


NOT_FOUND_PLAIN = ("<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1>"
                   "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


def status_page(status: int, reason: str) -> str:
    """A bare server error page without links (a 404 page's links say nothing about the site)."""
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{status} {reason}</title></head>"
            f"<body><h1>{status}</h1><p>{reason}</p></body></html>\n")


def server_error_page(status: int) -> str:
    return status_page(status, "服务器内部错误，请稍后再试。")


def soft_404_page(ctx: PageContext) -> str:
    """A 200 page whose words say it does not exist."""
    return layout(ctx, f"页面不存在_{ctx.site.name}",
                  '<div class="error"><h2>404</h2><p>抱歉，您访问的页面不存在或已被删除。</p>'
                  f"<p>{a(ctx, '/', '返回首页')}</p></div>\n")


def portal_template(ctx: PageContext) -> str:
    """What a platform answers for any unknown path, with 200: its own shell, no 'not found' wording."""
    return (head(ctx, f"提示信息-{ctx.site.name}") + "<body>\n<div class=\"tip\"><h2>提示信息</h2>"
            "<p>您查找的事项已调整，请通过首页重新检索办理。</p></div>\n</body>\n</html>\n")


UNKNOWN_HOST_PAGE = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>404 unknown host</title>"
                     "</head><body><h1>404</h1><p>unknown host</p></body></html>\n")

WAF_CHALLENGE_PAGE = (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"Pragma\" content=\"no-cache\">"
    "<title></title><script type=\"text/javascript\">"
    "(function(){var t='a8f3c1d9e2';document.cookie='waf_token='+t+'; path=/';"
    "setTimeout(function(){location.reload();},50);})();</script></head><body></body></html>\n"
)


def finderr_page(ctx: PageContext) -> str:
    """The national 找错 platform: a page of its own, without a government site's navigation."""
    return (head(ctx, "我为政府网站找错") + "<body>\n<h1>我为政府网站找错</h1>\n"
            "<p>请选择问题类型并描述您发现的问题。</p>\n</body>\n</html>\n")


def raw_title_page(raw_title: str) -> Render:
    """A bare page whose <title> is `raw_title` as is (entities, line breaks and all)."""

    def render(ctx: PageContext) -> str:
        meta = f'<meta charset="{ctx.meta_charset}">' if ctx.meta_charset else ""
        return f"<!DOCTYPE html><html><head>{meta}<title>{raw_title}</title></head><body></body></html>\n"

    return render


def simple_page(title: str, paragraphs: Sequence[str], links: Sequence[tuple[str, Href]] = ()) -> Render:
    """A page of a host that is not a configured site: title, text, a few links, no chrome."""

    def render(ctx: PageContext) -> str:
        text = "".join(f"<p>{escape(p)}</p>\n" for p in paragraphs)
        listed = link_list(ctx, links) if links else ""
        return head(ctx, title) + f"<body>\n<h1>{escape(title)}</h1>\n{text}{listed}</body>\n</html>\n"

    return render

