"""The database: engine, session factory, ORM tables and Alembic entry points.

Owns SQLAlchemy and Alembic: their connection and migration errors are mapped
to StorageError here (and in monitor.store for queries). Holds no queries and
never maps rows to dataclasses; monitor.store does that. Snapshot tables are
insert-only per run, cascade-delete with their run and are pruned by monitor.retention.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, Connection, Dialect, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

SCRIPT_LOCATION = "monitor:migrations"
VERSIONS = Path(__file__).resolve().parent / "migrations" / "versions"
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")   # a migration's file is named by its revision (a test holds it)


class StorageError(Exception):
    """The database could not be reached, migrated, read or written; the text says why."""


class Unreachable(StorageError):
    """The database did not answer or cut the connection (down, restarting): worth waiting for,
    unlike a query it refused. Work of a transaction it cut is lost and must be done again."""


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is the server gone rather than a refused query: a connection
    SQLAlchemy found dead, or a PostgreSQL OperationalError of the connection itself (no SQLSTATE:
    refused, reset; class 08; 57P: "terminating connection due to administrator command", "the
    database system is starting up"). A deadlock or a cancelled query is not: waiting would not help."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, Unreachable):
            return True
        if isinstance(seen, sa.exc.DBAPIError):
            if seen.connection_invalidated:
                return True
            if isinstance(seen, sa.exc.OperationalError) and hasattr(seen.orig, "sqlstate"):   # not SQLite's
                state = seen.orig.sqlstate
                return state is None or state.startswith(("08", "57P"))
        seen = seen.__cause__
    return False


def storage_error(what: str, exc: sa.exc.SQLAlchemyError) -> StorageError:
    """The one mapping of a SQLAlchemy error: Unreachable when the server went away, else StorageError."""
    reason = getattr(exc, "orig", None) or exc
    if unreachable(exc):   # the driver's text runs over lines ("Is the server running…"): one line here
        return Unreachable(f"{what}: {type(reason).__name__}: {' '.join(str(reason).split())}")
    return StorageError(f"{what}: {type(reason).__name__}: {reason}")


def where(engine: Engine) -> str:
    """The engine's URL without its password, to name the database in a message."""
    return engine.url.render_as_string(hide_password=True)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite keeps no offset, so values are stored as naive UTC and UTC is
    re-attached on read. A naive datetime is a caller bug and is refused.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} (store only aware datetimes)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
# SQLite only makes INTEGER PRIMARY KEY an autoincrementing rowid alias.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


def _run_fk() -> sa.ForeignKey:
    return sa.ForeignKey("run.id", ondelete="CASCADE")


def _run_site_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["run_id", "site_id"], ["run_site.run_id", "run_site.site_id"],
                                   ondelete="CASCADE")


class RunRow(Base):
    __tablename__ = "run"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('scheduled', 'manual', 'adhoc', 'demo')", name="kind"),
        sa.CheckConstraint("status IN ('running', 'complete', 'failed', 'interrupted')", name="status"),
        sa.Index(None, "status", "started_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pid: Mapped[int | None] = mapped_column(sa.Integer)
    host: Mapped[str | None] = mapped_column(sa.String(255))
    config_digest: Mapped[str] = mapped_column(sa.String(64))
    code_version: Mapped[str] = mapped_column(sa.String(64))
    error: Mapped[str | None] = mapped_column(sa.Text)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType)


