"""PostgreSQL and Redis restarting under a distributed run: private servers, stopped and started by PID.

A PostgreSQL restart while workers are mid-site is waited out: each gives its batch back and it is
crawled again, the coordinator (crawling too) waits, a worker killed during the outage changes nothing,
and the run completes with the findings of the single-process run and no row twice. An outage longer
than the bound (lease_s) fails the run with one line naming the database (no password), no run is shown
complete, and the worker, waiting through it, takes the next run. A Redis restart (its data kept)
mid-site is waited out too, and a batch that ends while Redis is away is marked done once it is back.
The run lock, dropped with the server's sessions, is taken again when it is back, so a second run is
still refused; a run whose lock another process took during the outage stops, marked failed.
Every wait is for an event (a row, a line, a process's end), except the outage itself, which lasts a
set time on purpose.
"""

from __future__ import annotations

import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
import psycopg
import pytest
import sqlalchemy as sa

from monitor import db, locks, store
from monitor.demo import DemoWeb
from monitor.scale.queue import Queue, connect
from tests.test_e2e_scale import (RUN_TIMEOUT_S, Worker, _holding_rows, crawl_rows, env, findings, govmon,
                                  run_results, scale_config)
from tests.test_monitor_scale import PrivateRedis

OUTAGE_S = 2.0   # a restart's few seconds; under the waited-out test's lease_s, over the failing test's


