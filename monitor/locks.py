"""Database-wide locks: one daemon per database, one run at a time per database.

A lock is held by a live process and dropped by the kernel or the server when that
process dies, so a crash never leaves one behind: an flock on a file beside a SQLite
database, a session-level advisory lock on a dedicated connection for PostgreSQL (one
per schema, since two govmon databases may share a PostgreSQL database). Each lock
records who holds it ("pid N on HOST") so a refusal can say so.

A PostgreSQL restart drops an advisory lock with its session, and a reconnected connection
answers without it: `keep()` asks the server whether this session still holds the lock and
takes it again on a new connection when not (LockLost if another process took it meanwhile).
"""

from __future__ import annotations

import fcntl
import logging
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
_HOLDING = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
                   "AND pid = pg_backend_pid() AND classid::bigint = :c AND objid::bigint = :k")
WAIT_STEP_S = 1.0

log = logging.getLogger(__name__)


class Busy(Exception):
    """The lock is held by another process; `holder` says which ("pid N on HOST")."""

    def __init__(self, message: str, holder: str = "unknown") -> None:
        super().__init__(message)
        self.holder = holder


class LockLost(Busy):
    """The database dropped the lock (it restarted) and another process took it before this one could
    take it again: whatever this process does under the lock must stop."""


class Lock(Protocol):
    def held(self) -> bool: ...
    def keep(self) -> None: ...
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

    def keep(self) -> None:
        """An flock lasts as long as its process: nothing to take again."""

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
        self.engine, self.name = engine, name
        self.conn = self._connect()
        try:
            self.key = _pg_key(self.conn)
            if not self._take():
                holder = _pg_holder(self.conn, name, self.key) or "unknown"
                raise Busy(db.where(engine), holder)
        except BaseException:
            self.conn.close()
            raise

    def _connect(self) -> sa.Connection:
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            conn.execute(sa.text("SELECT set_config('application_name', :n, false)"),
                         {"n": f"{_pg_app(self.name)}{me()}"[:63]})
        except BaseException:
            conn.close()
            raise
        return conn

    def _take(self) -> bool:
        return bool(self.conn.execute(sa.text("SELECT pg_try_advisory_lock(:c, :k)"),
                                      {"c": _PG_CLASS[self.name], "k": self.key}).scalar())

    def held(self) -> bool:
        try:
            self.conn.exec_driver_sql("SELECT 1")
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def keep(self) -> None:
        """Make sure this process still holds the lock: a restart of the server ends the session that held
        it, so it is taken again on a new connection. LockLost when another process took it meanwhile;
        db.Unreachable while the server is away (ask again later)."""
        try:
            if self.conn.execute(_HOLDING, {"c": _PG_CLASS[self.name], "k": self.key}).scalar():
                return
        except sa.exc.SQLAlchemyError:
            pass   # the session, and the lock with it, died with the server
        self.conn.close()   # a connection SQLAlchemy reconnected would answer without the lock
        try:
            self.conn = self._connect()
            if self._take():
                log.warning("the %s lock on %s was dropped by the database (a restart?) and is taken again",
                            self.name, db.where(self.engine))
                return
            holder = _pg_holder(self.conn, self.name, self.key) or "unknown"
        except sa.exc.SQLAlchemyError as exc:
            raise db.storage_error(f"taking the {self.name} lock again", exc) from exc
        raise LockLost(f"the {self.name} lock on {db.where(self.engine)} was dropped by the database "
                       f"(a restart?) and another govmon {self.name} ({holder}) took it meanwhile", holder)

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
