"""Which elements of a page a reader never sees (暗链 hide links in them): the `hidden`
attribute, an inline style, or a rule of the page's own <style> blocks that hides
the element or an ancestor — display:none, visibility:hidden, zero size with its
overflow hidden, or a position far off-screen.

Only simple selectors are read (`#id`, `.class`, `tag`, `tag.class`, `tag#id`, the
last compound of a descendant selector, comma lists); rules inside @media (a menu
hidden on one screen size is shown on another) and other at-rules are skipped.
Linked stylesheets are not read here: the crawl keeps pages, not CSS bodies.

Pure: elements in, reasons out; no I/O, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml.etree import _Element as Element

__all__ = ["HiddenRules", "hiding"]

_DISPLAY = re.compile(r"(?:^|[;{\s])display\s*:\s*none\s*(?:!important\s*)?(?:;|}|$)", re.IGNORECASE)
_VISIBILITY = re.compile(r"(?:^|[;{\s])visibility\s*:\s*hidden\s*(?:!important\s*)?(?:;|}|$)", re.IGNORECASE)
_ZERO = re.compile(r"(?:^|[;{\s])(?:width|height)\s*:\s*0(?:px|em|rem|%)?\s*(?:!important\s*)?(?:;|$)", re.IGNORECASE)
_OVERFLOW = re.compile(r"overflow\s*:\s*hidden", re.IGNORECASE)
_OFFSCREEN = re.compile(r"(?:^|[;{\s])(?:left|top|right|margin-left|margin-top|text-indent)\s*:\s*-\d{3,}(?:\.\d+)?"
                        r"(?:px|em|rem)?\b", re.IGNORECASE)
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_SIMPLE = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)?((?:[.#][\w-]+)*)$")
_PART = re.compile(r"([.#])([\w-]+)")


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


@dataclass
class HiddenRules:
    """The hiding rules of a page's <style> blocks, keyed by what their selector names."""

    ids: dict[str, str] = field(default_factory=dict)          # id -> "why (selector)"
    classes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    compound: list[tuple[str, frozenset[str], str, str]] = field(default_factory=list)   # tag, classes, id, why
    seen: dict[Element, str] = field(default_factory=dict)

    @classmethod
    def of(cls, root: Element) -> HiddenRules:
        rules = cls()
        for style in root.iter("style"):
            rules.add(style.text or "")
        return rules

    def add(self, css: str) -> None:
        for selectors, body in _top_level_rules(_COMMENT.sub("", css)):
            why = hiding(body)
            if not why:
                continue
            for selector in selectors.split(","):
                last = selector.strip().split()[-1] if selector.strip() else ""
                match = _SIMPLE.match(last.split(":", 1)[0])
                if match is None or not last:
                    continue
                tag, rest = (match.group(1) or "").lower(), match.group(2)
                parts = _PART.findall(rest)
                named = f"{why} ({selector.strip()})"
                if not parts and tag:
                    if tag not in ("html", "body"):
                        self.tags.setdefault(tag, named)
                elif len(parts) == 1 and not tag:
                    (self.ids if parts[0][0] == "#" else self.classes).setdefault(parts[0][1], named)
                else:
                    ident = next((name for kind, name in parts if kind == "#"), "")
                    self.compound.append((tag, frozenset(n for k, n in parts if k == "."), ident, named))

    def why(self, element: Element) -> str:
        """Why the element or an ancestor is hidden ("display:none (inline style)", "visibility:hidden
        (.dl a)", "hidden attribute"), or ""."""
        chain: list[Element] = []
        node: Element | None = element
        found = ""
        while node is not None and isinstance(node.tag, str):
            if node in self.seen:
                found = self.seen[node]
                break
            chain.append(node)
            found = self._own(node)
            if found:
                break
            node = node.getparent()
        for visited in chain:
            self.seen[visited] = found
        return found

    def _own(self, node: Element) -> str:
        if node.get("hidden") is not None:
            return "hidden attribute"
        inline = hiding(node.get("style") or "")
        if inline:
            return f"{inline} (inline style)"
        if not (self.ids or self.classes or self.tags or self.compound):
            return ""
        ident = node.get("id") or ""
        names = (node.get("class") or "").split()
        if ident in self.ids:
            return self.ids[ident]
        for name in names:
            if name in self.classes:
                return self.classes[name]
        tag = str(node.tag).lower()
        if tag in self.tags:
            return self.tags[tag]
        for want_tag, want_classes, want_id, why in self.compound:
            if (not want_tag or want_tag == tag) and want_classes <= set(names) and (not want_id or want_id == ident):
                return why
        return ""


def _top_level_rules(css: str) -> list[tuple[str, str]]:
    """(selectors, declarations) of the style sheet's rules outside any at-rule block."""
    rules: list[tuple[str, str]] = []
    depth = 0
    start = 0
    selector = ""
    at_rule = False
    for i, ch in enumerate(css):
        if ch == "{":
            if depth == 0:
                selector = css[start:i].strip()
                at_rule = selector.startswith("@")
                start = i + 1
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                if not at_rule:
                    rules.append((selector, css[start:i]))
                start = i + 1
            depth = max(depth, 0)
        elif ch == ";" and depth == 0:
            start = i + 1       # an @import or @charset statement
    return rules
