"""Driving a real icmpd from tests: the daemon as a process, clients speaking bytes packed here.

The client side packs and parses the protocol with struct from the layout
in rawtools/wire/icmpdmsg.py's docstring (not with that module), so a
daemon test also checks that the daemon speaks the documented protocol.
UDP sockets that must send through a lab are made in a thread that entered
the lab's network namespace (setns applies to the calling thread only);
a socket keeps its namespace wherever it is used afterwards.
"""

from __future__ import annotations

import array
import ctypes
import os
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from conftest import rawtools_argv

HEADER = struct.Struct("!2sBBI")
REGISTER, REGISTERED, ERROR, UNREGISTER, UNREGISTERED, BYE = 1, 2, 3, 4, 5, 6
# tag, family, type, code, ttl, errno, mtu, dport, lport, rewritten, pad, ts, dst,
# offender, local, dropped
ERROR_BODY = struct.Struct("!IBBBBIIHHH2xQ16s16s16sI")
CLONE_NEWNET = 0x40000000
T = TypeVar("T")


def register_msg(tag: int) -> bytes:
    return HEADER.pack(b"IE", 1, REGISTER, 4) + struct.pack("!I", tag)


def unregister_msg(tag: int) -> bytes:
    return HEADER.pack(b"IE", 1, UNREGISTER, 4) + struct.pack("!I", tag)


def addr_text(family: int, raw: bytes) -> str:
    if family == 6:
        return socket.inet_ntop(socket.AF_INET6, raw)
    return socket.inet_ntop(socket.AF_INET, raw[:4])


def parse_error(body: bytes) -> dict[str, Any]:
    (tag, fam, typ, code, ttl, err, mtu, dport, lport, bits, ts, dst, offender, local,
     dropped) = ERROR_BODY.unpack(body)
    return {"tag": tag, "family": fam, "type": typ, "code": code, "ttl": ttl, "errno": err,
            "mtu": mtu, "dport": dport, "lport": lport, "rewritten": bits, "ts": ts,
            "dst": addr_text(fam, dst), "offender": addr_text(fam, offender),
            "local": addr_text(fam, local), "dropped": dropped}


def parse_registered(body: bytes) -> dict[str, Any]:
    tag, status, fam, port = struct.unpack_from("!IiBxH", body)
    return {"tag": tag, "status": status, "family": fam, "port": port,
            "addr": addr_text(fam, body[12:28]), "reason": body[28:].decode()}


class Client:
    """A connection to the daemon, blocking with a timeout."""

    def __init__(self, path: str | Path, timeout: float = 5.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))

    def send(self, data: bytes, fds: Sequence[int] = ()) -> None:
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        self.sock.sendmsg([data], anc)

    def register(self, tag: int, *fds: int) -> None:
        self.send(register_msg(tag), fds)

    def _exact(self, n: int) -> bytes | None:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def read(self, timeout: float | None = None) -> tuple[int, bytes] | None:
        """(type, body) of the next message; None at end of stream; TimeoutError if none."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        head = self._exact(HEADER.size)
        if head is None:
            return None
        magic, version, kind, length = HEADER.unpack(head)
        assert (magic, version) == (b"IE", 1)
        body = self._exact(length)
        assert body is not None
        return kind, body

    def registered(self) -> dict[str, Any]:
        got = self.read()
        assert got is not None and got[0] == REGISTERED, got
        return parse_registered(got[1])

    def error(self, timeout: float = 5.0) -> dict[str, Any]:
        got = self.read(timeout)
        assert got is not None and got[0] == ERROR, got
        return parse_error(got[1])

    def close(self) -> None:
        self.sock.close()


def in_netns(ns: str, fn: Callable[[], T]) -> T:
    """fn() run in a thread that joined network namespace `ns` first."""
    out: list[T] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            finally:
                os.close(fd)
            out.append(fn())
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            failure.append(e)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    if failure:
        raise failure[0]
    return out[0]


def udp_sockets(ns: str, family: int, n: int, bind: str | None = None) -> list[socket.socket]:
    def make() -> list[socket.socket]:
        socks = [socket.socket(family, socket.SOCK_DGRAM) for _ in range(n)]
        for s in socks:
            if bind is not None:
                s.bind((bind, 0))
        return socks
    return in_netns(ns, make)


class Daemon:
    """`rawtools icmpd` as a process (in `prefix`, e.g. a lab namespace), log in a file."""

    def __init__(self, path: str | Path, logfile: Path, *args: str,
                 prefix: Sequence[str] = ()) -> None:
        self.path = str(path)
        self.logfile = logfile
        env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
        with logfile.open("w") as log:
            self.proc = subprocess.Popen(
                [*prefix, *rawtools_argv("icmpd", "--socket", self.path, *args)],
                stdout=subprocess.PIPE, stderr=log, text=True, env=env)
        self.pid = 0

    def started(self, timeout: float = 10.0) -> Daemon:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log().splitlines():
                if "listening on" in line:
                    self.pid = int(line.rsplit("pid ", 1)[1])
                    return self
            if self.proc.poll() is not None:
                raise AssertionError(f"icmpd exited {self.proc.returncode}: {self.log()}")
            time.sleep(0.02)
        raise AssertionError(f"icmpd did not start: {self.log()}")

    def log(self) -> str:
        return self.logfile.read_text()

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.communicate(timeout=timeout)
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()
