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
