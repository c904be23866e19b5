"""Two hostile "HTTPS" listeners of the demo web on 127.0.0.1: one accepts TCP and never
answers the ClientHello (a stalled handshake), one answers it with bytes that are not TLS.

Each owns one port chosen by the OS; `FaultListeners.ports` maps the demo host name that
resolves to it onto that port. Runs inside the demo's event loop; binds only loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from monitor.demo.spec import LOOPBACK_V4

log = logging.getLogger(__name__)

NOT_TLS = b"SSH-2.0-OpenSSH_7.4\r\nProtocol mismatch.\r\n"
HOLD_S = 600.0          # a connection is never held longer, so a forgotten client cannot pin a task
# The handlers swallow their cancellation at shutdown: asyncio's stream callback would log it as an error.


async def _stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read whatever comes and answer nothing until the client gives up."""
    with contextlib.suppress(ConnectionError, TimeoutError, asyncio.CancelledError):
        async with asyncio.timeout(HOLD_S):
            while await reader.read(4096):
                pass
    writer.close()


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer the ClientHello with an SSH banner, then wait for the client to close: closing
    first with its bytes unread would reset the connection instead of showing the garbage."""
    with contextlib.suppress(ConnectionError, TimeoutError, asyncio.CancelledError):
        async with asyncio.timeout(HOLD_S):
            await reader.read(4096)
            writer.write(NOT_TLS)
            await writer.drain()
            while await reader.read(4096):
                pass
    writer.close()


class FaultListeners:
    """The stall and garbage listeners for the hosts given (host → "stall" | "garbage")."""

    def __init__(self, hosts: Mapping[str, str]) -> None:
        self.hosts = dict(hosts)
        self.ports: dict[str, int] = {}
        self._servers: list[asyncio.Server] = []

    async def start(self) -> None:
        handlers = {"stall": _stall, "garbage": _garbage}
        for host, fault in self.hosts.items():
            server = await asyncio.start_server(handlers[fault], LOOPBACK_V4, 0)
            self._servers.append(server)
            self.ports[host] = server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        # Handlers still holding a client are cancelled by the demo web's shutdown.
        for server in self._servers:
            server.close()
        self._servers.clear()
