"""The terms `content:wording` screens pages for: the shipped dictionary and the operator's word lists.

A `Term` is a wrong form with its right form (the suggestion; "" for a word
that must not appear at all), a severity ("fail" or "warn"), its source, and
the longer phrases that contain the wrong form and are correct (`allowed`:
"按排名" is no misspelt "安排"). The shipped entries are written for govmon:
each names the norm it follows. Operator lists (`[screening] wordlists`) are
UTF-8 text files, one term a line:

    # comment
    敏感词                     a word that must not appear (severity warn)
    敏感词 fail                the same, failing the check
    错误写法=正确写法 fail     a wrong form with the form to suggest

Pure and standard library only: the config validates lists with it, and the
crawl child (spiders/screen.py) builds its matcher from it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SEVERITIES", "SHIPPED", "Term", "WordlistError", "base_dir", "fold", "normalise", "read_wordlist",
           "resolve"]

SEVERITIES = ("fail", "warn")
CWD_ENV = "GOVMON_CWD"
"""The working directory relative word list paths are read from: the crawl child runs in its spool
folder, so the parent passes its own (monitor.crawl)."""
MAX_TERM = 64

SOURCE_CONSTITUTION = "《中华人民共和国宪法》（国号、国家机构名称）"
SOURCE_ORGANS = "国务院组成部门及直属机构的法定名称（中国政府网“国务院组织机构”）"
SOURCE_CPPCC = "《中国人民政治协商会议章程》"
SOURCE_PARTY = "党的全国代表大会报告及《中国共产党章程》的规范表述"
SOURCE_VARIANTS = "《第一批异形词整理表》（GF 1001-2001）推荐词形"
SOURCE_LEXICON = "《现代汉语词典》（第7版）规范词形；《国家通用语言文字法》"


@dataclass(frozen=True)
class Term:
    wrong: str                       # as matched: normalised (full-width folded, no white space)
    right: str = ""                  # the form to suggest; "" = the word must not appear
    severity: str = "warn"           # fail | warn
    source: str = ""                 # the norm the entry follows, or the word list file it came from
    allowed: tuple[str, ...] = ()    # correct phrases that contain `wrong`


_WIDE = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff0b\uff0d\u3000]")
_FOLD = {c: c - 0xFEE0 for c in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B),
                                 0xFF0B, 0xFF0D)} | {0x3000: 0x20}


_NARROW = {chr(wide): chr(narrow) for wide, narrow in _FOLD.items()}


def fold(text: str) -> str:
    """Full-width digits, Latin letters, ＋, － and the ideographic space as their half-width forms (the
    rest as it is: Chinese text is full of full-width punctuation, and folding every page whole would
    cost more than screening it). One str.replace for each wide character the text holds: str.translate
    looks every character up in a dict (~50 ns each), and pages indent with the ideographic space."""
    found = _WIDE.search(text)
    while found is not None:
        text = text.replace(found[0], _NARROW[found[0]])
        found = _WIDE.search(text, found.start())     # a replacement keeps the length
    return text


def normalise(text: str) -> str:
    """`fold`ed and every white space removed: the form both the terms and a page's text are matched in."""
    return "".join(fold(text).split())


def _t(wrong: str, right: str, severity: str, source: str, *allowed: str) -> Term:
    return Term(normalise(wrong), normalise(right), severity, source, tuple(normalise(a) for a in allowed))


