"""The content screening cases of issue 15 on one demo site, 朝阳市民政局, with their ground truth.

- /gsgg/dbgs.html, a 低保 notice, and its HTML attachment /gsgg/fj/mingdan.htm:
  18-digit 身份证号 (one ending in X, one in full-width digits), a 15-digit old
  number after 身份证号码, mobile numbers plain, with +86 and spaces, with
  dashes, a bank card (grouped by four) after 银行卡号 and an account after 账号;
- /gsgg/bmxx.html, look-alikes that must not be findings: a wrong check
  digit, an impossible birth date, numbers labelled 订单号/证书编号/文号, a
  number inside a URL written in the text and inside an href, the 12345
  hotline and landlines, a Luhn-valid number without a bank word, a
  Luhn-invalid one after 卡号, a 15-digit number without 身份证, unassigned
  mobile ranges, numbers in a script, a comment and an attribute;
- /zwgk/gzap.html, wording: a misspelt state body (severe; written with a
  space), common misspellings and a variant form (warn), the demo word list's
  terms (`WORDLIST`: one written in full-width letters); beside them what
  must not be flagged: 按排名, 既使用, the right forms, an operator term inside
  its right form (人民政府办公室), and wrong forms in a script, a style, a
  title attribute and an image's alt text.

Every personal number here is synthetic (`PLANTED`), made for the demo with a
correct check digit where one is needed; names are 某某. Pure data for a
given `today`; sites.py adds the plan, truth.py reads `content_truth`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from monitor.demo import content
from monitor.demo.build import SitePlan
from monitor.demo.columns import Column
from monitor.demo.markup import a, img, layout
from monitor.demo.spec import LinkSpec, PageContext, PageSpec, Ref

SITE_ID = "chaoyang-mzj"
HOST = "mzj.chaoyang.gov.test"
NOTICE = "/gsgg/dbgs.html"
ATTACHMENT = "/gsgg/fj/mingdan.htm"
LOOKALIKES = "/gsgg/bmxx.html"
WORDING = "/zwgk/gzap.html"
QUERY_PAGE = "/bmcx/"
WORDLIST_FILE = "demo-words.txt"
WORDLIST = ("# govmon 演示词表（issue 15）\n"
            "政府办公室=人民政府办公室 fail   # 机关名称须用全称\n"
            "VIP通道                         # 政务服务不设特权通道\n")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(first17: str) -> str:
    """An 18-character 居民身份证号 with its ISO 7064 MOD 11-2 check character."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def luhn(first: str) -> str:
    """`first` with the Luhn check digit appended."""
    total = 0
    for i, d in enumerate(reversed(first)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return first + str((10 - total % 10) % 10)


def _with_x() -> str:
    """The first synthetic number of a 1980s birth date whose check character is X."""
    return next(n for seq in range(100, 999) if (n := id_number(f"21130219850607{seq}")).endswith("X"))


ID_X = _with_x()
ID_PLAIN = id_number("21130219900202002")
ID_WIDE = id_number("21130219760315003")
ID_OLD = "211302800303004"                         # 15 digits, born 1980-03-03
MOBILE_PLAIN = "13800000001"
MOBILE_86 = "15900000002"
MOBILE_DASH = "18600000003"
BANK_CARD = luhn("622200000000000")                  # 16 digits
BANK_ACCOUNT = luhn("622848000000000000")            # 19 digits

WRONG_CHECK = ID_PLAIN[:17] + ("1" if ID_PLAIN[17] != "1" else "2")
BAD_DATE = id_number("21130219901332005")            # month 13
LABELLED_ID = id_number("21130219881111006")         # after 证书编号
ORDER = "13800000009"
URL_DIGITS = "13800000010"
HREF_DIGITS = "13800000011"
UNASSIGNED = ("14000000012", "12000000013")
NO_BANK_WORD = luhn("622200000000001")
BAD_LUHN = BANK_CARD[:-1] + str((int(BANK_CARD[-1]) + 1) % 10)
NO_ID_WORD = "211302800404007"
IN_SCRIPT = "13900000014"
IN_ATTRIBUTE = "13900000015"
IN_COMMENT = id_number("21130219700101008")

PERSONAL: tuple[str, ...] = (ID_X, ID_PLAIN, ID_WIDE, ID_OLD, MOBILE_PLAIN, MOBILE_86, MOBILE_DASH, BANK_CARD,
                             BANK_ACCOUNT)
"""The personal numbers the demo web publishes: every one is a finding, none may be stored whole."""
PLANTED: tuple[str, ...] = (*PERSONAL, WRONG_CHECK, BAD_DATE, LABELLED_ID, ORDER, URL_DIGITS, *UNASSIGNED,
                            NO_BANK_WORD, BAD_LUHN, NO_ID_WORD, IN_SCRIPT, IN_ATTRIBUTE, IN_COMMENT)
"""Every personal-looking number in the demo's page text, found or not: page text is never stored, so none
may be found whole in a run's outputs either (HREF_DIGITS is a link's URL, stored as links are)."""


def mask(number: str) -> str:
    return number[:3] + "****" + number[-4:] if len(number) == 11 else number[:4] + "*" * (len(number) - 8) + number[-4:]


def _wide(number: str) -> str:
    return number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})


