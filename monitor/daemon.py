"""The scheduler daemon (`govmon daemon`): the configured schedule, for months, unattended.

Owns APScheduler 3 (a SQLAlchemyJobStore in the project's database), the
one-daemon-per-database lock, signals, and the supervision of each scheduled run
as a child process (`python -m monitor run --kind scheduled`) with a hard time
limit: a crash, kill or hang of the child marks its run failed and the daemon
goes on. Light availability probes run in the daemon between runs; after each
complete run it prunes old crawl snapshots (monitor.retention). It never crawls or
evaluates in its own process, and a job never raises into the scheduler.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor import db, locks, notify, probes, retention, store, supervisor
from monitor.config import Config, ConfigError, load
from monitor.pipeline import STALE_AFTER, site_info, utcnow
from monitor.resolver import Resolver

log = logging.getLogger(__name__)

RUN_JOB = "run"
PROBE_JOB = "probe:availability"
RUN_MISFIRE_S = 7 * 86400       # a run missed while the daemon was down runs once at start, up to a week late
WAKE_S = 30.0                   # the scheduler re-reads the clock at least this often (clock changes)
POLL_S = 0.25
HEARTBEAT_S = 60.0
LIMIT_MIN_S, LIMIT_MAX_S, LIMIT_SLACK_S = 1800.0, 86400.0, 600.0
EXIT_OK, EXIT_LOST_LOCK = 0, 3


@dataclass(frozen=True)
class Options:
    run_timeout_s: float | None = None        # None: time_limit(config)
    grace_s: float = 60.0                     # on SIGTERM, how long the current run may go on
    kill_wait_s: float = 10.0                 # after SIGINT to a child, before SIGKILL
    run_trigger: BaseTrigger | None = None    # None: [schedule] cron in its timezone
    probe_trigger: BaseTrigger | None = None  # None: every [schedule] probe_interval_min minutes
    notify_backoff_s: float = notify.BACKOFF_S


def time_limit(cfg: Config) -> float:
    """A run's hard limit: every page of every site timing out on every try, at full
    concurrency, plus 10 minutes; never under 30 minutes or over 24 hours."""
    work = sum(c.max_pages * c.timeout_s * (c.retries + 1) for c in map(cfg.crawl_for, cfg.sites))
    return min(LIMIT_MAX_S, max(LIMIT_MIN_S, work / cfg.crawl.concurrency + LIMIT_SLACK_S))


# --- one daemon per database ----------------------------------------------------------------------------------


class AlreadyRunning(Exception):
    """Another daemon holds this database; the text says which and what to do."""


def acquire_lock(engine: Engine) -> locks.Lock:
    """Take the database's daemon lock or raise AlreadyRunning (StorageError if PostgreSQL is unreachable)."""
    try:
        return locks.try_acquire(engine, locks.DAEMON)
    except ValueError as exc:
        raise AlreadyRunning(str(exc)) from None
    except locks.Busy as exc:
        where = str(exc) if engine.dialect.name != "sqlite" else str(locks.lock_path(engine, locks.DAEMON))
        raise AlreadyRunning(f"another govmon daemon ({exc.holder}) is running on this database ({where}); "
                             "stop it first, or give this one another database") from None


def lock_holder(engine: Engine) -> str | None:
    """Who holds the daemon lock ("pid N on HOST"), or None if no daemon runs on this database."""
    return locks.holder(engine, locks.DAEMON)


# --- the jobs (referenced by text from the job store) ---------------------------------------------------------

# The job store keeps jobs as text references with picklable arguments (the config
# path), so a running job finds its live daemon here; one daemon per process.
_active: Daemon | None = None


def scheduled_run(config_path: str) -> None:
    """Job: one scheduled run in a child process, then its notifications."""
    if _active is not None and str(_active.config_path) == config_path:
        _active.run_once()
    else:
        log.warning("job %s for %s: no daemon for that config in this process; skipped", RUN_JOB, config_path)


def probe_availability(config_path: str) -> None:
    """Job: probe every site's homepage (the availability window between runs)."""
    if _active is not None and str(_active.config_path) == config_path:
        _active.probe_once()