SHIPPED: tuple[Term, ...] = (
    # Names that must never be misspelt: a misspelling is a 严重表述错误 (单项否决).
    _t("中华人名共和国", "中华人民共和国", "fail", SOURCE_CONSTITUTION),
    _t("中华人民共合国", "中华人民共和国", "fail", SOURCE_CONSTITUTION),
    _t("中华人民和国", "中华人民共和国", "fail", SOURCE_CONSTITUTION),
    _t("全国人民代表大回", "全国人民代表大会", "fail", SOURCE_CONSTITUTION),
    _t("全国人大长委会", "全国人大常委会", "fail", SOURCE_CONSTITUTION),
    _t("国务院办工厅", "国务院办公厅", "fail", SOURCE_ORGANS),
    _t("国家发展与改革委员会", "国家发展和改革委员会", "fail", SOURCE_ORGANS),
    _t("国家市场监督管理局", "国家市场监督管理总局", "fail", SOURCE_ORGANS),
    _t("中国人民政治协商会义", "中国人民政治协商会议", "fail", SOURCE_CPPCC),
    _t("中国特设社会主义", "中国特色社会主义", "fail", SOURCE_PARTY),
    _t("社会主义核心价值关", "社会主义核心价值观", "fail", SOURCE_PARTY),
    _t("中国共产觉", "中国共产党", "fail", SOURCE_PARTY),
    # Common 政务 misspellings: warn.
    _t("按排", "安排", "warn", SOURCE_LEXICON, "按排名", "按排序", "按排列", "按排放"),
    _t("既使", "即使", "warn", SOURCE_LEXICON, "既使用", "既使得"),
    _t("布署", "部署", "warn", SOURCE_LEXICON),
    _t("再接再励", "再接再厉", "warn", SOURCE_LEXICON),
    _t("迫不急待", "迫不及待", "warn", SOURCE_LEXICON),
    _t("按步就班", "按部就班", "warn", SOURCE_LEXICON),
    _t("一愁莫展", "一筹莫展", "warn", SOURCE_LEXICON),
    _t("防碍", "妨碍", "warn", SOURCE_LEXICON),
    _t("松驰", "松弛", "warn", SOURCE_LEXICON),
    _t("气慨", "气概", "warn", SOURCE_LEXICON),
    _t("坐阵", "坐镇", "warn", SOURCE_LEXICON),
    _t("峻工", "竣工", "warn", SOURCE_LEXICON),
    # Variant forms the 异形词 table settles.
    _t("笔划", "笔画", "warn", SOURCE_VARIANTS, "一笔划"),
    _t("含胡", "含糊", "warn", SOURCE_VARIANTS),
    _t("模胡", "模糊", "warn", SOURCE_VARIANTS),
    _t("录象", "录像", "warn", SOURCE_VARIANTS),
    _t("辈份", "辈分", "warn", SOURCE_VARIANTS),
)


class WordlistError(ValueError):
    """A word list that cannot be used: `line` (0 = the file itself) and why."""

    def __init__(self, path: str, line: int, why: str) -> None:
        self.path, self.line, self.why = path, line, why
        super().__init__(f"{path}:{line}: {why}" if line else f"{path}: {why}")


def base_dir() -> Path:
    return Path(os.environ.get(CWD_ENV) or os.getcwd())


def resolve(path: str) -> Path:
    """A word list's path: relative ones against the working directory of the command."""
    found = Path(path).expanduser()
    return found if found.is_absolute() else base_dir() / found


def read_wordlist(path: str) -> tuple[Term, ...]:
    """The terms of one operator word list; WordlistError names the first bad line."""
    try:
        text = resolve(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise WordlistError(path, 0, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise WordlistError(path, 0, "not UTF-8 text; save the file as UTF-8") from None
    terms: list[Term] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        severity = "warn"
        if len(words) > 1 and words[-1].lower() in SEVERITIES:
            severity = words.pop().lower()
        elif len(words) > 1 and words[-1].isascii() and words[-1].isalpha():
            raise WordlistError(path, number, f"unknown severity {words[-1]!r} (use fail or warn)")
        wrong, _, right = "".join(words).partition("=")
        wrong, right = normalise(wrong), normalise(right)
        if not wrong:
            raise WordlistError(path, number, "no term before '='")
        if len(wrong) > MAX_TERM:
            raise WordlistError(path, number, f"term longer than {MAX_TERM} characters")
        terms.append(Term(wrong, right, severity, Path(path).name))
    if not terms:
        raise WordlistError(path, 0, "holds no term")
    return tuple(terms)
