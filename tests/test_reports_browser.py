"""The report set in a real browser: headless Chromium over the DevTools protocol.

Renders the demo web's runs (the session's `demo_run` and one more, for trends)
in Chinese and English, opens the index, the run page and a site page at phone
and desktop widths, and asserts: no console error or warning (the pages' CSP
would report any script or remote load), the key elements are there, nothing
overflows a phone's width. Screenshots and a printed PDF go to
test-artifacts/reports/.
"""

import asyncio
import base64
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor import config, pipeline
from reports import render
from tests.test_reports_render import rich_runs

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "reports"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
         "--mute-audio", "--no-default-browser-check", "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0"]
TIMEOUT_S = 60.0
DEVICES = {"desktop": (1280, False), "phone": (390, True), "print": (794, False)}   # print: A4 at 96 dpi
KEY_ELEMENTS = {
    "index": {"table.runs tbody tr": 2, "figure.chart svg": 1},
    "run": {"table.matrix tbody tr": 1, "table.sites svg.spark": 1, ".downloads a": 4, ".tiles .tile": 2,
            "figure.chart svg": 1, "table.rollup tbody": 2, "table.sites .g": 1},
    "site": {"#fixes": 1, "ol.fixes > li": 1, "section.check": 1, "figure.chart svg": 1, ".score-card .total": 1},
}
PROBE = """JSON.stringify({
  counts: Object.fromEntries(%s.map(s => [s, document.querySelectorAll(s).length])),
  scrollWidth: document.documentElement.scrollWidth,
  sticky: (() => { const c = document.querySelector('table.matrix .site'); return c ? getComputedStyle(c).position : 'none'; })(),
  fonts: document.fonts.status
})"""


pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                reason="Chromium not installed (scripts/setup-ci.sh installs it)")


@dataclass
class DevTools:
    """A minimal DevTools-protocol client: commands by id, events kept in order."""

    ws: aiohttp.ClientWebSocketResponse
    events: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    counter: int = 0

    async def read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            future = self.pending.pop(data.get("id", -1), None)
            if future is not None:
                future.set_result(data)
            else:
                self.events.append(data)

    async def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None
                   ) -> dict[str, Any]:
        self.counter += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[self.counter] = future
        message: dict[str, Any] = {"id": self.counter, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        await self.ws.send_str(json.dumps(message))
        data = await asyncio.wait_for(future, TIMEOUT_S)
        if "error" in data:
            raise RuntimeError(f"{method}: {data['error']}")
        return data["result"]

    async def wait_for(self, method: str, session: str, start: int) -> None:
        for _ in range(int(TIMEOUT_S / 0.05)):
            if any(e.get("method") == method and e.get("sessionId") == session for e in self.events[start:]):
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no {method} within {TIMEOUT_S} s")

    def problems(self, session: str, start: int) -> list[str]:
        found = []
        for e in self.events[start:]:
            if e.get("sessionId") != session:
                continue
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                found.append(str(p["exceptionDetails"].get("text")))
            elif e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "warning", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                found.append(p["entry"]["text"])
        return found


@dataclass(frozen=True)
class Visit:
    name: str
    problems: list[str]
    probe: dict[str, Any]


async def _open(tools: DevTools, name: str, path: Path, device: str, selectors: list[str], pdf: bool) -> Visit:
    width, mobile = DEVICES[device]
    target = await tools.send("Target.createTarget", {"url": "about:blank"})
    session = (await tools.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}))["sessionId"]
    for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
        await tools.send(domain, session=session)
    metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": mobile}
    await tools.send("Emulation.setDeviceMetricsOverride", metrics, session=session)
    if device == "print":
        await tools.send("Emulation.setEmulatedMedia", {"media": "print"}, session=session)
    start = len(tools.events)
    await tools.send("Page.navigate", {"url": path.as_uri()}, session=session)
    await tools.wait_for("Page.loadEventFired", session, start)
    result = await tools.send("Runtime.evaluate", {"expression": PROBE % json.dumps(selectors), "returnByValue": True},
                              session=session)
    probe = json.loads(result["result"]["value"])
    layout = await tools.send("Page.getLayoutMetrics", session=session)
    height = min(int(layout["cssContentSize"]["height"]) + 1, 12_000)
    await tools.send("Emulation.setDeviceMetricsOverride", {**metrics, "height": height}, session=session)
    shot = await tools.send("Page.captureScreenshot", {"format": "png"}, session=session)
    (ARTIFACTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))
    if pdf:
        printed = await tools.send("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69,
                                                       "preferCSSPageSize": True}, session=session)
        (ARTIFACTS / f"{name}.pdf").write_bytes(base64.b64decode(printed["data"]))
    problems = tools.problems(session, start)
    await tools.send("Target.closeTarget", {"targetId": target["targetId"]})
    return Visit(name, problems, probe)


async def _session(port: str, ws_path: str, pages: list[tuple[str, Path, str, list[str], bool]]) -> list[Visit]:
    async with aiohttp.ClientSession() as http, \
            http.ws_connect(f"ws://127.0.0.1:{port}{ws_path}", max_msg_size=0) as ws:
        tools = DevTools(ws)
        reader = asyncio.create_task(tools.read())
        try:
            return [await _open(tools, *page) for page in pages]
        finally:
            reader.cancel()


