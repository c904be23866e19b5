"""The fence: one process at a time writes a site's crawl of a run, decided by PostgreSQL.

A Redis lease can expire under a worker that is slow, not dead; the rows are
PostgreSQL's, so the lock that keeps two writers apart is too: a session-level
advisory lock per (schema, run, site) on a dedicated connection. A process that
dies drops its connection and its locks with it (`kill -9` included; a machine that
dies, once the server's TCP keepalives on that connection give up). A server that
restarts drops them too, and the connection, once SQLAlchemy reconnects it, is
without them: `check()` asks the server whether the locks are still there before
rows are written, rather than trusting that a query on the connection succeeds.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import db

FENCE_CLASS = 0x676F78   # "gox": beside monitor.locks' "gov" and "gow"
# The server's own TCP keepalives on the fence's connection: a worker whose machine died (no FIN sent)
# loses its locks within about idle + interval × count seconds, not the system's default two hours.
KEEPALIVES = {"tcp_keepalives_idle": 30, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 3}


class FenceLost(db.Unreachable):
    """The database dropped the fence (it restarted or cut the connection): the sites are no longer ours."""


class SiteFence:
    """The sites of one run this process may write; release() (or the process's end) lets go of all."""

    def __init__(self, engine: Engine, run_id: str) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("the site fence needs PostgreSQL")
        self.run_id = run_id
        self.held: set[str] = set()
        try:
            self.conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self.schema = str(self.conn.exec_driver_sql("SELECT current_schema()").scalar())
            for name, value in KEEPALIVES.items():   # ignored on a unix socket
                self.conn.execute(sa.text("SELECT set_config(:n, :v, false)"), {"n": name, "v": str(value)})
        except sa.exc.SQLAlchemyError as exc:
            raise db.storage_error("opening the site fence", exc) from exc

    def key(self, site_id: str) -> int:
        return zlib.crc32(f"{self.schema}\0{self.run_id}\0{site_id}".encode()) & 0x7FFFFFFF

    def hold(self, sites: Iterable[str]) -> list[str]:
        """Take the fence of each site that no other process holds; the ones taken."""
        taken = []
        for site in sites:
            if site in self.held or self._try(site):
                self.held.add(site)
                taken.append(site)
        return taken

    def _try(self, site: str) -> bool:
        try:
            return bool(self.conn.execute(sa.text("SELECT pg_try_advisory_lock(:c, :k)"),
                                          {"c": FENCE_CLASS, "k": self.key(site)}).scalar())
        except sa.exc.SQLAlchemyError as exc:
            raise db.storage_error(f"taking the fence of site {site}", exc) from exc

    def let_go(self, sites: Iterable[str]) -> None:
        """Let go of the fence of `sites` (done, or found done): a worker's fed crawl lasts as long as the
        run's queue has sites, and each lock held takes a slot of the server's lock table."""
        for site in sites:
            if site not in self.held:
                continue
            self.held.discard(site)
            key = self.key(site)
            if any(self.key(other) == key for other in self.held):   # the key is another held site's too
                continue
            try:
                self.conn.execute(sa.text("SELECT pg_advisory_unlock(:c, :k)"), {"c": FENCE_CLASS, "k": key})
            except sa.exc.SQLAlchemyError as exc:
                raise db.storage_error(f"letting go of the fence of site {site}", exc) from exc

    def check(self) -> None:
        """Raise FenceLost unless this connection's server session still holds every fence taken
        (a restart of PostgreSQL ends the session and its locks; a reconnected connection has none)."""
        try:
            holding = self.conn.execute(sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
                "AND pid = pg_backend_pid() AND classid::bigint = :c"), {"c": FENCE_CLASS}).scalar()
        except sa.exc.SQLAlchemyError as exc:
            raise FenceLost(db.storage_error(f"the site fence of run {self.run_id}", exc)) from exc
        taken = len({self.key(site) for site in self.held})   # two sites may share a key
        if holding != taken:
            raise FenceLost(f"the site fence of run {self.run_id} was dropped by the database "
                            f"({holding} of {taken} locks still held; restarted?)")

    def release(self) -> None:
        """Let go of every site; closing the connection drops its locks even when unlocking fails."""
        try:
            self.conn.exec_driver_sql("SELECT pg_advisory_unlock_all()")
        except sa.exc.SQLAlchemyError:
            pass
        self.conn.close()
        self.held.clear()

    def __enter__(self) -> SiteFence:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()
