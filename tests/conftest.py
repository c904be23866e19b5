"""Shared test fixtures: the demo web, demo configs, and storage on SQLite and PostgreSQL."""

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor import config, db, pipeline
from monitor.demo import DemoWeb


# ---------------------------------------------------------------------------
# Demo web (monitor/demo/). One DemoWeb for the whole session: a DNS server on
# 127.0.0.1 and vhost HTTP servers on 127.0.0.1 and [::1], stopped at the end.
# Tests must not depend on request order (flaky pages key their state by path
# and query, so use a unique query string where that matters).
# ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def demo_web() -> Iterator[DemoWeb]:
    """The started demo web (dates relative to today)."""
    with DemoWeb() as web:
        yield web


@pytest.fixture(scope="session")
def demo_run(demo_web: DemoWeb, tmp_path_factory: pytest.TempPathFactory) -> tuple[pipeline.RunOutcome, Path]:
    """One full run on the demo web for the session (config, database, report set and JSON in the folder
    returned with it): tests that read its results must not change them."""
    work = tmp_path_factory.mktemp("e2e")
    path = demo_web.write_config(work / "sites.toml", storage_url=f"sqlite:///{work / 'govmon.db'}",
                                 report_dir=str(work / "reports"))
    outcome = pipeline.execute(config.load(path), kind="demo", json_path=work / "result.json")
    return outcome, work


@pytest.fixture
def demo_config_path(demo_web: DemoWeb, tmp_path: Path) -> Path:
    """A sites.toml for the demo web with its own SQLite database and report dir."""
    return demo_web.write_config(tmp_path / "sites.toml", storage_url=f"sqlite:///{tmp_path / 'govmon.db'}",
                                 report_dir=str(tmp_path / "reports"))


@pytest.fixture
def demo_config(demo_config_path: Path) -> config.Config:
    return config.load(demo_config_path)


@pytest.fixture
def sqlite_session(tmp_path: Path) -> Iterator[Session]:
    """A session on a migrated SQLite file, for tests that need storage but not both databases."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    db.upgrade(engine)
    with db.session_factory(engine)() as session:
        yield session
    engine.dispose()


# ---------------------------------------------------------------------------
# Storage fixtures (monitor/db.py, monitor/store.py). Every test that takes
# `session`, `db_engine` or `db_url` runs once on SQLite and once on PostgreSQL.
# PostgreSQL: one database per test session (GOVMON_TEST_PG_URL is the server's
# maintenance database), one fresh schema per test through the URL's search_path.
# Unreachable PostgreSQL fails the postgresql params when CI is set, else skips.
# ---------------------------------------------------------------------------
_PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _pg_admin(url: sa.URL) -> Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


def pg_schema(pg_url: str) -> Iterator[str]:
    """A fresh schema of the session's PostgreSQL database as a storage URL, dropped afterwards (a generator for
    fixtures to yield from)."""
    url = sa.make_url(pg_url)
    schema = f"t_{secrets.token_hex(6)}"
    admin = _pg_admin(url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh database govmon_test_<random> on the test server, dropped at the end."""
    base = sa.make_url(os.environ.get("GOVMON_TEST_PG_URL", _PG_DEFAULT))
    name = f"govmon_test_{secrets.token_hex(4)}"
    admin = _pg_admin(base)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        reason = f"PostgreSQL unreachable at {base.render_as_string(hide_password=True)}: {' '.join(str(exc.orig).split())}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'govmon.db'}"
        return
    yield from pg_schema(request.getfixturevalue("pg_url"))


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    with db.session_factory(db_engine)() as s:
        yield s


# ---------------------------------------------------------------------------
# Redis for [scale] (monitor/scale/): GOVMON_TEST_REDIS_URL or the local server;
# when none answers and redis-server is installed, one is started on a unix socket
# in a temporary folder for the session. Each test gets its own key prefix.
# ---------------------------------------------------------------------------
_REDIS_DEFAULT = "redis://127.0.0.1:6379/0"


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a Redis server for the session."""
    import shutil
    import subprocess
    import time

    url = os.environ.get("GOVMON_TEST_REDIS_URL", _REDIS_DEFAULT)
    if _redis_answers(url):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        reason = f"Redis unreachable at {url} and no redis-server to start"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("redis")
    socket_path = folder / "redis.sock"
    server = subprocess.Popen([binary, "--port", "0", "--unixsocket", str(socket_path), "--save", "",
                               "--appendonly", "no", "--dir", str(folder)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"unix://{socket_path}"
        while not _redis_answers(url):   # the server's own start; it ends the wait by answering or exiting
            if server.poll() is not None:
                pytest.fail(f"redis-server exited with {server.returncode}")
            time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait()


@pytest.fixture
def scale_db(pg_url: str) -> Iterator[str]:
    """A fresh schema of the session's PostgreSQL database, as a storage URL (every test, not only the
    postgresql params: a distributed run needs PostgreSQL)."""
    yield from pg_schema(pg_url)


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of its own for one test; its keys are removed afterwards."""
    import redis

    prefix = f"govmon-test-{secrets.token_hex(4)}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()
