"""The daemon as an operator meets it: real processes, signals, SQLite and PostgreSQL job
stores, child runs against the demo web and a loopback server that can hang.

Schedules fire within seconds: the daemon runs through a small launcher that passes
seconds-level APScheduler triggers (monitor.daemon.Options); everything else is the
product's code path. Waits poll with deadlines, never fixed long sleeps.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.interval import IntervalTrigger
from click.testing import CliRunner
from sqlalchemy.orm import Session

from monitor import config, daemon, db, store
from monitor.cli import cli
from monitor.demo import DemoWeb
from monitor.demo.configfile import render_config
from tests.loopback_http import reply, serve
from tests.test_monitor_notify import Receiver

T = TypeVar("T")
TZ = "Asia/Shanghai"
ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
LAUNCHER = """
import json, logging, sys
from pathlib import Path
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from monitor import daemon
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
for name in ("httpx", "httpcore", "apscheduler"):
    logging.getLogger(name).setLevel(logging.WARNING)
spec = json.loads(sys.argv[2])
def trigger(t):
    return None if t is None else (CronTrigger if t.pop("kind") == "cron" else IntervalTrigger)(**t)
options = daemon.Options(run_trigger=trigger(spec.pop("run", None)), probe_trigger=trigger(spec.pop("probe", None)),
                         **spec)
sys.exit(daemon.serve(Path(sys.argv[1]), options))
"""
FAR_PROBES = {"kind": "interval", "hours": 1}


def eventually(what: str, probe: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


class Daemon:
    """`monitor.daemon.serve` in its own process, its stderr collected line by line."""

    def __init__(self, config_path: Path, **spec: Any) -> None:
        spec.setdefault("probe", FAR_PROBES)
        self.proc = subprocess.Popen([sys.executable, "-P", "-c", LAUNCHER, str(config_path), json.dumps(spec)],
                                     cwd=config_path.parent, env={**ENV, "TMPDIR": str(config_path.parent)},
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, count: int = 1, timeout: float = 30.0) -> None:
        eventually(f"{text!r} in the daemon's log:\n{self.log}",
                   lambda: sum(text in line for line in self.lines) >= count or self.proc.poll() is not None,
                   timeout)
        if sum(text in line for line in self.lines) < count:
            pytest.fail(f"the daemon exited ({self.proc.returncode}) before logging {text!r}:\n{self.log}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"the daemon did not stop on {signal.Signals(sig).name}:\n{self.log}")
        self._reader.join(5)
        return code


@pytest.fixture
def daemons() -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def start(config_path: Path, **spec: Any) -> Daemon:
        started.append(Daemon(config_path, **spec))
        return started[-1]

    yield start
    for d in started:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


class Hanger:
    """A loopback site that leaves every request unanswered while `hanging` is set, else serves a page."""

    def __init__(self) -> None:
        self.requests, self.hanging, self.release = 0, threading.Event(), threading.Event()
        self.hanging.set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                if outer.hanging.is_set():
                    outer.release.wait(120)
                    return
                body = b"<html><head><title>ok</title></head><body>ok</body></html>"
                reply(self, 200, body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = serve(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hanger() -> Iterator[Hanger]:
    site = Hanger()
    yield site
    site.close()


def write_config(path: Path, web: DemoWeb, *, db_url: str | None = None, cron: str = "0 3 * * *",
                 site_url: str | None = None, notify: str = "") -> Path:
    """A sites.toml with one site: the demo web's healthy portal, or `site_url` (a Hanger)."""
    demo = [web.site("chaoyang")]
    bundle = path.parent / "demo-ca.pem"   # the portal is on HTTPS with a certificate of the demo CA
    bundle.write_bytes(web.ca.pem)  # type: ignore[union-attr]
    text = render_config(demo, {s.id: web.url(s.host, "/") for s in demo}, dns_port=web.dns_port,
                         storage_url=db_url or f"sqlite:///{path.parent / 'govmon.db'}",
                         report_dir=str(path.parent / "out"), ca_bundle=str(bundle))
    if site_url is not None:
        text = text.replace(f'url = "{web.url(demo[0].host, "/")}"', f'url = "{site_url}"\ntimeout_s = 60\nretries = 0')
    text += f'\n[schedule]\ncron = "{cron}"\ntimezone = "{TZ}"\n{notify}'
    path.write_text(text, encoding="utf-8")
    config.load(path)
    return path


