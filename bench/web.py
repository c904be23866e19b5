"""The bench web: generated government-style pages on loopback, served by nginx.

Host k (k = 0, 1, …) is `www.h<k>.bench.test`, at 127.0.0.<k+1>:PORT and at
[::1]:PORT (nginx picks the host by server_name), so govmon reaches it by name
through the bench's own nameserver while LinkChecker and linkinator, which use
the system resolver, are given the same pages by IP literal. Every link in the
web is relative or an IP literal on loopback: no tool ever needs the system
resolver. Dead links (a few % of the distinct targets): missing pages (404)
and a closed loopback port (connection refused). Must never bind or link to
anything but 127.0.0.0/8 and ::1.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path

COLUMNS = ("zwgk", "zcwj", "xwdt", "tzgg", "ztzl", "hdjl", "bsfw", "sjfb", "rsxx", "czxx", "ghjh", "jytabl")
PARAGRAPH = ("为深入贯彻落实党中央、国务院关于全面推进政务公开工作的决策部署，进一步提升政府信息公开质量，"
             "切实保障人民群众的知情权、参与权、表达权和监督权，现将有关事项通知如下。")
LIST_ROWS = 44
PARAGRAPHS = 45
# the inline script most such pages carry (menus, tabs, font size); ~10 KB of it
SCRIPT = ("function showTab(n){for(var i=0;i<4;i++){var t=document.getElementById('tab'+i);"
          "if(t){t.className=(i==n)?'on':'';}}}\n") * 95


def host_name(h: int) -> str:
    return f"www.h{h}.bench.test"


def host_ip(h: int) -> str:
    return f"127.0.0.{h + 1}"


def page_html(h: int, number: int, pages: int, hosts: int, today: date, port: int, closed_port: int) -> str:
    """One page: 12 nav links, 44 dated list rows, links to the other hosts, sometimes dead links (~60 in all)."""
    rng = random.Random(h * 1_000_003 + number)
    nav = "".join(f'<li><a href="/p/{(i * 7) % pages}.html">栏目{c}</a></li>' for i, c in enumerate(COLUMNS))
    rows = []
    for _ in range(LIST_ROWS):
        target = rng.randrange(pages)
        day = today - timedelta(days=rng.randrange(400))
        rows.append(f'<li><a href="/p/{target}.html" title="关于做好第{target}号工作的通知">'
                    f'关于做好第{target}号工作的通知</a><span class="date">{day.isoformat()}</span></li>')
    # links to the other portals go to their homepage or a column page, as 友情链接 do
    others = "".join(f'<a href="http://{host_ip(o)}:{port}/p/{(rng.randrange(12) * 7) % pages}.html">友情链接{o}</a>'
                     f'<a href="http://{host_ip(o)}:{port}/">门户{o}</a>' for o in range(hosts) if o != h)
    dead = "".join(f'<a href="/p/missing_{rng.randrange(max(pages // 25, 1))}.html">已删除的文件{k}</a>'
                   for k in range(rng.choice((0, 0, 1, 2))))
    if rng.random() < 0.05:
        dead += f'<a href="http://127.0.0.1:{closed_port}/old/{rng.randrange(20)}.html">旧系统</a>'
    text = "".join(f"<p>{PARAGRAPH}</p>" for _ in range(PARAGRAPHS))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>第{number}号通知_朝阳市人民政府</title>'
            f'<link rel="stylesheet" href="/css/style.css"><script>{SCRIPT}</script></head><body>'
            f'<div class="top"><img src="/img/logo.png" alt="朝阳市人民政府"></div>'
            f'<div class="nav"><ul>{nav}</ul></div><div class="main"><div class="news_list"><ul>{"".join(rows)}'
            f'</ul></div><div class="content">{text}</div>{dead}</div>'
            f'<div class="footer">{others}<p>版权所有：朝阳市人民政府 辽ICP备05001234号</p></div></body></html>')


def generate(root: Path, hosts: int, pages: int, port: int, closed_port: int) -> int:
    """Write the web under root/h<k>/; returns the bytes of HTML written."""
    today = date.today()
    total = 0
    for h in range(hosts):
        site = root / f"h{h}"
        (site / "p").mkdir(parents=True)
        (site / "css").mkdir()
        (site / "img").mkdir()
        (site / "css" / "style.css").write_text("body{font-family:SimSun,serif}\n" * 40)
        (site / "img" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))
        (site / "robots.txt").write_text("User-agent: *\nDisallow:\n")
        for number in range(pages):
            body = page_html(h, number, pages, hosts, today, port, closed_port).encode()
            (site / "p" / f"{number}.html").write_bytes(body)
            total += len(body)
        shutil.copy(site / "p" / "0.html", site / "index.html")
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # nginx workers may run as nobody
    return total


def free_port(hosts: int) -> int:
    """A TCP port free on every 127.0.0.k the web uses and on ::1."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            for h in range(1, hosts):
                with socket.socket() as other:
                    other.bind((host_ip(h), port))
            with socket.socket(socket.AF_INET6) as six:
                six.bind(("::1", port))
        except OSError:
            continue
        return port
    raise OSError("no port free on every 127.0.0.x address and ::1")


