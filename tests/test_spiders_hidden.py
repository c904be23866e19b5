"""Which elements a reader never sees (spiders/hidden.py), on literal markup."""

from __future__ import annotations

import pytest

from spiders.extract import parse
from checks.cssrules import chain, hiding_rule, selector
from spiders.hidden import HiddenRules, element_hooks, hiding, sheet_rules


@pytest.mark.parametrize(("style", "why"), [
    pytest.param("display:none", "display:none", id="display-none"),
    pytest.param("DISPLAY : NONE !important", "display:none", id="case-and-spaces"),
    pytest.param("visibility: hidden", "visibility:hidden", id="visibility"),
    pytest.param("height:0;overflow:hidden", "zero size", id="zero-height-clipped"),
    pytest.param("height:0", "", id="zero-height-overflowing-shows"),
    pytest.param("position:absolute;left:-9999px", "off-screen", id="off-screen"),
    pytest.param("text-indent:-2000px", "off-screen", id="text-indent"),
    pytest.param("left:-10px", "", id="a-small-shift-shows"),
    pytest.param("display:block;color:red", "", id="shown"),
    pytest.param("display:none-ish", "", id="not-a-value"),
])
def test_declarations_that_hide(style: str, why: str) -> None:
    assert hiding(style) == why


def anchors(html: str) -> dict[str, str]:
    root = parse(html)
    rules = HiddenRules.of(root)
    return {a.get("href"): rules.why(a) for a in root.iter("a")}


def test_page_rules_hide_by_id_class_tag_and_compound_but_not_inside_media_queries() -> None:
    html = ("<html><head><style>/* .c{display:block} */ #i{display:none} .c{visibility:hidden} "
            "div.d{display:none} .x .y{display:none} @media (max-width:600px){.m{display:none}} "
            "@import url(a.css); .ok{color:red}</style></head><body>"
            "<div id='i'><a href='1'>1</a></div><p class='a c'><a href='2'>2</a></p><div class='d'><a href='3'>3</a>"
            "</div><span class='d'><a href='4'>4</a></span><div class='y'><a href='5'>5</a></div>"
            "<div class='x'><p><span class='y'><a href='9'>9</a></span></p></div>"
            "<div class='m'><a href='6'>6</a></div><div class='ok'><a href='7'>7</a></div>"
            "<div hidden><a href='8'>8</a></div></body></html>")
    assert anchors(html) == {"1": "display:none (#i)", "2": "visibility:hidden (.c)", "3": "display:none (div.d)",
                             "4": "", "5": "", "6": "", "7": "", "8": "hidden attribute",
                             "9": "display:none (.x .y)"}


SITE_CSS = """@charset "utf-8";
/* a site-wide sheet */
.gg{display:none}
#ad > .inner { position:absolute; left:-9999px }
.m-nav{display:none}
@media (max-width:640px){.m-nav{display:block}.pc-only{display:none}}
.menu .sub{display:none}
.menu li:hover .sub{display:block}
.tab-panel{display:none}
.tab-panel.on{display:block}
.nav li ul{visibility:hidden}
.nav li:hover ul{visibility:visible}
div::-webkit-scrollbar{display:none}
a:hover{display:none}
input[type=hidden]{display:none}
body{display:none}
.a + .b{display:none}
.hidden, .sr-only{display:none !important}
.box{height:0;overflow:hidden}
.yl a{display:none}
.nav a{display:block}
"""


def test_a_linked_sheet_keeps_the_rules_that_hide_and_none_undone_conditional_or_unread() -> None:
    assert sheet_rules(SITE_CSS) == [("display:none", ".gg"), ("off-screen", "#ad > .inner"),
                                     ("display:none", ".hidden"), ("display:none", ".sr-only"),
                                     ("zero size", ".box"), ("display:none", ".yl a")]


def test_a_sheet_without_hiding_rules_and_a_broken_sheet_give_none() -> None:
    assert sheet_rules("body{font-family:SimSun}.nav li{display:inline-block}") == []
    assert sheet_rules("}}{ .gg{display:none") == []
    assert sheet_rules("") == []


def test_the_hooks_of_a_link_and_its_ancestors_are_its_tags_ids_and_readable_classes() -> None:
    root = parse("<html><body class='home'><div id='yq' class='box gg'><ul><li class='w-1/2 on'>"
                 "<a class='x' href='http://bet.example/'>x</a></li></ul></div></body></html>")
    [link] = root.iter("a")
    assert element_hooks(link) == "a.x li.on ul div#yq.box.gg body.home"


@pytest.mark.parametrize(("rule", "hooks", "hidden"), [
    pytest.param(".gg", "a li ul div#yq.box.gg body", True, id="an-ancestors-class"),
    pytest.param("#yq", "a li ul div#yq.box.gg body", True, id="an-ancestors-id"),
    pytest.param("div.gg", "a div#yq.box.gg", True, id="tag-and-class"),
    pytest.param("span.gg", "a div#yq.box.gg", False, id="another-tag"),
    pytest.param(".box.gg", "a div.box.gg", True, id="two-classes"),
    pytest.param(".box.ad", "a div.box.gg", False, id="a-class-missing"),
    pytest.param("body .gg a", "a li div.gg body", True, id="descendant-chain"),
    pytest.param(".gg li", "a li div.gg", True, id="the-link-s-ancestor-inside-the-hiding-one"),
    pytest.param(".foot .gg", "a div.gg body", False, id="an-ancestor-missing"),
    pytest.param("#ad > .inner", "a p.inner div#ad", True, id="child-read-as-descendant"),
])
def test_a_rule_hides_a_link_when_its_selector_selects_the_link_or_an_ancestor(rule: str, hooks: str,
                                                                               hidden: bool) -> None:
    assert (hiding_rule([("display:none", rule)], hooks) is not None) is hidden


def test_selectors_not_read_are_none() -> None:
    assert [selector(text) is None for text in (".a:hover", "input[type=x]", "*", ".a + .b", "", ".a .b")] == [
        True, True, True, True, True, False]
    assert [tuple(c) for c in chain("a div#x.gg")] == [("a", "", frozenset()), ("div", "x", frozenset({"gg"}))]


@pytest.mark.parametrize(("shown", "hidden", "undone"), [
    pytest.param(".menu li .sub", ".menu .sub", True, id="a-drop-down-shown-on-hover"),
    pytest.param(".sub.on", ".sub", True, id="a-tab-shown-by-a-class"),
    pytest.param(".m-nav", ".m-nav", True, id="the-same-selector-again"),
    pytest.param(".footer .sub", ".menu .sub", False, id="the-same-element-elsewhere"),
    pytest.param(".nav a", ".yl a", False, id="links-shown-in-another-block"),
    pytest.param("div", ".gg", False, id="a-less-specific-rule"),
])
def test_which_showing_rule_undoes_a_hiding_one(shown: str, hidden: str, undone: bool) -> None:
    from checks.cssrules import undoes
    assert undoes(selector(shown) or (), selector(hidden) or ()) is undone
