"""DemoWeb: the bundled demo web (nameserver + vhost HTTP servers) on loopback.

Everything runs in one background thread with its own asyncio loop; `start()`
returns when every listener is bound, `stop()` closes them and joins the
thread. Besides plain HTTP it listens for HTTPS with a self-signed certificate
(the TLS failure case) unless told otherwise, and on one port each for a TLS
handshake that stalls and one answered with garbage (`tlsfaults`). Used by `govmon demo` and, as one
session fixture, by the tests. It must never bind or contact anything but
127.0.0.0/8 and ::1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import threading
from collections import Counter
from collections.abc import Coroutine, Sequence
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from monitor.demo.configfile import (
    DEMO_CRAWL,
    REQUIREMENTS,
    render_config,
    write_config,
)
from monitor.demo.crawlmodel import SiteCrawl
from monitor.demo.dnsserver import DnsServer
from monitor.demo.externals import EXTRA_DNS, NXDOMAIN_NAME
from monitor.demo.faultcases import FAULT_DNS, FAULT_KINDS, TLS_FAULTS
from monitor.demo.httpserver import Hold, VhostServer
from monitor.demo.selfsigned import DemoCA, self_signed_context
from monitor.demo.sites import build_sites
from monitor.demo.screencases import write_wordlist
from monitor.demo.spec import DemoSite
from monitor.demo.tlsfaults import FaultListeners
from monitor.demo.truth import build_truth, model_crawls
from monitor.demo.walk import World
from monitor.demo.zone import build_zone, is_ip_literal, normalise

log = logging.getLogger(__name__)

START_TIMEOUT_S = 30.0
CA_FILE = "demo-ca.pem"


class DemoWeb:
    """The demo web. The HTTPS listener at `https_port` serves the same vhosts with `tls` (a server
    context), a throwaway self-signed certificate (True, the default), or is left out (False).

    With the default, the hosts of sites marked `https` (`secure_hosts`) present by SNI a certificate
    of the demo CA (`ca`, written beside the config as its `ca_bundle`) and answer plain HTTP with a
    301 to HTTPS; with any other `tls` they are served like every other host."""

    def __init__(self, today: date | None = None, *, tls: ssl.SSLContext | bool = True,
                 sites: Sequence[DemoSite] | None = None) -> None:
        self.today = today or date.today()
        self.sites: tuple[DemoSite, ...] = tuple(sites) if sites is not None else build_sites(self.today)
        self.zone = build_zone(self.sites, {**EXTRA_DNS, **FAULT_DNS})
        self.tls: ssl.SSLContext | None = self_signed_context() if tls is True else (tls or None)
        self.ca = DemoCA() if tls is True else None
        self.secure_hosts = frozenset(normalise(s.host) for s in self.sites if s.https) if self.ca else frozenset()
        if self.ca is not None and self.tls is not None and self.secure_hosts:
            _serve_by_name(self.tls, self.secure_hosts, self.ca.server_context(sorted(self.secure_hosts)))
        self.dns_port = 0
        self.http_port = 0
        self.https_port: int | None = None
        self.ipv6 = False
        self._dns = DnsServer(self.zone)
        self._http: VhostServer | None = None
        self._faults = FaultListeners(TLS_FAULTS)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._truth: dict[str, Any] | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def dns_queries(self) -> Counter[tuple[str, str]]:
        """Queries received so far, by (name, rtype)."""
        return self._dns.queries

    @property
    def http_requests(self) -> int:
        return self._http.requests if self._http is not None else 0

    def requests_for(self, host: str, path_qs: str) -> int:
        """How many requests (any method, plain or TLS) reached `host` for `path_qs` ("/a?b=1")."""
        return self._http.hits[(normalise(host), path_qs)] if self._http is not None else 0

    def hold(self, host: str, free: int = 0) -> Hold:
        """Hold `host`'s answers (the homepage's and the first `free` others' excepted) until the returned
        Hold is released; `unhold` takes it away. For tests that need a site to be under way at a moment."""
        assert self._http is not None, "the web is not running"
        hold = self._http.holds[normalise(host)] = Hold(free)
        return hold

    def unhold(self, host: str) -> None:
        if self._http is not None and (hold := self._http.holds.pop(normalise(host), None)) is not None:
            hold.release()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the demo web is already running")
        self._truth = None  # it holds the ports
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="govmon-demo-web", daemon=True)
        self._loop, self._thread = loop, thread
        thread.start()
        try:
            self._call(self._astart())
        except BaseException:
            self.stop()
            raise
        log.info("demo web: dns 127.0.0.1:%d, http port %d (%s), hostile TLS listeners %s", self.dns_port,
                 self.http_port, "127.0.0.1 and [::1]" if self.ipv6 else "127.0.0.1 only", self.fault_ports)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self._call(self._astop())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=START_TIMEOUT_S)
            loop.close()
            self._loop = self._thread = None

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=START_TIMEOUT_S)

    async def _astart(self) -> None:
        self.dns_port = await self._dns.start()
        self._http = VhostServer(self.sites, self.today, self.link_url, self.tls, self.secure_hosts)
        await self._http.start()
        self.http_port, self.https_port, self.ipv6 = self._http.http_port, self._http.https_port, self._http.ipv6
        await self._faults.start()

    @property
    def fault_ports(self) -> dict[str, int]:
        """Host → port of the hostile TLS listeners (`faultcases.TLS_FAULTS`); every scheme goes there."""
        return dict(self._faults.ports)

    async def _astop(self) -> None:
        await self._faults.close()
        if self._http is not None:
            await self._http.close()
        await self._dns.close()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def url(self, host: str, path: str = "/", *, scheme: str = "http") -> str:
        """An absolute URL on the demo web: http://host:port/path (https uses `https_port`, a hostile
        TLS host its own listener's port)."""
        port = self._faults.ports.get(normalise(host)) or (self.https_port if scheme == "https" else self.http_port)
        if not port:
            raise RuntimeError(f"the demo web has no {scheme} listener (start it, or pass tls=)")
        return f"{scheme}://{_netloc(host)}:{port}{path}"

    def link_url(self, host: str, path: str = "/", *, scheme: str = "http") -> str:
        """The URL pages link to: as `url`, but an https link without an HTTPS listener points at
        the plain port (a TLS handshake failure all the same)."""
        if scheme == "https" and not self.https_port and normalise(host) not in self._faults.ports:
            return f"https://{_netloc(host)}:{self.http_port}{path}"
        return self.url(host, path, scheme=scheme)

    def site(self, site_id: str) -> DemoSite:
        for site in self.sites:
            if site.id == site_id:
                return site
        raise KeyError(site_id)

    @property
    def truth(self) -> dict[str, Any]:
        """Ground truth (JSON-ready), built from the same specs once the ports are known."""
        if self._truth is None:
            if not self.http_port:
                raise RuntimeError("the truth needs the ports: start the demo web first")
            self._truth = build_truth(
                self.sites, self.zone, url=self.link_url, ipv6=self.ipv6, crawl=DEMO_CRAWL, today=self.today,
                requirements=REQUIREMENTS, extra_names=[NXDOMAIN_NAME], secure=sorted(self.secure_hosts),
                meta={"today": self.today.isoformat(), "ipv6": self.ipv6,
                      "ports": {"dns": self.dns_port, "http": self.http_port, "https": self.https_port,
                                "tls_faults": self.fault_ports}},
            )
        return self._truth

    def world(self) -> World:
        return World(self.zone, {normalise(site.host): site for site in self.sites}, self.ipv6,
                     tuple(DEMO_CRAWL["allowed_networks"]), FAULT_KINDS, self.secure_hosts)

    def crawl_model(self, site_id: str, order: str = "bfs") -> tuple[SiteCrawl, SiteCrawl]:
        """The in-memory crawls the truth of a site is read from: (without trap pages, with them),
        neither stopped by max_pages. For tests that check the truth against what is served."""
        return model_crawls(self.world(), self.site(site_id), DEMO_CRAWL, self.today, self.link_url, order)

    def write_truth(self, path: str | Path) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.truth, ensure_ascii=False, indent=2), encoding="utf-8")
        return target

    def trust(self) -> ssl.SSLContext | bool:
        """What a fetch trusts under the demo config: the demo CA only (its ca_bundle); True (the system's
        store) when this demo web has no CA."""
        return ssl.create_default_context(cadata=self.ca.pem.decode()) if self.ca is not None else True

    def write_config(self, path: str | Path, *, storage_url: str, report_dir: str, title: str | None = None) -> Path:
        """Write a complete sites.toml for the listed sites, pointing at this running demo web, and beside
        it the demo CA's certificate (`demo-ca.pem`, the config's ca_bundle) when there is one and the
        demo word list (`demo-words.txt`, its [screening] wordlists)."""
        urls = {site.id: self.url(site.host, "/") for site in self.sites if site.listed}
        bundle = None
        if self.ca is not None:
            bundle = Path(path).resolve().parent / CA_FILE
            bundle.parent.mkdir(parents=True, exist_ok=True)
            bundle.write_bytes(self.ca.pem)
        words = write_wordlist(Path(path).resolve().parent)
        text = render_config(self.sites, urls, dns_port=self.dns_port, storage_url=storage_url,
                             report_dir=report_dir, title=title, ca_bundle=str(bundle) if bundle else None,
                             wordlists=[str(words)])
        return write_config(path, text)


def _serve_by_name(context: ssl.SSLContext, hosts: frozenset[str], trusted: ssl.SSLContext) -> None:
    """Make `context` hand a connection whose SNI names one of `hosts` to `trusted`."""

    def choose(connection: ssl.SSLObject | ssl.SSLSocket, name: str | None, _: ssl.SSLContext) -> None:
        if name and normalise(name) in hosts:
            connection.context = trusted

    context.sni_callback = choose  # type: ignore[assignment]


def _netloc(host: str) -> str:
    return f"[{host}]" if is_ip_literal(host) and ":" in host else host
