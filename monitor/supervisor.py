"""Child processes: started in a process group of their own, tied to their parent by a lifeline,
stopped and killed as a group. Used for the crawl child (monitor.crawl) and the daemon's runs
(monitor.daemon); standard library only, so the crawl child can hold its lifeline too.

The lifeline is a pipe whose write end only the parent holds. The child gets the read end (its
number in $GOVMON_LIFELINE) and `hold_lifeline` blocks a daemon thread on it. The kernel closes
the write end when the parent dies, by SIGKILL too, and the read returns: the child then ends
its own process group. A child whose parent is gone must not go on crawling or writing a run
nobody watches, and after a `kill -9` no parent is left to signal its group.

`tune_gc` is every govmon process's garbage-collector setting, called first thing by each.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

LIFELINE_ENV = "GOVMON_LIFELINE"


class Child:
    """A child started by `spawn`: its Popen and the write end of its lifeline."""

    def __init__(self, process: subprocess.Popen[bytes], lifeline: int) -> None:
        self.process = process
        self._lifeline: int | None = lifeline

    @property
    def pid(self) -> int:
        return self.process.pid

    def signal_group(self, sig: signal.Signals) -> None:
        """Send `sig` to the child's process group (it leads one)."""
        try:
            os.killpg(self.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass  # already gone

    def kill(self) -> int:
        """SIGKILL the child's group; the child's exit code once reaped."""
        self.signal_group(signal.SIGKILL)
        return self.wait()

    def stop(self, wait_s: float) -> int:
        """SIGINT to the group (a run marks itself interrupted), then SIGKILL if it lives on after wait_s."""
        self.signal_group(signal.SIGINT)
        try:
            self.process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
        return self.wait()

    def wait(self, timeout: float | None = None) -> int:
        """Reap the child (TimeoutExpired after `timeout`); its lifeline closes once it has ended."""
        code = self.process.wait(timeout=timeout)
        if self._lifeline is not None:
            os.close(self._lifeline)
            self._lifeline = None
        return code


def spawn(command: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
          stderr: int | None = subprocess.PIPE) -> Child:
    """Start `command` as the leader of a new session, holding a lifeline to this process.

    Raises OSError when the command cannot start. stdin and stdout are /dev/null.
    """
    read_end, write_end = os.pipe()  # both non-inheritable (PEP 446); pass_fds hands the child its end
    child_env = dict(os.environ if env is None else env)
    child_env[LIFELINE_ENV] = str(read_end)
    try:
        process = subprocess.Popen(list(command), cwd=cwd, env=child_env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True,
                                   pass_fds=(read_end,))
    except BaseException:
        os.close(write_end)
        raise
    finally:
        os.close(read_end)
    return Child(process, write_end)


GC_YOUNG = 10_000   # allocations between young collections (CPython's default: 700)


def tune_gc() -> None:
    """Fewer, cheaper garbage collections for a process that builds large graphs of small objects.

    With CPython's default the collector ran every 700 allocations and kept re-scanning the older
    objects, including every imported module's: it was half of loading a site's snapshot (~640,000
    links and dates for 6,000 pages) and a sizeable share of extraction and ingest. What is alive
    now (the imports) is moved out of its sight for good (`gc.freeze`), and the young generation
    is collected every GC_YOUNG allocations; cyclic garbage is still collected, a little later.
    """
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])


def hold_lifeline(grace_s: float = 0.0) -> bool:
    """In a child started by `spawn`: end this process group when the parent dies.

    With `grace_s` the child first gets SIGINT (a run marks itself interrupted and stops its own
    children) and the group is killed only if it still lives after that long. False when there is
    no lifeline to hold (started some other way).
    """
    raw = os.environ.pop(LIFELINE_ENV, "")
    if not raw.isdigit():
        return False
    fd = int(raw)
    try:
        os.set_inheritable(fd, False)  # our own children get lifelines of their own, not ours
    except OSError:
        return False
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # A parent started in the background (`govmon daemon &`, nohup) passes SIGINT on ignored, and a
        # supervised child's graceful stop is a SIGINT: take it as Ctrl-C again.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=_watch, args=(fd, grace_s), name="lifeline", daemon=True).start()
    return True


def _watch(fd: int, grace_s: float) -> None:
    try:
        while os.read(fd, 4096):
            pass  # the parent never writes; any bytes are ignored
    except OSError:
        pass
    log.warning("the parent process is gone; stopping")
    if grace_s > 0:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(grace_s)
    try:
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpid(), signal.SIGKILL)
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGKILL)
