"""Loaded into every test subprocess (PYTHONPATH): refuse any non-loopback connection.

A refused attempt is appended to the file named by OSIR_NETGUARD_LOG, and the test fixture
fails the test when that file is not empty. Imported in-process by tests/conftest.py too.
"""

import ipaddress
import os
import socket

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host in _LOCAL_NAMES or host == "":  # "" binds a server locally
        return True
    try:
        address = ipaddress.ip_address(host.split("%")[0])
        return address.is_loopback or address.is_unspecified
    except ValueError:
        return False


def _refuse(what):
    log = os.environ.get("OSIR_NETGUARD_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {what}\n")
    raise ConnectionRefusedError(f"osir test netguard: non-loopback address refused: {what}")


def _check(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        _refuse(address)


def connect(self, address):
    _check(self, address)
    return _real_connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _real_connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    if host is not None and not _is_loopback(host):
        _refuse(host)
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.getaddrinfo = getaddrinfo
