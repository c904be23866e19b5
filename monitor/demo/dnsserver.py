"""The demo nameserver: UDP and TCP on one 127.0.0.1 port, answering from `zone.lookup`.

Built on dnspython's message API. It counts every query by (name, type) so
tests can see caching. It must run inside the demo's event loop and never bind
anything but loopback.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import struct
from collections import Counter
from collections.abc import Mapping
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from monitor.demo.spec import LOOPBACK_V4, DnsSpec
from monitor.demo.zone import lookup, normalise

log = logging.getLogger(__name__)

TTL = 300
BIND_ATTEMPTS = 50


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = self.server.reply(data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


class DnsServer:
    """Serves `zone`; `queries` counts (name, rtype) as received."""

    def __init__(self, zone: Mapping[str, DnsSpec]) -> None:
        self.zone = zone
        self.queries: Counter[tuple[str, str]] = Counter()
        self.port = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._conversations: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Bind UDP on an OS-chosen port, then TCP on the same port; retry when TCP finds it taken."""
        loop = asyncio.get_running_loop()
        udp, tcp = _bind_pair()
        self.port = udp.getsockname()[1]
        transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), sock=udp)
        self._udp = transport
        self._tcp = await asyncio.start_server(self._converse, sock=tcp)
        return self.port

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
        for task in list(self._conversations):
            task.cancel()
        await asyncio.gather(*self._conversations, return_exceptions=True)
        if self._tcp is not None:
            await self._tcp.wait_closed()

    def reply(self, wire: bytes) -> bytes | None:
        """The wire answer to one query, or None to stay silent (malformed, or a timeout name)."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if not query.question:
            return None
        question = query.question[0]
        name = normalise(question.name.to_text())
        rtype = dns.rdatatype.to_text(question.rdtype)
        self.queries[(name, rtype)] += 1
        found = lookup(self.zone, name, rtype)
        if found.rcode == "DROP":
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        response.set_rcode(dns.rcode.from_text(found.rcode))
        for alias, target in found.chain:
            response.answer.append(dns.rrset.from_text(alias + ".", TTL, "IN", "CNAME", target + "."))
        if found.values:
            values = [v + "." if rtype in ("CNAME", "NS") else v for v in found.values]
            response.answer.append(dns.rrset.from_text_list(found.owner + ".", TTL, "IN", rtype, values))
        return response.to_wire()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conversations.add(task)
        try:
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                reply = self.reply(await reader.readexactly(length))
                if reply is not None:
                    writer.write(struct.pack("!H", len(reply)) + reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._conversations.discard(task)
            writer.close()


def _bind_pair() -> tuple[socket.socket, socket.socket]:
    for _ in range(BIND_ATTEMPTS):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((LOOPBACK_V4, 0))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind((LOOPBACK_V4, udp.getsockname()[1]))
        except OSError as exc:
            udp.close()
            tcp.close()
            if exc.errno != errno.EADDRINUSE:
                raise
            continue
        tcp.listen(64)
        udp.setblocking(False)
        tcp.setblocking(False)
        return udp, tcp
    raise OSError(errno.EADDRINUSE, "no free port for both UDP and TCP on 127.0.0.1")