def _browse(pages: list[tuple[str, Path, str, list[str], bool]]) -> list[Visit]:
    """Start Chromium with a fresh profile, visit `pages` in order, stop it."""
    with tempfile.TemporaryDirectory(prefix="govmon-chromium-") as profile:
        proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            port_file = Path(profile) / "DevToolsActivePort"   # Chromium writes its port and path here
            deadline = time.monotonic() + TIMEOUT_S
            while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
                assert proc.poll() is None, f"Chromium exited with {proc.returncode}"
                assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
                time.sleep(0.1)
            port, ws_path = port_file.read_text().splitlines()[:2]
            return asyncio.run(_session(port, ws_path, pages))
        finally:
            _end_group(proc)


def _end_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop Chromium and every helper process it started; only then may its profile be removed
    (its helpers go on writing there after the main process has gone)."""
    for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 60.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            proc.poll()  # reap the leader
            if not _running_in_group(proc.pid):
                return
            time.sleep(0.1)


def _running_in_group(pgid: int) -> bool:
    """Whether a process of the group still runs (zombies nobody has reaped yet do not count)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                return True
    return False


def _report(directory: Path, language: str, title: str) -> SimpleNamespace:
    return SimpleNamespace(dir=str(directory), language=language, title=title)


def _pages(prefix: str, root: Path, site_id: str, print_site: bool) -> list[tuple[str, Path, str, list[str], bool]]:
    run_dir = max((root / "runs").iterdir())
    found = []
    for kind, path in (("index", root / "index.html"), ("run", run_dir / "index.html"),
                       ("site", run_dir / f"{site_id}.html")):
        for device in ("desktop", "phone", "print") if print_site and kind != "index" else ("desktop", "phone"):
            found.append((f"{prefix}-{kind}-{device}", path, device, list(KEY_ELEMENTS[kind]),
                          kind == "site" and device == "print"))
    return found


def _check(visits: list[Visit]) -> None:
    assert {v.name: v.problems for v in visits if v.problems} == {}, "console errors or warnings"
    for v in visits:
        kind, device = v.name.split("-")[-2:]
        short = {sel: n for sel, n in v.probe["counts"].items() if n < KEY_ELEMENTS[kind][sel]}
        assert short == {}, f"{v.name}: key elements missing"
        if device == "phone":
            assert v.probe["scrollWidth"] <= DEVICES["phone"][0], f"{v.name}: the page is wider than a phone"
        if kind == "run":
            expected = "static" if device == "print" else "sticky"
            assert v.probe["sticky"] == expected, f"{v.name}: the site column stays visible when scrolling, not on paper"


def _continue(demo_run: tuple[pipeline.RunOutcome, Path], cfg: config.Config) -> pipeline.RunOutcome:
    """The session's demo run copied into `cfg`'s empty database and report folder (the session's own
    stay as they are): the first run of a trend, without crawling the demo a second time."""
    _, work = demo_run
    target = sa.make_url(cfg.storage.url).database
    assert target is not None and not Path(target).exists()
    with sqlite3.connect(work / "govmon.db") as source, sqlite3.connect(target) as copy:
        source.backup(copy)   # consistent with the WAL, unlike copying the file
    shutil.copytree(work / "reports", cfg.report.dir)
    return demo_run[0]


def test_demo_report_in_chromium(demo_config: config.Config, demo_run: tuple[pipeline.RunOutcome, Path],
                                 sqlite_session: Session, tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "CI must install Chromium (scripts/setup-ci.sh)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    outcomes = [_continue(demo_run, demo_config), pipeline.execute(demo_config, kind="demo")]
    assert [o.status for o in outcomes] == ["complete", "complete"]
    zh_root = Path(demo_config.report.dir)
    en_root = tmp_path / "reports-en"
    with pipeline.open_store(demo_config) as session:
        for o in outcomes:
            render.write_report_set(session, _report(en_root, "en", "Chaoyang government websites"), run_id=o.run_id,
                                    timezone=demo_config.schedule.timezone)
    results = outcomes[-1].results
    assert results is not None
    worst = max(results.sites, key=lambda s: sum(str(r.status) == "fail" for r in results.results[s.id]))
    rich_zh, rich_en = tmp_path / "rich-zh", tmp_path / "rich-en"
    for run_id in rich_runs(sqlite_session, 3):
        render.write_report_set(sqlite_session, _report(rich_zh, "zh", "朝阳市政府网站巡检报告"), run_id=run_id,
                                timezone="Asia/Shanghai")
        render.write_report_set(sqlite_session, _report(rich_en, "en", "Chaoyang government websites"), run_id=run_id,
                                timezone="Asia/Shanghai")
    pages = (_pages("demo-zh", zh_root, worst.id, True) + _pages("demo-en", en_root, worst.id, False)
             + _pages("all-checks-zh", rich_zh, "beipiao", True) + _pages("all-checks-en", rich_en, "beipiao", False))
    hostile = tmp_path / "csp-probe.html"   # the negative case: the harness must see what the CSP blocks
    page = (zh_root / "index.html").read_text(encoding="utf-8")
    hostile.write_text(page.replace("</main>", "<script>console.log(1)</script></main>"), encoding="utf-8")
    *visits, probe = _browse([*pages, ("csp-probe-desktop", hostile, "desktop", [], False)])
    assert probe.problems and "Content Security Policy" in " ".join(probe.problems)
    _check(visits)
    assert (ARTIFACTS / "demo-zh-site-print.pdf").read_bytes().startswith(b"%PDF")
