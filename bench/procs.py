"""The bench's loopback nameserver and its process-tree measurement.

`Nameserver` answers A/AAAA for the bench hosts on 127.0.0.1 (UDP and TCP on
one port, dnspython's message API, in a thread), NXDOMAIN for anything else,
so govmon's configured resolver finds the web and nothing leaves loopback.
`run_measured` runs one tool and samples the summed RSS of its whole process
tree (children found through /proc, whatever their session) until it exits,
and each process's CPU seconds (the last sample before it ended), so a run
shows which process the cores went to; `watched` processes (the web server)
are counted too, as the CPU they spent during the run.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
TICKS = os.sysconf("SC_CLK_TCK")


class Nameserver:
    """A/AAAA answers from `records` ({name: (ipv4, ipv6)}) on 127.0.0.1:port, UDP and TCP."""

    def __init__(self, records: Mapping[str, tuple[str, str]]) -> None:
        self.records = {name.lower().rstrip("."): value for name, value in records.items()}
        self.udp, self.tcp = _bind_pair()
        self.port: int = self.udp.getsockname()[1]
        self._stop = threading.Event()
        for target in (self._serve_udp, self._serve_tcp):
            threading.Thread(target=target, daemon=True).start()

    def reply(self, wire: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if not query.question:
            return None
        question = query.question[0]
        name = question.name.to_text().lower().rstrip(".")
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA | dns.flags.AA
        found = self.records.get(name)
        if found is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            value = found[0] if question.rdtype == dns.rdatatype.A else found[1]
            rtype = dns.rdatatype.to_text(question.rdtype)
            response.answer.append(dns.rrset.from_text(name + ".", 300, "IN", rtype, value))
        return response.to_wire()

    def close(self) -> None:
        self._stop.set()
        self.udp.close()
        self.tcp.close()

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.udp.recvfrom(4096)
            except OSError:
                return
            answer = self.reply(data)
            if answer is not None:
                self.udp.sendto(answer, addr)

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._converse, args=(conn,), daemon=True).start()

    def _converse(self, conn: socket.socket) -> None:
        with conn:
            try:
                while True:
                    head = conn.recv(2)
                    if len(head) < 2:
                        return
                    (length,) = struct.unpack("!H", head)
                    data = b""
                    while len(data) < length:
                        chunk = conn.recv(length - len(data))
                        if not chunk:
                            return
                        data += chunk
                    answer = self.reply(data)
                    if answer is not None:
                        conn.sendall(struct.pack("!H", len(answer)) + answer)
            except OSError:
                return


def _bind_pair() -> tuple[socket.socket, socket.socket]:
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind(("127.0.0.1", udp.getsockname()[1]))
        except OSError as exc:
            udp.close()
            tcp.close()
            if exc.errno != errno.EADDRINUSE:
                raise
            continue
        tcp.listen(64)
        return udp, tcp
    raise OSError(errno.EADDRINUSE, "no port free for both UDP and TCP on 127.0.0.1")


@dataclass(frozen=True)
class Measured:
    returncode: int
    seconds: float
    peak_rss_mb: float          # the largest sum of RSS over the process tree seen while sampling
    peak_processes: int
    peak_by_process: dict[str, float]   # each process's own peak RSS in MB, by "pid command"
    at_peak: dict[str, float]           # each process's RSS in MB at the moment of the tree's peak
    cpu_by_process: dict[str, float]    # CPU seconds (user + system) of each process, by "pid command"
    watched_cpu_s: float                # CPU seconds the watched processes spent during the run
    stdout: str
    stderr: str


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_bytes()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree_rss_kb(root: int) -> dict[int, int]:
    """RSS in KB of `root` and each of its descendants, by pid."""
    children = _children_map()
    todo, sizes = [root], {}
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            sizes[pid] = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
        except (OSError, ValueError, IndexError):
            continue
    return sizes


def cpu_s(pid: int) -> float | None:
    """User plus system CPU seconds of `pid` so far, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree_cpu_s(roots: Sequence[int]) -> float:
    """CPU seconds of the `roots` and all their descendants (nginx's master and its worker)."""
    children, todo, total = _children_map(), list(roots), 0.0
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        total += cpu_s(pid) or 0.0
    return total


def _label(pid: int) -> str:
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return str(pid)
    text = " ".join(w.decode(errors="replace") for w in words[:4] if w)
    return f"{pid} {text[:60]}"


def run_measured(command: list[str], *, cwd: Path, env: Mapping[str, str], interval_s: float = 0.1,
                 timeout_s: float = 3600, watched: Sequence[int] = ()) -> Measured:
    """Run `command` to its end, sampling the tree's RSS and CPU every `interval_s`."""
    watched_before = tree_cpu_s(watched)
    started = time.monotonic()
    with open(cwd / "stdout.txt", "wb") as out, open(cwd / "stderr.txt", "wb") as err:
        process = subprocess.Popen(command, cwd=cwd, env=dict(env), stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        peak_kb = peak_n = 0
        at_peak: dict[int, int] = {}
        own: dict[int, int] = {}
        labels: dict[int, str] = {}
        cpu: dict[int, float] = {}
        while process.poll() is None:
            sizes = tree_rss_kb(process.pid)
            for pid in sizes:
                if (spent := cpu_s(pid)) is not None:
                    labels.setdefault(pid, _label(pid))
                    cpu[pid] = spent
            if sum(sizes.values()) > peak_kb:
                peak_kb, at_peak = sum(sizes.values()), dict(sizes)
            peak_n = max(peak_n, len(sizes))
            for pid, kb in sizes.items():
                if kb > own.get(pid, 0):
                    labels.setdefault(pid, _label(pid))
                own[pid] = max(own.get(pid, 0), kb)
            if time.monotonic() - started > timeout_s:
                process.kill()
            time.sleep(interval_s)
    seconds = time.monotonic() - started
    watched_spent = tree_cpu_s(watched) - watched_before
    stdout = (cwd / "stdout.txt").read_text(errors="replace")
    stderr = (cwd / "stderr.txt").read_text(errors="replace")
    by_process = {labels.get(pid, str(pid)): kb / 1024 for pid, kb in own.items()}
    cpu_by_process = {labels.get(pid, str(pid)): spent for pid, spent in cpu.items()}
    at_peak_mb = {labels.get(pid, str(pid)): kb / 1024 for pid, kb in at_peak.items()}
    return Measured(process.returncode, seconds, peak_kb / 1024, peak_n, by_process, at_peak_mb, cpu_by_process,
                    watched_spent, stdout, stderr)
