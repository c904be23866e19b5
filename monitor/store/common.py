"""What every store function shares: one transaction each, SQLAlchemy errors as StorageError,
the dialect's INSERT, text PostgreSQL accepts."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from monitor.db import storage_error


P = ParamSpec("P")


R = TypeVar("R")


def storage(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Make a store function one transaction and map SQLAlchemy errors to StorageError
    (db.Unreachable when the server went away).

    A read ends its transaction too: an open one would pin an old SQLite WAL
    snapshot (later reads would not see other processes' writes) or leave a
    PostgreSQL connection idle in transaction.
    """

    def wrap(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            session = args[0]
            assert isinstance(session, Session)
            try:
                result = func(*args, **kwargs)
                if session.in_transaction():
                    session.commit()
                return result
            except sa.exc.SQLAlchemyError as exc:
                session.rollback()
                raise storage_error(what, exc) from exc
        return run

    return wrap


def insert_for(session: Session, table: type[Any] | sa.Table) -> Any:
    """The dialect's INSERT, which has on_conflict_do_nothing/do_update."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def update_count(session: Session, stmt: sa.Update) -> int:
    """Run an UPDATE; the number of rows it matched."""
    return cast(sa.CursorResult[Any], session.execute(stmt)).rowcount


def no_nul(value: Any) -> Any:
    """`value` with NUL removed from every string in it: PostgreSQL refuses NUL in text and JSON,
    and a site's page title or footer text may hold one."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, Mapping):
        return {no_nul(k): no_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [no_nul(v) for v in value]
    return value
