"""Database-wide locks: one daemon per database, one run at a time per database.

A lock is held by a live process and dropped by the kernel or the server when that
process dies, so a crash never leaves one behind: an flock on a file beside a SQLite
database, a session-level advisory lock on a dedicated connection for PostgreSQL (one
per schema, since two govmon databases may share a PostgreSQL database). Each lock
records who holds it ("pid N on HOST") so a refusal can say so.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
import zlib
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import db

DAEMON, RUN = "daemon", "run"
_PG_CLASS = {DAEMON: 0x676F76, RUN: 0x676F77}   # "gov", "gow": the first key of our advisory locks
_HOLDER = sa.text("SELECT coalesce(a.application_name, 'unknown') FROM pg_locks l "
                  "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
                  "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = :c "
                  "AND l.objid::bigint = :k AND l.objsubid = 2 AND l.database = "
                  "(SELECT oid FROM pg_database WHERE datname = current_database())")
WAIT_STEP_S = 1.0


class Busy(Exception):
    """The lock is held by another process; `holder` says which ("pid N on HOST")."""

    def __init__(self, message: str, holder: str = "unknown") -> None:
        super().__init__(message)
        self.holder = holder


class Lock(Protocol):
    def held(self) -> bool: ...
    def release(self) -> None: ...


def me() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


def lock_path(engine: Engine, name: str) -> Path:
    database = engine.url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise ValueError(f"the {name} lock needs a database file, not {database or 'memory'!r}")
    path = Path(database).expanduser().resolve()
    return path.with_name(f"{path.name}.{name}-lock")


class _FileLock:
    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(self.fd)
            raise Busy(str(path), holder) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{me()}\n".encode(), 0)

    def held(self) -> bool:
        return True

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _pg_app(name: str) -> str:
    return f"govmon {name} "


def _pg_holder(conn: sa.Connection, name: str, key: int) -> str | None:
    holder = conn.execute(_HOLDER, {"c": _PG_CLASS[name], "k": key}).scalar()
    return str(holder).removeprefix(_pg_app(name)) if holder is not None else None


def _pg_key(conn: sa.Connection) -> int:
    return zlib.crc32(str(conn.exec_driver_sql("SELECT current_schema()").scalar()).encode()) & 0x7FFFFFFF


class _PgLock:
    def __init__(self, engine: Engine, name: str) -> None:
        self.name = name
        self.conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            self.conn.execute(sa.text("SELECT set_config('application_name', :n, false)"),
                              {"n": f"{_pg_app(name)}{me()}"[:63]})
            self.key = _pg_key(self.conn)
            if not self.conn.execute(sa.text("SELECT pg_try_advisory_lock(:c, :k)"),
                                     {"c": _PG_CLASS[name], "k": self.key}).scalar():
                holder = _pg_holder(self.conn, name, self.key) or "unknown"
                raise Busy(engine.url.render_as_string(hide_password=True), holder)
        except BaseException:
            self.conn.close()
            raise

    def held(self) -> bool:
        try:
            self.conn.exec_driver_sql("SELECT 1")
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def release(self) -> None:
        try:
            self.conn.execute(sa.text("SELECT pg_advisory_unlock(:c, :k)"), {"c": _PG_CLASS[self.name], "k": self.key})
        except sa.exc.SQLAlchemyError:
            pass  # the connection is gone, and the lock with it
        self.conn.close()


def try_acquire(engine: Engine, name: str) -> Lock:
    """Take the database's `name` lock at once or raise Busy (StorageError if PostgreSQL is
    unreachable, ValueError for a SQLite database without a file)."""
    if engine.dialect.name == "sqlite":
        return _FileLock(lock_path(engine, name))
    try:
        return _PgLock(engine, name)
    except sa.exc.SQLAlchemyError as exc:
        raise db.StorageError(f"taking the {name} lock: {getattr(exc, 'orig', None) or exc}") from exc


def acquire(engine: Engine, name: str, *, wait_s: float = 0.0) -> Lock:
    """Take the `name` lock, waiting up to `wait_s` for its holder to let go; Busy after that."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return try_acquire(engine, name)
        except Busy:
            if time.monotonic() >= deadline:
                raise
        time.sleep(min(WAIT_STEP_S, max(0.0, deadline - time.monotonic())))


def holder(engine: Engine, name: str) -> str | None:
    """Who holds the `name` lock ("pid N on HOST"), or None when nobody does."""
    if engine.dialect.name == "sqlite":
        try:
            fd = os.open(lock_path(engine, name), os.O_RDONLY)
        except (OSError, ValueError):
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        except BlockingIOError:
            return os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
        finally:
            os.close(fd)
    with engine.connect() as conn:
        return _pg_holder(conn, name, _pg_key(conn))
