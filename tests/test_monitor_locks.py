"""One daemon per database and one run at a time per database, on SQLite and PostgreSQL."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor import db, locks
from monitor.demo import DemoWeb


def test_run_lock_is_exclusive_names_its_holder_and_is_not_the_daemon_lock(db_url: str) -> None:
    engine = db.make_engine(db_url)
    try:
        assert locks.holder(engine, locks.RUN) is None
        held = locks.acquire(engine, locks.RUN)
        me = f"pid {os.getpid()} on {socket.gethostname()}"
        assert locks.holder(engine, locks.RUN) == me
        with pytest.raises(locks.Busy) as refused:
            locks.acquire(engine, locks.RUN, wait_s=0.5)
        assert refused.value.holder == me
        daemon = locks.acquire(engine, locks.DAEMON)   # a daemon and its run hold one lock each
        daemon.release()
        held.release()
        assert locks.holder(engine, locks.RUN) is None
        locks.acquire(engine, locks.RUN).release()
    finally:
        engine.dispose()


def govmon(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", "-q", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def test_a_second_run_on_the_database_is_refused_but_a_check_may_run_beside_it(
        demo_web: DemoWeb, demo_config_path: Path, tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'govmon.db'}")
    db.upgrade(engine)
    first = locks.acquire(engine, locks.RUN)   # stands for a run in progress
    try:
        refused = govmon("run", "--config", str(demo_config_path), "--wait", "1", cwd=tmp_path)
        assert refused.returncode == 3, refused.stderr
        assert f"another govmon run (pid {os.getpid()} on " in refused.stderr
        assert "Traceback" not in refused.stderr
        url = demo_web.url("lab.demo.test", "/status/404")
        beside = govmon("check", url, "--config", str(demo_config_path), cwd=tmp_path)
        assert beside.returncode == 1, beside.stderr   # it ran: the page's 404 is a finding
    finally:
        first.release()
        engine.dispose()


def _end_session_of(engine: sa.Engine, name: str) -> None:
    """What a server restart does to the lock: the session holding it ends (the server stays up here)."""
    with engine.connect() as conn:
        ended = conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid, 60000) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid::bigint = :c AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
            {"c": locks._PG_CLASS[name]}).all()
    assert ended == [(True,)]


@pytest.mark.postgres
def test_a_dropped_run_lock_is_taken_again_unless_another_took_it(pg_url: str) -> None:
    engine = db.make_engine(pg_url)
    try:
        held = locks.acquire(engine, locks.RUN)
        held.keep()   # held: nothing to do
        _end_session_of(engine, locks.RUN)
        assert locks.holder(engine, locks.RUN) is None
        held.keep()
        assert locks.holder(engine, locks.RUN) == locks.me()
        held.keep()
        with pytest.raises(locks.Busy):
            locks.try_acquire(engine, locks.RUN)
        _end_session_of(engine, locks.RUN)
        other = locks.try_acquire(engine, locks.RUN)   # another run, before this one asks again
        try:
            with pytest.raises(locks.LockLost, match=r"dropped by the database .* took it meanwhile") as lost:
                held.keep()
            assert lost.value.holder == locks.me()
            held.release()   # lets go of nothing of the other's
            assert locks.holder(engine, locks.RUN) == locks.me()
        finally:
            other.release()
        assert locks.holder(engine, locks.RUN) is None
    finally:
        engine.dispose()
