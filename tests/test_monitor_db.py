"""monitor.db's one mapping of a database error: the server gone (db.Unreachable, worth waiting for)
or a refused query (StorageError)."""

from __future__ import annotations

import socket
import sqlite3
from datetime import UTC, datetime

import psycopg
import pytest
import sqlalchemy as sa

from monitor import db, store


def _operational(orig: Exception, invalidated: bool = False) -> sa.exc.DBAPIError:
    return sa.exc.OperationalError("SELECT 1", None, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize(("exc", "gone"), [
    pytest.param(_operational(psycopg.OperationalError("connection refused")), True, id="refused-has-no-sqlstate"),
    pytest.param(_operational(psycopg.errors.AdminShutdown("terminating connection")), True, id="admin-shutdown"),
    pytest.param(_operational(psycopg.errors.CannotConnectNow("starting up")), True, id="starting-up"),
    pytest.param(_operational(psycopg.errors.ConnectionFailure("lost")), True, id="class-08"),
    pytest.param(_operational(psycopg.errors.QueryCanceled("statement timeout")), False, id="cancelled-query"),
    pytest.param(_operational(psycopg.errors.DeadlockDetected("deadlock")), False, id="deadlock"),
    pytest.param(_operational(psycopg.errors.DeadlockDetected("x"), invalidated=True), True,
                 id="a-connection-found-dead"),
    pytest.param(sa.exc.IntegrityError("INSERT", None, psycopg.errors.UniqueViolation("dup")), False,
                 id="refused-row"),
    pytest.param(_operational(sqlite3.OperationalError("database is locked")), False, id="sqlite-busy"),
    pytest.param(db.StorageError("x"), False, id="storage-error"),
    pytest.param(db.Unreachable("x"), True, id="unreachable-itself"),
])
def test_unreachable_is_the_server_gone_not_a_refused_query(exc: Exception, gone: bool) -> None:
    assert db.unreachable(exc) is gone
    outer = RuntimeError("wrapped")
    outer.__cause__ = exc
    assert db.unreachable(outer) is gone, "found through the cause"


def test_a_store_call_to_a_closed_port_is_unreachable_and_names_no_password() -> None:
    with socket.socket() as probe:   # a port nobody listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        engine = db.make_engine(f"postgresql+psycopg://govmon:hunter2@127.0.0.1:{port}/govmon?connect_timeout=2")
        try:
            with db.session_factory(engine)() as session, pytest.raises(db.Unreachable) as caught:
                store.heartbeat(session, "r", datetime.now(UTC))
        finally:
            engine.dispose()
    assert "\n" not in str(caught.value) and "hunter2" not in str(caught.value)
    assert db.where(engine) == f"postgresql+psycopg://govmon:***@127.0.0.1:{port}/govmon?connect_timeout=2"


def test_a_refused_query_is_a_storage_error_not_unreachable() -> None:
    engine = db.make_engine("sqlite://")
    try:
        with db.session_factory(engine)() as session, pytest.raises(db.StorageError) as caught:
            store.heartbeat(session, "r", datetime.now(UTC))   # no tables: the query is refused
    finally:
        engine.dispose()
    assert not isinstance(caught.value, db.Unreachable)
