"""Which elements a reader never sees (spiders/hidden.py), on literal markup."""

from __future__ import annotations

import pytest

from spiders.extract import parse
from spiders.hidden import HiddenRules, hiding


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
            "<div class='m'><a href='6'>6</a></div><div class='ok'><a href='7'>7</a></div>"
            "<div hidden><a href='8'>8</a></div></body></html>")
    assert anchors(html) == {"1": "display:none (#i)", "2": "visibility:hidden (.c)", "3": "display:none (div.d)",
                             "4": "", "5": "display:none (.x .y)", "6": "", "7": "", "8": "hidden attribute"}
