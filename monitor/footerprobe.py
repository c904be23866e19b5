"""The `footer` probe: the homepage footer's items as a browser shows them.

The crawl records links, not page text, and 网站标识码, ICP备案号 and 公安备案号
are usually plain text; the 我为政府网站找错 entry and the 党政机关网站标识 are
official embeds that a script draws. So one probe per site fetches the
homepage (through monitor.fetch: the resolver and the allowed networks) and
reads it the way a reader sees it:

- the page itself, content a CMS appended after </html> included;
- the embeds as published: `<script id="_jiucuo_" sitecode=… src=…jiucuo.js>`
  (its sitecode is the 网站标识码 too), a script whose src names jiucuo, an
  `_ideConac` span or div, the conac/dzjg script, and markup written by
  `document.write(unescape("%3Cspan id='_ideConac'…"))` (decoded and read);
- `<meta name="SiteIDCode">`, which TRS and Hanweb pages carry;
- ICP and 公安 numbers as footers write them (`滇ICP备05000002` without 号,
  `公安机关备案号：43010302000524`, `京公网安备 11010502000001号`), in text, a
  link's text or its title, full-width or not;
- when items are still missing: the footer iframes of the same site and the
  footer includes an inline script loads (`$("#footer").load("/foot.html")`;
  at most MAX_FRAMES, one level), and the same site's footer scripts (file
  names such as foot.js, bottom.js; at most MAX_SCRIPTS) whose string
  literals hold the footer they document.write.

The outcome is a Probe(kind="footer") whose detail maps each item to what
was found ("" when absent) and "forms" to how each was found:

    site_code   网站标识码, e.g. "2113000001"
    icp         ICP备案号, e.g. "辽ICP备000001号-1"
    police      公安备案号, e.g. "辽公网安备 21130000100001号"
    finderr     URL of the 我为政府网站找错 entry (or the text, when not a link)
    badge       URL of the 党政机关网站标识 image, link or script
    forms       item -> form, e.g. "script#_jiucuo_", "meta SiteIDCode",
                "text after </html>", "link title in iframe /include/foot.html"

`footer_found`, `footer_items` and `script_found` are pure; `probe_footer`
does the fetches and never raises for network outcomes.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree
from lxml.etree import _Element as Element

from checks.scope import SiteScope
from checks.snapshot import Probe
from monitor.fetch import Fetcher
from monitor.htmltext import after_end
from monitor.probes import probe_from
from spiders.extract import parse

log = logging.getLogger(__name__)

FOOTER_KIND = "footer"
ITEMS = ("site_code", "icp", "police", "finderr", "badge")
MAX_FRAMES = 3
MAX_SCRIPTS = 2

Found = dict[str, tuple[str, str]]
"""item -> (value, form), for the items found so far."""

_SITE_CODE = re.compile(r"网站标识码\s*[:：]?\s*([A-Za-z0-9]{10})")
_CODE = re.compile(r"^(?:\d{10}|[A-Za-z]{2}\d{8})$")
_ICP = re.compile(r"([\u4e00-\u9fff]\s*ICP\s*[备证]\s*\d{4,}\s*号?(?:\s*-\s*\d+)?)", re.IGNORECASE)
_POLICE = (re.compile(r"([\u4e00-\u9fff]\s*公网安备\s*\d{8,}\s*号?)"),
           re.compile(r"(公安(?:机关|部)?备案(?:编?号)?\s*[:：]?\s*\d{8,}\s*号?)"))
_FINDERR_HREF = re.compile(r"zfwzzc|jiucuo|pucha\.kaipuyun", re.IGNORECASE)
_BADGE_SCRIPT = re.compile(r"conac|dzjg", re.IGNORECASE)
_BADGE_SRC = re.compile(r"dzjg|conac|red\.png|dangzheng", re.IGNORECASE)
_WRITES = re.compile(r"jiucuo|conac|dzjg|ICP|公网安备|公安|网站标识码|找错|unescape", re.IGNORECASE)
_LITERAL = re.compile(r"""'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`""")
_JS_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.DOTALL)
_PERCENT_U = re.compile(r"%u([0-9a-fA-F]{4})")
_LOADED = re.compile(r"""\.load\(\s*['"]([^'"\s]+\.(?:s?html?|jsp|php|aspx?))['"]""", re.IGNORECASE)
_LEADING_END = re.compile(r"^(?:\s*</(?:body|html)\s*>)+", re.IGNORECASE)
_FOOTERISH = re.compile(r"foot|bottom|dibu|banquan|copyright|(?:^|[^a-z])(?:bq|db|btm)(?:[^a-z]|$)", re.IGNORECASE)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", " ".join(text.split()))