def read_config(path: Path) -> tuple[Config, bytes]:
    """The validated config and the exact bytes it was read from (ConfigError if invalid)."""
    for _ in range(3):
        cfg = load(path)
        raw = path.read_bytes()
        if hashlib.sha256(raw).hexdigest() == cfg.digest:
            return cfg, raw
    raise ConfigError([f"{path}: the file kept changing while it was read"])


class _Scheduler(BackgroundScheduler):  # type: ignore[misc]  # APScheduler 3 ships no types
    def _process_jobs(self) -> float | None:
        # `shutdown()` marks the scheduler stopped, shuts its executors and wakes the loop thread, which
        # looks for due jobs once more before it ends: a job due then went to a stopped executor (an
        # "Error submitting job" traceback in the log) and its next run time moved on, losing that run.
        # Stopped, it submits nothing; the job stays due in the store and the next start runs it as missed.
        if self.state == STATE_STOPPED:
            return None
        # APScheduler's loop thread dies on a job store error outside get_due_jobs
        # (a database restart, say); retry instead of silently stopping every schedule.
        try:
            return super()._process_jobs()  # type: ignore[no-any-return]
        except Exception as exc:  # noqa: BLE001 - logged; the loop goes on
            log.error("scheduler: %s: %s; retrying in %.0f s", type(exc).__name__, exc, WAKE_S)
            return WAKE_S


def _trigger_key(trigger: BaseTrigger) -> tuple[str, str, str]:
    return type(trigger).__name__, str(trigger), str(getattr(trigger, "timezone", ""))


def _same(job: Job, spec: dict[str, Any]) -> bool:
    return (job.func_ref == spec["func"] and tuple(job.args) == spec["args"] and job.executor == spec["executor"]
            and job.misfire_grace_time == spec["misfire_grace_time"] and job.coalesce and job.max_instances == 1
            and _trigger_key(job.trigger) == _trigger_key(spec["trigger"]))


@dataclass(frozen=True)
class ChildExit:
    pid: int
    returncode: int
    run: store.RunInfo | None       # the child's run as it ended; None if it never started one
    seconds: float
    tail: tuple[str, ...]           # the last lines of its stderr


