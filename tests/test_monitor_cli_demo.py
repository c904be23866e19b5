"""`govmon demo --keep`: the demo web stays up for `govmon check` until Ctrl-C, then everything closes."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent


def _govmon(*argv: str) -> list[str]:
    return [sys.executable, "-m", "monitor", *argv]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def _closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_demo_keep_serves_until_ctrl_c_and_its_check_command_works(tmp_path: Path) -> None:
    # Started as with `&`: SIGINT arrives ignored, and must stop it all the same.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        proc = subprocess.Popen(_govmon("-q", "demo", "--keep", "--site", "chaoyang", "--dir", str(tmp_path / "demo")),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("  govmon serve"):
                break
        out = "".join(lines)
        assert f"配置文件：{tmp_path / 'demo' / 'sites.toml'}" in out, out + (proc.stderr.read() if proc.stderr else "")
        assert "报告：" in out and "Ctrl-C" in out
        check = next(line for line in lines if line.startswith("  govmon check "))
        argv = shlex.split(check)[1:]
        url = argv[-1]
        done = subprocess.run(_govmon(*argv), capture_output=True, text=True, timeout=600, env=_env(),
                              cwd=tmp_path, check=False)
        assert done.returncode in (0, 1), done.stderr
        assert "朝阳市人民政府" in done.stdout and "Traceback" not in done.stderr
        config = (tmp_path / "demo" / "sites.toml").read_text(encoding="utf-8")
        dns_port = int(re.search(r"^port = (\d+)$", config, re.M).group(1))  # type: ignore[union-attr]
        http_port = int(re.search(r":(\d+)/", url).group(1))  # type: ignore[union-attr]
        assert not _closed(http_port) and not _udp_free(dns_port), "the demo web is up while it is kept"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(120)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert code == 0, proc.stderr.read() if proc.stderr else ""
    assert _closed(http_port) and _udp_free(dns_port), "the demo web's listeners are closed"
