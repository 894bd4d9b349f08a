"""rawtools.icmpd against a fake daemon, and ErrQueue against real kernels.

The fake daemon is a thread on a real Unix socket in tmp_path that speaks the
protocol with bytes packed here by hand from the layout in
rawtools/wire/icmpdmsg.py's docstring, never with that module's packers; it
receives the descriptor itself, so the test can hold it against the
client's socket. ErrQueue runs in the host namespace of a lab, where the
destination's kernel answers a closed port with a real port unreachable.
"""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rawtools.errors import IcmpdError, UsageError
from rawtools.icmpd import AsyncClient, Client, Closed, IcmpError, Refused, Unavailable

HEADER = struct.Struct("!2sBBI")  # magic, version, type, body length
REGISTER, REGISTERED, ERROR, UNREGISTER, UNREGISTERED, BYE = 1, 2, 3, 4, 5, 6


def message(kind: int, body: bytes) -> bytes:
    return HEADER.pack(b"IE", 1, kind, len(body)) + body


def registered(tag: int, status: int, port: int = 0, addr: str = "127.0.0.1",
               reason: str = "") -> bytes:
    body = struct.pack("!IiBxH", tag, status, 4, port) + socket.inet_aton(addr) + bytes(12)
    return message(REGISTERED, body + reason.encode())


def error(tag: int, port: int = 9, ttl: int = 61, mtu: int = 0, rewritten: int = 0,
          dropped: int = 0) -> bytes:
    """ERROR: a port unreachable from 198.18.1.2 for a datagram 198.18.0.1.5000 -> :port."""
    body = struct.pack("!IBBBBIIHHHxxQ", tag, 4, 3, 3, ttl, errno.ECONNREFUSED, mtu, port,
                       5000, rewritten, 1_700_000_000_123_456_789)
    for addr in ("198.18.1.2", "198.18.1.2", "198.18.0.1"):
        body += socket.inet_aton(addr) + bytes(12)
    return message(ERROR, body + struct.pack("!I", dropped))


def expected(tag: int, port: int = 9, ttl: int = 61) -> IcmpError:
    return IcmpError(tag=tag, version=4, type=3, code=3, errno=errno.ECONNREFUSED,
                     dst="198.18.1.2", dport=port, offender="198.18.1.2", ttl=ttl, mtu=None,
                     ts_ns=1_700_000_000_123_456_789, local="198.18.0.1", lport=5000)


def bye(status: int, reason: str) -> bytes:
    return message(BYE, struct.pack("!i", status) + reason.encode())


def recv_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        assert chunk, "client closed"
        data += chunk
    return data


def take_register(conn: socket.socket) -> tuple[int, socket.socket]:
    """Read one REGISTER: its tag and the socket that came with it."""
    data, fds, _flags, _addr = socket.recv_fds(conn, 12, 4)
    data += recv_exact(conn, 12 - len(data))
    assert HEADER.unpack(data[:8]) == (b"IE", 1, REGISTER, 4)
    assert len(fds) == 1
    return struct.unpack("!I", data[8:])[0], socket.socket(fileno=fds[0])


class FakeDaemon:
    """Accepts one client on `path` and runs `script(conn)` in a thread."""

    def __init__(self, path: Path, script: Callable[[socket.socket], None]) -> None:
        self.path = str(path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, args=(script,), daemon=True)
        self.thread.start()

    def _serve(self, script: Callable[[socket.socket], None]) -> None:
        try:
            conn, _ = self.listener.accept()
            with conn:
                script(conn)
        except BaseException as e:  # noqa: BLE001 - reported by join() in the test's thread
            self.failure = e

    def join(self) -> None:
        self.thread.join(10)
        self.listener.close()
        assert not self.thread.is_alive()
        if self.failure:
            raise self.failure


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Callable[[Callable[[socket.socket], None]], FakeDaemon]]:
    started: list[FakeDaemon] = []

    def start(script: Callable[[socket.socket], None]) -> FakeDaemon:
        started.append(FakeDaemon(tmp_path / "icmpd.sock", script))
        return started[-1]

    yield start
    for d in started:
        d.join()


@pytest.fixture
def udp() -> Iterator[socket.socket]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    yield s
    s.close()


def test_register_passes_the_socket_and_keeps_errors_that_come_first(daemon, udp):
    seen: dict[str, object] = {}

    def script(conn: socket.socket) -> None:
        tag, theirs = take_register(conn)
        seen["tag"], seen["name"] = tag, theirs.getsockname()
        theirs.close()
        conn.sendall(error(tag) + registered(tag, 0, 4242, "198.18.0.1"))
        assert conn.recv(1) == b""  # the client closes

    d = daemon(script)
    with Client(d.path) as c:
        reg = c.register(udp, tag=77)
        assert (reg.tag, reg.status, reg.version, reg.addr, reg.port) == (
            77, 0, 4, "198.18.0.1", 4242)
        assert c.read() == [expected(77)]
        assert c.read() == []
    d.join()
    assert seen == {"tag": 77, "name": udp.getsockname()}


