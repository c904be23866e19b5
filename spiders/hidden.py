"""Which elements of a page a reader never sees (暗链 hide links in them): the `hidden`
attribute, an inline style, or a rule of the page's own <style> blocks or of a
linked style sheet that hides the element or an ancestor — display:none,
visibility:hidden, zero size with its overflow hidden, or a position far off-screen.

Selectors are read by checks.cssrules (type, #id, .class compounds and descendant
or child combinators; others are not read). Rules inside @media (a menu hidden on
one screen size is shown on another) and other at-rules are skipped, and so is a
hiding rule that another rule undoes for the same element on :hover, with an
extra class or inside @media (a drop-down menu, a tab panel, a responsive menu).
The crawl reads a page's own <style> blocks here (`HiddenRules`); a linked sheet
it fetches once a site is read by `sheet_rules`, kept with the sheet's record, and
links:hidden matches it against the hooks (`element_hooks`) the page recorded.

Pure: elements and CSS text in, reasons out; no I/O, no clock.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from lxml.etree import _Element as Element

from checks.cssrules import Compound, compound, hidden_at, hooks, selector, undoes

__all__ = ["HOOKS_CHARS", "SHEET_RULES_MAX", "HiddenRules", "element_hooks", "hiding", "sheet_notes", "sheet_rules"]

_DISPLAY = re.compile(r"(?:^|[;{\s])display\s*:\s*none\s*(?:!important\s*)?(?:;|}|$)", re.IGNORECASE)
_VISIBILITY = re.compile(r"(?:^|[;{\s])visibility\s*:\s*hidden\s*(?:!important\s*)?(?:;|}|$)", re.IGNORECASE)
_ZERO = re.compile(r"(?:^|[;{\s])(?:width|height)\s*:\s*0(?:px|em|rem|%)?\s*(?:!important\s*)?(?:;|$)", re.IGNORECASE)
_OVERFLOW = re.compile(r"overflow\s*:\s*hidden", re.IGNORECASE)
_OFFSCREEN = re.compile(r"(?:^|[;{\s])(?:left|top|right|margin-left|margin-top|text-indent)\s*:\s*-\d{3,}(?:\.\d+)?"
                        r"(?:px|em|rem)?\b", re.IGNORECASE)
_SHOWS = re.compile(r"(?:^|[;{\s])(?:display\s*:\s*(?!none\b)[a-z-]+|visibility\s*:\s*visible)", re.IGNORECASE)
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_PSEUDO = re.compile(r"::?[\w-]+(?:\([^)]*\))?")
_BRACES = re.compile(r"[{};]")
HOOKS_CHARS = 400               # a chain of hooks longer than this is cut (its outermost ancestors go)
SHEET_RULES_MAX = 500           # hiding selectors kept of one linked sheet


def hiding(style: str) -> str:
    """Why declarations hide what they apply to ("display:none", "visibility:hidden", "zero size",
    "off-screen"), or "" when they do not."""
    if not style:
        return ""
    if _DISPLAY.search(style):
        return "display:none"
    if _VISIBILITY.search(style):
        return "visibility:hidden"
    if _ZERO.search(style) and _OVERFLOW.search(style):
        return "zero size"
    if _OFFSCREEN.search(style):
        return "off-screen"
    return ""


Rule = tuple[tuple[Compound, ...], str]          # compounds, "why (selector)"


@dataclass
class HiddenRules:
    """The hiding rules of a page's <style> blocks, keyed by what their last compound names."""

    ids: dict[str, list[Rule]] = field(default_factory=lambda: defaultdict(list))
    classes: dict[str, list[Rule]] = field(default_factory=lambda: defaultdict(list))
    tags: dict[str, list[Rule]] = field(default_factory=lambda: defaultdict(list))
    seen: dict[Element, str] = field(default_factory=dict)

    @classmethod
    def of(cls, root: Element) -> HiddenRules:
        rules = cls()
        css = "\n".join(style.text or "" for style in root.iter("style"))
        for why, text in sheet_rules(css) if css.strip() else ():
            rules.add_rule(text, why)
        return rules

    def add(self, css: str) -> None:
        for why, text in sheet_rules(css):
            self.add_rule(text, why)

    def add_rule(self, text: str, why: str) -> None:
        compounds = selector(text)
        if compounds is None:
            return
        last = compounds[-1]
        rule = (compounds, f"{why} ({text})")
        if last.ident:
            self.ids[last.ident].append(rule)
        elif last.classes:
            self.classes[min(last.classes)].append(rule)
        else:
            self.tags[last.tag].append(rule)

    def why(self, element: Element) -> str:
        """Why the element or an ancestor is hidden ("display:none (inline style)", "visibility:hidden
        (.dl a)", "hidden attribute"), or ""."""
        path: list[Element] = []
        node: Element | None = element
        found = ""
        while node is not None and isinstance(node.tag, str):
            if node in self.seen:
                found = self.seen[node]
                break
            path.append(node)
            found = self._own(node)
            if found:
                break
            node = node.getparent()
        for visited in path:
            self.seen[visited] = found
        return found

    def _own(self, node: Element) -> str:
        if node.get("hidden") is not None:
            return "hidden attribute"
        inline = hiding(node.get("style") or "")
        if inline:
            return f"{inline} (inline style)"
        if not (self.ids or self.classes or self.tags):
            return ""
        names = (node.get("class") or "").split()
        candidates = [*self.ids.get(node.get("id") or "", ()), *(r for n in names for r in self.classes.get(n, ())),
                      *self.tags.get(str(node.tag).lower(), ())]
        if not candidates:
            return ""
        elements: list[Compound] | None = None
        for compounds, why in candidates:
            if len(compounds) > 1 and elements is None:
                elements = [_hooks_of(n) for n in (node, *node.iterancestors())]
            if hidden_at(compounds, elements or [_hooks_of(node)]) == 0:
                return why
        return ""


