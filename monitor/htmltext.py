"""Decoding and reading HTML bytes the way browsers do for Chinese sites.

Shared by the fetch layer and the crawl child, so it imports nothing but the
standard library. Pure functions; never raise on bad input.
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass

_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_GB_CODECS = frozenset({"gb2312", "gbk", "gb18030"})
TITLE_MAX = 300


@dataclass(frozen=True)
class Decoded:
    """A decoded HTML body: the text, the codec used and the codec its header or <meta> declared."""

    text: str
    codec: str
    declared: str = ""          # codec name of the declared charset; "" when none was declared

    @property
    def lied(self) -> bool:
        """The declared charset garbles the page and another one reads it cleanly (see `decode`)."""
        return bool(self.declared) and self.declared != self.codec


def decode(body: bytes, declared: str | None) -> Decoded:
    """Decode an HTML body the way a careful reader does.

    Order: a BOM, the declared (header) charset, a <meta> charset in the first
    4 KiB, then strict UTF-8, then GB18030, then UTF-8 with replacement. Any GB
    label decodes as GB18030, the superset browsers use for GBK and GB2312.

    Charset lies: when the declared charset does not decode the body strictly
    (some browsers then show 乱码) but GB18030 does, the page is read as
    GB18030; a page declared GB that decodes strictly only as UTF-8 is read as
    UTF-8. Evidence only: an error in the last 3 bytes is a body cut short, not
    a lie. The common path is one strict decode.
    """
    if body.startswith(codecs.BOM_UTF8):
        return Decoded(body[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"), "utf-8")
    meta = _META_CHARSET.search(body[:4096])
    for label in (declared, meta.group(1).decode("ascii", "ignore") if meta else None):
        codec = _codec(label)
        if codec is not None:
            return _declared(body, codec)
    for codec in ("utf-8", "gb18030"):
        try:
            return Decoded(body.decode(codec), codec)
        except UnicodeDecodeError:
            continue
    return Decoded(body.decode("utf-8", errors="replace"), "utf-8")


def _declared(body: bytes, codec: str) -> Decoded:
    try:
        return Decoded(body.decode(codec), codec, codec)
    except UnicodeDecodeError as exc:
        if exc.start < len(body) - 3:
            other = "utf-8" if codec == "gb18030" else "gb18030"
            try:
                return Decoded(body.decode(other), other, codec)
            except UnicodeDecodeError:
                pass
    return Decoded(body.decode(codec, errors="replace"), codec, codec)


def decode_html(body: bytes, declared: str | None) -> tuple[str, str]:
    """`decode`, as (text, codec used)."""
    decoded = decode(body, declared)
    return decoded.text, decoded.codec


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return "gb18030" if name in _GB_CODECS else name


_END_TAGS = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
_COMMENTS = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)


def after_end(text: str) -> int | None:
    """Where content after the document's last </body> or </html> starts, or None when nothing but
    whitespace, comments and end tags follows them (the usual page: decided on its last 256 characters)."""
    tail = _COMMENTS.sub("", text[-256:]).rstrip().lower()
    if tail.endswith("</html>"):
        body = tail.rfind("</body")
        if body >= 0 and not tail[tail.find(">", body) + 1:-len("</html>")].strip():
            return None
    ends = [max(text.rfind(tag), text.rfind(tag.upper())) for tag in ("</body", "</html")]
    found = [end for end in ends if end >= 0]
    if not found:
        return None
    end = min(found)
    close = text.find(">", end)
    if close < 0:
        return None
    rest = text[close + 1:]
    if not rest.strip() or not _END_TAGS.sub("", _COMMENTS.sub("", rest)).strip():
        return None
    return close + 1


def as_browsers_read(text: str) -> str:
    """The markup with its </body> and </html> end tags dropped when content follows them.

    CMSs append footers, counters and the 找错/党政机关 scripts after </html>;
    browsers put that content into the body, while libxml2 drops everything
    after </html> and leaves what follows </body> outside it. Without the end
    tags libxml2 keeps it in the body too. Unchanged (and cheap) otherwise.
    """
    if after_end(text) is None:
        return text
    return _END_TAGS.sub("", text)


def extract_title(text: str) -> str:
    """The <title> text: entities unescaped, whitespace collapsed, cut at 300 characters."""
    match = _TITLE.search(text)
    if match is None:
        return ""
    return " ".join(html.unescape(match.group(1)).split())[:TITLE_MAX]


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def declared_charset(content_type: str) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([^\"';\s]+)", content_type, re.IGNORECASE)
    return match.group(1).lower() if match else None


_HIDDEN = re.compile(r"<(script|style|noscript|template)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")

# Not-found wording. Titles are short, so a broad list is safe there; in body text
# only the sentences 404 pages use, and only in a short text (a long article may
# quote them, e.g. a report on inspected sites). The English words match in any
# case. Every alternative starts with a literal character and no flag is set, so
# the regex engine scans for those characters fast (re.IGNORECASE, or an
# alternative led by a group or a class, costs ~20 ns a character instead of ~3).


def _cased(word: str) -> str:
    """`word` matched in any case (its letters have no case variants beyond ASCII's)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isascii() and c.isalpha() else c for c in word)


_VISITED = r"(?:所)?(?:访问|请求|查找|浏览|要找)的(?:页面|网页|内容|文章|链接|信息)(?:已)?(?:被)?(?:不存在|删除|找不到|未找到|丢失|失效|走丢)"
_NOT_FOUND_WORDS = _cased("not") + r"\s+" + _cased("found")
_NOT_FOUND_STRICT = (
    r"页面不存在|网页不存在|页面未找到|网页未找到|页面找不到|网页找不到|页面走丢|无法找到(?:该|此)?(?:页面|网页)"
    r"|找不到(?:该|此|您要的|您所访问的|您访问的|您请求的|相关)?(?:页面|网页)"
    f"|您{_VISITED}|你{_VISITED}|页面(?:已)?(?:被)?删除"
    f"|p{_cased('age')}\\s+{_NOT_FOUND_WORDS}|P{_cased('age')}\\s+{_NOT_FOUND_WORDS}|404\\s+{_NOT_FOUND_WORDS}"
)
_NOT_FOUND_BROAD = (
    _NOT_FOUND_STRICT
    + r"|页面(?:已)?失效|信息(?:已)?不存在|文章不存在|内容不存在|资源不存在"
    + f"|n{_cased('ot')}\\s*{_cased('found')}|N{_cased('ot')}\\s*{_cased('found')}"
)
_STRICT = re.compile(_NOT_FOUND_STRICT)
_BROAD = re.compile(_NOT_FOUND_BROAD)
# A bare 404, but not a document number such as 朝政发〔2022〕404号 or 第404期.
_BARE_404 = re.compile(r"(?<![\d〔\[（(第-])404(?![\d号期条])")
NOT_FOUND_TITLE_404_MAX = 30
NOT_FOUND_TEXT_MAX = 2000
NOT_FOUND_SHORT_TEXT_MAX = 500


def visible_text(html_text: str) -> str:
    """The text a reader sees: scripts, styles and comments dropped, tags removed,
    entities unescaped, whitespace collapsed to single spaces."""
    stripped = _TAG.sub(" ", _HIDDEN.sub(" ", html_text))
    return " ".join(html.unescape(stripped).split())


def not_found(title: str, text: str, *, text_max: int = NOT_FOUND_TEXT_MAX) -> bool:
    """Whether a page that answered 200 says it does not exist (soft-404 wording).

    True when the title carries not-found wording (a bare "404" only in a title
    of at most 30 characters), when visible text of at most 2,000 characters
    carries a typical 404 sentence (页面不存在, 您访问的页面不存在, 页面未找到 …),
    or when text of at most 500 characters says 404 / Not Found. A longer page
    that merely mentions them does not count. A caller that has already cut
    navigation and footer away passes a smaller `text_max`.
    """
    if _BROAD.search(title) or (len(title) <= NOT_FOUND_TITLE_404_MAX and _BARE_404.search(title)):
        return True
    if len(text) <= text_max and _STRICT.search(text):
        return True
    return len(text) <= NOT_FOUND_SHORT_TEXT_MAX and bool(_BROAD.search(text) or _BARE_404.search(text))
