"""The dependency rule of docs/architecture.md, checked by parsing imports."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
# The crawl child stays light: no SQLAlchemy, Jinja or APScheduler through monitor.
SPIDER_MONITOR_IMPORTS = {"monitor", "monitor.config", "monitor.resolver", "monitor.outcomes", "monitor.htmltext",
                          "monitor.supervisor"}

ALLOWED = {
    "checks": lambda mod: mod.split(".")[0] in STDLIB or mod.split(".")[0] == "checks",
    "spiders": lambda mod: (mod.split(".")[0] not in {"checks", "reports"}
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


def test_monitor_init_holds_only_the_version() -> None:
    tree = ast.parse((ROOT / "monitor" / "__init__.py").read_text(encoding="utf-8"))
    names = [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
    assert names == ["__version__"]
    assert not [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
