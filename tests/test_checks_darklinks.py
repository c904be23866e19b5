"""links:hidden on literal snapshots: hidden links to other sites fail; hidden menus of the site's own do not."""

from __future__ import annotations

from dataclasses import replace

from checks.base import Status
from checks.darklinks import links_hidden
from tests.builders import page, snapshot

HOME = "https://www.s1.gov.cn/"


def test_a_hidden_link_to_another_site_fails_once_per_target() -> None:
    hidden = (("http://bet.example/", "display:none (.x)"), ("https://xxgk.s1.gov.cn/a/", "display:none (.m)"))
    pages = [replace(page(HOME), hidden=hidden), replace(page(HOME + "b/", depth=1), hidden=hidden[:1])]
    verdict = links_hidden(snapshot(pages=pages), {})
    assert (verdict.status, verdict.metrics["count"], verdict.metrics["pages_with"]) == (Status.FAIL, 1, 2)
    [row] = verdict.evidence
    assert (row.url, row.source, row.key, row.params) == ("http://bet.example/", HOME, "hidden_rule",
                                                          {"way": "display:none", "rule": ".x"})


def test_hidden_links_within_the_site_scope_pass() -> None:
    pages = [replace(page(HOME), hidden=(("https://xxgk.s1.gov.cn/a/", "hidden attribute"),))]
    assert links_hidden(snapshot(pages=pages), {}).status == Status.PASS
    assert links_hidden(snapshot(pages=[page(HOME, status=404)]), {}).status == Status.ERROR


SHEET = HOME + "css/style.css"


def sheet_page(hides: tuple[tuple[str, str], ...], status: int = 200) -> object:
    return replace(page(SHEET, depth=1, status=status, content_type="text/css"), hides=hides)


def test_a_link_a_rule_of_its_pages_linked_sheet_hides_fails_and_names_the_rule_and_the_sheet() -> None:
    hooks = (("http://bet.example/", "a div.gg body"), ("http://www.ln.gov.cn/", "a li ul.links div.foot body"),
             ("https://xxgk.s1.gov.cn/", "a li ul.m-nav body"))
    home = replace(page(HOME), sheets=(SHEET, HOME + "css/missing.css"), hooks=hooks)
    rules = (("display:none", ".m-nav"), ("display:none", ".gg"), ("off-screen", "#ad .inner"))
    verdict = links_hidden(snapshot(pages=[home, sheet_page(rules)]), {})
    assert (verdict.status, verdict.metrics) == (Status.FAIL, {"pages": 1, "count": 1, "pages_with": 1})
    [row] = verdict.evidence
    assert (row.url, row.source, row.key, row.params, row.detail) == (
        "http://bet.example/", HOME, "hidden_sheet", {"way": "display:none", "rule": ".gg", "sheet": "/css/style.css"},
        "hidden: display:none (.gg in /css/style.css)")


def test_a_sheet_that_did_not_load_or_hides_nothing_there_hides_no_link() -> None:
    home = replace(page(HOME), sheets=(SHEET,), hooks=(("http://bet.example/", "a div.gg body"),))
    assert links_hidden(snapshot(pages=[home, sheet_page((("display:none", ".gg"),), status=404)]), {}).status \
        == Status.PASS
    assert links_hidden(snapshot(pages=[home, sheet_page((("display:none", ".ad"),))]), {}).status == Status.PASS
    assert links_hidden(snapshot(pages=[home]), {}).status == Status.PASS
