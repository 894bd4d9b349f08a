"""rawtools icmpd as a real daemon: real ICMP errors from a lab, hostile clients, bad starts.

The lab (host -> r1 -> dst) is documented in rawtools/testing/lab.py: the
host is 198.18.0.1 / 2001:db8::1, the destination 198.18.1.2 /
2001:db8:0:1::2, and nothing listens on UDP port 9 there, so the
destination's kernel answers port unreachable. Those literals, and the
ports our own UDP sockets got from the kernel, are the oracles; the
daemon's REGISTERED and ERROR messages are parsed with struct from the
documented layout (tests/icmpdhelp.py), not with rawtools.wire.icmpdmsg.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import rawtools_argv, without_privileges
from icmpdhelp import (
    BYE,
    ERROR,
    REGISTER,
    UNREGISTERED,
    Client,
    Daemon,
    register_msg,
    udp_sockets,
    unregister_msg,
    wait_for,
)

from rawtools.testing.lab import Lab

HOST4, HOST6 = "198.18.0.1", "2001:db8::1"
DST4, DST6 = "198.18.1.2", "2001:db8:0:1::2"
CLOSED = 9


def quiet_limits(lab: Lab, node: str) -> None:
    """No ICMP rate limit in `node`, so every datagram gets its error, however many."""
    lab.run(node, ["sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0",
                   "net.ipv6.icmp.ratelimit=0", "net.ipv4.icmp_msgs_per_sec=1000000",
                   "net.ipv4.icmp_msgs_burst=100000"], check=True)


@pytest.fixture
def lab(make_lab) -> Lab:
    lab = make_lab(1)
    quiet_limits(lab, "dst")
    return lab


@pytest.fixture
def daemon(lab: Lab, tmp_path: Path) -> Iterator[Daemon]:
    d = Daemon(tmp_path / "run" / "icmpd.sock", tmp_path / "icmpd.log",
               prefix=lab.exec_argv("host", [])).started()
    try:
        yield d
    finally:
        d.kill()


def registered_client(d: Daemon, sock: socket.socket, tag: int) -> Client:
    c = Client(d.path)
    c.register(tag, sock.fileno())
    r = c.registered()
    assert (r["tag"], r["status"], r["port"]) == (tag, 0, sock.getsockname()[1]), r
    return c


@pytest.mark.lab
def test_port_unreachable_v4_v6_and_dual_stack_reach_the_sockets_that_sent(lab, daemon):
    (u4,) = udp_sockets(lab.ns("host"), socket.AF_INET, 1, bind=HOST4)
    (u6,) = udp_sockets(lab.ns("host"), socket.AF_INET6, 1)
    (dual,) = udp_sockets(lab.ns("host"), socket.AF_INET6, 1)
    c = Client(daemon.path)
    for tag, s in ((4, u4), (6, u6), (46, dual)):
        c.register(tag, s.fileno())
        r = c.registered()
        assert (r["tag"], r["status"], r["port"]) == (tag, 0, s.getsockname()[1])
    u4.sendto(b"four", (DST4, CLOSED))
    e = c.error()
    assert (e["tag"], e["family"], e["type"], e["code"], e["errno"]) == (
        4, 4, 3, 3, errno.ECONNREFUSED)
    assert (e["local"], e["lport"], e["dst"], e["dport"], e["offender"]) == (
        HOST4, u4.getsockname()[1], DST4, CLOSED, DST4)
    assert e["ttl"] == 63 and abs(e["ts"] - time.time_ns()) < 5e9
    u6.sendto(b"six", (DST6, CLOSED))
    e = c.error()
    assert (e["tag"], e["family"], e["type"], e["code"], e["errno"]) == (
        6, 6, 1, 4, errno.ECONNREFUSED)
    assert (e["local"], e["dst"], e["offender"], e["lport"]) == (
        HOST6, DST6, DST6, u6.getsockname()[1])
    dual.sendto(b"mapped", (f"::ffff:{DST4}", CLOSED))
    e = c.error()
    assert (e["tag"], e["family"], e["local"], e["dst"]) == (46, 4, HOST4, DST4)
    c.send(unregister_msg(4))
    kind, body = c.read()
    assert (kind, body) == (UNREGISTERED, bytes.fromhex("00000004 00000000"))
    u4.sendto(b"again", (DST4, CLOSED))
    with pytest.raises(TimeoutError):
        c.read(0.5)
    for s in (u4, u6, dual):
        s.close()
    c.close()


def _hostile(d: Daemon, kind: int, tag: int, keep: list) -> Client | None:
    """A client misbehaving in way `kind`; returns it if it stays connected."""
    c = Client(d.path)
    if kind == 1:                                 # gone in the middle of a header
        c.send(register_msg(tag)[:5])
        c.close()
        return None
    if kind == 2:                                 # gone in the middle of a body, fd sent
        r, w = os.pipe()
        keep += [r, w]
        c.send(register_msg(tag)[:10], [r])
        c.close()
        return None
    if kind == 3:                                 # not the protocol at all
        c.send(b"GET / HTTP/1.1\r\nHost: icmpd\r\n\r\n")
    elif kind == 4:                               # a pipe
        r, w = os.pipe()
        keep += [r, w]
        c.register(tag, r)
    elif kind == 5:                               # a TCP socket
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        keep.append(s)
        c.register(tag, s.fileno())
    elif kind == 6:                               # a Unix socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        keep.append(s)
        c.register(tag, s.fileno())
    elif kind == 7:                               # no descriptor
        c.register(tag)
    else:                                         # three descriptors
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
        keep += socks
        c.register(tag, *(s.fileno() for s in socks))
    return c


REFUSED = {4: errno.ENOTSOCK, 5: errno.EPROTOTYPE, 6: errno.EAFNOSUPPORT, 7: errno.EBADF}


@pytest.mark.lab
def test_two_hundred_clients_good_and_hostile_at_once(lab, daemon):
    baseline = daemon.open_fds()
    ns = lab.ns("host")
    (before_sock,) = udp_sockets(ns, socket.AF_INET, 1, bind=HOST4)
    before = registered_client(daemon, before_sock, 1)
    goods = udp_sockets(ns, socket.AF_INET, 200 // 9 + 1, bind=HOST4)
    keep: list = []
    clients: dict[int, tuple[int, Client]] = {}
    good_clients: dict[int, tuple[Client, socket.socket]] = {}
    for i in range(200):
        kind, tag = i % 9, 1000 + i
        if kind == 0:
            s = goods[i // 9]
            c = Client(daemon.path)
            c.register(tag, s.fileno())
            good_clients[tag] = (c, s)
            continue
        c = _hostile(daemon, kind, tag, keep)
        if c is not None:
            clients[tag] = (kind, c)
    for tag, (c, s) in good_clients.items():
        r = c.registered()
        assert (r["tag"], r["status"], r["port"]) == (tag, 0, s.getsockname()[1])
    for tag, (kind, c) in clients.items():
        got = c.read()
        if kind in REFUSED:
            assert got is not None and got[0] != BYE, (kind, got)
            assert got[0] == 2
            status = int.from_bytes(got[1][4:8], "big", signed=True)
            assert (int.from_bytes(got[1][:4], "big"), status) == (tag, REFUSED[kind])
            c.send(unregister_msg(tag))   # the connection is still served
            assert c.read() == (UNREGISTERED, tag.to_bytes(4, "big") + errno.ENOENT.to_bytes(
                4, "big"))
        else:
            assert got is not None and got[0] == BYE, (kind, got)
            assert int.from_bytes(got[1][:4], "big") == errno.EPROTO
            assert c.read() is None       # and the daemon hung up
    (after_sock,) = udp_sockets(ns, socket.AF_INET, 1, bind=HOST4)
    after = registered_client(daemon, after_sock, 2)

    everyone = [(1, (before, before_sock)), (2, (after, after_sock)), *good_clients.items()]
    for _tag, (_c, s) in everyone:
        s.sendto(b"x", (DST4, CLOSED))
    for tag, (c, s) in everyone:
        e = c.error()
        assert (e["tag"], e["lport"], e["errno"]) == (tag, s.getsockname()[1],
                                                       errno.ECONNREFUSED)
    for _tag, (c, _s) in everyone:
        with pytest.raises(TimeoutError):
            c.read(0.05)                  # exactly one each, none for another client
    for kind, c in clients.values():
        if kind in REFUSED:               # still connected, and sent nothing
            with pytest.raises(TimeoutError):
                c.read(0.05)

    for _tag, (c, _s) in everyone:
        c.close()
    for _kind, c in clients.values():
        c.close()
    assert wait_for(lambda: daemon.open_fds() == baseline), (daemon.open_fds(), baseline)
    for x in keep:
        x.close() if isinstance(x, socket.socket) else os.close(x)
    assert daemon.stop() == 0
    log = daemon.log()
    assert "Traceback" not in log
    # 200 + the two well-behaved ones; of the 200 (i % 9 picks the kind): 23 good,
    # 22 each of ENOTSOCK, EPROTOTYPE, EAFNOSUPPORT, EBADF, and 22 each of garbage and 3 fds.
    assert "stopped: 202 clients, 25 registrations (88 refused)" in log, log[-500:]
    assert log.rstrip().endswith("25 errors delivered, 0 dropped for slow clients, "
                                 "0 unmatched, 0 malformed, 44 protocol errors"), log[-300:]


@pytest.mark.lab
def test_a_client_that_never_reads_loses_errors_not_the_others(lab, daemon):
    ns = lab.ns("host")
    slow_sock, fast_sock = udp_sockets(ns, socket.AF_INET, 2, bind=HOST4)
    slow = registered_client(daemon, slow_sock, 1)
    fast = registered_client(daemon, fast_sock, 2)
    slow_sock.setblocking(False)
    sent = 0
    for _ in range(6000):   # 6000 errors of 92 bytes: more than its socket buffer and queue
        try:
            slow_sock.sendto(b"s", (DST4, CLOSED))
            sent += 1
        except OSError:     # ECONNREFUSED of the previous error, or ENOBUFS: go on
            pass
    time.sleep(0.5)
    fast_sock.sendto(b"f", (DST4, CLOSED))
    e = fast.error(timeout=2.0)
    assert (e["tag"], e["dropped"]) == (2, 0)
    seen = dropped = 0
    first_loss = None
    while True:
        try:
            got = slow.read(0.5)
        except TimeoutError:
            break
        assert got is not None and got[0] == ERROR
        body = got[1]
        d = int.from_bytes(body[80:84], "big")
        if d and first_loss is None:
            first_loss = seen
        seen += 1
        dropped += d
    # Errors dropped after the last one delivered are told by the next one delivered
    # (whether the drops came while we read or all before we began), then the count
    # starts again from 0.
    slow_sock.sendto(b"s", (DST4, CLOSED))
    dropped += slow.error()["dropped"]
    assert seen >= 1024 and dropped > 0, (sent, seen, dropped)
    assert first_loss is None or first_loss >= 1024, (first_loss, seen, dropped)
    assert seen + dropped <= sent + 1 and seen + dropped > sent * 0.9, (sent, seen, dropped)
    slow_sock.sendto(b"s", (DST4, CLOSED))
    assert slow.error()["dropped"] == 0
    for x in (slow, fast, slow_sock, fast_sock):
        x.close()


def test_a_daemon_already_answering_is_left_alone(tmp_path):
    path = tmp_path / "icmpd.sock"
    first = Daemon(path, tmp_path / "first.log").started()
    try:
        second = subprocess.run(rawtools_argv("icmpd", "--socket", str(path)),
                                capture_output=True, text=True, timeout=30)
        assert second.returncode == 2
        assert second.stderr == f"rawtools icmpd: a daemon already answers on {path}\n"
        assert path.is_socket()
        c = Client(path)
        c.register(5)   # no descriptor: refused, but answered by the first daemon
        assert c.registered()["status"] == errno.EBADF
        c.close()
    finally:
        assert first.stop() == 0
    assert not path.exists()


def test_a_stale_socket_is_replaced_and_sigterm_removes_ours(tmp_path):
    path = tmp_path / "icmpd.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()                  # the file stays, nobody answers: a crashed daemon's
    d = Daemon(path, tmp_path / "d.log", "--mode", "0600").started()
    try:
        assert "removed the stale socket" in d.log()
        assert path.stat().st_mode & 0o777 == 0o600
        c = Client(path)
        c.send(register_msg(1))
        assert c.registered()["status"] == errno.EBADF
        c.close()
    finally:
        assert d.stop() == 0
    assert not path.exists()
    assert "icmpd: stopped:" in d.log() and "Traceback" not in d.log()


def test_a_file_that_is_not_a_socket_is_refused_and_kept(tmp_path):
    path = tmp_path / "icmpd.sock"
    path.write_text("precious")
    r = subprocess.run(rawtools_argv("icmpd", "--socket", str(path)), capture_output=True,
                       text=True, timeout=30)
    assert (r.returncode, r.stderr.count("\n")) == (2, 1)
    assert "is not a socket" in r.stderr and path.read_text() == "precious"


def test_without_raw_socket_privilege_one_line_and_exit_2(tmp_path):
    r = subprocess.run(without_privileges(rawtools_argv("icmpd", "--socket",
                                                        str(tmp_path / "s"))),
                       capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stderr) == (
        2, "rawtools icmpd: cannot open raw ICMP sockets: run with sudo or give CAP_NET_RAW\n")
    assert not (tmp_path / "s").exists()


def test_a_socket_path_nobody_may_write_is_one_line(tmp_path):
    ro = Path(tempfile.mkdtemp(dir="/tmp"))   # /tmp: nobody may look inside, not write
    try:
        ro.chmod(0o555)
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "--inh-caps=+net_raw", "--ambient-caps=+net_raw",
                *rawtools_argv("icmpd", "--socket", str(ro / "sub" / "icmpd.sock"))]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert (r.returncode, r.stderr.count("\n")) == (2, 1), r.stderr
        assert r.stderr.startswith(f"rawtools icmpd: cannot create directory {ro}/sub: "
                                   "Permission denied")
    finally:
        ro.rmdir()


@pytest.mark.parametrize("args, words", [
    (["--mode", "999"], "invalid --mode: '999'"),
    (["--mode", "12345"], "invalid --mode"),
    (["--group", "no-such-group-here"], "unknown group 'no-such-group-here'"),
    (["--user", "no-such-user-here"], "unknown user 'no-such-user-here'"),
    (["--watch", "198.18.0.1:5000"], "--watch goes with --replay"),
    (["--replay", "x.pcap", "--watch", "2001:db8::1:53"], "in brackets"),
    (["--replay", "x.pcap", "--watch", "198.18.0.1:0"], "a port 1-65535"),
    (["--replay", "x.pcap", "--watch", "host:53"], "not a numeric address"),
    (["--socket", "/tmp/" + "x" * 120], "longer than the 107 bytes"),
])
def test_bad_options_are_one_line_and_exit_2(args, words):
    r = subprocess.run(rawtools_argv("icmpd", *args), capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert words in r.stderr


def test_register_constant_is_the_documented_one():
    assert register_msg(1)[3] == REGISTER


def test_json_lines_from_start_to_summary(tmp_path):
    path = tmp_path / "icmpd.sock"
    proc = subprocess.Popen(rawtools_argv("icmpd", "--socket", str(path), "--json"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        start = json.loads(proc.stdout.readline())
        assert (start["type"], start["socket"], start["mode"]) == ("start", str(path), "0660")
        c = Client(path)
        c.register(3)
        assert c.registered()["status"] == errno.EBADF
        c.close()
        kinds = [json.loads(proc.stdout.readline())["type"] for _ in range(3)]
        assert kinds == ["connect", "refused", "disconnect"]
    finally:
        proc.terminate()
    out, err = proc.communicate(timeout=10)
    summary = json.loads(out.splitlines()[-1])
    assert (proc.returncode, err) == (0, "")
    assert (summary["type"], summary["clients"], summary["refused"]) == ("summary", 1, 1)
