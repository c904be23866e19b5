"""CSS selectors as govmon reads them for 暗链 (links:hidden): the selectors a hiding
rule names, the hooks (tag, id, classes) of an element and its ancestors they
can match, and the match. Shared by the crawl (spiders/hidden.py reads a page's
<style> blocks and a site's linked style sheets with it) and links:hidden (which
matches the hooks a page recorded for its off-site links against the rules of
its linked sheets), so both read a selector the same way.

A selector read is compounds of a type, an #id and .classes joined by descendant
or child combinators (a child combinator is read as a descendant one); one with
anything else (attributes, pseudo-classes, sibling combinators, `*`) is not read.

Pure: strings in, answers out; no I/O.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

__all__ = ["Compound", "SheetRules", "chain", "compound", "hidden_at", "hiding_rule", "hooks", "selector", "undoes"]

_COMPOUND = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)?((?:[.#][\w-]+)*)$")
_PART = re.compile(r"([.#])([\w-]+)")
_NAME = re.compile(r"^[\w-]+$")
CLASSES_MAX = 8


class Compound(NamedTuple):
    tag: str                    # lower case; "" for any
    ident: str                  # "" for any
    classes: frozenset[str]

    def covers(self, hooks: Compound) -> bool:
        """Whether this compound selects an element with these hooks."""
        return ((not self.tag or self.tag == hooks.tag) and (not self.ident or self.ident == hooks.ident)
                and self.classes <= hooks.classes)


def compound(text: str) -> Compound | None:
    """`div#id.a.b` as a Compound; None when it is not a compound read here."""
    found = _COMPOUND.match(text) if text else None
    if found is None:
        return None
    parts = _PART.findall(found.group(2))
    idents = [name for kind, name in parts if kind == "#"]
    if len(idents) > 1:
        return None
    return Compound((found.group(1) or "").lower(), idents[0] if idents else "",
                    frozenset(name for kind, name in parts if kind == "."))


def selector(text: str) -> tuple[Compound, ...] | None:
    """The compounds of one selector (no comma list), outermost first; None when it is not read here."""
    found: list[Compound] = []
    for token in text.replace(">", " ").split():
        part = compound(token)
        if part is None:
            return None
        found.append(part)
    return tuple(found) or None


def hooks(tag: str, ident: str, classes: Sequence[str]) -> str:
    """An element's hooks in a chain's form, `tag#id.class…`: only names a selector read here can name."""
    ident = ident if _NAME.match(ident) else ""
    names = [name for name in dict.fromkeys(classes) if _NAME.match(name)][:CLASSES_MAX]
    return tag.lower() + (f"#{ident}" if ident else "") + "".join(f".{name}" for name in names)


def chain(text: str) -> tuple[Compound, ...]:
    """A stored chain of hooks (an element first, then its ancestors, space-separated) as Compounds."""
    return tuple(compound(token) or Compound("", "", frozenset()) for token in text.split())


def hidden_at(rule: Sequence[Compound], elements: Sequence[Compound]) -> int:
    """The index in `elements` (an element, then its ancestors) of the nearest one `rule` selects; -1 if none."""
    if not rule:
        return -1
    last, outer = rule[-1], rule[:-1]
    for i, element in enumerate(elements):
        if last.covers(element) and _within(outer, elements[i + 1:]):
            return i
    return -1


def undoes(shown: Sequence[Compound], hidden: Sequence[Compound]) -> bool:
    """Whether a rule that shows what `shown` selects (its pseudo-classes left out) shows what a rule hiding
    `hidden` hides: its element is one `hidden` selects, within the ancestors `hidden` names (`.menu .sub`
    is undone by `.menu li:hover .sub` and by `.sub.on`, not by `.footer .sub`)."""
    return bool(shown and hidden) and hidden[-1].covers(shown[-1]) and _within(hidden[:-1], shown[-2::-1])


def _within(outer: Sequence[Compound], ancestors: Sequence[Compound]) -> bool:
    """Whether the compounds, outermost first, select ancestors in order (the nearest match is enough)."""
    at = 0
    for part in reversed(outer):
        while at < len(ancestors) and not part.covers(ancestors[at]):
            at += 1
        if at == len(ancestors):
            return False
        at += 1
    return True


class SheetRules:
    """A sheet's (why, selector) hiding rules, indexed by what their last compound names, to match the chains
    of many links: a chain is looked up by its elements' tags, ids and classes, and each chain once."""

    def __init__(self, rules: Iterable[tuple[str, str]]) -> None:
        self.rules: dict[str, list[tuple[tuple[Compound, ...], str, str]]] = defaultdict(list)
        for why, text in rules:
            compounds = selector(text)
            if compounds is not None:
                last = compounds[-1]
                key = f"#{last.ident}" if last.ident else f".{min(last.classes)}" if last.classes else last.tag
                self.rules[key].append((compounds, why, text))
        self.answers: dict[str, tuple[str, str] | None] = {}

    def __bool__(self) -> bool:
        return bool(self.rules)

    def hiding(self, hooks_text: str) -> tuple[str, str] | None:
        """(why, selector) of a rule that selects an element of a stored chain of hooks (the nearest), else None."""
        if hooks_text in self.answers:
            return self.answers[hooks_text]
        elements = chain(hooks_text)
        found: tuple[str, str] | None = None
        for i, element in enumerate(elements):
            keys = [element.tag, *(f".{name}" for name in element.classes)] + ([f"#{element.ident}"]
                                                                               if element.ident else [])
            found = next(((why, text) for key in keys for compounds, why, text in self.rules.get(key, ())
                          if compounds[-1].covers(element) and _within(compounds[:-1], elements[i + 1:])), None)
            if found is not None:
                break
        self.answers[hooks_text] = found
        return found


def hiding_rule(rules: Iterable[tuple[str, str]], hooks_text: str) -> tuple[str, str] | None:
    """The (why, selector) of `rules` that selects an element of a stored chain of hooks, else None."""
    return SheetRules(rules).hiding(hooks_text)