class Daemon:
    """The live daemon: its config, scheduler and job store, and the run it supervises."""

    def __init__(self, config_path: Path, cfg: Config, raw: bytes, options: Options, engine: Engine) -> None:
        self.config_path, self.options, self.engine = config_path, options, engine
        self.sessions = db.session_factory(engine)
        self.workdir = Path(tempfile.mkdtemp(prefix="govmon-daemon-"))
        self.config, self.snapshot = cfg, self._write_snapshot(raw)
        self.stopping = threading.Event()
        self.stop_at = 0.0
        self._wake = threading.Event()
        self._signal: int | None = None
        self._reload = False
        self.scheduler = _Scheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine)},
            executors={"runs": ThreadPoolExecutor(1), "probes": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1}, timezone=ZoneInfo(cfg.schedule.timezone))

    def _write_snapshot(self, raw: bytes) -> Path:
        # Runs read the config the daemon validated, not a file edited since (SIGHUP reloads it).
        path = self.workdir / f"sites-{hashlib.sha256(raw).hexdigest()[:16]}.toml"
        path.write_bytes(raw)
        return path

    def _jobs(self) -> dict[str, dict[str, Any]]:
        cfg, arg = self.config, (str(self.config_path),)
        every = IntervalTrigger(minutes=cfg.schedule.probe_interval_min, timezone=ZoneInfo(cfg.schedule.timezone))
        return {
            RUN_JOB: {"func": "monitor.daemon:scheduled_run", "args": arg, "executor": "runs", "name": "scheduled run",
                      "trigger": self.options.run_trigger or cfg.schedule.trigger(),
                      "misfire_grace_time": RUN_MISFIRE_S},
            PROBE_JOB: {"func": "monitor.daemon:probe_availability", "args": arg, "executor": "probes",
                        "name": "availability probes", "trigger": self.options.probe_trigger or every,
                        "misfire_grace_time": cfg.schedule.probe_interval_min * 60},
        }

    def reconcile(self) -> None:
        """Make the stored jobs what the config says; an unchanged job keeps its stored next run
        time, so a run missed while the daemon was down still runs (once) now."""
        wanted = self._jobs()
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:
                self.scheduler.remove_job(job.id)
                log.info("removed stored job %s: no longer configured", job.id)
        for job_id, spec in wanted.items():
            current = self.scheduler.get_job(job_id)
            if current is None or not _same(current, spec):
                self.scheduler.add_job(id=job_id, replace_existing=True, coalesce=True, max_instances=1, **spec)
                log.info("job %s scheduled: %s", job_id, spec["trigger"])

    def next_runs(self) -> str:
        zone = ZoneInfo(self.config.schedule.timezone)
        jobs = {j.id: j.next_run_time for j in self.scheduler.get_jobs()}
        return ", ".join(f"{job_id} at {at.astimezone(zone):%Y-%m-%d %H:%M:%S %Z}" if at else f"{job_id} paused"
                         for job_id, at in sorted(jobs.items()))

    # --- lifecycle

    def serve(self, lock: locks.Lock) -> int:
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            with self.sessions() as session:
                store.recover_stale_runs(session, now=utcnow(), host=socket.gethostname(),
                                         is_alive=store.pid_alive, stale_after=STALE_AFTER)
            self.scheduler.start(paused=True)
            self.reconcile()
            self.scheduler.resume()
            limit = self.options.run_timeout_s or time_limit(self.config)
            log.info("govmon daemon started (%s): %d sites, run time limit %.0f s; next: %s",
                     locks.me(), len(self.config.sites), limit, self.next_runs())
            code = self._loop(lock)
            self._shutdown()
            return code
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for leftover in self.workdir.iterdir():
                leftover.unlink()
            self.workdir.rmdir()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self._reload = True
        else:
            self._signal = signum
        self._wake.set()

    def _loop(self, lock: locks.Lock) -> int:
        while True:
            self._wake.wait(WAKE_S)
            self._wake.clear()
            if self._signal is not None:
                log.info("%s: stopping", signal.Signals(self._signal).name)
                return EXIT_OK
            if self._reload:
                self._reload = False
                self.reload()
            if not lock.held():
                log.error("lost the database connection that holds the daemon lock; stopping")
                return EXIT_LOST_LOCK
            self.scheduler.wakeup()

    def _shutdown(self) -> None:
        self.stop_at = time.monotonic()
        self.stopping.set()
        self.scheduler.shutdown(wait=True)
        log.info("govmon daemon stopped (%s)", locks.me())

    def reload(self) -> None:
        """SIGHUP: read the config again; an invalid one is refused and the running one kept."""
        try:
            cfg, raw = read_config(self.config_path)
        except ConfigError as exc:
            for line in exc.errors:
                log.error("reload refused: %s", line)
            log.error("reload refused: keeping the running config (digest %s)", self.config.digest[:12])
            return
        if cfg.storage.url != self.config.storage.url:
            log.error("reload refused: [storage] url changed; restart the daemon to move it to another database")
            return
        self.config, self.snapshot = cfg, self._write_snapshot(raw)
        self.reconcile()
        log.info("config reloaded (digest %s): %d sites; next: %s", cfg.digest[:12], len(cfg.sites), self.next_runs())

    # --- one scheduled run

    def run_once(self) -> None:
        cfg, snapshot = self.config, self.snapshot
        if self.stopping.is_set():
            return
        complete = False
        try:
            ended = self._supervise(snapshot, self.options.run_timeout_s or time_limit(cfg))
            _log_run(ended)
            complete = ended.run is not None and ended.run.status == "complete"
            if ended.run is not None and ended.run.status in ("complete", "failed"):
                self._notify(cfg, ended.run)
        except Exception as exc:  # the daemon outlives any one run
            log.error("scheduled run: %s: %s", type(exc).__name__, exc)
            log.debug("scheduled run", exc_info=True)
        if complete and not self.stopping.is_set():  # a stop is not held up by a long prune
            self._prune(cfg.storage.keep_snapshots)

    def _find(self, pid: int, since: datetime) -> store.RunInfo | None:
        try:
            with self.sessions() as session:
                return store.run_of_process(session, pid=pid, host=socket.gethostname(), since=since)
        except db.StorageError as exc:  # supervision goes on; the database may be back on the next look
            log.warning("looking up the run of pid %d: %s", pid, exc)
            return None

    def _heartbeat(self, run_id: str) -> None:
        # The supervisor knows the child lives: keep its run from looking abandoned to other commands.
        try:
            with self.sessions() as session:
                store.heartbeat(session, run_id, utcnow())
        except db.StorageError as exc:
            log.warning("heartbeat of run %s: %s", run_id, exc)

    def _supervise(self, snapshot: Path, limit: float) -> ChildExit:
        since, started = utcnow().replace(microsecond=0), time.monotonic()
        # A manual run on the same database delays the scheduled one rather than sinking it.
        child = supervisor.spawn([sys.executable, "-m", "monitor", "-q", "run", "--config", str(snapshot),
                                  "--kind", "scheduled", "--wait", f"{limit / 2:.0f}"])
        proc = child.process
        tail: deque[str] = deque(maxlen=20)
        relay = threading.Thread(target=_relay, args=(proc.stderr, tail), name=f"run-{proc.pid}", daemon=True)
        relay.start()
        run: store.RunInfo | None = None
        beat = started + HEARTBEAT_S
        reason, status = None, "failed"
        while True:
            try:
                proc.wait(timeout=POLL_S)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if run is None:
                run = self._find(proc.pid, since)
            elif now >= beat:
                beat = now + HEARTBEAT_S
                self._heartbeat(run.id)
            if now - started >= limit:
                reason = f"exceeded the time limit of {limit:.0f} s; the run process was killed"
                child.kill()
                break
            if self.stopping.is_set() and now - self.stop_at >= self.options.grace_s:
                reason, status = "the daemon stopped; the run was cut short after the grace period", "interrupted"
                child.stop(self.options.kill_wait_s)
                break
        child.wait()
        relay.join(timeout=5)
        run = self._find(proc.pid, since)
        if run is not None and run.status == "running":
            with self.sessions() as session:
                store.fail_run(session, run.id, reason or _death(proc.returncode, tail), finished_at=utcnow(),
                               status=status)
                run = store.get_run(session, run.id)
        return ChildExit(proc.pid, proc.returncode, run, time.monotonic() - started, tuple(tail))

    def _notify(self, cfg: Config, run: store.RunInfo) -> None:
        if cfg.notify is None:
            return
        with self.sessions() as session:
            if run.status == "complete":
                before = store.previous_complete_run(session, run.id, kinds=("scheduled",))
                summary = notify.summarize(store.load_results(session, run.id),
                                           store.load_results(session, before.id) if before else None,
                                           cfg.report, cfg.schedule.timezone)
            else:
                summary = notify.failed_summary(run, cfg.report, cfg.schedule.timezone)
            if not notify.wanted(summary, cfg.notify.on):
                log.info("run %s: no notification (notify.on = %s and nothing got worse)", run.id, cfg.notify.on)
                return
            for d in notify.send_all(summary, cfg.notify, backoff_s=self.options.notify_backoff_s):
                store.record_notification(session, store.NotificationInfo(
                    run_id=run.id, channel=d.channel, target=d.target, status="sent" if d.ok else "failed",
                    attempts=d.attempts, error=d.error, at=utcnow()))

    def _prune(self, keep: int) -> None:
        """The retention policy after a complete run; a failure is logged and the next run tries again."""
        try:
            with self.sessions() as session:
                retention.prune(session, keep)  # logs what it did
        except locks.Busy as exc:
            log.info("prune skipped: %s", exc)
        except Exception as exc:  # noqa: BLE001 - the daemon outlives a failed prune
            log.error("prune: %s: %s", type(exc).__name__, exc)
            log.debug("prune", exc_info=True)

    # --- availability probes

    def probe_once(self) -> None:
        cfg, started = self.config, time.monotonic()
        sites = [s for s in cfg.sites if "availability" not in cfg.disabled_for(s)]
        targets = [probes.ProbeTarget(site_info(s), cfg.crawl_for(s), frozenset({"probe:availability"}))
                   for s in sites]
        try:
            collected = asyncio.run(probes.collect(targets, resolver=Resolver.from_config(cfg.dns), crawl=cfg.crawl,
                                                   clock=utcnow))
            with self.sessions() as session:
                store.sync_sites(session, [site_info(s) for s in sites], at=utcnow())
                for site_id, site_probes in collected.probes.items():
                    store.save_probes(session, None, site_id, site_probes)
        except Exception as exc:  # the next probe round may succeed
            log.error("availability probes: %s: %s", type(exc).__name__, exc)
            log.debug("availability probes", exc_info=True)
            return
        outcomes = Counter(p.outcome for ps in collected.probes.values() for p in ps)
        failed = sorted(f"{sid}={p.outcome}" for sid, ps in collected.probes.items() for p in ps if p.outcome != "ok")
        log.info("availability probes: sites=%d ok=%d failed=%d%s errors=%d duration=%.1fs", len(sites),
                 outcomes["ok"], sum(outcomes.values()) - outcomes["ok"],
                 f" ({' '.join(failed[:10])})" if failed else "", len(collected.failed), time.monotonic() - started)