def _text(element: Element) -> str:
    return _norm("".join(element.itertext()))


def footer_items(html: str, base_url: str) -> dict[str, str]:
    """The footer items a page shows (see the module docstring); "" for each one absent."""
    found = footer_found(html, base_url)
    return {key: found[key][0] if key in found else "" for key in ITEMS}


def footer_found(html: str, base_url: str) -> Found:
    """Item -> (value, form) for what the page shows, the part after </html> included."""
    found: Found = {}
    cut = after_end(html)
    root = parse(html if cut is None else html[:cut])
    if root is not None:
        _scan(root, base_url, found, "")
    if cut is not None and len(found) < len(ITEMS):
        rest = html[cut:]
        closing = html[html.rfind("</", 0, cut):cut] + rest[:len(rest) - len(_LEADING_END.sub("", rest, count=1))]
        trailing = parse(rest)
        if trailing is not None:
            _scan(trailing, base_url, found, " after </html>" if "html" in closing.lower() else " after </body>")
    return found


def script_found(script: str, base_url: str, suffix: str | None = None) -> Found:
    """What the markup a script writes (its string literals, unescaped) shows. Forms end in `suffix`,
    by default " via document.write" or " via document.write(unescape)"."""
    found: Found = {}
    written, escaped = _written(script)
    root = parse(written) if written else None
    if root is not None:
        default = " via document.write(unescape)" if escaped else " via document.write"
        _scan(root, base_url, found, default if suffix is None else suffix)
    return found


def _put(found: Found, key: str, value: str, form: str) -> None:
    if value and key not in found:
        found[key] = (value, form)


def _scan(root: Element, base: str, found: Found, suffix: str) -> None:
    """Fill `found` from one tree; forms get `suffix` (where the tree came from).

    Embeds, links and images first (their forms are the most telling), then the
    visible text, then `<meta name="SiteIDCode">` and what inline scripts write.
    """
    inline: list[str] = []
    codes: list[str] = []
    drawn: list[str] = []
    for element in root.iter("script", "meta", "a", "img", "span", "div", "area"):
        tag = element.tag
        if tag == "script":
            _script(element, base, found, suffix, inline)
        elif tag == "meta":
            name = (element.get("name") or "").strip().lower()
            code = (element.get("content") or "").strip()
            if name == "siteidcode" and _CODE.match(code):
                codes.append(code)
        elif tag in ("a", "area"):
            _anchor(element, base, found, suffix)
        elif tag == "img":
            _image(element, base, found, suffix)
        else:
            marks = f"{element.get('id') or ''} {element.get('class') or ''}"
            if "_ideConac" in marks:
                inner = next((e.get("href") or e.get("src") for e in element.iter("a", "img")
                              if e.get("href") or e.get("src")), None)
                _put(found, "badge", urljoin(base, inner) if inner else base, f"{tag}#_ideConac{suffix}")
            if "_span_jiucuo" in marks:
                drawn.append(f"{tag}#_span_jiucuo{suffix}")
    etree.strip_elements(root, "script", "style", "noscript", "template", with_tail=False)
    text = _text(root)
    _numbers(text, found, "text" + suffix)
    if "我为政府网站找错" in text:
        _put(found, "finderr", "我为政府网站找错", "text" + suffix)
    if codes:
        _put(found, "site_code", codes[0], "meta SiteIDCode" + suffix)
    if drawn:
        _put(found, "finderr", base, drawn[0])
    for script in inline:
        for key, (value, form) in script_found(script, base).items():
            _put(found, key, value, form + suffix)


