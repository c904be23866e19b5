"""The loopback guard itself refuses traffic beyond loopback (and lets loopback through)."""

import socket

import pytest

from tests import netguard


@pytest.mark.parametrize("address", [("192.0.2.1", 9), ("10.255.255.53", 53), ("2001:db8::1", 53)])
def test_udp_beyond_loopback_is_refused(address: tuple[str, int]) -> None:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s, pytest.raises(PermissionError):
        s.sendto(b"x", address)
    netguard._violations.pop()  # this refusal was the point of the test


def test_name_lookup_beyond_loopback_is_refused() -> None:
    with pytest.raises(PermissionError):
        socket.getaddrinfo("www.example.invalid", 80)
    netguard._violations.pop()


def test_loopback_is_allowed() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"x", ("127.0.0.1", 9))
    socket.getaddrinfo("localhost", 80)