class SiteRow(Base):
    """A configured site as last seen; reports use RunSiteRow, the site as it was in a run."""

    __tablename__ = "site"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    url: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(64))
    level: Mapped[str] = mapped_column(sa.String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RunSiteRow(Base):
    __tablename__ = "run_site"

    run_id: Mapped[str] = mapped_column(_run_fk(), primary_key=True)
    site_id: Mapped[str] = mapped_column(sa.ForeignKey("site.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(sa.Integer)  # the config's order, kept for reports
    name: Mapped[str] = mapped_column(sa.Text)
    url: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(64))
    level: Mapped[str] = mapped_column(sa.String(32))
    pages_crawled: Mapped[int] = mapped_column(sa.Integer)


class PageRow(Base):
    __tablename__ = "page"
    __table_args__ = (_run_site_fk(), sa.UniqueConstraint("run_id", "site_id", "url"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(32))
    site_id: Mapped[str] = mapped_column(sa.String(64))
    url: Mapped[str] = mapped_column(sa.Text)
    final_url: Mapped[str] = mapped_column(sa.Text)
    redirect_chain: Mapped[list[str]] = mapped_column(JSONType)
    status: Mapped[int | None] = mapped_column(sa.Integer)
    fetch_kind: Mapped[str] = mapped_column(sa.String(32))
    content_type: Mapped[str] = mapped_column(sa.Text)
    encoding: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.Integer)
    title: Mapped[str] = mapped_column(sa.Text)
    body_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    depth: Mapped[int] = mapped_column(sa.Integer)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lists: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, nullable=True)  # list blocks, None: none
    extract: Mapped[bytes | None] = mapped_column(sa.LargeBinary, nullable=True)  # links and dates: monitor.store.pagecodec


class LinkFormRow(Base):
    """One distinct link of a site in a run (target, tag, text, context, block), numbered per
    site from 0; a page stores its links as these numbers (monitor.store.pagecodec). A site several
    ingests shared has gaps in its numbers, and one link may have a number from each."""

    __tablename__ = "link_form"
    __table_args__ = (_run_site_fk(), sa.Index(None, "run_id", "site_id", "n"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(32))
    site_id: Mapped[str] = mapped_column(sa.String(64))
    n: Mapped[int] = mapped_column(sa.Integer)
    target_url: Mapped[str] = mapped_column(sa.Text)
    tag: Mapped[str] = mapped_column(sa.String(16))
    text: Mapped[str] = mapped_column(sa.Text)
    context: Mapped[str] = mapped_column(sa.String(16))
    block: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)   # the ListBlock key it belongs to


class CrawlEventRow(Base):
    """Something about the crawl of a site: a trap cut, a bound reached, a robots refusal, a block."""

    __tablename__ = "crawl_event"
    __table_args__ = (_run_site_fk(), sa.Index(None, "run_id", "site_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(32))
    site_id: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(32))
    url: Mapped[str] = mapped_column(sa.Text)
    detail: Mapped[str] = mapped_column(sa.Text)


class LinkTargetRow(Base):
    """One distinct link target per run, shared by every site that links to it."""

    __tablename__ = "link_target"
    __table_args__ = (sa.UniqueConstraint("run_id", "url"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[str] = mapped_column(_run_fk())
    url: Mapped[str] = mapped_column(sa.Text)
    outcome: Mapped[str] = mapped_column(sa.String(32))
    http_status: Mapped[int | None] = mapped_column(sa.Integer)
    attempts: Mapped[int] = mapped_column(sa.Integer)
    final_url: Mapped[str | None] = mapped_column(sa.Text)
    detail: Mapped[str] = mapped_column(sa.Text)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DnsAnswerRow(Base):
    __tablename__ = "dns_answer"
    __table_args__ = (sa.UniqueConstraint("run_id", "name", "rtype"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[str] = mapped_column(_run_fk())
    name: Mapped[str] = mapped_column(sa.String(255))
    rtype: Mapped[str] = mapped_column(sa.String(8))
    kind: Mapped[str] = mapped_column(sa.String(16))
    addresses: Mapped[list[str]] = mapped_column(JSONType)
    cname_chain: Mapped[list[str]] = mapped_column(JSONType)
    detail: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProbeRow(Base):
    """A probe beyond the crawl; run_id is NULL for the daemon's light availability probes."""

    __tablename__ = "probe"
    __table_args__ = (sa.Index(None, "site_id", "kind", "at"), sa.Index(None, "run_id", "site_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[str | None] = mapped_column(_run_fk())
    site_id: Mapped[str] = mapped_column(sa.ForeignKey("site.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    url: Mapped[str] = mapped_column(sa.Text)
    address: Mapped[str | None] = mapped_column(sa.String(64))
    outcome: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[int | None] = mapped_column(sa.Integer)
    final_url: Mapped[str | None] = mapped_column(sa.Text)
    title: Mapped[str] = mapped_column(sa.Text)
    size: Mapped[int] = mapped_column(sa.Integer)
    elapsed_ms: Mapped[float | None] = mapped_column(sa.Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)


class CheckResultRow(Base):
    """Written in the same transaction that marks the run complete, or per site by the worker that judged it
    (a distributed run); never shown before the run is complete."""

    __tablename__ = "check_result"
    __table_args__ = (_run_site_fk(), sa.UniqueConstraint("run_id", "site_id", "check_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(32))
    site_id: Mapped[str] = mapped_column(sa.String(64))
    check_id: Mapped[str] = mapped_column(sa.String(128))
    status: Mapped[str] = mapped_column(sa.String(8))
    severity: Mapped[str] = mapped_column(sa.String(8))
    basis: Mapped[str] = mapped_column(sa.Text)
    message_key: Mapped[str] = mapped_column(sa.String(128))
    message_params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)


class NotificationRow(Base):
    """One delivery of a run's notification to one channel; `target` is redacted (no tokens)."""

    __tablename__ = "notification"
    __table_args__ = (sa.CheckConstraint("status IN ('sent', 'failed')", name="status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[str] = mapped_column(_run_fk(), index=True)
    channel: Mapped[str] = mapped_column(sa.String(16))    # json | dingtalk | wecom | smtp
    target: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(8))
    attempts: Mapped[int] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class SchedulerJobRow(Base):
    """APScheduler 3's SQLAlchemyJobStore table, in its shape (apscheduler/jobstores/sqlalchemy.py).

    Our migrations create it so that the schema has one owner; the daemon writes
    it only through APScheduler, `govmon status` reads next_run_time (a UTC timestamp).
    """

    __tablename__ = "apscheduler_jobs"

    id: Mapped[str] = mapped_column(sa.Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(sa.Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(sa.LargeBinary)


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN instead of pysqlite's implicit,
    # DML-only transactions: DDL in migrations becomes transactional and a
    # SELECT followed by an UPDATE runs in one transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # auto_vacuum first: it only takes hold on a new file before anything is written (WAL
    # writes the header); monitor.retention gives older files one VACUUM to switch them.
    for pragma in ("auto_vacuum=INCREMENTAL", "journal_mode=WAL", "foreign_keys=ON", "busy_timeout=5000",
                   "synchronous=NORMAL"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str) -> Engine:
    """The engine for a storage URL (sqlite:///path or postgresql[+psycopg]://...).

    SQLite gets its file's directory created and WAL, foreign keys, a busy
    timeout and synchronous=NORMAL on every connection. A bare postgresql://
    URL uses psycopg (3), the driver govmon ships with. Raises StorageError.
    """
    try:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            return _sqlite_engine(parsed)
        if backend == "postgresql":
            # pool_pre_ping: a pooled connection that PostgreSQL dropped while idle (a restart between
            # two transactions) is replaced on checkout, so only a transaction the restart cut fails;
            # redoing that is the caller's business (monitor.scale.worker redoes a batch).
            return sa.create_engine(parsed, pool_pre_ping=True, json_serializer=_json_dumps)
    except (sa.exc.ArgumentError, ImportError, OSError) as exc:
        raise StorageError(f"storage url {_redacted(url)}: {exc}") from exc
    raise StorageError(f"storage url {_redacted(url)}: only sqlite and postgresql are supported")


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, json_serializer=_json_dumps)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return repr(url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """The one session factory. Use its sessions through monitor.store only."""
    return sessionmaker(engine)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's Config built in code (no alembic.ini), optionally bound to a connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@contextmanager
def _migrating(engine: Engine, what: str) -> Iterator[Connection]:
    try:
        with engine.begin() as connection:
            yield connection
    except sa.exc.SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        raise StorageError(f"{what} {engine.url.render_as_string(hide_password=True)}: {reason}") from exc


def head_revision() -> str:
    """The newest migration's revision, from the file names alone."""
    return max(m[1] for f in VERSIONS.iterdir() if (m := _REVISION_FILE.match(f.name)))


def _revision_of(connection: Connection) -> str | None:
    """The database's revision read with plain SQL (None: not migrated), as Alembic keeps it."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` (default: the newest) in one transaction. A database already at the
    newest is only looked at: Alembic (with Mako and Pygments, ~11 MB a process) is imported to migrate."""
    with _migrating(engine, "migrating") as connection:
        if revision == "head" and _revision_of(connection) == head_revision():
            return
        from alembic import command

        command.upgrade(alembic_config(connection), revision)
    log.debug("database %s at %s", engine.url.render_as_string(hide_password=True), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database down to `revision` (default: empty)."""
    from alembic import command

    with _migrating(engine, "downgrading") as connection:
        command.downgrade(alembic_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an unmigrated database."""
    from alembic.runtime.migration import MigrationContext

    with _migrating(engine, "reading the revision of") as connection:
        return MigrationContext.configure(connection).get_current_revision()
