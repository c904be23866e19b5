"""`govmon serve`: the report set over HTTP on loopback, read-only."""

import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

from reports.serve import make_server


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "reports"
    (root / "runs" / "r1").mkdir(parents=True)
    (root / "index.html").write_text("<p>索引</p>", encoding="utf-8")
    (root / "runs" / "r1" / "findings.csv").write_text("\ufeffa,b\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("outside", encoding="utf-8")
    server = make_server(root, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _get(url: str, method: str = "GET") -> tuple[int, Message, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=5) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, b""


def test_serves_the_index_with_charset_and_csp(served: str) -> None:
    status, headers, body = _get(served + "/")
    assert status == 200 and body.decode("utf-8") == "<p>索引</p>"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert _get(served + "/runs/r1/findings.csv")[1]["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize(("path", "method", "expected"), [
    ("/runs/", "GET", 404), ("/../secret.txt", "GET", 404), ("/index.html", "POST", 501), ("/index.html", "PUT", 501),
    ("/index.html", "DELETE", 501),
], ids=["no-directory-listing", "nothing-outside-the-report-dir", "no-post", "no-put", "no-delete"])
def test_is_read_only_and_confined(served: str, path: str, method: str, expected: int) -> None:
    assert _get(served + path, method)[0] == expected


def _govmon() -> str:
    return str(Path(sys.executable).with_name("govmon"))


def test_govmon_serve_serves_the_configured_report_dir_until_interrupted(demo_config_path: Path, tmp_path: Path
                                                                          ) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "index.html").write_text("<p>报告</p>", encoding="utf-8")
    proc = subprocess.Popen([_govmon(), "serve", "--config", str(demo_config_path), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line + (proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        status, _, body = _get(url.group(0))
        assert status == 200 and body.decode("utf-8") == "<p>报告</p>"
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(20)
    assert code == 0


def test_govmon_serve_without_a_report_set_is_a_usage_error(demo_config_path: Path) -> None:
    done = subprocess.run([_govmon(), "serve", "--config", str(demo_config_path), "--port", "0"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "govmon report" in done.stderr


def test_govmon_serve_stops_on_sigint_even_when_started_with_it_ignored(demo_config_path: Path, tmp_path: Path
                                                                       ) -> None:
    """As under `govmon serve &` or nohup: SIGINT arrives ignored; the server still stops on it, and on SIGTERM."""
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "index.html").write_text("<p>报告</p>", encoding="utf-8")
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            proc = subprocess.Popen([_govmon(), "serve", "--config", str(demo_config_path), "--port", "0"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1"})
        finally:
            signal.signal(signal.SIGINT, previous)
        try:
            assert proc.stdout is not None and "serving" in proc.stdout.readline()
            proc.send_signal(signum)
            assert proc.wait(120) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


@pytest.mark.parametrize(("path", "method", "expected"), [
    ("/nope.html", "GET", 404), ("/runs/", "GET", 404), ("/index.html", "POST", 501),
], ids=["missing-file", "directory", "post"])
def test_errors_carry_the_page_headers_and_no_version_banner(served: str, path: str, method: str,
                                                            expected: int) -> None:
    request = urllib.request.Request(served + path, method=method)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    error = caught.value
    body = error.read().decode("utf-8")
    assert error.code == expected
    assert "default-src 'none'" in error.headers["Content-Security-Policy"]
    assert error.headers["X-Content-Type-Options"] == "nosniff"
    assert error.headers["Content-Type"] == "text/html; charset=utf-8"
    assert error.headers["Server"] == "govmon"
    assert "Python" not in body and "Python" not in str(error.headers)
    assert f"<h1>{expected}</h1>" in body and ("页面不存在" if expected == 404 else "GET") in body
    assert path not in body, "the page does not echo the request"


def test_pages_name_no_server_version(served: str) -> None:
    assert _get(served + "/")[1]["Server"] == "govmon"