def session_on(cfg_path: Path) -> Session:
    """A session on the config's database (as first written: a test may break the file later)."""
    if cfg_path not in _urls:
        _urls[cfg_path] = config.load(cfg_path).storage.url
    engine = db.make_engine(_urls[cfg_path])
    db.upgrade(engine)
    return db.session_factory(engine)()


_urls: dict[Path, str] = {}


def runs(cfg_path: Path) -> list[store.RunInfo]:
    """Every run, oldest first."""
    with session_on(cfg_path) as session:
        found = store.list_runs(session, statuses=tuple(store.RunStatus), limit=100)
    session.get_bind().dispose()  # type: ignore[union-attr]
    return found[::-1]


EVERY_2S = {"kind": "cron", "second": "*/2"}
LIMIT_S = 20


def test_time_limit_comes_from_the_crawl_settings(demo_config: config.Config) -> None:
    small = demo_config.model_copy(update={"sites": demo_config.sites[:1]})
    assert daemon.time_limit(small) == daemon.LIMIT_MIN_S
    crawl = demo_config.crawl.model_copy(update={"max_pages": 500, "timeout_s": 20.0, "retries": 1,
                                                 "concurrency": 8})
    big = demo_config.model_copy(update={"crawl": crawl, "sites": demo_config.sites[:3]})
    assert daemon.time_limit(big) == 3 * 500 * 20 * 2 / 8 + daemon.LIMIT_SLACK_S
    huge = big.model_copy(update={"sites": demo_config.sites * 20})
    assert daemon.time_limit(huge) == daemon.LIMIT_MAX_S


def test_the_lock_admits_one_holder_until_it_is_released(db_url: str) -> None:
    engine = db.make_engine(db_url)
    try:
        assert daemon.lock_holder(engine) is None
        lock = daemon.acquire_lock(engine)
        with pytest.raises(daemon.AlreadyRunning, match=f"another govmon daemon \\(pid {os.getpid()} on "):
            daemon.acquire_lock(engine)
        assert daemon.lock_holder(engine) == f"pid {os.getpid()} on {socket.gethostname()}"
        lock.release()
        assert daemon.lock_holder(engine) is None
        daemon.acquire_lock(engine).release()
    finally:
        engine.dispose()


def test_a_second_daemon_on_the_same_database_exits_2(
        db_url: str, demo_web: DemoWeb, tmp_path: Path, daemons: Callable[..., Daemon]) -> None:
    path = write_config(tmp_path / "sites.toml", demo_web, db_url=db_url)
    first = daemons(path)
    first.wait_for("govmon daemon started")
    second = subprocess.run([sys.executable, "-m", "monitor", "daemon", "--config", str(path)], cwd=tmp_path,
                            env=ENV, capture_output=True, text=True, timeout=60, check=False)
    assert second.returncode == 2
    assert f"another govmon daemon (pid {first.proc.pid} on {socket.gethostname()})" in second.stderr
    assert "Traceback" not in second.stderr
    # The lock dies with its holder: a crashed daemon does not block the next one.
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    engine = db.make_engine(db_url)
    try:
        eventually("the lock to be released", lambda: daemon.lock_holder(engine) is None, 10)
    finally:
        engine.dispose()


