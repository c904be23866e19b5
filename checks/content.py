"""content:privacy and content:wording: what the crawled pages publish.

Both judge the findings the crawl's screening left on each page
(`Page.findings`, spiders/screen.py): personal numbers arrive masked, so no
check, result or report ever holds one whole. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.snapshot import Finding, Page, SiteSnapshot

MAX_EVIDENCE = 100
"""Evidence rows a result keeps (the metrics count them all)."""
PRIVACY_KINDS = ("id_card", "mobile", "bank_card")


def _screened(snap: SiteSnapshot) -> list[Page]:
    # Reading order (homepage, then depth and URL), not fetch order: the evidence kept is capped.
    return [p for p in snap.pages_in_order if p.fetch_kind == "ok" and p.status is not None and 200 <= p.status < 300]


def _findings(pages: list[Page], kinds: tuple[str, ...]) -> list[tuple[Page, Finding]]:
    return [(page, f) for page in pages for f in page.findings if f.kind in kinds]


PRIVACY_WORDS = {
    "id_card": T(zh="居民身份证号", en="ID card number"),
    "mobile": T(zh="手机号码", en="mobile number"),
    "bank_card": T(zh="银行卡号", en="bank card number"),
}


@check(
    id="content:privacy",
    title=T(zh="个人信息保护", en="Personal data"),
    failure_title=T(zh="网页公开了个人信息", en="Pages publish personal data"),
    description=T(
        zh="抓取时筛查每个网页的可见文字：居民身份证号（18 位须地区码、出生日期、校验位均有效；15 位老号码须出生日期有效且"
           "标明身份证）、手机号码（已分配号段，含 +86、空格、横线写法）、银行卡号（16–19 位、Luhn 校验有效且前后写有"
           "卡号/账号/银行）。文号、订单号等编号、网址中的数字、校验位错误的号码、热线和座机不算。发现任一即不合格；"
           "证据只保存打码后的号码（如 138****5678）和前后少量文字，完整号码不入库、不写入任何导出和报告。",
        en="Each page's visible text is screened while crawling: ID card numbers (18 characters with a valid region, "
           "birth date and check digit; 15-digit old numbers with a valid date beside 身份证), mobile numbers in "
           "assigned ranges (+86, spaces and dashes included), bank card numbers (16-19 digits, Luhn-valid, beside "
           "卡号/账号/银行). Document, order and serial numbers, numbers in URLs, wrong check digits, hotlines and "
           "landlines are not findings. Any finding fails; evidence keeps only the masked number (138****5678) and a "
           "little context: the whole number is never stored, exported or reported."),
    basis="一(二)1 保护个人隐私; 四(一) 防止敏感信息泄露;《中华人民共和国个人信息保护法》",
    severity=Severity.MAJOR,
    needs={"crawl"},
    metrics={
        "pages_screened": M("筛查网页数", "Pages screened"),
        "pages_with_findings": M("含个人信息的网页数", "Pages with personal data"),
        "id_card": M("身份证号", "ID card numbers"),
        "mobile": M("手机号码", "Mobile numbers"),
        "bank_card": M("银行卡号", "Bank card numbers"),
    },
    details={"personal": T(zh="{what} {masked}（{count} 处）", en="{what} {masked} ({count} times)")},
    words=PRIVACY_WORDS,
    coded={"what": "words"},
    messages={
        "ok": T(zh="筛查 {pages} 个网页，未发现个人信息", en="{pages} pages screened; no personal data found"),
        "found": T(zh="{pages_with} 个网页公开了个人信息（身份证号 {id_card} 个，手机号码 {mobile} 个，银行卡号 {bank_card} 个）",
                   en="{pages_with} pages publish personal data ({id_card} ID card, {mobile} mobile and "
                      "{bank_card} bank card numbers)"),
        "no_pages": T(zh="没有抓取到网页，无法筛查", en="No page was crawled; nothing to screen"),
    },
)
def content_privacy(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    pages = _screened(snap)
    if not pages:
        return Verdict(Status.ERROR, "no_pages")
    found = _findings(pages, PRIVACY_KINDS)
    kinds = Counter(f.kind for _, f in found)
    with_findings = len({page.url for page, _ in found})
    metrics = {"pages_screened": len(pages), "pages_with_findings": with_findings,
               **{kind: kinds.get(kind, 0) for kind in PRIVACY_KINDS}}
    if not found:
        return Verdict(Status.PASS, "ok", {"pages": len(pages)}, metrics)
    evidence = tuple(Evidence(url=page.url, detail=f.kind, text=f.context, actual=f.masked, key="personal",
                              params={"what": f.kind, "masked": f.masked, "count": f.count})
                     for page, f in found[:MAX_EVIDENCE])
    return Verdict(Status.FAIL, "found", {"pages_with": with_findings, **{k: kinds.get(k, 0) for k in PRIVACY_KINDS}},
                   metrics, evidence)


@check(
    id="content:wording",
    title=T(zh="严重表述错误与敏感词", en="Wording errors and listed words"),
    failure_title=T(zh="网页有严重表述错误", en="Pages carry severe wording errors"),
    description=T(
        zh="抓取时用内置词典（国号、国家机构名称、规范表述的错误写法及常见错别字、异形词，每条注明依据）和配置中的词表"
           "（[screening] wordlists）一次扫描每个网页的可见文字（不含脚本、样式和属性，全角半角与空白已统一）。"
           "正确写法中包含错误写法的不算。严重条目出现即不合格（严重表述错误属单项否决），其他条目为警告。",
        en="While crawling, each page's visible text (no scripts, styles or attributes; full/half width and white "
           "space normalised) is matched in one pass against the shipped dictionary (misspellings of the "
           "country's name, state bodies and official wording, common misspellings and variant forms, each with "
           "its source) and the config's word lists ([screening] wordlists). A wrong form inside a right form is "
           "not a finding. A severe entry fails the check (a severe wording error is a veto); others warn."),
    basis="三(一) 关键词和错别字筛查; 国家政府网站检查指标：严重表述错误（单项否决）",
    severity=Severity.VETO,
    needs={"crawl"},
    metrics={
        "pages_screened": M("筛查网页数", "Pages screened"),
        "pages_with_findings": M("有问题的网页数", "Pages with findings"),
        "severe": M("严重错误（处）", "Severe findings"),
        "other": M("一般问题（处）", "Other findings"),
    },
    details={
        "wrong": T(zh="“{wrong}”应为“{right}”（依据：{source}）", en="“{wrong}” should read “{right}” (source: {source})"),
        "listed": T(zh="出现词表中的“{wrong}”（{source}）", en="Listed word “{wrong}” appears ({source})"),
    },
    messages={
        "ok": T(zh="筛查 {pages} 个网页，未发现表述错误", en="{pages} pages screened; no wording error found"),
        "severe": T(zh="{pages_with} 个网页有 {severe} 处严重表述错误（另有一般问题 {other} 处）",
                    en="{pages_with} pages carry {severe} severe wording errors ({other} other findings)"),
        "minor": T(zh="{pages_with} 个网页有 {other} 处错别字或词表用语", en="{pages_with} pages carry {other} misspellings or listed words"),
        "no_pages": T(zh="没有抓取到网页，无法筛查", en="No page was crawled; nothing to screen"),
    },
)
def content_wording(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    pages = _screened(snap)
    if not pages:
        return Verdict(Status.ERROR, "no_pages")
    # Severe findings first, so the kept evidence shows them.
    found = sorted(_findings(pages, ("wording",)), key=lambda pf: pf[1].severity != "fail")
    severe = sum(f.count for _, f in found if f.severity == "fail")
    other = sum(f.count for _, f in found if f.severity != "fail")
    with_findings = len({page.url for page, _ in found})
    metrics = {"pages_screened": len(pages), "pages_with_findings": with_findings, "severe": severe, "other": other}
    if not found:
        return Verdict(Status.PASS, "ok", {"pages": len(pages)}, metrics)
    evidence = tuple(Evidence(url=page.url, detail=f"wording {f.severity}", text=f.context, actual=f.masked,
                              expected=f.right or None, key="wrong" if f.right else "listed",
                              params={"wrong": f.masked, "right": f.right, "source": f.source})
                     for page, f in found[:MAX_EVIDENCE])
    fill = {"pages_with": with_findings, "severe": severe, "other": other}
    if severe:
        return Verdict(Status.FAIL, "severe", fill, metrics, evidence)
    return Verdict(Status.WARN, "minor", fill, metrics, evidence, severity=Severity.MINOR)
