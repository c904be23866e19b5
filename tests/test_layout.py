"""The dependency rule of docs/architecture.md, checked by parsing imports."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
# The crawl child stays light: no SQLAlchemy, Jinja or APScheduler through monitor.
# The scope rule and the CSS selector reading (暗链) are shared with the checks; nothing else of checks/ is the
# crawl's business.
SPIDER_CHECKS_IMPORTS = {"checks.scope", "checks.cssrules"}
SPIDER_MONITOR_IMPORTS = {"monitor", "monitor.config", "monitor.resolver", "monitor.outcomes", "monitor.htmltext",
                          "monitor.wordbook",
                          "monitor.supervisor"}

ALLOWED = {
    "checks": lambda mod: mod.split(".")[0] in STDLIB or mod.split(".")[0] == "checks",
    "spiders": lambda mod: ((mod.split(".")[0] != "checks" or mod in SPIDER_CHECKS_IMPORTS)
                            and mod.split(".")[0] != "reports"
                            and (mod.split(".")[0] != "monitor" or mod in SPIDER_MONITOR_IMPORTS)),
    "reports": lambda mod: not mod.startswith(("spiders", "monitor.cli", "monitor.pipeline", "monitor.daemon")),
    "monitor": lambda mod: mod != "monitor.cli",
}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def violations(package: str, root: Path = ROOT) -> list[str]:
    allowed = ALLOWED[package]
    bad = []
    for path in sorted((root / package).rglob("*.py")):
        for mod in sorted(imports(path)):
            if path.name in {"__main__.py", "cli.py"} and package == "monitor":
                continue
            if not allowed(mod):
                bad.append(f"{path.relative_to(root)} imports {mod}")
    return bad


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_follow_the_rule(package: str) -> None:
    assert violations(package) == []


def test_rule_catches_a_forbidden_import(tmp_path: Path) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "bad.py").write_text("import httpx\nfrom monitor import store\n", encoding="utf-8")
    assert violations("checks", tmp_path) == ["checks/bad.py imports httpx", "checks/bad.py imports monitor"]


def test_spiders_may_import_the_scope_and_nothing_else_of_checks(tmp_path: Path) -> None:
    (tmp_path / "spiders").mkdir()
    (tmp_path / "spiders" / "ok.py").write_text("from checks.scope import SiteScope\n", encoding="utf-8")
    (tmp_path / "spiders" / "bad.py").write_text("from checks.links import DEAD_KINDS\nimport checks\n",
                                                 encoding="utf-8")
    assert violations("spiders", tmp_path) == ["spiders/bad.py imports checks", "spiders/bad.py imports checks.links"]


def test_monitor_init_holds_only_the_version() -> None:
    tree = ast.parse((ROOT / "monitor" / "__init__.py").read_text(encoding="utf-8"))
    names = [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
    assert names == ["__version__"]
    assert not [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]


PIPELINE_CHECKS_IMPORTS = {"checks"}
"""The pipeline gathers what the checks declare (checks.needs_of, checks.probe_plan) and knows no check."""


def check_knowledge(module: Path) -> list[str]:
    return sorted(m for m in imports(module) if m.split(".")[0] == "checks" and m not in PIPELINE_CHECKS_IMPORTS)


def test_the_pipeline_imports_the_checks_package_api_only() -> None:
    assert check_knowledge(ROOT / "monitor" / "pipeline.py") == []


def test_a_pipeline_importing_a_check_module_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "pipeline.py"
    bad.write_text("import checks\nfrom checks.linktiers import link_tiers\nfrom checks.snapshot import Page\n",
                   encoding="utf-8")
    assert check_knowledge(bad) == ["checks.linktiers", "checks.snapshot"]


def test_a_run_starts_its_crawl_without_the_packages_only_later_stages_use() -> None:
    """The parent's memory during the crawl adds to the crawl child's and the reader's (the tree's peak):
    Alembic (with Mako and Pygments), cryptography (certificates), openpyxl (exports) and httpx's command-line
    client (Pygments) are imported when they are used, not by the modules a run starts with."""
    code = ("import sys, monitor.cli, monitor.pipeline, monitor.crawl, monitor.ingest, monitor.prefetch; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                cwd=ROOT).stdout.split())
    assert {"monitor", "sqlalchemy", "httpx"} <= loaded      # the probe reads what it means to
    assert loaded & {"alembic", "mako", "pygments", "cryptography", "openpyxl"} == set()