def _spaced(number: str, sep: str, groups: Sequence[int]) -> str:
    parts, at = [], 0
    for size in groups:
        parts.append(number[at:at + size])
        at += size
    return sep.join(parts)


def _notice(ctx: PageContext) -> str:
    main = ("<h2>关于2024年第三季度城乡低保新增对象的公示</h2>\n"
            "<p>经个人申请、入户调查和民主评议，拟将以下人员纳入城乡低保，现予公示。</p>\n"
            "<table class=\"gs\">\n<tr><th>姓名</th><th>身份证号</th><th>联系电话</th></tr>\n"
            f"<tr><td>张某某</td><td>{ID_X}</td><td>{MOBILE_PLAIN}</td></tr>\n"
            f"<tr><td>李某某</td><td>{_wide(ID_WIDE)}</td><td>+86 {_spaced(MOBILE_86, ' ', (3, 4, 4))}</td></tr>\n"
            "</table>\n"
            f"<p>名单详见附件：{a(ctx, ATTACHMENT, '低保对象名单.htm')}</p>\n"
            "<p>公示期间如有异议，请拨打民政服务热线 12345 或 0421-2612345 反映。</p>\n")
    return layout(ctx, f"低保新增对象公示_{ctx.site.name}", main)


def _attachment(ctx: PageContext) -> str:
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>低保对象名单</title></head><body>\n"
            f"<p>王某某，身份证号码：{ID_OLD}，手机：{_spaced(MOBILE_DASH, '-', (3, 4, 4))}</p>\n"
            f"<p>赵某某，身份证：{ID_PLAIN}</p>\n"
            f"<p>低保金发放银行卡号：{_spaced(BANK_CARD, ' ', (4, 4, 4, 4))}</p>\n"
            f"<p>代发账号 {BANK_ACCOUNT}（朝阳市农村信用社）</p>\n"
            "</body></html>\n")


def _lookalikes(ctx: PageContext) -> str:
    link = a(ctx, f"{QUERY_PAGE}?sjh={HREF_DIGITS}", "办理进度查询")
    main = ("<h2>便民信息</h2>\n"
            f"<p>身份证号：{WRONG_CHECK}（校验位有误的示例，不是有效号码）。</p>\n"
            f"<p>出生日期无效的号码：{BAD_DATE}。</p>\n"
            f"<p>证书编号：{LABELLED_ID}</p>\n"
            f"<p>订单号：{ORDER}，文号：朝民发〔2024〕13号。</p>\n"
            f"<p>查询地址 http://{HOST}/bmcx/{URL_DIGITS}.html 或点击{link}。</p>\n"
            "<p>民政服务热线：12345；办公电话：0421-2612345，(0421)2612346。</p>\n"
            f"<p>统计代码 {NO_BANK_WORD} 为本局内部统计口径，与个人无关。</p>\n"
            f"<p>卡号：{BAD_LUHN}（校验不通过的示例）。</p>\n"
            f"<p>档案 {NO_ID_WORD}；号段未分配：{UNASSIGNED[0]}、{UNASSIGNED[1]}。</p>\n"
            f"<script>var kefu = \"{IN_SCRIPT}\";</script>\n"
            f"<!-- 旧版联系人 {IN_COMMENT} -->\n"
            f"<p title=\"值班手机 {IN_ATTRIBUTE}\">值班安排见公告。</p>\n")
    return layout(ctx, f"便民信息_{ctx.site.name}", main)