def test_default_tags_count_and_each_registration_has_its_own(daemon, udp):
    def script(conn: socket.socket) -> None:
        for _ in range(2):
            tag, theirs = take_register(conn)
            theirs.close()
            conn.sendall(registered(tag, 0))

    d = daemon(script)
    with Client(d.path) as c:
        assert [c.register(udp).tag, c.register(udp).tag] == [1, 2]


def test_errors_split_across_reads_and_several_in_one(daemon, udp):
    half, rest = threading.Event(), threading.Event()

    def script(conn: socket.socket) -> None:
        one = error(5, port=1)
        conn.sendall(one[:3])
        time.sleep(0.05)
        conn.sendall(one[3:50])
        half.set()
        assert rest.wait(5)
        conn.sendall(one[50:] + error(5, port=2) + error(5, port=3, ttl=7)[:20])
        time.sleep(0.05)
        conn.sendall(error(5, port=3, ttl=7)[20:])
        assert conn.recv(1) == b""

    d = daemon(script)
    with Client(d.path) as c:
        assert half.wait(5)
        time.sleep(0.05)
        assert c.read() == []
        rest.set()
        assert c.wait(5) == expected(5, port=1)
        got = [c.wait(5), c.wait(5)]
        assert got == [expected(5, port=2), expected(5, port=3, ttl=7)]
        assert c.wait(0.05) is None


def test_mtu_rewrites_and_dropped_come_through(daemon):
    def script(conn: socket.socket) -> None:
        conn.sendall(error(1, mtu=1280, rewritten=0b101, dropped=3))
        assert conn.recv(1) == b""

    d = daemon(script)
    with Client(d.path) as c:
        e = c.wait(5)
    assert e is not None
    assert (e.mtu, e.rewritten, e.dropped) == (1280, ("source-address", "udp-checksum"), 3)


def test_refusal_carries_the_reason_and_the_connection_stays(daemon, udp):
    def script(conn: socket.socket) -> None:
        tag, theirs = take_register(conn)
        theirs.close()
        conn.sendall(registered(tag, errno.EPROTOTYPE, reason="not a UDP socket"))
        tag, theirs = take_register(conn)
        theirs.close()
        conn.sendall(registered(tag, 0))

    d = daemon(script)
    with Client(d.path) as c:
        with pytest.raises(Refused) as info:
            c.register(udp)
        assert info.value.status == errno.EPROTOTYPE
        assert str(info.value) == "icmpd refused the socket: not a UDP socket"
        assert c.register(udp).status == 0


def test_unregister_and_an_unknown_tag(daemon, udp):
    def script(conn: socket.socket) -> None:
        for status in (0, errno.ENOENT):
            data = recv_exact(conn, 12)
            assert data[:8] == HEADER.pack(b"IE", 1, UNREGISTER, 4)
            conn.sendall(message(UNREGISTERED, data[8:] + struct.pack("!i", status)))

    d = daemon(script)
    with Client(d.path) as c:
        c.unregister(3)
        with pytest.raises(Refused, match="tag 9: No such file or directory"):
            c.unregister(9)


def test_bye_after_errors_delivers_them_then_raises_with_the_reason(daemon):
    def script(conn: socket.socket) -> None:
        conn.sendall(error(1) + bye(errno.ESHUTDOWN, "icmpd is shutting down"))

    d = daemon(script)
    with Client(d.path) as c:
        d.join()  # the daemon has said everything and closed before the client reads
        assert c.wait(5) == expected(1)
        with pytest.raises(Closed, match="icmpd is shutting down") as info:
            c.wait(5)
        assert info.value.status == errno.ESHUTDOWN


def test_eof_and_garbage_end_the_connection(daemon, tmp_path):
    d = daemon(lambda conn: conn.sendall(HEADER.pack(b"XX", 1, ERROR, 0)))
    with Client(d.path) as c, pytest.raises(Closed, match=r"garbage.*bad magic"):
        c.wait(5)
    d.join()
    Path(d.path).unlink()
    d2 = FakeDaemon(tmp_path / "icmpd.sock", lambda conn: None)
    with Client(d2.path) as c, pytest.raises(Closed, match="closed the connection"):
        c.wait(5)
    d2.join()


def test_register_while_the_daemon_goes_away(daemon, udp):
    def script(conn: socket.socket) -> None:
        take_register(conn)[1].close()

    d = daemon(script)
    with Client(d.path) as c, pytest.raises(Closed):
        c.register(udp)


def test_no_daemon_is_one_clear_line(tmp_path):
    for path in (tmp_path / "missing.sock", tmp_path / "deaf.sock"):
        if path.name == "deaf.sock":  # a socket file nobody listens on
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).bind(str(path))
        with pytest.raises(Unavailable) as info:
            Client(str(path))
        assert str(info.value) == (f"no icmpd answers on {path}: start it with "
                                   "sudo rawtools icmpd")
        assert isinstance(info.value, IcmpdError)