def _script(element: Element, base: str, found: Found, suffix: str, inline: list[str]) -> None:
    src = (element.get("src") or "").strip()
    if not src:
        if element.text and _WRITES.search(element.text):
            inline.append(element.text)
        return
    url = urljoin(base, src)
    code = (element.get("sitecode") or element.get("site_code") or "").strip()
    if element.get("id") == "_jiucuo_" or "jiucuo" in src.lower():
        form = "script#_jiucuo_" if element.get("id") == "_jiucuo_" else "script jiucuo.js"
        _put(found, "finderr", url, form + suffix)
        if _CODE.match(code):
            _put(found, "site_code", code, f"{form} sitecode{suffix}")
    elif _BADGE_SCRIPT.search(src) or element.get("id") == "_ideConac":
        _put(found, "badge", url, "script conac" + suffix)


def _anchor(element: Element, base: str, found: Found, suffix: str) -> None:
    href = (element.get("href") or "").strip()
    url = urljoin(base, href) if href and not href.lower().startswith("javascript") else ""
    text = _text(element)
    title = _norm(element.get("title") or "")
    image = next((_norm((i.get("alt") or "") + " " + (i.get("title") or "")) for i in element.iter("img")), "")
    for label, where in ((text, "link text"), (title, "link title"), (image, "image in link")):
        if not label:
            continue
        _numbers(label, found, where + suffix)
        if "找错" in label:
            _put(found, "finderr", url or label, where + suffix)
        if "党政机关" in label and url and (where == "image in link" or "标识" in label):
            _put(found, "badge", url, where + suffix)
    if url and _FINDERR_HREF.search(href):
        _put(found, "finderr", url, "link to the 找错 platform" + suffix)
    if url and "conac" in href.lower():
        _put(found, "badge", url, "link conac" + suffix)


def _image(element: Element, base: str, found: Found, suffix: str) -> None:
    src = (element.get("src") or element.get("data-src") or "").strip()
    label = (element.get("alt") or "") + (element.get("title") or "")
    linked = element.get("onclick") is not None or any(a.tag == "a" for a in element.iterancestors())
    if src and linked and ("jiucuo" in src.lower() or "找错" in label):
        how = "onclick" if element.get("onclick") is not None else "in link"
        _put(found, "finderr", urljoin(base, src), f"image jiucuo ({how}){suffix}")
    if src and ("党政机关" in label or _BADGE_SRC.search(src)):
        _put(found, "badge", urljoin(base, src), "image" + suffix)


def _numbers(text: str, found: Found, form: str) -> None:
    """网站标识码, ICP and 公安 numbers in a piece of text (NFKC-normalised)."""
    if "site_code" not in found and "标识码" in text:
        match = _SITE_CODE.search(text)
        if match:
            _put(found, "site_code", match.group(1), form)
    if "icp" not in found and ("ICP" in text or "icp" in text):
        match = _ICP.search(text)
        if match:
            _put(found, "icp", " ".join(match.group(1).split()), form)
    if "police" not in found and "公" in text:
        for pattern in _POLICE:
            match = pattern.search(text)
            if match:
                _put(found, "police", " ".join(match.group(1).split()), form)
                break


def _written(script: str) -> tuple[str, bool]:
    """(the markup a script's string literals hold, joined and unescaped; whether unescape() was used)."""
    parts: list[str] = []
    escaped = False
    for match in _LITERAL.finditer(script):
        literal = match.group(1) if match.group(1) is not None else (
            match.group(2) if match.group(2) is not None else match.group(3))
        value = _JS_ESCAPE.sub(_js_char, literal)
        if script[max(0, match.start() - 24):match.start()].rstrip().endswith("unescape("):
            value = unquote(_PERCENT_U.sub(lambda m: chr(int(m.group(1), 16)), value))
            escaped = True
        parts.append(value)
    written = "".join(parts)
    return (written if "<" in written or _WRITES.search(written) else ""), escaped