def test_a_schedule_fires_a_scheduled_run_probes_and_notifies(
        demo_web: DemoWeb, tmp_path: Path, daemons: Callable[..., Daemon]) -> None:
    hook = Receiver(script=[(503, "busy"), (502, "busy"), (200, "{}")])
    try:
        path = write_config(tmp_path / "sites.toml", demo_web,
                            notify=f'[notify]\non = "always"\n[[notify.webhook]]\nurl = "{hook.url(key="T0KEN-5ecret")}"\n')
        d = daemons(path, run=EVERY_2S, probe={"kind": "interval", "seconds": 1}, notify_backoff_s=0.05)
        d.wait_for("govmon daemon started")
        first = eventually("a complete scheduled run", lambda: next(
            (r for r in runs(path) if r.status == "complete"), None))
        assert first.kind == "scheduled" and first.pid != d.proc.pid
        d.wait_for(f"notifications for run {first.id}")
        with session_on(path) as session:
            [sent] = store.list_notifications(session, first.id)
            earliest = next(n for r in runs(path) for n in store.list_notifications(session, r.id))
            probes = session.scalars(sa.select(db.ProbeRow).where(db.ProbeRow.run_id.is_(None))).all()
        assert (sent.channel, sent.status) == ("json", "sent")
        # The receiver fails twice, then accepts: the first delivery of all took three attempts. (Under load a
        # run before the first complete one may fail, and failed runs are notified too.)
        assert (earliest.status, earliest.attempts) == ("sent", 3)
        assert sent.target.endswith("/hook?key=***")
        assert hook.hits[-1].json()["run"]["id"] == first.id
        assert probes and {p.site_id for p in probes} == {"chaoyang"} and probes[0].outcome == "ok"
        status = CliRunner().invoke(cli, ["status", "--config", str(path)])
        assert status.exit_code == 0, status.output
        assert f"守护进程：运行中（pid {d.proc.pid} on {socket.gethostname()}）" in status.output
        assert "下次定时巡检：" in status.output
        assert d.stop() == 0
        assert "T0KEN-5ecret" not in d.log
        assert "scheduled run " + first.id + " complete: sites=1" in d.log
    finally:
        hook.close()


def test_a_run_missed_while_the_daemon_was_down_runs_once_at_restart(
        demo_web: DemoWeb, tmp_path: Path, daemons: Callable[..., Daemon]) -> None:
    path = write_config(tmp_path / "sites.toml", demo_web)
    # Hourly, at a minute at least 20 minutes away: the trigger itself never fires during the test.
    hourly = {"kind": "cron", "minute": (datetime.now(UTC).minute + 30) % 60, "timezone": TZ}
    first = daemons(path, run=dict(hourly))
    first.wait_for("govmon daemon started")
    assert first.stop() == 0
    assert runs(path) == []
    # What five missed hourly runs look like in the job store: the next run time (column and
    # pickled job state) five hours in the past.
    with session_on(path) as session:
        row = session.get(db.SchedulerJobRow, daemon.RUN_JOB)
        assert row is not None and row.next_run_time is not None
        state = pickle.loads(row.job_state)
        state["next_run_time"] -= timedelta(hours=5)
        row.job_state, row.next_run_time = pickle.dumps(state), state["next_run_time"].timestamp()
        session.commit()

    second = daemons(path, run=dict(hourly))
    done = eventually("the missed run", lambda: [r for r in runs(path) if r.status != "running"], 30)
    time.sleep(1.5)  # a second catch-up run would have started by now
    assert [(r.kind, r.status) for r in runs(path)] == [("scheduled", "complete")] == [(r.kind, r.status)
                                                                                         for r in done]
    with session_on(path) as session:
        upcoming = store.scheduled_jobs(session)[daemon.RUN_JOB]
    assert upcoming is not None and upcoming > datetime.now(UTC)
    assert second.stop() == 0


def test_a_killed_or_hung_run_fails_with_its_reason_and_the_daemon_goes_on(
        demo_web: DemoWeb, tmp_path: Path, daemons: Callable[..., Daemon], hanger: Hanger) -> None:
    path = write_config(tmp_path / "sites.toml", demo_web, site_url=hanger.url)
    # The limit leaves a loaded 2-core machine room to finish the healthy run in time.
    d = daemons(path, run=EVERY_2S, run_timeout_s=LIMIT_S)
    running = eventually("a hanging run", lambda: next(
        (r for r in runs(path) if r.status == "running" and hanger.requests), None), 3 * LIMIT_S)
    assert running.pid is not None
    os.kill(running.pid, signal.SIGKILL)
    # Runs are found by id and order, not position: on a busy machine an earlier run may already
    # have hung and been stopped before the test saw one running.
    hung = eventually("a later run stopped at the time limit", lambda: next(
        (r for r in runs(path) if r.started_at > running.started_at and r.status != "running"), None), 3 * LIMIT_S)
    hanger.hanging.clear()
    eventually("a complete run after them", lambda: next(
        (r for r in runs(path) if r.started_at > hung.started_at and r.status == "complete"), None), 3 * LIMIT_S)
    [killed] = [r for r in runs(path) if r.id == running.id]
    assert (killed.status, killed.error) == ("failed", "the run process was killed by SIGKILL")
    assert (hung.status, hung.error) == ("failed", f"exceeded the time limit of {LIMIT_S} s; the run process was killed")
    assert {r.kind for r in runs(path)} == {"scheduled"}
    assert d.stop() == 0


