"""Screening of a page's visible text: personal numbers (content:privacy) and wording (content:wording).

`screen(text, screening, today)` reads the text `spiders.extract.extract` already
has (title and body, scripts and styles removed) and returns `Finding`s whose
evidence is masked: a personal number never leaves this module whole, and
`Screened.redact` masks it in the other texts the page record carries (link
texts, date snippets, title). No page text is kept.

Personal numbers: 居民身份证号 (18 characters: a province prefix, a real birth
date not after `today`, the ISO 7064 check digit; 15-digit old numbers with a
valid date, only beside 身份证/证件), mobile numbers in assigned 1xx ranges
(with +86/0086, spaces or dashes), bank card numbers (16-19 digits, Luhn-valid,
only where 卡号/账号/银行 stands within a few characters). Look-alikes are
left alone: numbers inside URLs written in the text, numbers labelled as an
order, serial, document or registration number, wrong check digits, hotlines
and landlines. Wording: every term of the dictionary in one Aho-Corasick pass
over the text with full-/half-width folded and white space removed; a match
inside a right form or an allowed phrase of any term is not a finding.

Pure: no I/O; a Screening's automaton is built once per process, on first use.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import ahocorasick

from monitor.wordbook import SHIPPED, Term, fold
from spiders.dates import any_case
from spiders.items import Finding

__all__ = ["DEFAULT", "Screened", "Screening", "mask", "screen"]

CONTEXT = 10                  # characters of text kept on each side of a finding
MARGIN = 30                   # characters beyond the context read to star the digit runs it cuts
MAX_FINDINGS = 50             # distinct findings kept a page (repeats of one are counted)
LABEL_WINDOW = 8              # characters before a number searched for a label that says what it is
BANK_BEFORE, BANK_AFTER = 16, 8
PROVINCES = frozenset({11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
                       50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82})
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_MOBILE_PREFIXES = re.compile(r"1(?:3\d|4[5-9]|5[0-35-9]|6[25-7]|7[0-8]|8\d|9[0-35-9])")
# (?:https?://|www\.)[!-~]+ under re.IGNORECASE, spelt out so the engine keeps its fast scan for the first letters
# (IGNORECASE costs ~20 ns a character of the page); [!-~] then takes the four letters that fold into it.
_URL = re.compile(f"(?:{any_case('http://')}|{any_case('https://')}|{any_case('www.')})[!-~\u0130\u0131\u017f\u212a]+")
_RUN = re.compile(r"[0-9+][0-9 \-]{9,}[0-9Xx]")     # a run of digits a personal number may hide in
# Digit runs with single spaces or dashes between digits (ids, cards), and mobile numbers with their forms.
# Not after a letter, digit or URL punctuation (a query's "?id=…", a path's "/…"), nor after the 〕 of a 文号.
_LONG = re.compile(r"(?<![0-9A-Za-z=/_.&?#〕\]])\d(?:[ -]?\d){14,18}[Xx]?(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z+=/_.&?#〕\]])(?:(?:\+|00)86[ -]?)?1\d\d[ -]?\d{4}[ -]?\d{4}(?![0-9A-Za-z])")
_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d){6,}")
_ANY_DIGIT_RUN = re.compile(r"(?:[+＋]?(?:86|８６)[ \-－]?)?[0-9０-９](?:[ \-－]?[0-9０-９]){6,}[XxＸｘ]?")
_NOT_PERSONAL = re.compile(r"订单|单号|流水号|编号|编码|文号|批号|序列号|信用代码|备案号|登记号|运单|合同号|案号|许可证")
_ID_WORDS = re.compile(r"身份证|证件|身份号码")
_PERSONAL_WORDS = re.compile(r"身份证|证件|身份号码|手机|电话|联系方式|卡号|账号|帐号")
_BANK_WORDS = re.compile(r"卡号|账号|帐号|银行")


@dataclass(frozen=True)
class Screening:
    """What to screen for: picklable, so a worker process can be handed it; its matcher is built once
    per process, on first use (`automaton`), and never pickled."""

    terms: tuple[Term, ...] = SHIPPED
    privacy: bool = True
    wording: bool = True

    @functools.cached_property
    def automaton(self) -> ahocorasick.Automaton:
        # On the instance, not a cache keyed by the terms: hashing thousands of terms for every page cost
        # more than matching them.
        return _automaton(self.terms)

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "automaton"}


DEFAULT = Screening()


@dataclass(frozen=True)
class Screened:
    findings: tuple[Finding, ...] = ()
    numbers: frozenset[str] = field(default_factory=frozenset)   # the personal numbers found, digits only

    def redact(self, text: str) -> str:
        """`text` with every personal number this page holds masked (a no-op on pages without one)."""
        if not self.numbers or not text:
            return text
        return _ANY_DIGIT_RUN.sub(self._masked, text)

    def _masked(self, match: re.Match[str]) -> str:
        digits = _digits(unicodedata.normalize("NFKC", match[0])).upper().lstrip("+")
        if digits in self.numbers:
            return mask(digits)
        if digits.startswith("86") and digits[2:] in self.numbers:
            return "+86 " + mask(digits[2:])
        return match[0]


NOTHING = Screened()


def mask(number: str) -> str:
    """`2113**********1234`, `138****5678`: a mobile keeps 3 and 4 digits, anything longer 4 and 4."""
    if len(number) == 11:
        return number[:3] + "*" * 4 + number[-4:]
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def screen(text: str, screening: Screening, today: date) -> Screened:
    """The findings of one page's visible text (the title first, then the body's text pieces joined by
    new lines)."""
    if not text or not (screening.privacy or screening.wording):
        return NOTHING
    folded = fold(text)
    findings: list[Finding] = []
    numbers: set[str] = set()
    if screening.privacy:
        for finding, number in _personal(folded, today):
            numbers.add(number)
            findings.append(finding)
    if screening.wording and screening.terms:
        findings += _wording("".join(folded.split()), screening.terms, screening.automaton)
    if not findings:
        return NOTHING
    return Screened(tuple(_merged(findings)), frozenset(numbers))


def _digits(raw: str) -> str:
    return raw.replace(" ", "").replace("-", "")


def _merged(findings: list[Finding]) -> Iterator[Finding]:
    """One finding per kind and masked form on a page, counting its occurrences; at most MAX_FINDINGS."""
    seen: dict[tuple[str, str], Finding] = {}
    for f in findings:
        key = (f.kind, f.masked)
        if key in seen:
            first = seen[key]
            seen[key] = Finding(first.kind, first.masked, first.context, first.right, first.severity, first.source,
                                first.count + 1)
        elif len(seen) < MAX_FINDINGS:
            seen[key] = f
    yield from seen.values()


# Personal numbers

def _personal(text: str, today: date) -> Iterator[tuple[Finding, str]]:
    """Each personal number of `text` with its finding. The precise patterns run only inside the runs of
    at least 11 digits (one cheap pass over the page finds them; most pages hold only dates)."""
    taken: list[tuple[int, int]] = []
    urls: list[tuple[int, int]] | None = None
    for run in _RUN.finditer(text):
        raw = run[0]
        if len(raw) - raw.count(" ") - raw.count("-") < 11:
            continue
        if urls is None:  # URLs written in the text carry numbers that are addresses, not data
            urls = [m.span() for m in _URL.finditer(text)]
        lo, hi = run.start(), run.end() + 1     # one character more: the patterns look past the run's end
        for match in _LONG.finditer(text, lo, hi):
            found = _long(text, match, today, urls)
            if found is not None:
                taken.append(match.span())
                yield found
        for match in _MOBILE.finditer(text, lo, hi):
            number = _digits(match[0])[-11:]
            if (_MOBILE_PREFIXES.match(number) and not _labelled(text, match.start())
                    and not _inside(match.span(), urls) and not _inside(match.span(), taken, overlap=True)):
                yield _finding("mobile", number, text, match.span()), number


def _long(text: str, match: re.Match[str], today: date, urls: list[tuple[int, int]]) -> tuple[Finding, str] | None:
    """An ID card or bank card number, or None for a look-alike."""
    number = _digits(match[0]).upper()
    start = match.start()
    if _labelled(text, start) or _inside(match.span(), urls):
        return None
    kind = _id_kind(number, today, text, start) or (
        "bank_card" if number.isdigit() and 16 <= len(number) <= 19 and _luhn(number)
        and _BANK_WORDS.search(text, max(0, start - BANK_BEFORE), match.end() + BANK_AFTER) else None)
    return (_finding(kind, number, text, match.span()), number) if kind is not None else None


def _inside(span: tuple[int, int], spans: list[tuple[int, int]], overlap: bool = False) -> bool:
    start, end = span
    if overlap:
        return any(s < end and start < e for s, e in spans)
    return any(s <= start and end <= e for s, e in spans)


def _labelled(text: str, start: int) -> bool:
    """The words just before the number say it is an order, serial, document or registration number
    (and not, as in 证件编号, a personal one)."""
    low = max(0, start - LABEL_WINDOW)
    return _NOT_PERSONAL.search(text, low, start) is not None and _PERSONAL_WORDS.search(text, low, start) is None


def _id_kind(number: str, today: date, text: str, start: int) -> str | None:
    """"id_card" for a valid 居民身份证号 (a 15-digit old one only after its words), else None."""
    if not number[:15].isdigit() or int(number[:2]) not in PROVINCES:
        return None
    if len(number) == 18 and number[15:17].isdigit():
        valid = _born(number[6:14], today) and _CHECK[sum(int(d) * w for d, w in zip(number, _WEIGHTS)) % 11] == number[17]
    elif len(number) == 15:
        valid = _born("19" + number[6:12], today) and _ID_WORDS.search(text, max(0, start - 12), start) is not None
    else:
        valid = False
    return "id_card" if valid else None


def _born(yyyymmdd: str, today: date) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= today


def _luhn(number: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(number)):
        n = int(d)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _finding(kind: str, number: str, text: str, span: tuple[int, int]) -> Finding:
    return Finding(kind, mask(number), _context(text, span, mask(number)))


def _context(text: str, span: tuple[int, int], shown: str) -> str:
    """CONTEXT characters either side of `span` (shown as `shown`), white space collapsed. Digit runs
    around it are starred before the cut, so no part of a second number shows whole."""
    start, end = span
    low, high = max(0, start - CONTEXT - MARGIN), end + CONTEXT + MARGIN
    before = _masked_runs(text[low:start])[-CONTEXT:]
    after = _masked_runs(text[end:high])[:CONTEXT]
    return " ".join(f"{before}{shown}{after}".split())


def _masked_runs(text: str) -> str:
    """Long digit runs starred, keeping the length (offsets stay true)."""
    return _DIGIT_RUN.sub(lambda m: "*" * len(m[0]), text)


# Wording

def _automaton(terms: tuple[Term, ...]) -> ahocorasick.Automaton:
    """Every wrong form (value: its term's index, length) and every right form or allowed phrase that
    holds a wrong form (value: -1, length), which shields the wrong form inside it."""
    automaton = ahocorasick.Automaton()
    for i, term in enumerate(terms):
        if term.wrong not in automaton:
            automaton.add_word(term.wrong, (i, len(term.wrong)))
    automaton.make_automaton()
    shields = {phrase for term in terms for phrase in (term.right, *term.allowed)
               if phrase and phrase not in automaton and next(automaton.iter(phrase), None) is not None}
    for phrase in shields:
        automaton.add_word(phrase, (-1, len(phrase)))
    automaton.make_automaton()
    return automaton


def _wording(text: str, terms: tuple[Term, ...], automaton: ahocorasick.Automaton) -> Iterator[Finding]:
    wrong: list[tuple[int, int, int]] = []
    right: list[tuple[int, int]] = []
    for end, (index, length) in automaton.iter(text):
        start = end + 1 - length
        if index < 0:
            right.append((start, end + 1))
        else:
            wrong.append((start, end + 1, index))
    for start, end, index in wrong:
        if any(s <= start and end <= e for s, e in right):
            continue
        term = terms[index]
        yield Finding("wording", term.wrong, _context(text, (start, end), text[start:end]), term.right,
                      term.severity, term.source)