def _free_port() -> int:
    """A free loopback port below 32768 (above are the ephemeral ports clients are given)."""
    while True:
        port = random.randint(20000, 32767)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class PrivatePostgres:
    """A PostgreSQL server of this test alone (trust auth, 127.0.0.1, its own data folder), to stop at will.

    Run as the `postgres` user when the tests run as root: the server refuses root."""

    def __init__(self, folder: Path, initdb: str) -> None:
        self.folder, self.port = folder, _free_port()
        self.binary = str(Path(initdb).with_name("postgres"))
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user is not None:
            os.chown(folder, pwd.getpwnam(self.user).pw_uid, -1)
        done = subprocess.run([initdb, "-D", str(folder / "data"), "-A", "trust", "-U", "postgres", "--no-sync",
                               "-E", "UTF8", "--locale=C"], user=self.user, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, password: str = "") -> str:
        secret = f":{password}" if password else ""
        return f"postgresql+psycopg://postgres{secret}@127.0.0.1:{self.port}/postgres"

    def socket_url(self) -> str:
        """Through the server's unix socket in its folder: admitted even when TCP is not."""
        return f"postgresql+psycopg://postgres@/postgres?host={self.folder}&port={self.port}"

    def _admit(self, tcp: bool) -> None:
        (self.folder / "data" / "pg_hba.conf").write_text(
            f"local all all trust\nhost all all 127.0.0.1/32 {'trust' if tcp else 'reject'}\n")

    def admit_tcp(self) -> None:
        """Let TCP clients (govmon's URL) in again, without a restart."""
        self._admit(tcp=True)
        with psycopg.connect(f"host={self.folder} port={self.port} user=postgres dbname=postgres") as conn:
            conn.execute("SELECT pg_reload_conf()")

    def start(self, tcp: bool = True) -> None:
        """Start the server; return once it accepts connections. Without `tcp` it refuses every TCP client
        until admit_tcp() (its unix socket admits this test)."""
        self._admit(tcp)
        with (self.folder / "server.log").open("ab") as out:
            self.process = subprocess.Popen(
                [self.binary, "-D", str(self.folder / "data"), "-p", str(self.port), "-k", str(self.folder),
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                user=self.user, stdout=subprocess.DEVNULL, stderr=out)
        while True:
            try:
                psycopg.connect(f"host={self.folder} port={self.port} user=postgres dbname=postgres",
                                connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                assert self.process.poll() is None, (self.folder / "server.log").read_text()[-2000:]
                time.sleep(0.05)

    def stop(self) -> None:
        """A fast shutdown, as `pg_ctl restart -m fast` does: sessions are ended ("terminating connection
        due to administrator command"), open transactions lost."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=60)


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    initdb = shutil.which("initdb") or ("/usr/local/bin/initdb" if Path("/usr/local/bin/initdb").exists() else None)
    if initdb is None:
        pytest.skip("initdb not found: these tests start a PostgreSQL server of their own")
    if os.geteuid() == 0 and not any(u.pw_name == "postgres" for u in pwd.getpwall()):
        pytest.skip("running as root without a postgres user: PostgreSQL refuses to run as root")
    # Not under tmp_path: the server's user must reach the folder, and a unix socket's path is short.
    folder = Path(tempfile.mkdtemp(prefix="govmon-pg-"))
    server = PrivatePostgres(folder, initdb)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _runs(storage_url: str) -> list[store.RunInfo]:
    engine = db.make_engine(storage_url)
    try:
        with db.session_factory(engine)() as session:
            return store.list_runs(session, statuses=("running", "complete", "failed", "interrupted"), limit=10)
    finally:
        engine.dispose()


def _sites(*ids: str) -> list[str]:
    return [arg for site in ids for arg in ("--site", site)]


SIX = ("chaoyang", "shuangta", "longcheng", "yshj", "longtan", "fgw")


def test_a_postgresql_restart_mid_site_is_waited_out_and_the_run_completes_the_same(
        demo_web: DemoWeb, demo_run: tuple, private_pg: PrivatePostgres, redis_url: str, redis_prefix: str,
        tmp_path: Path) -> None:
    storage = private_pg.url()
    path = scale_config(demo_web, tmp_path, storage, redis_url, redis_prefix, batch_sites=2, lease_s=8)
    coordinator_log = tmp_path / "run.log"
    run = subprocess.Popen(govmon("-v", "run", "--config", str(path), *_sites(*SIX)), env=env(),   # it crawls too
                           cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=coordinator_log.open("w"))
    writer = Worker(path, tmp_path, "writer", "--segment-bytes", "20000")
    doomed = Worker(path, tmp_path, "doomed")
    try:
        name = writer.ready()
        doomed.ready()
        _holding_rows(Queue(connect(redis_url), redis_prefix), name, storage, run)
        private_pg.stop()
        os.kill(doomed.process.pid, signal.SIGKILL)   # its leases expire; its connections died with the server
        doomed.process.wait()
        time.sleep(OUTAGE_S)
        private_pg.start()
        assert run.wait(timeout=RUN_TIMEOUT_S) in (0, 1), coordinator_log.read_text()[-3000:]
        assert writer.process.poll() is None, writer.log.read_text()[-3000:]
    finally:
        for w in (writer, doomed):
            w.stop()
        if run.poll() is None:
            run.kill()
    logs = coordinator_log.read_text() + writer.log.read_text()
    assert "Traceback" not in logs, logs[-3000:]
    assert f"the database at {storage} does not answer; waiting up to 8 s" in logs
    assert "its sites go back to the queue" in writer.log.read_text()
    outcome, work = demo_run
    assert findings(run_results(storage)) == findings(outcome.results, SIX)
    single = f"sqlite:///{work / 'govmon.db'}"
    assert crawl_rows(storage, SIX) == crawl_rows(single, SIX), "no row twice, none missing"


def test_a_postgresql_outage_past_lease_s_fails_the_run_in_one_line_and_the_worker_takes_the_next(
        demo_web: DemoWeb, private_pg: PrivatePostgres, redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    storage = private_pg.url(password="hunter2")   # trust auth ignores it; no message may show it
    path = scale_config(demo_web, tmp_path, storage, redis_url, redis_prefix, batch_sites=2, lease_s=1)
    first = subprocess.Popen(govmon("run", "--no-work", "--config", str(path), *_sites("chaoyang", "fgw")),
                             env=env(), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    worker = Worker(path, tmp_path, "worker", "--segment-bytes", "20000")
    try:
        name = worker.ready()
        _holding_rows(Queue(connect(redis_url), redis_prefix), name, storage, first)
        private_pg.stop()
        stderr = first.communicate(timeout=RUN_TIMEOUT_S)[1].decode()
        private_pg.start()
        [failed] = _runs(storage)
        assert failed.status != "complete"
        second = subprocess.run(govmon("run", "--no-work", "--config", str(path), *_sites("chaoyang")), env=env(),
                                cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        assert worker.process.poll() is None, worker.log.read_text()[-3000:]
    finally:
        worker.stop()
        if first.poll() is None:
            first.kill()
    assert first.returncode == 3   # Exit.INTERNAL, as every storage error
    shown = sa.make_url(storage).render_as_string(hide_password=True)
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"govmon: storage error: Unreachable: the database at {shown} did not answer for 1 s"), \
        stderr[-3000:]
    assert "hunter2" not in stderr + worker.log.read_text() and "Traceback" not in stderr
    assert second.returncode in (0, 1), second.stderr[-3000:]
    runs = {r.id: r.status for r in _runs(storage)}
    assert runs[failed.id] == "failed", "marked failed once the database answers (its process is gone)"
    assert sorted(runs.values()) == ["complete", "failed"]


def test_a_redis_restart_mid_site_is_waited_out_and_the_run_completes_the_same(
        demo_web: DemoWeb, demo_run: tuple, private_pg: PrivatePostgres, tmp_path: Path) -> None:
    scale_db = private_pg.url()
    (tmp_path / "redis").mkdir()
    private_redis = PrivateRedis(tmp_path / "redis", persist=True)
    private_redis.start()
    four = ("chaoyang", "shuangta", "longcheng", "fgw")
    path = scale_config(demo_web, tmp_path, scale_db, private_redis.url, "govmon", batch_sites=2, lease_s=8)
    coordinator_log = tmp_path / "run.log"
    run = subprocess.Popen(govmon("-v", "run", "--config", str(path), *_sites(*four)), env=env(), cwd=tmp_path,
                           stdout=subprocess.DEVNULL, stderr=coordinator_log.open("w"))
    writer = Worker(path, tmp_path, "writer", "--segment-bytes", "20000")
    try:
        name = writer.ready()
        _holding_rows(Queue(connect(private_redis.url), "govmon"), name, scale_db, run)
        private_redis.stop()
        time.sleep(OUTAGE_S)
        private_redis.start()
        assert run.wait(timeout=RUN_TIMEOUT_S) in (0, 1), coordinator_log.read_text()[-3000:]
        assert writer.process.poll() is None, writer.log.read_text()[-3000:]
    finally:
        writer.stop()
        if run.poll() is None:
            run.kill()
        private_redis.stop()
    logs = coordinator_log.read_text() + writer.log.read_text()
    assert "Traceback" not in logs, logs[-3000:]
    assert "of an earlier attempt" not in logs, "a batch crawled whole is marked done, not crawled again"
    outcome, work = demo_run
    assert findings(run_results(scale_db)) == findings(outcome.results, four)
    single = f"sqlite:///{work / 'govmon.db'}"
    assert crawl_rows(scale_db, four) == crawl_rows(single, four), "no row twice, none missing"


def _logged(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    """Wait for `text` in the process's log."""
    while text not in log.read_text():
        assert process.poll() is None, log.read_text()[-3000:]
        time.sleep(0.05)


def _waiting_run(demo_web: DemoWeb, storage: str, redis_url: str, redis_prefix: str, tmp_path: Path
                 ) -> tuple[Path, Path, subprocess.Popen[bytes]]:
    """A config on `storage` and `govmon run --no-work` on it with no worker up: it holds the run lock and
    waits, for as long as the test likes. (config path, the run's log, the run)"""
    path = scale_config(demo_web, tmp_path, storage, redis_url, redis_prefix, lease_s=60)
    log = tmp_path / "run.log"
    run = subprocess.Popen(govmon("-v", "run", "--no-work", "--config", str(path), *_sites("chaoyang")), env=env(),
                           cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    _logged(log, "1 sites queued for the workers", run)
    return path, log, run


def test_the_run_lock_is_taken_again_after_a_postgresql_restart_and_a_second_run_is_refused(
        demo_web: DemoWeb, private_pg: PrivatePostgres, redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    storage = private_pg.url()
    path, log, first = _waiting_run(demo_web, storage, redis_url, redis_prefix, tmp_path)
    engine = db.make_engine(storage)
    try:
        private_pg.stop()
        _logged(log, f"the database at {storage} does not answer", first)
        private_pg.start()
        _logged(log, f"the database at {storage} answers again", first)
        assert locks.holder(engine, locks.RUN) == f"pid {first.pid} on {socket.gethostname()}"
        second = subprocess.run(govmon("run", "--config", str(path), *_sites("chaoyang")), env=env(), cwd=tmp_path,
                                capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        assert first.poll() is None, log.read_text()[-3000:]
        first.terminate()
        first.wait(timeout=60)
        assert locks.holder(engine, locks.RUN) is None, "let go at the run's end"
    finally:
        if first.poll() is None:
            first.kill()
        engine.dispose()
    assert second.returncode == 3, second.stderr[-3000:]
    assert f"another govmon run (pid {first.pid} on " in second.stderr
    assert "taken again" in log.read_text() and "Traceback" not in log.read_text() + second.stderr


def test_a_run_whose_lock_another_run_took_during_an_outage_stops_and_is_marked_failed(
        demo_web: DemoWeb, private_pg: PrivatePostgres, redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    storage = private_pg.url()
    _, log, first = _waiting_run(demo_web, storage, redis_url, redis_prefix, tmp_path)
    beside = db.make_engine(private_pg.socket_url())
    try:
        private_pg.stop()
        _logged(log, f"the database at {storage} does not answer", first)
        private_pg.start(tcp=False)   # the run cannot come back before the lock is taken from beside it
        other = locks.try_acquire(beside, locks.RUN)
        private_pg.admit_tcp()
        try:
            while first.poll() is None and "answers again" not in log.read_text():   # its next look decides
                time.sleep(0.05)
            assert "answers again" not in log.read_text(), "it went on without its lock"
            assert first.wait(timeout=RUN_TIMEOUT_S) == 3, log.read_text()[-3000:]
            assert locks.holder(beside, locks.RUN) == locks.me(), "still the other run's"
        finally:
            other.release()
    finally:
        if first.poll() is None:
            first.kill()
        beside.dispose()
    stderr = log.read_text()
    took = f"another govmon run ({locks.me()}) took it meanwhile"
    assert took in stderr.strip().splitlines()[-1] and "Traceback" not in stderr, stderr[-3000:]
    [run] = _runs(storage)
    assert run.status == "failed" and took in (run.error or ""), run