def _js_char(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "ux" and len(code) > 1:
        return chr(int(code[1:], 16))
    return {"n": "\n", "t": "\t", "r": "\r"}.get(code, code)


def _same_site(url: str, home: str) -> bool:
    return SiteScope.of(home).covers(url)   # the site scope rule (checks.scope)


def footer_frames(html: str, base: str) -> list[tuple[str, str]]:
    """Same-site pages a page shows its footer from, as (URL, "iframe" | "include"): iframe/frame
    sources, footer-like ones (foot, bottom, dibu …) first, then from the end; then footer includes
    a script loads (`$("#footer").load("/include/footer.html")`)."""
    root = parse(html)
    if root is None:
        return []
    frames = [e for e in root.iter("iframe", "frame") if (e.get("src") or "").strip()]
    ranked = sorted(reversed(frames), key=lambda e: not _FOOTERISH.search(
        " ".join((e.get("src") or "", e.get("id") or "", e.get("name") or "", e.get("class") or "",
                  *(a.get("class") or "" for a in e.iterancestors())))))
    sources = [(e.get("src", "").strip(), "iframe") for e in ranked]
    sources += [(m.group(1), "include") for e in root.iter("script") if not e.get("src") and e.text
                and ".load(" in e.text for m in _LOADED.finditer(e.text)
                if _FOOTERISH.search(m.group(1).rsplit("/", 1)[-1])]
    urls = {urljoin(base, source): how for source, how in reversed(sources)}
    return [(u, urls[u]) for u in dict.fromkeys(urljoin(base, source) for source, _ in sources)
            if u.startswith(("http://", "https://")) and _same_site(u, base)]


def footer_scripts(html: str, base: str) -> list[str]:
    """Same-site script URLs whose file name says footer (foot.js, bottom.js, dibu.js …)."""
    root = parse(html)
    if root is None:
        return []
    urls = [urljoin(base, (e.get("src") or "").strip()) for e in root.iter("script") if (e.get("src") or "").strip()]
    return list(dict.fromkeys(u for u in urls if u.startswith(("http://", "https://")) and _same_site(u, base)
                              and _FOOTERISH.search(urlsplit(u).path.rsplit("/", 1)[-1])))


def _merge(found: Found, more: Found, origin: str) -> None:
    for key, (value, form) in more.items():
        _put(found, key, value, f"{form} in {origin}")


async def probe_footer(fetcher: Fetcher, url: str, clock: Callable[[], datetime], retries: int = 0) -> Probe:
    """Fetch the homepage (retrying transient failures `retries` times; then, for missing items, its
    footer frames and scripts once each); record the items."""
    outcome, attempts = await fetcher.fetch_retrying(url, retries=retries)
    probe = probe_from(FOOTER_KIND, url, outcome, clock(), attempts)
    if not outcome.ok:
        return probe
    html, base = outcome.text(), outcome.final_url
    found = footer_found(html, base)
    if len(found) < len(ITEMS):
        for frame, how in footer_frames(html, base)[:MAX_FRAMES]:
            framed = await fetcher.fetch(frame)
            if framed.ok:
                _merge(found, footer_found(framed.text(), framed.final_url), f"{how} {urlsplit(frame).path}")
    if len(found) < len(ITEMS):
        for source in footer_scripts(html, base)[:MAX_SCRIPTS]:
            fetched = await fetcher.fetch(source)
            if fetched.ok:
                _merge(found, script_found(fetched.text(), fetched.final_url, ""),
                       f"footer script {urlsplit(source).path}")
    items = {key: found[key][0] if key in found else "" for key in ITEMS}
    forms = {key: found[key][1].strip() for key in ITEMS if key in found}
    log.debug("footer of %s: %s (%s)", url, items, forms)
    return replace(probe, detail={**probe.detail, **items, "forms": forms})