def _wording(ctx: PageContext) -> str:
    main = ("<h2>2024年民政重点工作安排</h2>\n"
            "<p>根据国务院 办工厅有关通知要求，现将重点工作按排如下。</p>\n"
            "<p>各地要保存好入户调查的录象资料。请将材料报送市政府办公室。</p>\n"
            "<p>服务大厅开设ＶＩＰ通道的做法应予纠正。</p>\n"
            "<p>按排名先后确定顺序；既使用线上渠道，也保留线下窗口。国务院办公厅、朝阳市人民政府办公室的通知一并执行。</p>\n"
            "<script>var note = \"国务院办工厅\";</script>\n"
            "<style>/* 录象 */ .gz{color:#333}</style>\n"
            "<p title=\"中华人名共和国\">以上安排自发布之日起执行。</p>\n"
            f"<p>{img(ctx, '/images/logo.png', '工作按排')}</p>\n")
    return layout(ctx, f"重点工作安排_{ctx.site.name}", main)


def _privacy(url: str, kind: str, number: str, count: int = 1) -> dict[str, Any]:
    return {"url": url, "check": "content:privacy", "kind": kind, "masked": mask(number), "count": count}


def _word(url: str, wrong: str, right: str, severity: str) -> dict[str, Any]:
    return {"url": url, "check": "content:wording", "kind": "wording", "masked": wrong, "right": right,
            "severity": severity, "count": 1}


def findings(page_url: str, path: str) -> list[dict[str, Any]]:
    """The findings a correct screening reports on the case page at `path` (served as `page_url`)."""
    return {
        NOTICE: [_privacy(page_url, "id_card", ID_X), _privacy(page_url, "id_card", ID_WIDE),
                 _privacy(page_url, "mobile", MOBILE_PLAIN), _privacy(page_url, "mobile", MOBILE_86)],
        ATTACHMENT: [_privacy(page_url, "id_card", ID_OLD), _privacy(page_url, "id_card", ID_PLAIN),
                     _privacy(page_url, "mobile", MOBILE_DASH), _privacy(page_url, "bank_card", BANK_CARD),
                     _privacy(page_url, "bank_card", BANK_ACCOUNT)],
        WORDING: [_word(page_url, "国务院办工厅", "国务院办公厅", "fail"), _word(page_url, "按排", "安排", "warn"),
                  _word(page_url, "录象", "录像", "warn"), _word(page_url, "政府办公室", "人民政府办公室", "fail"),
                  _word(page_url, "VIP通道", "", "warn")],
    }.get(path, [])


def content_truth(site_id: str, page_urls: Mapping[str, str], available: bool) -> dict[str, Any]:
    """{privacy, wording, findings} for a listed site: `page_urls` maps each crawled page's URL to its
    path on the site's host ("" for another host). Every page but the case pages publishes nothing."""
    found = [f for url, path in sorted(page_urls.items()) for f in (findings(url, path) if site_id == SITE_ID else ())]
    if not available or not page_urls:
        return {"privacy": "error", "wording": "error", "findings": []}
    words = [f for f in found if f["check"] == "content:wording"]
    wording = "fail" if any(f["severity"] == "fail" for f in words) else "warn" if words else "pass"
    privacy = "fail" if any(f["check"] == "content:privacy" for f in found) else "pass"
    return {"privacy": privacy, "wording": wording, "findings": found}


def _columns() -> tuple[Column, ...]:
    return (Column("工作动态", "/gzdt/", (4, 7, 11), home=3, titles="xwdt"),
            Column("政务公开", "/zwgk/", children=(Column("通知公告", "/zwgk/tzgg/", (5, 13), home=2),)))


def screen_case_plans() -> tuple[SitePlan, ...]:
    """The issue 15 case site (see the module docstring)."""
    return (SitePlan(SITE_ID, HOST, "朝阳市民政局", "other", "city", "2113000209", _columns(),
                     case="issue 15: personal numbers (身份证号, 手机号, 银行卡号) in a notice and its HTML "
                          "attachment, look-alikes that are none, wording errors and the demo word list's terms",
                     groups=(("上级链接", (("朝阳市人民政府", Ref("www.chaoyang.gov.test")),)),),
                     extras={"/": (LinkSpec("a", NOTICE, "低保新增对象公示"), LinkSpec("a", LOOKALIKES, "便民信息"),
                                   LinkSpec("a", WORDING, "2024年民政重点工作安排"))},
                     pages={NOTICE: PageSpec(body=_notice), ATTACHMENT: PageSpec(body=_attachment),
                            LOOKALIKES: PageSpec(body=_lookalikes), WORDING: PageSpec(body=_wording),
                            QUERY_PAGE: PageSpec(body=content.text_page("办理进度查询", ["请输入受理编号查询办理进度。"]))}),)


def write_wordlist(folder: Path) -> Path:
    """The demo word list (`WORDLIST`) written into `folder`, for the demo config's [screening] wordlists."""
    path = folder / WORDLIST_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(WORDLIST, encoding="utf-8")
    return path
