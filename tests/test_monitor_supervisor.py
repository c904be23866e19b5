"""Children tied to their parent by a lifeline end when the parent dies, `kill -9` included."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor import supervisor

ROOT = Path(__file__).resolve().parent.parent

# A parent that spawns one child through the supervisor, prints the child's pid, then waits forever.
PARENT = """
import sys, time
from monitor import supervisor
child = supervisor.spawn([sys.executable, "-c", sys.argv[1]], stderr=None)
print(child.pid, flush=True)
time.sleep(3600)
"""
# A child that holds its lifeline; with a grace period it notes the SIGINT it gets first.
CHILD = """
import signal, sys, time
from monitor import supervisor
def noted(signum, frame):
    open({note!r}, "w").write("interrupted")
signal.signal(signal.SIGINT, noted)
assert supervisor.hold_lifeline(grace_s={grace})
time.sleep(3600)
"""


def ended(pid: int) -> bool:
    """Gone, or a zombie nobody reaps yet (it no longer runs)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def wait_ended(pid: int, limit_s: float = 60) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if ended(pid):
            return True
        time.sleep(0.05)
    return False


def start_parent(child_code: str) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, child_code], stdout=subprocess.PIPE, text=True, env=env,
                              stdin=subprocess.DEVNULL)
    assert parent.stdout is not None
    line = parent.stdout.readline()
    assert line.strip().isdigit(), "the parent did not start its child"
    return parent, int(line)


@pytest.mark.parametrize("grace", [0.0, 2.0], ids=["killed-at-once", "interrupted-first"])
def test_child_ends_when_its_parent_is_killed_with_sigkill(tmp_path: Path, grace: float) -> None:
    note = tmp_path / "note"
    parent, child_pid = start_parent(CHILD.format(note=str(note), grace=grace))
    try:
        time.sleep(0.2)
        assert not ended(child_pid), "the child must live while its parent does"
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        assert wait_ended(child_pid), "the child outlived its parent"
        assert note.exists() == (grace > 0)
    finally:
        if parent.poll() is None:
            parent.kill()
        if not ended(child_pid):
            os.kill(child_pid, signal.SIGKILL)


def test_child_lives_while_the_parent_lives_and_is_stopped_as_a_group(tmp_path: Path) -> None:
    child = supervisor.spawn([sys.executable, "-c", "import time; time.sleep(3600)"], stderr=None)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(timeout=0.3)
        assert os.getpgid(child.pid) == child.pid
    finally:
        assert child.kill() == -signal.SIGKILL


def test_hold_lifeline_without_one_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(supervisor.LIFELINE_ENV, raising=False)
    assert supervisor.hold_lifeline() is False


def crawl_children(parent_pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat[1]) == parent_pid and b"spiders.crawl" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never answers: a crawl of it waits."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()


def test_kill_9_of_govmon_run_ends_its_crawl_child(silent_server: int, tmp_path: Path) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(f"""
[crawl]
timeout_s = 600
retries = 0
allowed_networks = ["127.0.0.0/8"]

[storage]
url = "sqlite:///{tmp_path / 'govmon.db'}"

[report]
dir = "{tmp_path / 'reports'}"

[[site]]
id = "silent"
name = "不应答的站点"
url = "http://127.0.0.1:{silent_server}/"
kind = "portal"
level = "county"
""", encoding="utf-8")
    run = subprocess.Popen([sys.executable, "-m", "monitor", "-q", "run", "--config", str(config)],
                           cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL)
    crawl: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not crawl and time.monotonic() < deadline and run.poll() is None:
            crawl = crawl_children(run.pid)
            time.sleep(0.05)
        assert crawl, "the run never started its crawl"
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
        # The crawl itself would wait 600 s for the silent homepage.
        assert wait_ended(crawl[0]), "the crawl child went on after its run was killed"
    finally:
        if run.poll() is None:
            run.kill()
        for pid in crawl:
            if not ended(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_supervised_child_takes_sigint_even_when_its_parent_ignores_it() -> None:
    """A daemon started with `&` or nohup ignores SIGINT and its children inherit that; the supervisor's
    graceful stop is a SIGINT, so a child holding its lifeline takes SIGINT as Ctrl-C again."""
    code = ("import signal, sys\nfrom monitor import supervisor\n"
            "inherited = signal.getsignal(signal.SIGINT) is signal.SIG_IGN\n"
            "assert supervisor.hold_lifeline()\n"
            "sys.exit(0 if inherited and signal.getsignal(signal.SIGINT) is signal.default_int_handler else 3)\n")
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)   # as a background parent has it
    try:
        child = supervisor.spawn([sys.executable, "-c", code], stderr=None, cwd=ROOT,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        signal.signal(signal.SIGINT, previous)
    assert child.wait(timeout=60) == 0


@pytest.mark.parametrize("entry", [
    "from monitor import cli; cli.supervisor.hold_lifeline = lambda **_: False; cli.main()",
    "import sys; sys.argv = ['x', '--help']; from spiders import crawl; crawl.main()",
    "import io, sys; sys.stdin = io.TextIOWrapper(io.BytesIO()); from spiders import reader; reader.main()",
], ids=["govmon", "crawl-child", "reader"])
def test_every_process_runs_with_the_tuned_collector(entry: str) -> None:
    """The parent, the crawl child and the page reader each collect young objects every GC_YOUNG
    allocations, with the imports frozen out of the collector's sight (supervisor.tune_gc)."""
    probe = ("import atexit, gc, os\n"
             "atexit.register(lambda: os.write(1, f'@{gc.get_threshold()[0]},{gc.get_freeze_count() > 0}'.encode()))\n"
             f"{entry}\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=120, check=False)
    assert done.stdout.decode(errors="replace").rpartition("@")[2] == f"{supervisor.GC_YOUNG},True"