def find_nginx(install: bool) -> str | None:
    """nginx's path; with `install`, apt-get installs Debian's package first when missing (root only)."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if found or not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("nginx is missing: apt-get install nginx-light/nginx …", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(["apt-get", "update"], check=False, **quiet)
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "nginx"], check=False,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, **quiet)
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


# nginx keeps this many pages open (its open_file_cache). Well under a process's open-file limit (20,000 on
# these machines): at 20,000, a 3 x 10,000-page web ran the worker out of descriptors and pages answered 500.
OPEN_FILES = 4000


def nginx_conf(root: Path, hosts: int, port: int, workers: int) -> str:
    servers = "".join(
        f"server {{ listen {host_ip(h)}:{port}; listen [::1]:{port}{' default_server' if h == 0 else ''}; "
        f"server_name {host_name(h)} {host_ip(h)}; root {root / f'h{h}'}; }}\n" for h in range(hosts))
    return textwrap.dedent(f"""\
        worker_processes {workers}; pid {root.parent / 'nginx.pid'}; error_log {root.parent / 'nginx-error.log'};
        events {{ worker_connections 4096; }}
        http {{ access_log off; add_header LinkChecker bench; default_type text/html; charset utf-8; keepalive_requests 100000;
               types {{ text/html html; text/css css; image/png png; text/plain txt; }}
               client_body_temp_path {root.parent}/tmp; proxy_temp_path {root.parent}/tmp;
               fastcgi_temp_path {root.parent}/tmp; uwsgi_temp_path {root.parent}/tmp; scgi_temp_path {root.parent}/tmp;
               sendfile on; open_file_cache max={OPEN_FILES}; {servers} }}
        """)


AIOHTTP_SERVER = """
import asyncio, sys
from aiohttp import web
root, port, hosts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
async def main():
    for h in range(hosts):
        app = web.Application()
        app.router.add_static("/", f"{root}/h{h}", show_index=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, f"127.0.0.{h + 1}", port).start()
    await asyncio.Event().wait()
asyncio.run(main())
"""


def start_server(root: Path, hosts: int, port: int, install: bool) -> tuple[subprocess.Popen[bytes], str]:
    """Serve the web; nginx (one worker: the machine has 2 cores) or, without it, aiohttp's static files."""
    nginx = find_nginx(install)
    if nginx:
        (root.parent / "tmp").mkdir(exist_ok=True)
        conf = root.parent / "nginx.conf"
        conf.write_text(nginx_conf(root, hosts, port, workers=1))
        process = subprocess.Popen([nginx, "-p", str(root.parent), "-c", str(conf), "-g", "daemon off;"],
                                   stderr=subprocess.DEVNULL)
        label = "nginx (1 worker)"
    else:
        process = subprocess.Popen([sys.executable, "-c", AIOHTTP_SERVER, str(root), str(port), str(hosts)])
        label = "aiohttp static server (nginx not installed: figures are server-bound)"
    for _ in range(100):
        try:
            socket.create_connection((host_ip(hosts - 1), port), timeout=0.2).close()
            return process, label
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the web server did not start")