def _hooks_of(node: Element) -> Compound:
    return compound(hooks(str(node.tag), node.get("id") or "", (node.get("class") or "").split())) or Compound(
        "", "", frozenset())


def element_hooks(element: Element) -> str:
    """The hooks of an element and its ancestors up to <body> included ("a li ul.list div#yq.gg body"), at
    most HOOKS_CHARS: what a linked sheet's rule can select it by (checks.cssrules.chain reads it)."""
    parts: list[str] = []
    size = 0
    node: Element | None = element
    while node is not None and isinstance(node.tag, str) and node.tag != "html":
        ident, names = node.get("id"), node.get("class")
        # Without an id or a class the hooks are the tag alone: most ancestors (a, li, body) have neither.
        part = hooks(node.tag, ident or "", (names or "").split()) if ident or names else node.tag.lower()
        size += len(part) + 1
        if size > HOOKS_CHARS:
            break
        parts.append(part)
        node = node.getparent()
    return " ".join(parts)


def sheet_rules(css: str) -> list[tuple[str, str]]:
    """(why, selector) of a style sheet's rules that hide what they select: read selectors only, outside
    at-rules, and not undone for the same element by another rule (see the module docstring). At most
    SHEET_RULES_MAX."""
    hiding_rules: list[tuple[str, str, tuple[Compound, ...]]] = []
    shown: list[tuple[Compound, ...]] = []
    for selectors, body, top in _rules(_COMMENT.sub("", css)):
        why = hiding(body) if top else ""
        shows = not why and _SHOWS.search(body) is not None
        if not why and not shows:
            continue
        for text in (part.strip() for part in selectors.split(",")):
            if why:
                compounds = selector(text)
                if compounds is not None and not (len(compounds) == 1 and compounds[0].tag in ("html", "body")
                                                  and not compounds[0].ident and not compounds[0].classes):
                    hiding_rules.append((why, " ".join(text.replace(">", " > ").split()), compounds))
            elif (undone := selector(_PSEUDO.sub("", text))) is not None:
                shown.append(undone)
    kept = [(why, text) for why, text, compounds in hiding_rules
            if not any(undoes(other, compounds) for other in shown)]
    return kept[:SHEET_RULES_MAX]


def sheet_notes(body: bytes) -> dict[str, list[list[str]]] | None:
    """A linked sheet's notes as the crawl keeps them: {"hides": [[why, selector, selector…], …]}, one row a
    way of hiding (links:hidden reads them, checks.cssrules); None when it hides nothing."""
    rows: dict[str, list[str]] = {}
    for why, text in sheet_rules(body.decode("utf-8", "replace")):
        rows.setdefault(why, [why]).append(text)
    return {"hides": list(rows.values())} if rows else None


def _rules(css: str, top: bool = True) -> list[tuple[str, str, bool]]:
    """(selectors, declarations, outside any at-rule) of a style sheet's rules, those inside @media and
    @supports blocks included (other at-rules' blocks are not rules)."""
    rules: list[tuple[str, str, bool]] = []
    depth = 0
    start = 0
    selector_text = ""
    for mark in _BRACES.finditer(css):
        i, ch = mark.start(), mark.group()
        if ch == "{":
            if depth == 0:
                selector_text = css[start:i].strip()
                start = i + 1
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                body = css[start:i]
                if not selector_text.startswith("@"):
                    rules.append((selector_text, body, top))
                elif selector_text[1:].lower().startswith(("media", "supports")):
                    rules += _rules(body, top=False)
                start = i + 1
            depth = max(depth, 0)
        elif depth == 0:
            start = i + 1       # an @import or @charset statement
    return rules