def _relay(stream: IO[bytes] | None, tail: deque[str]) -> None:
    """Pass the child's log lines through to our stderr, keeping the last ones for a failure reason."""
    if stream is None:
        return
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").rstrip()
        tail.append(line)
        sys.stderr.write(line + "\n")
    sys.stderr.flush()
    stream.close()


def _death(returncode: int, tail: deque[str]) -> str:
    if returncode < 0:
        return f"the run process was killed by {signal.Signals(-returncode).name}"
    last = next((line for line in reversed(tail) if line.strip()), "")
    return f"the run process exited with code {returncode} before finishing the run" + (f": {last}" if last else "")


def _log_run(ended: ChildExit) -> None:
    run = ended.run
    if run is None:
        log.error("scheduled run did not start (exit code %d after %.1f s): %s", ended.returncode, ended.seconds,
                  next((line for line in reversed(ended.tail) if line.strip()), "no output"))
        return
    if run.status == "complete":
        summary = run.summary or {}
        figures = " ".join(f"{k}={v}" for k, v in summary.get("statuses", {}).items())
        log.info("scheduled run %s complete: sites=%s %s duration=%.1fs exit=%d", run.id, summary.get("sites", "?"),
                 figures, ended.seconds, ended.returncode)
    else:
        log.warning("scheduled run %s %s after %.1fs (exit %d): %s", run.id, run.status, ended.seconds,
                    ended.returncode, run.error)