def test_no_permission_says_so(tmp_path):
    tmp_path.chmod(0o700)
    snippet = ("import sys, rawtools.icmpd as i\n"
               "try: i.Client(sys.argv[1])\n"
               "except i.Unavailable as e: print(e)\n")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        sys.executable, "-c", snippet, str(tmp_path / "icmpd.sock")],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout == f"{tmp_path / 'icmpd.sock'}: permission denied (icmpd's socket is " \
                       "for root and the users it allows)\n", r.stderr


def test_only_udp_sockets_and_u32_tags(daemon, udp):
    d = daemon(lambda conn: None)
    with Client(d.path) as c, socket.socket() as tcp:
        with pytest.raises(UsageError, match="not a UDP socket"):
            c.register(tcp)
        for tag in (-1, 1 << 32, True, "1"):
            with pytest.raises(UsageError, match="invalid tag"):
                c.register(udp, tag=tag)


def test_importing_the_client_loads_neither_dpkt_nor_asyncio():
    r = subprocess.run([sys.executable, "-c", "import sys, rawtools.icmpd; "
                        "print(sorted({'dpkt', 'pcapy', 'asyncio'} & set(sys.modules)))"],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout == "[]\n", r.stderr


# -- asyncio ---------------------------------------------------------------

def test_async_register_split_errors_and_bye_end_async_for(daemon, udp):
    seen = {}

    def script(conn: socket.socket) -> None:
        tag, theirs = take_register(conn)
        seen["name"] = theirs.getsockname()
        theirs.close()
        first = error(tag, port=1)
        conn.sendall(first[:10])
        time.sleep(0.05)
        conn.sendall(first[10:] + registered(tag, 0, 4242))
        time.sleep(0.05)
        both = error(tag, port=2) + error(tag, port=3)
        conn.sendall(both[:100])
        time.sleep(0.05)
        conn.sendall(both[100:] + bye(0, "restarting"))

    async def main() -> list[IcmpError]:
        got = []
        async with await AsyncClient.connect(d.path) as c:
            reg = await c.register(udp)
            assert (reg.tag, reg.port) == (1, 4242)
            with pytest.raises(Closed, match="restarting"):
                async for e in c:
                    got.append(e)
        return got

    d = daemon(script)
    got = asyncio.run(asyncio.wait_for(main(), 10))
    assert got == [expected(1, port=1), expected(1, port=2), expected(1, port=3)]
    assert seen["name"] == udp.getsockname()


def test_async_refusal_eof_close_and_no_daemon(daemon, udp, tmp_path):
    def script(conn: socket.socket) -> None:
        tag, theirs = take_register(conn)
        theirs.close()
        conn.sendall(registered(tag, errno.EBADF, reason="bad descriptor"))
        tag, theirs = take_register(conn)
        theirs.close()
        conn.sendall(registered(tag, 0))

    async def main() -> None:
        with pytest.raises(Unavailable, match="no icmpd answers on"):
            await AsyncClient.connect(str(tmp_path / "missing.sock"))
        c = await AsyncClient.connect(d.path)
        with pytest.raises(Refused, match="bad descriptor"):
            await c.register(udp)
        await c.register(udp)
        with pytest.raises(Closed, match="closed the connection"):
            await c.next_error()
        c.close()
        c2 = await AsyncClient.connect(d.path + ".2")
        waiter = asyncio.ensure_future(anext(aiter(c2)))
        await asyncio.sleep(0.05)
        c2.close()
        with pytest.raises(StopAsyncIteration):
            await waiter

    d = daemon(script)
    second = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    second.bind(d.path + ".2")
    second.listen()
    try:
        asyncio.run(asyncio.wait_for(main(), 10))
    finally:
        second.close()


# -- the kernel's error queue, in a lab --------------------------------------

ERRQUEUE_SNIPPET = """
import dataclasses, json, select, socket, sys, time
from rawtools.icmpd import ErrQueue
dst, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
q = ErrQueue(s)
before = time.time_ns()
s.sendto(b"hello\\n", (dst, port))
readable = select.select([q], [], [], 5)[0]
errors = [dataclasses.asdict(e) for e in q.read()]
print(json.dumps({"readable": bool(readable), "before": before, "after": time.time_ns(),
                  "lport": s.getsockname()[1], "errors": errors, "again": q.read()}))
"""


@pytest.mark.lab
@pytest.mark.parametrize("version", [4, 6])
def test_errqueue_reports_a_port_unreachable_from_the_kernel(make_lab, version):
    lab = make_lab(1)
    dst = lab.dst4 if version == 4 else lab.dst6
    r = lab.run("host", [sys.executable, "-c", ERRQUEUE_SNIPPET, dst, "9"], timeout=30)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["readable"] and out["again"] == []
    (e,) = out["errors"]
    assert out["before"] <= e.pop("ts_ns") <= out["after"]
    # One router between: the destination's 64 arrives as 63.
    assert e == {"tag": 0, "version": version, "type": 3 if version == 4 else 1,
                 "code": 3 if version == 4 else 4, "errno": errno.ECONNREFUSED,
                 "dst": dst, "dport": 9, "offender": dst, "ttl": 63, "mtu": None,
                 "local": "0.0.0.0" if version == 4 else "::", "lport": out["lport"],
                 "rewritten": [], "dropped": 0}
