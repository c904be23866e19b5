"""A pytest plugin that keeps the test process on loopback.

Every socket connect/sendto/sendmsg and every getaddrinfo of the test process
is checked by an audit hook: anything that would leave 127.0.0.0/8 or ::1 is
refused with PermissionError before a packet is sent, and the test that tried
fails. It is a safety net under the rule that tests talk only to loopback.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest

_violations: list[str] = []
_LOCAL_NAMES = {None, "", "localhost", "localhost.localdomain"}


def _loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


def _address_ok(address: Any) -> bool:
    if not isinstance(address, tuple):      # AF_UNIX path, or a connected socket's send
        return True
    return _loopback(address[0])


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.getaddrinfo":
        ok = _loopback(args[0])
        what = f"getaddrinfo({args[0]!r})"
    elif event == "socket.connect":
        sock, address = args
        ok = sock.family == socket.AF_UNIX or _address_ok(address)
        what = f"connect({address!r})"
    elif event in {"socket.sendto", "socket.sendmsg"}:
        ok = _address_ok(args[1])
        what = f"{event}({args[1]!r})"
    elif event in {"socket.gethostbyname", "socket.gethostbyname_ex"}:
        ok = _loopback(args[0])
        what = f"{event}({args[0]!r})"
    else:
        return
    if not ok:
        _violations.append(what)
        raise PermissionError(f"netguard: tests may only talk to loopback, refused {what}")


sys.addaudithook(_hook)


@pytest.fixture(autouse=True)
def _no_traffic_beyond_loopback() -> Iterator[None]:
    start = len(_violations)
    yield
    tried = _violations[start:]
    assert not tried, f"the test tried to reach beyond loopback: {tried}"