def test_sigterm_during_a_run_interrupts_it_and_the_daemon_exits_0(
        demo_web: DemoWeb, tmp_path: Path, daemons: Callable[..., Daemon], hanger: Hanger) -> None:
    path = write_config(tmp_path / "sites.toml", demo_web, site_url=hanger.url)
    d = daemons(path, run=EVERY_2S, grace_s=0.5, kill_wait_s=5)
    running = eventually("a hanging run", lambda: next(
        (r for r in runs(path) if r.status == "running" and hanger.requests), None))
    assert d.stop(signal.SIGTERM) == 0
    [run] = runs(path)
    assert run.id == running.id and run.status == "interrupted"
    assert running.pid is not None and not store.pid_alive(running.pid)
    assert "govmon daemon stopped" in d.log


def test_sighup_reloads_the_config_and_refuses_a_bad_one(
        demo_web: DemoWeb, tmp_path: Path, daemons: Callable[..., Daemon]) -> None:
    path = write_config(tmp_path / "sites.toml", demo_web, cron="0 3 * * *")
    d = daemons(path, run=None)

    def next_run() -> datetime:
        with session_on(path) as session:
            at = store.scheduled_jobs(session)[daemon.RUN_JOB]
        assert at is not None
        return at.astimezone(ZoneInfo(TZ))

    d.wait_for("govmon daemon started")
    assert (next_run().hour, next_run().minute) == (3, 0)
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace('cron = "0 3 * * *"', 'cron = "0 3 * * *"\ncorn = "typo"'), encoding="utf-8")
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for("reload refused: keeping the running config")
    bad_line = path.read_text(encoding="utf-8").splitlines().index('corn = "typo"') + 1
    assert f"reload refused: {path}:{bad_line}: schedule.corn: unknown key 'corn' (did you mean 'cron'?)" in d.log
    assert d.proc.poll() is None and (next_run().hour, next_run().minute) == (3, 0)
    path.write_text(good.replace('cron = "0 3 * * *"', 'cron = "30 4 * * *"'), encoding="utf-8")
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for("config reloaded")
    assert (next_run().hour, next_run().minute) == (4, 30)
    assert d.stop() == 0


def _noop() -> None:
    """A job for the scheduler test below; never meant to run."""


def test_a_job_due_when_the_daemon_stops_stays_due_and_logs_no_traceback(caplog: pytest.LogCaptureFixture,
                                                                         tmp_path: Path) -> None:
    # The scheduler's thread looks for due jobs once more after shutdown(); a job due then went to the
    # stopped executor, logged a traceback and had its next run time moved on: that run was lost.
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    scheduler = daemon._Scheduler(jobstores={"default": SQLAlchemyJobStore(url=url)}, executors={"default": ThreadPoolExecutor(1)},
                                  timezone=UTC)
    due = datetime.now(UTC) - timedelta(seconds=1)
    scheduler.start(paused=True)
    scheduler.add_job(_noop, IntervalTrigger(hours=1), id="due", next_run_time=due, misfire_grace_time=None)
    with caplog.at_level(logging.DEBUG, logger="apscheduler"):
        scheduler.shutdown(wait=True)
    [job] = SQLAlchemyJobStore(url=url).get_all_jobs()    # as the next start reads it
    assert job.next_run_time == due, "still due: the next start runs it as missed"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
