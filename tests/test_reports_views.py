"""View-model contract: every field documented, every template rendered from builder data, strictly."""

import dataclasses
import inspect
from datetime import timedelta
from types import SimpleNamespace

import jinja2
import pytest

from checks.base import Status
from monitor.store import PastResult, ResultHistory, RunInfo, RunResults
from reports import i18n, pages, pdf, render, views
from reports.build import Frame
from reports.history import Past
from tests import builders as b
from tests.test_reports_render import REQUIREMENTS, SITES, rich_results

VIEW_CLASSES = [c for _, c in inspect.getmembers(views, inspect.isclass)
                if dataclasses.is_dataclass(c) and c.__module__ == views.__name__]


def test_every_field_of_every_view_has_help() -> None:
    assert len(VIEW_CLASSES) >= 20
    missing = [f"{c.__name__}.{f.name}" for c in VIEW_CLASSES for f in dataclasses.fields(c)
               if not f.metadata.get("help", "").strip()]
    assert missing == []


def test_views_are_frozen() -> None:
    assert [c.__name__ for c in VIEW_CLASSES if not c.__dataclass_params__.frozen] == []  # type: ignore[attr-defined]


def test_an_undocumented_field_would_be_caught() -> None:
    @dataclasses.dataclass(frozen=True)
    class Bad:
        x: int = dataclasses.field(metadata=views.doc("documented"))
        y: int = 0
    assert [f.name for f in dataclasses.fields(Bad) if not f.metadata.get("help")] == ["y"]


def _data(runs: int = 2) -> tuple[RunResults, Past]:
    now = b.utcnow()
    infos, past_results, rr = [], [], None
    for k in range(runs):
        info = RunInfo(id=f"r{k}", kind="scheduled", status="complete", started_at=now - timedelta(days=7 * (runs - k)),
                       finished_at=now - timedelta(days=7 * (runs - k)) + timedelta(seconds=30), error=None,
                       config_digest="d", code_version="t", pid=1, host="h", summary={"requirements": REQUIREMENTS})
        results = {s: tuple(rich_results(i, s, k)) for i, (s, _) in enumerate(SITES)}
        infos.append(info)
        past_results += [PastResult(info.id, s, r.check_id, Status(r.status), dict(r.metrics))
                         for s, rs in results.items() for r in rs]
        rr = RunResults(info, tuple(b.site(s, name=n) for s, n in SITES), results, {s: 10 for s, _ in SITES})
    assert rr is not None
    return rr, Past(ResultHistory(tuple(infos), tuple(past_results)), 52)


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("runs", [1, 3])
def test_every_template_renders_strictly_from_builder_data(language: str, runs: int) -> None:
    rr, past = _data(runs)
    frame = Frame("Report", language, "Asia/Shanghai")
    env = render.environment(language)
    assert env.undefined is jinja2.StrictUndefined and env.autoescape
    rendered = {
        "index.html": render.render(env, "index.html", pages.index_view(past, frame, {r.id for r in past.runs})),
        "run.html": render.render(env, "run.html", pages.run_view(rr, past, frame)),
        "site.html": render.render(env, "site.html", pages.site_view(rr, "city", past, frame)),
        "print.html": render.render(env, "print.html", pdf.print_view(rr, past, frame)),
    }
    templates = {name for name in env.list_templates() if not name.startswith(("_", "base"))}
    assert templates == set(rendered)
    assert all("</html>" in html for html in rendered.values())


def test_a_missing_view_field_fails_rendering() -> None:
    rr, past = _data(2)
    frame = Frame("Report", "zh", "UTC")
    env = render.environment("zh")
    view = pages.site_view(rr, "city", past, frame)
    partial = SimpleNamespace(**{f.name: getattr(view, f.name) for f in dataclasses.fields(view) if f.name != "fixes"})
    with pytest.raises(jinja2.UndefinedError):
        render.render(env, "site.html", partial)
    with pytest.raises(jinja2.UndefinedError):
        render.render(env, "site.html", pages.run_view(rr, past, frame))


def test_ui_words_exist_in_both_languages_with_the_same_placeholders() -> None:
    for table in (i18n.UI, i18n.STATUS_WORDS, i18n.SEVERITY_WORDS, i18n.FAMILIES, i18n.KNOWN_TITLES, i18n.RUN_KINDS,
                  i18n.RUN_STATUSES):
        for key, text in table.items():
            assert text.zh.strip() and text.en.strip(), key
            placeholders = text.placeholders()
            assert placeholders["zh"] == placeholders["en"], key


def test_metric_names_come_from_the_check_and_unknown_ones_are_shown_raw() -> None:
    assert i18n.metric_name("ipv6:links", "secondary_ratio", "zh") == "二级链接 IPv6 支持率"
    assert i18n.metric_name("ipv6:links", "secondary_ratio", "en") == "IPv6 support, secondary links"
    assert i18n.metric_name("column:negative_list", "found_on", "zh") == "所在页面"
    assert i18n.metric_name("ipv6:links", "brand_new_metric", "zh") == "brand_new_metric"
    assert i18n.check_title("no:such-check", "en") == "no:such-check"


def test_a_year_is_shown_as_a_year_and_a_count_with_separators() -> None:
    from reports.build import value_text

    assert value_text("document:annual_report", "year", 2025, "zh") == ("2025", "")
    assert value_text("column:negative_list", "year", 2026, "en") == ("2026", "")
    assert value_text("document:annual_report", "pages_searched", 12345, "zh") == ("12,345", "")