def serve(config_path: Path, options: Options | None = None) -> int:
    """Run the daemon until SIGTERM or SIGINT: 0 after a clean stop, 3 if it lost its lock.

    Raises ConfigError for an invalid config, AlreadyRunning when another daemon
    holds the database, StorageError when the database is unreachable.
    """
    global _active
    path = config_path.resolve()
    cfg, raw = read_config(path)
    engine = db.make_engine(cfg.storage.url)
    try:
        lock = acquire_lock(engine)
        try:
            db.upgrade(engine)
            _active = Daemon(path, cfg, raw, options or Options(), engine)
            return _active.serve(lock)
        finally:
            _active = None
            lock.release()
    finally:
        engine.dispose()


def schedule_lines(session: Session, timezone: str, language: str = "zh") -> list[str]:
    """For `govmon status`: whether a daemon runs on this database and when its jobs run next."""
    from reports.i18n import ui, zone_label

    jobs = store.scheduled_jobs(session)
    if not jobs:
        return []
    bind = session.get_bind()
    holder = lock_holder(bind if isinstance(bind, Engine) else bind.engine)
    zone = ZoneInfo(timezone)
    lines = [ui("daemon_running", language, holder=holder) if holder else ui("daemon_stopped", language)]
    names = {RUN_JOB: "next_run", PROBE_JOB: "next_probes"}
    for job_id, at in jobs.items():
        local = at.astimezone(zone) if at else None
        when = f"{local:%Y-%m-%d %H:%M} {zone_label(local)}" if local else ui("paused", language)
        lines.append(ui(names[job_id], language, at=when) if job_id in names else
                     ui("next_other", language, job=job_id, at=when))
    return lines

