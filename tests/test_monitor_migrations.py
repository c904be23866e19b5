"""Alembic migrations against the ORM models, on SQLite and PostgreSQL."""

from __future__ import annotations

import fnmatch
import socket
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from monitor import db

ROOT = Path(__file__).resolve().parents[1]


def schema_diff(engine: sa.Engine, metadata: sa.MetaData) -> list[Any]:
    """What `alembic revision --autogenerate` would write for `metadata` against the database."""
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata))


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_head_on_empty_database_matches_the_models(db_url: str) -> None:
    engine = db.make_engine(db_url)
    assert db.current_revision(engine) is None
    db.upgrade(engine)
    head = ScriptDirectory.from_config(db.alembic_config()).get_current_head()
    assert db.current_revision(engine) == head
    assert table_names(engine) >= set(db.Base.metadata.tables)
    assert schema_diff(engine, db.Base.metadata) == []
    engine.dispose()


def test_downgrade_base_removes_every_table_and_upgrade_works_again(db_url: str) -> None:
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    db.downgrade(engine, "base")
    assert table_names(engine) - {"alembic_version"} == set()
    assert db.current_revision(engine) is None
    db.upgrade(engine)
    assert schema_diff(engine, db.Base.metadata) == []
    engine.dispose()


def _with_extra_column(metadata: sa.MetaData) -> str:
    metadata.tables["run"].append_column(sa.Column("extra", sa.Integer, nullable=True))
    return "add_column"


def _without_table(metadata: sa.MetaData) -> str:
    metadata.remove(metadata.tables["check_result"])
    return "remove_table"


def _with_wider_column(metadata: sa.MetaData) -> str:
    metadata.tables["site"].c.level.type = sa.String(200)
    return "modify_type"


@pytest.mark.parametrize("change", [_with_extra_column, _without_table, _with_wider_column],
                         ids=["extra-column-is-detected", "missing-table-is-detected", "wider-column-is-detected"])
def test_the_comparison_detects_a_model_change(db_url: str, change: Any) -> None:
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    changed = sa.MetaData(naming_convention=db.NAMING)
    for table in db.Base.metadata.sorted_tables:
        table.to_metadata(changed)
    kind = change(changed)
    ops = [op for entry in schema_diff(engine, changed) for op in (entry if isinstance(entry, list) else [entry])]
    assert kind in {op[0] for op in ops}
    engine.dispose()


def test_migrations_ship_as_package_data() -> None:
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    migrations = resources.files("monitor") / "migrations"
    files = [f"migrations/{p.name}" for p in migrations.iterdir() if p.name.endswith(".py")]
    files += [f"migrations/versions/{p.name}" for p in (migrations / "versions").iterdir() if p.name.endswith(".py")]
    assert "migrations/env.py" in files and "migrations/versions/0001_initial.py" in files
    # script.py.mako is only needed to write new revisions, in a source checkout
    unshipped = [f for f in files if not any(fnmatch.fnmatch(f, glob) for glob in package_data["monitor"])]
    assert unshipped == []


def test_each_migration_is_named_by_its_revision_in_one_line_so_the_head_is_known_without_alembic() -> None:
    scripts = ScriptDirectory.from_config(db.alembic_config())
    chain = [(s.revision, s.down_revision, Path(s.path).name) for s in scripts.walk_revisions()]
    assert all(name.startswith(f"{rev}_") for rev, _, name in chain)
    assert len(scripts.get_heads()) == 1 and db.head_revision() == scripts.get_current_head()


def test_a_database_at_the_newest_revision_is_opened_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    code = ("import sys; from monitor import db; engine = db.make_engine(sys.argv[1]); db.upgrade(engine); "
            "print('alembic' in sys.modules)")
    first, again = (subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, check=True,
                                   cwd=ROOT).stdout.strip() for _ in range(2))
    assert (first, again) == ("True", "False")


def test_an_unsupported_url_is_a_storage_error() -> None:
    with pytest.raises(db.StorageError, match="only sqlite and postgresql"):
        db.make_engine("mysql://root@127.0.0.1/govmon")
    with pytest.raises(db.StorageError, match="storage url"):
        db.make_engine("not a url")


def test_an_unreachable_server_is_a_storage_error_without_the_password() -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = db.make_engine(f"postgresql://govmon:s3cret@127.0.0.1:{port}/govmon?connect_timeout=2")
    with pytest.raises(db.StorageError) as caught:
        db.upgrade(engine)
    assert f"127.0.0.1:{port}" in str(caught.value) and "s3cret" not in str(caught.value)
